/* store_copy.c — a whole state copied into another: a SQLite file into a
 * PostgreSQL database and back (`feedwatch migrate-state`). Table by
 * table, in an order the foreign keys accept, every row as it is (ids
 * too, so the references hold), into an empty destination in one
 * transaction: a copy that fails leaves nothing behind. Leases are not
 * copied: they belong to the instances of the source. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_internal.h"

/* Each table with its columns and their kinds: i integer, t text,
 * r real. The order of the rows is the order they were made. */
static const struct copy_table {
	const char	*name;
	const char	*columns;
	const char	*kinds;
	const char	*order;
} copy_tables[] = {
	{ "feeds", "id, url, etag, last_modified, body_hash, last_poll, last_success,"
	  " next_poll, last_status, last_error, consecutive_errors, items_seen, disabled,"
	  " redirect_url, redirect_count, \"interval\", health_alerted, newest_item,"
	  " publish_gap", "ittttiiiitiiitiiiii", "id" },
	{ "items", "feed_id, item_id, title, link, summary, content, author, published,"
	  " updated, first_seen, canon", "ittttttiiit", "feed_id, first_seen, item_id" },
	{ "alerts", "id, dedup_key, created, json", "ttit", "rowid" },
	{ "deliveries", "alert_id, sink, state, attempts, next_attempt, last_error, updated,"
	  " digest_id", "ttiiitit", "alert_id, sink" },
	{ "developments", "id, key, first_t, last_t, first_seen, last_seen, topics, figures,"
	  " sources, alert_id", "itiiiitttt", "id" },
	{ "stories", "id, feed_id, item_id, canon, t, first_seen, development, topics,"
	  " features, explain, indexed", "iittiiittti", "id" },
	{ "story_terms", "term, t, story", "tii", "term, t, story" },
	{ "term_df", "term, df", "ti", "term" },
	{ "sink_flood", "sink, tokens, refilled, blocked_until", "trii", "sink" },
};

#define N_COPY_TABLES	(sizeof(copy_tables) / sizeof(copy_tables[0]))

const char *
store_copy_table_name(size_t i)
{
	return i < N_COPY_TABLES ? copy_tables[i].name : NULL;
}

static int
count_rows(struct store *s, const char *table, int64_t *ret, struct fw_error *reterr)
{
	struct db_stmt	*st;
	char		 sql[96];
	int		 r;

	(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	if ((r = db_prepare(s->db, sql, &st, reterr)) < 0)
		return r;
	r = db_step(st, reterr, "cannot count rows");
	*ret = r == 1 ? db_column_int64(st, 0) : 0;
	db_stmt_free(st);
	return r < 0 ? r : 0;
}

static int
copy_table(struct store *from, struct store *to, const struct copy_table *t,
    struct fw_error *reterr)
{
	struct db_stmt	*sel = NULL, *ins = NULL;
	char		*sql = NULL;
	size_t		 n = strlen(t->kinds), n_columns = 1;
	int		 r;

	for (const char *c = t->columns; *c != '\0'; c++)
		n_columns += *c == ',';
	if (n_columns != n) {
		fw_error_set(reterr, NULL, 0, 0, "table %s: %zu columns, %zu kinds", t->name,
		    n_columns, n);
		return -EINVAL;
	}

	if (asprintf(&sql, "SELECT %s FROM %s ORDER BY %s", t->columns, t->name, t->order) < 0)
		return -ENOMEM;
	r = db_prepare(from->db, sql, &sel, reterr);
	free(sql);
	sql = NULL;
	if (r < 0)
		return r;
	{
		char params[64 * 4] = "";

		for (size_t i = 0; i < n; i++)
			(void)snprintf(params + strlen(params), sizeof(params) - strlen(params),
			    "%s?%zu", i > 0 ? ", " : "", i + 1);
		if (asprintf(&sql, "INSERT INTO %s(%s) VALUES (%s)", t->name, t->columns,
		    params) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	if ((r = db_prepare(to->db, sql, &ins, reterr)) < 0)
		goto out;
	while ((r = db_step(sel, reterr, "cannot read the source")) == 1) {
		for (size_t i = 0; i < n; i++) {
			int col = (int)i;

			if (db_column_null(sel, col))
				db_bind_null(ins, col + 1);
			else if (t->kinds[i] == 'i')
				db_bind_int64(ins, col + 1, db_column_int64(sel, col));
			else if (t->kinds[i] == 'r')
				db_bind_double(ins, col + 1, db_column_double(sel, col));
			else
				db_bind_text(ins, col + 1, db_column_text(sel, col));
		}
		if ((r = store_step_done(ins, reterr, "cannot write the destination")) < 0)
			break;
	}
out:
	free(sql);
	db_stmt_free(sel);
	db_stmt_free(ins);
	return r < 0 ? r : 0;
}

int
store_copy(struct store *from, struct store *to, int64_t *ret_from, int64_t *ret_to,
    struct fw_error *reterr)
{
	int64_t	n;
	int	r;

	for (size_t i = 0; i < N_COPY_TABLES; i++) {
		if ((r = count_rows(to, copy_tables[i].name, &n, reterr)) < 0)
			return r;
		if (n > 0) {
			fw_error_set(reterr, db_label(to->db), 0, 0, "the destination is not empty:"
			    " table %s holds %lld rows", copy_tables[i].name, (long long)n);
			return -EEXIST;
		}
	}
	if ((r = db_begin(to->db, reterr)) < 0)
		return r;
	for (size_t i = 0; i < N_COPY_TABLES && r == 0; i++)
		r = copy_table(from, to, &copy_tables[i], reterr);
	/* Ids were copied as they were: new rows continue after them. */
	if (r == 0 && db_kind(to->db) == DB_POSTGRESQL)
		r = db_exec(to->db,
		    "SELECT setval(pg_get_serial_sequence('feeds', 'id'),"
		    " (SELECT COALESCE(max(id), 0) + 1 FROM feeds), false);"
		    "SELECT setval(pg_get_serial_sequence('developments', 'id'),"
		    " (SELECT COALESCE(max(id), 0) + 1 FROM developments), false);"
		    "SELECT setval(pg_get_serial_sequence('stories', 'id'),"
		    " (SELECT COALESCE(max(id), 0) + 1 FROM stories), false)", reterr);
	if (r < 0) {
		db_rollback(to->db);
		return r;
	}
	if ((r = db_commit(to->db, reterr)) < 0)
		return r;
	for (size_t i = 0; i < N_COPY_TABLES; i++) {
		if ((r = count_rows(from, copy_tables[i].name, &ret_from[i], reterr)) < 0 ||
		    (r = count_rows(to, copy_tables[i].name, &ret_to[i], reterr)) < 0)
			return r;
	}
	return 0;
}
