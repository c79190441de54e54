/* db_sqlite.c — the SQLite engine of db.h: the embedded default, one file
 * in WAL mode. SQLite result codes are translated here only. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_internal.h"

#define DB_SQLITE_BUSY_TIMEOUT_MS	5000
/* The page cache (KiB) and the memory map (bytes), see sqlite_tune(). */
#define STORE_CACHE_KIB		2048
#ifndef STORE_MMAP_SIZE
#define STORE_MMAP_SIZE		0
#endif
/* New state files only: an existing file keeps its page size. */
#define STORE_PAGE_SIZE		"16384"
/* WAL pages between automatic checkpoints (bench/deliver/RESULTS.md). */
#ifndef STORE_WAL_AUTOCHECKPOINT
#define STORE_WAL_AUTOCHECKPOINT	1000
#endif

struct db {
	struct db_base	 base;
	sqlite3		*conn;
};

struct db_stmt {
	struct db_stmt_base	 base;
	struct db		*db;
	sqlite3_stmt		*st;
	int64_t			 changes;
};

static int
sqlite_fail(struct db *db, int rc, struct fw_error *reterr, const char *what)
{
	fw_error_set(reterr, db->base.label, 0, 0, "%s: %s", what,
	    db->conn != NULL ? sqlite3_errmsg(db->conn) : sqlite3_errstr(rc));
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

static void
sqlite_close(struct db *db)
{
	sqlite3_close(db->conn);
	free(db->base.label);
	free(db);
}

static int
sqlite_exec(struct db *db, const char *sql, struct fw_error *reterr)
{
	int rc = sqlite3_exec(db->conn, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sqlite_fail(db, rc, reterr, "cannot update the state file");
}

/* Sizes the page cache and the memory map (bench/deliver/RESULTS.md,
 * bench/poll/RESULTS.md). The cache holds 2 MiB: what grouping a burst's
 * stories into developments reads again and again (the term index and
 * its document frequencies; below it the pread comes back); more did
 * not pay for itself, and it is the process's own memory. There is no
 * memory map: the pages of the state file read through it count in the
 * process's resident memory (a cold cycle over 500 feeds peaked at
 * 112 MiB with a map of twice the file, 22 MiB without), and since the
 * outbox reads its due order from an index (schema 4) the delivery
 * gained little from it. The WAL is checkpointed every
 * STORE_WAL_AUTOCHECKPOINT pages and cut back to 4 MiB after, so a
 * burst does not leave a WAL of hundreds of megabytes behind. */
static int
sqlite_tune(struct db *db, struct fw_error *reterr)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d; PRAGMA mmap_size = %lld;"
	    " PRAGMA wal_autocheckpoint = %d; PRAGMA journal_size_limit = %d",
	    STORE_CACHE_KIB, (long long)STORE_MMAP_SIZE, STORE_WAL_AUTOCHECKPOINT, 4 << 20);
	return sqlite_exec(db, sql, reterr);
}

static int
sqlite_open(const char *path, struct db **ret, struct fw_error *reterr)
{
	struct db	*db;
	int		 rc, r;

	db = calloc(1, sizeof(*db));
	if (db == NULL || (db->base.label = strdup(path)) == NULL) {
		free(db);
		return -ENOMEM;
	}
	db->base.ops = &db_sqlite_ops;
	db->base.kind = DB_SQLITE;
	/* The file holds alert content and errors: created 0600 whatever the
	 * umask, and SQLite gives its -wal and -shm files the mode of the
	 * database file. An existing file keeps the mode it has. */
	if (strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0) {
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd >= 0)
			(void)close(fd);
	}
	rc = sqlite3_open_v2(path, &db->conn,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = sqlite_fail(db, rc, reterr, "cannot open the state file");
		goto fail;
	}
	(void)sqlite3_busy_timeout(db->conn, DB_SQLITE_BUSY_TIMEOUT_MS);
	(void)sqlite3_extended_result_codes(db->conn, 1);
	/* A new file's pages are 16 KiB (set before WAL mode, which fixes
	 * it): an alert row (~2.5 KB of JSON) left most of a 4 KiB page
	 * empty, and a burst's commits rewrite fewer, fuller pages. A burst
	 * of 20,959 alerts wrote 19% fewer bytes and left a 30% smaller file
	 * (bench/deliver/RESULTS.md). WAL lets `status` and `alerts` read
	 * while the daemon writes; synchronous=NORMAL in WAL keeps every
	 * commit across a crash of the process (only power loss may lose
	 * the last transactions). */
	if ((r = sqlite_exec(db, "PRAGMA page_size = " STORE_PAGE_SIZE, reterr)) < 0 ||
	    (r = sqlite_exec(db, "PRAGMA journal_mode = WAL", reterr)) < 0 ||
	    (r = sqlite_exec(db, "PRAGMA synchronous = NORMAL", reterr)) < 0 ||
	    (r = sqlite_exec(db, "PRAGMA foreign_keys = ON", reterr)) < 0 ||
	    (r = sqlite_tune(db, reterr)) < 0)
		goto fail;
	*ret = db;
	return 0;
