/* server.c - nexus serve: every sandbox operation as JSON over HTTP, on
 * libmicrohttpd (docs/api.md is the contract).
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION): a run holds
 * its request for as long as the code runs, and a thread of its own keeps
 * it from holding anyone else's.  Each request opens its own engine (its
 * own SQLite connection and Docker client), so nothing in libnexus is
 * shared between threads; SQLite's locking and the engine's conditional
 * writes already make concurrent processes safe, and threads are no
 * different.  A reaper thread stops expired sandboxes every second.
 *
 * On SIGTERM or SIGINT the server stops accepting, waits for the requests
 * in flight (runs included) to finish and be recorded, then exits. */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <nettle/base64.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "../buf.h"
#include "server.h"

#define MAX_BODY (64u << 20)
#define MAX_CODE (16u << 20)
#define CONNECTION_TIMEOUT_S 60
#define MAX_CONNECTIONS 256
#define REAP_INTERVAL_MS 1000
#define API_PREFIX "/v1/sandboxes"

typedef struct server {
	struct MHD_Daemon *daemon;
	nx_context local;         /* who keyless requests act as */
	atomic_int in_flight;
	atomic_bool draining;     /* SIGTERM came: no new work */
	atomic_bool stopping;     /* the reaper may go */
	atomic_bool started;      /* the daemon runs: its messages are log */
	char start_problem[256];  /* libmicrohttpd's last word before that */
	pthread_t reaper;
} server;

/* One request: its body as it arrives. */
typedef struct request {
	nx_buf body;
	bool too_large;
	int64_t start_us;
} request;

/* What a handler answers: an HTTP status and a JSON text (malloc'd). */
typedef struct reply {
	unsigned status;
	char *json;
} reply;

/* ---- errors ---------------------------------------------------------- */

static const struct {
	const char *kind;
	unsigned status;
} error_kinds[] = {
	[NX_OK] = { "system", 500 },
	[NX_E_USAGE] = { "usage", 400 },
	[NX_E_NOTFOUND] = { "not_found", 404 },
	[NX_E_AMBIGUOUS] = { "ambiguous", 409 },
	[NX_E_STATE] = { "state", 409 },
	[NX_E_UNSUPPORTED] = { "unsupported", 501 },
	[NX_E_TIMEOUT] = { "timeout", 504 },
	[NX_E_UNREACHABLE] = { "unreachable", 503 },
	[NX_E_PROVIDER] = { "provider", 502 },
	[NX_E_IMAGE] = { "image", 424 },
	[NX_E_STORE] = { "store", 500 },
	[NX_E_PROTOCOL] = { "protocol", 502 },
	[NX_E_SYSTEM] = { "system", 500 },
	[NX_E_AUTH] = { "auth", 401 },
	[NX_E_FORBIDDEN] = { "forbidden", 403 },
};

static char *text_of(json_object *o)
{
	return nx_xstrdup(json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static json_object *error_object(const char *kind, const char *message)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "kind", json_object_new_string(kind));
	json_object_object_add(e, "message", json_object_new_string(message));
	return e;
}

static reply error_reply(unsigned status, const char *kind,
			 const char *message)
{
	cleanup_json json_object *o = json_object_new_object();

	json_object_object_add(o, "error", error_object(kind, message));
	return (reply){ status, text_of(o) };
}

static unsigned kind_index(const nx_error *err)
{
	unsigned k = (unsigned)err->kind;

	return k < NX_ARRAY_LEN(error_kinds) ? k : NX_E_SYSTEM;
}

static reply engine_error(const nx_error *err)
{
	unsigned k = kind_index(err);

	return error_reply(error_kinds[k].status, error_kinds[k].kind,
			   err->msg);
}

/* ---- request bodies --------------------------------------------------- */

/* Why the tokener stopped, for the error message. */
static const char *parse_problem(struct json_tokener *tok)
{
	enum json_tokener_error e = json_tokener_get_error(tok);

	if (e == json_tokener_success)
		return "more data after it";
	if (e == json_tokener_continue)
		return "it ends early";
	return json_tokener_error_desc(e);
}

