/* agent.c - nexus-agent, the small static program inside every sandbox.
 *
 *   nexus-agent init --ttl-seconds N
 *	PID 1 of the container: reaps zombies, ends the container when no
 *	run has been seen for N seconds, kills a run whose agent stopped
 *	enforcing its own timeout, and serves runs that come over its
 *	socket (NXA_SOCKET_DIR/NXA_SOCKET_NAME): one forked run agent per
 *	connection from the host.
 *
 *   nexus-agent touch
 *	Started by a Docker exec when the host resumes a sandbox: tells PID 1
 *	to restart its idle clock (a pause too short to notice as a gap in
 *	its polling would otherwise not count), and waits for the answer.
 *
 *   nexus-agent run --language L --timeout S --max-output B [--seccomp-dir D]
 *	One run, started by a Docker exec or forked by init for a socket
 *	connection (the same options then come in a RUN frame): reads the
 *	CODE frame from stdin,
 *	runs the interpreter in its own session, with rlimits, no
 *	capabilities, no_new_privs and the language's seccomp filter from
 *	D/L.bpf (default /.nexus/seccomp), relays its output as frames
 *	on stdout, kills everything it started on timeout or output overflow,
 *	and ends with an EXIT frame.  See docs/protocol.md.
 *
 * Built -all-static without libnexus: the images are not ours, so the
 * agent may rely on nothing but the kernel.  Everything the agent itself
 * has to say goes to stderr, never to stdout, which carries only frames. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"
#include "banned.h"

#define US_PER_S 1000000LL

/* init: how often /proc is looked at, and how long a gap between two looks
 * means the container was frozen (docker pause) rather than busy. */
#define POLL_US (1 * US_PER_S)
#define PAUSE_GAP_US (3 * US_PER_S)
/* init: a run agent still alive this long after its own --timeout has
 * stopped doing its job (SIGSTOPped by the code it runs, which shares its
 * uid); covers reading the request, the kill and the last writes. */
#define WATCHDOG_GRACE_S (NXA_REQUEST_TIMEOUT_S + 30)
#define WATCHDOG_SLOTS 256
/* init: run-socket connections whose request is still arriving. */
#define MAX_PENDING 8

/* run: the most time spent killing a run, and the most time the last
 * frames may take to reach a slow host once the run is over. */
#define KILL_BUDGET_US (5 * US_PER_S)
#define WRITE_GRACE_US (10 * US_PER_S)
/* run: after the program exits, read at most this much more per stream. */
#define DRAIN_MAX (1024 * 1024)

/* run: limits for the program.  CPU seconds a little over the timeout, so
 * that a CPU spin dies by the kernel's hand too should the agent be
 * stopped; file size as large as the home tmpfs; descriptors as many as a
 * program needs, fewer than the container allows. */
#define CPU_GRACE_S 2
#define FSIZE_MAX (512ULL * 1024 * 1024)
#define NOFILE_MAX 1024
#define SECCOMP_DIR "/.nexus/seccomp"

/* ---- small helpers ------------------------------------------------------- */

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof line, "nexus-agent[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	/* Diagnostics only: nothing to do when stderr is gone. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

/* Milliseconds for poll() until an absolute monotonic time, rounded up so
 * that a wake-up is never early. */
static int ms_until(int64_t deadline)
{
	int64_t left = deadline - mono_us();

	if (left <= 0)
		return 0;
	if (left > 3600 * US_PER_S)
		return 3600 * 1000;
	return (int)((left + 999) / 1000);
}

static int parse_num(const char *s, long long min, long long max,
		     long long *out)
{
	char *end;
	long long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "--name value" or "--name=value"; advances *i past what it used. */
static const char *option_value(int argc, char **argv, int *i,
				const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/* Read /proc/PID/NAME into buf, NUL-terminated: the bytes read, or -1. */
static ssize_t read_proc_file(pid_t pid, const char *name, char *buf,
			      size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* What /proc/PID/stat says of a process: its state letter, parent and
 * start time (clock ticks since boot). */
struct proc_stat {
	char state;
	pid_t ppid;
	unsigned long long start;
};

/* Read /proc/PID/stat; -1 when the process is gone.  The command name in
 * parentheses may itself hold ')' and spaces, so the fields are found
 * after the last ')': state, ppid, then starttime 19 fields on. */
static int read_stat(pid_t pid, struct proc_stat *st)
{
	char buf[512], *p, *end;
	ssize_t n;
	int field;

	n = read_proc_file(pid, "stat", buf, sizeof buf);
	if (n <= 0)
		return -1;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -1;
	st->state = p[2];
	st->ppid = (pid_t)strtol(p + 4, &end, 10);
	for (field = 4; field < 22 && end && *end == ' '; field++) {
		p = end + 1;
		if (field == 21)
			st->start = strtoull(p, &end, 10);
		else
			end = strchr(p, ' ');
	}
	return field == 22 ? 0 : -1;
}

static pid_t read_ppid(pid_t pid)
{
	struct proc_stat st;

	return read_stat(pid, &st) < 0 ? -1 : st.ppid;
}

/* Whether a run agent can be a subreaper.  gVisor (runsc 2022) refuses
 * PR_SET_CHILD_SUBREAPER to every process but PID 1, so there what a run
 * leaves behind (double forks, setsid) is reparented to init and has to
 * be told apart by when it started. */
static bool lineage_by_start;

/* A snapshot of every process we can see. */
struct proc {
	pid_t pid, ppid;
	unsigned long long start;
	bool zombie;
	signed char desc;  /* descendant of the root: 1 yes, -1 no, 0 unknown */
};

struct proc_list {
	struct proc *p;
	size_t len, cap;
};

static int proc_list_read(struct proc_list *l)
{
	struct dirent *de;
	struct proc *np;
	struct proc_stat st;
	pid_t pid;
	DIR *d;

	l->len = 0;
	d = opendir("/proc");
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (read_stat(pid, &st) < 0)
			continue;
		if (l->len == l->cap) {
			np = realloc(l->p, (l->cap ? l->cap * 2 : 256) *
				     sizeof *l->p);
			if (!np) {
				closedir(d);
				return -1;
			}
			l->p = np;
			l->cap = l->cap ? l->cap * 2 : 256;
		}
		l->p[l->len++] = (struct proc){ pid, st.ppid, st.start,
						st.state == 'Z', 0 };
	}
	closedir(d);
	return 0;
}

static int proc_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct proc *)a)->pid, y = ((const struct proc *)b)->pid;

	return (x > y) - (x < y);
}

static struct proc *proc_find(struct proc_list *l, pid_t pid)
{
	struct proc key = { .pid = pid };

	return bsearch(&key, l->p, l->len, sizeof *l->p, proc_cmp);
}

/* Is p a descendant of root?  Walks up the parents and remembers the
 * answer on the whole path, so the snapshot costs O(n log n) even for a
 * deep fork chain.  At most n steps: a snapshot read while processes
 * come and go may hold a loop of reused pids. */
