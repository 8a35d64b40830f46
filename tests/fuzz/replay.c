/* replay.c - runs a fuzz harness's LLVMFuzzerTestOneInput on files, for
 * make check: every regular file of the directories (or the files) given
 * as arguments, in name order, one TAP "ok" line per file.  With no
 * arguments it replays $top_srcdir/tests/fuzz/corpus/FUZZ_NAME, where
 * make check exports top_srcdir.  A harness that finds a broken invariant
 * aborts, which the TAP driver reports as a failure; the "# replaying"
 * line before it names the input.  See docs/fuzzing.md. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"

#ifndef FUZZ_NAME
#error "build with -DFUZZ_NAME='\"harness\"'"
#endif

/* Larger inputs than any seed; libFuzzer's default -max_len is 4096. */
#define REPLAY_MAX (1u << 20)


static int count;
static int failed;

static void fail(const char *path, const char *why)
{
	count++;
	failed++;
	printf("not ok %d - %s: %s\n", count, path, why);
	fflush(stdout);
}

static void replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf, *exact;
	size_t len;
	int bad;

	if (!f) {
		fail(path, strerror(errno));
		return;
	}
	buf = malloc(REPLAY_MAX + 1);
	if (!buf) {
		fclose(f);
		fail(path, "out of memory");
		return;
	}
	len = fread(buf, 1, REPLAY_MAX + 1, f);
	bad = ferror(f);
	fclose(f);
	if (bad || len > REPLAY_MAX) {
		free(buf);
		fail(path, bad ? "read error" : "larger than 1 MiB");
		return;
	}
	/* Exactly len bytes, so ASan sees any read past the input. */
	exact = malloc(len ? len : 1);
	if (!exact) {
		free(buf);
		fail(path, "out of memory");
		return;
	}
	memcpy(exact, buf, len);
	free(buf);
	printf("# replaying %s (%zu bytes)\n", path, len);
	fflush(stdout);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	count++;
	printf("ok %d - %s\n", count, path);
	fflush(stdout);
}

static int visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void replay_path(const char *path)
{
	struct stat st;
	struct dirent **names;
	int i, n;

	if (stat(path, &st) < 0) {
		fail(path, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		replay_file(path);
		return;
	}
	n = scandir(path, &names, visible, alphasort);
	if (n < 0) {
		fail(path, strerror(errno));
		return;
	}
	if (n == 0)
		fail(path, "no corpus files");
	for (i = 0; i < n; i++) {
		size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
		char *child = malloc(len);

		if (child) {
			snprintf(child, len, "%s/%s", path, names[i]->d_name);
			if (stat(child, &st) == 0 && S_ISREG(st.st_mode))
				replay_file(child);
			free(child);
		}
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int i;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			replay_path(argv[i]);
	} else {
		const char *top = getenv("top_srcdir");
		size_t len;
		char *dir;

		if (!top || !*top)
			top = ".";
		len = strlen(top) + sizeof "/tests/fuzz/corpus/" FUZZ_NAME;
		dir = malloc(len);
		if (!dir) {
			printf("Bail out! out of memory\n");
			return 1;
		}
		snprintf(dir, len, "%s/tests/fuzz/corpus/%s", top, FUZZ_NAME);
		replay_path(dir);
		free(dir);
	}
	printf("1..%d\n", count);
	return failed ? 1 : 0;
}
