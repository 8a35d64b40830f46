/* test_container.c - every hardening field of the container config. */
#include <string.h>

#include "lib/tap.h"
#include "docker/container.h"
#include "util.h"

static const char *str_at(json_object *o, const char *a, const char *b)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_get_string(v);
}

static int64_t int_at(json_object *o, const char *a, const char *b)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, a, &v);
	json_object_object_get_ex(v, b, &v);
	return json_object_get_int64(v);
}

static bool array_has(json_object *arr, const char *want)
{
	size_t i;

	for (i = 0; i < json_object_array_length(arr); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)),
			   want) == 0)
			return true;
	return false;
}

/* A read-only bind mount from source to target is in the Mounts array. */
static bool has_bind(json_object *mounts, const char *source,
		     const char *target)
{
	size_t i;

	for (i = 0; i < json_object_array_length(mounts); i++) {
		json_object *m = json_object_array_get_idx(mounts, i);

		if (strcmp(str_at(m, "Type", NULL), "bind") == 0 &&
		    strcmp(str_at(m, "Source", NULL), source) == 0 &&
		    strcmp(str_at(m, "Target", NULL), target) == 0 &&
		    strcmp(str_at(m, "ReadOnly", NULL), "true") == 0)
			return true;
	}
	return false;
}

/* The hard limit of a ulimit in the HostConfig, 0 when it has none. */
static int64_t ulimit_of(json_object *h, const char *name)
{
	json_object *a = NULL, *u, *v;
	size_t i;

	json_object_object_get_ex(h, "Ulimits", &a);
	for (i = 0; a && i < json_object_array_length(a); i++) {
		u = json_object_array_get_idx(a, i);
		if (json_object_object_get_ex(u, "Name", &v) &&
		    strcmp(json_object_get_string(v), name) == 0 &&
		    json_object_object_get_ex(u, "Hard", &v))
			return json_object_get_int64(v);
	}
	return 0;
}

int main(void)
{
	nx_container_params p = {
		.sandbox_id = "ipi7dxuc5687axlhm5hmd",
		.name = "n",
		.user_id = "alice",
		.tenant_id = "default",
		.data_dir = "/data",
		.image = "nexus-runtime:default",
		.agent_path = "/usr/libexec/nexus/nexus-agent",
		.seccomp_dir = "/usr/share/nexus/seccomp",
		.etc_dir = "/usr/share/nexus/runtimes/etc",
		.seccomp_json = "{\"defaultAction\":\"SCMP_ACT_ERRNO\"}",
		.oci_runtime = "runc",
		.ttl_minutes = 10,
	};
	json_object *c = nx_container_config(&p);
	json_object *h = NULL, *v = NULL;

	json_object_object_get_ex(c, "HostConfig", &h);
	is_str(str_at(c, "User", NULL), "1000:1000", "non-root user");
	is_str(str_at(c, "Image", NULL), "nexus-runtime:default", "image");
	is_str(str_at(h, "NetworkMode", NULL), "none", "no network");
	is_str(str_at(h, "Runtime", NULL), "runc",
	       "runc named explicitly, whatever the engine's default");
	is_str(str_at(c, "Labels", "io.nexus.runtime"), "runc",
	       "labelled with its runtime");
	is_str(str_at(h, "IpcMode", NULL), "private", "private IPC");
	ok(json_object_object_get_ex(h, "CapDrop", &v) && array_has(v, "ALL") &&
	   json_object_array_length(v) == 1, "drops ALL capabilities");
	ok(json_object_object_get_ex(h, "SecurityOpt", &v) &&
	   array_has(v, "no-new-privileges:true") &&
	   array_has(v, "seccomp={\"defaultAction\":\"SCMP_ACT_ERRNO\"}"),
	   "no-new-privileges and our seccomp profile inline");
	is_str(str_at(h, "ReadonlyRootfs", NULL), "true", "read-only root");
	is_str(str_at(h, "AutoRemove", NULL), "true", "auto-remove");
	ok(int_at(c, "HostConfig", "Memory") == nx_default_limits.memory_bytes &&
	   int_at(c, "HostConfig", "MemorySwap") == nx_default_limits.memory_bytes,
	   "memory limit equals memory+swap");
	ok(int_at(c, "HostConfig", "PidsLimit") == 256, "pids limit");
	ok(int_at(c, "HostConfig", "NanoCpus") == 1000000000, "one CPU");
	is_str(str_at(h, "Tmpfs", "/home/user"),
	       "rw,nosuid,nodev,size=536870912,nr_inodes=65536,uid=1000,gid=1000,mode=0700",
	       "home tmpfs: capped in size and inodes, owned by the user");
	is_str(str_at(h, "Tmpfs", "/tmp"),
	       "rw,nosuid,nodev,size=268435456,nr_inodes=65536,mode=1777",
	       "/tmp tmpfs capped in size and inodes");
	ok(json_object_object_get_ex(h, "Mounts", &v) &&
	   has_bind(v, "/usr/libexec/nexus/nexus-agent", "/.nexus/nexus-agent") &&
	   has_bind(v, "/usr/share/nexus/runtimes/etc/hosts", "/etc/hosts") &&
	   has_bind(v, "/usr/share/nexus/runtimes/etc/resolv.conf", "/etc/resolv.conf") &&
	   has_bind(v, "/usr/share/nexus/runtimes/etc/hostname", "/etc/hostname"),
	   "agent and /etc files bind-mounted read-only");
	ok(has_bind(v, "/usr/share/nexus/seccomp", "/.nexus/seccomp"),
	   "the agent's seccomp filters bind-mounted read-only");
	ok(!json_object_object_get_ex(h, "Binds", NULL),
	   "no Binds: those would make a missing source into a directory");
	ok(json_object_object_get_ex(c, "Entrypoint", &v) &&
	   json_object_array_length(v) == 4 &&
	   strcmp(json_object_get_string(json_object_array_get_idx(v, 3)), "600") == 0,
	   "the agent is PID 1 with the TTL in seconds");
	is_str(str_at(c, "Labels", "io.nexus.sandbox-id"), "ipi7dxuc5687axlhm5hmd",
	       "labelled with the sandbox id");
	is_str(str_at(c, "Labels", "io.nexus.user"), "alice", "labelled with the owner");
	is_str(str_at(c, "Labels", "io.nexus.data-dir"), "/data",
	       "labelled with the store it belongs to");
	ok(!json_object_object_get_ex(json_object_object_get(c, "Labels"),
				      "io.nexus.agent", NULL),
	   "no agent label without an agent");
	ok(!ulimit_of(h, "nproc"), "no RLIMIT_NPROC under runc (it counts the host's uid)");
	json_object_put(c);

	/* gVisor: the pids cgroup counts the sentry's host tasks. */
	p.oci_runtime = "runsc";
	c = nx_container_config(&p);
	json_object_object_get_ex(c, "HostConfig", &h);
	is_str(str_at(h, "Runtime", NULL), "runsc", "gVisor: runtime runsc");
	ok(int_at(c, "HostConfig", "PidsLimit") == 256 * 16,
	   "gVisor: the pids cgroup caps the sentry's host tasks");
	ok(ulimit_of(h, "nproc") == 64,
	   "gVisor: RLIMIT_NPROC caps the sandbox's processes");
	json_object_put(c);
	return tap_done();
}
