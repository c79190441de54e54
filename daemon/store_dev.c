/* store_dev.c — the developments' tables of the state: stories (items
 * that matched a topic) and the development each belongs to, the inverted
 * index of their terms by time and the terms' document frequencies. Only
 * storage: which development a story joins is cluster.c's decision. The
 * SQL is read by SQLite and PostgreSQL alike (db.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_internal.h"

static const char *const dev_sql[_SDS_MAX] = {
	[SDS_STORY_INSERT] =
	    "INSERT INTO stories(feed_id, item_id, canon, t, first_seen, development,"
	    " topics, features, explain) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	    " RETURNING id",
	[SDS_TERM_INSERT] =
	    "INSERT INTO story_terms(term, t, story) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT DO NOTHING",
	[SDS_DF_GET] =
	    "SELECT df FROM term_df WHERE term = ?1",
	[SDS_DF_ADD] =
	    "INSERT INTO term_df(term, df) VALUES (?1, 1)"
	    " ON CONFLICT(term) DO UPDATE SET df = term_df.df + 1",
	[SDS_POSTINGS] =
	    "SELECT story FROM story_terms WHERE term = ?1 AND t BETWEEN ?2 AND ?3"
	    " ORDER BY t DESC LIMIT ?4",
	[SDS_STORY_DEV] =
	    "SELECT development FROM stories WHERE id = ?1",
	[SDS_DEV_MEMBERS] =
	    "SELECT id, feed_id, item_id, canon, t, first_seen, development, topics,"
	    " features, explain FROM stories WHERE development = ?1 AND t BETWEEN ?2 AND ?3"
	    " ORDER BY t, id LIMIT ?4",
	[SDS_DEV_INSERT] =
	    "INSERT INTO developments(key, first_t, last_t, first_seen, last_seen, topics,"
	    " figures, sources, alert_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	    " RETURNING id",
	[SDS_DEV_GET] =
	    "SELECT id, key, first_t, last_t, first_seen, last_seen, topics, figures,"
	    " sources, alert_id FROM developments WHERE id = ?1",
	[SDS_DEV_UPDATE] =
	    "UPDATE developments SET key = ?2, first_t = ?3, last_t = ?4, first_seen = ?5,"
	    " last_seen = ?6, topics = ?7, figures = ?8, sources = ?9, alert_id = ?10"
	    " WHERE id = ?1",
	[SDS_STORY_BY_CANON] =
	    "SELECT development FROM stories WHERE canon = ?1 ORDER BY id LIMIT 1",
	/* Answered from the index stories_development alone on SQLite. */
	[SDS_DEV_MEMBER_IDS] =
	    "SELECT id FROM stories WHERE development = ?1"
	    " AND t BETWEEN ?2 AND ?3 ORDER BY t, id LIMIT ?4",
	[SDS_STORY_FEATURES] =
	    "SELECT feed_id, t, features FROM stories WHERE id = ?1",
	[SDS_DEV_MOVE] =
	    "UPDATE stories SET development = ?1 WHERE development = ?2",
	[SDS_DEV_DELETE] =
	    "DELETE FROM developments WHERE id = ?2",
	[SDS_PRUNE_SELECT] =
	    "SELECT id, t, features FROM stories"
	    " WHERE indexed = 1 AND first_seen < ?1 ORDER BY first_seen LIMIT ?2",
	[SDS_PRUNE_DELETE] =
	    "DELETE FROM story_terms WHERE term = ?1 AND t = ?2 AND story = ?3",
	[SDS_PRUNE_MARK] =
	    "UPDATE stories SET indexed = 0 WHERE id = ?1",
};

/* ---- the cache of terms and features ------------------------------------
 *
 * Each decision reads the document frequency of every term of the story
 * and of a few hundred stories it is compared with, and those stories'
 * features: the same few thousand values again and again. They are kept
 * here from the first read.
 *
 * A document frequency is read again in each transaction that uses it:
 * another process may have added stories between two. Within one it is
 * exact on SQLite: a write transaction holds the file's write lock, so
 * the only writes to term_df while it lasts are this process's own, and
 * store_story_add() counts them into the entries it touches. On
 * PostgreSQL another instance may commit stories meanwhile; this process
 * sees their frequencies from its next transaction on, as if they had
 * committed a moment later, which is harmless (the two instances' own
 * transactions are no more ordered than that anyway).
 *
 * A story's features, feed and time never change once written and no
 * story is deleted, so those entries are exact everywhere and kept across
 * transactions; they go at a rollback, since SQLite gives a rolled-back
 * story's id to the next one.
 *
 * The development of each story read is kept for one transaction, and
 * moved along when this process merges developments: exact on SQLite for
 * the same reason. On PostgreSQL, when another instance merges a
 * development away during this transaction, a candidate may still name
 * the old one; it then has no members left and scores nothing, as a
 * story read a moment earlier would have (the merged development is
 * reached through its other stories). Bounded by store_dev_cache_trim(). */
