/* test_alert.c — the alert record: its JSON shape (the contract of the JSONL
 * log and the generic webhook), the stable id (one story through two feeds
 * is one alert; an item without a link is keyed by feed and item id), the
 * highest severity of its topics, and missing fields as null. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"

static struct classify_hit hits_sma[] = { { "cost-sharing", "title", NULL }, { "sma", "summary", NULL } };
static struct classify_hit hits_drills[] = { { "freedom shield", "title", NULL } };
static struct classify_match matches[] = {
	{ "sma", SEVERITY_NORMAL, hits_sma, 2 },
	{ "drills", SEVERITY_HIGH, hits_drills, 1 },
};

static struct feed_item
item(const char *id, const char *link)
{
	struct feed_item it;

	memset(&it, 0, sizeof(it));
	it.id = (char *)id;
	it.title = "Talks resume";
	it.link = (char *)link;
	it.summary = "Summary.";
	it.published = 1740819600;
	it.updated = FW_TIME_NONE;
	return it;
}

START_TEST(test_shape)
{
	struct conf_feed	 feed = { .name = "wire", .url = "http://f.example/w.xml" };
	struct classify_result	 cls = { .matches = matches, .n_matches = 2 };
	struct feed_item	 it = item("g1", "http://news.example/1");
	struct alert		 a;
	json_t			*o, *i;
	const char		*key;
	json_t			*v;
	static const char	*keys[] = { "id", "created", "severity", "topics", "matches",
				    "hits", "feed", "feed_name", "item" };
	size_t			 k = 0;

	ck_assert_int_eq(alert_build(&feed, NULL, &it, &cls, 1740820000, &a), 0);
	ck_assert_ptr_null(strchr(a.json, '\n'));
	o = json_loads(a.json, 0, NULL);
	ck_assert_ptr_nonnull(o);
	/* Keys in the documented order. */
	json_object_foreach(o, key, v) {
		ck_assert_uint_lt(k, 9);
		ck_assert_str_eq(key, keys[k++]);
	}
	ck_assert_uint_eq(k, 9);
	ck_assert_str_eq(json_string_value(json_object_get(o, "id")), a.id);
	ck_assert_uint_eq(strlen(a.id), 32);
	ck_assert_str_eq(json_string_value(json_object_get(o, "created")), "2025-03-01T09:06:40Z");
	ck_assert_str_eq(json_string_value(json_object_get(o, "severity")), "high");
	ck_assert_int_eq(a.severity, SEVERITY_HIGH);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "topics"), 1)), "drills");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(json_object_get(o,
	    "matches"), "sma"), 1)), "sma");
	ck_assert_uint_eq(json_array_size(json_object_get(o, "hits")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(o, "hits"),
	    2), "field")), "title");
	ck_assert_str_eq(json_string_value(json_object_get(o, "feed")), "http://f.example/w.xml");
	ck_assert_str_eq(json_string_value(json_object_get(o, "feed_name")), "wire");
	i = json_object_get(o, "item");
	ck_assert_str_eq(json_string_value(json_object_get(i, "id")), "g1");
	ck_assert_str_eq(json_string_value(json_object_get(i, "title")), "Talks resume");
	ck_assert_str_eq(json_string_value(json_object_get(i, "link")), "http://news.example/1");
	ck_assert_str_eq(json_string_value(json_object_get(i, "published")), "2025-03-01T09:00:00Z");
	ck_assert_str_eq(json_string_value(json_object_get(i, "summary")), "Summary.");
	ck_assert_str_eq(a.dedup_key, "link:http://news.example/1");
	json_decref(o);
	alert_done(&a);
}
END_TEST

START_TEST(test_stable_ids)
{
	struct conf_feed	 f1 = { .name = "wire", .url = "http://f.example/1" };
	struct conf_feed	 f2 = { .name = "other", .url = "http://f.example/2" };
	struct classify_result	 cls = { .matches = matches, .n_matches = 1 };
	struct feed_item	 it1 = item("g1", "http://news.example/1");
	struct feed_item	 it2 = item("urn:other", "http://news.example/1");
	struct feed_item	 nolink = item("g2", NULL);
	struct alert		 a, b, c, d;

	ck_assert_int_eq(alert_build(&f1, NULL, &it1, &cls, 1, &a), 0);
	ck_assert_int_eq(alert_build(&f2, NULL, &it2, &cls, 2, &b), 0);
	ck_assert_str_eq(a.id, b.id);
	ck_assert_int_eq(alert_build(&f1, NULL, &nolink, &cls, 1, &c), 0);
	ck_assert_int_eq(alert_build(&f2, NULL, &nolink, &cls, 1, &d), 0);
	ck_assert_str_ne(c.id, d.id);
	ck_assert_str_ne(a.id, c.id);
	ck_assert_str_eq(c.dedup_key, "id:http://f.example/1\ng2");
	ck_assert_int_eq(a.severity, SEVERITY_NORMAL);
	alert_done(&a);
	alert_done(&b);
	alert_done(&c);
	alert_done(&d);
}
END_TEST

START_TEST(test_missing_fields_are_null)
{
	struct classify_result	 cls = { .matches = matches, .n_matches = 1 };
	struct feed_item	 it = item("g1", NULL);
	struct alert		 a;
	json_t			*o, *i;
	char			 hex[33];

	it.title = NULL;
	it.summary = NULL;
	it.published = FW_TIME_NONE;
	/* No conf feed: the URL stands in, and feed_name is null. */
	ck_assert_int_eq(alert_build(NULL, "file:///tmp/x.xml", &it, &cls, 5, &a), 0);
	o = json_loads(a.json, 0, NULL);
	i = json_object_get(o, "item");
	ck_assert(json_is_null(json_object_get(i, "title")));
	ck_assert(json_is_null(json_object_get(i, "link")));
	ck_assert(json_is_null(json_object_get(i, "published")));
	ck_assert(json_is_null(json_object_get(i, "summary")));
	ck_assert(json_is_null(json_object_get(o, "feed_name")));
	ck_assert_str_eq(json_string_value(json_object_get(o, "feed")), "file:///tmp/x.xml");
	json_decref(o);
	alert_hash_hex(a.dedup_key, hex);
	ck_assert_str_eq(hex, a.id);
	alert_done(&a);
	alert_done(&a);		/* idempotent */
}
END_TEST

START_TEST(test_hash)
{
	char hex[33];

	/* SHA-256("abc") starts ba7816bf8f01cfea414140de5dae2223. */
	alert_hash_hex("abc", hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223");
}
END_TEST

static Suite *
alert_suite(void)
{
	Suite	*s = suite_create("alert");
	TCase	*tc = tcase_create("build");

	tcase_add_test(tc, test_shape);
	tcase_add_test(tc, test_stable_ids);
	tcase_add_test(tc, test_missing_fields_are_null);
	tcase_add_test(tc, test_hash);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(alert_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
