/* test_parse.c — the parse stage: every fixture pair under tests/data
 * (feeds/<case>.* against expected/<case>.json), then the limits, the
 * safety properties and the small public helpers.
 *
 * An expected file is the `parse --json` object, compared as JSON except
 * "warnings": there each expected string must occur in the warning at the
 * same position (so wording can be refined without rewriting fixtures). An
 * expected {"error": "..."} means parse_feed() must fail with a message
 * containing that text. A feeds/<case>.content-type file, if present, is
 * passed as the HTTP Content-Type. Every fixture is parsed with base URL
 * https://example.com/feeds/<case>. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "parse.h"
#include "parse_internal.h"
#include "testutil.h"

static char	**fixtures;
static char *big_feed(size_t items, size_t field_len, size_t depth);
#define big_feed_public(n, f) big_feed((n), (f), 0)
static size_t	  n_fixtures;

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
load_fixture_names(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 dir[4096];

	snprintf(dir, sizeof(dir), "%s", tu_data_path("expected"));
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		char **v = realloc(fixtures, (n_fixtures + 1) * sizeof(*fixtures));

		if (v == NULL)
			abort();
		fixtures = v;
		fixtures[n_fixtures++] = strndup(de->d_name, n - 5);
	}
	closedir(d);
	qsort(fixtures, n_fixtures, sizeof(*fixtures), cmp_names);
}

/* Finds feeds/<name>.<ext> other than .content-type. */
static char *
find_feed(const char *name)
{
	DIR		*d;
	struct dirent	*de;
	char		 dir[4096], *path = NULL;
	size_t		 n = strlen(name);

	snprintf(dir, sizeof(dir), "%s", tu_data_path("feeds"));
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, name, n) != 0 || de->d_name[n] != '.' ||
		    strcmp(de->d_name + n, ".content-type") == 0)
			continue;
		ck_assert_int_ge(asprintf(&path, "%s/%s", dir, de->d_name), 0);
		break;
	}
	closedir(d);
	return path;
}

static json_t *
doc_to_json(const struct feed_doc *doc)
{
	char		*out = NULL;
	size_t		 outlen = 0;
	FILE		*f = open_memstream(&out, &outlen);
	json_error_t	 jerr;
	json_t		*j;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(parse_doc_write_json(f, doc), 0);
	fclose(f);
	j = json_loadb(out, outlen, 0, &jerr);
	ck_assert_msg(j != NULL, "output is not JSON: %s", jerr.text);
	free(out);
	return j;
}

START_TEST(test_fixture)
{
	const char	*name = fixtures[_i];
	char		*feed_path, *ct = NULL, *data, base[512], ctpath[4096];
	char		*exp_text, *got_text;
	size_t		 len, ctlen, i;
	json_t		*exp, *got, *ew, *gw;
	json_error_t	 jerr;
	struct feed_doc	*doc = NULL;
	struct fw_error	 err;
	FILE		*f;
	int		 r;

	feed_path = find_feed(name);
	ck_assert_msg(feed_path != NULL, "%s: no feed file", name);
	data = tu_read_file(feed_path, &len);
	snprintf(ctpath, sizeof(ctpath), "%s/%s.content-type",
	    tu_data_path("feeds"), name);
	if ((f = fopen(ctpath, "r")) != NULL) {
		fclose(f);
		ct = tu_read_file(ctpath, &ctlen);
		while (ctlen > 0 && (ct[ctlen - 1] == '\n' || ct[ctlen - 1] == '\r'))
			ct[--ctlen] = '\0';
	}
	snprintf(base, sizeof(base), "https://example.com/feeds/%s", name);
	{
		char p[4096];

		snprintf(p, sizeof(p), "%s/%s.json", tu_data_path("expected"), name);
		exp = json_load_file(p, 0, &jerr);
	}
	ck_assert_msg(exp != NULL, "%s: expected JSON unreadable: %s", name,
	    jerr.text);
	memset(&err, 0, sizeof(err));
	r = parse_feed(data, len, base, ct, NULL, &doc, &err);
	if (json_object_get(exp, "error") != NULL) {
		const char *want = json_string_value(json_object_get(exp, "error"));

		ck_assert_msg(r < 0, "%s: parsed, but an error was expected", name);
		ck_assert_msg(strstr(err.msg, want) != NULL,
		    "%s: error \"%s\" lacks \"%s\"", name, err.msg, want);
		goto done;
	}
	ck_assert_msg(r == 0, "%s: parse failed: %s", name, err.msg);
	got = doc_to_json(doc);
	ew = json_incref(json_object_get(exp, "warnings"));
	gw = json_incref(json_object_get(got, "warnings"));
	json_object_del(exp, "warnings");
	json_object_del(got, "warnings");
	exp_text = json_dumps(exp, JSON_INDENT(1) | JSON_SORT_KEYS);
	got_text = json_dumps(got, JSON_INDENT(1) | JSON_SORT_KEYS);
	ck_assert_msg(json_equal(exp, got), "%s: output differs\n--- expected\n%s\n"
	    "--- got\n%s", name, exp_text, got_text);
	free(exp_text);
	free(got_text);
	got_text = json_dumps(gw, 0);
	ck_assert_msg(json_array_size(ew) == json_array_size(gw),
	    "%s: %zu warnings expected, got %s", name, json_array_size(ew),
	    got_text);
	for (i = 0; i < json_array_size(ew); i++)
		ck_assert_msg(strstr(json_string_value(json_array_get(gw, i)),
		    json_string_value(json_array_get(ew, i))) != NULL,
		    "%s: warning %zu: want \"%s\", got %s", name, i,
		    json_string_value(json_array_get(ew, i)), got_text);
	free(got_text);
	json_decref(ew);
	json_decref(gw);
	json_decref(got);
done:
	json_decref(exp);
	feed_doc_free(doc);
	free(data);
	free(ct);
	free(feed_path);
}
END_TEST

