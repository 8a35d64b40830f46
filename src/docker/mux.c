/* mux.c - the engine's multiplexed stream format (see docker.h): pure
 * parsing, no I/O, so that tests and a fuzzer can feed it any split. */
#include <string.h>

#include "docker.h"

#define MUX_HEADER_LEN 8

/* A parser that met a bad header stays broken: the bytes after it are not
 * frames we could trust. */
#define MUX_BROKEN (-1)

void nx_mux_init(nx_mux_parser *p, nx_docker_output_fn fn, void *userdata)
{
	memset(p, 0, sizeof *p);
	p->on_output = fn;
	p->userdata = userdata;
}

static int bad_header(nx_mux_parser *p, nx_error *err)
{
	const unsigned char *h = p->header;

	p->stream = MUX_BROKEN;
	return nx_fail(err, NX_E_PROTOCOL,
		       "the Docker engine sent a bad stream frame header "
		       "(%02x %02x %02x %02x)", h[0], h[1], h[2], h[3]);
}

/* Take header bytes; once all eight are in, check them and start the
 * frame.  Returns the bytes consumed, or -1 on a bad header. */
static long take_header(nx_mux_parser *p, const char *data, size_t len,
			nx_error *err)
{
	size_t take = MUX_HEADER_LEN - p->header_len;
	const unsigned char *h = p->header;

	if (take > len)
		take = len;
	memcpy(p->header + p->header_len, data, take);
	p->header_len += take;
	if (p->header_len < MUX_HEADER_LEN)
		return (long)take;
	if (h[0] > 2 || h[1] || h[2] || h[3])
		return bad_header(p, err);
	p->stream = h[0];
	p->remaining = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 |
		       (uint32_t)h[6] << 8 | (uint32_t)h[7];
	/* An empty frame ends where it starts. */
	if (p->remaining == 0)
		p->header_len = 0;
	return (long)take;
}

int nx_mux_feed(nx_mux_parser *p, const char *data, size_t len,
		nx_error *err)
{
	if (p->stream == MUX_BROKEN)
		return bad_header(p, err);
	while (len > 0) {
		size_t take;

		if (p->header_len < MUX_HEADER_LEN) {
			long n = take_header(p, data, len, err);

			if (n < 0)
				return -1;
			data += n;
			len -= (size_t)n;
			continue;
		}
		take = len < p->remaining ? len : p->remaining;
		/* Stream 0 would be our own stdin echoed back: not output. */
		if (p->stream != 0 && p->on_output)
			p->on_output(p->userdata, p->stream, data, take);
		p->remaining -= (uint32_t)take;
		data += take;
		len -= take;
		if (p->remaining == 0)
			p->header_len = 0;
	}
	return 0;
}

bool nx_mux_at_boundary(const nx_mux_parser *p)
{
	return p->header_len == 0 && p->stream != MUX_BROKEN;
}
