/* schedule.c — one polling cycle: pick the feeds that are due, run their
 * transfers concurrently (fetch_multi.c) and hand each finished one to the
 * pipeline as soon as it ends. Feed failures are the pipeline's business
 * (logged, backed off); only a state-file failure ends the cycle with an
 * error. A stop request abandons the transfers in flight: their feeds keep
 * their stored next poll, so the next start resumes the schedule.
 *
 * Finished transfers are handed to the pipeline in the order of the
 * configuration, held back (a bounded number of them) while an earlier one
 * is still running: which feed is credited with a story that two feeds
 * carry must not depend on which server answered first.
 *
 * On a shared state (several instances, one PostgreSQL database) a cycle
 * polls the due feeds this instance leased, a batch at a time: an
 * instance with a full batch comes back at once for the next, so the
 * instances share the work in proportion to how fast they go. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fetch_multi.h"
#include "log.h"
#include "notify.h"
#include "schedule.h"

#define SCHEDULE_MAX_WAIT	60
#define PROGRESS_EVERY_MS	100
#define HOLD_MIN		16	/* finished transfers held back, at least */
#define LEASE_BATCH_MIN		64	/* feeds leased at a time, at least */

struct cycle {
	struct pipeline		*p;
	struct poll_stats	*stats;
	int64_t			 now;		/* the cycle's clock at t0 */
	time_t			 t0;
	size_t			 done, total;
	bool			 progress;	/* stderr is a terminal, `once` */
	int64_t			 last_progress;
	struct cycle_job	**order;	/* queued jobs, in config order */
	size_t			 n_order;
	size_t			 next;		/* first not yet handed over */
	size_t			 held, max_held;
};