/* The body as a JSON object whose members are all among allowed; an empty
 * body is an empty object.  Strict: what json-c would otherwise accept
 * (comments, single quotes, trailing commas) is not JSON to any other
 * client.  String bytes are not checked for UTF-8 here: code is passed on
 * byte for byte, and the engine checks names and ids. */
static int parse_body(const request *rq, const char *const *allowed,
		      json_object **out, nx_error *err)
{
	struct json_object_iterator it, end;
	struct json_tokener *tok;
	const char *key;
	json_object *o;
	size_t i, parsed;

	*out = NULL;
	if (rq->body.len == 0) {
		*out = json_object_new_object();
		return 0;
	}
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, rq->body.data, (int)rq->body.len);
	parsed = json_tokener_get_parse_end(tok);
	/* A number or literal that ends the body (5, null) is complete only
	 * once json-c is told the input ended: a NUL says so. */
	if (!o && parsed == rq->body.len &&
	    json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    parsed != rq->body.len) {
		nx_fail(err, NX_E_USAGE,
			"the request body is not one JSON value: %s (at byte %zu)",
			parse_problem(tok), parsed);
		json_tokener_free(tok);
		json_object_put(o);
		return -1;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return nx_fail(err, NX_E_USAGE, "the request body must be a JSON object");
	}
	for (it = json_object_iter_begin(o), end = json_object_iter_end(o);
	     !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		key = json_object_iter_peek_name(&it);
		for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
			;
		if (!allowed[i]) {
			nx_fail(err, NX_E_USAGE, "unknown field '%.64s' in the request body",
				key);
			json_object_put(o);
			return -1;
		}
	}
	*out = o;
	return 0;
}

/* A string member (absent or null: *out NULL), with its length. */
static int string_field(json_object *o, const char *key, const char **out,
			size_t *len, nx_error *err)
{
	json_object *v = NULL;

	*out = NULL;
	if (len)
		*len = 0;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return nx_fail(err, NX_E_USAGE, "'%s' must be a string", key);
	*out = json_object_get_string(v);
	if (len)
		*len = (size_t)json_object_get_string_len(v);
	else if (strlen(*out) != (size_t)json_object_get_string_len(v))
		return nx_fail(err, NX_E_USAGE, "'%s' must not hold a NUL byte", key);
	return 0;
}

/* An integer member in [min, max] (absent or null: *out untouched). */
static int int_field(json_object *o, const char *key, long min, long max,
		     long *out, nx_error *err)
{
	json_object *v = NULL;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < min || n > max)
		return nx_fail(err, NX_E_USAGE,
			       "'%s' must be a whole number from %ld to %ld", key,
			       min, max);
	*out = (long)n;
	return 0;
}

/* ---- the operations ---------------------------------------------------- */

typedef struct call {
	struct MHD_Connection *conn;
	nx_engine *engine;
	const nx_context *ctx;
	const request *rq;
} call;

