/* flood.c — flood control decisions for one sink. It answers "send, wait or
 * hold for the digest?" from the sink's settings and the times of recent
 * sends; it never touches the store or the network. The outbox asks before
 * each delivery and reports each message sent.
 *
 * Order of the rules for one alert, the first that applies wins:
 *   severity >= bypass_severity skips digest mode, quiet hours and budget;
 *   `digest: 30m` holds every alert for the next half-hour slot;
 *   quiet hours hold alerts until they end;
 *   an exhausted hourly budget holds alerts until the oldest send of the
 *   last hour is an hour old (then one digest carries them all);
 *   the rate limit makes the alert wait for a token.
 * The rate limit applies to every message, digests and urgent alerts too:
 * it protects the receiver (Slack asks for about one message a second).
 * So does a pause the receiver asked for with Retry-After (flood_block()). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flood.h"

#define FLOOD_WINDOW	3600	/* the budget is per sliding hour */

struct flood {
	const struct conf_sink	*conf;
	/* Token bucket: capacity max(1, rate), refilled at rate per second. */
	double			 tokens;
	int64_t			 refilled;	/* 0 = never */
	/* Send times within the window, oldest first: a ring of budget slots. */
	int64_t			*sent;
	size_t			 head, n, cap;
	bool			 loaded;
	int64_t			 blocked_until;	/* Retry-After of the receiver */
	bool			 changed;	/* since flood_take_changed() */
};

bool
flood_active(const struct conf_sink *cs)
{
	return cs->rate_per_second > 0 || cs->hourly_budget > 0 || cs->digest_interval > 0 ||
	    (cs->quiet_start_min >= 0 && cs->quiet_end_min >= 0 &&
	    cs->quiet_start_min != cs->quiet_end_min);
}

struct flood *
flood_new(const struct conf_sink *cs)
{
	struct flood *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->conf = cs;
	f->tokens = cs->rate_per_second >= 1 ? cs->rate_per_second : 1;
	if (cs->hourly_budget > 0) {
		f->cap = (size_t)cs->hourly_budget;
		f->sent = calloc(f->cap, sizeof(*f->sent));
		if (f->sent == NULL) {
			free(f);
			return NULL;
		}
	}
	return f;
}

struct flood *
flood_free(struct flood *f)
{
	if (f != NULL)
		free(f->sent);
	free(f);
	return NULL;
}

bool
flood_needs_history(const struct flood *f)
{
	return f->cap > 0 && !f->loaded;
}

int64_t
flood_budget(const struct flood *f)
{
	return (int64_t)f->cap;
}

static void
ring_push(struct flood *f, int64_t t)
{
	if (f->cap == 0)
		return;
	if (f->n == f->cap) {
		f->head = (f->head + 1) % f->cap;
		f->n--;
	}
	f->sent[(f->head + f->n) % f->cap] = t;
	f->n++;
}

