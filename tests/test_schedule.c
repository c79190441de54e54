/* test_schedule.c — the polling cycle over file:// feeds (which feeds are
 * due, stop requests, disabled feeds, the wait until the next one), and the
 * pipeline's per-feed decisions driven with synthetic transfer results:
 * 304, Retry-After, 410, held permanent redirects, backoff, feed-health
 * alerts, the adaptive interval and the publishing rate. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline.h"
#include "schedule.h"
#include "testutil.h"

static char		*tmp;
static struct pipeline	*p;
static char		 urls[3][600];

#define FEED(guid, date) "<item><guid>" guid "</guid><title>t " guid "</title>" \
	"<pubDate>" date "</pubDate></item>"

static const char feed_xml[] =
	"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>"
	FEED("a", "Sat, 01 Nov 2025 10:00:00 GMT")
	FEED("b", "Sat, 01 Nov 2025 09:00:00 GMT")
	FEED("c", "Sat, 01 Nov 2025 08:00:00 GMT")
	"</channel></rss>";

static void
setup(void)
{
	struct fw_errors	 errs = { 0 };
	struct conf		*conf = NULL;
	char			*path, *cfg, *f;

	tmp = tu_tmpdir();
	for (int i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d.xml", i);
		f = tu_write_file(tmp, name, feed_xml);
		snprintf(urls[i], sizeof(urls[i]), "file://%s", f);
		free(f);
	}
	ck_assert_int_ge(asprintf(&cfg,
	    "state: %s/state.db\n"
	    "defaults: {interval: 10m, min_interval: 1m, max_interval: 6h, backoff_cap: 1h,"
	    " health_failures: 2}\n"
	    "feeds:\n"
	    "  - {url: \"%s\", name: one}\n"
	    "  - {url: \"%s\", name: two}\n"
	    "  - {url: \"%s\", name: three}\n"
	    "sinks:\n"
	    "  - {type: log, path: \"%s/alerts.jsonl\", format: jsonl}\n",
	    tmp, urls[0], urls[1], urls[2], tmp), 0);
	path = tu_write_file(tmp, "feedwatch.yaml", cfg);
	free(cfg);
	ck_assert_int_eq(conf_load(path, &conf, &errs), 0);
	free(path);
	ck_assert_int_eq(pipeline_new(conf, &p, &errs), 0);
	fw_errors_done(&errs);
}

static void
teardown(void)
{
	pipeline_free(p);
	tu_rmtree(tmp);
	free(tmp);
}

static struct store_feed
feed_state(int i)
{
	struct store_feed	st;
	struct fw_error		e;

	ck_assert_int_eq(store_feed_get(p->store, p->conf->feeds[i].url, &st, &e), 0);
	return st;
}

static int64_t
pending_alerts(void)
{
	int64_t		n = -1;
	struct fw_error	e;

	ck_assert_int_eq(store_deliveries_count(p->store, DELIVERY_PENDING, &n, &e), 0);
	return n;
}

START_TEST(test_cycle_all)
{
	struct poll_stats	ps = { 0 };
	int64_t			now = time(NULL), wait = -1;

	ck_assert_int_eq(schedule_poll_cycle(p, true, now, NULL, &ps, &wait), 0);
	ck_assert_uint_eq(ps.feeds_ok, 3);
	ck_assert_uint_eq(ps.feeds_failed, 0);
	ck_assert_uint_eq(ps.items, 9);
	ck_assert_uint_eq(ps.new_items, 9);
	ck_assert_int_gt(ps.next_poll, now);
	ck_assert_int_gt(wait, 0);
	ck_assert_int_le(wait, 60);
	for (int i = 0; i < 3; i++) {
		struct store_feed st = feed_state(i);

		ck_assert_int_eq(st.last_status, 200);
		ck_assert_int_eq(st.items_seen, 3);
		/* Hourly items: half an hour, jittered on the first poll. */
		ck_assert_int_eq(st.interval, 1800);
		ck_assert_int_ge(st.next_poll, now + 900);
		ck_assert_int_le(st.next_poll, now + 1800);
		store_feed_done(&st);
	}
}
END_TEST

