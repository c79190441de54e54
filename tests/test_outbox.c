/* test_outbox.c — delivery from the outbox on a real SQLite file, through
 * a recording sink: the retry schedule with jitter until the dead letter,
 * Retry-After, 410 and permanent failures, requeueing, the recovery flush
 * (within the rate limit), hurrying pending deliveries, a per-sink retry
 * schedule, a sink gone from the config, the rate limit, the hourly budget
 * overflowing into one digest, digest mode, the bypass severity, and a digest interrupted and repeated
 * with the same id and members. */
#include <check.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flood.h"
#include "outbox.h"
#include "testutil.h"

#define T0	1700000000

struct sent {
	char	*id;
	char	*json;
	bool	 digest;
};

static struct sent		 sent[4096];
static size_t			 n_sent;
static struct sink_outcome	 script[16];	/* outcomes to return, in order */
static size_t			 n_script, script_pos;
/* A message whose JSON has this is one the sink cannot build (-E2BIG), as
 * an alert over a builder's cap was. */
static const char		*too_big;

static int
rec_open(struct sink *s, struct fw_error *e)
{
	return 0;
}

static void
rec_close(struct sink *s)
{
}

static int
rec_deliver(struct sink *s, const struct sink_msg *m, struct sink_outcome *out)
{
	ck_assert_uint_lt(n_sent, 4096);
	sent[n_sent].id = strdup(m->id);
	sent[n_sent].json = strdup(m->json);
	sent[n_sent].digest = m->digest;
	n_sent++;
	if (too_big != NULL && strstr(m->json, too_big) != NULL)
		return -E2BIG;
	if (script_pos < n_script)
		*out = script[script_pos++];
	else
		out->result = SINK_DELIVERED;
	return 0;
}

static const struct sink_ops rec_ops = {
	.open = rec_open, .deliver = rec_deliver, .close = rec_close,
};

/* A sink that takes batches (as the log sink does): each call is counted,
 * and every message gets the scripted outcome or is delivered. */
static size_t			 n_batches, batch_sizes[64];
static int			 batch_rc;

static int
rec_deliver_batch(struct sink *s, const struct sink_msg *m, size_t n, struct sink_outcome *outs)
{
	ck_assert_uint_lt(n_batches, 64);
	batch_sizes[n_batches++] = n;
	for (size_t i = 0; i < n; i++)
		(void)rec_deliver(s, &m[i], &outs[i]);
	return batch_rc;
}

static const struct sink_ops batch_ops = {
	.open = rec_open, .deliver = rec_deliver, .deliver_batch = rec_deliver_batch,
	.close = rec_close,
};

static char			*tmp;
static struct pipeline		 p;
static struct conf		 conf;
static struct conf_sink		 cs[2];
static struct sink		 sinks[2], *sinkv[2];
static const char *const	 both[] = { "hook", "mail" };

static void
sinks_open(void)
{
	for (int i = 0; i < 2; i++) {
		flood_free(sinks[i].flood);
		sinks[i].conf = &cs[i];
		sinks[i].ops = &rec_ops;
		sinks[i].flood = flood_new(&cs[i]);
		/* As after a start: the flood state is read from the store. */
		sinks[i].flood_loaded = false;
		sinkv[i] = &sinks[i];
	}
}

static void
setup(void)
{
	struct fw_error	 e;
	char		 path[512];

	tmp = tu_tmpdir();
	snprintf(path, sizeof(path), "%s/state.db", tmp);
	memset(&p, 0, sizeof(p));
	memset(&conf, 0, sizeof(conf));
	conf.retention = 90 * 86400;
	p.conf = &conf;
	ck_assert_int_eq(store_open(path, &p.store, &e), 0);
	memset(cs, 0, sizeof(cs));
	memset(sinks, 0, sizeof(sinks));
	for (int i = 0; i < 2; i++) {
		cs[i].name = (char *)both[i];
		cs[i].bypass_severity = SEVERITY_CRITICAL;
		cs[i].quiet_start_min = cs[i].quiet_end_min = -1;
	}
	sinks_open();
	p.sinks = sinkv;
	p.n_sinks = 2;
	n_sent = n_script = script_pos = 0;
	n_batches = 0;
	batch_rc = 0;
	too_big = NULL;
	srandom(1);
}

static void
teardown(void)
{
	p.conf = NULL;
	for (size_t i = 0; i < n_sent; i++) {
		free(sent[i].id);
		free(sent[i].json);
	}
	for (int i = 0; i < 2; i++)
		sinks[i].flood = flood_free(sinks[i].flood);
	store_close(p.store);
	tu_rmtree(tmp);
	free(tmp);
}

static void
add_alert(const char *id, const char *severity, int64_t now, size_t n_sinks)
{
	struct fw_error	e;
	char		json[256], key[64];

	snprintf(json, sizeof(json), "{\"id\":\"%s\",\"severity\":\"%s\",\"topics\":[\"t\"],"
	    "\"item\":{\"title\":\"title %s\"}}", id, severity, id);
	snprintf(key, sizeof(key), "link:%s", id);
	ck_assert_int_eq(store_alert_add(p.store, id, key, json, now, both, n_sinks, &e), 1);
}

/* The delivery of alert to sink. */
static struct store_delivery
get(const char *alert, const char *sink)
{
	struct store_delivery	*v = NULL, d = { 0 };
	struct fw_error		 e;
	size_t			 n = 0;
	bool			 found = false;

	ck_assert_int_eq(store_deliveries_list(p.store, false, 1000, &v, &n, &e), 0);
	for (size_t i = 0; i < n; i++) {
		if (!found && strcmp(v[i].alert_id, alert) == 0 && strcmp(v[i].sink, sink) == 0) {
			d = v[i];
			found = true;
		} else
			store_delivery_done(&v[i]);
	}
	free(v);
	ck_assert_msg(found, "no delivery %s/%s", alert, sink);
	return d;
}

