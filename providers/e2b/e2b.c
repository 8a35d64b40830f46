/* e2b.c - the e2b provider plugin: nexus sandboxes that are real E2B
 * sandboxes (shared/spec/e2b-api.md has the wire facts).
 *
 * Control plane: REST and JSON with X-API-Key, at E2B_API_URL.  Runs:
 * envd's process.Process/Start in the sandbox, the Connect protocol with
 * its JSON codec, server streaming: one request envelope, then envelopes
 * of events until the end-of-stream one.  The code goes to the
 * interpreter as an argument (no shell between, so no quoting at all), or
 * through the files API when it is too long for one.  nexus's idle TTL is
 * E2B's timeout posted again after every run.
 *
 * Loaded by nexus with dlopen: it sees only nexus-provider.h and nexus.h,
 * and links libcurl and json-c itself.  Everything from E2B is untrusted;
 * what it sends is read in e2b_parse.c, apart from libcurl, where the fuzz
 * harness calls the same code. */
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "e2b_parse.h"

#define DEFAULT_API_URL "https://api.e2b.app"
#define DEFAULT_ENVD_URL "https://49983-{sandboxID}.{domain}"
#define DEFAULT_DOMAIN "e2b.app"
#define DEFAULT_TEMPLATE "base"
#define CALL_TIMEOUT_MS 60000L
#define MAX_REPLY (4u << 20)
/* Code longer than this goes through the files API, not argv. */
#define MAX_ARG_CODE (64u << 10)
#define HOME "/home/user"
#define UNSUPPORTED_PAUSE \
	"E2B doesn't support pause/resume. Use stop to destroy the sandbox."

typedef struct e2b {
	char *api_url;
	char *envd_url;     /* may hold {sandboxID} and {domain} */
	char *api_key;
	char *template_id;
	CURL *h;
	char errbuf[CURL_ERROR_SIZE];
} e2b;

/* ---- the control plane ---------------------------------------------------- */

static size_t on_reply(char *data, size_t size, size_t n, void *ud)
{
	buf *b = ud;

	e2b_buf_add(b, data, size * n);
	return b->over ? 0 : size * n;
}

/* One call; *status is the HTTP status, *reply the parsed JSON of a 2xx
 * answer with a body (NULL for 204). */
static int api(e2b *p, const char *method, const char *path, json_object *body,
	       const char *what, long *status, json_object **reply,
	       nx_error *err)
{
	char url[2048], key[600];
	struct curl_slist *headers = NULL;
	buf b = { .max = MAX_REPLY };
	CURLcode rc;
	int r;

	*reply = NULL;
	snprintf(url, sizeof url, "%s%s", p->api_url, path);
	snprintf(key, sizeof key, "X-API-Key: %s", p->api_key);
	headers = curl_slist_append(headers, key);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_reset(p->h);
	curl_easy_setopt(p->h, CURLOPT_URL, url);
	curl_easy_setopt(p->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(p->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->h, CURLOPT_TIMEOUT_MS, CALL_TIMEOUT_MS);
	curl_easy_setopt(p->h, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(p->h, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(p->h, CURLOPT_WRITEDATA, &b);
	if (body)
		curl_easy_setopt(p->h, CURLOPT_COPYPOSTFIELDS,
				 json_object_to_json_string_ext(body,
								JSON_C_TO_STRING_PLAIN));
	else if (strcmp(method, "POST") == 0)
		curl_easy_setopt(p->h, CURLOPT_POSTFIELDSIZE, 0L);
	p->errbuf[0] = '\0';
	rc = curl_easy_perform(p->h);
	curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		free(b.data);
		if (b.over)
			return e2b_fail(err, NX_E_PROTOCOL,
				    "E2B sent a reply over %u bytes", MAX_REPLY);
		return e2b_fail(err, NX_E_UNREACHABLE, "cannot reach E2B at %s: %s",
			    p->api_url, p->errbuf[0] ? p->errbuf :
						       curl_easy_strerror(rc));
	}
	curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, status);
	r = e2b_api_reply(*status, &b, what, reply, err);
	free(b.data);
	return r;
}

/* ---- the provider --------------------------------------------------- */

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && *v ? v : fallback;
}

