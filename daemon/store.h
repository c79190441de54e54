/* store.h — the state: the single source of truth for which items were
 * seen, each feed's polling state, and the outbox of alerts still to
 * deliver. A SQLite file (WAL mode, the embedded default) or a PostgreSQL
 * database that several instances share (db.h). Never logs; the engines'
 * errors come back as struct fw_error. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "feedwatch.h"

struct store;

struct store_feed {
	int64_t	 id;
	char	*url;
	char	*etag;
	char	*last_modified;
	char	*body_hash;
	int64_t	 last_poll;		/* 0 = never */
	int64_t	 last_success;		/* 0 = never */
	int64_t	 next_poll;		/* 0 = as soon as possible */
	long	 last_status;
	char	*last_error;
	int	 consecutive_errors;
	int64_t	 items_seen;
	bool	 disabled;		/* e.g. after 410 Gone */
	char	*redirect_url;		/* pending permanent redirect */
	int	 redirect_count;
	int64_t	 interval;		/* current adaptive interval, 0 = unset */
	int	 health_alerted;	/* a feed-health alert is outstanding */
	int64_t	 newest_item;		/* date of its newest item, or of the first poll if later; 0 = none */
	int64_t	 publish_gap;		/* usual seconds between items, 0 = unknown */
};

/* Opens (creating or migrating) the state: a SQLite file (":memory:"
 * works too), or a PostgreSQL URI or keyword string (db.h). */
int store_open(const char *path, struct store **ret, struct fw_error *reterr) _must_check_;
struct store *store_close(struct store *s);
/* Whether path names a state that exists, without creating one: the file
 * is there, or the database holds feedwatch's tables. */
int store_exists(const char *path, bool *ret, struct fw_error *reterr) _must_check_;
/* Whether other instances may share this state (PostgreSQL). */
bool store_is_shared(const struct store *s);
/* The state's name for messages: the file, or the database without its
 * password. Borrowed. */
const char *store_label(const struct store *s);

/* ---- several instances, one shared state (PostgreSQL only) --------------
 * A due feed is polled by one instance: it takes a lease on the feed row
 * (SELECT … FOR UPDATE SKIP LOCKED), which store_feed_save() gives back
 * with the feed's next poll. A lease not given back (the instance died)
 * is anyone's once it expires. On SQLite these return -EOPNOTSUPP. */

/* This instance's name in the leases it holds: "host:pid:random". */
const char *store_owner(const struct store *s);
/* How long the deliveries this instance leases stay its own (store_
 * deliveries_due_page() and store_deliveries_held() lease what they
 * return on a shared state; store_delivery_update() gives it back). */
void store_lease_set(struct store *s, int64_t seconds);
/* Leases until until up to limit enabled feeds among ids that are due at
 * now (all: whether due or not) and that no other instance holds, the
 * longest due first. Caller frees each row and the array. */
int store_feeds_lease(struct store *s, const int64_t *ids, size_t n_ids, int64_t now,
    int64_t until, bool all, size_t limit, struct store_feed **ret, size_t *ret_n,
    struct fw_error *reterr) _must_check_;
/* When the first of the enabled feeds among ids is due and not leased by
 * anyone; 0 when there is none. */
int store_feeds_next_due(struct store *s, const int64_t *ids, size_t n_ids, int64_t *ret,
    struct fw_error *reterr) _must_check_;
/* How many feeds the state holds, whichever instance's configuration
 * lists them. */
int store_feeds_count(struct store *s, int64_t *ret, struct fw_error *reterr) _must_check_;

int store_begin(struct store *s, struct fw_error *reterr) _must_check_;
int store_commit(struct store *s, struct fw_error *reterr) _must_check_;
void store_rollback(struct store *s);

/* Loads the feed's state, creating its row when new. */
int store_feed_get(struct store *s, const char *url, struct store_feed *ret,
    struct fw_error *reterr) _must_check_;
void store_feed_done(struct store_feed *f);
/* Writes every field of f back (by f->id). */
int store_feed_save(struct store *s, const struct store_feed *f,
    struct fw_error *reterr) _must_check_;
/* Every feed row, in URL order; caller frees each with store_feed_done()
 * and the array with free(). */
int store_feed_list(struct store *s, struct store_feed **ret, size_t *ret_n,
    struct fw_error *reterr) _must_check_;

/* Records the item as seen by the feed. Returns 1 when it is new, 0 when the
 * feed had already seen it, or a negative errno. */
int store_item_mark_seen(struct store *s, int64_t feed_id,
    const struct feed_item *item, int64_t now, struct fw_error *reterr) _must_check_;