/* The streaming writer (cmd_parse's --json) into a string. */
struct stream_out {
	FILE	*f;
	size_t	 n;
};

static int
st_head(void *u, const struct feed_doc *doc)
{
	return parse_out_head(((struct stream_out *)u)->f, doc);
}

static int
st_item(void *u, struct feed_item *it)
{
	struct stream_out *so = u;

	if (so->n++ > 0)
		fputc(',', so->f);
	return parse_out_item(so->f, it);
}

/* Ends a streamed parse as cmd_parse does: the head if no item wrote it,
 * the tail; or the error. Closes so->f and frees doc. */
static void
stream_close(struct stream_out *so, struct feed_doc *doc, int ret,
    const struct fw_error *err)
{
	if (ret == 0) {
		if (so->n == 0)
			(void)parse_out_head(so->f, doc);
		(void)parse_out_tail(so->f, doc);
	} else {
		fprintf(so->f, "error: %s", err->msg);
	}
	feed_doc_free(doc);
	fclose(so->f);
}

static char *
stream_fixture(const char *data, size_t len, const char *ct, int *ret)
{
	struct stream_out	 so = { 0 };
	struct feed_doc		*doc = NULL;
	struct fw_error		 err;
	char			*out = NULL;
	size_t			 outlen = 0;

	so.f = open_memstream(&out, &outlen);
	ck_assert_ptr_nonnull(so.f);
	*ret = parse_feed_ex(data, len, "https://example.com/feeds/x", ct, NULL,
	    st_head, st_item, &so, &doc, &err);
	stream_close(&so, doc, *ret, &err);
	return out;
}

static char *
stream_fd(int fd, int *ret)
{
	struct stream_out	 so = { 0 };
	struct feed_doc		*doc = NULL;
	struct fw_error		 err;
	char			*out = NULL;
	size_t			 outlen = 0;

	so.f = open_memstream(&out, &outlen);
	ck_assert_ptr_nonnull(so.f);
	*ret = parse_feed_fd_ex(fd, "https://example.com/feeds/x", NULL, NULL,
	    st_head, st_item, &so, &doc, &err);
	stream_close(&so, doc, *ret, &err);
	return out;
}

/* ---- API ---- */

static struct feed_doc *
parse_ok(const char *xml, const struct parse_limits *lim)
{
	struct feed_doc	*doc = NULL;
	struct fw_error	 err;
	int		 r;

	memset(&err, 0, sizeof(err));
	r = parse_feed(xml, strlen(xml), "https://example.com/", NULL, lim,
	    &doc, &err);
	ck_assert_msg(r == 0, "parse failed: %s", err.msg);
	return doc;
}

static int
parse_err(const char *xml, const struct parse_limits *lim, struct fw_error *err)
{
	struct feed_doc	*doc = NULL;
	int		 r;

	memset(err, 0, sizeof(*err));
	r = parse_feed(xml, strlen(xml), NULL, NULL, lim, &doc, err);
	ck_assert_int_lt(r, 0);
	ck_assert_ptr_null(doc);
	return r;
}

START_TEST(test_format_names)
{
	ck_assert_str_eq(feed_format_to_string(FEED_FORMAT_RSS20), "rss2.0");
	ck_assert_str_eq(feed_format_to_string(FEED_FORMAT_RSS10), "rss1.0");
	ck_assert_str_eq(feed_format_to_string(FEED_FORMAT_RSS09), "rss0.9");
	ck_assert_str_eq(feed_format_to_string(FEED_FORMAT_ATOM10), "atom1.0");
	ck_assert_str_eq(feed_format_to_string(FEED_FORMAT_ATOM03), "atom0.3");
	ck_assert_str_eq(feed_format_to_string(FEED_FORMAT_JSONFEED1), "jsonfeed1");
	ck_assert_str_eq(feed_format_to_string(_FEED_FORMAT_MAX), "unknown");
}
END_TEST

