/* flood.h — flood control for one sink: a rate limit (token bucket), an
 * hourly budget whose overflow is held for one digest message, quiet hours,
 * and `digest: 30m` mode. Pure decisions over the times it is given; the
 * outbox acts on them and keeps the held alerts in the store. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "error.h"

enum flood_verdict {
	FLOOD_SEND,	/* deliver now */
	FLOOD_WAIT,	/* not yet (rate limit, quiet hours): try again at *when */
	FLOOD_HOLD,	/* keep for the sink's next digest, sent at *when */
	_FLOOD_VERDICT_MAX,
};

struct flood;

/* Whether cs sets any flood control at all (else every verdict is SEND). */
bool flood_active(const struct conf_sink *cs);

/* The flood state of the sink cs (which must outlive it). NULL on OOM. */
struct flood *flood_new(const struct conf_sink *cs);
struct flood *flood_free(struct flood *f);

/* Whether the hourly budget needs the times of past sends (see
 * flood_load_history()) before the first verdict. */
bool flood_needs_history(const struct flood *f);
/* Seeds the budget with the times (any order) messages were sent within
 * the last hour, e.g. from the store after a restart. */
void flood_load_history(struct flood *f, const int64_t *times, size_t n);
/* The hourly budget: how many messages the last hour may hold (0 = none). */
int64_t flood_budget(const struct flood *f);

/* The verdict on one alert of this severity at now. *ret_when is set for
 * FLOOD_WAIT and FLOOD_HOLD (always > now). */
enum flood_verdict flood_check(struct flood *f, enum severity sev, int64_t now,
    int64_t *ret_when);
/* The verdict on sending the held digest at now: FLOOD_SEND or FLOOD_WAIT
 * (quiet hours, rate limit). The budget does not apply to digests. */
enum flood_verdict flood_check_digest(struct flood *f, int64_t now, int64_t *ret_when);
/* The receiver asked for a pause (Retry-After): every message to the sink
 * waits until then, whatever the other settings. */
void flood_block(struct flood *f, int64_t until);
/* Whether the sink is paused at now (see flood_block()). */
bool flood_blocked(const struct flood *f, int64_t now);
/* Records a message sent at now: takes a token, counts against the budget. */
void flood_note_sent(struct flood *f, int64_t now);

/* What of the flood state outlives a restart (the store keeps it; the
 * hourly budget is counted again from the deliveries, see
 * flood_load_history()). */
struct flood_state {
	double	tokens;		/* the rate limit's bucket */
	int64_t	refilled;	/* when it was last filled, 0 = never */
	int64_t	blocked_until;	/* see flood_block(), 0 = none */
};
void flood_get_state(const struct flood *f, struct flood_state *ret);
void flood_set_state(struct flood *f, const struct flood_state *st);
/* Whether the state changed since the last call (then it is worth saving). */
bool flood_take_changed(struct flood *f);

/* Whether now (local time) is within the quiet hours; *ret_end (may be
 * NULL) gets the time they end. */
bool flood_quiet_now(const struct conf_sink *cs, int64_t now, int64_t *ret_end);