static enum delivery_state
state_of(const char *alert, const char *sink)
{
	struct store_delivery	d = get(alert, sink);
	enum delivery_state	st = d.state;

	store_delivery_done(&d);
	return st;
}

static void
deliver(int64_t now, struct deliver_stats *ds)
{
	memset(ds, 0, sizeof(*ds));
	ck_assert_int_eq(outbox_deliver_due(&p, now, ds), 0);
}

START_TEST(test_schedule_table)
{
	static const int64_t want[] = { 5, 300, 1800, 7200, 18000, 36000, 36000 };

	ck_assert_int_eq(outbox_retry_delay(NULL, 0), -1);
	for (int i = 0; i < 7; i++)
		ck_assert_int_eq(outbox_retry_delay(NULL, i + 1), want[i]);
	ck_assert_int_eq(outbox_retry_delay(NULL, 8), -1);
}
END_TEST

START_TEST(test_delivered_once)
{
	struct deliver_stats ds;

	add_alert("a1", "normal", T0, 2);
	ck_assert_int_eq(outbox_next_delivery_in(&p, T0 - 10), 10);
	deliver(T0, &ds);
	ck_assert_uint_eq(ds.delivered, 2);
	ck_assert_uint_eq(n_sent, 2);
	ck_assert_str_eq(sent[0].id, "a1");
	ck_assert(!sent[0].digest);
	ck_assert_ptr_nonnull(strstr(sent[0].json, "\"id\":\"a1\""));
	ck_assert_int_eq(state_of("a1", "hook"), DELIVERY_DELIVERED);
	ck_assert_int_eq(state_of("a1", "mail"), DELIVERY_DELIVERED);
	ck_assert_int_eq(outbox_next_delivery_in(&p, T0), -1);
	deliver(T0 + 1000, &ds);
	ck_assert_uint_eq(n_sent, 2);
}
END_TEST

START_TEST(test_retries_then_dead_letter)
{
	struct deliver_stats	ds;
	struct store_delivery	d;
	int64_t			now = T0;

	for (int i = 0; i < 8; i++)
		script[n_script++] = (struct sink_outcome){ .result = SINK_RETRY, .error = "HTTP 500" };
	add_alert("a1", "normal", T0, 1);
	for (int attempt = 1; attempt <= 7; attempt++) {
		int64_t delay = outbox_retry_delay(NULL, attempt);

		deliver(now, &ds);
		ck_assert_uint_eq(ds.retrying, 1);
		d = get("a1", "hook");
		ck_assert_int_eq(d.state, DELIVERY_PENDING);
		ck_assert_int_eq(d.attempts, attempt);
		ck_assert_str_eq(d.last_error, "HTTP 500");
		/* Jitter: up to a tenth more, never less. */
		ck_assert_int_ge(d.next_attempt, now + delay);
		ck_assert_int_le(d.next_attempt, now + delay + delay / 10);
		ck_assert_int_eq(outbox_next_delivery_in(&p, now), d.next_attempt - now);
		/* Not due a second early. */
		deliver(d.next_attempt - 1, &ds);
		ck_assert_uint_eq(n_sent, (size_t)attempt);
		now = d.next_attempt;
		store_delivery_done(&d);
	}
	deliver(now, &ds);
	ck_assert_uint_eq(ds.failed, 1);
	ck_assert_uint_eq(n_sent, 8);
	d = get("a1", "hook");
	ck_assert_int_eq(d.state, DELIVERY_FAILED);
	ck_assert_int_eq(d.attempts, 8);
	store_delivery_done(&d);
	ck_assert_int_eq(outbox_next_delivery_in(&p, now), -1);
}
END_TEST

START_TEST(test_retry_after_honoured)
{
	struct deliver_stats	ds;
	struct store_delivery	d;

	script[n_script++] = (struct sink_outcome){ .result = SINK_RETRY, .retry_after = 120 };
	add_alert("a1", "normal", T0, 1);
	deliver(T0, &ds);
	d = get("a1", "hook");
	ck_assert_int_ge(d.next_attempt, T0 + 120);
	ck_assert_int_le(d.next_attempt, T0 + 132);
	store_delivery_done(&d);
	/* A Retry-After shorter than the schedule does not shorten it. */
	script[n_script++] = (struct sink_outcome){ .result = SINK_RETRY, .retry_after = 1 };
	deliver(T0 + 200, &ds);
	d = get("a1", "hook");
	ck_assert_int_ge(d.next_attempt, T0 + 200 + 300);
	store_delivery_done(&d);
}
END_TEST

START_TEST(test_retry_after_pauses_the_sink)
{
	struct deliver_stats	ds;
	struct store_delivery	d;

	script[n_script++] = (struct sink_outcome){ .result = SINK_RETRY, .retry_after = 120 };
	add_alert("a1", "normal", T0, 1);
	deliver(T0, &ds);
	add_alert("a2", "critical", T0 + 10, 1);
	deliver(T0 + 10, &ds);
	/* The receiver asked for two minutes: a2 waits too, no attempt spent. */
	ck_assert_uint_eq(n_sent, 1);
	d = get("a2", "hook");
	ck_assert_int_eq(d.state, DELIVERY_PENDING);
	ck_assert_int_eq(d.attempts, 0);
	ck_assert_int_eq(d.next_attempt, T0 + 120);
	store_delivery_done(&d);
	deliver(T0 + 140, &ds);
	ck_assert_uint_eq(n_sent, 3);
	ck_assert_int_eq(state_of("a2", "hook"), DELIVERY_DELIVERED);
}
END_TEST