START_TEST(test_time_format)
{
	char buf[32];

	ck_assert_str_eq(fw_time_format(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
	ck_assert_str_eq(fw_time_format(1735787045, buf, sizeof(buf)),
	    "2025-01-02T03:04:05Z");
	ck_assert_str_eq(fw_time_format(951782400, buf, sizeof(buf)),
	    "2000-02-29T00:00:00Z");
	ck_assert_str_eq(fw_time_format(-1, buf, sizeof(buf)), "1969-12-31T23:59:59Z");
}
END_TEST

START_TEST(test_free_null)
{
	ck_assert_ptr_null(feed_doc_free(NULL));
}
END_TEST

START_TEST(test_rss_basic)
{
	struct feed_doc *doc = parse_ok(
	    "<rss version=\"2.0\"><channel><title>T</title><ttl>15</ttl>"
	    "<item><title>A</title><link>/a</link></item>"
	    "<item><guid isPermaLink=\"false\">g2</guid><title>B</title></item>"
	    "</channel></rss>", NULL);

	ck_assert_int_eq(doc->format, FEED_FORMAT_RSS20);
	ck_assert_str_eq(doc->title, "T");
	ck_assert_int_eq(doc->ttl_seconds, 900);
	ck_assert_uint_eq(doc->n_items, 2);
	ck_assert_str_eq(doc->items[0].link, "https://example.com/a");
	ck_assert_str_eq(doc->items[0].id, "https://example.com/a");
	ck_assert_str_eq(doc->items[1].id, "g2");
	ck_assert_ptr_null(doc->items[1].link);
	ck_assert(doc->items[1].published == FW_TIME_NONE);
	feed_doc_free(doc);
}
END_TEST

START_TEST(test_sy_ttl)
{
	struct feed_doc *doc = parse_ok(
	    "<rss version=\"2.0\" xmlns:sy=\"http://purl.org/rss/1.0/modules/syndication/\">"
	    "<channel><sy:updatePeriod>daily</sy:updatePeriod>"
	    "<sy:updateFrequency>4</sy:updateFrequency></channel></rss>", NULL);

	ck_assert_int_eq(doc->ttl_seconds, 21600);
	feed_doc_free(doc);
}
END_TEST

START_TEST(test_repeated_guid)
{
	struct feed_doc *doc = parse_ok(
	    "<rss version=\"2.0\"><channel>"
	    "<item><guid>same</guid><title>One</title></item>"
	    "<item><guid>same</guid><title>Two</title></item>"
	    "<item><guid>same</guid><title>One</title></item>"
	    "</channel></rss>", NULL);

	/* Every entry is listed: the exact repeat with its id (the store
	 * deduplicates), the different one with a distinct id. */
	ck_assert_uint_eq(doc->n_items, 3);
	ck_assert_str_eq(doc->items[0].id, "same");
	ck_assert(strncmp(doc->items[1].id, "same#", 5) == 0);
	ck_assert_uint_eq(strlen(doc->items[1].id), 5 + 16);
	ck_assert_str_eq(doc->items[2].id, "same");
	ck_assert_uint_eq(doc->n_warnings, 0);
	feed_doc_free(doc);
}
END_TEST

START_TEST(test_hash_id)
{
	struct feed_doc *doc = parse_ok(
	    "<rss version=\"2.0\"><channel><item><title>No link</title>"
	    "<description>d</description></item></channel></rss>", NULL);

	ck_assert_uint_eq(doc->n_items, 1);
	ck_assert(strncmp(doc->items[0].id, "sha256:", 7) == 0);
	ck_assert_uint_eq(strlen(doc->items[0].id), 7 + 32);
	feed_doc_free(doc);
}
END_TEST

START_TEST(test_errors)
{
	struct fw_error err;

	parse_err("", NULL, &err);
	ck_assert_str_eq(err.msg, "not a feed: empty document");
	parse_err("<!DOCTYPE html><html><body>x</body></html>", NULL, &err);
	ck_assert_str_eq(err.msg, "not a feed: found an HTML page");
	parse_err("<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"/>",
	    NULL, &err);
	ck_assert_str_eq(err.msg, "not a feed: found an HTML page");
	parse_err("hello world", NULL, &err);
	ck_assert(strstr(err.msg, "not a feed: found neither XML nor JSON") != NULL);
	parse_err("<foo/>", NULL, &err);
	ck_assert_str_eq(err.msg, "not a feed: found XML with root element <foo>");
	parse_err("{\"a\": 1}", NULL, &err);
	ck_assert_str_eq(err.msg, "not a feed: found JSON that is not a JSON Feed");
	parse_err("{\"a\": ", NULL, &err);
	ck_assert(strstr(err.msg, "not a feed: unreadable JSON") != NULL);
	parse_err("<<<>>>", NULL, &err);
	ck_assert(strstr(err.msg, "not a feed:") != NULL);
}
END_TEST

/* ---- Limits: each bound holds, and parsing goes on. ---- */

static char *
big_feed(size_t items, size_t field_len, size_t depth)
{
	char	*s = NULL;
	size_t	 len = 0, i;
	FILE	*f = open_memstream(&s, &len);

	fputs("<rss version=\"2.0\"><channel><title>Big</title>", f);
	for (i = 0; i < items; i++) {
		fprintf(f, "<item><guid>g%zu</guid><title>Item %zu</title><description>", i, i);
		for (size_t j = 0; j < field_len; j++)
			fputc('a' + (int)(j % 26), f);
		fputs("</description></item>", f);
	}
	for (i = 0; i < depth; i++)
		fputs("<x>", f);
	fputs("deep", f);
	for (i = 0; i < depth; i++)
		fputs("</x>", f);
	fputs("<item><title>after</title><link>http://e/after</link></item>", f);
	fputs("</channel></rss>", f);
	fclose(f);
	return s;
}

START_TEST(test_limit_items)
{
	struct parse_limits	 lim = { .max_items = 10 };
	char			*s = big_feed(50, 10, 0);
	struct feed_doc		*doc = parse_ok(s, &lim);

	ck_assert_uint_eq(doc->n_items, 10);
	ck_assert_str_eq(doc->items[9].id, "g9");
	ck_assert(strstr(doc->warnings[doc->n_warnings - 1], "kept the first 10") != NULL);
	feed_doc_free(doc);
	free(s);
}
END_TEST

START_TEST(test_limit_field)
{
	struct parse_limits	 lim = { .max_field_bytes = 100 };
	char			*s = big_feed(3, 5000, 0);
	struct feed_doc		*doc = parse_ok(s, &lim);

	ck_assert_uint_eq(doc->n_items, 4);
	ck_assert_uint_le(strlen(doc->items[0].summary), 100);
	ck_assert_uint_ge(strlen(doc->items[0].summary), 90);
	ck_assert(strstr(doc->warnings[0], "truncated") != NULL);
	ck_assert_str_eq(doc->items[3].title, "after");
	feed_doc_free(doc);
	free(s);
}
END_TEST

START_TEST(test_limit_depth)
{
	struct parse_limits	 lim = { .max_depth = 16 };
	char			*s = big_feed(2, 10, 200);
	struct feed_doc		*doc = parse_ok(s, &lim);
	size_t			 i;
	int			 found = 0;

	/* The deep subtree is skipped; the item after it still arrives. */
	ck_assert_uint_eq(doc->n_items, 3);
	ck_assert_str_eq(doc->items[2].title, "after");
	for (i = 0; i < doc->n_warnings; i++)
		if (strstr(doc->warnings[i], "nested deeper than 16") != NULL)
			found = 1;
	ck_assert(found);
	feed_doc_free(doc);
	free(s);
}
END_TEST

START_TEST(test_limit_bytes)
{
	struct parse_limits	 lim = { .max_bytes = 1000 };
	char			*s = big_feed(50, 10, 0);
	struct fw_error		 err;
	struct feed_doc		*doc;

	ck_assert_int_eq(parse_err(s, &lim, &err), -E2BIG);
	ck_assert(strstr(err.msg, "over the limit of 1000") != NULL);
	/* The next feed is parsed as usual. */
	doc = parse_ok(s, NULL);
	ck_assert_uint_eq(doc->n_items, 51);
	feed_doc_free(doc);
	free(s);
}
END_TEST

/* ---- Safety ---- */

START_TEST(test_billion_laughs)
{
	const char *s =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE rss [\n"
	    " <!ENTITY lol \"lol\">\n"
	    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	    " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	    " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	    " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	    " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	    " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	    "]>\n"
	    "<rss version=\"2.0\"><channel><item><title>&lol; &lol9;</title>"
	    "<link>http://e/1</link></item></channel></rss>";
	struct feed_doc *doc = parse_ok(s, NULL);

	ck_assert_uint_eq(doc->n_items, 1);
	/* The simple entity is honoured, the recursive one is not expanded. */
	ck_assert_str_eq(doc->items[0].title, "lol &lol9;");
	feed_doc_free(doc);
}
END_TEST

START_TEST(test_xxe)
{
	const char *s =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE rss [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> "
	    "<!ENTITY % pe SYSTEM \"file:///etc/passwd\"> %pe; ]>\n"
	    "<rss version=\"2.0\"><channel><item><title>a&xxe;b</title>"
	    "<link>http://e/1</link></item></channel></rss>";
	struct feed_doc *doc = parse_ok(s, NULL);

	ck_assert_uint_eq(doc->n_items, 1);
	ck_assert(strstr(doc->items[0].title, "root:") == NULL);
	feed_doc_free(doc);
}
END_TEST

START_TEST(test_external_dtd)
{
	const char *s =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\" "
	    "\"http://my.netscape.com/publish/formats/rss-0.91.dtd\">\n"
	    "<rss version=\"0.91\"><channel><title>Caf&eacute;</title>"
	    "<item><title>x&nbsp;y &copy;</title><link>http://e/1</link></item>"
	    "</channel></rss>";
	struct feed_doc *doc = parse_ok(s, NULL);

	ck_assert_int_eq(doc->format, FEED_FORMAT_RSS09);
	ck_assert_str_eq(doc->title, "Caf\xc3\xa9");
	ck_assert_str_eq(doc->items[0].title, "x y \xc2\xa9");
	feed_doc_free(doc);
}
END_TEST

/* ---- Chunks: parse_stream_* and parse_feed_fd give what parse_feed gives,
 * however the document is cut. ---- */

static void
load_fixture(const char *name, char **ret_data, size_t *ret_len, char **ret_ct)
{
	char	*feed_path, ctpath[4096];
	size_t	 ctlen;
	FILE	*f;

	feed_path = find_feed(name);
	ck_assert_msg(feed_path != NULL, "%s: no feed file", name);
	*ret_data = tu_read_file(feed_path, ret_len);
	free(feed_path);
	*ret_ct = NULL;
	snprintf(ctpath, sizeof(ctpath), "%s/%s.content-type",
	    tu_data_path("feeds"), name);
	if ((f = fopen(ctpath, "r")) != NULL) {
		fclose(f);
		*ret_ct = tu_read_file(ctpath, &ctlen);
		while (ctlen > 0 && ((*ret_ct)[ctlen - 1] == '\n' ||
		    (*ret_ct)[ctlen - 1] == '\r'))
			(*ret_ct)[--ctlen] = '\0';
	}
}

/* The result as text: the JSON object, or "error: ..." */
static char *
render(int r, struct feed_doc *doc, const struct fw_error *err)
{
	char	*out = NULL;
	size_t	 outlen = 0;
	FILE	*f = open_memstream(&out, &outlen);

	ck_assert_ptr_nonnull(f);
	if (r == 0)
		ck_assert_int_eq(parse_doc_write_json(f, doc), 0);
	else
		fprintf(f, "error %d: %s", r, err->msg);
	fclose(f);
	feed_doc_free(doc);
	return out;
}

static char *
whole_text(const char *data, size_t len, const char *ct,
    const struct parse_limits *lim)
{
	struct feed_doc	*doc = NULL;
	struct fw_error	 err;
	int		 r;

	memset(&err, 0, sizeof(err));
	r = parse_feed(data, len, "https://example.com/feeds/x", ct, lim, &doc,
	    &err);
	return render(r, doc, &err);
}

/* Pushes data in pieces of chunk bytes. */
static char *
chunked_text(const char *data, size_t len, const char *ct, size_t chunk,
    const struct parse_limits *lim)
{
	struct parse_stream	*ps = NULL;
	struct feed_doc		*doc = NULL;
	struct fw_error		 err;
	size_t			 off, n;
	int			 r;

	memset(&err, 0, sizeof(err));
	r = parse_stream_new("https://example.com/feeds/x", ct, lim, &ps, &err);
	ck_assert_int_eq(r, 0);
	for (off = 0; r == 0 && off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		r = parse_stream_push(ps, data + off, n, &err);
	}
	if (r == 0)
		r = parse_stream_finish(ps, &doc, &err);
	ps = parse_stream_free(ps);
	return render(r, doc, &err);
}

static void
assert_same(const char *name, const char *what, const char *want,
    const char *got)
{
	size_t	i = 0, from;

	while (want[i] != '\0' && want[i] == got[i])
		i++;
	from = i > 300 ? i - 300 : 0;
	ck_assert_msg(want[i] == got[i], "%s: %s differs at byte %zu\n"
	    "--- parse_feed\n%.600s\n--- %s\n%.600s", name, what, i,
	    want + from, what, got + from);
}

static const size_t chunk_sizes[] = { 1, 7, 4096, (size_t)1 << 30 };

/* Limits with rounds of n bytes (the repair and hand-over to libxml2),
 * valid until the next call. */
static const struct parse_limits *
rounds_of(size_t n)
{
	static struct parse_limits lim;

	memset(&lim, 0, sizeof(lim));
	lim.tuning.round_bytes = n;
	return &lim;
}

/* One round over the whole document. */
#define ONE_ROUND rounds_of((size_t)1 << 30)

START_TEST(test_fixture_chunks)
{
	const char	*name = fixtures[_i];
	char		*data, *ct, *want, *got, what[64];
	size_t		 len, i;

	load_fixture(name, &data, &len, &ct);
	want = whole_text(data, len, ct, NULL);
	for (i = 0; i < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); i++) {
		got = chunked_text(data, len, ct, chunk_sizes[i], NULL);
		snprintf(what, sizeof(what), "chunks of %zu", chunk_sizes[i]);
		assert_same(name, what, want, got);
		free(got);
	}
	free(want);
	free(data);
	free(ct);
}
END_TEST

/* Rounds (what the scanner decides and libxml2 is handed at a time) of a
 * few bytes put their boundaries everywhere: the result must be the one of
 * a single round over the whole document. */
static const size_t round_sizes[] = { 16, 61, 509 };

START_TEST(test_fixture_rounds)
{
	const char	*name = fixtures[_i];
	char		*data, *ct, *want, *got, what[64];
	size_t		 len, i;

	load_fixture(name, &data, &len, &ct);
	want = whole_text(data, len, ct, ONE_ROUND);
	for (i = 0; i < sizeof(round_sizes) / sizeof(round_sizes[0]); i++) {
		got = chunked_text(data, len, ct, 7, rounds_of(round_sizes[i]));
		snprintf(what, sizeof(what), "rounds of %zu", round_sizes[i]);
		assert_same(name, what, want, got);
		free(got);
	}
	free(want);
	free(data);
	free(ct);
}
END_TEST

/* parse_feed_fd on the fixture file, and the streaming writer fed in
 * chunks, against parse_feed_ex streaming the whole buffer. */
START_TEST(test_fixture_fd)
{
	const char	*name = fixtures[_i];
	char		*data, *ct, *path, *want, *got, *one, *two;
	struct feed_doc	*doc = NULL;
	struct fw_error	 err;
	size_t		 len;
	int		 fd, r, r1, r2;

	load_fixture(name, &data, &len, &ct);
	want = whole_text(data, len, NULL, NULL);
	path = find_feed(name);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	memset(&err, 0, sizeof(err));
	r = parse_feed_fd(fd, "https://example.com/feeds/x", NULL, NULL, &doc,
	    &err);
	close(fd);
	got = render(r, doc, &err);
	assert_same(name, "parse_feed_fd", want, got);
	free(got);
	free(want);

	one = stream_fixture(data, len, NULL, &r1);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	two = stream_fd(fd, &r2);
	close(fd);
	ck_assert_int_eq(r1, r2);
	assert_same(name, "streamed from a file", one, two);
	free(one);
	free(two);
	free(path);
	free(data);
	free(ct);
}
END_TEST

/* CDATA sections of every kind (a control character,
 * U+FFFF, longer than 256 KiB, unterminated, outside the root), and line
 * numbers of errors after sections with newlines. */
START_TEST(test_cdata_edges)
{
	static const char *const bodies[] = {
		"<![CDATA[a\x01b]]>",
		"<![CDATA[a \xef\xbf\xbf b]]>",
		"<![CDATA[a \xef\xbf\xbe b]]>",
		"<![CDATA[]]>",
		"<![CDATA[line\none\r\ntwo\n\n]]><b>x</b><![CDATA[\xe9 ]] ]]>",
		"<![CDATA[<p>caf\xc3\xa9 &amp; \xed\x95\x9c</p>]]>",
		"<![CDATA[\xf0\x9f\x98\x80\xe9]]>",
	};
	/* Whole documents: sections libxml2 only reaches after more input (a
	 * start tag still waiting for its '>') next to ones it reads at once
	 * (found by fuzzing). */
	static const char *const docs[] = {
		"<channel<title<![CDATA[n]]><![CDATA[>]]><description",
		"<rss><channel><title>T</title><item><title<![CDATA[a]]>"
		    "<![CDATA[>b]]><description><![CDATA[c]]></description>"
		    "</item></channel></rss>",
	};
	char	*s = NULL, *want, *got;
	size_t	 len = 0, i, j, k;
	FILE	*f;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]) + 3; i++) {
		size_t nb = sizeof(bodies) / sizeof(bodies[0]);

		f = open_memstream(&s, &len);
		ck_assert_ptr_nonnull(f);
		fputs(i == nb ? "<?xml version=\"1.0\"?><![CDATA[x]]>" :
		    "<?xml version=\"1.0\"?>", f);
		fputs("<rss version=\"2.0\"><channel><title>T</title>\n", f);
		for (j = 0; j < 40; j++) {
			fprintf(f, "<item><title>I%zu</title><guid>g%zu</guid>"
			    "<description>", j, j);
			if (i == nb + 1) {
				/* Longer than 256 KiB. */
				fputs("<![CDATA[", f);
				for (k = 0; k < 300 * 1024 / 16; k++)
					fputs("\xed\x95\x9c\xea\xb8\x80 text ok\n", f);
				fputs("]]>", f);
			} else {
				fputs(bodies[i < nb ? i : 3 + j % 4], f);
			}
			fputs("</description></item>\n", f);
			if (j == 20 && i == nb + 2)
				fputs("<item><title>bad</titel></item>\n", f);
			if (i == nb + 1 && j == 2)
				break;
		}
		fputs(i == 6 ? "</channel></rss><![CDATA[tail]]>" :
		    i == 5 ? "<item><title><![CDATA[cut off" :
		    "</channel></rss>\n", f);
		fclose(f);
		want = whole_text(s, len, NULL, ONE_ROUND);
		got = whole_text(s, len, NULL, NULL);
		assert_same("cdata edges", "rounds of 32 KiB", want, got);
		free(got);
		/* After a character libxml2 stops at, what it recovers
		 * depends on how it was handed the document: only the
		 * whole documents compare across rounds. */
		for (k = 0; i > 2 && k < sizeof(round_sizes) /
		    sizeof(round_sizes[0]); k++) {
			got = chunked_text(s, len, NULL, 4093,
			    rounds_of(round_sizes[k]));
			assert_same("cdata edges", "rounds", want, got);
			free(got);
		}
		free(want);
		free(s);
		s = NULL;
	}
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		len = strlen(docs[i]);
		want = whole_text(docs[i], len, NULL, ONE_ROUND);
		got = chunked_text(docs[i], len, NULL, 1, NULL);
		assert_same("cdata docs", "chunks of 1", want, got);
		free(got);
		free(want);
	}
}
END_TEST

