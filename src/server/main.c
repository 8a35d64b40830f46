/* main.c - nexus-server, what 'nexus serve' runs: a program of its own so
 * that the nexus command does not load libmicrohttpd and its TLS stack
 * (about as many libraries as libcurl) on every run. */
#include <getopt.h>
#include <signal.h>
#include <string.h>

#include "server.h"

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

/* 0 to serve, else the exit status; err filled for status 2. */
static int parse(int argc, char **argv, nx_server_opts *opts, nx_error *err)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, OPT_HOST },
		{ "port", required_argument, NULL, 'p' },
		{ "insecure", no_argument, NULL, OPT_INSECURE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long port;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1) {
		if (opt == OPT_HOST) {
			opts->host = optarg;
		} else if (opt == 'p') {
			if (nx_parse_int(optarg, 1, 65535, &port) < 0)
				return nx_fail(err, NX_E_USAGE,
					       "--port must be a port number from 1 to 65535, not '%s'",
					       optarg), 2;
			opts->port = (int)port;
		} else if (opt == OPT_INSECURE) {
			opts->insecure = true;
		} else if (opt == 'h') {
			fputs(usage, stdout);
			return 1;
		} else {
			nx_option_error(err, opt, argv[optind - 1], longopts,
					"nexus serve");
			return 2;
		}
	}
	if (optind < argc)
		return nx_fail(err, NX_E_USAGE,
			       "unexpected argument '%s' (see 'nexus serve --help')",
			       argv[optind]), 2;
	return 0;
}

int main(int argc, char **argv)
{
	nx_server_opts opts = { .host = "127.0.0.1", .port = 8080 };
	nx_error err = { 0 };
	int status;

	signal(SIGPIPE, SIG_IGN);
	status = parse(argc, argv, &opts, &err);
	if (status == 1)
		return 0;
	if (status == 0 && nx_server_run(&opts, &err) == 0)
		return 0;
	fprintf(stderr, "Error: %s\n", err.msg);
	return err.kind == NX_E_USAGE ? 2 : 1;
}
