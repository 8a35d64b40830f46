/* record.c - sandbox records: freeing them, writing them as the JSON
 * shapes of the CLI contract, and reading those shapes back. */
#include <stdint.h>
#include <string.h>

#include "remote.h"

void nx_sandbox_clear(nx_sandbox *sb)
{
	free(sb->name);
	free(sb->user_id);
	free(sb->agent_id);
	free(sb->tenant_id);
	free(sb->provider);
	free(sb->template_id);
	free(sb->handle);
	free(sb->provider_status);
	memset(sb, 0, sizeof *sb);
}

void nx_sandbox_array_clear(nx_sandbox_array *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		nx_sandbox_clear(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

const char *nx_status_name(nx_status status)
{
	switch (status) {
	case NX_STATUS_ACTIVE:
		return "active";
	case NX_STATUS_PAUSED:
		return "paused";
	case NX_STATUS_STOPPED:
		return "stopped";
	}
	return "unknown";
}

int64_t nx_sandbox_expires_at(const nx_sandbox *sb)
{
	if (sb->status != NX_STATUS_ACTIVE)
		return 0;
	return sb->last_active_at + (int64_t)sb->ttl_minutes * 60 * 1000000;
}

double nx_sandbox_uptime(const nx_sandbox *sb, int64_t now)
{
	int64_t end = sb->status == NX_STATUS_STOPPED && sb->stopped_at ?
			      sb->stopped_at : now;

	return end > sb->created_at ? (double)(end - sb->created_at) / 1e6 : 0;
}

static json_object *json_time(int64_t us)
{
	char buf[NX_TIME_LEN];

	if (!us)
		return NULL;
	nx_format_time(us, buf);
	return json_object_new_string(buf);
}

static json_object *json_string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* Seconds with at most three decimals, as the contract shows them
 * (0.005, 102.3, 0.56), not json-c's seventeen digits. */
static json_object *json_seconds(double secs)
{
	char buf[64];
	size_t len;

	snprintf(buf, sizeof buf, "%.3f", secs);
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '0' && buf[len - 2] != '.')
		buf[--len] = '\0';
	return json_object_new_double_s(secs, buf);
}

static void add(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static void add_verify_fields(json_object *o, const nx_sandbox *sb)
{
	if (!sb->verify_done)
		return;
	add(o, "verified", json_object_new_boolean(sb->verified));
	add(o, "provider_status", json_string_or_null(sb->provider_status));
}

static json_object *sandbox_object(const nx_sandbox *sb, nx_shape shape,
				   int64_t now)
{
	json_object *o = json_object_new_object();

	add(o, "sandbox_id", json_object_new_string(sb->sandbox_id));
	add(o, "name", json_object_new_string(sb->name));
	if (shape == NX_SHAPE_FULL) {
		add(o, "user_id", json_object_new_string(sb->user_id));
		add(o, "agent_id", json_string_or_null(sb->agent_id));
		add(o, "tenant_id", json_object_new_string(sb->tenant_id));
		add(o, "provider", json_object_new_string(sb->provider));
		add(o, "template_id", json_string_or_null(sb->template_id));
	}
	add(o, "status", json_object_new_string(nx_status_name(sb->status)));
	switch (shape) {
	case NX_SHAPE_FULL:
		add_verify_fields(o, sb);
		add(o, "created_at", json_time(sb->created_at));
		add(o, "last_active_at", json_time(sb->last_active_at));
		add(o, "paused_at", json_time(sb->paused_at));
		add(o, "stopped_at", json_time(sb->stopped_at));
		add(o, "ttl_minutes", json_object_new_int(sb->ttl_minutes));
		add(o, "expires_at", json_time(nx_sandbox_expires_at(sb)));
		add(o, "uptime_seconds", json_seconds(nx_sandbox_uptime(sb, now)));
		break;
	case NX_SHAPE_LIST:
		add_verify_fields(o, sb);
		add(o, "created_at", json_time(sb->created_at));
		add(o, "expires_at", json_time(nx_sandbox_expires_at(sb)));
		add(o, "ttl_minutes", json_object_new_int(sb->ttl_minutes));
		add(o, "uptime_seconds", json_seconds(nx_sandbox_uptime(sb, now)));
		break;
	case NX_SHAPE_PAUSE:
		add(o, "paused_at", json_time(sb->paused_at));
		add(o, "expires_at", json_time(nx_sandbox_expires_at(sb)));
		break;
	case NX_SHAPE_STOP:
		add(o, "stopped_at", json_time(sb->stopped_at));
		add(o, "expires_at", json_time(nx_sandbox_expires_at(sb)));
		break;
	}
	return o;
}

static char *to_text(json_object *o, bool pretty)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
			      JSON_C_TO_STRING_PLAIN);

	return nx_xstrdup(json_object_to_json_string_ext(o, flags));
}

char *nx_json_sandbox(const nx_sandbox *sb, nx_shape shape, int64_t now,
		      bool pretty)
{
	cleanup_json json_object *o = sandbox_object(sb, shape, now);

	return to_text(o, pretty);
}

char *nx_json_sandbox_list(const nx_sandbox_array *list, int64_t now,
			   bool pretty)
{
	cleanup_json json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < list->count; i++)
		json_object_array_add(arr, sandbox_object(&list->items[i],
							  NX_SHAPE_LIST, now));
	add(o, "sandboxes", arr);
	return to_text(o, pretty);
}

static json_object *json_output(const char *data, size_t len)
{
	size_t clean_len;
	cleanup_free char *clean = nx_utf8_sanitize(data ? data : "", len,
						    &clean_len);

	return json_object_new_string_len(clean, (int)clean_len);
}

