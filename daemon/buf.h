/* buf.h — a growable byte buffer with a hard cap (after curl's dynbuf).
 * The content is always NUL-terminated. Appending past the cap fails with
 * -E2BIG and leaves the buffer as it was. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;		/* allocated */
	size_t	 max;		/* hard cap on len */
};

void buf_init(struct buf *b, size_t max);
int  buf_append(struct buf *b, const void *data, size_t len) _must_check_;
int  buf_append_str(struct buf *b, const char *s) _must_check_;
int  buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3) _must_check_;
void buf_reset(struct buf *b);		/* len = 0, keeps memory */
void buf_done(struct buf *b);		/* frees memory */
/* Returns the content (owned by the caller; "" when empty) and resets b. */
char *buf_take(struct buf *b);

/* The growable array: makes room for need elements of size bytes in *p
 * (*cap of them allocated; NULL and 0 at first), doubling from first.
 * Returns 0, or -ENOMEM with *p and *cap as they were (also when the
 * size in bytes would overflow). */
int array_reserve(void **p, size_t *cap, size_t need, size_t size,
    size_t first) _must_check_;

/* The bare byte array the parser's hot paths use, without struct buf's
 * terminating NUL: appends n bytes of p to *data (*len used, *cap
 * allocated, growing from first bytes), never past max bytes. Inline, as
 * it runs once per piece of text. Returns 0, -E2BIG past max or -ENOMEM,
 * with *data as it was. */
static inline int
bytes_append(char **data, size_t *len, size_t *cap, size_t first,
    size_t max, const void *p, size_t n)
{
	if (n == 0)	/* *data may still be NULL: no NULL + 0 */
		return 0;
	if (n > max - *len)
		return -E2BIG;
	if (*cap - *len < n &&
	    array_reserve((void **)data, cap, *len + n, 1, first) < 0)
		return -ENOMEM;
	memcpy(*data + *len, p, n);
	*len += n;
	return 0;
}