static int
cmp_time(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

void
flood_load_history(struct flood *f, const int64_t *times, size_t n)
{
	int64_t *v;

	f->loaded = true;
	if (f->cap == 0 || n == 0)
		return;
	v = malloc(n * sizeof(*v));
	if (v == NULL) {
		/* Without the history the budget starts afresh: at worst one
		 * extra hour's worth of messages, never a lost alert. */
		return;
	}
	memcpy(v, times, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_time);
	for (size_t i = 0; i < n; i++)
		ring_push(f, v[i]);
	free(v);
}

/* Drops sends older than the window. */
static void
ring_expire(struct flood *f, int64_t now)
{
	while (f->n > 0 && f->sent[f->head] <= now - FLOOD_WINDOW) {
		f->head = (f->head + 1) % f->cap;
		f->n--;
	}
}

static void
bucket_refill(struct flood *f, int64_t now)
{
	double cap = f->conf->rate_per_second >= 1 ? f->conf->rate_per_second : 1;

	if (f->conf->rate_per_second <= 0)
		return;
	if (f->refilled != 0 && now > f->refilled)
		f->tokens += (double)(now - f->refilled) * f->conf->rate_per_second;
	if (f->tokens > cap)
		f->tokens = cap;
	if (f->refilled == 0 || now > f->refilled)
		f->refilled = now;
}

/* FLOOD_SEND when a token is there, else FLOOD_WAIT until one is. */
static enum flood_verdict
bucket_check(struct flood *f, int64_t now, int64_t *ret_when)
{
	double	rate = f->conf->rate_per_second;
	int64_t	wait;

	if (rate <= 0)
		return FLOOD_SEND;
	bucket_refill(f, now);
	if (f->tokens >= 1)
		return FLOOD_SEND;
	wait = (int64_t)((1 - f->tokens) / rate);
	if ((double)wait * rate < 1 - f->tokens)
		wait++;
	*ret_when = now + (wait > 0 ? wait : 1);
	return FLOOD_WAIT;
}

bool
flood_quiet_now(const struct conf_sink *cs, int64_t now, int64_t *ret_end)
{
	time_t		t = (time_t)now;
	struct tm	tm;
	int		start = cs->quiet_start_min, end = cs->quiet_end_min, m;
	bool		quiet;

	if (start < 0 || end < 0 || start == end)
		return false;
	if (localtime_r(&t, &tm) == NULL)
		return false;
	m = tm.tm_hour * 60 + tm.tm_min;
	/* "22:00-07:00" wraps past midnight; "13:00-14:00" does not. */
	quiet = start < end ? m >= start && m < end : m >= start || m < end;
	if (quiet && ret_end != NULL) {
		if (m >= end)
			tm.tm_mday++;
		tm.tm_hour = end / 60;
		tm.tm_min = end % 60;
		tm.tm_sec = 0;
		tm.tm_isdst = -1;
		*ret_end = (int64_t)mktime(&tm);
		if (*ret_end <= now)
			*ret_end = now + 60;
	}
	return quiet;
}

void
flood_block(struct flood *f, int64_t until)
{
	if (until > f->blocked_until) {
		f->blocked_until = until;
		f->changed = true;
	}
}

void
flood_get_state(const struct flood *f, struct flood_state *ret)
{
	ret->tokens = f->tokens;
	ret->refilled = f->refilled;
	ret->blocked_until = f->blocked_until;
}

void
flood_set_state(struct flood *f, const struct flood_state *st)
{
	double cap = f->conf->rate_per_second >= 1 ? f->conf->rate_per_second : 1;

	/* The rate may have changed since: never more than a full bucket. */
	f->tokens = st->tokens < cap ? st->tokens : cap;
	f->refilled = st->refilled;
	if (st->blocked_until > f->blocked_until)
		f->blocked_until = st->blocked_until;
}

bool
flood_take_changed(struct flood *f)
{
	bool changed = f->changed;

	f->changed = false;
	return changed;
}

bool
flood_blocked(const struct flood *f, int64_t now)
{
	return now < f->blocked_until;
}

enum flood_verdict
flood_check(struct flood *f, enum severity sev, int64_t now, int64_t *ret_when)
{
	const struct conf_sink	*cs = f->conf;
	int64_t			 iv = cs->digest_interval;

	if (flood_blocked(f, now)) {
		*ret_when = f->blocked_until;
		return FLOOD_WAIT;
	}

	if (sev < cs->bypass_severity) {
		if (iv > 0) {
			/* Slots are aligned (every 30 minutes on the half
			 * hour), so all alerts of a slot share one time. */
			*ret_when = (now / iv + 1) * iv;
			return FLOOD_HOLD;
		}
		if (flood_quiet_now(cs, now, ret_when))
			return FLOOD_HOLD;
		if (f->cap > 0) {
			ring_expire(f, now);
			if (f->n >= f->cap) {
				*ret_when = f->sent[f->head] + FLOOD_WINDOW;
				return FLOOD_HOLD;
			}
		}
	}
	return bucket_check(f, now, ret_when);
}

enum flood_verdict
flood_check_digest(struct flood *f, int64_t now, int64_t *ret_when)
{
	if (flood_blocked(f, now)) {
		*ret_when = f->blocked_until;
		return FLOOD_WAIT;
	}
	if (flood_quiet_now(f->conf, now, ret_when))
		return FLOOD_WAIT;
	return bucket_check(f, now, ret_when);
}

void
flood_note_sent(struct flood *f, int64_t now)
{
	if (f->conf->rate_per_second > 0) {
		bucket_refill(f, now);
		f->tokens -= 1;
		f->changed = true;
	}
	if (f->cap > 0) {
		ring_expire(f, now);
		ring_push(f, now);
	}
}
