/* fuzz_docker_reply.c - fuzz harness for the parsers of the Docker
 * engine's replies (src/docker/client.c): the bodies of container create
 * and inspect, exec create and inspect, the container and image lists,
 * /info's runtimes, the image import stream, error bodies and the
 * Api-Version header.
 *
 * Input: a first line naming the reply (create, exec-create, inspect,
 * exec-state, containers, images, info, import, error, version, reply), then
 * the body, given to the parser NUL-terminated as the client gives it.
 * A reference decoding of the same JSON with json-c says whether the
 * parser must succeed and what it must return; failures must leave the
 * outputs empty and say why in one line.  A broken invariant aborts.
 * See docs/fuzzing.md. */
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "docker/docker.h"


#define WHAT "reply to GET /fuzz"
#define LABEL_KEY "io.nexus.sandbox-id"
#define REPO "nexus-runtime"

/* ---- the reference: json-c, read the way the Docker API documents it ---- */

static bool only_space(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!strchr(" \t\r\n", s[i]) || !s[i])
			return false;
	return true;
}

/* The body as one strict JSON document with nothing but space after it;
 * NULL when it is not that (or is null). */
static json_object *ref_parse(const char *body, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;
	size_t end;

	CHECK(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
				    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, body, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    !only_space(body + end, len - end)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Member key of o when it is of type; absent and null count as absent. */
static json_object *ref_member(json_object *o, const char *key, json_type t,
			       bool *absent)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !v) {
		*absent = true;
		return NULL;
	}
	*absent = false;
	return json_object_is_type(v, t) ? v : NULL;
}

static json_object *ref_required(json_object *o, const char *key,
				 json_type t)
{
	bool absent;

	return ref_member(o, key, t, &absent);
}

static bool ref_int(json_object *o, const char *key, int *out)
{
	json_object *v = ref_required(o, key, json_type_int);
	int64_t n = v ? json_object_get_int64(v) : 0;

	if (!v || n < INT_MIN || n > INT_MAX)
		return false;
	*out = (int)n;
	return true;
}

static bool ref_bool(json_object *o, const char *key, bool *out)
{
	json_object *v = ref_required(o, key, json_type_boolean);

	if (v)
		*out = json_object_get_boolean(v);
	return v != NULL;
}

/* What the engine's ids must be: they go into URLs and the database. */
static bool ref_id(json_object *v)
{
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v), i;

	if (n == 0 || n > 128 || strlen(s) != n || !strcmp(s, ".") ||
	    !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:", s[i]))
			return false;
	return true;
}

/* ---- what every failure must look like ---------------------------------- */

static void check_error(int rc, const nx_error *err)
{
	CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		CHECK(err->kind == NX_E_PROTOCOL);
		CHECK(nx_is_clean_text(err->msg, sizeof err->msg - 1));
	}
}

/* ---- one harness per reply ---------------------------------------------- */

static void fuzz_reply(const char *body, size_t len)
{
	json_object *ref = ref_parse(body, len), *obj = NULL;
	nx_error err = { 0 };
	int rc = nx_docker_parse_reply(body, len, WHAT, json_type_object, &obj,
				       &err);

	check_error(rc, &err);
	CHECK((rc == 0) == (ref && json_object_is_type(ref, json_type_object)));
	CHECK((rc == 0) == (obj != NULL));
	if (rc == 0)
		CHECK(json_object_equal(obj, ref));
	json_object_put(obj);
	json_object_put(ref);
}

static void fuzz_create(const char *body, size_t len, const char *object)
{
	static char unset[] = "unset";
	json_object *ref = ref_parse(body, len), *id;
	nx_error err = { 0 };
	char *got = unset;
	int rc = nx_docker_parse_create(body, len, WHAT, object, &got, &err);
	bool want;

	check_error(rc, &err);
	id = ref && json_object_is_type(ref, json_type_object) ?
		ref_required(ref, "Id", json_type_string) : NULL;
	want = id && ref_id(id);
	CHECK((rc == 0) == want);
	if (rc == 0)
		CHECK(strcmp(got, json_object_get_string(id)) == 0);
	else
		CHECK(got == NULL);
	free(got);
	json_object_put(ref);
}

