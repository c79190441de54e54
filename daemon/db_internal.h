/* db_internal.h — what db.c dispatches to: each engine (db_sqlite.c,
 * db_pg.c) fills one struct db_ops, and its struct db and struct db_stmt
 * start with the bases below. Nothing outside the db files includes it. */
#pragma once

#include "db.h"

/* The engines' halves, chosen by db_open(). */
struct db_ops {
	int		 (*open)(const char *target, struct db **ret, struct fw_error *reterr);
	void		 (*close)(struct db *db);
	int		 (*exec)(struct db *db, const char *sql, struct fw_error *reterr);
	int		 (*prepare)(struct db *db, const char *sql, struct db_stmt **ret,
			    struct fw_error *reterr);
	void		 (*stmt_free)(struct db_stmt *st);
	void		 (*reset)(struct db_stmt *st);
	void		 (*bind_text_n)(struct db_stmt *st, int i, const char *v, size_t n);
	void		 (*bind_text)(struct db_stmt *st, int i, const char *v);
	void		 (*bind_int64)(struct db_stmt *st, int i, int64_t v);
	void		 (*bind_double)(struct db_stmt *st, int i, double v);
	void		 (*bind_null)(struct db_stmt *st, int i);
	int		 (*step)(struct db_stmt *st, struct fw_error *reterr, const char *what);
	bool		 (*column_null)(struct db_stmt *st, int i);
	const char	*(*column_text)(struct db_stmt *st, int i);
	int64_t		 (*column_int64)(struct db_stmt *st, int i);
	double		 (*column_double)(struct db_stmt *st, int i);
	int64_t		 (*changes)(const struct db_stmt *st);
	int		 (*begin)(struct db *db, struct fw_error *reterr);
	int		 (*commit)(struct db *db, struct fw_error *reterr);
	void		 (*rollback)(struct db *db);
	int		 (*schema_version)(struct db *db, int *ret, struct fw_error *reterr);
	int		 (*schema_version_set)(struct db *db, int version, struct fw_error *reterr);
};

/* What every engine's struct db and struct db_stmt start with. */
struct db_base {
	const struct db_ops	*ops;
	enum db_kind		 kind;
	char			*label;
};
struct db_stmt_base {
	const struct db_ops	*ops;
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;