START_TEST(test_gone_permanent_and_requeue)
{
	struct deliver_stats	 ds;
	struct store_delivery	*v = NULL;
	struct fw_error		 e;
	size_t			 n = 0;

	script[n_script++] = (struct sink_outcome){ .result = SINK_GONE, .error = "HTTP 410" };
	script[n_script++] = (struct sink_outcome){ .result = SINK_PERMANENT, .error = "HTTP 404" };
	add_alert("a1", "normal", T0, 1);
	add_alert("a2", "normal", T0 + 1, 1);
	deliver(T0 + 1, &ds);
	ck_assert_uint_eq(ds.failed, 2);
	ck_assert_int_eq(state_of("a1", "hook"), DELIVERY_GONE);
	ck_assert_int_eq(state_of("a2", "hook"), DELIVERY_FAILED);
	ck_assert_int_eq(store_deliveries_list(p.store, true, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++)
		store_delivery_done(&v[i]);
	free(v);
	/* No retry of either, ever. */
	deliver(T0 + 100000, &ds);
	ck_assert_uint_eq(n_sent, 2);
	ck_assert_int_eq(store_deliveries_retry(p.store, "a1", T0 + 100001, &e), 1);
	deliver(T0 + 100001, &ds);
	ck_assert_uint_eq(n_sent, 3);
	ck_assert_int_eq(state_of("a1", "hook"), DELIVERY_DELIVERED);
	ck_assert_int_eq(store_deliveries_retry(p.store, NULL, T0 + 100002, &e), 1);
	deliver(T0 + 100002, &ds);
	ck_assert_int_eq(state_of("a2", "hook"), DELIVERY_DELIVERED);
}
END_TEST

START_TEST(test_sink_removed)
{
	struct deliver_stats	ds;
	struct store_delivery	d;

	add_alert("a1", "normal", T0, 2);
	p.n_sinks = 1;		/* "mail" left the config */
	deliver(T0, &ds);
	ck_assert_uint_eq(ds.delivered, 1);
	ck_assert_uint_eq(ds.failed, 1);
	d = get("a1", "mail");
	ck_assert_int_eq(d.state, DELIVERY_FAILED);
	ck_assert_ptr_nonnull(strstr(d.last_error, "no longer in the configuration"));
	store_delivery_done(&d);
}
END_TEST

START_TEST(test_down_sink_skipped_for_the_round)
{
	struct deliver_stats	 ds;
	struct store_delivery	*v = NULL;
	struct fw_error		 e;
	size_t			 n = 0, hook_sent = 0, fresh = 0;

	/* More than one batch of due deliveries, both sinks interleaved. */
	for (int i = 0; i < 150; i++) {
		char name[16];

		snprintf(name, sizeof(name), "a%03d", i);
		add_alert(name, "normal", T0 + i, 2);
	}
	script[n_script++] = (struct sink_outcome){ .result = SINK_RETRY, .error = "timeout" };
	deliver(T0 + 200, &ds);
	for (size_t i = 0; i < n_sent; i++)
		hook_sent += strcmp(sent[i].id, "a000") == 0 && i == 0;
	/* The hook failed once and was left alone; mail got everything. */
	ck_assert_uint_eq(hook_sent, 1);
	ck_assert_uint_eq(n_sent, 151);
	ck_assert_uint_eq(ds.delivered, 150);
	ck_assert_uint_eq(ds.retrying, 1);
	ck_assert_int_eq(store_deliveries_due(p.store, T0 + 200, 1000, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 149);
	for (size_t i = 0; i < n; i++) {
		fresh += v[i].attempts == 0 && strcmp(v[i].sink, "hook") == 0;
		store_delivery_done(&v[i]);
	}
	free(v);
	ck_assert_uint_eq(fresh, 149);
	/* Next round the receiver is back: all of them go, and a000 with
	 * them, not at its retry 4 s later (the recovery flush). */
	deliver(T0 + 201, &ds);
	ck_assert_uint_eq(ds.delivered, 150);
	ck_assert_int_eq(state_of("a000", "hook"), DELIVERY_DELIVERED);
	ck_assert_int_eq(outbox_next_delivery_in(&p, T0 + 201), -1);
}
END_TEST

/* a1 and a1b fail twice and wait ~5 min; a0 is a dead letter. */
static void
backlog_after_outage(void)
{
	struct deliver_stats ds;

	for (int i = 0; i < 5; i++)
		script[n_script++] = (struct sink_outcome){ .result = SINK_RETRY, .error = "HTTP 503" };
	script[0] = (struct sink_outcome){ .result = SINK_PERMANENT, .error = "HTTP 404" };
	p.n_sinks = 1;
	add_alert("a0", "normal", T0, 1);
	deliver(T0, &ds);			/* a0: 404 */
	add_alert("a1", "normal", T0 + 1, 1);
	add_alert("a1b", "normal", T0 + 2, 1);
	deliver(T0 + 2, &ds);			/* a1: 503; a1b left due */
	deliver(T0 + 3, &ds);			/* a1b: 503 */
	deliver(T0 + 7, &ds);			/* a1: 503 again */
	deliver(T0 + 8, &ds);			/* a1b: 503 again */
	ck_assert_uint_eq(n_sent, 5);
	ck_assert_int_ge(outbox_next_delivery_in(&p, T0 + 8), 290);
	add_alert("a2", "normal", T0 + 9, 1);
}

START_TEST(test_recovery_flush)
{
	struct deliver_stats	ds;
	struct store_delivery	d;

	backlog_after_outage();
	/* The receiver is back: a2 goes through, and the backlog follows in
	 * the same round, oldest first, instead of five minutes later. */
	deliver(T0 + 9, &ds);
	ck_assert_uint_eq(ds.delivered, 3);
	ck_assert_uint_eq(n_sent, 8);
	ck_assert_str_eq(sent[5].id, "a2");
	ck_assert_str_eq(sent[6].id, "a1");
	ck_assert_str_eq(sent[7].id, "a1b");
	d = get("a1", "hook");
	ck_assert_int_eq(d.state, DELIVERY_DELIVERED);
	ck_assert_int_eq(d.attempts, 3);
	store_delivery_done(&d);
	/* A dead letter stays one: only --retry brings it back. */
	ck_assert_int_eq(state_of("a0", "hook"), DELIVERY_FAILED);
	ck_assert_int_eq(outbox_next_delivery_in(&p, T0 + 9), -1);
}
END_TEST

START_TEST(test_recovery_flush_rate_limited)
{
	struct deliver_stats	ds;
	struct store_delivery	d;

	cs[0].rate_per_second = 1;
	sinks_open();
	backlog_after_outage();
	deliver(T0 + 9, &ds);
	/* Flood control stays in charge: one a second, in order, and the
	 * wait is no attempt. */
	ck_assert_uint_eq(n_sent, 6);
	ck_assert_str_eq(sent[5].id, "a2");
	d = get("a1", "hook");
	ck_assert_int_eq(d.state, DELIVERY_PENDING);
	ck_assert_int_eq(d.attempts, 2);
	ck_assert_int_le(d.next_attempt, T0 + 10);
	store_delivery_done(&d);
	deliver(T0 + 10, &ds);
	ck_assert_uint_eq(n_sent, 7);
	ck_assert_str_eq(sent[6].id, "a1");
	deliver(T0 + 11, &ds);
	ck_assert_uint_eq(n_sent, 8);
	ck_assert_str_eq(sent[7].id, "a1b");
	ck_assert_int_eq(outbox_next_delivery_in(&p, T0 + 11), -1);
}
END_TEST

START_TEST(test_no_flush_while_failing)
{
	struct deliver_stats	ds;

	backlog_after_outage();
	/* Still failing: the backlog keeps its schedule. */
	script[n_script++] = (struct sink_outcome){ .result = SINK_RETRY, .error = "HTTP 503" };
	deliver(T0 + 9, &ds);
	ck_assert_uint_eq(n_sent, 6);
	ck_assert_uint_eq(ds.delivered, 0);
	ck_assert_int_eq(outbox_next_delivery_in(&p, T0 + 9), 5);
	ck_assert_int_eq(state_of("a1", "hook"), DELIVERY_PENDING);
}
END_TEST

START_TEST(test_hurry_pending)
{
	struct deliver_stats	ds;
	struct store_delivery	d;
	struct fw_error		e;

	backlog_after_outage();
	/* --retry ID on a pending delivery: due now, its attempts kept. */
	ck_assert_int_eq(store_deliveries_hurry(p.store, NULL, "a1", T0 + 9, &e), 1);
	ck_assert_int_eq(store_deliveries_hurry(p.store, NULL, "a1", T0 + 9, &e), 0);
	ck_assert_int_eq(store_deliveries_hurry(p.store, NULL, "a0", T0 + 9, &e), 0);
	ck_assert_int_eq(store_deliveries_hurry(p.store, "mail", NULL, T0 + 9, &e), 0);
	ck_assert_int_eq(outbox_next_delivery_in(&p, T0 + 9), 0);
	d = get("a1", "hook");
	ck_assert_int_eq(d.attempts, 2);
	store_delivery_done(&d);
	/* --retry all: every pending one, never a dead letter or a held one. */
	ck_assert_int_eq(store_deliveries_hurry(p.store, NULL, NULL, T0 + 9, &e), 1);
	ck_assert_int_eq(state_of("a0", "hook"), DELIVERY_FAILED);
	sinks[0].backlog_clear = true;	/* no flush: only the hurry counts */
	deliver(T0 + 9, &ds);
	ck_assert_uint_eq(ds.delivered, 3);
	ck_assert_str_eq(sent[5].id, "a1");
	ck_assert_str_eq(sent[6].id, "a1b");
	ck_assert_str_eq(sent[7].id, "a2");
}
END_TEST

START_TEST(test_schedule_per_sink)
{
	struct deliver_stats	ds;
	struct store_delivery	d;

	cs[0].retry[0] = 2;
	cs[0].retry[1] = 60;
	cs[0].n_retry = 2;
	ck_assert_int_eq(outbox_retry_delay(&cs[0], 1), 2);
	ck_assert_int_eq(outbox_retry_delay(&cs[0], 2), 60);
	ck_assert_int_eq(outbox_retry_delay(&cs[0], 3), -1);
	ck_assert_int_eq(outbox_retry_delay(&cs[1], 2), 300);
	for (int i = 0; i < 3; i++)
		script[n_script++] = (struct sink_outcome){ .result = SINK_RETRY, .error = "HTTP 500" };
	p.n_sinks = 1;
	add_alert("a1", "normal", T0, 1);
	deliver(T0, &ds);
	d = get("a1", "hook");
	ck_assert_int_eq(d.next_attempt, T0 + 2);	/* jitter of 2 s: 0 */
	store_delivery_done(&d);
	deliver(T0 + 2, &ds);
	d = get("a1", "hook");
	ck_assert_int_ge(d.next_attempt, T0 + 62);
	ck_assert_int_le(d.next_attempt, T0 + 68);
	deliver(d.next_attempt, &ds);
	store_delivery_done(&d);
	/* Two retries on this schedule, then a dead letter. */
	ck_assert_uint_eq(ds.failed, 1);
	ck_assert_int_eq(state_of("a1", "hook"), DELIVERY_FAILED);
}
END_TEST

START_TEST(test_rate_limit)
{
	struct deliver_stats	ds;
	struct store_delivery	d;

	cs[0].rate_per_second = 1;
	sinks_open();
	add_alert("a1", "normal", T0, 1);
	add_alert("a2", "normal", T0, 1);
	add_alert("a3", "critical", T0, 1);
	deliver(T0, &ds);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_int_eq(outbox_next_delivery_in(&p, T0), 1);
	ck_assert_int_eq(state_of("a2", "hook"), DELIVERY_PENDING);
	deliver(T0 + 1, &ds);
	deliver(T0 + 2, &ds);
	ck_assert_uint_eq(n_sent, 3);
	/* Order kept; waiting was no attempt. */
	ck_assert_str_eq(sent[1].id, "a2");
	ck_assert_str_eq(sent[2].id, "a3");
	d = get("a3", "hook");
	ck_assert_int_eq(d.attempts, 1);
	store_delivery_done(&d);
}
END_TEST

static void
assert_digest_of(size_t i, const char *const *ids, size_t n)
{
	json_t *o = json_loads(sent[i].json, 0, NULL), *alerts = json_object_get(o, "alerts");

	ck_assert(sent[i].digest);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_is_true(json_object_get(o, "digest")));
	ck_assert_str_eq(json_string_value(json_object_get(o, "id")), sent[i].id);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "count")), (json_int_t)n);
	ck_assert_uint_eq(json_array_size(alerts), n);
	for (size_t k = 0; k < n; k++)
		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(alerts, k), "id")),
		    ids[k]);
	json_decref(o);
}

