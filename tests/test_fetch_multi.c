/* test_fetch_multi.c — the concurrent driver: host keys, the global and the
 * per-host limits measured on real servers on 127.0.0.1, one callback per
 * transfer, errors through callbacks, a callback's failure stopping the
 * run, and a stop signal abandoning transfers in flight. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetch_multi.h"
#include "testutil.h"
#include "tu_httpd.h"

static const struct tu_route routes[] = {
	{ "/slow", 200, "ETag: \"s\"\n", "<rss/>", TU_SLOW, 200 },
	{ "/fast", 200, NULL, "<rss>fast</rss>", TU_PLAIN, 0 },
	{ "/drip", 200, NULL, NULL, TU_DRIP, 0 },
	{ "/gone", 410, NULL, "", TU_PLAIN, 0 },
	{ NULL, 0, NULL, NULL, 0, 0 },
};

static struct tu_httpd	a, b;

struct outcome {
	int	calls;
	int	rc;
	long	status;
	char	body[64];
	int	fail_with;	/* returned by the callback */
	volatile sig_atomic_t *stop_after;	/* set by the callback */
};

static int
on_done(void *userdata, int rc, const struct fw_error *err, struct fetch_result *res)
{
	struct outcome *o = userdata;

	o->calls++;
	o->rc = rc;
	if (rc == 0) {
		o->status = res->status;
		snprintf(o->body, sizeof(o->body), "%s", res->body);
	}
	if (o->stop_after != NULL)
		*o->stop_after = 1;
	return o->fail_with;
}

static void
setup(void)
{
	ck_assert_int_eq(fetch_global_init(), 0);
	tu_httpd_start(&a, routes);
	tu_httpd_start(&b, routes);
}

