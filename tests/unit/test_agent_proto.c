/* test_agent_proto.c - the host's parser of nexus-agent frames: a valid
 * stream in every split, exact field values, and each way a hostile
 * stream is refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_proto.h"
#include "buf.h"
#include "lib/tap.h"

/* ---- building streams ----------------------------------------------------- */

typedef struct stream {
	unsigned char data[4 * NXA_MAX_DATA];
	size_t len;
} stream;

static void put_frame(stream *s, uint8_t type, const void *payload,
		      uint32_t len)
{
	nxa_put_header(s->data + s->len, type, len);
	memcpy(s->data + s->len + NXA_HEADER_LEN, payload, len);
	s->len += NXA_HEADER_LEN + len;
}

static void put_hello(stream *s, uint32_t version)
{
	unsigned char p[4];

	nxa_put_be32(p, version);
	put_frame(s, NXA_HELLO, p, sizeof p);
}

static void put_exit(stream *s, uint8_t reason, uint32_t value,
		     uint64_t elapsed)
{
	unsigned char p[NXA_EXIT_LEN];

	p[0] = reason;
	nxa_put_be32(p + 1, value);
	nxa_put_be64(p + 5, elapsed);
	put_frame(s, NXA_EXIT, p, sizeof p);
}

static void put_text(stream *s, uint8_t type, const char *text)
{
	put_frame(s, type, text, (uint32_t)strlen(text));
}

/* ---- collecting what the parser reports --------------------------------- */

typedef struct collected {
	nx_buf out, err;
	int calls;
} collected;

static void on_data(void *userdata, nx_stream st, const char *data,
		    size_t len)
{
	collected *c = userdata;

	c->calls++;
	nx_buf_append(st == NX_STREAM_STDOUT ? &c->out : &c->err, data, len);
}

static void collected_init(collected *c)
{
	memset(c, 0, sizeof *c);
	nx_buf_init(&c->out, 1 << 20);
	nx_buf_init(&c->err, 1 << 20);
}

static void collected_free(collected *c)
{
	nx_buf_free(&c->out);
	nx_buf_free(&c->err);
}

static const char *text_of(nx_buf *b)
{
	return b->data ? b->data : "";
}

static nx_agent_parser parser;  /* 64 KiB: keep it off the stack */

/* Feed s in pieces of at most step bytes (0: all at once), then finish. */
static int parse(const stream *s, size_t step, collected *c,
		 uint64_t max_stream, nx_error *err)
{
	size_t off = 0, n;

	nx_agent_parser_init(&parser, on_data, c, max_stream);
	memset(err, 0, sizeof *err);
	while (off < s->len) {
		n = step && s->len - off > step ? step : s->len - off;
		if (nx_agent_parser_feed(&parser, s->data + off, n, err) < 0)
			return -1;
		off += n;
	}
	return nx_agent_parser_finish(&parser, err);
}

/* Parse a stream that must be refused, with msg in the error. */
static void refused(const stream *s, const char *msg, const char *name)
{
	collected c;
	nx_error err;
	int rc;

	collected_init(&c);
	rc = parse(s, 0, &c, 0, &err);
	ok(rc == -1 && err.kind == NX_E_PROTOCOL && strstr(err.msg, msg),
	   "refused: %s", name);
	if (rc != -1 || !strstr(err.msg, msg))
		printf("#   got rc %d, '%s'; want '%s'\n", rc, err.msg, msg);
	collected_free(&c);
}

/* ---- tests ------------------------------------------------------------------ */

static void valid_stream(stream *s)
{
	s->len = 0;
	put_hello(s, NXA_VERSION);
	put_text(s, NXA_STDOUT, "hello ");
	put_text(s, NXA_STDERR, "oops\n");
	put_text(s, NXA_STDOUT, "world\n");
	put_exit(s, NXA_EXITED, 3, 1234567);
}

static void test_valid_every_split(void)
{
	static stream s;
	collected c;
	nx_error err;
	size_t step;
	int bad = 0;

	valid_stream(&s);
	collected_init(&c);
	is_int(parse(&s, 0, &c, 0, &err), 0, "valid stream parses");
	is_str(text_of(&c.out), "hello world\n", "stdout joined in order");
	is_str(text_of(&c.err), "oops\n", "stderr apart from stdout");
	is_int(c.calls, 3, "one callback per data frame");
	ok(parser.done, "exit seen");
	is_int(parser.version, NXA_VERSION, "version from hello");
	is_int(parser.exit_reason, NXA_EXITED, "exit reason");
	is_int(parser.exit_value, 3, "exit status");
	is_int(parser.elapsed_us, 1234567, "elapsed microseconds");
	is_int(parser.stream_bytes[NX_STREAM_STDOUT], 12, "stdout bytes");
	is_int(parser.stream_bytes[NX_STREAM_STDERR], 5, "stderr bytes");
	ok(!parser.have_error, "no error frame");
	collected_free(&c);

	/* The Docker exec stream splits anywhere. */
	for (step = 1; step <= s.len; step++) {
		collected_init(&c);
		if (parse(&s, step, &c, 0, &err) != 0 ||
		    strcmp(text_of(&c.out), "hello world\n") != 0 ||
		    strcmp(text_of(&c.err), "oops\n") != 0 ||
		    parser.exit_value != 3 || parser.elapsed_us != 1234567)
			bad++;
		collected_free(&c);
	}
	is_int(bad, 0, "same result fed in pieces of every size, byte by byte too");
}

