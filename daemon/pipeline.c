/* pipeline.c — what happens to one feed after its transfer ends, and to the
 * outbox afterwards. The rule that matters: an item is marked seen and its
 * alert queued in the same transaction, so a crash between the two cannot
 * lose an alert, and delivery only ever reads from the outbox. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "log.h"
#include "parse.h"
#include "pipeline.h"

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
	r = classifier_new(conf, &p->classifier, errs);
	if (r < 0)
		goto fail;
	r = store_open(conf->state_path, &p->store, &e);
	if (r < 0) {
		(void)fw_errors_add(errs, &e);
		goto fail;
	}
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
	for (size_t i = 0; i < p->n_sinks; i++)
		sink_free(p->sinks[i]);
	free(p->sinks);
	classifier_free(p->classifier);
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
	if (state != NULL) {
		ret->etag = state->etag;
		ret->last_modified = state->last_modified;
	}
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

/* Capped exponential backoff with ±20% jitter: interval·2^(errors-1). */
static int64_t
backoff_delay(int64_t interval, int errors, int64_t cap)
{
	int64_t d = interval > 0 ? interval : 60;

	for (int i = 1; i < errors && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	return d - d / 5 + (int64_t)(random() % (d / 5 * 2 + 1));
}

static void
feed_failed(struct pipeline *p, const struct conf_feed *feed, struct store_feed *st,
    long status, const char *reason, int64_t now, struct poll_stats *stats)
{
	st->last_poll = now;
	st->last_status = status;
	st->consecutive_errors++;
	(void)replace_str(&st->last_error, reason);
	st->next_poll = now + backoff_delay(feed->interval, st->consecutive_errors,
	    p->conf->backoff_cap);
	log_warnx("feed '%s': %s; error %d in a row, next try in %llds",
	    feed->name, reason, st->consecutive_errors,
	    (long long)(st->next_poll - now));
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
    const struct classify_result *cls, int64_t now, struct fw_error *err)
{
	struct alert	 a;
	const char	*topics[64];
	const char	*sinks[64];
	size_t		 nt = 0, ns = 0;
	int		 r;

	r = alert_build(feed, NULL, item, cls, now, &a);
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
	if (r == 0)
		log_debug("feed '%s': item '%s' was already alerted through another feed",
		    feed->name, item->id);
	alert_done(&a);
	return r;
}

/* Records every new item of doc and queues the alerts: one transaction. */
static int
feed_store_items(struct pipeline *p, const struct conf_feed *feed, struct store_feed *st,
    const struct feed_doc *doc, int64_t now, struct poll_stats *stats,
    size_t *ret_new, size_t *ret_alerts)
{
	bool		first_poll = st->last_success == 0;
	struct fw_error	e;
	size_t		n_new = 0, n_alerts = 0;
	int		r;

	r = store_begin(p->store, &e);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < doc->n_items; i++) {
		const struct feed_item	*item = &doc->items[i];
		struct classify_result	 cls = { 0 };

		r = store_item_mark_seen(p->store, st->id, item, now, &e);
		if (r < 0)
			goto fail;
		if (r == 0)
			continue;
		n_new++;
		if (first_poll && !within_backlog(feed, item, now))
			continue;
		r = classify_item(p->classifier, feed, item, &cls);
		if (r < 0) {
			fw_error_set(&e, NULL, 0, 0, "cannot classify: %s", strerror(-r));
			goto fail;
		}
		if (cls.n_matches > 0) {
			r = queue_alert(p, feed, item, &cls, now, &e);
			if (r > 0)
				n_alerts++;
		}
		classify_result_done(&cls);
		if (r < 0)
			goto fail;
	}
	st->items_seen += (int64_t)n_new;
	r = store_feed_save(p->store, st, &e);
	if (r < 0)
		goto fail;
	r = store_commit(p->store, &e);
	if (r < 0)
		goto fail;
	stats->new_items += n_new;
	stats->alerts += n_alerts;
	*ret_new = n_new;
	*ret_alerts = n_alerts;
	return 0;
fail:
	store_rollback(p->store);
	log_errx("feed '%s': %s", feed->name, e.msg);
	return r;
}