static bool is_descendant(struct proc_list *l, struct proc *p, pid_t root)
{
	struct proc *cur = p, *up;
	signed char res = -1;
	size_t steps;

	for (steps = 0; steps <= l->len; steps++) {
		if (cur->desc) {
			res = cur->desc;
			break;
		}
		if (cur->ppid == root) {
			res = 1;
			break;
		}
		up = cur->ppid > 0 ? proc_find(l, cur->ppid) : NULL;
		if (!up || up->pid == root)
			break;
		cur = up;
	}
	for (cur = p, steps = 0; cur && !cur->desc && steps <= l->len;
	     steps++) {
		cur->desc = res;
		cur = cur->ppid > 0 && cur->ppid != root ?
			proc_find(l, cur->ppid) : NULL;
	}
	return res > 0;
}

/* SIGKILL one process without the pid-reuse race of kill(2): pin it with
 * a pidfd, then check that it still has the parent the snapshot saw. */
static void kill_checked(pid_t pid, pid_t ppid)
{
	int pfd = pidfd_open(pid, 0);

	if (pfd < 0) {
		if (errno == ENOSYS && read_ppid(pid) == ppid)
			kill(pid, SIGKILL);
		return;
	}
	if (read_ppid(pid) == ppid)
		pidfd_send_signal(pfd, SIGKILL, NULL, 0);
	close(pfd);
}

/* Without a subreaper: did p start no earlier than root, with no process
 * older than root (but init) among its ancestors?  Then nothing but root's
 * run can have made it.  Its price: a run that starts in the same sandbox
 * while root's runs, and all it starts, count as root's too. */
static bool started_by_run(struct proc_list *l, const struct proc *p,
			   const struct proc *root)
{
	const struct proc *cur = p;
	size_t steps;

	if (p->zombie || p->pid == 1 || p->start < root->start)
		return false;
	for (steps = 0; cur && steps <= l->len; steps++) {
		if (cur->pid == root->pid || cur->ppid <= 1)
			return true;
		cur = proc_find(l, cur->ppid);
		if (cur && cur->start < root->start && cur->pid != root->pid)
			return false;
	}
	return cur == NULL;
}

/* SIGKILL every descendant of root (not root itself); returns how many
 * were signalled, -1 when /proc cannot be read.  Descendants that fork
 * meanwhile are caught by the caller's next round. */
static int kill_descendants(pid_t root)
{
	struct proc_list l = { 0 };
	struct proc *r, *p;
	int count = 0;
	size_t i;

	if (proc_list_read(&l) < 0) {
		free(l.p);
		return -1;
	}
	qsort(l.p, l.len, sizeof *l.p, proc_cmp);
	r = proc_find(&l, root);
	for (i = 0; i < l.len; i++) {
		p = &l.p[i];
		if (p->pid == root || p->pid == getpid())
			continue;
		if (is_descendant(&l, p, root) ||
		    (lineage_by_start && r && started_by_run(&l, p, r))) {
			kill_checked(p->pid, p->ppid);
			count++;
		}
	}
	free(l.p);
	return count;
}

/* ---- init: PID 1 ------------------------------------------------------------- */

static int cmd_run(int argc, char **argv);
static void ensure_std_fds(void);

/* A run init knows of, with the deadline past which init kills it: a
 * Docker exec (a process whose parent is outside the container), or a run
 * init forked for a connection to the run socket. */
struct run_slot {
	pid_t pid;         /* 0: free */
	int64_t first_seen;
	int64_t kill_at;   /* 0: not (yet) known as a run agent */
	bool forked;       /* ours: freed when reaped; else freed when gone */
	bool seen;         /* an exec still there at this poll */
	bool killed;
};

static struct run_slot slots[WATCHDOG_SLOTS];

/* A connection to the run socket whose RUN frame is still arriving. */
struct pending_run {
	int fd;            /* -1: free */
	int64_t deadline;
	size_t got;
	unsigned char buf[NXA_HEADER_LEN + NXA_MAX_RUN];
};

static struct pending_run pending[MAX_PENDING];
static int listen_fd = -1;

/* A free slot, zeroed; NULL when all are taken. */
static struct run_slot *new_slot(void)
{
	size_t k;

	for (k = 0; k < WATCHDOG_SLOTS; k++)
		if (!slots[k].pid) {
			slots[k] = (struct run_slot){ 0 };
			return &slots[k];
		}
	return NULL;
}

/* The slot of an exec, or a new one for it; NULL when all are taken. */
static struct run_slot *exec_slot(pid_t pid)
{
	struct run_slot *s;
	size_t k;

	for (k = 0; k < WATCHDOG_SLOTS; k++)
		if (slots[k].pid == pid)
			return &slots[k];
	s = new_slot();
	if (s)
		s->pid = pid;
	return s;
}

/* The --timeout among a run agent's options; -1 when there is none. */
static long long timeout_option(int nargs, char **args)
{
	long long t;
	int i;

	for (i = 0; i < nargs; i++) {
		if (strcmp(args[i], "--timeout") == 0 && i + 1 < nargs &&
		    parse_num(args[i + 1], 1, 86400, &t) == 0)
			return t;
		if (strncmp(args[i], "--timeout=", 10) == 0 &&
		    parse_num(args[i] + 10, 1, 86400, &t) == 0)
			return t;
	}
	return -1;
}

/* The --timeout of an exec'd run agent, from its command line; -1 for
 * any other exec.  The command line of an exec'd process is what the
 * host asked for: code in the sandbox can neither create such a process
 * nor change the arguments of one (the agent is not dumpable). */
static long long run_timeout_of(pid_t pid)
{
	char buf[4096], *p, *end, *args[16];
	int nargs = 0;
	ssize_t n;

	n = read_proc_file(pid, "cmdline", buf, sizeof buf);
	if (n <= 0)
		return -1;
	end = buf + n;
	for (p = buf; p < end && nargs < (int)(sizeof args / sizeof args[0]);
	     p += strlen(p) + 1)
		args[nargs++] = p;
	if (nargs < 2 || strcmp(args[1], "run") != 0)
		return -1;
	p = strrchr(args[0], '/');
	if (strcmp(p ? p + 1 : args[0], "nexus-agent") != 0)
		return -1;
	return timeout_option(nargs - 2, args + 2);
}

/* Kill a run agent that outlived its deadline, and everything it
 * started. */
static void watchdog(struct run_slot *s, int64_t now)
{
	int round;

	if (!s->kill_at || now < s->kill_at || s->killed)
		return;
	/* Descendants first: once the agent is dead they become our
	 * children, mixed with everything else. */
	logmsg("run agent %d is %d s past its timeout; killing it and "
	       "everything it started", (int)s->pid, WATCHDOG_GRACE_S);
	for (round = 0; round < 50; round++)
		if (kill_descendants(s->pid) <= 0)
			break;
	kill_checked(s->pid, s->forked ? getpid() : 0);
	s->killed = true;
}

/* Look at every process once: is a Docker exec in progress, and has a
 * run agent outlived its deadline?  Returns true when an exec is there. */
