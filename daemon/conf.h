/* conf.h — the YAML configuration (libyaml) as plain structs.
 * conf_load() rejects unknown keys, wrong types and missing required keys
 * with "file:line:col: message"; it returns every error it finds. Topic rule
 * expressions are kept as strings with their positions: the classify module
 * compiles (and validates) them. */
#pragma once

/* Feeds may also come from the files this glob matches beside the main
 * file (the conf.d convention), unless 'include' names another. */
#define CONF_DEFAULT_INCLUDE	"feeds.d/*.yaml"

/* The topic of feed-health alerts (a feed failing, silent, recovered): a
 * sink's topics list may name it to get them, or leave it out to not. */
#define CONF_HEALTH_TOPIC	"feed_health"


#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "feedwatch.h"

/* A string from the file and where its scalar starts. */
struct conf_str {
	char		*s;
	unsigned	 line;
	unsigned	 col;
	bool		 quoted;	/* written as a '...' or "..." scalar */
};

struct conf_strlist {
	struct conf_str	*v;
	size_t		 n;
};

/* When a story that joins a development raises an update alert (the
 * development's first story raises the alert). */
struct conf_updates {
	bool		new_figure;	/* a key figure it had not reported (default on) */
	bool		new_topic;	/* it now matches this topic too (default on) */
	unsigned	sources;	/* confirmed by this many feeds; 0 = off (default) */
};

struct conf_topic {
	struct conf_str		name;
	struct conf_updates	updates;
	enum severity		severity;	/* default SEVERITY_NORMAL */
	/* Each entry is one rule expression; the topic matches when any
	 * term matches and no exclude does. */
	struct conf_strlist	terms;
	struct conf_strlist	exclude;
	/* Feed names or URLs the topic applies to; empty = every feed. */
	struct conf_strlist	feeds;
	/* Snowball language of its terms' stems, or "none"; s is NULL when
	 * unset (then the top-level language applies). */
	struct conf_str		language;
};

/* A named word list of the "lists:" block, used as @name in rules: each
 * entry is a rule expression (classify compiles them). */
struct conf_list {
	struct conf_str		name;
	struct conf_strlist	entries;
};

struct conf_header {
	char	*name;
	char	*value;		/* already resolved from value_file/value_env */
};

struct conf_feed {
	char		*name;		/* defaults to the URL */
	char		*url;
	const char	*file;		/* where it is defined: conf path or an included file */
	unsigned	 line, col;	/* where the feed's entry starts */
	int64_t		 interval;	/* seconds */
	int64_t		 min_interval;
	int64_t		 max_interval;
	int64_t		 timeout;	/* seconds */
	uint64_t	 max_bytes;
	/* On the feed's first poll, alert only on items published within
	 * this many seconds; older ones are remembered silently. */
	int64_t		 backlog;
	struct conf_strlist topics;	/* restrict to these topics; empty = all */
	struct conf_strlist tags;	/* the user's labels (OPML folders) */
	struct conf_header *headers;
	size_t		 n_headers;
	/* docs/security.md: follow an https to http redirect; let a
	 * redirect from a public address lead to a private one. */
	bool		 allow_downgrade;
	bool		 allow_private;
	/* New alerts one poll of this feed may queue; the rest are summed up
	 * in one alert. 0 in the file means "the default". */
	unsigned	 max_alerts_per_poll;
};

enum sink_type {
	SINK_LOG,
	SINK_WEBHOOK,
	SINK_MAIL,
	SINK_EXEC,
	_SINK_TYPE_MAX,
};

enum sink_format {
	SINK_FORMAT_TEXT,
	SINK_FORMAT_JSONL,
	SINK_FORMAT_GENERIC,	/* webhook */
	SINK_FORMAT_SLACK,
	SINK_FORMAT_DISCORD,
	SINK_FORMAT_NTFY,
	_SINK_FORMAT_MAX,
};

/* How a mail sink hands its message over. */
enum mail_transport {
	MAIL_TRANSPORT_SMTP,		/* libcurl to the 'url' */
	MAIL_TRANSPORT_SENDMAIL,	/* piped to the local mail system's sendmail */
	_MAIL_TRANSPORT_MAX,
};

/* Entries of a sink's 'retry' schedule, at most. */
#define CONF_RETRY_MAX	20

