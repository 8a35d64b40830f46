/* provider.c - the Docker provider: sandboxes are hardened containers on
 * the local engine (container.c), with nexus-agent as PID 1 and every run
 * an exec of the agent, spoken to in the agent protocol (agent_proto.c). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../agent_proto.h"
#include "../buf.h"
#include "../paths.h"
#include "../provider.h"
#include "../runtime.h"
#include "agent_socket.h"
#include "container.h"
#include "docker.h"

/* Past the run's own timeout, how long the host waits for the agent to
 * report before it gives up on the sandbox. */
#define RUN_GRACE_SECONDS 15
#define SECCOMP_PROFILE "container.json"
#define MAX_PROFILE_BYTES (1u << 20)
/* How long "nexus-agent touch" may take on resume. */
#define TOUCH_TIMEOUT_US (10 * 1000000LL)
/* Agent diagnostics kept for error messages. */
#define MAX_AGENT_STDERR 4096
/* Options of "nexus-agent run": --language, --timeout, --max-output. */
#define RUN_ARGS 6
/* Engine ids are 64 hex digits. */
#define CONTAINER_ID_MAX 64

typedef struct docker_provider {
	nx_docker *docker;
	char *data_dir;
	char *seccomp_json;
} docker_provider;

/* A sandbox's handle is its container's id and, after ':', the host pid
 * of the container's init (the agent), which the run socket is reached
 * through without asking the engine.  A handle without a pid (the engine
 * did not say) runs by exec. */
typedef struct container_ref {
	char id[CONTAINER_ID_MAX + 1];
	pid_t pid;              /* 0: unknown */
} container_ref;

static int parse_handle(const char *handle, container_ref *c, nx_error *err)
{
	const char *colon = strchr(handle, ':');
	size_t id_len = colon ? (size_t)(colon - handle) : strlen(handle);
	long pid = 0;

	if (id_len == 0 || id_len > CONTAINER_ID_MAX ||
	    (colon && nx_parse_int(colon + 1, 1, INT_MAX, &pid) < 0))
		return nx_fail(err, NX_E_STORE,
			       "the sandbox's container handle '%.80s' is malformed",
			       handle);
	memcpy(c->id, handle, id_len);
	c->id[id_len] = '\0';
	c->pid = (pid_t)pid;
	return 0;
}

static int docker_open(void **self, const char *data_dir, nx_error *err)
{
	docker_provider *p = nx_xcalloc(1, sizeof *p);

	if (nx_docker_new(NULL, &p->docker, err) < 0) {
		free(p);
		return -1;
	}
	p->data_dir = nx_xstrdup(data_dir);
	*self = p;
	return 0;
}

static void docker_close(void *self)
{
	docker_provider *p = self;

	nx_docker_free(p->docker);
	free(p->data_dir);
	free(p->seccomp_json);
	free(p);
}

/* The profile goes to the engine inline, compacted; parsing it here also
 * catches a damaged installation before the engine does. */
