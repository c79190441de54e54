/* sink.h — where alerts go: log (text or JSON Lines), webhook, mail, exec.
 * Each sink type is one file implementing struct sink_ops; sink.c holds the
 * table, the filters (topics, feeds, minimum severity) and the text and
 * JSON renderings the sink types share. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
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

/* One message for a sink: a single alert, or a digest of several. */
struct sink_msg {
	/* The alert id, or the digest id: webhook-id, the Message-ID, the
	 * same on every retry so receivers can drop duplicates. */
	const char	*id;
	/* The alert object (see alert.h), or for a digest
	 * {"id", "created", "digest": true, "count", "alerts": [alert, ...]}. */
	const char	*json;
	bool		 digest;
};

struct sink;
struct flood;

struct sink_ops {
	/* Sets up sink->state; errors carry the sink's config position. */
	int	(*open)(struct sink *sink, struct fw_error *reterr);
	/* Delivers one message. Returns 0 with *out filled, or a negative
	 * errno for a failure of feedwatch itself (retried later). */
	int	(*deliver)(struct sink *sink, const struct sink_msg *msg,
		    struct sink_outcome *out);
	/* Reopens files after SIGHUP (logrotate); may be NULL. */
	void	(*reopen)(struct sink *sink);
	void	(*close)(struct sink *sink);
};

struct sink {
	const struct conf_sink	*conf;		/* borrowed from the struct conf */
	const struct sink_ops	*ops;
	void			*state;
	struct flood		*flood;		/* owned: rate, budget, quiet hours */
	/* No attempt has failed since its backlog was last made due (false
	 * at start: a backlog may be left from before). */
	bool			 backlog_clear;
};

/* Opens the sink described by cs (which must outlive it). */
int sink_new(const struct conf_sink *cs, struct sink **ret, struct fw_error *reterr) _must_check_;
struct sink *sink_free(struct sink *s);
int sink_deliver(struct sink *s, const struct sink_msg *msg,
    struct sink_outcome *out) _must_check_;
void sink_reopen(struct sink *s);

/* Whether a sink wants an alert with these topics from this feed. */
bool sink_accepts(const struct conf_sink *cs, const char *feed_name,
    const char *feed_url, const char *const *topics, size_t n_topics,
    enum severity severity);

/* Shared renderings. The alert object's string member key, or "" (borrowed). */
const char *sink_json_str(json_t *o, const char *key);
/* Appends the readable text of one alert:
 * "[sma, tariffs] Title\n    link\n    feed: ... | published ...\n    matched: ...". */
int sink_render_text(json_t *alert, struct buf *b) _must_check_;
/* Appends the readable text of msg (an alert, or a digest: a heading line
 * and every alert's text). Returns 0, -ENOMEM or -EINVAL (bad JSON). */
int sink_render_msg_text(const struct sink_msg *msg, struct buf *b) _must_check_;
/* Whether the alert updates an earlier one of its development (it has
 * "updates"). */
bool sink_alert_is_update(json_t *alert);
/* Appends what an update alert says is new, and who reports the
 * development: "update: new figures $350 billion; sources: yonhap, ap".
 * Appends nothing for an alert without a development. */
int sink_render_update(json_t *alert, struct buf *b) _must_check_;
/* A one-line summary: the alert's title ("Update: title" for an update),
 * or "N feedwatch alerts: first title…". */
int sink_render_subject(const struct sink_msg *msg, struct buf *b) _must_check_;

/* Makes the libcurl handle curl trust ca_path (a file or a directory of
 * CA certificates; NULL leaves the system's). */
void sink_curl_ca(void *curl, const char *ca_path);

/* Webhook internals, exposed for the tests. */
/* Renders the POST body for format; ntfy_topic is used by the ntfy format.
 * Returns 0 and an owned string, -EINVAL for a message that is not JSON. */
int sink_webhook_body(enum sink_format format, const struct sink_msg *msg,
    const char *ntfy_topic, char **ret_body) _must_check_;
/* The Standard Webhooks key: "whsec_" + base64 is decoded, anything else
 * is used as raw bytes. Returns 0 and an owned key, or -EINVAL. */
int sink_webhook_key(const char *secret, unsigned char **ret_key,
    size_t *ret_len) _must_check_;
/* "v1," + base64(HMAC-SHA256(key, id "." timestamp "." body)) into out. */
int sink_webhook_sign(const unsigned char *key, size_t key_len, const char *id,
    int64_t timestamp, const char *body, char *out, size_t out_size) _must_check_;

/* Mail internals, exposed for the tests: the RFC 5322 message with CRLF
 * line ends (owned). now is the Date. */
int sink_mail_message(const struct conf_sink *cs, const struct sink_msg *msg,
    int64_t now, char **ret) _must_check_;
/* RFC 2047 "B" encoding of a UTF-8 header value, folded; ASCII-only
 * values are appended as they are. */
int sink_mail_encode_header(const char *value, struct buf *b) _must_check_;

/* For a mail sink with 'transport: sendmail': its program (borrowed) when
 * that is set-user-ID or set-group-ID itself, or is Postfix's sendmail
 * with the setgid postdrop beside it, so that it cannot work under
 * no_new_privs. NULL otherwise, also for a program named without a path
 * (found in PATH only when it runs). Looks at the file system only. */
const char *sink_mail_sendmail_privileged(const struct conf_sink *cs);

extern const struct sink_ops sink_log_ops;
extern const struct sink_ops sink_webhook_ops;
extern const struct sink_ops sink_mail_ops;
extern const struct sink_ops sink_exec_ops;