static void fuzz_inspect(const char *body, size_t len)
{
	static const nx_container_state empty;
	json_object *ref = ref_parse(body, len), *st = NULL, *status = NULL;
	nx_container_state got, want = { 0 };
	nx_error err = { 0 };
	int rc;
	bool ok;

	memset(&got, 0xa5, sizeof got);
	rc = nx_docker_parse_inspect(body, len, WHAT, &got, &err);
	check_error(rc, &err);
	if (ref && json_object_is_type(ref, json_type_object))
		st = ref_required(ref, "State", json_type_object);
	if (st)
		status = ref_required(st, "Status", json_type_string);
	ok = status && ref_bool(st, "Running", &want.running) &&
	     ref_bool(st, "Paused", &want.paused) &&
	     ref_bool(st, "OOMKilled", &want.oom_killed) &&
	     ref_int(st, "ExitCode", &want.exit_code) &&
	     ref_int(st, "Pid", &want.pid) && want.pid >= 0 &&
	     nx_is_clean_text(json_object_get_string(status),
			      sizeof want.status - 1);
	CHECK((rc == 0) == ok);
	if (rc < 0) {
		CHECK(memcmp(&got, &empty, sizeof got) == 0);
	} else {
		CHECK(got.exists);
		CHECK(got.running == want.running && got.paused == want.paused &&
		      got.oom_killed == want.oom_killed);
		CHECK(got.exit_code == want.exit_code && got.pid == want.pid);
		CHECK(memchr(got.status, '\0', sizeof got.status) != NULL);
		CHECK(strcmp(got.status, json_object_get_string(status)) == 0);
	}
	json_object_put(ref);
}

static void fuzz_exec_state(const char *body, size_t len)
{
	json_object *ref = ref_parse(body, len);
	nx_error err = { 0 };
	bool running = true, want_running = false;
	int code = 12345, want_code = -1;
	int rc = nx_docker_parse_exec_state(body, len, WHAT, &running, &code,
					    &err);
	bool ok;

	check_error(rc, &err);
	ok = ref && json_object_is_type(ref, json_type_object) &&
	     ref_bool(ref, "Running", &want_running) &&
	     (want_running || ref_int(ref, "ExitCode", &want_code));
	CHECK((rc == 0) == ok);
	if (rc < 0) {
		CHECK(!running && code == -1);
	} else {
		CHECK(running == want_running);
		CHECK(code == (want_running ? -1 : want_code));
	}
	json_object_put(ref);
}

/* One entry of the container list as the reference reads it. */
static bool ref_container(json_object *item, const nx_docker_container *c)
{
	json_object *id, *created, *labels, *value = NULL;
	bool absent;

	if (!json_object_is_type(item, json_type_object))
		return false;
	id = ref_required(item, "Id", json_type_string);
	created = ref_required(item, "Created", json_type_int);
	labels = ref_member(item, "Labels", json_type_object, &absent);
	if (!id || !ref_id(id) || !created || (!labels && !absent))
		return false;
	if (labels) {
		value = ref_member(labels, LABEL_KEY, json_type_string,
				   &absent);
		if (!value && !absent)
			return false;
	}
	if (!c)
		return true;
	CHECK(strcmp(c->id, json_object_get_string(id)) == 0);
	CHECK(c->created == json_object_get_int64(created));
	if (value)
		CHECK(c->label &&
		      strcmp(c->label, json_object_get_string(value)) == 0);
	else
		CHECK(c->label == NULL);
	return true;
}