#define CACHE_MIN_SLOTS		1024u	/* powers of two */
#define CACHE_MAX_TERMS		16384u
#define CACHE_MAX_STORIES	2048u
#define CACHE_MAX_DEVS		8192u

struct story_dev {
	int64_t	story;		/* 0: an empty slot */
	int64_t	development;
};

struct store_dev_cache {
	uint64_t		  transaction;	/* counts store_begin() calls */
	struct store_term	**terms;	/* open addressing by term */
	size_t			  term_slots, n_terms;
	struct store_features	**stories;	/* by story id */
	size_t			  story_slots, n_stories;
	struct story_dev	 *devs;		/* by story id */
	size_t			  dev_slots, n_devs;
};

static size_t
hash_term(const char *s)
{
	size_t h = 14695981039346656037ull;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static size_t
hash_id(int64_t id)
{
	return (size_t)((uint64_t)id * 11400714819323198485ull >> 20);
}

void
store_dev_cache_clear(struct store *s)
{
	struct store_dev_cache *c = s->dev_cache;

	if (c == NULL || (c->n_terms == 0 && c->n_stories == 0 && c->n_devs == 0))
		return;
	for (size_t i = 0; i < c->term_slots; i++)
		free(c->terms[i]);
	for (size_t i = 0; i < c->story_slots; i++)
		free(c->stories[i]);
	memset(c->terms, 0, c->term_slots * sizeof(*c->terms));
	memset(c->stories, 0, c->story_slots * sizeof(*c->stories));
	memset(c->devs, 0, c->dev_slots * sizeof(*c->devs));
	c->n_terms = c->n_stories = c->n_devs = 0;
}

void
store_dev_cache_begin(struct store *s)
{
	struct store_dev_cache *c = s->dev_cache;

	if (c == NULL)
		return;
	c->transaction++;
	memset(c->devs, 0, c->dev_slots * sizeof(*c->devs));
	c->n_devs = 0;
}

void
store_dev_cache_trim(struct store *s)
{
	struct store_dev_cache *c = s->dev_cache;

	if (c != NULL && (c->n_terms > CACHE_MAX_TERMS || c->n_stories > CACHE_MAX_STORIES ||
	    c->n_devs > CACHE_MAX_DEVS))
		store_dev_cache_clear(s);
}

static struct store_dev_cache *
dev_cache(struct store *s)
{
	struct store_dev_cache *c = s->dev_cache;

	if (c != NULL)
		return c;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->terms = calloc(CACHE_MIN_SLOTS, sizeof(*c->terms));
	c->stories = calloc(CACHE_MIN_SLOTS, sizeof(*c->stories));
	c->devs = calloc(CACHE_MIN_SLOTS, sizeof(*c->devs));
	if (c->terms == NULL || c->stories == NULL || c->devs == NULL) {
		free(c->terms);
		free(c->stories);
		free(c->devs);
		free(c);
		return NULL;
	}
	c->term_slots = c->story_slots = c->dev_slots = CACHE_MIN_SLOTS;
	s->dev_cache = c;
	return c;
}

static struct store_term **
term_slot(struct store_term **slots, size_t n_slots, const char *term)
{
	size_t i = hash_term(term) & (n_slots - 1);

	while (slots[i] != NULL && strcmp(slots[i]->term, term) != 0)
		i = (i + 1) & (n_slots - 1);
	return &slots[i];
}

static struct store_features **
story_slot(struct store_features **slots, size_t n_slots, int64_t id)
{
	size_t i = hash_id(id) & (n_slots - 1);

	while (slots[i] != NULL && slots[i]->id != id)
		i = (i + 1) & (n_slots - 1);
	return &slots[i];
}

/* Doubles a table once it is half full: entries keep their addresses. */
static int
terms_grow(struct store_dev_cache *c)
{
	struct store_term	**nt;
	size_t			  n = c->term_slots * 2;

	if (c->n_terms + 1 < c->term_slots / 2)
		return 0;
	if ((nt = calloc(n, sizeof(*nt))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->term_slots; i++)
		if (c->terms[i] != NULL)
			*term_slot(nt, n, c->terms[i]->term) = c->terms[i];
	free(c->terms);
	c->terms = nt;
	c->term_slots = n;
	return 0;
}

static int
stories_grow(struct store_dev_cache *c)
{
	struct store_features	**nt;
	size_t			  n = c->story_slots * 2;

	if (c->n_stories + 1 < c->story_slots / 2)
		return 0;
	if ((nt = calloc(n, sizeof(*nt))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->story_slots; i++)
		if (c->stories[i] != NULL)
			*story_slot(nt, n, c->stories[i]->id) = c->stories[i];
	free(c->stories);
	c->stories = nt;
	c->story_slots = n;
	return 0;
}

static struct story_dev *
dev_slot(struct story_dev *slots, size_t n_slots, int64_t story)
{
	size_t i = hash_id(story) & (n_slots - 1);

	while (slots[i].story != 0 && slots[i].story != story)
		i = (i + 1) & (n_slots - 1);
	return &slots[i];
}

/* Notes that story belongs to development (nothing when out of memory:
 * the cache is only a shortcut). */
static void
dev_cache_put(struct store *s, int64_t story, int64_t development)
{
	struct store_dev_cache	*c = dev_cache(s);
	struct story_dev	*e;

	if (c == NULL)
		return;
	if (c->n_devs + 1 >= c->dev_slots / 2) {
		size_t			 n = c->dev_slots * 2;
		struct story_dev	*nt = calloc(n, sizeof(*nt));

		if (nt == NULL)
			return;
		for (size_t i = 0; i < c->dev_slots; i++)
			if (c->devs[i].story != 0)
				*dev_slot(nt, n, c->devs[i].story) = c->devs[i];
		free(c->devs);
		c->devs = nt;
		c->dev_slots = n;
	}
	e = dev_slot(c->devs, c->dev_slots, story);
	if (e->story == 0)
		c->n_devs++;
	e->story = story;
	e->development = development;
}

/* The cached entry of term, or NULL. */
static struct store_term *
term_cached(struct store *s, const char *term)
{
	struct store_dev_cache *c = s->dev_cache;

	return c != NULL ? *term_slot(c->terms, c->term_slots, term) : NULL;
}

void
store_dev_stmts_done(struct store *s)
{
	for (int i = 0; i < _SDS_MAX; i++)
		s->dev_stmts[i] = db_stmt_free(s->dev_stmts[i]);
	store_dev_cache_clear(s);
	if (s->dev_cache != NULL) {
		free(s->dev_cache->terms);
		free(s->dev_cache->stories);
		free(s->dev_cache->devs);
		free(s->dev_cache);
		s->dev_cache = NULL;
	}
}

static int
dev_stmt(struct store *s, enum store_dev_stmt id, struct db_stmt **ret, struct fw_error *reterr)
{
	return store_stmt_cached(s, &s->dev_stmts[id], dev_sql[id], ret, reterr);
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
	struct db_stmt	*st = NULL;
	int		 r;

	if ((r = dev_stmt(s, SDS_DF_GET, &st, reterr)) < 0)
		return r;
	db_bind_text(st, 1, term);
	r = db_step(st, reterr, "cannot read term frequencies");
	*ret = r == 1 ? db_column_int64(st, 0) : 0;
	db_reset(st);
	return r < 0 ? r : 0;
}

/* Reads e's document frequency again if it was read in an earlier
 * transaction. */
static int
term_fresh(struct store *s, struct store_term *e, struct fw_error *reterr)
{
	int r;

	if (e->df_read == s->dev_cache->transaction)
		return 0;
	if ((r = store_term_df(s, e->term, &e->df, reterr)) < 0)
		return r;
	e->df_read = s->dev_cache->transaction;
	return 0;
}

int
store_term_get(struct store *s, const char *term, struct store_term **ret,
    struct fw_error *reterr)
{
	struct store_dev_cache	 *c = dev_cache(s);
	struct store_term	**slot, *e;
	size_t			  len = strlen(term);
	int64_t			  df;
	int			  r;

	if (c == NULL)
		goto oom;
	slot = term_slot(c->terms, c->term_slots, term);
	if (*slot != NULL) {
		if ((r = term_fresh(s, *slot, reterr)) < 0)
			return r;
		*ret = *slot;
		return 0;
	}
	if ((r = store_term_df(s, term, &df, reterr)) < 0)
		return r;
	if (terms_grow(c) < 0 || (e = calloc(1, sizeof(*e) + len + 1)) == NULL)
		goto oom;
	e->df = df;
	e->df_read = c->transaction;
	memcpy(e->term, term, len + 1);
	*term_slot(c->terms, c->term_slots, term) = e;
	c->n_terms++;
	*ret = e;
	return 0;
oom:
	fw_error_set(reterr, NULL, 0, 0, "out of memory");
	return -ENOMEM;
}

/* Parses a story's features text (modified) into a cache entry. */
static int
features_parse(struct store *s, int64_t id, char *text, struct store_features **ret,
    struct fw_error *reterr)
{
	struct store_features	*f;
	size_t			 cap = 0;
	char			*line, *save = NULL;
	int			 r = 0;

	for (char *p = text; *p != '\0'; p++)
		cap += *p == '\n';
	f = calloc(1, sizeof(*f) + (cap ? cap : 1) * sizeof(f->v[0]));
	if (f == NULL) {
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
		return -ENOMEM;
	}
	f->id = id;
	line = strtok_r(text, "\n", &save);
	f->stage = line != NULL ? (int)strtol(line, NULL, 10) : 0;
	while (r == 0 && (line = strtok_r(NULL, "\n", &save)) != NULL && f->n < cap) {
		char *tab = strchr(line, '\t');

		if (tab == NULL)
			continue;
		*tab = '\0';
		f->v[f->n].weight = strtod(tab + 1, NULL);
		if ((r = store_term_get(s, line, &f->v[f->n].term, reterr)) == 0)
			f->n++;
	}
	if (r < 0) {
		free(f);
		return r;
	}
	*ret = f;
	return 0;
}

/* The features of story id, from the cache or read and kept. */
static int
story_features(struct store *s, int64_t id, const struct store_features **ret,
    struct fw_error *reterr)
{
	struct store_dev_cache	 *c = dev_cache(s);
	struct store_features	**slot, *f;
	struct db_stmt		 *st = NULL;
	const char		 *text;
	char			 *copy = NULL;
	int64_t			  feed_id = 0, t = 0;
	int			  r;

	if (c == NULL)
		goto oom;
	if (*(slot = story_slot(c->stories, c->story_slots, id)) != NULL) {
		f = *slot;
		for (size_t i = 0; i < f->n; i++)
			if ((r = term_fresh(s, f->v[i].term, reterr)) < 0)
				return r;
		*ret = f;
		return 0;
	}
	if ((r = dev_stmt(s, SDS_STORY_FEATURES, &st, reterr)) < 0)
		return r;
	db_bind_int64(st, 1, id);
	r = db_step(st, reterr, "cannot read a story");
	if (r == 1) {
		feed_id = db_column_int64(st, 0);
		t = db_column_int64(st, 1);
		text = db_column_text(st, 2);
		if ((copy = strdup(text != NULL ? text : "0\n")) == NULL)
			r = -ENOMEM;
	} else if (r == 0) {
		fw_error_set(reterr, db_label(s->db), 0, 0, "story %lld is missing", (long long)id);
		r = -ENOENT;
	}
	db_reset(st);
	if (r == -ENOMEM || (r >= 0 && copy == NULL))
		goto oom;
	if (r < 0)
		return r;
	r = features_parse(s, id, copy, &f, reterr);
	free(copy);
	if (r < 0)
		return r;
	f->feed_id = feed_id;
	f->t = t;
	if (stories_grow(c) < 0) {
		free(f);
		goto oom;
	}
	*story_slot(c->stories, c->story_slots, id) = f;
	c->n_stories++;
	*ret = f;
	return 0;
oom:
	fw_error_set(reterr, NULL, 0, 0, "out of memory");
	return -ENOMEM;
}

int
store_development_member_features(struct store *s, int64_t dev, int64_t from, int64_t to,
    size_t limit, const struct store_features **ret, size_t *ret_n, struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	int64_t		*ids = calloc(limit ? limit : 1, sizeof(*ids));
	size_t		 n = 0;
	int		 r;

	if (ids == NULL) {
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if ((r = dev_stmt(s, SDS_DEV_MEMBER_IDS, &st, reterr)) < 0) {
		free(ids);
		return r;
	}
	db_bind_int64(st, 1, dev);
	db_bind_int64(st, 2, from);
	db_bind_int64(st, 3, to);
	db_bind_int64(st, 4, (int64_t)limit);
	while (n < limit && (r = db_step(st, reterr, "cannot read a development")) == 1)
		ids[n++] = db_column_int64(st, 0);
	db_reset(st);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = story_features(s, ids[i], &ret[i], reterr);
		dev_cache_put(s, ids[i], dev);
	}
	free(ids);
	if (r < 0)
		return r;
	*ret_n = n;
	return 0;
}

/* The statement of store_terms_postings(): one LIMIT per term, so each
 * term's postings are the ones store_term_postings() would give. */
static const char *
postings_many_sql(void)
{
	static char	sql[STORE_POSTINGS_TERMS * 160];
	size_t		len = 0;

	if (sql[0] != '\0')
		return sql;
	for (int i = 0; i < STORE_POSTINGS_TERMS; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%sSELECT story FROM"
		    " (SELECT story FROM story_terms WHERE term = ?%d AND t BETWEEN ?1 AND ?2"
		    " ORDER BY t DESC LIMIT ?3) AS p%d", i > 0 ? " UNION ALL " : "", i + 4, i);
	return sql;
}

int
store_terms_postings(struct store *s, const char *const *terms, size_t n_terms, int64_t from,
    int64_t to, size_t limit, int64_t **ids, size_t *n, struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	size_t		 room = limit * n_terms;
	int		 r;

	if (n_terms > STORE_POSTINGS_TERMS) {
		fw_error_set(reterr, NULL, 0, 0, "too many terms for one lookup");
		return -EINVAL;
	}
	if (n_terms == 0)
		return 0;
	if ((r = store_stmt_cached(s, &s->dev_stmts[SDS_POSTINGS_MANY], postings_many_sql(),
	    &st, reterr)) < 0)
		return r;
	db_bind_int64(st, 1, from);
	db_bind_int64(st, 2, to);
	db_bind_int64(st, 3, (int64_t)limit);
	for (size_t i = 0; i < STORE_POSTINGS_TERMS; i++) {
		if (i < n_terms)
			db_bind_text(st, (int)i + 4, terms[i]);
		else
			db_bind_null(st, (int)i + 4);
	}
	if (room > 0) {
		int64_t *nv = reallocarray(*ids, *n + room, sizeof(**ids));

		if (nv == NULL) {
			db_reset(st);
			return -ENOMEM;
		}
		*ids = nv;
	}
	while ((r = db_step(st, reterr, "cannot read the term index")) == 1 && room > 0) {
		(*ids)[(*n)++] = db_column_int64(st, 0);
		room--;
	}
	db_reset(st);
	return r < 0 ? r : 0;
}

int
store_term_postings(struct store *s, const char *term, int64_t from, int64_t to,
    size_t limit, int64_t **ids, size_t *n, struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	int		 r;

	if ((r = dev_stmt(s, SDS_POSTINGS, &st, reterr)) < 0)
		return r;
	db_bind_text(st, 1, term);
	db_bind_int64(st, 2, from);
	db_bind_int64(st, 3, to);
	db_bind_int64(st, 4, (int64_t)limit);
	/* Room for the limit at once: the caller asks for a few terms'
	 * postings in a row into one array. */
	if (limit > 0) {
		int64_t *nv = reallocarray(*ids, *n + limit, sizeof(**ids));

		if (nv == NULL) {
			db_reset(st);
			return -ENOMEM;
		}
		*ids = nv;
	}
	while ((r = db_step(st, reterr, "cannot read the term index")) == 1) {
		if (limit == 0)
			continue;
		(*ids)[(*n)++] = db_column_int64(st, 0);
		if (--limit == 0)
			break;
	}
	if (r == 1)
		r = 0;
	db_reset(st);
	return r;
}

static int
story_from_row(struct db_stmt *st, struct store_story *ret)
{
	int oom = 0;

	memset(ret, 0, sizeof(*ret));
	ret->id = db_column_int64(st, 0);
	ret->feed_id = db_column_int64(st, 1);
	ret->item_id = col_strdup(st, 2, &oom);
	ret->canon = col_strdup(st, 3, &oom);
	ret->t = db_column_int64(st, 4);
	ret->first_seen = db_column_int64(st, 5);
	ret->development = db_column_int64(st, 6);
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

static int
story_row(struct db_stmt *st, void *elem)
{
	return story_from_row(st, elem);
}

static void
story_done(void *elem)
{
	store_story_done(elem);
}

int
store_story_development(struct store *s, int64_t id, int64_t *ret, struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	int		 r;

	if (s->dev_cache != NULL) {
		struct story_dev *e = dev_slot(s->dev_cache->devs, s->dev_cache->dev_slots, id);

		if (e->story == id) {
			*ret = e->development;
			return 0;
		}
	}
	if ((r = dev_stmt(s, SDS_STORY_DEV, &st, reterr)) < 0)
		return r;
	db_bind_int64(st, 1, id);
	r = db_step(st, reterr, "cannot read a story");
	if (r == 1) {
		*ret = db_column_int64(st, 0);
		dev_cache_put(s, id, *ret);
		r = 0;
	} else if (r == 0) {
		fw_error_set(reterr, db_label(s->db), 0, 0, "story %lld is missing", (long long)id);
		r = -ENOENT;
	}
	db_reset(st);
	return r;
}

int
store_development_members(struct store *s, int64_t dev, int64_t from, int64_t to,
    size_t limit, struct store_story **ret, size_t *ret_n, struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	void		*rows;
	int		 r;

	if ((r = dev_stmt(s, SDS_DEV_MEMBERS, &st, reterr)) < 0)
		return r;
	db_bind_int64(st, 1, dev);
	db_bind_int64(st, 2, from);
	db_bind_int64(st, 3, to);
	db_bind_int64(st, 4, (int64_t)limit);
	r = store_collect_rows(st, "cannot read a development", sizeof(struct store_story),
	    story_row, story_done, &rows, ret_n, reterr);
	db_reset(st);
	if (r == 0)
		*ret = rows;
	return r;
}

int
store_canon_development(struct store *s, const char *canon, int64_t *ret,
    struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	int		 r;

	if ((r = dev_stmt(s, SDS_STORY_BY_CANON, &st, reterr)) < 0)
		return r;
	db_bind_text(st, 1, canon);
	r = db_step(st, reterr, "cannot read stories");
	*ret = r == 1 ? db_column_int64(st, 0) : 0;
	db_reset(st);
	return r < 0 ? r : 0;
}

/* Runs an INSERT … RETURNING id. */
static int
step_id(struct db_stmt *st, int64_t *ret, struct fw_error *reterr, const char *what)
{
	int r = db_step(st, reterr, what);

	if (r == 1)
		*ret = db_column_int64(st, 0);
	db_reset(st);
	if (r == 0) {
		fw_error_set(reterr, NULL, 0, 0, "%s: no id came back", what);
		return -EIO;
	}
	return r < 0 ? r : 0;
}

int
store_story_add(struct store *s, struct store_story *story, const char *const *terms,
    size_t n_terms, struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	int		 r;

	if ((r = dev_stmt(s, SDS_STORY_INSERT, &st, reterr)) < 0)
		return r;
	db_bind_int64(st, 1, story->feed_id);
	db_bind_text(st, 2, story->item_id);
	db_bind_text(st, 3, story->canon);
	db_bind_int64(st, 4, story->t);
	db_bind_int64(st, 5, story->first_seen);
	db_bind_int64(st, 6, story->development);
	db_bind_text(st, 7, story->topics);
	db_bind_text(st, 8, story->features);
	db_bind_text(st, 9, story->explain);
	if ((r = step_id(st, &story->id, reterr, "cannot record a story")) < 0)
		return r;
	dev_cache_put(s, story->id, story->development);
	for (size_t i = 0; i <= n_terms; i++) {
		/* "" counts the stories, for the inverse document frequency. */
		const char *term = i < n_terms ? terms[i] : "";

		struct store_term *e = term_cached(s, term);

		if ((r = dev_stmt(s, SDS_DF_ADD, &st, reterr)) < 0)
			return r;
		db_bind_text(st, 1, term);
		if ((r = store_step_done(st, reterr, "cannot count a term")) < 0)
			return r;
		/* The cache follows this process's own counts (see above); an
		 * entry of an earlier transaction is read again anyway. */
		if (e != NULL && e->df_read == s->dev_cache->transaction)
			e->df++;
		if (i == n_terms)
			break;
		if ((r = dev_stmt(s, SDS_TERM_INSERT, &st, reterr)) < 0)
			return r;
		db_bind_text(st, 1, term);
		db_bind_int64(st, 2, story->t);
		db_bind_int64(st, 3, story->id);
		if ((r = store_step_done(st, reterr, "cannot index a story")) < 0)
			return r;
	}
	return 0;
}

static void
bind_development(struct db_stmt *st, int first, const struct store_development *d)
{
	db_bind_text(st, first, d->key);
	db_bind_int64(st, first + 1, d->first_t);
	db_bind_int64(st, first + 2, d->last_t);
	db_bind_int64(st, first + 3, d->first_seen);
	db_bind_int64(st, first + 4, d->last_seen);
	db_bind_text(st, first + 5, d->topics != NULL ? d->topics : "[]");
	db_bind_text(st, first + 6, d->figures != NULL ? d->figures : "[]");
	db_bind_text(st, first + 7, d->sources != NULL ? d->sources : "[]");
	db_bind_text(st, first + 8, d->alert_id);
}

int
store_development_add(struct store *s, struct store_development *d, struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	int		 r;

	if ((r = dev_stmt(s, SDS_DEV_INSERT, &st, reterr)) < 0)
		return r;
	bind_development(st, 1, d);
	return step_id(st, &d->id, reterr, "cannot record a development");
}

static int
development_from_row(struct db_stmt *st, struct store_development *ret)
{
	int oom = 0;

	memset(ret, 0, sizeof(*ret));
	ret->id = db_column_int64(st, 0);
	ret->key = col_strdup(st, 1, &oom);
	ret->first_t = db_column_int64(st, 2);
	ret->last_t = db_column_int64(st, 3);
	ret->first_seen = db_column_int64(st, 4);
	ret->last_seen = db_column_int64(st, 5);
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

static int
development_row(struct db_stmt *st, void *elem)
{
	return development_from_row(st, elem);
}

static void
development_done(void *elem)
{
	store_development_done(elem);
}

int
store_development_get(struct store *s, int64_t id, struct store_development *ret,
    struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	int		 r;

	if ((r = dev_stmt(s, SDS_DEV_GET, &st, reterr)) < 0)
		return r;
	db_bind_int64(st, 1, id);
	r = db_step(st, reterr, "cannot read a development");
	if (r == 1)
		r = development_from_row(st, ret);
	else if (r == 0) {
		fw_error_set(reterr, db_label(s->db), 0, 0, "development %lld is missing",
		    (long long)id);
		r = -ENOENT;
	}
	db_reset(st);
	return r;
}

int
store_development_by_key(struct store *s, const char *key, struct store_development *ret,
    struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	int		 r;

	r = db_prepare(s->db, "SELECT id, key, first_t, last_t, first_seen, last_seen,"
	    " topics, figures, sources, alert_id FROM developments WHERE key = ?1", &st, reterr);
	if (r < 0)
		return r;
	db_bind_text(st, 1, key);
	r = db_step(st, reterr, "cannot read developments");
	if (r == 1)
		r = development_from_row(st, ret) < 0 ? -ENOMEM : 1;
	db_stmt_free(st);
	return r;
}

int
store_development_save(struct store *s, const struct store_development *d,
    struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	int		 r;

	if ((r = dev_stmt(s, SDS_DEV_UPDATE, &st, reterr)) < 0)
		return r;
	db_bind_int64(st, 1, d->id);
	bind_development(st, 2, d);
	return store_step_done(st, reterr, "cannot update a development");
}

int
store_developments_list(struct store *s, int64_t since, struct store_development **ret,
    size_t *ret_n, struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	void		*rows;
	int		 r;

	r = db_prepare(s->db, "SELECT id, key, first_t, last_t, first_seen, last_seen,"
	    " topics, figures, sources, alert_id FROM developments WHERE last_seen >= ?1"
	    " ORDER BY last_t DESC, id DESC", &st, reterr);
	if (r < 0)
		return r;
	db_bind_int64(st, 1, since);
	r = store_collect_rows(st, "cannot read developments", sizeof(struct store_development),
	    development_row, development_done, &rows, ret_n, reterr);
	db_stmt_free(st);
	if (r == 0)
		*ret = rows;
	return r;
}

int
store_stories_foreach(struct store *s, int64_t dev, int64_t since, store_story_fn fn,
    void *userdata, struct fw_error *reterr)
{
	struct db_stmt	*st = NULL;
	int		 r;

	r = db_prepare(s->db,
	    "SELECT s.id, s.feed_id, s.item_id, s.canon, s.t, s.first_seen, s.development,"
	    " s.topics, s.features, s.explain, f.url, i.title, i.link, i.summary, i.published"
	    " FROM stories s JOIN feeds f ON f.id = s.feed_id"
	    " LEFT JOIN items i ON i.feed_id = s.feed_id AND i.item_id = s.item_id"
	    " WHERE (?1 != 0 AND s.development = ?1) OR (?1 = 0 AND s.development IN"
	    " (SELECT id FROM developments WHERE last_t >= ?2))"
	    " ORDER BY s.development, s.t, s.id", &st, reterr);
	if (r < 0)
		return r;
	db_bind_int64(st, 1, dev);
	db_bind_int64(st, 2, since);
	while ((r = db_step(st, reterr, "cannot read stories")) == 1) {
		struct store_story	story;
		int			oom = 0;

		if ((r = story_from_row(st, &story)) < 0)
			break;
		story.feed_url = col_strdup(st, 10, &oom);
		story.title = col_strdup(st, 11, &oom);
		story.link = col_strdup(st, 12, &oom);
		story.summary = col_strdup(st, 13, &oom);
		story.published = db_column_null(st, 14) ? FW_TIME_NONE : db_column_int64(st, 14);
		r = oom ? -ENOMEM : fn(&story, userdata);
		store_story_done(&story);
		if (r < 0)
			break;
	}
	db_stmt_free(st);
	return r < 0 ? r : 0;
}

int
store_development_merge(struct store *s, int64_t into, int64_t from, struct fw_error *reterr)
{
	static const enum store_dev_stmt steps[2] = { SDS_DEV_MOVE, SDS_DEV_DELETE };

	for (int i = 0; i < 2; i++) {
		struct db_stmt	*st = NULL;
		int		 r;

		if ((r = dev_stmt(s, steps[i], &st, reterr)) < 0)
			return r;
		db_bind_int64(st, 1, into);
		db_bind_int64(st, 2, from);
		if ((r = store_step_done(st, reterr, "cannot merge developments")) < 0)
			return r;
	}
	for (size_t i = 0; s->dev_cache != NULL && i < s->dev_cache->dev_slots; i++)
		if (s->dev_cache->devs[i].story != 0 && s->dev_cache->devs[i].development == from)
			s->dev_cache->devs[i].development = into;
	return 0;
}

int
store_index_prune(struct store *s, int64_t before, size_t limit, struct fw_error *reterr)
{
	struct db_stmt	*sel = NULL, *del = NULL, *mark = NULL;
	int		 n = 0, r;

	/* Called with each new story: the statements are kept. */
	if ((r = dev_stmt(s, SDS_PRUNE_SELECT, &sel, reterr)) < 0 ||
	    (r = dev_stmt(s, SDS_PRUNE_DELETE, &del, reterr)) < 0 ||
	    (r = dev_stmt(s, SDS_PRUNE_MARK, &mark, reterr)) < 0)
		goto out;
	db_bind_int64(sel, 1, before);
	db_bind_int64(sel, 2, (int64_t)limit);
	while ((r = db_step(sel, reterr, "cannot prune the term index")) == 1) {
		int64_t		 id = db_column_int64(sel, 0);
		int64_t		 t = db_column_int64(sel, 1);
		const char	*f = db_column_text(sel, 2);

		/* The features text names the story's terms, one a line
		 * after the stage: "term\tweight". */
		for (const char *line = f != NULL ? strchr(f, '\n') : NULL; line != NULL && r >= 0;
		    line = strchr(line + 1, '\n')) {
			const char *tab = strchr(line + 1, '\t');

			if (tab == NULL)
				break;
			db_bind_text_n(del, 1, line + 1, (size_t)(tab - line - 1));
			db_bind_int64(del, 2, t);
			db_bind_int64(del, 3, id);
			r = store_step_done(del, reterr, "cannot prune the term index");
		}
		if (r < 0)
			break;
		db_bind_int64(mark, 1, id);
		if ((r = store_step_done(mark, reterr, "cannot prune the term index")) < 0)
			break;
		n++;
	}
out:
	if (sel != NULL)
		db_reset(sel);
	return r < 0 ? r : n;
}