static int load_seccomp(docker_provider *p, nx_error *err)
{
	cleanup_free char *path = NULL;
	cleanup_free char *text = NULL;
	cleanup_json json_object *profile = NULL;
	size_t len;

	if (p->seccomp_json)
		return 0;
	path = nx_xasprintf("%s/%s", nx_seccomp_dir(), SECCOMP_PROFILE);
	if (nx_read_file(path, MAX_PROFILE_BYTES, &text, &len, err) < 0)
		return nx_error_prefix(err, "cannot load the seccomp profile");
	profile = json_tokener_parse(text);
	if (!profile || !json_object_is_type(profile, json_type_object))
		return nx_fail(err, NX_E_SYSTEM,
			       "the seccomp profile '%s' is not a JSON object; reinstall nexus",
			       path);
	p->seccomp_json = nx_xstrdup(json_object_to_json_string_ext(
		profile, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

static int check_agent(const char *agent, nx_error *err)
{
	if (agent[0] != '/' || access(agent, R_OK | X_OK) < 0)
		return nx_fail(err, NX_E_SYSTEM,
			       "nexus-agent not found at '%s'; reinstall nexus or set NEXUS_AGENT",
			       agent);
	return 0;
}

static int check_image(docker_provider *p, const char *image,
		       const char *template_id, nx_error *err)
{
	bool exists;

	if (nx_docker_image_exists(p->docker, image, &exists, err) < 0)
		return -1;
	if (exists)
		return 0;
	if (nx_runtime_is_builtin(template_id))
		return nx_fail(err, NX_E_IMAGE,
			       "runtime image '%s' is not built; build it with 'nexus runtime build %s'",
			       image, template_id ? template_id : "default");
	return nx_fail(err, NX_E_IMAGE,
		       "image '%s' not found in the local Docker engine; build or load it first, or use a runtime (see 'nexus runtime list')",
		       image);
}

/* The engine's runtime for an isolation: runc unless gVisor is asked for,
 * which the engine must have registered as "runsc" (scripts/lib.sh,
 * ensure_gvisor, registers it with the flags that work). */
static int oci_runtime(docker_provider *p, const char *isolation,
		       const char **out, nx_error *err)
{
	bool registered;

	*out = "runc";
	if (!isolation || strcmp(isolation, "runc") == 0)
		return 0;
	if (nx_docker_has_runtime(p->docker, "runsc", &registered, err) < 0)
		return -1;
	if (!registered)
		return nx_fail(err, NX_E_UNSUPPORTED,
			       "gVisor is not registered with the Docker engine (no 'runsc' runtime); "
			       "install runsc and add it to /etc/docker/daemon.json (see nexus-sandbox(1))");
	*out = "runsc";
	return 0;
}

/* The handle: the container id, and the pid of its init when the run
 * socket can be reached through it.  Under gVisor the engine's pid is the
 * sandbox kernel's, not the agent's, so runs go by exec. */
static char *sandbox_handle(docker_provider *p, char **id,
			    const char *runtime)
{
	nx_container_state st;
	nx_error ignored;

	if (strcmp(runtime, "runc") == 0 &&
	    nx_docker_container_inspect(p->docker, *id, &st, &ignored) == 0 &&
	    st.running && st.pid > 0)
		return nx_xasprintf("%s:%d", *id, st.pid);
	return steal_pointer(id);
}

static int docker_create(void *self, const nx_provider_create *req,
			 char **handle, nx_error *err)
{
	docker_provider *p = self;
	cleanup_free char *image = NULL;
	cleanup_free char *etc_dir = NULL;
	cleanup_free char *name = NULL;
	cleanup_free char *id = NULL;
	cleanup_json json_object *config = NULL;
	nx_container_params params;
	nx_error ignored;
	const char *agent = nx_agent_path();
	const char *runtime;

	if (nx_runtime_image(req->template_id, &image, err) < 0 ||
	    check_agent(agent, err) < 0 || load_seccomp(p, err) < 0 ||
	    oci_runtime(p, req->isolation, &runtime, err) < 0 ||
	    check_image(p, image, req->template_id, err) < 0)
		return -1;
	etc_dir = nx_xasprintf("%s/etc", nx_runtimes_dir());
	params = (nx_container_params){
		.sandbox_id = req->sandbox_id,
		.name = req->name,
		.user_id = req->user_id,
		.tenant_id = req->tenant_id,
		.agent_id = req->agent_id,
		.data_dir = p->data_dir,
		.image = image,
		.agent_path = agent,
		.seccomp_dir = nx_seccomp_dir(),
		.etc_dir = etc_dir,
		.seccomp_json = p->seccomp_json,
		.oci_runtime = runtime,
		.ttl_minutes = req->ttl_minutes,
	};
	config = nx_container_config(&params);
	name = nx_xasprintf("nexus-%s", req->sandbox_id);
	if (nx_docker_container_create(p->docker, name, config, &id, err) < 0)
		return nx_error_prefix(err, "cannot create the sandbox container");
	if (nx_docker_container_start(p->docker, id, err) < 0) {
		nx_docker_container_remove(p->docker, id, &ignored);
		return nx_error_prefix(err, "cannot start the sandbox container");
	}
	*handle = sandbox_handle(p, &id, runtime);
	return 0;
}

/* ---- run ---------------------------------------------------------------- */

typedef struct run_state {
	nx_agent_parser parser;
	nx_error parse_err;
	bool parse_failed;
	nx_buf out[3];           /* [1] stdout, [2] stderr of the program */
	nx_buf agent_stderr;     /* the agent's own diagnostics */
	nx_output_fn on_output;
	void *userdata;
} run_state;

static void keep_output(void *userdata, nx_stream stream, const char *data,
			size_t len)
{
	run_state *rs = userdata;

	nx_buf_append(&rs->out[stream], data, len);
	if (rs->on_output)
		rs->on_output(rs->userdata, stream, data, len);
}

/* The exec's stdout carries agent frames; its stderr only the agent's
 * own diagnostics, never the program's output. */
static void exec_output(void *userdata, int stream, const char *data,
			size_t len)
{
	run_state *rs = userdata;

	if (stream == 2) {
		nx_buf_append(&rs->agent_stderr, data, len);
		return;
	}
	if (!rs->parse_failed &&
	    nx_agent_parser_feed(&rs->parser, data, len, &rs->parse_err) < 0)
		rs->parse_failed = true;
}

/* Why did a run end without a proper report?  Usually because the
 * sandbox itself is gone: killed, out of memory, expired. */
static int explain_lost_run(docker_provider *p, const char *id,
			    run_state *rs, nx_error *err)
{
	nx_container_state st;
	nx_error ierr;

	if (nx_docker_container_inspect(p->docker, id, &st, &ierr) == 0) {
		if (!st.exists || !st.running)
			return nx_fail(err, NX_E_NOTFOUND,
				       "the sandbox container has ended%s",
				       st.oom_killed ? " (out of memory)" : "");
		if (st.paused)
			return nx_fail(err, NX_E_STATE,
				       "the sandbox was paused during the run");
	}
	if (rs->agent_stderr.len > 0) {
		size_t n = strcspn(rs->agent_stderr.data, "\n");

		rs->agent_stderr.data[n] = '\0';
		return nx_fail(err, NX_E_PROVIDER, "the sandbox agent failed: %s",
			       rs->agent_stderr.data);
	}
	return -1;
}

/* Append a note from nexus to one stream; it must show even in a full
 * buffer. */
static void add_note(run_state *rs, unsigned stream, const char *note)
{
	size_t n = strlen(note);

	rs->out[stream].max += n;
	keep_output(rs, (nx_stream)stream, note, n);
}

static void mark_truncation(run_state *rs, unsigned stream, size_t max)
{
	char note[128];

	if (stream != 1 && stream != 2)
		return;
	snprintf(note, sizeof note,
		 "\n[nexus: output passed %zu bytes; the run was stopped]\n",
		 max);
	add_note(rs, stream, note);
	rs->out[stream].truncated = true;
}

static int finish_run(run_state *rs, const nx_provider_run *req,
		      nx_run_result *out, nx_error *err)
{
	const nx_agent_parser *ap = &rs->parser;

	if (ap->exit_reason == NXA_AGENT_FAILURE)
		return nx_fail(err, NX_E_PROVIDER, "%s",
			       ap->have_error ? ap->error :
					        "the sandbox agent failed");
	if (ap->exit_reason == NXA_OUTPUT_LIMIT)
		mark_truncation(rs, ap->exit_value, req->max_output);
	/* The agent's per-language filter kills the program for a call no
	 * interpreter makes (docs/seccomp.md): exit code 159 says only
	 * "SIGSYS", so say why. */
	if (ap->exit_reason == NXA_SIGNALED && ap->exit_value == SIGSYS)
		add_note(rs, 2, "\n[nexus: the program was killed for a blocked "
			 "system call (seccomp)]\n");
	out->execution_time = (double)ap->elapsed_us / 1e6;
	out->stdout_truncated = rs->out[1].truncated;
	out->stderr_truncated = rs->out[2].truncated;
	out->stdout_data = nx_buf_steal(&rs->out[1], &out->stdout_len);
	out->stderr_data = nx_buf_steal(&rs->out[2], &out->stderr_len);
	switch (ap->exit_reason) {
	case NXA_EXITED:
		out->exit_code = (int)ap->exit_value;
		return 0;
	case NXA_SIGNALED:
	case NXA_OUTPUT_LIMIT:
		out->exit_code = 128 + (ap->exit_reason == NXA_SIGNALED ?
						(int)ap->exit_value : 9);
		return 0;
	case NXA_TIMEOUT:
		out->exit_code = -1;
		return nx_fail(err, NX_E_TIMEOUT,
			       "Code execution exceeded %d second timeout",
			       req->timeout_seconds);
	}
	return nx_fail(err, NX_E_PROTOCOL, "the sandbox agent reported an unknown end");
}

/* How runs reach the agent: NEXUS_RUN_TRANSPORT=auto (the run socket,
 * or an exec where the socket cannot be used), socket or exec. */
typedef enum run_transport {
	TRANSPORT_AUTO,
	TRANSPORT_SOCKET,
	TRANSPORT_EXEC,
} run_transport;

static int chosen_transport(run_transport *t, nx_error *err)
{
	const char *v = getenv("NEXUS_RUN_TRANSPORT");

	if (!v || !*v || strcmp(v, "auto") == 0)
		*t = TRANSPORT_AUTO;
	else if (strcmp(v, "socket") == 0)
		*t = TRANSPORT_SOCKET;
	else if (strcmp(v, "exec") == 0)
		*t = TRANSPORT_EXEC;
	else
		return nx_fail(err, NX_E_USAGE,
			       "NEXUS_RUN_TRANSPORT is '%.32s'; use auto, socket or exec",
			       v);
	return 0;
}

static int run_by_exec(docker_provider *p, const container_ref *c,
		       const char *const *args, const nx_provider_run *req,
		       int64_t deadline_us, run_state *rs, nx_error *err)
{
	cleanup_free char *frame = NULL;
	const char *argv[2 + RUN_ARGS + 1] = { NX_AGENT_IN_CONTAINER, "run" };
	nx_docker_exec_req ex;
	size_t frame_len, i;
	int exec_status;

	for (i = 0; args[i]; i++)
		argv[2 + i] = args[i];
	if (nx_agent_build_request(NULL, req->code, req->code_len, &frame,
				   &frame_len, err) < 0)
		return -1;
	ex = (nx_docker_exec_req){
		.container = c->id,
		.user = NX_SANDBOX_USER,
		.workdir = NX_SANDBOX_HOME,
		.argv = argv,
		.stdin_data = frame,
		.stdin_len = frame_len,
		.deadline_us = deadline_us,
		.on_output = exec_output,
		.userdata = rs,
	};
	if (nx_docker_exec(p->docker, &ex, &exec_status, err) < 0)
		return -1;
	if (rs->parse_failed) {
		*err = rs->parse_err;
		return -1;
	}
	return 0;
}

static int run_by_socket(int fd, const char *const *args,
			 const nx_provider_run *req, int64_t deadline_us,
			 run_state *rs, nx_error *err)
{
	cleanup_free char *request = NULL;
	size_t len;

	if (nx_agent_build_request(args, req->code, req->code_len, &request,
				   &len, err) < 0)
		return -1;
	return nx_agent_socket_exchange(fd, request, len, deadline_us,
					&rs->parser, err);
}

/* Connect to the run socket unless told not to; -1 with err only when
 * the run must fail, -1 with *fd -1 and no error to run by exec. */
static int open_transport(docker_provider *p, const container_ref *c,
			  int *fd, nx_error *err)
{
	nx_container_state st;
	run_transport t;
	nx_error ierr;

	*fd = -1;
	if (chosen_transport(&t, err) < 0)
		return -1;
	if (t == TRANSPORT_EXEC)
		return 0;
	*fd = nx_agent_socket_connect(c->id, c->pid, err);
	if (*fd >= 0)
		return 0;
	/* The init is gone: most likely with its container, which the
	 * engine can confirm. */
	if (err->kind == NX_E_NOTFOUND) {
		if (nx_docker_container_inspect(p->docker, c->id, &st, &ierr) == 0 &&
		    (!st.exists || !st.running))
			return nx_fail(err, NX_E_NOTFOUND,
				       "the sandbox container has ended");
		err->kind = NX_E_UNSUPPORTED;
	}
	if (err->kind == NX_E_UNSUPPORTED && t == TRANSPORT_AUTO)
		return 0;
	if (err->kind == NX_E_UNSUPPORTED)
		nx_error_prefix(err, "cannot use the run socket "
				"(NEXUS_RUN_TRANSPORT=socket)");
	return -1;
}

static int docker_run(void *self, const char *handle,
		      const nx_provider_run *req, nx_run_result *out,
		      nx_error *err)
{
	docker_provider *p = self;
	char timeout[16], max_output[24];
	const char *args[RUN_ARGS + 1] = { "--language", req->language,
					   "--timeout", timeout,
					   "--max-output", max_output, NULL };
	run_state rs = { .on_output = req->on_output,
			 .userdata = req->userdata };
	int64_t deadline_us;
	container_ref c;
	int fd, r = -1;
	size_t i;

	if (parse_handle(handle, &c, err) < 0 ||
	    open_transport(p, &c, &fd, err) < 0)
		return -1;
	snprintf(timeout, sizeof timeout, "%d", req->timeout_seconds);
	snprintf(max_output, sizeof max_output, "%zu", req->max_output);
	for (i = 0; i < 3; i++)
		nx_buf_init(&rs.out[i], req->max_output);
	nx_buf_init(&rs.agent_stderr, MAX_AGENT_STDERR);
	nx_agent_parser_init(&rs.parser, keep_output, &rs, req->max_output);
	deadline_us = nx_monotonic_us() +
		      (int64_t)(req->timeout_seconds + RUN_GRACE_SECONDS) * 1000000;
	if (fd >= 0) {
		r = run_by_socket(fd, args, req, deadline_us, &rs, err);
		close(fd);
	} else {
		r = run_by_exec(p, &c, args, req, deadline_us, &rs, err);
	}
	if (r < 0) {
		/* The agent did not report in time (code that stopped it,
		 * say): the agent or init's watchdog kills the run, we only
		 * stop waiting. */
		if (err->kind == NX_E_TIMEOUT)
			nx_fail(err, NX_E_TIMEOUT,
				"Code execution exceeded %d second timeout",
				req->timeout_seconds);
		else if (err->kind != NX_E_UNREACHABLE &&
			 err->kind != NX_E_PROTOCOL)
			explain_lost_run(p, c.id, &rs, err);
	} else if (nx_agent_parser_finish(&rs.parser, err) < 0) {
		explain_lost_run(p, c.id, &rs, err);
		r = -1;
	} else {
		r = finish_run(&rs, req, out, err);
	}
	for (i = 0; i < 3; i++)
		nx_buf_free(&rs.out[i]);
	nx_buf_free(&rs.agent_stderr);
	return r;
}

/* ---- the rest of the life cycle ---------------------------------------- */

/* An engine error on a container that no longer exists is reported as
 * NX_E_NOTFOUND, so the engine can record the sandbox as stopped. */
static int check_gone(docker_provider *p, const char *id, nx_error *err)
{
	nx_container_state st;
	nx_error ierr;

	if (err->kind != NX_E_UNREACHABLE &&
	    nx_docker_container_inspect(p->docker, id, &st, &ierr) == 0 &&
	    (!st.exists || (!st.running && !st.paused)))
		return nx_fail(err, NX_E_NOTFOUND,
			       "the sandbox container has ended");
	return -1;
}

static int docker_pause(void *self, const char *handle, nx_error *err)
{
	docker_provider *p = self;
	container_ref c;

	if (parse_handle(handle, &c, err) < 0)
		return -1;
	if (nx_docker_container_pause(p->docker, c.id, err) < 0)
		return check_gone(p, c.id, err);
	return 0;
}

/* The agent restarts its idle clock when it notices a long gap in its own
 * polling, but a short pause leaves no gap: tell it. */
static int restart_idle_clock(docker_provider *p, const char *id,
			      nx_error *err)
{
	static const char *const argv[] = { NX_AGENT_IN_CONTAINER, "touch",
					     NULL };
	nx_docker_exec_req ex = {
		.container = id,
		.user = NX_SANDBOX_USER,
		.argv = argv,
		.deadline_us = nx_monotonic_us() + TOUCH_TIMEOUT_US,
	};
	int status;

	if (nx_docker_exec(p->docker, &ex, &status, err) < 0)
		return -1;
	if (status != 0)
		return nx_fail(err, NX_E_PROVIDER,
			       "the sandbox agent did not restart its idle clock (status %d)",
			       status);
	return 0;
}

static int docker_resume(void *self, const char *handle, int ttl_minutes,
			 nx_error *err)
{
	docker_provider *p = self;
	container_ref c;

	(void)ttl_minutes; /* the agent was given the TTL at create */
	if (parse_handle(handle, &c, err) < 0)
		return -1;
	if (nx_docker_container_unpause(p->docker, c.id, err) < 0 ||
	    restart_idle_clock(p, c.id, err) < 0)
		return check_gone(p, c.id, err);
	return 0;
}

static int docker_destroy(void *self, const char *handle, nx_error *err)
{
	docker_provider *p = self;
	container_ref c;

	if (parse_handle(handle, &c, err) < 0)
		return -1;
	return nx_docker_container_remove(p->docker, c.id, err);
}

static int docker_probe(void *self, const char *handle,
			nx_provider_state *state, nx_error *err)
{
	docker_provider *p = self;
	nx_container_state st;
	container_ref c;

	if (parse_handle(handle, &c, err) < 0 ||
	    nx_docker_container_inspect(p->docker, c.id, &st, err) < 0)
		return -1;
	if (st.exists && st.paused)
		*state = NX_PSTATE_PAUSED;
	else if (st.exists && st.running)
		*state = NX_PSTATE_ACTIVE;
	else
		*state = NX_PSTATE_GONE;
	return 0;
}

static int docker_reap(void *self, bool (*known)(void *ud, const char *id),
		       void *ud, int grace_seconds, nx_error *err)
{
	docker_provider *p = self;
	cleanup_free char *label = nx_xasprintf("io.nexus.data-dir=%s",
						p->data_dir);
	nx_docker_container *list = NULL;
	/* At least grace_seconds old, to the second: with no grace, one made
	 * this very second too. */
	int64_t cutoff = nx_now_us() / 1000000 - grace_seconds;
	nx_error ignored;
	size_t i, n;

	if (nx_docker_container_list_by_label(p->docker, label,
					      "io.nexus.sandbox-id", &list, &n,
					      err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (list[i].label && list[i].created <= cutoff &&
		    !known(ud, list[i].label))
			nx_docker_container_remove(p->docker, list[i].id,
						   &ignored);
	nx_docker_container_list_free(list, n);
	return 0;
}

const nx_provider nx_docker_provider = {
	.abi_version = NX_PROVIDER_ABI_VERSION,
	.struct_size = sizeof(nx_provider),
	.name = "docker",
	.capabilities = NX_PROVIDER_CAN_PAUSE,
	.open = docker_open,
	.close = docker_close,
	.create = docker_create,
	.run = docker_run,
	.pause = docker_pause,
	.resume = docker_resume,
	.destroy = docker_destroy,
	.probe = docker_probe,
	.reap = docker_reap,
};
