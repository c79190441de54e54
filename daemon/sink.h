/* sink.h — where alerts go: log (text or JSON Lines), webhook, mail, exec.
 * Each sink type is one file implementing struct sink_ops; sink.c holds the
 * table and the filters (topics, feeds, minimum severity). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "error.h"

enum sink_result {
	SINK_DELIVERED,		/* done */
	SINK_RETRY,		/* temporary failure: try again later */
	SINK_PERMANENT,		/* will never work for this alert: dead letter */
	SINK_GONE,		/* the receiver said 410: dead letter, tell the user */
};

struct sink_outcome {
	enum sink_result	result;
	int64_t			retry_after;	/* seconds asked by the receiver, 0 = none */
	char			error[512];	/* why, when not delivered */
};

struct sink;

struct sink_ops {
	/* Sets up sink->state. */
	int	(*open)(struct sink *sink, struct fw_error *reterr);
	/* Delivers one alert (its JSON object text). Returns 0 with *out
	 * filled, or a negative errno for a failure of feedwatch itself. */
	int	(*deliver)(struct sink *sink, const char *alert_json,
		    struct sink_outcome *out);
	/* Reopens files after SIGHUP (logrotate); may be NULL. */
	void	(*reopen)(struct sink *sink);
	void	(*close)(struct sink *sink);
};

struct sink {
	const struct conf_sink	*conf;		/* borrowed from the struct conf */
	const struct sink_ops	*ops;
	void			*state;
};

/* Opens the sink described by cs (which must outlive it). */
int sink_new(const struct conf_sink *cs, struct sink **ret, struct fw_error *reterr) _must_check_;
struct sink *sink_free(struct sink *s);
int sink_deliver(struct sink *s, const char *alert_json, struct sink_outcome *out) _must_check_;
void sink_reopen(struct sink *s);

/* Whether a sink wants an alert with these topics from this feed. */
bool sink_accepts(const struct conf_sink *cs, const char *feed_name,
    const char *feed_url, const char *const *topics, size_t n_topics,
    enum severity severity);

extern const struct sink_ops sink_log_ops;