static int e2b_open(void **self, const char *data_dir, nx_error *err)
{
	const char *key = getenv("E2B_API_KEY");
	e2b *p;

	(void)data_dir;
	if (!key || !*key)
		return e2b_fail(err, NX_E_USAGE,
			    "E2B API key required: set E2B_API_KEY (export E2B_API_KEY=\"your-e2b-api-key\")");
	if (!e2b_word_chars(key, 512, "-_.:"))
		return e2b_fail(err, NX_E_USAGE, "E2B_API_KEY holds characters an API key does not");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return e2b_fail(err, NX_E_SYSTEM, "cannot initialise libcurl");
	p = calloc(1, sizeof *p);
	if (!p)
		abort();
	p->api_url = e2b_xstrdup(env_or("E2B_API_URL", DEFAULT_API_URL));
	p->envd_url = e2b_xstrdup(env_or("E2B_ENVD_URL", DEFAULT_ENVD_URL));
	p->api_key = e2b_xstrdup(key);
	p->template_id = e2b_xstrdup(env_or("E2B_TEMPLATE_ID", DEFAULT_TEMPLATE));
	p->h = curl_easy_init();
	if (!p->h)
		abort();
	*self = p;
	return 0;
}

static void e2b_close(void *self)
{
	e2b *p = self;

	curl_easy_cleanup(p->h);
	free(p->api_url);
	free(p->envd_url);
	free(p->api_key);
	free(p->template_id);
	free(p);
}

static int e2b_create(void *self, const nx_provider_create *req, char **out,
		      nx_error *err)
{
	e2b *p = self;
	json_object *body, *meta, *reply = NULL;
	handle h = { .ttl_minutes = req->ttl_minutes };
	long status;
	int r;

	if (req->isolation)
		return e2b_fail(err, NX_E_USAGE,
				"the e2b provider has no isolation choice (each E2B sandbox is a microVM of its own); "
				"leave --isolation and NEXUS_ISOLATION unset");
	body = json_object_new_object();
	meta = json_object_new_object();
	json_object_object_add(body, "templateID", json_object_new_string(
		req->template_id ? req->template_id : p->template_id));
	json_object_object_add(body, "timeout",
			       json_object_new_int(req->ttl_minutes * 60));
	json_object_object_add(meta, "nexus_sandbox_id",
			       json_object_new_string(req->sandbox_id));
	json_object_object_add(meta, "nexus_name", json_object_new_string(req->name));
	json_object_object_add(body, "metadata", meta);
	r = api(p, "POST", "/sandboxes", body, "create the sandbox", &status,
		&reply, err);
	json_object_put(body);
	if (r < 0)
		return -1;
	r = e2b_handle_from_create(reply, &h, err);
	json_object_put(reply);
	if (r < 0)
		return -1;
	*out = e2b_handle_text(&h);
	return 0;
}

/* A control-plane call about one sandbox: /sandboxes/ID, then /action
 * when there is one, with {"timeout": timeout_s} as the body when that is
 * not 0.  Arguments and results as api's. */
static int sandbox_call(e2b *p, const char *id, const char *method,
			const char *action, int timeout_s, const char *what,
			long *status, json_object **reply, nx_error *err)
{
	json_object *body = NULL;
	char path[128];
	int r;

	snprintf(path, sizeof path, "/sandboxes/%s%s%s", id, action ? "/" : "",
		 action ? action : "");
	if (timeout_s) {
		body = json_object_new_object();
		json_object_object_add(body, "timeout",
				       json_object_new_int(timeout_s));
	}
	r = api(p, method, path, body, what, status, reply, err);
	json_object_put(body);
	return r;
}

static int post_timeout(e2b *p, const handle *h, nx_error *err)
{
	json_object *reply = NULL;
	long status;
	int r;

	r = sandbox_call(p, h->id, "POST", "timeout", h->ttl_minutes * 60,
			 "renew the sandbox's timeout", &status, &reply, err);
	json_object_put(reply);
	return r;
}

/* ---- runs: process.Process/Start --------------------------------------- */

/* Short: libcurl stops the transfer (a failure, or the output cap). */
static size_t on_stream(char *data, size_t size, size_t n, void *ud)
{
	return e2b_stream_feed(ud, data, size * n) ? size * n : 0;
}

