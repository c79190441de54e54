/* buf.h — a growable byte buffer with a hard cap (after curl's dynbuf).
 * The content is always NUL-terminated. Appending past the cap fails with
 * -E2BIG and leaves the buffer as it was. */
#pragma once

#include <stddef.h>

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
