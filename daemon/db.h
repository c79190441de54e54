/* db.h — the SQL driver under the store: one connection to a SQLite file or
 * to a PostgreSQL database, statements with numbered parameters (?1, ?2 …;
 * PostgreSQL gets them as $1, $2 …), rows stepped through one at a time.
 * store.c and store_dev.c are written once against this, in SQL that both
 * engines accept; the few differences (schemas, locking) are asked for by
 * db_kind(). Each engine's result codes are translated into struct
 * fw_error and a negative errno here, in db_sqlite.c and db_pg.c. Never
 * logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct db;
struct db_stmt;

enum db_kind {
	DB_SQLITE,
	DB_POSTGRESQL,
	_DB_KIND_MAX,
};

/* Whether a state: value names a PostgreSQL database: a postgresql:// or
 * postgres:// URI, or a libpq keyword string ("host=db dbname=feedwatch").
 * Anything else is the path of a SQLite file. */
bool db_target_is_postgresql(const char *target);

/* Connects to target (a SQLite path, ":memory:", or a PostgreSQL URI or
 * keyword string). */
int db_open(const char *target, struct db **ret, struct fw_error *reterr) _must_check_;
struct db *db_close(struct db *db);
enum db_kind db_kind(const struct db *db);
/* What error messages name: the file, or the database without its
 * password. Borrowed, valid until db_close(). */
const char *db_label(const struct db *db);

/* Runs one or more statements without parameters. */
int db_exec(struct db *db, const char *sql, struct fw_error *reterr) _must_check_;

/* A statement lives until db_stmt_free() and may be run any number of
 * times: bind, step until it returns 0, reset. */
int db_prepare(struct db *db, const char *sql, struct db_stmt **ret,
    struct fw_error *reterr) _must_check_;
struct db_stmt *db_stmt_free(struct db_stmt *st);
/* Ends a run and clears the bindings; the columns of the last row go. */
void db_reset(struct db_stmt *st);
/* Parameters count from 1. Text is borrowed until the first db_step() of
 * the run (NULL binds NULL); db_bind_text_n() copies n bytes. */
void db_bind_text(struct db_stmt *st, int i, const char *v);
void db_bind_text_n(struct db_stmt *st, int i, const char *v, size_t n);
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
void db_bind_double(struct db_stmt *st, int i, double v);
void db_bind_null(struct db_stmt *st, int i);
/* Returns 1 with a row, 0 when the statement is done, or a negative errno
 * with reterr set (what names the action for the message). */
int db_step(struct db_stmt *st, struct fw_error *reterr, const char *what) _must_check_;
/* Columns of the current row, counted from 0. Text is borrowed until the
 * next db_step() or db_reset(); NULL when the value is NULL. */
bool db_column_null(struct db_stmt *st, int i);
const char *db_column_text(struct db_stmt *st, int i);
int64_t db_column_int64(struct db_stmt *st, int i);
double db_column_double(struct db_stmt *st, int i);
/* Rows the last run of st inserted, updated or deleted. */
int64_t db_changes(const struct db_stmt *st);

/* One transaction at a time. db_begin() takes the write lock at once on
 * SQLite (a second writer waits there, not half-way through). */
int db_begin(struct db *db, struct fw_error *reterr) _must_check_;
int db_commit(struct db *db, struct fw_error *reterr) _must_check_;
void db_rollback(struct db *db);	/* no-op outside a transaction */

/* The schema version (0: an empty database). Called inside a
 * transaction: on PostgreSQL it also takes a lock that two instances
 * starting together queue on until the transaction ends, so the schema is
 * created or upgraded once. */
int db_schema_version(struct db *db, int *ret, struct fw_error *reterr) _must_check_;
int db_schema_version_set(struct db *db, int version, struct fw_error *reterr) _must_check_;
