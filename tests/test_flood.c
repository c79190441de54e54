/* test_flood.c — flood control decisions: rate limit, hourly budget and its
 * history, quiet hours (wrapping midnight or not), digest slots, and the
 * severity that bypasses them. Times are UTC (TZ is set in main). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flood.h"

#define T0	1700000000	/* 2023-11-14 22:13:20 UTC */

static struct conf_sink
base(void)
{
	struct conf_sink cs;

	memset(&cs, 0, sizeof(cs));
	cs.name = "s";
	cs.bypass_severity = SEVERITY_CRITICAL;
	cs.quiet_start_min = cs.quiet_end_min = -1;
	return cs;
}

/* Midnight UTC of T0's day plus minutes. */
static int64_t
day_at(int minutes)
{
	return (int64_t)T0 - T0 % 86400 + minutes * 60;
}

START_TEST(test_inactive)
{
	struct conf_sink	 cs = base();
	struct flood		*f = flood_new(&cs);
	int64_t			 when = 0;

	ck_assert(!flood_active(&cs));
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(flood_check(f, SEVERITY_LOW, T0, &when), FLOOD_SEND);
		flood_note_sent(f, T0);
	}
	ck_assert(!flood_needs_history(f));
	flood_free(f);
}
END_TEST

START_TEST(test_rate_one_per_second)
{
	struct conf_sink	 cs = base();
	struct flood		*f;
	int64_t			 when = 0;

	cs.rate_per_second = 1;
	ck_assert(flood_active(&cs));
	f = flood_new(&cs);
	ck_assert_int_eq(flood_check(f, SEVERITY_NORMAL, T0, &when), FLOOD_SEND);
	flood_note_sent(f, T0);
	ck_assert_int_eq(flood_check(f, SEVERITY_NORMAL, T0, &when), FLOOD_WAIT);
	ck_assert_int_eq(when, T0 + 1);
	/* Critical alerts skip the budget, never the rate limit. */
	ck_assert_int_eq(flood_check(f, SEVERITY_CRITICAL, T0, &when), FLOOD_WAIT);
	ck_assert_int_eq(flood_check(f, SEVERITY_NORMAL, T0 + 1, &when), FLOOD_SEND);
	flood_note_sent(f, T0 + 1);
	/* A quiet minute does not bank more than one token. */
	ck_assert_int_eq(flood_check(f, SEVERITY_NORMAL, T0 + 60, &when), FLOOD_SEND);
	flood_note_sent(f, T0 + 60);
	ck_assert_int_eq(flood_check(f, SEVERITY_NORMAL, T0 + 60, &when), FLOOD_WAIT);
	flood_free(f);
}
END_TEST

START_TEST(test_rate_burst_and_slow)
{
	struct conf_sink	 cs = base();
	struct flood		*f;
	int64_t			 when = 0;
	int			 sent = 0;

	cs.rate_per_second = 5;
	f = flood_new(&cs);
	while (flood_check(f, SEVERITY_NORMAL, T0, &when) == FLOOD_SEND) {
		flood_note_sent(f, T0);
		sent++;
	}
	ck_assert_int_eq(sent, 5);
	ck_assert_int_eq(when, T0 + 1);
	flood_free(f);

	cs.rate_per_second = 0.1;	/* one per ten seconds */
	f = flood_new(&cs);
	ck_assert_int_eq(flood_check(f, SEVERITY_NORMAL, T0, &when), FLOOD_SEND);
	flood_note_sent(f, T0);
	ck_assert_int_eq(flood_check(f, SEVERITY_NORMAL, T0 + 3, &when), FLOOD_WAIT);
	ck_assert_int_eq(when, T0 + 10);
	ck_assert_int_eq(flood_check(f, SEVERITY_NORMAL, T0 + 10, &when), FLOOD_SEND);
	flood_free(f);
}
END_TEST

