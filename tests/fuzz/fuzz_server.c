/* fuzz_server.c - fuzz harness for the HTTP API of nexus serve
 * (src/server/api.c): the routing of method and path, query arguments,
 * the API key headers and the JSON bodies, down to the engine's answer.
 *
 * Input, as text: a first line "open" (a store with no keys: every caller
 * is the local admin) or "keyed" (a store with keys); the request line
 * "METHOD TARGET"; header lines "Name: value" up to an empty line; the
 * body.  The path and query of TARGET are split and percent-decoded with
 * libmicrohttpd's own function, as the server gets them.  A header value
 * "@key", "@admin" or "@revoked" stands for a real key of the keyed store.
 * Both stores hold a few sandbox records; the Docker engine is a socket
 * that does not exist, so whatever would reach it fails at once.
 *
 * Checks: every reply is one strict JSON object of valid UTF-8, with a
 * status the API documents; an error status has exactly an error of a
 * known kind that goes with it, its message one line of clean text, and a
 * success none; paths outside the API are 404 and health is always
 * answered.  A broken invariant aborts.  See docs/fuzzing.md. */
#include <ftw.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz/fuzz.h"
#include "server/api.h"
#include "store.h"


#define MAX_FIELDS 16

/* ---- the two stores, made once ------------------------------------------- */