/* The same, knowing the item's canonical link (may be NULL): an item with a
 * new id whose canonical link the feed stored already, or whose title it
 * stored at or after title_since (FW_TIME_NONE: never) where one of the two
 * has no link, is the same article under a new guid. Two items with links
 * that differ are two articles, whatever their titles ("Live updates"). It is recorded, and 0 returned: it is not new. */
int store_item_mark_seen_canon(struct store *s, int64_t feed_id,
    const struct feed_item *item, const char *canon, int64_t title_since, int64_t now,
    struct fw_error *reterr) _must_check_;

/* Calls fn for every stored item first seen at or after since. */
typedef int (*store_item_fn)(const struct feed_item *item, const char *feed_url,
    void *userdata);
int store_items_foreach(struct store *s, int64_t since, store_item_fn fn,
    void *userdata, struct fw_error *reterr) _must_check_;

/* ---- developments (store_dev.c) ----------------------------------------
 * A story is a stored item that matched a topic; each belongs to exactly
 * one development. The cluster module decides which; these only keep it. */

struct store_story {
	int64_t	 id;
	int64_t	 feed_id;
	char	*item_id;
	char	*canon;		/* may be NULL */
	int64_t	 t;		/* its time: published, else first seen */
	int64_t	 first_seen;
	int64_t	 development;
	char	*topics;	/* JSON array of topic names */
	char	*features;	/* cluster.c's serialised features */
	char	*explain;	/* why it joined its development; may be NULL */
	/* filled by store_stories_foreach() only (else NULL): */
	char	*feed_url;
	char	*title;
	char	*link;
	char	*summary;
	int64_t	 published;	/* FW_TIME_NONE when undated */
};
void store_story_done(struct store_story *st);

struct store_development {
	int64_t	 id;
	char	*key;		/* stable hex id, the alerts' "development" */
	int64_t	 first_t, last_t;	/* story times */
	int64_t	 first_seen, last_seen;	/* when feedwatch saw them */
	char	*topics;	/* JSON arrays */
	char	*figures;
	char	*sources;	/* feed names */
	char	*alert_id;	/* the alert it raised; NULL = none (yet) */
};
void store_development_done(struct store_development *d);

/* The number of stories holding term (df), and with term "" the number of
 * stories; 0 when unknown. */
int store_term_df(struct store *s, const char *term, int64_t *ret, struct fw_error *reterr)
    _must_check_;

/* A term as this process knows it: one entry per distinct term, so that
 * two entries are the same term exactly when they are the same pointer.
 * Entries stay valid until the next store_rollback() or
 * store_dev_cache_trim(). */
struct store_term {
	int64_t	 df;		/* stories holding it, kept up to date (see store_dev.c) */
	uint64_t df_read;	/* store_dev.c's: the transaction df is exact in */
	/* Scratch for the caller, zero when the entry is made: values it
	 * derives from df (cluster.c's inverse document frequency). */
	double	 memo;
	int64_t	 memo_df, memo_n;
	int	 memo_kind;	/* 0 until the caller sets it */
	char	 term[];
};
/* The entry of term, its df read from the state when first asked. */
int store_term_get(struct store *s, const char *term, struct store_term **ret,
    struct fw_error *reterr) _must_check_;

/* A story's features as stored (cluster.c writes them: "stage\n" then
 * "term\tweight\n" per term), parsed, the terms as entries. */
struct store_story_term {
	struct store_term	*term;
	double			 weight;
};
struct store_features {
	int64_t			 id;		/* the story */
	int64_t			 feed_id;
	int64_t			 t;
	int			 stage;		/* as written; the caller checks its range */
	size_t			 n;
	struct store_story_term	 v[];
};
/* store_development_members() as a decision reads them: the stories'
 * features (the cache's, valid as long as its entries); ret has room for
 * limit. */
int store_development_member_features(struct store *s, int64_t dev, int64_t from,
    int64_t to, size_t limit, const struct store_features **ret, size_t *ret_n,
    struct fw_error *reterr) _must_check_;
/* Drops what the cache of terms and features holds once it outgrew its
 * bounds; call it where no entry is in use. */
void store_dev_cache_trim(struct store *s);
/* Up to limit ids of stories holding term with from <= t <= to, newest
 * first. Appends to *ids (grown with realloc, count in *n). */
int store_term_postings(struct store *s, const char *term, int64_t from, int64_t to,
    size_t limit, int64_t **ids, size_t *n, struct fw_error *reterr) _must_check_;
/* store_term_postings() of up to STORE_POSTINGS_TERMS terms at once, in
 * one statement. */