static bool scan_execs(int64_t now)
{
	struct proc_list l = { 0 };
	struct run_slot *s;
	bool active = false;
	long long t;
	size_t i, k;

	for (k = 0; k < WATCHDOG_SLOTS; k++)
		slots[k].seen = false;
	if (proc_list_read(&l) < 0) {
		logmsg("cannot read /proc: %s; treating the sandbox as active",
		       strerror(errno));
		free(l.p);
		return true;
	}
	for (i = 0; i < l.len; i++) {
		/* Processes joined by setns() (docker exec) have no parent in
		 * this PID namespace; code in the sandbox cannot make one. */
		if (l.p[i].ppid != 0 || l.p[i].pid == 1)
			continue;
		active = true;
		s = exec_slot(l.p[i].pid);
		if (!s)
			continue;
		if (!s->first_seen)
			s->first_seen = now;
		s->seen = true;
		/* An exec shows up as "runc init" before it becomes the
		 * agent, so look again until it is known to be one. */
		if (!s->kill_at && (t = run_timeout_of(s->pid)) >= 0)
			s->kill_at = s->first_seen +
				(t + WATCHDOG_GRACE_S) * US_PER_S;
	}
	free(l.p);
	for (k = 0; k < WATCHDOG_SLOTS; k++) {
		if (!slots[k].pid)
			continue;
		if (!slots[k].forked && !slots[k].seen)
			slots[k].pid = 0;
		else
			watchdog(&slots[k], now);
	}
	return active;
}

/* Reap every child that has ended; true when one was a socket run. */
static bool reap_all(void)
{
	bool run_ended = false;
	pid_t pid;
	size_t k;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (k = 0; k < WATCHDOG_SLOTS; k++)
			if (slots[k].pid == pid && slots[k].forked) {
				slots[k].pid = 0;
				run_ended = true;
			}
	return run_ended;
}

static bool socket_runs_active(void)
{
	size_t k;

	for (k = 0; k < WATCHDOG_SLOTS; k++)
		if (slots[k].pid && slots[k].forked)
			return true;
	for (k = 0; k < MAX_PENDING; k++)
		if (pending[k].fd >= 0)
			return true;
	return false;
}

/* SIGUSR1 restarts the idle clock only when it comes from a Docker exec
 * (PPid 0: "nexus-agent touch" on resume, or a run agent): the sandbox's
 * own code shares our uid and could otherwise keep its sandbox alive
 * forever.  The sender waits for, or ignores, our answer, so it is still
 * there to be checked. */
static bool touch_from_host(pid_t sender)
{
	if (sender <= 1 || read_ppid(sender) != 0) {
		logmsg("ignoring SIGUSR1 from pid %d in the sandbox",
		       (int)sender);
		return false;
	}
	if (kill(sender, SIGUSR1) < 0)
		return false;
	return true;
}

/* Listen on the run socket.  Without its directory (a container made by
 * an older nexus) or on any failure, runs come by Docker exec alone. */
static void open_run_socket(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t k;
	int fd;

	for (k = 0; k < MAX_PENDING; k++)
		pending[k].fd = -1;
	if (access(NXA_SOCKET_DIR, W_OK) < 0)
		return;
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%s", NXA_SOCKET_DIR,
		 NXA_SOCKET_NAME);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
	    listen(fd, MAX_PENDING) < 0) {
		logmsg("cannot listen on %s: %s; runs come by exec only",
		       addr.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	listen_fd = fd;
}

static struct pending_run *free_pending(void)
{
	size_t k;

	for (k = 0; k < MAX_PENDING; k++)
		if (pending[k].fd < 0)
			return &pending[k];
	return NULL;
}

static void drop_pending(struct pending_run *p, const char *why)
{
	logmsg("run-socket request dropped: %s", why);
	close(p->fd);
	p->fd = -1;
}

static void accept_run(int64_t now)
{
	struct pending_run *p = free_pending();
	struct ucred peer;
	socklen_t len = sizeof peer;
	int fd;

	if (!p)
		return;
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	/* The host is outside our PID namespace, where the kernel gives its
	 * pid as 0; every process of the sandbox has one here.  Runs the
	 * sandbox started itself would keep it alive past its TTL. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 ||
	    peer.pid != 0) {
		logmsg("refusing a run-socket connection from pid %d in the "
		       "sandbox", (int)peer.pid);
		close(fd);
		return;
	}
	*p = (struct pending_run){
		.fd = fd,
		.deadline = now + NXA_REQUEST_TIMEOUT_S * US_PER_S,
	};
}

/* In the child: the connection becomes stdin and stdout of an ordinary
 * run agent, exactly as a Docker exec would have set it up. */
static void __attribute__((noreturn))
serve_run(int conn, int argc, char **argv)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(conn, STDIN_FILENO) < 0 || dup2(conn, STDOUT_FILENO) < 0)
		_exit(1);
	/* init's signalfd, listening socket and other connections. */
	close_range(3, ~0U, 0);
	_exit(cmd_run(argc, argv));
}

/* The RUN frame is whole: fork a run agent with its arguments. */
static void start_socket_run(struct pending_run *p, int64_t now)
{
	static char prog[] = "nexus-agent", run[] = "run";
	char *argv[NXA_MAX_RUN_ARGS + 3], *a, *end;
	uint32_t len = nxa_get_be32(p->buf + 1);
	struct run_slot *s;
	long long timeout;
	int argc = 0;
	pid_t pid;

	a = (char *)p->buf + NXA_HEADER_LEN;
	end = a + len;
	if (end[-1] != '\0') {
		drop_pending(p, "arguments not NUL-terminated");
		return;
	}
	argv[argc++] = prog;
	argv[argc++] = run;
	for (; a < end; a += strlen(a) + 1) {
		if (argc == NXA_MAX_RUN_ARGS + 2) {
			drop_pending(p, "too many arguments");
			return;
		}
		argv[argc++] = a;
	}
	argv[argc] = NULL;
	s = new_slot();
	if (!s) {
		drop_pending(p, "too many runs at once");
		return;
	}
	pid = fork();
	if (pid < 0) {
		drop_pending(p, strerror(errno));
		return;
	}
	if (pid == 0)
		serve_run(p->fd, argc, argv);
	timeout = timeout_option(argc - 2, argv + 2);
	*s = (struct run_slot){
		.pid = pid,
		.first_seen = now,
		.kill_at = now + ((timeout > 0 ? timeout : 0) +
				  WATCHDOG_GRACE_S) * US_PER_S,
		.forked = true,
	};
	close(p->fd);
	p->fd = -1;
}

/* Read what there is of a connection's RUN frame, exactly that frame and
 * nothing past it: the CODE frame behind it is the run agent's to read. */
static void read_pending(struct pending_run *p, int64_t now)
{
	size_t want;
	ssize_t n;

	for (;;) {
		want = NXA_HEADER_LEN;
		if (p->got >= NXA_HEADER_LEN)
			want += nxa_get_be32(p->buf + 1);
		if (p->got == want) {
			start_socket_run(p, now);
			return;
		}
		n = read(p->fd, p->buf + p->got, want - p->got);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			drop_pending(p, n < 0 ? strerror(errno) :
				     "closed before its request");
			return;
		}
		p->got += (size_t)n;
		if (p->got == NXA_HEADER_LEN &&
		    (p->buf[0] != NXA_RUN || nxa_get_be32(p->buf + 1) == 0 ||
		     nxa_get_be32(p->buf + 1) > NXA_MAX_RUN)) {
			drop_pending(p, "not a RUN frame of 1 to 1024 bytes");
			return;
		}
	}
}

