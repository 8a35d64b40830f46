/* util.c - allocation, time, parsing and file helpers (see util.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

static void out_of_memory(size_t n)
{
	fprintf(stderr, "Error: out of memory allocating %zu bytes\n", n);
	abort();
}

void *nx_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		out_of_memory(n);
	return p;
}

void *nx_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		out_of_memory(n * size);
	return p;
}

void *nx_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		out_of_memory(n);
	return q;
}

char *nx_xstrndup(const char *s, size_t n)
{
	char *p = nx_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *nx_xstrdup(const char *s)
{
	return nx_xstrndup(s, strlen(s));
}

char *nx_xstrdup_or_null(const char *s)
{
	return s ? nx_xstrdup(s) : NULL;
}

char *nx_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory(strlen(fmt));
	return p;
}

int64_t nx_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t nx_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long nx_ms_left(int64_t deadline_us)
{
	int64_t left;

	if (!deadline_us)
		return -1;
	left = deadline_us - nx_monotonic_us();
	if (left <= 0)
		return -2;
	left = (left + 999) / 1000;
	return left > INT_MAX ? INT_MAX : (long)left;
}

void nx_format_time(int64_t us, char out[NX_TIME_LEN])
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm) ||
	    strftime(out, NX_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(out, NX_TIME_LEN, "1970-01-01T00:00:00");
}

int nx_parse_time(const char *s, int64_t *out)
{
	char again[NX_TIME_LEN];
	struct tm tm = { 0 };
	int n = 0;
	time_t t;

	if (!s || strlen(s) != NX_TIME_LEN - 1 ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != NX_TIME_LEN - 1)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1 || t < 0)
		return -1;
	*out = (int64_t)t * 1000000;
	/* Only what nx_format_time writes: no 31 February, no 24:00. */
	nx_format_time(*out, again);
	return strcmp(again, s) == 0 ? 0 : -1;
}

/* getopt_long reports an abbreviation that fits several long options
 * (--t: --ttl or --template) as it reports an unknown one. */
static bool is_ambiguous(const char *arg, const struct option *longopts)
{
	size_t len, matches = 0;

	if (strncmp(arg, "--", 2) != 0)
		return false;
	arg += 2;
	len = strcspn(arg, "=");
	for (; len > 0 && longopts->name; longopts++)
		if (strncmp(longopts->name, arg, len) == 0)
			matches++;
	return matches > 1;
}

int nx_option_error(nx_error *err, int opt, const char *arg,
		    const struct option *longopts, const char *command)
{
	if (opt == ':')
		return nx_fail(err, NX_E_USAGE,
			       "option '%s' needs a value (see '%s --help')",
			       arg, command);
	/* A flag given a value (--json=yes): getopt_long names the flag's
	 * short form in optopt. */
	if (optopt && strncmp(arg, "--", 2) == 0)
		return nx_fail(err, NX_E_USAGE,
			       "option '%.*s' takes no value (see '%s --help')",
			       (int)strcspn(arg, "="), arg, command);
	if (optopt)
		return nx_fail(err, NX_E_USAGE,
			       "unknown option '-%c' (see '%s --help')", optopt,
			       command);
	if (is_ambiguous(arg, longopts))
		return nx_fail(err, NX_E_USAGE,
			       "option '%s' is ambiguous: write it out (see '%s --help')",
			       arg, command);
	return nx_fail(err, NX_E_USAGE, "unknown option '%s' (see '%s --help')",
		       arg, command);
}

int nx_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	/* strtol would skip leading white space (tabs, newlines) and take a
	 * '+': a number is a digit or '-' first, nothing else. */
	if (!s || !((*s >= '0' && *s <= '9') || *s == '-'))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

bool nx_is_sandbox_id(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return i == NX_ID_LEN;
}

/* Length of the UTF-8 sequence starting at s (of at most avail bytes), or
 * 0 when it is invalid (overlong forms, surrogates and code points past
 * U+10FFFF included). */
static size_t utf8_sequence_len(const unsigned char *s, size_t avail)
{
	size_t need = s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;

	if (need > avail)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (s[0] == 0xe0 && s[1] < 0xa0)
			return 0;
		if (s[0] == 0xed && s[1] > 0x9f)
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (s[0] == 0xf0 && s[1] < 0x90)
			return 0;
		if (s[0] == 0xf4 && s[1] > 0x8f)
			return 0;
		return 4;
	}
	return 0;
}

