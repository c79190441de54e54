/* db_pg.c — the PostgreSQL engine of db.h, over libpq: the shared state of
 * several feedwatch instances. Each run of a statement is one
 * PQexecParams() whose whole result is read before the first row is
 * handed out, so the store may run other statements while it steps
 * through rows, as it does on SQLite. A connection lost outside a
 * transaction (the server restarted) is made again and the statement
 * sent once more; inside one the error goes up, the caller rolls back and
 * the next transaction reconnects. libpq's errors and SQLSTATEs are
 * translated here only. */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

/* Type oids of the parameters (pg_type.h is the server's header). */
#define PG_OID_INT8	20
#define PG_OID_TEXT	25
#define PG_OID_FLOAT8	701

/* Serialises schema creation between instances (pg_advisory_xact_lock). */
#define PG_SCHEMA_LOCK	"7366657764617463"	/* "feedwatc" in hex */

struct db {
	struct db_base	 base;
	PGconn		*conn;
	bool		 in_transaction;
	unsigned	 generation;	/* of the connection: +1 at each reconnect */
	unsigned	 statements;	/* server-side statements named so far */
};

struct pg_param {
	const char	*value;		/* NULL: SQL NULL */
	char		*owned;		/* a copy value points into */
	unsigned int	 type;
	char		 num[32];
};

struct db_stmt {
	struct db_stmt_base	 base;
	struct db		*db;
	char			*sql;		/* with $n for ?n */
	int			 n_params;
	struct pg_param		*params;
	const char		**values;	/* what PQexecParams() reads */
	Oid			*types;
	bool			 oom;		/* a binding could not be copied */
	PGresult		*res;
	int			 row;		/* the current row; -1 before the first */
	int64_t			 changes;
	unsigned		 runs;
	char			 name[24];	/* prepared on the server as */
	unsigned		 prepared;	/* on that generation + 1; 0 = not */
};

/* libpq's messages end in a newline; fw_error lines do not. */
static const char *
pg_message(const char *msg, char *buf, size_t size)
{
	size_t n;

	(void)snprintf(buf, size, "%s", msg != NULL && *msg != '\0' ? msg : "unknown error");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

static int
pg_errno(const char *sqlstate)
{
	static const struct {
		const char	*prefix;
		int		 err;
	} map[] = {
		{ "08", ECONNRESET },	/* connection exception */
		{ "57P", ECONNRESET },	/* the server is shutting down */
		{ "28", EACCES },	/* invalid authorisation */
		{ "42501", EACCES },	/* insufficient privilege */
		{ "40", EBUSY },	/* serialisation failure, deadlock */
		{ "55P03", EBUSY },	/* lock not available */
		{ "53100", ENOSPC },	/* disk full */
		{ "53200", ENOMEM },	/* out of memory */
		{ "23", EEXIST },	/* integrity constraint violation */
		{ "XX001", EBADMSG },	/* data corrupted */
	};

	if (sqlstate == NULL)
		return ECONNRESET;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(sqlstate, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].err;
	return EIO;
}

static int
pg_fail(struct db *db, const PGresult *res, struct fw_error *reterr, const char *what)
{
	char buf[512];

	pg_message(res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(db->conn), buf,
	    sizeof(buf));
	fw_error_set(reterr, db->base.label, 0, 0, "%s: %s", what, buf);
	return -pg_errno(res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
}

/* "postgresql://user@host:port/dbname", whatever form target had, without
 * its password: what error messages and logs may show. */
static char *
pg_label(const char *target)
{
	PQconninfoOption	*opts = PQconninfoParse(target, NULL);
	const char		*user = NULL, *host = NULL, *port = NULL, *dbname = NULL;
	char			*label = NULL;

	if (opts == NULL)
		return strdup("postgresql");
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "user") == 0)
			user = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			dbname = o->val;
	}
	if (asprintf(&label, "postgresql://%s%s%s%s%s/%s", user != NULL ? user : "",
	    user != NULL ? "@" : "", host != NULL ? host : "", port != NULL ? ":" : "",
	    port != NULL ? port : "", dbname != NULL ? dbname : "") < 0)
		label = NULL;
	PQconninfoFree(opts);
	return label;
}

