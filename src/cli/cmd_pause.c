/* cmd_pause.c - nexus sandbox pause SANDBOX */
#include "cli.h"

static const char usage[] =
	"Usage: nexus sandbox pause SANDBOX [--json]\n"
	"\n"
	"Pause a sandbox: its processes are frozen and its TTL no longer runs.\n"
	"SANDBOX is a sandbox id or an unambiguous name.\n"
	"\n"
	"  -j, --json             print the result as JSON\n"
	"  -h, --help             show this help\n";

int cmd_pause(cli *c, int argc, char **argv, nx_error *err)
{
	c->usage = usage;
	return cli_simple_command(c, argc, argv, nx_sandbox_pause,
				  NX_SHAPE_PAUSE, "Paused", err);
}
