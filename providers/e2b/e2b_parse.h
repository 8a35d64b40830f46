/* e2b_parse.h - what the e2b plugin reads from E2B, apart from libcurl:
 * the control plane's JSON replies, the sandbox handle, and envd's
 * Connect stream of envelopes.  The plugin (e2b.c) and the fuzz harness
 * (tests/fuzz/fuzz_e2b.c) link this same code.
 *
 * Everything from E2B is untrusted: replies and envelopes are bounded,
 * JSON fields type-checked, base64 checked, and what E2B says goes into
 * errors as one line of printable ASCII. */
#ifndef NX_E2B_PARSE_H
#define NX_E2B_PARSE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "nexus-provider.h"

/* An envelope of the event stream: data events carry at most a few KiB;
 * anything near this is not envd. */
#define E2B_MAX_ENVELOPE (8u << 20)

/* ---- small helpers ------------------------------------------------------ */

int e2b_fail(nx_error *err, nx_errkind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Out of memory aborts. */
char *e2b_xstrdup(const char *s);
void *e2b_xmalloc(size_t n);
/* 1 to max bytes, each a letter, a digit or one of extra. */
bool e2b_word_chars(const char *s, size_t max, const char *extra);

/* Bytes with a hard maximum: past it, over is set and the rest dropped.
 * data is NUL-terminated once anything was added. */
typedef struct buf {
	char *data;
	size_t len, cap, max;
	bool over;
} buf;

void e2b_buf_add(buf *b, const void *data, size_t len);

/* ---- the control plane ---------------------------------------------------- */

/* The end of a call that answered status with body b: a 2xx with a body
 * gives *reply, the JSON object (NULL for none); anything else fails, with
 * E2B's {"message": "..."} in the error.  what says what was asked. */
int e2b_api_reply(long status, const buf *b, const char *what,
		  json_object **reply, nx_error *err);

/* What the handle keeps: E2B's id, envd's token and domain, the TTL. */
typedef struct handle {
	char id[65];
	char token[257];
	char domain[254];
	int ttl_minutes;
} handle;

/* The sandboxID, envdAccessToken and domain of POST /sandboxes's reply. */
int e2b_handle_from_create(json_object *reply, handle *h, nx_error *err);
/* The handle as the state database keeps it (malloc'd), and back. */
char *e2b_handle_text(const handle *h);
int e2b_parse_handle(const char *text, handle *h, nx_error *err);

/* GET /sandboxes/ID's "state": paused or (anything else) active. */
nx_provider_state e2b_probe_state(json_object *reply);

/* ---- runs: process.Process/Start's stream --------------------------------- */

typedef struct stream {
	unsigned char head[5];
	size_t head_len;
	unsigned char *msg;       /* the envelope being read (malloc'd) */
	size_t msg_len, msg_want;
	bool failed, ended, trailer;
	nx_error err;
	long pid;
	int exit_code;
	bool have_exit;
	buf out[3];          /* with no maximum: max_output is the cap */
	size_t max_output;
	int over;            /* the stream that passed max_output, 1 or 2 */
	const nx_provider_run *req;
} stream;

/* Take len more bytes of the stream, in any split: each whole envelope is
 * decoded, output kept (at most max_output per stream) and given to
 * req->on_output.  False once the stream failed (s->err) or passed the
 * output cap: the transfer should stop. */
bool e2b_stream_feed(stream *s, const char *data, size_t len);
/* Hand the output kept over to out, with a note on a stream that passed
 * the cap. */
void e2b_take_output(stream *s, nx_run_result *out);

#endif
