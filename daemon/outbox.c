/* outbox.c — delivery of queued alerts to the sinks: each (alert, sink) pair
 * is attempted when due, retried on the documented schedule with jitter,
 * and becomes a dead letter when retries run out or the receiver refuses
 * for good. Reads and writes only the store's outbox tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbox.h"

#define OUTBOX_DELIVERY_BATCH	100

int64_t
outbox_retry_delay(int attempt)
{
	/* After the first (immediate) attempt: 5 s, 5 min, 30 min, 2 h, 5 h,
	 * 10 h, 10 h — the schedule Svix documents — then a dead letter. */
	static const int64_t schedule[] = { 5, 300, 1800, 7200, 18000, 36000, 36000 };

	if (attempt < 1 || attempt > (int)(sizeof(schedule) / sizeof(schedule[0])))
		return -1;
	return schedule[attempt - 1];
}

static struct sink *
sink_by_name(struct pipeline *p, const char *name)
{
	for (size_t i = 0; i < p->n_sinks; i++)
		if (strcmp(p->sinks[i]->conf->name, name) == 0)
			return p->sinks[i];
	return NULL;
}

static int
deliver_one(struct pipeline *p, struct store_delivery *d, int64_t now,
    struct deliver_stats *stats, struct fw_error *e)
{
	struct sink		*s = sink_by_name(p, d->sink);
	struct sink_outcome	 out = { .result = SINK_PERMANENT };
	enum delivery_state	 state;
	int64_t			 next = now, delay;
	int			 attempts = d->attempts + 1, r;

	if (s == NULL)
		snprintf(out.error, sizeof(out.error),
		    "sink '%s' is no longer in the configuration", d->sink);
	else if ((r = sink_deliver(s, d->json, &out)) < 0) {
		out.result = SINK_RETRY;
		snprintf(out.error, sizeof(out.error), "%s", strerror(-r));
	}
	switch (out.result) {
	case SINK_DELIVERED:
		state = DELIVERY_DELIVERED;
		stats->delivered++;
		break;
	case SINK_RETRY:
		delay = outbox_retry_delay(attempts);
		if (delay < 0) {
			state = DELIVERY_FAILED;
			stats->failed++;
			log_warnx("alert %s to sink '%s': %s; giving up after %d attempts "
			    "(see feedwatch alerts --failed)", d->alert_id, d->sink, out.error,
			    attempts);
			break;
		}
		if (out.retry_after > delay)
			delay = out.retry_after;
		delay += (int64_t)(random() % (delay / 10 + 1));
		next = now + delay;
		state = DELIVERY_PENDING;
		stats->retrying++;
		log_warnx("alert %s to sink '%s': %s; retry %d in %llds", d->alert_id,
		    d->sink, out.error, attempts, (long long)delay);
		break;
	case SINK_GONE:
	case SINK_PERMANENT:
	default:
		state = DELIVERY_FAILED;
		stats->failed++;
		log_warnx("alert %s to sink '%s': %s; not retrying (see feedwatch alerts --failed)",
		    d->alert_id, d->sink, out.error);
		break;
	}
	return store_delivery_update(p->store, d->alert_id, d->sink, state, attempts, next,
	    state == DELIVERY_DELIVERED ? NULL : out.error, now, e);
}

int
outbox_deliver_due(struct pipeline *p, int64_t now, struct deliver_stats *stats)
{
	struct store_delivery	*v = NULL;
	struct fw_error		 e;
	size_t			 n = 0;
	int			 r = 0;

	for (;;) {
		r = store_deliveries_due(p->store, now, OUTBOX_DELIVERY_BATCH, &v, &n, &e);
		if (r < 0)
			break;
		for (size_t i = 0; i < n && r == 0; i++)
			r = deliver_one(p, &v[i], now, stats, &e);
		for (size_t i = 0; i < n; i++)
			store_delivery_done(&v[i]);
		free(v);
		v = NULL;
		if (r < 0 || n < OUTBOX_DELIVERY_BATCH)
			break;
	}
	if (r < 0)
		log_errx("%s", e.msg);
	return r;
}

int64_t
outbox_next_delivery_in(struct pipeline *p, int64_t now)
{
	struct store_delivery	*v = NULL;
	struct fw_error		 e;
	size_t			 n = 0;
	int64_t			 best = -1;

	/* The due query with a far horizon returns the earliest first. */
	if (store_deliveries_due(p->store, INT64_MAX, 1, &v, &n, &e) < 0)
		return -1;
	if (n > 0)
		best = v[0].next_attempt > now ? v[0].next_attempt - now : 0;
	for (size_t i = 0; i < n; i++)
		store_delivery_done(&v[i]);
	free(v);
	return best;
}
