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
 * A standalone program: it links json-c and libseccomp only. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "util.h"

#define MAX_PROFILE_BYTES (1024 * 1024)
#define MAX_JSON_DEPTH 16
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

	/* The program under test.  While build is set, a problem the
	 * default build already had is not repeated. */
	struct sock_filter *prog;
	size_t prog_len;
	const char *build;
	char **said;
	size_t n_said;
};

static void *xrealloc(void *ptr, size_t n)
{
	void *q = realloc(ptr, n);

	if (!q) {
		fputs("seccomp-check: out of memory\n", stderr);
		exit(2);
	}
	return q;
}

static void problem(struct profile *p, const char *fmt, ...) NX_PRINTF(2, 3);
static void problem(struct profile *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->build) {
		for (i = 0; i < p->n_said; i++)
			if (strcmp(p->said[i], msg) == 0)
				return;
		fprintf(stderr, "%s: %s (%s)\n", p->path, msg, p->build);
	} else {
		fprintf(stderr, "%s: %s\n", p->path, msg);
		p->said = xrealloc(p->said, (p->n_said + 1) * sizeof(*p->said));
		p->said[p->n_said] = xrealloc(NULL, strlen(msg) + 1);
		memcpy(p->said[p->n_said++], msg, strlen(msg) + 1);
	}
	p->problems++;
}

/* ---- names for messages --------------------------------------------------- */

static const char *errno_name(unsigned e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case EINVAL: return "EINVAL";
	case ENOSYS: return "ENOSYS";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return NULL;
	}
}

/* Format a seccomp return value ("allow", "errno EPERM", "kill thread"). */
static const char *action_str(uint32_t act, char *buf, size_t len)
{
	uint32_t data = act & SECCOMP_RET_DATA;
	const char *en;

	switch (act & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_ALLOW: return "allow";
	case SECCOMP_RET_LOG: return "log (allow)";
	case SECCOMP_RET_KILL_PROCESS: return "kill process";
	case SECCOMP_RET_KILL_THREAD: return "kill thread";
	case SECCOMP_RET_TRAP: return "trap";
	case SECCOMP_RET_USER_NOTIF: return "notify";
	case SECCOMP_RET_TRACE:
		snprintf(buf, len, "trace %" PRIu32, data);
		return buf;
	case SECCOMP_RET_ERRNO:
		en = errno_name(data);
		if (en)
			snprintf(buf, len, "errno %s", en);
		else
			snprintf(buf, len, "errno %" PRIu32, data);
		return buf;
	default:
		snprintf(buf, len, "action %#" PRIx32, act);
		return buf;
	}
}

/* Actions under which the call goes ahead (a tracer or a notify listener
 * may let it through too). */
static bool allows(uint32_t act)
{
	switch (act & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_ALLOW:
	case SECCOMP_RET_LOG:
	case SECCOMP_RET_TRACE:
	case SECCOMP_RET_USER_NOTIF:
		return true;
	default:
		return false;
	}
}

static const char *arch_str(uint32_t arch)
{
	switch (arch) {
	case SCMP_ARCH_X86_64: return "x86_64";
	case SCMP_ARCH_X86: return "x86";
	case SCMP_ARCH_X32: return "x32";
	case SCMP_ARCH_AARCH64: return "aarch64";
	case SCMP_ARCH_ARM: return "arm";
	default: return "other";
	}
}

/* Docker's name for an architecture in includes/excludes "arches". */
static const char *docker_arch(uint32_t arch)
{
	switch (arch) {
	case SCMP_ARCH_X86_64: return "amd64";
	case SCMP_ARCH_X86: return "x86";
	case SCMP_ARCH_X32: return "x32";
	case SCMP_ARCH_AARCH64: return "arm64";
	case SCMP_ARCH_ARM: return "arm";
	case SCMP_ARCH_PPC64LE: return "ppc64le";
	case SCMP_ARCH_S390X: return "s390x";
	case SCMP_ARCH_RISCV64: return "riscv64";
	default: return "";
	}
}

/* What seccomp_data.arch holds for an architecture token: libseccomp's x32
 * token is made up, the kernel reports x32 calls as x86_64. */
