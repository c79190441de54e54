/* schedule.h — which feeds to poll now, and polling them concurrently. The
 * next poll time of each feed lives in the store, so a restart resumes the
 * schedule. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "pipeline.h"

/* Polls every enabled feed (all = true, for `once`) or only those due at
 * now, at most conf->concurrency at a time and conf->per_host per host.
 * With all set and stderr a terminal, shows progress on stderr.
 * Returns early, without error, once *stop is set (may be NULL): what was
 * in flight is abandoned and keeps its stored schedule. While transfers
 * run, SIGTERM and SIGINT are unblocked (see fetch_multi_run()).
 * stats must start zeroed. *ret_wait (may be NULL) receives the seconds
 * until the next feed is due (at most 60). Returns 0, or a negative errno
 * when the state file fails. */
int schedule_poll_cycle(struct pipeline *p, bool all, int64_t now,
    volatile sig_atomic_t *stop, struct poll_stats *stats, int64_t *ret_wait) _must_check_;
