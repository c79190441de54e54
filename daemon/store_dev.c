/* store_dev.c — the developments' tables of the state file: stories (items
 * that matched a topic) and the development each belongs to, the inverted
 * index of their terms by time and the terms' document frequencies. Only
 * storage: which development a story joins is cluster.c's decision. SQLite
 * result codes are translated here, as in store.c. */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_internal.h"

static const char *const dev_sql[_SDS_MAX] = {
	[SDS_STORY_INSERT] =
	    "INSERT INTO stories(feed_id, item_id, canon, t, first_seen, development,"
	    " topics, features, explain) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[SDS_TERM_INSERT] =
	    "INSERT OR IGNORE INTO story_terms(term, t, story) VALUES (?1, ?2, ?3)",
	[SDS_DF_GET] =
	    "SELECT df FROM term_df WHERE term = ?1",
	[SDS_DF_ADD] =
	    "INSERT INTO term_df(term, df) VALUES (?1, 1)"
	    " ON CONFLICT(term) DO UPDATE SET df = df + 1",
	[SDS_POSTINGS] =
	    "SELECT story FROM story_terms WHERE term = ?1 AND t BETWEEN ?2 AND ?3"
	    " ORDER BY t DESC LIMIT ?4",
	[SDS_STORY_GET] =
	    "SELECT id, feed_id, item_id, canon, t, first_seen, development, topics,"
	    " features, explain FROM stories WHERE id = ?1",
	[SDS_DEV_MEMBERS] =
	    "SELECT id, feed_id, item_id, canon, t, first_seen, development, topics,"
	    " features, explain FROM stories WHERE development = ?1 AND t BETWEEN ?2 AND ?3"
	    " ORDER BY t, id LIMIT ?4",
	[SDS_DEV_INSERT] =
	    "INSERT INTO developments(key, first_t, last_t, first_seen, last_seen, topics,"
	    " figures, sources, alert_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[SDS_DEV_GET] =
	    "SELECT id, key, first_t, last_t, first_seen, last_seen, topics, figures,"
	    " sources, alert_id FROM developments WHERE id = ?1",
	[SDS_DEV_UPDATE] =
	    "UPDATE developments SET key = ?2, first_t = ?3, last_t = ?4, first_seen = ?5,"
	    " last_seen = ?6, topics = ?7, figures = ?8, sources = ?9, alert_id = ?10"
	    " WHERE id = ?1",
	[SDS_STORY_BY_CANON] =
	    "SELECT development FROM stories WHERE canon = ?1 ORDER BY id LIMIT 1",
};

void
store_dev_stmts_done(struct store *s)
{
	for (int i = 0; i < _SDS_MAX; i++) {
		sqlite3_finalize(s->dev_stmts[i]);
		s->dev_stmts[i] = NULL;
	}
}

static int
dev_stmt(struct store *s, enum store_dev_stmt id, sqlite3_stmt **ret, struct fw_error *reterr)
{
	int rc;

	if (s->dev_stmts[id] == NULL) {
		rc = sqlite3_prepare_v3(s->db, dev_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
		    &s->dev_stmts[id], NULL);
		if (rc != SQLITE_OK)
			return store_fail(s, rc, reterr, "cannot prepare a statement");
	}
	sqlite3_reset(s->dev_stmts[id]);
	sqlite3_clear_bindings(s->dev_stmts[id]);
	*ret = s->dev_stmts[id];
	return 0;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		(void)sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		(void)sqlite3_bind_null(st, i);
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

void
store_story_done(struct store_story *st)
{
	free(st->item_id);
	free(st->canon);
	free(st->topics);
	free(st->features);
	free(st->explain);
	free(st->feed_url);
	free(st->title);
	free(st->link);
	free(st->summary);
	memset(st, 0, sizeof(*st));
}

void
store_development_done(struct store_development *d)
{
	free(d->key);
	free(d->topics);
	free(d->figures);
	free(d->sources);
	free(d->alert_id);
	memset(d, 0, sizeof(*d));
}

int
store_term_df(struct store *s, const char *term, int64_t *ret, struct fw_error *reterr)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, r;

	if ((r = dev_stmt(s, SDS_DF_GET, &st, reterr)) < 0)
		return r;
	bind_text(st, 1, term);
	rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
	    : store_fail(s, rc, reterr, "cannot read term frequencies");
}

int
store_term_postings(struct store *s, const char *term, int64_t from, int64_t to,
    size_t limit, int64_t **ids, size_t *n, struct fw_error *reterr)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, r;

	if ((r = dev_stmt(s, SDS_POSTINGS, &st, reterr)) < 0)
		return r;
	bind_text(st, 1, term);
	(void)sqlite3_bind_int64(st, 2, from);
	(void)sqlite3_bind_int64(st, 3, to);
	(void)sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t *nv = reallocarray(*ids, *n + 1, sizeof(**ids));

		if (nv == NULL) {
			sqlite3_reset(st);
			return -ENOMEM;
		}
		*ids = nv;
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, rc, reterr, "cannot read the term index");
}

