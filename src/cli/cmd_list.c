/* cmd_list.c - nexus sandbox list */
#include "cli.h"

static const char usage[] =
	"Usage: nexus sandbox list [--user-id USER] [--agent-id AGENT]\n"
	"                          [--tenant-id TENANT] [--verify] [--json]\n"
	"\n"
	"List sandboxes; by default the current user's.\n"
	"\n"
	"  -u, --user-id USER     list this user's sandboxes\n"
	"  -a, --agent-id AGENT   only sandboxes of this agent\n"
	"  -t, --tenant-id TENANT only sandboxes of this tenant\n"
	"  -v, --verify           ask the provider for each sandbox's real\n"
	"                         status and record it (slower, accurate)\n"
	"  -j, --json             print the list as JSON\n"
	"  -h, --help             show this help\n";

int cmd_list(cli *c, int argc, char **argv, nx_error *err)
{
	static const struct option longopts[] = {
		{ "user-id", required_argument, NULL, 'u' },
		{ "agent-id", required_argument, NULL, 'a' },
		{ "tenant-id", required_argument, NULL, 't' },
		{ "verify", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	nx_list_filter filter = { 0 };
	nx_sandbox_array list = { 0 };
	nx_engine *engine;
	bool json = false;
	int64_t now;
	int opt;

	c->usage = usage;
	while ((opt = cli_getopt(c, argc, argv, ":u:a:t:vjh", longopts, err)) != -1) {
		switch (opt) {
		case 'u':
			filter.user_id = optarg;
			break;
		case 'a':
			filter.agent_id = optarg;
			break;
		case 't':
			filter.tenant_id = optarg;
			break;
		case 'v':
			filter.verify = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return CLI_EXIT_OK;
		default:
			return -1;
		}
	}
	if (cli_no_operands(c, argc, argv, err) < 0 ||
	    cli_engine(c, &engine, err) < 0 ||
	    nx_sandbox_list(engine, &c->ctx, &filter, &list, err) < 0)
		return -1;
	now = nx_now_us();
	if (json) {
		cleanup_free char *text = nx_json_sandbox_list(&list, now, true);

		cli_print_json(text);
	} else {
		cli_print_list(&list, filter.verify, now);
	}
	nx_sandbox_array_clear(&list);
	return CLI_EXIT_OK;
}
