/* e2b_parse.c - what the e2b plugin reads from E2B, apart from libcurl
 * (see e2b_parse.h): shared by the plugin and its fuzz harness. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2b_parse.h"

/* ---- small helpers ------------------------------------------------------- */

int e2b_fail(nx_error *err, nx_errkind kind, const char *fmt, ...)
{
	va_list ap;

	memset(err, 0, sizeof *err);
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

char *e2b_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

void *e2b_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

/* Printable ASCII only: what E2B says goes into one-line errors. */
static void clean(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in && in[i] && i + 1 < size; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

bool e2b_word_chars(const char *s, size_t max, const char *extra)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr(extra, s[i])))
			return false;
	return true;
}

void e2b_buf_add(buf *b, const void *data, size_t len)
{
	if (len > b->max - b->len) {
		b->over = true;
		len = b->max - b->len;
	}
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->data = realloc(b->data, b->cap);
		if (!b->data)
			abort();
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static json_object *member(json_object *o, const char *key, json_type type)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

/* ---- base64 (proto3 JSON bytes) --------------------------------------- */

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Standard or URL alphabet, padding optional (proto3 accepts both).
 * Returns the decoded length, or -1. */
static long b64_decode(const char *in, size_t len, unsigned char *out)
{
	unsigned acc = 0;
	size_t i, bits = 0, n = 0;
	int v;

	while (len > 0 && in[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++) {
		v = b64_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (bits >= 6)
		return -1;
	return (long)n;
}

/* ---- the control plane ---------------------------------------------------- */

/* E2B's {"code": N, "message": "..."} as one line. */
static int api_error(long status, const buf *reply, const char *what,
		     nx_error *err)
{
	json_object *o = reply->len ? json_tokener_parse(reply->data) : NULL;
	json_object *m = member(o, "message", json_type_string);
	char msg[300];

	clean(m ? json_object_get_string(m) : "no message", msg, sizeof msg);
	json_object_put(o);
	if (status == 401 || status == 403)
		return e2b_fail(err, NX_E_PROVIDER,
			    "E2B refused the API key (HTTP %ld: %s); check E2B_API_KEY",
			    status, msg);
	if (status == 404)
		return e2b_fail(err, NX_E_NOTFOUND, "E2B has no such sandbox (%s)", msg);
	return e2b_fail(err, NX_E_PROVIDER, "E2B could not %s (HTTP %ld: %s)", what,
		    status, msg);
}

int e2b_api_reply(long status, const buf *b, const char *what,
		  json_object **reply, nx_error *err)
{
	*reply = NULL;
	if (status < 200 || status >= 300)
		return api_error(status, b, what, err);
	if (!b->len)
		return 0;
	*reply = json_tokener_parse(b->data);
	if (!*reply || !json_object_is_type(*reply, json_type_object)) {
		json_object_put(*reply);
		*reply = NULL;
		return e2b_fail(err, NX_E_PROTOCOL,
				"E2B answered %s with something that is not a JSON object",
				what);
	}
	return 0;
}

/* ---- handles ---------------------------------------------------------- */

char *e2b_handle_text(const handle *h)
{
	json_object *o = json_object_new_object();
	char *text;

	json_object_object_add(o, "id", json_object_new_string(h->id));
	json_object_object_add(o, "token", json_object_new_string(h->token));
	json_object_object_add(o, "domain", json_object_new_string(h->domain));
	json_object_object_add(o, "ttl", json_object_new_int(h->ttl_minutes));
	text = e2b_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

static bool copy_field(json_object *o, const char *key, char *out, size_t size,
		       const char *extra, bool required)
{
	json_object *v = NULL;

	out[0] = '\0';
	/* Absent and null are the same to proto3 JSON. */
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return !required;
	if (!json_object_is_type(v, json_type_string))
		return false;
	if (!required && !*json_object_get_string(v))
		return true;
	if (!e2b_word_chars(json_object_get_string(v), size - 1, extra))
		return false;
	snprintf(out, size, "%s", json_object_get_string(v));
	return true;
}

int e2b_parse_handle(const char *text, handle *h, nx_error *err)
{
	json_object *o = json_tokener_parse(text);
	json_object *ttl = member(o, "ttl", json_type_int);
	bool ok = o && ttl && copy_field(o, "id", h->id, sizeof h->id, "-", true) &&
		  copy_field(o, "token", h->token, sizeof h->token, "-_.=+/", false) &&
		  copy_field(o, "domain", h->domain, sizeof h->domain, "-.:", false);

	if (ok)
		h->ttl_minutes = json_object_get_int(ttl);
	json_object_put(o);
	if (!ok || h->ttl_minutes < 1)
		return e2b_fail(err, NX_E_STORE, "the E2B sandbox handle in the state database is malformed");
	return 0;
}

int e2b_handle_from_create(json_object *reply, handle *h, nx_error *err)
{
	if (!copy_field(reply, "sandboxID", h->id, sizeof h->id, "-", true) ||
	    !copy_field(reply, "envdAccessToken", h->token, sizeof h->token,
			"-_.=+/", false) ||
	    !copy_field(reply, "domain", h->domain, sizeof h->domain, "-.:", false))
		return e2b_fail(err, NX_E_PROTOCOL,
				"E2B's create answer has a missing or malformed sandboxID, envdAccessToken or domain");
	return 0;
}

nx_provider_state e2b_probe_state(json_object *reply)
{
	json_object *st = member(reply, "state", json_type_string);

	return st && !strcmp(json_object_get_string(st), "paused") ?
		       NX_PSTATE_PAUSED : NX_PSTATE_ACTIVE;
}

/* ---- runs: process.Process/Start --------------------------------------- */

static int stream_fail(stream *s, nx_errkind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int stream_fail(stream *s, nx_errkind kind, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return -1;
	s->failed = true;
	s->err.kind = kind;
	va_start(ap, fmt);
	vsnprintf(s->err.msg, sizeof s->err.msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* "signal: killed" and friends, as the shell's 128 + N. */
static int signal_status(const char *status)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {
		{ "hangup", 1 }, { "interrupt", 2 }, { "quit", 3 },
		{ "illegal instruction", 4 }, { "aborted", 6 },
		{ "killed", 9 }, { "segmentation fault", 11 },
		{ "broken pipe", 13 }, { "terminated", 15 },
		{ "bad system call", 31 },
	};
	size_t i;

	for (i = 0; status && i < sizeof sigs / sizeof sigs[0]; i++)
		if (strstr(status, sigs[i].name))
			return 128 + sigs[i].sig;
	return 128 + 9;
}

static int on_data(stream *s, json_object *data)
{
	static const char *const names[] = { NULL, "stdout", "stderr" };
	json_object *v;
	unsigned char *bytes;
	size_t len, room;
	long n;
	int k;

	for (k = 1; k <= 2; k++) {
		v = member(data, names[k], json_type_string);
		if (!v)
			continue;
		len = (size_t)json_object_get_string_len(v);
		bytes = e2b_xmalloc(len);
		n = b64_decode(json_object_get_string(v), len, bytes);
		if (n < 0) {
			free(bytes);
			return stream_fail(s, NX_E_PROTOCOL,
					   "E2B sent %s data that is not base64",
					   names[k]);
		}
		room = s->max_output - s->out[k].len;
		if ((size_t)n > room) {
			n = (long)room;
			s->over = k;
		}
		e2b_buf_add(&s->out[k], bytes, (size_t)n);
		if (n && s->req->on_output)
			s->req->on_output(s->req->userdata, (nx_stream)k,
					  (const char *)bytes, (size_t)n);
		free(bytes);
		if (s->over)
			return -1;
	}
	return 0;
}

/* One whole envelope: flags 0x02 ends the stream, 0x00 is an event. */
static int on_envelope(stream *s, unsigned flags, const char *json, size_t len)
{
	json_object *o = json_tokener_parse(json), *ev, *x, *e, *m;
	int r = 0;

	if (!o || !json_object_is_type(o, json_type_object) || strlen(json) != len) {
		json_object_put(o);
		return stream_fail(s, NX_E_PROTOCOL,
				   "E2B sent a stream envelope that is not a JSON object");
	}
	if (flags & 0x02) {
		s->trailer = true;
		e = member(o, "error", json_type_object);
		m = member(e, "message", json_type_string);
		if (e) {
			char msg[300];

			clean(m ? json_object_get_string(m) : "no message", msg,
			      sizeof msg);
			r = stream_fail(s, NX_E_PROVIDER,
					"E2B ended the run with an error: %s", msg);
		}
	} else if (flags != 0) {
		r = stream_fail(s, NX_E_PROTOCOL,
				"E2B sent a stream envelope with flags 0x%02x", flags);
	} else if ((ev = member(o, "event", json_type_object))) {
		if ((x = member(ev, "start", json_type_object))) {
			json_object *pid = member(x, "pid", json_type_int);

			s->pid = pid ? (long)json_object_get_int64(pid) : 0;
		} else if ((x = member(ev, "data", json_type_object))) {
			r = on_data(s, x);
		} else if ((x = member(ev, "end", json_type_object))) {
			/* proto3: zeros are omitted, so no exitCode is 0. */
			json_object *code = member(x, "exitCode", json_type_int);
			json_object *exited = member(x, "exited", json_type_boolean);
			json_object *st = member(x, "status", json_type_string);

			s->ended = true;
			s->have_exit = true;
			s->exit_code = exited && json_object_get_boolean(exited) ?
				(code ? (int)json_object_get_int64(code) : 0) :
				signal_status(st ? json_object_get_string(st) : NULL);
		}
		/* keepalive, and events this plugin does not know: nothing */
	}
	json_object_put(o);
	return r;
}

bool e2b_stream_feed(stream *s, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t take;

	while (len > 0 && !s->failed && !s->over) {
		if (s->head_len < 5) {
			take = 5 - s->head_len < len ? 5 - s->head_len : len;
			memcpy(s->head + s->head_len, p, take);
			s->head_len += take;
			p += take;
			len -= take;
			if (s->head_len < 5)
				break;
			s->msg_want = (size_t)s->head[1] << 24 | (size_t)s->head[2] << 16 |
				      (size_t)s->head[3] << 8 | s->head[4];
			if (s->msg_want > E2B_MAX_ENVELOPE) {
				stream_fail(s, NX_E_PROTOCOL,
					    "E2B sent a stream envelope of %zu bytes (at most %u)",
					    s->msg_want, E2B_MAX_ENVELOPE);
				break;
			}
			s->msg = e2b_xmalloc(s->msg_want + 1);
			s->msg_len = 0;
		}
		take = s->msg_want - s->msg_len < len ? s->msg_want - s->msg_len : len;
		memcpy(s->msg + s->msg_len, p, take);
		s->msg_len += take;
		p += take;
		len -= take;
		if (s->msg_len < s->msg_want)
			break;
		s->msg[s->msg_len] = '\0';
		on_envelope(s, s->head[0], (const char *)s->msg, s->msg_len);
		free(s->msg);
		s->msg = NULL;
		s->head_len = 0;
	}
	return !s->failed && !s->over;
}

void e2b_take_output(stream *s, nx_run_result *out)
{
	char note[128];

	if (s->over) {
		snprintf(note, sizeof note,
			 "\n[nexus: output passed %zu bytes; the run was stopped]\n",
			 s->max_output);
		e2b_buf_add(&s->out[s->over], note, strlen(note));
		if (s->req->on_output)
			s->req->on_output(s->req->userdata, (nx_stream)s->over,
					  note, strlen(note));
	}
	out->stdout_data = s->out[1].data ? s->out[1].data : e2b_xstrdup("");
	out->stdout_len = s->out[1].len;
	out->stderr_data = s->out[2].data ? s->out[2].data : e2b_xstrdup("");
	out->stderr_len = s->out[2].len;
	out->stdout_truncated = s->over == 1;
	out->stderr_truncated = s->over == 2;
	s->out[1].data = s->out[2].data = NULL;
}