START_TEST(test_cycle_due_only)
{
	struct poll_stats	ps = { 0 }, ps2 = { 0 }, ps3 = { 0 };
	int64_t			now = time(NULL), wait = -1;

	ck_assert_int_eq(schedule_poll_cycle(p, true, now, NULL, &ps, NULL), 0);
	/* Nothing is due right after. */
	ck_assert_int_eq(schedule_poll_cycle(p, false, now + 1, NULL, &ps2, &wait), 0);
	ck_assert_uint_eq(ps2.feeds_ok + ps2.feeds_failed, 0);
	ck_assert_int_eq(wait, 60);
	/* Two hours later all are due; the bodies did not change. */
	ck_assert_int_eq(schedule_poll_cycle(p, false, now + 7200, NULL, &ps3, &wait), 0);
	ck_assert_uint_eq(ps3.feeds_ok, 3);
	ck_assert_uint_eq(ps3.new_items, 0);
	ck_assert_uint_eq(ps3.items, 0);	/* not parsed again */
}
END_TEST

START_TEST(test_cycle_stop_and_disabled)
{
	static volatile sig_atomic_t	 stop = 1;
	struct poll_stats		 ps = { 0 };
	struct store_feed		 st;
	struct fw_error			 e;
	int64_t				 now = time(NULL);

	ck_assert_int_eq(schedule_poll_cycle(p, true, now, &stop, &ps, NULL), 0);
	ck_assert_uint_eq(ps.feeds_ok + ps.feeds_failed, 0);
	st = feed_state(1);
	st.disabled = true;
	ck_assert_int_eq(store_feed_save(p->store, &st, &e), 0);
	store_feed_done(&st);
	stop = 0;
	ck_assert_int_eq(schedule_poll_cycle(p, true, now, &stop, &ps, NULL), 0);
	ck_assert_uint_eq(ps.feeds_ok, 2);
	st = feed_state(1);
	ck_assert_int_eq(st.last_poll, 0);
	store_feed_done(&st);
}
END_TEST

START_TEST(test_cycle_failing_feed)
{
	struct poll_stats	ps = { 0 };
	struct store_feed	st;
	int64_t			now = time(NULL);
	char			path[600];

	snprintf(path, sizeof(path), "%s", urls[2] + 7);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(schedule_poll_cycle(p, true, now, NULL, &ps, NULL), 0);
	ck_assert_uint_eq(ps.feeds_ok, 2);
	ck_assert_uint_eq(ps.feeds_failed, 1);
	st = feed_state(2);
	ck_assert_int_eq(st.consecutive_errors, 1);
	ck_assert_int_eq(st.last_status, 0);
	ck_assert_ptr_nonnull(st.last_error);
	/* The first retry comes after about one interval (10 min). */
	ck_assert_int_ge(st.next_poll - now, 480);
	ck_assert_int_le(st.next_poll - now, 600);
	store_feed_done(&st);
}
END_TEST

/* Hands feed i a synthetic response. */
static void
done(int i, long status, const char *body, int64_t now, struct fetch_result *tmpl)
{
	struct fetch_result	res = { .max_age = -1 };
	struct poll_stats	ps = { 0 };

	if (tmpl != NULL)
		res = *tmpl;
	res.status = status;
	res.body = (char *)(body != NULL ? body : "");
	res.len = strlen(res.body);
	ck_assert_int_eq(pipeline_feed_done(p, &p->conf->feeds[i], 0, NULL, &res, now, &ps), 0);
}

START_TEST(test_not_modified_and_validators)
{
	struct fetch_result	r = { .etag = "\"v1\"", .last_modified = "Sat, 01 Nov 2025 10:00:00 GMT",
				      .max_age = -1 };
	struct store_feed	st;
	int64_t			now = time(NULL);

	done(0, 200, feed_xml, now, &r);
	r = (struct fetch_result){ .etag = "\"v2\"", .max_age = -1 };
	done(0, 304, NULL, now + 10, &r);
	st = feed_state(0);
	ck_assert_str_eq(st.etag, "\"v2\"");
	ck_assert_str_eq(st.last_modified, "Sat, 01 Nov 2025 10:00:00 GMT");
	ck_assert_int_eq(st.last_status, 304);
	ck_assert_int_eq(st.last_success, now + 10);
	ck_assert_int_eq(st.items_seen, 3);
	store_feed_done(&st);
}
END_TEST

