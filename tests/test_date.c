/* test_date.c — date parsing: RFC 822 and its wild variants, RFC 3339 and
 * ISO 8601 variants, Korean/Japanese numeric dates, and refusals. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "date.h"
#include "testutil.h"

static const struct {
	const char	*in;
	const char	*want;	/* NULL: must be refused */
} cases[] = {
	/* RFC 822 / 1123 */
	{ "Thu, 02 Jan 2025 03:04:05 +0000", "2025-01-02T03:04:05Z" },
	{ "Thu, 02 Jan 2025 03:04:05 GMT", "2025-01-02T03:04:05Z" },
	{ "Thu, 2 Jan 2025 03:04:05 +0900", "2025-01-01T18:04:05Z" },
	{ "02 Jan 2025 03:04:05 +0900", "2025-01-01T18:04:05Z" },
	{ "Mon, 02 Jan 2025 03:04:05 GMT", "2025-01-02T03:04:05Z" },	/* wrong day name */
	{ "Thu, 02 Jan 25 03:04:05 GMT", "2025-01-02T03:04:05Z" },	/* two-digit year */
	{ "Sat, 02 Jan 99 03:04:05 GMT", "1999-01-02T03:04:05Z" },
	{ "Thu, 02 Jan 2025 03:04 GMT", "2025-01-02T03:04:00Z" },	/* no seconds */
	{ "Thu, 02 Jan 2025 03:04:05 EST", "2025-01-02T08:04:05Z" },
	{ "Thu, 02 Jan 2025 03:04:05 PDT", "2025-01-02T10:04:05Z" },
	{ "Thu, 02 Jan 2025 12:04:05 KST", "2025-01-02T03:04:05Z" },
	{ "Thu, 02 Jan 2025 12:04:05 JST", "2025-01-02T03:04:05Z" },
	{ "Thu, 02 Jan 2025 03:04:05 UT", "2025-01-02T03:04:05Z" },
	{ "Thu, 02 Jan 2025 03:04:05 Z", "2025-01-02T03:04:05Z" },
	{ "Thu, 02 Jan 2025 12:04:05 GMT+9", "2025-01-02T03:04:05Z" },
	{ "Thu, 02 Jan 2025 12:04:05 GMT+09:00", "2025-01-02T03:04:05Z" },
	{ "Thu, 02 Jan 2025 12:04:05 +09:00", "2025-01-02T03:04:05Z" },
	{ "Thu, 02 Jan 2025 03:04:05", "2025-01-02T03:04:05Z" },	/* no zone */
	{ "Thursday, 02 January 2025 03:04:05 GMT", "2025-01-02T03:04:05Z" },
	{ "Thu, 02 Sept 2025 03:04:05 GMT", "2025-09-02T03:04:05Z" },
	{ "Thu 02 Jan 2025 03:04:05 +0000 (UTC)", "2025-01-02T03:04:05Z" },
	{ "Jan 02 2025 03:04:05 GMT", "2025-01-02T03:04:05Z" },
	{ "January 2, 2025 3:04 PM", "2025-01-02T15:04:00Z" },
	{ "Thu, 02 Jan 2025 03:04:05 -0500", "2025-01-02T08:04:05Z" },
	{ "  Thu, 02 Jan 2025 03:04:05 GMT  ", "2025-01-02T03:04:05Z" },
	{ "Thu, 29 Feb 2024 00:00:00 GMT", "2024-02-29T00:00:00Z" },
	{ "Do, 02 Jan 2025 03:04:05 +0100", "2025-01-02T02:04:05Z" },	/* any day word */
	{ "Do 02 Jan 2025 03:04:05 +0100", NULL },	/* an unknown word */
	{ "02 Januar 2025 03:04:05 +0100", "2025-01-02T02:04:05Z" },
	{ "02 janv 2025 03:04:05 +0100", "2025-01-02T02:04:05Z" },
	{ "2025년 1월 2일 12:04:05 +0900", "2025-01-02T03:04:05Z" },
	{ "2025년 1월 2일 12:04:05", "2025-01-02T03:04:05Z" },	/* no zone: KST */
	{ "2025年1月2日 12:04", "2025-01-02T03:04:00Z" },	/* no zone: JST */
	{ "화, 02 1월 2025 12:04:05 +0900", "2025-01-02T03:04:05Z" },
	/* RFC 3339 / ISO 8601 */
	{ "2025-01-02T03:04:05Z", "2025-01-02T03:04:05Z" },
	{ "2025-01-02T03:04:05.123456Z", "2025-01-02T03:04:05Z" },
	{ "2025-01-02T12:04:05+09:00", "2025-01-02T03:04:05Z" },
	{ "2025-01-02T12:04:05+0900", "2025-01-02T03:04:05Z" },
	{ "2025-01-02T03:04:05-05:00", "2025-01-02T08:04:05Z" },
	{ "2025-01-02T03:04Z", "2025-01-02T03:04:00Z" },
	{ "2025-01-02T03:04:05", "2025-01-02T03:04:05Z" },	/* no zone: UTC */
	{ "2025-01-02 03:04:05", "2025-01-02T03:04:05Z" },	/* space for T */
	{ "2025-01-02t03:04:05z", "2025-01-02T03:04:05Z" },
	{ "2025-01-02", "2025-01-02T00:00:00Z" },
	{ "2025-01", "2025-01-01T00:00:00Z" },
	{ "20250102T030405Z", "2025-01-02T03:04:05Z" },
	{ "2025/01/02 03:04:05", "2025-01-02T03:04:05Z" },
	{ "2025-01-02T03:04:05 UTC", "2025-01-02T03:04:05Z" },
	{ "2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z" },
	{ "2025-01-02T24:00:00Z", "2025-01-03T00:00:00Z" },
	{ "2025", "2025-01-01T00:00:00Z" },
	{ "Tue Jan 07 09:30:00 KST 2025", "2025-01-07T00:30:00Z" },	/* ctime, Java */
	{ "Tuesday, January 7, 2025", "2025-01-07T00:00:00Z" },
	{ "7 January 2025", "2025-01-07T00:00:00Z" },
	{ "Tue, 07 Jan 2025 09:30:00 -0000", "2025-01-07T09:30:00Z" },
	{ "2025-01-07T09:30:00.000+0900", "2025-01-07T00:30:00Z" },
	{ "Tue, 07 Jan 2025 9:30:00 +0900", "2025-01-07T00:30:00Z" },
	{ "2004-05-25 오후 11:23:17", "2004-05-25T14:23:17Z" },	/* Nate, KST */
	{ "2004-05-25 오전 11:23:17", "2004-05-25T02:23:17Z" },
	{ "2004년 05월 28일  01:31:15", "2004-05-27T16:31:15Z" },	/* OnBlog */
	{ "2025년 1월 7일 9시 30분", "2025-01-07T00:30:00Z" },
	{ "Fri, 2006/09/15 08:19:53 EDT", "2006-09-15T12:19:53Z" },	/* Perforce */
	{ "2004-07-08 23:56:58.0", "2004-07-08T23:56:58Z" },	/* MSSQL */
	{ "Sun Jan  4 16:29:06 2004", "2004-01-04T16:29:06Z" },	/* asctime */
	{ "Κυρ, 11 Ιούλ 2004 12:00:00 EST", "2004-07-11T17:00:00Z" },	/* Greek */
	{ "2004 július 13 09:15 -0500", "2004-07-13T14:15:00Z" },	/* Hungarian */
	/* feedparser's date tests (the strings, and the instants they
	 * expect), and neighbours of them. */
	{ "2004-július-13T9:15-05:00", "2004-07-13T14:15:00Z" },
	{ "Thu, 02-Jan-2025 03:04:05 GMT", "2025-01-02T03:04:05Z" },
	{ "-0312", "2003-12-01T00:00:00Z" },		/* ISO 8601:1988 -YYMM */
	{ "-03-12", "2003-12-01T00:00:00Z" },
	{ "-03-12-31", "2003-12-31T00:00:00Z" },
	{ "03-12-31", "2003-12-31T00:00:00Z" },
	{ "031231", "2003-12-31T00:00:00Z" },
	{ "2003-335", "2003-12-01T00:00:00Z" },		/* ordinal */
	{ "2003-335T10:00:00Z", "2003-12-01T10:00:00Z" },
	{ "2004-366", "2004-12-31T00:00:00Z" },
	{ "2003335", "2003-12-01T00:00:00Z" },
	{ "Thu, 01 Jan 0100 00:00:01 +0100", "0099-12-31T23:00:01Z" },
	{ "0099-12-31T23:00:01Z", "0099-12-31T23:00:01Z" },
	{ "Wed, 19 Aug 2009 18:28:00 Etc/GMT", "2009-08-19T18:28:00Z" },
	{ "Mon, 26 January 2004 16:31:00 AT", "2004-01-26T20:31:00Z" },
	{ "Mon, 26 January 2004 16:31:00 ET", "2004-01-26T21:31:00Z" },
	{ "Mon, 26 January 2004 16:31:00 CT", "2004-01-26T22:31:00Z" },
	{ "Mon, 26 January 2004 16:31:00 MT", "2004-01-26T23:31:00Z" },
	{ "Mon, 26 January 2004 16:31:00 PT", "2004-01-27T00:31:00Z" },
	{ "Jan 2, 2025 at 3:04 PM", "2025-01-02T15:04:00Z" },	/* "at", not AT */
	{ "Thu, 30 Apr 2015 08:57:00 MEST", "2015-04-30T06:57:00Z" },
	{ "Wed, 19 Feb 2012 22:40:00 GMT-01:01", "2012-02-19T23:41:00Z" },
	{ "Mon, 13 Feb, 2012 06:28:00 UTC", "2012-02-13T06:28:00Z" },
	{ "Thu Aug 30 2012 17:26:16 +0200", "2012-08-30T15:26:16Z" },
	{ "Sun Jul 15 01:16:00 +0000 2012", "2012-07-15T01:16:00Z" },
	{ "2004-07-08 23:56:58 -00:20", "2004-07-09T00:16:58Z" },
	{ "2003-012-31T10:14:55+00:00", "2003-12-31T10:14:55Z" },
	/* Refused */
	{ "", NULL },
	{ "2013-01-27-01", NULL },	/* a zone needs a time */
	{ "2013-01-28T11:30:00-06:00Textra", NULL },
	{ "2003-366", NULL },
	{ "2003-000", NULL },
	{ "2003000", NULL },
	{ "03335", NULL },		/* five digits: junk, not YYDDD */
	{ "03-12", NULL },
	{ "-03-1", NULL },
	{ "-031", NULL },
	{ "-03-12-3", NULL },
	{ "03-12-31T10:00", NULL },
	{ "123456", NULL },
	{ "Thu, 02 Jan 2025 03:04:05 etc", NULL },
	{ "Sun, 16 Dec 2012 1:2:3:4 GMT", NULL },
	{ "Sun, Dec x 2012 11:47:32 GMT", NULL },
	{ "Sun, 16 Dec 2012 11:47:32 +00:zz", NULL },
	{ "Sun, 31 Dec 9999 23:59:59 -9999", NULL },
	{ "2003-12-31T10:14:61Z", NULL },
	{ "yesterday", NULL },
	{ "2025-13-02T03:04:05Z", NULL },
	{ "2025-02-30T03:04:05Z", NULL },
	{ "2025-02-29", NULL },
	{ "Thu, 32 Jan 2025 03:04:05 GMT", NULL },
	{ "Thu, 02 Jan 2025 25:04:05 GMT", NULL },
	{ "01/02/2025", NULL },
	{ "2025-01-02T03:04:05+25:00", NULL },
	{ "Thu, 02 Foo 2025 03:04:05 GMT", NULL },
	{ "123456789012345678901234567890", NULL },
};