START_TEST(test_budget_overflow_holds)
{
	struct conf_sink	 cs = base();
	struct flood		*f;
	int64_t			 when = 0;

	cs.hourly_budget = 3;
	f = flood_new(&cs);
	ck_assert(flood_needs_history(f));
	flood_load_history(f, NULL, 0);
	ck_assert(!flood_needs_history(f));
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(flood_check(f, SEVERITY_NORMAL, T0 + i * 10, &when), FLOOD_SEND);
		flood_note_sent(f, T0 + i * 10);
	}
	ck_assert_int_eq(flood_check(f, SEVERITY_HIGH, T0 + 100, &when), FLOOD_HOLD);
	/* Held until the oldest send of the hour is an hour old. */
	ck_assert_int_eq(when, T0 + 3600);
	/* The bypass severity is sent anyway. */
	ck_assert_int_eq(flood_check(f, SEVERITY_CRITICAL, T0 + 100, &when), FLOOD_SEND);
	flood_note_sent(f, T0 + 100);
	/* That urgent one counts too: the hour still holds three sends. */
	ck_assert_int_eq(flood_check(f, SEVERITY_NORMAL, T0 + 3600, &when), FLOOD_HOLD);
	ck_assert_int_eq(when, T0 + 10 + 3600);
	ck_assert_int_eq(flood_check(f, SEVERITY_NORMAL, T0 + 3610, &when), FLOOD_SEND);
	flood_free(f);
}
END_TEST

START_TEST(test_budget_history_after_restart)
{
	struct conf_sink	 cs = base();
	struct flood		*f;
	int64_t			 hist[] = { T0 - 100, T0 - 4000, T0 - 50 };
	int64_t			 when = 0;

	cs.hourly_budget = 2;
	f = flood_new(&cs);
	/* Unsorted, one of them older than the hour. */
	flood_load_history(f, hist, 3);
	ck_assert_int_eq(flood_check(f, SEVERITY_NORMAL, T0, &when), FLOOD_HOLD);
	ck_assert_int_eq(when, T0 - 100 + 3600);
	flood_free(f);
}
END_TEST

START_TEST(test_quiet_hours_wrapping)
{
	struct conf_sink	 cs = base();
	struct flood		*f;
	int64_t			 when = 0, end = 0;

	cs.quiet_start_min = 22 * 60;
	cs.quiet_end_min = 7 * 60;
	f = flood_new(&cs);
	ck_assert(flood_quiet_now(&cs, day_at(23 * 60), &end));
	ck_assert_int_eq(end, day_at(24 * 60 + 7 * 60));
	ck_assert(flood_quiet_now(&cs, day_at(3 * 60), &end));
	ck_assert_int_eq(end, day_at(7 * 60));
	ck_assert(!flood_quiet_now(&cs, day_at(7 * 60), NULL));
	ck_assert(!flood_quiet_now(&cs, day_at(12 * 60), NULL));
	ck_assert(flood_quiet_now(&cs, day_at(22 * 60), NULL));

	ck_assert_int_eq(flood_check(f, SEVERITY_HIGH, day_at(23 * 60), &when), FLOOD_HOLD);
	ck_assert_int_eq(when, day_at(31 * 60));
	ck_assert_int_eq(flood_check(f, SEVERITY_CRITICAL, day_at(23 * 60), &when), FLOOD_SEND);
	ck_assert_int_eq(flood_check(f, SEVERITY_LOW, day_at(12 * 60), &when), FLOOD_SEND);
	/* The digest waits for the morning too. */
	ck_assert_int_eq(flood_check_digest(f, day_at(2 * 60), &when), FLOOD_WAIT);
	ck_assert_int_eq(when, day_at(7 * 60));
	ck_assert_int_eq(flood_check_digest(f, day_at(7 * 60), &when), FLOOD_SEND);
	flood_free(f);
}
END_TEST