/* The socket's part of one turn of init's loop: poll entries for the
 * listening socket (while there is room for another request) and for
 * every request on its way; returns how many it added. */
static int run_socket_pollfds(struct pollfd *pfd, int64_t *wake)
{
	int n = 0;
	size_t k;

	if (listen_fd >= 0 && free_pending())
		pfd[n++] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
	for (k = 0; k < MAX_PENDING; k++) {
		if (pending[k].fd < 0)
			continue;
		pfd[n++] = (struct pollfd){ .fd = pending[k].fd,
					    .events = POLLIN };
		if (pending[k].deadline < *wake)
			*wake = pending[k].deadline;
	}
	return n;
}

static void run_socket_events(const struct pollfd *pfd, int n, int64_t now)
{
	size_t k;
	int i;

	for (i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == listen_fd) {
			accept_run(now);
			continue;
		}
		for (k = 0; k < MAX_PENDING; k++)
			if (pending[k].fd == pfd[i].fd)
				read_pending(&pending[k], now);
	}
	for (k = 0; k < MAX_PENDING; k++)
		if (pending[k].fd >= 0 && now >= pending[k].deadline)
			drop_pending(&pending[k], "no whole request in time");
}

/* Handle what came through init's signalfd.  Returns the exit status
 * when the sandbox must stop, else -1; *active is set when something
 * counts as activity for the idle clock. */
static int init_signals(int sig_fd, bool *active)
{
	struct signalfd_siginfo si;
	int sig;

	while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
		sig = (int)si.ssi_signo;
		if (sig == SIGCHLD) {
			if (reap_all())
				*active = true;
		} else if (sig == SIGUSR1) {
			if (touch_from_host((pid_t)si.ssi_pid))
				*active = true;
		} else if (si.ssi_pid != 0) {
			/* docker stop signals from outside the namespace
			 * (pid 0).  From inside, it is the sandbox's own code
			 * (say "pkill -u 1000"): that must not end the
			 * sandbox under the host. */
			logmsg("ignoring %s from pid %d in the sandbox",
			       strsignal(sig), (int)si.ssi_pid);
		} else {
			logmsg("%s: stopping the sandbox", strsignal(sig));
			return 128 + sig;
		}
	}
	return -1;
}

/* Init's own PR_SET_CHILD_SUBREAPER would prove nothing (PID 1 may where
 * others may not), so a child asks for it, as a run agent would. */
static void probe_subreaper(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 &&
		      errno == EINVAL);
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		lineage_by_start = WEXITSTATUS(status) == 1;
	if (lineage_by_start)
		logmsg("no subreaper for runs here: what a run leaves behind "
		       "is found by its start time");
}

static int cmd_init(int argc, char **argv)
{
	struct pollfd pfd[2 + MAX_PENDING];
	int64_t now, last_poll, last_active, ttl_us, wake;
	long long ttl = -1;
	bool active;
	sigset_t set;
	const char *v;
	size_t k;
	int i, n, sig_fd, status;

	/* First: until this, code running under the same uid could attach
	 * to PID 1 (PTRACE_SEIZE, /proc/1/mem) and act as init. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		logmsg("cannot make init non-dumpable: %s", strerror(errno));
		return 1;
	}
	for (i = 2; i < argc; i++) {
		if ((v = option_value(argc, argv, &i, "--ttl-seconds"))) {
			if (parse_num(v, 1, 366LL * 86400, &ttl) < 0) {
				logmsg("invalid --ttl-seconds '%s'", v);
				return 2;
			}
		} else {
			logmsg("unknown init option '%s'", argv[i]);
			return 2;
		}
	}
	if (ttl < 0) {
		logmsg("usage: nexus-agent init --ttl-seconds N");
		return 2;
	}
	if (getpid() != 1)
		logmsg("warning: not PID 1; exec detection needs a PID namespace");
	ensure_std_fds();
	probe_subreaper();

	/* Every signal arrives through the signalfd, so no handler can run
	 * in the middle of the loop.  Blocked signals are queued even for
	 * PID 1, which would otherwise ignore signals without a handler. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig_fd < 0) {
		logmsg("signalfd: %s", strerror(errno));
		return 1;
	}
	open_run_socket();

	ttl_us = ttl * US_PER_S;
	last_poll = last_active = mono_us();
	scan_execs(last_poll);
	for (;;) {
		wake = last_poll + POLL_US;
		pfd[0] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		n = 1 + run_socket_pollfds(pfd + 1, &wake);
		if (poll(pfd, (nfds_t)n, ms_until(wake)) < 0 && errno != EINTR) {
			logmsg("poll: %s", strerror(errno));
			return 1;
		}
		now = mono_us();
		active = false;
		if (pfd[0].revents &&
		    (status = init_signals(sig_fd, &active)) >= 0)
			return status;
		run_socket_events(pfd + 1, n - 1, now);
		if (active || socket_runs_active())
			last_active = now;
		if (now - last_poll < POLL_US)
			continue;
		reap_all();
		/* CLOCK_MONOTONIC runs on while the freezer holds us: a long
		 * gap is a pause, and a resume starts a fresh idle period. */
		if (now - last_poll > PAUSE_GAP_US) {
			logmsg("resumed after %lld s; idle clock restarted",
			       (long long)((now - last_poll) / US_PER_S));
			last_active = now;
			/* Nor does the pause count against a run. */
			for (k = 0; k < WATCHDOG_SLOTS; k++) {
				slots[k].first_seen += now - last_poll;
				if (slots[k].kill_at)
					slots[k].kill_at += now - last_poll;
			}
		}
		last_poll = now;
		if (scan_execs(now))
			last_active = now;
		if (now - last_active >= ttl_us) {
			logmsg("no run for %lld s: idle TTL reached, stopping "
			       "the sandbox", ttl);
			return 0;
		}
	}
}

/* ---- run: one piece of code ------------------------------------------------ */

struct lang {
	const char *name;        /* --language, and the seccomp filter's name */
	const char *argv[3];     /* argv[0] is looked up in PATH */
	bool code_on_stdin;      /* else the code is fd 3 */
	const char *env;         /* extra environment, or NULL */
};

/* python3 and node read the program from stdin ("-"): that runs it as
 * "-c"/"-e" would, with the working directory first on the module path
 * (import helper, require('./x'), ./node_modules), where a script path
 * under /proc/self/fd would put "/" or /proc/self/fd.  bash reads stdin
 * while it runs the script, so its code comes as /proc/self/fd/3 and its
 * stdin is /dev/null.  PYTHONUNBUFFERED makes print() reach the pipe at
 * once, so output streams. */
