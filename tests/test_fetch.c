/* test_fetch.c — one transfer: paths, file:// and stdin-like reads, the
 * size cap, Retry-After, and over HTTP on 127.0.0.1 (libmicrohttpd):
 * validators both ways, request headers, freshness, the redirect policy,
 * bodies without a length, timeouts and refused connections. */
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetch.h"
#include "testutil.h"
#include "tu_httpd.h"

static char		*tmp;
static struct tu_httpd	 srv;

static const struct tu_route routes[] = {
	{ "/feed.xml", 200, "ETag: \"abc\"\nLast-Modified: Sat, 01 Nov 2025 10:00:00 GMT\n"
	    "Content-Type: application/rss+xml\n", "<rss/>", TU_PLAIN, 0 },
	{ "/304", 304, "ETag: \"new\"\n", NULL, TU_PLAIN, 0 },
	{ "/maxage", 200, "Cache-Control: public, s-maxage=50, max-age=600\n", "x", TU_PLAIN, 0 },
	{ "/nocache", 200, "Cache-Control: no-cache\n", "x", TU_PLAIN, 0 },
	{ "/expires", 200, "Date: Sat, 01 Nov 2025 10:00:00 GMT\n"
	    "Expires: Sat, 01 Nov 2025 11:30:00 GMT\n", "x", TU_PLAIN, 0 },
	{ "/expired0", 200, "Expires: 0\n", "x", TU_PLAIN, 0 },
	{ "/p1", 301, "Location: /p2\n", NULL, TU_PLAIN, 0 },
	{ "/p2", 308, "Location: /feed.xml\n", NULL, TU_PLAIN, 0 },
	{ "/t1", 301, "Location: /t2\n", NULL, TU_PLAIN, 0 },
	{ "/t2", 302, "Location: /feed.xml\n", NULL, TU_PLAIN, 0 },
	{ "/c1", 302, "Location: /c2\n", NULL, TU_PLAIN, 0 },
	{ "/c2", 302, "Location: /c3\n", NULL, TU_PLAIN, 0 },
	{ "/c3", 302, "Location: /c4\n", NULL, TU_PLAIN, 0 },
	{ "/c4", 302, "Location: /c5\n", NULL, TU_PLAIN, 0 },
	{ "/c5", 302, "Location: /c6\n", NULL, TU_PLAIN, 0 },
	{ "/c6", 302, "Location: /feed.xml\n", NULL, TU_PLAIN, 0 },
	{ "/loop", 302, "Location: /loop\n", NULL, TU_PLAIN, 0 },
	{ "/tofile", 302, "Location: file:///etc/hostname\n", NULL, TU_PLAIN, 0 },
	{ "/endless", 200, NULL, NULL, TU_ENDLESS, 0 },
	{ "/drip", 200, NULL, NULL, TU_DRIP, 0 },
	{ "/retry", 429, "Retry-After: 120\n", NULL, TU_PLAIN, 0 },
	{ NULL, 0, NULL, NULL, 0, 0 },
};

static void
setup(void)
{
	tmp = tu_tmpdir();
	ck_assert_int_eq(fetch_global_init(), 0);
	tu_httpd_start(&srv, routes);
}

static void
teardown(void)
{
	tu_httpd_stop(&srv);
	fetch_global_cleanup();
	tu_rmtree(tmp);
	free(tmp);
}

static int
get(const char *path, const struct fetch_opts *o, struct fetch_result *res,
    struct fw_error *e)
{
	memset(res, 0, sizeof(*res));
	return fetch_source(tu_httpd_url(&srv, path), o, res, e);
}

START_TEST(test_path_and_file_url)
{
	char			*p = tu_write_file(tmp, "a.xml", "<rss>hello</rss>");
	char			 url[600];
	struct fetch_result	 res = { 0 };
	struct fw_error		 e;

	ck_assert_int_eq(fetch_source(p, NULL, &res, &e), 0);
	ck_assert_str_eq(res.body, "<rss>hello</rss>");
	ck_assert_uint_eq(res.len, 16);
	ck_assert_int_eq(res.status, 200);
	fetch_result_done(&res);
	snprintf(url, sizeof(url), "file://%s", p);
	ck_assert_int_eq(fetch_source(url, NULL, &res, &e), 0);
	ck_assert_str_eq(res.body, "<rss>hello</rss>");
	ck_assert_int_eq(res.status, 200);
	ck_assert_ptr_null(res.permanent_url);
	fetch_result_done(&res);
	free(p);
}
END_TEST