START_TEST(test_budget_overflow_digest)
{
	static const char *const held[] = { "a3", "a4", "a5" };
	struct deliver_stats	 ds;
	struct fw_error		 e;
	int64_t			*times = NULL;
	size_t			 n = 0;
	char			 id[33];

	cs[0].hourly_budget = 2;
	sinks_open();
	for (int i = 1; i <= 5; i++) {
		char name[8];

		snprintf(name, sizeof(name), "a%d", i);
		add_alert(name, "normal", T0 + i, 1);
	}
	add_alert("a6", "critical", T0 + 6, 1);
	deliver(T0 + 10, &ds);
	ck_assert_uint_eq(ds.delivered, 3);	/* a1, a2 and the critical a6 */
	ck_assert_uint_eq(ds.held, 3);
	ck_assert_int_eq(state_of("a3", "hook"), DELIVERY_HELD);
	ck_assert_str_eq(sent[2].id, "a6");
	/* Held until the first send of the hour is an hour old. */
	ck_assert_int_eq(outbox_next_delivery_in(&p, T0 + 10), 3600);
	deliver(T0 + 3609, &ds);
	ck_assert_uint_eq(n_sent, 3);
	deliver(T0 + 3610, &ds);
	ck_assert_uint_eq(n_sent, 4);
	ck_assert_uint_eq(ds.digests, 1);
	ck_assert_uint_eq(ds.delivered, 3);
	assert_digest_of(3, held, 3);
	outbox_digest_id("hook", held, 3, id);
	ck_assert_str_eq(sent[3].id, id);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(state_of(held[i], "hook"), DELIVERY_DIGESTED);
	/* The digest counts once against the budget; the store tells a
	 * restarted daemon what was sent. */
	ck_assert_int_eq(store_deliveries_sent_times(p.store, "hook", T0, 100,
	    &times, &n, &e), 0);
	ck_assert_uint_eq(n, 4);	/* a1, a2, a6, the digest */
	ck_assert_int_eq(times[0], T0 + 3610);
	free(times);
}
END_TEST

