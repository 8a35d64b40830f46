/* nexus-provider.h - what the engine needs from a place that runs
 * sandboxes: the public interface of provider plugins.
 *
 * A versioned vtable, as SQLite's sqlite3_vfs: abi_version and
 * struct_size come first, functions are only ever appended, and a caller
 * checks both before it touches anything past them.  Docker is built in
 * (src/docker/provider.c).  A plugin is a shared object in the plugin
 * directory, NAME.so, that exports
 *
 *	const nx_provider *nx_provider_plugin(void);
 *
 * returning a vtable whose name is NAME.  The engine loads it with
 * dlopen(RTLD_NOW) by absolute path and checks abi_version and struct_size
 * before any other call.  A plugin sees only what this header and nexus.h
 * declare: it fills nx_error itself (kind and a one-line msg). */
#ifndef NX_PROVIDER_H
#define NX_PROVIDER_H

#include <stdbool.h>

#include "nexus.h"

/* 2: nx_provider_create gained isolation.  The request structs are the
 * engine's, so a new member is a new ABI: a plugin cannot tell how much of
 * them an older engine filled. */
#define NX_PROVIDER_ABI_VERSION 2

/* capability flags */
#define NX_PROVIDER_CAN_PAUSE (1u << 0)

/* What a provider is told when it makes a sandbox. */
typedef struct nx_provider_create {
	const char *sandbox_id;
	const char *name;
	const char *user_id;
	const char *tenant_id;
	const char *agent_id;      /* may be NULL */
	const char *template_id;   /* NULL: the provider's default */
	int ttl_minutes;
	/* "runc" or "gvisor" when the caller chose one, else NULL (the
	 * provider's own isolation); a provider that offers no choice
	 * refuses any value. */
	const char *isolation;
} nx_provider_create;

typedef struct nx_provider_run {
	const char *language;
	const char *code;
	size_t code_len;
	int timeout_seconds;
	size_t max_output;
	nx_output_fn on_output;
	void *userdata;
} nx_provider_run;

/* What the provider sees of a sandbox when asked (verify). */
typedef enum nx_provider_state {
	NX_PSTATE_ACTIVE,
	NX_PSTATE_PAUSED,
	NX_PSTATE_GONE,     /* no longer exists, or has ended */
} nx_provider_state;

typedef struct nx_provider {
	uint32_t abi_version;
	uint32_t struct_size;
	const char *name;          /* "docker" */
	uint32_t capabilities;

	/* Make a provider instance for one engine. */
	int (*open)(void **self, const char *data_dir, nx_error *err);
	void (*close)(void *self);

	/* Make and start a sandbox; *handle (malloc'd) names it from now on.
	 * On failure nothing is left behind. */
	int (*create)(void *self, const nx_provider_create *req,
		      char **handle, nx_error *err);
	/* Run code; a run past its timeout fails with NX_E_TIMEOUT after
	 * everything it started is gone. */
	int (*run)(void *self, const char *handle, const nx_provider_run *req,
		   nx_run_result *out, nx_error *err);
	int (*pause)(void *self, const char *handle, nx_error *err);
	int (*resume)(void *self, const char *handle, int ttl_minutes,
		      nx_error *err);
	/* Destroy; a sandbox already gone is success. */
	int (*destroy)(void *self, const char *handle, nx_error *err);
	int (*probe)(void *self, const char *handle, nx_provider_state *state,
		     nx_error *err);
	/* Destroy the sandboxes made for this data directory that are older
	 * than grace_seconds and that known() does not recognise: what a
	 * nexus killed between making a sandbox and recording it left. */
	int (*reap)(void *self, bool (*known)(void *ud, const char *sandbox_id),
		    void *ud, int grace_seconds, nx_error *err);
} nx_provider;

/* The one symbol a plugin exports (and defines; nexus only looks it up). */
#define NX_PROVIDER_PLUGIN_SYMBOL "nx_provider_plugin"
typedef const nx_provider *(*nx_provider_plugin_fn)(void);
NX_API const nx_provider *nx_provider_plugin(void);

#endif
