/* remote.c - the engine's sandbox calls over HTTP to a nexus serve (see
 * remote.h and docs/api.md).  libcurl through curl_api.h, one easy handle
 * per client so that its connection is kept alive. */
#include <json-c/json.h>
#include <nettle/base64.h>
#include <string.h>

#include "buf.h"
#include "curl_api.h"
#include "remote.h"

#define USER_AGENT "nexus/" PACKAGE_VERSION
#define CALL_TIMEOUT_MS 60000L
/* Past a run's own timeout, how long to wait for the server's answer. */
#define RUN_GRACE_MS 60000L
#define MAX_REPLY (16u << 20)
#define MAX_URL 2048

struct nx_remote {
	char *url;              /* without a trailing '/' */
	char *auth;             /* "Authorization: Bearer KEY", or NULL */
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
};

static const struct {
	const char *kind;
	nx_errkind errkind;
} kinds[] = {
	{ "usage", NX_E_USAGE },          { "auth", NX_E_AUTH },
	{ "forbidden", NX_E_FORBIDDEN },  { "not_found", NX_E_NOTFOUND },
	{ "ambiguous", NX_E_AMBIGUOUS },  { "state", NX_E_STATE },
	{ "too_large", NX_E_USAGE },      { "image", NX_E_IMAGE },
	{ "store", NX_E_STORE },          { "system", NX_E_SYSTEM },
	{ "unsupported", NX_E_UNSUPPORTED }, { "provider", NX_E_PROVIDER },
	{ "protocol", NX_E_PROTOCOL },    { "unreachable", NX_E_UNREACHABLE },
	{ "timeout", NX_E_TIMEOUT },
};

int nx_remote_open(const char *url, const char *api_key, nx_remote **out,
		   nx_error *err)
{
	nx_remote *r;
	size_t len = strlen(url);

	if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
	    len > MAX_URL || !nx_is_clean_text(url, MAX_URL))
		return nx_fail(err, NX_E_USAGE,
			       "NEXUS_URL '%.200s' is not an http:// or https:// URL",
			       url);
	if (api_key && (!*api_key || strpbrk(api_key, "\r\n") ||
			!nx_is_clean_text(api_key, 256)))
		return nx_fail(err, NX_E_USAGE, "NEXUS_API_KEY is not a valid key");
	if (nx_curl_load(err) < 0)
		return -1;
	r = nx_xcalloc(1, sizeof *r);
	r->url = nx_xstrdup(url);
	while (len > 0 && r->url[len - 1] == '/')
		r->url[--len] = '\0';
	if (api_key)
		r->auth = nx_xasprintf("Authorization: Bearer %s", api_key);
	r->curl = nx_curl.easy_init();
	if (!r->curl) {
		nx_remote_close(r);
		return nx_fail(err, NX_E_SYSTEM, "cannot initialise libcurl");
	}
	*out = r;
	return 0;
}

void nx_remote_close(nx_remote *r)
{
	if (!r)
		return;
	if (r->curl)
		nx_curl.easy_cleanup(r->curl);
	free(r->url);
	free(r->auth);
	free(r);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	nx_buf *b = userdata;

	/* Short: libcurl then fails the transfer with a write error. */
	if (nx_buf_append(b, data, size * nmemb) < 0)
		return 0;
	return size * nmemb;
}

static void slist_freep(struct curl_slist **l)
{
	if (*l)
		nx_curl.slist_free_all(*l);
}

/* The server's {"error": {"kind", "message"}} as an nx_error. */
static int server_error(const nx_remote *r, long status, json_object *reply,
			nx_error *err)
{
	json_object *e = NULL, *kind = NULL, *msg = NULL;
	const char *k, *m;
	size_t i;

	if (!reply || !json_object_object_get_ex(reply, "error", &e) ||
	    !json_object_object_get_ex(e, "kind", &kind) ||
	    !json_object_object_get_ex(e, "message", &msg) ||
	    !json_object_is_type(kind, json_type_string) ||
	    !json_object_is_type(msg, json_type_string) ||
	    !nx_is_clean_text(json_object_get_string(msg), NX_ERROR_MAX - 200))
		return nx_fail(err, NX_E_PROTOCOL,
			       "the nexus server at %s answered HTTP %ld without a readable error",
			       r->url, status);
	k = json_object_get_string(kind);
	m = json_object_get_string(msg);
	for (i = 0; i < NX_ARRAY_LEN(kinds); i++)
		if (strcmp(k, kinds[i].kind) == 0)
			break;
	if (i == NX_ARRAY_LEN(kinds))
		return nx_fail(err, NX_E_PROVIDER, "%s", m);
	if (kinds[i].errkind == NX_E_AUTH)
		return nx_fail(err, NX_E_AUTH,
			       "the nexus server at %s refused the request: %s (check NEXUS_API_KEY)",
			       r->url, m);
	return nx_fail(err, kinds[i].errkind, "%s", m);
}

