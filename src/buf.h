/* buf.h - a growable buffer with a hard maximum, for bytes we do not
 * control (sandbox output, engine replies): past the maximum the bytes are
 * dropped and the buffer remembers that it was truncated. */
#ifndef NX_BUF_H
#define NX_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef struct nx_buf {
	char *data;      /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;
	bool truncated;
} nx_buf;

NX_HIDDEN void nx_buf_init(nx_buf *b, size_t max);
/* Append what fits under the maximum; return -1 when anything was dropped. */
NX_HIDDEN int nx_buf_append(nx_buf *b, const void *data, size_t len);
/* Take the bytes (never NULL: an empty buffer gives ""), leaving b empty. */
NX_HIDDEN char *nx_buf_steal(nx_buf *b, size_t *len);
NX_HIDDEN void nx_buf_free(nx_buf *b);

#endif
