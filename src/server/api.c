/* api.c - the HTTP API of nexus serve, apart from libmicrohttpd (see
 * api.h and docs/api.md): authentication, routing, the request bodies and
 * query arguments, and the replies, errors included, as JSON. */
#include <json-c/json.h>
#include <limits.h>
#include <nettle/base64.h>
#include <string.h>
#include <strings.h>

#include "api.h"

#define MAX_CODE (16u << 20)
#define API_PREFIX "/v1/sandboxes"

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

/* The message goes out as one line of valid UTF-8 whatever it quotes: a
 * path or a name from the request may hold any bytes at all. */
static json_object *error_object(const char *kind, const char *message)
{
	json_object *e = json_object_new_object();
	char line[NX_ERROR_MAX];

	nx_clean_line(message, strlen(message), false, line, sizeof line);
	json_object_object_add(e, "kind", json_object_new_string(kind));
	json_object_object_add(e, "message", json_object_new_string(line));
	return e;
}

nx_api_reply nx_api_error(unsigned status, const char *kind,
			  const char *message)
{
	cleanup_json json_object *o = json_object_new_object();

	json_object_object_add(o, "error", error_object(kind, message));
	return (nx_api_reply){ status, text_of(o) };
}

static unsigned kind_index(const nx_error *err)
{
	unsigned k = (unsigned)err->kind;

	return k < NX_ARRAY_LEN(error_kinds) ? k : NX_E_SYSTEM;
}

static nx_api_reply engine_error(const nx_error *err)
{
	unsigned k = kind_index(err);

	return nx_api_error(error_kinds[k].status, error_kinds[k].kind,
			   err->msg);
}

/* ---- request bodies --------------------------------------------------- */

/* Why the tokener stopped, for the error message. */
static const char *parse_problem(struct json_tokener *tok)
{
	enum json_tokener_error e = json_tokener_get_error(tok);

	/* No json_tokener_continue: parse_body has said where input ends. */
	if (e == json_tokener_success)
		return "more data after it";
	return json_tokener_error_desc(e);
}

/* The body as a JSON object whose members are all among allowed; an empty
 * body is an empty object.  Strict: what json-c would otherwise accept
 * (comments, single quotes, trailing commas) is not JSON to any other
 * client.  String bytes are not checked for UTF-8 here: code is passed on
 * byte for byte, and the engine checks names and ids. */
static int parse_body(const nx_api_request *rq, const char *const *allowed,
		      json_object **out, nx_error *err)
{
	struct json_object_iterator it, end;
	struct json_tokener *tok;
	const char *key;
	json_object *o;
	size_t i, parsed;

	*out = NULL;
	if (rq->body_len == 0) {
		*out = json_object_new_object();
		return 0;
	}
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, rq->body, (int)rq->body_len);
	parsed = json_tokener_get_parse_end(tok);
	/* A number or literal that ends the body (5, null) is complete only
	 * once json-c is told the input ended: a NUL says so. */
	if (!o && parsed == rq->body_len &&
	    json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    parsed != rq->body_len) {
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
	nx_engine *engine;
	const nx_context *ctx;
	const nx_api_request *rq;
} call;

static const char *query(const call *c, const char *name)
{
	return c->rq->query(c->rq->conn, name);
}

