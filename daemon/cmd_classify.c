/* cmd_classify.c — `feedwatch classify`: a dry run of the topic rules.
 *
 *   feedwatch classify -c CONFIG [--json] [--explain] SOURCE
 *   feedwatch classify --stored -c CONFIG [--since 7d] [--json] [--explain]
 *
 * The first form fetches and parses one feed (a path, "-", a URL, or the
 * name of a feed in the config) and classifies every item. The second runs
 * the current rules over the items already in the state database, so a rule
 * change can be tried on last week's news before it is deployed. Neither
 * form records anything or sends an alert.
 *
 * With --json, one line per item (the contract):
 *   {"id", "title", "topics": [...], "matches": {"<topic>": ["<term>", ...]},
 *    "excluded": {"<topic>": ["<exclude rule>", ...]}}
 * (--stored adds "feed"; "excluded" names the topics whose terms matched but
 * an exclude removed, with the excludes that did). Without it, a listing that shows for each item the
 * topics, the terms that matched and the field each was found in.
 * --explain adds the item's words that each term matched where they read
 * otherwise than the term (a stem's inflection, a Korean word with its
 * particle): in the listing as `"troop" (troops) in title`, in JSON as
 *   "explain": {"<topic>": [{"term", "field", "matched"}, ...]}.
 * Exit status: 0 done, 1 config, rule, fetch or parse error, 2 usage. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "db.h"
#include "cmd.h"
#include "cmd_common.h"
#include "conf.h"
#include "fetch.h"
#include "parse.h"
#include "store.h"
#include "safe.h"

struct run {
	const struct classifier	*cls;
	const struct conf	*conf;
	bool			 json;
	bool			 stored;
	bool			 explain;
	size_t			 n_items;
	size_t			 n_matched;
};

static void
classify_usage(FILE *f)
{
	fprintf(f, "Usage: feedwatch classify -c CONFIG [--json] [--explain] "
	    "SOURCE\n"
	    "       feedwatch classify --stored -c CONFIG [--since 7d] [--json] "
	    "[--explain]\n"
	    "SOURCE is a path, - for standard input, a URL, or the name of a "
	    "feed in CONFIG.\n"
	    "--explain also shows the words of the item each term matched.\n");
}

/* Has term already been listed for this match (in any field)? */
static bool
term_listed(const struct classify_match *m, size_t upto)
{
	size_t i;

	for (i = 0; i < upto; i++)
		if (strcmp(m->hits[i].term, m->hits[upto].term) == 0)
			return true;
	return false;
}

/* {"<topic>": [{"term", "field", "matched"}, ...]}: every hit, with the
 * item's words ("matched" is the term's own words when they read alike). */
static json_t *
explain_json(const struct classify_result *res)
{
	json_t	*ex = json_object();
	size_t	 i, j;

	for (i = 0; ex != NULL && i < res->n_matches; i++) {
		const struct classify_match	*m = &res->matches[i];
		json_t				*a = json_array();

		if (a == NULL || json_object_set_new(ex, m->topic, a) < 0)
			goto fail;
		for (j = 0; j < m->n_hits; j++) {
			const struct classify_hit *h = &m->hits[j];

			if (json_array_append_new(a, json_pack("{s:s, s:s, s:s}",
			    "term", h->term, "field", h->field, "matched",
			    h->surface != NULL ? h->surface : h->term)) < 0)
				goto fail;
		}
	}
	return ex;
fail:
	json_decref(ex);
	return NULL;
}

