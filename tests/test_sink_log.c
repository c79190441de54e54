/* test_sink_log.c — the log sink: JSON Lines (one alert or digest per
 * line, exactly the stored JSON), readable text, reopening after logrotate
 * moved the file, and the errors: an unopenable path, a broken record. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"
#include "testutil.h"

static const char alert_json[] =
	"{\"id\":\"a1\",\"created\":\"2025-03-01T10:00:00Z\",\"severity\":\"high\","
	"\"topics\":[\"sma\",\"drills\"],\"hits\":[{\"topic\":\"sma\",\"term\":\"cost-sharing\","
	"\"field\":\"title\"}],\"feed\":\"http://f.example/w.xml\",\"feed_name\":\"wire\","
	"\"item\":{\"id\":\"g1\",\"title\":\"Talks resume\",\"link\":\"http://news.example/1\","
	"\"published\":\"2025-03-01T09:00:00Z\",\"summary\":null}}";

static char *tmp;

static void
setup(void)
{
	tmp = tu_tmpdir();
}

static void
teardown(void)
{
	tu_rmtree(tmp);
	free(tmp);
}

static struct sink *
open_log(struct conf_sink *cs, char *path, enum sink_format f)
{
	struct sink	*s = NULL;
	struct fw_error	 e;

	memset(cs, 0, sizeof(*cs));
	cs->name = "log";
	cs->type = SINK_LOG;
	cs->path = path;
	cs->format = f;
	cs->quiet_start_min = cs->quiet_end_min = -1;
	ck_assert_msg(sink_new(cs, &s, &e) == 0, "%s", e.msg);
	return s;
}

static void
put(struct sink *s, const char *json, bool digest, enum sink_result want)
{
	struct sink_msg		m = { .id = "a1", .json = json, .digest = digest };
	struct sink_outcome	out;

	ck_assert_int_eq(sink_deliver(s, &m, &out), 0);
	ck_assert_int_eq(out.result, want);
}

START_TEST(test_jsonl)
{
	char			 path[512], *got, want[2048];
	struct conf_sink	 cs;
	struct sink		*s;

	snprintf(path, sizeof(path), "%s/alerts.jsonl", tmp);
	s = open_log(&cs, path, SINK_FORMAT_JSONL);
	put(s, alert_json, false, SINK_DELIVERED);
	put(s, "{\"id\":\"d1\",\"digest\":true,\"alerts\":[]}", true, SINK_DELIVERED);
	got = tu_read_file(path, NULL);
	snprintf(want, sizeof(want), "%s\n{\"id\":\"d1\",\"digest\":true,\"alerts\":[]}\n", alert_json);
	ck_assert_str_eq(got, want);
	free(got);
	sink_free(s);
}
END_TEST

START_TEST(test_text)
{
	char			 path[512], *got, digest[2048];
	struct conf_sink	 cs;
	struct sink		*s;

	snprintf(path, sizeof(path), "%s/alerts.txt", tmp);
	s = open_log(&cs, path, SINK_FORMAT_TEXT);
	put(s, alert_json, false, SINK_DELIVERED);
	got = tu_read_file(path, NULL);
	ck_assert_str_eq(got, "[sma, drills] Talks resume  (high)\n"
	    "    http://news.example/1\n"
	    "    feed: wire | published 2025-03-01T09:00:00Z\n"
	    "    matched: sma: \"cost-sharing\" in title\n"
	    "    alert a1\n\n");
	free(got);
	snprintf(digest, sizeof(digest), "{\"id\":\"d1\",\"digest\":true,\"alerts\":[%s,%s]}",
	    alert_json, alert_json);
	put(s, digest, true, SINK_DELIVERED);
	got = tu_read_file(path, NULL);
	ck_assert_ptr_nonnull(strstr(got, "feedwatch digest d1: 2 alerts\n"));
	free(got);
	/* A record that is not JSON cannot be shown as text, ever. */
	put(s, "{oops", false, SINK_PERMANENT);
	sink_free(s);
}
END_TEST

START_TEST(test_reopen_after_rotation)
{
	char			 path[512], rotated[600], *got;
	struct conf_sink	 cs;
	struct sink		*s;

	snprintf(path, sizeof(path), "%s/alerts.jsonl", tmp);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	s = open_log(&cs, path, SINK_FORMAT_JSONL);
	put(s, "{\"n\":1}", false, SINK_DELIVERED);
	ck_assert_int_eq(rename(path, rotated), 0);
	put(s, "{\"n\":2}", false, SINK_DELIVERED);	/* still the old file */
	sink_reopen(s);
	put(s, "{\"n\":3}", false, SINK_DELIVERED);
	got = tu_read_file(rotated, NULL);
	ck_assert_str_eq(got, "{\"n\":1}\n{\"n\":2}\n");
	free(got);
	got = tu_read_file(path, NULL);
	ck_assert_str_eq(got, "{\"n\":3}\n");
	free(got);
	sink_free(s);
}
END_TEST

START_TEST(test_open_error)
{
	struct conf_sink	 cs;
	struct sink		*s = NULL;
	struct fw_error		 e;

	memset(&cs, 0, sizeof(cs));
	cs.name = "log";
	cs.type = SINK_LOG;
	cs.path = "/nonexistent-dir/alerts.jsonl";
	ck_assert_int_eq(sink_new(&cs, &s, &e), -ENOENT);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(e.msg, "sink 'log': cannot open"));
	ck_assert_str_eq(e.file, "/nonexistent-dir/alerts.jsonl");
}
END_TEST

