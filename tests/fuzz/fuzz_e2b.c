/* fuzz_e2b.c - fuzz harness for what the e2b plugin reads from E2B
 * (providers/e2b/e2b_parse.c): envd's Connect stream of envelopes, the
 * control plane's replies, and the sandbox handle.
 *
 * Input: a first line naming the part, then its bytes.
 *   stream: byte 0 picks the output cap and the largest piece, byte 1
 *     seeds the piece sizes, the rest is the stream.  Fed whole to one
 *     parser and in pieces to another, it must end the same in both; a
 *     reference reading (the framing, json-c and an independent base64
 *     decoder) says which output comes out and whether the stream fails.
 *   reply: a line with the HTTP status, then the body.
 *   handle: the handle text as the state database keeps it.
 * Handles that parse must survive a round trip through their text.  A
 * broken invariant aborts.  See docs/fuzzing.md. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "util.h"
#include "../providers/e2b/e2b_parse.h"


static const size_t max_outputs[4] = { 1, 7, 100, 1u << 20 };
static const size_t max_pieces[8] = { 1, 2, 3, 5, 7, 64, 4096, 1u << 20 };

/* An error message: one line of printable ASCII. */
static void check_message(const nx_error *err)
{
	size_t i;

	CHECK(nx_is_clean_text(err->msg, sizeof err->msg - 1));
	for (i = 0; err->msg[i]; i++)
		CHECK((unsigned char)err->msg[i] < 0x7f);
}

/* ---- the reference reading of a stream ---------------------------------- */

