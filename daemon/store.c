/* store.c — the state: feeds, seen items, the alert outbox and per-sink
 * delivery state. Everything that must survive a crash goes through here,
 * and the caller groups writes that belong together in one transaction
 * (an item marked seen and its alert queued commit together or not at all).
 * The SQL is written once for SQLite and PostgreSQL (db.h); only the
 * schemas differ. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store_internal.h"

#define STORE_SCHEMA_VERSION	4
#define STORE_DEFAULT_LEASE	300	/* seconds; conf's lease: */

enum stmt_id {
	STMT_ITEM_INSERT,
	STMT_ITEM_EXISTS,
	STMT_ITEM_SAME_CANON,
	STMT_ITEM_SAME_TITLE,
	STMT_FEED_GET,
	STMT_FEED_INSERT,
	STMT_FEED_SAVE,
	STMT_ALERT_INSERT,
	STMT_DELIVERY_INSERT,
	STMT_DELIVERY_UPDATE,
	_STMT_MAX,
};

_Static_assert(_STMT_MAX <= 16, "struct store has room for 16 statements");

#define FEED_COLUMNS \
	"SELECT id, url, etag, last_modified, body_hash, last_poll, last_success," \
	" next_poll, last_status, last_error, consecutive_errors, items_seen," \
	" disabled, redirect_url, redirect_count, \"interval\", health_alerted," \
	" newest_item, publish_gap FROM feeds"

static const char *const stmt_sql[_STMT_MAX] = {
	[STMT_ITEM_INSERT] =
	    "INSERT INTO items(feed_id, item_id, title, link, summary,"
	    " content, author, published, updated, first_seen, canon)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
	    " ON CONFLICT DO NOTHING",
	[STMT_ITEM_EXISTS] =
	    "SELECT 1 FROM items WHERE feed_id = ?1 AND item_id = ?2",
	[STMT_ITEM_SAME_CANON] =
	    "SELECT 1 FROM items WHERE feed_id = ?1 AND canon = ?2 LIMIT 1",
	[STMT_ITEM_SAME_TITLE] =
	    "SELECT 1 FROM items WHERE feed_id = ?1 AND title = ?2 AND first_seen >= ?3"
	    " AND (canon IS NULL OR ?4 IS NULL) LIMIT 1",
	[STMT_FEED_GET] =
	    FEED_COLUMNS " WHERE url = ?1",
	[STMT_FEED_INSERT] =
	    "INSERT INTO feeds(url) VALUES (?1) ON CONFLICT DO NOTHING",
	[STMT_FEED_SAVE] =
	    "UPDATE feeds SET etag = ?2, last_modified = ?3, body_hash = ?4,"
	    " last_poll = ?5, last_success = ?6, next_poll = ?7, last_status = ?8,"
	    " last_error = ?9, consecutive_errors = ?10, items_seen = ?11,"
	    " disabled = ?12, redirect_url = ?13, redirect_count = ?14,"
	    " \"interval\" = ?15, health_alerted = ?16, newest_item = ?17, publish_gap = ?18"
	    " WHERE id = ?1",
	[STMT_ALERT_INSERT] =
	    "INSERT INTO alerts(id, dedup_key, created, json)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
	[STMT_DELIVERY_INSERT] =
	    "INSERT INTO deliveries(alert_id, sink, state, attempts,"
	    " next_attempt) VALUES (?1, ?2, 0, 0, ?3) ON CONFLICT DO NOTHING",
	[STMT_DELIVERY_UPDATE] =
	    "UPDATE deliveries SET state = ?3, attempts = ?4, next_attempt = ?5,"
	    " last_error = ?6, updated = ?7 WHERE alert_id = ?1 AND sink = ?2",
};

/* ---- SQLite schema, PRAGMA user_version ---------------------------------- */

/* Version 1. Times are Unix seconds. */
static const char schema_v1[] =
	"CREATE TABLE feeds ("
	"  id INTEGER PRIMARY KEY,"
	"  url TEXT NOT NULL UNIQUE,"
	"  etag TEXT, last_modified TEXT, body_hash TEXT,"
	"  last_poll INTEGER NOT NULL DEFAULT 0,"
	"  last_success INTEGER NOT NULL DEFAULT 0,"
	"  next_poll INTEGER NOT NULL DEFAULT 0,"
	"  last_status INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  consecutive_errors INTEGER NOT NULL DEFAULT 0,"
	"  items_seen INTEGER NOT NULL DEFAULT 0,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  redirect_url TEXT,"
	"  redirect_count INTEGER NOT NULL DEFAULT 0,"
	"  \"interval\" INTEGER NOT NULL DEFAULT 0,"
	"  health_alerted INTEGER NOT NULL DEFAULT 0,"
	"  newest_item INTEGER NOT NULL DEFAULT 0,"
	"  publish_gap INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE items ("
	"  feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
	"  item_id TEXT NOT NULL,"
	"  title TEXT, link TEXT, summary TEXT, content TEXT, author TEXT,"
	"  published INTEGER, updated INTEGER,"
	"  first_seen INTEGER NOT NULL,"
	"  PRIMARY KEY (feed_id, item_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX items_first_seen ON items(first_seen);"
	"CREATE TABLE alerts ("
	"  id TEXT PRIMARY KEY,"
	"  dedup_key TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL,"
	"  json TEXT NOT NULL"
	");"
	"CREATE INDEX alerts_created ON alerts(created);"
	"CREATE TABLE deliveries ("
	"  alert_id TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,"
	"  sink TEXT NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL,"
	"  next_attempt INTEGER NOT NULL,"
	"  last_error TEXT,"
	"  updated INTEGER,"
	"  digest_id TEXT,"
	"  PRIMARY KEY (alert_id, sink)"
	");"
	"CREATE INDEX deliveries_due ON deliveries(state, next_attempt);"
	"CREATE INDEX deliveries_sink ON deliveries(sink, state, updated);";

/* Version 2: canonical links (guid churn), and developments: each stored
 * item that matched a topic (a story) with its development, the inverted
 * index of its terms by time (so that finding its development reads only
 * the window) and the document frequencies the weights come from. Every
 * statement only adds: a version 1 file keeps all it had. */
