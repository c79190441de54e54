/* error.h — the one error record every module returns: "file:line:col: message".
 * Foreign error codes (CURLcode, SQLite rc, libxml2, libyaml marks) are
 * translated into it at each module's boundary. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#define _must_check_ __attribute__((warn_unused_result))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

struct fw_error {
	char		file[512];	/* "" when not about a file */
	unsigned	line;		/* 1-based; 0 when unknown */
	unsigned	col;		/* 1-based; 0 when unknown */
	char		msg[1024];
};

/* Sets all fields of e (NULL e is a no-op). file may be NULL. */
void fw_error_set(struct fw_error *e, const char *file, unsigned line,
    unsigned col, const char *fmt, ...) _printf_(5, 6);

/* Formats as "file:line:col: msg", "file: msg" or "msg" into buf. */
const char *fw_error_format(const struct fw_error *e, char *buf, size_t size);

/* Prints the formatted error and a newline to f. */
void fw_error_print(FILE *f, const struct fw_error *e);

/* A growing list of errors, so check-config can report all of them. */
struct fw_errors {
	struct fw_error	*v;
	size_t		 n;
	size_t		 cap;
};

/* Appends a copy of e; returns 0 or -ENOMEM. */
int fw_errors_add(struct fw_errors *list, const struct fw_error *e);
void fw_errors_done(struct fw_errors *list);
