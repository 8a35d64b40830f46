/* buf.c - bounded buffer (see buf.h). */
#include <string.h>

#include "buf.h"

void nx_buf_init(nx_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->truncated = false;
}

int nx_buf_append(nx_buf *b, const void *data, size_t len)
{
	size_t room = b->max - b->len;
	size_t take = len < room ? len : room;

	if (take > 0) {
		if (b->len + take + 1 > b->cap) {
			size_t cap = b->cap ? b->cap : 256;

			while (cap < b->len + take + 1)
				cap *= 2;
			if (cap > b->max + 1)
				cap = b->max + 1;
			b->data = nx_xrealloc(b->data, cap);
			b->cap = cap;
		}
		memcpy(b->data + b->len, data, take);
		b->len += take;
		b->data[b->len] = '\0';
	}
	if (take < len) {
		b->truncated = true;
		return -1;
	}
	return 0;
}

char *nx_buf_steal(nx_buf *b, size_t *len)
{
	char *p = b->data ? b->data : nx_xstrdup("");

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void nx_buf_free(nx_buf *b)
{
	free(b->data);
	nx_buf_init(b, b->max);
}
