/* test_store.c — the state: schema, feed state round trips, seen items
 * across reopen, the outbox and delivery states, and the errors for files
 * that are not databases. With FW_TEST_PG set (tests/pg/pgserver.py runs
 * it so, against a throwaway server) the same cases run on PostgreSQL,
 * with the ones only PostgreSQL has. */
#include <check.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "store.h"
#include "testutil.h"

static char *tmp;
static char *db_path;

static void
setup(void)
{
	tmp = tu_tmpdir();
	ck_assert_int_ge(asprintf(&db_path, "%s/state.db", tmp), 0);
}

static void
teardown(void)
{
	tu_rmtree(tmp);
	free(tmp);
	free(db_path);
}

/* Every case starts from an empty database, as from a new file. */
static void
setup_pg(void)
{
	tmp = tu_tmpdir();
	db_path = tu_state_target(tmp);
}

/* The first column of the first row sql gives, on the test's database. */
static int64_t
pg_query_int(const char *sql)
{
	struct db	*db = NULL;
	struct db_stmt	*st = NULL;
	struct fw_error	 e;
	int64_t		 v;

	ck_assert_msg(db_open(db_path, &db, &e) == 0, "%s", e.msg);
	ck_assert_msg(db_prepare(db, sql, &st, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(db_step(st, &e, "query"), 1);
	v = db_column_int64(st, 0);
	db_stmt_free(st);
	db_close(db);
	return v;
}

static struct store *
open_store(void)
{
	struct store	*s = NULL;
	struct fw_error	 e;
	int		 r = store_open(db_path, &s, &e);

	ck_assert_msg(r == 0, "store_open: %s", e.msg);
	return s;
}

START_TEST(test_schema_and_wal)
{
	struct store	*s = open_store();
	sqlite3		*db;
	sqlite3_stmt	*st;

	store_close(s);
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	/* A new file has 16 KiB pages, fixed by WAL mode. */
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 16384);
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 4);
	sqlite3_finalize(st);
	/* The outbox's due order comes from an index, not from each due
	 * alert's row (version 4). */
	ck_assert_int_eq(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT d.alert_id"
	    " FROM deliveries d JOIN alerts a INDEXED BY alerts_due_order ON a.id = d.alert_id"
	    " WHERE d.state IN (0, 4) AND d.next_attempt <= 1"
	    " ORDER BY d.next_attempt, a.created, a.rowid, d.sink", -1, &st, NULL), SQLITE_OK);
	{
		bool covered = false;

		while (sqlite3_step(st) == SQLITE_ROW)
			covered |= strstr((const char *)sqlite3_column_text(st, 3),
			    "COVERING INDEX alerts_due_order") != NULL;
		ck_assert(covered);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	/* Reopening an existing file keeps it. */
	s = open_store();
	store_close(s);
}
END_TEST

START_TEST(test_feed_state_round_trip)
{
	struct store		*s = open_store();
	struct store_feed	 f, g;
	struct fw_error		 e;

	ck_assert_int_eq(store_feed_get(s, "http://a/feed", &f, &e), 0);
	ck_assert_int_gt(f.id, 0);
	ck_assert_int_eq(f.last_poll, 0);
	ck_assert_ptr_null(f.etag);
	f.etag = strdup("\"abc\"");
	f.last_modified = strdup("Tue, 10 Jun 2025 04:00:00 GMT");
	f.last_poll = 1000;
	f.last_success = 1000;
	f.next_poll = 1900;
	f.last_status = 200;
	f.consecutive_errors = 2;
	f.items_seen = 7;
	f.disabled = true;
	ck_assert_int_eq(store_feed_save(s, &f, &e), 0);
	store_close(s);

	s = open_store();
	ck_assert_int_eq(store_feed_get(s, "http://a/feed", &g, &e), 0);
	ck_assert_int_eq(g.id, f.id);
	ck_assert_str_eq(g.etag, "\"abc\"");
	ck_assert_str_eq(g.last_modified, "Tue, 10 Jun 2025 04:00:00 GMT");
	ck_assert_int_eq(g.next_poll, 1900);
	ck_assert_int_eq(g.last_status, 200);
	ck_assert_int_eq(g.consecutive_errors, 2);
	ck_assert_int_eq(g.items_seen, 7);
	ck_assert(g.disabled);
	store_feed_done(&f);
	store_feed_done(&g);
	store_close(s);
}
END_TEST

