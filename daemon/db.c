/* db.c — which engine a state: value names, and the calls handed on to
 * it (db_sqlite.c or db_pg.c). */
#include <string.h>

#include "db_internal.h"

#define BASE(db)	((struct db_base *)(void *)(db))
#define CBASE(db)	((const struct db_base *)(const void *)(db))
#define SBASE(st)	((const struct db_stmt_base *)(const void *)(st))

bool
db_target_is_postgresql(const char *target)
{
	/* A keyword string is "key=value …"; a file path with an '=' in
	 * its first word would be read as one, so such a file needs a
	 * "./" in front. */
	size_t key = strcspn(target, "= \t/");

	return strncmp(target, "postgresql://", 13) == 0 ||
	    strncmp(target, "postgres://", 11) == 0 ||
	    (key > 0 && target[key] == '=');
}

int
db_open(const char *target, struct db **ret, struct fw_error *reterr)
{
	return db_target_is_postgresql(target) ? db_pg_ops.open(target, ret, reterr)
	    : db_sqlite_ops.open(target, ret, reterr);
}

struct db *
db_close(struct db *db)
{
	if (db != NULL)
		BASE(db)->ops->close(db);
	return NULL;
}

enum db_kind
db_kind(const struct db *db)
{
	return CBASE(db)->kind;
}

const char *
db_label(const struct db *db)
{
	return CBASE(db)->label;
}

int
db_exec(struct db *db, const char *sql, struct fw_error *reterr)
{
	return BASE(db)->ops->exec(db, sql, reterr);
}

int
db_prepare(struct db *db, const char *sql, struct db_stmt **ret, struct fw_error *reterr)
{
	return BASE(db)->ops->prepare(db, sql, ret, reterr);
}

struct db_stmt *
db_stmt_free(struct db_stmt *st)
{
	if (st != NULL)
		SBASE(st)->ops->stmt_free(st);
	return NULL;
}

void
db_reset(struct db_stmt *st)
{
	SBASE(st)->ops->reset(st);
}

void
db_bind_text(struct db_stmt *st, int i, const char *v)
{
	SBASE(st)->ops->bind_text(st, i, v);
}

void
db_bind_text_n(struct db_stmt *st, int i, const char *v, size_t n)
{
	SBASE(st)->ops->bind_text_n(st, i, v, n);
}

void
db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	SBASE(st)->ops->bind_int64(st, i, v);
}

void
db_bind_double(struct db_stmt *st, int i, double v)
{
	SBASE(st)->ops->bind_double(st, i, v);
}

void
db_bind_null(struct db_stmt *st, int i)
{
	SBASE(st)->ops->bind_null(st, i);
}

int
db_step(struct db_stmt *st, struct fw_error *reterr, const char *what)
{
	return SBASE(st)->ops->step(st, reterr, what);
}

bool
db_column_null(struct db_stmt *st, int i)
{
	return SBASE(st)->ops->column_null(st, i);
}

const char *
db_column_text(struct db_stmt *st, int i)
{
	return SBASE(st)->ops->column_text(st, i);
}

int64_t
db_column_int64(struct db_stmt *st, int i)
{
	return SBASE(st)->ops->column_int64(st, i);
}

double
db_column_double(struct db_stmt *st, int i)
{
	return SBASE(st)->ops->column_double(st, i);
}

int64_t
db_changes(const struct db_stmt *st)
{
	return SBASE(st)->ops->changes(st);
}

int
db_begin(struct db *db, struct fw_error *reterr)
{
	return BASE(db)->ops->begin(db, reterr);
}

int
db_commit(struct db *db, struct fw_error *reterr)
{
	return BASE(db)->ops->commit(db, reterr);
}

void
db_rollback(struct db *db)
{
	BASE(db)->ops->rollback(db);
}

int
db_schema_version(struct db *db, int *ret, struct fw_error *reterr)
{
	return BASE(db)->ops->schema_version(db, ret, reterr);
}

int
db_schema_version_set(struct db *db, int version, struct fw_error *reterr)
{
	return BASE(db)->ops->schema_version_set(db, version, reterr);
}
