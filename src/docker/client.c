/* client.c - the Docker Engine API client (see docker.h).
 *
 * Ordinary calls go through one libcurl easy handle per client, reused so
 * that its connection to the unix socket is kept alive.  An exec's output
 * comes over a hijacked connection of its own (CURLOPT_CONNECT_ONLY), which
 * speaks raw bytes after the HTTP head and cannot be reused.  Every reply is
 * bounded and every JSON field is type-checked before use: the engine is
 * trusted to run containers, not to send well-formed bytes. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "../buf.h"
#include "../curl_api.h"
#include "docker.h"

#define USER_AGENT "nexus/" PACKAGE_VERSION
#define DEFAULT_TIMEOUT_MS 30000L
/* The longest engine message we put into an error. */
#define MESSAGE_MAX 400
/* The HTTP head of the exec start reply, and an error body after it. */
#define EXEC_HEAD_MAX (16u << 10)
#define EXEC_ERROR_BODY_MAX (64u << 10)
/* How often, and how far apart, to ask for the exit code of an exec whose
 * stream closed before the engine marked it as exited. */
#define EXEC_INSPECT_TRIES 40
#define EXEC_INSPECT_PAUSE_MS 25
/* An import has no overall deadline (images are big) but must keep moving. */
#define IMPORT_LOW_SPEED_TIME 120L

#define START_HINT "start it with 'sudo systemctl start docker' " \
		   "(or 'sudo dockerd &')"

struct nx_docker {
	char *socket;
	CURL *curl;
	long timeout_ms;
	char api[16];   /* negotiated "MAJOR.MINOR"; empty until then */
	char errbuf[CURL_ERROR_SIZE];
};

/* What one HTTP exchange brought back. */
struct reply {
	long status;
	nx_buf body;
	bool too_big;
	char api_version[16];
};

static void reply_free(struct reply *r)
{
	nx_buf_free(&r->body);
}
#define cleanup_reply __attribute__((cleanup(reply_free)))

/* One HTTP exchange: the path is relative to the negotiated version. */
struct request {
	const char *method;
	const char *path;
	bool unversioned;
	const char *body;       /* JSON; NULL for none */
	long timeout_ms;        /* 0: the client's */
};

static void slist_freep(struct curl_slist **l)
{
	nx_curl.slist_free_all(*l);
}
#define cleanup_slist __attribute__((cleanup(slist_freep)))

static void curl_cleanupp(CURL **h)
{
	if (*h)
		nx_curl.easy_cleanup(*h);
}
#define cleanup_curl __attribute__((cleanup(curl_cleanupp)))

static void tokener_freep(struct json_tokener **t)
{
	if (*t)
		json_tokener_free(*t);
}
#define cleanup_tokener __attribute__((cleanup(tokener_freep)))

static struct curl_slist *xslist_append(struct curl_slist *l, const char *s)
{
	struct curl_slist *n = nx_curl.slist_append(l, s);

	if (!n) {
		fprintf(stderr, "Error: out of memory\n");
		abort();
	}
	return n;
}

/* ---- small helpers --------------------------------------------------- */

static int json_flags(void)
{
	int flags = JSON_TOKENER_STRICT;

#ifdef JSON_TOKENER_VALIDATE_UTF8
	flags |= JSON_TOKENER_VALIDATE_UTF8;
#endif
	return flags;
}

static size_t parse_end(struct json_tokener *tok)
{
#if defined(JSON_C_VERSION_NUM) && JSON_C_VERSION_NUM >= ((0 << 16) | (15 << 8))
	return json_tokener_get_parse_end(tok);
#else
	return (size_t)tok->char_offset;
#endif
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parse one whole JSON document strictly; what names it in errors. */
static int parse_json(const char *data, size_t len, const char *what,
		      json_object **out, nx_error *err)
{
	cleanup_tokener struct json_tokener *tok = json_tokener_new();
	enum json_tokener_error jerr;
	json_object *obj;
	size_t end;

	if (!tok)
		return nx_fail(err, NX_E_SYSTEM, "out of memory");
	json_tokener_set_flags(tok, json_flags());
	obj = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!obj && jerr == json_tokener_success)
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine sent null as %s", what);
	if (jerr == json_tokener_continue)
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine sent truncated JSON as %s",
			       what);
	if (jerr != json_tokener_success) {
		json_object_put(obj);
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine sent bad JSON as %s: %s at "
			       "offset %zu", what, json_tokener_error_desc(jerr),
			       parse_end(tok));
	}
	for (end = parse_end(tok); end < len && is_space(data[end]); end++)
		;
	if (end < len) {
		json_object_put(obj);
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine sent bytes after the JSON of "
			       "%s at offset %zu", what, end);
	}
	*out = obj;
	return 0;
}

static int want_type(json_object *v, json_type type, const char *what,
		     nx_error *err)
{
	if (json_object_is_type(v, type))
		return 0;
	return nx_fail(err, NX_E_PROTOCOL,
		       "the Docker engine sent %s as %s, not %s", what,
		       json_type_to_name(json_object_get_type(v)),
		       json_type_to_name(type));
}

/* The member key of obj, of the given type.  Absent or null is an error
 * unless optional, in which case *out is NULL. */
static int member(json_object *obj, const char *key, json_type type,
		  bool optional, const char *what, json_object **out,
		  nx_error *err)
{
	json_object *v = NULL;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !v) {
		if (optional)
			return 0;
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine's %s has no '%s'", what, key);
	}
	if (!json_object_is_type(v, type))
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine's %s has '%s' as %s, not %s",
			       what, key,
			       json_type_to_name(json_object_get_type(v)),
			       json_type_to_name(type));
	*out = v;
	return 0;
}

/* True when every '/'-separated part of s is neither empty nor a dot
 * segment: libcurl would resolve "/containers/../x" to "/x". */
static bool path_safe(const char *s)
{
	const char *p = s, *end;
	size_t n;

	for (;;) {
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!end)
			return true;
		p = end + 1;
	}
}

/* An id or image reference we put into a URL path. */
static int check_path_arg(const char *s, const char *what, nx_error *err)
{
	if (!s || !path_safe(s))
		return nx_fail(err, NX_E_USAGE, "bad %s '%.200s'", what,
			       s ? s : "(null)");
	return 0;
}

/* PREFIX ARG SUFFIX with arg checked and encoded (keep: bytes left as
 * they are); NULL with err filled for a bad arg. */
static char *arg_path(const char *prefix, const char *arg, const char *keep,
		      const char *suffix, const char *what, nx_error *err)
{
	cleanup_free char *enc = NULL;

	if (check_path_arg(arg, what, err) < 0)
		return NULL;
	enc = nx_url_encode(arg, keep);
	return nx_xasprintf("%s%s%s", prefix, enc, suffix);
}

/* Ids the engine hands us go back into URLs and into our database: all
 * of the JSON string, which may hold a NUL that would cut it short. */
static int check_id(json_object *v, const char *what, nx_error *err)
{
	const char *id = json_object_get_string(v), *p;

	for (p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == '-' ||
		      *p == '.' || *p == ':'))
			break;
	if (p == id || *p || p - id > 128 ||
	    p - id != json_object_get_string_len(v) || !path_safe(id))
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine sent a malformed %s", what);
	return 0;
}

/* ---- errors ------------------------------------------------------------ */

