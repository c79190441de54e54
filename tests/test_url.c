/* test_url.c — relative reference resolution (RFC 3986 section 5.4
 * examples) and the feed-specific handling around it. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "testutil.h"

static const struct {
	const char	*base, *ref, *want;
} cases[] = {
	/* RFC 3986 5.4.1, base http://a/b/c/d;p?q */
	{ "http://a/b/c/d;p?q", "g:h", "g:h" },
	{ "http://a/b/c/d;p?q", "g", "http://a/b/c/g" },
	{ "http://a/b/c/d;p?q", "./g", "http://a/b/c/g" },
	{ "http://a/b/c/d;p?q", "g/", "http://a/b/c/g/" },
	{ "http://a/b/c/d;p?q", "/g", "http://a/g" },
	{ "http://a/b/c/d;p?q", "//g", "http://g" },
	{ "http://a/b/c/d;p?q", "?y", "http://a/b/c/d;p?y" },
	{ "http://a/b/c/d;p?q", "g?y", "http://a/b/c/g?y" },
	{ "http://a/b/c/d;p?q", "#s", "http://a/b/c/d;p?q#s" },
	{ "http://a/b/c/d;p?q", "g#s", "http://a/b/c/g#s" },
	{ "http://a/b/c/d;p?q", "..", "http://a/b/" },
	{ "http://a/b/c/d;p?q", "../g", "http://a/b/g" },
	{ "http://a/b/c/d;p?q", "../..", "http://a/" },
	{ "http://a/b/c/d;p?q", "../../g", "http://a/g" },
	/* RFC 3986 5.4.2, abnormal */
	{ "http://a/b/c/d;p?q", "../../../g", "http://a/g" },
	{ "http://a/b/c/d;p?q", "/./g", "http://a/g" },
	{ "http://a/b/c/d;p?q", "/../g", "http://a/g" },
	{ "http://a/b/c/d;p?q", "g.", "http://a/b/c/g." },
	{ "http://a/b/c/d;p?q", "..g", "http://a/b/c/..g" },
	{ "http://a/b/c/d;p?q", "./g/.", "http://a/b/c/g/" },
	{ "http://a/b/c/d;p?q", "g;x=1/../y", "http://a/b/c/y" },
	{ "http://a/b/c/d;p?q", "g?y/../x", "http://a/b/c/g?y/../x" },
	{ "http://a/b/c/d;p?q", "g#s/../x", "http://a/b/c/g#s/../x" },
	/* Dot segments of an absolute path, which libxml2 leaves */
	{ "http://h/x", "/a/b/../../../g", "http://h/g" },
	{ "http://h/x", "/a/./b/.", "http://h/a/b/" },
	{ "http://h/x", "/a/..", "http://h/" },
	{ "http://h/x", "/a/b/..?q", "http://h/a/?q" },
	{ "http://h/x", "/./g#f", "http://h/g#f" },
	{ "http://h/x", "/a/../b?x/../y#/./z", "http://h/b?x/../y#/./z" },
	/* A base with bytes libxml2 cannot parse: an IRI (its host comes
	 * back as written), a UTF-8 slug, a space */
	{ "http://www.\u8a79\u59c6\u65af.com/feed", "sub/",
	  "http://www.\u8a79\u59c6\u65af.com/sub/" },
	{ "http://example.com/\u00fcn/", "a", "http://example.com/%C3%BCn/a" },
	{ "http://example.com/a b/", "c", "http://example.com/a%20b/c" },
	/* Feeds */
	{ "https://example.com/feed.xml", "  /a/1 \n", "https://example.com/a/1" },
	{ "https://example.com", "a", "https://example.com/a" },
	{ "https://example.com/x/", "https://other.org/y", "https://other.org/y" },
	{ NULL, "/relative", "/relative" },
	{ "relative/base", "x", "x" },
	{ "https://example.com/", "a b", "https://example.com/a%20b" },
	{ "https://example.com/", "//cdn.example.org/i.png", "https://cdn.example.org/i.png" },
	{ "https://example.com/blog/", "mailto:x@example.com", "mailto:x@example.com" },
};

START_TEST(test_resolve_table)
{
	char	*out = NULL;

	ck_assert_int_eq(url_resolve(cases[_i].base, cases[_i].ref, &out), 0);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, cases[_i].want);
	free(out);
}
END_TEST

START_TEST(test_resolve_empty)
{
	char	*out = (char *)1;

	ck_assert_int_eq(url_resolve("http://a/", "  ", &out), 0);
	ck_assert_ptr_null(out);
	ck_assert(url_has_scheme("https://x"));
	ck_assert(url_has_scheme("tag:example.org,2025:1"));
	ck_assert(!url_has_scheme("/x:y"));
	ck_assert(!url_has_scheme("x/y:z"));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("url");
	TCase	*tc = tcase_create("resolve");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_resolve_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_resolve_empty);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