/* Runs the scanner must leave to libxml2 and runs it takes, in content
 * and where libxml2 is not reading content (a DTD, a processing
 * instruction, before and after the root), each compared with libxml2's
 * own reading, whole, in chunks and in rounds. */
START_TEST(test_text_run_edges)
{
	static const char *const bodies[] = {
		/* taken */
		"&lt;p&gt;caf\xc3\xa9 &amp; \xed\x95\x9c &#8220;q&#8221; &#x41; &quot;&apos;&lt;/p&gt;",
		"emoji \xf0\x9f\x98\x80 &amp; more text after it",
		"multi\nline\ntext &amp; with newlines\n\n",
		"&#13; a reference to CR &amp; some text",
		"&#x10FFFF; the last character &amp; text",
		"\n   &lt;p&gt;indented escaped markup&lt;/p&gt;\n  ",
		/* left to libxml2 */
		"short &amp;",
		"an upper case &#X41; reference in a long run",
		"&#0; a reference to nothing, and more text",
		"&nbsp;&eacute; named HTML entities in a long run",
		"a control\x01 character in a long text run",
		"cr\r\nlf in a long run with &amp; a reference",
		"it ends with ]]&gt; in the text, long enough",
		"\xef\xbf\xbf not a character, in a long run &amp;",
		"a byte \xe9 that is not UTF-8 in a long run &amp;",
		"&#xD800; a surrogate reference &amp; long run",
		"plain ASCII text without any reference at all, long",
	};
	static const char *const docs[] = {
		/* An entity value with what looks like tags and text. */
		"<!DOCTYPE rss [<!ENTITY e \"<b>caf&#233; &amp;amp; long text "
		    "here &#8220;</b>\">]><rss version=\"2.0\"><channel>"
		    "<title>T</title><item><title>&e; and &amp; text long "
		    "enough</title></item></channel></rss>",
		/* A processing instruction with a tag and a run in it. */
		"<rss version=\"2.0\"><channel><title>T</title><?pi <b>x &amp; "
		    "long text \xed\x95\x9c long text</b>?><item><title>a "
		    "&amp; b, long enough \xed\x95\x9c</title></item>"
		    "</channel></rss>",
		/* Text after the root, and before it. */
		"<rss version=\"2.0\"><channel><title>T &amp; \xed\x95\x9c "
		    "long title</title></channel></rss>\n trailing &amp; text "
		    "after the root element",
		"<!-- c --><x/>text &amp; \xed\x95\x9c between two roots<rss/>",
		/* Attribute values the tag check reads. */
		"<rss version=\"2.0\"><channel><title a=\"x&gt;y\" b='\xed\x95"
		    "\x9c' c = \"&#65;\">&lt;p&gt;long escaped text&lt;/p&gt;"
		    "</title></channel></rss>",
		"<rss version=\"2.0\"><channel><title a=unquoted>&lt;p&gt;long "
		    "escaped text&lt;/p&gt;</title></channel></rss>",
		"<rss version=\"2.0\"><channel><title a=\"x>&lt;p&gt;long "
		    "escaped text&lt;/p&gt;</title></channel></rss>",
		"<rss version=\"2.0\"><channel><title a=\"?a=1&b=2\">&lt;p&gt;"
		    "long escaped text&lt;/p&gt;</title></channel></rss>",
		/* An error after taken runs: its line number. */
		"<rss version=\"2.0\"><channel><title>T</title><item><title>\n"
		    "&lt;p&gt;\nlong\nescaped text&lt;/p&gt;</title><bad</item>"
		    "<item><title>after &amp; the error, long</title></item>"
		    "</channel></rss>",
		/* Atom with escaped HTML, as the bench corpus has it. */
		"<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>F</title>"
		    "<entry><title type=\"html\">\xed\x95\x9c\xeb\xaf\xb8 "
		    "&amp;amp; title</title><id>i</id><summary type=\"html\">"
		    "&lt;p&gt;\xe5\x9c\xa8\xe6\x97\xa5 &lt;b&gt;b&lt;/b&gt; "
		    "&amp;#8220;q&amp;#8221;&lt;/p&gt;</summary></entry></feed>",
	};
	char	*s = NULL, *want, *got, what[64];
	size_t	 len = 0, i, j, k, n_docs;
	FILE	*f;

	n_docs = sizeof(bodies) / sizeof(bodies[0]) + sizeof(docs) /
	    sizeof(docs[0]);
	for (i = 0; i < n_docs; i++) {
		size_t nb = sizeof(bodies) / sizeof(bodies[0]);

		if (i < nb) {
			f = open_memstream(&s, &len);
			ck_assert_ptr_nonnull(f);
			fputs("<?xml version=\"1.0\"?><rss version=\"2.0\">"
			    "<channel><title>T</title>\n", f);
			for (j = 0; j < 30; j++)
				fprintf(f, "<item><title>I%zu</title><guid>g%zu"
				    "</guid><description>%s</description></item>\n",
				    j, j, bodies[i]);
			fputs("</channel></rss>\n", f);
			fclose(f);
		} else {
			s = strdup(docs[i - nb]);
			ck_assert_ptr_nonnull(s);
			len = strlen(s);
		}
		want = whole_text(s, len, NULL, ONE_ROUND);
		for (k = 0; k < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]);
		    k++) {
			got = chunked_text(s, len, NULL, chunk_sizes[k], NULL);
			snprintf(what, sizeof(what), "text runs, chunks of %zu "
			    "(%zu)", chunk_sizes[k], i);
			assert_same("text run edges", what, want, got);
			free(got);
		}
		for (k = 0; k < sizeof(round_sizes) / sizeof(round_sizes[0]);
		    k++) {
			got = chunked_text(s, len, NULL, 4093,
			    rounds_of(round_sizes[k]));
			snprintf(what, sizeof(what), "text runs, rounds of %zu "
			    "(%zu)", round_sizes[k], i);
			assert_same("text run edges", what, want, got);
			free(got);
		}
		free(want);
		free(s);
		s = NULL;
	}
}
END_TEST