static int
print_json(const struct feed_item *item, const char *feed_url,
    const struct classify_result *res, bool explain)
{
	json_t	*o = json_object(), *topics = json_array(),
		*matches = json_object(), *excluded = json_object();
	char	*s = NULL;
	size_t	 i, j;
	int	 r = -ENOMEM;

	if (o == NULL || topics == NULL || matches == NULL || excluded == NULL)
		goto out;
	for (i = 0; i < res->n_excluded; i++) {
		json_t *rules = json_object_get(excluded, res->excluded[i].topic);

		if (rules == NULL && (json_object_set_new(excluded, res->excluded[i].topic,
		    rules = json_array()) < 0 || rules == NULL))
			goto out;
		if (json_array_append_new(rules, json_string(res->excluded[i].rule)) < 0)
			goto out;
	}
	for (i = 0; i < res->n_matches; i++) {
		const struct classify_match	*m = &res->matches[i];
		json_t				*terms = json_array();

		if (terms == NULL ||
		    json_array_append_new(topics, json_string(m->topic)) < 0 ||
		    json_object_set_new(matches, m->topic, terms) < 0)
			goto out;
		for (j = 0; j < m->n_hits; j++)
			if (!term_listed(m, j) && json_array_append_new(terms,
			    json_string(m->hits[j].term)) < 0)
				goto out;
	}
	if (json_object_set_new(o, "id", json_string(item->id)) < 0 ||
	    json_object_set_new(o, "title", item->title != NULL ?
	    json_string(item->title) : json_null()) < 0)
		goto out;
	if (feed_url != NULL &&
	    json_object_set_new(o, "feed", json_string(feed_url)) < 0)
		goto out;
	if (json_object_set(o, "topics", topics) < 0 ||
	    json_object_set(o, "matches", matches) < 0 ||
	    json_object_set(o, "excluded", excluded) < 0)
		goto out;
	if (explain && json_object_set_new(o, "explain",
	    explain_json(res)) < 0)
		goto out;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s == NULL)
		goto out;
	r = puts(s) < 0 ? -EIO : 0;
out:
	free(s);
	json_decref(topics);
	json_decref(matches);
	json_decref(excluded);
	json_decref(o);
	return r;
}

static void
print_text(const struct feed_item *item, const char *feed_url,
    const struct classify_result *res, bool explain)
{
	size_t i, j;

	safe_printf("%s\n", item->title != NULL ? item->title : "(no title)");
	safe_printf("    id: %s\n", item->id);
	if (feed_url != NULL)
		safe_printf("    feed: %s\n", feed_url);
	if (res->n_matches == 0 && res->n_excluded == 0)
		safe_printf("    no topic\n");
	for (i = 0; i < res->n_excluded; i++)
		safe_printf("    %s: its terms matched, but exclude '%s' removed it\n",
		    res->excluded[i].topic, res->excluded[i].rule);
	for (i = 0; i < res->n_matches; i++) {
		const struct classify_match *m = &res->matches[i];

		safe_printf("    %s (%s):", m->topic, severity_to_string(m->severity));
		for (j = 0; j < m->n_hits; j++) {
			safe_printf("%s \"%s\"", j > 0 ? "," : "", m->hits[j].term);
			if (explain && m->hits[j].surface != NULL)
				safe_printf(" (%s)", m->hits[j].surface);
			safe_printf(" in %s", m->hits[j].field);
		}
		safe_printf("\n");
	}
	safe_printf("\n");
}

static int
run_item(struct run *run, const struct conf_feed *feed,
    const struct feed_item *item, const char *feed_url)
{
	struct classify_result	 res = { 0 };
	int			 r;

	r = classify_item(run->cls, feed, item, &res);
	if (r < 0)
		return r;
	run->n_items++;
	if (res.n_matches > 0)
		run->n_matched++;
	if (run->json)
		r = print_json(item, run->stored ? feed_url : NULL, &res,
		    run->explain);
	else
		print_text(item, feed_url, &res, run->explain);
	classify_result_done(&res);
	return r;
}

static int
stored_item(const struct feed_item *item, const char *feed_url,
    void *userdata)
{
	struct run *run = userdata;

	return run_item(run, conf_find_feed(run->conf, feed_url), item,
	    feed_url);
}

