/* pipeline.h — one poll of a feed, end to end: fetch → parse → store (seen,
 * outbox) → classify → alert; and delivery of due alerts to the sinks.
 * `once`, `run` and the tests drive these. Logs what happens to each feed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "classify.h"
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
};

struct poll_stats {
	size_t	feeds_ok;
	size_t	feeds_failed;
	size_t	items;
	size_t	new_items;
	size_t	alerts;
};

/* Takes ownership of conf (also on failure). Opens the state file, compiles
 * the rules and opens the sinks. Errors are appended to errs. */
int pipeline_new(struct conf *conf, struct pipeline **ret, struct fw_errors *errs) _must_check_;
struct pipeline *pipeline_free(struct pipeline *p);

/* The fetch options for a feed, given its stored state. */
void pipeline_fetch_opts(const struct pipeline *p, const struct conf_feed *feed,
    const struct store_feed *state, struct fetch_opts *ret);

/* Handles the outcome of fetching feed: fetch_rc and fetch_err say how the
 * transfer went, res is its result when fetch_rc is 0. Updates the feed's
 * state and schedule, records new items and queues their alerts in one
 * transaction. A failing feed is logged and counted, not an error: the
 * return is negative only when the state file cannot be written. */
int pipeline_feed_done(struct pipeline *p, const struct conf_feed *feed,
    int fetch_rc, const struct fw_error *fetch_err, const struct fetch_result *res,
    int64_t now, struct poll_stats *stats) _must_check_;

/* Fetches and processes one feed (blocking). */
int pipeline_poll_feed(struct pipeline *p, const struct conf_feed *feed,
    int64_t now, struct poll_stats *stats) _must_check_;

void pipeline_reopen_sinks(struct pipeline *p);
