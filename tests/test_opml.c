/* test_opml.c — OPML reading in readers' export styles, the hostile file,
 * and writing: what opml_write() prints reads back as the same feeds. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opml.h"
#include "testutil.h"

static struct opml_doc *
parse_fixture(const char *name)
{
	char		 rel[128], *buf;
	size_t		 len;
	struct opml_doc	*doc = NULL;
	struct fw_error	 e;

	snprintf(rel, sizeof(rel), "opml/%s", name);
	buf = tu_read_file(tu_data_path(rel), &len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(opml_parse(buf, len, &doc, &e), 0);
	free(buf);
	return doc;
}

START_TEST(test_nested)
{
	struct opml_doc *doc = parse_fixture("nested.opml");

	ck_assert_str_eq(doc->title, "Subscriptions in Feedly");
	ck_assert_uint_eq(doc->n_feeds, 4);
	ck_assert_str_eq(doc->feeds[0].title, "Yonhap");
	ck_assert_str_eq(doc->feeds[0].html_url, "https://en.yna.co.kr");
	ck_assert_uint_eq(doc->feeds[0].n_tags, 1);
	ck_assert_str_eq(doc->feeds[0].tags[0], "Korea");
	/* Folders outermost first, then the category's parts. */
	ck_assert_uint_eq(doc->feeds[1].n_tags, 4);
	ck_assert_str_eq(doc->feeds[1].tags[1], "Defense");
	ck_assert_str_eq(doc->feeds[1].tags[3], "usfk");
	ck_assert_str_eq(doc->feeds[2].tags[0], "Japan");
	ck_assert_uint_eq(doc->feeds[3].n_tags, 0);
	opml_doc_free(doc);
}
END_TEST

START_TEST(test_styles)
{
	struct opml_doc *doc = parse_fixture("flat.opml");

	ck_assert_uint_eq(doc->n_feeds, 3);
	ck_assert_str_eq(doc->feeds[2].url, "https://www3.nhk.or.jp/rss/news/cat6.xml");
	opml_doc_free(doc);
	doc = parse_fixture("untitled.opml");
	ck_assert_uint_eq(doc->n_feeds, 5);
	ck_assert_ptr_null(doc->title);
	ck_assert_ptr_null(doc->feeds[0].title);
	ck_assert_ptr_null(doc->feeds[1].title);
	ck_assert_uint_eq(doc->feeds[2].n_tags, 0);
	opml_doc_free(doc);
	doc = parse_fixture("entities.opml");
	ck_assert_str_eq(doc->title, "Caf\xc3\xa9 & News");
	ck_assert_str_eq(doc->feeds[0].title, "Le Monde \xe2\x80\x94 International");
	ck_assert_str_eq(doc->feeds[0].tags[0], "Politique & D\xc3\xa9" "fense");
	ck_assert_str_eq(doc->feeds[0].url, "https://lemonde.example/rss?a=1&b=2");
	opml_doc_free(doc);
	doc = parse_fixture("latin1.opml");
	ck_assert_str_eq(doc->feeds[0].title, "Le Fran\xc3\xa7" "ais \xc3\xa0 S\xc3\xa9oul");
	opml_doc_free(doc);
}
END_TEST

START_TEST(test_hostile_and_bad)
{
	static const char hostile[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE opml [<!ENTITY x SYSTEM \"file:///etc/hostname\">"
	    "<!ENTITY y \"inner\">]><opml><body><outline text=\"a &x; b &y;\" "
	    "xmlUrl=\"http://h.example/\"/></body></opml>";
	struct opml_doc	*doc = NULL;
	struct fw_error	 e;

	ck_assert_int_eq(opml_parse(hostile, sizeof(hostile) - 1, &doc, &e), 0);
	ck_assert_uint_eq(doc->n_feeds, 1);
	/* The external entity is not read; an internal one is text. */
	ck_assert_str_eq(doc->feeds[0].title, "a b inner");
	opml_doc_free(doc);
	doc = NULL;
	ck_assert_int_eq(opml_parse("<rss/>", 6, &doc, &e), -EBADMSG);
	ck_assert_ptr_null(doc);
	ck_assert_int_eq(opml_parse("", 0, &doc, &e), -EBADMSG);
	ck_assert_int_eq(opml_parse("<opml><body><outline", 20, &doc, &e), 0);
	ck_assert_uint_eq(doc->n_feeds, 0);
	opml_doc_free(doc);
}
END_TEST

START_TEST(test_write_reads_back)
{
	const char		*t1[] = { "Korea & Japan", "wires" };
	struct opml_out_feed	 v[] = {
		{ "plain", "http://a.example/?x=1&y=<2>", NULL, 0 },
		{ "tagged \"one\"", "http://b.example/", t1, 2 },
		{ "second", "http://c.example/", t1, 1 },
	};
	struct opml_doc		*doc = NULL;
	struct fw_error		 e;
	char			*out = NULL;

	ck_assert_int_eq(opml_write("mine", v, 3, &out), 0);
	ck_assert_int_eq(opml_parse(out, strlen(out), &doc, &e), 0);
	ck_assert_str_eq(doc->title, "mine");
	ck_assert_uint_eq(doc->n_feeds, 3);
	ck_assert_str_eq(doc->feeds[0].url, "http://a.example/?x=1&y=<2>");
	ck_assert_str_eq(doc->feeds[1].title, "tagged \"one\"");
	ck_assert_uint_eq(doc->feeds[1].n_tags, 2);
	ck_assert_str_eq(doc->feeds[1].tags[0], "Korea & Japan");
	ck_assert_str_eq(doc->feeds[1].tags[1], "wires");
	ck_assert_uint_eq(doc->feeds[2].n_tags, 1);
	opml_doc_free(doc);
	free(out);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("opml");
	TCase	*tc = tcase_create("read");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_nested);
	tcase_add_test(tc, test_styles);
	tcase_add_test(tc, test_hostile_and_bad);
	suite_add_tcase(s, tc);
	tc = tcase_create("write");
	tcase_add_test(tc, test_write_reads_back);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
