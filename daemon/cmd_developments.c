/* cmd_developments.c — `feedwatch developments`: the recent developments,
 * newest first, each with its topics, stories, sources and figures; --json
 * prints one line per development (the contract of issue 13), --explain
 * says why each story of one development joined it. Reads the state file
 * only. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "cmd_common.h"
#include "parse.h"
#include "store.h"

#define DEVELOPMENTS_DEFAULT_SINCE	(3 * 86400)

struct listing {
	const struct conf	*conf;
	struct store_development *devs;
	size_t			 n_devs;
	json_t			**items;	/* per development: array of items */
	char			**explains;	/* per development (--explain) */
	int64_t			 explain_dev;
};

static const char *
feed_name(const struct conf *c, const char *url)
{
	const struct conf_feed *f = url != NULL ? conf_find_feed(c, url) : NULL;

	return f != NULL ? f->name : url;
}

static json_t *
time_or_null(int64_t t)
{
	char buf[40];

	return t == FW_TIME_NONE ? json_null() : json_string(fw_time_format(t, buf, sizeof(buf)));
}

static int
collect_story(const struct store_story *st, void *userdata)
{
	struct listing	*l = userdata;
	json_t		*it;
	size_t		 i;

	for (i = 0; i < l->n_devs && l->devs[i].id != st->development; i++)
		;
	if (i == l->n_devs)
		return 0;
	it = json_pack("{s:s, s:s?, s:s?, s:s?, s:o, s:s?}", "id", st->item_id,
	    "feed", feed_name(l->conf, st->feed_url), "title", st->title, "link", st->link,
	    "published", time_or_null(st->published), "explain", st->explain);
	if (it == NULL || json_array_append_new(l->items[i], it) < 0)
		return -ENOMEM;
	return 0;
}

static bool
has_topic(const char *topics_json, const char *topic)
{
	json_t	*a = json_loads(topics_json, 0, NULL);
	json_t	*v;
	size_t	 i;
	bool	 found = false;

	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), topic) == 0)
			found = true;
	json_decref(a);
	return found;
}

static void
print_json(const struct store_development *d, json_t *items)
{
	json_t	*o, *topics, *figures, *sources;
	size_t	 i;
	json_t	*it;
	char	*s;

	topics = json_loads(d->topics, 0, NULL);
	figures = json_loads(d->figures, 0, NULL);
	sources = json_loads(d->sources, 0, NULL);
	/* explain is for --explain; the contract's item has five keys. */
	json_array_foreach(items, i, it) {
		json_object_del(it, "explain");
	}
	o = json_pack("{s:s, s:o, s:O, s:o, s:o, s:o, s:o, s:s?}", "id", d->key,
	    "topics", topics != NULL ? topics : json_array(), "items", items,
	    "figures", figures != NULL ? figures : json_array(),
	    "sources", sources != NULL ? sources : json_array(),
	    "first_seen", time_or_null(d->first_t), "last_seen", time_or_null(d->last_t),
	    "alert", d->alert_id);
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

static void
print_text(const struct store_development *d, json_t *items, bool explain)
{
	char	first[40], last[40];
	json_t	*it;
	size_t	 i;

	fw_time_format(d->first_t, first, sizeof(first));
	fw_time_format(d->last_t, last, sizeof(last));
	printf("%s  %s .. %s  topics %s  %zu items  sources %s\n", d->key, first, last,
	    d->topics, json_array_size(items), d->sources);
	if (strcmp(d->figures, "[]") != 0)
		printf("    figures %s\n", d->figures);
	if (d->alert_id != NULL)
		printf("    alert %s\n", d->alert_id);
	json_array_foreach(items, i, it) {
		const char *title = json_string_value(json_object_get(it, "title"));
		const char *pub = json_string_value(json_object_get(it, "published"));
		const char *why = json_string_value(json_object_get(it, "explain"));

		printf("  - %s  %-12s %s\n", pub != NULL ? pub : "(undated)           ",
		    json_string_value(json_object_get(it, "feed")), title != NULL ? title
		    : "(no title)");
		if (explain)
			printf("      %s\n", why != NULL ? why : "(no decision recorded)");
	}
}

int
cmd_developments(int argc, char **argv)
{
	struct listing	 l = { 0 };
	struct cmd_opts	 o;
	struct conf	*conf;
	struct store	*store = NULL;
	struct fw_error	 e;
	int64_t		 age = DEVELOPMENTS_DEFAULT_SINCE, since;
	int		 r = -1;

	if (cmd_parse_opts(argc, argv, "json,since,topic,explain-id", &o) < 0)
		return 2;
	if (o.n_args > 0) {
		fprintf(stderr, "feedwatch developments: unexpected argument '%s'\n", o.args[0]);
		return 2;
	}
	if (o.since != NULL && (conf_parse_duration(o.since, &age) < 0 || age <= 0)) {
		fprintf(stderr, "feedwatch developments: '%s' is no duration for --since "
		    "(e.g. 3d, 12h)\n", o.since);
		return 2;
	}
	conf = cmd_load_conf(o.config);
	if (conf == NULL)
		return 1;
	l.conf = conf;
	if ((r = store_open(conf->state_path, &store, &e)) < 0) {
		fw_error_print(stderr, &e);
		goto out;
	}
	since = (int64_t)time(NULL) - age;
	if (o.explain_id != NULL) {
		l.devs = calloc(1, sizeof(*l.devs));
		if (l.devs == NULL) {
			r = -ENOMEM;
			goto out;
		}
		r = store_development_by_key(store, o.explain_id, &l.devs[0], &e);
		if (r == 0) {
			fprintf(stderr, "feedwatch developments: no development '%s'\n", o.explain_id);
			r = -ENOENT;
			goto out;
		}
		l.n_devs = 1;
	} else
		r = store_developments_list(store, since, &l.devs, &l.n_devs, &e);
	if (r < 0) {
		fw_error_print(stderr, &e);
		goto out;
	}
	l.items = calloc(l.n_devs ? l.n_devs : 1, sizeof(*l.items));
	if (l.items == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < l.n_devs; i++)
		if ((l.items[i] = json_array()) == NULL) {
			r = -ENOMEM;
			goto out;
		}
	r = store_stories_foreach(store, o.explain_id != NULL ? l.devs[0].id : 0, since,
	    collect_story, &l, &e);
	if (r < 0) {
		fw_error_print(stderr, &e);
		goto out;
	}
	for (size_t i = 0; i < l.n_devs; i++) {
		if (o.topic != NULL && !has_topic(l.devs[i].topics, o.topic))
			continue;
		if (o.json)
			print_json(&l.devs[i], l.items[i]);
		else
			print_text(&l.devs[i], l.items[i], o.explain_id != NULL);
	}
	r = 0;
out:
	if (r == -ENOMEM)
		fprintf(stderr, "feedwatch developments: out of memory\n");
	for (size_t i = 0; i < l.n_devs; i++) {
		store_development_done(&l.devs[i]);
		if (l.items != NULL)
			json_decref(l.items[i]);
	}
	free(l.devs);
	free(l.items);
	store_close(store);
	conf_free(conf);
	return r < 0 ? 1 : 0;
}