static const struct lang langs[] = {
	{ "python", { "python3", "-", NULL }, true, "PYTHONUNBUFFERED=1" },
	{ "javascript", { "node", "-", NULL }, true, NULL },
	{ "bash", { "bash", "/proc/self/fd/3", NULL }, false, NULL },
};

static struct run {
	const struct lang *lang;
	int64_t timeout_us;
	uint64_t max_output;
	const char *seccomp_dir;

	/* The language's seccomp filter, read before the fork so that a
	 * missing or bad one is an ERROR frame, and the kernel's highest
	 * capability number. */
	struct sock_filter filter[BPF_MAXINSNS];
	unsigned short filter_len;
	int cap_last;

	int code_fd;              /* sealed memfd holding the program */
	int pipe_fd[3];           /* read ends of the program's stdout
				   * [1] and stderr [2]; -1 once closed */
	uint64_t relayed[3];
	int sig_fd;               /* signalfd: SIGCHLD, SIGTERM, ... */

	pid_t child;              /* the program; also its process group */
	bool child_reaped;
	int status;
	int64_t start_us, end_us, deadline_us;
	int64_t write_deadline_us;

	int reason;               /* NXA_* once the run was cut short, or -1 */
	uint32_t value;
	bool killed;
	bool hello_sent;
} R = {
	.seccomp_dir = SECCOMP_DIR,
	.code_fd = -1,
	.pipe_fd = { -1, -1, -1 },
	.sig_fd = -1,
	.reason = -1,
};

static void terminate(int reason, uint32_t value);
static void fail_run(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						       noreturn));

/* Write all of buf to the host.  stdout is non-blocking, so a host that
 * stops reading cannot hold the agent past the run's deadline: the run is
 * killed then, and the last frames get WRITE_GRACE_US more. */
static int out_write(const void *buf, size_t len)
{
	const char *p = buf;
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = POLLOUT };
	ssize_t n;

	while (len > 0) {
		n = write(STDOUT_FILENO, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (mono_us() >= R.write_deadline_us) {
			if (R.child && !R.killed) {
				terminate(NXA_TIMEOUT, 0);
				continue;
			}
			return -1;
		}
		if (poll(&pfd, 1, ms_until(R.write_deadline_us)) < 0 &&
		    errno != EINTR)
			return -1;
		if (pfd.revents & POLLERR)
			return -1;
	}
	return 0;
}

static unsigned char frame_buf[NXA_HEADER_LEN + NXA_MAX_DATA];

/* Output is read straight into frame_buf after the header room, so the
 * payload may already be in place. */
static int send_frame(uint8_t type, const void *payload, uint32_t len)
{
	nxa_put_header(frame_buf, type, len);
	if (len && payload != frame_buf + NXA_HEADER_LEN)
		memcpy(frame_buf + NXA_HEADER_LEN, payload, len);
	return out_write(frame_buf, NXA_HEADER_LEN + (size_t)len);
}

/* The host is gone: nobody will see the result, so nothing the run
 * started may keep going. */
static void __attribute__((noreturn)) host_gone(void)
{
	logmsg("the host stopped reading; killing the run");
	if (R.child && !R.killed)
		terminate(NXA_AGENT_FAILURE, 0);
	_exit(1);
}

static void send_exit(uint8_t reason, uint32_t value)
{
	unsigned char p[NXA_EXIT_LEN];
	int64_t elapsed = 0;

	if (R.start_us)
		elapsed = (R.end_us ? R.end_us : mono_us()) - R.start_us;
	p[0] = reason;
	nxa_put_be32(p + 1, value);
	nxa_put_be64(p + 5, (uint64_t)(elapsed > 0 ? elapsed : 0));
	if (send_frame(NXA_EXIT, p, sizeof p) < 0)
		host_gone();
}

/* ERROR then EXIT(agent failure), then exit: every failure of the agent
 * ends this way, so the host is never left waiting. */
static void fail_run(const char *fmt, ...)
{
	char msg[NXA_MAX_ERROR + 1];
	va_list ap;
	size_t i, n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	logmsg("%s", msg);
	/* One line of plain ASCII is valid UTF-8 whatever went into it. */
	n = strlen(msg);
	for (i = 0; i < n; i++)
		if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] >= 0x7f)
			msg[i] = '?';
	if (n == 0)
		n = (size_t)snprintf(msg, sizeof msg, "agent failure");
	if (R.child && !R.killed)
		terminate(NXA_AGENT_FAILURE, 0);
	if (!R.write_deadline_us || R.write_deadline_us < mono_us())
		R.write_deadline_us = mono_us() + WRITE_GRACE_US;
	if (!R.hello_sent)
		_exit(1);
	if (send_frame(NXA_ERROR, msg, (uint32_t)n) < 0)
		host_gone();
	send_exit(NXA_AGENT_FAILURE, 0);
	_exit(0);
}

static void handle_child_status(pid_t pid, int status)
{
	if (pid == R.child && !R.child_reaped) {
		R.child_reaped = true;
		R.status = status;
		if (!R.end_us)
			R.end_us = mono_us();
	}
}

/* Reap whatever has exited.  Returns -1 once there are no children left
 * at all (ECHILD): as a subreaper, that means no descendants either. */
static int reap(void)
{
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			handle_child_status(pid, status);
			continue;
		}
		if (pid < 0 && errno == EINTR)
			continue;
		return pid < 0 && errno == ECHILD ? -1 : 0;
	}
}

static void drain_signals(void)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(R.sig_fd, &si, sizeof si)) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		/* As in init: a signal from the sandbox itself ("kill -TERM
		 * -1", "pkill -u 1000") must not take the report of the run
		 * with it.  SIGKILL and SIGSTOP cannot be refused; init's
		 * watchdog covers those. */
		if (si.ssi_pid != 0) {
			logmsg("ignoring %s from pid %d in the sandbox",
			       strsignal((int)si.ssi_signo), (int)si.ssi_pid);
			continue;
		}
		fail_run("agent stopped by %s during the run",
			 strsignal((int)si.ssi_signo));
	}
}

/* Cut the run short: kill its process group, then every descendant,
 * however it left the group (setsid, double fork, nohup), until nothing
 * is left to reap.  The first reason wins. */
static void terminate(int reason, uint32_t value)
{
	struct pollfd pfd;
	int64_t give_up;
	int n;

	if (R.reason < 0) {
		R.reason = reason;
		R.value = value;
	}
	if (!R.end_us)
		R.end_us = mono_us();
	if (R.killed || !R.child)
		return;
	R.killed = true;
	/* While the program is unreaped its pid is still its group's id, so
	 * this cannot hit a stranger. */
	if (!R.child_reaped)
		kill(-R.child, SIGKILL);
	give_up = mono_us() + KILL_BUDGET_US;
	for (;;) {
		n = kill_descendants(getpid());
		/* No children left means no descendants only for a subreaper. */
		if (reap() < 0 && (!lineage_by_start || n == 0))
			break;
		if (mono_us() >= give_up) {
			logmsg("processes of the run survive SIGKILL; giving up");
			break;
		}
		/* Wait for a SIGCHLD, or a little, before the next sweep. */
		pfd.fd = R.sig_fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, n > 0 ? 10 : 50) > 0) {
			struct signalfd_siginfo si;

			while (read(R.sig_fd, &si, sizeof si) > 0)
				;
		}
	}
	/* Frames still to come get a grace period of their own. */
	R.write_deadline_us = mono_us() + WRITE_GRACE_US;
}

