/* log.h — diagnostics for the program layers (main, daemon, verbs).
 * Library-like modules (parse, classify, store, conf) return errors as data
 * and never call these. Under journald (JOURNAL_STREAM matches stderr) each
 * line carries a <N> syslog priority prefix, and log_struct() can attach
 * journal fields. All functions keep errno. */
#pragma once

#include <stdbool.h>

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
/* Parses "err", "warning", "notice", "info", "debug"; -EINVAL if unknown. */
int  log_level_from_string(const char *s, enum log_level *ret_level);

void log_warnx(const char *fmt, ...) _printf_(1, 2);
void log_errx(const char *fmt, ...) _printf_(1, 2);
void log_notice(const char *fmt, ...) _printf_(1, 2);
void log_info(const char *fmt, ...) _printf_(1, 2);
void log_debug(const char *fmt, ...) _printf_(1, 2);
/* One field of a structured message: NAME is upper case, as journald wants
 * (FEED_URL, ALERT_ID, TOPIC, CONFIG_FILE); a NULL value is left out. */
struct log_field {
	const char	*name;
	const char	*value;
};
/* A NULL-terminated field list in place:
 *   log_struct(LOG_LEVEL_WARNING, LOG_FIELDS({ "FEED_URL", url }), "...", ...); */
#define LOG_FIELDS(...) ((const struct log_field[]){ __VA_ARGS__, { NULL, NULL } })

/* Logs a message with fields. When stderr is the journal and feedwatch was
 * built with libsystemd, the message and its fields go to journald through
 * sd_journal_send() (so `journalctl FEED_URL=...` finds them); otherwise the
 * message is logged like log_info() and friends, without the fields. */
void log_struct(enum log_level level, const struct log_field *fields,
    const char *fmt, ...) _printf_(3, 4);

/* Whether stderr is journald's stream (JOURNAL_STREAM names it). */
bool log_stderr_is_journal(void);

/* One journal entry, whatever its lines, never dropped by the log level:
 * for what the user asked to see, such as the alerts of a text log sink on
 * stderr. Through sd_journal_send() with its fields when possible, else as
 * lines on stderr that each carry the priority. */
void log_journal_entry(enum log_level level, const struct log_field *fields,
    const char *msg);
