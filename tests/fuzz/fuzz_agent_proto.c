/* fuzz_agent_proto.c - fuzz harness for the host's parser of nexus-agent
 * frames (src/agent_proto.c), the bytes a hostile sandbox controls.
 *
 * Input: byte 0 picks the per-stream cap (low 3 bits) and the largest
 * piece the stream is fed in (high 5 bits), byte 1 seeds the piece sizes,
 * the rest is the agent's stdout.  The stream goes to one parser in one
 * piece and to a second one in pieces of 0..max bytes, and every
 * invariant below must hold; a broken one aborts.  See docs/fuzzing.md. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "agent_proto.h"


static const uint64_t caps[8] = {
	0, 1, 2, 100, 4096, NXA_MAX_DATA, NXA_MAX_DATA + 1, 1u << 20
};
static const size_t max_pieces[32] = {
	1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 7, 8, 9, 12, 13, 16,
	17, 31, 64, 100, 255, 256, 1000, 1024, 1025, 4096, 4101,
	65535, 65536, 65541, 65542, 1u << 20
};

/* What one parser delivered, and what it must never do. */
struct run {
	const nx_agent_parser *p;
	uint64_t cap;
	uint64_t got[3];
	uint64_t hash[3];      /* FNV-1a of the bytes, per stream */
	unsigned long calls[3];
};

static void on_data(void *userdata, nx_stream stream, const char *data,
		    size_t len)
{
	struct run *r = userdata;
	const nx_agent_parser *p = r->p;
	size_t i;

	CHECK(stream == NX_STREAM_STDOUT || stream == NX_STREAM_STDERR);
	CHECK(len >= 1 && len <= NXA_MAX_DATA);
	CHECK(data != NULL);
	/* Data only between HELLO and EXIT, never after a failure or an
	 * ERROR frame. */
	CHECK(!p->failed);
	CHECK(!p->done);
	CHECK(!p->have_error);
	CHECK(p->version == NXA_VERSION);
	CHECK(p->stream_bytes[stream] == r->got[stream] + len);
	CHECK(r->cap == 0 || r->got[stream] + len <= r->cap);
	r->got[stream] += len;
	r->calls[stream]++;
	for (i = 0; i < len; i++) {
		r->hash[stream] ^= (unsigned char)data[i];
		r->hash[stream] *= 1099511628211u;
	}
}

static void run_init(struct run *r, nx_agent_parser *p, uint64_t cap)
{
	memset(r, 0, sizeof *r);
	r->p = p;
	r->cap = cap;
	r->hash[1] = r->hash[2] = 14695981039346656037u;
	nx_agent_parser_init(p, on_data, r, cap);
}

static void check_error(const nx_error *e)
{
	CHECK(e->kind == NX_E_PROTOCOL);
	CHECK(memchr(e->msg, '\0', sizeof e->msg) != NULL);
	/* One line of printable text, shown to the user as it is. */
	CHECK(nx_is_clean_text(e->msg, sizeof e->msg - 1));
}

static bool same_error(const nx_error *a, const nx_error *b)
{
	return a->kind == b->kind && a->sys_errno == b->sys_errno &&
	       strcmp(a->msg, b->msg) == 0;
}

/* The parser's state against what it delivered, at any point. */
static void check_state(const nx_agent_parser *p, const struct run *r)
{
	int s;

	CHECK(p->stream_bytes[0] == 0);
	for (s = 1; s <= 2; s++) {
		CHECK(p->stream_bytes[s] == r->got[s]);
		CHECK(r->cap == 0 || r->got[s] <= r->cap);
	}
	CHECK(p->version == 0 || p->version == NXA_VERSION);
	if (p->version == 0)
		CHECK(r->got[1] == 0 && r->got[2] == 0 && !p->done &&
		      !p->have_error);
	CHECK(p->have_error == (p->error[0] != '\0'));
	if (p->have_error)
		CHECK(nx_is_clean_text(p->error, NXA_MAX_ERROR));
	if (p->done) {
		CHECK(p->version == NXA_VERSION);
		switch (p->exit_reason) {
		case NXA_EXITED:
			CHECK(p->exit_value <= 255);
			break;
		case NXA_SIGNALED:
			CHECK(p->exit_value >= 1 && p->exit_value <= 127);
			break;
		case NXA_OUTPUT_LIMIT:
			CHECK(p->exit_value == 1 || p->exit_value == 2);
			break;
		case NXA_TIMEOUT:
		case NXA_AGENT_FAILURE:
			CHECK(p->exit_value == 0);
			break;
		default:
			fuzz_broken(__FILE__, __LINE__,
				    "an unknown exit reason was accepted");
		}
		CHECK((p->exit_reason == NXA_AGENT_FAILURE) == p->have_error);
		CHECK(strcmp(nx_agent_reason_name(p->exit_reason),
			     "unknown") != 0);
	}
}

