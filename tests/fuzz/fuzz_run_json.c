/* fuzz_run_json.c - fuzz harness for what nexus does with the bytes a
 * program writes: nx_utf8_sanitize (src/util.c) and the run result's JSON
 * (nx_json_run_result, src/record.c).  Any bytes must give valid JSON.
 *
 * Input: bytes 0-3 the exit code, 4-11 the elapsed microseconds (both
 * big-endian, as the agent sends them), byte 12 bit 0 pretty printing,
 * bytes 13-14 where stdout ends; the rest is stdout then stderr.
 * Checks: the sanitizer against a reference (every well-formed sequence
 * of Unicode's table 3-7 copied, every other byte one U+FFFD), its output
 * valid UTF-8 and a fixed point; the JSON re-parsed by json-c's strict
 * tokener, and what it decodes equal to the sanitized bytes and the
 * numbers given.  A broken invariant aborts.  See docs/fuzzing.md. */
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "util.h"


#define HEADER_LEN 15

/* Length of the well-formed UTF-8 sequence at s, or 0: Unicode 15,
 * table 3-7, written out independently of src/util.c. */
static size_t ref_sequence(const unsigned char *s, size_t avail)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (b <= 0x7f)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		need = 2;
	else if (b == 0xe0)
		need = 3, lo = 0xa0;
	else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef)
		need = 3;
	else if (b == 0xed)
		need = 3, hi = 0x9f;
	else if (b == 0xf0)
		need = 4, lo = 0x90;
	else if (b >= 0xf1 && b <= 0xf3)
		need = 4;
	else if (b == 0xf4)
		need = 4, hi = 0x8f;
	else
		return 0;
	if (avail < need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need;
}

static bool ref_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		n = ref_sequence(s + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* nx_utf8_sanitize(in) against the reference; returns its output. */
static char *check_sanitize(const unsigned char *in, size_t len,
			    size_t *out_len)
{
	char *out = nx_utf8_sanitize((const char *)in, len, out_len);
	const unsigned char *o = (const unsigned char *)out;
	size_t i = 0, at = 0, n, again_len;
	char *again;

	CHECK(out != NULL);
	CHECK(*out_len <= len * 3);
	CHECK(out[*out_len] == '\0');
	while (i < len) {
		n = ref_sequence(in + i, len - i);
		if (n) {
			CHECK(at + n <= *out_len);
			CHECK(memcmp(o + at, in + i, n) == 0);
			i += n;
			at += n;
		} else {
			CHECK(at + 3 <= *out_len);
			CHECK(memcmp(o + at, "\xef\xbf\xbd", 3) == 0);
			i++;
			at += 3;
		}
	}
	CHECK(at == *out_len);
	CHECK(ref_valid(o, *out_len));
	/* Valid input is left alone, and sanitized text is a fixed point. */
	if (ref_valid(in, len))
		CHECK(*out_len == len && memcmp(out, in, len) == 0);
	again = nx_utf8_sanitize(out, *out_len, &again_len);
	CHECK(again_len == *out_len && memcmp(again, out, again_len) == 0);
	free(again);
	return out;
}

static void check_string(json_object *root, const char *key,
			 const char *want, size_t want_len)
{
	json_object *v;

	CHECK(json_object_object_get_ex(root, key, &v));
	CHECK(json_object_is_type(v, json_type_string));
	CHECK((size_t)json_object_get_string_len(v) == want_len);
	CHECK(memcmp(json_object_get_string(v), want, want_len) == 0);
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t header[HEADER_LEN] = { 0 };
	const uint8_t *body = data + (size < HEADER_LEN ? size : HEADER_LEN);
	size_t body_len = size < HEADER_LEN ? 0 : size - HEADER_LEN;
	size_t split, clean_out_len, clean_err_len, text_len;
	nx_run_result res;
	char *clean_out, *clean_err, *text, *scratch;
	json_tokener *tok;
	json_object *root, *v;
	double secs, got;
	bool pretty;

	memcpy(header, data, size < HEADER_LEN ? size : HEADER_LEN);
	split = (size_t)get_be(header + 13, 2) % (body_len + 1);

	/* The sanitizer on all the bytes. */
	free(check_sanitize(data, size, &clean_out_len));

	memset(&res, 0, sizeof res);
	res.exit_code = (int)(int32_t)(uint32_t)get_be(header, 4);
	/* As src/docker/provider.c computes it from the agent's EXIT. */
	secs = (double)get_be(header + 4, 8) / 1e6;
	res.execution_time = secs;
	pretty = header[12] & 1;
	/* Exactly sized copies, so ASan sees any read past the output; an
	 * empty stream is NULL, as when the program wrote nothing. */
	res.stdout_len = split;
	res.stderr_len = body_len - split;
	if (res.stdout_len) {
		res.stdout_data = malloc(res.stdout_len);
		CHECK(res.stdout_data);
		memcpy(res.stdout_data, body, res.stdout_len);
	}
	if (res.stderr_len) {
		res.stderr_data = malloc(res.stderr_len);
		CHECK(res.stderr_data);
		memcpy(res.stderr_data, body + split, res.stderr_len);
	}
	clean_out = check_sanitize(body, res.stdout_len, &clean_out_len);
	clean_err = check_sanitize(body + split, res.stderr_len,
				   &clean_err_len);

	text = nx_json_run_result(&res, pretty);
	CHECK(text != NULL);
	text_len = strlen(text);
	CHECK(ref_valid((const unsigned char *)text, text_len));

	/* Strict JSON, all of it, one object.  The tokener gets an exact
	 * copy without the NUL. */
	scratch = malloc(text_len ? text_len : 1);
	CHECK(scratch);
	memcpy(scratch, text, text_len);
	tok = json_tokener_new();
	CHECK(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
				    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, scratch, (int)text_len);
	CHECK(root != NULL);
	CHECK(json_tokener_get_error(tok) == json_tokener_success);
	CHECK(json_tokener_get_parse_end(tok) == text_len);
	CHECK(json_object_is_type(root, json_type_object));
	CHECK(json_object_object_length(root) == 4);

	check_string(root, "stdout", clean_out, clean_out_len);
	check_string(root, "stderr", clean_err, clean_err_len);
	CHECK(json_object_object_get_ex(root, "exit_code", &v));
	CHECK(json_object_is_type(v, json_type_int));
	CHECK(json_object_get_int64(v) == res.exit_code);
	CHECK(json_object_object_get_ex(root, "execution_time", &v));
	CHECK(json_object_is_type(v, json_type_double) ||
	      json_object_is_type(v, json_type_int));
	got = json_object_get_double(v);
	/* Printed with 3 decimals: within half a millisecond, give or take
	 * the double's own precision. */
	CHECK(isfinite(got) && got >= 0);
	CHECK(fabs(got - secs) <= 0.0005 + secs * 1e-15);

	json_object_put(root);
	json_tokener_free(tok);
	free(scratch);
	free(text);
	free(clean_out);
	free(clean_err);
	nx_run_result_clear(&res);
	return 0;
}