static int
story_from_row(sqlite3_stmt *st, struct store_story *ret)
{
	int oom = 0;

	memset(ret, 0, sizeof(*ret));
	ret->id = sqlite3_column_int64(st, 0);
	ret->feed_id = sqlite3_column_int64(st, 1);
	ret->item_id = col_strdup(st, 2, &oom);
	ret->canon = col_strdup(st, 3, &oom);
	ret->t = sqlite3_column_int64(st, 4);
	ret->first_seen = sqlite3_column_int64(st, 5);
	ret->development = sqlite3_column_int64(st, 6);
	ret->topics = col_strdup(st, 7, &oom);
	ret->features = col_strdup(st, 8, &oom);
	ret->explain = col_strdup(st, 9, &oom);
	ret->published = FW_TIME_NONE;
	if (oom) {
		store_story_done(ret);
		return -ENOMEM;
	}
	return 0;
}

int
store_story_get(struct store *s, int64_t id, struct store_story *ret, struct fw_error *reterr)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, r;

	if ((r = dev_stmt(s, SDS_STORY_GET, &st, reterr)) < 0)
		return r;
	(void)sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = story_from_row(st, ret);
	else if (rc == SQLITE_DONE) {
		fw_error_set(reterr, s->path, 0, 0, "story %lld is missing", (long long)id);
		r = -ENOENT;
	} else
		r = store_fail(s, rc, reterr, "cannot read a story");
	sqlite3_reset(st);
	return r;
}

int
store_development_members(struct store *s, int64_t dev, int64_t from, int64_t to,
    size_t limit, struct store_story **ret, size_t *ret_n, struct fw_error *reterr)
{
	struct store_story	*v = NULL;
	sqlite3_stmt		*st = NULL;
	size_t			 n = 0;
	int			 rc, r;

	if ((r = dev_stmt(s, SDS_DEV_MEMBERS, &st, reterr)) < 0)
		return r;
	(void)sqlite3_bind_int64(st, 1, dev);
	(void)sqlite3_bind_int64(st, 2, from);
	(void)sqlite3_bind_int64(st, 3, to);
	(void)sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_story *nv = reallocarray(v, n + 1, sizeof(*v));

		if (nv == NULL) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		if ((r = story_from_row(st, &v[n])) < 0)
			break;
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(s, rc, reterr, "cannot read a development");
	sqlite3_reset(st);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			store_story_done(&v[i]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int
store_canon_development(struct store *s, const char *canon, int64_t *ret,
    struct fw_error *reterr)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, r;

	if ((r = dev_stmt(s, SDS_STORY_BY_CANON, &st, reterr)) < 0)
		return r;
	bind_text(st, 1, canon);
	rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
	    : store_fail(s, rc, reterr, "cannot read stories");
}

static int
step_done(struct store *s, sqlite3_stmt *st, struct fw_error *reterr, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, rc, reterr, what);
}

int
store_story_add(struct store *s, struct store_story *story, const char *const *terms,
    size_t n_terms, struct fw_error *reterr)
{
	sqlite3_stmt	*st = NULL;
	int		 r;

	if ((r = dev_stmt(s, SDS_STORY_INSERT, &st, reterr)) < 0)
		return r;
	(void)sqlite3_bind_int64(st, 1, story->feed_id);
	bind_text(st, 2, story->item_id);
	bind_text(st, 3, story->canon);
	(void)sqlite3_bind_int64(st, 4, story->t);
	(void)sqlite3_bind_int64(st, 5, story->first_seen);
	(void)sqlite3_bind_int64(st, 6, story->development);
	bind_text(st, 7, story->topics);
	bind_text(st, 8, story->features);
	bind_text(st, 9, story->explain);
	if ((r = step_done(s, st, reterr, "cannot record a story")) < 0)
		return r;
	story->id = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; i <= n_terms; i++) {
		/* "" counts the stories, for the inverse document frequency. */
		const char *term = i < n_terms ? terms[i] : "";

		if ((r = dev_stmt(s, SDS_DF_ADD, &st, reterr)) < 0)
			return r;
		bind_text(st, 1, term);
		if ((r = step_done(s, st, reterr, "cannot count a term")) < 0)
			return r;
		if (i == n_terms)
			break;
		if ((r = dev_stmt(s, SDS_TERM_INSERT, &st, reterr)) < 0)
			return r;
		bind_text(st, 1, term);
		(void)sqlite3_bind_int64(st, 2, story->t);
		(void)sqlite3_bind_int64(st, 3, story->id);
		if ((r = step_done(s, st, reterr, "cannot index a story")) < 0)
			return r;
	}
	return 0;
}