/* A large document with every construct the scanner decides, many times
 * over, so that round and chunk boundaries fall inside each of them. */
static char *
tricky_feed(size_t items, size_t *ret_len)
{
	static const char *const bodies[] = {
		"Tom & Jerry, a < b, ?a=1&b=2 &amp; &#x41; &#65; &eacute;",
		"<![CDATA[ raw & <b>bold</b> ]] ] ]]> after",
		"<!-- a comment & < -- - --> text",
		"caf\xe9 na\xefve \x93quoted\x94 \xed\x95\x9c\xea\xb8\x80 \xf0\x9f\x98\x80",
		"ctl\x01\x02\x1f here &#0000000000000000000000000000000000000065; x",
		"&abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi\xe9\xe9;",
		"&abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij\xc3\xa9; y",
		"&nbsp;&rsquo;&#xZZ; &; &#; <1 <= << >",
		"<![CDATA[\xe9\xe9 unclosed-looking ]]]]><![CDATA[>]]>",
	};
	char	*s = NULL;
	size_t	 len = 0, i;
	FILE	*f = open_memstream(&s, &len);

	ck_assert_ptr_nonnull(f);
	fputs("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
	    "<title>Tricky</title><link>https://example.com/</link>\n", f);
	for (i = 0; i < items; i++)
		fprintf(f, "<item><title>Item %zu %s</title><guid>g%zu</guid>"
		    "<description>%s</description></item>\n", i,
		    bodies[i % 9], i, bodies[(i * 7 + 3) % 9]);
	fputs("</channel></rss>\n", f);
	fclose(f);
	*ret_len = len;
	return s;
}

