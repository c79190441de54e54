/* pipeline.c — what happens to one feed after its transfer ends, and to the
 * outbox afterwards. The rule that matters: an item is marked seen and its
 * alert queued in the same transaction, so a crash between the two cannot
 * lose an alert, and delivery only ever reads from the outbox. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "parse.h"
#include "pipeline.h"
#include "safe.h"

static int feed_headers_build(struct pipeline *p);
static int developments_setup(struct pipeline *p);
static void header_lines_free(char **lines);

/* Retry-After beyond a week is taken as a week. */
#define PIPELINE_MAX_RETRY_AFTER	(7 * 86400)

int
pipeline_new(struct conf *conf, struct pipeline **ret, struct fw_errors *errs)
{
	struct pipeline	*p;
	struct fw_error	 e;
	int		 r;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		conf_free(conf);
		return -ENOMEM;
	}
	p->conf = conf;
	p->batch.max_ms = PIPELINE_BATCH_MS;
	p->batch.max_items = PIPELINE_BATCH_ITEMS;
	r = feed_headers_build(p);
	if (r < 0)
		goto fail;
	r = developments_setup(p);
	if (r < 0)
		goto fail;
	r = classifier_new(conf, &p->classifier, errs);
	if (r < 0)
		goto fail;
	r = store_open(conf->state_path, &p->store, &e);
	if (r < 0) {
		(void)fw_errors_add(errs, &e);
		goto fail;
	}
	store_lease_set(p->store, conf->lease);
	p->sinks = calloc(conf->n_sinks ? conf->n_sinks : 1, sizeof(*p->sinks));
	if (p->sinks == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < conf->n_sinks; i++) {
		r = sink_new(&conf->sinks[i], &p->sinks[i], &e);
		if (r < 0) {
			if (e.line > 0 && e.file[0] == '\0')
				snprintf(e.file, sizeof(e.file), "%s", conf->path);
			(void)fw_errors_add(errs, &e);
			goto fail;
		}
		p->n_sinks++;
	}
	*ret = p;
	return 0;
fail:
	pipeline_free(p);
	return r;
}

struct pipeline *
pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return NULL;
	for (size_t i = 0; p->sinks != NULL && i < p->n_sinks; i++)
		sink_free(p->sinks[i]);
	free(p->sinks);
	classifier_free(p->classifier);
	for (size_t i = 0; p->feed_headers != NULL && i < p->conf->n_feeds; i++)
		header_lines_free(p->feed_headers[i]);
	free(p->feed_headers);
	free(p->canon_lists);
	free(p->feed_ids);
	store_close(p->store);
	conf_free(p->conf);
	free(p);
	return NULL;
}

void
pipeline_reopen_sinks(struct pipeline *p)
{
	for (size_t i = 0; i < p->n_sinks; i++)
		sink_reopen(p->sinks[i]);
}

const char *
pipeline_feed_url(const struct pipeline *p, const struct conf_feed *feed,
    const struct store_feed *state)
{
	if (state != NULL && state->redirect_url != NULL &&
	    state->redirect_count >= (int)p->conf->redirect_hold)
		return state->redirect_url;
	return feed->url;
}

void
pipeline_fetch_opts(const struct pipeline *p, const struct conf_feed *feed,
    const struct store_feed *state, struct fetch_opts *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->timeout = feed->timeout;
	ret->max_bytes = feed->max_bytes;
	ret->user_agent = p->conf->user_agent;
	ret->ca_path = p->conf->ca_path;
	ret->proxy = p->conf->proxy;
	if (p->feed_headers != NULL && feed >= p->conf->feeds &&
	    feed < p->conf->feeds + p->conf->n_feeds)
		ret->headers = (const char *const *)p->feed_headers[feed - p->conf->feeds];
	ret->headers_origin = feed->url;
	ret->allow_downgrade = feed->allow_downgrade;
	ret->allow_private = feed->allow_private;
	if (state != NULL) {
		ret->etag = state->etag;
		ret->last_modified = state->last_modified;
	}
}

static void
header_lines_free(char **lines)
{
	for (size_t i = 0; lines != NULL && lines[i] != NULL; i++)
		free(lines[i]);
	free(lines);
}

/* "Name: value" lines for libcurl, one array per feed (NULL when none). */
static int
feed_headers_build(struct pipeline *p)
{
	const struct conf *c = p->conf;

	p->feed_headers = calloc(c->n_feeds ? c->n_feeds : 1, sizeof(*p->feed_headers));
	if (p->feed_headers == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_feeds; i++) {
		const struct conf_feed	*f = &c->feeds[i];
		char			**lines;

		if (f->n_headers == 0)
			continue;
		lines = calloc(f->n_headers + 1, sizeof(*lines));
		if (lines == NULL)
			return -ENOMEM;
		p->feed_headers[i] = lines;
		for (size_t j = 0; j < f->n_headers; j++)
			if (asprintf(&lines[j], "%s: %s", f->headers[j].name,
			    f->headers[j].value ? f->headers[j].value : "") < 0) {
				lines[j] = NULL;
				return -ENOMEM;
			}
	}
	return 0;
}

/* The canonical-link lists and clustering options from the configuration:
 * a list the user gave replaces canon.c's default. */