static uint32_t audit_arch(uint32_t arch)
{
	return arch == SCMP_ARCH_X32 ? SCMP_ARCH_X86_64 : arch;
}

/* ---- strict JSON ------------------------------------------------------------ */

static void tokener_freep(struct json_tokener **t)
{
	if (*t)
		json_tokener_free(*t);
}
#define cleanup_tokener __attribute__((cleanup(tokener_freep)))

static size_t parse_end(struct json_tokener *tok)
{
#if defined(JSON_C_VERSION_NUM) && JSON_C_VERSION_NUM >= ((0 << 16) | (15 << 8))
	return json_tokener_get_parse_end(tok);
#else
	return (size_t)tok->char_offset;
#endif
}

static json_object *parse_json(struct profile *p, const char *data,
			       size_t len)
{
	cleanup_tokener struct json_tokener *tok =
		json_tokener_new_ex(MAX_JSON_DEPTH);
	enum json_tokener_error jerr;
	json_object *obj;
	size_t end;
	int flags = JSON_TOKENER_STRICT;

#ifdef JSON_TOKENER_VALIDATE_UTF8
	flags |= JSON_TOKENER_VALIDATE_UTF8;
#endif
	if (!tok) {
		problem(p, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, flags);
	obj = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		problem(p, "bad JSON at offset %zu: unexpected end of file",
			len);
		return NULL;
	}
	if (jerr != json_tokener_success) {
		problem(p, "bad JSON at offset %zu: %s", parse_end(tok),
			json_tokener_error_desc(jerr));
		json_object_put(obj);
		return NULL;
	}
	end = parse_end(tok);
	while (end < len && (data[end] == ' ' || data[end] == '\t' ||
			     data[end] == '\r' || data[end] == '\n'))
		end++;
	if (end < len) {
		problem(p, "bad JSON at offset %zu: data after the profile",
			end);
		json_object_put(obj);
		return NULL;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		problem(p, "the profile is not a JSON object");
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* Reject any key of obj not in allowed (NULL-terminated): a misspelt key
 * would otherwise be ignored by Docker. */
static void check_keys(struct profile *p, json_object *obj,
		       const char *const *allowed, const char *where)
{
	json_object_object_foreach(obj, key, val) {
		const char *const *a;

		(void)val;
		for (a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (!*a)
			problem(p, "%s: unknown field \"%s\"", where, key);
	}
}

/* Fetch an optional field of the given type; false when absent or null.
 * A field of another type is a problem. */
static bool get_field(struct profile *p, json_object *obj, const char *key,
		      json_type type, const char *where, json_object **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return false;
	if (!json_object_is_type(v, type)) {
		problem(p, "%s.%s: want %s, got %s", where, key,
			json_type_to_name(type),
			json_type_to_name(json_object_get_type(v)));
		return false;
	}
	*out = v;
	return true;
}

/* A non-negative JSON integer (up to 2^64-1). */
static bool get_u64(struct profile *p, json_object *v, const char *where,
		    uint64_t *out)
{
	if (!json_object_is_type(v, json_type_int)) {
		problem(p, "%s: want a non-negative integer, got %s", where,
			json_type_to_name(json_object_get_type(v)));
		return false;
	}
	if (json_object_get_int64(v) < 0) {
		problem(p, "%s: want a non-negative integer", where);
		return false;
	}
#if defined(JSON_C_VERSION_NUM) && JSON_C_VERSION_NUM >= ((0 << 16) | (14 << 8))
	*out = json_object_get_uint64(v);
#else
	if (json_object_get_int64(v) == INT64_MAX) {
		problem(p, "%s: value too large for this json-c", where);
		return false;
	}
	*out = (uint64_t)json_object_get_int64(v);
#endif
	return true;
}

/* ---- profile semantics: actions, operators, arches ------------------------------ */

/* Map a Docker action name and errnoRet to a libseccomp action as runc does
 * (SCMP_ACT_KILL is runc's "kill thread"; ERRNO and TRACE default to
 * EPERM).  has_errno: errnoRet was given. */
static bool parse_action(struct profile *p, const char *name, bool has_errno,
			 uint64_t errno_ret, const char *where, uint32_t *out)
{
	uint32_t data = EPERM;

	if (has_errno) {
		if (errno_ret == 0 || errno_ret > MAX_ERRNO_RET) {
			problem(p, "%s: errno %" PRIu64 " is outside 1..%d",
				where, errno_ret, MAX_ERRNO_RET);
			return false;
		}
		data = (uint32_t)errno_ret;
	}
	if (strcmp(name, "SCMP_ACT_ERRNO") == 0) {
		*out = SCMP_ACT_ERRNO(data);
		return true;
	}
	if (strcmp(name, "SCMP_ACT_TRACE") == 0) {
		*out = SCMP_ACT_TRACE(data);
		return true;
	}
	if (has_errno) {
		problem(p, "%s: an errno only goes with SCMP_ACT_ERRNO or "
			"SCMP_ACT_TRACE, not \"%s\"", where, name);
		return false;
	}
	if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
		*out = SCMP_ACT_ALLOW;
	else if (strcmp(name, "SCMP_ACT_KILL") == 0 ||
		 strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
		*out = SCMP_ACT_KILL_THREAD;
	else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
		*out = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
		*out = SCMP_ACT_TRAP;
	else if (strcmp(name, "SCMP_ACT_LOG") == 0)
		*out = SCMP_ACT_LOG;
	else if (strcmp(name, "SCMP_ACT_NOTIFY") == 0) {
		problem(p, "%s: SCMP_ACT_NOTIFY needs a listener, and nexus "
			"runs none", where);
		return false;
	} else {
		problem(p, "%s: unknown action \"%s\"", where, name);
		return false;
	}
	return true;
}

static bool parse_op(const char *name, enum scmp_compare *out)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {
		{ "SCMP_CMP_NE", SCMP_CMP_NE },
		{ "SCMP_CMP_LT", SCMP_CMP_LT },
		{ "SCMP_CMP_LE", SCMP_CMP_LE },
		{ "SCMP_CMP_EQ", SCMP_CMP_EQ },
		{ "SCMP_CMP_GE", SCMP_CMP_GE },
		{ "SCMP_CMP_GT", SCMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
	};
	size_t i;

	for (i = 0; i < NX_ARRAY_LEN(ops); i++) {
		if (strcmp(ops[i].name, name) == 0) {
			*out = ops[i].op;
			return true;
		}
	}
	return false;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token, 0 when unknown. */
static uint32_t parse_arch(const char *name)
{
	char lower[32];
	size_t i, n;

	if (strncmp(name, "SCMP_ARCH_", 10) != 0)
		return 0;
	name += 10;
	n = strlen(name);
	if (n == 0 || n >= sizeof(lower))
		return 0;
	for (i = 0; i <= n; i++)
		lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
				  name[i] - 'A' + 'a' : name[i]);
	return seccomp_arch_resolve_name(lower);
}

static void add_arch(struct profile *p, const char *name, const char *where)
{
	uint32_t arch = parse_arch(name);
	size_t i;

	if (!arch) {
		problem(p, "%s: unknown architecture \"%s\"", where, name);
		return;
	}
	for (i = 0; i < p->n_arches; i++)
		if (p->arches[i] == arch)
			return;
	if (p->n_arches == MAX_ARCHES) {
		problem(p, "%s: too many architectures", where);
		return;
	}
	p->arches[p->n_arches++] = arch;
}

static void parse_arches(struct profile *p, json_object *root)
{
	json_object *list, *map;
	bool has_list, has_map;
	size_t i, j;

	has_list = get_field(p, root, "architectures", json_type_array,
			     "profile", &list) &&
		   json_object_array_length(list) > 0;
	has_map = get_field(p, root, "archMap", json_type_array, "profile",
			    &map) &&
		  json_object_array_length(map) > 0;
	if (has_list && has_map) {
		/* Docker refuses the profile. */
		problem(p, "both \"architectures\" and \"archMap\" are given; "
			"Docker accepts only one");
		return;
	}
	if (has_list) {
		for (i = 0; i < json_object_array_length(list); i++) {
			json_object *a = json_object_array_get_idx(list, i);
			char where[64];

			snprintf(where, sizeof(where), "architectures[%zu]", i);
			if (!json_object_is_type(a, json_type_string))
				problem(p, "%s: want a string", where);
			else
				add_arch(p, json_object_get_string(a), where);
		}
	}
	if (!has_map)
		return;
	/* Docker takes the entry for the native architecture, if any. */
	for (i = 0; i < json_object_array_length(map); i++) {
		static const char *const keys[] = { "architecture",
						    "subArchitectures", NULL };
		json_object *e = json_object_array_get_idx(map, i), *a, *subs;
		char where[64];

		snprintf(where, sizeof(where), "archMap[%zu]", i);
		if (!json_object_is_type(e, json_type_object)) {
			problem(p, "%s: want an object", where);
			continue;
		}
		check_keys(p, e, keys, where);
		if (!get_field(p, e, "architecture", json_type_string, where,
			       &a)) {
			problem(p, "%s: \"architecture\" is missing", where);
			continue;
		}
		if (parse_arch(json_object_get_string(a)) !=
		    seccomp_arch_native())
			continue;
		add_arch(p, json_object_get_string(a), where);
		if (!get_field(p, e, "subArchitectures", json_type_array,
			       where, &subs))
			continue;
		for (j = 0; j < json_object_array_length(subs); j++) {
			json_object *s = json_object_array_get_idx(subs, j);

			if (!json_object_is_type(s, json_type_string))
				problem(p, "%s.subArchitectures[%zu]: want a "
					"string", where, j);
			else
				add_arch(p, json_object_get_string(s), where);
		}
	}
}

/* ---- includes / excludes, as Docker filters them ---------------------------------- */

static bool kernel_at_least(struct profile *p, const char *want,
			    const char *where)
{
	struct utsname u;
	unsigned wmaj, wmin, kmaj, kmin;

	if (sscanf(want, "%u.%u", &wmaj, &wmin) != 2) {
		problem(p, "%s: bad minKernel \"%s\"", where, want);
		return false;
	}
	if (uname(&u) != 0 || sscanf(u.release, "%u.%u", &kmaj, &kmin) != 2)
		return false;
	return kmaj > wmaj || (kmaj == wmaj && kmin >= wmin);
}

static bool list_has(json_object *list, const char *s)
{
	size_t i;

	for (i = 0; i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i);

		if (json_object_is_type(e, json_type_string) &&
		    strcmp(json_object_get_string(e), s) == 0)
			return true;
	}
	return false;
}

/* Does Docker keep this entry?  The container has no capabilities, so an
 * entry that includes a capability is dropped and one that excludes
 * capabilities is kept. */
static bool entry_applies(struct profile *p, json_object *e,
			  const char *where)
{
	static const char *const keys[] = { "caps", "arches", "minKernel",
					    NULL };
	const char *native = docker_arch(seccomp_arch_native());
	json_object *inc, *exc, *v;
	char w[96];
	bool keep = true;

	if (get_field(p, e, "excludes", json_type_object, where, &exc)) {
		snprintf(w, sizeof(w), "%s.excludes", where);
		check_keys(p, exc, keys, w);
		if (get_field(p, exc, "arches", json_type_array, w, &v) &&
		    list_has(v, native))
			keep = false;
		get_field(p, exc, "caps", json_type_array, w, &v);
		if (get_field(p, exc, "minKernel", json_type_string, w, &v) &&
		    kernel_at_least(p, json_object_get_string(v), w))
			keep = false;
	}
	if (get_field(p, e, "includes", json_type_object, where, &inc)) {
		snprintf(w, sizeof(w), "%s.includes", where);
		check_keys(p, inc, keys, w);
		if (get_field(p, inc, "arches", json_type_array, w, &v) &&
		    json_object_array_length(v) > 0 && !list_has(v, native))
			keep = false;
		if (get_field(p, inc, "caps", json_type_array, w, &v) &&
		    json_object_array_length(v) > 0)
			keep = false;
		if (get_field(p, inc, "minKernel", json_type_string, w, &v) &&
		    !kernel_at_least(p, json_object_get_string(v), w))
			keep = false;
	}
	return keep;
}

/* ---- rules ------------------------------------------------------------------------ */

static void note_rule(struct profile *p, const char *name, size_t entry,
		      uint32_t action, bool conditional)
{
	if (p->n_rules == p->cap_rules) {
		p->cap_rules = p->cap_rules ? 2 * p->cap_rules : 256;
		p->rules = xrealloc(p->rules, p->cap_rules * sizeof(*p->rules));
	}
	p->rules[p->n_rules++] = (struct rule){ name, entry, action,
						conditional };
}

/* Parse "args" into libseccomp comparisons; false on a problem.  *split
 * is set when one argument has several conditions: runc then adds each
 * condition as a rule of its own. */
static bool parse_args(struct profile *p, json_object *args,
		       const char *where, struct scmp_arg_cmp *cmps,
		       unsigned *n_cmps, bool *split)
{
	static const char *const keys[] = { "index", "value", "valueTwo",
					    "op", NULL };
	unsigned seen = 0;
	bool good = true;
	size_t i, n = json_object_array_length(args);

	*n_cmps = 0;
	*split = false;
	if (n > 6) {
		problem(p, "%s.args: %zu conditions, at most 6", where, n);
		return false;
	}
	for (i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(args, i), *v;
		uint64_t arg = 0, value = 0, value2 = 0;
		enum scmp_compare op;
		char w[96];

		snprintf(w, sizeof(w), "%s.args[%zu]", where, i);
		if (!json_object_is_type(a, json_type_object)) {
			problem(p, "%s: want an object", w);
			good = false;
			continue;
		}
		check_keys(p, a, keys, w);
		if (!json_object_object_get_ex(a, "index", &v) ||
		    !get_u64(p, v, w, &arg) || arg > 5) {
			problem(p, "%s: want an \"index\" from 0 to 5", w);
			good = false;
			continue;
		}
		if (!json_object_object_get_ex(a, "value", &v) ||
		    !get_u64(p, v, w, &value)) {
			problem(p, "%s: \"value\" is missing", w);
			good = false;
			continue;
		}
		if (json_object_object_get_ex(a, "valueTwo", &v) &&
		    !get_u64(p, v, w, &value2)) {
			good = false;
			continue;
		}
		if (!get_field(p, a, "op", json_type_string, w, &v) ||
		    !parse_op(json_object_get_string(v), &op)) {
			problem(p, "%s: want an \"op\" among SCMP_CMP_NE, _LT, "
				"_LE, _EQ, _GE, _GT, _MASKED_EQ", w);
			good = false;
			continue;
		}
		if (op != SCMP_CMP_MASKED_EQ && value2 != 0)
			problem(p, "%s: \"valueTwo\" is used only by "
				"SCMP_CMP_MASKED_EQ", w);
		if (op == SCMP_CMP_MASKED_EQ && (value & value2) != value2)
			problem(p, "%s: value %#" PRIx64 " has bits outside "
				"the mask %#" PRIx64 " and can never match", w,
				value2, value);
		/* runc turns several conditions on one argument into separate
		 * rules, i.e. ORs them: never what an allowlist means. */
		if (seen & (1u << arg)) {
			problem(p, "%s: a second condition on argument %" PRIu64
				"; runc ORs such conditions instead of ANDing "
				"them", w, arg);
			*split = true;
		}
		seen |= 1u << arg;
		/* For MASKED_EQ, "value" is the mask and "valueTwo" the
		 * expected bits: libseccomp's datum_a and datum_b. */
		cmps[(*n_cmps)++] = (struct scmp_arg_cmp){
			.arg = (unsigned)arg, .op = op,
			.datum_a = value, .datum_b = value2,
		};
	}
	return good;
}

/* Resolve name for the native arch; -1 (with a problem) when the name is
 * unknown or exists on none of the filter's architectures. */
static int resolve(struct profile *p, const char *name, const char *where,
		   int *out)
{
	int nr = seccomp_syscall_resolve_name(name);
	size_t i;

	if (nr == __NR_SCMP_ERROR) {
		problem(p, "%s: unknown syscall \"%s\"", where, name);
		return -1;
	}
	*out = nr;
	if (nr >= 0)
		return 0;
	for (i = 0; i < p->n_filter_arches; i++)
		if (seccomp_syscall_resolve_name_arch(p->filter_arches[i],
						      name) >= 0)
			return 0;
	problem(p, "%s: \"%s\" is not a syscall on %s", where, name,
		arch_str(seccomp_arch_native()));
	return -1;
}

static void track_max(struct profile *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_arches; i++) {
		int nr = seccomp_syscall_resolve_name_arch(p->arches[i], name);

		if (nr >= 0 && (uint32_t)nr > p->max_nr[i])
			p->max_nr[i] = (uint32_t)nr;
	}
}

static void parse_entry(struct profile *p, json_object *e, size_t idx)
{
	static const char *const keys[] = { "names", "name", "action",
					    "errnoRet", "args", "comment",
					    "includes", "excludes", NULL };
	struct scmp_arg_cmp cmps[6];
	unsigned n_cmps = 0, c;
	bool split = false;
	json_object *names, *name, *action, *errno_ret, *args, *comment;
	uint64_t eret = 0;
	uint32_t act;
	char where[64];
	size_t i, n;

	snprintf(where, sizeof(where), "syscalls[%zu]", idx);
	if (!json_object_is_type(e, json_type_object)) {
		problem(p, "%s: want an object", where);
		return;
	}
	check_keys(p, e, keys, where);
	get_field(p, e, "comment", json_type_string, where, &comment);
	if (!entry_applies(p, e, where))
		return;

	get_field(p, e, "names", json_type_array, where, &names);
	get_field(p, e, "name", json_type_string, where, &name);
	if (names && name) {
		problem(p, "%s: both \"name\" and \"names\"; Docker accepts "
			"only one", where);
		return;
	}
	if (!names && !name) {
		problem(p, "%s: no \"names\"", where);
		return;
	}
	if (names && json_object_array_length(names) == 0) {
		problem(p, "%s: \"names\" is empty", where);
		return;
	}
	if (!get_field(p, e, "action", json_type_string, where, &action)) {
		problem(p, "%s: no \"action\"", where);
		return;
	}
	if (json_object_object_get_ex(e, "errnoRet", &errno_ret) &&
	    !get_u64(p, errno_ret, where, &eret))
		return;
	if (!parse_action(p, json_object_get_string(action), errno_ret != NULL,
			  eret, where, &act))
		return;
	if (get_field(p, e, "args", json_type_array, where, &args) &&
	    !parse_args(p, args, where, cmps, &n_cmps, &split))
		return;

	n = names ? json_object_array_length(names) : 1;
	for (i = 0; i < n; i++) {
		json_object *jn = names ? json_object_array_get_idx(names, i) :
					  name;
		const char *sname;
		char w[96];
		int nr, rc;

		snprintf(w, sizeof(w), "%s.names[%zu]", where, i);
		if (!json_object_is_type(jn, json_type_string)) {
			problem(p, "%s: want a string", w);
			continue;
		}
		sname = json_object_get_string(jn);
		if (resolve(p, sname, w, &nr) < 0)
			continue;
		p->n_names++;
		track_max(p, sname);
		note_rule(p, sname, idx, act, n_cmps > 0);
		/* runc skips a rule that repeats the default action
		 * (libseccomp refuses it). */
		if (act == p->def_action)
			continue;
		if (split) {
			for (c = 0, rc = 0; c < n_cmps && rc == 0; c++)
				rc = seccomp_rule_add_array(p->ctx, act, nr, 1,
							    &cmps[c]);
		} else {
			rc = seccomp_rule_add_array(p->ctx, act, nr, n_cmps,
						    cmps);
		}
		if (rc < 0)
			problem(p, "%s: libseccomp rejects the rule for \"%s\": "
				"%s", w, sname, strerror(-rc));
	}
}

/* Two rules for one syscall with different actions, one of them without
 * conditions: libseccomp keeps whichever it likes (the first unconditional
 * one, or the unconditional one over conditional ones), never what the
 * reader of the profile expects. */
static void check_conflicts(struct profile *p)
{
	size_t i, j;

	for (i = 0; i < p->n_rules; i++) {
		for (j = i + 1; j < p->n_rules; j++) {
			const struct rule *a = &p->rules[i], *b = &p->rules[j];
			char b1[32], b2[32];

			if (strcmp(a->name, b->name) != 0 ||
			    a->action == b->action ||
			    (a->conditional && b->conditional))
				continue;
			problem(p, "\"%s\" has conflicting rules: syscalls[%zu] "
				"says %s, syscalls[%zu] says %s", a->name,
				a->entry, action_str(a->action, b1, sizeof(b1)),
				b->entry, action_str(b->action, b2, sizeof(b2)));
		}
	}
}

/* ---- the BPF program ----------------------------------------------------------------- */

/* Compile the filter with libseccomp's optimisation level opt (1: rules in
 * sequence, 2: binary tree) into p->prog.  seccomp_export_bpf writes to a
 * descriptor; a memfd lets us read the program back. */
static int export_bpf(struct profile *p, uint32_t opt)
{
	cleanup_close int fd = memfd_create("seccomp-check", MFD_CLOEXEC);
	struct stat st;
	ssize_t got;
	int rc;

	free(p->prog);
	p->prog = NULL;
	p->prog_len = 0;
	rc = seccomp_attr_set(p->ctx, SCMP_FLTATR_CTL_OPTIMIZE, opt);
	if (rc < 0) {
		problem(p, "libseccomp cannot set optimisation level %" PRIu32
			": %s", opt, strerror(-rc));
		return -1;
	}
	if (fd < 0) {
		problem(p, "cannot create a memfd: %s", strerror(errno));
		return -1;
	}
	rc = seccomp_export_bpf(p->ctx, fd);
	if (rc < 0) {
		problem(p, "libseccomp cannot compile the filter: %s",
			strerror(-rc));
		return -1;
	}
	if (fstat(fd, &st) != 0 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0) {
		problem(p, "libseccomp exported a malformed program");
		return -1;
	}
	p->prog = xrealloc(NULL, (size_t)st.st_size);
	got = pread(fd, p->prog, (size_t)st.st_size, 0);
	if (got != st.st_size) {
		problem(p, "cannot read the exported program back");
		return -1;
	}
	p->prog_len = (size_t)st.st_size / sizeof(struct sock_filter);
	/* runc's stub adds a few instructions per architecture. */
	if (p->prog_len + 8 * p->n_arches + 4 > BPF_MAXINSNS)
		problem(p, "the filter has %zu instructions; the kernel takes "
			"at most %d", p->prog_len, BPF_MAXINSNS);
	return 0;
}

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
 * runc's -ENOSYS stub first, then the libseccomp program. */
static uint32_t evaluate(struct profile *p, uint32_t arch, int nr,
			 const uint64_t args[6])
{
	struct seccomp_data d = { .nr = nr, .arch = audit_arch(arch) };
	uint32_t ret;
	size_t i;

	if (p->stub) {
		for (i = 0; i < p->n_arches; i++) {
			uint32_t a = p->arches[i];
			bool x32_call = ((uint32_t)nr & X32_SYSCALL_BIT) != 0;

			if (audit_arch(a) != d.arch || p->max_nr[i] == 0)
				continue;
			if (d.arch == SCMP_ARCH_X86_64 &&
			    x32_call != (a == SCMP_ARCH_X32))
				continue;
			if ((uint32_t)nr > p->max_nr[i])
				return SCMP_ACT_ERRNO(ENOSYS);
		}
	}
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

/* ---- one profile ------------------------------------------------------------------------ */

static void parse_profile(struct profile *p, json_object *root)
{
	static const char *const keys[] = { "comment", "defaultAction",
					    "defaultErrnoRet", "architectures",
					    "archMap", "syscalls", "flags",
					    NULL };
	json_object *def, *def_errno, *syscalls, *flags, *v;
	uint64_t eret = 0;
	size_t i;
	int rc;

	check_keys(p, root, keys, "profile");
	get_field(p, root, "comment", json_type_string, "profile", &v);
	/* Docker turns seccomp off for a profile without a default action
	 * and without rules: never what a sandbox wants. */
	if (!get_field(p, root, "defaultAction", json_type_string, "profile",
		       &def)) {
		problem(p, "no \"defaultAction\"");
		return;
	}
	if (json_object_object_get_ex(root, "defaultErrnoRet", &def_errno) &&
	    !get_u64(p, def_errno, "defaultErrnoRet", &eret))
		return;
	if (!parse_action(p, json_object_get_string(def), def_errno != NULL,
			  eret, "defaultAction", &p->def_action))
		return;
	if (allows(p->def_action)) {
		problem(p, "defaultAction %s lets every unlisted syscall "
			"through; the default must deny",
			json_object_get_string(def));
	}
	/* runc adds the -ENOSYS stub unless the default allows or already
	 * answers ENOSYS. */
	p->stub = !allows(p->def_action) &&
		  p->def_action != SCMP_ACT_ERRNO(ENOSYS);

	if (get_field(p, root, "flags", json_type_array, "profile", &flags)) {
		for (i = 0; i < json_object_array_length(flags); i++) {
			json_object *f = json_object_array_get_idx(flags, i);
			const char *s = json_object_get_string(f);

			if (!json_object_is_type(f, json_type_string) ||
			    (strcmp(s, "SECCOMP_FILTER_FLAG_TSYNC") != 0 &&
			     strcmp(s, "SECCOMP_FILTER_FLAG_LOG") != 0 &&
			     strcmp(s, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") != 0))
				problem(p, "flags[%zu]: unknown flag", i);
		}
	}

	parse_arches(p, root);
	if (p->stub && p->n_arches == 0)
		problem(p, "no \"architectures\": runc then adds no ENOSYS "
			"stub, and syscalls newer than the profile answer EPERM "
			"where glibc and Node need ENOSYS to fall back");
	p->ctx = seccomp_init(p->def_action);
	if (!p->ctx) {
		problem(p, "libseccomp refuses the default action");
		return;
	}
	p->filter_arches[p->n_filter_arches++] = seccomp_arch_native();
	for (i = 0; i < p->n_arches; i++) {
		rc = seccomp_arch_add(p->ctx, p->arches[i]);
		if (rc == -EEXIST)
			continue;
		if (rc < 0) {
			problem(p, "libseccomp cannot add architecture %s: %s",
				arch_str(p->arches[i]), strerror(-rc));
			continue;
		}
		p->filter_arches[p->n_filter_arches++] = p->arches[i];
	}
	/* As runc: the caller sets no_new_privs itself. */
	seccomp_attr_set(p->ctx, SCMP_FLTATR_CTL_NNP, 0);

	if (!get_field(p, root, "syscalls", json_type_array, "profile",
		       &syscalls)) {
		problem(p, "no \"syscalls\"");
		return;
	}
	for (i = 0; i < json_object_array_length(syscalls); i++)
		parse_entry(p, json_object_array_get_idx(syscalls, i), i);
	check_conflicts(p);
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
	cleanup_free char *data = NULL;
	cleanup_json json_object *root = NULL;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t got;
	size_t i, linear_len = 0;

	if (fd < 0 || fstat(fd, &st) != 0) {
		problem(&p, "cannot read: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_PROFILE_BYTES) {
		problem(&p, "not a regular file of at most %d bytes",
			MAX_PROFILE_BYTES);
		goto out;
	}
	data = xrealloc(NULL, (size_t)st.st_size + 1);
	got = read(fd, data, (size_t)st.st_size);
	if (got != st.st_size) {
		problem(&p, "short read");
		goto out;
	}
	data[got] = '\0';

	root = parse_json(&p, data, (size_t)got);
	if (!root)
		goto out;
	parse_profile(&p, root);
	/* runc 1.1 (Docker 20.10) loads the filter as libseccomp builds it by
	 * default (measured: the loaded program is runc's stub followed by
	 * this build, instruction for instruction); runc 1.2 asks for the
	 * binary tree.  Check both: libseccomp 2.5.4 miscompiles the tree for
	 * x86_64 plus x86 (socket(AF_INET, SOCK_STREAM, 1) gets through).
	 * With a default that allows, every check would fail: the one problem
	 * already reported says it all. */
	if (p.ctx && export_bpf(&p, 1) == 0) {
		linear_len = p.prog_len;
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
out:
	if (p.ctx)
		seccomp_release(p.ctx);
	for (i = 0; i < p.n_said; i++)
		free(p.said[i]);
	free(p.said);
	free(p.rules);
	free(p.prog);
	return p.problems;
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
