/* test_util.c - the side-effect-free helpers. */
#include <string.h>

#include "lib/tap.h"
#include "buf.h"
#include "util.h"

static void test_parse_int(void)
{
	long v = -7;

	ok(nx_parse_int("10", 1, 100, &v) == 0 && v == 10, "parses 10");
	ok(nx_parse_int("0", 1, 100, &v) < 0, "below min refused");
	ok(nx_parse_int("101", 1, 100, &v) < 0, "above max refused");
	ok(nx_parse_int("1.5", 1, 100, &v) < 0, "decimals refused");
	ok(nx_parse_int("", 1, 100, &v) < 0, "empty refused");
	ok(nx_parse_int(" 5", 1, 100, &v) < 0, "leading space refused");
	ok(nx_parse_int("+5", 1, 100, &v) < 0, "leading plus refused");
	ok(nx_parse_int("5x", 1, 100, &v) < 0, "trailing garbage refused");
	ok(nx_parse_int("99999999999999999999", 1, 100, &v) < 0,
	   "overflow refused");
	ok(nx_parse_int("-3", -5, 5, &v) == 0 && v == -3, "negative in range");
	ok(nx_parse_int("\t5", 1, 100, &v) < 0, "leading tab refused");
	ok(nx_parse_int("\n5", 1, 100, &v) < 0, "leading newline refused");
}

static void test_ids_and_text(void)
{
	ok(nx_is_sandbox_id("ipi7dxuc5687axlhm5hmd"), "the contract's id is an id");
	ok(!nx_is_sandbox_id("ipi7dxuc5687axlhm5hm"), "20 characters is not");
	ok(!nx_is_sandbox_id("Ipi7dxuc5687axlhm5hmd"), "uppercase is not");
	ok(!nx_is_sandbox_id("ipi7dxuc5687axlhm5hm-"), "punctuation is not");
	ok(nx_is_clean_text("my sandbox – ünïcode", 128), "printable UTF-8 is clean");
	ok(!nx_is_clean_text("", 128), "empty is not clean");
	ok(!nx_is_clean_text("a\nb", 128), "a newline is not clean");
	ok(!nx_is_clean_text("a\x7f", 128), "DEL is not clean");
	ok(!nx_is_clean_text("\xc3", 128), "a cut sequence is not clean");
	ok(!nx_is_clean_text("\xc0\xaf", 128), "an overlong form is not clean");
	ok(!nx_is_clean_text("\xed\xa0\x80", 128), "a surrogate is not clean");
	ok(!nx_is_clean_text("abcd", 3), "longer than max is not clean");
	ok(!nx_is_clean_text("c1\xc2\x9b" "31m", 128), "a C1 control (CSI) is not clean");
	ok(nx_is_clean_text("nbsp\xc2\xa0", 128), "U+00A0 is printable");
}

static void test_escape(void)
{
	char out[16];

	is_int(nx_escape_text(out, sizeof out, "a\nb\t\x1b[c"), 12, "escaped length");
	is_str(out, "a\\nb\\t\\x1b[c", "C0 controls escaped");
	nx_escape_text(out, sizeof out, "\xc2\x85\xff\xc3\xa9\\");
	is_str(out, "\\xc2\\x85\\xff\xc3\xa9\\", "C1, bad bytes escaped; UTF-8 and backslash kept");
	nx_escape_text(out, 6, "ab\ncd");
	is_str(out, "ab\\nc", "cut to fit");
	nx_escape_text(out, 5, "abc\n");
	is_str(out, "abc", "an escape that does not fit is left out whole");
	nx_escape_text(out, 5, "ab\xe2\x82\xac");
	is_str(out, "ab", "so is a character");
}

static void test_sanitize(void)
{
	size_t n;
	char *s = nx_utf8_sanitize("ok\xff\xc3(\0end", 9, &n);

	ok(n == 13 && memcmp(s, "ok\xef\xbf\xbd\xef\xbf\xbd(\0end", 13) == 0,
	   "invalid bytes become U+FFFD, NUL is kept");
	free(s);
	s = nx_utf8_sanitize("h\xc3\xa9", 3, &n);
	ok(n == 3 && memcmp(s, "h\xc3\xa9", 3) == 0, "valid UTF-8 unchanged");
	free(s);
	s = nx_utf8_sanitize("\xe2\x82", 2, &n);
	ok(n == 6, "a sequence cut at the end becomes two replacements");
	free(s);
}

static void test_time(void)
{
	char buf[NX_TIME_LEN];

	nx_format_time(1762131820LL * 1000000 + 999999, buf);
	is_str(buf, "2025-11-03T01:03:40", "formats like the contract, UTC, no fraction");
}

static void test_buf(void)
{
	nx_buf b;
	size_t len;
	char *s;

	nx_buf_init(&b, 5);
	ok(nx_buf_append(&b, "abc", 3) == 0, "append within max");
	ok(nx_buf_append(&b, "defg", 4) < 0, "append past max reports it");
	ok(b.truncated && b.len == 5 && strcmp(b.data, "abcde") == 0,
	   "keeps what fits, remembers truncation");
	s = nx_buf_steal(&b, &len);
	ok(len == 5 && strcmp(s, "abcde") == 0 && b.data == NULL, "steal");
	free(s);
	s = nx_buf_steal(&b, &len);
	ok(len == 0 && strcmp(s, "") == 0, "an empty buffer gives an empty string");
	free(s);
	nx_buf_free(&b);
}

static void test_error(void)
{
	nx_error err = { 0 };
	char long_msg[2000];

	ok(nx_fail(&err, NX_E_STATE, "sandbox '%s' is %s", "x", "paused") == -1,
	   "nx_fail returns -1");
	is_str(err.msg, "sandbox 'x' is paused", "message formatted");
	nx_error_prefix(&err, "cannot %s", "run");
	is_str(err.msg, "cannot run: sandbox 'x' is paused", "context prefixed");
	ok(err.kind == NX_E_STATE, "kind kept");
	memset(long_msg, 'a', sizeof long_msg - 1);
	long_msg[sizeof long_msg - 1] = '\0';
	nx_fail(&err, NX_E_SYSTEM, "%s", long_msg);
	nx_error_prefix(&err, "ctx");
	ok(strlen(err.msg) == NX_ERROR_MAX - 1 && strncmp(err.msg, "ctx: aaa", 8) == 0,
	   "a long message is cut, never overflowed");
	nx_fail_errno(&err, NX_E_SYSTEM, 2, "cannot open '%s'", "f");
	is_str(err.msg, "cannot open 'f': No such file or directory", "errno text appended");
	nx_fail(&err, NX_E_NOTFOUND, "sandbox '%s' not found", "a\nb\x1b[2J");
	nx_error_prefix(&err, "'%s'", "\r");
	is_str(err.msg, "'\\r': sandbox 'a\\nb\\x1b[2J' not found",
	       "a message and its prefix are one line without control characters");
}

int main(void)
{
	test_parse_int();
	test_ids_and_text();
	test_escape();
	test_sanitize();
	test_time();
	test_buf();
	test_error();
	return tap_done();
}