START_TEST(test_budget_survives_restart)
{
	struct deliver_stats ds;

	cs[0].hourly_budget = 1;
	sinks_open();
	add_alert("a1", "normal", T0, 1);
	deliver(T0, &ds);
	ck_assert_uint_eq(ds.delivered, 1);
	/* A new flood state, as after a restart: the hour is remembered. */
	sinks_open();
	add_alert("a2", "normal", T0 + 5, 1);
	deliver(T0 + 5, &ds);
	ck_assert_uint_eq(ds.held, 1);
	ck_assert_int_eq(state_of("a2", "hook"), DELIVERY_HELD);
	/* A digest of one is just the alert. */
	deliver(T0 + 3600, &ds);
	ck_assert_uint_eq(n_sent, 2);
	ck_assert(!sent[1].digest);
	ck_assert_str_eq(sent[1].id, "a2");
	ck_assert_int_eq(state_of("a2", "hook"), DELIVERY_DELIVERED);
}
END_TEST

START_TEST(test_digest_mode_and_bypass)
{
	static const char *const ids[] = { "a1", "a2" };
	struct deliver_stats	 ds;
	int64_t			 slot = (T0 / 1800 + 1) * 1800;

	cs[0].digest_interval = 1800;
	sinks_open();
	add_alert("a1", "normal", T0, 2);
	add_alert("a2", "high", T0 + 1, 2);
	add_alert("a3", "critical", T0 + 2, 1);
	deliver(T0 + 2, &ds);
	/* mail has no flood control; hook sends only the critical one. */
	ck_assert_uint_eq(ds.delivered, 3);
	ck_assert_uint_eq(ds.held, 2);
	ck_assert_str_eq(sent[n_sent - 1].id, "a3");
	ck_assert_int_eq(outbox_next_delivery_in(&p, T0 + 2), slot - T0 - 2);
	deliver(slot, &ds);
	ck_assert_uint_eq(n_sent, 4);
	assert_digest_of(3, ids, 2);
}
END_TEST

