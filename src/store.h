/* store.h - where sandbox records live.  An interface with one backend
 * today (SQLite, store_sqlite.c): WAL, a busy timeout, a schema version
 * with migrations, and a transaction around every change.
 *
 * Rows are nx_sandbox records (nexus.h); the store owns no policy: which
 * rows may change and how is the engine's business.  Every write that
 * depends on what the engine read earlier is conditional on it (the
 * "expect" status), so two processes racing on one sandbox cannot both
 * win. */
#ifndef NX_STORE_H
#define NX_STORE_H

#include "util.h"

typedef struct nx_store nx_store;

/* The engine's store, for the parts of libnexus beside the engine (keys). */
NX_HIDDEN nx_store *nx_engine_store(nx_engine *e);

/* Open (creating) the database at path; mode 0600, parent dir made 0700. */
NX_HIDDEN int nx_store_open(const char *path, nx_store **out, nx_error *err);
NX_HIDDEN void nx_store_close(nx_store *s);

/* How long a write waits for another process's lock before failing with
 * "locked" (default 10 s).  For tests, and for callers that would rather
 * fail fast. */
NX_HIDDEN void nx_store_set_busy_timeout(nx_store *s, int ms);

/* Durable (the default): a commit is on disk before it returns, one
 * fsync of the WAL.  Not durable: a power cut may take back the last
 * commits, never corrupt the file; for writes that are cheap to lose. */
NX_HIDDEN void nx_store_set_durable(nx_store *s, bool durable);

/* Insert a new row; the id must be unused (NX_E_STORE otherwise). */
NX_HIDDEN int nx_store_insert(nx_store *s, const nx_sandbox *sb,
			      nx_error *err);

/* Load a row by id: 0 and *found true/false, or -1 on failure. */
NX_HIDDEN int nx_store_get(nx_store *s, const char *sandbox_id,
			   nx_sandbox *out, bool *found, nx_error *err);

/* Rows whose name equals name, in this user's tenant, newest first. */
NX_HIDDEN int nx_store_find_by_name(nx_store *s, const char *user_id,
				    const char *tenant_id, const char *name,
				    nx_sandbox_array *out, nx_error *err);

/* Rows matching the filter (NULL fields match anything), oldest first. */
typedef struct nx_store_filter {
	const char *user_id;
	const char *agent_id;
	const char *tenant_id;
} nx_store_filter;
NX_HIDDEN int nx_store_list(nx_store *s, const nx_store_filter *filter,
			    nx_sandbox_array *out, nx_error *err);

/* Active rows with max(last_active_at + ttl, busy_until) <= now. */
NX_HIDDEN int nx_store_list_expired(nx_store *s, int64_t now,
				    nx_sandbox_array *out, nx_error *err);

/* Write status, last_active_at, paused_at, stopped_at, busy_until and
 * provider_status of sb, only if the row's status is still expect.
 * *changed tells whether it was. */
NX_HIDDEN int nx_store_update(nx_store *s, const nx_sandbox *sb,
			      nx_status expect, bool *changed, nx_error *err);

/* ---- API keys ---- */

#define NX_KEY_HASH_LEN 64 /* SHA-256, lowercase hex */

NX_HIDDEN int nx_store_key_insert(nx_store *s, const nx_key_info *k,
				  const char *hash, nx_error *err);
/* hash may be NULL when not wanted. */
NX_HIDDEN int nx_store_key_get(nx_store *s, const char *key_id,
			       nx_key_info *out, char hash[NX_KEY_HASH_LEN + 1],
			       bool *found, nx_error *err);
NX_HIDDEN int nx_store_key_list(nx_store *s, nx_key_info_array *out,
				nx_error *err);
/* Mark revoked at now, unless it already is. */
NX_HIDDEN int nx_store_key_revoke(nx_store *s, const char *key_id,
				  int64_t now, nx_error *err);
NX_HIDDEN int nx_store_key_count(nx_store *s, int *count, nx_error *err);

#endif
