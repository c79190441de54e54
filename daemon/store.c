/* store.c — SQLite state: feeds, seen items, the alert outbox and per-sink
 * delivery state. Everything that must survive a crash goes through here,
 * and the caller groups writes that belong together in one transaction
 * (an item marked seen and its alert queued commit together or not at all).
 * SQLite result codes are translated into struct fw_error here only. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "store_internal.h"

#define STORE_SCHEMA_VERSION	3
#define STORE_BUSY_TIMEOUT_MS	5000
/* The page cache grows with the state file up to this (KiB), see
 * store_tune(); reads past it come from the memory map. */
#define STORE_CACHE_MIN_KIB	512
#define STORE_CACHE_MAX_KIB	8192
#define STORE_MMAP_MAX		(1LL << 30)
/* WAL pages between automatic checkpoints (bench/deliver/RESULTS.md). */
#ifndef STORE_WAL_AUTOCHECKPOINT
#define STORE_WAL_AUTOCHECKPOINT	1000
#endif

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

static const char *const stmt_sql[_STMT_MAX] = {
	[STMT_ITEM_INSERT] =
	    "INSERT OR IGNORE INTO items(feed_id, item_id, title, link, summary,"
	    " content, author, published, updated, first_seen, canon)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[STMT_ITEM_EXISTS] =
	    "SELECT 1 FROM items WHERE feed_id = ?1 AND item_id = ?2",
	[STMT_ITEM_SAME_CANON] =
	    "SELECT 1 FROM items WHERE feed_id = ?1 AND canon = ?2 LIMIT 1",
	[STMT_ITEM_SAME_TITLE] =
	    "SELECT 1 FROM items WHERE feed_id = ?1 AND title = ?2 AND first_seen >= ?3"
	    " AND (canon IS NULL OR ?4 IS NULL) LIMIT 1",
	[STMT_FEED_GET] =
	    "SELECT id, url, etag, last_modified, body_hash, last_poll, last_success,"
	    " next_poll, last_status, last_error, consecutive_errors, items_seen,"
	    " disabled, redirect_url, redirect_count, interval, health_alerted,"
	    " newest_item, publish_gap"
	    " FROM feeds WHERE url = ?1",
	[STMT_FEED_INSERT] =
	    "INSERT INTO feeds(url) VALUES (?1)",
	[STMT_FEED_SAVE] =
	    "UPDATE feeds SET etag = ?2, last_modified = ?3, body_hash = ?4,"
	    " last_poll = ?5, last_success = ?6, next_poll = ?7, last_status = ?8,"
	    " last_error = ?9, consecutive_errors = ?10, items_seen = ?11,"
	    " disabled = ?12, redirect_url = ?13, redirect_count = ?14,"
	    " interval = ?15, health_alerted = ?16, newest_item = ?17, publish_gap = ?18"
	    " WHERE id = ?1",
	[STMT_ALERT_INSERT] =
	    "INSERT OR IGNORE INTO alerts(id, dedup_key, created, json)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[STMT_DELIVERY_INSERT] =
	    "INSERT OR IGNORE INTO deliveries(alert_id, sink, state, attempts,"
	    " next_attempt) VALUES (?1, ?2, 0, 0, ?3)",
	[STMT_DELIVERY_UPDATE] =
	    "UPDATE deliveries SET state = ?3, attempts = ?4, next_attempt = ?5,"
	    " last_error = ?6, updated = ?7 WHERE alert_id = ?1 AND sink = ?2",
};


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
	"  interval INTEGER NOT NULL DEFAULT 0,"
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

int
store_fail(struct store *s, int rc, struct fw_error *reterr, const char *what)
{
	fw_error_set(reterr, s->path, 0, 0, "%s: %s", what,
	    s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	switch (rc & 0xff) {
	case SQLITE_NOMEM:	return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:	return -EBUSY;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:	return -EACCES;
	case SQLITE_FULL:	return -ENOSPC;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:	return -EBADMSG;
	default:		return -EIO;
	}
}

static int
store_exec(struct store *s, const char *sql, struct fw_error *reterr)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_fail(s, rc, reterr, "cannot update the state file");
}