static int
developments_setup(struct pipeline *p)
{
	const struct conf_developments	*d = &p->conf->developments;
	const struct conf_strlist	*lists[3] = {
		&d->strip_params, &d->host_prefixes, &d->aggregators,
	};
	size_t				 total = 0, k = 0;

	for (size_t i = 0; i < 3; i++)
		total += lists[i]->n;
	p->canon_lists = calloc(total ? total : 1, sizeof(*p->canon_lists));
	if (p->canon_lists == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < 3; i++) {
		const char **start = p->canon_lists + k;

		for (size_t j = 0; j < lists[i]->n; j++)
			p->canon_lists[k++] = lists[i]->v[j].s;
		if (i == 0 && d->have_strip_params) {
			p->canon.strip_params = start;
			p->canon.n_strip_params = lists[i]->n;
		} else if (i == 1 && d->have_host_prefixes) {
			p->canon.host_prefixes = start;
			p->canon.n_host_prefixes = lists[i]->n;
		} else if (i == 2 && d->have_aggregators) {
			p->canon.aggregators = start;
			p->canon.n_aggregators = lists[i]->n;
		}
	}
	cluster_opts_default(&p->cluster);
	p->cluster.window = d->window;
	p->cluster.threshold = d->threshold;
	return 0;
}