START_TEST(test_quiet_hours_same_day)
{
	struct conf_sink	cs = base();
	int64_t			end = 0;

	cs.quiet_start_min = 13 * 60;
	cs.quiet_end_min = 14 * 60 + 30;
	ck_assert(!flood_quiet_now(&cs, day_at(12 * 60 + 59), NULL));
	ck_assert(flood_quiet_now(&cs, day_at(13 * 60), &end));
	ck_assert_int_eq(end, day_at(14 * 60 + 30));
	ck_assert(!flood_quiet_now(&cs, day_at(14 * 60 + 30), NULL));
	/* start == end is no quiet time at all. */
	cs.quiet_end_min = cs.quiet_start_min;
	ck_assert(!flood_quiet_now(&cs, day_at(13 * 60), NULL));
	ck_assert(!flood_active(&cs));
}
END_TEST

START_TEST(test_digest_slots)
{
	struct conf_sink	 cs = base();
	struct flood		*f;
	int64_t			 when = 0, when2 = 0;

	cs.digest_interval = 1800;
	f = flood_new(&cs);
	ck_assert_int_eq(flood_check(f, SEVERITY_HIGH, day_at(10 * 60 + 1), &when), FLOOD_HOLD);
	ck_assert_int_eq(when, day_at(10 * 60 + 30));
	ck_assert_int_eq(flood_check(f, SEVERITY_LOW, day_at(10 * 60 + 29), &when2), FLOOD_HOLD);
	ck_assert_int_eq(when2, when);
	ck_assert_int_eq(flood_check(f, SEVERITY_LOW, day_at(10 * 60 + 30), &when2), FLOOD_HOLD);
	ck_assert_int_eq(when2, day_at(11 * 60));
	ck_assert_int_eq(flood_check(f, SEVERITY_CRITICAL, day_at(10 * 60), &when), FLOOD_SEND);
	ck_assert_int_eq(flood_check_digest(f, day_at(10 * 60 + 30), &when), FLOOD_SEND);
	flood_free(f);
}
END_TEST

START_TEST(test_receiver_pause)
{
	struct conf_sink	 cs = base();
	struct flood		*f = flood_new(&cs);
	int64_t			 when = 0;

	ck_assert(!flood_blocked(f, T0));
	flood_block(f, T0 + 120);
	flood_block(f, T0 + 60);	/* a shorter pause does not shorten it */
	ck_assert(flood_blocked(f, T0 + 119));
	ck_assert_int_eq(flood_check(f, SEVERITY_CRITICAL, T0, &when), FLOOD_WAIT);
	ck_assert_int_eq(when, T0 + 120);
	ck_assert_int_eq(flood_check_digest(f, T0 + 5, &when), FLOOD_WAIT);
	ck_assert_int_eq(when, T0 + 120);
	ck_assert(!flood_blocked(f, T0 + 120));
	ck_assert_int_eq(flood_check(f, SEVERITY_LOW, T0 + 120, &when), FLOOD_SEND);
	flood_free(f);
}
END_TEST

static Suite *
flood_suite(void)
{
	Suite	*s = suite_create("flood");
	TCase	*tc;

	tc = tcase_create("rate");
	tcase_add_test(tc, test_inactive);
	tcase_add_test(tc, test_rate_one_per_second);
	tcase_add_test(tc, test_rate_burst_and_slow);
	tcase_add_test(tc, test_receiver_pause);
	suite_add_tcase(s, tc);

	tc = tcase_create("budget");
	tcase_add_test(tc, test_budget_overflow_holds);
	tcase_add_test(tc, test_budget_history_after_restart);
	suite_add_tcase(s, tc);

	tc = tcase_create("quiet");
	tcase_add_test(tc, test_quiet_hours_wrapping);
	tcase_add_test(tc, test_quiet_hours_same_day);
	suite_add_tcase(s, tc);

	tc = tcase_create("digest");
	tcase_add_test(tc, test_digest_slots);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	setenv("TZ", "UTC", 1);
	tzset();
	sr = srunner_create(flood_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
