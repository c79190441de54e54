/* cmd_add.c — `feedwatch add` and `feedwatch remove`: one command to start
 * or stop watching a feed.
 *
 *   feedwatch add -c CONFIG [--name NAME] [--topics a,b] [--interval 10m]
 *                 [--dry-run] URL...
 *   feedwatch remove -c CONFIG URL|NAME
 *
 * add takes a feed's address or a web page's (then the feed the page
 * advertises, see discover.c), fetches and parses it, shows which topics
 * its current items would match (the rules' dry run), and writes the feed
 * as one small file into the config directory (feeds.d/NAME.yaml). remove
 * deletes a feed from the included file that holds it; feeds in the main
 * file are the user's to edit. Both load the configuration again after
 * writing and undo the write when it no longer loads. A running daemon
 * picks the change up on `systemctl reload feedwatch`.
 * Exit status: 0 done, 1 when a feed could not be added or removed (the
 * others are still added), 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "cmd.h"
#include "cmd_common.h"
#include "conf.h"
#include "discover.h"
#include "feeds_file.h"
#include "fetch.h"
#include "parse.h"
#include "progress.h"

#define RELOAD_HINT	"A running daemon picks it up on 'systemctl reload feedwatch' (SIGHUP)."

/* Splits "a,b" into conf_strs (pointing into s, which is modified). */
static int
split_topics(char *s, struct conf_strlist *l)
{
	char *save = NULL;

	l->n = 0;
	l->v = calloc(strlen(s) / 2 + 2, sizeof(*l->v));
	if (l->v == NULL)
		return -ENOMEM;
	for (char *t = strtok_r(s, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save))
		l->v[l->n++].s = t;
	return 0;
}

static const struct conf_feed *
find_feed(const struct conf *c, const char *key)
{
	for (size_t i = 0; i < c->n_feeds; i++)
		if ((c->feeds[i].url != NULL && strcmp(c->feeds[i].url, key) == 0) ||
		    (c->feeds[i].name != NULL && strcmp(c->feeds[i].name, key) == 0))
			return &c->feeds[i];
	return NULL;
}

/* The rules' dry run over the feed's current items: prints the items that
 * would alert and returns how many (or a negative errno). */
static int
dry_run(const struct conf *conf, const struct classifier *cls, const struct conf_feed *feed)
{
	struct fetch_opts	 opts = { .timeout = 15, .max_bytes = conf->max_bytes,
	    .user_agent = conf->user_agent, .ca_path = conf->ca_path, .proxy = conf->proxy };
	struct fetch_result	 res = { 0 };
	struct feed_doc		*doc = NULL;
	struct fw_error		 e;
	int			 r, n = 0;

	if ((r = fetch_source(feed->url, &opts, &res, &e)) < 0)
		return r;
	r = parse_feed(res.body != NULL ? res.body : "", res.len, feed->url, res.content_type,
	    NULL, &doc, &e);
	fetch_result_done(&res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < doc->n_items; i++) {
		struct classify_result cr = { 0 };

		if ((r = classify_item(cls, feed, &doc->items[i], &cr)) < 0)
			break;
		if (cr.n_matches > 0) {
			printf("    would alert: [");
			for (size_t j = 0; j < cr.n_matches; j++)
				printf("%s%s", j > 0 ? ", " : "", cr.matches[j].topic);
			printf("] %s\n", doc->items[i].title != NULL ? doc->items[i].title :
			    "(no title)");
			n++;
		}
		classify_result_done(&cr);
	}
	printf("    %zu current %s, %d would match a topic\n", doc->n_items,
	    doc->n_items == 1 ? "item" : "items", n);
	feed_doc_free(doc);
	return r < 0 ? r : n;
}

struct add_run {
	const char		*config;
	struct conf		*conf;
	struct classifier	*cls;
	struct cmd_opts		*o;
	struct conf_strlist	 topics;
	size_t			 alerts;
};