static void
bind_development(sqlite3_stmt *st, int first, const struct store_development *d)
{
	bind_text(st, first, d->key);
	(void)sqlite3_bind_int64(st, first + 1, d->first_t);
	(void)sqlite3_bind_int64(st, first + 2, d->last_t);
	(void)sqlite3_bind_int64(st, first + 3, d->first_seen);
	(void)sqlite3_bind_int64(st, first + 4, d->last_seen);
	bind_text(st, first + 5, d->topics != NULL ? d->topics : "[]");
	bind_text(st, first + 6, d->figures != NULL ? d->figures : "[]");
	bind_text(st, first + 7, d->sources != NULL ? d->sources : "[]");
	bind_text(st, first + 8, d->alert_id);
}

int
store_development_add(struct store *s, struct store_development *d, struct fw_error *reterr)
{
	sqlite3_stmt	*st = NULL;
	int		 r;

	if ((r = dev_stmt(s, SDS_DEV_INSERT, &st, reterr)) < 0)
		return r;
	bind_development(st, 1, d);
	if ((r = step_done(s, st, reterr, "cannot record a development")) < 0)
		return r;
	d->id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int
development_from_row(sqlite3_stmt *st, struct store_development *ret)
{
	int oom = 0;

	memset(ret, 0, sizeof(*ret));
	ret->id = sqlite3_column_int64(st, 0);
	ret->key = col_strdup(st, 1, &oom);
	ret->first_t = sqlite3_column_int64(st, 2);
	ret->last_t = sqlite3_column_int64(st, 3);
	ret->first_seen = sqlite3_column_int64(st, 4);
	ret->last_seen = sqlite3_column_int64(st, 5);
	ret->topics = col_strdup(st, 6, &oom);
	ret->figures = col_strdup(st, 7, &oom);
	ret->sources = col_strdup(st, 8, &oom);
	ret->alert_id = col_strdup(st, 9, &oom);
	if (oom) {
		store_development_done(ret);
		return -ENOMEM;
	}
	return 0;
}

int
store_development_get(struct store *s, int64_t id, struct store_development *ret,
    struct fw_error *reterr)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, r;

	if ((r = dev_stmt(s, SDS_DEV_GET, &st, reterr)) < 0)
		return r;
	(void)sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = development_from_row(st, ret);
	else if (rc == SQLITE_DONE) {
		fw_error_set(reterr, s->path, 0, 0, "development %lld is missing", (long long)id);
		r = -ENOENT;
	} else
		r = store_fail(s, rc, reterr, "cannot read a development");
	sqlite3_reset(st);
	return r;
}

int
store_development_by_key(struct store *s, const char *key, struct store_development *ret,
    struct fw_error *reterr)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, r = 0;

	rc = sqlite3_prepare_v2(s->db, "SELECT id, key, first_t, last_t, first_seen, last_seen,"
	    " topics, figures, sources, alert_id FROM developments WHERE key = ?1",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot read developments");
	bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = development_from_row(st, ret) < 0 ? -ENOMEM : 1;
	else if (rc != SQLITE_DONE)
		r = store_fail(s, rc, reterr, "cannot read developments");
	sqlite3_finalize(st);
	return r;
}

int
store_development_save(struct store *s, const struct store_development *d,
    struct fw_error *reterr)
{
	sqlite3_stmt	*st = NULL;
	int		 r;

	if ((r = dev_stmt(s, SDS_DEV_UPDATE, &st, reterr)) < 0)
		return r;
	(void)sqlite3_bind_int64(st, 1, d->id);
	bind_development(st, 2, d);
	return step_done(s, st, reterr, "cannot update a development");
}

