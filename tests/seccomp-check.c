/* seccomp-check - build-time check of nexus's Docker-format seccomp profiles.
 *
 * For every profile named on the command line:
 *
 *  1. parse it strictly with json-c (UTF-8 validated, offset on bad JSON,
 *     a type check before every field read, unknown fields rejected: Docker
 *     ignores a misspelt "errnoret" silently, we do not);
 *  2. apply it as Docker 20.10 and runc 1.1 do: includes/excludes filtered
 *     for a container with no capabilities (nexus runs --cap-drop ALL),
 *     one rule per syscall name, rules whose action equals the default
 *     skipped, every name resolved with libseccomp (an unknown name is an
 *     error naming it, where runc would drop it without a word);
 *  3. build the whole filter with libseccomp and export it as BPF, which
 *     proves that it compiles and that the kernel's 4096-instruction limit
 *     holds; once as runc 1.1 builds it and once as a binary tree, as runc
 *     1.2 does;
 *  4. run each exported program in a small BPF interpreter, behind the
 *     -ENOSYS stub runc prepends for syscalls newer than the profile, and
 *     check nexus's invariants on what the program actually answers:
 *     default deny, io_uring -> EPERM, clone3 -> ENOSYS, no namespace
 *     flags for clone, socket() only for AF_UNIX, AF_INET, AF_INET6 (plain
 *     TCP/UDP) and NETLINK_ROUTE, the dangerous syscalls denied, and what
 *     the interpreters and the agent need allowed.
 *
 * One line per problem on stderr; exit 0 when every profile is clean, 1 when
 * any problem was found, 2 on a usage error.  With -l, also print what the
 * filter answers for every native syscall called with zero arguments.
 *
 * A standalone program: it links json-c and libseccomp only.  Reading and
 * building a profile is tools/seccomp-profile.c, shared with
 * tools/seccomp-compile, which writes the same program out for the agent. */

#include <errno.h>
#include <inttypes.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "seccomp-profile.h"

/* Run classic BPF as the kernel's seccomp does.  Returns false on an
 * instruction the kernel would refuse or a program that falls off. */
static bool bpf_run(const struct sock_filter *prog, size_t len,
		    const struct seccomp_data *d, uint32_t *ret)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	size_t pc = 0;

	while (pc < len) {
		const struct sock_filter *f = &prog[pc++];
		uint32_t k = f->k;

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (k % 4 || k > sizeof(*d) - 4)
				return false;
			memcpy(&a, (const char *)d + k, 4);
			break;
		case BPF_LD | BPF_W | BPF_LEN: a = sizeof(*d); break;
		case BPF_LDX | BPF_W | BPF_LEN: x = sizeof(*d); break;
		case BPF_LD | BPF_IMM: a = k; break;
		case BPF_LDX | BPF_IMM: x = k; break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				return false;
			if (f->code == (BPF_LD | BPF_MEM))
				a = mem[k];
			else if (f->code == (BPF_LDX | BPF_MEM))
				x = mem[k];
			else if (f->code == BPF_ST)
				mem[k] = a;
			else
				mem[k] = x;
			break;
		case BPF_ALU | BPF_ADD | BPF_K: a += k; break;
		case BPF_ALU | BPF_ADD | BPF_X: a += x; break;
		case BPF_ALU | BPF_SUB | BPF_K: a -= k; break;
		case BPF_ALU | BPF_SUB | BPF_X: a -= x; break;
		case BPF_ALU | BPF_AND | BPF_K: a &= k; break;
		case BPF_ALU | BPF_AND | BPF_X: a &= x; break;
		case BPF_ALU | BPF_OR | BPF_K: a |= k; break;
		case BPF_ALU | BPF_OR | BPF_X: a |= x; break;
		case BPF_ALU | BPF_XOR | BPF_K: a ^= k; break;
		case BPF_ALU | BPF_XOR | BPF_X: a ^= x; break;
		case BPF_ALU | BPF_LSH | BPF_K: a = k < 32 ? a << k : 0; break;
		case BPF_ALU | BPF_RSH | BPF_K: a = k < 32 ? a >> k : 0; break;
		case BPF_ALU | BPF_NEG: a = -a; break;
		case BPF_MISC | BPF_TAX: x = a; break;
		case BPF_MISC | BPF_TXA: a = x; break;
		case BPF_JMP | BPF_JA:
			if (k >= len - pc)
				return false;
			pc += k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JEQ | BPF_X:
			pc += a == x ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_X:
			pc += a > x ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_X:
			pc += a >= x ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & k) ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_X:
			pc += (a & x) ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K: *ret = k; return true;
		case BPF_RET | BPF_A: *ret = a; return true;
		default:
			return false;
		}
	}
	return false;
}