START_TEST(test_missing_and_capped_files)
{
	char			*p = tu_write_file(tmp, "big.xml", "0123456789abcdef");
	char			 url[600];
	struct fetch_opts	 o = { .max_bytes = 10 };
	struct fetch_result	 res = { 0 };
	struct fw_error		 e;

	ck_assert_int_eq(fetch_source("/nonexistent/feed.xml", NULL, &res, &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "cannot open"));
	ck_assert_int_eq(fetch_source(p, &o, &res, &e), -E2BIG);
	ck_assert_ptr_nonnull(strstr(e.msg, "limit"));
	snprintf(url, sizeof(url), "file://%s", p);
	ck_assert_int_eq(fetch_source(url, &o, &res, &e), -E2BIG);
	ck_assert_int_eq(fetch_source("file:///nonexistent/x.xml", NULL, &res, &e), -ENOENT);
	free(p);
}
END_TEST

START_TEST(test_retry_after)
{
	time_t	now = time(NULL);
	char	date[64];

	ck_assert_int_eq(fetch_retry_after_seconds("120", now), 120);
	ck_assert_int_eq(fetch_retry_after_seconds("0", now), 0);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&(time_t){ now + 3600 }, &(struct tm){ 0 }));
	ck_assert_int_eq(fetch_retry_after_seconds(date, now), 3600);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&(time_t){ now - 60 }, &(struct tm){ 0 }));
	ck_assert_int_eq(fetch_retry_after_seconds(date, now), 0);
	ck_assert_int_eq(fetch_retry_after_seconds("soon", now), -1);
	ck_assert_int_eq(fetch_retry_after_seconds("12abc", now), -1);
	ck_assert_int_eq(fetch_retry_after_seconds(NULL, now), -1);
}
END_TEST

START_TEST(test_validators_and_headers)
{
	const char		*hdrs[] = { "Authorization: Bearer t0k", NULL };
	struct fetch_opts	 o = { .etag = "\"old\"", .last_modified = "Fri, 31 Oct 2025 00:00:00 GMT",
				       .headers = hdrs };
	struct fetch_result	 res;
	struct fw_error		 e;

	ck_assert_int_eq(get("/feed.xml", &o, &res, &e), 0);
	ck_assert_int_eq(res.status, 200);
	ck_assert_str_eq(res.body, "<rss/>");
	ck_assert_str_eq(res.etag, "\"abc\"");
	ck_assert_str_eq(res.last_modified, "Sat, 01 Nov 2025 10:00:00 GMT");
	ck_assert_str_eq(res.content_type, "application/rss+xml");
	ck_assert_int_eq(res.max_age, -1);
	ck_assert_ptr_null(res.permanent_url);
	ck_assert_ptr_nonnull(strstr(srv.last, "If-None-Match: \"old\""));
	ck_assert_ptr_nonnull(strstr(srv.last, "If-Modified-Since: Fri, 31 Oct 2025 00:00:00 GMT"));
	ck_assert_ptr_nonnull(strstr(srv.last, "Authorization: Bearer t0k"));
	ck_assert_ptr_nonnull(strstr(srv.last, "User-Agent: feedwatch/"));
	ck_assert_ptr_nonnull(strstr(srv.last, "Accept-Encoding: "));
	fetch_result_done(&res);

	/* No validators: no conditional headers. */
	ck_assert_int_eq(get("/feed.xml", NULL, &res, &e), 0);
	ck_assert_ptr_null(strstr(srv.last, "If-None-Match"));
	ck_assert_ptr_null(strstr(srv.last, "If-Modified-Since"));
	fetch_result_done(&res);

	o = (struct fetch_opts){ .user_agent = "custom/1" };
	ck_assert_int_eq(get("/304", &o, &res, &e), 0);
	ck_assert_int_eq(res.status, 304);
	ck_assert_uint_eq(res.len, 0);
	ck_assert_str_eq(res.etag, "\"new\"");
	ck_assert_ptr_nonnull(strstr(srv.last, "User-Agent: custom/1"));
	fetch_result_done(&res);

	ck_assert_int_eq(get("/retry", NULL, &res, &e), 0);
	ck_assert_int_eq(res.status, 429);
	ck_assert_str_eq(res.retry_after, "120");
	fetch_result_done(&res);
}
END_TEST