/* Group commit: the feeds handed over in a batch share one transaction
 * until it is old or full, or the batch ends. */
START_TEST(test_batch_commit)
{
	struct store_feed	st;
	int64_t			now = time(NULL);

	/* Rolled back together: both feeds were in the open transaction. */
	p->batch.max_ms = 600000;
	pipeline_batch_begin(p);
	done(0, 200, feed_xml, now, NULL);
	done(1, 200, feed_xml, now, NULL);
	ck_assert(p->batch.open);
	ck_assert_uint_eq(p->batch.feeds, 2);
	ck_assert_uint_eq(p->batch.items, 6);
	ck_assert_int_eq(pipeline_batch_end(p, false), 0);
	ck_assert(!p->batch.open);
	st = feed_state(0);
	ck_assert_int_eq(st.last_poll, 0);
	ck_assert_int_eq(st.items_seen, 0);
	store_feed_done(&st);
	ck_assert_int_eq(pending_alerts(), 0);

	/* Committed together when the batch ends. */
	pipeline_batch_begin(p);
	done(0, 200, feed_xml, now, NULL);
	done(1, 200, feed_xml, now, NULL);
	ck_assert_int_eq(pipeline_batch_end(p, true), 0);
	for (int i = 0; i < 2; i++) {
		st = feed_state(i);
		ck_assert_int_eq(st.last_poll, now);
		ck_assert_int_eq(st.items_seen, 3);
		store_feed_done(&st);
	}

	/* Full: committed as soon as a feed brings it to max_items. */
	p->batch.max_items = 3;
	pipeline_batch_begin(p);
	done(2, 200, feed_xml, now, NULL);
	ck_assert(!p->batch.open);
	ck_assert_int_eq(pipeline_batch_end(p, false), 0);
	st = feed_state(2);
	ck_assert_int_eq(st.items_seen, 3);
	store_feed_done(&st);

	/* Old: the cycle's tick commits it while transfers run. */
	p->batch.max_items = PIPELINE_BATCH_ITEMS;
	p->batch.max_ms = 50;
	pipeline_batch_begin(p);
	done(2, 304, NULL, now + 60, NULL);
	while (p->batch.open) {
		ck_assert_int_eq(pipeline_batch_due(p), 0);
		(void)nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	ck_assert_int_eq(pipeline_batch_end(p, false), 0);
	st = feed_state(2);
	ck_assert_int_eq(st.last_poll, now + 60);
	store_feed_done(&st);

	/* Outside a batch every feed commits on its own. */
	p->batch.max_ms = 600000;
	done(0, 304, NULL, now + 120, NULL);
	ck_assert(!p->batch.open);
}
END_TEST

START_TEST(test_retry_after)
{
	struct fetch_result	r = { .retry_after = "1200", .max_age = -1 };
	struct store_feed	st;
	char			date[64];
	int64_t			now = time(NULL);
	time_t			later = (time_t)now + 5400;

	done(0, 429, NULL, now, &r);
	st = feed_state(0);
	ck_assert_int_eq(st.next_poll, now + 1200);
	ck_assert_int_eq(st.consecutive_errors, 1);
	ck_assert_int_eq(st.last_status, 429);
	ck_assert_ptr_nonnull(strstr(st.last_error, "Retry-After"));
	store_feed_done(&st);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&later, &(struct tm){ 0 }));
	r.retry_after = date;
	done(1, 503, NULL, now, &r);
	st = feed_state(1);
	ck_assert_int_eq(st.next_poll, now + 5400);
	store_feed_done(&st);
	/* A month is taken as a week. */
	r.retry_after = "2592000";
	done(2, 429, NULL, now, &r);
	st = feed_state(2);
	ck_assert_int_eq(st.next_poll, now + 7 * 86400);
	store_feed_done(&st);
	/* "Retry-After: 0" is no reason to poll sooner than the interval. */
	r.retry_after = "0";
	done(1, 429, NULL, now, &r);
	st = feed_state(1);
	ck_assert_int_eq(st.next_poll, now + 600);
	store_feed_done(&st);
	/* Retry-After on other statuses is not a promise: backoff. */
	r.retry_after = "5";
	done(0, 500, NULL, now, &r);
	st = feed_state(0);
	ck_assert_int_gt(st.next_poll - now, 5);
	store_feed_done(&st);
}
END_TEST