static const char schema_v2[] =
	"ALTER TABLE items ADD COLUMN canon TEXT;"
	"CREATE INDEX items_canon ON items(feed_id, canon);"
	"CREATE INDEX items_title ON items(feed_id, title, first_seen);"
	"CREATE TABLE developments ("
	"  id INTEGER PRIMARY KEY,"
	"  key TEXT NOT NULL UNIQUE,"
	"  first_t INTEGER NOT NULL,"
	"  last_t INTEGER NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  topics TEXT NOT NULL DEFAULT '[]',"
	"  figures TEXT NOT NULL DEFAULT '[]',"
	"  sources TEXT NOT NULL DEFAULT '[]',"
	"  alert_id TEXT"
	");"
	"CREATE INDEX developments_last_seen ON developments(last_seen);"
	"CREATE TABLE stories ("
	"  id INTEGER PRIMARY KEY,"
	"  feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
	"  item_id TEXT NOT NULL,"
	"  canon TEXT,"
	"  t INTEGER NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  development INTEGER NOT NULL REFERENCES developments(id),"
	"  topics TEXT NOT NULL,"
	"  features TEXT NOT NULL,"
	"  explain TEXT,"
	"  indexed INTEGER NOT NULL DEFAULT 1,"
	"  UNIQUE (feed_id, item_id)"
	");"
	"CREATE INDEX stories_indexed ON stories(first_seen) WHERE indexed = 1;"
	"CREATE INDEX stories_development ON stories(development, t);"
	"CREATE INDEX stories_canon ON stories(canon);"
	"CREATE TABLE story_terms ("
	"  term TEXT NOT NULL,"
	"  t INTEGER NOT NULL,"
	"  story INTEGER NOT NULL,"
	"  PRIMARY KEY (term, t, story)"
	") WITHOUT ROWID;"
	"CREATE TABLE term_df ("
	"  term TEXT PRIMARY KEY,"
	"  df INTEGER NOT NULL"
	") WITHOUT ROWID;";


/* Version 3: each sink's flood control (its rate limit's tokens and a
 * receiver's Retry-After pause) outlives a restart. The hourly budget
 * needs no table: it is counted from the deliveries. */
static const char schema_v3[] =
	"CREATE TABLE sink_flood ("
	"  sink TEXT PRIMARY KEY,"
	"  tokens REAL NOT NULL,"
	"  refilled INTEGER NOT NULL,"
	"  blocked_until INTEGER NOT NULL"
	");";

/* Version 4: the outbox's due order (next attempt, then the alert's
 * created and rowid) read from an index alone. Choosing each page of a
 * burst's delivery read every due alert's row, one 4 KB page per alert,
 * for its created column: through pread, most of the delivery's time.
 * The planner prefers the unique index on id, so the query names it
 * (INDEXED BY). PostgreSQL sorts in memory and needs nothing. */
static const char schema_v4[] =
	"CREATE INDEX alerts_due_order ON alerts(id, created);";

/* ---- PostgreSQL schema, table schema_version ------------------------------
 * The same tables as the SQLite file's, version 2 created at once (there
 * never were PostgreSQL states of version 1), later versions added as on
 * SQLite. The differences, and why:
 * 64-bit integers throughout; ids from identity columns; text in the "C"
 * collation, so that ORDER BY sorts bytes as SQLite does; the leases of
 * feeds and deliveries (only instances that share a state need them);
 * alerts keep
 * their insertion order in a column named rowid, so the outbox's ORDER BY
 * reads the same on both; and a btree entry holds at most about 2.7 kB,
 * less than a link or an item id may be, so long text is made unique
 * through its md5 and looked up through hash indexes. */
#define PG_TEXT		"TEXT COLLATE \"C\""
#define PG_INT		"BIGINT NOT NULL DEFAULT 0"

static const char pg_schema_v2[] =
	"CREATE TABLE feeds ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  url " PG_TEXT " NOT NULL,"
	"  etag " PG_TEXT ", last_modified " PG_TEXT ", body_hash " PG_TEXT ","
	"  last_poll " PG_INT ", last_success " PG_INT ", next_poll " PG_INT ","
	"  last_status " PG_INT ", last_error " PG_TEXT ","
	"  consecutive_errors " PG_INT ", items_seen " PG_INT ", disabled " PG_INT ","
	"  redirect_url " PG_TEXT ", redirect_count " PG_INT ", \"interval\" " PG_INT ","
	"  health_alerted " PG_INT ", newest_item " PG_INT ", publish_gap " PG_INT ","
	"  lease_owner " PG_TEXT ", lease_until " PG_INT
	");"
	"CREATE UNIQUE INDEX feeds_url_unique ON feeds(md5(url));"
	"CREATE INDEX feeds_due ON feeds(next_poll);"
	"CREATE INDEX feeds_url ON feeds USING hash (url);"
	"CREATE TABLE items ("
	"  feed_id BIGINT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
	"  item_id " PG_TEXT " NOT NULL,"
	"  title " PG_TEXT ", link " PG_TEXT ", summary " PG_TEXT ", content " PG_TEXT ","
	"  author " PG_TEXT ", published BIGINT, updated BIGINT,"
	"  first_seen BIGINT NOT NULL, canon " PG_TEXT
	");"
	"CREATE UNIQUE INDEX items_key ON items(feed_id, md5(item_id));"
	"CREATE INDEX items_item_id ON items USING hash (item_id);"
	"CREATE INDEX items_first_seen ON items(first_seen);"
	"CREATE INDEX items_canon ON items USING hash (canon);"
	"CREATE INDEX items_title ON items USING hash (title);"
	"CREATE TABLE alerts ("
	"  id " PG_TEXT " PRIMARY KEY,"
	"  dedup_key " PG_TEXT " NOT NULL,"
	"  created BIGINT NOT NULL,"
	"  json " PG_TEXT " NOT NULL,"
	"  rowid BIGINT GENERATED ALWAYS AS IDENTITY"
	");"
	"CREATE UNIQUE INDEX alerts_dedup_key ON alerts(md5(dedup_key));"
	"CREATE INDEX alerts_created ON alerts(created);"
	"CREATE TABLE deliveries ("
	"  alert_id " PG_TEXT " NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,"
	"  sink " PG_TEXT " NOT NULL,"
	"  state BIGINT NOT NULL,"
	"  attempts BIGINT NOT NULL,"
	"  next_attempt BIGINT NOT NULL,"
	"  last_error " PG_TEXT ","
	"  updated BIGINT,"
	"  digest_id " PG_TEXT ","
	"  lease_owner " PG_TEXT ", lease_until " PG_INT ","
	"  PRIMARY KEY (alert_id, sink)"
	");"
	"CREATE INDEX deliveries_due ON deliveries(state, next_attempt);"
	"CREATE INDEX deliveries_sink ON deliveries(sink, state, updated);"
	"CREATE TABLE developments ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  key " PG_TEXT " NOT NULL UNIQUE,"
	"  first_t BIGINT NOT NULL, last_t BIGINT NOT NULL,"
	"  first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL,"
	"  topics " PG_TEXT " NOT NULL DEFAULT '[]',"
	"  figures " PG_TEXT " NOT NULL DEFAULT '[]',"
	"  sources " PG_TEXT " NOT NULL DEFAULT '[]',"
	"  alert_id " PG_TEXT
	");"
	"CREATE INDEX developments_last_seen ON developments(last_seen);"
	"CREATE TABLE stories ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  feed_id BIGINT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
	"  item_id " PG_TEXT " NOT NULL,"
	"  canon " PG_TEXT ","
	"  t BIGINT NOT NULL, first_seen BIGINT NOT NULL,"
	"  development BIGINT NOT NULL REFERENCES developments(id),"
	"  topics " PG_TEXT " NOT NULL, features " PG_TEXT " NOT NULL, explain " PG_TEXT ","
	"  indexed BIGINT NOT NULL DEFAULT 1"
	");"
	"CREATE UNIQUE INDEX stories_key ON stories(feed_id, md5(item_id));"
	"CREATE INDEX stories_indexed ON stories(first_seen) WHERE indexed = 1;"
	"CREATE INDEX stories_development ON stories(development, t);"
	"CREATE INDEX stories_canon ON stories USING hash (canon);"
	"CREATE TABLE story_terms ("
	"  term " PG_TEXT " NOT NULL, t BIGINT NOT NULL, story BIGINT NOT NULL,"
	"  PRIMARY KEY (term, t, story)"
	");"
	"CREATE TABLE term_df ("
	"  term " PG_TEXT " PRIMARY KEY,"
	"  df BIGINT NOT NULL"
	");";