/* What the container sees for syscall nr of arch with these arguments:
 * the program begins with runc's -ENOSYS stub (seccomp-profile.c). */
static uint32_t evaluate(struct profile *p, uint32_t arch, int nr,
			 const uint64_t args[6])
{
	struct seccomp_data d = { .nr = nr, .arch = audit_arch(arch) };
	uint32_t ret;

	memcpy(d.args, args, sizeof(d.args));
	if (!bpf_run(p->prog, p->prog_len, &d, &ret)) {
		problem(p, "the exported program misbehaves for syscall %d", nr);
		return SCMP_ACT_KILL_PROCESS;
	}
	/* The kernel caps the errno it returns. */
	if ((ret & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO &&
	    (ret & SECCOMP_RET_DATA) > MAX_ERRNO_RET)
		ret = SECCOMP_RET_ERRNO | MAX_ERRNO_RET;
	return ret;
}

/* ---- invariants ----------------------------------------------------------------------- */

static const uint64_t no_args[6];

/* Loop over the filter's architectures on which syscall name exists,
 * setting arch and nr. */
#define FOR_EACH_ARCH(p, name, arch, nr)                                      \
	for (size_t ai_ = 0; ai_ < (p)->n_filter_arches; ai_++)                \
		if (((arch) = (p)->filter_arches[ai_]),                        \
		    ((nr) = seccomp_syscall_resolve_name_arch((arch), (name))), \
		    (nr) >= 0)

static void want_action(struct profile *p, const char *name, uint32_t want,
			const char *why)
{
	uint32_t arch, got;
	int nr;
	char b1[32], b2[32];

	FOR_EACH_ARCH(p, name, arch, nr) {
		got = evaluate(p, arch, nr, no_args);
		if (got != want)
			problem(p, "%s answers %s on %s, want %s: %s", name,
				action_str(got, b1, sizeof(b1)), arch_str(arch),
				action_str(want, b2, sizeof(b2)), why);
	}
}

/* Named syscalls the profile must deny whatever the arguments: no allowing
 * rule at all, and not allowed for a few argument patterns. */
static void want_denied(struct profile *p, const char *const *names)
{
	static const uint64_t all_ones[6] = { ~0ull, ~0ull, ~0ull,
					      ~0ull, ~0ull, ~0ull };
	const char *const *n;
	size_t i;

	for (n = names; *n; n++) {
		uint32_t arch, got;
		int nr;
		char b[32];

		for (i = 0; i < p->n_rules; i++) {
			if (strcmp(p->rules[i].name, *n) == 0 &&
			    allows(p->rules[i].action))
				problem(p, "%s is allowed by syscalls[%zu]; it "
					"must be denied", *n, p->rules[i].entry);
		}
		FOR_EACH_ARCH(p, *n, arch, nr) {
			got = evaluate(p, arch, nr, no_args);
			if (!allows(got))
				got = evaluate(p, arch, nr, all_ones);
			if (allows(got))
				problem(p, "%s answers %s on %s; it must be "
					"denied", *n, action_str(got, b,
								  sizeof(b)),
					arch_str(arch));
		}
	}
}

static const char *family_name(unsigned f)
{
	static const char *const names[] = {
		[AF_UNSPEC] = "AF_UNSPEC", [AF_UNIX] = "AF_UNIX",
		[AF_INET] = "AF_INET", [AF_AX25] = "AF_AX25",
		[AF_IPX] = "AF_IPX", [AF_APPLETALK] = "AF_APPLETALK",
		[AF_NETROM] = "AF_NETROM", [AF_BRIDGE] = "AF_BRIDGE",
		[AF_ATMPVC] = "AF_ATMPVC", [AF_X25] = "AF_X25",
		[AF_INET6] = "AF_INET6", [AF_ROSE] = "AF_ROSE",
		[AF_DECnet] = "AF_DECnet", [AF_NETBEUI] = "AF_NETBEUI",
		[AF_SECURITY] = "AF_SECURITY", [AF_KEY] = "AF_KEY",
		[AF_NETLINK] = "AF_NETLINK", [AF_PACKET] = "AF_PACKET",
		[AF_ASH] = "AF_ASH", [AF_ECONET] = "AF_ECONET",
		[AF_ATMSVC] = "AF_ATMSVC", [AF_RDS] = "AF_RDS",
		[AF_SNA] = "AF_SNA", [AF_IRDA] = "AF_IRDA",
		[AF_PPPOX] = "AF_PPPOX", [AF_WANPIPE] = "AF_WANPIPE",
		[AF_LLC] = "AF_LLC", [AF_IB] = "AF_IB", [AF_MPLS] = "AF_MPLS",
		[AF_CAN] = "AF_CAN", [AF_TIPC] = "AF_TIPC",
		[AF_BLUETOOTH] = "AF_BLUETOOTH", [AF_IUCV] = "AF_IUCV",
		[AF_RXRPC] = "AF_RXRPC", [AF_ISDN] = "AF_ISDN",
		[AF_PHONET] = "AF_PHONET", [AF_IEEE802154] = "AF_IEEE802154",
		[AF_CAIF] = "AF_CAIF", [AF_ALG] = "AF_ALG", [AF_NFC] = "AF_NFC",
		[AF_VSOCK] = "AF_VSOCK", [AF_KCM] = "AF_KCM",
		[AF_QIPCRTR] = "AF_QIPCRTR", [AF_SMC] = "AF_SMC",
		[AF_XDP] = "AF_XDP", [45] = "AF_MCTP",
	};

	return f < NX_ARRAY_LEN(names) && names[f] ? names[f] : "AF_?";
}

/* Is socket(family, type, protocol), as the kernel reads the three ints,
 * something nexus allows? */
static bool socket_ok(uint32_t family, uint32_t type, uint32_t protocol)
{
	uint32_t t = type & 0xf;

	switch (family) {
	case AF_UNIX:
		return true;
	case AF_INET:
	case AF_INET6:
		return (t == SOCK_STREAM &&
			(protocol == 0 || protocol == IPPROTO_TCP)) ||
		       (t == SOCK_DGRAM &&
			(protocol == 0 || protocol == IPPROTO_UDP));
	case AF_NETLINK:
		return protocol == 0; /* NETLINK_ROUTE */
	default:
		return false;
	}
}

/* Try socket(family, ...) with many types and protocols, also with
 * garbage in the upper 32 bits of the family word (the kernel truncates it
 * to an int; a 64-bit "!= 40" test does not): whatever the filter allows
 * must be on nexus's list.  At most one problem per family. */
static void check_socket_family(struct profile *p, uint32_t arch, int nr,
				uint32_t family)
{
	static const uint32_t types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_RAW,
					  SOCK_RDM, SOCK_SEQPACKET, SOCK_DCCP,
					  SOCK_PACKET };
	static const uint32_t protos[] = { 0, 1, 2, 3, 4, 6, 9, 15, 16, 17,
					   58, 132, 136, 255, 262, 0x300 };
	static const uint64_t high[] = { 0, 1ull << 32, 0xffffffff00000000ull };
	size_t t, pr, h;

	for (t = 0; t < NX_ARRAY_LEN(types); t++) {
		for (pr = 0; pr < NX_ARRAY_LEN(protos); pr++) {
			for (h = 0; h < NX_ARRAY_LEN(high); h++) {
				uint32_t type = types[t] |
					(h ? SOCK_CLOEXEC | SOCK_NONBLOCK : 0);
				uint64_t args[6] = { high[h] | family, type,
						     protos[pr] };
				uint32_t got;
				char b[32];

				if (socket_ok(family, type, protos[pr]))
					continue;
				got = evaluate(p, arch, nr, args);
				if (!allows(got))
					continue;
				problem(p, "socket(%s, %#" PRIx32 ", %" PRIu32
					") with family word %#" PRIx64
					" answers %s on %s; only AF_UNIX, "
					"AF_INET/AF_INET6 TCP or UDP and "
					"NETLINK_ROUTE may be allowed",
					family_name(family), type, protos[pr],
					args[0], action_str(got, b, sizeof(b)),
					arch_str(arch));
				return;
			}
		}
	}
}

