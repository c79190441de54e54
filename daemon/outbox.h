/* outbox.h — deliver queued alerts from the store's outbox to the sinks. */
#pragma once

#include <stdint.h>

#include "pipeline.h"

struct deliver_stats {
	size_t	delivered;	/* alerts delivered (alone or in a digest) */
	size_t	retrying;
	size_t	failed;		/* became dead letters */
	size_t	held;		/* held for a digest by flood control */
	size_t	digests;	/* digest messages sent */
};

/* Delivers every pending alert that is due, and every digest that is due.
 * A delivery interrupted by a crash is simply attempted again later (at
 * least once). Returns 0, or a negative errno when the state file fails
 * (logged). */
int outbox_deliver_due(struct pipeline *p, int64_t now,
    struct deliver_stats *stats) _must_check_;

/* Seconds until the next delivery attempt of a pending or held alert
 * (0 = now), or -1 when nothing is pending. */
int64_t outbox_next_delivery_in(struct pipeline *p, int64_t now);

/* The wait after the n-th failed attempt (1-based) under the sink's retry
 * schedule (cs NULL or without one: the default, 5s 5m 30m 2h 5h 10h 10h),
 * or -1 when retries are exhausted and the delivery becomes a dead letter. */
int64_t outbox_retry_delay(const struct conf_sink *cs, int attempt);

/* The id of a digest of these alerts for sink: stable for the same set. */
void outbox_digest_id(const char *sink, const char *const *alert_ids, size_t n,
    char out[33]);
