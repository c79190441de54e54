/* outbox.c — delivery of queued alerts to the sinks: each (alert, sink) pair
 * is attempted when due, retried on the documented schedule with jitter,
 * and becomes a dead letter when retries run out or the receiver refuses
 * for good. Flood control (flood.c) may make a delivery wait, or hold it
 * for the sink's next digest, which is sent as one message.
 *
 * Crash safety: the store is the only state. A delivery's outcome is written
 * after the attempt, so a kill between the two repeats the attempt (at least
 * once, same id). The outcomes of a page of the due list are written
 * in one transaction after the page (or sooner, see OUTBOX_RECORD_MAX),
 * and always before the due list is read again: a kill repeats at most
 * that page. A digest's membership is committed before it is
 * sent, so a repeated digest carries the same alerts under the same id.
 * Reads and writes only the store's outbox tables; logs delivery outcomes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "buf.h"
#include "flood.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "outbox.h"
#include "parse.h"
#include "safe.h"

/* Deliveries read from the due list together (a log sink gets them with
 * one write); their outcomes are written in one transaction at the end of
 * the page, or sooner once OUTBOX_RECORD_MAX of them or a second's worth
 * wait, so that a crash repeats few deliveries to a slow receiver.
 * bench/deliver/RESULTS.md has the figures. */
#define OUTBOX_DELIVERY_BATCH	2000
#define OUTBOX_RECORD_MAX	500
#define OUTBOX_RECORD_MS	1000
#define OUTBOX_DIGEST_MAX	500	/* alerts in one digest message */
/* One call delivers for at most this long, so a slow receiver cannot keep
 * the daemon from polling (or from noticing SIGTERM) for long; what is left
 * stays due for the next call. */
#define OUTBOX_ROUND_BUDGET_MS	20000
/* Settled alerts are kept for `retention:` for `feedwatch alerts`, then
 * pruned (at most once an hour), so the outbox does not grow for ever. */
#define OUTBOX_PRUNE_EVERY	3600

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One call of outbox_deliver_due(). */
struct round {
	int64_t			 now;
	int64_t			 deadline_ms;	/* CLOCK_MONOTONIC */
	/* Sinks that failed once this round: not tried again until the next,
	 * so an unreachable receiver costs one timeout per round, not one
	 * per alert. Indexed like p->sinks. */
	bool			*down;
	/* A sink's backlog was made due: read the due list again. */
	bool			 hurried;
	struct deliver_stats	*stats;
	/* Outcomes not written yet (owned strings): round_flush() writes
	 * them in one transaction. */
	struct store_delivery_change	*changes;
	size_t				 n_changes, cap_changes;
	int64_t				 first_change_ms;	/* of the oldest */
	/* Deliveries of the page for sinks that take a batch, in order
	 * (borrowed from the page). */
	struct store_delivery		**queued;
	size_t				 n_queued;
};

/* Notes the new state of delivery d, to be written by round_flush(). */
static int
round_note(struct round *rd, const struct store_delivery *d, enum delivery_state state,
    int attempts, int64_t next, const char *error)
{
	struct store_delivery_change *c;

	if (rd->n_changes == rd->cap_changes) {
		size_t	cap = rd->cap_changes ? rd->cap_changes * 2 : 64;
		void	*nv = reallocarray(rd->changes, cap, sizeof(*rd->changes));

		if (nv == NULL)
			return -ENOMEM;
		rd->changes = nv;
		rd->cap_changes = cap;
	}
	if (rd->n_changes == 0)
		rd->first_change_ms = mono_ms();
	c = &rd->changes[rd->n_changes];
	*c = (struct store_delivery_change){ .state = state, .attempts = attempts,
	    .next_attempt = next };
	c->alert_id = strdup(d->alert_id);
	c->sink = strdup(d->sink);
	c->last_error = error != NULL ? strdup(error) : NULL;
	if (c->alert_id == NULL || c->sink == NULL || (error != NULL && c->last_error == NULL)) {
		free((char *)c->alert_id);
		free((char *)c->sink);
		free((char *)c->last_error);
		return -ENOMEM;
	}
	rd->n_changes++;
	return 0;
}