static const char *query(const call *c, const char *name)
{
	return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

static bool query_flag(const call *c, const char *name)
{
	const char *v = query(c, name);

	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static reply record_reply(unsigned status, const nx_sandbox *sb,
			  nx_shape shape)
{
	return (reply){ status, nx_json_sandbox(sb, shape, nx_now_us(), false) };
}

static reply do_create(const call *c)
{
	static const char *const allowed[] = { "name", "ttl_minutes",
					       "template_id", "agent_id",
					       "provider", NULL };
	cleanup_json json_object *body = NULL;
	nx_create_opts opts = { 0 };
	nx_sandbox sb = { 0 };
	nx_error err = { 0 };
	long ttl = 0;
	reply r;

	if (parse_body(c->rq, allowed, &body, &err) < 0 ||
	    string_field(body, "name", &opts.name, NULL, &err) < 0 ||
	    int_field(body, "ttl_minutes", 1, NX_MAX_TTL_MINUTES, &ttl,
		      &err) < 0 ||
	    string_field(body, "template_id", &opts.template_id, NULL, &err) < 0 ||
	    string_field(body, "agent_id", &opts.agent_id, NULL, &err) < 0 ||
	    string_field(body, "provider", &opts.provider, NULL, &err) < 0)
		return engine_error(&err);
	opts.ttl_minutes = (int)ttl;
	if (!opts.agent_id)
		opts.agent_id = c->ctx->agent_id;
	if (nx_sandbox_create(c->engine, c->ctx, &opts, &sb, &err) < 0)
		return engine_error(&err);
	r = record_reply(201, &sb, NX_SHAPE_FULL);
	nx_sandbox_clear(&sb);
	return r;
}

static reply do_list(const call *c)
{
	nx_list_filter f = {
		.user_id = query(c, "user_id"),
		.agent_id = query(c, "agent_id"),
		.tenant_id = query(c, "tenant_id"),
		.verify = query_flag(c, "verify"),
	};
	nx_sandbox_array list = { 0 };
	nx_error err = { 0 };
	reply r;

	if (nx_sandbox_list(c->engine, c->ctx, &f, &list, &err) < 0)
		return engine_error(&err);
	r = (reply){ 200, nx_json_sandbox_list(&list, nx_now_us(), false) };
	nx_sandbox_array_clear(&list);
	return r;
}

static reply do_status(const call *c, const char *ref)
{
	nx_sandbox sb = { 0 };
	nx_error err = { 0 };
	reply r;

	if (nx_sandbox_status(c->engine, c->ctx, ref, query_flag(c, "verify"),
			      &sb, &err) < 0)
		return engine_error(&err);
	r = record_reply(200, &sb, NX_SHAPE_FULL);
	nx_sandbox_clear(&sb);
	return r;
}

typedef int (*action_fn)(nx_engine *e, const nx_context *ctx,
			 const char *sandbox, nx_sandbox *out, nx_error *err);

static reply do_action(const call *c, const char *ref, action_fn fn,
		       nx_shape shape)
{
	nx_sandbox sb = { 0 };
	nx_error err = { 0 };
	reply r;

	if (c->rq->body.len > 0)
		return error_reply(400, "usage", "this request takes no body");
	if (fn(c->engine, c->ctx, ref, &sb, &err) < 0)
		return engine_error(&err);
	r = record_reply(200, &sb, shape);
	nx_sandbox_clear(&sb);
	return r;
}

static json_object *base64_string(const char *data, size_t len)
{
	cleanup_free char *out = nx_xmalloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);

	base64_encode_raw((char *)out, len, (const uint8_t *)data);
	return json_object_new_string_len(out, (int)BASE64_ENCODE_RAW_LENGTH(len));
}

/* The run result as run --json prints it, plus the exact bytes. */
static json_object *result_object(const nx_run_result *res)
{
	cleanup_free char *text = nx_json_run_result(res, false);
	json_object *o = json_tokener_parse(text);

	json_object_object_add(o, "stdout_base64",
			       base64_string(res->stdout_data, res->stdout_len));
	json_object_object_add(o, "stderr_base64",
			       base64_string(res->stderr_data, res->stderr_len));
	return o;
}

static reply do_run(const call *c, const char *ref)
{
	static const char *const allowed[] = { "language", "code", "timeout",
					       "max_output", NULL };
	cleanup_json json_object *body = NULL;
	cleanup_json json_object *o = NULL;
	nx_run_opts opts = { .language = "python" };
	nx_run_result res = { 0 };
	nx_error err = { 0 };
	long timeout = 0, max_output = 0;
	const char *language = NULL;
	int rc;

	if (parse_body(c->rq, allowed, &body, &err) < 0 ||
	    string_field(body, "language", &language, NULL, &err) < 0 ||
	    string_field(body, "code", &opts.code, &opts.code_len, &err) < 0 ||
	    int_field(body, "timeout", 1, NX_MAX_TIMEOUT_SECONDS, &timeout,
		      &err) < 0 ||
	    int_field(body, "max_output", 1, NX_MAX_MAX_OUTPUT, &max_output,
		      &err) < 0)
		return engine_error(&err);
	if (!opts.code)
		return error_reply(400, "usage", "'code' is required");
	if (opts.code_len > MAX_CODE)
		return error_reply(413, "too_large", "code over 16 MiB");
	if (language)
		opts.language = language;
	opts.timeout_seconds = (int)timeout;
	opts.max_output = (size_t)max_output;
	rc = nx_sandbox_run(c->engine, c->ctx, ref, &opts, &res, &err);
	if (rc == 0) {
		o = result_object(&res);
		nx_run_result_clear(&res);
		return (reply){ 200, text_of(o) };
	}
	/* A timeout keeps what the code printed before it was killed. */
	o = json_object_new_object();
	json_object_object_add(o, "error", error_object(
		error_kinds[kind_index(&err)].kind, err.msg));
	if (err.kind == NX_E_TIMEOUT)
		json_object_object_add(o, "result", result_object(&res));
	nx_run_result_clear(&res);
	return (reply){ error_kinds[kind_index(&err)].status, text_of(o) };
}

/* ---- routing ----------------------------------------------------------- */

static const struct {
	const char *name;
	action_fn fn;
	nx_shape shape;
} actions[] = {
	{ "pause", nx_sandbox_pause, NX_SHAPE_PAUSE },
	{ "resume", nx_sandbox_resume, NX_SHAPE_PAUSE },
	{ "stop", nx_sandbox_stop, NX_SHAPE_STOP },
};

static reply not_found(void)
{
	return error_reply(404, "not_found", "no such path (see docs/api.md)");
}

static reply bad_method(const char *method, const char *url)
{
	char msg[256];

	snprintf(msg, sizeof msg, "%.16s is not allowed on %.200s", method, url);
	return error_reply(405, "usage", msg);
}

/* /v1/sandboxes/REF[/ACTION]: REF may itself hold '/', so an action is
 * only the last part when it is one of the actions' names. */
static reply route_sandbox(const call *c, const char *method, const char *url,
			   const char *rest)
{
	cleanup_free char *ref = nx_xstrdup(rest);
	char *slash = strrchr(ref, '/');
	const char *act = slash ? slash + 1 : NULL;
	size_t i;

	if (act && strcmp(method, "POST") == 0) {
		*slash = '\0';
		if (strcmp(act, "run") == 0)
			return do_run(c, ref);
		for (i = 0; i < NX_ARRAY_LEN(actions); i++)
			if (strcmp(act, actions[i].name) == 0)
				return do_action(c, ref, actions[i].fn,
						 actions[i].shape);
		*slash = '/';
	}
	if (!*ref)
		return not_found();
	if (strcmp(method, "GET") == 0)
		return do_status(c, ref);
	if (strcmp(method, "DELETE") == 0)
		return do_action(c, ref, nx_sandbox_stop, NX_SHAPE_STOP);
	return bad_method(method, url);
}

static reply route(const call *c, const char *method, const char *url)
{
	if (strcmp(url, API_PREFIX) == 0) {
		if (strcmp(method, "POST") == 0)
			return do_create(c);
		if (strcmp(method, "GET") == 0)
			return do_list(c);
		return bad_method(method, url);
	}
	if (strncmp(url, API_PREFIX "/", sizeof API_PREFIX) == 0)
		return route_sandbox(c, method, url, url + sizeof API_PREFIX);
	return not_found();
}

/* ---- authentication ------------------------------------------------------ */

static const char *presented_key(struct MHD_Connection *conn)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);

	if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
		return auth + 7;
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-API-Key");
}