#define STORE_POSTINGS_TERMS	16
int store_terms_postings(struct store *s, const char *const *terms, size_t n_terms,
    int64_t from, int64_t to, size_t limit, int64_t **ids, size_t *n,
    struct fw_error *reterr) _must_check_;
/* The development of story id. */
int store_story_development(struct store *s, int64_t id, int64_t *ret,
    struct fw_error *reterr) _must_check_;
/* The stories of development dev with from <= t <= to, oldest first, at
 * most limit. Caller frees each and the array. */
int store_development_members(struct store *s, int64_t dev, int64_t from, int64_t to,
    size_t limit, struct store_story **ret, size_t *ret_n, struct fw_error *reterr)
    _must_check_;
/* The development of a story with this canonical link, or 0 for none. */
int store_canon_development(struct store *s, const char *canon, int64_t *ret,
    struct fw_error *reterr) _must_check_;
/* Adds a story (st->id is set) with its index terms (each counted once in
 * the document frequencies). */
int store_story_add(struct store *s, struct store_story *st, const char *const *terms,
    size_t n_terms, struct fw_error *reterr) _must_check_;
/* Creates a development (d->id is set). */
int store_development_add(struct store *s, struct store_development *d,
    struct fw_error *reterr) _must_check_;
int store_development_get(struct store *s, int64_t id, struct store_development *ret,
    struct fw_error *reterr) _must_check_;
/* Looks a development up by its key. Returns 1, 0 when there is none. */
int store_development_by_key(struct store *s, const char *key,
    struct store_development *ret, struct fw_error *reterr) _must_check_;
/* Writes every field of d back (by d->id). */
int store_development_save(struct store *s, const struct store_development *d,
    struct fw_error *reterr) _must_check_;
/* Takes up to limit stories first seen before before out of the term
 * index (their postings go; the stories, their developments and the
 * document frequencies stay). Returns how many, or a negative errno. */
int store_index_prune(struct store *s, int64_t before, size_t limit,
    struct fw_error *reterr) _must_check_;
/* Moves every story of development from into development into and
 * forgets from (the caller merges the other fields into into first). */
int store_development_merge(struct store *s, int64_t into, int64_t from,
    struct fw_error *reterr) _must_check_;
/* The developments whose newest story is from since or later, newest
 * first; caller frees each and the array. */
int store_developments_list(struct store *s, int64_t since,
    struct store_development **ret, size_t *ret_n, struct fw_error *reterr) _must_check_;
/* Calls fn for each story of development dev (0: of every development
 * store_developments_list() gives for since) with its item's fields, by
 * development and time. */
typedef int (*store_story_fn)(const struct store_story *st, void *userdata);
int store_stories_foreach(struct store *s, int64_t dev, int64_t since, store_story_fn fn,
    void *userdata, struct fw_error *reterr) _must_check_;

/* Queues an alert for the given sinks. Returns 1 when queued, 0 when an
 * alert with the same dedup_key exists already (the story came through
 * another feed), or a negative errno. */
int store_alert_add(struct store *s, const char *alert_id, const char *dedup_key,
    const char *json, int64_t now, const char *const *sinks, size_t n_sinks,
    struct fw_error *reterr) _must_check_;

enum delivery_state {
	DELIVERY_PENDING,
	DELIVERY_DELIVERED,
	DELIVERY_FAILED,	/* dead letter: retries exhausted or permanent */
	DELIVERY_DIGESTED,	/* delivered as part of a digest message */
	DELIVERY_HELD,		/* waiting for the sink's next digest (flood control) */
	DELIVERY_GONE,		/* dead letter: the receiver said 410 Gone */
	_DELIVERY_STATE_MAX,
};
const char *delivery_state_to_string(enum delivery_state st);

struct store_delivery {
	char			*alert_id;
	char			*sink;
	char			*json;
	enum delivery_state	 state;
	int			 attempts;
	int64_t			 next_attempt;
	int64_t			 created;
	char			*last_error;
	char			*digest_id;	/* set once a held alert is put in a digest */
};
void store_delivery_done(struct store_delivery *d);

/* The deliveries due at now (at most limit), pending and held ones, by
 * next attempt then age. Caller frees each element with
 * store_delivery_done() and the array. */
int store_deliveries_due(struct store *s, int64_t now, size_t limit,
    struct store_delivery **ret, size_t *ret_n, struct fw_error *reterr) _must_check_;
/* The same, skipping the first offset due deliveries (those the caller
 * left due on purpose). On a shared state, the deliveries another
 * instance holds are left out and those returned are leased to this one;
 * store_deliveries_due() only looks, and counts another instance's
 * delivery due when its lease ends. */
