/* remote.h - the sandbox calls of the engine, sent to a nexus serve
 * (docs/api.md) instead of run here: what the CLI uses when NEXUS_URL is
 * set.  Every reply is checked as strictly as the Docker engine's. */
#ifndef NX_REMOTE_H
#define NX_REMOTE_H

#include "util.h"

typedef struct nx_remote nx_remote;

NX_HIDDEN int nx_remote_open(const char *url, const char *api_key,
			     nx_remote **out, nx_error *err);
NX_HIDDEN void nx_remote_close(nx_remote *r);

NX_HIDDEN int nx_remote_create(nx_remote *r, const nx_create_opts *opts,
			       nx_sandbox *out, nx_error *err);
NX_HIDDEN int nx_remote_run(nx_remote *r, const char *sandbox,
			    const nx_run_opts *opts, nx_run_result *out,
			    nx_error *err);
NX_HIDDEN int nx_remote_list(nx_remote *r, const nx_list_filter *filter,
			     nx_sandbox_array *out, nx_error *err);
NX_HIDDEN int nx_remote_status(nx_remote *r, const char *sandbox,
			       bool verify, nx_sandbox *out, nx_error *err);
/* action: "pause", "resume" or "stop". */
NX_HIDDEN int nx_remote_action(nx_remote *r, const char *sandbox,
			       const char *action, nx_sandbox *out,
			       nx_error *err);

/* A record in any of the contract's shapes (record.c). */
NX_HIDDEN int nx_sandbox_from_json(json_object *o, nx_sandbox *out,
				   nx_error *err);

#endif