static void test_exit_fields(void)
{
	static stream s;
	collected c;
	nx_error err;

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_exit(&s, NXA_SIGNALED, 9, UINT64_C(0x0102030405060708));
	collected_init(&c);
	is_int(parse(&s, 1, &c, 0, &err), 0, "signal exit parses");
	is_int(parser.exit_reason, NXA_SIGNALED, "reason signal");
	is_int(parser.exit_value, 9, "signal number");
	ok(parser.elapsed_us == UINT64_C(0x0102030405060708),
	   "elapsed is 64-bit big-endian");
	collected_free(&c);

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_STDOUT, "0123456789");
	put_exit(&s, NXA_OUTPUT_LIMIT, 1, 5);
	collected_init(&c);
	is_int(parse(&s, 0, &c, 10, &err), 0,
	       "output exactly at the host's cap is accepted");
	is_int(parser.exit_reason, NXA_OUTPUT_LIMIT, "reason output limit");
	is_int(parser.exit_value, 1, "the stream over the cap");
	collected_free(&c);

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_exit(&s, NXA_TIMEOUT, 0, 2000000);
	collected_init(&c);
	is_int(parse(&s, 0, &c, 0, &err), 0, "timeout exit parses");
	is_int(parser.exit_reason, NXA_TIMEOUT, "reason timeout");
	collected_free(&c);

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_STDOUT, "partial");
	put_text(&s, NXA_ERROR, "node is not installed in this sandbox image");
	put_exit(&s, NXA_AGENT_FAILURE, 0, 0);
	collected_init(&c);
	is_int(parse(&s, 3, &c, 0, &err), 0, "error then agent failure parses");
	ok(parser.have_error, "error seen");
	is_str(parser.error, "node is not installed in this sandbox image",
	       "error text");
	is_int(parser.exit_reason, NXA_AGENT_FAILURE, "reason agent failure");
	collected_free(&c);

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_ERROR, "caf\xc3\xa9 \xe2\x9c\x93");
	put_exit(&s, NXA_AGENT_FAILURE, 0, 0);
	collected_init(&c);
	is_int(parse(&s, 0, &c, 0, &err), 0, "error text may be UTF-8");
	collected_free(&c);
}