START_TEST(test_big_chunks)
{
	char	*data, *want, *got, what[64];
	size_t	 len, i;

	/* Under valgrind (FW_TEST_TIME_SCALE set) a smaller one: the rounds
	 * below still cut it everywhere. */
	data = tricky_feed(getenv("FW_TEST_TIME_SCALE") != NULL ? 600 : 6000,
	    &len);
	ck_assert_uint_gt(len, (size_t)100 << 10);
	want = whole_text(data, len, NULL, ONE_ROUND);
	ck_assert(strstr(want, "\"Tricky\"") != NULL);
	got = whole_text(data, len, NULL, NULL);
	assert_same("tricky", "rounds of 32 KiB", want, got);
	free(got);
	for (i = 0; i < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); i++) {
		got = chunked_text(data, len, NULL, chunk_sizes[i], NULL);
		snprintf(what, sizeof(what), "chunks of %zu", chunk_sizes[i]);
		assert_same("tricky", what, want, got);
		free(got);
	}
	for (i = 0; i < sizeof(round_sizes) / sizeof(round_sizes[0]); i++) {
		got = chunked_text(data, len, NULL, 4093,
		    rounds_of(round_sizes[i] * 97));
		snprintf(what, sizeof(what), "rounds of %zu", round_sizes[i] * 97);
		assert_same("tricky", what, want, got);
		free(got);
	}
	free(want);
	free(data);

	/* Every round length from 1 to 96 bytes on a smaller one. */
	data = tricky_feed(30, &len);
	want = whole_text(data, len, NULL, ONE_ROUND);
	for (i = 1; i <= 96; i++) {
		got = chunked_text(data, len, NULL, 1 + i % 5, rounds_of(i));
		snprintf(what, sizeof(what), "rounds of %zu", i);
		assert_same("tricky", what, want, got);
		free(got);
	}
	free(want);
	free(data);
}
END_TEST