fail:
	sqlite_close(db);
	return r;
}

static int
sqlite_prepare(struct db *db, const char *sql, struct db_stmt **ret, struct fw_error *reterr)
{
	struct db_stmt	*st;
	int		 rc;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	st->base.ops = &db_sqlite_ops;
	st->db = db;
	rc = sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->st, NULL);
	if (rc != SQLITE_OK) {
		free(st);
		return sqlite_fail(db, rc, reterr, "cannot prepare a statement");
	}
	*ret = st;
	return 0;
}

static void
sqlite_stmt_free(struct db_stmt *st)
{
	sqlite3_finalize(st->st);
	free(st);
}

static void
sqlite_reset(struct db_stmt *st)
{
	sqlite3_reset(st->st);
	sqlite3_clear_bindings(st->st);
}

static void
sqlite_bind_text(struct db_stmt *st, int i, const char *v)
{
	if (v != NULL)
		(void)sqlite3_bind_text(st->st, i, v, -1, SQLITE_STATIC);
	else
		(void)sqlite3_bind_null(st->st, i);
}

static void
sqlite_bind_text_n(struct db_stmt *st, int i, const char *v, size_t n)
{
	(void)sqlite3_bind_text64(st->st, i, v, n, SQLITE_TRANSIENT, SQLITE_UTF8);
}

static void
sqlite_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	(void)sqlite3_bind_int64(st->st, i, v);
}

static void
sqlite_bind_double(struct db_stmt *st, int i, double v)
{
	(void)sqlite3_bind_double(st->st, i, v);
}

static void
sqlite_bind_null(struct db_stmt *st, int i)
{
	(void)sqlite3_bind_null(st->st, i);
}

static int
sqlite_step(struct db_stmt *st, struct fw_error *reterr, const char *what)
{
	int rc = sqlite3_step(st->st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		st->changes = sqlite3_changes64(st->db->conn);
		return 0;
	}
	return sqlite_fail(st->db, rc, reterr, what);
}

static bool
sqlite_column_null(struct db_stmt *st, int i)
{
	return sqlite3_column_type(st->st, i) == SQLITE_NULL;
}

static const char *
sqlite_column_text(struct db_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st->st, i);
}

static int64_t
sqlite_column_int64(struct db_stmt *st, int i)
{
	return sqlite3_column_int64(st->st, i);
}

static double
sqlite_column_double(struct db_stmt *st, int i)
{
	return sqlite3_column_double(st->st, i);
}

static int64_t
sqlite_changes(const struct db_stmt *st)
{
	return st->changes;
}

static int
sqlite_begin(struct db *db, struct fw_error *reterr)
{
	/* IMMEDIATE takes the write lock now, so a second writer waits here
	 * instead of failing half-way through the transaction. */
	return sqlite_exec(db, "BEGIN IMMEDIATE", reterr);
}

static int
sqlite_commit(struct db *db, struct fw_error *reterr)
{
	return sqlite_exec(db, "COMMIT", reterr);
}

static void
sqlite_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->conn))
		(void)sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
}

static int
sqlite_schema_version(struct db *db, int *ret, struct fw_error *reterr)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(db->conn, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlite_fail(db, rc, reterr, "cannot read the schema version");
	rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : sqlite_fail(db, rc, reterr, "cannot read the schema version");
}

static int
sqlite_schema_version_set(struct db *db, int version, struct fw_error *reterr)
{
	char sql[64];

	(void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
	return sqlite_exec(db, sql, reterr);
}

const struct db_ops db_sqlite_ops = {
	.open = sqlite_open,
	.close = sqlite_close,
	.exec = sqlite_exec,
	.prepare = sqlite_prepare,
	.stmt_free = sqlite_stmt_free,
	.reset = sqlite_reset,
	.bind_text = sqlite_bind_text,
	.bind_text_n = sqlite_bind_text_n,
	.bind_int64 = sqlite_bind_int64,
	.bind_double = sqlite_bind_double,
	.bind_null = sqlite_bind_null,
	.step = sqlite_step,
	.column_null = sqlite_column_null,
	.column_text = sqlite_column_text,
	.column_int64 = sqlite_column_int64,
	.column_double = sqlite_column_double,
	.changes = sqlite_changes,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.schema_version = sqlite_schema_version,
	.schema_version_set = sqlite_schema_version_set,
};