struct cycle_job {
	struct cycle		*cycle;
	const struct conf_feed	*feed;
	bool			 finished;	/* its transfer ended: held */
	bool			 handed;	/* given to the pipeline */
	int			 rc;
	char			*error;		/* when rc < 0 */
	struct fetch_result	 res;		/* when rc == 0 */
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
progress_show(struct cycle *c, bool last)
{
	int64_t t = mono_ms();

	if (!c->progress || (!last && t - c->last_progress < PROGRESS_EVERY_MS))
		return;
	c->last_progress = t;
	fprintf(stderr, "\r\033[Kfeedwatch: %zu/%zu feeds, %zu new items, %zu alerts, %zu errors%s",
	    c->done, c->total, c->stats->new_items, c->stats->alerts, c->stats->feeds_failed,
	    last ? "\n" : "");
	fflush(stderr);
}

static void
job_release(struct cycle_job *j)
{
	fetch_result_done(&j->res);
	free(j->error);
	j->error = NULL;
}

static int
job_hand_over(struct cycle *c, struct cycle_job *j)
{
	struct fw_error	 e = { .msg = "" };
	int64_t		 now = c->now + (int64_t)(time(NULL) - c->t0);
	int		 r;

	if (j->rc < 0)
		snprintf(e.msg, sizeof(e.msg), "%s", j->error ? j->error : strerror(-j->rc));
	r = pipeline_feed_done(c->p, j->feed, j->rc, &e, j->rc == 0 ? &j->res : NULL, now,
	    c->stats);
	job_release(j);
	j->handed = true;
	c->held--;
	c->done++;
	progress_show(c, false);
	return r;
}

/* Hands over the held transfers whose turn has come; when too many wait
 * behind a slow one, the oldest held goes first. */
static int
cycle_flush(struct cycle *c)
{
	struct cycle_job	*j;
	int			 r;

	for (;;) {
		while (c->next < c->n_order && c->order[c->next]->handed)
			c->next++;
		if (c->next == c->n_order)
			return 0;
		j = c->order[c->next];
		if (!j->finished) {
			if (c->held <= c->max_held)
				return 0;
			for (size_t k = c->next + 1; k < c->n_order; k++) {
				j = c->order[k];
				if (j->finished && !j->handed)
					break;
			}
		}
		if ((r = job_hand_over(c, j)) < 0)
			return r;
	}
}

static int
on_feed_done(void *userdata, int rc, const struct fw_error *err, struct fetch_result *res)
{
	struct cycle_job	*j = userdata;
	struct cycle		*c = j->cycle;

	j->finished = true;
	j->rc = rc;
	if (rc < 0) {
		j->error = strdup(err->msg);
	} else {
		/* Taken over: the driver frees what is left in *res. */
		j->res = *res;
		memset(res, 0, sizeof(*res));
	}
	c->held++;
	return cycle_flush(c);
}

/* Queues the transfer of conf->feeds[i], whose stored state is st. */
static int
cycle_queue(struct cycle *c, struct fetch_multi *m, struct cycle_job *jobs, size_t i,
    const struct store_feed *st)
{
	const struct conf_feed	*f = &c->p->conf->feeds[i];
	struct fetch_opts	 opts;

	jobs[i].cycle = c;
	jobs[i].feed = f;
	pipeline_fetch_opts(c->p, f, st, &opts);
	if (fetch_multi_add(m, pipeline_feed_url(c->p, f, st), &opts, on_feed_done,
	    &jobs[i]) < 0) {
		log_errx("cannot queue feed '%s': out of memory", f->name);
		return -ENOMEM;
	}
	c->order[c->n_order++] = &jobs[i];
	c->total++;
	return 0;
}

struct feed_index {
	int64_t	id;
	size_t	i;
};

static int
cmp_feed_index(const void *a, const void *b)
{
	const struct feed_index *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* A shared state: leases a batch of this configuration's due feeds (all
 * of them for `once`) and queues them in the configuration's order. A
 * full batch leaves *wait at 0: more are due. */
static int
cycle_lease(struct cycle *c, struct fetch_multi *m, struct cycle_job *jobs, bool all,
    int64_t now, int64_t *wait)
{
	struct pipeline		*p = c->p;
	size_t			 n_feeds = p->conf->n_feeds, n = 0, limit;
	struct store_feed	*v = NULL;
	struct feed_index	*index = NULL;
	size_t			*pick = NULL;
	struct fw_error		 e;
	int64_t			 next;
	int			 r;

	if (n_feeds == 0)
		return 0;
	if (p->feed_ids == NULL) {
		log_errx("cannot lease feeds: the configuration was not fitted to the state");
		return -EINVAL;
	}
	limit = all ? n_feeds : 8 * (size_t)p->conf->concurrency;
	if (limit < LEASE_BATCH_MIN)
		limit = LEASE_BATCH_MIN;
	r = store_feeds_lease(p->store, p->feed_ids, n_feeds, now, now + p->conf->lease, all,
	    limit, &v, &n, &e);
	if (r < 0) {
		log_errx("%s", e.msg);
		return r;
	}
	index = calloc(n_feeds, sizeof(*index));
	pick = calloc(n ? n : 1, sizeof(*pick));
	if (index == NULL || pick == NULL) {
		r = -ENOMEM;
		log_errx("cannot start a polling cycle: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_feeds; i++)
		index[i] = (struct feed_index){ p->feed_ids[i], i };
	qsort(index, n_feeds, sizeof(*index), cmp_feed_index);
	for (size_t k = 0; k < n; k++) {
		struct feed_index	 key = { v[k].id, 0 };
		struct feed_index	*hit = bsearch(&key, index, n_feeds, sizeof(*index),
		    cmp_feed_index);

		/* The lease was taken among p->feed_ids: always found. */
		pick[k] = hit != NULL ? hit->i * n + k : SIZE_MAX;
	}
	/* pick = config index · n + row: sorted, it is config order. */
	qsort(pick, n, sizeof(*pick), cmp_size);
	for (size_t k = 0; k < n && r == 0; k++)
		if (pick[k] != SIZE_MAX)
			r = cycle_queue(c, m, jobs, pick[k] / n, &v[pick[k] % n]);
	if (r < 0 || all)
		goto out;
	if (n == limit) {
		*wait = 0;
	} else if ((r = store_feeds_next_due(p->store, p->feed_ids, n_feeds, &next, &e)) < 0) {
		log_errx("%s", e.msg);
	} else if (next > now && next - now < *wait) {
		*wait = next - now;
	}
out:
	for (size_t k = 0; k < n; k++)
		store_feed_done(&v[k]);
	free(v);
	free(index);
	free(pick);
	return r;
}

/* A server that hangs until its timeout holds the cycle without any
 * transfer ending: the loop still shows the watchdog it is alive. */
static int
cycle_tick(void *userdata)
{
	struct cycle *c = userdata;

	(void)notify_watchdog();
	/* The feeds' results do not wait in an open transaction (holding the
	 * state's write lock) for a slow server to answer. */
	return pipeline_batch_due(c->p);
}

int
schedule_poll_cycle(struct pipeline *p, bool all, int64_t now,
    volatile sig_atomic_t *stop, struct poll_stats *stats, int64_t *ret_wait)
{
	struct cycle		 c = { .p = p, .stats = stats, .now = now, .t0 = time(NULL) };
	struct fetch_multi_opts	 mo = { .concurrency = p->conf->concurrency,
					.per_host = p->conf->per_host, .tick = cycle_tick,
					.tick_userdata = &c, .tick_ms = PIPELINE_BATCH_MS };
	struct fetch_multi	*m = NULL;
	struct cycle_job	*jobs = NULL;
	struct fw_error		 e;
	int64_t			 wait = SCHEDULE_MAX_WAIT, end;
	int			 r, r2;

	stats->next_poll = 0;
	if (notify_watchdog_period_usec() > 0 &&
	    notify_watchdog_period_usec() / 2000 < mo.tick_ms)
		mo.tick_ms = (unsigned)(notify_watchdog_period_usec() / 2000);
	pipeline_batch_begin(p);
	jobs = calloc(p->conf->n_feeds ? p->conf->n_feeds : 1, sizeof(*jobs));
	c.order = calloc(p->conf->n_feeds ? p->conf->n_feeds : 1, sizeof(*c.order));
	c.max_held = 2 * (size_t)mo.concurrency > HOLD_MIN ? 2 * (size_t)mo.concurrency : HOLD_MIN;
	if (jobs == NULL || c.order == NULL || fetch_multi_new(&mo, &m) < 0) {
		r = -ENOMEM;
		log_errx("cannot start a polling cycle: out of memory");
		goto out;
	}
	if (store_is_shared(p->store) && (r = cycle_lease(&c, m, jobs, all, now, &wait)) < 0)
		goto out;
	for (size_t i = 0; !store_is_shared(p->store) && i < p->conf->n_feeds; i++) {
		const struct conf_feed	*f = &p->conf->feeds[i];
		struct store_feed	 st;

		if (stop != NULL && *stop) {
			r = 0;
			goto out;
		}
		if ((r = store_feed_get(p->store, f->url, &st, &e)) < 0) {
			log_errx("%s", e.msg);
			goto out;
		}
		if (st.disabled) {
			if (all)
				log_notice("feed '%s': disabled after HTTP 410, skipping", f->name);
		} else if (!all && st.next_poll > now) {
			if (st.next_poll - now < wait)
				wait = st.next_poll - now;
		} else if ((r = cycle_queue(&c, m, jobs, i, &st)) < 0) {
			store_feed_done(&st);
			goto out;
		}
		store_feed_done(&st);
	}
	c.progress = all && c.total > 0 && isatty(STDERR_FILENO);
	progress_show(&c, false);
	r = fetch_multi_run(m, stop);
	if (r == 0) {
		/* Everything ended: nothing is left to wait for. */
		c.max_held = 0;
		r = cycle_flush(&c);
	}
	if (r == -EINTR) {
		log_info("cycle interrupted: %zu feeds left unpolled",
		    fetch_multi_pending(m) + c.held);
		r = 0;
	} else if (r < 0)
		log_errx("polling cycle stopped: %s", strerror(-r));
	if (c.progress)
		progress_show(&c, true);
	end = now + (int64_t)(time(NULL) - c.t0);
	if (stats->next_poll > 0 && stats->next_poll - end < wait)
		wait = stats->next_poll - end;
	if (wait < 0)
		wait = 0;
out:
	/* What was handed over is saved, a stopped cycle's too; after a
	 * failure the transaction is gone already. */
	if ((r2 = pipeline_batch_end(p, r == 0)) < 0 && r == 0)
		r = r2;
	if (r == 0 && ret_wait != NULL)
		*ret_wait = wait;
	fetch_multi_free(m);
	/* Held results of an interrupted cycle are dropped: those feeds
	 * keep their schedule, as if never polled. */
	for (size_t i = 0; jobs != NULL && i < p->conf->n_feeds; i++)
		job_release(&jobs[i]);
	free(c.order);
	free(jobs);
	return r;
}