START_TEST(test_digest_repeated_after_failure)
{
	static const char *const first[] = { "a1", "a2" };
	struct deliver_stats	 ds;
	struct store_delivery	 d;
	int64_t			 slot = (T0 / 600 + 1) * 600;
	char			*first_id;

	cs[0].digest_interval = 600;
	sinks_open();
	add_alert("a1", "normal", T0, 1);
	add_alert("a2", "normal", T0 + 1, 1);
	deliver(T0 + 1, &ds);
	script[n_script++] = (struct sink_outcome){ .result = SINK_RETRY, .error = "down" };
	deliver(slot, &ds);
	ck_assert_uint_eq(ds.retrying, 2);
	ck_assert_uint_eq(n_sent, 1);
	first_id = sent[0].id;
	d = get("a1", "hook");
	ck_assert_int_eq(d.state, DELIVERY_HELD);
	ck_assert_str_eq(d.digest_id, first_id);
	ck_assert_int_eq(d.attempts, 1);
	ck_assert_int_ge(d.next_attempt, slot + 5);
	store_delivery_done(&d);
	/* A new alert meanwhile waits for its own slot ... */
	add_alert("a3", "normal", slot + 2, 1);
	deliver(slot + 2, &ds);
	ck_assert_int_eq(state_of("a3", "hook"), DELIVERY_HELD);
	/* ... and the retry carries exactly the first digest again. */
	deliver(slot + 600, &ds);
	ck_assert_uint_eq(n_sent, 3);
	ck_assert_str_eq(sent[1].id, first_id);
	assert_digest_of(1, first, 2);
	ck_assert_str_eq(sent[2].id, "a3");
	ck_assert(!sent[2].digest);
	ck_assert_int_eq(state_of("a1", "hook"), DELIVERY_DIGESTED);
	ck_assert_int_eq(state_of("a3", "hook"), DELIVERY_DELIVERED);
}
END_TEST

/* One oversized alert in a digest: the digest is sent as its alerts one
 * by one, the oversized one fails for good at once, and its neighbours
 * are delivered (they used to be retried with it until all were dead). */
START_TEST(test_digest_unbuildable_member)
{
	struct deliver_stats	 ds;
	struct store_delivery	 d;
	int64_t			 slot = (T0 / 600 + 1) * 600;

	cs[0].digest_interval = 600;
	sinks_open();
	too_big = "title huge";
	add_alert("a1", "normal", T0, 1);
	add_alert("huge", "normal", T0 + 1, 1);
	add_alert("a3", "normal", T0 + 2, 1);
	deliver(T0 + 2, &ds);
	ck_assert_uint_eq(ds.held, 3);
	deliver(slot, &ds);
	/* The digest, then each alert alone. */
	ck_assert_uint_eq(n_sent, 4);
	ck_assert(sent[0].digest);
	ck_assert(!sent[1].digest && !sent[2].digest && !sent[3].digest);
	ck_assert_int_eq(state_of("a1", "hook"), DELIVERY_DELIVERED);
	ck_assert_int_eq(state_of("a3", "hook"), DELIVERY_DELIVERED);
	d = get("huge", "hook");
	ck_assert_int_eq(d.state, DELIVERY_FAILED);
	ck_assert_ptr_nonnull(strstr(d.last_error, "cannot be built"));
	store_delivery_done(&d);
	/* A single alert that cannot be built fails at once, without retries. */
	add_alert("huge2", "critical", slot + 1, 1);
	deliver(slot + 1, &ds);
	ck_assert_uint_eq(ds.failed, 1);
	ck_assert_uint_eq(ds.retrying, 0);
	ck_assert_int_eq(state_of("huge2", "hook"), DELIVERY_FAILED);
}
END_TEST

START_TEST(test_quiet_hours_digest)
{
	struct deliver_stats	ds;
	int64_t			midnight = T0 - T0 % 86400 + 86400;

	/* Quiet 22:00-07:00 UTC; T0 is 22:13 UTC. */
	cs[0].quiet_start_min = 22 * 60;
	cs[0].quiet_end_min = 7 * 60;
	sinks_open();
	add_alert("a1", "normal", T0, 1);
	add_alert("a2", "low", T0 + 60, 1);
	deliver(T0 + 60, &ds);
	ck_assert_uint_eq(ds.held, 2);
	ck_assert_uint_eq(n_sent, 0);
	ck_assert_int_eq(outbox_next_delivery_in(&p, T0 + 60), midnight + 7 * 3600 - T0 - 60);
	deliver(midnight + 7 * 3600, &ds);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert(sent[0].digest);
}
END_TEST

START_TEST(test_prune_settled)
{
	struct deliver_stats	 ds;
	struct fw_error		 e;
	int64_t			 old = T0 - 100 * 86400;

	add_alert("old-done", "normal", old, 1);
	add_alert("old-pending", "normal", old, 2);
	add_alert("new-done", "normal", T0, 1);
	ck_assert_int_eq(store_delivery_update(p.store, "old-done", "hook", DELIVERY_DELIVERED,
	    1, old, NULL, old, &e), 0);
	ck_assert_int_eq(store_delivery_update(p.store, "old-pending", "hook", DELIVERY_DELIVERED,
	    1, old, NULL, old, &e), 0);
	ck_assert_int_eq(store_delivery_update(p.store, "old-pending", "mail", DELIVERY_PENDING,
	    3, T0 + 9999, "down", old, &e), 0);
	ck_assert_int_eq(store_delivery_update(p.store, "new-done", "hook", DELIVERY_DELIVERED,
	    1, T0, NULL, T0, &e), 0);
	ck_assert_int_eq(store_alerts_prune(p.store, T0 - 90 * 86400, &e), 1);
	/* Gone with its deliveries; the unsettled one and the recent one stay. */
	ck_assert_int_eq(state_of("old-pending", "hook"), DELIVERY_DELIVERED);
	ck_assert_int_eq(state_of("new-done", "hook"), DELIVERY_DELIVERED);
	ck_assert_int_eq(store_alerts_prune(p.store, T0 - 90 * 86400, &e), 0);
	/* The same story again after that is news again. */
	add_alert("old-done", "normal", T0 + 1, 1);
	deliver(T0 + 1, &ds);
	ck_assert_uint_eq(ds.delivered, 1);
}
END_TEST