struct conf_sink {
	char			*name;		/* defaults to "<type><index>" */
	enum sink_type		 type;
	unsigned		 line, col;
	enum sink_format	 format;
	struct conf_strlist	 topics;	/* filter; empty = all */
	struct conf_strlist	 feeds;		/* filter; empty = all */
	enum severity		 min_severity;
	/* log */
	char			*path;		/* "-" = stderr */
	/* webhook */
	char			*url;
	char			*secret;	/* resolved from secret_file/secret_env */
	struct conf_header	*headers;
	size_t			 n_headers;
	int64_t			 timeout;
	/* mail */
	char			*from;
	struct conf_strlist	 to;
	char			*username;
	char			*password;	/* resolved from password_file/_env */
	bool			 starttls;
	enum mail_transport	 transport;
	/* The sendmail command, argv, no shell; empty = the default,
	 * /usr/sbin/sendmail -t -oi. */
	struct conf_strlist	 sendmail;
	/* exec */
	struct conf_strlist	 command;	/* argv, no shell */
	/* exec, and mail through sendmail: the variables of feedwatch's
	 * environment the command gets, besides PATH and LANG
	 * (docs/security.md). */
	struct conf_strlist	 env;
	/* Seconds to wait after the n-th failed attempt; after the last, a
	 * dead letter. n_retry 0 = the default schedule (outbox.c). */
	int64_t			 retry[CONF_RETRY_MAX];
	size_t			 n_retry;
	/* flood control */
	double			 rate_per_second;	/* 0 = unlimited */
	int64_t			 hourly_budget;		/* 0 = unlimited */
	int64_t			 digest_interval;	/* seconds; 0 = off */
	enum severity		 bypass_severity;
	int			 quiet_start_min;	/* minutes after midnight, -1 = none */
	int			 quiet_end_min;
	/* borrowed: the top-level ca_path, for webhook and mail TLS */
	const char		*ca_path;
};

/* The developments block: grouping items about one event. */
struct conf_developments {
	bool			 group;		/* one alert per development (default on) */
	int64_t			 window;	/* seconds either side */
	double			 threshold;
	/* Canonical links; have_* false = canon.c's defaults. */
	bool			 have_strip_params, have_host_prefixes, have_aggregators;
	struct conf_strlist	 strip_params;
	struct conf_strlist	 host_prefixes;
	struct conf_strlist	 aggregators;
};

struct conf {
	char			*path;		/* the file this came from */
	char			*include;	/* the 'include' glob, absolute; NULL = default */
	char			**included;	/* the files it matched, read in order */
	size_t			 n_included;
	char			*state_path;	/* SQLite file or PostgreSQL database */
	unsigned		 state_line, state_col;	/* where 'state' is given */
	int64_t			 lease;		/* a shared state's feed and delivery leases */
	char			*user_agent;
	char			*ca_path;
	char			*proxy;
	char			*http_listen;	/* "127.0.0.1:9117" or NULL */
	int64_t			 retention;	/* seconds settled alerts are kept */
	/* poll defaults, copied into each feed that does not set them */
	int64_t			 interval;
	int64_t			 min_interval;
	int64_t			 max_interval;
	int64_t			 timeout;
	uint64_t		 max_bytes;
	int64_t			 backlog;
	unsigned		 concurrency;
	unsigned		 per_host;
	int64_t			 backoff_cap;
	unsigned		 redirect_hold;	/* polls before a 301 sticks */
	unsigned		 health_failures; /* failed polls before a health alert */
	unsigned		 max_alerts_per_poll;
	struct conf_feed	*feeds;
	size_t			 n_feeds;
	struct conf_topic	*topics;
	size_t			 n_topics;
	struct conf_list	*lists;
	size_t			 n_lists;
	struct conf_str		 language;	/* rules' default; s NULL: english */
	struct conf_sink	*sinks;
	size_t			 n_sinks;
	struct conf_developments developments;
};

/* Loads and validates path. Returns 0 and *ret_conf (free with conf_free()),
 * or a negative errno with every error found appended to errs (the first is
 * also what a caller that only wants one should print). */
int conf_load(const char *path, struct conf **ret_conf,
    struct fw_errors *errs) _must_check_;
/* As conf_load(), but no secret is read (secret_env, secret_file,
 * password_*, header value_env and value_file give ""): for the verbs that
 * deliver and fetch nothing (alerts, status), which then work without the
 * daemon's environment or its secret files. */
int conf_load_without_secrets(const char *path, struct conf **ret_conf,
    struct fw_errors *errs) _must_check_;
/* As conf_load(), for check-config: also when the file is invalid (but was
 * read and is YAML), *ret_conf is set to what could be read, so that the
 * topic rules can be checked too and every error reported in one run. */
int conf_load_invalid(const char *path, struct conf **ret_conf,
    struct fw_errors *errs) _must_check_;
/* Whether feedwatch can create or write the state file: its directory
 * exists and this user may write there (and the file, if it exists).
 * Returns 0, or a negative errno with *reterr naming the cause at the
 * 'state' key. */
int conf_check_state(const struct conf *c, struct fw_error *reterr) _must_check_;

/* NULL is a no-op; returns NULL. */
struct conf *conf_free(struct conf *c);

/* Returns the feed with this name or URL, or NULL. */
const struct conf_feed *conf_find_feed(const struct conf *c, const char *name_or_url);

/* The longest duration any key accepts: 36500 days, a hundred years (a
 * backlog of "everything" in config/demo.yaml). Every "now + duration"
 * and "now - duration" then stays far from overflowing. */
#define CONF_MAX_DURATION	((int64_t)36500 * 86400)

/* Parses "90s", "15m", "2h", "7d", "1w" or a bare number of seconds, up
 * to CONF_MAX_DURATION. Returns 0, -ERANGE past it, or -EINVAL. */
int conf_parse_duration(const char *s, int64_t *ret_seconds);
/* Parses "512", "10KiB", "10MiB", "1GiB" (also kB/MB/GB, powers of 10). */
int conf_parse_size(const char *s, uint64_t *ret_bytes);
