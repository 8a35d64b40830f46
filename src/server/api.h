/* api.h - the HTTP API of nexus serve (docs/api.md) apart from
 * libmicrohttpd: one request in, one JSON reply out.  server.c hands it
 * what libmicrohttpd parsed; the fuzz harness (tests/fuzz/fuzz_server.c)
 * hands it anything at all. */
#ifndef NX_API_H
#define NX_API_H

#include <stdbool.h>
#include <stddef.h>

#include "../util.h"

typedef struct nx_api_request {
	const char *method;
	const char *url;         /* the path, decoded, without the query */
	const char *body;        /* body_len bytes (NULL when none) */
	size_t body_len;
	bool too_large;          /* the body went past the maximum */
	/* A query argument, or a header (its name in any case), or NULL. */
	const char *(*query)(void *conn, const char *name);
	const char *(*header)(void *conn, const char *name);
	void *conn;
} nx_api_request;

/* What the API answers: an HTTP status and a JSON object (malloc'd). */
typedef struct nx_api_reply {
	unsigned status;
	char *json;
} nx_api_reply;

/* {"error": {"kind": kind, "message": message}} with status. */
nx_api_reply nx_api_error(unsigned status, const char *kind,
			  const char *message);

/* The reply to rq, from an engine opened with eo for this request alone,
 * acting for the holder of the key presented, or for local when there is
 * none and the store holds no keys. */
nx_api_reply nx_api_handle(const nx_api_request *rq,
			   const nx_engine_opts *eo, const nx_context *local);

#endif
