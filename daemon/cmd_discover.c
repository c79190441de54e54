/* cmd_discover.c — `feedwatch discover URL [--json]`: the feeds a web page
 * advertises (or, when it names none, the common feed paths of its site
 * that answer with a feed), each fetched and parsed: its title, format,
 * item count and newest item date, or why it does not work.
 * Exit status: 0 when at least one feed works, 1 when none does or the
 * page cannot be fetched, 2 usage. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "cmd_common.h"
#include "discover.h"
#include "parse.h"

static void
print_text(const struct discover_result *r, const char *url)
{
	char when[40];

	if (r->page_is_feed)
		printf("%s is a feed itself:\n", url);
	else if (r->n > 0 && r->v[0].guessed)
		printf("%s advertises no feed; found at common paths:\n", url);
	else if (r->n > 0)
		printf("%s advertises %zu %s:\n", url, r->n, r->n == 1 ? "feed" : "feeds");
	for (size_t i = 0; i < r->n; i++) {
		const struct discover_candidate *c = &r->v[i];

		printf("\n%s\n", c->url);
		if (c->type != NULL)
			printf("    advertised as %s%s%s%s\n", c->type,
			    c->link_title != NULL ? " \"" : "",
			    c->link_title != NULL ? c->link_title : "",
			    c->link_title != NULL ? "\"" : "");
		if (!c->ok) {
			printf("    does not work: %s\n", c->error);
			continue;
		}
		printf("    title: %s\n", c->title != NULL ? c->title : "(none)");
		printf("    %s, %zu %s, newest %s\n", feed_format_to_string(c->format),
		    c->n_items, c->n_items == 1 ? "item" : "items",
		    c->newest != FW_TIME_NONE ? fw_time_format(c->newest, when, sizeof(when)) :
		    "undated");
	}
	if (discover_best(r) != NULL)
		printf("\nAdd one with: feedwatch add -c CONFIG URL\n");
	else if (r->n == 0)
		printf("%s advertises no feed, and none of the common feed paths of its "
		    "site answers with one\n", url);
}

static int
print_json(const struct discover_result *r)
{
	char when[40];

	for (size_t i = 0; i < r->n; i++) {
		const struct discover_candidate *c = &r->v[i];
		json_t	*o = json_pack("{s:s, s:b, s:s?, s:s?, s:b}", "url", c->url,
		    "advertised", !c->guessed && !r->page_is_feed, "type", c->type,
		    "link_title", c->link_title, "ok", c->ok);
		char	*s;

		if (o == NULL)
			return -1;
		if (c->ok)
			(void)json_object_update_new(o, json_pack("{s:s?, s:s, s:I, s:s?}",
			    "title", c->title, "format", feed_format_to_string(c->format),
			    "items", (json_int_t)c->n_items, "newest", c->newest != FW_TIME_NONE ?
			    fw_time_format(c->newest, when, sizeof(when)) : NULL));
		else
			(void)json_object_set_new(o, "error", json_string(c->error));
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (s == NULL)
			return -1;
		puts(s);
		free(s);
	}
	return 0;
}

int
cmd_discover(int argc, char **argv)
{
	struct discover_result	 r;
	struct fetch_opts	 opts = { .timeout = 15 };
	struct cmd_opts		 o;
	struct fw_error		 e;

	if (cmd_parse_opts(argc, argv, "json", &o) < 0)
		return 2;
	if (o.n_args != 1) {
		fprintf(stderr, "Usage: feedwatch discover [--json] URL\n");
		return 2;
	}
	if (discover_run(o.args[0], &opts, &r, &e) < 0) {
		fprintf(stderr, "feedwatch discover: ");
		fw_error_print(stderr, &e);
		return 1;
	}
	if (o.json ? print_json(&r) < 0 : (print_text(&r, o.args[0]), 0)) {
		discover_result_done(&r);
		return 1;
	}
	o.n_args = discover_best(&r) != NULL ? 0 : 1;
	discover_result_done(&r);
	return o.n_args;
}
