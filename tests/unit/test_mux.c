/* test_mux.c - the multiplexed stream parser, fed in every split. */
#include <string.h>

#include "lib/tap.h"
#include "docker/docker.h"

/* What the parser delivered: the bytes per stream, and the pieces. */
struct sink {
	char out[4096];
	size_t out_len;
	char errs[4096];
	size_t errs_len;
	int calls;
	int bad_stream;
	int empty;
};

static void collect(void *userdata, int stream, const char *data, size_t len)
{
	struct sink *s = userdata;

	s->calls++;
	if (len == 0)
		s->empty++;
	if (stream == 1 && s->out_len + len <= sizeof s->out) {
		memcpy(s->out + s->out_len, data, len);
		s->out_len += len;
	} else if (stream == 2 && s->errs_len + len <= sizeof s->errs) {
		memcpy(s->errs + s->errs_len, data, len);
		s->errs_len += len;
	} else {
		s->bad_stream++;
	}
}

/* Append one frame to buf at *len. */
static void frame(char *buf, size_t *len, int stream, const char *payload,
		  size_t plen)
{
	unsigned char h[8] = { (unsigned char)stream, 0, 0, 0,
			       (unsigned char)(plen >> 24),
			       (unsigned char)(plen >> 16),
			       (unsigned char)(plen >> 8),
			       (unsigned char)plen };

	memcpy(buf + *len, h, 8);
	memcpy(buf + *len + 8, payload, plen);
	*len += 8 + plen;
}

static char stream_buf[512];
static size_t stream_len;

static void build_stream(void)
{
	stream_len = 0;
	frame(stream_buf, &stream_len, 1, "hello ", 6);
	frame(stream_buf, &stream_len, 0, "echoed stdin", 12);
	frame(stream_buf, &stream_len, 2, "oops\n", 5);
	frame(stream_buf, &stream_len, 1, "", 0);
	frame(stream_buf, &stream_len, 1, "world\n", 6);
	frame(stream_buf, &stream_len, 2, "\0bin\xff", 5);
}

static bool stream_ok(const struct sink *s)
{
	return s->out_len == 12 && memcmp(s->out, "hello world\n", 12) == 0 &&
	       s->errs_len == 10 && memcmp(s->errs, "oops\n\0bin\xff", 10) == 0 &&
	       s->bad_stream == 0 && s->empty == 0;
}

static void test_whole(void)
{
	struct sink s = { 0 };
	nx_mux_parser p;
	nx_error err = { 0 };

	nx_mux_init(&p, collect, &s);
	ok(nx_mux_at_boundary(&p), "a fresh parser is at a boundary");
	is_int(nx_mux_feed(&p, stream_buf, stream_len, &err), 0,
	       "a whole stream parses");
	ok(stream_ok(&s), "stdout and stderr demultiplexed, stdin echo dropped");
	is_int(s.calls, 4, "one call per non-empty output frame");
	ok(nx_mux_at_boundary(&p), "ends at a boundary");
}

static void test_every_split(void)
{
	bool all_ok = true, all_boundary = true;
	nx_error err = { 0 };
	size_t i, j;

	/* Two cuts anywhere: every header and payload split there is. */
	for (i = 0; i <= stream_len; i++) {
		for (j = i; j <= stream_len; j++) {
			struct sink s = { 0 };
			nx_mux_parser p;

			nx_mux_init(&p, collect, &s);
			if (nx_mux_feed(&p, stream_buf, i, &err) < 0 ||
			    nx_mux_feed(&p, stream_buf + i, j - i, &err) < 0 ||
			    nx_mux_feed(&p, stream_buf + j, stream_len - j,
					&err) < 0 ||
			    !stream_ok(&s))
				all_ok = false;
			if (!nx_mux_at_boundary(&p))
				all_boundary = false;
		}
	}
	ok(all_ok, "the same output for every two-cut split of the stream");
	ok(all_boundary, "at a boundary after every split");
}

static void test_byte_by_byte(void)
{
	struct sink s = { 0 };
	nx_mux_parser p;
	nx_error err = { 0 };
	bool fed = true, boundary_only_between = true;
	size_t i, frame_ends[] = { 14, 34, 47, 55, 69, 82 }, k = 0;

	nx_mux_init(&p, collect, &s);
	for (i = 0; i < stream_len; i++) {
		if (nx_mux_feed(&p, stream_buf + i, 1, &err) < 0)
			fed = false;
		/* At a boundary exactly when a frame just ended. */
		if (k < NX_ARRAY_LEN(frame_ends) && i + 1 == frame_ends[k]) {
			if (!nx_mux_at_boundary(&p))
				boundary_only_between = false;
			k++;
		} else if (nx_mux_at_boundary(&p)) {
			boundary_only_between = false;
		}
	}
	ok(fed && stream_ok(&s), "byte-by-byte feeding gives the same output");
	is_int(s.calls, 22, "payload delivered a byte at a time");
	ok(boundary_only_between, "at a boundary exactly between frames");
}

