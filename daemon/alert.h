/* alert.h — an alert is the record of one item matching one or more topics.
 * It is built once, as a JSON object (the JSONL log line and the "generic"
 * webhook body), stored in the outbox and handed to every sink. */
#pragma once

#include <stdint.h>

#include "classify.h"
#include "conf.h"
#include "error.h"
#include "feedwatch.h"

struct alert {
	char		*id;		/* stable: the same item gives the same id */
	char		*dedup_key;	/* the item's link, else feed URL + item id */
	char		*json;		/* one line, no newline */
	enum severity	 severity;	/* the highest of its topics */
};

/* The development an alert belongs to (issue 13): every alert names it,
 * and an update alert names the alert it updates and what is new. */
struct alert_development {
	const char		*key;		/* the development's id */
	const char		*sources;	/* JSON array of feed names */
	const char		*canon;		/* the item's canonical link, may be NULL */
	const char		*updates;	/* the first alert's id; NULL = first alert */
	const char *const	*new_figures;
	size_t			 n_new_figures;
	const char *const	*new_topics;
	size_t			 n_new_topics;
	size_t			 n_sources;	/* > 0: confirmed by this many feeds */
};

/* Builds the alert for item with its development dev (NULL: none, as
 * alert_build()). A first alert's dedup key is the item's canonical link;
 * an update's is the development and the item. */
int alert_build_dev(const struct conf_feed *feed, const char *feed_url,
    const struct feed_item *item, const struct classify_result *cls,
    const struct alert_development *dev, int64_t now, struct alert *ret) _must_check_;

/* Builds the alert for item (from feed, possibly NULL) with its matches.
 * feed_url is used when feed is NULL. Returns 0 or a negative errno. */
int alert_build(const struct conf_feed *feed, const char *feed_url,
    const struct feed_item *item, const struct classify_result *cls,
    int64_t now, struct alert *ret) _must_check_;
void alert_done(struct alert *a);

/* Hex SHA-256 of s, truncated to 32 hex digits, into out[33]. */
void alert_hash_hex(const char *s, char out[33]);
