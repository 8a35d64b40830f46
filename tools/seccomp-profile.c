/* seccomp-profile.c - read a Docker-format seccomp profile strictly and
 * build it with libseccomp as Docker 20.10 and runc 1.1 do (see
 * seccomp-profile.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "seccomp-profile.h"

#define MAX_PROFILE_BYTES (1024 * 1024)
#define MAX_JSON_DEPTH 16

void *xrealloc(void *ptr, size_t n)
{
	void *q = realloc(ptr, n);

	if (!q) {
		fputs("seccomp: out of memory\n", stderr);
		exit(2);
	}
	return q;
}

void problem(struct profile *p, const char *fmt, ...)
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
const char *action_str(uint32_t act, char *buf, size_t len)
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
bool allows(uint32_t act)
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

const char *arch_str(uint32_t arch)
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
uint32_t audit_arch(uint32_t arch)
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
static bool parse_action_as_given(struct profile *p, const char *name,
				  bool has_errno, uint64_t errno_ret,
				  const char *where, uint32_t *out)
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

static bool parse_action(struct profile *p, const char *name, bool has_errno,
			 uint64_t errno_ret, const char *where, uint32_t *out)
{
	if (!parse_action_as_given(p, name, has_errno, errno_ret, where, out))
		return false;
	if (p->log_only && !allows(*out))
		*out = SCMP_ACT_LOG;
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

/* runc's -ENOSYS stub, as runc puts it in front of the profile's filter:
 * for each listed architecture, a syscall numbered above the highest one
 * the profile names answers ENOSYS, so that glibc and Node fall back from
 * calls newer than the profile.  The agent's own filters need it as much
 * as the container's: of two filters answering with an errno, the kernel
 * takes the newer one, so without it the agent's EPERM would hide runc's
 * ENOSYS.  Returns the number of instructions written to out. */
#define STUB_BLOCK 6
static size_t enosys_stub(const struct profile *p, struct sock_filter *out)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_arches && p->stub; i++) {
		uint32_t a = p->arches[i];
		/* x86_64 and x32 share the audit arch; the x32 bit tells
		 * them apart. */
		bool x86 = audit_arch(a) == SCMP_ARCH_X86_64;
		bool x32 = a == SCMP_ARCH_X32;

		if (p->max_nr[i] == 0)
			continue;
		out[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, arch));
		out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			audit_arch(a), 0, x86 ? 4 : 3);
		out[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			offsetof(struct seccomp_data, nr));
		if (x86)
			out[n++] = (struct sock_filter)BPF_JUMP(
				BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT,
				x32 ? 0 : 2, x32 ? 2 : 0);
		out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K,
			p->max_nr[i], 0, 1);
		out[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
			SECCOMP_RET_ERRNO | ENOSYS);
	}
	return n;
}

/* seccomp_export_bpf writes to a descriptor; a memfd lets us read the
 * program back. */
int export_bpf(struct profile *p, uint32_t opt)
{
	cleanup_close int fd = memfd_create("seccomp-profile", MFD_CLOEXEC);
	struct sock_filter stub[STUB_BLOCK * MAX_ARCHES];
	struct stat st;
	size_t len;
	ssize_t got;
	int rc;

	free(p->prog);
	p->prog = NULL;
	p->prog_len = 0;
	p->stub_len = 0;
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
	p->stub_len = enosys_stub(p, stub);
	len = (size_t)st.st_size / sizeof(struct sock_filter);
	p->prog = xrealloc(NULL, (p->stub_len + len) * sizeof(*p->prog));
	memcpy(p->prog, stub, p->stub_len * sizeof(*stub));
	got = pread(fd, p->prog + p->stub_len, (size_t)st.st_size, 0);
	if (got != st.st_size) {
		problem(p, "cannot read the exported program back");
		return -1;
	}
	p->prog_len = p->stub_len + len;
	if (p->prog_len > BPF_MAXINSNS)
		problem(p, "the filter has %zu instructions; the kernel takes "
			"at most %d", p->prog_len, BPF_MAXINSNS);
	return 0;
}

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
	if (allows(p->def_action) && !p->log_only) {
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


int profile_load(struct profile *p)
{
	cleanup_free char *data = NULL;
	cleanup_close int fd = open(p->path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t got;

	if (fd < 0 || fstat(fd, &st) != 0) {
		problem(p, "cannot read: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_PROFILE_BYTES) {
		problem(p, "not a regular file of at most %d bytes",
			MAX_PROFILE_BYTES);
		return -1;
	}
	data = xrealloc(NULL, (size_t)st.st_size + 1);
	got = read(fd, data, (size_t)st.st_size);
	if (got != st.st_size) {
		problem(p, "short read");
		return -1;
	}
	data[got] = '\0';
	p->root = parse_json(p, data, (size_t)got);
	if (!p->root)
		return -1;
	parse_profile(p, p->root);
	return p->ctx ? 0 : -1;
}

void profile_release(struct profile *p)
{
	size_t i;

	if (p->ctx)
		seccomp_release(p->ctx);
	json_object_put(p->root);
	for (i = 0; i < p->n_said; i++)
		free(p->said[i]);
	free(p->said);
	free(p->rules);
	free(p->prog);
}