START_TEST(test_freshness)
{
	struct fetch_result	res;
	struct fw_error		e;

	ck_assert_int_eq(get("/maxage", NULL, &res, &e), 0);
	ck_assert_int_eq(res.max_age, 600);
	fetch_result_done(&res);
	ck_assert_int_eq(get("/nocache", NULL, &res, &e), 0);
	ck_assert_int_eq(res.max_age, 0);
	fetch_result_done(&res);
	ck_assert_int_eq(get("/expires", NULL, &res, &e), 0);
	ck_assert_int_eq(res.max_age, 5400);
	fetch_result_done(&res);
	ck_assert_int_eq(get("/expired0", NULL, &res, &e), 0);
	ck_assert_int_eq(res.max_age, 0);
	fetch_result_done(&res);
}
END_TEST

START_TEST(test_redirects)
{
	struct fetch_result	res;
	struct fw_error		e;

	/* 301 then 308: a permanent move, to the final URL. */
	ck_assert_int_eq(get("/p1", NULL, &res, &e), 0);
	ck_assert_int_eq(res.status, 200);
	ck_assert_str_eq(res.permanent_url, tu_httpd_url(&srv, "/feed.xml"));
	ck_assert_str_eq(res.effective_url, tu_httpd_url(&srv, "/feed.xml"));
	ck_assert_str_eq(res.etag, "\"abc\"");
	fetch_result_done(&res);
	/* A temporary hop on the way: not a move. */
	ck_assert_int_eq(get("/t1", NULL, &res, &e), 0);
	ck_assert_int_eq(res.status, 200);
	ck_assert_ptr_null(res.permanent_url);
	fetch_result_done(&res);
	/* Six hops: one too many. */
	ck_assert_int_eq(get("/c1", NULL, &res, &e), -ELOOP);
	ck_assert_ptr_nonnull(strstr(e.msg, "redirects"));
	/* Five hops are fine. */
	ck_assert_int_eq(get("/c2", NULL, &res, &e), 0);
	ck_assert_str_eq(res.body, "<rss/>");
	fetch_result_done(&res);
	ck_assert_int_eq(get("/loop", NULL, &res, &e), -ELOOP);
	/* Never to file:// (nor anything but http and https). */
	ck_assert_int_eq(get("/tofile", NULL, &res, &e), -EPROTONOSUPPORT);
}
END_TEST

START_TEST(test_cap_without_length)
{
	struct fetch_opts	o = { .max_bytes = 100000 };
	struct fetch_result	res;
	struct fw_error		e;

	ck_assert_int_eq(get("/endless", &o, &res, &e), -E2BIG);
	ck_assert_ptr_nonnull(strstr(e.msg, "100000"));
}
END_TEST

START_TEST(test_timeout_and_refused)
{
	struct fetch_opts	o = { .timeout = 1 };
	struct fetch_result	res = { 0 };
	struct fw_error		e;
	time_t			t = time(NULL);

	ck_assert_int_eq(get("/drip", &o, &res, &e), -ETIMEDOUT);
	ck_assert_int_le(time(NULL) - t, 4);
	ck_assert_int_eq(fetch_source("http://127.0.0.1:1/x", NULL, &res, &e), -ECONNREFUSED);
	ck_assert_ptr_nonnull(strstr(e.file, "127.0.0.1:1"));
}
END_TEST

