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

/* The bare growable array the parser's hot paths use, without struct
 * buf's cap and terminating NUL: appends n bytes of p to *data (*len
 * used, *cap allocated), doubling from first bytes. Inline, as it runs
 * once per piece of text. Returns 0, or -ENOMEM with *data as it was. */
static inline int
bytes_append(char **data, size_t *len, size_t *cap, size_t first,
    const void *p, size_t n)
{
	if (n == 0)	/* *data may still be NULL: no NULL + 0 */
		return 0;
	if (*cap - *len < n) {
		size_t	 c = *cap ? *cap : first;
		char	*v;

		while (c - *len < n)
			c *= 2;
		v = realloc(*data, c);
		if (v == NULL)
			return -ENOMEM;
		*data = v;
		*cap = c;
	}
	memcpy(*data + *len, p, n);
	*len += n;
	return 0;
}
