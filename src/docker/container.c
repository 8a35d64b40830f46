/* container.c - hardened by default: every sandbox container gets all of
 * this, and nothing here is loosened without an explicit option.
 *
 * - no capabilities, no-new-privileges, our own seccomp profile (Docker
 *   20.10's built-in one still allows io_uring, AF_VSOCK and raw sockets);
 * - no network at all (NetworkMode none), private IPC, PID, UTS and cgroup
 *   namespaces;
 * - read-only root; size- and inode-capped tmpfs for /tmp and the home
 *   directory (owned by the sandbox user, or it could not write there);
 *   Docker's own writable /etc/hosts, /etc/hostname and /etc/resolv.conf
 *   replaced by read-only files of ours;
 * - a non-root user; memory (= memory+swap), CPU, pids and open-file
 *   limits; a capped log, since code can write to PID 1's stdout;
 * - the engine's runc, or gVisor's runsc when asked for (--isolation
 *   gvisor), named explicitly so an engine whose default runtime is
 *   another cannot change what a sandbox runs under;
 * - the agent as PID 1, which ends the container when the idle TTL
 *   passes, and AutoRemove, so an ended sandbox leaves nothing behind;
 * - labels naming the sandbox, its owner and its store, so orphans can be
 *   found. */
#include <string.h>

#include "../agent/protocol.h"
#include "container.h"

const nx_container_limits nx_default_limits = {
	.memory_bytes = 1024LL << 20,
	.nano_cpus = 1000000000LL,
	.pids = 256,
	.gvisor_processes = 64,
	.tmp_bytes = 256LL << 20,
	.home_bytes = 512LL << 20,
	.shm_bytes = 64LL << 20,
	.inodes = 65536,
	.open_files = 4096,
};

/* Set for custom template images too, which may set none of it. */
static const char *const sandbox_env[] = {
	"HOME=" NX_SANDBOX_HOME,
	"LANG=C.UTF-8",
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"PYTHONUNBUFFERED=1",
	NULL,
};