static const char pg_schema_v3[] =
	"CREATE TABLE sink_flood ("
	"  sink " PG_TEXT " PRIMARY KEY,"
	"  tokens DOUBLE PRECISION NOT NULL,"
	"  refilled BIGINT NOT NULL,"
	"  blocked_until BIGINT NOT NULL"
	");";

int
store_stmt_cached(struct store *s, struct db_stmt **slot, const char *sql,
    struct db_stmt **ret, struct fw_error *reterr)
{
	int r;

	if (*slot == NULL && (r = db_prepare(s->db, sql, slot, reterr)) < 0)
		return r;
	db_reset(*slot);
	*ret = *slot;
	return 0;
}

int
store_step_done(struct db_stmt *st, struct fw_error *reterr, const char *what)
{
	int r = db_step(st, reterr, what);

	db_reset(st);
	return r < 0 ? r : 0;
}

static int
stmt(struct store *s, enum stmt_id id, struct db_stmt **ret, struct fw_error *reterr)
{
	return store_stmt_cached(s, &s->stmts[id], stmt_sql[id], ret, reterr);
}

static int
store_migrate(struct store *s, struct fw_error *reterr)
{
	bool	 pg = db_kind(s->db) == DB_POSTGRESQL;
	int	 version, r;

	if ((r = db_schema_version(s->db, &version, reterr)) < 0)
		return r;
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	/* Read again inside the transaction: another instance may have
	 * migrated in between (on PostgreSQL this also queues on the
	 * schema lock). */
	if ((r = db_begin(s->db, reterr)) < 0 ||
	    (r = db_schema_version(s->db, &version, reterr)) < 0)
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		fw_error_set(reterr, db_label(s->db), 0, 0,
		    "state has schema version %d, newer than this feedwatch (%d)",
		    version, STORE_SCHEMA_VERSION);
		r = -EPROTO;
		goto fail;
	}
	if (pg && version < 2 && (r = db_exec(s->db, pg_schema_v2, reterr)) < 0)
		goto fail;
	if (!pg && version < 1 && (r = db_exec(s->db, schema_v1, reterr)) < 0)
		goto fail;
	if (!pg && version < 2 && (r = db_exec(s->db, schema_v2, reterr)) < 0)
		goto fail;
	if (version < 3 && (r = db_exec(s->db, pg ? pg_schema_v3 : schema_v3, reterr)) < 0)
		goto fail;
	if (!pg && version < 4 && (r = db_exec(s->db, schema_v4, reterr)) < 0)
		goto fail;
	if ((r = db_schema_version_set(s->db, STORE_SCHEMA_VERSION, reterr)) < 0)
		goto fail;
	return db_commit(s->db, reterr);
fail:
	db_rollback(s->db);
	return r;
}

/* The instance's name in the leases it takes: host, process and a random
 * part, so that a restarted process with the same pid is someone else. */
static void
store_owner_init(struct store *s)
{
	char		host[64] = "";
	struct timespec	ts;

	(void)gethostname(host, sizeof(host) - 1);
	clock_gettime(CLOCK_REALTIME, &ts);
	(void)snprintf(s->owner, sizeof(s->owner), "%s:%ld:%08lx", host, (long)getpid(),
	    (unsigned long)(ts.tv_nsec ^ (ts.tv_sec << 12) ^ ((long)getpid() << 20)) & 0xffffffffUL);
}

int
store_open(const char *path, struct store **ret, struct fw_error *reterr)
{
	struct store	*s;
	int		 r;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	if ((r = db_open(path, &s->db, reterr)) < 0 ||
	    (r = store_migrate(s, reterr)) < 0) {
		store_close(s);
		return r;
	}
	store_owner_init(s);
	s->lease = STORE_DEFAULT_LEASE;
	*ret = s;
	return 0;
}

/* A clean exit gives back the leases this instance still holds (the
 * deliveries a round left alone after their sink failed, a transfer
 * abandoned at the stop), so that the next run or another instance need
 * not wait for them to expire. Best effort: leases a lost connection
 * could not give back expire as a dead instance's do. */
static void
store_leases_release(struct store *s)
{
	static const char *const sql[] = {
		"UPDATE feeds SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?1",
		"UPDATE deliveries SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?1",
	};
	struct db_stmt	*st;
	struct fw_error	 e;
	int		 r;

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (db_prepare(s->db, sql[i], &st, &e) < 0)
			return;
		db_bind_text(st, 1, s->owner);
		r = db_step(st, &e, "cannot give leases back");
		db_stmt_free(st);
		if (r < 0)
			return;
	}
}

int
store_exists(const char *path, bool *ret, struct fw_error *reterr)
{
	struct db	*db = NULL;
	struct db_stmt	*st = NULL;
	int		 r;

	if (!db_target_is_postgresql(path)) {
		if (access(path, F_OK) == 0) {
			*ret = true;
			return 0;
		}
		if (errno == ENOENT) {
			*ret = false;
			return 0;
		}
		r = -errno;
		fw_error_set(reterr, path, 0, 0, "state file: %s", strerror(-r));
		return r;
	}
	/* Only the catalog is read: store_migrate() would create the tables. */
	if ((r = db_open(path, &db, reterr)) < 0 ||
	    (r = db_prepare(db, "SELECT count(*) FROM pg_catalog.pg_tables"
	    " WHERE tablename = 'schema_version' AND schemaname = current_schema()",
	    &st, reterr)) < 0 ||
	    (r = db_step(st, reterr, "cannot read the catalog")) < 0)
		goto out;
	*ret = r == 1 && db_column_int64(st, 0) > 0;
	r = 0;
out:
	db_stmt_free(st);
	db_close(db);
	return r;
}