/* Adds one URL. Returns 0 or -1 having said why. */
static int
add_one(struct add_run *a, const char *url)
{
	struct discover_result		 dr = { 0 };
	const struct discover_candidate	*best;
	const struct conf_feed		*have;
	struct fetch_opts		 opts = { .timeout = 15, .user_agent = a->conf->user_agent,
	    .ca_path = a->conf->ca_path, .proxy = a->conf->proxy };
	struct feeds_file_entry		 entry;
	struct conf_feed		 probe = { 0 };
	struct fw_errors		 errs = { 0 };
	struct fw_error			 e;
	struct conf			*check = NULL;
	const char			*topics[64];
	char				*name = NULL, *dir = NULL, *path = NULL;
	int				 r = -1, n;

	if ((have = find_feed(a->conf, url)) != NULL) {
		fprintf(stderr, "feedwatch add: %s is already configured as '%s' (%s:%u)\n", url,
		    have->name, have->file, have->line);
		return -1;
	}
	if (discover_run(url, &opts, &dr, &e) < 0) {
		fprintf(stderr, "feedwatch add: ");
		fw_error_print(stderr, &e);
		return -1;
	}
	best = discover_best(&dr);
	if (best == NULL) {
		fprintf(stderr, "feedwatch add: %s: no working feed found", url);
		for (size_t i = 0; i < dr.n; i++)
			fprintf(stderr, "%s%s: %s", i == 0 ? " (" : "; ", dr.v[i].url, dr.v[i].error);
		fprintf(stderr, "%s\n", dr.n > 0 ? ")" : "");
		goto out;
	}
	if (!dr.page_is_feed) {
		printf("%s advertises %s\n", url, best->url);
		for (size_t i = 0; i < dr.n; i++)
			if (&dr.v[i] != best)
				printf("    also: %s%s\n", dr.v[i].url, dr.v[i].ok ? "" : " (does not work)");
		if ((have = find_feed(a->conf, best->url)) != NULL) {
			fprintf(stderr, "feedwatch add: %s is already configured as '%s' (%s:%u)\n",
			    best->url, have->name, have->file, have->line);
			goto out;
		}
	}
	name = a->o->name != NULL ? strdup(a->o->name) :
	    feeds_file_name(a->conf, best->title, best->url, NULL, 0);
	if (name == NULL)
		goto oom;
	if (find_feed(a->conf, name) != NULL) {
		fprintf(stderr, "feedwatch add: the name '%s' is taken (--name NAME)\n", name);
		goto out;
	}
	printf("%s: %s, \"%s\", %zu items\n", name, feed_format_to_string(best->format),
	    best->title != NULL ? best->title : "(no title)", best->n_items);
	probe.name = name;
	probe.url = best->url;
	probe.topics = a->topics;
	if ((n = dry_run(a->conf, a->cls, &probe)) < 0) {
		fprintf(stderr, "feedwatch add: %s: the feed changed while it was read: %s\n",
		    best->url, strerror(-n));
		goto out;
	}
	a->alerts += (size_t)n;
	if (a->o->dry_run) {
		printf("dry run: nothing written\n");
		r = 0;
		goto out;
	}
	for (size_t i = 0; i < a->topics.n && i < 64; i++)
		topics[i] = a->topics.v[i].s;
	entry = (struct feeds_file_entry){ .url = best->url, .name = name, .topics = topics,
	    .n_topics = a->topics.n < 64 ? a->topics.n : 64, .interval = a->o->interval };
	if ((dir = feeds_file_dir(a->conf, &e)) == NULL ||
	    feeds_file_write(dir, name, "added by feedwatch add", &entry, 1, &path, &e) < 0) {
		fw_error_print(stderr, &e);
		goto out;
	}
	if (conf_load(a->config, &check, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fw_error_print(stderr, &errs.v[i]);
		fprintf(stderr, "feedwatch add: the configuration does not load with %s: "
		    "removed it\n", path);
		(void)unlink(path);
		goto out;
	}
	printf("added '%s' (%s) in %s\n" RELOAD_HINT "\n", name, best->url, path);
	/* The next URL must not take the same name or URL. */
	conf_free(a->conf);
	a->conf = check;
	check = NULL;
	r = 0;
	goto out;
oom:
	fprintf(stderr, "feedwatch add: out of memory\n");
out:
	conf_free(check);
	fw_errors_done(&errs);
	discover_result_done(&dr);
	free(name);
	free(dir);
	free(path);
	return r;
}

int
cmd_add(int argc, char **argv)
{
	struct add_run		 a = { 0 };
	struct cmd_opts		 o;
	struct fw_errors	 errs = { 0 };
	struct progress		 pg;
	char			*topics = NULL;
	int64_t			 secs;
	int			 failed = 0, rc = 1;

	if (cmd_parse_opts(argc, argv, "name,topics,interval,dry-run", &o) < 0)
		return 2;
	if (o.n_args < 1 || (o.name != NULL && o.n_args > 1)) {
		fprintf(stderr, "Usage: feedwatch add -c CONFIG [--name NAME] [--topics a,b] "
		    "[--interval 10m] [--dry-run] URL...\n(--name with one URL only)\n");
		return 2;
	}
	if (o.interval != NULL && conf_parse_duration(o.interval, &secs) < 0) {
		fprintf(stderr, "feedwatch add: --interval '%s' is not a duration (90s, 15m, "
		    "2h)\n", o.interval);
		return 2;
	}
	a.config = o.config;
	a.o = &o;
	if ((a.conf = cmd_load_conf(o.config)) == NULL)
		return 1;
	if (o.topics != NULL && ((topics = strdup(o.topics)) == NULL ||
	    split_topics(topics, &a.topics) < 0))
		goto out;
	for (size_t i = 0; i < a.topics.n; i++) {
		size_t k;

		for (k = 0; k < a.conf->n_topics; k++)
			if (strcmp(a.conf->topics[k].name.s, a.topics.v[i].s) == 0)
				break;
		if (k == a.conf->n_topics) {
			fprintf(stderr, "feedwatch add: --topics: no topic '%s' in %s\n",
			    a.topics.v[i].s, o.config);
			goto out;
		}
	}
	if (classifier_new(a.conf, &a.cls, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fw_error_print(stderr, &errs.v[i]);
		goto out;
	}
	progress_start(&pg, "add", (size_t)o.n_args);
	for (int i = 0; i < o.n_args; i++) {
		size_t before = a.alerts;

		progress_clear(&pg);
		if (add_one(&a, o.args[i]) < 0)
			failed++;
		progress_step(&pg, a.alerts - before);
	}
	progress_done(&pg);
	rc = failed > 0 ? 1 : 0;
out:
	classifier_free(a.cls);
	conf_free(a.conf);
	free(a.topics.v);
	free(topics);
	fw_errors_done(&errs);
	return rc;
}

int
cmd_remove(int argc, char **argv)
{
	const struct conf_feed	*f;
	struct cmd_opts		 o;
	struct conf		*conf, *check = NULL;
	struct fw_errors	 errs = { 0 };
	struct fw_error		 e;
	char			*file = NULL, *name = NULL;
	int			 r, rc = 1;

	if (cmd_parse_opts(argc, argv, "", &o) < 0)
		return 2;
	if (o.n_args != 1) {
		fprintf(stderr, "Usage: feedwatch remove -c CONFIG URL|NAME\n");
		return 2;
	}
	if ((conf = cmd_load_conf(o.config)) == NULL)
		return 1;
	if ((f = find_feed(conf, o.args[0])) == NULL) {
		fprintf(stderr, "feedwatch remove: no feed '%s' in %s\n", o.args[0], o.config);
		goto out;
	}
	if (strcmp(f->file, conf->path) == 0) {
		fprintf(stderr, "feedwatch remove: '%s' is in the main file (%s:%u): remove it "
		    "there; feedwatch only edits the files in the config directory\n",
		    f->name, f->file, f->line);
		goto out;
	}
	if ((file = strdup(f->file)) == NULL || (name = strdup(f->name)) == NULL)
		goto out;
	if ((r = feeds_file_remove(file, f->url, &e)) < 0) {
		fw_error_print(stderr, &e);
		goto out;
	}
	if (conf_load(o.config, &check, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fw_error_print(stderr, &errs.v[i]);
		goto out;
	}
	printf("removed '%s' from %s%s\nA running daemon stops polling it on 'systemctl "
	    "reload feedwatch' (SIGHUP); what was seen from it stays in the state file.\n",
	    name, file, r == 1 ? " (its last feed: the file is deleted)" : "");
	rc = 0;
out:
	free(file);
	free(name);
	conf_free(check);
	conf_free(conf);
	fw_errors_done(&errs);
	return rc;
}