static void add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static void add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static json_object *string_array(const char *const *v)
{
	json_object *a = json_object_new_array();

	for (; *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

static json_object *labels(const nx_container_params *p)
{
	json_object *l = json_object_new_object();
	char ttl[16];

	snprintf(ttl, sizeof ttl, "%d", p->ttl_minutes);
	add_str(l, "io.nexus.managed", "true");
	add_str(l, "io.nexus.sandbox-id", p->sandbox_id);
	add_str(l, "io.nexus.name", p->name);
	add_str(l, "io.nexus.user", p->user_id);
	add_str(l, "io.nexus.tenant", p->tenant_id);
	if (p->agent_id)
		add_str(l, "io.nexus.agent", p->agent_id);
	add_str(l, "io.nexus.data-dir", p->data_dir);
	add_str(l, "io.nexus.ttl-minutes", ttl);
	add_str(l, "io.nexus.runtime", p->oci_runtime);
	return l;
}

static json_object *tmpfs(const nx_container_limits *lim)
{
	json_object *t = json_object_new_object();
	char opts[160];

	snprintf(opts, sizeof opts,
		 "rw,nosuid,nodev,size=%lld,nr_inodes=%lld,mode=1777",
		 (long long)lim->tmp_bytes, (long long)lim->inodes);
	add_str(t, "/tmp", opts);
	snprintf(opts, sizeof opts,
		 "rw,nosuid,nodev,size=%lld,nr_inodes=%lld,uid=1000,gid=1000,mode=0700",
		 (long long)lim->home_bytes, (long long)lim->inodes);
	add_str(t, NX_SANDBOX_HOME, opts);
	/* The agent's run socket, and nothing else: one inode. */
	add_str(t, NXA_SOCKET_DIR,
		"rw,nosuid,nodev,noexec,size=4k,nr_inodes=4,uid=1000,gid=1000,mode=0700");
	return t;
}

/* A mount, not a bind: a missing source is then an error instead of an
 * empty directory the engine makes in its place. */
static void add_bind(json_object *mounts, const char *host,
		     const char *file, const char *target)
{
	cleanup_free char *source = nx_xasprintf("%s%s%s", host,
						 file ? "/" : "",
						 file ? file : "");
	json_object *m = json_object_new_object();

	add_str(m, "Type", "bind");
	add_str(m, "Source", source);
	add_str(m, "Target", target);
	json_object_object_add(m, "ReadOnly", json_object_new_boolean(1));
	json_object_array_add(mounts, m);
}

static json_object *mounts(const nx_container_params *p)
{
	json_object *m = json_object_new_array();

	add_bind(m, p->agent_path, NULL, NX_AGENT_IN_CONTAINER);
	add_bind(m, p->seccomp_dir, NULL, NX_SECCOMP_IN_CONTAINER);
	add_bind(m, p->etc_dir, "hosts", "/etc/hosts");
	add_bind(m, p->etc_dir, "hostname", "/etc/hostname");
	add_bind(m, p->etc_dir, "resolv.conf", "/etc/resolv.conf");
	return m;
}

static json_object *security_opts(const nx_container_params *p)
{
	json_object *a = json_object_new_array();
	cleanup_free char *seccomp = nx_xasprintf("seccomp=%s",
						  p->seccomp_json);

	json_object_array_add(a, json_object_new_string("no-new-privileges:true"));
	json_object_array_add(a, json_object_new_string(seccomp));
	return a;
}

/* Under gVisor's ptrace platform every process of the sandbox costs the
 * sentry several host tasks (measured: a pids limit of 1024 ends the
 * whole sandbox at 100 to 200 processes), so the pids cgroup cannot count
 * the sandbox's processes.  There it caps the sentry at this many host
 * tasks per process of the runc limit, and RLIMIT_NPROC, which gVisor's
 * own kernel counts for the sandbox alone, caps the processes and threads
 * at gvisor_processes.  That is lower than runc's limit because each one
 * costs the sentry memory too: at 128 or 256 a fork bomb takes the sentry
 * past the memory limit and the cgroup kills the whole sandbox; at 64 the
 * run's timeout clears the bomb in half a second and the sandbox goes on.
 * (Under runc RLIMIT_NPROC would count the uid's processes across the
 * host.) */
#define GVISOR_HOST_TASKS_PER_PROCESS 16

static bool is_gvisor(const nx_container_params *p)
{
	return strcmp(p->oci_runtime, "runsc") == 0;
}

static void add_ulimit(json_object *a, const char *name, int64_t v)
{
	json_object *u = json_object_new_object();

	add_str(u, "Name", name);
	add_int(u, "Soft", v);
	add_int(u, "Hard", v);
	json_object_array_add(a, u);
}

static json_object *ulimits(const nx_container_params *p,
			    const nx_container_limits *lim)
{
	json_object *a = json_object_new_array();

	add_ulimit(a, "nofile", lim->open_files);
	add_ulimit(a, "core", 0);
	if (is_gvisor(p))
		add_ulimit(a, "nproc", lim->gvisor_processes);
	return a;
}

static json_object *log_config(void)
{
	json_object *log = json_object_new_object();
	json_object *cfg = json_object_new_object();

	add_str(log, "Type", "json-file");
	add_str(cfg, "max-size", "1m");
	add_str(cfg, "max-file", "1");
	json_object_object_add(log, "Config", cfg);
	return log;
}

static json_object *host_config(const nx_container_params *p)
{
	const nx_container_limits *lim = p->limits ? p->limits :
						     &nx_default_limits;
	static const char *const drop_all[] = { "ALL", NULL };
	json_object *h = json_object_new_object();

	add_str(h, "Runtime", p->oci_runtime);
	add_str(h, "NetworkMode", "none");
	add_str(h, "IpcMode", "private");
	add_str(h, "CgroupnsMode", "private");
	json_object_object_add(h, "CapDrop", string_array(drop_all));
	json_object_object_add(h, "SecurityOpt", security_opts(p));
	json_object_object_add(h, "ReadonlyRootfs", json_object_new_boolean(1));
	json_object_object_add(h, "Privileged", json_object_new_boolean(0));
	json_object_object_add(h, "Tmpfs", tmpfs(lim));
	json_object_object_add(h, "Mounts", mounts(p));
	add_int(h, "ShmSize", lim->shm_bytes);
	add_int(h, "Memory", lim->memory_bytes);
	add_int(h, "MemorySwap", lim->memory_bytes);
	add_int(h, "NanoCpus", lim->nano_cpus);
	add_int(h, "PidsLimit", is_gvisor(p) ?
		lim->pids * GVISOR_HOST_TASKS_PER_PROCESS : lim->pids);
	/* Under host memory pressure, sandboxes go first. */
	add_int(h, "OomScoreAdj", 500);
	json_object_object_add(h, "Ulimits", ulimits(p, lim));
	json_object_object_add(h, "LogConfig", log_config());
	json_object_object_add(h, "AutoRemove", json_object_new_boolean(1));
	return h;
}

json_object *nx_container_config(const nx_container_params *p)
{
	json_object *c = json_object_new_object();
	json_object *entry = json_object_new_array();
	char ttl[24];

	snprintf(ttl, sizeof ttl, "%d", p->ttl_minutes * 60);
	json_object_array_add(entry, json_object_new_string(NX_AGENT_IN_CONTAINER));
	json_object_array_add(entry, json_object_new_string("init"));
	json_object_array_add(entry, json_object_new_string("--ttl-seconds"));
	json_object_array_add(entry, json_object_new_string(ttl));

	add_str(c, "Image", p->image);
	json_object_object_add(c, "Env", string_array(sandbox_env));
	json_object_object_add(c, "Entrypoint", entry);
	json_object_object_add(c, "Cmd", json_object_new_array());
	add_str(c, "User", NX_SANDBOX_USER);
	add_str(c, "WorkingDir", NX_SANDBOX_HOME);
	add_str(c, "Hostname", "sandbox");
	json_object_object_add(c, "NetworkDisabled", json_object_new_boolean(1));
	json_object_object_add(c, "AttachStdin", json_object_new_boolean(0));
	json_object_object_add(c, "Tty", json_object_new_boolean(0));
	json_object_object_add(c, "Labels", labels(p));
	json_object_object_add(c, "HostConfig", host_config(p));
	return c;
}
