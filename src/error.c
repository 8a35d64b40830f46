/* error.c - the error object: filled where a failure happens, given
 * context on its way up, printed once by main. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* Messages quote what they were given (a name, an option, a server's or
 * a sandbox's reply): escaping it here keeps every message one line that
 * cannot move a terminal's cursor, wherever it is printed or sent. */
static void format_line(char *out, size_t size, const char *fmt, va_list ap)
{
	char raw[NX_ERROR_MAX];

	vsnprintf(raw, sizeof raw, fmt, ap);
	nx_escape_text(out, size, raw);
}

static void set_message(nx_error *err, nx_errkind kind, const char *fmt,
			va_list ap)
{
	err->kind = kind;
	format_line(err->msg, sizeof err->msg, fmt, ap);
}

int nx_fail(nx_error *err, nx_errkind kind, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->sys_errno = 0;
	va_start(ap, fmt);
	set_message(err, kind, fmt, ap);
	va_end(ap);
	return -1;
}

int nx_fail_errno(nx_error *err, nx_errkind kind, int errnum,
		  const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (!err)
		return -1;
	err->sys_errno = errnum;
	va_start(ap, fmt);
	set_message(err, kind, fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof err->msg - len, ": %s",
		 strerror(errnum));
	return -1;
}

int nx_error_prefix(nx_error *err, const char *fmt, ...)
{
	char prefix[NX_ERROR_MAX];
	size_t plen, mlen;
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	format_line(prefix, sizeof prefix - 2, fmt, ap);
	va_end(ap);
	plen = strlen(prefix);
	memcpy(prefix + plen, ": ", 2);
	plen += 2;
	/* Keep as much of the old message as still fits behind the prefix. */
	mlen = strnlen(err->msg, sizeof err->msg - 1);
	if (plen + mlen > sizeof err->msg - 1)
		mlen = sizeof err->msg - 1 - plen;
	memmove(err->msg + plen, err->msg, mlen);
	memcpy(err->msg, prefix, plen);
	err->msg[plen + mlen] = '\0';
	return -1;
}

void nx_error_clear(nx_error *err)
{
	if (!err)
		return;
	err->kind = NX_OK;
	err->sys_errno = 0;
	err->msg[0] = '\0';
}