/* `retention:` decides when settled alerts go. */
START_TEST(test_prune_follows_retention)
{
	struct deliver_stats	 ds;
	struct fw_error		 e;

	/* Later than any other test: the outbox prunes at most once an
	 * hour, and without fork (valgrind) the tests share that clock. */
	int64_t now = T0 + 1000 * 86400;

	conf.retention = 7 * 86400;
	add_alert("week-old", "normal", now - 8 * 86400, 1);
	add_alert("day-old", "normal", now - 86400, 1);
	ck_assert_int_eq(store_delivery_update(p.store, "week-old", "hook", DELIVERY_DELIVERED,
	    1, now, NULL, now, &e), 0);
	ck_assert_int_eq(store_delivery_update(p.store, "day-old", "hook", DELIVERY_DELIVERED,
	    1, now, NULL, now, &e), 0);
	deliver(now, &ds);
	ck_assert_int_eq(store_alert_find(p.store, "week-old", &(char *){ NULL }, &e), 0);
	ck_assert_int_eq(state_of("day-old", "hook"), DELIVERY_DELIVERED);
}
END_TEST

/* A sink that takes batches gets a page of the due list (2,000) in one
 * call, in order; the outcomes are recorded together. */
START_TEST(test_batch_sink)
{
	struct deliver_stats	ds;
	char			id[32];

	sinks[0].ops = &batch_ops;
	for (int i = 0; i < 2100; i++) {
		snprintf(id, sizeof(id), "b%04d", i);
		add_alert(id, "normal", T0 + i / 100, 1);
	}
	deliver(T0 + 30, &ds);
	ck_assert_uint_eq(ds.delivered, 2100);
	ck_assert_uint_eq(n_batches, 2);
	ck_assert_uint_eq(batch_sizes[0], 2000);
	ck_assert_uint_eq(batch_sizes[1], 100);
	for (size_t i = 0; i < 2100; i++) {
		snprintf(id, sizeof(id), "b%04zu", i);
		ck_assert_str_eq(sent[i].id, id);
	}
	ck_assert_int_eq(state_of("b2099", "hook"), DELIVERY_DELIVERED);
	/* Nothing more due. */
	deliver(T0 + 20, &ds);
	ck_assert_uint_eq(ds.delivered, 0);
}
END_TEST

/* One alert of a batch that cannot be written waits for its retry, the
 * others are delivered; a batch that fails as a whole is retried whole. */
START_TEST(test_batch_sink_failures)
{
	struct deliver_stats	ds;
	struct store_delivery	d;

	sinks[0].ops = &batch_ops;
	add_alert("x1", "normal", T0, 1);
	add_alert("x2", "normal", T0, 1);
	add_alert("x3", "normal", T0, 1);
	script[1] = (struct sink_outcome){ .result = SINK_RETRY, .error = "disk full" };
	script[0].result = script[2].result = SINK_DELIVERED;
	n_script = 3;
	deliver(T0, &ds);
	ck_assert_uint_eq(ds.delivered, 2);
	ck_assert_uint_eq(ds.retrying, 1);
	d = get("x2", "hook");
	ck_assert_int_eq(d.state, DELIVERY_PENDING);
	ck_assert_int_eq(d.attempts, 1);
	ck_assert_str_eq(d.last_error, "disk full");
	store_delivery_done(&d);

	add_alert("y1", "normal", T0 + 100, 1);
	batch_rc = -ENOMEM;
	deliver(T0 + 100, &ds);
	ck_assert_uint_eq(ds.delivered, 0);
	ck_assert_uint_eq(ds.retrying, 2);
	ck_assert_int_eq(state_of("y1", "hook"), DELIVERY_PENDING);
	batch_rc = 0;
	deliver(T0 + 1000, &ds);
	ck_assert_uint_eq(ds.delivered, 2);
	ck_assert_int_eq(state_of("x2", "hook"), DELIVERY_DELIVERED);
	ck_assert_int_eq(state_of("y1", "hook"), DELIVERY_DELIVERED);
}
END_TEST

/* When the round's outcomes cannot be written, none is, and every
 * delivery is attempted again: at least once, nothing lost. */