static int
store_migrate(struct store *s, struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int		 version, r;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, sqlite3_errcode(s->db), reterr, "cannot read the schema version");
	version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (version > STORE_SCHEMA_VERSION) {
		fw_error_set(reterr, s->path, 0, 0,
		    "state file has schema version %d, newer than this feedwatch (%d)",
		    version, STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	if ((r = store_exec(s, "BEGIN IMMEDIATE", reterr)) < 0)
		return r;
	if (version < 1 && (r = store_exec(s, schema_v1, reterr)) < 0)
		goto fail;
	if (version < 2 && (r = store_exec(s, schema_v2, reterr)) < 0)
		goto fail;
	if (version < 3 && (r = store_exec(s, schema_v3, reterr)) < 0)
		goto fail;
	if ((r = store_exec(s, "PRAGMA user_version = 3", reterr)) < 0)
		goto fail;
	return store_exec(s, "COMMIT", reterr);
fail:
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* Sizes the page cache and the memory map for the state file. Reads of
 * a large file through a small cache were most of a burst's time (pread
 * of the same pages again and again); the map serves them from the
 * kernel's page cache instead, without a copy, and costs no memory of
 * its own. The cache itself holds what a transaction changes: an eighth
 * of the file, between 512 KiB (a 500-feed poll cycle stays small,
 * bench/poll) and 8 MiB. The WAL is checkpointed every
 * STORE_WAL_AUTOCHECKPOINT pages and cut back to 4 MiB after, so a
 * burst does not leave a WAL of hundreds of megabytes that every read
 * has to search. */
static int
store_tune(struct store *s, struct fw_error *reterr)
{
	struct stat	st;
	int64_t		kib = STORE_CACHE_MIN_KIB, map = 256LL << 20;
	char		sql[160];

	if (s->path[0] != ':' && strncmp(s->path, "file:", 5) != 0 &&
	    stat(s->path, &st) == 0) {
		kib = (int64_t)st.st_size / 1024 / 8;
		if (kib < STORE_CACHE_MIN_KIB)
			kib = STORE_CACHE_MIN_KIB;
		if (kib > STORE_CACHE_MAX_KIB)
			kib = STORE_CACHE_MAX_KIB;
		/* Room to grow: a map that ends before the file does only
		 * sends the rest back to pread. */
		if ((int64_t)st.st_size * 2 > map)
			map = (int64_t)st.st_size * 2;
		if (map > STORE_MMAP_MAX)
			map = STORE_MMAP_MAX;
	}
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%lld; PRAGMA mmap_size = %lld;"
	    " PRAGMA wal_autocheckpoint = %d; PRAGMA journal_size_limit = %d",
	    (long long)kib, (long long)map, STORE_WAL_AUTOCHECKPOINT, 4 << 20);
	return store_exec(s, sql, reterr);
}

int
store_open(const char *path, struct store **ret, struct fw_error *reterr)
{
	struct store	*s;
	int		 rc, r;

	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		return -ENOMEM;
	}
	/* The file holds alert content and errors: created 0600 whatever the
	 * umask, and SQLite gives its -wal and -shm files the mode of the
	 * database file. An existing file keeps the mode it has. */
	if (strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0) {
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd >= 0)
			(void)close(fd);
	}
	rc = sqlite3_open_v2(path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc, reterr, "cannot open the state file");
		goto fail;
	}
	(void)sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	(void)sqlite3_extended_result_codes(s->db, 1);
	/* WAL lets `status` and `alerts` read while the daemon writes;
	 * synchronous=NORMAL in WAL keeps every commit across a crash of the
	 * process (only power loss may lose the last transactions). */
	if ((r = store_exec(s, "PRAGMA journal_mode = WAL", reterr)) < 0 ||
	    (r = store_exec(s, "PRAGMA synchronous = NORMAL", reterr)) < 0 ||
	    (r = store_exec(s, "PRAGMA foreign_keys = ON", reterr)) < 0 ||
	    (r = store_tune(s, reterr)) < 0)
		goto fail;
	if ((r = store_migrate(s, reterr)) < 0)
		goto fail;
	for (int i = 0; i < _STMT_MAX; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &s->stmts[i], NULL);
		if (rc != SQLITE_OK) {
			r = store_fail(s, rc, reterr, "cannot prepare a statement");
			goto fail;
		}
	}
	*ret = s;
	return 0;