int
store_developments_list(struct store *s, int64_t since, struct store_development **ret,
    size_t *ret_n, struct fw_error *reterr)
{
	struct store_development	*v = NULL;
	sqlite3_stmt			*st = NULL;
	size_t				 n = 0;
	int				 rc, r = 0;

	rc = sqlite3_prepare_v2(s->db, "SELECT id, key, first_t, last_t, first_seen, last_seen,"
	    " topics, figures, sources, alert_id FROM developments WHERE last_seen >= ?1"
	    " ORDER BY last_t DESC, id DESC", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot read developments");
	(void)sqlite3_bind_int64(st, 1, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_development *nv = reallocarray(v, n + 1, sizeof(*v));

		if (nv == NULL) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		if ((r = development_from_row(st, &v[n])) < 0)
			break;
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(s, rc, reterr, "cannot read developments");
	sqlite3_finalize(st);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			store_development_done(&v[i]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int
store_stories_foreach(struct store *s, int64_t dev, int64_t since, store_story_fn fn,
    void *userdata, struct fw_error *reterr)
{
	sqlite3_stmt	*st = NULL;
	int		 rc, r = 0;

	rc = sqlite3_prepare_v2(s->db,
	    "SELECT s.id, s.feed_id, s.item_id, s.canon, s.t, s.first_seen, s.development,"
	    " s.topics, s.features, s.explain, f.url, i.title, i.link, i.summary, i.published"
	    " FROM stories s JOIN feeds f ON f.id = s.feed_id"
	    " LEFT JOIN items i ON i.feed_id = s.feed_id AND i.item_id = s.item_id"
	    " WHERE (?1 != 0 AND s.development = ?1) OR (?1 = 0 AND s.development IN"
	    " (SELECT id FROM developments WHERE last_t >= ?2))"
	    " ORDER BY s.development, s.t, s.id", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, reterr, "cannot read stories");
	(void)sqlite3_bind_int64(st, 1, dev);
	(void)sqlite3_bind_int64(st, 2, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_story	story;
		int			oom = 0;

		if ((r = story_from_row(st, &story)) < 0)
			break;
		story.feed_url = col_strdup(st, 10, &oom);
		story.title = col_strdup(st, 11, &oom);
		story.link = col_strdup(st, 12, &oom);
		story.summary = col_strdup(st, 13, &oom);
		story.published = sqlite3_column_type(st, 14) == SQLITE_NULL ? FW_TIME_NONE
		    : sqlite3_column_int64(st, 14);
		r = oom ? -ENOMEM : fn(&story, userdata);
		store_story_done(&story);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(s, rc, reterr, "cannot read stories");
	sqlite3_finalize(st);
	return r;
}

int
store_development_merge(struct store *s, int64_t into, int64_t from, struct fw_error *reterr)
{
	static const char *const sql[2] = {
		"UPDATE stories SET development = ?1 WHERE development = ?2",
		"DELETE FROM developments WHERE id = ?2",
	};

	for (int i = 0; i < 2; i++) {
		sqlite3_stmt	*st = NULL;
		int		 rc;

		rc = sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL);
		if (rc != SQLITE_OK)
			return store_fail(s, rc, reterr, "cannot merge developments");
		(void)sqlite3_bind_int64(st, 1, into);
		(void)sqlite3_bind_int64(st, 2, from);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, rc, reterr, "cannot merge developments");
	}
	return 0;
}

int
store_index_prune(struct store *s, int64_t before, size_t limit, struct fw_error *reterr)
{
	sqlite3_stmt	*sel = NULL, *del = NULL, *mark = NULL;
	int		 rc = SQLITE_DONE, n = 0, r = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT id, t, features FROM stories"
	    " WHERE indexed = 1 AND first_seen < ?1 ORDER BY first_seen LIMIT ?2",
	    -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "DELETE FROM story_terms WHERE term = ?1 AND t = ?2"
	    " AND story = ?3", -1, &del, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "UPDATE stories SET indexed = 0 WHERE id = ?1",
	    -1, &mark, NULL) != SQLITE_OK) {
		r = store_fail(s, sqlite3_errcode(s->db), reterr, "cannot prune the term index");
		goto out;
	}
	(void)sqlite3_bind_int64(sel, 1, before);
	(void)sqlite3_bind_int64(sel, 2, (sqlite3_int64)limit);
	while (r == 0 && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		int64_t		 id = sqlite3_column_int64(sel, 0);
		int64_t		 t = sqlite3_column_int64(sel, 1);
		const char	*f = (const char *)sqlite3_column_text(sel, 2);

		/* The features text names the story's terms, one a line
		 * after the stage: "term\tweight". */
		for (const char *line = f != NULL ? strchr(f, '\n') : NULL; line != NULL && r == 0;
		    line = strchr(line + 1, '\n')) {
			const char *tab = strchr(line + 1, '\t');

			if (tab == NULL)
				break;
			sqlite3_reset(del);
			(void)sqlite3_bind_text(del, 1, line + 1, (int)(tab - line - 1),
			    SQLITE_STATIC);
			(void)sqlite3_bind_int64(del, 2, t);
			(void)sqlite3_bind_int64(del, 3, id);
			if (sqlite3_step(del) != SQLITE_DONE)
				r = store_fail(s, sqlite3_errcode(s->db), reterr,
				    "cannot prune the term index");
		}
		sqlite3_reset(mark);
		(void)sqlite3_bind_int64(mark, 1, id);
		if (r == 0 && sqlite3_step(mark) != SQLITE_DONE)
			r = store_fail(s, sqlite3_errcode(s->db), reterr, "cannot prune the term index");
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = store_fail(s, rc, reterr, "cannot prune the term index");
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	sqlite3_finalize(mark);
	return r < 0 ? r : n;
}