int store_deliveries_due_page(struct store *s, int64_t now, size_t offset, size_t limit,
    struct store_delivery **ret, size_t *ret_n, struct fw_error *reterr) _must_check_;
/* The held deliveries of sink due at now (at most limit): those already
 * put in a digest first (by digest id), then the oldest. */
int store_deliveries_held(struct store *s, const char *sink, int64_t now, size_t limit,
    struct store_delivery **ret, size_t *ret_n, struct fw_error *reterr) _must_check_;
/* Puts a held delivery in the digest digest_id. */
int store_delivery_set_digest(struct store *s, const char *alert_id, const char *sink,
    const char *digest_id, struct fw_error *reterr) _must_check_;
/* The times of the messages sent to sink after since, newest first (at most
 * limit): each delivered alert and each digest counts once. Caller frees
 * *ret. */
int store_deliveries_sent_times(struct store *s, const char *sink, int64_t since,
    size_t limit, int64_t **ret, size_t *ret_n, struct fw_error *reterr) _must_check_;
/* Recent deliveries (newest first); failed_only selects dead letters
 * (failed and gone). */
int store_deliveries_list(struct store *s, bool failed_only, size_t limit,
    struct store_delivery **ret, size_t *ret_n, struct fw_error *reterr) _must_check_;
/* Records an attempt's outcome. */
int store_delivery_update(struct store *s, const char *alert_id, const char *sink,
    enum delivery_state state, int attempts, int64_t next_attempt,
    const char *last_error, int64_t now, struct fw_error *reterr) _must_check_;
/* One delivery's new state, for store_deliveries_record() (borrowed
 * strings). */
struct store_delivery_change {
	const char		*alert_id;
	const char		*sink;
	enum delivery_state	 state;
	int			 attempts;
	int64_t			 next_attempt;
	const char		*last_error;	/* NULL: none */
};
/* Records the outcomes of a round's attempts v[0..n) (as
 * store_delivery_update() does each) in one transaction: all of them or,
 * on failure, none. Call it outside a transaction. */
int store_deliveries_record(struct store *s, const struct store_delivery_change *v,
    size_t n, int64_t now, struct fw_error *reterr) _must_check_;
/* Requeues dead letters (failed and gone): one alert id, or every one when
 * alert_id is NULL. Returns how many were requeued. */
int store_deliveries_retry(struct store *s, const char *alert_id, int64_t now,
    struct fw_error *reterr) _must_check_;
/* Makes pending deliveries due at now that are waiting for a later time:
 * those to sink (NULL: every sink) of alert_id (NULL: every alert). Their
 * attempts are kept. Returns how many. */
int store_deliveries_hurry(struct store *s, const char *sink, const char *alert_id,
    int64_t now, struct fw_error *reterr) _must_check_;
/* The alert whose id starts with prefix: returns 1 and sets *ret_id
 * (owned) when exactly one does, 0 when none does, 2 when several do. */
int store_alert_find(struct store *s, const char *prefix, char **ret_id,
    struct fw_error *reterr) _must_check_;
/* Forgets alerts created before before whose deliveries are all settled
 * (none pending or held), with their deliveries. Returns how many. */
int store_alerts_prune(struct store *s, int64_t before,
    struct fw_error *reterr) _must_check_;
/* A sink's flood control between runs (see flood.h). */
struct store_sink_flood {
	double	tokens;		/* its rate limit's bucket */
	int64_t	refilled;	/* when the bucket was last filled, 0 = never */
	int64_t	blocked_until;	/* a receiver's Retry-After pause, 0 = none */
};
/* Returns 1 and fills *ret when the sink has a saved state, 0 when not. */
int store_sink_flood_get(struct store *s, const char *sink, struct store_sink_flood *ret,
    struct fw_error *reterr) _must_check_;
int store_sink_flood_save(struct store *s, const char *sink,
    const struct store_sink_flood *f, struct fw_error *reterr) _must_check_;
/* Counts deliveries in a state (all sinks). */
int store_deliveries_count(struct store *s, enum delivery_state state,
    int64_t *ret, struct fw_error *reterr) _must_check_;

/* Copies every row of from into to, which must be empty (-EEXIST), in
 * one transaction of to; leases stay behind. Then counts the rows of each
 * table on both sides into ret_from[i] and ret_to[i], for the tables
 * store_copy_table_name(i) names (NULL past the last; at most
 * STORE_COPY_TABLES). */
#define STORE_COPY_TABLES	16
int store_copy(struct store *from, struct store *to, int64_t *ret_from, int64_t *ret_to,
    struct fw_error *reterr) _must_check_;
const char *store_copy_table_name(size_t i);