fail:
	store_close(s);
	return r;
}

struct store *
store_close(struct store *s)
{
	if (s == NULL)
		return NULL;
	store_dev_stmts_done(s);
	for (int i = 0; i < _STMT_MAX; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
	return NULL;
}

int
store_begin(struct store *s, struct fw_error *reterr)
{
	/* IMMEDIATE takes the write lock now, so a second writer waits here
	 * instead of failing half-way through the transaction. */
	return store_exec(s, "BEGIN IMMEDIATE", reterr);
}

int
store_commit(struct store *s, struct fw_error *reterr)
{
	return store_exec(s, "COMMIT", reterr);
}

void
store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static sqlite3_stmt *
stmt(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->stmts[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		(void)sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		(void)sqlite3_bind_null(st, i);
}

static void
bind_time(sqlite3_stmt *st, int i, int64_t t)
{
	if (t == FW_TIME_NONE)
		(void)sqlite3_bind_null(st, i);
	else
		(void)sqlite3_bind_int64(st, i, t);
}

static char *
col_strdup(sqlite3_stmt *st, int i, int *oom)
{
	const unsigned char	*v = sqlite3_column_text(st, i);
	char			*p;

	if (v == NULL)
		return NULL;
	p = strdup((const char *)v);
	if (p == NULL)
		*oom = 1;
	return p;
}

static int64_t
col_time(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? FW_TIME_NONE
	    : sqlite3_column_int64(st, i);
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
feed_from_row(sqlite3_stmt *st, struct store_feed *f)
{
	int oom = 0;

	memset(f, 0, sizeof(*f));
	f->id = sqlite3_column_int64(st, 0);
	f->url = col_strdup(st, 1, &oom);
	f->etag = col_strdup(st, 2, &oom);
	f->last_modified = col_strdup(st, 3, &oom);
	f->body_hash = col_strdup(st, 4, &oom);
	f->last_poll = sqlite3_column_int64(st, 5);
	f->last_success = sqlite3_column_int64(st, 6);
	f->next_poll = sqlite3_column_int64(st, 7);
	f->last_status = (long)sqlite3_column_int64(st, 8);
	f->last_error = col_strdup(st, 9, &oom);
	f->consecutive_errors = sqlite3_column_int(st, 10);
	f->items_seen = sqlite3_column_int64(st, 11);
	f->disabled = sqlite3_column_int(st, 12) != 0;
	f->redirect_url = col_strdup(st, 13, &oom);
	f->redirect_count = sqlite3_column_int(st, 14);
	f->interval = sqlite3_column_int64(st, 15);
	f->health_alerted = sqlite3_column_int(st, 16);
	f->newest_item = sqlite3_column_int64(st, 17);
	f->publish_gap = sqlite3_column_int64(st, 18);
	if (oom) {
		store_feed_done(f);
		return -ENOMEM;
	}
	return 0;
}

int
store_feed_get(struct store *s, const char *url, struct store_feed *ret,
    struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int		 rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		st = stmt(s, STMT_FEED_GET);
		bind_text(st, 1, url);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			int r = feed_from_row(st, ret);

			sqlite3_reset(st);
			return r;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, rc, reterr, "cannot read feed state");
		st = stmt(s, STMT_FEED_INSERT);
		bind_text(st, 1, url);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, rc, reterr, "cannot add a feed");
	}
	fw_error_set(reterr, s->path, 0, 0, "feed '%s' vanished while being added", url);
	return -EIO;
}