/* Who is asking: the key's holder, or with no key in the store at all,
 * the server's own user.  *key must be cleared by the caller. */
static int authenticate(const server *srv, struct MHD_Connection *conn,
			nx_engine *e, nx_key_info *key, nx_context *ctx,
			nx_error *err)
{
	const char *presented = presented_key(conn);
	int count;

	memset(key, 0, sizeof *key);
	if (presented) {
		if (nx_key_authenticate(e, presented, key, err) < 0)
			return -1;
		*ctx = (nx_context){ key->user_id, key->agent_id,
				     key->tenant_id, key->admin };
		return 0;
	}
	if (nx_key_count(e, &count, err) < 0)
		return -1;
	if (count > 0)
		return nx_fail(err, NX_E_AUTH,
			       "an API key is required (Authorization: Bearer KEY)");
	*ctx = srv->local;
	return 0;
}

static reply handle(server *srv, struct MHD_Connection *conn,
		    const char *method, const char *url, const request *rq)
{
	nx_engine_opts eo = { 0 };
	nx_engine *engine = NULL;
	nx_key_info key;
	nx_context ctx;
	nx_error err = { 0 };
	call c;
	reply r;

	if (strcmp(url, "/v1/health") == 0) {
		if (strcmp(method, "GET") != 0)
			return bad_method(method, url);
		return (reply){ 200, nx_xasprintf(
			"{\"status\":\"ok\",\"version\":\"%s\"}", PACKAGE_VERSION) };
	}
	if (atomic_load(&srv->draining))
		return error_reply(503, "unreachable",
				   "the nexus server is shutting down");
	if (rq->too_large)
		return error_reply(413, "too_large", "request body over 64 MiB");
	if (nx_engine_open(&engine, &eo, &err) < 0)
		return engine_error(&err);
	if (authenticate(srv, conn, engine, &key, &ctx, &err) < 0) {
		nx_engine_close(engine);
		return engine_error(&err);
	}
	c = (call){ conn, engine, &ctx, rq };
	r = route(&c, method, url);
	nx_key_info_clear(&key);
	nx_engine_close(engine);
	return r;
}