START_TEST(test_filters)
{
	struct conf_str		 topics[1] = { { .s = "sma" } };
	struct conf_str		 feeds[1] = { { .s = "wire" } };
	struct conf_sink	 cs;
	const char		*t_sma[] = { "drills", "sma" }, *t_other[] = { "tariffs" };

	memset(&cs, 0, sizeof(cs));
	ck_assert(sink_accepts(&cs, "x", "http://x", t_other, 1, SEVERITY_LOW));
	cs.topics.v = topics;
	cs.topics.n = 1;
	ck_assert(sink_accepts(&cs, "x", "http://x", t_sma, 2, SEVERITY_LOW));
	ck_assert(!sink_accepts(&cs, "x", "http://x", t_other, 1, SEVERITY_LOW));
	cs.feeds.v = feeds;
	cs.feeds.n = 1;
	ck_assert(!sink_accepts(&cs, "x", "http://x", t_sma, 2, SEVERITY_LOW));
	ck_assert(sink_accepts(&cs, "wire", "http://x", t_sma, 2, SEVERITY_LOW));
	feeds[0].s = "http://x";
	ck_assert(sink_accepts(&cs, "wire", "http://x", t_sma, 2, SEVERITY_LOW));
	cs.min_severity = SEVERITY_HIGH;
	ck_assert(!sink_accepts(&cs, "wire", "http://x", t_sma, 2, SEVERITY_NORMAL));
	ck_assert(sink_accepts(&cs, "wire", "http://x", t_sma, 2, SEVERITY_CRITICAL));
}
END_TEST

/* A batch: whole lines in order; an alert that cannot be rendered fails
 * alone; past 4 MiB the batch is written in more than one go. */
START_TEST(test_batch)
{
	char			 path[512], *got, *big;
	struct conf_sink	 cs;
	struct sink		*s;
	struct sink_msg		 m[3] = {
		{ .id = "a1", .json = alert_json },
		{ .id = "a2", .json = "{not json" },
		{ .id = "a3", .json = alert_json },
	};
	struct sink_outcome	 out[3];
	size_t			 len, bigsz = 3 * 1024 * 1024;

	snprintf(path, sizeof(path), "%s/alerts.txt", tmp);
	s = open_log(&cs, path, SINK_FORMAT_TEXT);
	ck_assert(sink_can_batch(s));
	ck_assert_int_eq(sink_deliver_batch(s, m, 3, out), 0);
	ck_assert_int_eq(out[0].result, SINK_DELIVERED);
	ck_assert_int_eq(out[1].result, SINK_PERMANENT);
	ck_assert(strstr(out[1].error, "not valid JSON") != NULL);
	ck_assert_int_eq(out[2].result, SINK_DELIVERED);
	got = tu_read_file(path, NULL);
	ck_assert(strstr(got, "Talks resume") != NULL);
	ck_assert(strstr(strstr(got, "Talks resume") + 1, "Talks resume") != NULL);
	ck_assert(strstr(got, "not json") == NULL);
	free(got);
	sink_free(s);

	snprintf(path, sizeof(path), "%s/alerts.jsonl", tmp);
	s = open_log(&cs, path, SINK_FORMAT_JSONL);
	big = malloc(bigsz + 32);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', bigsz + 32);
	memcpy(big, "{\"id\":\"", 7);
	memcpy(big + bigsz, "\"}", 3);
	m[0].json = big;
	m[1].json = big;
	m[2].json = alert_json;
	ck_assert_int_eq(sink_deliver_batch(s, m, 3, out), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(out[i].result, SINK_DELIVERED);
	got = tu_read_file(path, &len);
	ck_assert_uint_eq(len, 2 * (bigsz + 3) + strlen(alert_json) + 1);
	ck_assert(got[bigsz + 2] == '\n');
	ck_assert_int_eq(strncmp(got + 2 * (bigsz + 3), alert_json, strlen(alert_json)), 0);
	ck_assert_str_eq(got + len - 1, "\n");
	free(got);
	free(big);
	sink_free(s);
}
END_TEST

/* A write that fails (a full disk) leaves every alert of the batch to be
 * retried, with the reason. */
START_TEST(test_batch_write_fails)
{
	struct conf_sink	 cs;
	struct sink		*s;
	struct sink_msg		 m[2] = {
		{ .id = "a1", .json = alert_json }, { .id = "a2", .json = alert_json },
	};
	struct sink_outcome	 out[2];

	s = open_log(&cs, "/dev/full", SINK_FORMAT_JSONL);
	ck_assert_int_eq(sink_deliver_batch(s, m, 2, out), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(out[i].result, SINK_RETRY);
		ck_assert(strstr(out[i].error, "/dev/full") != NULL);
	}
	sink_free(s);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("sink_log");
	TCase	*tc = tcase_create("write");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_jsonl);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_reopen_after_rotation);
	tcase_add_test(tc, test_open_error);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_batch_write_fails);
	suite_add_tcase(s, tc);
	tc = tcase_create("filter");
	tcase_add_test(tc, test_filters);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(log_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