char *nx_json_run_result(const nx_run_result *res, bool pretty)
{
	cleanup_json json_object *o = json_object_new_object();

	add(o, "stdout", json_output(res->stdout_data, res->stdout_len));
	add(o, "stderr", json_output(res->stderr_data, res->stderr_len));
	add(o, "exit_code", json_object_new_int(res->exit_code));
	add(o, "execution_time", json_seconds(res->execution_time));
	return to_text(o, pretty);
}

void nx_run_result_clear(nx_run_result *res)
{
	free(res->stdout_data);
	free(res->stderr_data);
	memset(res, 0, sizeof *res);
}

/* ---- reading records back (remote mode) ------------------------------- */

#define MAX_FIELD_LEN 256

static int malformed(nx_error *err, const char *field)
{
	return nx_fail(err, NX_E_PROTOCOL,
		       "the nexus server sent a sandbox record with a bad '%s'",
		       field);
}

/* The member key of o: absent or null gives *out NULL when nullable. */
static int member_of(json_object *o, const char *key, json_type type,
		     bool nullable, json_object **out, nx_error *err)
{
	json_object *v = NULL;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return nullable ? 0 : malformed(err, key);
	if (!json_object_is_type(v, type))
		return malformed(err, key);
	*out = v;
	return 0;
}

static int text_field(json_object *o, const char *key, bool nullable,
		      char **out, nx_error *err)
{
	json_object *v;

	if (member_of(o, key, json_type_string, nullable, &v, err) < 0)
		return -1;
	if (!v)
		return 0;
	if (!nx_is_clean_text(json_object_get_string(v), MAX_FIELD_LEN))
		return malformed(err, key);
	*out = nx_xstrdup(json_object_get_string(v));
	return 0;
}

static int time_field(json_object *o, const char *key, int64_t *out,
		      bool *present, nx_error *err)
{
	json_object *v;

	if (member_of(o, key, json_type_string, true, &v, err) < 0)
		return -1;
	if (present)
		*present = json_object_object_get_ex(o, key, NULL);
	if (v && nx_parse_time(json_object_get_string(v), out) < 0)
		return malformed(err, key);
	return 0;
}

static int status_field(json_object *o, nx_status *out, nx_error *err)
{
	json_object *v;
	const char *s;
	int i;

	if (member_of(o, "status", json_type_string, false, &v, err) < 0)
		return -1;
	s = json_object_get_string(v);
	for (i = NX_STATUS_ACTIVE; i <= NX_STATUS_STOPPED; i++)
		if (strcmp(s, nx_status_name((nx_status)i)) == 0) {
			*out = (nx_status)i;
			return 0;
		}
	return malformed(err, "status");
}

static int fill_record(json_object *o, nx_sandbox *sb, nx_error *err)
{
	json_object *id, *ttl, *verified;
	int64_t expires = 0;
	bool has_last_active = false;

	if (member_of(o, "sandbox_id", json_type_string, false, &id, err) < 0)
		return -1;
	if (!nx_is_sandbox_id(json_object_get_string(id)))
		return malformed(err, "sandbox_id");
	memcpy(sb->sandbox_id, json_object_get_string(id), NX_ID_LEN + 1);
	if (text_field(o, "name", false, &sb->name, err) < 0 ||
	    text_field(o, "user_id", true, &sb->user_id, err) < 0 ||
	    text_field(o, "agent_id", true, &sb->agent_id, err) < 0 ||
	    text_field(o, "tenant_id", true, &sb->tenant_id, err) < 0 ||
	    text_field(o, "provider", true, &sb->provider, err) < 0 ||
	    text_field(o, "template_id", true, &sb->template_id, err) < 0 ||
	    text_field(o, "provider_status", true, &sb->provider_status, err) < 0 ||
	    status_field(o, &sb->status, err) < 0 ||
	    time_field(o, "created_at", &sb->created_at, NULL, err) < 0 ||
	    time_field(o, "last_active_at", &sb->last_active_at,
		       &has_last_active, err) < 0 ||
	    time_field(o, "paused_at", &sb->paused_at, NULL, err) < 0 ||
	    time_field(o, "stopped_at", &sb->stopped_at, NULL, err) < 0 ||
	    time_field(o, "expires_at", &expires, NULL, err) < 0 ||
	    member_of(o, "ttl_minutes", json_type_int, true, &ttl, err) < 0 ||
	    member_of(o, "verified", json_type_boolean, true, &verified, err) < 0)
		return -1;
	if (ttl) {
		if (json_object_get_int64(ttl) < 1 ||
		    json_object_get_int64(ttl) > INT32_MAX)
			return malformed(err, "ttl_minutes");
		sb->ttl_minutes = (int)json_object_get_int64(ttl);
	}
	if (verified) {
		sb->verify_done = true;
		sb->verified = json_object_get_boolean(verified);
	}
	/* The list, pause and stop shapes carry expires_at but not
	 * last_active_at (nor, for pause and stop, the TTL): give the record
	 * the last_active_at that makes nx_sandbox_expires_at say the same. */
	if (!has_last_active && expires)
		sb->last_active_at = expires - (int64_t)sb->ttl_minutes * 60 * 1000000;
	return 0;
}

int nx_sandbox_from_json(json_object *o, nx_sandbox *out, nx_error *err)
{
	memset(out, 0, sizeof *out);
	if (!json_object_is_type(o, json_type_object))
		return nx_fail(err, NX_E_PROTOCOL,
			       "the nexus server sent a sandbox record that is not an object");
	if (fill_record(o, out, err) < 0) {
		nx_sandbox_clear(out);
		return -1;
	}
	return 0;
}
