/* fuzz.h - what every harness shares: the libFuzzer entry point and an
 * invariant check that aborts, so both libFuzzer and the replay in make
 * check see a broken invariant as a crash. */
#ifndef NX_FUZZ_H
#define NX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_broken(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			fuzz_broken(__FILE__, __LINE__, #cond);            \
	} while (0)

#endif