/* Once failed, or done, nothing more goes in: every call fails with the
 * first error (or, when done, with the error the extra byte causes). */
static void check_after_end(nx_agent_parser *p, const struct run *r,
			    int finish_rc, const nx_error *finish_err)
{
	nx_error e1, e2, e3;
	const unsigned char extra = NXA_STDOUT;

	if (finish_rc == 0) {
		CHECK(p->done && !p->failed);
		/* Success is stable. */
		CHECK(nx_agent_parser_finish(p, &e1) == 0);
		CHECK(nx_agent_parser_feed(p, &extra, 0, &e1) == 0);
		CHECK(nx_agent_parser_feed(p, &extra, 1, &e1) == -1);
		check_error(&e1);
	} else {
		CHECK(p->failed);
		check_error(finish_err);
		e1 = *finish_err;
	}
	CHECK(nx_agent_parser_feed(p, &extra, 1, &e2) == -1);
	CHECK(same_error(&e1, &e2));
	CHECK(nx_agent_parser_feed(p, &extra, 0, &e2) == -1);
	CHECK(same_error(&e1, &e2));
	CHECK(nx_agent_parser_feed(p, &extra, 1, NULL) == -1);
	CHECK(nx_agent_parser_finish(p, &e3) == -1);
	CHECK(same_error(&e1, &e3));
	CHECK(nx_agent_parser_finish(p, NULL) == -1);
	check_state(p, r);
}

static uint32_t next_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* 64 KiB of payload each: static, not on the stack. */
static nx_agent_parser whole, split;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t cfg = size > 0 ? data[0] : 0;
	uint8_t seed = size > 1 ? data[1] : 0;
	const uint8_t *in = data + (size > 2 ? 2 : size);
	size_t len = size > 2 ? size - 2 : 0;
	uint64_t cap = caps[cfg & 7];
	size_t max_piece = max_pieces[cfg >> 3];
	uint32_t x = 0x9e3779b9u ^ ((uint32_t)seed << 8 | cfg);
	struct run rw, rs;
	nx_error ew, es, e, fw, fs;
	int rcw, rcs = 0, frw, frs;
	size_t fed = 0;
	bool first_failure = true;

	memset(&es, 0, sizeof es);

	/* The whole stream in one piece. */
	run_init(&rw, &whole, cap);
	rcw = nx_agent_parser_feed(&whole, in, len, &ew);
	CHECK(rcw == 0 || rcw == -1);
	if (rcw < 0)
		check_error(&ew);
	check_state(&whole, &rw);
	frw = nx_agent_parser_finish(&whole, &fw);
	CHECK(frw == 0 || frw == -1);
	/* A successful finish means a complete EXIT frame ended the
	 * stream. */
	CHECK((frw == 0) == (rcw == 0 && whole.done));
	if (rcw < 0)
		CHECK(same_error(&ew, &fw));
	check_state(&whole, &rw);

	/* The same bytes in pieces, some empty. */
	run_init(&rs, &split, cap);
	while (fed < len) {
		size_t n = next_rand(&x) % (max_piece + 1);
		int rc;

		if (n > len - fed)
			n = len - fed;
		rc = nx_agent_parser_feed(&split, in + fed, n, &e);
		CHECK(rc == 0 || rc == -1);
		if (rc < 0) {
			check_error(&e);
			if (first_failure) {
				es = e;
				first_failure = false;
			}
			CHECK(same_error(&e, &es));
			rcs = -1;
		} else {
			/* An error is sticky. */
			CHECK(first_failure);
		}
		check_state(&split, &rs);
		fed += n;
	}
	frs = nx_agent_parser_finish(&split, &fs);
	if (rcs < 0)
		CHECK(frs == -1 && same_error(&es, &fs));

	/* How the bytes were split changes nothing. */
	CHECK(rcs == rcw);
	if (rcw < 0)
		CHECK(same_error(&ew, &es));
	CHECK(frs == frw);
	if (frw < 0)
		CHECK(same_error(&fw, &fs));
	CHECK(whole.version == split.version);
	CHECK(whole.done == split.done);
	CHECK(whole.have_error == split.have_error);
	CHECK(strcmp(whole.error, split.error) == 0);
	CHECK(whole.exit_reason == split.exit_reason);
	CHECK(whole.exit_value == split.exit_value);
	CHECK(whole.elapsed_us == split.elapsed_us);
	CHECK(memcmp(rw.got, rs.got, sizeof rw.got) == 0);
	CHECK(memcmp(rw.hash, rs.hash, sizeof rw.hash) == 0);
	CHECK(memcmp(rw.calls, rs.calls, sizeof rw.calls) == 0);

	check_after_end(&whole, &rw, frw, &fw);
	check_after_end(&split, &rs, frs, &fs);

	/* Any byte has a name. */
	CHECK(nx_agent_reason_name(seed) != NULL);
	return 0;
}
