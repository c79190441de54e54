/* schedule.c — one polling cycle: pick the feeds that are due and poll them.
 * Feed failures are the pipeline's business (logged, backed off); only a
 * state-file failure ends the cycle with an error. */
#include <errno.h>

#include "log.h"
#include "schedule.h"

#define SCHEDULE_MAX_WAIT	60

int
schedule_poll_cycle(struct pipeline *p, bool all, int64_t now,
    volatile sig_atomic_t *stop, struct poll_stats *stats, int64_t *ret_wait)
{
	int64_t	wait = SCHEDULE_MAX_WAIT;
	int	r = 0;

	for (size_t i = 0; i < p->conf->n_feeds && (stop == NULL || !*stop); i++) {
		const struct conf_feed	*f = &p->conf->feeds[i];
		struct store_feed	 st;
		struct fw_error		 e;
		int64_t			 next;

		if ((r = store_feed_get(p->store, f->url, &st, &e)) < 0) {
			log_errx("%s", e.msg);
			return r;
		}
		next = st.next_poll;
		if (st.disabled) {
			if (all)
				log_notice("feed '%s': disabled after HTTP 410, skipping", f->name);
			store_feed_done(&st);
			continue;
		}
		store_feed_done(&st);
		if (all || next <= now) {
			if ((r = pipeline_poll_feed(p, f, now, stats)) < 0)
				return r;
			if ((r = store_feed_get(p->store, f->url, &st, &e)) < 0) {
				log_errx("%s", e.msg);
				return r;
			}
			next = st.next_poll;
			store_feed_done(&st);
		}
		if (next - now < wait)
			wait = next - now;
	}
	if (ret_wait != NULL)
		*ret_wait = wait;
	return 0;
}