START_TEST(test_gone)
{
	struct store_feed	st;
	int64_t			before = pending_alerts();

	done(0, 410, NULL, time(NULL), NULL);
	st = feed_state(0);
	ck_assert(st.disabled);
	ck_assert_int_eq(st.last_status, 410);
	store_feed_done(&st);
	ck_assert_int_eq(pending_alerts(), before + 1);
}
END_TEST

START_TEST(test_redirect_hold)
{
	struct fetch_result	r = { .permanent_url = "http://moved.example/feed", .max_age = -1 };
	struct store_feed	st;
	int64_t			now = time(NULL);

	/* Two polls redirected, then one straight: the move is forgotten. */
	done(0, 200, feed_xml, now, &r);
	done(0, 200, feed_xml, now + 1, &r);
	st = feed_state(0);
	ck_assert_int_eq(st.redirect_count, 2);
	ck_assert_str_eq(pipeline_feed_url(p, &p->conf->feeds[0], &st), p->conf->feeds[0].url);
	store_feed_done(&st);
	done(0, 200, feed_xml, now + 2, NULL);
	st = feed_state(0);
	ck_assert_ptr_null(st.redirect_url);
	ck_assert_int_eq(st.redirect_count, 0);
	store_feed_done(&st);
	/* Three in a row: the new URL is polled from then on. */
	for (int k = 0; k < 3; k++)
		done(0, 200, feed_xml, now + 3 + k, &r);
	st = feed_state(0);
	ck_assert_str_eq(pipeline_feed_url(p, &p->conf->feeds[0], &st), "http://moved.example/feed");
	store_feed_done(&st);
	/* Answering from there, it stays; a 304 through it as well. */
	done(0, 200, feed_xml, now + 10, NULL);
	done(0, 304, NULL, now + 11, NULL);
	st = feed_state(0);
	ck_assert_str_eq(pipeline_feed_url(p, &p->conf->feeds[0], &st), "http://moved.example/feed");
	store_feed_done(&st);
	/* The new URL moves again: that move must hold in turn. */
	r.permanent_url = "http://again.example/feed";
	done(0, 200, feed_xml, now + 12, &r);
	st = feed_state(0);
	ck_assert_str_eq(st.redirect_url, "http://again.example/feed");
	ck_assert_int_eq(st.redirect_count, 1);
	store_feed_done(&st);
}
END_TEST

START_TEST(test_backoff_and_health)
{
	struct store_feed	st;
	struct fw_error		fe;
	struct poll_stats	ps = { 0 };
	int64_t			now = time(NULL), before = pending_alerts(), expect[] = {
		600, 1200, 2400, 3600, 3600 };

	fw_error_set(&fe, NULL, 0, 0, "Operation timed out");
	for (int k = 0; k < 5; k++) {
		ck_assert_int_eq(pipeline_feed_done(p, &p->conf->feeds[1], -ETIMEDOUT, &fe, NULL,
		    now, &ps), 0);
		st = feed_state(1);
		ck_assert_int_eq(st.consecutive_errors, k + 1);
		ck_assert_int_le(st.next_poll - now, expect[k]);
		ck_assert_int_ge(st.next_poll - now, expect[k] * 4 / 5);
		ck_assert_str_eq(st.last_error, "Operation timed out");
		store_feed_done(&st);
	}
	ck_assert_uint_eq(ps.feeds_failed, 5);
	/* health_failures is 2: one alert, not one per failure. */
	ck_assert_int_eq(pending_alerts(), before + 1);
	ck_assert_uint_eq(ps.health_alerts, 1);
	ck_assert_uint_eq(ps.alerts, 1);
	/* Recovered, with a newest item a year old for an hourly feed: only
	 * the recovery alert. This is its first successful poll, so silence
	 * is counted from now, not from the age of its items. */
	done(1, 200, feed_xml, now + 60, NULL);
	ck_assert_int_eq(pending_alerts(), before + 2);
	st = feed_state(1);
	ck_assert_int_eq(st.consecutive_errors, 0);
	ck_assert_int_eq(st.health_alerted, 0);
	ck_assert_int_eq(st.newest_item, now + 60);
	store_feed_done(&st);
	/* Nothing new for two days while polling it: now it is silent. */
	done(1, 304, NULL, now + 60 + 2 * 86400, NULL);
	ck_assert_int_eq(pending_alerts(), before + 3);
	st = feed_state(1);
	ck_assert_int_eq(st.health_alerted, 2);
	store_feed_done(&st);
}
END_TEST

