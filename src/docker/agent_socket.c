/* agent_socket.c - the run socket, host side (see agent_socket.h).
 *
 * The way in is checked at every step, since the sandbox's code shares
 * the agent's uid and can replace what lies in the socket's directory:
 *  - /proc/PID/cgroup must name the container, so PID is still its init
 *    and not a later process that got the same number;
 *  - the path is opened beneath /proc/PID/root one component at a time,
 *    none of them followed if it is a symlink (through /proc/PID/root an
 *    absolute symlink would lead to the host's own files, the Docker
 *    socket among them), and must end at a socket;
 *  - the listener at the other end must be PID itself: a socket the code
 *    bound in the agent's place is refused before a byte is sent. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_socket.h"

#define SOCKET_PATH (NXA_SOCKET_DIR "/" NXA_SOCKET_NAME)
#define CGROUP_FILE_MAX (16u << 10)

static int unusable(nx_error *err, const char *fmt, ...) NX_PRINTF(2, 3);
static int unusable(nx_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nx_error_clear(err);
	err->kind = NX_E_UNSUPPORTED;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* Is the cgroup at path (from /proc/PID/cgroup) frozen?  v2 says so in
 * cgroup.events, v1 in the freezer hierarchy's freezer.state; a file
 * that cannot be read means no freezer, so not frozen. */
static bool frozen(const char *path, bool v2)
{
	cleanup_free char *file = NULL;
	cleanup_free char *text = NULL;
	nx_error ignored;
	size_t len;

	file = nx_xasprintf("/sys/fs/cgroup%s%s/%s", v2 ? "" : "/freezer",
			    path, v2 ? "cgroup.events" : "freezer.state");
	if (nx_read_file(file, 4096, &text, &len, &ignored) < 0)
		return false;
	if (v2)
		return strstr(text, "\nfrozen 1") || !strncmp(text, "frozen 1", 8);
	return !strncmp(text, "FROZEN", 6) || !strncmp(text, "FREEZING", 8);
}

/* Is name one of the comma-separated controllers of a v1 hierarchy? */
static bool has_controller(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

/* PID must still be in the container's cgroup, and that cgroup must not
 * be frozen: a paused agent would take the request and never answer. */
static int check_cgroup(const char *container_id, pid_t pid, nx_error *err)
{
	cleanup_free char *file = nx_xasprintf("/proc/%d/cgroup", (int)pid);
	cleanup_free char *text = NULL;
	char *line, *next, *controllers, *path;
	nx_error ierr;
	size_t len;

	if (nx_read_file(file, CGROUP_FILE_MAX, &text, &len, &ierr) < 0 ||
	    !strstr(text, container_id))
		return nx_fail(err, NX_E_NOTFOUND,
			       "the sandbox's init (pid %d) is gone", (int)pid);
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* "hierarchy-id:controllers:path" */
		controllers = strchr(line, ':');
		path = controllers ? strchr(controllers + 1, ':') : NULL;
		if (!path)
			continue;
		*path++ = '\0';
		controllers++;
		if ((!strcmp(line, "0") && !*controllers && frozen(path, true)) ||
		    (has_controller(controllers, "freezer") &&
		     frozen(path, false)))
			return nx_fail(err, NX_E_STATE, "the sandbox is paused");
	}
	return 0;
}

/* Open NXA_SOCKET_DIR/NXA_SOCKET_NAME under root_fd with O_PATH, one
 * name at a time with O_NOFOLLOW: every component is then the last one of
 * its own lookup, so no symlink anywhere on the way is followed.  (Plain
 * openat, rather than openat2's RESOLVE_NO_SYMLINKS: older kernels and
 * valgrind lack openat2.) */
static int open_socket_path(int root_fd, nx_error *err)
{
	char path[] = SOCKET_PATH, *name, *next;
	int dir = root_fd, fd = -1, saved;

	for (name = path + 1; name; name = next) {
		next = strchr(name, '/');
		if (next)
			*next++ = '\0';
		fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC |
			    (next ? O_DIRECTORY : 0));
		saved = errno;
		if (dir != root_fd)
			close(dir);
		if (fd < 0)
			return unusable(err, "cannot open %s in the sandbox: %s",
					SOCKET_PATH, strerror(saved));
		dir = fd;
	}
	return fd;
}

int nx_agent_socket_connect(const char *container_id, pid_t init_pid,
			    nx_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	cleanup_close int root_fd = -1;
	cleanup_close int path_fd = -1;
	struct ucred peer;
	socklen_t peer_len = sizeof peer;
	struct stat st;
	char root[32];
	int fd;

	if (init_pid <= 0)
		return unusable(err, "the sandbox's init pid is not known");
	if (check_cgroup(container_id, init_pid, err) < 0)
		return -1;
	snprintf(root, sizeof root, "/proc/%d/root", (int)init_pid);
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return unusable(err, "cannot open %s: %s", root,
				strerror(errno));
	path_fd = open_socket_path(root_fd, err);
	if (path_fd < 0)
		return -1;
	if (fstat(path_fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return unusable(err, "%s in the sandbox is not a socket",
				SOCKET_PATH);
	snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d",
		 path_fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return nx_fail(err, NX_E_SYSTEM, "socket: %s", strerror(errno));
	/* Non-blocking: a backlog the sandbox filled is EAGAIN, not a hang. */
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		unusable(err, "cannot connect to %s in the sandbox: %s",
			 SOCKET_PATH, strerror(errno));
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) < 0 ||
	    peer.pid != init_pid) {
		unusable(err, "%s in the sandbox is held by pid %d, not by its "
			 "agent (pid %d)", SOCKET_PATH, (int)peer.pid,
			 (int)init_pid);
		close(fd);
		return -1;
	}
	return fd;
}

/* One read from the agent into the parser.  Returns 1 at the end of the
 * stream, 0 to go on, -1 on error. */
static int receive(int fd, nx_agent_parser *parser, nx_error *err)
{
	char buf[16384];
	ssize_t n = recv(fd, buf, sizeof buf, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	/* A reset is an end like any other: the parser tells whether the
	 * agent got to say everything. */
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return 1;
	if (n < 0)
		return nx_fail(err, NX_E_SYSTEM,
			       "cannot read from the sandbox agent: %s",
			       strerror(errno));
	return nx_agent_parser_feed(parser, buf, (size_t)n, err) < 0 ? -1 : 0;
}

int nx_agent_socket_exchange(int fd, const char *request, size_t request_len,
			     int64_t deadline_us, nx_agent_parser *parser,
			     nx_error *err)
{
	struct pollfd pfd = { .fd = fd };
	size_t sent = 0;
	ssize_t n;
	long left;
	int r;

	for (;;) {
		left = nx_ms_left(deadline_us);
		if (left == -2)
			return nx_fail(err, NX_E_TIMEOUT,
				       "the sandbox agent did not finish in time");
		pfd.events = POLLIN | (sent < request_len ? POLLOUT : 0);
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return nx_fail(err, NX_E_SYSTEM, "poll: %s",
				       strerror(errno));
		}
		if (pfd.revents & POLLOUT) {
			n = send(fd, request + sent, request_len - sent,
				 MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			/* The agent stopped reading (it refused the request):
			 * what it says about it is still to be read. */
			else if (n < 0 && (errno == EPIPE ||
					   errno == ECONNRESET))
				sent = request_len;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				return nx_fail(err, NX_E_SYSTEM,
					       "cannot write to the sandbox agent: %s",
					       strerror(errno));
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = receive(fd, parser, err);
			if (r != 0)
				return r < 0 ? -1 : 0;
		}
	}
}