static void check_socket(struct profile *p)
{
	uint32_t arch, family;
	int nr;

	FOR_EACH_ARCH(p, "socket", arch, nr) {
		for (family = 0; family < 48; family++)
			check_socket_family(p, arch, nr, family);
	}
	/* On i386, socketcall() hides the arguments in memory: a rule can
	 * only look at the call number and the pointer's bits. */
	FOR_EACH_ARCH(p, "socketcall", arch, nr) {
		uint64_t call, ptr;
		bool reported = false;

		for (call = 0; call <= 20 && !reported; call++) {
			for (ptr = 0; ptr < 64 && !reported; ptr++) {
				uint64_t args[6] = { call, ptr << 2 };

				if (!allows(evaluate(p, arch, nr, args)))
					continue;
				problem(p, "socketcall(%" PRIu64 ", ...) is "
					"allowed on %s: seccomp cannot see the "
					"socket family behind its pointer",
					call, arch_str(arch));
				reported = true;
			}
		}
	}
}

#define CLONE_THREAD_FLAGS                                                    \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |    \
	 CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |                 \
	 CLONE_CHILD_CLEARTID)
#define CLONE_FORK_FLAGS (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD)
#define CLONE_SPAWN_FLAGS (CLONE_VM | CLONE_VFORK | SIGCHLD)

