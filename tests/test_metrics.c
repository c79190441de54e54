/* test_metrics.c — the counters and their Prometheus rendering (values,
 * label escaping, cumulative histogram), the /healthz verdict, listen
 * address parsing, and the endpoint itself over a real loopback socket. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "metrics.h"
#include "testutil.h"

static void
setup(void)
{
	metrics_reset();
}

static void
teardown(void)
{
	metrics_stop();
	metrics_reset();
}

/* Asserts that text has the exact line. */
static void
has_line(const char *text, const char *line)
{
	size_t		 n = strlen(line);
	const char	*p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return;
		p += n;
	}
	ck_abort_msg("no line '%s' in:\n%s", line, text);
}

START_TEST(test_render_counters)
{
	size_t	 feeds[_METRICS_FEED_STATE_MAX] = { 3, 1, 0, 2 };
	char	*t;

	metrics_poll_observe(200);
	metrics_poll_observe(200);
	metrics_poll_observe(404);
	metrics_poll_observe(0);
	metrics_latency_observe(0.07);
	metrics_latency_observe(3);
	metrics_latency_observe(-1);	/* unknown: ignored */
	metrics_items_observe(10, 4);
	metrics_alert_queued("archive");
	metrics_alert_queued("archive");
	metrics_alert_queued("hook \"ops\"\\x\n");
	metrics_delivery_observe("archive", METRICS_DELIVERED);
	metrics_delivery_observe("hook \"ops\"\\x\n", METRICS_DELIVERY_RETRY);
	metrics_delivery_observe("hook \"ops\"\\x\n", METRICS_DELIVERY_FAILED);
	metrics_set_feeds(feeds);
	metrics_set_outbox(5, 1);
	metrics_cycle_done(1700000000, 1.5);
	t = metrics_render();
	ck_assert_ptr_nonnull(t);
	has_line(t, "# TYPE feedwatch_polls_total counter");
	has_line(t, "feedwatch_build_info{version=\"" FW_VERSION "\"} 1");
	has_line(t, "feedwatch_polls_total{status=\"200\"} 2");
	has_line(t, "feedwatch_polls_total{status=\"404\"} 1");
	has_line(t, "feedwatch_polls_total{status=\"error\"} 1");
	has_line(t, "# TYPE feedwatch_fetch_duration_seconds histogram");
	has_line(t, "feedwatch_fetch_duration_seconds_bucket{le=\"0.05\"} 0");
	has_line(t, "feedwatch_fetch_duration_seconds_bucket{le=\"0.1\"} 1");
	has_line(t, "feedwatch_fetch_duration_seconds_bucket{le=\"2.5\"} 1");
	has_line(t, "feedwatch_fetch_duration_seconds_bucket{le=\"5\"} 2");
	has_line(t, "feedwatch_fetch_duration_seconds_bucket{le=\"+Inf\"} 2");
	has_line(t, "feedwatch_fetch_duration_seconds_count 2");
	has_line(t, "feedwatch_fetch_duration_seconds_sum 3.070000");
	has_line(t, "feedwatch_items_seen_total 10");
	has_line(t, "feedwatch_items_new_total 4");
	has_line(t, "feedwatch_alerts_queued_total{sink=\"archive\"} 2");
	has_line(t, "feedwatch_alerts_queued_total{sink=\"hook \\\"ops\\\"\\\\x\\n\"} 1");
	has_line(t, "feedwatch_alerts_delivered_total{sink=\"archive\"} 1");
	has_line(t, "feedwatch_alerts_retried_total{sink=\"hook \\\"ops\\\"\\\\x\\n\"} 1");
	has_line(t, "feedwatch_alerts_failed_total{sink=\"hook \\\"ops\\\"\\\\x\\n\"} 1");
	has_line(t, "feedwatch_alerts_failed_total{sink=\"archive\"} 0");
	has_line(t, "feedwatch_feeds{state=\"ok\"} 3");
	has_line(t, "feedwatch_feeds{state=\"failing\"} 1");
	has_line(t, "feedwatch_feeds{state=\"disabled\"} 0");
	has_line(t, "feedwatch_feeds{state=\"new\"} 2");
	has_line(t, "feedwatch_alerts_pending 5");
	has_line(t, "feedwatch_alerts_dead_letters 1");
	has_line(t, "feedwatch_cycles_total 1");
	has_line(t, "feedwatch_last_cycle_timestamp_seconds 1700000000");
	has_line(t, "feedwatch_last_cycle_duration_seconds 1.500000");
	/* Every line is a comment or "name[{labels}] value". */
	for (char *line = t, *end; *line != '\0'; line = end + 1) {
		end = strchr(line, '\n');
		ck_assert_ptr_nonnull(end);
		ck_assert(line[0] == '#' || strncmp(line, "feedwatch_", 10) == 0);
	}
	free(t);
}
END_TEST

START_TEST(test_sink_table_is_capped)
{
	char	 name[32], *t;

	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "sink%d", i);
		metrics_alert_queued(name);
	}
	t = metrics_render();
	has_line(t, "feedwatch_alerts_queued_total{sink=\"sink255\"} 1");
	ck_assert_ptr_null(strstr(t, "sink256\""));
	free(t);
}
END_TEST

