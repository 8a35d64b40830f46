/* agent_proto.c - parser of the frames nexus-agent writes and builder of
 * the request frame (see agent_proto.h and docs/protocol.md).
 *
 * The parser checks each header as soon as its 5 bytes are in, so a
 * hostile length is refused before any payload is buffered, and it holds
 * at most one frame (64 KiB) whatever the stream does. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent_proto.h"

void nx_agent_parser_init(nx_agent_parser *p, nx_agent_data_fn on_data,
			  void *userdata, uint64_t max_stream_bytes)
{
	memset(p, 0, offsetof(nx_agent_parser, payload));
	p->on_data = on_data;
	p->userdata = userdata;
	p->max_stream_bytes = max_stream_bytes;
}

const char *nx_agent_reason_name(unsigned reason)
{
	switch (reason) {
	case NXA_EXITED:
		return "exited";
	case NXA_SIGNALED:
		return "killed by signal";
	case NXA_TIMEOUT:
		return "timeout";
	case NXA_OUTPUT_LIMIT:
		return "output limit";
	case NXA_AGENT_FAILURE:
		return "agent failure";
	default:
		return "unknown";
	}
}

/* Record the first failure; every later call replays it. */
static int fail(nx_agent_parser *p, nx_error *err, const char *fmt, ...)
	NX_PRINTF(3, 4);
static int fail(nx_agent_parser *p, nx_error *err, const char *fmt, ...)
{
	va_list ap;

	p->failed = true;
	p->fail.kind = NX_E_PROTOCOL;
	p->fail.sys_errno = 0;
	va_start(ap, fmt);
	vsnprintf(p->fail.msg, sizeof p->fail.msg, fmt, ap);
	va_end(ap);
	if (err)
		*err = p->fail;
	return -1;
}

static int replay(const nx_agent_parser *p, nx_error *err)
{
	if (err)
		*err = p->fail;
	return -1;
}

/* The first bytes of a stream that is not the agent's (a runtime error
 * message, a shell's output) say more than "unknown frame type": show
 * them, with anything unprintable as '?'. */
static void printable(const unsigned char *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f && in[i] != '"') ?
			(char)in[i] : '?';
	out[n] = '\0';
}

static int check_header(nx_agent_parser *p, nx_error *err)
{
	uint8_t type = p->hdr[0];
	uint32_t len = nxa_get_be32(p->hdr + 1);
	char shown[NXA_HEADER_LEN + 1];
	nx_stream s;

	if (p->version == 0 && type != NXA_HELLO) {
		printable(p->hdr, NXA_HEADER_LEN, shown);
		return fail(p, err,
			    "not an agent stream: expected the hello frame, "
			    "got \"%s\"", shown);
	}
	switch (type) {
	case NXA_HELLO:
		if (p->version != 0)
			return fail(p, err, "agent sent a second hello frame");
		if (len != NXA_HELLO_LEN)
			return fail(p, err,
				    "agent hello frame has %" PRIu32
				    " bytes, want %d", len, NXA_HELLO_LEN);
		break;
	case NXA_STDOUT:
	case NXA_STDERR:
		s = type == NXA_STDOUT ? NX_STREAM_STDOUT : NX_STREAM_STDERR;
		if (p->have_error)
			return fail(p, err, "agent sent output after its error frame");
		if (len == 0 || len > NXA_MAX_DATA)
			return fail(p, err,
				    "agent output frame has %" PRIu32
				    " bytes, want 1 to %u", len, NXA_MAX_DATA);
		if (p->max_stream_bytes &&
		    len > p->max_stream_bytes - p->stream_bytes[s])
			return fail(p, err,
				    "agent sent more than %" PRIu64
				    " bytes of %s", p->max_stream_bytes,
				    s == NX_STREAM_STDOUT ? "stdout" : "stderr");
		break;
	case NXA_ERROR:
		if (p->have_error)
			return fail(p, err, "agent sent a second error frame");
		if (len == 0 || len > NXA_MAX_ERROR)
			return fail(p, err,
				    "agent error frame has %" PRIu32
				    " bytes, want 1 to %u", len, NXA_MAX_ERROR);
		break;
	case NXA_EXIT:
		if (len != NXA_EXIT_LEN)
			return fail(p, err,
				    "agent exit frame has %" PRIu32
				    " bytes, want %d", len, NXA_EXIT_LEN);
		break;
	default:
		return fail(p, err, "agent sent unknown frame type 0x%02x",
			    type);
	}
	p->frame_len = len;
	p->payload_len = 0;
	return 0;
}

static int check_exit(nx_agent_parser *p, nx_error *err)
{
	uint8_t reason = p->payload[0];
	uint32_t value = nxa_get_be32(p->payload + 1);
	bool ok;

	switch (reason) {
	case NXA_EXITED:
		ok = value <= 255;
		break;
	case NXA_SIGNALED:
		ok = value >= 1 && value <= 127;
		break;
	case NXA_OUTPUT_LIMIT:
		ok = value == NX_STREAM_STDOUT || value == NX_STREAM_STDERR;
		break;
	case NXA_TIMEOUT:
	case NXA_AGENT_FAILURE:
		ok = value == 0;
		break;
	default:
		return fail(p, err, "agent exit frame has unknown reason %u",
			    reason);
	}
	if (!ok)
		return fail(p, err,
			    "agent exit frame has value %" PRIu32
			    " for reason \"%s\"", value,
			    nx_agent_reason_name(reason));
	/* The agent explains every failure of its own, and only those. */
	if ((reason == NXA_AGENT_FAILURE) != p->have_error)
		return fail(p, err,
			    p->have_error ?
			    "agent sent an error frame but exit reason \"%s\"" :
			    "agent exit reason \"%s\" without an error frame",
			    nx_agent_reason_name(reason));
	p->exit_reason = reason;
	p->exit_value = value;
	p->elapsed_us = nxa_get_be64(p->payload + 5);
	p->done = true;
	return 0;
}