/* One request.  Returns 0 with the reply object of a 2xx answer, or -1
 * with err; *error_reply keeps the reply of an error answer when asked
 * (a run's timeout carries output). */
static int call(nx_remote *r, const char *method, const char *path,
		json_object *body, long timeout_ms, size_t max_reply,
		json_object **reply, json_object **error_reply, nx_error *err)
{
	cleanup_free char *url = nx_xasprintf("%s%s", r->url, path);
	__attribute__((cleanup(slist_freep))) struct curl_slist *headers = NULL;
	nx_buf buf;
	json_object *o = NULL;
	const char *text;
	size_t text_len;
	long status = 0;
	CURLcode rc;

	*reply = NULL;
	if (error_reply)
		*error_reply = NULL;
	nx_buf_init(&buf, max_reply);
	headers = nx_curl.slist_append(NULL, "Content-Type: application/json");
	if (headers && r->auth)
		headers = nx_curl.slist_append(headers, r->auth);
	if (!headers) {
		nx_buf_free(&buf);
		return nx_fail(err, NX_E_SYSTEM, "out of memory");
	}
	nx_curl.easy_reset(r->curl);
	r->errbuf[0] = '\0';
	nx_curl.easy_setopt(r->curl, CURLOPT_URL, url);
	nx_curl.easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
	nx_curl.easy_setopt(r->curl, CURLOPT_ERRORBUFFER, r->errbuf);
	nx_curl.easy_setopt(r->curl, CURLOPT_USERAGENT, USER_AGENT);
	nx_curl.easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	nx_curl.easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	nx_curl.easy_setopt(r->curl, CURLOPT_HTTPHEADER, headers);
	nx_curl.easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_body);
	nx_curl.easy_setopt(r->curl, CURLOPT_WRITEDATA, &buf);
	nx_curl.easy_setopt(r->curl, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		/* Not COPYPOSTFIELDS: libcurl refuses to copy a string over 8 MB
		 * (CURL_MAX_INPUT_LENGTH) and then uploads standard input
		 * instead.  The text lives as long as body, past the call. */
		text = json_object_to_json_string_length(
			body, JSON_C_TO_STRING_PLAIN, &text_len);
		nx_curl.easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				    (curl_off_t)text_len);
		nx_curl.easy_setopt(r->curl, CURLOPT_POSTFIELDS, text);
	} else if (strcmp(method, "POST") == 0)
		nx_curl.easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE, 0L);
	rc = nx_curl.easy_perform(r->curl);
	nx_curl.easy_setopt(r->curl, CURLOPT_HTTPHEADER, NULL);
	if (rc != CURLE_OK) {
		nx_buf_free(&buf);
		if (rc == CURLE_WRITE_ERROR)
			return nx_fail(err, NX_E_PROTOCOL,
				       "the nexus server at %s sent a reply over %zu bytes",
				       r->url, max_reply);
		return nx_fail(err, rc == CURLE_OPERATION_TIMEDOUT ?
				       NX_E_TIMEOUT : NX_E_UNREACHABLE,
			       "cannot reach the nexus server at %s: %s", r->url,
			       r->errbuf[0] ? r->errbuf :
					      nx_curl.easy_strerror(rc));
	}
	nx_curl.easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
	if (buf.len)
		o = json_tokener_parse(buf.data);
	nx_buf_free(&buf);
	if (status >= 200 && status < 300) {
		if (!o)
			return nx_fail(err, NX_E_PROTOCOL,
				       "the nexus server at %s sent a reply that is not JSON",
				       r->url);
		*reply = o;
		return 0;
	}
	server_error(r, status, o, err);
	if (error_reply)
		*error_reply = o;
	else
		json_object_put(o);
	return -1;
}