/* The body of a reply: never NULL, as the parsers below want it. */
static const char *reply_body(const struct reply *r)
{
	return r->body.data ? r->body.data : "";
}

void nx_docker_engine_message(long status, const char *body, size_t len,
			      char *out, size_t size)
{
	json_object *msg = NULL;
	cleanup_json json_object *obj = NULL;

	if (parse_json(body, len, "an error", &obj, NULL) == 0 &&
	    json_object_is_type(obj, json_type_object) &&
	    json_object_object_get_ex(obj, "message", &msg) &&
	    json_object_is_type(msg, json_type_string)) {
		nx_clean_line(json_object_get_string(msg),
			   (size_t)json_object_get_string_len(msg), false,
			   out, size);
		if (out[0])
			return;
	}
	nx_clean_line(body, len, true, out, size);
	if (!out[0])
		snprintf(out, size, "HTTP %ld", status);
}

static int engine_error(const struct reply *r, nx_errkind kind,
			nx_error *err)
{
	char msg[MESSAGE_MAX];

	nx_docker_engine_message(r->status, reply_body(r), r->body.len, msg,
				 sizeof msg);
	return nx_fail(err, kind, "docker engine: %s", msg);
}

static int unreachable(const nx_docker *d, int errnum, nx_error *err)
{
	char why[128];
	int ret;

	switch (errnum) {
	case EACCES:
	case EPERM:
		ret = nx_fail(err, NX_E_UNREACHABLE,
			      "cannot reach the Docker engine at %s: permission "
			      "denied; the user needs access to the socket "
			      "(membership of the 'docker' group, or root)",
			      d->socket);
		break;
	case ENOENT:
		ret = nx_fail(err, NX_E_UNREACHABLE,
			      "cannot reach the Docker engine at %s: no such "
			      "socket; " START_HINT, d->socket);
		break;
	case ECONNREFUSED:
		ret = nx_fail(err, NX_E_UNREACHABLE,
			      "cannot reach the Docker engine at %s: "
			      "connection refused; " START_HINT, d->socket);
		break;
	default:
		snprintf(why, sizeof why, "%s",
			 errnum ? strerror(errnum) : "cannot connect");
		if (why[0] >= 'A' && why[0] <= 'Z')
			why[0] = (char)(why[0] - 'A' + 'a');
		ret = nx_fail(err, NX_E_UNREACHABLE,
			      "cannot reach the Docker engine at %s: %s; "
			      START_HINT, d->socket, why);
		break;
	}
	if (err)
		err->sys_errno = errnum;
	return ret;
}

static int transport_error(nx_docker *d, CURL *h, CURLcode rc,
			   const char *method, const char *path,
			   const struct reply *r, long timeout_ms,
			   nx_error *err)
{
	long oserr = 0;

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		nx_curl.easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
		return unreachable(d, (int)oserr, err);
	case CURLE_OPERATION_TIMEDOUT:
		return nx_fail(err, NX_E_TIMEOUT,
			       "the Docker engine did not answer %s %s within "
			       "%ld ms", method, path, timeout_ms);
	case CURLE_WRITE_ERROR:
		if (r && r->too_big)
			return nx_fail(err, NX_E_PROTOCOL,
				       "the Docker engine's reply to %s %s is "
				       "larger than %u bytes", method, path,
				       NX_DOCKER_REPLY_MAX);
		break;
	default:
		break;
	}
	return nx_fail(err, NX_E_PROVIDER,
		       "talking to the Docker engine failed (%s %s): %s",
		       method, path,
		       d->errbuf[0] ? d->errbuf : nx_curl.easy_strerror(rc));
}

/* ---- the engine's replies: pure parsing (docker.h) --------------------- */

int nx_docker_parse_reply(const char *body, size_t len, const char *what,
			  json_type type, json_object **out, nx_error *err)
{
	cleanup_json json_object *obj = NULL;

	*out = NULL;
	if (parse_json(body, len, what, &obj, err) < 0 ||
	    want_type(obj, type, what, err) < 0)
		return -1;
	*out = steal_pointer(&obj);
	return 0;
}

int nx_docker_parse_create(const char *body, size_t len, const char *what,
			   const char *object, char **id_out, nx_error *err)
{
	cleanup_json json_object *obj = NULL;
	char reply_name[64], id_name[64];
	json_object *id;

	*id_out = NULL;
	snprintf(reply_name, sizeof reply_name, "reply to %s create", object);
	snprintf(id_name, sizeof id_name, "%s id", object);
	if (nx_docker_parse_reply(body, len, what, json_type_object, &obj,
				  err) < 0 ||
	    member(obj, "Id", json_type_string, false, reply_name, &id,
		   err) < 0 ||
	    check_id(id, id_name, err) < 0)
		return -1;
	*id_out = nx_xstrdup(json_object_get_string(id));
	return 0;
}

static int bool_member(json_object *obj, const char *key, const char *what,
		       bool *out, nx_error *err)
{
	json_object *v;

	if (member(obj, key, json_type_boolean, false, what, &v, err) < 0)
		return -1;
	*out = json_object_get_boolean(v);
	return 0;
}

static int int_member(json_object *obj, const char *key, const char *what,
		      int *out, nx_error *err)
{
	json_object *v;
	int64_t n;

	if (member(obj, key, json_type_int, false, what, &v, err) < 0)
		return -1;
	n = json_object_get_int64(v);
	if (n < INT_MIN || n > INT_MAX)
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine's %s has '%s' out of range",
			       what, key);
	*out = (int)n;
	return 0;
}

int nx_docker_parse_inspect(const char *body, size_t len, const char *what,
			    nx_container_state *state, nx_error *err)
{
	static const char state_what[] = "container state";
	cleanup_json json_object *obj = NULL;
	nx_container_state st = { 0 };
	json_object *json_state, *status;
	const char *s;

	memset(state, 0, sizeof *state);
	if (nx_docker_parse_reply(body, len, what, json_type_object, &obj,
				  err) < 0 ||
	    member(obj, "State", json_type_object, false,
		   "reply to container inspect", &json_state, err) < 0 ||
	    member(json_state, "Status", json_type_string, false, state_what,
		   &status, err) < 0 ||
	    bool_member(json_state, "Running", state_what, &st.running,
			err) < 0 ||
	    bool_member(json_state, "Paused", state_what, &st.paused,
			err) < 0 ||
	    bool_member(json_state, "OOMKilled", state_what, &st.oom_killed,
			err) < 0 ||
	    int_member(json_state, "ExitCode", state_what, &st.exit_code,
		       err) < 0 ||
	    int_member(json_state, "Pid", state_what, &st.pid, err) < 0)
		return -1;
	if (st.pid < 0)
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine sent a negative container pid");
	s = json_object_get_string(status);
	if (!nx_is_clean_text(s, sizeof st.status - 1))
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine sent a malformed container "
			       "status");
	snprintf(st.status, sizeof st.status, "%s", s);
	st.exists = true;
	*state = st;
	return 0;
}

int nx_docker_parse_runtimes(const char *body, size_t len, const char *what,
			     const char *name, bool *has, nx_error *err)
{
	cleanup_json json_object *obj = NULL;
	json_object *runtimes;

	*has = false;
	/* Engines before 1.12 have no Runtimes: only their built-in one. */
	if (nx_docker_parse_reply(body, len, what, json_type_object, &obj,
				  err) < 0 ||
	    member(obj, "Runtimes", json_type_object, true, "system info",
		   &runtimes, err) < 0)
		return -1;
	*has = runtimes && json_object_object_get_ex(runtimes, name, NULL);
	return 0;
}

