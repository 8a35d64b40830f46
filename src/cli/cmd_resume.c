/* cmd_resume.c - nexus sandbox resume SANDBOX */
#include "cli.h"

static const char usage[] =
	"Usage: nexus sandbox resume SANDBOX [--json]\n"
	"\n"
	"Resume a paused sandbox; its idle TTL starts afresh.\n"
	"SANDBOX is a sandbox id or an unambiguous name.\n"
	"\n"
	"  -j, --json             print the result as JSON\n"
	"  -h, --help             show this help\n";

int cmd_resume(cli *c, int argc, char **argv, nx_error *err)
{
	c->usage = usage;
	return cli_simple_command(c, argc, argv, nx_sandbox_resume,
				  NX_SHAPE_PAUSE, "Resumed", err);
}
