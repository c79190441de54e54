/* metrics.h — counters for operations teams, and the optional HTTP endpoint
 * (`http: {listen: 127.0.0.1:9117}`) that serves them: /healthz and /metrics
 * in the Prometheus text exposition format.
 *
 * The counters are process-wide and always kept (they are cheap), so the
 * pipeline can feed them whether or not the endpoint runs. The observe
 * functions may be called from the main loop only; the endpoint reads a
 * snapshot under a lock from libmicrohttpd's own thread. Never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Upper bounds, in seconds, of the fetch latency histogram's buckets. */
#define METRICS_LATENCY_BUCKETS	{ 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 }
#define METRICS_N_LATENCY	10

/* How the feeds of the running configuration stand, for the state gauge. */
enum metrics_feed_state {
	METRICS_FEED_OK,	/* last poll succeeded */
	METRICS_FEED_FAILING,	/* one or more polls failed in a row */
	METRICS_FEED_DISABLED,	/* e.g. after 410 Gone */
	METRICS_FEED_NEW,	/* never polled yet */
	_METRICS_FEED_STATE_MAX,
};
const char *metrics_feed_state_to_string(enum metrics_feed_state st);

/* Starts the endpoint on "host:port" ("[v6]:port" for IPv6; a bare port
 * means 127.0.0.1). Returns 0, or a negative errno with *reterr set:
 * -EOPNOTSUPP when feedwatch was built without libmicrohttpd. A running
 * endpoint is stopped first. */
int metrics_start(const char *listen, struct fw_error *reterr) _must_check_;

/* Stops the endpoint (no-op when not running). Counters are kept. */
void metrics_stop(void);

/* The address the endpoint is listening on, or NULL. Borrowed. */
const char *metrics_listen_address(void);

/* Resets every counter (tests). */
void metrics_reset(void);

/* One poll of a feed ended: http_status is 0 for a transport failure.
 * daemon.c reports these from the feed states in the store. */
void metrics_poll_observe(long http_status);

/* One transfer took seconds (for the latency histogram). Meant to be
 * called where transfers end; a no-op for negative values. */
void metrics_latency_observe(double seconds);

/* Items a poll found, and how many of them were new. */
void metrics_items_observe(uint64_t items, uint64_t new_items);

/* An alert was queued for sink. */
void metrics_alert_queued(const char *sink);

/* A delivery attempt to sink ended: delivered, failed for good (dead
 * letter) or to be retried. */
enum metrics_delivery {
	METRICS_DELIVERED,
	METRICS_DELIVERY_FAILED,
	METRICS_DELIVERY_RETRY,
	_METRICS_DELIVERY_MAX,
};
void metrics_delivery_observe(const char *sink, enum metrics_delivery what);

/* The main loop's heartbeat: the loop ran at unix time now and promises to
 * be back within max_wait seconds; db_writable is the last probe of the
 * state file. /healthz answers 200 while both hold. */
void metrics_loop_alive(int64_t now, int64_t max_wait, bool db_writable);

/* A polling cycle ended at unix time now and took seconds. */
void metrics_cycle_done(int64_t now, double seconds);

/* Gauges taken from the store after a cycle: feeds of the running
 * configuration per state, alerts waiting for delivery, dead letters. */
void metrics_set_feeds(const size_t counts[_METRICS_FEED_STATE_MAX]);
void metrics_set_outbox(int64_t pending, int64_t dead_letters);

/* Renders every metric in the Prometheus text format (version 0.0.4) into
 * a malloc'ed string the caller frees; NULL on OOM. */
char *metrics_render(void);

/* Whether /healthz would answer 200 at unix time now; *ret_reason (may be
 * NULL) gets a static explanation. */
bool metrics_healthy(int64_t now, const char **ret_reason);
