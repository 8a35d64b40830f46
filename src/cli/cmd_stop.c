/* cmd_stop.c - nexus sandbox stop SANDBOX */
#include "cli.h"

static const char usage[] =
	"Usage: nexus sandbox stop SANDBOX [--json]\n"
	"\n"
	"Stop a sandbox and destroy its container and all its files.  Stopping\n"
	"a sandbox that is already stopped succeeds and changes nothing.\n"
	"SANDBOX is a sandbox id or an unambiguous name.\n"
	"\n"
	"  -j, --json             print the result as JSON\n"
	"  -h, --help             show this help\n";

int cmd_stop(cli *c, int argc, char **argv, nx_error *err)
{
	c->usage = usage;
	return cli_simple_command(c, argc, argv, nx_sandbox_stop,
				  NX_SHAPE_STOP, "Stopped", err);
}