START_TEST(test_stream_limits)
{
	struct parse_limits	 lim = { .max_bytes = 1000 };
	struct parse_stream	*ps = NULL;
	struct feed_doc		*doc = NULL;
	struct fw_error		 err;
	char			*s = big_feed(50, 10, 0);
	size_t			 off;
	int			 r = 0;

	ck_assert_int_eq(parse_stream_new(NULL, NULL, &lim, &ps, &err), 0);
	for (off = 0; r == 0 && off < strlen(s); off += 100)
		r = parse_stream_push(ps, s + off, 100, &err);
	ck_assert_int_eq(r, -E2BIG);
	ck_assert_uint_eq(off, 1100);	/* bytes read are counted */
	ck_assert(strstr(err.msg, "limit of 1000") != NULL);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(parse_stream_finish(ps, &doc, &err), -E2BIG);
	ck_assert(strstr(err.msg, "limit of 1000") != NULL);
	ck_assert_ptr_null(doc);
	ps = parse_stream_free(ps);
	ck_assert_ptr_null(parse_stream_free(NULL));
	free(s);

	/* Empty pieces are no-ops, before and after the start. */
	ck_assert_int_eq(parse_stream_new(NULL, NULL, NULL, &ps, &err), 0);
	ck_assert_int_eq(parse_stream_push(ps, NULL, 0, &err), 0);
	ck_assert_int_eq(parse_stream_push(ps, "<rss><channel><title>T</title>",
	    30, &err), 0);
	ck_assert_int_eq(parse_stream_push(ps, NULL, 0, &err), 0);
	ck_assert_int_eq(parse_stream_push(ps, "</channel></rss>", 16, &err), 0);
	ck_assert_int_eq(parse_stream_finish(ps, &doc, &err), 0);
	ck_assert_str_eq(doc->title, "T");
	doc = feed_doc_free(doc);
	ps = parse_stream_free(ps);

	/* An HTML page is refused as soon as its start shows. */
	s = malloc(20000);
	ck_assert_ptr_nonnull(s);
	memset(s, ' ', 20000);
	memcpy(s + 100, "<!DOCTYPE html><html>", 21);
	ck_assert_int_eq(parse_stream_new(NULL, NULL, NULL, &ps, &err), 0);
	ck_assert_int_eq(parse_stream_push(ps, s, 20000, &err), -EBADMSG);
	ck_assert(strstr(err.msg, "HTML page") != NULL);
	ps = parse_stream_free(ps);
	free(s);
}
END_TEST

