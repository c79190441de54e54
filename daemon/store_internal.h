/* store_internal.h — what the files of the store stage (store.c, the
 * state's tables; store_dev.c, the developments' tables) share. Nothing
 * outside them includes it. */
#pragma once

#include <sqlite3.h>

#include "store.h"

enum store_dev_stmt {
	SDS_STORY_INSERT,
	SDS_TERM_INSERT,
	SDS_DF_GET,
	SDS_DF_ADD,
	SDS_POSTINGS,
	SDS_STORY_GET,
	SDS_DEV_MEMBERS,
	SDS_DEV_INSERT,
	SDS_DEV_GET,
	SDS_DEV_UPDATE,
	SDS_STORY_BY_CANON,
	_SDS_MAX,
};

struct store {
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*stmts[16];
	sqlite3_stmt	*dev_stmts[_SDS_MAX];	/* prepared when first used */
};

/* Translates a SQLite result code into reterr and a negative errno. */
int store_fail(struct store *s, int rc, struct fw_error *reterr, const char *what);
/* Finalizes the developments' statements (store_close()). */
void store_dev_stmts_done(struct store *s);