START_TEST(test_silence_through_304)
{
	/* feed_xml: hourly items, the newest on 2025-11-01 10:00 UTC. */
	const int64_t		 t0 = 1761991200;
	struct store_feed	 st;
	int64_t			 before = pending_alerts();
	char			 fresh[512], date[64];
	time_t			 later = (time_t)(t0 + 3 * 86400 - 600);

	done(0, 200, feed_xml, t0 + 3600, NULL);
	st = feed_state(0);
	ck_assert_int_eq(st.publish_gap, 3600);
	/* The first poll is later than its newest item: watched since then. */
	ck_assert_int_eq(st.newest_item, t0 + 3600);
	store_feed_done(&st);
	ck_assert_int_eq(pending_alerts(), before);
	/* Not modified for two days, for a feed that posts hourly: silent. */
	done(0, 304, NULL, t0 + 2 * 86400, NULL);
	ck_assert_int_eq(pending_alerts(), before + 1);
	done(0, 304, NULL, t0 + 2 * 86400 + 60, NULL);
	ck_assert_int_eq(pending_alerts(), before + 1);
	/* A new item: recovered. */
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&later));
	snprintf(fresh, sizeof(fresh), "<rss version=\"2.0\"><channel><title>T</title>"
	    "<item><guid>new</guid><title>n</title><pubDate>%s</pubDate></item>"
	    "</channel></rss>", date);
	done(0, 200, fresh, t0 + 3 * 86400, NULL);
	ck_assert_int_eq(pending_alerts(), before + 2);
	st = feed_state(0);
	ck_assert_int_eq(st.health_alerted, 0);
	ck_assert_int_eq(st.newest_item, (int64_t)later);
	ck_assert_int_eq(st.publish_gap, 3600);
	store_feed_done(&st);
}
END_TEST

START_TEST(test_backoff_delay)
{
	for (int k = 0; k < 50; k++) {
		int64_t d = pipeline_backoff_delay(60, 3, 3600);

		ck_assert_int_ge(d, 192);
		ck_assert_int_le(d, 240);
		d = pipeline_backoff_delay(60, 40, 3600);
		ck_assert_int_ge(d, 2880);
		ck_assert_int_le(d, 3600);
	}
	ck_assert_int_le(pipeline_backoff_delay(0, 1, 3600), 60);
	ck_assert_int_le(pipeline_backoff_delay(60, 100, 0), 86400);
	ck_assert_int_ge(pipeline_backoff_delay(60, 100, 0), 86400 * 4 / 5);
}
END_TEST

/* A doc with n items published step seconds apart, newest at t0. */
static struct feed_doc *
doc_new(size_t n, int64_t step, int64_t t0, int64_t ttl)
{
	struct feed_doc *d = calloc(1, sizeof(*d));

	ck_assert_ptr_nonnull(d);
	d->items = calloc(n ? n : 1, sizeof(*d->items));
	ck_assert_ptr_nonnull(d->items);
	d->n_items = n;
	d->ttl_seconds = ttl;
	for (size_t i = 0; i < n; i++) {
		/* Out of order on purpose: the gap is computed on sorted dates. */
		d->items[i].published = t0 - (int64_t)((i * 7) % n) * step;
		d->items[i].updated = FW_TIME_NONE;
	}
	return d;
}

static void
doc_free(struct feed_doc *d)
{
	free(d->items);
	free(d);
}

