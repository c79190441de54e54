/* log.c — stderr diagnostics with optional syslog-priority prefixes, and
 * structured messages for journald.
 *
 * Under systemd stderr is a stream to journald; a "<N>" prefix on a line
 * sets its priority (sd-daemon(3)). Fields such as FEED_URL= need journald's
 * native protocol: sd_journal_send() from libsystemd, used when meson found
 * it, so that `journalctl -u feedwatch FEED_URL=...` finds a feed's story.
 * Outside the journal everything stays plain text on stderr. This module
 * does not open syslog and never writes to stdout (that is for output). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "config.h"
#include "log.h"
#include "safe.h"

#if HAVE_LIBSYSTEMD
/* CODE_FILE= would name log.c for every message: leave location out. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>
#include <unistd.h>
#endif

#define LOG_MAX_FIELDS	16
#define LOG_MAX_MESSAGE	4096

static enum log_level	log_level = LOG_LEVEL_INFO;
static int		log_prefix_priority;

/*
 * systemd: "JOURNAL_STREAM ... contains the device and inode numbers of the
 * file descriptor of stderr/stdout, formatted as DEVICE:INODE", so a match
 * means our stderr really is the journal and not a redirect by a child.
 */
static int
stderr_is_journal(void)
{
	const char		*e = getenv("JOURNAL_STREAM");
	unsigned long long	 dev, ino;
	struct stat		 st;
	char			*end;

	if (e == NULL)
		return 0;
	dev = strtoull(e, &end, 10);
	if (end == e || *end != ':')
		return 0;
	e = end + 1;
	ino = strtoull(e, &end, 10);
	if (end == e)
		return 0;
	if (fstat(fileno(stderr), &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(void)
{
	log_prefix_priority = stderr_is_journal();
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_level_from_string(const char *s, enum log_level *ret_level)
{
	static const struct {
		const char	*name;
		enum log_level	 level;
	} names[] = {
		{ "err", LOG_LEVEL_ERR }, { "error", LOG_LEVEL_ERR },
		{ "warning", LOG_LEVEL_WARNING }, { "warn", LOG_LEVEL_WARNING },
		{ "notice", LOG_LEVEL_NOTICE }, { "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0) {
			*ret_level = names[i].level;
			return 0;
		}
	return -EINVAL;
}

/* A vprintf-style function: clang's -Wformat-nonliteral wants it said. */
static void log_emit(enum log_level level, int with_errno, const char *fmt,
    va_list ap) _printf_(3, 0);

/* Writes one line: the message with credentials in URLs cut out and every
 * control character escaped (safe.h), so nothing a feed or a server said
 * can start a line of its own, forge a "<0>" priority for journald or drive
 * a terminal, and no token leaves in a warning. */
static void
log_write(enum log_level level, const char *msg)
{
	struct buf	 b;
	char		*red = safe_redact(msg);
	int		 r;

	buf_init(&b, LOG_MAX_MESSAGE * 4);
	r = red != NULL ? safe_escape_buf(&b, red, strlen(red)) : -ENOMEM;
	if (b.data == NULL) {
		free(red);
		buf_done(&b);
		/* Out of memory: say so, never echo the line raw. */
		fprintf(stderr, log_prefix_priority ? "<%d>(log line dropped)\n" :
		    "feedwatch: (log line dropped)\n", (int)level);
		return;
	}
	/* Over the cap, what was escaped so far is shown, marked as cut. */
	if (log_prefix_priority)
		fprintf(stderr, "<%d>%s%s\n", (int)level, b.data, r < 0 ? " \xe2\x80\xa6" : "");
	else
		fprintf(stderr, "feedwatch: %s%s\n", b.data, r < 0 ? " \xe2\x80\xa6" : "");
	free(red);
	buf_done(&b);
}

static void
log_emit(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	int	saved_errno = errno;
	char	msg[LOG_MAX_MESSAGE];
	size_t	n;

	if (level > log_level) {
		errno = saved_errno;
		return;
	}
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (with_errno)
		(void)snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved_errno));
	log_write(level, msg);
	errno = saved_errno;
}

#define LOG_FN(name, level, with_errno)			\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	log_emit(level, with_errno, fmt, ap);		\
	va_end(ap);					\
}

LOG_FN(log_warnx, LOG_LEVEL_WARNING, 0)
LOG_FN(log_errx, LOG_LEVEL_ERR, 0)
LOG_FN(log_notice, LOG_LEVEL_NOTICE, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

#if HAVE_LIBSYSTEMD
/* A journal value as log_write() would show it: redacted and escaped. */
static char *
journal_clean(const char *s)
{
	char *red = safe_redact(s), *esc;

	if (red == NULL)
		return NULL;
	esc = safe_escape_dup(red);
	free(red);
	return esc;
}

/* journal_clean() line by line: the line breaks are our own (an alert's
 * text), anything else that controls a terminal is escaped. */
static char *
journal_clean_lines(const char *s)
{
	struct buf	 b;
	const char	*line = s, *nl;
	char		*part, *red;
	int		 r = 0;

	buf_init(&b, LOG_MAX_MESSAGE * 16);
	do {
		nl = strchr(line, '\n');
		part = strndup(line, nl != NULL ? (size_t)(nl - line) : strlen(line));
		red = part != NULL ? safe_redact(part) : NULL;
		if (red == NULL)
			r = -ENOMEM;
		if (r == 0)
			r = safe_escape_buf(&b, red, strlen(red));
		if (r == 0 && nl != NULL)
			r = buf_append_str(&b, "\n");
		free(red);
		free(part);
		line = nl != NULL ? nl + 1 : NULL;
	} while (r == 0 && line != NULL);
	if (r < 0) {
		buf_done(&b);
		return NULL;
	}
	return buf_take(&b);
}

/* Returns 0 when journald took the message, a negative errno otherwise. */
static int
journal_send(enum log_level level, const struct log_field *fields, const char *msg,
    bool multiline)
{
	struct iovec	 iov[LOG_MAX_FIELDS + 3];
	char		*owned[LOG_MAX_FIELDS + 3], *clean;
	size_t		 n = 0;
	int		 r = -ENOMEM;

	/* sd_journal_sendv() drops messages silently when journald's socket
	 * is missing; stderr is better than nothing then. */
	if (access("/run/systemd/journal/socket", F_OK) < 0)
		return -errno;
	clean = multiline ? journal_clean_lines(msg) : journal_clean(msg);
	if (clean == NULL || asprintf(&owned[n], "MESSAGE=%s", clean) < 0) {
		free(clean);
		return -ENOMEM;
	}
	free(clean);
	n++;
	if (asprintf(&owned[n], "PRIORITY=%d", (int)level) < 0)
		goto out;
	n++;
	if (asprintf(&owned[n], "SYSLOG_IDENTIFIER=feedwatch") < 0)
		goto out;
	n++;
	for (size_t i = 0; fields != NULL && fields[i].name != NULL && i < LOG_MAX_FIELDS; i++) {
		if (fields[i].value == NULL)
			continue;
		if ((clean = journal_clean(fields[i].value)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		r = asprintf(&owned[n], "%s=%s", fields[i].name, clean);
		free(clean);
		if (r < 0) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = owned[i];
		iov[i].iov_len = strlen(owned[i]);
	}
	r = sd_journal_sendv(iov, (int)n);
out:
	for (size_t i = 0; i < n; i++)
		free(owned[i]);
	return r;
}
#endif

/* Under journald without the native protocol each line of stderr is its
 * own entry: a message of several lines (an alert) gets the priority on
 * every line, each line neutralised by log_write(). */
static void
log_struct_emit(enum log_level level, const struct log_field *fields, const char *msg,
    bool multiline)
{
	const char	*line = msg, *nl;
	char		*part;

#if HAVE_LIBSYSTEMD
	/* Only when stderr is the journal: a terminal user wants stderr. */
	if (log_prefix_priority && journal_send(level, fields, msg, multiline) >= 0)
		return;
#else
	(void)fields;
#endif
	if (!multiline) {
		log_write(level, msg);
		return;
	}
	do {
		nl = strchr(line, '\n');
		part = strndup(line, nl != NULL ? (size_t)(nl - line) : strlen(line));
		log_write(level, part != NULL ? part : "(log line dropped)");
		free(part);
		line = nl != NULL ? nl + 1 : NULL;
	} while (line != NULL && *line != '\0');
}

void
log_struct(enum log_level level, const struct log_field *fields, const char *fmt, ...)
{
	int	saved_errno = errno;
	char	msg[LOG_MAX_MESSAGE];
	va_list	ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_struct_emit(level, fields, msg, false);
	errno = saved_errno;
}

bool
log_stderr_is_journal(void)
{
	return log_prefix_priority != 0;
}

void
log_journal_entry(enum log_level level, const struct log_field *fields, const char *msg)
{
	int saved_errno = errno;

	log_struct_emit(level, fields, msg, true);
	errno = saved_errno;
}