/* The template with {sandboxID} and {domain} filled in, then path. */
static char *envd_url(const e2b *p, const handle *h, const char *path)
{
	static const char id_key[] = "{sandboxID}", domain_key[] = "{domain}";
	const char *domain = h->domain[0] ? h->domain : DEFAULT_DOMAIN;
	const char *t;
	size_t size = strlen(path) + 1;
	char *out, *o;

	for (t = p->envd_url; *t;) {
		if (!strncmp(t, id_key, sizeof id_key - 1)) {
			size += strlen(h->id);
			t += sizeof id_key - 1;
		} else if (!strncmp(t, domain_key, sizeof domain_key - 1)) {
			size += strlen(domain);
			t += sizeof domain_key - 1;
		} else {
			size++;
			t++;
		}
	}
	out = o = e2b_xmalloc(size);
	for (t = p->envd_url; *t;) {
		if (!strncmp(t, id_key, sizeof id_key - 1)) {
			o = stpcpy(o, h->id);
			t += sizeof id_key - 1;
		} else if (!strncmp(t, domain_key, sizeof domain_key - 1)) {
			o = stpcpy(o, domain);
			t += sizeof domain_key - 1;
		} else {
			*o++ = *t++;
		}
	}
	strcpy(o, path);
	return out;
}

static struct curl_slist *envd_headers(const handle *h, const char *type)
{
	struct curl_slist *l = NULL;
	char token[300];

	l = curl_slist_append(l, type);
	/* The default user, "user:" in Basic form. */
	l = curl_slist_append(l, "Authorization: Basic dXNlcjo=");
	if (h->token[0]) {
		snprintf(token, sizeof token, "X-Access-Token: %s", h->token);
		l = curl_slist_append(l, token);
	}
	return l;
}

/* SIGKILL the run's process in the sandbox: what a timeout or the output
 * cap leaves behind must not go on. */