int nx_docker_parse_exec_state(const char *body, size_t len,
			       const char *what, bool *running,
			       int *exit_code, nx_error *err)
{
	static const char exec_what[] = "exec state";
	cleanup_json json_object *obj = NULL;
	bool run = false;
	int code = -1;

	*running = false;
	*exit_code = -1;
	if (nx_docker_parse_reply(body, len, what, json_type_object, &obj,
				  err) < 0 ||
	    bool_member(obj, "Running", exec_what, &run, err) < 0 ||
	    (!run && int_member(obj, "ExitCode", exec_what, &code, err) < 0))
		return -1;
	*running = run;
	*exit_code = code;
	return 0;
}

/* ---- the client ------------------------------------------------------- */

int nx_docker_new(const char *socket_path, nx_docker **out, nx_error *err)
{
	struct sockaddr_un addr;
	const char *host;
	nx_docker *d;

	if (!socket_path) {
		host = getenv("DOCKER_HOST");
		if (host && *host) {
			if (strncmp(host, "unix://", 7) != 0 || !host[7])
				return nx_fail(err, NX_E_USAGE,
					       "DOCKER_HOST '%.200s' is not "
					       "supported: nexus talks to a local "
					       "Docker engine over a unix socket "
					       "(DOCKER_HOST=unix:///path/to/"
					       "docker.sock)", host);
			socket_path = host + 7;
		} else {
			socket_path = NX_DOCKER_DEFAULT_SOCKET;
		}
	}
	if (!*socket_path || strlen(socket_path) >= sizeof addr.sun_path)
		return nx_fail(err, NX_E_USAGE,
			       "bad Docker socket path '%.200s': it must be "
			       "1 to %zu bytes", socket_path,
			       sizeof addr.sun_path - 1);
	d = nx_xcalloc(1, sizeof *d);
	d->socket = nx_xstrdup(socket_path);
	d->timeout_ms = DEFAULT_TIMEOUT_MS;
	*out = d;
	return 0;
}

void nx_docker_free(nx_docker *d)
{
	if (!d)
		return;
	if (d->curl)
		nx_curl.easy_cleanup(d->curl);
	free(d->socket);
	free(d);
}

/* The first call that talks to the engine loads libcurl (curl_api.h). */
static int curl_ready(nx_docker *d, nx_error *err)
{
	if (d->curl)
		return 0;
	if (nx_curl_load(err) < 0)
		return -1;
	d->curl = nx_curl.easy_init();
	if (!d->curl)
		return nx_fail(err, NX_E_SYSTEM, "cannot initialise libcurl");
	return 0;
}

const char *nx_docker_socket(const nx_docker *d)
{
	return d->socket;
}

void nx_docker_set_timeout(nx_docker *d, long timeout_ms)
{
	d->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct reply *r = userdata;
	size_t n = size * nmemb;

	if (nx_buf_append(&r->body, data, n) < 0) {
		/* Returning short makes libcurl fail the transfer: an
		 * oversized reply is refused, never silently cut. */
		r->too_big = true;
		return 0;
	}
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb,
			void *userdata)
{
	static const char name[] = "Api-Version:";
	struct reply *r = userdata;
	size_t n = size * nmemb, len = sizeof name - 1, i;
	const char *v = data + len;

	if (n > len && strncasecmp(data, name, len) == 0) {
		i = n - len;
		while (i > 0 && is_space(*v)) {
			v++;
			i--;
		}
		while (i > 0 && is_space(v[i - 1]))
			i--;
		/* Too long to be a version: keep something that fails to
		 * parse rather than a silently cut one. */
		if (i >= sizeof r->api_version) {
			v = "?";
			i = 1;
		}
		memcpy(r->api_version, v, i);
		r->api_version[i] = '\0';
	}
	return n;
}

/* What every exchange with the engine sets on a handle. */
static void setup_handle(nx_docker *d, CURL *h, const char *url)
{
	d->errbuf[0] = '\0';
	nx_curl.easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, d->socket);
	nx_curl.easy_setopt(h, CURLOPT_URL, url);
	/* Only the unix socket: no proxy from the environment, ever. */
	nx_curl.easy_setopt(h, CURLOPT_PROXY, "");
	nx_curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	nx_curl.easy_setopt(h, CURLOPT_ERRORBUFFER, d->errbuf);
	nx_curl.easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
}

static int perform(nx_docker *d, const struct request *q, struct reply *r,
		   nx_error *err);

int nx_docker_parse_api_version(const char *s, long *major, long *minor)
{
	char *end;

	if (!(*s >= '0' && *s <= '9'))
		return -1;
	*major = strtol(s, &end, 10);
	if (*end != '.' || !(end[1] >= '0' && end[1] <= '9'))
		return -1;
	*minor = strtol(end + 1, &end, 10);
	if (*end || *major > 1000 || *minor > 1000)
		return -1;
	return 0;
}

/* GET /_ping: the engine's API version, capped at what we know. */
static int negotiate(nx_docker *d, long timeout_ms, nx_error *err)
{
	const struct request q = { "GET", "/_ping", true, NULL, timeout_ms };
	cleanup_reply struct reply r = { 0 };
	long major, minor, min_major, min_minor, max_major, max_minor;
	char shown[sizeof r.api_version];

	if (perform(d, &q, &r, err) < 0)
		return -1;
	if (r.status != 200)
		return engine_error(&r, NX_E_PROVIDER, err);
	if (!r.api_version[0])
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine at %s did not say which API "
			       "version it speaks", d->socket);
	if (nx_docker_parse_api_version(r.api_version, &major, &minor) < 0) {
		nx_clean_line(r.api_version, strlen(r.api_version), true, shown,
			   sizeof shown);
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine at %s sent a bad API version "
			       "'%s'", d->socket, shown);
	}
	nx_docker_parse_api_version(NX_DOCKER_API_MIN, &min_major, &min_minor);
	nx_docker_parse_api_version(NX_DOCKER_API_MAX, &max_major, &max_minor);
	if (major < min_major || (major == min_major && minor < min_minor))
		return nx_fail(err, NX_E_UNSUPPORTED,
			       "the Docker engine at %s speaks API %ld.%ld, "
			       "older than %s, the oldest nexus supports; "
			       "upgrade Docker to 20.10 or later", d->socket,
			       major, minor, NX_DOCKER_API_MIN);
	if (major > max_major || (major == max_major && minor > max_minor)) {
		major = max_major;
		minor = max_minor;
	}
	snprintf(d->api, sizeof d->api, "%ld.%ld", major, minor);
	return 0;
}

