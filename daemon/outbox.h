/* outbox.h — deliver queued alerts from the store's outbox to the sinks. */
#pragma once

#include <stdint.h>

#include "pipeline.h"

struct deliver_stats {
	size_t	delivered;
	size_t	retrying;
	size_t	failed;
};

/* Delivers every pending alert that is due. */
int outbox_deliver_due(struct pipeline *p, int64_t now,
    struct deliver_stats *stats) _must_check_;

/* Seconds until the next delivery attempt of a pending alert (0 = now),
 * or -1 when nothing is pending. */
int64_t outbox_next_delivery_in(struct pipeline *p, int64_t now);

/* The retry schedule after the n-th failed attempt (1-based), or -1 when
 * retries are exhausted and the delivery becomes a dead letter. */
int64_t outbox_retry_delay(int attempt);