static int
classify_stored(struct run *run, const char *since)
{
	struct store	*store = NULL;
	struct fw_error	 e = { 0 };
	int64_t		 from = 0, age;
	bool		 exists = false;
	int		 r;

	if (since != NULL) {
		if (conf_parse_duration(since, &age) < 0) {
			fprintf(stderr, "feedwatch classify: bad duration '%s' "
			    "for --since (e.g. 7d, 12h)\n", since);
			return 2;
		}
		from = (int64_t)time(NULL) - age;
	}
	/* Reading must not create a state where there was none. */
	if (store_exists(run->conf->state_path, &exists, &e) < 0) {
		fw_error_print(stderr, &e);
		return 1;
	}
	if (!exists && db_target_is_postgresql(run->conf->state_path)) {
		/* Not named: a keyword string may carry a password. */
		fprintf(stderr, "feedwatch classify: the state's database holds no "
		    "feedwatch state yet\n");
		return 1;
	}
	if (!exists) {
		fprintf(stderr, "feedwatch classify: no state database at '%s': %s\n",
		    run->conf->state_path, strerror(ENOENT));
		return 1;
	}
	if (store_open(run->conf->state_path, &store, &e) < 0) {
		fw_error_print(stderr, &e);
		return 1;
	}
	r = store_items_foreach(store, from, stored_item, run, &e);
	store_close(store);
	if (r < 0) {
		if (e.msg[0] != '\0')
			fw_error_print(stderr, &e);
		else
			fprintf(stderr, "feedwatch classify: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}

static int
classify_source(struct run *run, const char *source)
{
	const struct conf_feed	*feed = NULL;
	struct fetch_opts	 fo = { 0 };
	struct fetch_result	 res = { 0 };
	struct parse_limits	 lim;
	struct fw_error		 err = { 0 };
	struct feed_doc		*doc = NULL;
	const char		*url = source;
	size_t			 i;
	int			 r, rc = 1;

	/* A configured feed: by URL, or by name when no such file exists. */
	feed = conf_find_feed(run->conf, source);
	if (feed != NULL && strcmp(source, "-") != 0 &&
	    access(source, F_OK) == 0 && strcmp(feed->url, source) != 0)
		feed = NULL;
	if (feed != NULL)
		url = feed->url;

	parse_limits_default(&lim);
	fo.max_bytes = feed != NULL && feed->max_bytes > 0 ? feed->max_bytes :
	    run->conf->max_bytes > 0 ? run->conf->max_bytes : lim.max_bytes;
	fo.timeout = feed != NULL ? feed->timeout : run->conf->timeout;
	fo.user_agent = run->conf->user_agent;
	fo.ca_path = run->conf->ca_path;
	fo.proxy = run->conf->proxy;
	r = fetch_source(url, &fo, &res, &err);
	if (r < 0) {
		/* err names the source already. */
		fprintf(stderr, "feedwatch classify: ");
		fw_error_print(stderr, &err);
		return 1;
	}
	if (res.status >= 400) {
		safe_fprintf(stderr, "feedwatch classify: %s: HTTP status %ld\n", url,
		    res.status);
		goto out;
	}
	r = parse_feed(res.body != NULL ? res.body : "", res.len,
	    res.effective_url != NULL ? res.effective_url :
	    strstr(url, "://") != NULL ? url : NULL,
	    res.content_type, &lim, &doc, &err);
	if (r < 0) {
		safe_fprintf(stderr, "feedwatch classify: %s: %s\n", url, err.msg);
		goto out;
	}
	for (i = 0; i < doc->n_items; i++) {
		r = run_item(run, feed, &doc->items[i], NULL);
		if (r < 0) {
			fprintf(stderr, "feedwatch classify: %s\n", strerror(-r));
			goto out;
		}
	}
	rc = 0;
out:
	feed_doc_free(doc);
	fetch_result_done(&res);
	return rc;
}

int
cmd_classify(int argc, char **argv)
{
	struct cmd_opts		 o;
	struct conf		*conf = NULL;
	struct classifier	*cls = NULL;
	struct fw_errors	 errs = { 0 };
	struct run		 run = { 0 };
	size_t			 i;
	int			 rc = 1;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		classify_usage(stdout);
		return 0;
	}
	if (cmd_parse_opts(argc, argv, "json,stored,since,explain", &o) < 0) {
		classify_usage(stderr);
		return 2;
	}
	if ((o.stored && o.n_args != 0) || (!o.stored && o.n_args != 1) ||
	    (o.since != NULL && !o.stored)) {
		classify_usage(stderr);
		return 2;
	}
	conf = cmd_load_conf(o.config);
	if (conf == NULL)
		return 1;
	if (classifier_new(conf, &cls, &errs) < 0) {
		for (i = 0; i < errs.n; i++)
			fw_error_print(stderr, &errs.v[i]);
		if (errs.n == 0)
			fprintf(stderr, "feedwatch classify: cannot compile the "
			    "topic rules: out of memory\n");
		goto out;
	}
	run.cls = cls;
	run.conf = conf;
	run.json = o.json;
	run.stored = o.stored;
	run.explain = o.explain;
	rc = o.stored ? classify_stored(&run, o.since) :
	    classify_source(&run, o.args[0]);
	if (rc == 0 && !o.json)
		printf("%zu item%s, %zu with a topic\n", run.n_items,
		    run.n_items == 1 ? "" : "s", run.n_matched);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "feedwatch classify: cannot write output: %s\n",
		    strerror(errno));
		rc = 1;
	}
out:
	fw_errors_done(&errs);
	classifier_free(cls);
	conf_free(conf);
	return rc;
}
