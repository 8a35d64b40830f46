/* seccomp-compile - build one of nexus's Docker-format seccomp profiles
 * into the raw BPF program nexus-agent loads before it runs a program:
 *
 *   seccomp-compile [--log] PROFILE.json OUT.bpf
 *
 * OUT.bpf is an array of struct sock_filter in host byte order: runc's
 * -ENOSYS stub, then the program libseccomp builds for the profile, the
 * same build tests/seccomp-check checks.  The agent is static and small;
 * compiling here, at build time, keeps libseccomp and json-c out of it,
 * and makes an unknown syscall name a build error.
 *
 * --log turns every denying action into SCMP_ACT_LOG: the filter then
 * lets everything through and the kernel logs what it would have refused
 * (docs/seccomp.md, "How it was tested").
 *
 * Exit status 0 on success, 1 when the profile has a problem, 2 on a
 * usage error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "seccomp-profile.h"

/* Write the program to a temporary file next to out, then rename it, so
 * that an interrupted build never leaves a half filter behind. */
static int write_program(struct profile *p, const char *out)
{
	cleanup_free char *tmp = NULL;
	size_t len = p->prog_len * sizeof(*p->prog);
	size_t n = strlen(out) + sizeof(".tmp");
	int fd, rc = 0;

	tmp = xrealloc(NULL, n);
	snprintf(tmp, n, "%s.tmp", out);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		problem(p, "cannot create '%s': %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, p->prog, len) != (ssize_t)len || fsync(fd) != 0) {
		problem(p, "cannot write '%s': %s", tmp, strerror(errno));
		rc = -1;
	}
	if (close(fd) != 0 && rc == 0) {
		problem(p, "cannot write '%s': %s", tmp, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && rename(tmp, out) != 0) {
		problem(p, "cannot rename '%s' to '%s': %s", tmp, out,
			strerror(errno));
		rc = -1;
	}
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int main(int argc, char **argv)
{
	struct profile p = { 0 };
	unsigned problems;
	int i = 1;

	if (argc > 1 && strcmp(argv[1], "--log") == 0) {
		p.log_only = true;
		i++;
	}
	if (argc - i != 2 || argv[i][0] == '-') {
		fputs("usage: seccomp-compile [--log] PROFILE.json OUT.bpf\n",
		      stderr);
		return 2;
	}
	p.path = argv[i];
	/* As runc 1.1 builds it: rules in sequence (seccomp-check). */
	if (profile_load(&p) == 0 && export_bpf(&p, 1) == 0)
		write_program(&p, argv[i + 1]);
	problems = p.problems;
	profile_release(&p);
	return problems ? 1 : 0;
}