int
pipeline_feed_done(struct pipeline *p, const struct conf_feed *feed, int fetch_rc,
    const struct fw_error *fetch_err, const struct fetch_result *res, int64_t now,
    struct poll_stats *stats)
{
	struct store_feed	 st;
	struct feed_doc		*doc = NULL;
	struct parse_limits	 lim;
	struct fw_error		 e;
	char			 hash[33], reason[1200];
	size_t			 n_new = 0, n_alerts = 0;
	int			 r;

	r = store_feed_get(p->store, feed->url, &st, &e);
	if (r < 0) {
		log_errx("%s", e.msg);
		return r;
	}
	if (fetch_rc < 0) {
		snprintf(reason, sizeof(reason), "%s", fetch_err->msg);
		feed_failed(p, feed, &st, 0, reason, now, stats);
		goto save;
	}
	if (res->status == 304) {
		/* RFC 9110: a 304 carries the validators the 200 would have. */
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
		feed_failed(p, feed, &st, res->status, "HTTP 410 Gone (feed disabled)", now, stats);
		goto save;
	}
	if (res->status < 200 || res->status > 299) {
		snprintf(reason, sizeof(reason), "HTTP %ld", res->status);
		feed_failed(p, feed, &st, res->status, reason, now, stats);
		goto save;
	}
	/* A server without validators sends the same body again: skip it. */
	alert_hash_hex(res->body, hash);
	if (st.body_hash != NULL && strcmp(st.body_hash, hash) == 0 &&
	    st.last_success != 0)
		goto success;
	parse_limits_default(&lim);
	if (feed->max_bytes > 0)
		lim.max_bytes = feed->max_bytes;
	r = parse_feed(res->body, res->len, res->effective_url ? res->effective_url : feed->url,
	    res->content_type, &lim, &doc, &e);
	if (r < 0) {
		snprintf(reason, sizeof(reason), "%s", e.msg);
		feed_failed(p, feed, &st, res->status, reason, now, stats);
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
	st.last_poll = st.last_success = now;
	st.last_status = res->status;
	st.consecutive_errors = 0;
	(void)replace_str(&st.last_error, NULL);
	st.next_poll = now + feed->interval;
	stats->feeds_ok++;
	if (doc != NULL) {
		r = feed_store_items(p, feed, &st, doc, now, stats, &n_new, &n_alerts);
		if (r == 0)
			log_info("feed '%s': %zu items, %zu new, %zu alerts", feed->name,
			    doc->n_items, n_new, n_alerts);
		else
			log_errx("feed '%s': cannot record items: %s", feed->name, e.msg);
		goto out;
	}
	log_info("feed '%s': unchanged (HTTP %ld)", feed->name, res->status);
save:
	r = store_feed_save(p->store, &st, &e);
	if (r < 0)
		log_errx("%s", e.msg);
out:
	feed_doc_free(doc);
	store_feed_done(&st);
	return r;
}

int
pipeline_poll_feed(struct pipeline *p, const struct conf_feed *feed, int64_t now,
    struct poll_stats *stats)
{
	struct store_feed	st;
	struct fetch_opts	opts;
	struct fetch_result	res = { 0 };
	struct fw_error		e = { .msg = "" }, fe = { .msg = "" };
	int			r, fr;

	r = store_feed_get(p->store, feed->url, &st, &e);
	if (r < 0) {
		log_errx("%s", e.msg);
		return r;
	}
	pipeline_fetch_opts(p, feed, &st, &opts);
	fr = fetch_source(feed->url, &opts, &res, &fe);
	store_feed_done(&st);
	r = pipeline_feed_done(p, feed, fr, &fe, fr == 0 ? &res : NULL, now, stats);
	fetch_result_done(&res);
	return r;
}

