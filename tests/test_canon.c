/* test_canon.c — canonical links: the variants of one article's link that
 * publishers and aggregators produce all give one identity, and links of
 * different articles stay apart. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "testutil.h"

static const struct {
	const char	*link, *want;
} cases[] = {
	/* scheme, host case, www./m./amp. prefixes */
	{ "http://Example.COM/a/b", "https://example.com/a/b" },
	{ "https://www.example.com/a/b", "https://example.com/a/b" },
	{ "https://m.example.com/a/b", "https://example.com/a/b" },
	{ "https://amp.example.com/a/b", "https://example.com/a/b" },
	/* a host that is only a prefix and a TLD keeps it */
	{ "https://www.com/a", "https://www.com/a" },
	/* /amp paths, trailing slashes, empty segments */
	{ "https://example.com/a/b/amp", "https://example.com/a/b" },
	{ "https://example.com/amp/a/b/", "https://example.com/a/b" },
	{ "https://example.com/a//b/", "https://example.com/a/b" },
	{ "https://example.com/a/b.amp.html", "https://example.com/a/b.html" },
	{ "https://example.com/", "https://example.com" },
	{ "https://example.com", "https://example.com" },
	/* default ports, other ports, user info */
	{ "http://example.com:80/a", "https://example.com/a" },
	{ "https://example.com:443/a", "https://example.com/a" },
	{ "https://example.com:8443/a", "https://example.com:8443/a" },
	{ "https://user:pw@example.com/a", "https://example.com/a" },
	/* tracking parameters, fragments, parameter order */
	{ "https://example.com/a?utm_source=x&utm_medium=rss&id=3#top",
	  "https://example.com/a?id=3" },
	{ "https://example.com/a?fbclid=1&gclid=2&mc_cid=3&ref=rss",
	  "https://example.com/a" },
	{ "https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2" },
	{ "https://example.com/a?UTM_Campaign=x", "https://example.com/a" },
	/* the path keeps its case: servers may tell it apart */
	{ "https://example.com/View/AEN2019", "https://example.com/View/AEN2019" },
	/* not http(s): as it is */
	{ "urn:uuid:1234", "urn:uuid:1234" },
	{ "mailto:a@example.com", "mailto:a@example.com" },
};

START_TEST(test_canon_table)
{
	char *out = NULL;

	ck_assert_int_eq(canon_link(cases[_i].link, NULL, &out), 0);
	ck_assert_str_eq(out, cases[_i].want);
	free(out);
}
END_TEST

START_TEST(test_canon_configured_lists)
{
	const char *const	 strip[] = { "session", "trk_*" };
	const char *const	 hosts[] = { "edition." };
	struct canon_opts	 o = {
		.strip_params = strip, .n_strip_params = 2,
		.host_prefixes = hosts, .n_host_prefixes = 1,
	};
	char			*out = NULL;

	ck_assert_int_eq(canon_link("https://edition.example.com/a?session=1&trk_x=2"
	    "&utm_source=3", &o, &out), 0);
	/* utm_ is not in this list: the configured list replaces the default */
	ck_assert_str_eq(out, "https://example.com/a?utm_source=3");
	free(out);
	ck_assert_int_eq(canon_link("https://www.example.com/a", &o, &out), 0);
	ck_assert_str_eq(out, "https://www.example.com/a");
	free(out);
}
END_TEST

START_TEST(test_canon_publisher)
{
	char *out = NULL;

	/* not an aggregator: the link is the article's own */
	ck_assert_int_eq(canon_publisher_link("https://example.com/a", "https://x.org/b",
	    NULL, NULL, &out), 0);
	/* <source url> on another host wins */
	ck_assert_int_eq(canon_publisher_link("https://news.google.com/rss/articles/CBMi?oc=5",
	    "https://www.reuters.com/world/x", "see https://other.org/y", NULL, &out), 1);
	ck_assert_str_eq(out, "https://www.reuters.com/world/x");
	free(out);
	/* <source url> that is only the publisher's home page still names
	 * another host; without it, the description's first link */
	ck_assert_int_eq(canon_publisher_link("https://news.google.com/rss/articles/CBMi",
	    NULL, "Seoul to pay more https://news.google.com/x "
	    "https://en.yna.co.kr/view/AEN1. Yonhap", NULL, &out), 1);
	ck_assert_str_eq(out, "https://en.yna.co.kr/view/AEN1");
	free(out);
	/* a url= redirect parameter */
	ck_assert_int_eq(canon_publisher_link("https://news.google.com/url?sa=t&url="
	    "https%3A%2F%2Fexample.com%2Fa%3Fb%3D1&ct=ga", NULL, NULL, NULL, &out), 1);
	ck_assert_str_eq(out, "https://example.com/a?b=1");
	free(out);
	/* nothing to go by */
	ck_assert_int_eq(canon_publisher_link("https://news.google.com/rss/articles/CBMi",
	    NULL, "no link here", NULL, &out), 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("canon");
	TCase	*tc = tcase_create("link");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_canon_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_canon_configured_lists);
	tcase_add_test(tc, test_canon_publisher);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