START_TEST(test_transfer_object)
{
	struct fetch_transfer	*t = NULL;
	struct fetch_result	 res = { 0 };
	struct fw_error		 e;
	CURLcode		 cc;

	ck_assert_int_eq(fetch_transfer_new(tu_httpd_url(&srv, "/feed.xml"), NULL, &t, &e), 0);
	ck_assert_ptr_nonnull(fetch_transfer_handle(t));
	cc = curl_easy_perform(fetch_transfer_handle(t));
	ck_assert_int_eq(fetch_transfer_finish(t, (int)cc, &res, &e), 0);
	ck_assert_str_eq(res.body, "<rss/>");
	ck_assert_ptr_null(fetch_transfer_free(t));
	fetch_result_done(&res);
	/* Set up and dropped without running. */
	ck_assert_int_eq(fetch_transfer_new("http://127.0.0.1:1/", NULL, &t, &e), 0);
	fetch_transfer_free(t);
	ck_assert_ptr_null(fetch_transfer_free(NULL));
	ck_assert_ptr_nonnull(strstr(fetch_default_user_agent(), "feedwatch/"));
}
END_TEST

/* SSRF: a public feed server redirects to an address on the inside. The
 * outer server is on 127.0.0.1 too, so opts.test_public makes its address
 * count as public, as a real feed's would. */
START_TEST(test_redirect_to_private)
{
	static const struct tu_route	 inner_routes[] = {
		{ "/secret", 200, NULL, "internal", TU_PLAIN, 0 },
		{ NULL, 0, NULL, NULL, TU_PLAIN, 0 },
	};
	char				 loc[128], pub[64];
	struct tu_route			 outer_routes[] = {
		{ "/go", 302, loc, NULL, TU_PLAIN, 0 },
		{ "/feed.xml", 200, NULL, "<rss/>", TU_PLAIN, 0 },
		{ NULL, 0, NULL, NULL, TU_PLAIN, 0 },
	};
	struct tu_httpd			 inner, outer;
	const char			*public_list[] = { pub, NULL };
	struct fetch_opts		 o = { .test_public = public_list };
	struct fetch_result		 res;
	struct fw_error			 e;

	tu_httpd_start(&inner, inner_routes);
	snprintf(loc, sizeof(loc), "Location: %s\n", tu_httpd_url(&inner, "/secret"));
	tu_httpd_start(&outer, outer_routes);
	snprintf(pub, sizeof(pub), "127.0.0.1:%u", outer.port);

	/* The public feed itself is fetched. */
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(fetch_source(tu_httpd_url(&outer, "/feed.xml"), &o, &res, &e), 0);
	ck_assert_str_eq(res.body, "<rss/>");
	fetch_result_done(&res);
	/* Its redirect to 127.0.0.1 is refused before a connection is made. */
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(fetch_source(tu_httpd_url(&outer, "/go"), &o, &res, &e), -EPERM);
	ck_assert_msg(strstr(e.msg, "private address 127.0.0.1") != NULL, "%s", e.msg);
	ck_assert_int_eq(inner.hits, 0);
	/* allow_private: the operator says this feed may lead inside. */
	o.allow_private = true;
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(fetch_source(tu_httpd_url(&outer, "/go"), &o, &res, &e), 0);
	ck_assert_str_eq(res.body, "internal");
	fetch_result_done(&res);
	/* A feed configured on a private address may follow its redirects. */
	o.allow_private = false;
	o.test_public = NULL;
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(fetch_source(tu_httpd_url(&outer, "/go"), &o, &res, &e), 0);
	ck_assert_str_eq(res.body, "internal");
	fetch_result_done(&res);
	tu_httpd_stop(&outer);
	tu_httpd_stop(&inner);
}
END_TEST

static Suite *
fetch_suite(void)
{
	Suite	*s = suite_create("fetch");
	TCase	*tc;

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_path_and_file_url);
	tcase_add_test(tc, test_missing_and_capped_files);
	tcase_add_test(tc, test_retry_after);
	suite_add_tcase(s, tc);

	tc = tcase_create("http");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_validators_and_headers);
	tcase_add_test(tc, test_freshness);
	tcase_add_test(tc, test_redirects);
	tcase_add_test(tc, test_redirect_to_private);
	tcase_add_test(tc, test_cap_without_length);
	tcase_add_test(tc, test_timeout_and_refused);
	tcase_add_test(tc, test_transfer_object);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(fetch_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