START_TEST(test_items_seen_once_per_feed)
{
	struct store		*s = open_store();
	struct store_feed	 a, b;
	struct fw_error		 e;
	struct feed_item	 item = {
		.id = "guid-1", .title = "T", .link = "http://x/1",
		.published = 1700000000, .updated = FW_TIME_NONE,
	};

	ck_assert_int_eq(store_feed_get(s, "http://a/", &a, &e), 0);
	ck_assert_int_eq(store_feed_get(s, "http://b/", &b, &e), 0);
	ck_assert_int_eq(store_item_mark_seen(s, a.id, &item, 10, &e), 1);
	ck_assert_int_eq(store_item_mark_seen(s, a.id, &item, 11, &e), 0);
	/* Seen is per feed: another feed's copy is new to that feed. */
	ck_assert_int_eq(store_item_mark_seen(s, b.id, &item, 12, &e), 1);
	store_close(s);
	s = open_store();
	ck_assert_int_eq(store_item_mark_seen(s, a.id, &item, 13, &e), 0);
	store_feed_done(&a);
	store_feed_done(&b);
	store_close(s);
}
END_TEST

static int
count_item(const struct feed_item *item, const char *feed_url, void *userdata)
{
	int *n = userdata;

	ck_assert_ptr_nonnull(item->id);
	ck_assert_ptr_nonnull(feed_url);
	(*n)++;
	return 0;
}

START_TEST(test_items_foreach_since)
{
	struct store		*s = open_store();
	struct store_feed	 a;
	struct fw_error		 e;
	struct feed_item	 i1 = { .id = "1", .published = FW_TIME_NONE, .updated = FW_TIME_NONE };
	struct feed_item	 i2 = { .id = "2", .published = FW_TIME_NONE, .updated = FW_TIME_NONE };
	int			 n = 0;

	ck_assert_int_eq(store_feed_get(s, "http://a/", &a, &e), 0);
	ck_assert_int_eq(store_item_mark_seen(s, a.id, &i1, 100, &e), 1);
	ck_assert_int_eq(store_item_mark_seen(s, a.id, &i2, 200, &e), 1);
	ck_assert_int_eq(store_items_foreach(s, 150, count_item, &n, &e), 0);
	ck_assert_int_eq(n, 1);
	n = 0;
	ck_assert_int_eq(store_items_foreach(s, 0, count_item, &n, &e), 0);
	ck_assert_int_eq(n, 2);
	store_feed_done(&a);
	store_close(s);
}
END_TEST

START_TEST(test_rollback_forgets_items)
{
	struct store		*s = open_store();
	struct store_feed	 a;
	struct fw_error		 e;
	struct feed_item	 item = { .id = "x", .published = FW_TIME_NONE, .updated = FW_TIME_NONE };
	const char		*sinks[] = { "log1" };

	ck_assert_int_eq(store_feed_get(s, "http://a/", &a, &e), 0);
	ck_assert_int_eq(store_begin(s, &e), 0);
	ck_assert_int_eq(store_item_mark_seen(s, a.id, &item, 1, &e), 1);
	ck_assert_int_eq(store_alert_add(s, "id1", "k1", "{}", 1, sinks, 1, &e), 1);
	store_rollback(s);
	/* Neither the seen mark nor the alert survived: both or none. */
	ck_assert_int_eq(store_item_mark_seen(s, a.id, &item, 2, &e), 1);
	ck_assert_int_eq(store_alert_add(s, "id1", "k1", "{}", 1, sinks, 1, &e), 1);
	store_feed_done(&a);
	store_close(s);
}
END_TEST