static void fuzz_containers(const char *body, size_t len)
{
	json_object *ref = ref_parse(body, len);
	nx_docker_container *got = (nx_docker_container *)&got;
	size_t count = 99, i, n = 0;
	nx_error err = { 0 };
	int rc = nx_docker_parse_container_list(body, len, WHAT, LABEL_KEY,
						&got, &count, &err);
	bool ok = ref && json_object_is_type(ref, json_type_array);

	check_error(rc, &err);
	if (ok)
		n = json_object_array_length(ref);
	for (i = 0; ok && i < n; i++)
		ok = ref_container(json_object_array_get_idx(ref, i), NULL);
	CHECK((rc == 0) == ok);
	if (rc < 0) {
		CHECK(got == NULL && count == 0);
	} else {
		CHECK(got != NULL && count == n);
		for (i = 0; i < n; i++)
			ref_container(json_object_array_get_idx(ref, i),
				      &got[i]);
	}
	nx_docker_container_list_free(got, count);
	json_object_put(ref);
}

/* The tags of one image entry that the list must return, appended to
 * want; false when the entry is malformed. */
static bool ref_image(json_object *item, json_object *want)
{
	static const char prefix[] = REPO ":";
	json_object *tags, *tag;
	bool absent;
	size_t i, n;
	const char *s;

	if (!json_object_is_type(item, json_type_object))
		return false;
	tags = ref_member(item, "RepoTags", json_type_array, &absent);
	if ((!tags && !absent) ||
	    !ref_required(item, "Size", json_type_int) ||
	    !ref_required(item, "Created", json_type_int))
		return false;
	n = tags ? json_object_array_length(tags) : 0;
	for (i = 0; i < n; i++) {
		tag = json_object_array_get_idx(tags, i);
		if (!tag || !json_object_is_type(tag, json_type_string))
			return false;
		s = json_object_get_string(tag);
		if (strncmp(s, prefix, sizeof prefix - 1) != 0 ||
		    !s[sizeof prefix - 1])
			continue;
		if (!nx_is_clean_text(s, 512))
			return false;
		json_object_array_add(want, json_object_new_string(s));
		json_object_array_add(want, json_object_get(
			ref_required(item, "Size", json_type_int)));
		json_object_array_add(want, json_object_get(
			ref_required(item, "Created", json_type_int)));
	}
	return true;
}

static void fuzz_images(const char *body, size_t len)
{
	json_object *ref = ref_parse(body, len);
	json_object *want = json_object_new_array();
	nx_docker_image *got = (nx_docker_image *)&got;
	size_t count = 99, i, n = 0;
	nx_error err = { 0 };
	int rc = nx_docker_parse_image_list(body, len, WHAT, REPO, &got,
					    &count, &err);
	bool ok = ref && json_object_is_type(ref, json_type_array);

	check_error(rc, &err);
	if (ok)
		n = json_object_array_length(ref);
	for (i = 0; ok && i < n; i++)
		ok = ref_image(json_object_array_get_idx(ref, i), want);
	CHECK((rc == 0) == ok);
	if (rc < 0) {
		CHECK(got == NULL && count == 0);
	} else {
		CHECK(count * 3 == json_object_array_length(want));
		for (i = 0; i < count; i++) {
			CHECK(strcmp(got[i].ref, json_object_get_string(
				json_object_array_get_idx(want, 3 * i))) == 0);
			CHECK(got[i].size == json_object_get_int64(
				json_object_array_get_idx(want, 3 * i + 1)));
			CHECK(got[i].created == json_object_get_int64(
				json_object_array_get_idx(want, 3 * i + 2)));
		}
	}
	nx_docker_image_list_free(got, count);
	json_object_put(want);
	json_object_put(ref);
}

static void fuzz_info(const char *body, size_t len)
{
	json_object *ref = ref_parse(body, len), *runtimes = NULL;
	nx_error err = { 0 };
	bool has = true, absent = true;
	int rc = nx_docker_parse_runtimes(body, len, WHAT, "runsc", &has, &err);
	bool ok = ref && json_object_is_type(ref, json_type_object);

	check_error(rc, &err);
	if (ok)
		runtimes = ref_member(ref, "Runtimes", json_type_object,
				      &absent);
	ok = ok && (runtimes || absent);
	CHECK((rc == 0) == ok);
	CHECK(has == (rc == 0 && runtimes &&
		      json_object_object_get_ex(runtimes, "runsc", NULL)));
	json_object_put(ref);
}