static void check_clone(struct profile *p)
{
	static const struct {
		const char *name;
		uint64_t flag;
	} ns[] = {
		{ "CLONE_NEWNS", CLONE_NEWNS },
		{ "CLONE_NEWCGROUP", CLONE_NEWCGROUP },
		{ "CLONE_NEWUTS", CLONE_NEWUTS },
		{ "CLONE_NEWIPC", CLONE_NEWIPC },
		{ "CLONE_NEWUSER", CLONE_NEWUSER },
		{ "CLONE_NEWPID", CLONE_NEWPID },
		{ "CLONE_NEWNET", CLONE_NEWNET },
	};
	static const uint64_t bases[] = { 0, SIGCHLD, CLONE_THREAD_FLAGS,
					  CLONE_FORK_FLAGS, CLONE_SPAWN_FLAGS };
	uint32_t arch;
	int nr;

	FOR_EACH_ARCH(p, "clone", arch, nr) {
		size_t i, b;

		/* s390 swaps clone's first two arguments; this checker only
		 * knows the common order. */
		for (i = 0; i < NX_ARRAY_LEN(ns); i++) {
			for (b = 0; b < NX_ARRAY_LEN(bases); b++) {
				uint64_t args[6] = { bases[b] | ns[i].flag };

				if (!allows(evaluate(p, arch, nr, args)))
					continue;
				problem(p, "clone with %s is allowed on %s; "
					"namespace flags must be denied",
					ns[i].name, arch_str(arch));
				break;
			}
		}
	}
}

