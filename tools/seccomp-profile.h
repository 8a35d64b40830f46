/* seccomp-profile.h - a Docker-format seccomp profile read strictly and
 * built into a BPF program with libseccomp, as Docker 20.10 and runc 1.1
 * apply it.  Shared by tests/seccomp-check (which checks what the program
 * answers) and tools/seccomp-compile (which writes it out for the agent),
 * so the filter that is checked is the filter that is loaded. */
#ifndef NX_SECCOMP_PROFILE_H
#define NX_SECCOMP_PROFILE_H

#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define MAX_ARCHES 16
#define MAX_ERRNO_RET 4095
#define X32_SYSCALL_BIT 0x40000000u

/* Per-syscall rules as runc sees them, kept for the structural checks. */
struct rule {
	const char *name; /* points into the parsed JSON */
	size_t entry;     /* index in "syscalls" */
	uint32_t action;
	bool conditional;
};

struct profile {
	const char *path;
	unsigned problems;
	/* Every denying action becomes SCMP_ACT_LOG: the filter then only
	 * reports what it would refuse (for measuring what a workload
	 * uses). */
	bool log_only;

	json_object *root;
	scmp_filter_ctx ctx;
	uint32_t def_action;

	/* Architectures listed in the profile (runc's config.Architectures):
	 * only these get the -ENOSYS stub. */
	uint32_t arches[MAX_ARCHES];
	size_t n_arches;
	uint32_t max_nr[MAX_ARCHES];
	bool stub;

	/* Architectures in the filter: the native one and the listed ones. */
	uint32_t filter_arches[MAX_ARCHES + 1];
	size_t n_filter_arches;

	struct rule *rules;
	size_t n_rules, cap_rules;
	size_t n_names; /* runc's len(config.Syscalls) */

	/* The program: the -ENOSYS stub (stub_len instructions) followed by
	 * what libseccomp exported.  While build is set, a problem the
	 * default build already had is not repeated. */
	struct sock_filter *prog;
	size_t prog_len, stub_len;
	const char *build;
	char **said;
	size_t n_said;
};

void *xrealloc(void *ptr, size_t n);
/* Report one problem with the profile on stderr and count it. */
void problem(struct profile *p, const char *fmt, ...) NX_PRINTF(2, 3);

const char *action_str(uint32_t act, char *buf, size_t len);
bool allows(uint32_t act);
const char *arch_str(uint32_t arch);
uint32_t audit_arch(uint32_t arch);

/* Read and parse p->path into p->ctx; problems are reported and counted.
 * Returns 0 when p->ctx is ready to export. */
int profile_load(struct profile *p);
/* Export p->ctx at libseccomp optimisation level opt (1: rules in
 * sequence, as runc 1.1; 2: binary tree, as runc 1.2) into p->prog,
 * behind the stub. */
int export_bpf(struct profile *p, uint32_t opt);
void profile_release(struct profile *p);

#endif