START_TEST(test_outbox)
{
	struct store		*s = open_store();
	struct store_delivery	*v = NULL;
	struct fw_error		 e;
	const char		*sinks[] = { "log1", "hook" };
	size_t			 n = 0;
	int64_t			 count;

	ck_assert_int_eq(store_alert_add(s, "a1", "link:x", "{\"id\":\"a1\"}", 100, sinks, 2, &e), 1);
	/* The same story again (same dedup key): not queued twice. */
	ck_assert_int_eq(store_alert_add(s, "a1", "link:x", "{}", 101, sinks, 2, &e), 0);
	ck_assert_int_eq(store_alert_add(s, "a2", "link:y", "{\"id\":\"a2\"}", 102, sinks, 1, &e), 1);

	ck_assert_int_eq(store_deliveries_due(s, 1000, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].alert_id, "a1");
	ck_assert_str_eq(v[0].json, "{\"id\":\"a1\"}");
	for (size_t i = 0; i < n; i++)
		store_delivery_done(&v[i]);
	free(v);

	ck_assert_int_eq(store_delivery_update(s, "a1", "log1", DELIVERY_DELIVERED, 1, 100,
	    NULL, 100, &e), 0);
	ck_assert_int_eq(store_delivery_update(s, "a1", "hook", DELIVERY_PENDING, 1, 5000,
	    "HTTP 500", 100, &e), 0);
	ck_assert_int_eq(store_delivery_update(s, "a2", "log1", DELIVERY_FAILED, 8, 100,
	    "gone", 100, &e), 0);
	ck_assert_int_eq(store_deliveries_due(s, 1000, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 0);
	free(v);
	ck_assert_int_eq(store_deliveries_due(s, 5000, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].sink, "hook");
	ck_assert_int_eq(v[0].attempts, 1);
	ck_assert_str_eq(v[0].last_error, "HTTP 500");
	store_delivery_done(&v[0]);
	free(v);

	ck_assert_int_eq(store_deliveries_count(s, DELIVERY_FAILED, &count, &e), 0);
	ck_assert_int_eq(count, 1);
	ck_assert_int_eq(store_deliveries_list(s, true, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].alert_id, "a2");
	store_delivery_done(&v[0]);
	free(v);
	ck_assert_int_eq(store_deliveries_retry(s, NULL, 200, &e), 1);
	ck_assert_int_eq(store_deliveries_count(s, DELIVERY_FAILED, &count, &e), 0);
	ck_assert_int_eq(count, 0);
	ck_assert_int_eq(store_deliveries_count(s, DELIVERY_PENDING, &count, &e), 0);
	ck_assert_int_eq(count, 2);
	store_close(s);
}
END_TEST

START_TEST(test_alert_find_by_prefix)
{
	struct store	*s = open_store();
	struct fw_error	 e;
	const char	*sinks[] = { "log1" };
	char		*id = NULL;

	ck_assert_int_eq(store_alert_add(s, "ab12", "k1", "{}", 1, sinks, 1, &e), 1);
	ck_assert_int_eq(store_alert_add(s, "ab34", "k2", "{}", 1, sinks, 1, &e), 1);
	ck_assert_int_eq(store_alert_find(s, "ab1", &id, &e), 1);
	ck_assert_str_eq(id, "ab12");
	free(id);
	id = NULL;
	ck_assert_int_eq(store_alert_find(s, "ab34", &id, &e), 1);
	ck_assert_str_eq(id, "ab34");
	free(id);
	id = NULL;
	/* Ambiguous and unknown prefixes leave *ret_id alone. */
	ck_assert_int_eq(store_alert_find(s, "ab", &id, &e), 2);
	ck_assert_ptr_null(id);
	ck_assert_int_eq(store_alert_find(s, "cd", &id, &e), 0);
	ck_assert_ptr_null(id);
	store_close(s);
}
END_TEST

START_TEST(test_not_a_database)
{
	struct store	*s = NULL;
	struct fw_error	 e;
	char		*junk = tu_write_file(tmp, "junk.db",
	    "this is certainly not an SQLite database, not at all, no header here....");

	ck_assert_int_lt(store_open(junk, &s, &e), 0);
	ck_assert_ptr_null(s);
	ck_assert(strstr(e.msg, "state file") != NULL);
	free(junk);
}
END_TEST

START_TEST(test_unopenable)
{
	struct store	*s = NULL;
	struct fw_error	 e;

	ck_assert_int_lt(store_open("/nonexistent-dir/x/state.db", &s, &e), 0);
	ck_assert_ptr_null(s);
	ck_assert(strstr(e.msg, "cannot open") != NULL);
}
END_TEST

static int64_t
count_rows(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 n;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* tests/data/state/v1.sql is the dump of a state file the release before
 * developments wrote (`feedwatch once` over three items, two alerts
 * delivered): opened by this one, it is upgraded in place and keeps every
 * row, and what it had seen stays seen. */
START_TEST(test_migrate_v1)
{
	char			*sql = tu_read_file(tu_data_path("state/v1.sql"), NULL);
	struct store		*s;
	struct store_feed	 f;
	struct fw_error		 e;
	struct feed_item	 item = { .id = "w-1", .title = "Seoul, Washington open talks"
	    " on defense cost-sharing", .published = FW_TIME_NONE, .updated = FW_TIME_NONE };
	sqlite3			*db;
	const char		*tables[] = { "feeds", "items", "alerts", "deliveries" };
	int64_t			 before[4];

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	ck_assert_int_eq(count_rows(db, "PRAGMA user_version"), 1);
	for (int i = 0; i < 4; i++) {
		char q[64];

		snprintf(q, sizeof(q), "SELECT count(*) FROM %s", tables[i]);
		before[i] = count_rows(db, q);
		ck_assert_int_gt(before[i], 0);
	}
	sqlite3_close(db);

	s = open_store();
	ck_assert_int_eq(store_feed_get(s, "file:///tmp/v1state/feed.xml", &f, &e), 0);
	ck_assert_int_eq(f.items_seen, 3);
	ck_assert_int_ne(f.last_success, 0);
	/* Seen before the upgrade: not new after it, by id or by link. */
	ck_assert_int_eq(store_item_mark_seen(s, f.id, &item, 100, &e), 0);
	store_feed_done(&f);
	store_close(s);

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(count_rows(db, "PRAGMA user_version"), 4);
	for (int i = 0; i < 4; i++) {
		char q[64];

		snprintf(q, sizeof(q), "SELECT count(*) FROM %s", tables[i]);
		ck_assert_int_eq(count_rows(db, q), before[i]);
	}
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM deliveries WHERE state = 1"), 2);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM developments"), 0);
	sqlite3_close(db);
	/* And a second open finds it current. */
	s = open_store();
	store_close(s);
}
END_TEST