/* Send n bytes of stream s, or what fits under the cap; past the cap the
 * run is over. */
static void relay(int s, const unsigned char *data, size_t n)
{
	uint64_t room = R.max_output - R.relayed[s];
	size_t take = n < room ? n : (size_t)room;

	if (take && send_frame(s == 1 ? NXA_STDOUT : NXA_STDERR, data,
			       (uint32_t)take) < 0)
		host_gone();
	R.relayed[s] += take;
	if (take < n)
		terminate(NXA_OUTPUT_LIMIT, (uint32_t)s);
}

/* One read from stream s.  Returns bytes read, 0 at EOF (the pipe is then
 * closed), -1 when nothing is there now. */
static ssize_t read_stream(int s)
{
	unsigned char *buf = frame_buf + NXA_HEADER_LEN;
	ssize_t n;

	if (R.pipe_fd[s] < 0)
		return 0;
	do
		n = read(R.pipe_fd[s], buf, NXA_MAX_DATA);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return -1;
	if (n <= 0) {
		close(R.pipe_fd[s]);
		R.pipe_fd[s] = -1;
		return 0;
	}
	/* The cap applies to the stream that overflowed; the other one is
	 * still relayed up to its own cap. */
	if (!(R.reason == NXA_OUTPUT_LIMIT && R.value == (uint32_t)s))
		relay(s, buf, (size_t)n);
	return n;
}

/* Relay what the pipes hold right now, without waiting for writers that
 * are still alive (background processes may keep them open). */
static void drain_pipes(void)
{
	size_t total;
	ssize_t n;
	int s;

	for (s = 1; s <= 2; s++)
		for (total = 0; total < DRAIN_MAX; total += (size_t)n) {
			n = read_stream(s);
			if (n <= 0)
				break;
		}
}

/* Read exactly len bytes of the request, with a deadline: a host that
 * sends half a frame must not hold the agent forever. */
static void read_request(void *buf, size_t len, int64_t deadline,
			 const char *what)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	unsigned char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = poll(&pfd, 1, ms_until(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail_run("cannot wait for the request: %s",
				 strerror(errno));
		if (n == 0)
			fail_run("no complete request within %d s (%s: %zu of "
				 "%zu bytes)", NXA_REQUEST_TIMEOUT_S, what, got,
				 len);
		n = read(STDIN_FILENO, p + got, len - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			fail_run("cannot read the request: %s", strerror(errno));
		if (n == 0)
			fail_run("request ended early (%s: %zu of %zu bytes)",
				 what, got, len);
		got += (size_t)n;
	}
}

/* Read the CODE frame into a sealed memfd: the program text costs memory
 * (charged to the container) rather than the user's disk quota, leaves
 * no file behind, and cannot change under the interpreter. */
static void load_code(void)
{
	static unsigned char chunk[NXA_MAX_DATA];
	unsigned char hdr[NXA_HEADER_LEN];
	int64_t deadline = mono_us() + NXA_REQUEST_TIMEOUT_S * US_PER_S;
	uint32_t len, done, n;
	ssize_t w;

	read_request(hdr, sizeof hdr, deadline, "header");
	len = nxa_get_be32(hdr + 1);
	if (hdr[0] != NXA_CODE)
		fail_run("request frame type 0x%02x is not a code frame (0x%02x)",
			 hdr[0], NXA_CODE);
	if (len > NXA_MAX_CODE)
		fail_run("code frame of %" PRIu32 " bytes is over the limit of "
			 "%u", len, NXA_MAX_CODE);
	R.code_fd = memfd_create("nexus-code", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (R.code_fd < 0)
		fail_run("cannot create the code file: memfd_create: %s",
			 strerror(errno));
	for (done = 0; done < len; done += n) {
		n = len - done < sizeof chunk ? len - done : sizeof chunk;
		read_request(chunk, n, deadline, "code");
		w = write(R.code_fd, chunk, n);
		if (w != (ssize_t)n)
			fail_run("cannot store the code: %s",
				 w < 0 ? strerror(errno) : "short write");
	}
	if (fcntl(R.code_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		fail_run("cannot seal the code file: %s", strerror(errno));
	if (lseek(R.code_fd, 0, SEEK_SET) < 0)
		fail_run("cannot rewind the code file: %s", strerror(errno));
}

/* What the child reports when it cannot exec: the step that failed, its
 * errno, and a detail (the capability that would not go). */
enum child_step {
	STEP_SETUP, STEP_RLIMIT, STEP_CAPBSET, STEP_CAPS, STEP_NNP,
	STEP_SECCOMP, STEP_EXEC,
};

struct child_failure {
	int step, err, detail;
};

static void __attribute__((noreturn))
child_fail(int report_w, int step, int detail)
{
	struct child_failure f = { step, errno, detail };

	if (write(report_w, &f, sizeof f) < 0)
		_exit(127);
	_exit(127);
}

/* Lower both limits of a resource to at most max: the program cannot
 * raise a hard limit again, and the container's own may be lower. */
static int limit(int resource, rlim_t max)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) < 0)
		return -1;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > max)
		rl.rlim_max = max;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > rl.rlim_max)
		rl.rlim_cur = rl.rlim_max;
	return setrlimit(resource, &rl);
}

/* Empty every capability set of the child.  Raw prctl and capset rather
 * than libcap: the agent is static and has no library but libc, and these
 * are the interfaces libcap wraps (version 3 headers cover capabilities
 * 0-63).  With --cap-drop ALL the bounding set is already empty, and
 * PR_CAPBSET_DROP would need CAP_SETPCAP: so drop only what is still
 * there, and fail when that does not work.  Returns 0, or -1 with *step
 * and *cap saying what went wrong. */
