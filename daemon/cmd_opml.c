/* cmd_opml.c — `feedwatch import-opml` and `feedwatch export-opml`.
 *
 *   feedwatch import-opml -c CONFIG FILE
 *   feedwatch export-opml -c CONFIG
 *
 * import-opml reads a subscription list exported from another reader and
 * writes its new feeds as one file into the config directory (feeds.d/),
 * folders kept as tags; URLs already configured are skipped and said so.
 * The configuration is loaded again with the new file, and the file is
 * removed when that fails, so a bad import never breaks the next reload.
 * export-opml prints OPML 2.0 of the configured feeds.
 * Exit status: 0 done, 1 config, file or write error, 2 usage. */
#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "cmd_common.h"
#include "conf.h"
#include "feeds_file.h"
#include "opml.h"

/* An OPML file larger than this is not a subscription list. */
#define OPML_MAX_BYTES	(16 * 1024 * 1024)

static int
read_all(const char *path, struct buf *b)
{
	FILE	*f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char	 chunk[65536];
	size_t	 got;
	int	 r = 0;

	if (f == NULL)
		return -errno;
	buf_init(b, OPML_MAX_BYTES);
	while (r == 0 && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		r = buf_append(b, chunk, got);
	if (r == 0 && ferror(f))
		r = -EIO;
	if (f != stdin)
		fclose(f);
	return r;
}

static const struct conf_feed *
configured(const struct conf *c, const char *url)
{
	for (size_t i = 0; i < c->n_feeds; i++)
		if (c->feeds[i].url != NULL && strcmp(c->feeds[i].url, url) == 0)
			return &c->feeds[i];
	return NULL;
}

static bool
pollable(const char *url)
{
	return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

/* "opml-" and the OPML file's name without its extension. */
static void
file_stem(const char *path, char *out, size_t size)
{
	char	*copy = strdup(strcmp(path, "-") == 0 ? "stdin" : path), *base, *dot;
	size_t	 n = 0;

	snprintf(out, size, "opml");
	if (copy == NULL)
		return;
	base = basename(copy);
	if ((dot = strrchr(base, '.')) != NULL && dot != base)
		*dot = '\0';
	n = (size_t)snprintf(out, size, "opml-");
	for (; *base != '\0' && n + 1 < size; base++)
		out[n++] = ((*base >= 'a' && *base <= 'z') || (*base >= '0' && *base <= '9') ||
		    *base == '-' || *base == '_') ? *base :
		    (*base >= 'A' && *base <= 'Z') ? (char)(*base - 'A' + 'a') : '-';
	out[n] = '\0';
	free(copy);
}

int
cmd_import_opml(int argc, char **argv)
{
	struct cmd_opts		 o;
	struct conf		*conf = NULL, *check = NULL;
	struct opml_doc		*doc = NULL;
	struct feeds_file_entry	*v = NULL;
	struct fw_errors	 errs = { 0 };
	struct fw_error		 e;
	struct buf		 b = { 0 };
	char			**names = NULL, *dir = NULL, *path = NULL, stem[64];
	size_t			 n = 0, skipped = 0;
	int			 r, rc = 1;

	if (cmd_parse_opts(argc, argv, "", &o) < 0)
		return 2;
	if (o.n_args != 1) {
		fprintf(stderr, "Usage: feedwatch import-opml -c CONFIG FILE\n");
		return 2;
	}
	if ((conf = cmd_load_conf(o.config)) == NULL)
		return 1;
	if ((r = read_all(o.args[0], &b)) < 0) {
		fprintf(stderr, "feedwatch import-opml: %s: %s\n", o.args[0], r == -E2BIG ?
		    "larger than 16 MiB: not a subscription list" : strerror(-r));
		goto out;
	}
	if (opml_parse(b.data != NULL ? b.data : "", b.len, &doc, &e) < 0) {
		fprintf(stderr, "feedwatch import-opml: %s: %s\n", o.args[0], e.msg);
		goto out;
	}
	v = calloc(doc->n_feeds + 1, sizeof(*v));
	names = calloc(doc->n_feeds + 1, sizeof(*names));
	if (v == NULL || names == NULL)
		goto oom;
	for (size_t i = 0; i < doc->n_feeds; i++) {
		const struct opml_feed	*f = &doc->feeds[i];
		const struct conf_feed	*have = configured(conf, f->url);
		bool			 dup = false;

		for (size_t j = 0; j < n && !dup; j++)
			dup = strcmp(v[j].url, f->url) == 0;
		if (have != NULL || dup || !pollable(f->url)) {
			skipped++;
			if (have != NULL)
				printf("skipped %s: already configured as '%s' (%s:%u)\n", f->url,
				    have->name, have->file, have->line);
			else if (dup)
				printf("skipped %s: listed twice in the file\n", f->url);
			else
				printf("skipped %s: not an http or https URL\n", f->url);
			continue;
		}
		if ((names[n] = feeds_file_name(conf, f->title, f->url, names, n)) == NULL)
			goto oom;
		v[n] = (struct feeds_file_entry){
			.url = f->url, .name = names[n],
			.tags = (const char *const *)f->tags, .n_tags = f->n_tags,
		};
		n++;
	}
	if (n == 0) {
		printf("nothing to import: %zu feeds in %s, %zu skipped\n", doc->n_feeds,
		    o.args[0], skipped);
		rc = 0;
		goto out;
	}
	if ((dir = feeds_file_dir(conf, &e)) == NULL) {
		fw_error_print(stderr, &e);
		goto out;
	}
	file_stem(o.args[0], stem, sizeof(stem));
	if (feeds_file_write(dir, stem, "feeds imported by feedwatch import-opml", v, n,
	    &path, &e) < 0) {
		fw_error_print(stderr, &e);
		goto out;
	}
	/* The daemon must be able to load what was written. */
	if (conf_load(o.config, &check, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fw_error_print(stderr, &errs.v[i]);
		fprintf(stderr, "feedwatch import-opml: the configuration does not load with "
		    "%s: removed it\n", path);
		(void)unlink(path);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		printf("added %s  %s", v[i].name, v[i].url);
		for (size_t j = 0; j < v[i].n_tags; j++)
			printf("%s%s", j == 0 ? "  tags: " : ", ", v[i].tags[j]);
		printf("\n");
	}
	printf("imported %zu feeds into %s (%zu skipped)\n"
	    "A running daemon picks them up on 'systemctl reload feedwatch' (SIGHUP).\n",
	    n, path, skipped);
	rc = 0;
	goto out;
oom:
	fprintf(stderr, "feedwatch import-opml: out of memory\n");
out:
	for (size_t i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	free(v);
	free(dir);
	free(path);
	buf_done(&b);
	opml_doc_free(doc);
	conf_free(check);
	conf_free(conf);
	fw_errors_done(&errs);
	return rc;
}

int
cmd_export_opml(int argc, char **argv)
{
	struct cmd_opts		 o;
	struct conf		*conf;
	struct opml_out_feed	*v;
	const char		**tags = NULL;
	size_t			 n_tags = 0, k = 0;
	char			*out = NULL;
	int			 rc = 1;

	if (cmd_parse_opts(argc, argv, "", &o) < 0)
		return 2;
	if (o.n_args != 0) {
		fprintf(stderr, "Usage: feedwatch export-opml -c CONFIG\n");
		return 2;
	}
	if ((conf = cmd_load_conf(o.config)) == NULL)
		return 1;
	for (size_t i = 0; i < conf->n_feeds; i++)
		n_tags += conf->feeds[i].tags.n;
	v = calloc(conf->n_feeds + 1, sizeof(*v));
	tags = calloc(n_tags + 1, sizeof(*tags));
	if (v == NULL || tags == NULL)
		goto out;
	for (size_t i = 0; i < conf->n_feeds; i++) {
		const struct conf_feed *f = &conf->feeds[i];

		v[i] = (struct opml_out_feed){ .name = f->name, .url = f->url,
		    .tags = tags + k, .n_tags = f->tags.n };
		for (size_t j = 0; j < f->tags.n; j++)
			tags[k++] = f->tags.v[j].s;
	}
	if (opml_write("feedwatch feeds", v, conf->n_feeds, &out) < 0)
		goto out;
	rc = fputs(out, stdout) < 0 || fflush(stdout) != 0 ? 1 : 0;
out:
	if (rc != 0)
		fprintf(stderr, "feedwatch export-opml: cannot write the OPML\n");
	free(out);
	free(tags);
	free(v);
	conf_free(conf);
	return rc;
}
