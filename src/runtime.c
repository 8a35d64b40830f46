/* runtime.c - the runtime images: template names, building an image with
 * runtimes/build-rootfs.sh into Docker, and listing what is built.
 *
 * A build runs the script with its stdout (the rootfs as a tar stream) and
 * its stderr (progress lines) on two pipes.  While debootstrap works only
 * stderr speaks: we pass its lines on until the first tar byte arrives, then
 * hand stdout to nx_docker_image_import, so Docker is not kept waiting on an
 * idle upload for minutes and a failure before the tar is the script's own.
 * During the import stderr is not read; its pipe is made large enough for
 * anything the script says then (a line or two). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "paths.h"
#include "runtime.h"

const char *const nx_runtime_names[NX_RUNTIME_COUNT] = {
	"default", "python", "javascript", "bash",
};

static const char *const runtime_images[NX_RUNTIME_COUNT] = {
	NX_RUNTIME_REPO ":default", NX_RUNTIME_REPO ":python",
	NX_RUNTIME_REPO ":javascript", NX_RUNTIME_REPO ":bash",
};

/* The build script's name inside the runtimes directory. */
#define BUILD_SCRIPT "build-rootfs.sh"
/* Longest progress line passed on; the rest of a longer one is dropped. */
#define LINE_MAX_LEN 1024
/* Pipe size asked for the script's stderr (see the top of the file). */
#define STDERR_PIPE_SIZE (1 << 20)
/* Report import progress every this many bytes. */
#define IMPORT_REPORT_STEP (16u << 20)

static int builtin_index(const char *name)
{
	size_t i;

	if (!name)
		return -1;
	for (i = 0; i < NX_RUNTIME_COUNT; i++)
		if (strcmp(name, nx_runtime_names[i]) == 0)
			return (int)i;
	return -1;
}

bool nx_runtime_is_builtin(const char *name)
{
	return !name || builtin_index(name) >= 0;
}

/* ---- image references ------------------------------------------------- */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* sha256: and 64 lowercase hex digits. */
static bool digest_ok(const char *s, size_t n)
{
	return n == 7 + 64 && memcmp(s, "sha256:", 7) == 0 &&
	       is_hex(s + 7, 64);
}