static int ref_b64_value(char c)
{
	static const char std[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p;

	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	p = c ? strchr(std, c) : NULL;
	return p ? (int)(p - std) : -1;
}

/* proto3 JSON bytes: either alphabet, padding optional; groups of four
 * characters make three bytes, and a last group of one is malformed. */
static bool ref_b64(const char *in, size_t len, unsigned char *out,
		    size_t *out_len)
{
	size_t i, k, n = 0;
	int v[4];

	while (len > 0 && in[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return false;
	for (i = 0; i < len; i += 4) {
		size_t group = len - i < 4 ? len - i : 4;

		for (k = 0; k < 4; k++) {
			v[k] = k < group ? ref_b64_value(in[i + k]) : 0;
			if (v[k] < 0)
				return false;
		}
		out[n++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (group > 2)
			out[n++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		if (group > 3)
			out[n++] = (unsigned char)(v[2] << 6 | v[3]);
	}
	*out_len = n;
	return true;
}

static json_object *ref_member(json_object *o, const char *key, json_type t)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

struct ref_stream {
	unsigned char *out[3];
	size_t len[3];
	bool failed, over, trailer, ended;
};

/* The data event's output, up to the cap; false when the stream stops. */
static bool ref_data(struct ref_stream *m, json_object *data, size_t cap)
{
	static const char *const names[] = { NULL, "stdout", "stderr" };
	json_object *v;
	size_t n;
	int k;

	for (k = 1; k <= 2; k++) {
		v = ref_member(data, names[k], json_type_string);
		if (!v)
			continue;
		if (!ref_b64(json_object_get_string(v),
			     (size_t)json_object_get_string_len(v),
			     m->out[k] + m->len[k], &n)) {
			m->failed = true;
			return false;
		}
		if (n > cap - m->len[k]) {
			m->len[k] = cap;
			m->over = true;
			return false;
		}
		m->len[k] += n;
	}
	return true;
}

/* One whole envelope; false when the stream stops. */
static bool ref_envelope(struct ref_stream *m, unsigned flags,
			 const char *json, size_t len, size_t cap)
{
	json_object *o = json_tokener_parse(json), *ev, *data;
	bool go = true;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    strlen(json) != len) {
		m->failed = true;
		go = false;
	} else if (flags & 2) {
		m->trailer = true;
		if (ref_member(o, "error", json_type_object)) {
			m->failed = true;
			go = false;
		}
	} else if (flags != 0) {
		m->failed = true;
		go = false;
	} else if ((ev = ref_member(o, "event", json_type_object)) &&
		   !ref_member(ev, "start", json_type_object)) {
		if ((data = ref_member(ev, "data", json_type_object)))
			go = ref_data(m, data, cap);
		else if (ref_member(ev, "end", json_type_object))
			m->ended = true;
	}
	json_object_put(o);
	return go;
}

static void ref_run(struct ref_stream *m, const uint8_t *in, size_t len,
		    size_t cap)
{
	size_t i = 0, want;
	char *json;
	bool go = true;

	memset(m, 0, sizeof *m);
	/* Base64 never decodes to more bytes than it has. */
	m->out[1] = malloc(len + 1);
	m->out[2] = malloc(len + 1);
	CHECK(m->out[1] && m->out[2]);
	while (go && len - i >= 5) {
		want = (size_t)in[i + 1] << 24 | (size_t)in[i + 2] << 16 |
		       (size_t)in[i + 3] << 8 | in[i + 4];
		if (want > E2B_MAX_ENVELOPE) {
			m->failed = true;
			return;
		}
		if (len - i - 5 < want)
			return;
		json = malloc(want + 1);
		CHECK(json);
		memcpy(json, in + i + 5, want);
		json[want] = '\0';
		go = ref_envelope(m, in[i], json, want, cap);
		free(json);
		i += 5 + want;
	}
}

/* ---- the stream -------------------------------------------------------- */

struct sink {
	buf out[3];
};

static void on_output(void *userdata, nx_stream stream_no, const char *data,
		      size_t len)
{
	struct sink *k = userdata;

	CHECK(stream_no == NX_STREAM_STDOUT || stream_no == NX_STREAM_STDERR);
	CHECK(len > 0);
	e2b_buf_add(&k->out[stream_no], data, len);
}

static uint32_t next_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void stream_init(stream *s, const nx_provider_run *req)
{
	memset(s, 0, sizeof *s);
	s->max_output = req->max_output;
	s->req = req;
	s->out[1].max = s->out[2].max = (size_t)-1;
}

/* What the parser kept and delivered must agree, and stay under the cap;
 * a stopped parser takes no more. */
static void check_stream(stream *s, const struct sink *k, bool going)
{
	int i;

	CHECK(going == (!s->failed && !s->over));
	if (s->failed) {
		CHECK(s->err.kind == NX_E_PROTOCOL ||
		      s->err.kind == NX_E_PROVIDER);
		check_message(&s->err);
	}
	for (i = 1; i <= 2; i++) {
		CHECK(s->out[i].len <= s->max_output);
		CHECK(s->out[i].len == k->out[i].len);
		CHECK(!s->out[i].len || memcmp(s->out[i].data, k->out[i].data,
					       s->out[i].len) == 0);
	}
	if (!going)
		CHECK(!e2b_stream_feed(s, "\0\0\0\0\2{}", 7));
}

static void same_stream(const stream *a, const stream *b)
{
	int i;

	CHECK(a->failed == b->failed && a->over == b->over);
	CHECK(a->ended == b->ended && a->trailer == b->trailer);
	CHECK(a->have_exit == b->have_exit && a->pid == b->pid);
	CHECK(!a->have_exit || a->exit_code == b->exit_code);
	CHECK(!a->failed || (a->err.kind == b->err.kind &&
			     strcmp(a->err.msg, b->err.msg) == 0));
	for (i = 1; i <= 2; i++)
		CHECK(a->out[i].len == b->out[i].len &&
		      (!a->out[i].len || memcmp(a->out[i].data, b->out[i].data,
						a->out[i].len) == 0));
}

/* take_output: a stream past the cap ends with the whole note. */
static void check_take(stream *s)
{
	static const char note_start[] = "\n[nexus: output passed ";
	static const char note_end[] = " bytes; the run was stopped]\n";
	size_t kept = s->over ? s->out[s->over].len : 0;
	int over = s->over;
	nx_run_result res;
	const char *data;
	size_t len;

	e2b_take_output(s, &res);
	CHECK(res.stdout_data && res.stderr_data);
	CHECK(res.stdout_truncated == (over == 1));
	CHECK(res.stderr_truncated == (over == 2));
	if (over) {
		data = over == 1 ? res.stdout_data : res.stderr_data;
		len = over == 1 ? res.stdout_len : res.stderr_len;
		CHECK(len > kept + sizeof note_start + sizeof note_end - 2);
		CHECK(memcmp(data + kept, note_start,
			     sizeof note_start - 1) == 0);
		CHECK(memcmp(data + len - (sizeof note_end - 1), note_end,
			     sizeof note_end - 1) == 0);
	}
	free(res.stdout_data);
	free(res.stderr_data);
}

static void fuzz_stream(const uint8_t *data, size_t size)
{
	uint8_t cfg = size > 0 ? data[0] : 0, seed = size > 1 ? data[1] : 0;
	const uint8_t *in = data + (size > 2 ? 2 : size);
	size_t len = size > 2 ? size - 2 : 0, fed = 0;
	size_t max_piece = max_pieces[(cfg >> 2) & 7];
	struct sink whole_sink = { 0 }, piece_sink = { 0 };
	nx_provider_run whole_req = { .max_output = max_outputs[cfg & 3],
				      .on_output = on_output,
				      .userdata = &whole_sink };
	nx_provider_run piece_req = whole_req;
	uint32_t x = 0x9e3779b9u ^ ((uint32_t)seed << 8 | cfg);
	struct ref_stream m;
	stream whole, pieces;
	bool going = true;
	int i;

	piece_req.userdata = &piece_sink;
	for (i = 1; i <= 2; i++)
		whole_sink.out[i].max = piece_sink.out[i].max = (size_t)-1;
	stream_init(&whole, &whole_req);
	stream_init(&pieces, &piece_req);

	check_stream(&whole, &whole_sink,
		     e2b_stream_feed(&whole, (const char *)in, len));
	while (fed < len && going) {
		size_t n = next_rand(&x) % (max_piece + 1);

		if (n > len - fed)
			n = len - fed;
		going = e2b_stream_feed(&pieces, (const char *)in + fed, n);
		check_stream(&pieces, &piece_sink, going);
		fed += n;
	}
	same_stream(&whole, &pieces);

	ref_run(&m, in, len, whole_req.max_output);
	CHECK(whole.failed == m.failed && (whole.over != 0) == m.over);
	CHECK(whole.trailer == m.trailer && whole.ended == m.ended);
	for (i = 1; i <= 2; i++)
		CHECK(whole.out[i].len == m.len[i] &&
		      (!m.len[i] || memcmp(whole.out[i].data, m.out[i],
					   m.len[i]) == 0));

	check_take(&whole);
	free(whole.msg);
	free(pieces.msg);
	for (i = 1; i <= 2; i++) {
		free(pieces.out[i].data);
		free(whole_sink.out[i].data);
		free(piece_sink.out[i].data);
		free(m.out[i]);
	}
}

/* ---- the control plane and the handle ----------------------------------- */

static void same_handle(const handle *a, const handle *b)
{
	CHECK(strcmp(a->id, b->id) == 0 && strcmp(a->token, b->token) == 0 &&
	      strcmp(a->domain, b->domain) == 0 &&
	      a->ttl_minutes == b->ttl_minutes);
}

/* A handle that parsed: its fields as the plugin puts them into URLs and
 * headers, and the same again after a trip through its text. */
static void check_handle(const handle *h)
{
	char *text;
	handle again;
	nx_error err;

	CHECK(e2b_word_chars(h->id, sizeof h->id - 1, "-"));
	CHECK(!h->token[0] ||
	      e2b_word_chars(h->token, sizeof h->token - 1, "-_.=+/"));
	CHECK(!h->domain[0] ||
	      e2b_word_chars(h->domain, sizeof h->domain - 1, "-.:"));
	CHECK(h->ttl_minutes >= 1);
	text = e2b_handle_text(h);
	CHECK(e2b_parse_handle(text, &again, &err) == 0);
	same_handle(h, &again);
	free(text);
}

static void fuzz_handle(const char *text)
{
	nx_error err = { 0 };
	handle h;
	int rc = e2b_parse_handle(text, &h, &err);

	CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		check_handle(&h);
	} else {
		CHECK(err.kind == NX_E_STORE);
		check_message(&err);
	}
}

static void fuzz_reply(const char *text, size_t len)
{
	const char *nl = memchr(text, '\n', len);
	buf b = { .max = (size_t)-1 };
	json_object *reply = (json_object *)&b, *lenient;
	nx_error err = { 0 };
	handle h = { .ttl_minutes = 1 };
	long status;
	int rc;

	if (!nl)
		return;
	status = strtol(text, NULL, 10);
	e2b_buf_add(&b, nl + 1, len - (size_t)(nl + 1 - text));
	rc = e2b_api_reply(status, &b, "fuzz", &reply, &err);
	CHECK(rc == 0 || rc == -1);
	if (status < 200 || status >= 300) {
		CHECK(rc == -1 && reply == NULL);
		CHECK(err.kind == (status == 404 ? NX_E_NOTFOUND :
					       NX_E_PROVIDER));
		check_message(&err);
	} else if (!b.len) {
		CHECK(rc == 0 && reply == NULL);
	} else {
		lenient = json_tokener_parse(b.data);
		CHECK((rc == 0) ==
		      json_object_is_type(lenient, json_type_object));
		CHECK((rc == 0) == (reply != NULL));
		if (rc < 0)
			check_message(&err);
		json_object_put(lenient);
	}
	if (reply) {
		rc = e2b_handle_from_create(reply, &h, &err);
		if (rc == 0)
			check_handle(&h);
		else
			check_message(&err);
		e2b_probe_state(reply);
	}
	json_object_put(reply);
	free(b.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t name_len = nl ? (size_t)(nl - data) : size;
	size_t len = nl ? size - name_len - 1 : 0;
	char *rest;

	if (!nl)
		return 0;
	/* A NUL-terminated copy of exactly the rest, for the text parsers. */
	rest = malloc(len + 1);
	CHECK(rest);
	memcpy(rest, nl + 1, len);
	rest[len] = '\0';
	if (name_len == 6 && !memcmp(data, "stream", 6))
		fuzz_stream(nl + 1, len);
	else if (name_len == 5 && !memcmp(data, "reply", 5))
		fuzz_reply(rest, len);
	else if (name_len == 6 && !memcmp(data, "handle", 6))
		fuzz_handle(rest);
	free(rest);
	return 0;
}
