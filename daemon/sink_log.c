/* sink_log.c — alerts as readable text or JSON Lines, to a file or stderr.
 * The file is opened for append and reopened on SIGHUP, so logrotate can
 * move it away. Each alert is written with one write(2) so concurrent
 * readers never see half a line. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "sink.h"

struct log_state {
	int	fd;
	bool	owned;
};

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
	}
}

static int
log_deliver(struct sink *s, const struct sink_msg *msg, struct sink_outcome *out)
{
	struct log_state	*st = s->state;
	struct buf		 b;
	ssize_t			 n;
	int			 r;

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

const struct sink_ops sink_log_ops = {
	.open = log_open,
	.deliver = log_deliver,
	.reopen = log_reopen,
	.close = log_close,
};