/* A feed that changes its guids: the same canonical link, or the same
 * title within the window when one of them has no link, is not a new item. */
/* tests/data/state/v2.sql is the dump of a state file the release before
 * flood control was kept wrote (`feedwatch once` over three items, two
 * alerts in two developments, delivered): upgraded in place, it keeps
 * every row and gains the flood control table. */
START_TEST(test_migrate_v2)
{
	char			*sql = tu_read_file(tu_data_path("state/v2.sql"), NULL);
	struct store		*s;
	struct store_feed	 f;
	struct store_sink_flood	 fl = { .tokens = 0.5, .refilled = 10, .blocked_until = 20 };
	struct fw_error		 e;
	struct feed_item	 item = { .id = "w-2", .published = FW_TIME_NONE,
	    .updated = FW_TIME_NONE };
	sqlite3			*db;
	const char		*tables[] = { "feeds", "items", "alerts", "deliveries",
	    "developments", "stories", "story_terms", "term_df" };
	int64_t			 before[8];

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	ck_assert_int_eq(count_rows(db, "PRAGMA user_version"), 2);
	for (int i = 0; i < 8; i++) {
		char q[64];

		snprintf(q, sizeof(q), "SELECT count(*) FROM %s", tables[i]);
		before[i] = count_rows(db, q);
		ck_assert_int_gt(before[i], 0);
	}
	sqlite3_close(db);

	s = open_store();
	ck_assert_int_eq(store_feed_get(s, "file:///tmp/v2state/feed.xml", &f, &e), 0);
	ck_assert_int_eq(f.items_seen, 3);
	ck_assert_int_eq(store_item_mark_seen(s, f.id, &item, 100, &e), 0);
	store_feed_done(&f);
	ck_assert_int_eq(store_sink_flood_get(s, "file", &fl, &e), 0);
	ck_assert_int_eq(store_sink_flood_save(s, "file", &fl, &e), 0);
	store_close(s);

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(count_rows(db, "PRAGMA user_version"), 4);
	for (int i = 0; i < 8; i++) {
		char q[64];

		snprintf(q, sizeof(q), "SELECT count(*) FROM %s", tables[i]);
		ck_assert_int_eq(count_rows(db, q), before[i]);
	}
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM deliveries WHERE state = 1"), 2);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM sink_flood"), 1);
	sqlite3_close(db);
	s = open_store();
	memset(&fl, 0, sizeof(fl));
	ck_assert_int_eq(store_sink_flood_get(s, "file", &fl, &e), 1);
	ck_assert(fl.tokens == 0.5);
	ck_assert_int_eq(fl.refilled, 10);
	ck_assert_int_eq(fl.blocked_until, 20);
	store_close(s);
}
END_TEST

/* A round's outcomes are written in one transaction: all of them, or
 * after a failure part-way, none, and every delivery is still due. */
