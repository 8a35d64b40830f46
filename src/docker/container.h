/* container.h - the hardened container configuration of a sandbox, as the
 * body of the Engine API's POST /containers/create.  Pure: it only builds
 * JSON, so the unit tests can check every hardening field. */
#ifndef NX_CONTAINER_H
#define NX_CONTAINER_H

#include <json-c/json.h>
#include <stdint.h>

#include "../util.h"

/* Where the agent sits inside every sandbox (bind-mounted read-only). */
#define NX_AGENT_IN_CONTAINER "/.nexus/nexus-agent"
/* The agent reads its per-language seccomp filters here. */
#define NX_SECCOMP_IN_CONTAINER "/.nexus/seccomp"
#define NX_SANDBOX_USER "1000:1000"
#define NX_SANDBOX_HOME "/home/user"

typedef struct nx_container_limits {
	int64_t memory_bytes;     /* memory and memory+swap alike: no swap */
	int64_t nano_cpus;
	int64_t pids;
	int64_t gvisor_processes; /* RLIMIT_NPROC under gVisor (see container.c) */
	int64_t tmp_bytes;        /* tmpfs /tmp */
	int64_t home_bytes;       /* tmpfs /home/user */
	int64_t shm_bytes;        /* /dev/shm */
	int64_t inodes;           /* per tmpfs: size= alone does not cap them */
	int64_t open_files;
} nx_container_limits;

NX_HIDDEN extern const nx_container_limits nx_default_limits;

typedef struct nx_container_params {
	const char *sandbox_id;
	const char *name;
	const char *user_id;
	const char *tenant_id;
	const char *agent_id;       /* may be NULL */
	const char *data_dir;       /* labels the store the container belongs to */
	const char *image;
	const char *agent_path;     /* host path of nexus-agent */
	const char *seccomp_dir;    /* host directory of the .bpf filters */
	const char *etc_dir;        /* host dir with hosts, hostname, resolv.conf */
	const char *seccomp_json;   /* the profile's text */
	const char *oci_runtime;    /* the engine's runtime: "runc", "runsc" */
	int ttl_minutes;
	const nx_container_limits *limits;
} nx_container_params;

NX_HIDDEN json_object *nx_container_config(const nx_container_params *p);

#endif