static void
round_forget(struct round *rd)
{
	for (size_t i = 0; i < rd->n_changes; i++) {
		free((char *)rd->changes[i].alert_id);
		free((char *)rd->changes[i].sink);
		free((char *)rd->changes[i].last_error);
	}
	rd->n_changes = 0;
}

/* Writes the noted outcomes in one transaction. On failure none is
 * written: those deliveries stay due and are attempted again. */
static int
round_flush(struct pipeline *p, struct round *rd, struct fw_error *e)
{
	int r = store_deliveries_record(p->store, rd->changes, rd->n_changes, rd->now, e);

	round_forget(rd);
	return r;
}

int64_t
outbox_retry_delay(const struct conf_sink *cs, int attempt)
{
	/* After the first (immediate) attempt: 5 s, 5 min, 30 min, 2 h, 5 h,
	 * 10 h, 10 h — the schedule Svix documents — then a dead letter. */
	static const int64_t fallback[] = { 5, 300, 1800, 7200, 18000, 36000, 36000 };
	const int64_t	*schedule = fallback;
	size_t		 n = sizeof(fallback) / sizeof(fallback[0]);

	if (cs != NULL && cs->n_retry > 0) {
		schedule = cs->retry;
		n = cs->n_retry;
	}
	if (attempt < 1 || (size_t)attempt > n)
		return -1;
	return schedule[attempt - 1];
}