static void fuzz_import(const char *body, size_t len)
{
	json_object *ref = ref_parse(body, len);
	nx_error err = { 0 };
	int rc = nx_docker_check_import(body, len, &err);

	CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		CHECK(err.kind == NX_E_PROTOCOL || err.kind == NX_E_PROVIDER);
		CHECK(nx_is_clean_text(err.msg, sizeof err.msg - 1));
		if (err.kind == NX_E_PROVIDER)
			CHECK(strncmp(err.msg, "docker engine: ", 15) == 0);
	}
	/* Nothing but space is a quiet import. */
	if (only_space(body, len))
		CHECK(rc == 0);
	/* One progress object with no error in it is a good one. */
	if (ref && json_object_is_type(ref, json_type_object) &&
	    !json_object_object_get_ex(ref, "error", NULL) &&
	    !json_object_object_get_ex(ref, "errorDetail", NULL))
		CHECK(rc == 0);
	json_object_put(ref);
}

static void fuzz_error(const char *body, size_t len)
{
	static const size_t sizes[] = { 400, 16, 5 };
	char out[400];
	size_t i;

	for (i = 0; i < NX_ARRAY_LEN(sizes); i++) {
		memset(out, 'x', sizeof out);
		nx_docker_engine_message(502, body, len, out, sizes[i]);
		CHECK(memchr(out, '\0', sizes[i]) != NULL);
		CHECK(nx_is_clean_text(out, sizes[i] - 1));
	}
}

/* The reference: digits, a dot, digits, each at most 1000. */
static bool ref_version(const char *s, long *major, long *minor)
{
	long *part[2] = { major, minor };
	int k;

	for (k = 0; k < 2; k++) {
		if (!(*s >= '0' && *s <= '9'))
			return false;
		*part[k] = 0;
		for (; *s >= '0' && *s <= '9'; s++)
			if (*part[k] <= 1000)
				*part[k] = *part[k] * 10 + (*s - '0');
		if (*part[k] > 1000 || *s != (k == 0 ? '.' : '\0'))
			return false;
		s += k == 0;
	}
	return true;
}

static void fuzz_version(const char *body)
{
	long major = -1, minor = -1, want_major, want_minor;
	int rc = nx_docker_parse_api_version(body, &major, &minor);

	CHECK(rc == 0 || rc == -1);
	CHECK((rc == 0) == ref_version(body, &want_major, &want_minor));
	if (rc == 0)
		CHECK(major == want_major && minor == want_minor);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t name_len = nl ? (size_t)(nl - data) : size;
	size_t len = nl ? size - name_len - 1 : 0;
	char name[16];
	char *body;

	if (name_len >= sizeof name)
		return 0;
	memcpy(name, data, name_len);
	name[name_len] = '\0';
	/* Exactly len bytes and the NUL the client's buffer ends with, so
	 * ASan sees any read past them. */
	body = malloc(len + 1);
	CHECK(body);
	if (len)
		memcpy(body, nl + 1, len);
	body[len] = '\0';

	if (!strcmp(name, "reply"))
		fuzz_reply(body, len);
	else if (!strcmp(name, "create"))
		fuzz_create(body, len, "container");
	else if (!strcmp(name, "exec-create"))
		fuzz_create(body, len, "exec");
	else if (!strcmp(name, "inspect"))
		fuzz_inspect(body, len);
	else if (!strcmp(name, "exec-state"))
		fuzz_exec_state(body, len);
	else if (!strcmp(name, "containers"))
		fuzz_containers(body, len);
	else if (!strcmp(name, "images"))
		fuzz_images(body, len);
	else if (!strcmp(name, "info"))
		fuzz_info(body, len);
	else if (!strcmp(name, "import"))
		fuzz_import(body, len);
	else if (!strcmp(name, "error"))
		fuzz_error(body, len);
	else if (!strcmp(name, "version"))
		fuzz_version(body);
	free(body);
	return 0;
}
