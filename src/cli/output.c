/* output.c - human and JSON output. */
#include <errno.h>
#include <string.h>

#include "cli.h"

void cli_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void cli_print_json(const char *text)
{
	printf("%s\n", text);
}

static const char *time_or_dash(int64_t us, char buf[NX_TIME_LEN])
{
	if (!us)
		return "-";
	nx_format_time(us, buf);
	return buf;
}

void cli_print_sandbox(const nx_sandbox *sb, int64_t now)
{
	char t1[NX_TIME_LEN];

	printf("Sandbox:      %s\n", sb->sandbox_id);
	printf("Name:         %s\n", sb->name);
	printf("Status:       %s\n", nx_status_name(sb->status));
	if (sb->verify_done)
		printf("Verified:     %s (provider says %s)\n",
		       sb->verified ? "yes" : "no",
		       sb->provider_status ? sb->provider_status : "nothing");
	printf("User:         %s\n", sb->user_id);
	printf("Agent:        %s\n", sb->agent_id ? sb->agent_id : "-");
	printf("Tenant:       %s\n", sb->tenant_id);
	printf("Provider:     %s\n", sb->provider);
	printf("Template:     %s\n", sb->template_id ? sb->template_id : "default");
	printf("Created:      %s\n", time_or_dash(sb->created_at, t1));
	printf("Last active:  %s\n", time_or_dash(sb->last_active_at, t1));
	printf("Paused:       %s\n", time_or_dash(sb->paused_at, t1));
	printf("Stopped:      %s\n", time_or_dash(sb->stopped_at, t1));
	printf("TTL:          %d minutes\n", sb->ttl_minutes);
	printf("Expires:      %s\n",
	       time_or_dash(nx_sandbox_expires_at(sb), t1));
	printf("Uptime:       %.1f seconds\n", nx_sandbox_uptime(sb, now));
}

void cli_print_list(const nx_sandbox_array *list, bool verify, int64_t now)
{
	char created[NX_TIME_LEN], expires[NX_TIME_LEN];
	size_t i;

	if (list->count == 0) {
		printf("No sandboxes.\n");
		return;
	}
	printf("%-21s  %-20s  %-7s  %s%-19s  %-19s  %5s  %9s\n", "SANDBOX ID",
	       "NAME", "STATUS", verify ? "VERIFIED  " : "", "CREATED",
	       "EXPIRES", "TTL", "UPTIME");
	for (i = 0; i < list->count; i++) {
		const nx_sandbox *sb = &list->items[i];
		char verified[16] = "";

		if (verify)
			snprintf(verified, sizeof verified, "%-8s  ",
				 !sb->verified ? "no" :
				 sb->provider_status ? sb->provider_status : "?");
		printf("%-21s  %-20s  %-7s  %s%-19s  %-19s  %4dm  %8.1fs\n",
		       sb->sandbox_id, sb->name, nx_status_name(sb->status),
		       verified, time_or_dash(sb->created_at, created),
		       time_or_dash(nx_sandbox_expires_at(sb), expires),
		       sb->ttl_minutes, nx_sandbox_uptime(sb, now));
	}
}

int cli_report(const nx_sandbox *sb, nx_shape shape, bool json,
	       const char *verb)
{
	int64_t now = nx_now_us();
	char t[NX_TIME_LEN];

	if (json) {
		cleanup_free char *text = nx_json_sandbox(sb, shape, now, true);

		cli_print_json(text);
		return CLI_EXIT_OK;
	}
	printf("%s sandbox %s (%s)\n", verb, sb->name, sb->sandbox_id);
	if (sb->status == NX_STATUS_ACTIVE)
		printf("Expires: %s (idle TTL %d minutes)\n",
		       time_or_dash(nx_sandbox_expires_at(sb), t),
		       sb->ttl_minutes);
	return CLI_EXIT_OK;
}