static int perform(nx_docker *d, const struct request *q, struct reply *r,
		   nx_error *err)
{
	cleanup_slist struct curl_slist *headers = NULL;
	cleanup_free char *url = NULL;
	long timeout = q->timeout_ms > 0 ? q->timeout_ms : d->timeout_ms;
	CURL *h;
	CURLcode rc;

	if (curl_ready(d, err) < 0 ||
	    (!q->unversioned && !d->api[0] &&
	     negotiate(d, q->timeout_ms, err) < 0))
		return -1;
	h = d->curl;
	if (q->unversioned)
		url = nx_xasprintf("http://docker%s", q->path);
	else
		url = nx_xasprintf("http://docker/v%s%s", d->api, q->path);

	/* Reset keeps the connection cache: the socket stays open. */
	nx_curl.easy_reset(h);
	setup_handle(d, h, url);
	nx_curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
	nx_curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	nx_curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	nx_curl.easy_setopt(h, CURLOPT_WRITEDATA, r);
	nx_curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	nx_curl.easy_setopt(h, CURLOPT_HEADERDATA, r);
	if (strcmp(q->method, "POST") == 0) {
		nx_curl.easy_setopt(h, CURLOPT_POST, 1L);
		nx_curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE,
				 (long)(q->body ? strlen(q->body) : 0));
		nx_curl.easy_setopt(h, CURLOPT_COPYPOSTFIELDS,
				 q->body ? q->body : "");
	} else if (strcmp(q->method, "GET") != 0) {
		nx_curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	}
	/* libcurl would label any POST a form. */
	headers = xslist_append(headers, q->body ?
				"Content-Type: application/json" :
				"Content-Type:");
	headers = xslist_append(headers, "Expect:");
	nx_curl.easy_setopt(h, CURLOPT_HTTPHEADER, headers);

	nx_buf_init(&r->body, NX_DOCKER_REPLY_MAX);
	rc = nx_curl.easy_perform(h);
	nx_curl.easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	if (rc != CURLE_OK)
		return transport_error(d, h, rc, q->method, q->path, r,
				       timeout, err);
	nx_curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	return 0;
}

/* How errors about the reply to q name it. */
#define REPLY_WHAT_MAX 128
static void reply_what(const struct request *q, char what[REPLY_WHAT_MAX])
{
	snprintf(what, REPLY_WHAT_MAX, "reply to %s %.80s", q->method,
		 q->path);
}

/* Perform q and insist on status want, else the engine's error; what then
 * names the reply for its parser's messages. */
static int perform_expect(nx_docker *d, const struct request *q, long want,
			  struct reply *r, char what[REPLY_WHAT_MAX],
			  nx_error *err)
{
	if (perform(d, q, r, err) < 0)
		return -1;
	if (r->status != want)
		return engine_error(r, NX_E_PROVIDER, err);
	reply_what(q, what);
	return 0;
}

int nx_docker_ping(nx_docker *d, nx_error *err)
{
	return negotiate(d, 0, err);
}

/* ---- images and containers ------------------------------------------- */

int nx_docker_has_runtime(nx_docker *d, const char *name, bool *has,
			  nx_error *err)
{
	const struct request q = { "GET", "/info", false, NULL, 0 };
	cleanup_reply struct reply r = { 0 };
	char what[REPLY_WHAT_MAX];

	*has = false;
	if (perform_expect(d, &q, 200, &r, what, err) < 0)
		return -1;
	return nx_docker_parse_runtimes(reply_body(&r), r.body.len, what, name,
					has, err);
}

int nx_docker_image_exists(nx_docker *d, const char *ref, bool *exists,
			   nx_error *err)
{
	cleanup_free char *path = arg_path("/images/", ref, "/:@", "/json",
					   "image reference", err);
	const struct request q = { "GET", path, false, NULL, 0 };
	cleanup_reply struct reply r = { 0 };
	cleanup_json json_object *obj = NULL;
	char what[REPLY_WHAT_MAX];

	*exists = false;
	if (!path)
		return -1;
	if (perform(d, &q, &r, err) < 0)
		return -1;
	if (r.status == 404)
		return 0;
	if (r.status != 200)
		return engine_error(&r, NX_E_PROVIDER, err);
	reply_what(&q, what);
	if (nx_docker_parse_reply(reply_body(&r), r.body.len, what,
				  json_type_object, &obj, err) < 0)
		return -1;
	*exists = true;
	return 0;
}

int nx_docker_container_create(nx_docker *d, const char *name,
			       json_object *config, char **id_out,
			       nx_error *err)
{
	cleanup_free char *enc = name ? nx_url_encode(name, NULL) : NULL;
	cleanup_free char *path = name ?
		nx_xasprintf("/containers/create?name=%s", enc) :
		nx_xstrdup("/containers/create");
	const char *body = json_object_to_json_string_ext(
		config, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	const struct request q = { "POST", path, false, body, 0 };
	cleanup_reply struct reply r = { 0 };
	char what[REPLY_WHAT_MAX];

	if (perform(d, &q, &r, err) < 0)
		return -1;
	/* The caller knows how the image is built; it adds that hint. */
	if (r.status == 404)
		return engine_error(&r, NX_E_IMAGE, err);
	if (r.status != 201)
		return engine_error(&r, NX_E_PROVIDER, err);
	reply_what(&q, what);
	return nx_docker_parse_create(reply_body(&r), r.body.len, what,
				      "container", id_out, err);
}

/* POST /containers/ID/ACTION with no body; ok2 is a second good status. */
static int container_action(nx_docker *d, const char *id, const char *action,
			    long ok2, nx_error *err)
{
	cleanup_free char *suffix = nx_xasprintf("/%s", action);
	cleanup_free char *path = arg_path("/containers/", id, NULL, suffix,
					   "container id", err);
	const struct request q = { "POST", path, false, NULL, 0 };
	cleanup_reply struct reply r = { 0 };

	if (!path)
		return -1;
	if (perform(d, &q, &r, err) < 0)
		return -1;
	if (r.status == 204 || (ok2 && r.status == ok2))
		return 0;
	return engine_error(&r, NX_E_PROVIDER, err);
}

int nx_docker_container_start(nx_docker *d, const char *id, nx_error *err)
{
	/* 304: already started, which is what was asked for. */
	return container_action(d, id, "start", 304, err);
}

int nx_docker_container_pause(nx_docker *d, const char *id, nx_error *err)
{
	return container_action(d, id, "pause", 0, err);
}

int nx_docker_container_unpause(nx_docker *d, const char *id, nx_error *err)
{
	return container_action(d, id, "unpause", 0, err);
}

int nx_docker_container_inspect(nx_docker *d, const char *id,
				nx_container_state *state, nx_error *err)
{
	cleanup_free char *path = arg_path("/containers/", id, NULL, "/json",
					   "container id", err);
	const struct request q = { "GET", path, false, NULL, 0 };
	cleanup_reply struct reply r = { 0 };
	char what[REPLY_WHAT_MAX];

	memset(state, 0, sizeof *state);
	if (!path)
		return -1;
	if (perform(d, &q, &r, err) < 0)
		return -1;
	if (r.status == 404)
		return 0;
	if (r.status != 200)
		return engine_error(&r, NX_E_PROVIDER, err);
	reply_what(&q, what);
	return nx_docker_parse_inspect(reply_body(&r), r.body.len, what, state,
				       err);
}

int nx_docker_container_remove(nx_docker *d, const char *id, nx_error *err)
{
	cleanup_free char *path = arg_path("/containers/", id, NULL,
					   "?force=true&v=true",
					   "container id", err);
	const struct request q = { "DELETE", path, false, NULL, 0 };
	cleanup_reply struct reply r = { 0 };
	char msg[MESSAGE_MAX];

	if (!path)
		return -1;
	if (perform(d, &q, &r, err) < 0)
		return -1;
	if (r.status == 204 || r.status == 200 || r.status == 404)
		return 0;
	if (r.status == 409) {
		/* Someone else is already removing it: it will be gone. */
		nx_docker_engine_message(r.status, reply_body(&r), r.body.len,
					 msg, sizeof msg);
		if (strstr(msg, "already in progress"))
			return 0;
	}
	return engine_error(&r, NX_E_PROVIDER, err);
}

/* ?filters= for one filter with one value: {"KEY":["VALUE"]}, encoded. */
static char *filter_query(const char *key, const char *value)
{
	cleanup_json json_object *f = json_object_new_object();
	json_object *list = json_object_new_array();

	json_object_array_add(list, json_object_new_string(value));
	json_object_object_add(f, key, list);
	return nx_url_encode(json_object_to_json_string_ext(
				  f, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE),
			  NULL);
}

void nx_docker_container_list_free(nx_docker_container *v, size_t count)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < count; i++) {
		free(v[i].id);
		free(v[i].label);
	}
	free(v);
}