int
store_feed_save(struct store *s, const struct store_feed *f, struct fw_error *reterr)
{
	sqlite3_stmt	*st = stmt(s, STMT_FEED_SAVE);
	int		 rc;

	(void)sqlite3_bind_int64(st, 1, f->id);
	bind_text(st, 2, f->etag);
	bind_text(st, 3, f->last_modified);
	bind_text(st, 4, f->body_hash);
	(void)sqlite3_bind_int64(st, 5, f->last_poll);
	(void)sqlite3_bind_int64(st, 6, f->last_success);
	(void)sqlite3_bind_int64(st, 7, f->next_poll);
	(void)sqlite3_bind_int64(st, 8, f->last_status);
	bind_text(st, 9, f->last_error);
	(void)sqlite3_bind_int(st, 10, f->consecutive_errors);
	(void)sqlite3_bind_int64(st, 11, f->items_seen);
	(void)sqlite3_bind_int(st, 12, f->disabled ? 1 : 0);
	bind_text(st, 13, f->redirect_url);
	(void)sqlite3_bind_int(st, 14, f->redirect_count);
	(void)sqlite3_bind_int64(st, 15, f->interval);
	(void)sqlite3_bind_int(st, 16, f->health_alerted);
	(void)sqlite3_bind_int64(st, 17, f->newest_item);
	(void)sqlite3_bind_int64(st, 18, f->publish_gap);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, rc, reterr, "cannot save feed state");
}

int
store_feed_list(struct store *s, struct store_feed **ret, size_t *ret_n,
    struct fw_error *reterr)
{
	struct store_feed	*v = NULL;
	size_t			 n = 0;
	sqlite3_stmt		*st;
	int			 rc, r = 0;

