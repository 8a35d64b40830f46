/* nexus.h - the public C API of libnexus, the nexus sandbox engine.
 *
 * It mirrors the Python API of the sandbox CLI contract one to one:
 * nx_sandbox_create, _run, _list, _status, _pause, _resume, _stop.  Every
 * call takes a caller context (who is asking) and fills an nx_error on
 * failure.  Records serialise to the contract's JSON shapes with the
 * nx_json_* functions.
 */
#ifndef NEXUS_H
#define NEXUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NX_API __attribute__((visibility("default")))

/* ---- errors ---------------------------------------------------------- */

typedef enum nx_errkind {
	NX_OK = 0,
	NX_E_USAGE,        /* bad option or value from the caller */
	NX_E_NOTFOUND,     /* no such sandbox (or not visible to the caller) */
	NX_E_AMBIGUOUS,    /* a name matches more than one sandbox */
	NX_E_STATE,        /* the sandbox is in the wrong state for this */
	NX_E_UNSUPPORTED,  /* the provider cannot do this */
	NX_E_TIMEOUT,      /* the code ran past its timeout */
	NX_E_UNREACHABLE,  /* the provider (Docker engine) cannot be reached */
	NX_E_PROVIDER,     /* the provider answered with an error */
	NX_E_IMAGE,        /* the runtime image is missing */
	NX_E_STORE,        /* the state database failed */
	NX_E_PROTOCOL,     /* a peer sent bytes we do not accept */
	NX_E_SYSTEM,       /* a system call failed */
	NX_E_AUTH,         /* no API key, or an unknown or revoked one */
	NX_E_FORBIDDEN,    /* the caller may not do this (admins only) */
} nx_errkind;

#define NX_ERROR_MAX 1024

typedef struct nx_error {
	nx_errkind kind;
	int sys_errno;           /* errno behind the failure, or 0 */
	char msg[NX_ERROR_MAX];  /* one line, lowercase, no trailing period */
} nx_error;

/* ---- records ----------------------------------------------------------- */

typedef enum nx_status {
	NX_STATUS_ACTIVE = 0,
	NX_STATUS_PAUSED,
	NX_STATUS_STOPPED,
} nx_status;

#define NX_ID_LEN 21  /* E2B-style: lowercase letters and digits */

/* Times are microseconds since the Unix epoch, UTC; 0 means "null". */
typedef struct nx_sandbox {
	char sandbox_id[NX_ID_LEN + 1];
	char *name;
	char *user_id;
	char *agent_id;      /* NULL when none */
	char *tenant_id;
	char *provider;      /* "docker" */
	char *template_id;   /* NULL for the default template */
	char *handle;        /* provider's own id (the container id); internal */
	nx_status status;
	int64_t created_at;
	int64_t last_active_at;
	int64_t paused_at;
	int64_t stopped_at;
	int64_t busy_until;  /* a run holds expiry off until here; internal */
	int ttl_minutes;
	/* filled by --verify only */
	bool verify_done;
	bool verified;
	char *provider_status; /* NULL when the provider could not be asked */
} nx_sandbox;

typedef struct nx_sandbox_array {
	nx_sandbox *items;
	size_t count;
} nx_sandbox_array;

/* Who is asking.  NULL fields take the defaults of nx_context_default. */
typedef struct nx_context {
	const char *user_id;
	const char *agent_id;
	const char *tenant_id;
	bool admin;
} nx_context;

/* List filters; NULL means "not filtered" except user_id, which defaults
 * to the caller's own user. */
typedef struct nx_list_filter {
	const char *user_id;
	const char *agent_id;
	const char *tenant_id;
	bool verify;
} nx_list_filter;

typedef struct nx_create_opts {
	const char *name;
	int ttl_minutes;            /* 0 means the default (10) */
	const char *template_id;    /* NULL means the default runtime */
	const char *agent_id;
	/* "docker", or a plugin's name; NULL: NEXUS_PROVIDER, else docker */
	const char *provider;
	/* the docker provider's container runtime: "runc" or "gvisor";
	 * NULL: NEXUS_ISOLATION, else runc */
	const char *isolation;
} nx_create_opts;

typedef enum nx_stream { NX_STREAM_STDOUT = 1, NX_STREAM_STDERR = 2 } nx_stream;

/* Called with output as the program produces it (may be NULL). */
typedef void (*nx_output_fn)(void *userdata, nx_stream stream,
			     const char *data, size_t len);

#define NX_DEFAULT_MAX_OUTPUT ((size_t)10 << 20)
/* The ranges of the options: every front end states these in its errors,
 * and the engine checks the first two again. */
#define NX_MAX_TTL_MINUTES (7 * 24 * 60)
#define NX_MAX_TIMEOUT_SECONDS (24 * 60 * 60)
#define NX_MAX_MAX_OUTPUT (1L << 30)

typedef struct nx_run_opts {
	const char *language;       /* python, javascript, bash */
	const char *code;
	size_t code_len;
	int timeout_seconds;        /* 0 means the default (30) */
	size_t max_output;          /* bytes kept per stream; 0 means
				     * NX_DEFAULT_MAX_OUTPUT */
	nx_output_fn on_output;
	void *userdata;
} nx_run_opts;

typedef struct nx_run_result {
	char *stdout_data;
	size_t stdout_len;
	char *stderr_data;
	size_t stderr_len;
	bool stdout_truncated;
	bool stderr_truncated;
	int exit_code;
	double execution_time;      /* seconds */
} nx_run_result;

