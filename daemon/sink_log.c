/* sink_log.c — alerts as readable text or JSON Lines, to a file or stderr.
 * The file is opened for append and reopened on SIGHUP, so logrotate can
 * move it away. A batch of alerts (the outbox's round) is written with one
 * write(2), whole lines only, so concurrent readers never see half a line.
 *
 * fsync policy: after each write to a regular file, one fdatasync(2) before
 * the outbox records the alerts as delivered. A state file that says
 * "delivered" then never stands for a line lost in the page cache by a
 * power cut; the cost is one flush per batch (up to 2,000 alerts, 8 MiB),
 * not per alert. Pipes, terminals and stderr are not synced. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "sink.h"

#define LOG_MSG_MAX	(16 * 1024 * 1024)	/* one rendered message */
#define LOG_BATCH_MAX	(8 * 1024 * 1024)	/* written in one go */

struct log_state {
	int	fd;
	bool	owned;
	bool	sync;		/* a regular file: fdatasync after writing */
};

/* Whether fd is a file worth syncing. */
static bool
log_fd_syncs(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static int
log_open_fd(const struct conf_sink *cs, int *ret_fd)
{
	int fd;

	if (strcmp(cs->path, "-") == 0 || strcmp(cs->path, "stderr") == 0) {
		*ret_fd = STDERR_FILENO;
		return 0;
	}
	if (strcmp(cs->path, "stdout") == 0) {
		*ret_fd = STDOUT_FILENO;
		return 0;
	}
	fd = open(cs->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 1;
}

static int
log_open(struct sink *s, struct fw_error *reterr)
{
	struct log_state	*st = calloc(1, sizeof(*st));
	int			 r;

	if (st == NULL)
		return -ENOMEM;
	r = log_open_fd(s->conf, &st->fd);
	if (r < 0) {
		fw_error_set(reterr, s->conf->path, 0, 0, "sink '%s': cannot open: %s",
		    s->conf->name, strerror(-r));
		free(st);
		return r;
	}
	st->owned = r == 1;
	st->sync = st->owned && log_fd_syncs(st->fd);
	s->state = st;
	return 0;
}

static void
log_close(struct sink *s)
{
	struct log_state *st = s->state;

	if (st != NULL && st->owned)
		close(st->fd);
	free(st);
	s->state = NULL;
}

static void
log_reopen(struct sink *s)
{
	struct log_state	*st = s->state;
	int			 fd = -1;

	if (!st->owned)
		return;
	/* Keep the old descriptor when the new open fails: better the
	 * rotated file than no log at all. */
	if (log_open_fd(s->conf, &fd) == 1) {
		close(st->fd);
		st->fd = fd;
		st->sync = log_fd_syncs(fd);
	}
}

/* journalctl -p warning shows high and critical alerts. */
static enum log_level
log_severity_priority(const char *severity)
{
	enum severity sev = SEVERITY_NORMAL;

	(void)severity_from_string(severity, &sev);
	switch (sev) {
	case SEVERITY_CRITICAL:
		return LOG_LEVEL_ERR;
	case SEVERITY_HIGH:
		return LOG_LEVEL_WARNING;
	case SEVERITY_LOW:
		return LOG_LEVEL_INFO;
	default:
		return LOG_LEVEL_NOTICE;
	}
}

/* One journal entry for one alert, with the fields journalctl filters by:
 * TOPIC= (repeated per topic), ALERT_ID=, FEED_URL=, DEVELOPMENT=. */
static int
log_journal_alert(json_t *alert)
{
	struct log_field	 fields[16];
	json_t			*topic;
	struct buf		 b;
	size_t			 n = 0, i;
	int			 r;

	buf_init(&b, 16 * 1024 * 1024);
	if ((r = sink_render_text(alert, &b)) < 0) {
		buf_done(&b);
		return r;
	}
	fields[n++] = (struct log_field){ "ALERT_ID", sink_json_str(alert, "id") };
	fields[n++] = (struct log_field){ "FEED_URL", sink_json_str(alert, "feed") };
	if (json_is_string(json_object_get(alert, "development")))
		fields[n++] = (struct log_field){ "DEVELOPMENT",
		    sink_json_str(alert, "development") };
	json_array_foreach(json_object_get(alert, "topics"), i, topic)
		if (json_is_string(topic) && n < sizeof(fields) / sizeof(fields[0]) - 1)
			fields[n++] = (struct log_field){ "TOPIC", json_string_value(topic) };
	fields[n] = (struct log_field){ NULL, NULL };
	log_journal_entry(log_severity_priority(sink_json_str(alert, "severity")), fields,
	    b.data != NULL ? b.data : "");
	buf_done(&b);
	return 0;
}

/* Under journald, the text of each alert is one entry at its severity's
 * priority rather than a handful of info lines. */
static int
log_deliver_journal(const struct sink_msg *msg, struct sink_outcome *out)
{
	json_t	*o = json_loads(msg->json, 0, NULL);
	json_t	*v;
	size_t	 i;
	int	 r = 0;

	if (o == NULL) {
		out->result = SINK_PERMANENT;
		snprintf(out->error, sizeof(out->error), "the stored alert is not valid JSON");
		return 0;
	}
	if (!msg->digest)
		r = log_journal_alert(o);
	else
		json_array_foreach(json_object_get(o, "alerts"), i, v)
			if (r == 0)
				r = log_journal_alert(v);
	json_decref(o);
	if (r < 0)
		return r;
	out->result = SINK_DELIVERED;
	return 0;
}

static int
log_deliver(struct sink *s, const struct sink_msg *msg, struct sink_outcome *out)
{
	struct log_state	*st = s->state;
	struct buf		 b;
	ssize_t			 n;
	int			 r;

	if (s->conf->format != SINK_FORMAT_JSONL && st->fd == STDERR_FILENO &&
	    log_stderr_is_journal())
		return log_deliver_journal(msg, out);
	buf_init(&b, 16 * 1024 * 1024);
	if (s->conf->format == SINK_FORMAT_JSONL) {
		/* One line per message: an alert, or a digest object. */
		r = buf_append_str(&b, msg->json);
		if (r == 0)
			r = buf_append_str(&b, "\n");
	} else {
		r = sink_render_msg_text(msg, &b);
		if (r == -EINVAL) {
			buf_done(&b);
			out->result = SINK_PERMANENT;
			snprintf(out->error, sizeof(out->error), "the stored alert is not valid JSON");
			return 0;
		}
		if (r == 0)
			r = buf_append_str(&b, "\n");
	}
	if (r < 0) {
		buf_done(&b);
		return r;
	}
	n = write(st->fd, b.data, b.len);
	if (n < 0 || (size_t)n != b.len) {
		out->result = SINK_RETRY;
		snprintf(out->error, sizeof(out->error), "cannot write to %s: %s",
		    s->conf->path, n < 0 ? strerror(errno) : "short write");
	} else
		out->result = SINK_DELIVERED;
	buf_done(&b);
	return 0;
}

/* Appends the line(s) of msg to b. Returns 0, -EINVAL (not valid JSON),
 * -E2BIG or -ENOMEM. */
static int
log_render(struct sink *s, const struct sink_msg *msg, struct buf *b)
{
	size_t	mark = b->len;
	int	r;

	if (s->conf->format == SINK_FORMAT_JSONL)
		/* One line per message: an alert, or a digest object. */
		r = buf_append_str(b, msg->json);
	else
		r = sink_render_msg_text(msg, b);
	if (r == 0)
		r = buf_append_str(b, "\n");
	if (r == 0 && b->len - mark > LOG_MSG_MAX)
		r = -E2BIG;
	if (r < 0 && b->data != NULL) {
		b->len = mark;		/* the batch keeps whole lines only */
		b->data[mark] = '\0';
	}
	return r;
}

/* Writes b; the messages whose lines end at ends[0..n) are delivered when
 * written whole (and synced), the others are to be retried. */
static void
log_write_batch(struct sink *s, struct buf *b, const size_t *ends, const size_t *idx,
    size_t n, struct sink_outcome *outs)
{
	struct log_state	*st = s->state;
	ssize_t			 w = 0;
	const char		*why = NULL;

	if (n == 0)
		return;
	w = write(st->fd, b->data, b->len);
	if (w < 0)
		why = strerror(errno);
	else if ((size_t)w != b->len)
		why = "short write";
	else if (st->sync && fdatasync(st->fd) < 0 && errno != EINVAL)
		why = strerror(errno);	/* written, maybe not kept: again */
	for (size_t i = 0; i < n; i++) {
		struct sink_outcome *out = &outs[idx[i]];

		if (why == NULL || (w > 0 && !st->sync && ends[i] <= (size_t)w))
			out->result = SINK_DELIVERED;
		else {
			out->result = SINK_RETRY;
			snprintf(out->error, sizeof(out->error), "cannot write to %s: %s",
			    s->conf->path, why);
		}
	}
	buf_reset(b);
}

static int
log_deliver_batch(struct sink *s, const struct sink_msg *msgs, size_t n,
    struct sink_outcome *outs)
{
	struct log_state	*st = s->state;
	struct buf		 b;
	size_t			*ends, *idx, k = 0;
	int			 r = 0;

	if (s->conf->format != SINK_FORMAT_JSONL && st->fd == STDERR_FILENO &&
	    log_stderr_is_journal()) {
		for (size_t i = 0; i < n && r == 0; i++)
			r = log_deliver_journal(&msgs[i], &outs[i]);
		return r;
	}
	ends = calloc(n, sizeof(*ends));
	idx = calloc(n, sizeof(*idx));
	if (ends == NULL || idx == NULL) {
		free(ends);
		free(idx);
		return -ENOMEM;
	}
	buf_init(&b, LOG_BATCH_MAX + LOG_MSG_MAX + 1);
	for (size_t i = 0; i < n; i++) {
		r = log_render(s, &msgs[i], &b);
		if (r == -EINVAL || r == -E2BIG) {
			outs[i].result = SINK_PERMANENT;
			snprintf(outs[i].error, sizeof(outs[i].error), r == -EINVAL ?
			    "the stored alert is not valid JSON" :
			    "the alert is too large for a log line (over 16 MiB)");
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		ends[k] = b.len;
		idx[k++] = i;
		if (b.len >= LOG_BATCH_MAX) {
			log_write_batch(s, &b, ends, idx, k, outs);
			k = 0;
		}
	}
	if (r == 0)
		log_write_batch(s, &b, ends, idx, k, outs);
	buf_done(&b);
	free(ends);
	free(idx);
	return r;
}

const struct sink_ops sink_log_ops = {
	.open = log_open,
	.deliver = log_deliver,
	.deliver_batch = log_deliver_batch,
	.reopen = log_reopen,
	.close = log_close,
};