void nx_clean_line(const char *s, size_t len, bool ascii_only, char *out,
		   size_t out_size)
{
	/* json-c's UTF-8 check lets surrogates and lead bytes past U+10FFFF
	 * through, so decoded JSON strings are sanitized too. */
	cleanup_free char *valid = ascii_only ? NULL :
					 nx_utf8_sanitize(s, len, &len);
	size_t n = 0, i;

	if (valid)
		s = valid;
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
			   s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	for (i = 0; i < len && n + 1 < out_size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			c = ' ';
		else if (c >= 0x80 && ascii_only)
			c = '?';
		out[n++] = (char)c;
	}
	if (i < len && out_size > 4) {
		n = n > out_size - 4 ? out_size - 4 : n;
		while (n > 0 && ((unsigned char)out[n] & 0xc0) == 0x80)
			n--;
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* A control character as a sequence of n bytes: C0, DEL, or C1
 * (U+0080 to U+009F), which terminals may take as escape sequences too. */
static bool is_control(const unsigned char *s, size_t n)
{
	if (n == 1)
		return s[0] < 0x20 || s[0] == 0x7f;
	return n == 2 && s[0] == 0xc2 && s[1] < 0xa0;
}

bool nx_is_clean_text(const char *s, size_t max_len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;

	if (len == 0 || len > max_len)
		return false;
	while (i < len) {
		n = utf8_sequence_len(p + i, len - i);
		if (n == 0 || is_control(p + i, n))
			return false;
		i += n;
	}
	return true;
}

/* The escape of one byte that is not printable text, NUL-terminated. */
static void escape_byte(unsigned char c, char out[5])
{
	if (c == '\n' || c == '\t' || c == '\r') {
		out[0] = '\\';
		out[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
		out[2] = '\0';
		return;
	}
	snprintf(out, 5, "\\x%02x", c);
}

size_t nx_escape_text(char *out, size_t size, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, o = 0, n, piece_len;
	const char *piece;
	char esc[5];

	while (i < len) {
		n = utf8_sequence_len(p + i, len - i);
		if (n == 0 || is_control(p + i, n)) {
			/* Byte by byte: a C1 character's second byte is not
			 * UTF-8 on its own, so it is escaped next. */
			n = 1;
			escape_byte(p[i], esc);
			piece = esc;
			piece_len = strlen(esc);
		} else {
			piece = s + i;
			piece_len = n;
		}
		if (o + piece_len >= size)
			break;
		memcpy(out + o, piece, piece_len);
		o += piece_len;
		i += n;
	}
	if (size > 0)
		out[o] = '\0';
	return o;
}

char *nx_utf8_sanitize(const char *s, size_t len, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)s;
	/* Each bad byte becomes 3 bytes at most. */
	char *out = nx_xmalloc(len * 3 + 1);
	size_t i = 0, o = 0, n;

	while (i < len) {
		n = utf8_sequence_len(p + i, len - i);
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

static int read_fd(int fd, const char *what, size_t max, char **out,
		   size_t *out_len, nx_error *err)
{
	size_t cap = 4096, len = 0;
	cleanup_free char *buf = nx_xmalloc(cap + 1);
	ssize_t n;

	for (;;) {
		if (len == cap) {
			if (cap > max)
				return nx_fail(err, NX_E_USAGE,
					       "'%s' is larger than %zu bytes",
					       what, max);
			cap *= 2;
			buf = nx_xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nx_fail_errno(err, NX_E_USAGE, errno,
					     "cannot read '%s'", what);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max)
		return nx_fail(err, NX_E_USAGE, "'%s' is larger than %zu bytes",
			       what, max);
	buf[len] = '\0';
	*out = steal_pointer(&buf);
	*out_len = len;
	return 0;
}

int nx_read_file(const char *path, size_t max, char **out, size_t *out_len,
		 nx_error *err)
{
	cleanup_close int fd = -1;
	struct stat st;

	if (strcmp(path, "-") == 0)
		return read_fd(STDIN_FILENO, "standard input", max, out,
			       out_len, err);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nx_fail_errno(err, NX_E_USAGE, errno,
				     "cannot read '%s'", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		return nx_fail(err, NX_E_USAGE,
			       "cannot read '%s': it is a directory", path);
	return read_fd(fd, path, max, out, out_len, err);
}

void nx_random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = getrandom(p + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* No entropy source at all: nothing sane to do. */
			perror("getrandom");
			abort();
		}
		got += (size_t)n;
	}
}

void nx_random_id(char *out, size_t len)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char byte;
	size_t i;

	for (i = 0; i < len; i++) {
		/* 252 is the largest multiple of 36 below 256: reject above
		 * it so every character is equally likely. */
		do
			nx_random_bytes(&byte, 1);
		while (byte >= 252);
		out[i] = alphabet[byte % 36];
	}
	out[len] = '\0';
}

/* Percent-encode everything but RFC 3986 unreserved bytes and keep. */
char *nx_url_encode(const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = nx_xmalloc(strlen(s) * 3 + 1), *o = out;
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~' || (keep && strchr(keep, *p))) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}