static bool query_flag(const call *c, const char *name)
{
	const char *v = query(c, name);

	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static nx_api_reply record_reply(unsigned status, const nx_sandbox *sb,
			  nx_shape shape)
{
	return (nx_api_reply){ status, nx_json_sandbox(sb, shape, nx_now_us(), false) };
}

static nx_api_reply do_create(const call *c)
{
	static const char *const allowed[] = { "name", "ttl_minutes",
					       "template_id", "agent_id",
					       "provider", "isolation", NULL };
	cleanup_json json_object *body = NULL;
	nx_create_opts opts = { 0 };
	nx_sandbox sb = { 0 };
	nx_error err = { 0 };
	long ttl = 0;
	nx_api_reply r;

	if (parse_body(c->rq, allowed, &body, &err) < 0 ||
	    string_field(body, "name", &opts.name, NULL, &err) < 0 ||
	    int_field(body, "ttl_minutes", 1, NX_MAX_TTL_MINUTES, &ttl,
		      &err) < 0 ||
	    string_field(body, "template_id", &opts.template_id, NULL, &err) < 0 ||
	    string_field(body, "agent_id", &opts.agent_id, NULL, &err) < 0 ||
	    string_field(body, "provider", &opts.provider, NULL, &err) < 0 ||
	    string_field(body, "isolation", &opts.isolation, NULL, &err) < 0)
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

static nx_api_reply do_list(const call *c)
{
	nx_list_filter f = {
		.user_id = query(c, "user_id"),
		.agent_id = query(c, "agent_id"),
		.tenant_id = query(c, "tenant_id"),
		.verify = query_flag(c, "verify"),
	};
	nx_sandbox_array list = { 0 };
	nx_error err = { 0 };
	nx_api_reply r;

	if (nx_sandbox_list(c->engine, c->ctx, &f, &list, &err) < 0)
		return engine_error(&err);
	r = (nx_api_reply){ 200, nx_json_sandbox_list(&list, nx_now_us(), false) };
	nx_sandbox_array_clear(&list);
	return r;
}

static nx_api_reply do_status(const call *c, const char *ref)
{
	nx_sandbox sb = { 0 };
	nx_error err = { 0 };
	nx_api_reply r;

	if (nx_sandbox_status(c->engine, c->ctx, ref, query_flag(c, "verify"),
			      &sb, &err) < 0)
		return engine_error(&err);
	r = record_reply(200, &sb, NX_SHAPE_FULL);
	nx_sandbox_clear(&sb);
	return r;
}

typedef int (*action_fn)(nx_engine *e, const nx_context *ctx,
			 const char *sandbox, nx_sandbox *out, nx_error *err);

static nx_api_reply do_action(const call *c, const char *ref, action_fn fn,
		       nx_shape shape)
{
	nx_sandbox sb = { 0 };
	nx_error err = { 0 };
	nx_api_reply r;

	if (c->rq->body_len > 0)
		return nx_api_error(400, "usage", "this request takes no body");
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

static nx_api_reply do_run(const call *c, const char *ref)
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
		return nx_api_error(400, "usage", "'code' is required");
	if (opts.code_len > MAX_CODE)
		return nx_api_error(413, "too_large", "code over 16 MiB");
	if (language)
		opts.language = language;
	opts.timeout_seconds = (int)timeout;
	opts.max_output = (size_t)max_output;
	rc = nx_sandbox_run(c->engine, c->ctx, ref, &opts, &res, &err);
	if (rc == 0) {
		o = result_object(&res);
		nx_run_result_clear(&res);
		return (nx_api_reply){ 200, text_of(o) };
	}
	/* A timeout keeps what the code printed before it was killed. */
	o = json_object_new_object();
	json_object_object_add(o, "error", error_object(
		error_kinds[kind_index(&err)].kind, err.msg));
	if (err.kind == NX_E_TIMEOUT)
		json_object_object_add(o, "result", result_object(&res));
	nx_run_result_clear(&res);
	return (nx_api_reply){ error_kinds[kind_index(&err)].status, text_of(o) };
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

static nx_api_reply not_found(void)
{
	return nx_api_error(404, "not_found", "no such path (see docs/api.md)");
}

static nx_api_reply bad_method(const char *method, const char *url)
{
	char msg[256];

	snprintf(msg, sizeof msg, "%.16s is not allowed on %.200s", method, url);
	return nx_api_error(405, "usage", msg);
}

/* /v1/sandboxes/REF[/ACTION]: REF may itself hold '/', so an action is
 * only the last part when it is one of the actions' names. */
static nx_api_reply route_sandbox(const call *c, const char *method, const char *url,
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

static nx_api_reply route(const call *c, const char *method, const char *url)
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

static const char *presented_key(const nx_api_request *rq)
{
	const char *auth = rq->header(rq->conn, "Authorization");

	if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
		return auth + 7;
	return rq->header(rq->conn, "X-API-Key");
}

/* Who is asking: the key's holder, or with no key in the store at all,
 * the server's own user.  *key must be cleared by the caller. */
static int authenticate(const nx_api_request *rq, const nx_context *local,
			nx_engine *e, nx_key_info *key, nx_context *ctx,
			nx_error *err)
{
	const char *presented = presented_key(rq);
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
	*ctx = *local;
	return 0;
}

nx_api_reply nx_api_handle(const nx_api_request *rq,
			   const nx_engine_opts *eo, const nx_context *local)
{
	nx_engine *engine = NULL;
	nx_key_info key;
	nx_context ctx;
	nx_error err = { 0 };
	call c;
	nx_api_reply r;

	if (strcmp(rq->url, "/v1/health") == 0) {
		if (strcmp(rq->method, "GET") != 0)
			return bad_method(rq->method, rq->url);
		return (nx_api_reply){ 200, nx_xasprintf(
			"{\"status\":\"ok\",\"version\":\"%s\"}", PACKAGE_VERSION) };
	}
	if (rq->too_large)
		return nx_api_error(413, "too_large", "request body over 64 MiB");
	if (nx_engine_open(&engine, eo, &err) < 0)
		return engine_error(&err);
	if (authenticate(rq, local, engine, &key, &ctx, &err) < 0) {
		nx_engine_close(engine);
		return engine_error(&err);
	}
	c = (call){ engine, &ctx, rq };
	r = route(&c, rq->method, rq->url);
	nx_key_info_clear(&key);
	nx_engine_close(engine);
	return r;
}
