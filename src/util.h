/* util.h - side-effect-free helpers shared by the engine, the CLI and the
 * tests: cleanup attributes, allocation that never returns NULL, error
 * filling, time formatting and number parsing. */
#ifndef NX_UTIL_H
#define NX_UTIL_H

/* Project headers come after system headers: util.h ends with banned.h,
 * whose macros would break later system declarations. */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nexus.h"

/* Internal to libnexus; the unit tests link a copy with all visible. */
#ifdef NX_TESTING
#define NX_HIDDEN
#else
#define NX_HIDDEN __attribute__((visibility("hidden")))
#endif
#define NX_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define NX_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- cleanup attributes: one exit path per function ------------------- */

static inline void nx_freep(void *p) { free(*(void **)p); }
static inline void nx_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void nx_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void nx_json_putp(json_object **o) { json_object_put(*o); }

#define cleanup_free __attribute__((cleanup(nx_freep)))
#define cleanup_close __attribute__((cleanup(nx_closep)))
#define cleanup_fclose __attribute__((cleanup(nx_fclosep)))
#define cleanup_json __attribute__((cleanup(nx_json_putp)))

/* Hand a pointer over to the caller: the cleanup attribute then frees NULL. */
static inline void *nx_steal_pointer(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}
#define steal_pointer(pp) nx_steal_pointer((void *)(pp))

static inline int nx_steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* ---- allocation: out of memory is fatal, as in git -------------------- */

NX_HIDDEN void *nx_xmalloc(size_t n);
NX_HIDDEN void *nx_xcalloc(size_t n, size_t size);
NX_HIDDEN void *nx_xrealloc(void *p, size_t n);
NX_HIDDEN char *nx_xstrdup(const char *s);
NX_HIDDEN char *nx_xstrndup(const char *s, size_t n);
NX_HIDDEN char *nx_xstrdup_or_null(const char *s);
NX_HIDDEN char *nx_xasprintf(const char *fmt, ...) NX_PRINTF(1, 2);

/* ---- errors ------------------------------------------------------------ */

/* Fill err and return -1, so callers can write "return nx_fail(...)". */
NX_HIDDEN int nx_fail(nx_error *err, nx_errkind kind, const char *fmt, ...)
	NX_PRINTF(3, 4);
/* As nx_fail, then ": strerror(errnum)". */
NX_HIDDEN int nx_fail_errno(nx_error *err, nx_errkind kind, int errnum,
			    const char *fmt, ...) NX_PRINTF(4, 5);
/* Put context in front of an existing message: "context: old message". */
NX_HIDDEN int nx_error_prefix(nx_error *err, const char *fmt, ...)
	NX_PRINTF(2, 3);
NX_HIDDEN void nx_error_clear(nx_error *err);

/* ---- time -------------------------------------------------------------- */

NX_HIDDEN int64_t nx_now_us(void);
NX_HIDDEN int64_t nx_monotonic_us(void);
/* Milliseconds left before a monotonic deadline, rounded up, for poll()
 * (-1: deadline_us is 0, no deadline), or -2 when it has passed. */
NX_HIDDEN long nx_ms_left(int64_t deadline_us);
#define NX_TIME_LEN 20 /* "YYYY-MM-DDTHH:MM:SS" and NUL */
/* Format UTC as the contract does ("2025-11-03T01:03:40"). */
NX_HIDDEN void nx_format_time(int64_t us, char out[NX_TIME_LEN]);
/* The inverse, for exactly that format; -1 on anything else. */
NX_HIDDEN int nx_parse_time(const char *s, int64_t *out);

/* ---- randomness -------------------------------------------------------- */

/* Fill buf from the kernel's CSPRNG; aborts when there is none at all. */
NX_HIDDEN void nx_random_bytes(void *buf, size_t len);
/* len uniformly random characters of [a-z0-9], then a NUL. */
NX_HIDDEN void nx_random_id(char *out, size_t len);

/* ---- parsing ----------------------------------------------------------- */

/* Percent-encode everything but RFC 3986 unreserved bytes and the bytes
 * of keep (may be NULL); malloc'd. */
NX_HIDDEN char *nx_url_encode(const char *s, const char *keep);

/* Fill err for what getopt_long returned as opt (':' or '?') on arg, the
 * argument it stopped at; command names the --help to see.  Returns -1. */
struct option;
NX_HIDDEN int nx_option_error(nx_error *err, int opt, const char *arg,
			      const struct option *longopts,
			      const char *command);

/* Parse a whole decimal integer in [min, max]; -1 on anything else. */
NX_HIDDEN int nx_parse_int(const char *s, long min, long max, long *out);

/* True when s is a well-formed E2B-style sandbox id. */
NX_HIDDEN bool nx_is_sandbox_id(const char *s);

/* True when the text is valid UTF-8 and every character is printable (no
 * C0 or C1 control character, no DEL): what names and ids stored by nexus
 * must be. */
NX_HIDDEN bool nx_is_clean_text(const char *s, size_t max_len);
/* Copy s into out (size bytes, NUL included) as one line of printable
 * text: valid UTF-8 stays as it is; control characters and bytes that are
 * not UTF-8 become \n, \t, \r or \xNN.  Stops before a character or an
 * escape that would not fit; returns the length written.  Backslashes are
 * kept, so escaping twice changes nothing. */
NX_HIDDEN size_t nx_escape_text(char *out, size_t size, const char *s);

/* Copy untrusted text into one line of at most out_size - 1 bytes, for an
 * error message: trailing space dropped, control characters made spaces,
 * each invalid UTF-8 sequence U+FFFD (ascii_only: every byte outside
 * ASCII '?', for raw bytes nothing vouched for), and a cut, marked "..."
 * when out_size is over 4, never splits a UTF-8 sequence. */
NX_HIDDEN void nx_clean_line(const char *s, size_t len, bool ascii_only,
			     char *out, size_t out_size);

/* Copy len bytes, replacing each invalid UTF-8 sequence with U+FFFD, so
 * that any bytes a program wrote can go into JSON.  NUL bytes are kept
 * (JSON escapes them).  Returns a malloc'd buffer, its length in *out_len. */
NX_HIDDEN char *nx_utf8_sanitize(const char *s, size_t len, size_t *out_len);

/* Read a whole file (or stdin for "-") up to max bytes. */
NX_HIDDEN int nx_read_file(const char *path, size_t max, char **out,
			   size_t *out_len, nx_error *err);

/* Last, so that the system headers above are declared first. */
#include "banned.h"

#endif
