/* record.c - sandbox records: freeing them, and writing them as the JSON
 * shapes of the CLI contract. */
#include <string.h>

#include "util.h"

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