START_TEST(test_deliveries_record_batch)
{
	struct store			*s = open_store();
	struct store_delivery		*v = NULL;
	struct fw_error			 e;
	const char			*sinks[] = { "log1" };
	struct store_delivery_change	 ch[3] = {
		{ "a1", "log1", DELIVERY_DELIVERED, 1, 100, NULL },
		{ "a2", "log1", DELIVERY_PENDING, 1, 5000, "HTTP 500" },
		{ "a3", "log1", DELIVERY_DELIVERED, 1, 100, NULL },
	};
	size_t				 n = 0;
	int64_t				 count;
	sqlite3				*db;

	ck_assert_int_eq(store_alert_add(s, "a1", "k1", "{}", 100, sinks, 1, &e), 1);
	ck_assert_int_eq(store_alert_add(s, "a2", "k2", "{}", 100, sinks, 1, &e), 1);
	ck_assert_int_eq(store_alert_add(s, "a3", "k3", "{}", 100, sinks, 1, &e), 1);

	/* The third update fails (a trigger stands for a full disk): the
	 * first two are not kept either. */
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TRIGGER refuse BEFORE UPDATE ON deliveries"
	    " WHEN NEW.alert_id = 'a3' BEGIN SELECT RAISE(ABORT, 'disk full'); END",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_lt(store_deliveries_record(s, ch, 3, 100, &e), 0);
	ck_assert(strstr(e.msg, "disk full") != NULL);
	ck_assert_int_eq(store_deliveries_count(s, DELIVERY_PENDING, &count, &e), 0);
	ck_assert_int_eq(count, 3);
	ck_assert_int_eq(store_deliveries_due(s, 100, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(v[i].attempts, 0);
		store_delivery_done(&v[i]);
	}
	free(v);
	/* The store takes the next transaction as if nothing happened. */
	ck_assert_int_eq(store_deliveries_record(s, ch, 2, 100, &e), 0);
	ck_assert_int_eq(store_deliveries_count(s, DELIVERY_DELIVERED, &count, &e), 0);
	ck_assert_int_eq(count, 1);
	ck_assert_int_eq(store_deliveries_due(s, 100, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].alert_id, "a3");
	store_delivery_done(&v[0]);
	free(v);
	ck_assert_int_eq(store_deliveries_due(s, 5000, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[1].alert_id, "a2");
	ck_assert_int_eq(v[1].attempts, 1);
	ck_assert_str_eq(v[1].last_error, "HTTP 500");
	for (size_t i = 0; i < n; i++)
		store_delivery_done(&v[i]);
	free(v);
	ck_assert_int_eq(store_deliveries_record(s, ch, 0, 100, &e), 0);
	store_close(s);
}
END_TEST

START_TEST(test_guid_churn)
{
	struct store		*s = open_store();
	struct store_feed	 a;
	struct fw_error		 e;
	struct feed_item	 i1 = { .id = "guid-1", .title = "Title one", .link = "x",
	    .published = FW_TIME_NONE, .updated = FW_TIME_NONE };
	struct feed_item	 i2 = i1, i3 = i1, i4 = i1;

	i2.id = "guid-2";	/* new guid, same canonical link */
	i2.title = "Title one, edited";
	i3.id = "guid-3";	/* new guid, no link, same title */
	i3.link = NULL;
	i4.id = "guid-4";	/* new guid, link and title */
	i4.title = "Title four";
	ck_assert_int_eq(store_feed_get(s, "http://a.example/feed", &a, &e), 0);
	ck_assert_int_eq(store_item_mark_seen_canon(s, a.id, &i1, "https://e.org/1", 0, 100, &e), 1);
	ck_assert_int_eq(store_item_mark_seen_canon(s, a.id, &i2, "https://e.org/1", 0, 200, &e), 0);
	ck_assert_int_eq(store_item_mark_seen_canon(s, a.id, &i3, NULL, 0, 300, &e), 0);
	ck_assert_int_eq(store_item_mark_seen_canon(s, a.id, &i3, NULL, 0, 300, &e), 0);
	/* the same title long ago is another item */
	i3.id = "guid-5";
	i3.link = NULL;
	ck_assert_int_eq(store_item_mark_seen_canon(s, a.id, &i3, NULL, 1000, 1100, &e), 1);
	ck_assert_int_eq(store_item_mark_seen_canon(s, a.id, &i4, "https://e.org/4", 0, 400, &e), 1);
	/* the same title with another link is another article ("Live updates") */
	i4.id = "guid-6";
	ck_assert_int_eq(store_item_mark_seen_canon(s, a.id, &i4, "https://e.org/6", 0, 450, &e), 1);
	store_feed_done(&a);
	store_close(s);
}
END_TEST

START_TEST(test_newer_schema_refused)
{
	struct store	*s = NULL;
	struct fw_error	 e;
	sqlite3		*db;

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_lt(store_open(db_path, &s, &e), 0);
	ck_assert(strstr(e.msg, "newer") != NULL);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_schema_and_wal);
	tcase_add_test(tc, test_feed_state_round_trip);
	tcase_add_test(tc, test_items_seen_once_per_feed);
	tcase_add_test(tc, test_items_foreach_since);
	tcase_add_test(tc, test_rollback_forgets_items);
	tcase_add_test(tc, test_migrate_v1);
	tcase_add_test(tc, test_migrate_v2);
	tcase_add_test(tc, test_guid_churn);
	suite_add_tcase(s, tc);

	tc = tcase_create("outbox");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_outbox);
	tcase_add_test(tc, test_deliveries_record_batch);
	tcase_add_test(tc, test_alert_find_by_prefix);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_not_a_database);
	tcase_add_test(tc, test_unopenable);
	tcase_add_test(tc, test_newer_schema_refused);
	suite_add_tcase(s, tc);
	return s;
}