struct container_vec {
	nx_docker_container *v;
	size_t n;
};

static void container_vec_free(struct container_vec *cv)
{
	nx_docker_container_list_free(cv->v, cv->n);
}

/* One entry of GET /containers/json: its id, creation time and the value
 * of the label value_key (absent: NULL). */
static int parse_container_entry(json_object *item, const char *value_key,
				 nx_docker_container *c, nx_error *err)
{
	static const char what[] = "container list entry";
	json_object *id, *created, *labels, *value = NULL;

	if (want_type(item, json_type_object, "a container list entry",
		      err) < 0 ||
	    member(item, "Id", json_type_string, false, what, &id, err) < 0 ||
	    check_id(id, "container id", err) < 0 ||
	    member(item, "Created", json_type_int, false, what, &created,
		   err) < 0 ||
	    member(item, "Labels", json_type_object, true, what, &labels,
		   err) < 0)
		return -1;
	if (labels && member(labels, value_key, json_type_string, true,
			     "container's labels", &value, err) < 0)
		return -1;
	c->id = nx_xstrdup(json_object_get_string(id));
	c->created = json_object_get_int64(created);
	c->label = value ? nx_xstrdup(json_object_get_string(value)) : NULL;
	return 0;
}

int nx_docker_parse_container_list(const char *body, size_t len,
				   const char *what, const char *value_key,
				   nx_docker_container **out, size_t *count,
				   nx_error *err)
{
	cleanup_json json_object *arr = NULL;
	__attribute__((cleanup(container_vec_free))) struct container_vec cv =
		{ NULL, 0 };
	size_t i, n;

	*out = NULL;
	*count = 0;
	if (nx_docker_parse_reply(body, len, what, json_type_array, &arr,
				  err) < 0)
		return -1;
	n = json_object_array_length(arr);
	cv.v = nx_xcalloc(n ? n : 1, sizeof *cv.v);
	for (i = 0; i < n; i++) {
		if (parse_container_entry(json_object_array_get_idx(arr, i),
					  value_key, &cv.v[i], err) < 0)
			return -1;
		cv.n++;
	}
	*out = steal_pointer(&cv.v);
	*count = cv.n;
	cv.n = 0;
	return 0;
}

int nx_docker_container_list_by_label(nx_docker *d, const char *label,
				      const char *value_key,
				      nx_docker_container **out,
				      size_t *count, nx_error *err)
{
	cleanup_free char *filters = filter_query("label", label);
	cleanup_free char *path =
		nx_xasprintf("/containers/json?all=1&filters=%s", filters);
	const struct request q = { "GET", path, false, NULL, 0 };
	cleanup_reply struct reply r = { 0 };
	char what[REPLY_WHAT_MAX];

	if (perform_expect(d, &q, 200, &r, what, err) < 0)
		return -1;
	return nx_docker_parse_container_list(reply_body(&r), r.body.len, what,
					      value_key, out, count, err);
}

void nx_docker_image_list_free(nx_docker_image *images, size_t count)
{
	size_t i;

	if (!images)
		return;
	for (i = 0; i < count; i++)
		free(images[i].ref);
	free(images);
}

struct image_vec {
	nx_docker_image *v;
	size_t n;
};

static void image_vec_free(struct image_vec *iv)
{
	nx_docker_image_list_free(iv->v, iv->n);
}

static int add_image_tags(struct image_vec *iv, json_object *item,
			  const char *prefix, nx_error *err)
{
	static const char what[] = "image list entry";
	json_object *tags, *size, *created, *tag;
	size_t i, n, plen = strlen(prefix);
	const char *s;

	if (want_type(item, json_type_object, "an image list entry", err) < 0 ||
	    member(item, "RepoTags", json_type_array, true, what, &tags,
		   err) < 0 ||
	    member(item, "Size", json_type_int, false, what, &size, err) < 0 ||
	    member(item, "Created", json_type_int, false, what, &created,
		   err) < 0)
		return -1;
	n = tags ? json_object_array_length(tags) : 0;
	for (i = 0; i < n; i++) {
		tag = json_object_array_get_idx(tags, i);
		if (want_type(tag, json_type_string, "an image tag", err) < 0)
			return -1;
		s = json_object_get_string(tag);
		if (strncmp(s, prefix, plen) != 0 || !s[plen])
			continue;
		if (!nx_is_clean_text(s, 512))
			return nx_fail(err, NX_E_PROTOCOL,
				       "the Docker engine sent a malformed "
				       "image tag");
		iv->v = nx_xrealloc(iv->v, (iv->n + 1) * sizeof *iv->v);
		iv->v[iv->n].ref = nx_xstrdup(s);
		iv->v[iv->n].size = json_object_get_int64(size);
		iv->v[iv->n].created = json_object_get_int64(created);
		iv->n++;
	}
	return 0;
}

int nx_docker_parse_image_list(const char *body, size_t len,
			       const char *what, const char *repo,
			       nx_docker_image **images_out,
			       size_t *count_out, nx_error *err)
{
	cleanup_free char *prefix = nx_xasprintf("%s:", repo);
	cleanup_json json_object *arr = NULL;
	__attribute__((cleanup(image_vec_free))) struct image_vec iv = { 0 };
	size_t i, n;

	*images_out = NULL;
	*count_out = 0;
	if (nx_docker_parse_reply(body, len, what, json_type_array, &arr,
				  err) < 0)
		return -1;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++)
		if (add_image_tags(&iv, json_object_array_get_idx(arr, i),
				   prefix, err) < 0)
			return -1;
	*count_out = iv.n;
	*images_out = steal_pointer(&iv.v);
	iv.n = 0;
	return 0;
}

int nx_docker_image_list(nx_docker *d, const char *repo,
			 nx_docker_image **images_out, size_t *count_out,
			 nx_error *err)
{
	cleanup_free char *filters = filter_query("reference", repo);
	cleanup_free char *path = nx_xasprintf("/images/json?filters=%s",
					       filters);
	const struct request q = { "GET", path, false, NULL, 0 };
	cleanup_reply struct reply r = { 0 };
	char what[REPLY_WHAT_MAX];

	*images_out = NULL;
	*count_out = 0;
	if (perform_expect(d, &q, 200, &r, what, err) < 0)
		return -1;
	return nx_docker_parse_image_list(reply_body(&r), r.body.len, what,
					  repo, images_out, count_out, err);
}

/* ---- image import ------------------------------------------------------ */

struct import_src {
	int fd;
	int read_errno;
	uint64_t sent;
	nx_docker_progress_fn progress;
	void *userdata;
};

