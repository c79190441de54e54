/* cmd_parse.c — `feedwatch parse [--json] SOURCE`: fetch one feed (path,
 * "-" or URL), parse it with exactly the code the daemon uses, and print it:
 * the JSON object of the contract with --json, a readable listing without.
 * Exit status: 0 parsed (warnings included), 1 unreadable or not a feed,
 * 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "parse.h"
#include "parse_internal.h"
#include "safe.h"
#include "fetch.h"

/* --json output is streamed: each item is written as soon as the parser
 * finishes it and freed, so a 20 MB feed never sits in memory twice. */
/* stdout's buffer for --json; static, as stdout outlives cmd_parse(). */
static char json_outbuf[1 << 16];

struct json_out {
	FILE	*out;
	size_t	 n;
	bool	 head;
};

static int
stream_head(void *userdata, const struct feed_doc *doc)
{
	struct json_out *st = userdata;

	st->head = true;
	return parse_out_head(st->out, doc);
}

static int
stream_item(void *userdata, struct feed_item *it)
{
	struct json_out *st = userdata;

	if (st->n++ > 0)
		putc_unlocked(',', st->out);
	return parse_out_item(st->out, it);
}

static void
parse_usage(FILE *f)
{
	fprintf(f, "Usage: feedwatch parse [--json] SOURCE\n"
	    "SOURCE is a path, - for standard input, or a URL.\n");
}

static void
print_listing(FILE *out, const struct feed_doc *doc)
{
	char	tbuf[40];
	size_t	i, j;

	safe_fprintf(out, "Format:      %s\n", feed_format_to_string(doc->format));
	safe_fprintf(out, "Title:       %s\n", doc->title != NULL ? doc->title : "-");
	if (doc->link != NULL)
		safe_fprintf(out, "Link:        %s\n", doc->link);
	if (doc->description != NULL)
		safe_fprintf(out, "Description: %s\n", doc->description);
	if (doc->language != NULL)
		safe_fprintf(out, "Language:    %s\n", doc->language);
	if (doc->ttl_seconds > 0)
		safe_fprintf(out, "Poll hint:   %lld s\n", (long long)doc->ttl_seconds);
	safe_fprintf(out, "Items:       %zu\n", doc->n_items);
	for (i = 0; i < doc->n_items; i++) {
		const struct feed_item *it = &doc->items[i];

		safe_fprintf(out, "\n%s  %s\n",
		    it->published != FW_TIME_NONE ?
		    fw_time_format(it->published, tbuf, sizeof(tbuf)) :
		    it->updated != FW_TIME_NONE ?
		    fw_time_format(it->updated, tbuf, sizeof(tbuf)) :
		    "(no date)           ",
		    it->title != NULL ? it->title : "(no title)");
		if (it->link != NULL)
			safe_fprintf(out, "    %s\n", it->link);
		if (it->author != NULL)
			safe_fprintf(out, "    by %s\n", it->author);
		if (it->n_categories > 0) {
			safe_fprintf(out, "    [");
			for (j = 0; j < it->n_categories; j++)
				safe_fprintf(out, "%s%s", j > 0 ? ", " : "",
				    it->categories[j]);
			safe_fprintf(out, "]\n");
		}
		safe_fprintf(out, "    id: %s\n", it->id);
	}
	for (i = 0; i < doc->n_warnings; i++) {
		if (i == 0)
			putc('\n', out);
		safe_fprintf(out, "warning: %s\n", doc->warnings[i]);
	}
}

/* parse_path() found the file unreadable (and said so). */
#define PARSE_PATH_UNREADABLE	1

static bool
is_url(const char *s)
{
	return strstr(s, "://") != NULL;
}

/* Parses a path, or "-" for standard input, as it is read: the document is
 * never held whole (parse_feed_fd). Fails as fetch_source() would for a
 * file it cannot open or one over the size limit, before any output. */
static int
parse_path(const char *source, const struct parse_limits *lim,
    parse_head_fn on_head, parse_item_fn on_item, void *userdata,
    struct feed_doc **ret_doc, struct fw_error *err)
{
	const char	*name = strcmp(source, "-") == 0 ? "<stdin>" : source;
	struct stat	 sb;
	int		 fd = 0, r;

