/* pipeline.h — one poll of a feed, end to end: fetch → parse → store (seen,
 * outbox) → classify → alert; and delivery of due alerts to the sinks.
 * `once`, `run` and the tests drive these. Logs what happens to each feed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "canon.h"
#include "classify.h"
#include "cluster.h"
#include "conf.h"
#include "error.h"
#include "fetch.h"
#include "sink.h"
#include "store.h"

struct pipeline {
	struct conf		*conf;		/* owned */
	struct store		*store;		/* owned */
	struct classifier	*classifier;	/* owned */
	struct sink		**sinks;	/* owned, one per conf->sinks */
	size_t			 n_sinks;
	/* Per conf->feeds[i]: its extra request headers as NULL-terminated
	 * "Name: value" lines (owned; values may be secrets: never logged). */
	char			***feed_headers;
	/* Canonical links and developments, from conf->developments. */
	struct canon_opts	 canon;
	const char		**canon_lists;	/* owned array, borrowed strings */
	struct cluster_opts	 cluster;
	/* Per conf->feeds[i]: its row in the store (pipeline_schedule_fit()),
	 * what a shared state's leases are taken among. Owned. */
	int64_t			*feed_ids;
	/* Group commit (pipeline_batch_begin()): the feeds handed over since
	 * the open transaction began. */
	struct pipeline_batch {
		int64_t	 max_ms;	/* PIPELINE_BATCH_MS; tests vary it */
		size_t	 max_items;	/* PIPELINE_BATCH_ITEMS */
		bool	 on;		/* between batch_begin and batch_end */
		bool	 open;		/* a transaction holds feeds' results */
		int64_t	 t0_ms;		/* when it began, monotonic */
		size_t	 feeds;
		size_t	 items;		/* new items in it */
	}			 batch;
};

struct poll_stats {
	size_t	feeds_ok;
	size_t	feeds_failed;
	size_t	items;
	size_t	new_items;
	size_t	alerts;		/* every alert queued, feed-health ones too */
	size_t	health_alerts;	/* of which feed-health alerts */
	int64_t	next_poll;	/* earliest next poll of the feeds done; 0 = none */
};

/* Feed-health alerts: "topic" feed_health, queued in the outbox like item
 * alerts. A feed raises one after this many failed polls in a row by
 * default (conf health_failures overrides), and one when it recovers. */
#define PIPELINE_HEALTH_FAILURES	5
/* A feed is silent when nothing new came from it for this many times its
 * usual gap between items (and at least a day), counted from its newest
 * item or from its first poll, whichever is later. */
#define PIPELINE_SILENCE_FACTOR		10

/* Takes ownership of conf (also on failure). Opens the state file, compiles
 * the rules and opens the sinks. Errors are appended to errs. */
int pipeline_new(struct conf *conf, struct pipeline **ret, struct fw_errors *errs) _must_check_;
struct pipeline *pipeline_free(struct pipeline *p);

/* After a (re)load: records each feed's row in p->feed_ids and, on a
 * shared state, says (log) when the database watches feeds this
 * configuration does not list; brings each polled feed's interval and next poll within
 * the bounds its configuration now gives (interval, min_interval,
 * max_interval), so a changed interval takes effect at once rather than
 * after the poll already scheduled. Feeds in backoff are left alone.
 * Returns 0 or a negative errno with *reterr set. */
int pipeline_schedule_fit(struct pipeline *p, int64_t now, struct fw_error *reterr) _must_check_;

/* The URL to poll for feed: its configured URL, or where it moved once a
 * permanent redirect held for conf->redirect_hold polls. Borrowed. */
const char *pipeline_feed_url(const struct pipeline *p, const struct conf_feed *feed,
    const struct store_feed *state);

/* The fetch options for a feed, given its stored state (may be NULL).
 * Strings are borrowed from p and state. */
void pipeline_fetch_opts(const struct pipeline *p, const struct conf_feed *feed,
    const struct store_feed *state, struct fetch_opts *ret);

/* Handles the outcome of fetching feed: fetch_rc and fetch_err say how the
 * transfer went, res is its result when fetch_rc is 0. Updates the feed's
 * state and schedule, records new items and queues their alerts in one
 * transaction (shared with other feeds' in a batch). A failing feed is logged and counted, not an error: the
 * return is negative only when the state file cannot be written. */
int pipeline_feed_done(struct pipeline *p, const struct conf_feed *feed,
    int fetch_rc, const struct fw_error *fetch_err, const struct fetch_result *res,
    int64_t now, struct poll_stats *stats) _must_check_;

/* Group commit for a polling cycle. Between pipeline_batch_begin() and
 * pipeline_batch_end(), pipeline_feed_done() leaves its transaction open
 * for the next feeds, and commits once it holds PIPELINE_BATCH_ITEMS new
 * items or is PIPELINE_BATCH_MS old (pipeline_batch_due() checks the age
 * while transfers run). One feed's results (its new items, their alerts,
 * its validators) are always in the same transaction, so a crash loses at
 * most whole feeds' results, which the next cycle fetches again. Outside
 * a batch, and on a shared (PostgreSQL) state, every feed commits on its
 * own. pipeline_batch_end() commits
 * (commit = true) or rolls back what is pending. Each returns 0 or a
 * negative errno when the state file fails (logged). */
#define PIPELINE_BATCH_MS	1000
#define PIPELINE_BATCH_ITEMS	4000
void pipeline_batch_begin(struct pipeline *p);
int pipeline_batch_due(struct pipeline *p) _must_check_;
int pipeline_batch_end(struct pipeline *p, bool commit) _must_check_;

void pipeline_reopen_sinks(struct pipeline *p);

/* The delay before the next try after errors failed polls in a row:
 * base·2^(errors-1), at most cap, less up to 20% of jitter. */
int64_t pipeline_backoff_delay(int64_t base, int errors, int64_t cap);

/* The polling interval of feed from its publishing rate: half the median
 * gap between its newest dated items, kept within [min_interval,
 * max_interval] (widened to include the configured interval); lengthened,
 * up to max_interval, by the publisher's hints: doc's <ttl> or
 * sy:updatePeriod and max_age (HTTP freshness, -1 = none). doc may be NULL.
 * prev is the interval in use (0 = none), kept when doc has no dates. */
int64_t pipeline_adaptive_interval(const struct conf_feed *feed, const struct feed_doc *doc,
    int64_t max_age, int64_t prev);

/* The usual gap between doc's newest dated items (median), or 0 when it has
 * fewer than three; *ret_newest gets the newest date (FW_TIME_NONE). */
int64_t pipeline_publish_gap(const struct feed_doc *doc, int64_t *ret_newest);