START_TEST(test_healthy)
{
	const char	*why;
	int64_t		 now = (int64_t)time(NULL);

	ck_assert(!metrics_healthy(now, &why));
	ck_assert_ptr_nonnull(strstr(why, "not started"));
	metrics_loop_alive(now, 30, true);
	ck_assert(metrics_healthy(now + 30, &why));
	ck_assert_str_eq(why, "ok");
	/* Late by more than the grace: stuck. */
	ck_assert(!metrics_healthy(now + 30 + 61, &why));
	ck_assert_ptr_nonnull(strstr(why, "stuck"));
	/* A transfer or a poll ending mid-cycle is progress. */
	metrics_latency_observe(0.2);
	ck_assert(metrics_healthy((int64_t)time(NULL) + 59, NULL));
	metrics_reset();
	metrics_poll_observe(0);
	ck_assert(metrics_healthy((int64_t)time(NULL) + 59, NULL));
	ck_assert(!metrics_healthy((int64_t)time(NULL) + 62, NULL));
	metrics_loop_alive(now, 30, false);
	ck_assert(!metrics_healthy(now, &why));
	ck_assert_ptr_nonnull(strstr(why, "not writable"));
}
END_TEST

START_TEST(test_bad_listen)
{
	static const char *bad[] = {
		"", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:http", "[::1]9117",
		"[::1", "a:b:c", "999.1.1.1:80", "example.org:80",
	};
	struct fw_error e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(metrics_start(bad[i], &e) == -EINVAL, "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(e.msg, bad[i]));
	}
	ck_assert_ptr_null(metrics_listen_address());
}
END_TEST

/* GET path from the endpoint at addr ("127.0.0.1:port"): the response. */
static char *
http_get(const char *addr, const char *path)
{
	struct sockaddr_in	 sa = { .sin_family = AF_INET };
	const char		*colon = strrchr(addr, ':');
	char			 req[256], *out = calloc(1, 65536);
	size_t			 len = 0;
	ssize_t			 n;
	int			 s;

	ck_assert_ptr_nonnull(colon);
	sa.sin_port = htons((uint16_t)strtol(colon + 1, NULL, 10));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	s = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
	ck_assert_int_eq(write(s, req, strlen(req)), (ssize_t)strlen(req));
	while (len < 65535 && (n = read(s, out + len, 65535 - len)) > 0)
		len += (size_t)n;
	close(s);
	return out;
}

START_TEST(test_endpoint)
{
	struct fw_error	 e;
	const char	*addr;
	char		*r;

	if (!HAVE_LIBMICROHTTPD) {
		ck_assert_int_eq(metrics_start("127.0.0.1:0", &e), -EOPNOTSUPP);
		ck_assert_ptr_nonnull(strstr(e.msg, "libmicrohttpd"));
		return;
	}
	ck_assert_int_eq(metrics_start("127.0.0.1:0", &e), 0);
	addr = metrics_listen_address();
	ck_assert_ptr_nonnull(addr);
	ck_assert_int_eq(strncmp(addr, "127.0.0.1:", 10), 0);
	ck_assert_int_gt(strtol(addr + 10, NULL, 10), 0);

	r = http_get(addr, "/healthz");
	ck_assert_msg(strncmp(r, "HTTP/1.0 503", 12) == 0 || strncmp(r, "HTTP/1.1 503", 12) == 0,
	    "%s", r);
	free(r);
	metrics_loop_alive((int64_t)time(NULL), 10, true);
	r = http_get(addr, "/healthz");
	ck_assert_msg(strstr(r, " 200 ") != NULL && strstr(r, "\r\n\r\nok\n") != NULL, "%s", r);
	free(r);
	metrics_poll_observe(304);
	r = http_get(addr, "/metrics");
	ck_assert_ptr_nonnull(strstr(r, " 200 "));
	ck_assert_ptr_nonnull(strstr(r, "text/plain; version=0.0.4"));
	ck_assert_ptr_nonnull(strstr(r, "\nfeedwatch_polls_total{status=\"304\"} 1\n"));
	free(r);
	r = http_get(addr, "/other");
	ck_assert_ptr_nonnull(strstr(r, " 404 "));
	free(r);
	/* Restarting on the same address works (the old one is stopped). */
	{
		char again[64];

		snprintf(again, sizeof(again), "%s", addr);
		ck_assert_int_eq(metrics_start(again, &e), 0);
		ck_assert_str_eq(metrics_listen_address(), again);
	}
	metrics_stop();
	ck_assert_ptr_null(metrics_listen_address());
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("counters");
	TCase	*tc2 = tcase_create("endpoint");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_render_counters);
	tcase_add_test(tc, test_sink_table_is_capped);
	tcase_add_test(tc, test_healthy);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tc2, setup, teardown);
	tcase_add_test(tc2, test_bad_listen);
	tcase_add_test(tc2, test_endpoint);
	suite_add_tcase(s, tc2);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(metrics_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
