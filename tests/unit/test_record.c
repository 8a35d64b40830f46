/* test_record.c - records serialise to exactly the contract's JSON. */
#include <string.h>

#include "lib/tap.h"
#include "util.h"

#define T0 (1762131820LL * 1000000) /* 2025-11-03T01:03:40 */

static nx_sandbox sample(void)
{
	nx_sandbox sb = { 0 };

	memcpy(sb.sandbox_id, "ipi7dxuc5687axlhm5hmd", NX_ID_LEN + 1);
	sb.name = nx_xstrdup("my-sandbox");
	sb.user_id = nx_xstrdup("user123");
	sb.tenant_id = nx_xstrdup("default");
	sb.provider = nx_xstrdup("docker");
	sb.status = NX_STATUS_ACTIVE;
	sb.created_at = T0;
	sb.last_active_at = T0;
	sb.ttl_minutes = 10;
	return sb;
}

static void test_full(void)
{
	nx_sandbox sb = sample();
	char *json = nx_json_sandbox(&sb, NX_SHAPE_FULL, T0 + 5000, false);

	is_str(json,
	       "{\"sandbox_id\":\"ipi7dxuc5687axlhm5hmd\",\"name\":\"my-sandbox\","
	       "\"user_id\":\"user123\",\"agent_id\":null,\"tenant_id\":\"default\","
	       "\"provider\":\"docker\",\"template_id\":null,\"status\":\"active\","
	       "\"created_at\":\"2025-11-03T01:03:40\",\"last_active_at\":\"2025-11-03T01:03:40\","
	       "\"paused_at\":null,\"stopped_at\":null,\"ttl_minutes\":10,"
	       "\"expires_at\":\"2025-11-03T01:13:40\",\"uptime_seconds\":0.005}",
	       "create/status shape, as in the contract");
	free(json);
	sb.verify_done = true;
	sb.verified = true;
	sb.provider_status = nx_xstrdup("active");
	json = nx_json_sandbox(&sb, NX_SHAPE_LIST, T0 + 123400000, false);
	is_str(json,
	       "{\"sandbox_id\":\"ipi7dxuc5687axlhm5hmd\",\"name\":\"my-sandbox\","
	       "\"status\":\"active\",\"verified\":true,\"provider_status\":\"active\","
	       "\"created_at\":\"2025-11-03T01:03:40\",\"expires_at\":\"2025-11-03T01:13:40\","
	       "\"ttl_minutes\":10,\"uptime_seconds\":123.4}",
	       "list shape with --verify fields");
	free(json);
	nx_sandbox_clear(&sb);
}

static void test_pause_stop(void)
{
	nx_sandbox sb = sample();
	char *json;

	sb.status = NX_STATUS_PAUSED;
	sb.paused_at = T0 + 380 * 1000000LL;
	json = nx_json_sandbox(&sb, NX_SHAPE_PAUSE, T0, false);
	is_str(json,
	       "{\"sandbox_id\":\"ipi7dxuc5687axlhm5hmd\",\"name\":\"my-sandbox\","
	       "\"status\":\"paused\",\"paused_at\":\"2025-11-03T01:10:00\",\"expires_at\":null}",
	       "pause shape: paused sandboxes do not expire");
	free(json);
	sb.status = NX_STATUS_STOPPED;
	sb.stopped_at = T0 + 680 * 1000000LL;
	json = nx_json_sandbox(&sb, NX_SHAPE_STOP, T0 + 999 * 1000000LL, false);
	is_str(json,
	       "{\"sandbox_id\":\"ipi7dxuc5687axlhm5hmd\",\"name\":\"my-sandbox\","
	       "\"status\":\"stopped\",\"stopped_at\":\"2025-11-03T01:15:00\",\"expires_at\":null}",
	       "stop shape");
	free(json);
	ok(nx_sandbox_uptime(&sb, T0 + 999 * 1000000LL) == 680.0,
	   "a stopped sandbox's uptime ends at its stop");
	nx_sandbox_clear(&sb);
}

static void test_run_result(void)
{
	nx_run_result res = { 0 };
	char *json;

	res.stdout_data = nx_xstrndup("Hello\xff\0World\n", 13);
	res.stdout_len = 13;
	res.stderr_data = nx_xstrdup("");
	res.exit_code = 0;
	res.execution_time = 0.56;
	json = nx_json_run_result(&res, false);
	is_str(json,
	       "{\"stdout\":\"Hello\xef\xbf\xbd\\u0000World\\n\",\"stderr\":\"\","
	       "\"exit_code\":0,\"execution_time\":0.56}",
	       "run shape; invalid UTF-8 replaced, NUL escaped: always valid JSON");
	free(json);
	nx_run_result_clear(&res);
}

int main(void)
{
	test_full();
	test_pause_stop();
	test_run_result();
	return tap_done();
}