static void
pg_close(struct db *db)
{
	PQfinish(db->conn);
	free(db->base.label);
	free(db);
}

/* Settings every connection gets, the first time and after a reconnect. */
static int
pg_session_setup(struct db *db, struct fw_error *reterr)
{
	PGresult	*res;
	int		 r = 0;

	if (PQsetClientEncoding(db->conn, "UTF8") != 0)
		return pg_fail(db, NULL, reterr, "cannot set the client encoding");
	/* The notices of CREATE … IF NOT EXISTS would go to stderr. */
	res = PQexec(db->conn, "SET client_min_messages = warning");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		r = pg_fail(db, res, reterr, "cannot set up the session");
	PQclear(res);
	return r;
}

static int
pg_reconnect(struct db *db, struct fw_error *reterr)
{
	/* The server forgot the prepared statements with the connection. */
	db->generation++;
	PQreset(db->conn);
	if (PQstatus(db->conn) != CONNECTION_OK)
		return pg_fail(db, NULL, reterr, "cannot reconnect to the database");
	return pg_session_setup(db, reterr);
}

static int
pg_open(const char *target, struct db **ret, struct fw_error *reterr)
{
	struct db	*db;
	int		 r;

	db = calloc(1, sizeof(*db));
	if (db == NULL || (db->base.label = pg_label(target)) == NULL) {
		free(db);
		return -ENOMEM;
	}
	db->base.ops = &db_pg_ops;
	db->base.kind = DB_POSTGRESQL;
	db->conn = PQconnectdb(target);
	if (db->conn == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		r = pg_fail(db, NULL, reterr, "cannot connect to the database");
		goto fail;
	}
	if ((r = pg_session_setup(db, reterr)) < 0)
		goto fail;
	*ret = db;
	return 0;
fail:
	pg_close(db);
	return r;
}

/* A statement run a second time is prepared on the server (parsed and
 * planned once per connection); one run once, as most listings are, is
 * sent whole and costs no more round trips. The parameter types are those
 * of its bindings then (NULL: what the server infers). */
static PGresult *
pg_exec_stmt(struct db *db, struct db_stmt *st)
{
	PGresult *res;

	if (st->runs++ == 0)
		return PQexecParams(db->conn, st->sql, st->n_params, st->types, st->values,
		    NULL, NULL, 0);
	if (st->prepared != db->generation + 1) {
		(void)snprintf(st->name, sizeof(st->name), "fw%u", ++db->statements);
		res = PQprepare(db->conn, st->name, st->sql, st->n_params, st->types);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;
		PQclear(res);
		st->prepared = db->generation + 1;
	}
	return PQexecPrepared(db->conn, st->name, st->n_params, st->values, NULL, NULL, 0);
}

/* Runs sql once, reconnecting first when the connection was lost and no
 * transaction is open. On success *ret holds the result. */
static int
pg_run(struct db *db, struct db_stmt *st, const char *sql, PGresult **ret,
    struct fw_error *reterr, const char *what)
{
	for (int attempt = 0;; attempt++) {
		PGresult	*res;
		int		 r;

		if (PQstatus(db->conn) != CONNECTION_OK && !db->in_transaction &&
		    (r = pg_reconnect(db, reterr)) < 0)
			return r;
		if (st != NULL) {
			for (int i = 0; i < st->n_params; i++) {
				st->values[i] = st->params[i].value;
				st->types[i] = st->params[i].type;
			}
			res = pg_exec_stmt(db, st);
		} else
			res = PQexec(db->conn, sql);
		switch (PQresultStatus(res)) {
		case PGRES_COMMAND_OK:
		case PGRES_TUPLES_OK:
		case PGRES_EMPTY_QUERY:
			*ret = res;
			return 0;
		default:
			break;
		}
		/* The server went away before the statement ran (a restart
		 * drops every connection): outside a transaction nothing was
		 * done, so it is sent once more on a new connection. */
		if (attempt == 0 && PQstatus(db->conn) != CONNECTION_OK && !db->in_transaction) {
			PQclear(res);
			continue;
		}
		r = pg_fail(db, res, reterr, what);
		PQclear(res);
		return r;
	}
}