static void test_refusals(void)
{
	static stream s;
	static char big[NXA_MAX_ERROR + 2];
	unsigned char hdr[NXA_HEADER_LEN];
	collected c;
	nx_error err;

	s.len = 0;
	memcpy(s.data, "OCI runtime exec failed", 23);
	s.len = 23;
	refused(&s, "not an agent stream: expected the hello frame, got "
		"\"OCI r\"", "a stream that is not the agent's");

	s.len = 0;
	put_text(&s, NXA_STDOUT, "x");
	refused(&s, "expected the hello frame", "data before hello");

	s.len = 0;
	put_hello(&s, 2);
	refused(&s, "agent speaks protocol version 2, this host speaks 1",
		"another protocol version");

	s.len = 0;
	put_frame(&s, NXA_HELLO, "\0\0\0\1\0", 5);
	refused(&s, "hello frame has 5 bytes", "hello of the wrong size");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_hello(&s, NXA_VERSION);
	refused(&s, "second hello", "two hellos");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, 0x7f, "x");
	refused(&s, "unknown frame type 0x7f", "unknown type");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_CODE, "print(1)");
	refused(&s, "unknown frame type 0x01", "a host frame from the agent");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_frame(&s, NXA_STDOUT, "", 0);
	refused(&s, "output frame has 0 bytes", "empty data frame");

	/* Oversized lengths fail on the header alone: nothing is buffered
	 * or waited for. */
	s.len = 0;
	put_hello(&s, NXA_VERSION);
	nxa_put_header(hdr, NXA_STDOUT, NXA_MAX_DATA + 1);
	memcpy(s.data + s.len, hdr, sizeof hdr);
	s.len += sizeof hdr;
	refused(&s, "output frame has 65537 bytes", "data frame over 64 KiB");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	nxa_put_header(hdr, NXA_STDERR, UINT32_MAX);
	memcpy(s.data + s.len, hdr, sizeof hdr);
	s.len += sizeof hdr;
	refused(&s, "output frame has 4294967295 bytes", "4 GiB length");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	nxa_put_header(hdr, NXA_ERROR, NXA_MAX_ERROR + 1);
	memcpy(s.data + s.len, hdr, sizeof hdr);
	s.len += sizeof hdr;
	refused(&s, "error frame has 1025 bytes", "error text too long");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_frame(&s, NXA_EXIT, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	refused(&s, "exit frame has 12 bytes", "exit payload too short");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_frame(&s, NXA_EXIT, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 14);
	refused(&s, "exit frame has 14 bytes", "exit payload too long");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_exit(&s, 9, 0, 0);
	refused(&s, "unknown reason 9", "unknown exit reason");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_exit(&s, NXA_EXITED, 256, 0);
	refused(&s, "value 256 for reason \"exited\"", "exit status 256");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_exit(&s, NXA_SIGNALED, 0, 0);
	refused(&s, "value 0 for reason \"killed by signal\"", "signal 0");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_exit(&s, NXA_OUTPUT_LIMIT, 3, 0);
	refused(&s, "value 3 for reason \"output limit\"", "stream 3");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_exit(&s, NXA_TIMEOUT, 1, 0);
	refused(&s, "value 1 for reason \"timeout\"", "timeout with a value");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_exit(&s, NXA_AGENT_FAILURE, 0, 0);
	refused(&s, "exit reason \"agent failure\" without an error frame",
		"agent failure without error");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_ERROR, "boom");
	put_exit(&s, NXA_EXITED, 0, 0);
	refused(&s, "error frame but exit reason \"exited\"",
		"error then a normal exit");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_exit(&s, NXA_EXITED, 0, 0);
	s.data[s.len++] = 0;
	refused(&s, "data after its exit frame", "one byte after exit");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_exit(&s, NXA_EXITED, 0, 0);
	put_exit(&s, NXA_EXITED, 0, 0);
	refused(&s, "data after its exit frame", "two exits");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_ERROR, "two\nlines");
	refused(&s, "not one line of UTF-8", "error text with a newline");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_ERROR, "carriage\rreturn");
	refused(&s, "not one line of UTF-8", "error text with a CR");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_frame(&s, NXA_ERROR, "nul\0byte", 8);
	refused(&s, "contains a NUL byte", "error text with a NUL");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_ERROR, "bad \xff utf-8");
	refused(&s, "not one line of UTF-8", "error text not UTF-8");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_ERROR, "overlong \xc0\xaf");
	refused(&s, "not one line of UTF-8", "error text with overlong UTF-8");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_ERROR, "one");
	put_text(&s, NXA_ERROR, "two");
	refused(&s, "second error frame", "two error frames");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_ERROR, "one");
	put_text(&s, NXA_STDOUT, "late");
	refused(&s, "output after its error frame", "data after error");

	memset(big, 'a', NXA_MAX_ERROR);
	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_ERROR, big);
	put_exit(&s, NXA_AGENT_FAILURE, 0, 0);
	collected_init(&c);
	is_int(parse(&s, 0, &c, 0, &err), 0, "error text of exactly 1024 bytes");
	is_int(strlen(parser.error), NXA_MAX_ERROR, "kept whole");
	collected_free(&c);

	/* The host's own cap: a hostile agent cannot push more than the
	 * --max-output it was given. */
	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_STDOUT, "123456");
	put_text(&s, NXA_STDERR, "123456");
	put_text(&s, NXA_STDOUT, "12345");
	collected_init(&c);
	ok(parse(&s, 0, &c, 10, &err) == -1 &&
	   strstr(err.msg, "more than 10 bytes of stdout"),
	   "refused: more stdout than the cap");
	is_str(text_of(&c.out), "123456", "nothing past the cap delivered");
	collected_free(&c);
}