struct store *
store_close(struct store *s)
{
	if (s == NULL)
		return NULL;
	if (s->db != NULL && s->owner[0] != '\0' && store_is_shared(s))
		store_leases_release(s);
	store_dev_stmts_done(s);
	for (int i = 0; i < _STMT_MAX; i++)
		db_stmt_free(s->stmts[i]);
	for (int i = 0; i < _LEASE_MAX; i++)
		db_stmt_free(s->lease_stmts[i]);
	db_close(s->db);
	free(s);
	return NULL;
}

bool
store_is_shared(const struct store *s)
{
	return db_kind(s->db) == DB_POSTGRESQL;
}

const char *
store_label(const struct store *s)
{
	return db_label(s->db);
}

const char *
store_owner(const struct store *s)
{
	return s->owner;
}

void
store_lease_set(struct store *s, int64_t seconds)
{
	s->lease = seconds;
}

int
store_begin(struct store *s, struct fw_error *reterr)
{
	store_dev_cache_begin(s);
	return db_begin(s->db, reterr);
}

int
store_commit(struct store *s, struct fw_error *reterr)
{
	return db_commit(s->db, reterr);
}

void
store_rollback(struct store *s)
{
	db_rollback(s->db);
	store_dev_cache_clear(s);
}

static void
bind_time(struct db_stmt *st, int i, int64_t t)
{
	if (t == FW_TIME_NONE)
		db_bind_null(st, i);
	else
		db_bind_int64(st, i, t);
}

static char *
col_strdup(struct db_stmt *st, int i, int *oom)
{
	const char	*v = db_column_text(st, i);
	char		*p;

	if (v == NULL)
		return NULL;
	p = strdup(v);
	if (p == NULL)
		*oom = 1;
	return p;
}

static int64_t
col_time(struct db_stmt *st, int i)
{
	return db_column_null(st, i) ? FW_TIME_NONE : db_column_int64(st, i);
}

void
store_feed_done(struct store_feed *f)
{
	free(f->url);
	free(f->etag);
	free(f->last_modified);
	free(f->body_hash);
	free(f->last_error);
	free(f->redirect_url);
	memset(f, 0, sizeof(*f));
}

static int
feed_from_row(struct db_stmt *st, struct store_feed *f)
{
	int oom = 0;

	memset(f, 0, sizeof(*f));
	f->id = db_column_int64(st, 0);
	f->url = col_strdup(st, 1, &oom);
	f->etag = col_strdup(st, 2, &oom);
	f->last_modified = col_strdup(st, 3, &oom);
	f->body_hash = col_strdup(st, 4, &oom);
	f->last_poll = db_column_int64(st, 5);
	f->last_success = db_column_int64(st, 6);
	f->next_poll = db_column_int64(st, 7);
	f->last_status = (long)db_column_int64(st, 8);
	f->last_error = col_strdup(st, 9, &oom);
	f->consecutive_errors = (int)db_column_int64(st, 10);
	f->items_seen = db_column_int64(st, 11);
	f->disabled = db_column_int64(st, 12) != 0;
	f->redirect_url = col_strdup(st, 13, &oom);
	f->redirect_count = (int)db_column_int64(st, 14);
	f->interval = db_column_int64(st, 15);
	f->health_alerted = (int)db_column_int64(st, 16);
	f->newest_item = db_column_int64(st, 17);
	f->publish_gap = db_column_int64(st, 18);
	if (oom) {
		store_feed_done(f);
		return -ENOMEM;
	}
	return 0;
}