/* A path component: [a-z0-9]+ joined by ".", "_", "__" or runs of "-". */
static bool path_component_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(s[0]))
		return false;
	while (i < n) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return false;
		}
		if (i >= n || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

/* A registry host: labels of letters, digits and inner "-" joined by ".",
 * then an optional ":PORT". */
static bool domain_ok(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t host_len = colon ? (size_t)(colon - s) : n;
	size_t i, label = 0;

	if (host_len == 0)
		return false;
	for (i = 0; i < host_len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (is_alnum(s[i]) || (s[i] == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	if (label == 0 || s[host_len - 1] == '-')
		return false;
	if (colon) {
		size_t port_len = n - host_len - 1;

		if (port_len == 0 || port_len > 5)
			return false;
		for (i = host_len + 1; i < n; i++)
			if (s[i] < '0' || s[i] > '9')
				return false;
	}
	return true;
}

static bool tag_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 128 || !(is_alnum(s[0]) || s[0] == '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!(is_alnum(s[i]) || s[i] == '_' || s[i] == '.' ||
		      s[i] == '-'))
			return false;
	return true;
}

bool nx_image_ref_valid(const char *ref)
{
	size_t len, name_len, start, i;
	const char *at, *slash, *colon;
	bool first = true;

	if (!ref)
		return false;
	len = strnlen(ref, NX_IMAGE_REF_MAX + 1);
	if (len == 0 || len > NX_IMAGE_REF_MAX)
		return false;
	/* An image id. */
	if (digest_ok(ref, len))
		return true;

	at = memchr(ref, '@', len);
	name_len = at ? (size_t)(at - ref) : len;
	if (at && !digest_ok(at + 1, len - name_len - 1))
		return false;
	/* A tag is a ":" after the last "/" (a ":" before it is a port). */
	slash = memrchr(ref, '/', name_len);
	colon = memchr(slash ? slash : ref, ':',
		       name_len - (size_t)(slash ? slash - ref : 0));
	if (colon) {
		if (!tag_ok(colon + 1, name_len - (size_t)(colon - ref) - 1))
			return false;
		name_len = (size_t)(colon - ref);
	}

	for (start = 0, i = 0; i <= name_len; i++) {
		const char *comp = ref + start;
		size_t comp_len = i - start;
		bool has_more;

		if (i < name_len && ref[i] != '/')
			continue;
		has_more = i < name_len;
		/* The first of several components is a registry host when it
		 * looks like one, as Docker decides. */
		if (first && has_more &&
		    (memchr(comp, '.', comp_len) || memchr(comp, ':', comp_len) ||
		     (comp_len == 9 && memcmp(comp, "localhost", 9) == 0))) {
			if (!domain_ok(comp, comp_len))
				return false;
		} else if (!path_component_ok(comp, comp_len)) {
			return false;
		}
		first = false;
		start = i + 1;
	}
	return true;
}

const char *nx_runtime_image_for(const char *template_id)
{
	int i;

	if (!template_id)
		return runtime_images[0];
	i = builtin_index(template_id);
	if (i >= 0)
		return runtime_images[i];
	return nx_image_ref_valid(template_id) ? template_id : NULL;
}

int nx_runtime_image(const char *template_id, char **image, nx_error *err)
{
	const char *ref = nx_runtime_image_for(template_id);

	*image = NULL;
	if (!ref)
		return nx_fail(err, NX_E_USAGE,
			       "invalid template '%.*s': give default, python, javascript, bash or a local docker image such as 'name:tag'",
			       NX_IMAGE_REF_MAX, template_id);
	*image = nx_xstrdup(ref);
	return 0;
}

/* ---- building --------------------------------------------------------- */

typedef struct build_ctx {
	const char *name;
	nx_runtime_progress_fn progress;
	void *userdata;
	char line[LINE_MAX_LEN + 1];
	size_t line_len;
	char last[LINE_MAX_LEN + 1];   /* the last non-empty line */
	uint64_t sent;                 /* import bytes sent so far */
	uint64_t reported;             /* import bytes last reported */
} build_ctx;

static void line_done(build_ctx *b)
{
	size_t i;

	b->line[b->line_len] = '\0';
	if (b->line_len > 0 && b->line[b->line_len - 1] == '\r')
		b->line[--b->line_len] = '\0';
	/* Our own script, but it repeats what the mirror and tar say, and
	 * runs with LC_ALL=C: keep it to printable ASCII, safe for a terminal
	 * and for an error message. */
	for (i = 0; i < b->line_len; i++) {
		unsigned char c = (unsigned char)b->line[i];

		if (c < 0x20 || c >= 0x7f)
			b->line[i] = c == '\t' ? ' ' : '?';
	}
	if (b->line_len > 0) {
		memcpy(b->last, b->line, b->line_len + 1);
		if (b->progress)
			b->progress(b->userdata, b->name, b->line, 0);
	}
	b->line_len = 0;
}

static void feed_stderr(build_ctx *b, const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (data[i] == '\n') {
			line_done(b);
		} else if (b->line_len < LINE_MAX_LEN) {
			b->line[b->line_len++] = data[i];
		}
	}
}

enum { READ_ERROR = -1, READ_EOF = 0, READ_DATA = 1, READ_NOTHING = 2 };

/* Read what is there and pass complete lines on. */
static int read_stderr(build_ctx *b, int fd)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof chunk);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? READ_NOTHING
							 : READ_ERROR;
	if (n == 0) {
		if (b->line_len > 0)
			line_done(b);
		return READ_EOF;
	}
	feed_stderr(b, chunk, (size_t)n);
	return READ_DATA;
}

static void import_progress(void *userdata, uint64_t bytes)
{
	build_ctx *b = userdata;

	b->sent = bytes;
	if (b->progress && bytes >= b->reported + IMPORT_REPORT_STEP) {
		b->reported = bytes - bytes % IMPORT_REPORT_STEP;
		b->progress(b->userdata, b->name, NULL, bytes);
	}
}

/* Keep fds 0-2 free for the child's dup2s, whatever the caller closed. */
static int pipe_above_stdio(int fds[2])
{
	int i;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		if (fds[i] <= STDERR_FILENO) {
			int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);

			if (fd < 0) {
				int saved = errno;

				close(fds[0]);
				close(fds[1]);
				errno = saved;
				return -1;
			}
			close(fds[i]);
			fds[i] = fd;
		}
	}
	return 0;
}

static void close_pair(int fds[2])
{
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	fds[0] = fds[1] = -1;
}