/* ---- the engine -------------------------------------------------------- */

typedef struct nx_engine nx_engine;

typedef struct nx_engine_opts {
	const char *data_dir;       /* NULL: $NEXUS_DATA_DIR or the default */
	/* A nexus serve to send every sandbox call to (docs/api.md), with
	 * its API key; NULL: this machine's engine.  Keys and the reaper
	 * are local only. */
	const char *url;
	const char *api_key;
} nx_engine_opts;

NX_API int nx_engine_open(nx_engine **out, const nx_engine_opts *opts,
			  nx_error *err);
NX_API void nx_engine_close(nx_engine *engine);

/* Fill defaults: NEXUS_USER or the login name, NEXUS_TENANT or "default". */
NX_API void nx_context_default(nx_context *ctx);

NX_API int nx_sandbox_create(nx_engine *e, const nx_context *ctx,
			     const nx_create_opts *opts, nx_sandbox *out,
			     nx_error *err);
NX_API int nx_sandbox_run(nx_engine *e, const nx_context *ctx,
			  const char *sandbox, const nx_run_opts *opts,
			  nx_run_result *out, nx_error *err);
NX_API int nx_sandbox_list(nx_engine *e, const nx_context *ctx,
			   const nx_list_filter *filter, nx_sandbox_array *out,
			   nx_error *err);
NX_API int nx_sandbox_status(nx_engine *e, const nx_context *ctx,
			     const char *sandbox, bool verify,
			     nx_sandbox *out, nx_error *err);
NX_API int nx_sandbox_pause(nx_engine *e, const nx_context *ctx,
			    const char *sandbox, nx_sandbox *out,
			    nx_error *err);
NX_API int nx_sandbox_resume(nx_engine *e, const nx_context *ctx,
			     const char *sandbox, nx_sandbox *out,
			     nx_error *err);
NX_API int nx_sandbox_stop(nx_engine *e, const nx_context *ctx,
			   const char *sandbox, nx_sandbox *out,
			   nx_error *err);

NX_API void nx_sandbox_clear(nx_sandbox *sb);
NX_API void nx_sandbox_array_clear(nx_sandbox_array *list);
NX_API void nx_run_result_clear(nx_run_result *res);

NX_API const char *nx_status_name(nx_status status);

/* ---- JSON in the contract's shapes ------------------------------------ */

typedef enum nx_shape {
	NX_SHAPE_FULL,    /* create, status */
	NX_SHAPE_LIST,    /* one entry of list */
	NX_SHAPE_PAUSE,   /* pause and resume */
	NX_SHAPE_STOP,    /* stop */
} nx_shape;

/* Return a malloc'd JSON text (pretty when asked), or NULL on no memory. */
NX_API char *nx_json_sandbox(const nx_sandbox *sb, nx_shape shape,
			     int64_t now, bool pretty);
NX_API char *nx_json_sandbox_list(const nx_sandbox_array *list, int64_t now,
				  bool pretty);
NX_API char *nx_json_run_result(const nx_run_result *res, bool pretty);

/* ---- API keys (nexus serve) ------------------------------------------- */

#define NX_KEY_ID_LEN 12

/* A key as stored: never the key itself, only its SHA-256. */
typedef struct nx_key_info {
	char key_id[NX_KEY_ID_LEN + 1];
	char *user_id;
	char *tenant_id;
	char *agent_id;       /* NULL when none */
	bool admin;
	int64_t created_at;
	int64_t revoked_at;   /* 0 while valid */
} nx_key_info;

typedef struct nx_key_info_array {
	nx_key_info *items;
	size_t count;
} nx_key_info_array;

/* Make a key for user (tenant NULL: "default"); *key (malloc'd) is the
 * only copy of it there will ever be. */
NX_API int nx_key_create(nx_engine *e, const char *user_id,
			 const char *tenant_id, const char *agent_id,
			 bool admin, char **key, nx_key_info *out,
			 nx_error *err);
NX_API int nx_key_list(nx_engine *e, nx_key_info_array *out, nx_error *err);
/* Revoke by key id; revoking a revoked key succeeds. */
NX_API int nx_key_revoke(nx_engine *e, const char *key_id, nx_key_info *out,
			 nx_error *err);
/* How many keys the store holds, revoked ones included. */
NX_API int nx_key_count(nx_engine *e, int *count, nx_error *err);
/* Who holds this key: NX_E_AUTH when it is malformed, unknown or
 * revoked (one message for all three). */
NX_API int nx_key_authenticate(nx_engine *e, const char *key,
			       nx_key_info *out, nx_error *err);
NX_API void nx_key_info_clear(nx_key_info *k);
NX_API void nx_key_info_array_clear(nx_key_info_array *list);

/* Stop every sandbox whose TTL has passed (what every call does first;
 * a server calls it on a clock). */
NX_API int nx_engine_reap(nx_engine *e, nx_error *err);

/* expires_at of a record: 0 (null) unless active. */
NX_API int64_t nx_sandbox_expires_at(const nx_sandbox *sb);
/* Seconds from creation to now, or to the stop of a stopped sandbox. */
NX_API double nx_sandbox_uptime(const nx_sandbox *sb, int64_t now);

#ifdef __cplusplus
}
#endif

#endif
