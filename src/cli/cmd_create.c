/* cmd_create.c - nexus sandbox create NAME */
#include "cli.h"

static const char usage[] =
	"Usage: nexus sandbox create NAME [--ttl MINUTES] [--template TEMPLATE]\n"
	"                                 [--agent-id ID] [--provider NAME]\n"
	"                                 [--isolation runc|gvisor] [--json]\n"
	"\n"
	"Create a new sandbox and print its record.\n"
	"\n"
	"  -t, --ttl MINUTES      idle timeout in minutes (default: 10)\n"
	"      --template TEMPLATE  runtime (default, python, javascript, bash)\n"
	"                         or any local Docker image\n"
	"      --agent-id ID      record the agent this sandbox belongs to\n"
	"  -p, --provider NAME    where it runs: docker (default, or\n"
	"                         NEXUS_PROVIDER) or a plugin such as e2b\n"
	"      --isolation KIND   runc (default, or NEXUS_ISOLATION) or gvisor:\n"
	"                         the sandbox runs on gVisor's own kernel\n"
	"  -j, --json             print the record as JSON\n"
	"  -h, --help             show this help\n";

int cmd_create(cli *c, int argc, char **argv, nx_error *err)
{
	static const struct option longopts[] = {
		{ "ttl", required_argument, NULL, 't' },
		{ "template", required_argument, NULL, 'T' },
		{ "agent-id", required_argument, NULL, 'a' },
		{ "provider", required_argument, NULL, 'p' },
		{ "isolation", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	nx_create_opts opts = { 0 };
	nx_sandbox sb = { 0 };
	nx_engine *engine;
	bool json = false;
	long ttl;
	int opt, status;

	c->usage = usage;
	while ((opt = cli_getopt(c, argc, argv, ":t:p:jh", longopts, err)) != -1) {
		switch (opt) {
		case 't':
			if (cli_parse_number("--ttl", optarg, 1,
					     NX_MAX_TTL_MINUTES,
					     "minutes", &ttl, err) < 0)
				return -1;
			opts.ttl_minutes = (int)ttl;
			break;
		case 'T':
			opts.template_id = optarg;
			break;
		case 'a':
			opts.agent_id = optarg;
			break;
		case 'p':
			opts.provider = optarg;
			break;
		case 'i':
			opts.isolation = optarg;
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
	if (cli_one_operand(c, argc, argv, "sandbox name", &opts.name, err) < 0 ||
	    cli_engine(c, &engine, err) < 0 ||
	    nx_sandbox_create(engine, &c->ctx, &opts, &sb, err) < 0)
		return -1;
	status = cli_report(&sb, NX_SHAPE_FULL, json, "Created");
	nx_sandbox_clear(&sb);
	return status;
}
