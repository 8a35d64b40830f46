/* cmd_serve.c - nexus serve [--host HOST] [--port PORT] [--insecure] */
#include "../server/server.h"
#include "cli.h"

static const char usage[] =
	"Usage: nexus serve [--host HOST] [--port PORT] [--insecure]\n"
	"\n"
	"Serve this machine's sandboxes over HTTP (docs/api.md), to the holders\n"
	"of API keys ('nexus admin key create').  Runs until SIGTERM or SIGINT,\n"
	"then finishes the requests in flight and exits.\n"
	"\n"
	"      --host HOST        address to listen on (default: 127.0.0.1)\n"
	"  -p, --port PORT        port to listen on (default: 8080)\n"
	"      --insecure         allow a non-loopback address with no API keys\n"
	"                         (every caller then acts as admin)\n"
	"  -h, --help             show this help\n";

enum { OPT_HOST = 256, OPT_INSECURE };

int cmd_serve(cli *c, int argc, char **argv, nx_error *err)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, OPT_HOST },
		{ "port", required_argument, NULL, 'p' },
		{ "insecure", no_argument, NULL, OPT_INSECURE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	nx_server_opts opts = { .host = "127.0.0.1", .port = 8080 };
	long port;
	int opt;

	c->usage = usage;
	while ((opt = cli_getopt(c, argc, argv, ":p:h", longopts, err)) != -1) {
		if (opt == OPT_HOST) {
			opts.host = optarg;
		} else if (opt == 'p') {
			if (nx_parse_int(optarg, 1, 65535, &port) < 0)
				return nx_fail(err, NX_E_USAGE,
					       "--port must be a port number from 1 to 65535, not '%s'",
					       optarg);
			opts.port = (int)port;
		} else if (opt == OPT_INSECURE) {
			opts.insecure = true;
		} else if (opt == 'h') {
			return CLI_EXIT_OK;
		} else {
			return -1;
		}
	}
	if (cli_no_operands(c, argc, argv, err) < 0 ||
	    nx_server_run(&opts, err) < 0)
		return -1;
	return CLI_EXIT_OK;
}