static int
replace_str(char **dst, const char *src)
{
	char *p = NULL;

	if (src != NULL && (p = strdup(src)) == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = p;
	return 0;
}

static int64_t
random_below(int64_t n)
{
	return n > 0 ? (int64_t)(random() % n) : 0;
}

int64_t
pipeline_backoff_delay(int64_t base, int errors, int64_t cap)
{
	int64_t d = base > 0 ? base : 60;

	if (cap <= 0)
		cap = 24 * 3600;
	for (int i = 1; i < errors && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	/* Jitter only downwards, so the cap holds and feeds that failed
	 * together (one host down) drift apart. */
	return d - random_below(d / 5 + 1);
}

static int
cmp_time_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

#define PUBLISH_SAMPLE	20	/* newest dated items looked at */

int64_t
pipeline_publish_gap(const struct feed_doc *doc, int64_t *ret_newest)
{
	int64_t	t[PUBLISH_SAMPLE * 4], gaps[PUBLISH_SAMPLE];
	size_t	n = 0, ng = 0;

	*ret_newest = FW_TIME_NONE;
	if (doc == NULL)
		return 0;
	for (size_t i = 0; i < doc->n_items && n < PUBLISH_SAMPLE * 4; i++) {
		const struct feed_item	*it = &doc->items[i];
		int64_t			 v = it->published != FW_TIME_NONE ? it->published
		    : it->updated;

		if (v != FW_TIME_NONE)
			t[n++] = v;
	}
	if (n == 0)
		return 0;
	qsort(t, n, sizeof(t[0]), cmp_time_desc);
	*ret_newest = t[0];
	for (size_t i = 1; i < n && ng < PUBLISH_SAMPLE; i++)
		gaps[ng++] = t[i - 1] - t[i];
	if (ng < 2)
		return 0;
	qsort(gaps, ng, sizeof(gaps[0]), cmp_i64);
	return gaps[ng / 2] > 0 ? gaps[ng / 2] : 1;
}

int64_t
pipeline_adaptive_interval(const struct conf_feed *feed, const struct feed_doc *doc,
    int64_t max_age, int64_t prev)
{
	int64_t	lo = feed->min_interval > 0 ? feed->min_interval : feed->interval;
	int64_t	hi = feed->max_interval > 0 ? feed->max_interval : feed->interval;
	int64_t	newest, gap, v, hint;

	/* An explicit interval outside [min, max] widens the range: the user
	 * asked for it. */
	if (feed->interval > 0 && feed->interval < lo)
		lo = feed->interval;
	if (feed->interval > hi)
		hi = feed->interval;
	if (hi < lo)
		hi = lo;
	gap = pipeline_publish_gap(doc, &newest);
	/* Polling twice per usual gap catches most items within half a gap. */
	v = gap > 0 ? gap / 2 : prev > 0 ? prev : feed->interval;
	if (v < lo)
		v = lo;
	if (v > hi)
		v = hi;
	/* RSS 2.0 <ttl>: "number of minutes that indicates how long a channel
	 * can be cached before refreshing from the source"; sy:updatePeriod
	 * likewise; and HTTP freshness. Each may lengthen the interval, never
	 * beyond the maximum the user allows. */
	hint = doc != NULL ? doc->ttl_seconds : 0;
	if (max_age > hint)
		hint = max_age;
	if (hint > v)
		v = hint < hi ? hint : hi;
	return v;
}

/* The interval a feed polls at after a (re)load, from what is known
 * without a poll: the publishing rate if one was seen, else the configured
 * interval; within the feed's configured bounds either way. */
static int64_t
fitted_interval(const struct conf_feed *feed, const struct store_feed *st)
{
	int64_t	lo = feed->min_interval > 0 ? feed->min_interval : feed->interval;
	int64_t	hi = feed->max_interval > 0 ? feed->max_interval : feed->interval;
	int64_t	v = st->publish_gap > 0 ? st->interval : feed->interval;

	if (feed->interval > 0 && feed->interval < lo)
		lo = feed->interval;
	if (feed->interval > hi)
		hi = feed->interval;
	if (hi < lo)
		hi = lo;
	if (v <= 0)
		v = feed->interval;
	return v < lo ? lo : v > hi ? hi : v;
}

int
pipeline_schedule_fit(struct pipeline *p, int64_t now, struct fw_error *reterr)
{
	struct store_feed	st;
	int64_t			interval, due, n_stored;
	int64_t			*ids;
	int			r = 0;

	ids = reallocarray(p->feed_ids, p->conf->n_feeds ? p->conf->n_feeds : 1, sizeof(*ids));
	if (ids == NULL)
		return -ENOMEM;
	p->feed_ids = ids;
	for (size_t i = 0; i < p->conf->n_feeds && r == 0; i++) {
		const struct conf_feed *feed = &p->conf->feeds[i];

		r = store_feed_get(p->store, feed->url, &st, reterr);
		if (r < 0)
			break;
		p->feed_ids[i] = st.id;
		/* A feed in backoff keeps its retry time; a new one is due. */
		if (st.last_poll != 0 && st.consecutive_errors == 0 && !st.disabled) {
			interval = fitted_interval(feed, &st);
			due = st.last_poll + interval;
			if (due < now)
				due = now;
			if (interval != st.interval || st.next_poll > due) {
				log_debug("feed '%s': interval %llds, next poll in %llds after "
				    "loading the configuration", feed->name, (long long)interval,
				    (long long)((st.next_poll > due ? due : st.next_poll) - now));
				st.interval = interval;
				if (st.next_poll > due)
					st.next_poll = due;
				r = store_feed_save(p->store, &st, reterr);
			}
		}
		store_feed_done(&st);
	}
	/* Instances share the database's watchlist, each polling the feeds
	 * its own configuration lists: a feed only another one lists is
	 * never polled here, which is right while configurations are rolled
	 * out and wrong when one was forgotten. */
	if (r == 0 && store_is_shared(p->store) &&
	    (r = store_feeds_count(p->store, &n_stored, reterr)) == 0 &&
	    n_stored > (int64_t)p->conf->n_feeds)
	{
		long long n_other = (long long)(n_stored - (int64_t)p->conf->n_feeds);

		log_notice("the shared state %s holds %lld %s this configuration does not "
		    "list: only instances whose configuration lists a feed poll it",
		    store_label(p->store), n_other, n_other == 1 ? "feed" : "feeds");
	}
	return r;
}

/* Feed-health states, as bits of store_feed.health_alerted. */
enum health {
	HEALTH_FAILING = 1,
	HEALTH_SILENT = 2,
};

/* One line per queued alert, with journal fields, so that `journalctl
 * TOPIC=sma` or `ALERT_ID=...` finds it (journald keeps repeated fields). */
static void
log_alert_queued(const struct conf_feed *feed, const char *id,
    const char *const *topics, size_t nt, size_t n_sinks)
{
	struct log_field	f[2 + 8 + 1] = { { "FEED_URL", feed->url }, { "ALERT_ID", id } };
	char			list[256] = "";
	size_t			nf = 2, len = 0;

	for (size_t i = 0; i < nt && nf < 10; i++) {
		f[nf++] = (struct log_field){ "TOPIC", topics[i] };
		len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
		    "%s%s", i > 0 ? ", " : "", topics[i]);
		if (len >= sizeof(list))
			len = sizeof(list) - 1;
	}
	f[nf] = (struct log_field){ NULL, NULL };
	log_struct(LOG_LEVEL_INFO, f, "feed '%s': alert %s queued for %zu sinks (topics: %s)",
	    feed->name, id, n_sinks, list);
}

/* Queues one feed-health alert in the outbox (call inside a transaction).
 * Its dedup key names the episode, so a replay cannot queue it twice. */
static int
health_alert(struct pipeline *p, const struct conf_feed *feed, const char *state,
    enum severity sev, const char *title, const char *summary, int64_t episode,
    int64_t now, struct poll_stats *stats, struct fw_error *err)
{
	const char	*topics[1] = { CONF_HEALTH_TOPIC };
	const char	*sinks[64];
	size_t		 ns = 0;
	char		*key = NULL, *json = NULL, hex[33], tbuf[40];
	char		*url = NULL, *shown_key = NULL;
	json_t		*o = NULL;
	int		 r = -ENOMEM;

	if (asprintf(&key, "feed_health:%s:%s:%lld", state, feed->url, (long long)episode) < 0) {
		key = NULL;
		goto out;
	}
	/* The key stays whole (it is the identity); what sinks show of the
	 * URL has no secrets (safe.h). */
	if ((url = safe_redact(feed->url)) == NULL || (shown_key = safe_redact(key)) == NULL)
		goto out;
	alert_hash_hex(key, hex);
	o = json_pack("{s:s, s:s, s:s, s:[s], s:{}, s:[], s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}}",
	    "id", hex, "created", fw_time_format(now, tbuf, sizeof(tbuf)),
	    "severity", severity_to_string(sev), "topics", CONF_HEALTH_TOPIC,
	    "matches", "hits", "feed", url, "feed_name", feed->name,
	    "health", state,
	    "item", "id", shown_key, "title", title, "link", url,
	    "published", fw_time_format(now, tbuf, sizeof(tbuf)), "summary", summary);
	if (o == NULL || (json = json_dumps(o, JSON_COMPACT)) == NULL)
		goto out;
	for (size_t i = 0; i < p->n_sinks && ns < 64; i++)
		if (sink_accepts(p->sinks[i]->conf, feed->name, feed->url, topics, 1, sev))
			sinks[ns++] = p->sinks[i]->conf->name;
	r = store_alert_add(p->store, hex, key, json, now, sinks, ns, err);
	for (size_t i = 0; r > 0 && i < ns; i++)
		metrics_alert_queued(sinks[i]);
	/* Counted and logged as topic alerts are: the cycle summary's
	 * "alerts" are all the alerts the sinks will receive. */
	if (r > 0) {
		log_alert_queued(feed, hex, topics, 1, ns);
		stats->alerts++;
		stats->health_alerts++;
	}
out:
	if (r == -ENOMEM)
		fw_error_set(err, NULL, 0, 0, "out of memory");
	json_decref(o);
	free(json);
	free(key);
	free(url);
	free(shown_key);
	return r < 0 ? r : 0;
}

/* What the health of a feed became with this poll, for the alerts queued
 * with its state. */
struct health_change {
	int	 raise;		/* HEALTH_* bits to raise an alert for */
	int	 recover;	/* HEALTH_* bits that recovered */
	int64_t	 gap;		/* for the silence alert */
	int64_t	 newest;
	char	 reason[512];
};

static int
health_apply(struct pipeline *p, const struct conf_feed *feed, struct store_feed *st,
    const struct health_change *hc, int64_t now, struct poll_stats *stats,
    struct fw_error *err)
{
	char	title[600], summary[1200];
	int	r;

	if (hc->raise & HEALTH_FAILING) {
		snprintf(title, sizeof(title), "Feed '%s' is failing: %d polls in a row",
		    feed->name, st->consecutive_errors);
		snprintf(summary, sizeof(summary), "Last error: %s. feedwatch keeps "
		    "retrying with backoff.", hc->reason);
		r = health_alert(p, feed, "failing", SEVERITY_HIGH, title, summary,
		    st->last_success, now, stats, err);
		if (r < 0)
			return r;
		st->health_alerted |= HEALTH_FAILING;
	}
	if (hc->raise & HEALTH_SILENT) {
		snprintf(title, sizeof(title), "Feed '%s' has been silent for %lld days",
		    feed->name, (long long)((now - hc->newest) / 86400));
		snprintf(summary, sizeof(summary), "It usually publishes every %lld minutes; "
		    "nothing new has come from it for %lld hours.", (long long)(hc->gap / 60),
		    (long long)((now - hc->newest) / 3600));
		r = health_alert(p, feed, "silent", SEVERITY_NORMAL, title, summary,
		    hc->newest, now, stats, err);
		if (r < 0)
			return r;
		st->health_alerted |= HEALTH_SILENT;
	}
	if (hc->recover != 0) {
		snprintf(title, sizeof(title), "Feed '%s' has recovered", feed->name);
		snprintf(summary, sizeof(summary), "%s", (hc->recover & HEALTH_FAILING)
		    ? "It answers again." : "It publishes again.");
		r = health_alert(p, feed, "recovered", SEVERITY_NORMAL, title, summary,
		    now, now, stats, err);
		if (r < 0)
			return r;
		st->health_alerted &= ~hc->recover;
	}
	return 0;
}

static void
feed_failed(struct pipeline *p, const struct conf_feed *feed, struct store_feed *st,
    long status, const char *reason, int64_t retry_after, int64_t now,
    struct poll_stats *stats, struct health_change *hc)
{
	int64_t base = st->interval > 0 ? st->interval : feed->interval;

	st->last_poll = now;
	st->last_status = status;
	st->consecutive_errors++;
	{
		/* Shown by status and in health alerts: no secrets (safe.h). */
		char *shown = reason != NULL ? safe_redact(reason) : NULL;

		(void)replace_str(&st->last_error, shown != NULL ? shown : reason);
		free(shown);
	}
	/* A server may ask for a longer wait, never a shorter one: a
	 * "Retry-After: 0" or a date in the past is the feed's interval. */
	if (retry_after >= 0)
		st->next_poll = now + (retry_after > base ? retry_after : base);
	else
		st->next_poll = now + pipeline_backoff_delay(base, st->consecutive_errors,
		    p->conf->backoff_cap);
	log_struct(LOG_LEVEL_WARNING, LOG_FIELDS({ "FEED_URL", feed->url }),
	    "feed '%s': %s; error %d in a row, next try in %llds",
	    feed->name, reason, st->consecutive_errors,
	    (long long)(st->next_poll - now));
	if (st->consecutive_errors >= (int)p->conf->health_failures &&
	    !(st->health_alerted & HEALTH_FAILING)) {
		hc->raise |= HEALTH_FAILING;
		snprintf(hc->reason, sizeof(hc->reason), "%s", reason);
	}
	stats->feeds_failed++;
}

/* Whether the item is news to the user, on the first poll of a feed. */
static bool
within_backlog(const struct conf_feed *feed, const struct feed_item *item, int64_t now)
{
	int64_t t = item->published != FW_TIME_NONE ? item->published : item->updated;

	/* An undated item on a first poll cannot be shown to be new:
	 * remember it silently rather than flood the user. */
	if (t == FW_TIME_NONE)
		return false;
	return t >= now - feed->backlog;
}

static int
queue_alert(struct pipeline *p, const struct conf_feed *feed, const struct feed_item *item,
    const struct classify_result *cls, const struct alert_development *dev, int64_t now,
    char **ret_id, struct fw_error *err)
{
	struct alert	 a;
	const char	*topics[64];
	const char	*sinks[64];
	size_t		 nt = 0, ns = 0;
	int		 r;

	r = alert_build_dev(feed, NULL, item, cls, dev, now, &a);
	if (r < 0) {
		fw_error_set(err, NULL, 0, 0, "cannot build an alert: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < cls->n_matches && nt < 64; i++)
		topics[nt++] = cls->matches[i].topic;
	for (size_t i = 0; i < p->n_sinks && ns < 64; i++)
		if (sink_accepts(p->sinks[i]->conf, feed->name, feed->url, topics, nt, a.severity))
			sinks[ns++] = p->sinks[i]->conf->name;
	r = store_alert_add(p->store, a.id, a.dedup_key, a.json, now, sinks, ns, err);
	for (size_t i = 0; r > 0 && i < ns; i++)
		metrics_alert_queued(sinks[i]);
	if (r > 0)
		log_alert_queued(feed, a.id, topics, nt, ns);
	if (r == 0)
		log_debug("feed '%s': item '%s' was already alerted through another feed",
		    feed->name, item->id);
	/* The id is a hash of the dedup key: also the earlier alert's. */
	if (r >= 0 && ret_id != NULL && (*ret_id = strdup(a.id)) == NULL)
		r = -ENOMEM;
	alert_done(&a);
	return r;
}

/* The item's identity across feeds: the publisher's link behind an
 * aggregator's, in canonical form. NULL when it has no link. */
static char *
item_canon(const struct pipeline *p, const struct feed_item *item)
{
	char	*pub = NULL, *out = NULL;
	int	 r;

	if (item->link == NULL || item->link[0] == '\0')
		return NULL;
	r = canon_publisher_link(item->link, NULL,
	    item->content != NULL ? item->content : item->summary, &p->canon, &pub);
	if (r >= 0 && canon_link(r > 0 ? pub : item->link, &p->canon, &out) < 0)
		out = NULL;
	free(pub);
	return out;
}

static const struct conf_topic *
conf_topic_named(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_topics; i++)
		if (c->topics[i].name.s != NULL && strcmp(c->topics[i].name.s, name) == 0)
			return &c->topics[i];
	return NULL;
}

/* Whether a story that joined a development is news by the updates rules
 * of the topics it matched: a new key figure, or the number of feeds that
 * makes it confirmed; or by the rules of a topic the development had not
 * matched before. */
static bool
update_wanted(const struct pipeline *p, const struct classify_result *cls,
    const struct cluster_result *cr, struct alert_development *dev)
{
	bool figure = false, topic = false, sources = false;

	for (size_t i = 0; i < cls->n_matches; i++) {
		const struct conf_topic *t = conf_topic_named(p->conf, cls->matches[i].topic);
		struct conf_updates u = t != NULL ? t->updates
		    : (struct conf_updates){ .new_figure = true, .new_topic = true };

		figure |= u.new_figure && cr->n_new_figures > 0;
		sources |= u.sources > 0 && cr->new_source && cr->n_sources == u.sources;
	}
	/* A topic the development had not matched asks its own rules. */
	for (size_t i = 0; i < cr->n_new_topics; i++) {
		const struct conf_topic *t = conf_topic_named(p->conf, cr->new_topics[i]);

		topic |= t == NULL || t->updates.new_topic;
	}
	if (figure) {
		dev->new_figures = (const char *const *)cr->new_figures;
		dev->n_new_figures = cr->n_new_figures;
	}
	if (topic) {
		dev->new_topics = (const char *const *)cr->new_topics;
		dev->n_new_topics = cr->n_new_topics;
	}
	if (sources)
		dev->n_sources = cr->n_sources;
	return figure || topic || sources;
}

/* Puts a matching item in its development and raises what it deserves:
 * the alert when it is the development's first alerting story, an update
 * alert when it moves the story, nothing for one more report of it. A
 * backlog item (first poll) is placed but raises nothing. Returns 1 when
 * an alert was queued. */
static int
story_alert(struct pipeline *p, const struct conf_feed *feed, int64_t feed_id,
    const struct feed_item *item, const char *canon, const struct classify_result *cls,
    bool backlog, int64_t now, struct fw_error *err)
{
	struct cluster_result	 cr = { 0 };
	struct alert_development dev = { 0 };
	const char		*topics[64];
	char			*id = NULL;
	size_t			 nt = 0;
	int64_t			 t = item->published != FW_TIME_NONE ? item->published
	    : item->updated != FW_TIME_NONE ? item->updated : now;
	int			 r;

	for (size_t i = 0; i < cls->n_matches && nt < 64; i++)
		topics[nt++] = cls->matches[i].topic;
	r = cluster_add(p->store, &p->cluster, feed_id, feed->name, item, canon, topics, nt,
	    t, now, &cr, err);
	if (r < 0 || backlog)
		goto out;
	dev.key = cr.key;
	dev.sources = cr.sources;
	dev.canon = canon;
	if (cr.alert_id == NULL) {
		r = queue_alert(p, feed, item, cls, &dev, now, &id, err);
		if (r >= 0 && cluster_set_alert(p->store, cr.development, id, err) < 0)
			r = -EIO;
	} else if (update_wanted(p, cls, &cr, &dev)) {
		dev.updates = cr.alert_id;
		r = queue_alert(p, feed, item, cls, &dev, now, NULL, err);
	} else {
		log_debug("feed '%s': item '%s' joins development %s (%zu sources): no alert",
		    feed->name, item->id, cr.key, cr.n_sources);
		r = 0;
	}
out:
	free(id);
	cluster_result_done(&cr);
	return r;
}

/* One alert for the matching items of a poll past max_alerts_per_poll: a
 * feed that suddenly carries 70,000 new items (by mistake or on purpose)
 * must not fill the outbox and every receiver. They are marked seen. */
static int
flood_summary(struct pipeline *p, const struct conf_feed *feed, size_t n_alerted,
    size_t n_over, int64_t now, struct poll_stats *stats, struct fw_error *err)
{
	char	*title = NULL, *summary = NULL;
	int	 r = -ENOMEM;

	log_warnx("feed '%s': %zu more matching items in this poll than "
	    "max_alerts_per_poll (%u); one alert sums them up", feed->name, n_over,
	    feed->max_alerts_per_poll);
	if (asprintf(&title, "Feed '%s': %zu more matching items not alerted",
	    feed->name, n_over) < 0)
		title = NULL;
	else if (asprintf(&summary, "One poll of this feed found %zu new items matching "
	    "topics; the first %zu were alerted (max_alerts_per_poll: %u), the other "
	    "%zu were recorded as seen without an alert each. See the feed itself.",
	    n_alerted + n_over, n_alerted, feed->max_alerts_per_poll, n_over) < 0)
		summary = NULL;
	else
		r = health_alert(p, feed, "flood", SEVERITY_NORMAL, title, summary, now, now,
		    stats, err);
	free(title);
	free(summary);
	return r;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Joins the batch's open transaction, or begins one. */
static int
tx_begin(struct pipeline *p, struct fw_error *reterr)
{
	int r;

	if (p->batch.open)
		return 0;
	if ((r = store_begin(p->store, reterr)) < 0)
		return r;
	p->batch.open = true;
	p->batch.t0_ms = mono_ms();
	p->batch.feeds = p->batch.items = 0;
	return 0;
}

static int
tx_commit(struct pipeline *p, struct fw_error *reterr)
{
	int r;

	if (!p->batch.open)
		return 0;
	p->batch.open = false;
	if ((r = store_commit(p->store, reterr)) < 0)
		store_rollback(p->store);
	return r;
}

/* One feed's results are all in the transaction: committed now, or with
 * the next feeds' while the batch is young and small. Each commit
 * rewrites the same index pages (items, alerts, deliveries) into the WAL:
 * committing per feed cost a burst most of its bytes written. */
static int
tx_feed_done(struct pipeline *p, size_t n_new, struct fw_error *reterr)
{
	p->batch.feeds++;
	p->batch.items += n_new;
	if (p->batch.on && p->batch.items < p->batch.max_items &&
	    mono_ms() - p->batch.t0_ms < p->batch.max_ms)
		return 0;
	return tx_commit(p, reterr);
}

/* A feed's results failed half-way: the transaction goes, and with it
 * the results of the feeds before it in the batch. None of them saved
 * its validators, so the next cycle fetches them again. */
static void
tx_abort(struct pipeline *p)
{
	if (!p->batch.open)
		return;
	store_rollback(p->store);
	p->batch.open = false;
	if (p->batch.feeds > 0)
		log_warnx("the results of the %zu feeds before it in the same transaction "
		    "are not saved either: they are fetched again next cycle", p->batch.feeds);
}

/* Only on a state file of its own: on a shared database, two instances'
 * batches that queue the same stories through different feeds, in
 * different orders, would each wait on a unique key the other holds
 * uncommitted, and PostgreSQL ends such a deadlock by failing one of
 * them. A feed's own transaction holds its keys for milliseconds. */
void
pipeline_batch_begin(struct pipeline *p)
{
	p->batch.on = !store_is_shared(p->store);
}

static int
batch_commit(struct pipeline *p)
{
	struct fw_error	e;
	size_t		feeds = p->batch.feeds;
	int		r;

	if ((r = tx_commit(p, &e)) < 0)
		log_errx("cannot save the results of %zu feeds (fetched again next cycle): %s",
		    feeds, e.msg);
	return r;
}

int
pipeline_batch_due(struct pipeline *p)
{
	if (!p->batch.open || mono_ms() - p->batch.t0_ms < p->batch.max_ms)
		return 0;
	return batch_commit(p);
}

int
pipeline_batch_end(struct pipeline *p, bool commit)
{
	p->batch.on = false;
	if (commit)
		return batch_commit(p);
	if (p->batch.open) {
		store_rollback(p->store);
		p->batch.open = false;
	}
	return 0;
}

/* Records every new item of doc and queues the alerts, with the feed's
 * state and any health alert, in one transaction (see tx_feed_done()). */
static int
feed_store_items(struct pipeline *p, const struct conf_feed *feed, struct store_feed *st,
    const struct feed_doc *doc, bool first_poll, const struct health_change *hc,
    int64_t now, struct poll_stats *stats, size_t *ret_new, size_t *ret_alerts)
{
	struct fw_error	e;
	size_t		n_new = 0, n_alerts = 0, n_over = 0;
	int		r;

	r = tx_begin(p, &e);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < doc->n_items; i++) {
		const struct feed_item	*item = &doc->items[i];
		struct classify_result	 cls = { 0 };
		char			*canon = item_canon(p, item);
		bool			 backlog;

		r = store_item_mark_seen_canon(p->store, st->id, item, canon,
		    now - p->cluster.window, now, &e);
		if (r <= 0) {
			free(canon);
			if (r < 0)
				goto fail;
			continue;
		}
		n_new++;
		backlog = first_poll && !within_backlog(feed, item, now);
		/* Backlog items are classified too when developments are kept:
		 * each matching item belongs to one, alerted or not. */
		if (backlog && !p->conf->developments.group) {
			free(canon);
			continue;
		}
		r = classify_item(p->classifier, feed, item, &cls);
		if (r < 0) {
			free(canon);
			fw_error_set(&e, NULL, 0, 0, "cannot classify: %s", strerror(-r));
			goto fail;
		}
		if (cls.n_matches > 0) {
			/* Past max_alerts_per_poll an item is still seen, and
			 * placed in its development, but summed up below. */
			bool over = !backlog && n_alerts >= feed->max_alerts_per_poll;

			if (over)
				n_over++;
			if (p->conf->developments.group)
				r = story_alert(p, feed, st->id, item, canon, &cls, backlog || over,
				    now, &e);
			else if (!over)
				r = queue_alert(p, feed, item, &cls, NULL, now, NULL, &e);
			if (r > 0)
				n_alerts++;
		}
		classify_result_done(&cls);
		free(canon);
		if (r < 0)
			goto fail;
	}
	st->items_seen += (int64_t)n_new;
	if (n_over > 0 && (r = flood_summary(p, feed, n_alerts, n_over, now, stats, &e)) < 0)
		goto fail;
	r = health_apply(p, feed, st, hc, now, stats, &e);
	if (r < 0)
		goto fail;
	r = store_feed_save(p->store, st, &e);
	if (r < 0)
		goto fail;
	r = tx_feed_done(p, n_new, &e);
	if (r < 0)
		goto fail;
	stats->new_items += n_new;
	stats->alerts += n_alerts;
	*ret_new = n_new;
	*ret_alerts = n_alerts;
	return 0;
fail:
	log_errx("feed '%s': %s", feed->name, e.msg);
	tx_abort(p);
	return r;
}

/* Follows a permanent redirect over polls: once the same 301/308 target was
 * seen redirect_hold polls in a row, it becomes the URL polled. */
static void
feed_redirects(struct pipeline *p, const struct conf_feed *feed, struct store_feed *st,
    const char *polled, const struct fetch_result *res)
{
	const char *to = res->permanent_url;

	if (to != NULL && strcmp(to, polled) != 0) {
		if (st->redirect_url != NULL && strcmp(st->redirect_url, to) == 0)
			st->redirect_count++;
		else if (replace_str(&st->redirect_url, to) == 0)
			st->redirect_count = 1;
		if (st->redirect_count == (int)p->conf->redirect_hold)
			log_notice("feed '%s': '%s' moved permanently to '%s' (%d polls in a "
			    "row): polling the new URL from now on; please update the "
			    "configuration", feed->name, feed->url, to, st->redirect_count);
		return;
	}
	/* A move that did not hold (or a temporary redirect) is forgotten;
	 * one that held stays while its new URL answers. */
	if (polled == feed->url && st->redirect_url != NULL) {
		(void)replace_str(&st->redirect_url, NULL);
		st->redirect_count = 0;
	}
}

/* Writes the feed's state, with any health alert, in one transaction
 * (see tx_feed_done()). */
static int
feed_save(struct pipeline *p, const struct conf_feed *feed, struct store_feed *st,
    const struct health_change *hc, int64_t now, struct poll_stats *stats)
{
	struct fw_error	e;
	int		r;

	/* Alone, one statement needs no transaction of its own (a shared
	 * database's warm cycle is 500 of these). */
	if (!p->batch.on && hc->raise == 0 && hc->recover == 0) {
		if ((r = store_feed_save(p->store, st, &e)) < 0)
			log_errx("feed '%s': %s", feed->name, e.msg);
		return r;
	}
	if ((r = tx_begin(p, &e)) < 0 ||
	    (r = health_apply(p, feed, st, hc, now, stats, &e)) < 0 ||
	    (r = store_feed_save(p->store, st, &e)) < 0 ||
	    (r = tx_feed_done(p, 0, &e)) < 0) {
		log_errx("feed '%s': %s", feed->name, e.msg);
		tx_abort(p);
	}
	return r;
}

int
pipeline_feed_done(struct pipeline *p, const struct conf_feed *feed, int fetch_rc,
    const struct fw_error *fetch_err, const struct fetch_result *res, int64_t now,
    struct poll_stats *stats)
{
	struct store_feed	 st;
	struct health_change	 hc = { 0 };
	struct feed_doc		*doc = NULL;
	struct parse_limits	 lim;
	struct fw_error		 e;
	const char		*polled;
	char			 hash[33], reason[1200];
	size_t			 n_new = 0, n_alerts = 0;
	int64_t			 ra, interval, gap, newest;
	bool			 first, never_ok;
	int			 r;

	r = store_feed_get(p->store, feed->url, &st, &e);
	if (r < 0) {
		log_errx("%s", e.msg);
		return r;
	}
	/* Every finished transfer counts for /metrics and shows the service
	 * manager's watchdog that the loop is making progress. */
	metrics_poll_observe(fetch_rc < 0 ? 0 : res->status);
	if (fetch_rc == 0)
		metrics_latency_observe(res->seconds);
	(void)notify_watchdog();
	first = st.last_poll == 0;
	never_ok = st.last_success == 0;
	polled = pipeline_feed_url(p, feed, &st);
	if (fetch_rc < 0) {
		snprintf(reason, sizeof(reason), "%s", fetch_err->msg);
		feed_failed(p, feed, &st, 0, reason, -1, now, stats, &hc);
		goto save;
	}
	if (res->status == 304) {
		feed_redirects(p, feed, &st, polled, res);
		/* RFC 9110 15.4.5: a 304 carries the validators the 200 would
		 * have had: keep them fresh. */
		if (res->etag != NULL)
			(void)replace_str(&st.etag, res->etag);
		if (res->last_modified != NULL)
			(void)replace_str(&st.last_modified, res->last_modified);
		goto success;
	}
	if (res->status == 410) {
		st.disabled = true;
		log_warnx("feed '%s': HTTP 410 Gone: the publisher removed this feed; "
		    "it is disabled until you change its URL", feed->name);
		feed_failed(p, feed, &st, res->status, "HTTP 410 Gone (feed disabled)", -1, now,
		    stats, &hc);
		/* The user hears of it through the sinks too, once. */
		hc.raise |= HEALTH_FAILING;
		snprintf(hc.reason, sizeof(hc.reason), "HTTP 410 Gone: the feed is disabled "
		    "until its URL changes");
		goto save;
	}
	if (res->status < 200 || res->status > 299) {
		/* RFC 9110 10.2.3 and RFC 6585 4: Retry-After on 503 and 429 is
		 * honoured for this feed alone. */
		ra = -1;
		if (res->status == 429 || res->status == 503) {
			ra = fetch_retry_after_seconds(res->retry_after, now);
			if (ra > PIPELINE_MAX_RETRY_AFTER)
				ra = PIPELINE_MAX_RETRY_AFTER;
		}
		if (ra >= 0)
			snprintf(reason, sizeof(reason), "HTTP %ld, Retry-After %llds",
			    res->status, (long long)ra);
		else
			snprintf(reason, sizeof(reason), "HTTP %ld", res->status);
		feed_failed(p, feed, &st, res->status, reason, ra, now, stats, &hc);
		goto save;
	}
	/* NOTE: feed_redirects() may replace st.redirect_url, which polled
	 * points to when the held URL moved again: it runs only once polled
	 * is no longer needed. */
	/* A server without validators sends the same body again: skip it. */
	alert_hash_hex(res->body, hash);
	if (st.body_hash != NULL && strcmp(st.body_hash, hash) == 0 &&
	    st.last_success != 0) {
		feed_redirects(p, feed, &st, polled, res);
		(void)replace_str(&st.etag, res->etag);
		(void)replace_str(&st.last_modified, res->last_modified);
		goto success;
	}
	parse_limits_default(&lim);
	if (feed->max_bytes > 0)
		lim.max_bytes = feed->max_bytes;
	r = parse_feed(res->body, res->len, res->effective_url ? res->effective_url : polled,
	    res->content_type, &lim, &doc, &e);
	feed_redirects(p, feed, &st, polled, res);
	if (r < 0) {
		snprintf(reason, sizeof(reason), "%s", e.msg);
		feed_failed(p, feed, &st, res->status, reason, -1, now, stats, &hc);
		goto save;
	}
	for (size_t i = 0; i < doc->n_warnings; i++)
		log_info("feed '%s': %s", feed->name, doc->warnings[i]);
	(void)replace_str(&st.body_hash, hash);
	(void)replace_str(&st.etag, res->etag);
	(void)replace_str(&st.last_modified, res->last_modified);
	stats->items += doc->n_items;

success:
	if (st.consecutive_errors > 0)
		log_notice("feed '%s': recovered after %d failed polls", feed->name,
		    st.consecutive_errors);
	if (st.health_alerted & HEALTH_FAILING)
		hc.recover |= HEALTH_FAILING;
	/* The publishing rate is remembered, so that silence is noticed
	 * through 304s and unchanged bodies too. */
	gap = pipeline_publish_gap(doc, &newest);
	if (gap > 0)
		st.publish_gap = gap;
	if (newest != FW_TIME_NONE && newest > st.newest_item)
		st.newest_item = newest;
	/* Silence is what feedwatch saw while polling, not the age of the
	 * backlog: a feed whose items are all old when it is added starts its
	 * silence window now, so its first poll never raises a health alert. */
	if (never_ok && st.newest_item < now)
		st.newest_item = now;
	if (st.publish_gap > 0 && st.newest_item > 0) {
		int64_t silence = st.publish_gap * PIPELINE_SILENCE_FACTOR;

		if (silence < 86400)
			silence = 86400;
		if (now - st.newest_item > silence && !(st.health_alerted & HEALTH_SILENT)) {
			hc.raise |= HEALTH_SILENT;
			hc.gap = st.publish_gap;
			hc.newest = st.newest_item;
		} else if (now - st.newest_item <= silence && (st.health_alerted & HEALTH_SILENT))
			hc.recover |= HEALTH_SILENT;
	}
	st.last_poll = st.last_success = now;
	st.last_status = res->status;
	st.consecutive_errors = 0;
	(void)replace_str(&st.last_error, NULL);
	interval = pipeline_adaptive_interval(feed, doc, res->max_age, st.interval);
	if (interval != st.interval && st.interval != 0)
		log_debug("feed '%s': polling interval %llds -> %llds", feed->name,
		    (long long)st.interval, (long long)interval);
	st.interval = interval;
	/* The first poll's successor is spread over half an interval so feeds
	 * added together do not stay in step; later ones jitter by 10%. */
	st.next_poll = now + interval - random_below(first ? interval / 2 + 1 : interval / 10 + 1);
	stats->feeds_ok++;
	if (doc != NULL) {
		r = feed_store_items(p, feed, &st, doc, never_ok, &hc, now, stats, &n_new, &n_alerts);
		if (r == 0)
			log_info("feed '%s': %zu items, %zu new, %zu alerts", feed->name,
			    doc->n_items, n_new, n_alerts);
		goto out;
	}
	log_info("feed '%s': unchanged (%s)", feed->name, res->status == 304 ?
	    "HTTP 304 Not Modified" : "the same content as the last poll");
save:
	r = feed_save(p, feed, &st, &hc, now, stats);
out:
	if (r == 0 && (stats->next_poll == 0 || st.next_poll < stats->next_poll))
		stats->next_poll = st.next_poll;
	feed_doc_free(doc);
	store_feed_done(&st);
	return r;
}