static int drop_capabilities(int *step, int *cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {
		{ 0 },
	};
	int c, in;

	*step = STEP_CAPBSET;
	for (c = 0; c <= R.cap_last; c++) {
		*cap = c;
		in = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
		if (in < 0)
			return -1;
		if (in && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return -1;
	}
	*step = STEP_CAPS;
	*cap = -1;
	/* EINVAL: a kernel without ambient capabilities (gVisor), so there
	 * are none to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -1;
	/* Effective, permitted and inheritable, for a program started as
	 * root in an image that runs without --user. */
	return (int)syscall(SYS_capset, &hdr, none);
}

/* In the child, between fork and exec.  The agent has one thread, so
 * this may call what it likes; it reports a failure through report_w.
 *
 * The order matters, and each step is where it is for a reason:
 *  1. own session and process group (the agent is already the subreaper):
 *     first, so that everything after, and everything the program
 *     starts, is in the group the timeout kills;
 *  2. rlimits: they need no privilege to lower, and come before the
 *     capabilities go because a program with CAP_SYS_RESOURCE could raise
 *     them again;
 *  3. the capability bounding set, then the other sets: the bounding set
 *     first, as dropping from it needs CAP_SETPCAP, which the second step
 *     removes (minijail and bubblewrap do the same);
 *  4. no_new_privs: before the filter, because an unprivileged process
 *     may only load one with it set, and so that no setuid binary can
 *     give back what steps 2-3 took;
 *  5. the seccomp filter last, right before execve: every call before it
 *     would otherwise have to be in the filter (setsid, capset, prctl, the
 *     report pipe's dup), and nothing the agent itself does after it can
 *     be refused or killed by it. */
static void __attribute__((noreturn))
child_exec(int out_w, int err_w, int report_w)
{
	struct sock_fprog prog = { .len = R.filter_len, .filter = R.filter };
	struct rlimit no_core = { 0, 0 };
	rlim_t cpu = (rlim_t)(R.timeout_us / US_PER_S) + CPU_GRACE_S;
	sigset_t none;
	int null_fd, sig, step, cap;

	/* Blocked and ignored signals survive exec: give the program the
	 * defaults, not our SIGPIPE (or whatever the exec brought in). */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	/* 1. Own session and process group: the timeout kills the group in
	 * one call, and the program has no terminal to take over. */
	if (setsid() < 0)
		child_fail(report_w, STEP_SETUP, 0);
	/* If the agent dies (it shares the uid with the code, which can
	 * kill it), the program does not outlive it unwatched. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(report_w, STEP_SETUP, 0);
	/* 2. No core files: they would fill the user's quota, or go to the
	 * host's core_pattern helper, which runs outside the sandbox.  The
	 * hard limit too, so the program cannot raise it again. */
	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		child_fail(report_w, STEP_RLIMIT, RLIMIT_CORE);
	if (limit(RLIMIT_CPU, cpu) < 0)
		child_fail(report_w, STEP_RLIMIT, RLIMIT_CPU);
	if (limit(RLIMIT_FSIZE, FSIZE_MAX) < 0)
		child_fail(report_w, STEP_RLIMIT, RLIMIT_FSIZE);
	if (limit(RLIMIT_NOFILE, NOFILE_MAX) < 0)
		child_fail(report_w, STEP_RLIMIT, RLIMIT_NOFILE);
	if (R.lang->code_on_stdin) {
		if (dup2(R.code_fd, STDIN_FILENO) < 0)
			child_fail(report_w, STEP_SETUP, 0);
	} else {
		null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0)
			child_fail(report_w, STEP_SETUP, 0);
	}
	if (dup2(out_w, STDOUT_FILENO) < 0 || dup2(err_w, STDERR_FILENO) < 0)
		child_fail(report_w, STEP_SETUP, 0);
	if (!R.lang->code_on_stdin) {
		/* fd 3 may be in use by the report pipe: move that first. */
		if (report_w == 3) {
			report_w = fcntl(report_w, F_DUPFD_CLOEXEC, 4);
			if (report_w < 0)
				_exit(127);
		}
		if (R.code_fd == 3) {
			if (fcntl(3, F_SETFD, 0) < 0)
				child_fail(report_w, STEP_SETUP, 0);
		} else if (dup2(R.code_fd, 3) < 0) {
			child_fail(report_w, STEP_SETUP, 0);
		}
	}
	/* Every other descriptor of the agent is O_CLOEXEC already; this
	 * also covers any the exec brought in. */
	close_range(R.lang->code_on_stdin ? 3 : 4, ~0U, CLOSE_RANGE_CLOEXEC);
	if (R.lang->env)
		putenv((char *)R.lang->env);
	/* 3. Capabilities. */
	if (drop_capabilities(&step, &cap) < 0)
		child_fail(report_w, step, cap);
	/* 4. no_new_privs. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(report_w, STEP_NNP, 0);
	/* 5. The filter, then exec: execve and the failure path's write and
	 * exit_group are allowed by every language's profile. */
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		child_fail(report_w, STEP_SECCOMP, 0);
	execvp(R.lang->argv[0], (char *const *)R.lang->argv);
	child_fail(report_w, STEP_EXEC, 0);
}

/* Read DIR/LANG.bpf: a raw array of struct sock_filter, written at build
 * time by tools/seccomp-compile.  Never run without it: a missing or bad
 * file ends the run. */
static void load_filter(void)
{
	char path[512];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/%s.bpf", R.seccomp_dir, R.lang->name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fail_run("the seccomp filter for %s is missing: reinstall nexus "
			 "(%s)", R.lang->name, path);
	if (fd < 0)
		fail_run("cannot open the seccomp filter for %s (%s): %s",
			 R.lang->name, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
	    st.st_size > (off_t)sizeof R.filter)
		fail_run("the seccomp filter for %s (%s) is not a whole number "
			 "of BPF instructions (1 to %d): reinstall nexus",
			 R.lang->name, path, BPF_MAXINSNS);
	do
		n = read(fd, R.filter, (size_t)st.st_size);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n != st.st_size)
		fail_run("cannot read the seccomp filter for %s (%s): %s",
			 R.lang->name, path, n < 0 ? strerror(errno) :
			 "short read");
	R.filter_len = (unsigned short)(n / (ssize_t)sizeof(struct sock_filter));
}

/* The highest capability number this kernel knows: the last one that
 * PR_CAPBSET_READ accepts.  Asked of the kernel rather than read from
 * /proc/sys/kernel/cap_last_cap, which gVisor does not provide. */
static void find_cap_last(void)
{
	int cap = 0;

	while (cap < 63 && prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0)
		cap++;
	if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
		fail_run("cannot read the capability bounding set: %s",
			 strerror(errno));
	R.cap_last = cap;
}

static void start_program(void)
{
	static const char *const steps[] = {
		[STEP_SETUP] = "cannot start %s: %s",
		[STEP_RLIMIT] = "cannot set the resource limits for %s: %s",
		[STEP_CAPBSET] = "cannot clear the capability bounding set "
				 "for %s: %s",
		[STEP_CAPS] = "cannot drop the capabilities of %s: %s",
		[STEP_NNP] = "cannot set no_new_privs for %s: %s",
		[STEP_SECCOMP] = "cannot load the seccomp filter for %s: %s",
		[STEP_EXEC] = "cannot start %s: %s",
	};
	struct child_failure f;
	int out[2], err[2], report[2];
	ssize_t n;

	load_filter();
	find_cap_last();
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    pipe2(report, O_CLOEXEC) < 0)
		fail_run("cannot create pipes: %s", strerror(errno));
	/* As a subreaper, the agent inherits everything the program leaves
	 * behind (double forks, setsid), so the timeout can find it all. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		if (errno != EINVAL)
			fail_run("cannot become a subreaper: %s",
				 strerror(errno));
		lineage_by_start = true;
	}
	R.start_us = mono_us();
	R.deadline_us = R.start_us + R.timeout_us;
	R.write_deadline_us = R.deadline_us;
	R.child = fork();
	if (R.child < 0) {
		R.child = 0;
		fail_run("cannot start %s: fork: %s", R.lang->argv[0],
			 strerror(errno));
	}
	if (R.child == 0)
		child_exec(out[1], err[1], report[1]);
	close(out[1]);
	close(err[1]);
	close(report[1]);
	R.pipe_fd[1] = out[0];
	R.pipe_fd[2] = err[0];
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	/* EOF: exec worked.  A failure: it did not, and the child is gone. */
	do
		n = read(report[0], &f, sizeof f);
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == (ssize_t)sizeof f) {
		waitpid(R.child, NULL, 0);
		R.child = 0;
		if (f.step == STEP_EXEC && f.err == ENOENT)
			fail_run("%s is not installed in this sandbox image "
				 "(needed for %s)", R.lang->argv[0],
				 R.lang->name);
		if (f.step == STEP_CAPBSET)
			fail_run("cannot clear the capability bounding set for "
				 "%s: capability %d remains: %s",
				 R.lang->argv[0], f.detail, strerror(f.err));
		if (f.step < 0 || f.step > STEP_EXEC)
			fail_run("cannot start %s", R.lang->argv[0]);
		fail_run(steps[f.step], R.lang->argv[0], strerror(f.err));
	}
}