static char *sandbox_path(const char *sandbox, const char *action)
{
	cleanup_free char *ref = nx_url_encode(sandbox, NULL);

	return nx_xasprintf("/v1/sandboxes/%s%s%s", ref, action ? "/" : "",
			    action ? action : "");
}

static void add_string(json_object *o, const char *key, const char *value)
{
	if (value)
		json_object_object_add(o, key, json_object_new_string(value));
}

static int record_call(nx_remote *r, const char *method, const char *path,
		       json_object *body, nx_sandbox *out, nx_error *err)
{
	cleanup_json json_object *reply = NULL;

	if (call(r, method, path, body, CALL_TIMEOUT_MS, MAX_REPLY, &reply,
		 NULL, err) < 0)
		return -1;
	return nx_sandbox_from_json(reply, out, err);
}

int nx_remote_create(nx_remote *r, const nx_create_opts *opts,
		     nx_sandbox *out, nx_error *err)
{
	cleanup_json json_object *body = json_object_new_object();

	add_string(body, "name", opts->name);
	if (opts->ttl_minutes)
		json_object_object_add(body, "ttl_minutes",
				       json_object_new_int(opts->ttl_minutes));
	add_string(body, "template_id", opts->template_id);
	add_string(body, "agent_id", opts->agent_id);
	add_string(body, "provider", opts->provider);
	add_string(body, "isolation", opts->isolation);
	return record_call(r, "POST", "/v1/sandboxes", body, out, err);
}

int nx_remote_status(nx_remote *r, const char *sandbox, bool verify,
		     nx_sandbox *out, nx_error *err)
{
	cleanup_free char *base = sandbox_path(sandbox, NULL);
	cleanup_free char *path = nx_xasprintf("%s%s", base,
					       verify ? "?verify=true" : "");

	return record_call(r, "GET", path, NULL, out, err);
}

int nx_remote_action(nx_remote *r, const char *sandbox, const char *action,
		     nx_sandbox *out, nx_error *err)
{
	cleanup_free char *path = sandbox_path(sandbox, action);

	return record_call(r, "POST", path, NULL, out, err);
}

static void add_query(nx_buf *q, const char *key, const char *value)
{
	cleanup_free char *enc = NULL;

	if (!value)
		return;
	enc = nx_url_encode(value, NULL);
	nx_buf_append(q, q->len ? "&" : "?", 1);
	nx_buf_append(q, key, strlen(key));
	nx_buf_append(q, "=", 1);
	nx_buf_append(q, enc, strlen(enc));
}

int nx_remote_list(nx_remote *r, const nx_list_filter *filter,
		   nx_sandbox_array *out, nx_error *err)
{
	cleanup_json json_object *reply = NULL;
	cleanup_free char *path = NULL;
	json_object *arr = NULL;
	nx_buf q;
	size_t i, n;

	out->items = NULL;
	out->count = 0;
	nx_buf_init(&q, MAX_URL);
	add_query(&q, "user_id", filter->user_id);
	add_query(&q, "agent_id", filter->agent_id);
	add_query(&q, "tenant_id", filter->tenant_id);
	if (filter->verify)
		add_query(&q, "verify", "true");
	if (q.truncated) {
		nx_buf_free(&q);
		return nx_fail(err, NX_E_USAGE, "list filters too long");
	}
	path = nx_xasprintf("/v1/sandboxes%s", q.data ? q.data : "");
	nx_buf_free(&q);
	if (call(r, "GET", path, NULL, CALL_TIMEOUT_MS, MAX_REPLY, &reply,
		 NULL, err) < 0)
		return -1;
	if (!json_object_object_get_ex(reply, "sandboxes", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return nx_fail(err, NX_E_PROTOCOL,
			       "the nexus server at %s sent a list without 'sandboxes'",
			       r->url);
	n = json_object_array_length(arr);
	out->items = nx_xcalloc(n ? n : 1, sizeof *out->items);
	for (i = 0; i < n; i++) {
		if (nx_sandbox_from_json(json_object_array_get_idx(arr, i),
					 &out->items[i], err) < 0) {
			nx_sandbox_array_clear(out);
			return -1;
		}
		out->count++;
	}
	return 0;
}

/* One stream of a run result: the exact bytes, from its base64 field. */
static int output_field(json_object *o, const char *key, char **data,
			size_t *len, nx_error *err)
{
	struct base64_decode_ctx ctx;
	json_object *v = NULL;
	const char *text;
	size_t text_len, out_len;
	char *out;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return nx_fail(err, NX_E_PROTOCOL,
			       "the nexus server sent a run result without '%s'", key);
	text = json_object_get_string(v);
	text_len = (size_t)json_object_get_string_len(v);
	out = nx_xmalloc(BASE64_DECODE_LENGTH(text_len) + 1);
	out_len = BASE64_DECODE_LENGTH(text_len);
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &out_len, (uint8_t *)out, text_len,
				  text) ||
	    !base64_decode_final(&ctx)) {
		free(out);
		return nx_fail(err, NX_E_PROTOCOL,
			       "the nexus server sent a run result with bad base64 in '%s'",
			       key);
	}
	out[out_len] = '\0';
	*data = out;
	*len = out_len;
	return 0;
}