static int
pg_exec(struct db *db, const char *sql, struct fw_error *reterr)
{
	PGresult	*res = NULL;
	int		 r;

	r = pg_run(db, NULL, sql, &res, reterr, "cannot update the state database");
	PQclear(res);
	return r;
}

/* ?n becomes $n, and a bare ? the next number; quoted text is left as it
 * is. Returns the highest parameter number. */
static int
pg_translate(const char *sql, char *out)
{
	int	 next = 1, max = 0;
	char	 quote = 0;

	for (const char *p = sql; *p != '\0'; p++) {
		if (quote != 0) {
			if (*p == quote)
				quote = 0;
			*out++ = *p;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
			*out++ = *p;
			continue;
		}
		if (*p != '?') {
			*out++ = *p;
			continue;
		}
		*out++ = '$';
		if (p[1] >= '0' && p[1] <= '9') {
			int n = 0;

			while (p[1] >= '0' && p[1] <= '9') {
				n = n * 10 + (p[1] - '0');
				*out++ = *++p;
			}
			next = n + 1;
			if (n > max)
				max = n;
		} else {
			out += sprintf(out, "%d", next);
			if (next > max)
				max = next;
			next++;
		}
	}
	*out = '\0';
	return max;
}

static void
pg_clear_bindings(struct db_stmt *st)
{
	if (st->params == NULL)
		return;
	for (int i = 0; i < st->n_params; i++) {
		free(st->params[i].owned);
		memset(&st->params[i], 0, sizeof(st->params[i]));
	}
	st->oom = false;
}

static void
pg_reset(struct db_stmt *st)
{
	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	pg_clear_bindings(st);
}

static void
pg_stmt_free(struct db_stmt *st)
{
	pg_reset(st);
	if (st->prepared == st->db->generation + 1 && PQstatus(st->db->conn) == CONNECTION_OK) {
		char sql[40];

		(void)snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
		PQclear(PQexec(st->db->conn, sql));
	}
	free(st->params);
	free(st->values);
	free(st->types);
	free(st->sql);
	free(st);
}

static int
pg_prepare(struct db *db, const char *sql, struct db_stmt **ret, struct fw_error *reterr)
{
	struct db_stmt	*st;
	size_t		 len = strlen(sql);

	st = calloc(1, sizeof(*st));
	/* A bare ? may become $ and up to 10 digits. */
	if (st == NULL || (st->sql = malloc(len * 11 + 1)) == NULL) {
		free(st);
		return -ENOMEM;
	}
	st->base.ops = &db_pg_ops;
	st->db = db;
	st->row = -1;
	st->n_params = pg_translate(sql, st->sql);
	if (st->n_params > 0 &&
	    ((st->params = calloc((size_t)st->n_params, sizeof(*st->params))) == NULL ||
	    (st->values = calloc((size_t)st->n_params, sizeof(*st->values))) == NULL ||
	    (st->types = calloc((size_t)st->n_params, sizeof(*st->types))) == NULL)) {
		pg_stmt_free(st);
		return -ENOMEM;
	}
	(void)reterr;
	*ret = st;
	return 0;
}

static struct pg_param *
pg_param(struct db_stmt *st, int i)
{
	struct pg_param *p;

	if (i < 1 || i > st->n_params)
		return NULL;
	p = &st->params[i - 1];
	free(p->owned);
	memset(p, 0, sizeof(*p));
	return p;
}

static void
pg_bind_text(struct db_stmt *st, int i, const char *v)
{
	struct pg_param *p = pg_param(st, i);

	if (p != NULL) {
		p->value = v;
		p->type = PG_OID_TEXT;
	}
}

static void
pg_bind_text_n(struct db_stmt *st, int i, const char *v, size_t n)
{
	struct pg_param *p = pg_param(st, i);

	if (p == NULL)
		return;
	p->type = PG_OID_TEXT;
	if ((p->owned = strndup(v, n)) == NULL)
		st->oom = true;
	p->value = p->owned;
}

static void
pg_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	struct pg_param *p = pg_param(st, i);

	if (p != NULL) {
		(void)snprintf(p->num, sizeof(p->num), "%" PRId64, v);
		p->value = p->num;
		p->type = PG_OID_INT8;
	}
}