static int spawn_script(const char *script, char *const argv[], int out_w,
			int err_w, pid_t *pid, nx_error *err)
{
	static const int reset[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP,
				     SIGQUIT, SIGCHLD };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t set;
	size_t i;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_w, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err_w, STDERR_FILENO);
	/* A caller that ignores SIGPIPE (libcurl users do) must not hand
	 * that on: tar should die when Docker stops reading. */
	sigemptyset(&set);
	for (i = 0; i < NX_ARRAY_LEN(reset); i++)
		sigaddset(&set, reset[i]);
	posix_spawnattr_setsigdefault(&attr, &set);
	sigemptyset(&set);
	posix_spawnattr_setsigmask(&attr, &set);
	posix_spawnattr_setflags(&attr,
				 POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawn(pid, script, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return nx_fail_errno(err, NX_E_SYSTEM, rc,
				     "cannot run build script '%s'", script);
	return 0;
}

/* Pass stderr lines on until the tar stream starts (*tar_ready) or the
 * script closes its stdout without one. */
static int wait_for_tar(build_ctx *b, int out_r, int *err_r, bool *tar_ready,
			nx_error *err)
{
	*tar_ready = false;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = out_r, .events = POLLIN },
			{ .fd = *err_r, .events = POLLIN },
		};

		if (poll(p, *err_r >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return nx_fail_errno(err, NX_E_SYSTEM, errno,
					     "cannot wait for the build script");
		}
		if (p[1].revents) {
			int r = read_stderr(b, *err_r);

			if (r == READ_ERROR)
				return nx_fail_errno(err, NX_E_SYSTEM, errno,
						     "cannot read the build script's output");
			if (r == READ_EOF) {
				close(*err_r);
				*err_r = -1;
			}
			/* Lines first: they say what came before the tar. */
			continue;
		}
		if (p[0].revents & POLLIN) {
			*tar_ready = true;
			return 0;
		}
		if (p[0].revents)   /* hang-up or error: no tar */
			return 0;
	}
}

/* Read the rest of stderr and reap the script, without ever blocking on
 * a pipe that something the script left behind might keep open. */
static int finish_script(build_ctx *b, pid_t pid, int *err_r, int *status,
			 nx_error *err)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r < 0 && errno != EINTR)
			return nx_fail_errno(err, NX_E_SYSTEM, errno,
					     "cannot wait for the build script");
		if (r == pid) {
			if (*err_r >= 0) {
				/* What it wrote before it ended. */
				fcntl(*err_r, F_SETFL, O_NONBLOCK);
				while (read_stderr(b, *err_r) == READ_DATA)
					;
				if (b->line_len > 0)
					line_done(b);
			}
			return 0;
		}
		if (*err_r >= 0) {
			struct pollfd p = { .fd = *err_r, .events = POLLIN };

			if (poll(&p, 1, 200) > 0 &&
			    read_stderr(b, *err_r) <= READ_EOF) {
				close(*err_r);
				*err_r = -1;
			}
		} else {
			/* stderr is closed: nothing left but to wait. */
			r = waitpid(pid, status, 0);
			if (r == pid)
				return 0;
			if (r < 0 && errno != EINTR)
				return nx_fail_errno(err, NX_E_SYSTEM, errno,
						     "cannot wait for the build script");
		}
	}
}

/* The script's last line, without its "build-rootfs: error: " prefix. */
static const char *script_reason(const build_ctx *b)
{
	static const char *const prefixes[] = {
		"build-rootfs: error: ", "build-rootfs: usage error: ",
		"build-rootfs: ",
	};
	size_t i;

	for (i = 0; i < NX_ARRAY_LEN(prefixes); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(b->last, prefixes[i], n) == 0)
			return b->last + n;
	}
	return b->last[0] ? b->last : "no message";
}