static void check_personality(struct profile *p)
{
	/* Docker allows PER_LINUX, PER_LINUX32, UNAME26, both, and the
	 * query 0xffffffff; nothing that weakens ASLR or adds exec. */
	static const uint64_t bad[] = {
		0x0040000,  /* ADDR_NO_RANDOMIZE */
		0x0400000,  /* READ_IMPLIES_EXEC */
		0x0200000,  /* ADDR_COMPAT_LAYOUT */
		0x0100000,  /* MMAP_PAGE_ZERO */
		0x0800000,  /* ADDR_LIMIT_32BIT */
		0x8000000,  /* ADDR_LIMIT_3GB */
		0x0040008,  /* PER_LINUX32 | ADDR_NO_RANDOMIZE */
		0x0000006,  /* PER_BSD */
		0x100040000ull,
	};
	uint32_t arch;
	int nr;

	FOR_EACH_ARCH(p, "personality", arch, nr) {
		size_t i;

		for (i = 0; i < NX_ARRAY_LEN(bad); i++) {
			uint64_t args[6] = { bad[i] };

			if (allows(evaluate(p, arch, nr, args)))
				problem(p, "personality(%#" PRIx64 ") is "
					"allowed on %s; only Docker's values "
					"0, 8, 0x20000, 0x20008 and "
					"0xffffffff may be", bad[i],
					arch_str(arch));
		}
	}
}

/* What the interpreters and the agent cannot live without, on the native
 * architecture.  Each was seen missing somewhere: faccessat2 and
 * close_range broke glibc and Python in Docker's own profile in 2021. */
static void check_needed(struct profile *p)
{
	static const char *const plain[] = {
		"read", "write", "openat", "close", "close_range", "mmap",
		"munmap", "mprotect", "brk", "madvise", "execve", "exit",
		"exit_group", "rt_sigreturn", "rt_sigaction", "rt_sigprocmask",
		"sigaltstack", "futex", "wait4", "waitid", "kill", "tgkill",
		"prctl", "setsid", "setpgid", "poll", "ppoll", "epoll_pwait",
		"pipe2", "memfd_create", "setrlimit", "prlimit64", "getdents64",
		"newfstatat", "statx", "fcntl", "ioctl", "dup3", "getrandom",
		"clock_nanosleep", "sched_getaffinity", "rseq",
		"set_robust_list", "set_tid_address", "arch_prctl", "getcwd",
		"chdir", "readlink", "unlinkat", "mkdirat", "renameat2",
		"faccessat2", NULL,
	};
	static const struct {
		const char *name, *what;
		uint64_t args[6];
	} with_args[] = {
		{ "clone", "a thread", { CLONE_THREAD_FLAGS } },
		{ "clone", "fork", { CLONE_FORK_FLAGS } },
		{ "clone", "posix_spawn", { CLONE_SPAWN_FLAGS } },
		{ "socket", "AF_UNIX stream",
		  { AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0 } },
		{ "socket", "AF_INET TCP", { AF_INET, SOCK_STREAM, IPPROTO_TCP } },
		{ "socket", "AF_INET6 TCP",
		  { AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0 } },
		{ "socket", "AF_INET UDP", { AF_INET, SOCK_DGRAM, 0 } },
		{ "socketpair", "AF_UNIX", { AF_UNIX, SOCK_STREAM, 0 } },
	};
	uint32_t native = seccomp_arch_native();
	const char *const *n;
	size_t i;
	char b[32];

	for (n = plain; *n; n++) {
		int nr = seccomp_syscall_resolve_name_arch(native, *n);
		uint32_t got;

		if (nr < 0)
			continue;
		got = evaluate(p, native, nr, no_args);
		if (!allows(got))
			problem(p, "%s answers %s: the interpreters or the "
				"agent need it", *n, action_str(got, b,
								 sizeof(b)));
	}
	for (i = 0; i < NX_ARRAY_LEN(with_args); i++) {
		int nr = seccomp_syscall_resolve_name_arch(native,
							   with_args[i].name);
		uint32_t got;

		if (nr < 0)
			continue;
		got = evaluate(p, native, nr, with_args[i].args);
		if (!allows(got))
			problem(p, "%s for %s answers %s: the interpreters "
				"need it", with_args[i].name, with_args[i].what,
				action_str(got, b, sizeof(b)));
	}
}

