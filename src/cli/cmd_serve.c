/* cmd_serve.c - nexus serve: runs nexus-server (src/server/main.c), which
 * alone links libmicrohttpd. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../paths.h"
#include "cli.h"

int cmd_serve(cli *c, int argc, char **argv, nx_error *err)
{
	static char name[] = "nexus serve";
	const char *server = nx_server_path();

	(void)c;
	(void)argc;
	/* argv[0] is what ps shows; the options follow as they were. */
	argv[0] = name;
	execv(server, argv);
	return nx_fail(err, NX_E_SYSTEM,
		       "cannot run %s: %s; reinstall nexus or set NEXUS_SERVER",
		       server, strerror(errno));
}