static void test_finish(void)
{
	static stream s;
	collected c;
	nx_error err;

	s.len = 0;
	refused(&s, "ended before the hello frame", "empty stream");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_text(&s, NXA_STDOUT, "x");
	refused(&s, "ended before the exit frame", "stream without exit");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	put_exit(&s, NXA_EXITED, 0, 0);
	s.len -= 1;
	refused(&s, "ended inside a frame", "stream cut inside exit");

	s.len = 0;
	put_hello(&s, NXA_VERSION);
	s.data[s.len++] = NXA_STDOUT;
	s.data[s.len++] = 0;
	refused(&s, "ended inside a frame", "stream cut inside a header");

	/* Errors are sticky: a later valid frame does not revive the parser. */
	s.len = 0;
	put_hello(&s, 7);
	collected_init(&c);
	nx_agent_parser_init(&parser, on_data, &c, 0);
	ok(nx_agent_parser_feed(&parser, s.data, s.len, &err) == -1,
	   "bad hello refused");
	s.len = 0;
	put_hello(&s, NXA_VERSION);
	memset(&err, 0, sizeof err);
	ok(nx_agent_parser_feed(&parser, s.data, s.len, &err) == -1 &&
	   strstr(err.msg, "version 7"), "later feeds replay the first error");
	ok(nx_agent_parser_finish(&parser, &err) == -1 &&
	   strstr(err.msg, "version 7"), "finish replays it too");
	collected_free(&c);

	/* A NULL callback is allowed: the host may only want the exit. */
	valid_stream(&s);
	nx_agent_parser_init(&parser, NULL, NULL, 0);
	ok(nx_agent_parser_feed(&parser, s.data, s.len, &err) == 0 &&
	   nx_agent_parser_finish(&parser, &err) == 0 && parser.done,
	   "no callback needed");
}

static void test_request(void)
{
	char *frame = NULL;
	size_t len = 0;
	nx_error err;

	is_int(nx_agent_build_request(NULL, "print(1)", 8, &frame, &len, &err), 0,
	       "request built");
	is_int(len, 13, "header plus code");
	ok(frame && memcmp(frame, "\x01\x00\x00\x00\x08print(1)", 13) == 0,
	   "type CODE, big-endian length, code");
	free(frame);

	frame = NULL;
	is_int(nx_agent_build_request(NULL, "", 0, &frame, &len, &err), 0,
	       "empty code is a request too");
	ok(len == 5 && frame && memcmp(frame, "\x01\0\0\0\0", 5) == 0,
	   "empty request bytes");
	free(frame);

	frame = NULL;
	/* Refused on the length alone, before the code is read. */
	ok(nx_agent_build_request(NULL, "x", (size_t)NXA_MAX_CODE + 1, &frame,
				  &len, &err) == -1 &&
	   err.kind == NX_E_USAGE && !frame && strstr(err.msg, "too large"),
	   "code over 16 MiB refused");
}

static void test_socket_request(void)
{
	static const char *const args[] = { "--language", "bash", "--timeout",
					    "5", NULL };
	static const char expect[] =
		"\x02\0\0\0\x1c--language\0bash\0--timeout\0" "5\0"
		"\x01\0\0\0\x04true";
	const char *many[NXA_MAX_RUN_ARGS + 2];
	char *frame = NULL, big[NXA_MAX_RUN + 1];
	size_t len = 0, i;
	nx_error err;

	is_int(nx_agent_build_request(args, "true", 4, &frame, &len, &err), 0,
	       "socket request built");
	is_int(len, sizeof expect - 1, "RUN frame, then CODE frame");
	ok(frame && memcmp(frame, expect, sizeof expect - 1) == 0,
	   "each argument NUL-terminated, code after");
	free(frame);

	for (i = 0; i < NXA_MAX_RUN_ARGS + 1; i++)
		many[i] = "x";
	many[i] = NULL;
	frame = NULL;
	ok(nx_agent_build_request(many, "", 0, &frame, &len, &err) == -1 &&
	   err.kind == NX_E_USAGE && !frame, "17 arguments refused");
	many[NXA_MAX_RUN_ARGS] = NULL;
	ok(nx_agent_build_request(many, "", 0, &frame, &len, &err) == 0,
	   "16 arguments taken");
	free(frame);

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	many[0] = big;
	many[1] = NULL;
	frame = NULL;
	ok(nx_agent_build_request(many, "", 0, &frame, &len, &err) == -1 &&
	   err.kind == NX_E_USAGE && !frame, "arguments over 1 KiB refused");
	big[NXA_MAX_RUN - 1] = '\0';
	ok(nx_agent_build_request(many, "", 0, &frame, &len, &err) == 0 &&
	   len == 2 * NXA_HEADER_LEN + NXA_MAX_RUN, "exactly 1 KiB taken");
	free(frame);
}

static void test_reason_names(void)
{
	is_str(nx_agent_reason_name(NXA_EXITED), "exited", "reason name");
	is_str(nx_agent_reason_name(NXA_OUTPUT_LIMIT), "output limit",
	       "reason name");
	is_str(nx_agent_reason_name(200), "unknown", "unknown reason name");
}

int main(void)
{
	test_valid_every_split();
	test_exit_fields();
	test_refusals();
	test_finish();
	test_request();
	test_socket_request();
	test_reason_names();
	return tap_done();
}