void
outbox_digest_id(const char *sink, const char *const *alert_ids, size_t n, char out[33])
{
	struct buf b;

	buf_init(&b, (size_t)-1);
	if (buf_printf(&b, "digest\n%s", sink) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (buf_printf(&b, "\n%s", alert_ids[i]) < 0)
			goto out;
out:
	/* On OOM the prefix still gives an id; uniqueness suffers, not safety. */
	alert_hash_hex(b.data != NULL ? b.data : sink, out);
	buf_done(&b);
}

/* The index of the sink named name in p->sinks, or -1. */
static ssize_t
sink_index(struct pipeline *p, const char *name)
{
	for (size_t i = 0; i < p->n_sinks; i++)
		if (strcmp(p->sinks[i]->conf->name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static enum severity
alert_severity(const char *json)
{
	json_t		*o = json_loads(json, 0, NULL);
	enum severity	 sev = SEVERITY_NORMAL;

	if (o != NULL)
		(void)severity_from_string(sink_json_str(o, "severity"), &sev);
	json_decref(o);
	return sev;
}

/* Restores the sink's flood state from the store, and seeds its hourly
 * budget from the deliveries (once, after a start). */
static int
flood_prime(struct pipeline *p, struct sink *s, int64_t now, struct fw_error *e)
{
	struct store_sink_flood	 saved;
	int64_t			*times = NULL;
	size_t			 n = 0;
	int			 r;

	if (!s->flood_loaded) {
		if ((r = store_sink_flood_get(p->store, s->conf->name, &saved, e)) < 0)
			return r;
		if (r > 0)
			flood_set_state(s->flood, &(struct flood_state){ .tokens = saved.tokens,
			    .refilled = saved.refilled, .blocked_until = saved.blocked_until });
		s->flood_loaded = true;
	}
	if (!flood_needs_history(s->flood))
		return 0;
	r = store_deliveries_sent_times(p->store, s->conf->name, now - 3600,
	    (size_t)flood_budget(s->flood), &times, &n, e);
	if (r < 0)
		return r;
	flood_load_history(s->flood, times, n);
	free(times);
	return 0;
}

/* Writes the outcome of one attempt for the deliveries v[0..n) (one alert,
 * or the members of one digest) and logs it. what names the message. */
static int
record_outcome(struct pipeline *p, struct sink *s, struct store_delivery *v, size_t n,
    bool digest, const char *what, struct sink_outcome *out, struct round *rd,
    struct fw_error *e)
{
	struct deliver_stats	*stats = rd->stats;
	int64_t			 now = rd->now;
	enum delivery_state	 state;
	const char		*sink = v[0].sink;
	/* journalctl ALERT_ID=... finds what happened to one alert. */
	const struct log_field	*ids = LOG_FIELDS({ "ALERT_ID", n == 1 ? v[0].alert_id : NULL },
				    { "SINK", sink });
	int64_t			 next = now, delay;
	int			 attempts = 0, r;
	char			*shown = safe_redact(out->error);

	/* deliveries.last_error and the log: no webhook token, no password
	 * a receiver's URL or reply carried (safe.h). */
	if (shown != NULL) {
		snprintf(out->error, sizeof(out->error), "%s", shown);
		free(shown);
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].attempts > attempts)
			attempts = v[i].attempts;
	attempts++;
	switch (out->result) {
	case SINK_DELIVERED:
		state = digest ? DELIVERY_DIGESTED : DELIVERY_DELIVERED;
		stats->delivered += n;
		if (digest)
			stats->digests++;
		if (s != NULL)
			flood_note_sent(s->flood, now);
		/* The receiver is back: what waits for a retry goes now, in
		 * order, not minutes later (deliver_pending() keeps it within
		 * flood control). The round's next page picks it up. */
		if (s != NULL && !s->backlog_clear) {
			/* What this round did so far is written first: hurry
			 * reads the pending deliveries. */
			if ((r = round_flush(p, rd, e)) < 0 ||
			    (r = store_deliveries_hurry(p->store, sink, NULL, now, e)) < 0)
				return r;
			if (r > 0)
				log_info("sink '%s' accepts again: %d waiting %s due now", sink,
				    r, r == 1 ? "delivery is" : "deliveries are");
			s->backlog_clear = true;
		}
		/* After failures the user wants to hear the end of the story,
		 * under the same ALERT_ID the failures were logged with. */
		if (attempts > 1)
			log_struct(LOG_LEVEL_NOTICE, ids, "%s to sink '%s': delivered after "
			    "%d attempts", what, sink, attempts);
		else
			log_debug("%s to sink '%s': delivered", what, sink);
		break;
	case SINK_RETRY:
		if (s != NULL)
			s->backlog_clear = false;
		delay = outbox_retry_delay(s != NULL ? s->conf : NULL, attempts);
		if (delay < 0) {
			state = DELIVERY_FAILED;
			stats->failed += n;
			log_struct(LOG_LEVEL_WARNING, ids,
			    "%s to sink '%s': %s; giving up after %d attempts "
			    "(see feedwatch alerts --failed)", what, sink, out->error, attempts);
			break;
		}
		if (out->retry_after > delay)
			delay = out->retry_after;
		delay += (int64_t)(random() % (delay / 10 + 1));
		next = now + delay;
		state = digest ? DELIVERY_HELD : DELIVERY_PENDING;
		stats->retrying += n;
		log_struct(LOG_LEVEL_WARNING, ids,
		    "%s to sink '%s': %s; retry %d in %llds", what, sink, out->error,
		    attempts, (long long)delay);
		break;
	case SINK_GONE:
		state = DELIVERY_GONE;
		stats->failed += n;
		log_struct(LOG_LEVEL_WARNING, ids,
		    "%s to sink '%s': %s: the receiver no longer wants it; "
		    "not retrying (see feedwatch alerts --failed)", what, sink, out->error);
		break;
	case SINK_PERMANENT:
	default:
		state = DELIVERY_FAILED;
		stats->failed += n;
		log_struct(LOG_LEVEL_WARNING, ids,
		    "%s to sink '%s': %s; not retrying (see feedwatch alerts --failed)",
		    what, sink, out->error);
		break;
	}
	for (size_t i = 0; i < n; i++)
		metrics_delivery_observe(v[i].sink, out->result == SINK_DELIVERED ?
		    METRICS_DELIVERED : state == DELIVERY_PENDING || state == DELIVERY_HELD ?
		    METRICS_DELIVERY_RETRY : METRICS_DELIVERY_FAILED);
	(void)notify_watchdog();
	for (size_t i = 0; i < n; i++) {
		r = round_note(rd, &v[i], state, attempts, next,
		    state == DELIVERY_DELIVERED || state == DELIVERY_DIGESTED ? NULL : out->error);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Takes the outcome of one message to sink number si (or to no sink,
 * si < 0) and records it. */
static int
finish_msg(struct pipeline *p, ssize_t si, struct store_delivery *v, size_t n, bool digest,
    const char *what, struct sink_outcome *out, struct round *rd, struct fw_error *e)
{
	struct sink	*s = si >= 0 ? p->sinks[si] : NULL;
	bool		 was_clear = s == NULL || s->backlog_clear;
	int		 r;

	if (si >= 0 && out->result == SINK_RETRY) {
		rd->down[si] = true;
		/* "Retry-After" speaks for the receiver, not for one alert. */
		if (out->retry_after > 0)
			flood_block(s->flood, rd->now + out->retry_after);
	}
	r = record_outcome(p, s, v, n, digest, what, out, rd, e);
	if (!was_clear && s->backlog_clear)
		rd->hurried = true;
	return r;
}

/* Sends one alert, or a digest of n held alerts, to sink number si (or to
 * no sink, si < 0) and records the outcome. */
static int
send_msg(struct pipeline *p, ssize_t si, struct store_delivery *v, size_t n,
    const struct sink_msg *msg, struct round *rd, struct fw_error *e)
{
	struct sink		*s = si >= 0 ? p->sinks[si] : NULL;
	struct sink_outcome	 out = { .result = SINK_PERMANENT };
	char			 what[80];
	int			 r;

	snprintf(what, sizeof(what), "%s %s", msg->digest ? "digest" : "alert", msg->id);
	if (s == NULL)
		snprintf(out.error, sizeof(out.error),
		    "sink '%s' is no longer in the configuration", v[0].sink);
	else if ((r = sink_deliver(s, msg, &out)) == -E2BIG || r == -EINVAL) {
		/* The message cannot be built (over the sink's size, or not
		 * valid JSON): trying again builds the same. A digest is sent
		 * as its alerts one by one, so that only the alert at fault
		 * fails, never its neighbours. */
		if (msg->digest && n > 1) {
			log_warnx("%s to sink '%s': %s; sending its %zu alerts one by one",
			    what, v[0].sink, r == -E2BIG ? "too large to build" :
			    "cannot be built", n);
			for (size_t i = 0; i < n; i++) {
				struct sink_msg one = { .id = v[i].alert_id, .json = v[i].json };

				if (si >= 0 && rd->down[si])
					break;	/* the rest stay held for the next round */
				if ((r = send_msg(p, si, &v[i], 1, &one, rd, e)) < 0)
					return r;
			}
			return 0;
		}
		out.result = SINK_PERMANENT;
		snprintf(out.error, sizeof(out.error), "the alert cannot be built into a "
		    "message for this sink (%s)", r == -E2BIG ? "too large" : "invalid");
	} else if (r < 0) {
		out.result = SINK_RETRY;
		snprintf(out.error, sizeof(out.error), "%s", strerror(-r));
	}
	return finish_msg(p, si, v, n, msg->digest, what, &out, rd, e);
}

/* Sends the queued deliveries of each sink that takes a batch: one call
 * per sink (the log sink: one write), then each outcome as if sent alone. */
static int
send_queued(struct pipeline *p, struct round *rd, struct fw_error *e)
{
	struct sink_msg		*msgs = NULL;
	struct sink_outcome	*outs = NULL;
	struct store_delivery	**mine = NULL;
	int			 r = 0;

	if (rd->n_queued == 0)
		return 0;
	msgs = calloc(rd->n_queued, sizeof(*msgs));
	outs = calloc(rd->n_queued, sizeof(*outs));
	mine = calloc(rd->n_queued, sizeof(*mine));
	if (msgs == NULL || outs == NULL || mine == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t si = 0; si < p->n_sinks && r == 0; si++) {
		struct sink	*s = p->sinks[si];
		size_t		 n = 0;

		for (size_t i = 0; i < rd->n_queued; i++)
			if (strcmp(rd->queued[i]->sink, s->conf->name) == 0) {
				mine[n] = rd->queued[i];
				msgs[n] = (struct sink_msg){ .id = mine[n]->alert_id,
				    .json = mine[n]->json };
				n++;
			}
		if (n == 0)
			continue;
		if ((r = sink_deliver_batch(s, msgs, n, outs)) < 0) {
			/* Whatever was written goes again: at least once. */
			for (size_t i = 0; i < n; i++) {
				outs[i] = (struct sink_outcome){ .result = SINK_RETRY };
				snprintf(outs[i].error, sizeof(outs[i].error), "%s", strerror(-r));
			}
		}
		r = 0;
		for (size_t i = 0; i < n && r == 0; i++) {
			char what[80];

			snprintf(what, sizeof(what), "alert %s", mine[i]->alert_id);
			r = finish_msg(p, (ssize_t)si, mine[i], 1, false, what, &outs[i], rd, e);
		}
	}
out:
	rd->n_queued = 0;
	free(msgs);
	free(outs);
	free(mine);
	return r;
}

/* Leaves a delivery for later without counting an attempt. */
static int
postpone(struct round *rd, struct store_delivery *d, enum delivery_state state,
    int64_t when)
{
	return round_note(rd, d, state, d->attempts, when, d->last_error);
}

/* Returns 1 when the delivery was left due (its sink is down this round),
 * 0 when it was dealt with, or a negative errno. */
static int
deliver_pending(struct pipeline *p, struct store_delivery *d, struct round *rd,
    struct fw_error *e)
{
	ssize_t			 si = sink_index(p, d->sink);
	struct sink		*s = si >= 0 ? p->sinks[si] : NULL;
	struct sink_msg		 msg = { .id = d->alert_id, .json = d->json };
	enum flood_verdict	 verdict = FLOOD_SEND;
	int64_t			 now = rd->now, when = now;
	int			 r;

	if (si >= 0 && rd->down[si])
		return 1;

	if (s != NULL && (r = flood_prime(p, s, now, e)) < 0)
		return r;
	if (s != NULL && (flood_active(s->conf) || flood_blocked(s->flood, now)))
		verdict = flood_check(s->flood, alert_severity(d->json), now, &when);
	else if (s != NULL && sink_can_batch(s)) {
		/* Nothing to decide per alert: it goes with the page's batch. */
		rd->queued[rd->n_queued++] = d;
		return 0;
	}
	switch (verdict) {
	case FLOOD_WAIT:
		return postpone(rd, d, DELIVERY_PENDING, when);
	case FLOOD_HOLD:
		rd->stats->held++;
		log_debug("alert %s to sink '%s': held for a digest at %lld", d->alert_id,
		    d->sink, (long long)when);
		return postpone(rd, d, DELIVERY_HELD, when);
	default:
		return send_msg(p, si, d, 1, &msg, rd, e);
	}
}

/* The digest message of v[0..n): {"id", "created", "digest", "count", "alerts"}. */
static char *
digest_json(const char *id, struct store_delivery *v, size_t n, int64_t now)
{
	json_t	*o, *alerts = json_array();
	char	 created[40], *s = NULL;

	fw_time_format(now, created, sizeof(created));
	o = json_pack("{s:s, s:s, s:b, s:I}", "id", id, "created", created,
	    "digest", 1, "count", (json_int_t)n);
	if (o == NULL || alerts == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_loads(v[i].json, 0, NULL);

		if (a == NULL)
			a = json_pack("{s:s}", "id", v[i].alert_id);
		if (json_array_append_new(alerts, a) < 0)
			goto out;
	}
	if (json_object_set(o, "alerts", alerts) == 0)
		s = json_dumps(o, JSON_COMPACT);
out:
	json_decref(alerts);
	json_decref(o);
	return s;
}

/* Sends the sink's due digest, if any. Returns 1 when it moved deliveries
 * (and more may be due), 0 when there is nothing (more) to do now, or a
 * negative errno. */
static int
flush_digest(struct pipeline *p, size_t si, struct round *rd, struct fw_error *e)
{
	struct sink		*s = p->sinks[si];
	int64_t			 now = rd->now;
	struct store_delivery	*v = NULL;
	struct sink_msg		 msg = { 0 };
	const char		**ids = NULL;
	char			 id[33], *json = NULL;
	size_t			 n = 0, batch;
	int64_t			 when;
	int			 r;

	if (rd->down[si])
		return 0;
	if ((r = flood_prime(p, s, now, e)) < 0)
		return r;
	r = store_deliveries_held(p->store, s->conf->name, now, OUTBOX_DIGEST_MAX, &v, &n, e);
	if (r < 0 || n == 0)
		goto out;
	if (flood_check_digest(s->flood, now, &when) == FLOOD_WAIT) {
		for (size_t i = 0; i < n && r == 0; i++)
			r = postpone(rd, &v[i], DELIVERY_HELD, when);
		goto out;
	}
	/* A digest already put together (and perhaps sent before a crash)
	 * goes again as it was: same alerts, same id. */
	batch = 1;
	if (v[0].digest_id != NULL)
		while (batch < n && v[batch].digest_id != NULL &&
		    strcmp(v[batch].digest_id, v[0].digest_id) == 0)
			batch++;
	else
		batch = n;
	if (batch == 1 && v[0].digest_id == NULL) {
		/* A digest of one is just the alert. */
		msg.id = v[0].alert_id;
		msg.json = v[0].json;
		r = send_msg(p, (ssize_t)si, v, 1, &msg, rd, e);
		r = r < 0 ? r : 1;
		goto out;
	}
	if (v[0].digest_id != NULL)
		snprintf(id, sizeof(id), "%s", v[0].digest_id);
	else {
		ids = calloc(batch, sizeof(*ids));
		if (ids == NULL) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < batch; i++)
			ids[i] = v[i].alert_id;
		outbox_digest_id(s->conf->name, ids, batch, id);
		if ((r = store_begin(p->store, e)) < 0)
			goto out;
		for (size_t i = 0; i < batch && r == 0; i++)
			r = store_delivery_set_digest(p->store, v[i].alert_id, v[i].sink, id, e);
		if (r < 0) {
			store_rollback(p->store);
			goto out;
		}
		if ((r = store_commit(p->store, e)) < 0)
			goto out;
	}
	json = digest_json(id, v, batch, now);
	if (json == NULL) {
		r = -ENOMEM;
		goto out;
	}
	msg.id = id;
	msg.json = json;
	msg.digest = true;
	r = send_msg(p, (ssize_t)si, v, batch, &msg, rd, e);
	r = r < 0 ? r : 1;
out:
	/* Written before the next read of the held deliveries. */
	if (r >= 0) {
		int r2 = round_flush(p, rd, e);

		if (r2 < 0)
			r = r2;
	}
	for (size_t i = 0; i < n; i++)
		store_delivery_done(&v[i]);
	free(v);
	free(ids);
	free(json);
	return r;
}

static int
outbox_prune(struct pipeline *p, int64_t now, struct fw_error *e)
{
	static int64_t	last;
	int		r;

	if (last != 0 && now - last < OUTBOX_PRUNE_EVERY && now >= last)
		return 0;
	last = now;
	r = store_alerts_prune(p->store, now - p->conf->retention, e);
	if (r > 0 && p->conf->retention % 86400 == 0)
		log_info("forgot %d alerts settled more than %lld days ago", r,
		    (long long)(p->conf->retention / 86400));
	else if (r > 0)
		log_info("forgot %d alerts settled more than %lld hours ago", r,
		    (long long)(p->conf->retention / 3600));
	return r < 0 ? r : 0;
}

/* Keeps the flood state that changed this round for the next start. */
static int
flood_save(struct pipeline *p, struct fw_error *e)
{
	int r = 0;

	for (size_t i = 0; i < p->n_sinks && r == 0; i++) {
		struct sink		*s = p->sinks[i];
		struct flood_state	 fs;

		if (!flood_take_changed(s->flood))
			continue;
		flood_get_state(s->flood, &fs);
		r = store_sink_flood_save(p->store, s->conf->name, &(struct store_sink_flood){
		    .tokens = fs.tokens, .refilled = fs.refilled,
		    .blocked_until = fs.blocked_until }, e);
	}
	return r;
}

int
outbox_deliver_due(struct pipeline *p, int64_t now, struct deliver_stats *stats)
{
	struct store_delivery	*v = NULL;
	struct fw_error		 e = { .msg = "" };
	struct round		 rd = { .now = now, .stats = stats };
	size_t			 n = 0, skipped = 0;
	int			 r = 0;

	rd.deadline_ms = mono_ms() + OUTBOX_ROUND_BUDGET_MS;
	rd.down = calloc(p->n_sinks + 1, sizeof(*rd.down));
	rd.queued = calloc(OUTBOX_DELIVERY_BATCH, sizeof(*rd.queued));
	if (rd.down == NULL || rd.queued == NULL) {
		free(rd.down);
		free(rd.queued);
		return -ENOMEM;
	}
	/* Due digests first: they hold the oldest alerts. */
	for (size_t i = 0; i < p->n_sinks && r >= 0; i++) {
		for (int rounds = 0; rounds < 100 && mono_ms() < rd.deadline_ms; rounds++)
			if ((r = flush_digest(p, i, &rd, &e)) <= 0)
				break;
	}
	/* Then the due deliveries in order. Those left due on purpose (their
	 * sink is down this round, or held for a digest not due) keep their
	 * place at the front of the due list: skip over them. */
	while (r >= 0 && mono_ms() < rd.deadline_ms) {
		r = store_deliveries_due_page(p->store, now, skipped, OUTBOX_DELIVERY_BATCH,
		    &v, &n, &e);
		if (r < 0)
			break;
		rd.n_queued = 0;
		for (size_t i = 0; i < n && r >= 0; i++) {
			if (mono_ms() >= rd.deadline_ms) {
				log_notice("delivery round over its time budget; the rest "
				    "goes in the next one");
				break;
			}
			if (v[i].state == DELIVERY_PENDING) {
				r = deliver_pending(p, &v[i], &rd, &e);
				if (r == 1) {
					skipped++;
					r = 0;
				}
			} else if (sink_index(p, v[i].sink) < 0) {
				/* Held for a sink that is gone from the config. */
				struct sink_msg msg = { .id = v[i].alert_id, .json = v[i].json };

				r = send_msg(p, -1, &v[i], 1, &msg, &rd, &e);
			} else
				/* Held for a sink whose digest was just flushed
				 * or postponed: nothing to do now. */
				skipped++;
			if (r >= 0 && (rd.n_changes >= OUTBOX_RECORD_MAX || (rd.n_changes > 0 &&
			    mono_ms() - rd.first_change_ms >= OUTBOX_RECORD_MS)))
				r = round_flush(p, &rd, &e);
		}
		/* The page's batches, then its outcomes in one transaction:
		 * after a failure too, what was delivered is recorded. */
		if (rd.n_queued > 0 && r >= 0)
			r = send_queued(p, &rd, &e);
		if (rd.n_changes > 0) {
			struct fw_error	e2;
			int		r2 = round_flush(p, &rd, r < 0 ? &e2 : &e);

			r = r < 0 ? r : r2;
		}
		for (size_t i = 0; i < n; i++)
			store_delivery_done(&v[i]);
		free(v);
		v = NULL;
		if (n < OUTBOX_DELIVERY_BATCH && !rd.hurried)
			break;
		rd.hurried = false;
	}
	if (rd.n_changes > 0) {
		struct fw_error	e2;
		int		r2 = round_flush(p, &rd, r < 0 ? &e2 : &e);

		r = r < 0 ? r : r2;
	}
	free(rd.changes);
	free(rd.down);
	free(rd.queued);
	if (r >= 0)
		r = flood_save(p, &e);
	if (r >= 0)
		r = outbox_prune(p, now, &e);
	if (r < 0) {
		log_errx("%s", e.msg[0] ? e.msg : strerror(-r));
		return r;
	}
	return 0;
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