	if (strcmp(source, "-") != 0) {
		fd = open(source, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fw_error_set(err, source, 0, 0, "cannot open: %s",
			    strerror(errno));
			goto unreadable;
		}
	}
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (uint64_t)sb.st_size > lim->max_bytes) {
		fw_error_set(err, name, 0, 0, "larger than the limit of %llu bytes",
		    (unsigned long long)lim->max_bytes);
		goto unreadable;
	}
	r = parse_feed_fd_ex(fd, NULL, NULL, lim, on_head, on_item, userdata,
	    ret_doc, err);
	if (fd > 0)
		(void)close(fd);
	return r;
unreadable:
	/* err names the file already. */
	fprintf(stderr, "feedwatch: parse: ");
	fw_error_print(stderr, err);
	if (fd > 0)
		(void)close(fd);
	return PARSE_PATH_UNREADABLE;
}

/* Fetches a URL whole. Returns 0, or 1 after saying why there is nothing
 * to parse. */
static int
fetch_body(const char *source, const struct parse_limits *lim,
    struct fetch_opts *fo, struct fetch_result *res, struct fw_error *err)
{
	int	r;

	/* main() leaves libcurl to this verb: a file needs none of it. */
	if (fetch_global_init() < 0) {
		fprintf(stderr, "feedwatch: parse: cannot initialise libcurl\n");
		return 1;
	}
	fo->max_bytes = lim->max_bytes;
	r = fetch_source(source, fo, res, err);
	fetch_global_cleanup();
	if (r < 0) {
		fprintf(stderr, "feedwatch: parse: %s: ", source);
		fw_error_print(stderr, err);
		return 1;
	}
	if (res->status >= 400) {
		fprintf(stderr, "feedwatch: parse: %s: HTTP status %ld\n",
		    source, res->status);
		return 1;
	}
	return 0;
}

static const char *
body_base(const char *source, const struct fetch_result *res)
{
	return res->effective_url != NULL ? res->effective_url : source;
}

int
cmd_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fetch_opts	 fo;
	struct fetch_result	 res;
	struct parse_limits	 lim;
	struct fw_error		 err;
	struct feed_doc		*doc = NULL;
	struct json_out		 st = { .out = stdout };
	parse_head_fn		 on_head;
	parse_item_fn		 on_item;
	const char		*source;
	int			 json = 0, c, r = -1, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			parse_usage(stdout);
			return 0;
		default:
			parse_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		parse_usage(stderr);
		return 2;
	}
	source = argv[optind];

	parse_limits_default(&lim);
	memset(&fo, 0, sizeof(fo));
	memset(&res, 0, sizeof(res));
	memset(&err, 0, sizeof(err));
	/* --json writes each item as it completes; the listing needs the
	 * whole document first. */
	/* With no buffer of its own, glibc ignores the size given to
	 * setvbuf() and writes in pieces of the file's block size (4 KiB to
	 * a pipe or /dev/null): a 20 MB feed's output cost 4,000 write()s. */
	if (json)
		(void)setvbuf(stdout, json_outbuf, _IOFBF, sizeof(json_outbuf));
	on_head = json ? stream_head : NULL;
	on_item = json ? stream_item : NULL;
	if (!is_url(source)) {
		r = parse_path(source, &lim, on_head, on_item, &st, &doc, &err);
		if (r == PARSE_PATH_UNREADABLE)
			return 1;
	} else {
		r = fetch_body(source, &lim, &fo, &res, &err);
		if (r != 0)
			goto out;
		r = parse_feed_ex(res.body != NULL ? res.body : "", res.len,
		    body_base(source, &res), res.content_type, &lim, on_head,
		    on_item, &st, &doc, &err);
	}
	if (!json) {
		if (r == 0)
			print_listing(stdout, doc);
	} else if (r == 0) {
		if (!st.head)
			r = parse_out_head(stdout, doc);
		if (r == 0)
			r = parse_out_tail(stdout, doc);
	} else if (st.head) {
		/* Items were written: leave no half object behind the error. */
		fputs("\n", stdout);
	}
	if (r < 0 && doc == NULL) {
		fprintf(stderr, "feedwatch: parse: %s: %s\n", source, err.msg);
		goto out;
	}
	if (fflush(stdout) != 0 || r < 0) {
		fprintf(stderr, "feedwatch: parse: cannot write output: %s\n",
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	feed_doc_free(doc);
	fetch_result_done(&res);
	return rc;
}