static size_t import_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct import_src *src = arg;
	ssize_t n;

	do
		n = read(src->fd, buf, size * nitems);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		src->read_errno = errno;
		return CURL_READFUNC_ABORT;
	}
	src->sent += (uint64_t)n;
	if (n > 0 && src->progress)
		src->progress(src->userdata, src->sent);
	return (size_t)n;
}

/* The import reply is a stream of JSON objects; an error may come in any
 * of them, after a 200. */
int nx_docker_check_import(const char *data, size_t len, nx_error *err)
{
	static const char what[] = "import progress";
	cleanup_tokener struct json_tokener *tok = json_tokener_new();
	size_t pos = 0;
	json_object *e, *detail, *msg;
	int flags = json_flags();

	if (!tok)
		return nx_fail(err, NX_E_SYSTEM, "out of memory");
#ifdef JSON_TOKENER_ALLOW_TRAILING_CHARS
	flags |= JSON_TOKENER_ALLOW_TRAILING_CHARS;
#endif
	json_tokener_set_flags(tok, flags);
	for (;;) {
		cleanup_json json_object *obj = NULL;
		enum json_tokener_error jerr;

		while (pos < len && is_space(data[pos]))
			pos++;
		if (pos == len)
			return 0;
		json_tokener_reset(tok);
		obj = json_tokener_parse_ex(tok, data + pos, (int)(len - pos));
		jerr = json_tokener_get_error(tok);
		if (!obj || jerr != json_tokener_success)
			return nx_fail(err, NX_E_PROTOCOL,
				       "the Docker engine sent bad JSON as %s: "
				       "%s at offset %zu", what,
				       json_tokener_error_desc(jerr),
				       pos + parse_end(tok));
		pos += parse_end(tok);
		if (want_type(obj, json_type_object, what, err) < 0 ||
		    member(obj, "errorDetail", json_type_object, true, what,
			   &detail, err) < 0 ||
		    member(obj, "error", json_type_string, true, what, &e,
			   err) < 0)
			return -1;
		msg = NULL;
		if (detail && member(detail, "message", json_type_string, true,
				     what, &msg, err) < 0)
			return -1;
		if (!msg)
			msg = e;
		if (msg || detail) {
			const char *s = msg ? json_object_get_string(msg) : "";
			char line[MESSAGE_MAX];

			nx_clean_line(s, strlen(s), false, line, sizeof line);
			return nx_fail(err, NX_E_PROVIDER, "docker engine: %s",
				       line[0] ? line : "import failed");
		}
	}
}

int nx_docker_image_import(nx_docker *d, int tar_fd, const char *repo,
			   const char *tag, const char *const *changes,
			   nx_docker_progress_fn progress, void *userdata,
			   nx_error *err)
{
	cleanup_slist struct curl_slist *headers = NULL;
	cleanup_free char *erepo = nx_url_encode(repo, "/");
	cleanup_free char *etag = nx_url_encode(tag, NULL);
	cleanup_free char *path = NULL, *url = NULL;
	cleanup_reply struct reply r = { 0 };
	struct import_src src = { tar_fd, 0, 0, progress, userdata };
	CURL *h;
	nx_buf p;
	CURLcode rc;
	size_t i;

	if (curl_ready(d, err) < 0 ||
	    (!d->api[0] && negotiate(d, 0, err) < 0))
		return -1;
	h = d->curl;
	nx_buf_init(&p, 64u << 10);
	nx_buf_append(&p, "/images/create?fromSrc=-&repo=", 30);
	nx_buf_append(&p, erepo, strlen(erepo));
	nx_buf_append(&p, "&tag=", 5);
	nx_buf_append(&p, etag, strlen(etag));
	for (i = 0; changes && changes[i]; i++) {
		cleanup_free char *c = nx_url_encode(changes[i], NULL);

		nx_buf_append(&p, "&changes=", 9);
		nx_buf_append(&p, c, strlen(c));
	}
	if (p.truncated) {
		nx_buf_free(&p);
		return nx_fail(err, NX_E_USAGE, "image changes too long");
	}
	path = nx_buf_steal(&p, NULL);
	url = nx_xasprintf("http://docker/v%s%s", d->api, path);

	nx_curl.easy_reset(h);
	setup_handle(d, h, url);
	nx_curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, d->timeout_ms);
	nx_curl.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	nx_curl.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, IMPORT_LOW_SPEED_TIME);
	nx_curl.easy_setopt(h, CURLOPT_POST, 1L);
	nx_curl.easy_setopt(h, CURLOPT_READFUNCTION, import_read);
	nx_curl.easy_setopt(h, CURLOPT_READDATA, &src);
	nx_curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	nx_curl.easy_setopt(h, CURLOPT_WRITEDATA, &r);
	headers = xslist_append(headers, "Content-Type: application/x-tar");
	headers = xslist_append(headers, "Transfer-Encoding: chunked");
	headers = xslist_append(headers, "Expect:");
	nx_curl.easy_setopt(h, CURLOPT_HTTPHEADER, headers);

	nx_buf_init(&r.body, NX_DOCKER_REPLY_MAX);
	rc = nx_curl.easy_perform(h);
	nx_curl.easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	nx_curl.easy_setopt(h, CURLOPT_READDATA, NULL);
	if (rc == CURLE_ABORTED_BY_CALLBACK && src.read_errno)
		return nx_fail_errno(err, NX_E_SYSTEM, src.read_errno,
				     "cannot read the image to import");
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return nx_fail(err, NX_E_TIMEOUT,
			       "the Docker engine stopped taking the image for "
			       "%ld seconds", IMPORT_LOW_SPEED_TIME);
	if (rc != CURLE_OK)
		return transport_error(d, h, rc, "POST", "/images/create", &r,
				       d->timeout_ms, err);
	nx_curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
	if (r.status != 200)
		return engine_error(&r, NX_E_PROVIDER, err);
	return nx_docker_check_import(reply_body(&r), r.body.len, err);
}

/* ---- exec ------------------------------------------------------------- */

static int exec_timeout(nx_error *err)
{
	return nx_fail(err, NX_E_TIMEOUT,
		       "the command did not finish before its deadline");
}

/* An ordinary call made for an exec: its own timeout, but never past the
 * exec's deadline. */
static int exec_call_timeout(nx_docker *d, int64_t deadline_us, long *out,
			     nx_error *err)
{
	long left = nx_ms_left(deadline_us);

	if (left == -2)
		return exec_timeout(err);
	*out = (left < 0 || left > d->timeout_ms) ? d->timeout_ms : left;
	return 0;
}

static json_object *strv_json(const char *const *v)
{
	json_object *arr = json_object_new_array();

	for (; v && *v; v++)
		json_object_array_add(arr, json_object_new_string(*v));
	return arr;
}

