/* cmd_status.c - nexus sandbox status SANDBOX */
#include "cli.h"

static const char usage[] =
	"Usage: nexus sandbox status SANDBOX [--verify] [--json]\n"
	"\n"
	"Show a sandbox's status and metadata.\n"
	"SANDBOX is a sandbox id or an unambiguous name.\n"
	"\n"
	"  -v, --verify           ask the provider and record what it reports\n"
	"  -j, --json             print the record as JSON\n"
	"  -h, --help             show this help\n";

int cmd_status(cli *c, int argc, char **argv, nx_error *err)
{
	static const struct option longopts[] = {
		{ "verify", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	nx_sandbox sb = { 0 };
	nx_engine *engine;
	const char *ref;
	bool json = false, verify = false;
	int opt;

	c->usage = usage;
	while ((opt = cli_getopt(c, argc, argv, ":vjh", longopts, err)) != -1) {
		if (opt == 'v')
			verify = true;
		else if (opt == 'j')
			json = true;
		else if (opt == 'h')
			return CLI_EXIT_OK;
		else
			return -1;
	}
	if (cli_one_operand(c, argc, argv, "sandbox id or name", &ref, err) < 0 ||
	    cli_engine(c, &engine, err) < 0 ||
	    nx_sandbox_status(engine, &c->ctx, ref, verify, &sb, err) < 0)
		return -1;
	if (json) {
		cli_report(&sb, NX_SHAPE_FULL, true, NULL);
	} else {
		cli_print_sandbox(&sb, nx_now_us());
	}
	nx_sandbox_clear(&sb);
	return CLI_EXIT_OK;
}