static void parse_run_args(int argc, char **argv)
{
	long long timeout = -1, max_output = -1;
	const char *v, *lang = NULL;
	size_t k;
	int i;

	for (i = 2; i < argc; i++) {
		if ((v = option_value(argc, argv, &i, "--language"))) {
			lang = v;
		} else if ((v = option_value(argc, argv, &i, "--timeout"))) {
			if (parse_num(v, 1, 86400, &timeout) < 0)
				fail_run("invalid --timeout '%s' (1 to 86400 "
					 "seconds)", v);
		} else if ((v = option_value(argc, argv, &i, "--max-output"))) {
			if (parse_num(v, 1, 1LL << 40, &max_output) < 0)
				fail_run("invalid --max-output '%s'", v);
		} else if ((v = option_value(argc, argv, &i, "--seccomp-dir"))) {
			R.seccomp_dir = v;
		} else {
			fail_run("unknown run option '%s'", argv[i]);
		}
	}
	if (!lang || timeout < 0 || max_output < 0)
		fail_run("usage: nexus-agent run --language python|javascript|"
			 "bash --timeout SECONDS --max-output BYTES "
			 "[--seccomp-dir DIR]");
	for (k = 0; k < sizeof langs / sizeof langs[0]; k++)
		if (strcmp(lang, langs[k].name) == 0)
			R.lang = &langs[k];
	if (!R.lang)
		fail_run("unknown language '%s' (python, javascript, bash)",
			 lang);
	R.timeout_us = timeout * US_PER_S;
	R.max_output = (uint64_t)max_output;
}

/* Make sure 0, 1 and 2 are open, so that no descriptor the agent opens
 * later lands there by accident. */
static void ensure_std_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(1);
}

static void run_loop(void)
{
	struct pollfd pfd[4];
	int64_t now;
	int s;

	while (!R.child_reaped && R.reason < 0) {
		now = mono_us();
		if (now >= R.deadline_us) {
			terminate(NXA_TIMEOUT, 0);
			break;
		}
		pfd[0] = (struct pollfd){ .fd = R.sig_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = R.pipe_fd[1], .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = R.pipe_fd[2], .events = POLLIN };
		/* No events asked: POLLERR alone says the host closed the
		 * other end of our stdout. */
		pfd[3] = (struct pollfd){ .fd = STDOUT_FILENO, .events = 0 };
		if (poll(pfd, 4, ms_until(R.deadline_us)) < 0) {
			if (errno == EINTR)
				continue;
			fail_run("poll: %s", strerror(errno));
		}
		if (pfd[3].revents & (POLLERR | POLLHUP))
			host_gone();
		for (s = 1; s <= 2 && R.reason < 0; s++)
			if (pfd[s].revents)
				read_stream(s);
		if (pfd[0].revents) {
			drain_signals();
			reap();
		}
	}
}

/* A run started by a Docker exec tells init when it starts and when it
 * ends, so that the idle clock counts it however short it is: init looks
 * for execs only once a second.  A socket run is init's own child and
 * needs no telling.  init answers with SIGUSR1, which is ignored here. */
static void touch_init(void)
{
	if (getppid() == 0)
		kill(1, SIGUSR1);
}

static int cmd_run(int argc, char **argv)
{
	unsigned char hello[NXA_HELLO_LEN];
	struct stat st;
	sigset_t set;
	int fl;

	/* Not dumpable: the code runs under our uid, and could otherwise
	 * ptrace us, or write frames of its own into our stdout through
	 * /proc/PID/fd/1. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		logmsg("cannot make the agent non-dumpable: %s", strerror(errno));
		return 1;
	}
	ensure_std_fds();
	/* A host that goes away must show up as EPIPE, not kill us before
	 * we have killed the run. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	touch_init();
	if (fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		fl = fcntl(STDOUT_FILENO, F_GETFL);
		if (fl >= 0)
			fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	/* HELLO before anything can fail, so that even an agent that does
	 * not understand its arguments tells the host its version. */
	R.write_deadline_us = mono_us() + NXA_REQUEST_TIMEOUT_S * US_PER_S;
	nxa_put_be32(hello, NXA_VERSION);
	if (send_frame(NXA_HELLO, hello, sizeof hello) < 0) {
		logmsg("cannot write to stdout: %s", strerror(errno));
		return 1;
	}
	R.hello_sent = true;

	R.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (R.sig_fd < 0)
		fail_run("signalfd: %s", strerror(errno));
	parse_run_args(argc, argv);
	load_code();
	start_program();
	run_loop();
	touch_init();
	/* The program exited, or the run was cut short and everything is
	 * dead: either way, relay what is left in the pipes, then the end. */
	drain_pipes();
	if (R.reason >= 0)
		send_exit((uint8_t)R.reason, R.value);
	else if (WIFSIGNALED(R.status))
		send_exit(NXA_SIGNALED, (uint32_t)WTERMSIG(R.status));
	else
		send_exit(NXA_EXITED, (uint32_t)WEXITSTATUS(R.status));
	return 0;
}

/* How long touch waits for PID 1 to answer. */
#define TOUCH_TIMEOUT_S 5

static int cmd_touch(void)
{
	struct timespec ts = { .tv_sec = TOUCH_TIMEOUT_S };
	siginfo_t info;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (kill(1, SIGUSR1) < 0) {
		logmsg("cannot signal init: %s", strerror(errno));
		return 1;
	}
	for (;;) {
		int sig = sigtimedwait(&set, &info, &ts);

		if (sig == SIGUSR1 && info.si_pid == 1)
			return 0;
		if (sig < 0 && errno != EINTR) {
			logmsg("init did not answer within %d s", TOUCH_TIMEOUT_S);
			return 1;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "touch") == 0)
		return cmd_touch();
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return cmd_init(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc, argv);
	logmsg("usage: nexus-agent init --ttl-seconds N\n"
	       "       nexus-agent touch\n"
	       "       nexus-agent run --language python|javascript|bash "
	       "--timeout SECONDS --max-output BYTES [--seccomp-dir DIR]");
	return 2;
}