START_TEST(test_failed_record_redelivers)
{
	struct deliver_stats	 ds;
	struct fw_error		 e;
	sqlite3			*db;
	char			 path[512];
	int64_t			 pending = 0;

	/* Once the sinks have delivered, nothing is written before the end
	 * of the page. */
	add_alert("r0", "normal", T0, 2);
	deliver(T0, &ds);
	ck_assert_uint_eq(ds.delivered, 2);
	for (size_t i = 0; i < n_sent; i++) {
		free(sent[i].id);
		free(sent[i].json);
	}
	n_sent = 0;
	add_alert("r1", "normal", T0, 2);
	add_alert("r2", "normal", T0, 2);
	snprintf(path, sizeof(path), "%s/state.db", tmp);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TRIGGER refuse BEFORE UPDATE ON deliveries"
	    " WHEN NEW.alert_id = 'r2' BEGIN SELECT RAISE(ABORT, 'disk full'); END",
	    NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_lt(outbox_deliver_due(&p, T0, &ds), 0);
	ck_assert_uint_eq(n_sent, 4);
	ck_assert_int_eq(state_of("r1", "hook"), DELIVERY_PENDING);
	ck_assert_int_eq(state_of("r1", "mail"), DELIVERY_PENDING);
	ck_assert_int_eq(store_deliveries_count(p.store, DELIVERY_PENDING, &pending, &e), 0);
	ck_assert_int_eq(pending, 4);
	ck_assert_int_eq(sqlite3_exec(db, "DROP TRIGGER refuse", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	deliver(T0 + 1, &ds);
	ck_assert_uint_eq(ds.delivered, 4);
	ck_assert_uint_eq(n_sent, 8);
	ck_assert_int_eq(state_of("r1", "hook"), DELIVERY_DELIVERED);
	ck_assert_int_eq(state_of("r2", "mail"), DELIVERY_DELIVERED);
}
END_TEST

/* Deliveries one by one (a webhook) are recorded every 500 within a page:
 * a failure to record the next ones leaves only those to repeat. */
START_TEST(test_record_every_500)
{
	struct deliver_stats	 ds;
	struct fw_error		 e;
	sqlite3			*db;
	char			 path[512], id[32];
	int64_t			 n;

	for (int i = 0; i < 600; i++) {
		snprintf(id, sizeof(id), "w%04d", i);
		add_alert(id, "normal", T0, 1);
	}
	snprintf(path, sizeof(path), "%s/state.db", tmp);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TRIGGER refuse BEFORE UPDATE ON deliveries"
	    " WHEN NEW.alert_id = 'w0550' BEGIN SELECT RAISE(ABORT, 'disk full'); END",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_lt(outbox_deliver_due(&p, T0, &ds), 0);
	ck_assert_int_eq(store_deliveries_count(p.store, DELIVERY_DELIVERED, &n, &e), 0);
	ck_assert_int_eq(n, 500);
	ck_assert_int_eq(state_of("w0499", "hook"), DELIVERY_DELIVERED);
	ck_assert_int_eq(state_of("w0500", "hook"), DELIVERY_PENDING);
}
END_TEST

/* A receiver's Retry-After pause and the rate limit's tokens outlive a
 * restart (a new struct flood over the same state file). */
START_TEST(test_flood_state_survives_restart)
{
	struct deliver_stats	ds;

	cs[0].rate_per_second = 0.01;	/* one message per 100 s */
	cs[1].rate_per_second = 0;
	sinks_open();
	add_alert("f1", "normal", T0, 1);
	add_alert("f2", "normal", T0, 1);
	deliver(T0, &ds);
	ck_assert_uint_eq(ds.delivered, 1);
	/* Restart: the bucket is still empty, a new alert waits for a token
	 * as f2 does. */
	sinks_open();
	add_alert("f2b", "normal", T0 + 10, 1);
	deliver(T0 + 10, &ds);
	ck_assert_uint_eq(ds.delivered, 0);
	ck_assert_int_eq(state_of("f2", "hook"), DELIVERY_PENDING);
	ck_assert_int_eq(state_of("f2b", "hook"), DELIVERY_PENDING);
	deliver(T0 + 101, &ds);
	ck_assert_uint_eq(ds.delivered, 1);

	/* The receiver asks for an hour's pause; after a restart, still. */
	add_alert("f3", "normal", T0 + 300, 2);
	script[0] = (struct sink_outcome){ .result = SINK_RETRY, .retry_after = 3600,
	    .error = "HTTP 429" };
	n_script = 1;
	script_pos = 0;
	deliver(T0 + 300, &ds);
	ck_assert_int_eq(state_of("f3", "hook"), DELIVERY_PENDING);
	ck_assert_int_eq(state_of("f3", "mail"), DELIVERY_DELIVERED);
	cs[0].rate_per_second = 0;
	sinks_open();
	/* A new alert to the paused receiver waits too. */
	add_alert("f4", "normal", T0 + 400, 1);
	deliver(T0 + 400, &ds);
	ck_assert_uint_eq(ds.delivered, 0);
	ck_assert_int_eq(state_of("f3", "hook"), DELIVERY_PENDING);
	ck_assert_int_eq(state_of("f4", "hook"), DELIVERY_PENDING);
	deliver(T0 + 300 + 4000, &ds);	/* past the jitter of the retry */
	ck_assert_uint_eq(ds.delivered, 3);	/* f2b, f3 and f4 */
}
END_TEST

static Suite *
outbox_suite(void)
{
	Suite	*s = suite_create("outbox");
	TCase	*tc;

	tc = tcase_create("retry");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_schedule_table);
	tcase_add_test(tc, test_delivered_once);
	tcase_add_test(tc, test_retries_then_dead_letter);
	tcase_add_test(tc, test_retry_after_honoured);
	tcase_add_test(tc, test_retry_after_pauses_the_sink);
	tcase_add_test(tc, test_gone_permanent_and_requeue);
	tcase_add_test(tc, test_sink_removed);
	tcase_add_test(tc, test_prune_settled);
	tcase_add_test(tc, test_down_sink_skipped_for_the_round);
	tcase_add_test(tc, test_recovery_flush);
	tcase_add_test(tc, test_recovery_flush_rate_limited);
	tcase_add_test(tc, test_no_flush_while_failing);
	tcase_add_test(tc, test_hurry_pending);
	tcase_add_test(tc, test_schedule_per_sink);
	tcase_add_test(tc, test_prune_follows_retention);
	tcase_add_test(tc, test_batch_sink);
	tcase_add_test(tc, test_batch_sink_failures);
	tcase_add_test(tc, test_failed_record_redelivers);
	tcase_add_test(tc, test_record_every_500);
	tcase_add_test(tc, test_flood_state_survives_restart);
	suite_add_tcase(s, tc);

	tc = tcase_create("flood");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rate_limit);
	tcase_add_test(tc, test_budget_overflow_digest);
	tcase_add_test(tc, test_budget_survives_restart);
	tcase_add_test(tc, test_digest_mode_and_bypass);
	tcase_add_test(tc, test_digest_repeated_after_failure);
	tcase_add_test(tc, test_digest_unbuildable_member);
	tcase_add_test(tc, test_quiet_hours_digest);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	setenv("TZ", "UTC", 1);
	tzset();
	sr = srunner_create(outbox_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
