/* error.c — formatting and collecting struct fw_error. Nothing here logs. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "safe.h"

void
fw_error_set(struct fw_error *e, const char *file, unsigned line, unsigned col,
    const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	snprintf(e->file, sizeof(e->file), "%s", file != NULL ? file : "");
	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

const char *
fw_error_format(const struct fw_error *e, char *buf, size_t size)
{
	if (e->file[0] != '\0' && e->line > 0)
		snprintf(buf, size, "%s:%u:%u: %s", e->file, e->line,
		    e->col > 0 ? e->col : 1, e->msg);
	else if (e->file[0] != '\0')
		snprintf(buf, size, "%s: %s", e->file, e->msg);
	else
		snprintf(buf, size, "%s", e->msg);
	return buf;
}

void
fw_error_print(FILE *f, const struct fw_error *e)
{
	char	 buf[sizeof(e->file) + sizeof(e->msg) + 64];
	char	*red;

	/* Messages quote servers and feeds: the one boundary of safe.h. */
	fw_error_format(e, buf, sizeof(buf));
	red = safe_redact(buf);
	(void)safe_fprintf(f, "%s\n", red != NULL ? red : buf);
	free(red);
}

int
fw_errors_add(struct fw_errors *list, const struct fw_error *e)
{
	if (list->n == list->cap) {
		size_t		 cap = list->cap ? list->cap * 2 : 8;
		struct fw_error	*v = reallocarray(list->v, cap, sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		list->v = v;
		list->cap = cap;
	}
	list->v[list->n++] = *e;
	return 0;
}

void
fw_errors_done(struct fw_errors *list)
{
	free(list->v);
	list->v = NULL;
	list->n = list->cap = 0;
}