static Suite *
parse_suite(void)
{
	Suite	*s = suite_create("parse");
	TCase	*tc;

	tc = tcase_create("fixtures");
	tcase_add_loop_test(tc, test_fixture, 0, (int)n_fixtures);
	suite_add_tcase(s, tc);

	tc = tcase_create("chunks");
	tcase_add_loop_test(tc, test_fixture_chunks, 0, (int)n_fixtures);
	tcase_add_loop_test(tc, test_fixture_rounds, 0, (int)n_fixtures);
	tcase_add_loop_test(tc, test_fixture_fd, 0, (int)n_fixtures);
	tcase_add_test(tc, test_big_chunks);
	tcase_add_test(tc, test_cdata_edges);
	tcase_add_test(tc, test_text_run_edges);
	tcase_add_test(tc, test_stream_limits);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, test_format_names);
	tcase_add_test(tc, test_time_format);
	tcase_add_test(tc, test_free_null);
	tcase_add_test(tc, test_rss_basic);
	tcase_add_test(tc, test_sy_ttl);
	tcase_add_test(tc, test_repeated_guid);
	tcase_add_test(tc, test_hash_id);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_limit_items);
	tcase_add_test(tc, test_limit_field);
	tcase_add_test(tc, test_limit_depth);
	tcase_add_test(tc, test_limit_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("safety");
	tcase_add_test(tc, test_billion_laughs);
	tcase_add_test(tc, test_xxe);
	tcase_add_test(tc, test_external_dtd);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;
	size_t	 i;

	load_fixture_names();
	sr = srunner_create(parse_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (i = 0; i < n_fixtures; i++)
		free(fixtures[i]);
	free(fixtures);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
