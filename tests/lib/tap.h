/* tap.h - a minimal TAP producer for the C unit tests. */
#ifndef NX_TAP_H
#define NX_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline void tap_ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define ok(cond, ...) tap_ok(!!(cond), __VA_ARGS__)
#define is_int(got, want, name)                                            \
	do {                                                               \
		long long g_ = (long long)(got), w_ = (long long)(want);   \
		tap_ok(g_ == w_, "%s", name);                              \
		if (g_ != w_)                                              \
			printf("#   got %lld, want %lld\n", g_, w_);       \
	} while (0)
#define is_str(got, want, name)                                            \
	do {                                                               \
		const char *g_ = (got), *w_ = (want);                      \
		int same_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;   \
		tap_ok(same_, "%s", name);                                 \
		if (!same_)                                                \
			printf("#   got  '%s'\n#   want '%s'\n",            \
			       g_ ? g_ : "(null)", w_ ? w_ : "(null)");    \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
