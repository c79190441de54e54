/* store_internal.h — what the files of the store stage (store.c, the
 * state's tables; store_dev.c, the developments' tables) share. Nothing
 * outside them includes it. */
#pragma once

#include "db.h"
#include "store.h"

enum store_dev_stmt {
	SDS_STORY_INSERT,
	SDS_TERM_INSERT,
	SDS_DF_GET,
	SDS_DF_ADD,
	SDS_POSTINGS,
	SDS_POSTINGS_MANY,
	SDS_STORY_DEV,
	SDS_DEV_MEMBERS,
	SDS_DEV_INSERT,
	SDS_DEV_GET,
	SDS_DEV_UPDATE,
	SDS_STORY_BY_CANON,
	SDS_DEV_MEMBER_IDS,
	SDS_STORY_FEATURES,
	SDS_DEV_MOVE,
	SDS_DEV_DELETE,
	SDS_PRUNE_SELECT,
	SDS_PRUNE_DELETE,
	SDS_PRUNE_MARK,
	_SDS_MAX,
};

/* The statements only a shared (PostgreSQL) state runs. */
enum store_lease_stmt {
	LEASE_FEEDS,
	LEASE_FEED_RELEASE,
	LEASE_NEXT_DUE,
	LEASE_DELIVERY_RELEASE,
	_LEASE_MAX,
};

struct store {
	struct db	*db;
	char		 owner[128];		/* this instance, in leases */
	int64_t		 lease;			/* how long a delivery's lease lasts */
	struct db_stmt	*stmts[16];
	struct db_stmt	*dev_stmts[_SDS_MAX];	/* prepared when first used */
	struct db_stmt	*lease_stmts[_LEASE_MAX];
	struct store_dev_cache *dev_cache;	/* store_dev.c's; NULL until used */
};

/* Finalizes the developments' statements and frees their cache
 * (store_close()). */
void store_dev_stmts_done(struct store *s);
/* At the start of a transaction: what another process may have written
 * since the last one is read again from the developments' cache. */
void store_dev_cache_begin(struct store *s);
/* Forgets all the developments' cache holds: at a rollback (what this
 * process wrote is undone). */
void store_dev_cache_clear(struct store *s);
/* A statement prepared once and kept in *slot, reset and ready to bind. */
int store_stmt_cached(struct store *s, struct db_stmt **slot, const char *sql,
    struct db_stmt **ret, struct fw_error *reterr) _must_check_;
/* Steps st (bound by the caller, who frees or resets it) to its end, one
 * element of size bytes per row filled by from_row, which releases what
 * it took when it fails. On failure the rows read are released with done
 * and the array freed. */
typedef int (*store_row_fn)(struct db_stmt *st, void *elem);
int store_collect_rows(struct db_stmt *st, const char *what, size_t size,
    store_row_fn from_row, void (*done)(void *elem), void **ret, size_t *ret_n,
    struct fw_error *reterr) _must_check_;
/* Runs st, bound by the caller, to its end and resets it. */
int store_step_done(struct db_stmt *st, struct fw_error *reterr, const char *what)
    _must_check_;
