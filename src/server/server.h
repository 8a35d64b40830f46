/* server.h - nexus serve: the engine behind HTTP (docs/api.md). */
#ifndef NX_SERVER_H
#define NX_SERVER_H

#include <stdbool.h>

#include "../util.h"

typedef struct nx_server_opts {
	const char *host;      /* address or name to bind */
	int port;
	bool insecure;         /* allow a non-loopback bind with no keys */
} nx_server_opts;

/* Serve until SIGTERM or SIGINT, then drain and return 0; -1 with err when
 * the server cannot start. */
int nx_server_run(const nx_server_opts *opts, nx_error *err);

#endif