static void
pg_bind_double(struct db_stmt *st, int i, double v)
{
	struct pg_param *p = pg_param(st, i);

	if (p != NULL) {
		(void)snprintf(p->num, sizeof(p->num), "%.17g", v);
		p->value = p->num;
		p->type = PG_OID_FLOAT8;
	}
}

static void
pg_bind_null(struct db_stmt *st, int i)
{
	(void)pg_param(st, i);
}

static int
pg_step(struct db_stmt *st, struct fw_error *reterr, const char *what)
{
	int r;

	if (st->res == NULL) {
		if (st->oom)
			return -ENOMEM;
		if ((r = pg_run(st->db, st, NULL, &st->res, reterr, what)) < 0)
			return r;
		st->changes = strtoll(PQcmdTuples(st->res), NULL, 10);
	}
	if (st->row + 1 < PQntuples(st->res)) {
		st->row++;
		return 1;
	}
	return 0;
}

static bool
pg_column_null(struct db_stmt *st, int i)
{
	return st->res == NULL || st->row < 0 || PQgetisnull(st->res, st->row, i);
}

static const char *
pg_column_text(struct db_stmt *st, int i)
{
	return pg_column_null(st, i) ? NULL : PQgetvalue(st->res, st->row, i);
}

static int64_t
pg_column_int64(struct db_stmt *st, int i)
{
	const char *v = pg_column_text(st, i);

	/* Booleans come as "t" and "f". */
	if (v == NULL)
		return 0;
	if (v[0] == 't' || v[0] == 'f')
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static double
pg_column_double(struct db_stmt *st, int i)
{
	const char *v = pg_column_text(st, i);

	return v != NULL ? strtod(v, NULL) : 0;
}

static int64_t
pg_changes(const struct db_stmt *st)
{
	return st->changes;
}

static int
pg_begin(struct db *db, struct fw_error *reterr)
{
	int r;

	if ((r = pg_exec(db, "BEGIN", reterr)) == 0)
		db->in_transaction = true;
	return r;
}

static int
pg_commit(struct db *db, struct fw_error *reterr)
{
	PGresult	*res = NULL;
	int		 r;

	r = pg_run(db, NULL, "COMMIT", &res, reterr, "cannot update the state database");
	db->in_transaction = false;
	/* COMMIT of a transaction a failed statement aborted rolls it back
	 * and says so only in its command tag. */
	if (r == 0 && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		fw_error_set(reterr, db->base.label, 0, 0,
		    "cannot update the state database: the transaction was rolled back");
		r = -EIO;
	}
	PQclear(res);
	return r;
}

static void
pg_rollback(struct db *db)
{
	if (!db->in_transaction)
		return;
	db->in_transaction = false;
	if (PQstatus(db->conn) == CONNECTION_OK)
		PQclear(PQexec(db->conn, "ROLLBACK"));
}

static int
pg_schema_version(struct db *db, int *ret, struct fw_error *reterr)
{
	PGresult	*res = NULL;
	int		 r;

	r = pg_exec(db, "SELECT pg_advisory_xact_lock(x'" PG_SCHEMA_LOCK "'::bigint);"
	    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", reterr);
	if (r < 0)
		return r;
	r = pg_run(db, NULL, "SELECT max(version) FROM schema_version", &res, reterr,
	    "cannot read the schema version");
	if (r == 0)
		*ret = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)
		    ? (int)strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return r;
}

static int
pg_schema_version_set(struct db *db, int version, struct fw_error *reterr)
{
	char sql[96];

	(void)snprintf(sql, sizeof(sql), "DELETE FROM schema_version;"
	    "INSERT INTO schema_version VALUES (%d)", version);
	return pg_exec(db, sql, reterr);
}

const struct db_ops db_pg_ops = {
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.prepare = pg_prepare,
	.stmt_free = pg_stmt_free,
	.reset = pg_reset,
	.bind_text = pg_bind_text,
	.bind_text_n = pg_bind_text_n,
	.bind_int64 = pg_bind_int64,
	.bind_double = pg_bind_double,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.column_null = pg_column_null,
	.column_text = pg_column_text,
	.column_int64 = pg_column_int64,
	.column_double = pg_column_double,
	.changes = pg_changes,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.schema_version = pg_schema_version,
	.schema_version_set = pg_schema_version_set,
};