START_TEST(test_adaptive_interval)
{
	struct conf_feed	 f = { .interval = 900, .min_interval = 300, .max_interval = 21600 };
	struct feed_doc		*hourly = doc_new(10, 3600, 1000000, 0);
	struct feed_doc		*minutely = doc_new(10, 60, 1000000, 0);
	struct feed_doc		*ttl = doc_new(10, 3600, 1000000, 3 * 3600);
	struct feed_doc		*huge = doc_new(10, 3600, 1000000, 7 * 86400);
	struct feed_doc		*two = doc_new(2, 3600, 1000000, 0);
	int64_t			 newest;

	ck_assert_int_eq(pipeline_publish_gap(hourly, &newest), 3600);
	ck_assert_int_eq(newest, 1000000);
	ck_assert_int_eq(pipeline_publish_gap(two, &newest), 0);
	ck_assert_int_eq(pipeline_publish_gap(NULL, &newest), 0);
	ck_assert_int_eq(newest, FW_TIME_NONE);
	ck_assert_int_eq(pipeline_adaptive_interval(&f, hourly, -1, 0), 1800);
	ck_assert_int_eq(pipeline_adaptive_interval(&f, minutely, -1, 0), 300);
	ck_assert_int_eq(pipeline_adaptive_interval(&f, ttl, -1, 0), 3 * 3600);
	ck_assert_int_eq(pipeline_adaptive_interval(&f, huge, -1, 0), 21600);
	ck_assert_int_eq(pipeline_adaptive_interval(&f, hourly, 7200, 0), 7200);
	/* A hint shorter than the rate never shortens it. */
	ck_assert_int_eq(pipeline_adaptive_interval(&f, hourly, 60, 0), 1800);
	/* No dates: keep what was in use, else the configured interval. */
	ck_assert_int_eq(pipeline_adaptive_interval(&f, two, -1, 1234), 1234);
	ck_assert_int_eq(pipeline_adaptive_interval(&f, NULL, -1, 0), 900);
	ck_assert_int_eq(pipeline_adaptive_interval(&f, NULL, 3600, 0), 3600);
	/* An explicit interval below min_interval widens the range. */
	f.interval = 60;
	ck_assert_int_eq(pipeline_adaptive_interval(&f, minutely, -1, 0), 60);
	doc_free(hourly);
	doc_free(minutely);
	doc_free(ttl);
	doc_free(huge);
	doc_free(two);
}
END_TEST

START_TEST(test_fetch_opts_headers)
{
	struct fetch_opts	o;
	struct store_feed	st = { .etag = "\"e\"", .last_modified = "lm" };

	pipeline_fetch_opts(p, &p->conf->feeds[0], &st, &o);
	ck_assert_str_eq(o.etag, "\"e\"");
	ck_assert_str_eq(o.last_modified, "lm");
	ck_assert_ptr_null(o.headers);
	ck_assert_int_eq(o.timeout, p->conf->feeds[0].timeout);
	pipeline_fetch_opts(p, &p->conf->feeds[0], NULL, &o);
	ck_assert_ptr_null(o.etag);
}
END_TEST

static Suite *
schedule_suite(void)
{
	Suite	*s = suite_create("schedule");
	TCase	*tc;

	tc = tcase_create("cycle");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cycle_all);
	tcase_add_test(tc, test_cycle_due_only);
	tcase_add_test(tc, test_cycle_stop_and_disabled);
	tcase_add_test(tc, test_cycle_failing_feed);
	suite_add_tcase(s, tc);

	tc = tcase_create("status");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_not_modified_and_validators);
	tcase_add_test(tc, test_batch_commit);
	tcase_add_test(tc, test_retry_after);
	tcase_add_test(tc, test_gone);
	tcase_add_test(tc, test_redirect_hold);
	tcase_add_test(tc, test_backoff_and_health);
	tcase_add_test(tc, test_fetch_opts_headers);
	tcase_add_test(tc, test_silence_through_304);
	suite_add_tcase(s, tc);

	tc = tcase_create("interval");
	tcase_add_test(tc, test_backoff_delay);
	tcase_add_test(tc, test_adaptive_interval);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(schedule_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