static char *top_dir;
static char *open_dir, *keyed_dir;
static char *user_key, *admin_key, *revoked_key;
static const nx_context local = { "local", NULL, "default", true };

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_stores(void)
{
	nftw(top_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void add_sandbox(nx_engine *e, const char *id, const char *name,
			const char *user, nx_status status)
{
	nx_sandbox sb = { 0 };
	nx_error err;

	snprintf(sb.sandbox_id, sizeof sb.sandbox_id, "%s", id);
	sb.name = (char *)name;
	sb.user_id = (char *)user;
	sb.tenant_id = (char *)"default";
	sb.provider = (char *)"docker";
	sb.handle = (char *)"c0ffee";
	sb.status = status;
	sb.created_at = sb.last_active_at = nx_now_us();
	if (status == NX_STATUS_PAUSED)
		sb.paused_at = sb.created_at;
	if (status == NX_STATUS_STOPPED)
		sb.stopped_at = sb.created_at;
	sb.ttl_minutes = 7 * 24 * 60;
	CHECK(nx_store_insert(nx_engine_store(e), &sb, &err) == 0);
}

static char *make_key(nx_engine *e, const char *user, bool admin,
		      bool revoked)
{
	nx_key_info info, gone;
	nx_error err;
	char *key;

	CHECK(nx_key_create(e, user, NULL, NULL, admin, &key, &info,
			    &err) == 0);
	if (revoked) {
		CHECK(nx_key_revoke(e, info.key_id, &gone, &err) == 0);
		nx_key_info_clear(&gone);
	}
	nx_key_info_clear(&info);
	return key;
}

static char *make_store(const char *name, bool keyed)
{
	/* The sandboxes belong to whoever the store's requests act as. */
	const char *owner = keyed ? "fuzz" : local.user_id;
	char *dir = nx_xasprintf("%s/%s", top_dir, name);
	nx_engine_opts eo = { .data_dir = dir };
	nx_engine *e;
	nx_error err;

	CHECK(mkdir(dir, 0700) == 0);
	CHECK(nx_engine_open(&e, &eo, &err) == 0);
	add_sandbox(e, "aaaaaaaaaaaaaaaaaaaa1", "mine", owner, NX_STATUS_ACTIVE);
	add_sandbox(e, "aaaaaaaaaaaaaaaaaaaa2", "held", owner, NX_STATUS_PAUSED);
	add_sandbox(e, "aaaaaaaaaaaaaaaaaaaa3", "done", owner, NX_STATUS_STOPPED);
	add_sandbox(e, "aaaaaaaaaaaaaaaaaaaa4", "twin", owner, NX_STATUS_ACTIVE);
	add_sandbox(e, "aaaaaaaaaaaaaaaaaaaa5", "twin", owner, NX_STATUS_ACTIVE);
	add_sandbox(e, "aaaaaaaaaaaaaaaaaaaa6", "theirs", "other",
		    NX_STATUS_ACTIVE);
	if (keyed) {
		user_key = make_key(e, "fuzz", false, false);
		admin_key = make_key(e, "root", true, false);
		revoked_key = make_key(e, "gone", false, true);
	}
	nx_engine_close(e);
	return dir;
}

static void setup(void)
{
	/* In $TMPDIR: a crash (abort) skips the atexit handler, so
	 * scripts/fuzz.sh gives each harness a TMPDIR it removes after. */
	const char *tmp = getenv("TMPDIR");
	char *path;

	top_dir = nx_xasprintf("%s/nexus-fuzz-server-XXXXXX",
			       tmp && *tmp ? tmp : "/tmp");
	CHECK(mkdtemp(top_dir) != NULL);
	atexit(remove_stores);
	/* Nothing reaches a Docker engine, a plugin or a remote server. */
	path = nx_xasprintf("unix://%s/no-docker.sock", top_dir);
	setenv("DOCKER_HOST", path, 1);
	free(path);
	setenv("NEXUS_PLUGIN_DIR", top_dir, 1);
	setenv("NEXUS_SECCOMP_DIR", top_dir, 1);
	setenv("NEXUS_RUNTIMES_DIR", top_dir, 1);
	unsetenv("NEXUS_DATABASE_URL");
	unsetenv("NEXUS_PROVIDER");
	unsetenv("NEXUS_URL");
	open_dir = make_store("open", false);
	keyed_dir = make_store("keyed", true);
}

/* ---- the request, as libmicrohttpd would hand it over --------------------- */

struct field {
	char *name, *value;
};

struct request {
	struct field query[MAX_FIELDS], header[MAX_FIELDS];
	size_t nquery, nheader;
};

static const char *lookup(const struct field *f, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(f[i].name, name) == 0)
			return f[i].value;
	return NULL;
}

static const char *query_value(void *conn, const char *name)
{
	const struct request *r = conn;

	return lookup(r->query, r->nquery, name);
}

static const char *header_value(void *conn, const char *name)
{
	const struct request *r = conn;

	return lookup(r->header, r->nheader, name);
}

/* a=b&c=d, each part decoded ('+' is a space), into r->query. */
static void split_query(struct request *r, char *q)
{
	char *part, *eq, *p;

	while (q && r->nquery < MAX_FIELDS) {
		part = q;
		q = strchr(q, '&');
		if (q)
			*q++ = '\0';
		for (p = part; *p; p++)
			if (*p == '+')
				*p = ' ';
		eq = strchr(part, '=');
		if (eq)
			*eq++ = '\0';
		MHD_http_unescape(part);
		if (eq)
			MHD_http_unescape(eq);
		r->query[r->nquery++] =
			(struct field){ part, eq ? eq : part + strlen(part) };
	}
}

/* "@key" and friends stand for the keyed store's keys. */
static char *header_text(char *value)
{
	if (!strcmp(value, "@key"))
		return user_key;
	if (!strcmp(value, "@admin"))
		return admin_key;
	if (!strcmp(value, "@revoked"))
		return revoked_key;
	if (!strncasecmp(value, "Bearer @", 8)) {
		static char bearer[256];

		snprintf(bearer, sizeof bearer, "Bearer %s",
			 header_text(value + 7));
		return bearer;
	}
	return value;
}

/* The next line of text (NUL-terminated in place), or NULL at the end. */
static char *next_line(char **at, char *end)
{
	char *line = *at, *nl;

	if (line >= end)
		return NULL;
	nl = memchr(line, '\n', (size_t)(end - line));
	if (!nl)
		nl = end;
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	*at = nl + 1;
	return line;
}

/* ---- the checks ------------------------------------------------------------- */

static const struct {
	const char *kind;
	unsigned status;
} kinds[] = {
	{ "usage", 400 },     { "usage", 405 },       { "not_found", 404 },
	{ "ambiguous", 409 }, { "state", 409 },       { "unsupported", 501 },
	{ "timeout", 504 },   { "unreachable", 503 }, { "provider", 502 },
	{ "image", 424 },     { "store", 500 },       { "protocol", 502 },
	{ "system", 500 },    { "auth", 401 },        { "forbidden", 403 },
	{ "too_large", 413 },
};

static bool known_error(const char *kind, unsigned status)
{
	size_t i;

	for (i = 0; i < NX_ARRAY_LEN(kinds); i++)
		if (!strcmp(kinds[i].kind, kind) && kinds[i].status == status)
			return true;
	return false;
}

/* One strict JSON object of valid UTF-8 (json-c's own check lets some
 * invalid sequences through; the sanitizer changes nothing in valid text). */
static json_object *check_json(const char *text)
{
	size_t len = strlen(text), clean_len;
	char *clean = nx_utf8_sanitize(text, len, &clean_len);
	json_tokener *tok = json_tokener_new();
	json_object *o;

	CHECK(clean_len == len && memcmp(clean, text, len) == 0);
	free(clean);
	CHECK(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
				    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	CHECK(o && json_tokener_get_error(tok) == json_tokener_success);
	CHECK(json_tokener_get_parse_end(tok) == len);
	CHECK(json_object_is_type(o, json_type_object));
	json_tokener_free(tok);
	return o;
}

/* may_refuse: the store has keys, or the request presents one. */
static void check_reply(const nx_api_reply *r, const char *method,
			const char *url, bool may_refuse)
{
	json_object *o = check_json(r->json), *e, *kind, *msg;
	bool error = json_object_object_get_ex(o, "error", &e);
	bool api = !strcmp(url, "/v1/sandboxes") ||
		   !strncmp(url, "/v1/sandboxes/", 14);

	if (r->status < 400) {
		CHECK(r->status == 200 || r->status == 201);
		CHECK(!error);
	} else {
		CHECK(error && json_object_is_type(e, json_type_object));
		CHECK(json_object_object_get_ex(e, "kind", &kind) &&
		      json_object_is_type(kind, json_type_string));
		CHECK(json_object_object_get_ex(e, "message", &msg) &&
		      json_object_is_type(msg, json_type_string));
		CHECK(known_error(json_object_get_string(kind), r->status));
		CHECK(nx_is_clean_text(json_object_get_string(msg),
				       NX_ERROR_MAX));
		CHECK((size_t)json_object_get_string_len(msg) ==
		      strlen(json_object_get_string(msg)));
	}
	/* Health needs no key; a store with no keys asks for none, and
	 * refuses only a key it does not know. */
	if (!strcmp(url, "/v1/health"))
		CHECK(r->status == (strcmp(method, "GET") ? 405 : 200));
	else if (!api)
		CHECK(r->status == 404 || (may_refuse && r->status == 401));
	if (!may_refuse)
		CHECK(r->status != 401 && r->status != 403);
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	char *text = malloc(size + 1), *at = text, *end = text + size;
	char *store, *line, *method, *target, *q, *colon, *body;
	struct request r = { 0 };
	nx_api_request rq = { 0 };
	nx_engine_opts eo = { 0 };
	nx_api_reply reply;
	size_t body_len;
	bool keyed;

	if (!ready) {
		setup();
		ready = true;
	}
	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	store = next_line(&at, end);
	method = next_line(&at, end);
	if (!store || !method ||
	    (strcmp(store, "open") != 0 && strcmp(store, "keyed") != 0)) {
		free(text);
		return 0;
	}
	keyed = !strcmp(store, "keyed");
	target = strchr(method, ' ');
	if (target)
		*target++ = '\0';
	else
		target = method + strlen(method);
	q = strchr(target, '?');
	if (q)
		*q++ = '\0';
	MHD_http_unescape(target);
	split_query(&r, q);
	while ((line = next_line(&at, end)) && *line) {
		colon = strchr(line, ':');
		if (!colon || r.nheader == MAX_FIELDS)
			continue;
		*colon++ = '\0';
		colon += strspn(colon, " \t");
		r.header[r.nheader++] = (struct field){ line, header_text(colon) };
	}
	/* Exactly the body's bytes, so ASan sees any read past them. */
	body_len = at < end ? (size_t)(end - at) : 0;
	body = body_len ? malloc(body_len) : NULL;
	CHECK(body || !body_len);
	if (body_len)
		memcpy(body, at, body_len);

	rq = (nx_api_request){
		.method = method,
		.url = target,
		.body = body,
		.body_len = body_len,
		.query = query_value,
		.header = header_value,
		.conn = &r,
	};
	eo.data_dir = keyed ? keyed_dir : open_dir;
	reply = nx_api_handle(&rq, &eo, &local);
	CHECK(reply.json != NULL);
	check_reply(&reply, method, target,
		    keyed || header_value(&r, "Authorization") ||
			    header_value(&r, "X-API-Key"));
	free(reply.json);
	free(body);
	free(text);
	return 0;
}