START_TEST(test_pg_schema)
{
	struct store *s = open_store();

	ck_assert(store_is_shared(s));
	store_close(s);
	ck_assert_int_eq(pg_query_int("SELECT version FROM schema_version"), 4);
	/* A second instance finds it current and changes nothing. */
	s = open_store();
	store_close(s);
	ck_assert_int_eq(pg_query_int("SELECT count(*) FROM schema_version"), 1);
}
END_TEST

START_TEST(test_pg_newer_schema_refused)
{
	struct store	*s = open_store();
	struct db	*db = NULL;
	struct fw_error	 e;

	store_close(s);
	s = NULL;
	ck_assert_int_eq(db_open(db_path, &db, &e), 0);
	ck_assert_int_eq(db_exec(db, "UPDATE schema_version SET version = 99", &e), 0);
	db_close(db);
	ck_assert_int_lt(store_open(db_path, &s, &e), 0);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(e.msg, "newer") != NULL, "%s", e.msg);
}
END_TEST

/* A server that is not there: a clear error that names the database but
 * never its password. */
START_TEST(test_pg_unreachable)
{
	struct store	*s = NULL;
	struct fw_error	 e;
	char		*target;

	ck_assert_int_ge(asprintf(&target, "postgresql://fw:s3cret@/feedwatch?host=%s/none",
	    tmp), 0);
	ck_assert_int_lt(store_open(target, &s, &e), 0);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(e.msg, "cannot connect to the database") != NULL, "%s", e.msg);
	ck_assert_msg(strstr(e.file, "postgresql://fw@") != NULL, "%s", e.file);
	ck_assert(strstr(e.file, "s3cret") == NULL && strstr(e.msg, "s3cret") == NULL);
	free(target);
}
END_TEST

/* Two instances, one database: the alert key is unique across them, and
 * the feed row is one row. */
START_TEST(test_pg_two_instances)
{
	struct store		*a = open_store(), *b = open_store();
	struct store_feed	 fa, fb;
	struct fw_error		 e;
	const char		*sinks[] = { "log1" };

	ck_assert_int_eq(store_feed_get(a, "http://a/", &fa, &e), 0);
	ck_assert_int_eq(store_feed_get(b, "http://a/", &fb, &e), 0);
	ck_assert_int_eq(fa.id, fb.id);
	ck_assert_int_eq(store_begin(a, &e), 0);
	ck_assert_int_eq(store_alert_add(a, "id1", "link:x", "{}", 1, sinks, 1, &e), 1);
	ck_assert_int_eq(store_commit(a, &e), 0);
	ck_assert_int_eq(store_begin(b, &e), 0);
	ck_assert_int_eq(store_alert_add(b, "id2", "link:x", "{}", 1, sinks, 1, &e), 0);
	ck_assert_int_eq(store_commit(b, &e), 0);
	ck_assert_int_eq(pg_query_int("SELECT count(*) FROM deliveries"), 1);
	store_feed_done(&fa);
	store_feed_done(&fb);
	store_close(a);
	store_close(b);
}
END_TEST

/* Ids and links longer than a btree entry may be: unique all the same. */
START_TEST(test_pg_long_keys)
{
	struct store		*s = open_store();
	struct store_feed	 a;
	struct fw_error		 e;
	char			*id = malloc(2049), *link = malloc(8193);
	struct feed_item	 item = { .published = FW_TIME_NONE, .updated = FW_TIME_NONE };
	const char		*sinks[] = { "log1" };

	/* Varied, so that compression does not make them short. */
	for (int i = 0; i < 2048; i++)
		id[i] = (char)('a' + (i * 7919 % 26));
	id[2048] = '\0';
	for (int i = 0; i < 8192; i++)
		link[i] = (char)('A' + (i * 104729 % 26));
	link[8192] = '\0';
	item.id = id;
	item.link = link;
	ck_assert_int_eq(store_feed_get(s, link, &a, &e), 0);
	ck_assert_msg(store_item_mark_seen_canon(s, a.id, &item, link, 0, 10, &e) == 1, "%s", e.msg);
	ck_assert_int_eq(store_item_mark_seen_canon(s, a.id, &item, link, 0, 11, &e), 0);
	ck_assert_msg(store_alert_add(s, "a1", link, "{}", 1, sinks, 1, &e) == 1, "%s", e.msg);
	ck_assert_int_eq(store_alert_add(s, "a2", link, "{}", 1, sinks, 1, &e), 0);
	store_feed_done(&a);
	store_close(s);
	free(id);
	free(link);
}
END_TEST