START_TEST(test_date_table)
{
	int64_t	 t = 42;
	char	 buf[40];
	int	 r = date_parse(cases[_i].in, &t);

	if (cases[_i].want == NULL) {
		ck_assert_msg(r < 0, "\"%s\" parsed as %s", cases[_i].in,
		    date_format_rfc3339(t, buf, sizeof(buf)));
		ck_assert_int_eq(t, 42);
		return;
	}
	ck_assert_msg(r >= 0, "\"%s\" refused", cases[_i].in);
	ck_assert_str_eq(date_format_rfc3339(t, buf, sizeof(buf)), cases[_i].want);
}
END_TEST

START_TEST(test_foreign_flag)
{
	int64_t t;

	ck_assert_int_eq(date_parse("02 janvier 2025 03:04:05 +0100", &t), 1);
	ck_assert_int_eq(date_parse("화, 02 1월 2025 12:04:05 +0900", &t), 1);
	ck_assert_int_eq(date_parse("2025년 1월 2일 12:04:05 +0900", &t), 0);
	ck_assert_int_eq(date_parse("Thu, 02 Jan 2025 03:04:05 GMT", &t), 0);
}
END_TEST

START_TEST(test_round_trip)
{
	int64_t	 t, back;
	char	 buf[40];

	for (t = -86400LL * 366 * 70; t < 86400LL * 366 * 200; t += 86400 * 7 + 3607) {
		date_format_rfc3339(t, buf, sizeof(buf));
		ck_assert_int_eq(date_parse(buf, &back), 0);
		ck_assert_int_eq(back, t);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("date");
	TCase	*tc = tcase_create("parse");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_date_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_foreign_flag);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