static int result_from_json(json_object *o, nx_run_result *out, nx_error *err)
{
	json_object *code = NULL, *secs = NULL;

	memset(out, 0, sizeof *out);
	if (!json_object_is_type(o, json_type_object) ||
	    output_field(o, "stdout_base64", &out->stdout_data,
			 &out->stdout_len, err) < 0 ||
	    output_field(o, "stderr_base64", &out->stderr_data,
			 &out->stderr_len, err) < 0)
		goto fail;
	if (!json_object_object_get_ex(o, "exit_code", &code) ||
	    !json_object_is_type(code, json_type_int) ||
	    !json_object_object_get_ex(o, "execution_time", &secs) ||
	    !(json_object_is_type(secs, json_type_double) ||
	      json_object_is_type(secs, json_type_int)) ||
	    json_object_get_double(secs) < 0) {
		nx_fail(err, NX_E_PROTOCOL,
			"the nexus server sent a run result without a valid exit_code and execution_time");
		goto fail;
	}
	out->exit_code = (int)json_object_get_int64(code);
	out->execution_time = json_object_get_double(secs);
	return 0;
fail:
	nx_run_result_clear(out);
	return -1;
}

/* Hand the output to the caller's callback, as a local run streams it. */
static void deliver(const nx_run_opts *opts, const nx_run_result *res)
{
	if (!opts->on_output)
		return;
	if (res->stdout_len)
		opts->on_output(opts->userdata, NX_STREAM_STDOUT,
				res->stdout_data, res->stdout_len);
	if (res->stderr_len)
		opts->on_output(opts->userdata, NX_STREAM_STDERR,
				res->stderr_data, res->stderr_len);
}

int nx_remote_run(nx_remote *r, const char *sandbox, const nx_run_opts *opts,
		  nx_run_result *out, nx_error *err)
{
	cleanup_json json_object *body = json_object_new_object();
	cleanup_json json_object *reply = NULL;
	cleanup_json json_object *error_reply = NULL;
	cleanup_free char *path = sandbox_path(sandbox, "run");
	json_object *partial = NULL;
	nx_error perr;
	int timeout = opts->timeout_seconds ? opts->timeout_seconds : 30;
	/* Both streams, as text and as base64, and the JSON around them. */
	size_t max_reply = MAX_REPLY + 8 * (opts->max_output ?
					    opts->max_output : NX_DEFAULT_MAX_OUTPUT);

	memset(out, 0, sizeof *out);
	add_string(body, "language", opts->language);
	json_object_object_add(body, "code",
			       json_object_new_string_len(opts->code,
							  (int)opts->code_len));
	if (opts->timeout_seconds)
		json_object_object_add(body, "timeout",
				       json_object_new_int(opts->timeout_seconds));
	if (opts->max_output)
		json_object_object_add(body, "max_output",
				       json_object_new_int64((int64_t)opts->max_output));
	if (call(r, "POST", path, body, timeout * 1000L + RUN_GRACE_MS,
		 max_reply, &reply, &error_reply, err) < 0) {
		/* A timeout keeps what the code printed before it. */
		if (err->kind == NX_E_TIMEOUT && error_reply &&
		    json_object_object_get_ex(error_reply, "result", &partial) &&
		    result_from_json(partial, out, &perr) == 0)
			deliver(opts, out);
		return -1;
	}
	if (result_from_json(reply, out, err) < 0)
		return -1;
	deliver(opts, out);
	return 0;
}