/* ---- libmicrohttpd glue ----------------------------------------------- */

static enum MHD_Result send_reply(struct MHD_Connection *conn, reply r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len = strlen(r.json);

	/* A newline after the JSON, as the CLI prints it. */
	r.json = nx_xrealloc(r.json, len + 2);
	memcpy(r.json + len, "\n", 2);
	resp = MHD_create_response_from_buffer(len + 1, r.json,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(r.json);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	ret = MHD_queue_response(conn, r.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* One line per request: the path is decoded, so a %0A in it must not
 * start a forged line of its own. */
static void log_request(const char *method, const char *url, unsigned status,
			const request *rq)
{
	char safe_method[64], safe_url[1024];

	nx_escape_text(safe_method, sizeof safe_method, method);
	nx_escape_text(safe_url, sizeof safe_url, url);
	fprintf(stderr, "nexus serve: %s %s %u %.1f ms\n", safe_method,
		safe_url, status,
		(double)(nx_monotonic_us() - rq->start_us) / 1000.0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	server *srv = cls;
	request *rq = *con_cls;
	reply r;

	(void)version;
	if (!rq) {
		rq = nx_xcalloc(1, sizeof *rq);
		nx_buf_init(&rq->body, MAX_BODY);
		rq->start_us = nx_monotonic_us();
		atomic_fetch_add(&srv->in_flight, 1);
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		/* Past the limit the rest is read and dropped, so that the
		 * client gets the 413 instead of a reset. */
		if (nx_buf_append(&rq->body, upload_data, *upload_size) < 0)
			rq->too_large = true;
		*upload_size = 0;
		return MHD_YES;
	}
	r = handle(srv, conn, method, url, rq);
	log_request(method, url, r.status, rq);
	return send_reply(conn, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode why)
{
	server *srv = cls;
	request *rq = *con_cls;

	(void)conn;
	(void)why;
	if (!rq)
		return;
	nx_buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
	atomic_fetch_sub(&srv->in_flight, 1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Expired sandboxes are stopped within a second or two, whether or not
 * anyone calls. */
static void *reaper_main(void *arg)
{
	server *srv = arg;
	nx_engine *engine = NULL;
	nx_error err = { 0 };

	while (!atomic_load(&srv->stopping)) {
		if (!engine && nx_engine_open(&engine, NULL, &err) < 0) {
			fprintf(stderr, "nexus serve: reaper: %s\n", err.msg);
		} else if (nx_engine_reap(engine, &err) < 0) {
			fprintf(stderr, "nexus serve: reaper: %s\n", err.msg);
			nx_engine_close(engine);
			engine = NULL;
		}
		sleep_ms(REAP_INTERVAL_MS);
	}
	nx_engine_close(engine);
	return NULL;
}

/* ---- start and stop ----------------------------------------------------- */

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >>
			24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
			&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

static int resolve_host(const nx_server_opts *opts, struct addrinfo **out,
			nx_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	char port[8];
	int rc;

	snprintf(port, sizeof port, "%d", opts->port);
	rc = getaddrinfo(opts->host, port, &hints, out);
	if (rc != 0)
		return nx_fail(err, NX_E_USAGE, "cannot use --host '%.200s': %s",
			       opts->host, gai_strerror(rc));
	return 0;
}

/* No keys and a non-loopback address would hand every sandbox, as admin,
 * to anyone who can reach the port. */
static int check_exposure(const nx_server_opts *opts,
			  const struct sockaddr *sa, nx_error *err)
{
	nx_engine *engine;
	int count;

	if (is_loopback(sa) || opts->insecure)
		return 0;
	if (nx_engine_open(&engine, NULL, err) < 0)
		return -1;
	if (nx_key_count(engine, &count, err) < 0) {
		nx_engine_close(engine);
		return -1;
	}
	nx_engine_close(engine);
	if (count == 0)
		return nx_fail(err, NX_E_USAGE,
			       "refusing to serve on %s with no API keys: anyone who reaches it would act as admin; create a key with 'nexus admin key create --user USER', or pass --insecure",
			       opts->host);
	return 0;
}

/* libmicrohttpd's messages: before the daemon runs, the reason it did
 * not start, kept for the one-line error; after, lines of the log. */
NX_PRINTF(2, 0)
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	server *srv = cls;
	char line[256], safe[256];

	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	nx_escape_text(safe, sizeof safe, line);
	if (!atomic_load(&srv->started))
		snprintf(srv->start_problem, sizeof srv->start_problem, "%s", safe);
	else
		fprintf(stderr, "nexus serve: %s\n", safe);
}

static int start(server *srv, const nx_server_opts *opts, nx_error *err)
{
	struct addrinfo *ai = NULL;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG;

	if (resolve_host(opts, &ai, err) < 0)
		return -1;
	if (check_exposure(opts, ai->ai_addr, err) < 0) {
		freeaddrinfo(ai);
		return -1;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->daemon = MHD_start_daemon(
		flags, (uint16_t)opts->port, NULL, NULL, on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!srv->daemon)
		return nx_fail(err, NX_E_SYSTEM, "cannot listen on %s port %d: %s",
			       opts->host, opts->port,
			       srv->start_problem[0] ? srv->start_problem :
			       "in use, or not an address of this machine?");
	atomic_store(&srv->started, true);
	return 0;
}

int nx_server_run(const nx_server_opts *opts, nx_error *err)
{
	server srv = { 0 };
	MHD_socket listener;
	sigset_t set;
	int sig;

	/* Blocked before any thread starts, so that every thread inherits
	 * the mask and the signals wait for sigwait below. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	srv.local.admin = true;
	nx_context_default(&srv.local);
	if (start(&srv, opts, err) < 0)
		return -1;
	if (pthread_create(&srv.reaper, NULL, reaper_main, &srv) != 0) {
		MHD_stop_daemon(srv.daemon);
		return nx_fail(err, NX_E_SYSTEM, "cannot start the reaper thread");
	}
	fprintf(stderr, "nexus serve: listening on %s port %d\n", opts->host,
		opts->port);
	while (sigwait(&set, &sig) != 0)
		;
	fprintf(stderr, "nexus serve: %s: finishing %d request(s) in flight\n",
		strsignal(sig), atomic_load(&srv.in_flight));
	atomic_store(&srv.draining, true);
	listener = MHD_quiesce_daemon(srv.daemon);
	while (atomic_load(&srv.in_flight) > 0)
		sleep_ms(20);
	MHD_stop_daemon(srv.daemon);
	if (listener != MHD_INVALID_SOCKET)
		close(listener);
	atomic_store(&srv.stopping, true);
	pthread_join(srv.reaper, NULL);
	fprintf(stderr, "nexus serve: stopped\n");
	return 0;
}