static int handle_frame(nx_agent_parser *p, nx_error *err)
{
	uint32_t version;
	nx_stream s;

	switch (p->hdr[0]) {
	case NXA_HELLO:
		version = nxa_get_be32(p->payload);
		if (version != NXA_VERSION)
			return fail(p, err,
				    "agent speaks protocol version %" PRIu32
				    ", this host speaks %d", version,
				    NXA_VERSION);
		p->version = version;
		return 0;
	case NXA_STDOUT:
	case NXA_STDERR:
		s = p->hdr[0] == NXA_STDOUT ? NX_STREAM_STDOUT
					    : NX_STREAM_STDERR;
		p->stream_bytes[s] += p->frame_len;
		if (p->on_data)
			p->on_data(p->userdata, s, (const char *)p->payload,
				   p->frame_len);
		return 0;
	case NXA_ERROR:
		if (memchr(p->payload, '\0', p->frame_len))
			return fail(p, err, "agent error frame contains a NUL byte");
		memcpy(p->error, p->payload, p->frame_len);
		p->error[p->frame_len] = '\0';
		if (!nx_is_clean_text(p->error, NXA_MAX_ERROR)) {
			p->error[0] = '\0';
			return fail(p, err,
				    "agent error frame is not one line of UTF-8 text");
		}
		p->have_error = true;
		return 0;
	default: /* NXA_EXIT: check_header let nothing else through */
		return check_exit(p, err);
	}
}

int nx_agent_parser_feed(nx_agent_parser *p, const void *data, size_t len,
			 nx_error *err)
{
	const unsigned char *in = data;
	size_t n;

	if (p->failed)
		return replay(p, err);
	while (len > 0) {
		if (p->done)
			return fail(p, err, "agent sent data after its exit frame");
		if (p->hdr_len < NXA_HEADER_LEN) {
			n = NXA_HEADER_LEN - p->hdr_len;
			if (n > len)
				n = len;
			memcpy(p->hdr + p->hdr_len, in, n);
			p->hdr_len += n;
			in += n;
			len -= n;
			if (p->hdr_len < NXA_HEADER_LEN)
				break;
			if (check_header(p, err) < 0)
				return -1;
		}
		n = p->frame_len - p->payload_len;
		if (n > len)
			n = len;
		memcpy(p->payload + p->payload_len, in, n);
		p->payload_len += n;
		in += n;
		len -= n;
		if (p->payload_len < p->frame_len)
			break;
		p->hdr_len = 0;
		if (handle_frame(p, err) < 0)
			return -1;
	}
	return 0;
}

int nx_agent_parser_finish(nx_agent_parser *p, nx_error *err)
{
	if (p->failed)
		return replay(p, err);
	if (p->done)
		return 0;
	if (p->hdr_len > 0)
		return fail(p, err, "agent stream ended inside a frame");
	if (p->version == 0)
		return fail(p, err, "agent stream ended before the hello frame");
	return fail(p, err, "agent stream ended before the exit frame");
}

/* The RUN frame's payload: each argument followed by a NUL byte. */
static int run_payload(const char *const *args, unsigned char *out,
		       size_t *len, nx_error *err)
{
	size_t n, arg_len;

	*len = 0;
	for (n = 0; args[n]; n++) {
		arg_len = strlen(args[n]) + 1;
		if (n == NXA_MAX_RUN_ARGS || arg_len > NXA_MAX_RUN - *len)
			return nx_fail(err, NX_E_USAGE,
				       "run arguments over %d or %u bytes",
				       NXA_MAX_RUN_ARGS, NXA_MAX_RUN);
		memcpy(out + *len, args[n], arg_len);
		*len += arg_len;
	}
	if (*len == 0)
		return nx_fail(err, NX_E_USAGE, "no run arguments");
	return 0;
}

int nx_agent_build_request(const char *const *args, const char *code,
			   size_t code_len, char **out, size_t *out_len,
			   nx_error *err)
{
	unsigned char run[NXA_MAX_RUN], *frame, *p;
	size_t run_len = 0, head;

	if (code_len > NXA_MAX_CODE)
		return nx_fail(err, NX_E_USAGE,
			       "code too large (%zu bytes, the limit is %u)",
			       code_len, NXA_MAX_CODE);
	if (args && run_payload(args, run, &run_len, err) < 0)
		return -1;
	head = args ? NXA_HEADER_LEN + run_len : 0;
	frame = nx_xmalloc(head + NXA_HEADER_LEN + code_len);
	p = frame;
	if (args) {
		nxa_put_header(p, NXA_RUN, (uint32_t)run_len);
		memcpy(p + NXA_HEADER_LEN, run, run_len);
		p += head;
	}
	nxa_put_header(p, NXA_CODE, (uint32_t)code_len);
	if (code_len)
		memcpy(p + NXA_HEADER_LEN, code, code_len);
	*out = (char *)frame;
	*out_len = head + NXA_HEADER_LEN + code_len;
	return 0;
}
