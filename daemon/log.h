/* log.h — diagnostics for the program layers (main, daemon, verbs).
 * Library-like modules (parse, classify, store, conf) return errors as data
 * and never call these. Under journald (JOURNAL_STREAM matches stderr) each
 * line carries a <N> syslog priority prefix. All functions keep errno. */
#pragma once

#include "error.h"

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

void log_init(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "err", "warning", "notice", "info", "debug"; -EINVAL if unknown. */
int  log_level_from_string(const char *s, enum log_level *ret_level);

void log_warn(const char *fmt, ...) _printf_(1, 2);	/* adds ": strerror(errno)" */
void log_warnx(const char *fmt, ...) _printf_(1, 2);
void log_errx(const char *fmt, ...) _printf_(1, 2);
void log_notice(const char *fmt, ...) _printf_(1, 2);
void log_info(const char *fmt, ...) _printf_(1, 2);
void log_debug(const char *fmt, ...) _printf_(1, 2);
_Noreturn void fatalx(const char *fmt, ...) _printf_(1, 2);
