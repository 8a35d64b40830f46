/* fuzz_mux.c - fuzz harness for the parser of Docker's multiplexed exec
 * stream (src/docker/mux.c), bytes the engine relays from a container.
 *
 * Input: byte 0 picks the largest piece the stream is fed in, byte 1
 * seeds the piece sizes, the rest is the stream.  A plain reading of the
 * format (docker.h) says what the parser must deliver: the payload bytes
 * of streams 1 and 2, in order, up to the first bad header; the parser,
 * fed in pieces of 0..max bytes, must deliver exactly those, fail exactly
 * when the reference meets a bad header, and stay failed.  A broken
 * invariant aborts.  See docs/fuzzing.md. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "docker/docker.h"


static const size_t max_pieces[16] = {
	1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 64, 255, 1024, 4096, 65536,
	1u << 20
};

/* The expected output: the stream's payload bytes for 1 and 2. */
struct model {
	unsigned char *out[3];
	size_t len[3];
	size_t frame_bytes[3]; /* sum of the lengths in the headers seen */
	bool bad;              /* met a bad header */
	bool boundary;         /* ended between frames */
};

static void model_run(struct model *m, const uint8_t *in, size_t len)
{
	size_t i = 0;

	memset(m, 0, sizeof *m);
	m->out[1] = malloc(len + 1);
	m->out[2] = malloc(len + 1);
	CHECK(m->out[1] && m->out[2]);
	m->boundary = true;
	while (i < len) {
		uint32_t flen;
		size_t avail;
		int s;

		if (len - i < 8) {
			/* A header cut short: checked only once complete. */
			m->boundary = false;
			return;
		}
		s = in[i];
		if (s > 2 || in[i + 1] || in[i + 2] || in[i + 3]) {
			m->bad = true;
			m->boundary = false;
			return;
		}
		flen = (uint32_t)in[i + 4] << 24 | (uint32_t)in[i + 5] << 16 |
		       (uint32_t)in[i + 6] << 8 | in[i + 7];
		i += 8;
		m->frame_bytes[s] += flen;
		avail = len - i < flen ? len - i : flen;
		if (s != 0) {
			memcpy(m->out[s] + m->len[s], in + i, avail);
			m->len[s] += avail;
		}
		i += avail;
		if (avail < flen) {
			m->boundary = false;
			return;
		}
	}
}

/* What the parser delivered. */
struct sink {
	unsigned char *out[3];
	size_t len[3];
	size_t cap;
	bool failed;
};

static void on_output(void *userdata, int stream, const char *data,
		      size_t len)
{
	struct sink *k = userdata;

	CHECK(!k->failed);
	CHECK(stream == 1 || stream == 2);
	CHECK(len > 0);
	CHECK(k->len[stream] + len <= k->cap);
	memcpy(k->out[stream] + k->len[stream], data, len);
	k->len[stream] += len;
}

static uint32_t next_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t cfg = size > 0 ? data[0] : 0;
	uint8_t seed = size > 1 ? data[1] : 0;
	const uint8_t *in = data + (size > 2 ? 2 : size);
	size_t len = size > 2 ? size - 2 : 0;
	size_t max_piece = max_pieces[cfg & 15];
	uint32_t x = 0x9e3779b9u ^ ((uint32_t)seed << 8 | cfg);
	nx_mux_parser p;
	struct model m;
	struct sink k;
	nx_error e, first;
	size_t fed = 0;
	int s;

	model_run(&m, in, len);
	memset(&k, 0, sizeof k);
	k.cap = len;
	k.out[1] = malloc(len + 1);
	k.out[2] = malloc(len + 1);
	CHECK(k.out[1] && k.out[2]);
	memset(&first, 0, sizeof first);

	nx_mux_init(&p, on_output, &k);
	CHECK(nx_mux_at_boundary(&p));
	while (fed < len) {
		size_t n = next_rand(&x) % (max_piece + 1);
		int rc;

		if (n > len - fed)
			n = len - fed;
		rc = nx_mux_feed(&p, (const char *)in + fed, n, &e);
		CHECK(rc == 0 || rc == -1);
		if (rc < 0) {
			CHECK(e.kind == NX_E_PROTOCOL);
			CHECK(nx_is_clean_text(e.msg, sizeof e.msg - 1));
			if (!k.failed)
				first = e;
			/* Broken stays broken, with the same message. */
			CHECK(strcmp(e.msg, first.msg) == 0);
			k.failed = true;
		} else {
			CHECK(!k.failed);
		}
		fed += n;
	}

	/* Exactly the reference's bytes, and a failure exactly when it met
	 * a bad header. */
	CHECK(k.failed == m.bad);
	for (s = 1; s <= 2; s++) {
		CHECK(k.len[s] == m.len[s]);
		CHECK(memcmp(k.out[s], m.out[s], m.len[s]) == 0);
		/* Delivered == the sum of the frame lengths, unless the last
		 * frame was cut short. */
		if (m.boundary)
			CHECK(k.len[s] == m.frame_bytes[s]);
		else
			CHECK(k.len[s] <= m.frame_bytes[s]);
	}
	CHECK(nx_mux_at_boundary(&p) == m.boundary);
	if (k.failed) {
		CHECK(nx_mux_feed(&p, "", 0, &e) == -1);
		CHECK(strcmp(e.msg, first.msg) == 0);
		CHECK(!nx_mux_at_boundary(&p));
	} else {
		/* An empty feed changes nothing. */
		CHECK(nx_mux_feed(&p, "", 0, &e) == 0);
		CHECK(nx_mux_at_boundary(&p) == m.boundary);
	}

	free(m.out[1]);
	free(m.out[2]);
	free(k.out[1]);
	free(k.out[2]);
	return 0;
}