	rc = sqlite3_prepare_v2(s->db,
	    "SELECT id, url, etag, last_modified, body_hash, last_poll, last_success,"
	    " next_poll, last_status, last_error, consecutive_errors, items_seen,"
	    " disabled, redirect_url, redirect_count, interval, health_alerted,"
	    " newest_item, publish_gap"
	    " FROM feeds ORDER BY url", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot list feeds");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_feed *nv = reallocarray(v, n + 1, sizeof(*v));

		if (nv == NULL) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		if ((r = feed_from_row(st, &v[n])) < 0)
			break;
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(s, rc, reterr, "cannot list feeds");
	sqlite3_finalize(st);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			store_feed_done(&v[i]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Whether one row answers st (bound by the caller). */
static int
stmt_has_row(struct store *s, sqlite3_stmt *st, struct fw_error *reterr)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_fail(s, rc, reterr, "cannot read seen items");
}

int
store_item_mark_seen_canon(struct store *s, int64_t feed_id, const struct feed_item *item,
    const char *canon, int64_t title_since, int64_t now, struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int		 rc, same = 0;

	st = stmt(s, STMT_ITEM_EXISTS);
	(void)sqlite3_bind_int64(st, 1, feed_id);
	bind_text(st, 2, item->id);
	if ((rc = stmt_has_row(s, st, reterr)) != 0)
		return rc < 0 ? rc : 0;
	/* A new guid on a known article: the feed changed its ids. The row
	 * is still written, so the next poll knows the guid at once. */
	if (canon != NULL) {
		st = stmt(s, STMT_ITEM_SAME_CANON);
		(void)sqlite3_bind_int64(st, 1, feed_id);
		bind_text(st, 2, canon);
		if ((same = stmt_has_row(s, st, reterr)) < 0)
			return same;
	}
	if (!same && item->title != NULL && item->title[0] != '\0' && title_since != FW_TIME_NONE) {
		st = stmt(s, STMT_ITEM_SAME_TITLE);
		(void)sqlite3_bind_int64(st, 1, feed_id);
		bind_text(st, 2, item->title);
		(void)sqlite3_bind_int64(st, 3, title_since);
		bind_text(st, 4, canon);
		if ((same = stmt_has_row(s, st, reterr)) < 0)
			return same;
	}
	st = stmt(s, STMT_ITEM_INSERT);
	(void)sqlite3_bind_int64(st, 1, feed_id);
	bind_text(st, 2, item->id);
	bind_text(st, 3, item->title);
	bind_text(st, 4, item->link);
	bind_text(st, 5, item->summary);
	bind_text(st, 6, item->content);
	bind_text(st, 7, item->author);
	bind_time(st, 8, item->published);
	bind_time(st, 9, item->updated);
	(void)sqlite3_bind_int64(st, 10, now);
	bind_text(st, 11, canon);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, reterr, "cannot record a seen item");
	return sqlite3_changes(s->db) > 0 && !same ? 1 : 0;
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
	sqlite3_stmt	*st;
	int		 rc, r = 0;

	rc = sqlite3_prepare_v2(s->db,
	    "SELECT i.item_id, i.title, i.link, i.summary, i.content, i.author,"
	    " i.published, i.updated, f.url FROM items i JOIN feeds f ON f.id = i.feed_id"
	    " WHERE i.first_seen >= ?1 ORDER BY i.first_seen, f.url, i.item_id", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot read stored items");
	(void)sqlite3_bind_int64(st, 1, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct feed_item item = {
			.id = (char *)sqlite3_column_text(st, 0),
			.title = (char *)sqlite3_column_text(st, 1),
			.link = (char *)sqlite3_column_text(st, 2),
			.summary = (char *)sqlite3_column_text(st, 3),
			.content = (char *)sqlite3_column_text(st, 4),
			.author = (char *)sqlite3_column_text(st, 5),
			.published = col_time(st, 6),
			.updated = col_time(st, 7),
		};

		if ((r = fn(&item, (const char *)sqlite3_column_text(st, 8), userdata)) < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(s, rc, reterr, "cannot read stored items");
	sqlite3_finalize(st);
	return r;
}

int
store_alert_add(struct store *s, const char *alert_id, const char *dedup_key,
    const char *json, int64_t now, const char *const *sinks, size_t n_sinks,
    struct fw_error *reterr)
{
	sqlite3_stmt	*st = stmt(s, STMT_ALERT_INSERT);
	int		 rc;

	bind_text(st, 1, alert_id);
	bind_text(st, 2, dedup_key);
	(void)sqlite3_bind_int64(st, 3, now);
	bind_text(st, 4, json);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, reterr, "cannot queue an alert");
	if (sqlite3_changes(s->db) == 0)
		return 0;
	for (size_t i = 0; i < n_sinks; i++) {
		st = stmt(s, STMT_DELIVERY_INSERT);
		bind_text(st, 1, alert_id);
		bind_text(st, 2, sinks[i]);
		(void)sqlite3_bind_int64(st, 3, now);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, rc, reterr, "cannot queue a delivery");
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
deliveries_query(struct store *s, sqlite3_stmt *st, struct store_delivery **ret,
    size_t *ret_n, struct fw_error *reterr)
{
	struct store_delivery	*v = NULL;
	size_t			 n = 0;
	int			 rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_delivery	*nv = reallocarray(v, n + 1, sizeof(*v));
		int			 oom = 0;

		if (nv == NULL) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		memset(&v[n], 0, sizeof(v[n]));
		v[n].alert_id = col_strdup(st, 0, &oom);
		v[n].sink = col_strdup(st, 1, &oom);
		v[n].json = col_strdup(st, 2, &oom);
		v[n].state = (enum delivery_state)sqlite3_column_int(st, 3);
		v[n].attempts = sqlite3_column_int(st, 4);
		v[n].next_attempt = sqlite3_column_int64(st, 5);
		v[n].last_error = col_strdup(st, 6, &oom);
		v[n].created = sqlite3_column_int64(st, 7);
		v[n].digest_id = col_strdup(st, 8, &oom);
		n++;
		if (oom) {
			r = -ENOMEM;
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(s, rc, reterr, "cannot read the outbox");
	sqlite3_finalize(st);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			store_delivery_done(&v[i]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

#define DELIVERY_COLUMNS \
	"SELECT d.alert_id, d.sink, a.json, d.state, d.attempts, d.next_attempt," \
	" d.last_error, a.created, d.digest_id" \
	" FROM deliveries d JOIN alerts a ON a.id = d.alert_id"

int
store_deliveries_due_page(struct store *s, int64_t now, size_t offset, size_t limit,
    struct store_delivery **ret, size_t *ret_n, struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int		 rc;

	/* The page is chosen on the keys alone and the alerts' JSON read for
	 * it only: sorting the whole due list with its JSON, page after page,
	 * was most of a burst's delivery time. */
	rc = sqlite3_prepare_v2(s->db, DELIVERY_COLUMNS
	    " JOIN (SELECT d.rowid AS drow FROM deliveries d JOIN alerts a ON a.id = d.alert_id"
	    "  WHERE d.state IN (0, 4) AND d.next_attempt <= ?1"
	    "  ORDER BY d.next_attempt, a.created, a.rowid, d.sink LIMIT ?2 OFFSET ?3) AS page"
	    " ON d.rowid = page.drow"
	    " ORDER BY d.next_attempt, a.created, a.rowid, d.sink", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot read the outbox");
	(void)sqlite3_bind_int64(st, 1, now);
	(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	(void)sqlite3_bind_int64(st, 3, (sqlite3_int64)offset);
	return deliveries_query(s, st, ret, ret_n, reterr);
}

int
store_deliveries_due(struct store *s, int64_t now, size_t limit,
    struct store_delivery **ret, size_t *ret_n, struct fw_error *reterr)
{
	return store_deliveries_due_page(s, now, 0, limit, ret, ret_n, reterr);
}

int
store_deliveries_list(struct store *s, bool failed_only, size_t limit,
    struct store_delivery **ret, size_t *ret_n, struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(s->db, failed_only
	    ? DELIVERY_COLUMNS " WHERE d.state IN (2, 5) ORDER BY a.created DESC, a.rowid DESC, d.sink LIMIT ?1"
	    : DELIVERY_COLUMNS " ORDER BY a.created DESC, a.rowid DESC, d.sink LIMIT ?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot read the outbox");
	(void)sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
	return deliveries_query(s, st, ret, ret_n, reterr);
}

int
store_deliveries_held(struct store *s, const char *sink, int64_t now, size_t limit,
    struct store_delivery **ret, size_t *ret_n, struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(s->db, DELIVERY_COLUMNS
	    " WHERE d.sink = ?1 AND d.state = 4 AND d.next_attempt <= ?2"
	    " ORDER BY d.digest_id IS NULL, d.digest_id, a.created, a.rowid LIMIT ?3",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot read the outbox");
	bind_text(st, 1, sink);
	(void)sqlite3_bind_int64(st, 2, now);
	(void)sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	return deliveries_query(s, st, ret, ret_n, reterr);
}

int
store_delivery_set_digest(struct store *s, const char *alert_id, const char *sink,
    const char *digest_id, struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(s->db, "UPDATE deliveries SET digest_id = ?3"
	    " WHERE alert_id = ?1 AND sink = ?2", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot record a digest");
	bind_text(st, 1, alert_id);
	bind_text(st, 2, sink);
	bind_text(st, 3, digest_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, rc, reterr, "cannot record a digest");
}

int
store_deliveries_sent_times(struct store *s, const char *sink, int64_t since,
    size_t limit, int64_t **ret, size_t *ret_n, struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int64_t		*v = NULL;
	size_t		 n = 0;
	int		 rc, r = 0;

	rc = sqlite3_prepare_v2(s->db,
	    "SELECT updated FROM deliveries WHERE sink = ?1 AND state = 1 AND updated > ?2"
	    " UNION ALL SELECT max(updated) FROM deliveries"
	    " WHERE sink = ?1 AND state = 3 AND updated > ?2 GROUP BY digest_id"
	    " ORDER BY 1 DESC LIMIT ?3", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot read the outbox");
	bind_text(st, 1, sink);
	(void)sqlite3_bind_int64(st, 2, since);
	(void)sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t *nv = reallocarray(v, n + 1, sizeof(*v));

		if (nv == NULL) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		v[n++] = sqlite3_column_int64(st, 0);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(s, rc, reterr, "cannot read the outbox");
	sqlite3_finalize(st);
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
	sqlite3_stmt	*st = stmt(s, STMT_DELIVERY_UPDATE);
	int		 rc;

	bind_text(st, 1, alert_id);
	bind_text(st, 2, sink);
	(void)sqlite3_bind_int(st, 3, (int)state);
	(void)sqlite3_bind_int(st, 4, attempts);
	(void)sqlite3_bind_int64(st, 5, next_attempt);
	bind_text(st, 6, last_error);
	(void)sqlite3_bind_int64(st, 7, now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, rc, reterr, "cannot record a delivery");
}

int
store_deliveries_retry(struct store *s, const char *alert_id, int64_t now,
    struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(s->db,
	    "UPDATE deliveries SET state = 0, attempts = 0, next_attempt = ?1,"
	    " digest_id = NULL WHERE state IN (2, 5) AND (?2 IS NULL OR alert_id = ?2)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot requeue deliveries");
	(void)sqlite3_bind_int64(st, 1, now);
	bind_text(st, 2, alert_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, reterr, "cannot requeue deliveries");
	return sqlite3_changes(s->db);
}

int
store_deliveries_hurry(struct store *s, const char *sink, const char *alert_id,
    int64_t now, struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(s->db,
	    "UPDATE deliveries SET next_attempt = ?1 WHERE state = 0 AND next_attempt > ?1"
	    " AND (?2 IS NULL OR sink = ?2) AND (?3 IS NULL OR alert_id = ?3)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot requeue deliveries");
	(void)sqlite3_bind_int64(st, 1, now);
	bind_text(st, 2, sink);
	bind_text(st, 3, alert_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, reterr, "cannot requeue deliveries");
	return sqlite3_changes(s->db);
}

int
store_alert_find(struct store *s, const char *prefix, char **ret_id, struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	char		*id = NULL;
	int		 rc, n = 0;

	rc = sqlite3_prepare_v2(s->db, "SELECT id FROM alerts WHERE"
	    " substr(id, 1, length(?1)) = ?1 ORDER BY id LIMIT 2", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot look up alerts");
	bind_text(st, 1, prefix);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == 0 && (id = strdup((const char *)sqlite3_column_text(st, 0))) == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(id);
		return store_fail(s, rc, reterr, "cannot look up alerts");
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
	sqlite3_stmt	*st;
	int		 rc;

	/* Deliveries go with their alert (ON DELETE CASCADE). */
	rc = sqlite3_prepare_v2(s->db, "DELETE FROM alerts WHERE created < ?1 AND NOT EXISTS"
	    " (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.state IN (0, 4))",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot prune old alerts");
	(void)sqlite3_bind_int64(st, 1, before);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, reterr, "cannot prune old alerts");
	return sqlite3_changes(s->db);
}

int
store_deliveries_count(struct store *s, enum delivery_state state, int64_t *ret,
    struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM deliveries WHERE state = ?1",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot count deliveries");
	(void)sqlite3_bind_int(st, 1, (int)state);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_fail(s, rc, reterr, "cannot count deliveries");
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
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(s->db, "SELECT tokens, refilled, blocked_until FROM sink_flood"
	    " WHERE sink = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot read flood control state");
	bind_text(st, 1, sink);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret->tokens = sqlite3_column_double(st, 0);
		ret->refilled = sqlite3_column_int64(st, 1);
		ret->blocked_until = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_fail(s, rc, reterr, "cannot read flood control state");
}

int
store_sink_flood_save(struct store *s, const char *sink, const struct store_sink_flood *f,
    struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO sink_flood(sink, tokens,"
	    " refilled, blocked_until) VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot save flood control state");
	bind_text(st, 1, sink);
	(void)sqlite3_bind_double(st, 2, f->tokens);
	(void)sqlite3_bind_int64(st, 3, f->refilled);
	(void)sqlite3_bind_int64(st, 4, f->blocked_until);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, rc, reterr, "cannot save flood control state");
}