static void
feeds_free(struct store_feed *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_feed_done(&v[i]);
	free(v);
}

/* A due feed is leased by one instance at a time; polled (saved) it is
 * free again, and a lease never given back is anyone's once it ends. */
START_TEST(test_pg_feed_leases)
{
	struct store		*a = open_store(), *b = open_store();
	struct store_feed	 f[3], *v = NULL;
	struct fw_error		 e;
	int64_t			 ids[3], next;
	size_t			 n = 0;
	const char		*urls[3] = { "http://a/", "http://b/", "http://c/" };

	ck_assert_str_ne(store_owner(a), store_owner(b));
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(store_feed_get(a, urls[i], &f[i], &e), 0);
		ids[i] = f[i].id;
	}
	f[2].next_poll = 5000;	/* not due before 5000 */
	ck_assert_int_eq(store_feed_save(a, &f[2], &e), 0);
	/* a takes one of the two due feeds, b the other, then none is left. */
	ck_assert_msg(store_feeds_lease(a, ids, 3, 1000, 1100, false, 1, &v, &n, &e) == 0,
	    "%s", e.msg);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].id, ids[0]);
	feeds_free(v, n);
	ck_assert_int_eq(store_feeds_lease(b, ids, 3, 1000, 1100, false, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].id, ids[1]);
	feeds_free(v, n);
	/* a's is not b's to take; b's own it may take again. */
	ck_assert_int_eq(store_feeds_lease(b, ids, 3, 1000, 1100, false, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].id, ids[1]);
	feeds_free(v, n);
	ck_assert_int_eq(store_feeds_lease(a, ids, 3, 1000, 1100, false, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].id, ids[0]);
	feeds_free(v, n);
	/* Every feed, for `once`: still not those another instance holds. */
	ck_assert_int_eq(store_feeds_lease(b, ids, 3, 1000, 1100, true, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 2);
	feeds_free(v, n);
	/* b polled its feed: it is free, and due again at its next poll. */
	f[1].next_poll = 1050;
	ck_assert_int_eq(store_feed_save(b, &f[1], &e), 0);
	ck_assert_int_eq(store_feeds_next_due(a, ids, 3, &next, &e), 0);
	ck_assert_int_eq(next, 1050);
	/* a dies holding feed 0: at 1100 its lease is over. */
	ck_assert_int_eq(store_feeds_lease(b, ids, 3, 1099, 1200, false, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].id, ids[1]);
	feeds_free(v, n);
	ck_assert_int_eq(store_feeds_lease(b, ids, 3, 1100, 1200, false, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(v[0].id, ids[0]);	/* the longest due first */
	ck_assert_int_eq(v[1].id, ids[1]);
	feeds_free(v, n);
	for (int i = 0; i < 3; i++)
		store_feed_done(&f[i]);
	store_close(a);
	store_close(b);
}
END_TEST

static void
deliveries_free(struct store_delivery *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_delivery_done(&v[i]);
	free(v);
}

/* A due delivery is leased by one instance: the other does not see it
 * until the outcome is recorded or the lease ends. */
START_TEST(test_pg_delivery_leases)
{
	struct store		*a = open_store(), *b = open_store();
	struct store_delivery	*v = NULL;
	struct fw_error		 e;
	const char		*sinks[] = { "hook" };
	size_t			 n = 0;

	store_lease_set(a, 60);
	store_lease_set(b, 60);
	ck_assert_int_eq(store_alert_add(a, "a1", "k1", "{}", 100, sinks, 1, &e), 1);
	ck_assert_int_eq(store_alert_add(a, "a2", "k2", "{}", 100, sinks, 1, &e), 1);
	ck_assert_msg(store_deliveries_due_page(a, 1000, 0, 1, &v, &n, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].alert_id, "a1");
	deliveries_free(v, n);
	ck_assert_int_eq(store_deliveries_due_page(b, 1000, 0, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].alert_id, "a2");
	deliveries_free(v, n);
	/* Only looking: a2 is b's until 1060, a1 a's. */
	ck_assert_int_eq(store_deliveries_due(a, INT64_MAX, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].alert_id, "a1");
	ck_assert_int_eq(v[0].next_attempt, 100);
	ck_assert_str_eq(v[1].alert_id, "a2");
	ck_assert_int_eq(v[1].next_attempt, 1060);
	deliveries_free(v, n);
	/* b delivers a2; a1's lease ends at 1060 and b takes it over. */
	ck_assert_int_eq(store_delivery_update(b, "a2", "hook", DELIVERY_DELIVERED, 1, 1000,
	    NULL, 1000, &e), 0);
	ck_assert_int_eq(store_deliveries_due_page(b, 1059, 0, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 0);
	free(v);
	ck_assert_int_eq(store_deliveries_due_page(b, 1060, 0, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].alert_id, "a1");
	deliveries_free(v, n);
	store_close(a);
	store_close(b);
}
END_TEST

/* An instance that closes its state gives its leases back: the next run
 * (another owner) need not wait for them to end. */
START_TEST(test_pg_leases_given_back_at_close)
{
	struct store		*a = open_store(), *b = open_store();
	struct store_feed	 f, *v = NULL;
	struct store_delivery	*d = NULL;
	struct fw_error		 e;
	const char		*sinks[] = { "hook" };
	size_t			 n = 0;

	ck_assert_int_eq(store_feed_get(a, "http://a/", &f, &e), 0);
	ck_assert_int_eq(store_feeds_lease(a, &f.id, 1, 1000, 1300, false, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	feeds_free(v, n);
	store_lease_set(a, 300);
	ck_assert_int_eq(store_alert_add(a, "a1", "k1", "{}", 100, sinks, 1, &e), 1);
	ck_assert_int_eq(store_deliveries_due_page(a, 1000, 0, 10, &d, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	deliveries_free(d, n);
	/* Held by a, which is still open. */
	ck_assert_int_eq(store_feeds_lease(b, &f.id, 1, 1000, 1300, false, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 0);
	free(v);
	ck_assert_int_eq(store_deliveries_due_page(b, 1000, 0, 10, &d, &n, &e), 0);
	ck_assert_uint_eq(n, 0);
	free(d);
	store_close(a);
	ck_assert_int_eq(store_feeds_lease(b, &f.id, 1, 1000, 1300, false, 10, &v, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	feeds_free(v, n);
	ck_assert_int_eq(store_deliveries_due_page(b, 1000, 0, 10, &d, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(d[0].alert_id, "a1");
	deliveries_free(d, n);
	store_feed_done(&f);
	store_close(b);
}
END_TEST

/* A sink's flood control outlives a restart on PostgreSQL too. */
START_TEST(test_pg_flood_state)
{
	struct store		*s = open_store();
	struct store_sink_flood	 f = { .tokens = 2.5, .refilled = 1000, .blocked_until = 1200 };
	struct store_sink_flood	 g = { 0 };
	struct fw_error		 e;

	ck_assert_int_eq(store_sink_flood_get(s, "hook", &g, &e), 0);
	ck_assert_int_eq(store_sink_flood_save(s, "hook", &f, &e), 0);
	f.tokens = 0.25;
	ck_assert_int_eq(store_sink_flood_save(s, "hook", &f, &e), 0);
	store_close(s);
	s = open_store();
	ck_assert_int_eq(store_sink_flood_get(s, "hook", &g, &e), 1);
	ck_assert(g.tokens == 0.25);
	ck_assert_int_eq(g.refilled, 1000);
	ck_assert_int_eq(g.blocked_until, 1200);
	store_close(s);
}
END_TEST

static Suite *
store_pg_suite(void)
{
	Suite *s = suite_create("store on PostgreSQL");
	TCase *tc = tcase_create("state");

	tcase_add_checked_fixture(tc, setup_pg, teardown);
	tcase_add_test(tc, test_feed_state_round_trip);
	tcase_add_test(tc, test_items_seen_once_per_feed);
	tcase_add_test(tc, test_items_foreach_since);
	tcase_add_test(tc, test_rollback_forgets_items);
	tcase_add_test(tc, test_guid_churn);
	tcase_add_test(tc, test_outbox);
	tcase_add_test(tc, test_alert_find_by_prefix);
	tcase_add_test(tc, test_pg_flood_state);
	tcase_add_test(tc, test_pg_feed_leases);
	tcase_add_test(tc, test_pg_delivery_leases);
	tcase_add_test(tc, test_pg_leases_given_back_at_close);
	tcase_add_test(tc, test_pg_schema);
	tcase_add_test(tc, test_pg_newer_schema_refused);
	tcase_add_test(tc, test_pg_unreachable);
	tcase_add_test(tc, test_pg_two_instances);
	tcase_add_test(tc, test_pg_long_keys);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(getenv("FW_TEST_PG") != NULL ? store_pg_suite()
	    : store_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