static void
teardown(void)
{
	tu_httpd_stop(&a);
	tu_httpd_stop(&b);
	fetch_global_cleanup();
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Upper time bounds stretch by FW_TEST_TIME_SCALE: the valgrind test setup
 * sets it, as everything there runs several times slower. */
static double
slack(double secs)
{
	const char *e = getenv("FW_TEST_TIME_SCALE");
	double k = e != NULL ? strtod(e, NULL) : 1.0;

	return secs * (k >= 1.0 ? k : 1.0);
}

START_TEST(test_host_key)
{
	char k[64];

	fetch_multi_host_key("http://User:pw@Example.COM:8080/x?y", k, sizeof(k));
	ck_assert_str_eq(k, "example.com:8080");
	fetch_multi_host_key("https://a.b/feed", k, sizeof(k));
	ck_assert_str_eq(k, "a.b");
	fetch_multi_host_key("http://h?q", k, sizeof(k));
	ck_assert_str_eq(k, "h");
	fetch_multi_host_key("http://[::1]:99/", k, sizeof(k));
	ck_assert_str_eq(k, "[::1]:99");
	fetch_multi_host_key("http://averyveryverylonghostname.example/", k, 8);
	ck_assert_str_eq(k, "averyve");
}
END_TEST

/* Runs n /slow transfers on srv with the limits; returns the max seen. */
static int
run_slow(struct tu_httpd *srv, int n, unsigned conc, unsigned per_host, double *ret_secs)
{
	struct fetch_multi_opts	 mo = { .concurrency = conc, .per_host = per_host };
	struct fetch_multi	*m = NULL;
	struct outcome		 o[16] = { { 0 } };
	double			 t;

	ck_assert_int_le(n, 16);
	srv->max_live = 0;
	ck_assert_int_eq(fetch_multi_new(&mo, &m), 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(fetch_multi_add(m, tu_httpd_url(srv, "/slow"), NULL, on_done,
		    &o[i]), 0);
	ck_assert_uint_eq(fetch_multi_pending(m), (size_t)n);
	t = now_s();
	ck_assert_int_eq(fetch_multi_run(m, NULL), 0);
	*ret_secs = now_s() - t;
	ck_assert_uint_eq(fetch_multi_pending(m), 0);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(o[i].calls, 1);
		ck_assert_int_eq(o[i].rc, 0);
		ck_assert_int_eq(o[i].status, 200);
		ck_assert_str_eq(o[i].body, "<rss/>");
	}
	fetch_multi_free(m);
	return srv->max_live;
}

START_TEST(test_per_host_limit)
{
	double secs;

	ck_assert_int_eq(run_slow(&a, 6, 8, 2, &secs), 2);
	/* 6 x 200 ms two at a time: about 600 ms, not 1200. */
	ck_assert_double_lt(secs, slack(1.1));
	ck_assert_double_ge(secs, 0.55);
}
END_TEST

START_TEST(test_global_limit)
{
	double secs;

	ck_assert_int_eq(run_slow(&a, 6, 3, 8, &secs), 3);
	ck_assert_double_lt(secs, slack(0.9));
	ck_assert_int_eq(run_slow(&a, 3, 1, 8, &secs), 1);
	ck_assert_double_ge(secs, 0.55);
}
END_TEST

START_TEST(test_hosts_in_parallel)
{
	struct fetch_multi_opts	 mo = { .concurrency = 8, .per_host = 1 };
	struct fetch_multi	*m = NULL;
	struct outcome		 o[8] = { { 0 } };
	double			 t;

	ck_assert_int_eq(fetch_multi_new(&mo, &m), 0);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(fetch_multi_add(m, tu_httpd_url(i % 2 ? &a : &b, "/slow"), NULL,
		    on_done, &o[i]), 0);
	t = now_s();
	ck_assert_int_eq(fetch_multi_run(m, NULL), 0);
	/* One at a time per host, both hosts at once: 4 x 200 ms. */
	ck_assert_double_lt(now_s() - t, slack(1.4));
	ck_assert_int_eq(a.max_live, 1);
	ck_assert_int_eq(b.max_live, 1);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(o[i].calls, 1);
	fetch_multi_free(m);
}
END_TEST

START_TEST(test_errors_through_callbacks)
{
	struct fetch_multi	*m = NULL;
	struct outcome		 o[5] = { { 0 } };
	struct fetch_opts	 capped = { .max_bytes = 4 };
	struct fetch_opts	 quick = { .timeout = 1 };
	char			*dir = tu_tmpdir(), *p = tu_write_file(dir, "f.xml", "<rss>file</rss>");
	char			 url[600];

	snprintf(url, sizeof(url), "file://%s", p);
	ck_assert_int_eq(fetch_multi_new(NULL, &m), 0);
	ck_assert_int_eq(fetch_multi_add(m, "http://127.0.0.1:1/x", NULL, on_done, &o[0]), 0);
	ck_assert_int_eq(fetch_multi_add(m, url, NULL, on_done, &o[1]), 0);
	ck_assert_int_eq(fetch_multi_add(m, tu_httpd_url(&a, "/fast"), &capped, on_done, &o[2]), 0);
	ck_assert_int_eq(fetch_multi_add(m, tu_httpd_url(&a, "/drip"), &quick, on_done, &o[3]), 0);
	ck_assert_int_eq(fetch_multi_add(m, tu_httpd_url(&b, "/gone"), NULL, on_done, &o[4]), 0);
	ck_assert_int_eq(fetch_multi_run(m, NULL), 0);
	ck_assert_int_eq(o[0].rc, -ECONNREFUSED);
	ck_assert_int_eq(o[1].rc, 0);
	ck_assert_str_eq(o[1].body, "<rss>file</rss>");
	ck_assert_int_eq(o[2].rc, -E2BIG);
	ck_assert_int_eq(o[3].rc, -ETIMEDOUT);
	ck_assert_int_eq(o[4].rc, 0);
	ck_assert_int_eq(o[4].status, 410);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(o[i].calls, 1);
	fetch_multi_free(m);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_callback_failure_stops)
{
	struct fetch_multi_opts	 mo = { .concurrency = 1 };
	struct fetch_multi	*m = NULL;
	struct outcome		 o[3] = { { .fail_with = -EIO }, { 0 }, { 0 } };

	ck_assert_int_eq(fetch_multi_new(&mo, &m), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(fetch_multi_add(m, tu_httpd_url(&a, "/fast"), NULL, on_done,
		    &o[i]), 0);
	ck_assert_int_eq(fetch_multi_run(m, NULL), -EIO);
	ck_assert_int_eq(o[0].calls, 1);
	ck_assert_int_eq(o[1].calls + o[2].calls, 0);
	ck_assert_uint_eq(fetch_multi_pending(m), 2);
	/* Freeing abandons the rest without calling back. */
	ck_assert_ptr_null(fetch_multi_free(m));
	ck_assert_int_eq(o[1].calls + o[2].calls, 0);
	ck_assert_ptr_null(fetch_multi_free(NULL));
}
END_TEST

START_TEST(test_stop_flag)
{
	static volatile sig_atomic_t	 stop;
	struct fetch_multi_opts		 mo = { .concurrency = 1 };
	struct fetch_multi		*m = NULL;
	struct outcome			 o[3] = { { .stop_after = &stop }, { 0 }, { 0 } };

	stop = 0;
	ck_assert_int_eq(fetch_multi_new(&mo, &m), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(fetch_multi_add(m, tu_httpd_url(&a, "/fast"), NULL, on_done,
		    &o[i]), 0);
	ck_assert_int_eq(fetch_multi_run(m, &stop), -EINTR);
	ck_assert_int_eq(o[0].calls, 1);
	ck_assert_int_eq(o[1].calls + o[2].calls, 0);
	fetch_multi_free(m);
}
END_TEST

static volatile sig_atomic_t	got_term;

static void
on_term(int sig)
{
	got_term = 1;
}

static void *
send_term(void *arg)
{
	usleep(300 * 1000);
	kill(getpid(), SIGTERM);
	return NULL;
}

START_TEST(test_signal_interrupts_wait)
{
	struct sigaction	 sa = { .sa_handler = on_term }, old;
	sigset_t		 block, saved;
	struct fetch_multi	*m = NULL;
	struct fetch_opts	 slow = { .timeout = 20 };
	struct outcome		 o = { 0 };
	pthread_t		 th;
	double			 t;

	/* As the daemon does: the stop signals are blocked outside waits. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &block, &saved), 0);
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGTERM, &sa, &old), 0);
	got_term = 0;
	ck_assert_int_eq(fetch_multi_new(NULL, &m), 0);
	ck_assert_int_eq(fetch_multi_add(m, tu_httpd_url(&a, "/drip"), &slow, on_done, &o), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, send_term, NULL), 0);
	t = now_s();
	ck_assert_int_eq(fetch_multi_run(m, &got_term), -EINTR);
	ck_assert_double_lt(now_s() - t, slack(2.0));
	ck_assert_int_eq(o.calls, 0);
	pthread_join(th, NULL);
	fetch_multi_free(m);
	ck_assert_int_eq(sigaction(SIGTERM, &old, NULL), 0);
	ck_assert_int_eq(sigprocmask(SIG_SETMASK, &saved, NULL), 0);
}
END_TEST

static Suite *
fetch_multi_suite(void)
{
	Suite	*s = suite_create("fetch_multi");
	TCase	*tc;

	tc = tcase_create("hosts");
	tcase_add_test(tc, test_host_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_per_host_limit);
	tcase_add_test(tc, test_global_limit);
	tcase_add_test(tc, test_hosts_in_parallel);
	suite_add_tcase(s, tc);

	tc = tcase_create("outcomes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_errors_through_callbacks);
	tcase_add_test(tc, test_callback_failure_stops);
	tcase_add_test(tc, test_stop_flag);
	tcase_add_test(tc, test_signal_interrupts_wait);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(fetch_multi_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