static int exec_create(nx_docker *d, const nx_docker_exec_req *req,
		       char **id_out, nx_error *err)
{
	cleanup_json json_object *body = json_object_new_object();
	cleanup_free char *enc = nx_url_encode(req->container, NULL);
	cleanup_free char *path = nx_xasprintf("/containers/%s/exec", enc);
	struct request q = { "POST", path, false, NULL, 0 };
	cleanup_reply struct reply r = { 0 };
	char what[REPLY_WHAT_MAX];

	if (exec_call_timeout(d, req->deadline_us, &q.timeout_ms, err) < 0)
		return -1;
	json_object_object_add(body, "AttachStdin", json_object_new_boolean(1));
	json_object_object_add(body, "AttachStdout",
			       json_object_new_boolean(1));
	json_object_object_add(body, "AttachStderr",
			       json_object_new_boolean(1));
	json_object_object_add(body, "Tty", json_object_new_boolean(0));
	json_object_object_add(body, "Cmd", strv_json(req->argv));
	if (req->user)
		json_object_object_add(body, "User",
				       json_object_new_string(req->user));
	if (req->workdir)
		json_object_object_add(body, "WorkingDir",
				       json_object_new_string(req->workdir));
	if (req->env)
		json_object_object_add(body, "Env", strv_json(req->env));
	q.body = json_object_to_json_string_ext(
		body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (perform_expect(d, &q, 201, &r, what, err) < 0)
		return -1;
	return nx_docker_parse_create(reply_body(&r), r.body.len, what, "exec",
				      id_out, err);
}

/* Wait until fd is ready for events or the deadline passes. */
static int wait_fd(curl_socket_t fd, short events, int64_t deadline_us,
		   short *revents, nx_error *err)
{
	struct pollfd pfd;
	long left;
	int n;

	for (;;) {
		left = nx_ms_left(deadline_us);
		if (left == -2)
			return exec_timeout(err);
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nx_fail_errno(err, NX_E_SYSTEM, errno, "poll");
		if (n > 0) {
			*revents = pfd.revents;
			return 0;
		}
	}
}

struct hijack {
	CURL *h;
	curl_socket_t fd;
	int64_t deadline_us;
};

static int hijack_send_all(struct hijack *hj, const char *data, size_t len,
			   nx_error *err)
{
	size_t n;
	short rev;
	CURLcode rc;

	while (len > 0) {
		rc = nx_curl.easy_send(hj->h, data, len, &n);
		if (rc == CURLE_AGAIN) {
			if (wait_fd(hj->fd, POLLOUT, hj->deadline_us, &rev,
				    err) < 0)
				return -1;
			continue;
		}
		if (rc != CURLE_OK)
			return nx_fail(err, NX_E_PROVIDER,
				       "sending exec start to the Docker "
				       "engine failed: %s",
				       nx_curl.easy_strerror(rc));
		data += n;
		len -= n;
	}
	return 0;
}

/* Read what is there, waiting for it until the deadline; 0 bytes is the
 * end of the stream.  A receive error counts as the end too: the engine
 * resets a connection it closes with our stdin still unread, after the
 * output it sent; whether the command really ended is asked separately. */
static int hijack_recv(struct hijack *hj, char *buf, size_t size,
		       size_t *got, nx_error *err)
{
	CURLcode rc;
	short rev;

	for (;;) {
		rc = nx_curl.easy_recv(hj->h, buf, size, got);
		if (rc == CURLE_OK)
			return 0;
		if (rc != CURLE_AGAIN) {
			*got = 0;
			return 0;
		}
		if (wait_fd(hj->fd, POLLIN, hj->deadline_us, &rev, err) < 0)
			return -1;
	}
}

/* The value of header name in an HTTP head (NUL-terminated), or NULL. */
static const char *head_value(const char *head, const char *name,
			      size_t *len)
{
	size_t nlen = strlen(name);
	const char *line = strstr(head, "\r\n"), *end;

	while (line && line[2] != '\r' && line[2]) {
		line += 2;
		end = strstr(line, "\r\n");
		if (!end)
			return NULL;
		if ((size_t)(end - line) > nlen && line[nlen] == ':' &&
		    strncasecmp(line, name, nlen) == 0) {
			line += nlen + 1;
			while (line < end && is_space(*line))
				line++;
			while (end > line && is_space(end[-1]))
				end--;
			*len = (size_t)(end - line);
			return line;
		}
		line = end;
	}
	return NULL;
}

/* Undo chunked transfer coding into out (may be NULL, to check only):
 * the body's length, or -1 while it is incomplete or malformed. */
static long dechunk(const char *data, size_t len, char *out)
{
	size_t in = 0, n = 0;
	unsigned long size;
	const char *nl;
	char *end;

	for (;;) {
		nl = memchr(data + in, '\n', len - in);
		if (!nl)
			return -1;
		size = strtoul(data + in, &end, 16);
		if (end == data + in)
			return -1;
		in = (size_t)(nl - data) + 1;
		if (size == 0)
			return (long)n;
		if (size > len - in || len - in - size < 2)
			return -1;
		if (out)
			memmove(out + n, data + in, size);
		n += size;
		in += size + 2;
	}
}

/* The exec start was refused: read the engine's reasons (bounded) and
 * turn them into the error. */
static int exec_start_refused(struct hijack *hj, long status,
			      const char *head, const char *rest,
			      size_t rest_len, nx_error *err)
{
	cleanup_reply struct reply r = { 0 };
	char buf[4096];
	size_t want = EXEC_ERROR_BODY_MAX, vlen = 0, got;
	const char *v;
	bool chunked = false;
	long n;

	r.status = status;
	nx_buf_init(&r.body, EXEC_ERROR_BODY_MAX);
	v = head_value(head, "Content-Length", &vlen);
	if (v) {
		char num[24];

		snprintf(num, sizeof num, "%.*s", (int)vlen, v);
		if (nx_parse_int(num, 0, EXEC_ERROR_BODY_MAX, &n) == 0)
			want = (size_t)n;
	} else {
		v = head_value(head, "Transfer-Encoding", &vlen);
		chunked = v && vlen == 7 && strncasecmp(v, "chunked", 7) == 0;
	}
	nx_buf_append(&r.body, rest, rest_len);
	while (r.body.len < want && !r.body.truncated) {
		if (chunked && r.body.data &&
		    dechunk(r.body.data, r.body.len, NULL) >= 0)
			break;
		if (hijack_recv(hj, buf, sizeof buf, &got, err) < 0)
			return -1;
		if (got == 0)
			break;
		nx_buf_append(&r.body, buf, got);
	}
	if (r.body.len > want) {
		r.body.len = want;
		r.body.data[want] = '\0';
	}
	if (chunked && r.body.data) {
		n = dechunk(r.body.data, r.body.len, r.body.data);
		r.body.len = n < 0 ? 0 : (size_t)n;
		r.body.data[r.body.len] = '\0';
	}
	return engine_error(&r, NX_E_PROVIDER, err);
}

/* Send the start request and read the reply head: 101 (or 200 from an
 * engine that does not upgrade) means the raw stream follows.  Bytes read
 * past the head belong to the stream and go to the parser. */
static int exec_start(nx_docker *d, struct hijack *hj, const char *exec_id,
		      nx_mux_parser *mux, nx_error *err)
{
	static const char body[] = "{\"Detach\":false,\"Tty\":false}";
	cleanup_free char *enc = nx_url_encode(exec_id, NULL);
	cleanup_free char *request = nx_xasprintf(
		"POST /v%s/exec/%s/start HTTP/1.1\r\n"
		"Host: docker\r\n"
		"User-Agent: " USER_AGENT "\r\n"
		"Content-Type: application/json\r\n"
		"Connection: Upgrade\r\n"
		"Upgrade: tcp\r\n"
		"Content-Length: %zu\r\n"
		"\r\n%s", d->api, enc, sizeof body - 1, body);
	cleanup_free char *head = nx_xmalloc(EXEC_HEAD_MAX + 1);
	size_t len = 0, got, head_len;
	const char *end = NULL;
	long status;

	if (hijack_send_all(hj, request, strlen(request), err) < 0)
		return -1;
	while (!end) {
		if (len == EXEC_HEAD_MAX)
			return nx_fail(err, NX_E_PROTOCOL,
				       "the Docker engine's reply head to exec "
				       "start is larger than %u bytes",
				       EXEC_HEAD_MAX);
		if (hijack_recv(hj, head + len, EXEC_HEAD_MAX - len, &got,
				err) < 0)
			return -1;
		if (got == 0)
			return nx_fail(err, NX_E_PROVIDER,
				       "the Docker engine closed the connection "
				       "before it answered exec start");
		len += got;
		head[len] = '\0';
		end = memmem(head, len, "\r\n\r\n", 4);
	}
	head_len = (size_t)(end - head) + 4;
	if (len < 12 || strncmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ' ||
	    !(head[9] >= '1' && head[9] <= '5') ||
	    !(head[10] >= '0' && head[10] <= '9') ||
	    !(head[11] >= '0' && head[11] <= '9'))
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine sent a malformed reply to "
			       "exec start");
	status = (head[9] - '0') * 100 + (head[10] - '0') * 10 +
		 (head[11] - '0');
	if (status != 101 && status != 200) {
		head[head_len - 2] = '\0';
		return exec_start_refused(hj, status, head, head + head_len,
					  len - head_len, err);
	}
	return nx_mux_feed(mux, head + head_len, len - head_len, err);
}