static bool suite_ok(const char *s)
{
	size_t i, n = strnlen(s, 33);

	if (n == 0 || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static const char *pick(const char *opt, const char *env, const char *def)
{
	const char *v;

	if (opt && *opt)
		return opt;
	v = getenv(env);
	return v && *v ? v : def;
}

/* The error of a finished build, from what the script and the import did. */
static int build_result(const build_ctx *b, int status, bool tar_ready,
			const nx_error *import_err, nx_error *err)
{
	bool import_failed = import_err->kind != NX_OK;
	bool script_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	if (script_ok && !import_failed && tar_ready)
		return 0;
	/* A script that died of SIGPIPE (or whose tar saw EPIPE) died because
	 * Docker stopped reading: Docker's message is the one that says why. */
	if (import_failed &&
	    (script_ok || strstr(b->last, "Broken pipe") ||
	     (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGPIPE))) {
		if (err)
			*err = *import_err;
		return nx_error_prefix(err, "cannot import runtime '%s' into docker",
				       b->name);
	}
	if (script_ok)
		return nx_fail(err, NX_E_SYSTEM,
			       "cannot build runtime '%s': the build script wrote no image",
			       b->name);
	if (!WIFEXITED(status))
		return nx_fail(err, NX_E_SYSTEM,
			       "cannot build runtime '%s': the build script was killed by signal %d",
			       b->name, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	/* The script's own failure.  Exit 2 is it refusing its arguments,
	 * before any tar; a tar Docker took anyway may be cut short. */
	return nx_fail(err, WEXITSTATUS(status) == 2 && !tar_ready ?
			       NX_E_USAGE : NX_E_SYSTEM,
		       "cannot build runtime '%s': %s%s", b->name,
		       script_reason(b),
		       tar_ready && !import_failed ?
		       " (the image it left may be incomplete: build it again)" :
		       "");
}

int nx_runtime_build(nx_docker *d, const char *name,
		     const nx_runtime_build_opts *opts, nx_error *err)
{
	static const nx_runtime_build_opts no_opts;
	cleanup_free char *script = NULL;
	cleanup_free char *label_runtime = NULL;
	cleanup_free char *label_suite = NULL;
	cleanup_free build_ctx *b = NULL;
	const char *mirror, *suite;
	const char *argv[12];
	const char *changes[10];
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	size_t argc = 0, nchanges = 0;
	bool tar_ready = false;
	nx_error import_err = { 0 };
	pid_t pid = -1;
	int status = 0, rc = -1;
	int idx = builtin_index(name);

	if (!opts)
		opts = &no_opts;
	if (idx < 0)
		return nx_fail(err, NX_E_USAGE,
			       "unknown runtime '%s': give default, python, javascript or bash",
			       name ? name : "");
	name = nx_runtime_names[idx];
	if (geteuid() != 0)
		return nx_fail_errno(err, NX_E_SYSTEM, EPERM,
				     "building runtime '%s' needs root (debootstrap): run 'sudo nexus runtime build'",
				     name);
	mirror = pick(opts->mirror, "NEXUS_DEBIAN_MIRROR",
		      NX_RUNTIME_DEFAULT_MIRROR);
	suite = pick(opts->suite, "NEXUS_DEBIAN_SUITE",
		     NX_RUNTIME_DEFAULT_SUITE);
	/* The suite goes into an image label: letters, digits, "." and "-".
	 * The script checks the rest. */
	if (!suite_ok(suite))
		return nx_fail(err, NX_E_USAGE, "bad debian suite '%.64s'", suite);
	script = nx_xasprintf("%s/%s", opts->runtimes_dir && *opts->runtimes_dir ?
				       opts->runtimes_dir : nx_runtimes_dir(),
			      BUILD_SCRIPT);
	if (access(script, X_OK) < 0)
		return nx_fail_errno(err, NX_E_SYSTEM, errno,
				     "cannot run build script '%s' (is NEXUS_RUNTIMES_DIR right?)",
				     script);
	/* Find an absent Docker now, not after minutes of debootstrap. */
	if (nx_docker_ping(d, err) < 0)
		return nx_error_prefix(err, "cannot build runtime '%s'", name);

	argv[argc++] = script;
	argv[argc++] = name;
	argv[argc++] = "--mirror";
	argv[argc++] = mirror;
	argv[argc++] = "--suite";
	argv[argc++] = suite;
	if (opts->cache_dir) {
		argv[argc++] = "--cache-dir";
		argv[argc++] = opts->cache_dir;
	}
	if (opts->work_dir) {
		argv[argc++] = "--work-dir";
		argv[argc++] = opts->work_dir;
	}
	argv[argc] = NULL;

	label_runtime = nx_xasprintf("LABEL io.nexus.runtime=%s", name);
	label_suite = nx_xasprintf("LABEL io.nexus.suite=%s", suite);
	changes[nchanges++] = "USER 1000:1000";
	changes[nchanges++] = "WORKDIR /home/user";
	changes[nchanges++] =
		"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	changes[nchanges++] = "ENV LANG=C.UTF-8";
	changes[nchanges++] = "ENV HOME=/home/user";
	changes[nchanges++] = "ENV PYTHONUNBUFFERED=1";
	/* For people who `docker run -it` it; nexus sets its own command. */
	changes[nchanges++] = "CMD [\"/bin/bash\"]";
	changes[nchanges++] = label_runtime;
	changes[nchanges++] = label_suite;
	changes[nchanges] = NULL;

	b = nx_xcalloc(1, sizeof *b);
	b->name = name;
	b->progress = opts->progress;
	b->userdata = opts->userdata;

	if (pipe_above_stdio(out) < 0 || pipe_above_stdio(errp) < 0) {
		nx_fail_errno(err, NX_E_SYSTEM, errno, "cannot make a pipe");
		goto out;
	}
	/* Best effort; the default 64 KiB is enough in practice. */
	(void)fcntl(errp[0], F_SETPIPE_SZ, STDERR_PIPE_SIZE);
	if (spawn_script(script, (char *const *)argv, out[1], errp[1], &pid,
			 err) < 0)
		goto out;
	/* Only the child writes: we see end of file when it is done. */
	close(out[1]);
	out[1] = -1;
	close(errp[1]);
	errp[1] = -1;

	if (wait_for_tar(b, out[0], &errp[0], &tar_ready, err) < 0)
		goto out;
	if (tar_ready) {
		if (nx_docker_image_import(d, out[0], NX_RUNTIME_REPO, name,
					   changes, import_progress, b,
					   &import_err) < 0) {
			if (import_err.kind == NX_OK)
				import_err.kind = NX_E_PROVIDER;
		} else if (b->progress) {
			b->progress(b->userdata, name, NULL, b->sent);
		}
	}
	/* A script still writing after a failed import ends on EPIPE. */
	close(out[0]);
	out[0] = -1;
	if (finish_script(b, pid, &errp[0], &status, err) < 0)
		goto out;
	pid = -1;
	rc = build_result(b, status, tar_ready, &import_err, err);

out:
	close_pair(out);
	close_pair(errp);
	if (pid > 0) {
		/* Only after our own failure: the script must not outlive
		 * us, and its trap removes what it made. */
		kill(pid, SIGTERM);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	return rc;
}

/* ---- listing ------------------------------------------------------------ */

int nx_runtime_list(nx_docker *d, nx_runtime_info out[NX_RUNTIME_COUNT],
		    nx_error *err)
{
	nx_docker_image *images = NULL;
	size_t count = 0, i, j;

	for (i = 0; i < NX_RUNTIME_COUNT; i++) {
		out[i] = (nx_runtime_info){
			.name = nx_runtime_names[i],
			.image = runtime_images[i],
		};
	}
	if (nx_docker_image_list(d, NX_RUNTIME_REPO, &images, &count, err) < 0)
		return nx_error_prefix(err, "cannot list the runtime images");
	for (j = 0; j < count; j++) {
		for (i = 0; i < NX_RUNTIME_COUNT; i++) {
			if (images[j].ref &&
			    strcmp(images[j].ref, runtime_images[i]) == 0) {
				out[i].built = true;
				out[i].size = images[j].size;
				out[i].created = images[j].created;
			}
		}
	}
	nx_docker_image_list_free(images, count);
	return 0;
}

char *nx_runtime_list_json(const nx_runtime_info *list, size_t count,
			   bool pretty)
{
	cleanup_json json_object *arr = json_object_new_array();
	size_t i;

	if (!arr)
		return NULL;
	for (i = 0; i < count; i++) {
		json_object *o = json_object_new_object();
		char when[NX_TIME_LEN];

		if (!o)
			return NULL;
		json_object_array_add(arr, o);
		json_object_object_add(o, "name",
				       json_object_new_string(list[i].name));
		json_object_object_add(o, "image",
				       json_object_new_string(list[i].image));
		json_object_object_add(o, "built",
				       json_object_new_boolean(list[i].built));
		json_object_object_add(o, "size",
				       list[i].built ?
				       json_object_new_int64(list[i].size) :
				       NULL);
		if (list[i].built && list[i].created > 0) {
			nx_format_time(list[i].created * 1000000, when);
			json_object_object_add(o, "created_at",
					       json_object_new_string(when));
		} else {
			json_object_object_add(o, "created_at", NULL);
		}
	}
	return nx_xstrdup(json_object_to_json_string_ext(arr,
		pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
			 JSON_C_TO_STRING_PLAIN));
}