static void check_invariants(struct profile *p)
{
	static const char *const denied[] = {
		"mount", "umount", "umount2", "pivot_root", "chroot", "unshare",
		"setns", "fsopen", "fsconfig", "fsmount", "fspick",
		"move_mount", "open_tree", "mount_setattr", "keyctl", "add_key",
		"request_key", "bpf", "perf_event_open", "userfaultfd",
		"kexec_load", "kexec_file_load", "init_module", "finit_module",
		"delete_module", "ptrace", "process_vm_readv",
		"process_vm_writev", "pidfd_getfd", "settimeofday",
		"clock_settime", "clock_settime64", "stime", "sethostname",
		"setdomainname", "reboot", "swapon", "swapoff", "acct",
		"quotactl", "quotactl_fd", "open_by_handle_at", NULL,
	};

	want_action(p, "io_uring_setup", SCMP_ACT_ERRNO(EPERM),
		    "libuv falls back on EPERM; a kill takes Node down");
	want_action(p, "io_uring_enter", SCMP_ACT_ERRNO(EPERM),
		    "io_uring stays unavailable");
	want_action(p, "io_uring_register", SCMP_ACT_ERRNO(EPERM),
		    "io_uring stays unavailable");
	want_action(p, "clone3", SCMP_ACT_ERRNO(ENOSYS),
		    "glibc and Node fall back to clone on ENOSYS only");
	want_denied(p, denied);
	check_socket(p);
	check_clone(p);
	check_personality(p);
	check_needed(p);
}

static void list_actions(struct profile *p)
{
	uint32_t native = seccomp_arch_native();
	int nr;

	for (nr = 0; nr < 1024; nr++) {
		cleanup_free char *name =
			seccomp_syscall_resolve_num_arch(native, nr);
		bool conditional = false;
		size_t i;
		char b[32];

		if (!name)
			continue;
		for (i = 0; i < p->n_rules; i++)
			if (p->rules[i].conditional &&
			    strcmp(p->rules[i].name, name) == 0)
				conditional = true;
		printf("%s\t%d\t%s%s\n", name, nr,
		       action_str(evaluate(p, native, nr, no_args), b,
				  sizeof(b)),
		       conditional ? "\t(depends on arguments)" : "");
	}
}

static unsigned check_file(const char *path, bool list)
{
	struct profile p = { .path = path };
	unsigned problems;
	size_t i, linear_len = 0;

	/* runc 1.1 (Docker 20.10) loads the filter as libseccomp builds it by
	 * default (measured: the loaded program is runc's stub followed by
	 * this build, instruction for instruction); runc 1.2 asks for the
	 * binary tree.  Check both: libseccomp 2.5.4 miscompiles the tree for
	 * x86_64 plus x86 (socket(AF_INET, SOCK_STREAM, 1) gets through).
	 * With a default that allows, every check would fail: the one problem
	 * already reported says it all. */
	if (profile_load(&p) == 0 && export_bpf(&p, 1) == 0) {
		linear_len = p.prog_len - p.stub_len;
		if (!allows(p.def_action))
			check_invariants(&p);
		if (list)
			list_actions(&p);
		p.build = "binary-tree build, as runc 1.2 loads it";
		if (!allows(p.def_action) && export_bpf(&p, 2) == 0)
			check_invariants(&p);
		p.build = NULL;
		if (p.problems == 0) {
			uint32_t native = seccomp_arch_native();
			cleanup_free char *top = NULL;

			for (i = 0; i < p.n_arches; i++)
				if (p.arches[i] == native)
					top = seccomp_syscall_resolve_num_arch(
						native, (int)p.max_nr[i]);
			printf("%s: ok: %zu rules, %zu BPF instructions, "
			       "ENOSYS above %s\n", path, p.n_names, linear_len,
			       p.stub && top ? top : "(no stub)");
		}
	}
	problems = p.problems;
	profile_release(&p);
	return problems;
}

int main(int argc, char **argv)
{
	unsigned problems = 0;
	bool list = false;
	int i = 1;

	if (argc > 1 && strcmp(argv[1], "-l") == 0) {
		list = true;
		i++;
	}
	if (i >= argc || argv[i][0] == '-') {
		fputs("usage: seccomp-check [-l] PROFILE.json...\n", stderr);
		return 2;
	}
	for (; i < argc; i++)
		problems += check_file(argv[i], list);
	return problems ? 1 : 0;
}