/* Write stdin while reading output: either may fill a socket buffer, so
 * doing them one after the other could deadlock with a chatty program. */
static int exec_pump(struct hijack *hj, const nx_docker_exec_req *req,
		     nx_mux_parser *mux, nx_error *err)
{
	const char *in = req->stdin_data;
	size_t sent = 0, n;
	bool writing = req->stdin_len > 0;
	char buf[64 << 10];
	short rev;
	CURLcode rc;

	for (;;) {
		if (wait_fd(hj->fd, POLLIN | (writing ? POLLOUT : 0),
			    hj->deadline_us, &rev, err) < 0)
			return -1;
		if (rev & (POLLIN | POLLHUP | POLLERR)) {
			rc = nx_curl.easy_recv(hj->h, buf, sizeof buf, &n);
			if (rc == CURLE_OK && n > 0) {
				if (nx_mux_feed(mux, buf, n, err) < 0)
					return -1;
			} else if (rc != CURLE_AGAIN) {
				/* The end, or a reset: see hijack_recv. */
				break;
			}
		}
		if (writing && (rev & POLLOUT)) {
			rc = nx_curl.easy_send(hj->h, in + sent,
					    req->stdin_len - sent, &n);
			if (rc == CURLE_OK)
				sent += n;
			else if (rc != CURLE_AGAIN)
				/* The command stopped reading; its output
				 * still counts. */
				writing = false;
			if (sent == req->stdin_len)
				writing = false;
		}
	}
	if (!nx_mux_at_boundary(mux))
		return nx_fail(err, NX_E_PROTOCOL,
			       "the Docker engine ended the output stream in "
			       "the middle of a frame");
	return 0;
}

static int hijack_open(nx_docker *d, struct hijack *hj, nx_error *err)
{
	cleanup_free char *url = nx_xasprintf("http://docker/v%s/_ping",
					      d->api);
	curl_socket_t fd = CURL_SOCKET_BAD;
	long left = nx_ms_left(hj->deadline_us);
	CURLcode rc;

	if (left == -2)
		return exec_timeout(err);
	if (left < 0 || left > d->timeout_ms)
		left = d->timeout_ms;
	if (curl_ready(d, err) < 0)
		return -1;
	hj->h = nx_curl.easy_init();
	if (!hj->h)
		return nx_fail(err, NX_E_SYSTEM, "cannot initialise libcurl");
	setup_handle(d, hj->h, url);
	nx_curl.easy_setopt(hj->h, CURLOPT_CONNECT_ONLY, 1L);
	nx_curl.easy_setopt(hj->h, CURLOPT_CONNECTTIMEOUT_MS, left);
	rc = nx_curl.easy_perform(hj->h);
	if (rc == CURLE_OPERATION_TIMEDOUT && nx_ms_left(hj->deadline_us) == -2)
		return exec_timeout(err);
	if (rc != CURLE_OK)
		return transport_error(d, hj->h, rc, "POST", "/exec/start",
				       NULL, left, err);
	if (nx_curl.easy_getinfo(hj->h, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD)
		return nx_fail(err, NX_E_SYSTEM,
			       "libcurl did not hand over the exec socket");
	hj->fd = fd;
	return 0;
}

/* GET /exec/ID/json until it no longer runs: the stream can close a
 * moment before the engine records the exit. */
static int exec_exit_code(nx_docker *d, const char *exec_id,
			  int64_t deadline_us, int *exit_code, nx_error *err)
{
	cleanup_free char *enc = nx_url_encode(exec_id, NULL);
	cleanup_free char *path = nx_xasprintf("/exec/%s/json", enc);
	struct request q = { "GET", path, false, NULL, 0 };
	struct timespec gap = { 0, EXEC_INSPECT_PAUSE_MS * 1000000L };
	char what[REPLY_WHAT_MAX];
	bool running;
	int try;

	reply_what(&q, what);
	for (try = 0; try < EXEC_INSPECT_TRIES; try++) {
		cleanup_reply struct reply r = { 0 };

		if (try > 0)
			nanosleep(&gap, NULL);
		if (exec_call_timeout(d, deadline_us, &q.timeout_ms, err) < 0 ||
		    perform(d, &q, &r, err) < 0)
			return -1;
		if (r.status != 200)
			return engine_error(&r, NX_E_PROVIDER, err);
		if (nx_docker_parse_exec_state(reply_body(&r), r.body.len, what,
					       &running, exit_code, err) < 0)
			return -1;
		if (!running)
			return 0;
	}
	return nx_fail(err, NX_E_PROVIDER,
		       "the command's output ended but the Docker engine "
		       "still reports it running");
}

int nx_docker_exec(nx_docker *d, const nx_docker_exec_req *req,
		   int *exit_code, nx_error *err)
{
	cleanup_curl CURL *h = NULL;
	cleanup_free char *exec_id = NULL;
	struct hijack hj = { NULL, CURL_SOCKET_BAD, req->deadline_us };
	nx_mux_parser mux;
	long timeout = 0;
	int ret;

	*exit_code = -1;
	if (check_path_arg(req->container, "container id", err) < 0)
		return -1;
	if (!req->argv || !req->argv[0])
		return nx_fail(err, NX_E_USAGE, "exec needs a command");
	if (exec_call_timeout(d, req->deadline_us, &timeout, err) < 0 ||
	    (!d->api[0] && negotiate(d, timeout, err) < 0))
		return -1;
	if (exec_create(d, req, &exec_id, err) < 0)
		return -1;

	nx_mux_init(&mux, req->on_output, req->userdata);
	ret = hijack_open(d, &hj, err);
	h = hj.h;
	if (ret < 0 || exec_start(d, &hj, exec_id, &mux, err) < 0 ||
	    exec_pump(&hj, req, &mux, err) < 0)
		return -1;
	nx_curl.easy_cleanup(steal_pointer(&h));
	return exec_exit_code(d, exec_id, req->deadline_us, exit_code, err);
}