static void test_partial_payload(void)
{
	struct sink s = { 0 };
	nx_mux_parser p;
	nx_error err = { 0 };
	char buf[64];
	size_t len = 0;

	frame(buf, &len, 1, "0123456789", 10);
	nx_mux_init(&p, collect, &s);
	nx_mux_feed(&p, buf, 8 + 4, &err);
	ok(s.out_len == 4 && memcmp(s.out, "0123", 4) == 0,
	   "payload delivered before the frame is complete");
	ok(!nx_mux_at_boundary(&p), "not at a boundary mid-payload");
	nx_mux_feed(&p, buf + 12, 3, &err);
	ok(!nx_mux_at_boundary(&p), "still not at a boundary");
	nx_mux_feed(&p, buf + 15, len - 15, &err);
	ok(s.out_len == 10 && memcmp(s.out, "0123456789", 10) == 0,
	   "the rest follows");
	ok(nx_mux_at_boundary(&p), "at a boundary after the payload");

	nx_mux_init(&p, collect, &s);
	nx_mux_feed(&p, buf, 5, &err);
	ok(!nx_mux_at_boundary(&p), "not at a boundary mid-header");
}

static void test_empty_and_null(void)
{
	struct sink s = { 0 };
	nx_mux_parser p;
	nx_error err = { 0 };
	char buf[64];
	size_t len = 0;

	frame(buf, &len, 1, "", 0);
	frame(buf, &len, 2, "", 0);
	frame(buf, &len, 0, "", 0);
	nx_mux_init(&p, collect, &s);
	is_int(nx_mux_feed(&p, buf, len, &err), 0, "zero-length frames parse");
	is_int(s.calls, 0, "zero-length frames deliver nothing");
	ok(nx_mux_at_boundary(&p), "zero-length frames end at a boundary");
	is_int(nx_mux_feed(&p, buf, 0, &err), 0, "an empty feed is fine");

	nx_mux_init(&p, NULL, NULL);
	len = 0;
	frame(buf, &len, 1, "dropped", 7);
	is_int(nx_mux_feed(&p, buf, len, &err), 0,
	       "no callback: output is dropped");
}

static void test_bad_headers(void)
{
	static const char bad[][8] = {
		{ 3, 0, 0, 0, 0, 0, 0, 1 },
		{ 1, 1, 0, 0, 0, 0, 0, 1 },
		{ 2, 0, 0, 1, 0, 0, 0, 1 },
		{ 'H', 'T', 'T', 'P', '/', '1', '.', '1' },
	};
	struct sink s = { 0 };
	nx_mux_parser p;
	nx_error err = { 0 };
	char buf[64];
	size_t i, len = 0;
	bool all = true;

	for (i = 0; i < NX_ARRAY_LEN(bad); i++) {
		nx_mux_init(&p, collect, &s);
		nx_error_clear(&err);
		if (nx_mux_feed(&p, bad[i], 8, &err) != -1 ||
		    err.kind != NX_E_PROTOCOL)
			all = false;
	}
	ok(all, "bad stream bytes and non-zero padding are protocol errors");
	is_str(err.msg, "the Docker engine sent a bad stream frame header "
	       "(48 54 54 50)", "the error shows the header");

	/* The bad header in the middle of good frames, split. */
	frame(buf, &len, 1, "ok", 2);
	memcpy(buf + len, bad[0], 8);
	len += 8;
	s = (struct sink){ 0 };
	nx_mux_init(&p, collect, &s);
	nx_error_clear(&err);
	is_int(nx_mux_feed(&p, buf, 12, &err), 0, "good bytes first");
	is_int(nx_mux_feed(&p, buf + 12, len - 12, &err), -1,
	       "the bad header is found when its last byte arrives");
	is_int(s.out_len, 2, "the good frame was delivered");
	is_int(nx_mux_feed(&p, "\1\0\0\0\0\0\0\0", 8, &err), -1,
	       "a broken parser stays broken");
	ok(!nx_mux_at_boundary(&p), "a broken parser is not at a boundary");
}

static void test_large_length(void)
{
	static const char h[] = { 1, 0, 0, 0, '\xff', '\xff', '\xff', '\xff' };
	struct sink s = { 0 };
	nx_mux_parser p;
	nx_error err = { 0 };

	nx_mux_init(&p, collect, &s);
	is_int(nx_mux_feed(&p, h, 8, &err), 0, "a 4 GiB frame header is fine");
	nx_mux_feed(&p, "abc", 3, &err);
	is_int((long long)p.remaining, 0xffffffffLL - 3,
	       "its payload is counted down");
	ok(!nx_mux_at_boundary(&p), "not at a boundary inside it");
}

int main(void)
{
	build_stream();
	test_whole();
	test_every_split();
	test_byte_by_byte();
	test_partial_payload();
	test_empty_and_null();
	test_bad_headers();
	test_large_length();
	return tap_done();
}