static void kill_process(e2b *p, const handle *h, long pid)
{
	struct curl_slist *headers = envd_headers(h, "Content-Type: application/json");
	char *url = envd_url(p, h, "/process.Process/SendSignal");
	char body[128];
	buf ignored = { .max = 4096 };

	snprintf(body, sizeof body,
		 "{\"process\":{\"pid\":%ld},\"signal\":\"SIGNAL_SIGKILL\"}", pid);
	curl_easy_reset(p->h);
	curl_easy_setopt(p->h, CURLOPT_URL, url);
	curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(p->h, CURLOPT_COPYPOSTFIELDS, body);
	curl_easy_setopt(p->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(p->h, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(p->h, CURLOPT_WRITEDATA, &ignored);
	curl_easy_perform(p->h);
	curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	free(url);
	free(ignored.data);
}

/* Long code goes to a file in the sandbox, through the files API. */
static int upload_code(e2b *p, const handle *h, const nx_provider_run *req,
		       char *path, size_t size, nx_error *err)
{
	struct curl_slist *headers =
		envd_headers(h, "Content-Type: application/octet-stream");
	char *url, rel[160];
	buf reply = { .max = 65536 };
	struct timespec now;
	long status = 0;
	CURLcode rc;

	/* Unique per process and moment: runs may go on side by side. */
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(path, size, HOME "/.nexus-code-%ld-%ld-%ld", (long)getpid(),
		 (long)now.tv_sec, now.tv_nsec);
	snprintf(rel, sizeof rel, "/files?path=%s&username=user", path);
	url = envd_url(p, h, rel);
	curl_easy_reset(p->h);
	curl_easy_setopt(p->h, CURLOPT_URL, url);
	curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(p->h, CURLOPT_POSTFIELDS, req->code);
	curl_easy_setopt(p->h, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)req->code_len);
	curl_easy_setopt(p->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->h, CURLOPT_TIMEOUT_MS, CALL_TIMEOUT_MS);
	curl_easy_setopt(p->h, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(p->h, CURLOPT_WRITEDATA, &reply);
	rc = curl_easy_perform(p->h);
	curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	free(url);
	free(reply.data);
	if (rc != CURLE_OK)
		return e2b_fail(err, NX_E_UNREACHABLE, "cannot upload the code to E2B: %s",
			    curl_easy_strerror(rc));
	if (status < 200 || status >= 300)
		return e2b_fail(err, NX_E_PROVIDER,
			    "E2B refused the code file (HTTP %ld%s)", status,
			    status == 507 ? ": the sandbox disk is full" : "");
	return 0;
}

/* The Start request: one envelope, the interpreter and the code as its
 * arguments (no shell, so nothing in the code is ever interpreted twice). */
static char *start_request(const nx_provider_run *req, const char *file,
			   size_t *len)
{
	json_object *o = json_object_new_object(), *proc = json_object_new_object();
	json_object *args = json_object_new_array();
	const char *interp = !strcmp(req->language, "javascript") ? "node" :
			     !strcmp(req->language, "bash") ? "bash" : "python3";
	const char *flag = !strcmp(req->language, "javascript") ? "-e" : "-c";
	const char *text;
	char *env;
	size_t n;

	json_object_array_add(args, json_object_new_string(interp));
	if (file) {
		json_object_array_add(args, json_object_new_string(file));
	} else {
		json_object_array_add(args, json_object_new_string(flag));
		json_object_array_add(args, json_object_new_string_len(
			req->code, (int)req->code_len));
	}
	json_object_object_add(proc, "cmd", json_object_new_string("/usr/bin/env"));
	json_object_object_add(proc, "args", args);
	json_object_object_add(proc, "envs", json_object_new_object());
	json_object_object_add(proc, "cwd", json_object_new_string(HOME));
	json_object_object_add(o, "process", proc);
	json_object_object_add(o, "stdin", json_object_new_boolean(0));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	n = strlen(text);
	env = e2b_xmalloc(5 + n);
	env[0] = 0;
	env[1] = (char)(n >> 24);
	env[2] = (char)(n >> 16);
	env[3] = (char)(n >> 8);
	env[4] = (char)n;
	memcpy(env + 5, text, n);
	json_object_put(o);
	*len = 5 + n;
	return env;
}

static int e2b_run(void *self, const char *handle_s, const nx_provider_run *req,
		   nx_run_result *out, nx_error *err)
{
	e2b *p = self;
	handle h;
	stream s = { .max_output = req->max_output, .req = req,
		     .out = { { 0 }, { .max = (size_t)-1 }, { .max = (size_t)-1 } } };
	struct curl_slist *headers;
	char file[128], *url, *body;
	size_t body_len;
	struct timespec t0, t1;
	CURLcode rc;
	long status = 0;

	memset(out, 0, sizeof *out);
	if (e2b_parse_handle(handle_s, &h, err) < 0)
		return -1;
	if (req->code_len > MAX_ARG_CODE &&
	    upload_code(p, &h, req, file, sizeof file, err) < 0)
		return -1;
	body = start_request(req, req->code_len > MAX_ARG_CODE ? file : NULL,
			     &body_len);
	url = envd_url(p, &h, "/process.Process/Start");
	headers = envd_headers(&h, "Content-Type: application/connect+json");
	headers = curl_slist_append(headers, "Connect-Protocol-Version: 1");
	headers = curl_slist_append(headers, "Keepalive-Ping-Interval: 50");
	curl_easy_reset(p->h);
	curl_easy_setopt(p->h, CURLOPT_URL, url);
	curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(p->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(p->h, CURLOPT_POSTFIELDSIZE, (long)body_len);
	curl_easy_setopt(p->h, CURLOPT_NOSIGNAL, 1L);
	/* The run's timeout is the stream's: a sandbox that stalls, or code
	 * that runs on, ends the same way. */
	curl_easy_setopt(p->h, CURLOPT_TIMEOUT_MS, (long)req->timeout_seconds * 1000L);
	curl_easy_setopt(p->h, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
	curl_easy_setopt(p->h, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(p->h, CURLOPT_WRITEDATA, &s);
	p->errbuf[0] = '\0';
	curl_easy_setopt(p->h, CURLOPT_ERRORBUFFER, p->errbuf);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = curl_easy_perform(p->h);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	free(url);
	free(body);
	free(s.msg);
	out->execution_time = (double)(t1.tv_sec - t0.tv_sec) +
			      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (!s.ended && s.pid > 0 && (rc != CURLE_OK || s.failed || s.over))
		kill_process(p, &h, s.pid);
	if (s.over) {
		e2b_take_output(&s, out);
		out->exit_code = 128 + 9;
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		e2b_take_output(&s, out);
		out->exit_code = -1;
		return e2b_fail(err, NX_E_TIMEOUT, "Code execution exceeded %d second timeout",
			    req->timeout_seconds);
	} else if (s.failed) {
		*err = s.err;
		goto lost;
	} else if (rc == CURLE_PARTIAL_FILE) {
		e2b_fail(err, NX_E_PROTOCOL,
		     "E2B's stream ended before the process did (the connection closed mid-stream)");
		goto lost;
	} else if (rc != CURLE_OK) {
		e2b_fail(err, NX_E_UNREACHABLE, "cannot reach the E2B sandbox: %s",
		     p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc));
		goto lost;
	} else if (status < 200 || status >= 300) {
		e2b_fail(err, status == 404 || status == 502 ? NX_E_NOTFOUND : NX_E_PROVIDER,
		     "the E2B sandbox refused the run (HTTP %ld)", status);
		goto lost;
	} else if (!s.have_exit || !s.trailer) {
		e2b_fail(err, NX_E_PROTOCOL,
		     "E2B's stream ended before the process did (truncated)");
		goto lost;
	} else {
		e2b_take_output(&s, out);
		out->exit_code = s.exit_code;
	}
	/* The idle TTL starts again now. */
	if (post_timeout(p, &h, err) < 0) {
		free(out->stdout_data);
		free(out->stderr_data);
		memset(out, 0, sizeof *out);
		return -1;
	}
	return 0;
lost:
	free(s.out[1].data);
	free(s.out[2].data);
	return -1;
}

static int e2b_pause(void *self, const char *handle_s, nx_error *err)
{
	e2b *p = self;
	json_object *reply = NULL;
	handle h;
	long status = 0;
	nx_error probe;

	if (e2b_parse_handle(handle_s, &h, err) < 0)
		return -1;
	if (sandbox_call(p, h.id, "POST", "pause", 0, "pause the sandbox",
			 &status, &reply, err) == 0) {
		json_object_put(reply);
		return 0;
	}
	if (status == 409)
		return 0;    /* already paused: what was asked */
	/* 404 from a deployment without pause, or for a sandbox that is gone:
	 * ask which. */
	if ((status == 404 || status == 501) &&
	    (status == 501 ||
	     sandbox_call(p, h.id, "GET", NULL, 0, "look the sandbox up",
			  &status, &reply, &probe) == 0)) {
		json_object_put(reply);
		return e2b_fail(err, NX_E_UNSUPPORTED, UNSUPPORTED_PAUSE);
	}
	return -1;
}

static int e2b_resume(void *self, const char *handle_s, int ttl_minutes,
		      nx_error *err)
{
	e2b *p = self;
	json_object *reply = NULL;
	handle h;
	long status = 0;
	int r;

	if (e2b_parse_handle(handle_s, &h, err) < 0)
		return -1;
	r = sandbox_call(p, h.id, "POST", "connect", ttl_minutes * 60,
			 "resume the sandbox", &status, &reply, err);
	json_object_put(reply);
	if (r < 0 && status == 501)
		return e2b_fail(err, NX_E_UNSUPPORTED, UNSUPPORTED_PAUSE);
	return r;
}

static int e2b_destroy(void *self, const char *handle_s, nx_error *err)
{
	e2b *p = self;
	json_object *reply = NULL;
	handle h;
	long status = 0;

	if (e2b_parse_handle(handle_s, &h, err) < 0)
		return -1;
	if (sandbox_call(p, h.id, "DELETE", NULL, 0, "kill the sandbox",
			 &status, &reply, err) == 0 || status == 404) {
		json_object_put(reply);
		return 0;    /* gone already: what was asked */
	}
	return -1;
}

static int e2b_probe(void *self, const char *handle_s, nx_provider_state *state,
		     nx_error *err)
{
	e2b *p = self;
	json_object *reply = NULL;
	handle h;
	long status = 0;

	if (e2b_parse_handle(handle_s, &h, err) < 0)
		return -1;
	if (sandbox_call(p, h.id, "GET", NULL, 0, "look the sandbox up",
			 &status, &reply, err) < 0) {
		if (status != 404)
			return -1;
		*state = NX_PSTATE_GONE;
		return 0;
	}
	*state = e2b_probe_state(reply);
	json_object_put(reply);
	return 0;
}

/* E2B ends its sandboxes on its own timeout: nothing is left to reap. */
static int e2b_reap(void *self, bool (*known)(void *ud, const char *id),
		    void *ud, int grace_seconds, nx_error *err)
{
	(void)self;
	(void)known;
	(void)ud;
	(void)grace_seconds;
	(void)err;
	return 0;
}

static const nx_provider e2b_provider = {
	.abi_version = NX_PROVIDER_ABI_VERSION,
	.struct_size = sizeof(nx_provider),
	.name = "e2b",
	.capabilities = NX_PROVIDER_CAN_PAUSE,
	.open = e2b_open,
	.close = e2b_close,
	.create = e2b_create,
	.run = e2b_run,
	.pause = e2b_pause,
	.resume = e2b_resume,
	.destroy = e2b_destroy,
	.probe = e2b_probe,
	.reap = e2b_reap,
};

const nx_provider *nx_provider_plugin(void)
{
	return &e2b_provider;
}