int
store_collect_rows(struct db_stmt *st, const char *what, size_t size, store_row_fn from_row,
    void (*done)(void *elem), void **ret, size_t *ret_n, struct fw_error *reterr)
{
	char	*v = NULL;
	size_t	 n = 0, cap = 0;
	int	 r;

	while ((r = db_step(st, reterr, what)) == 1) {
		if (n == cap) {
			size_t	 ncap = cap ? cap * 2 : 8;
			char	*nv = reallocarray(v, ncap, size);

			if (nv == NULL) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		if ((r = from_row(st, v + n * size)) < 0)
			break;
		n++;
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			done(v + i * size);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int
feed_row(struct db_stmt *st, void *elem)
{
	return feed_from_row(st, elem);
}

static void
feed_done(void *elem)
{
	store_feed_done(elem);
}

int
store_feed_get(struct store *s, const char *url, struct store_feed *ret,
    struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	for (int attempt = 0; attempt < 2; attempt++) {
		if ((r = stmt(s, STMT_FEED_GET, &st, reterr)) < 0)
			return r;
		db_bind_text(st, 1, url);
		r = db_step(st, reterr, "cannot read feed state");
		if (r == 1) {
			r = feed_from_row(st, ret);
			db_reset(st);
			return r;
		}
		db_reset(st);
		if (r < 0)
			return r;
		/* Another instance may add it at the same time: the second
		 * insert does nothing and both read the one row. */
		if ((r = stmt(s, STMT_FEED_INSERT, &st, reterr)) < 0)
			return r;
		db_bind_text(st, 1, url);
		if ((r = store_step_done(st, reterr, "cannot add a feed")) < 0)
			return r;
	}
	fw_error_set(reterr, db_label(s->db), 0, 0, "feed '%s' vanished while being added", url);
	return -EIO;
}

int
store_feed_save(struct store *s, const struct store_feed *f, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	if ((r = stmt(s, STMT_FEED_SAVE, &st, reterr)) < 0)
		return r;
	db_bind_int64(st, 1, f->id);
	db_bind_text(st, 2, f->etag);
	db_bind_text(st, 3, f->last_modified);
	db_bind_text(st, 4, f->body_hash);
	db_bind_int64(st, 5, f->last_poll);
	db_bind_int64(st, 6, f->last_success);
	db_bind_int64(st, 7, f->next_poll);
	db_bind_int64(st, 8, f->last_status);
	db_bind_text(st, 9, f->last_error);
	db_bind_int64(st, 10, f->consecutive_errors);
	db_bind_int64(st, 11, f->items_seen);
	db_bind_int64(st, 12, f->disabled ? 1 : 0);
	db_bind_text(st, 13, f->redirect_url);
	db_bind_int64(st, 14, f->redirect_count);
	db_bind_int64(st, 15, f->interval);
	db_bind_int64(st, 16, f->health_alerted);
	db_bind_int64(st, 17, f->newest_item);
	db_bind_int64(st, 18, f->publish_gap);
	if ((r = store_step_done(st, reterr, "cannot save feed state")) < 0 ||
	    !store_is_shared(s))
		return r;
	/* Polled: the lease goes, and the feed's next poll is what keeps
	 * the other instances away from it now. */
	if ((r = store_stmt_cached(s, &s->lease_stmts[LEASE_FEED_RELEASE],
	    "UPDATE feeds SET lease_owner = NULL, lease_until = 0"
	    " WHERE id = ?1 AND lease_owner = ?2", &st, reterr)) < 0)
		return r;
	db_bind_int64(st, 1, f->id);
	db_bind_text(st, 2, s->owner);
	return store_step_done(st, reterr, "cannot give a feed's lease back");
}

int
store_feed_list(struct store *s, struct store_feed **ret, size_t *ret_n,
    struct fw_error *reterr)
{
	struct db_stmt		*st;
	void			*rows;
	int			 r;

	if ((r = db_prepare(s->db, FEED_COLUMNS " ORDER BY url", &st, reterr)) < 0)
		return r;
	r = store_collect_rows(st, "cannot list feeds", sizeof(struct store_feed), feed_row,
	    feed_done, &rows, ret_n, reterr);
	db_stmt_free(st);
	if (r == 0)
		*ret = rows;
	return r;
}

/* "{1,2,3}": ids as one PostgreSQL array parameter. Caller frees. */
static char *
ids_array(const int64_t *ids, size_t n)
{
	char	*v = malloc(n * 21 + 3), *p = v;

	if (v == NULL)
		return NULL;
	*p++ = '{';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%" PRId64, i > 0 ? "," : "", ids[i]);
	*p++ = '}';
	*p = '\0';
	return v;
}

int
store_feeds_lease(struct store *s, const int64_t *ids, size_t n_ids, int64_t now,
    int64_t until, bool all, size_t limit, struct store_feed **ret, size_t *ret_n,
    struct fw_error *reterr)
{
	struct db_stmt		*st;
	char			*idv;
	void			*rows;
	int			 r;

	if (!store_is_shared(s))
		return -EOPNOTSUPP;
	if ((idv = ids_array(ids, n_ids)) == NULL)
		return -ENOMEM;
	/* SKIP LOCKED: rows another instance is leasing right now are
	 * passed over, not waited for; an expired lease is anyone's. The
	 * ids are a semi-join (hashed), not "= ANY(ids)": a prepared
	 * statement's generic plan compares each row with the whole array,
	 * 10^8 comparisons a batch over 10,000 feeds (bench/scale). */
	r = store_stmt_cached(s, &s->lease_stmts[LEASE_FEEDS],
	    "UPDATE feeds SET lease_owner = ?1, lease_until = ?2 WHERE id IN ("
	    " SELECT id FROM feeds WHERE id IN (SELECT unnest(?6::bigint[])) AND disabled = 0"
	    " AND (?4 = 1 OR next_poll <= ?3) AND (lease_until <= ?3 OR lease_owner = ?1)"
	    " ORDER BY next_poll, id LIMIT ?5 FOR UPDATE SKIP LOCKED)"
	    " RETURNING id, url, etag, last_modified, body_hash, last_poll, last_success,"
	    " next_poll, last_status, last_error, consecutive_errors, items_seen,"
	    " disabled, redirect_url, redirect_count, \"interval\", health_alerted,"
	    " newest_item, publish_gap", &st, reterr);
	if (r < 0) {
		free(idv);
		return r;
	}
	db_bind_text(st, 1, s->owner);
	db_bind_int64(st, 2, until);
	db_bind_int64(st, 3, now);
	db_bind_int64(st, 4, all ? 1 : 0);
	db_bind_int64(st, 5, (int64_t)limit);
	db_bind_text(st, 6, idv);
	r = store_collect_rows(st, "cannot lease feeds", sizeof(struct store_feed), feed_row,
	    feed_done, &rows, ret_n, reterr);
	db_reset(st);
	free(idv);
	if (r == 0)
		*ret = rows;
	return r;
}

int
store_feeds_next_due(struct store *s, const int64_t *ids, size_t n_ids, int64_t *ret,
    struct fw_error *reterr)
{
	struct db_stmt	*st;
	char		*idv;
	int		 r;

	if (!store_is_shared(s))
		return -EOPNOTSUPP;
	if ((idv = ids_array(ids, n_ids)) == NULL)
		return -ENOMEM;
	r = store_stmt_cached(s, &s->lease_stmts[LEASE_NEXT_DUE],
	    "SELECT min(GREATEST(next_poll, lease_until)) FROM feeds"
	    " WHERE id IN (SELECT unnest(?1::bigint[])) AND disabled = 0", &st, reterr);
	if (r < 0) {
		free(idv);
		return r;
	}
	db_bind_text(st, 1, idv);
	r = db_step(st, reterr, "cannot read the schedule");
	*ret = r == 1 && !db_column_null(st, 0) ? db_column_int64(st, 0) : 0;
	db_reset(st);
	free(idv);
	return r < 0 ? r : 0;
}

int
store_feeds_count(struct store *s, int64_t *ret, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	if ((r = db_prepare(s->db, "SELECT count(*) FROM feeds", &st, reterr)) < 0)
		return r;
	r = db_step(st, reterr, "cannot count feeds");
	*ret = r == 1 ? db_column_int64(st, 0) : 0;
	db_stmt_free(st);
	return r < 0 ? r : 0;
}

/* Whether one row answers st (bound by the caller). */
static int
stmt_has_row(struct db_stmt *st, struct fw_error *reterr)
{
	int r = db_step(st, reterr, "cannot read seen items");

	db_reset(st);
	return r;
}

int
store_item_mark_seen_canon(struct store *s, int64_t feed_id, const struct feed_item *item,
    const char *canon, int64_t title_since, int64_t now, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r, same = 0;

	if ((r = stmt(s, STMT_ITEM_EXISTS, &st, reterr)) < 0)
		return r;
	db_bind_int64(st, 1, feed_id);
	db_bind_text(st, 2, item->id);
	if ((r = stmt_has_row(st, reterr)) != 0)
		return r < 0 ? r : 0;
	/* A new guid on a known article: the feed changed its ids. The row
	 * is still written, so the next poll knows the guid at once. */
	if (canon != NULL) {
		if ((r = stmt(s, STMT_ITEM_SAME_CANON, &st, reterr)) < 0)
			return r;
		db_bind_int64(st, 1, feed_id);
		db_bind_text(st, 2, canon);
		if ((same = stmt_has_row(st, reterr)) < 0)
			return same;
	}
	if (!same && item->title != NULL && item->title[0] != '\0' && title_since != FW_TIME_NONE) {
		if ((r = stmt(s, STMT_ITEM_SAME_TITLE, &st, reterr)) < 0)
			return r;
		db_bind_int64(st, 1, feed_id);
		db_bind_text(st, 2, item->title);
		db_bind_int64(st, 3, title_since);
		db_bind_text(st, 4, canon);
		if ((same = stmt_has_row(st, reterr)) < 0)
			return same;
	}
	if ((r = stmt(s, STMT_ITEM_INSERT, &st, reterr)) < 0)
		return r;
	db_bind_int64(st, 1, feed_id);
	db_bind_text(st, 2, item->id);
	db_bind_text(st, 3, item->title);
	db_bind_text(st, 4, item->link);
	db_bind_text(st, 5, item->summary);
	db_bind_text(st, 6, item->content);
	db_bind_text(st, 7, item->author);
	bind_time(st, 8, item->published);
	bind_time(st, 9, item->updated);
	db_bind_int64(st, 10, now);
	db_bind_text(st, 11, canon);
	if ((r = db_step(st, reterr, "cannot record a seen item")) < 0) {
		db_reset(st);
		return r;
	}
	r = db_changes(st) > 0 && !same ? 1 : 0;
	db_reset(st);
	return r;
}

int
store_item_mark_seen(struct store *s, int64_t feed_id, const struct feed_item *item,
    int64_t now, struct fw_error *reterr)
{
	return store_item_mark_seen_canon(s, feed_id, item, NULL, FW_TIME_NONE, now, reterr);
}

int
store_items_foreach(struct store *s, int64_t since, store_item_fn fn, void *userdata,
    struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	r = db_prepare(s->db,
	    "SELECT i.item_id, i.title, i.link, i.summary, i.content, i.author,"
	    " i.published, i.updated, f.url FROM items i JOIN feeds f ON f.id = i.feed_id"
	    " WHERE i.first_seen >= ?1 ORDER BY i.first_seen, f.url, i.item_id", &st, reterr);
	if (r < 0)
		return r;
	db_bind_int64(st, 1, since);
	while ((r = db_step(st, reterr, "cannot read stored items")) == 1) {
		struct feed_item item = {
			.id = (char *)db_column_text(st, 0),
			.title = (char *)db_column_text(st, 1),
			.link = (char *)db_column_text(st, 2),
			.summary = (char *)db_column_text(st, 3),
			.content = (char *)db_column_text(st, 4),
			.author = (char *)db_column_text(st, 5),
			.published = col_time(st, 6),
			.updated = col_time(st, 7),
		};

		if ((r = fn(&item, db_column_text(st, 8), userdata)) < 0)
			break;
	}
	db_stmt_free(st);
	return r < 0 ? r : 0;
}

int
store_alert_add(struct store *s, const char *alert_id, const char *dedup_key,
    const char *json, int64_t now, const char *const *sinks, size_t n_sinks,
    struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	if ((r = stmt(s, STMT_ALERT_INSERT, &st, reterr)) < 0)
		return r;
	db_bind_text(st, 1, alert_id);
	db_bind_text(st, 2, dedup_key);
	db_bind_int64(st, 3, now);
	db_bind_text(st, 4, json);
	if ((r = db_step(st, reterr, "cannot queue an alert")) < 0) {
		db_reset(st);
		return r;
	}
	/* Another feed, or another instance, raised it already. */
	r = db_changes(st) > 0;
	db_reset(st);
	if (r == 0)
		return 0;
	for (size_t i = 0; i < n_sinks; i++) {
		if ((r = stmt(s, STMT_DELIVERY_INSERT, &st, reterr)) < 0)
			return r;
		db_bind_text(st, 1, alert_id);
		db_bind_text(st, 2, sinks[i]);
		db_bind_int64(st, 3, now);
		if ((r = store_step_done(st, reterr, "cannot queue a delivery")) < 0)
			return r;
	}
	return 1;
}

const char *
delivery_state_to_string(enum delivery_state st)
{
	static const char *names[_DELIVERY_STATE_MAX] = {
		"pending", "delivered", "failed", "digested", "held", "gone",
	};

	return st >= 0 && st < _DELIVERY_STATE_MAX ? names[st] : "unknown";
}

void
store_delivery_done(struct store_delivery *d)
{
	free(d->alert_id);
	free(d->sink);
	free(d->json);
	free(d->last_error);
	free(d->digest_id);
	memset(d, 0, sizeof(*d));
}

static int
delivery_row(struct db_stmt *st, void *elem)
{
	struct store_delivery	*d = elem;
	int			 oom = 0;

	memset(d, 0, sizeof(*d));
	d->alert_id = col_strdup(st, 0, &oom);
	d->sink = col_strdup(st, 1, &oom);
	d->json = col_strdup(st, 2, &oom);
	d->state = (enum delivery_state)db_column_int64(st, 3);
	d->attempts = (int)db_column_int64(st, 4);
	d->next_attempt = db_column_int64(st, 5);
	d->last_error = col_strdup(st, 6, &oom);
	d->created = db_column_int64(st, 7);
	d->digest_id = col_strdup(st, 8, &oom);
	if (oom) {
		store_delivery_done(d);
		return -ENOMEM;
	}
	return 0;
}

static void
delivery_done(void *elem)
{
	store_delivery_done(elem);
}

/* Steps through st (prepared and bound by the caller, freed here). */
static int
deliveries_query(struct db_stmt *st, struct store_delivery **ret, size_t *ret_n,
    struct fw_error *reterr)
{
	void	*rows;
	int	 r;

	r = store_collect_rows(st, "cannot read the outbox", sizeof(struct store_delivery),
	    delivery_row, delivery_done, &rows, ret_n, reterr);
	db_stmt_free(st);
	if (r == 0)
		*ret = rows;
	return r;
}

#define DELIVERY_COLUMNS \
	"SELECT d.alert_id, d.sink, a.json, d.state, d.attempts, d.next_attempt," \
	" d.last_error, a.created, d.digest_id" \
	" FROM deliveries d JOIN alerts a ON a.id = d.alert_id"

/* A shared state's version of a due query: the rows of picked (a SELECT of
 * d.alert_id, d.sink FROM deliveries d JOIN alerts a, with ?4 the owner
 * and ?5 the lease's end) are leased to this instance and returned in
 * order. SKIP LOCKED passes over what another instance is leasing right
 * now; a lease another holds keeps its deliveries out of picked. */
#define DELIVERY_LEASE(picked, order) \
	"WITH picked AS (" picked " FOR UPDATE OF d SKIP LOCKED)," \
	" leased AS (UPDATE deliveries d SET lease_owner = ?4, lease_until = ?5" \
	" FROM picked p WHERE d.alert_id = p.alert_id AND d.sink = p.sink" \
	" RETURNING d.alert_id, d.sink, d.state, d.attempts, d.next_attempt, d.last_error," \
	" d.digest_id)" \
	" SELECT d.alert_id, d.sink, a.json, d.state, d.attempts, d.next_attempt," \
	" d.last_error, a.created, d.digest_id FROM leased d JOIN alerts a ON a.id = d.alert_id" \
	" ORDER BY " order

#define DUE_WHERE	" WHERE d.state IN (0, 4) AND d.next_attempt <= ?1"
#define DUE_ORDER	"d.next_attempt, a.created, a.rowid, d.sink"

int
store_deliveries_due_page(struct store *s, int64_t now, size_t offset, size_t limit,
    struct store_delivery **ret, size_t *ret_n, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	/* The page is chosen on the keys alone and the alerts' JSON read for
	 * it only: sorting the whole due list with its JSON, page after page,
	 * was most of a burst's delivery time. On SQLite the page (a
	 * co-routine yielding its rows in order) is the outer loop of the
	 * join, which CROSS JOIN fixes, so its rows come out in its order:
	 * sorting them again with their JSON spilled each page (~5 MB) to a
	 * temporary file, 2.5 KB written per alert. */
	if (store_is_shared(s))
		r = db_prepare(s->db, DELIVERY_LEASE("SELECT d.alert_id, d.sink FROM deliveries d"
		    " JOIN alerts a ON a.id = d.alert_id" DUE_WHERE
		    " AND (d.lease_until <= ?1 OR d.lease_owner = ?4)"
		    " ORDER BY " DUE_ORDER " LIMIT ?2 OFFSET ?3", DUE_ORDER), &st, reterr);
	else
		r = db_prepare(s->db, "SELECT d.alert_id, d.sink, a.json, d.state, d.attempts,"
		    " d.next_attempt, d.last_error, a.created, d.digest_id"
		    " FROM (SELECT d.alert_id AS page_alert, d.sink AS page_sink FROM deliveries d"
		    "  JOIN alerts a INDEXED BY alerts_due_order ON a.id = d.alert_id" DUE_WHERE
		    "  ORDER BY " DUE_ORDER " LIMIT ?2 OFFSET ?3) AS page"
		    " CROSS JOIN deliveries d ON d.alert_id = page.page_alert"
		    "  AND d.sink = page.page_sink"
		    " CROSS JOIN alerts a ON a.id = d.alert_id", &st, reterr);
	if (r < 0)
		return r;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, (int64_t)limit);
	db_bind_int64(st, 3, (int64_t)offset);
	if (store_is_shared(s)) {
		db_bind_text(st, 4, s->owner);
		db_bind_int64(st, 5, now + s->lease);
	}
	return deliveries_query(st, ret, ret_n, reterr);
}

int
store_deliveries_due(struct store *s, int64_t now, size_t limit,
    struct store_delivery **ret, size_t *ret_n, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	/* Only a look: nothing is leased. A delivery another instance
	 * holds is due, for this one, when the lease ends. */
	if (store_is_shared(s))
		r = db_prepare(s->db, "SELECT alert_id, sink, json, state, attempts, due,"
		    " last_error, created, digest_id FROM (SELECT d.alert_id, d.sink, a.json,"
		    " d.state, d.attempts, CASE WHEN d.lease_owner <> ?2 AND"
		    " d.lease_until > d.next_attempt THEN d.lease_until ELSE d.next_attempt END"
		    " AS due, d.last_error, a.created, d.digest_id, a.rowid AS seq"
		    " FROM deliveries d JOIN alerts a ON a.id = d.alert_id"
		    " WHERE d.state IN (0, 4)) x WHERE due <= ?1"
		    " ORDER BY due, created, seq, sink LIMIT ?3", &st, reterr);
	else
		r = db_prepare(s->db, DELIVERY_COLUMNS DUE_WHERE
		    " ORDER BY " DUE_ORDER " LIMIT ?3", &st, reterr);
	if (r < 0)
		return r;
	db_bind_int64(st, 1, now);
	db_bind_text(st, 2, s->owner);
	db_bind_int64(st, 3, (int64_t)limit);
	return deliveries_query(st, ret, ret_n, reterr);
}

int
store_deliveries_list(struct store *s, bool failed_only, size_t limit,
    struct store_delivery **ret, size_t *ret_n, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	r = db_prepare(s->db, failed_only
	    ? DELIVERY_COLUMNS " WHERE d.state IN (2, 5) ORDER BY a.created DESC, a.rowid DESC, d.sink LIMIT ?1"
	    : DELIVERY_COLUMNS " ORDER BY a.created DESC, a.rowid DESC, d.sink LIMIT ?1", &st, reterr);
	if (r < 0)
		return r;
	db_bind_int64(st, 1, (int64_t)limit);
	return deliveries_query(st, ret, ret_n, reterr);
}

int
store_deliveries_held(struct store *s, const char *sink, int64_t now, size_t limit,
    struct store_delivery **ret, size_t *ret_n, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

#define HELD_ORDER	"d.digest_id IS NULL, d.digest_id, a.created, a.rowid"
	if (store_is_shared(s))
		r = db_prepare(s->db, DELIVERY_LEASE("SELECT d.alert_id, d.sink FROM deliveries d"
		    " JOIN alerts a ON a.id = d.alert_id"
		    " WHERE d.sink = ?1 AND d.state = 4 AND d.next_attempt <= ?2"
		    " AND (d.lease_until <= ?2 OR d.lease_owner = ?4)"
		    " ORDER BY " HELD_ORDER " LIMIT ?3", HELD_ORDER), &st, reterr);
	else
		r = db_prepare(s->db, DELIVERY_COLUMNS
		    " WHERE d.sink = ?1 AND d.state = 4 AND d.next_attempt <= ?2"
		    " ORDER BY " HELD_ORDER " LIMIT ?3", &st, reterr);
	if (r < 0)
		return r;
	db_bind_text(st, 1, sink);
	db_bind_int64(st, 2, now);
	db_bind_int64(st, 3, (int64_t)limit);
	if (store_is_shared(s)) {
		db_bind_text(st, 4, s->owner);
		db_bind_int64(st, 5, now + s->lease);
	}
	return deliveries_query(st, ret, ret_n, reterr);
}

int
store_delivery_set_digest(struct store *s, const char *alert_id, const char *sink,
    const char *digest_id, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	r = db_prepare(s->db, "UPDATE deliveries SET digest_id = ?3"
	    " WHERE alert_id = ?1 AND sink = ?2", &st, reterr);
	if (r < 0)
		return r;
	db_bind_text(st, 1, alert_id);
	db_bind_text(st, 2, sink);
	db_bind_text(st, 3, digest_id);
	r = db_step(st, reterr, "cannot record a digest");
	db_stmt_free(st);
	return r < 0 ? r : 0;
}

int
store_deliveries_sent_times(struct store *s, const char *sink, int64_t since,
    size_t limit, int64_t **ret, size_t *ret_n, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int64_t		*v = NULL;
	size_t		 n = 0;
	int		 r;

	r = db_prepare(s->db,
	    "SELECT updated FROM deliveries WHERE sink = ?1 AND state = 1 AND updated > ?2"
	    " UNION ALL SELECT max(updated) FROM deliveries"
	    " WHERE sink = ?1 AND state = 3 AND updated > ?2 GROUP BY digest_id"
	    " ORDER BY 1 DESC LIMIT ?3", &st, reterr);
	if (r < 0)
		return r;
	db_bind_text(st, 1, sink);
	db_bind_int64(st, 2, since);
	db_bind_int64(st, 3, (int64_t)limit);
	while ((r = db_step(st, reterr, "cannot read the outbox")) == 1) {
		int64_t *nv = reallocarray(v, n + 1, sizeof(*v));

		if (nv == NULL) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		v[n++] = db_column_int64(st, 0);
	}
	db_stmt_free(st);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int
store_delivery_update(struct store *s, const char *alert_id, const char *sink,
    enum delivery_state state, int attempts, int64_t next_attempt,
    const char *last_error, int64_t now, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	if ((r = stmt(s, STMT_DELIVERY_UPDATE, &st, reterr)) < 0)
		return r;
	db_bind_text(st, 1, alert_id);
	db_bind_text(st, 2, sink);
	db_bind_int64(st, 3, (int64_t)state);
	db_bind_int64(st, 4, attempts);
	db_bind_int64(st, 5, next_attempt);
	db_bind_text(st, 6, last_error);
	db_bind_int64(st, 7, now);
	if ((r = store_step_done(st, reterr, "cannot record a delivery")) < 0 ||
	    !store_is_shared(s))
		return r;
	if ((r = store_stmt_cached(s, &s->lease_stmts[LEASE_DELIVERY_RELEASE],
	    "UPDATE deliveries SET lease_owner = NULL, lease_until = 0"
	    " WHERE alert_id = ?1 AND sink = ?2 AND lease_owner = ?3", &st, reterr)) < 0)
		return r;
	db_bind_text(st, 1, alert_id);
	db_bind_text(st, 2, sink);
	db_bind_text(st, 3, s->owner);
	return store_step_done(st, reterr, "cannot give a delivery's lease back");
}

/* Runs st (prepared and bound by the caller, freed here) and returns the
 * number of rows it changed. */
static int
run_changes(struct db_stmt *st, struct fw_error *reterr, const char *what)
{
	int r = db_step(st, reterr, what);

	if (r >= 0)
		r = (int)db_changes(st);
	db_stmt_free(st);
	return r;
}

int
store_deliveries_retry(struct store *s, const char *alert_id, int64_t now,
    struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	r = db_prepare(s->db,
	    "UPDATE deliveries SET state = 0, attempts = 0, next_attempt = ?1,"
	    " digest_id = NULL WHERE state IN (2, 5) AND (?2 IS NULL OR alert_id = ?2)", &st, reterr);
	if (r < 0)
		return r;
	db_bind_int64(st, 1, now);
	db_bind_text(st, 2, alert_id);
	return run_changes(st, reterr, "cannot requeue deliveries");
}

int
store_deliveries_hurry(struct store *s, const char *sink, const char *alert_id,
    int64_t now, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	r = db_prepare(s->db,
	    "UPDATE deliveries SET next_attempt = ?1 WHERE state = 0 AND next_attempt > ?1"
	    " AND (?2 IS NULL OR sink = ?2) AND (?3 IS NULL OR alert_id = ?3)", &st, reterr);
	if (r < 0)
		return r;
	db_bind_int64(st, 1, now);
	db_bind_text(st, 2, sink);
	db_bind_text(st, 3, alert_id);
	return run_changes(st, reterr, "cannot requeue deliveries");
}

int
store_alert_find(struct store *s, const char *prefix, char **ret_id, struct fw_error *reterr)
{
	struct db_stmt	*st;
	char		*id = NULL;
	int		 r, n = 0;

	r = db_prepare(s->db, "SELECT id FROM alerts WHERE"
	    " substr(id, 1, length(?1)) = ?1 ORDER BY id LIMIT 2", &st, reterr);
	if (r < 0)
		return r;
	db_bind_text(st, 1, prefix);
	while ((r = db_step(st, reterr, "cannot look up alerts")) == 1) {
		if (n++ == 0 && (id = strdup(db_column_text(st, 0))) == NULL) {
			r = -ENOMEM;
			break;
		}
	}
	db_stmt_free(st);
	if (r < 0) {
		free(id);
		return r;
	}
	if (n == 1)
		*ret_id = id;
	else
		free(id);
	return n;
}

int
store_alerts_prune(struct store *s, int64_t before, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	/* Deliveries go with their alert (ON DELETE CASCADE). */
	r = db_prepare(s->db, "DELETE FROM alerts WHERE created < ?1 AND NOT EXISTS"
	    " (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.state IN (0, 4))",
	    &st, reterr);
	if (r < 0)
		return r;
	db_bind_int64(st, 1, before);
	return run_changes(st, reterr, "cannot prune old alerts");
}

int
store_deliveries_count(struct store *s, enum delivery_state state, int64_t *ret,
    struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	r = db_prepare(s->db, "SELECT count(*) FROM deliveries WHERE state = ?1", &st, reterr);
	if (r < 0)
		return r;
	db_bind_int64(st, 1, (int64_t)state);
	r = db_step(st, reterr, "cannot count deliveries");
	if (r == 1)
		*ret = db_column_int64(st, 0);
	db_stmt_free(st);
	return r < 0 ? r : 0;
}

int
store_deliveries_record(struct store *s, const struct store_delivery_change *v, size_t n,
    int64_t now, struct fw_error *reterr)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = store_begin(s, reterr)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = store_delivery_update(s, v[i].alert_id, v[i].sink, v[i].state,
		    v[i].attempts, v[i].next_attempt, v[i].last_error, now, reterr);
		if (r < 0) {
			store_rollback(s);
			return r;
		}
	}
	if ((r = store_commit(s, reterr)) < 0)
		store_rollback(s);
	return r;
}

int
store_sink_flood_get(struct store *s, const char *sink, struct store_sink_flood *ret,
    struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	r = db_prepare(s->db, "SELECT tokens, refilled, blocked_until FROM sink_flood"
	    " WHERE sink = ?1", &st, reterr);
	if (r < 0)
		return r;
	db_bind_text(st, 1, sink);
	r = db_step(st, reterr, "cannot read flood control state");
	if (r == 1) {
		ret->tokens = db_column_double(st, 0);
		ret->refilled = db_column_int64(st, 1);
		ret->blocked_until = db_column_int64(st, 2);
	}
	db_stmt_free(st);
	return r;
}

int
store_sink_flood_save(struct store *s, const char *sink, const struct store_sink_flood *f,
    struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 r;

	r = db_prepare(s->db, "INSERT INTO sink_flood(sink, tokens, refilled, blocked_until)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(sink) DO UPDATE SET tokens = excluded.tokens,"
	    " refilled = excluded.refilled, blocked_until = excluded.blocked_until", &st, reterr);
	if (r < 0)
		return r;
	db_bind_text(st, 1, sink);
	db_bind_double(st, 2, f->tokens);
	db_bind_int64(st, 3, f->refilled);
	db_bind_int64(st, 4, f->blocked_until);
	r = db_step(st, reterr, "cannot save flood control state");
	db_stmt_free(st);
	return r < 0 ? r : 0;
}
