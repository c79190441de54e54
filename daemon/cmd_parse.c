/* cmd_parse.c — `feedwatch parse [--json] SOURCE`: fetch one feed (path,
 * "-" or URL), parse it with exactly the code the daemon uses, and print it:
 * the JSON object of the contract with --json, a readable listing without.
 * Exit status: 0 parsed (warnings included), 1 unreadable or not a feed,
 * 2 usage.
 *
 * Compiled twice: into the executable with FW_PARSE_FETCH 0 for paths and
 * standard input (main.c sends URLs to feedwatch-core), and into
 * feedwatch-core with FW_PARSE_FETCH 1 for everything. */
#ifndef FW_PARSE_FETCH
#define FW_PARSE_FETCH 1
#endif
#ifndef FW_PARSE_STATIC_LIBC
#define FW_PARSE_STATIC_LIBC 0
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "parse.h"
#include "parse_internal.h"
#if FW_PARSE_FETCH
#include "fetch.h"
#endif

/* --json output is streamed: each item is written as soon as the parser
 * finishes it and freed, so a 20 MB feed never sits in memory twice. */
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

	fprintf(out, "Format:      %s\n", feed_format_to_string(doc->format));
	fprintf(out, "Title:       %s\n", doc->title != NULL ? doc->title : "-");
	if (doc->link != NULL)
		fprintf(out, "Link:        %s\n", doc->link);
	if (doc->description != NULL)
		fprintf(out, "Description: %s\n", doc->description);
	if (doc->language != NULL)
		fprintf(out, "Language:    %s\n", doc->language);
	if (doc->ttl_seconds > 0)
		fprintf(out, "Poll hint:   %lld s\n", (long long)doc->ttl_seconds);
	fprintf(out, "Items:       %zu\n", doc->n_items);
	for (i = 0; i < doc->n_items; i++) {
		const struct feed_item *it = &doc->items[i];

		fprintf(out, "\n%s  %s\n",
		    it->published != FW_TIME_NONE ?
		    fw_time_format(it->published, tbuf, sizeof(tbuf)) :
		    it->updated != FW_TIME_NONE ?
		    fw_time_format(it->updated, tbuf, sizeof(tbuf)) :
		    "(no date)           ",
		    it->title != NULL ? it->title : "(no title)");
		if (it->link != NULL)
			fprintf(out, "    %s\n", it->link);
		if (it->author != NULL)
			fprintf(out, "    by %s\n", it->author);
		if (it->n_categories > 0) {
			fprintf(out, "    [");
			for (j = 0; j < it->n_categories; j++)
				fprintf(out, "%s%s", j > 0 ? ", " : "",
				    it->categories[j]);
			fprintf(out, "]\n");
		}
		fprintf(out, "    id: %s\n", it->id);
	}
	for (i = 0; i < doc->n_warnings; i++)
		fprintf(out, "%swarning: %s\n", i == 0 ? "\n" : "",
		    doc->warnings[i]);
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
    struct feed_doc **ret_doc, struct buf *consumed, struct fw_error *err)
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
	    ret_doc, consumed, err);
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

#if FW_PARSE_STATIC_LIBC
/*
 * The statically linked executable leaves a document in a charset only
 * iconv converts to feedwatch-core (parse_xml.c says why), before anything
 * is written. A file is simply read again there; standard input is passed
 * on whole: what was read of it, then the rest, in an anonymous file that
 * becomes feedwatch-core's standard input. argv is main()'s, from the
 * program name on. Returns only on failure, 1, having said why.
 */
static int
hand_to_core(int argc, char **argv, const char *source,
    const struct buf *consumed, size_t max_bytes)
{
	char	chunk[65536];
	size_t	total = consumed->len;
	ssize_t	n;
	int	fd;

	if (strcmp(source, "-") == 0) {
		fd = memfd_create("feedwatch-stdin", MFD_CLOEXEC);
		if (fd < 0)
			goto fail;
		if (consumed->len > 0 &&
		    write(fd, consumed->data, consumed->len) != (ssize_t)consumed->len)
			goto fail_fd;
		/* One byte over the limit is enough for feedwatch-core to
		 * refuse the input as this executable would have. */
		while (total <= max_bytes) {
			n = read(0, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				goto fail_fd;
			if (n == 0)
				break;
			if (write(fd, chunk, (size_t)n) != n)
				goto fail_fd;
			total += (size_t)n;
		}
		if (lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, 0) != 0)
			goto fail_fd;
		(void)close(fd);
	}
	return run_core(argc, argv);
fail_fd:
	(void)close(fd);
fail:
	fprintf(stderr, "feedwatch: parse: %s: cannot pass the input on to "
	    "feedwatch-core: %s\n", source, strerror(errno));
	return 1;
}
#endif

#if FW_PARSE_FETCH
/* Fetches a URL whole. Returns 0, or 1 after saying why there is nothing
 * to parse. */
static int
fetch_body(const char *source, const struct parse_limits *lim,
    struct fetch_opts *fo, struct fetch_result *res, struct fw_error *err)
{
	fo->max_bytes = lim->max_bytes;
	if (fetch_source(source, fo, res, err) < 0) {
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
#endif

int
cmd_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
#if FW_PARSE_FETCH
	struct fetch_opts	 fo;
	struct fetch_result	 res;
#endif
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
#if FW_PARSE_FETCH
	memset(&fo, 0, sizeof(fo));
	memset(&res, 0, sizeof(res));
#else
	if (is_url(source)) {
		fprintf(stderr, "feedwatch: parse: %s: URLs are fetched by the "
		    "core module\n", source);
		return 1;
	}
#endif
	memset(&err, 0, sizeof(err));
	/* --json writes each item as it completes; the listing needs the
	 * whole document first. */
	if (json)
		(void)setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	on_head = json ? stream_head : NULL;
	on_item = json ? stream_item : NULL;
	if (!is_url(source)) {
#if FW_PARSE_STATIC_LIBC
		struct buf	consumed;

		buf_init(&consumed, lim.max_bytes);
		r = parse_path(source, &lim, on_head, on_item, &st, &doc,
		    &consumed, &err);
		if (r == -ENOEXEC) {
			/* cmd_parse() is given main()'s argv from the verb
			 * on (main.c), so argv - 1 is the whole of it. */
			rc = hand_to_core(argc + 1, argv - 1, source, &consumed,
			    lim.max_bytes);
			buf_done(&consumed);
			return rc;
		}
		buf_done(&consumed);
#else
		r = parse_path(source, &lim, on_head, on_item, &st, &doc, NULL,
		    &err);
#endif
		if (r == PARSE_PATH_UNREADABLE)
			return 1;
	} else {
#if FW_PARSE_FETCH
		r = fetch_body(source, &lim, &fo, &res, &err);
		if (r != 0)
			goto out;
		r = parse_feed_ex(res.body != NULL ? res.body : "", res.len,
		    body_base(source, &res), res.content_type, &lim, on_head,
		    on_item, &st, &doc, &err);
#endif
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
#if FW_PARSE_FETCH
	fetch_result_done(&res);
#endif
	return rc;
}
