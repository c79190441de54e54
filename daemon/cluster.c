/* cluster.c — assigning a story to its development.
 *
 * The decision rule, which `developments --explain` prints for each story:
 *
 * 1. A story whose canonical link is stored already is the same article
 *    (RULES.md rule 2): it joins that story's development.
 * 2. Otherwise the candidates are the stories within the window (default
 *    72 h either side of its time) that share one of its heaviest terms,
 *    found through the inverted index (story_terms, by term and time), so
 *    the work does not grow with the number of stored stories.
 * 3. Each candidate development is scored by average linkage: the mean,
 *    over its stories within the window, of the cosine of the TF-IDF
 *    vectors, each damped by exp(-|dt|/decay). Averaging rather than
 *    taking the best pair keeps a chain of look-alikes (event, follow-up,
 *    reaction) from gluing into one development.
 * 4. A headline that reports another stage than the development's usual
 *    one (signed vs agreed, begun vs announced, a reaction) multiplies the
 *    score by stage_penalty: RULES.md rules 4 and 5, a follow-up step or a
 *    reaction is a new development even when it repeats the figures.
 * 5. A development that has a story from the same feed already scores
 *    same_feed_penalty times less: an outlet reports an event once, and
 *    its next story on the subject is mostly the next step (the labeled
 *    set has no development with two stories of one feed).
 * 6. When the story's headline and the development's name events (two or
 *    more capitalised words: Freedom Edge, Key Resolve) and share no
 *    name, the score is name_penalty times less (rule 7: the same kind of
 *    event is not the same event).
 *    The same holds for figures: both give a sum in one currency (or a
 *    rate) and no such figure agrees.
 * 6a. When both ledes name a host country of the alliance (Korea, Japan:
 *    their names, capitals, bases) and none in common, the score is
 *    CLUSTER_HOST_PENALTY times less: Seoul's cost talks are not Tokyo's,
 *    even on the same day.
 * 6b. A development that matched none of the story's topics scores
 *    topic_penalty times less (a development may span topics, but
 *    topic agreement is evidence).
 * 7. A development none of whose stories shares with it two words, or a
 *    name or a figure, scores 0: one shared word is chance.
 * 8. The best development at or above the threshold is joined; else the
 *    story starts its own. Other developments that score four times the
 *    threshold are merged into it: reports arrive in any order, and the
 *    first two of an event need not resemble each other.
 *
 * Storage is store_dev.c's; the features are cluster_text.c's. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "buf.h"
#include "cluster.h"

/* Bounds on the work per story, whatever the window holds. */
#define QUERY_TERMS		STORE_POSTINGS_TERMS	/* heaviest terms looked up in the index: 16 */
#define POSTINGS_PER_TERM	128	/* newest first */
#define MAX_CANDIDATES		48	/* stories */
#define MAX_DEVELOPMENTS	24
/* Average linkage over a development's first 16 stories in the window:
 * more is work that grows with a big story and changes no decision on the
 * labeled set (48, 16 and 8 score alike). */
#define MAX_MEMBERS		16
/* A story that scores this many times the threshold with two developments
 * shows that they are one: stories arrive in any order, and the first two
 * reports of an event need not resemble each other. */
#define CLUSTER_MERGE_FACTOR	4.0
/* Stories first seen more than this many windows ago leave the index, at
 * most CLUSTER_PRUNE_PER_STORY per new story (more than one, so it keeps
 * up). An item published that long ago and seen only now (a feed's old
 * items) still joins by its canonical link, not by its words. */
#define CLUSTER_INDEX_KEEP_WINDOWS	2
#define CLUSTER_PRUNE_PER_STORY		4
/* A story whose lede names only the other host country scores this many
 * times less: stronger than another name, since Seoul's and Tokyo's talks
 * share most of their words. */
#define CLUSTER_HOST_PENALTY	0.1
#define CLUSTER_MIN_EVIDENCE	2	/* shared terms, a name or figure counting 2 */

void
cluster_opts_default(struct cluster_opts *o)
{
	o->window = CLUSTER_DEFAULT_WINDOW;
	o->threshold = CLUSTER_DEFAULT_THRESHOLD;
	o->decay = CLUSTER_DEFAULT_DECAY;
	o->stage_penalty = CLUSTER_DEFAULT_STAGE_PENALTY;
	o->same_feed_penalty = CLUSTER_DEFAULT_SAME_FEED_PENALTY;
	o->topic_penalty = CLUSTER_DEFAULT_TOPIC_PENALTY;
	o->name_penalty = CLUSTER_DEFAULT_NAME_PENALTY;
}

void
cluster_result_done(struct cluster_result *r)
{
	for (size_t i = 0; i < r->n_new_figures; i++)
		free(r->new_figures[i]);
	free(r->new_figures);
	for (size_t i = 0; i < r->n_new_topics; i++)
		free(r->new_topics[i]);
	free(r->new_topics);
	free(r->sources);
	free(r->alert_id);
	free(r->explain);
	memset(r, 0, sizeof(*r));
}

/* ---- weights ------------------------------------------------------------ */

/* Inverse document frequencies: the store's entries carry the term's
 * document frequency; the weight derived from it is kept in the entry
 * until that or the number of stories changes. */
struct idf_cache {
	struct store	*store;
	int64_t		 n_stories;
};

static double
idf_of(const struct idf_cache *c, struct store_term *e)
{
	/* memo_n holds the number of stories plus one: 0 is "never". */
	if (e->memo_n != c->n_stories + 1 || e->memo_df != e->df) {
		/* The story being placed counts as one more holder of its
		 * terms. */
		e->memo = log(((double)c->n_stories + 2.0) / ((double)e->df + 1.0));
		e->memo_n = c->n_stories + 1;
		e->memo_df = e->df;
	}
	return e->memo;
}

/* A unit vector: terms with their TF-IDF weights, sorted by term. */
struct vec {
	struct store_story_term	*v;	/* borrowed entries */
	size_t			 n;
};

static int
cmp_term(const void *a, const void *b)
{
	return strcmp(((const struct store_story_term *)a)->term->term,
	    ((const struct store_story_term *)b)->term->term);
}

/* terms[] are term frequencies; the weights are multiplied by the inverse
 * document frequencies and scaled to unit length in that order. */
static int
vec_build(const struct idf_cache *c, const struct store_story_term *terms, size_t n,
    struct vec *ret)
{
	double	norm = 0;

	ret->v = calloc(n ? n : 1, sizeof(*ret->v));
	ret->n = n;
	if (ret->v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ret->v[i].term = terms[i].term;
		ret->v[i].weight = terms[i].weight * idf_of(c, terms[i].term);
		norm += ret->v[i].weight * ret->v[i].weight;
	}
	norm = sqrt(norm);
	for (size_t i = 0; i < n && norm > 0; i++)
		ret->v[i].weight /= norm;
	/* Stored features are written in term order (features_serialise()):
	 * the members of a development, most of the vectors built, need no
	 * sort. */
	for (size_t i = 1; i < n; i++)
		if (strcmp(ret->v[i - 1].term->term, ret->v[i].term->term) > 0) {
			qsort(ret->v, n, sizeof(*ret->v), cmp_term);
			break;
		}
	return 0;
}

/* The host country a "h:" term names, as a bit; 0 for any other term. */
static unsigned
host_bit(const char *term)
{
	if (strncmp(term, "h:", 2) != 0)
		return 0;
	return strcmp(term + 2, "kr") == 0 ? 1u : strcmp(term + 2, "jp") == 0 ? 2u : 0;
}

/* How much a shared term counts as evidence of one event: a name or a
 * figure two, a host country ("h:") nothing, any other term one. */
static unsigned
term_evidence(const char *term)
{
	return term[0] == 'h' ? 0 : strchr("efn", term[0]) != NULL ? 2 : 1;
}

/* The cosine of two unit vectors; *ret_shared gets how many terms they
 * share, a name or a figure counting two. Entries are one per term: the
 * same term is the same pointer. */
static double
vec_cosine(const struct vec *a, const struct vec *b, unsigned *ret_shared)
{
	double		dot = 0;
	size_t		i = 0, j = 0;
	unsigned	shared = 0;

	while (i < a->n && j < b->n) {
		int c = a->v[i].term == b->v[j].term ? 0 :
		    strcmp(a->v[i].term->term, b->v[j].term->term);

		if (c == 0) {
			shared += term_evidence(a->v[i].term->term);
			dot += a->v[i++].weight * b->v[j++].weight;
		} else if (c < 0)
			i++;
		else
			j++;
	}
	*ret_shared = shared;
	return dot;
}

/* ---- stored features ---------------------------------------------------- */

static int
cmp_feature_term(const void *a, const void *b)
{
	return strcmp(((const struct cluster_term *)a)->term,
	    ((const struct cluster_term *)b)->term);
}

/* "stage\n" then "term\tweight\n" per term, in term order: no term holds
 * a tab or a newline (cluster_text.c cuts words at both). store_dev.c
 * reads them back. */
static char *
features_serialise(const struct cluster_features *f)
{
	struct cluster_term	*sorted;
	struct buf		 b;
	int			 r;

	sorted = malloc((f->n_terms ? f->n_terms : 1) * sizeof(*sorted));
	if (sorted == NULL)
		return NULL;
	memcpy(sorted, f->terms, f->n_terms * sizeof(*sorted));
	qsort(sorted, f->n_terms, sizeof(*sorted), cmp_feature_term);
	buf_init(&b, 1u << 20);
	r = buf_printf(&b, "%d\n", (int)f->stage);
	for (size_t i = 0; r == 0 && i < f->n_terms; i++)
		r = buf_printf(&b, "%s\t%.4f\n", sorted[i].term, sorted[i].weight);
	free(sorted);
	if (r < 0) {
		buf_done(&b);
		return NULL;
	}
	return buf_take(&b);
}

/* ---- JSON string sets --------------------------------------------------- */

/* Adds each of add[] missing from the JSON array text *set; the ones that
 * were missing go to *ret_new (owned) when ret_new is not NULL. */
static int
json_set_merge(char **set, const char *const *add, size_t n_add, char ***ret_new,
    size_t *ret_n_new)
{
	json_t	*a = json_loads(*set != NULL ? *set : "[]", 0, NULL);
	char	*text;
	int	 r = -ENOMEM;

	if (a == NULL || !json_is_array(a)) {
		json_decref(a);
		a = json_array();
		if (a == NULL)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n_add; i++) {
		bool	have = false;
		size_t	j;
		json_t	*v;

		json_array_foreach(a, j, v)
			if (json_is_string(v) && strcmp(json_string_value(v), add[i]) == 0)
				have = true;
		if (have)
			continue;
		if (json_array_append_new(a, json_string(add[i])) < 0)
			goto out;
		if (ret_new != NULL) {
			char **nv = reallocarray(*ret_new, *ret_n_new + 1, sizeof(char *));

			if (nv == NULL)
				goto out;
			*ret_new = nv;
			if ((nv[*ret_n_new] = strdup(add[i])) == NULL)
				goto out;
			(*ret_n_new)++;
		}
	}
	text = json_dumps(a, JSON_COMPACT);
	if (text == NULL)
		goto out;
	free(*set);
	*set = text;
	r = 0;
out:
	json_decref(a);
	return r;
}

/* Whether the JSON array text set holds one of v[]. */
static bool
json_set_overlaps(const char *set, const char *const *v, size_t n)
{
	json_t	*a = json_loads(set != NULL ? set : "[]", 0, NULL);
	json_t	*e;
	size_t	 i;
	bool	 found = false;

	json_array_foreach(a, i, e)
		for (size_t j = 0; j < n && json_is_string(e); j++)
			found |= strcmp(json_string_value(e), v[j]) == 0;
	json_decref(a);
	return found;
}

static size_t
json_set_size(const char *set)
{
	json_t	*a = json_loads(set != NULL ? set : "[]", 0, NULL);
	size_t	 n = json_array_size(a);

	json_decref(a);
	return n;
}

/* ---- the decision ------------------------------------------------------- */

struct candidate {
	int64_t	story;
	int	shared;		/* query terms it holds */
};

static int
cmp_i64_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int
cmp_weight_desc(const void *a, const void *b)
{
	double x = ((const struct store_story_term *)a)->weight;
	double y = ((const struct store_story_term *)b)->weight;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Story ids within the window sharing the heaviest query terms, the ones
 * sharing most first. */
static int
find_candidates(struct store *s, const struct vec *x, int64_t from, int64_t to,
    struct candidate **ret, size_t *ret_n, struct fw_error *reterr)
{
	struct store_story_term	*by_weight;
	const char		*query[QUERY_TERMS];
	struct candidate	*c = NULL, *tally = NULL;
	int64_t			*ids = NULL;
	size_t			 slots;
	int			 max_shared = 0;
	size_t			 n_ids = 0, nq = x->n < QUERY_TERMS ? x->n : QUERY_TERMS, n = 0;
	int			 r = 0;

	by_weight = malloc((x->n ? x->n : 1) * sizeof(*by_weight));
	if (by_weight == NULL)
		return -ENOMEM;
	memcpy(by_weight, x->v, x->n * sizeof(*by_weight));
	qsort(by_weight, x->n, sizeof(*by_weight), cmp_weight_desc);
	for (size_t i = 0; i < nq; i++)
		query[i] = by_weight[i].term->term;
	r = store_terms_postings(s, query, nq, from, to, POSTINGS_PER_TERM, &ids, &n_ids,
	    reterr);
	free(by_weight);
	if (r < 0)
		goto out;
	/* Count each story's postings in a table (ids are at most
	 * QUERY_TERMS * POSTINGS_PER_TERM), then take the stories sharing
	 * most, the newest (highest id) first among equals, as a sort of
	 * them all by (shared, id) descending would. */
	for (slots = 16; slots < 2 * n_ids; slots *= 2)
		;
	tally = calloc(slots, sizeof(*tally));
	c = calloc(MAX_CANDIDATES, sizeof(*c));
	if (tally == NULL || c == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_ids; i++) {
		size_t h = ((uint64_t)ids[i] * 11400714819323198485ull >> 20) & (slots - 1);

		while (tally[h].shared != 0 && tally[h].story != ids[i])
			h = (h + 1) & (slots - 1);
		tally[h].story = ids[i];
		if (++tally[h].shared > max_shared)
			max_shared = tally[h].shared;
	}
	for (int sh = max_shared; sh > 0 && n < MAX_CANDIDATES; sh--) {
		size_t k = 0;

		/* ids is free for reuse: the stories sharing sh terms. */
		for (size_t h = 0; h < slots; h++)
			if (tally[h].shared == sh)
				ids[k++] = tally[h].story;
		if (k > 1)
			qsort(ids, k, sizeof(*ids), cmp_i64_desc);
		for (size_t i = 0; i < k && n < MAX_CANDIDATES; i++) {
			c[n].story = ids[i];
			c[n++].shared = sh;
		}
	}
	*ret = c;
	*ret_n = n;
	c = NULL;
out:
	free(ids);
	free(tally);
	free(c);
	return r;
}

struct dev_score {
	int64_t			 development;
	double			 score;		/* after the stage penalty */
	double			 similarity;	/* before it */
	size_t			 members;
	enum cluster_stage	 stage;		/* the development's usual stage */
	bool			 same_feed;	/* it has a story of this feed */
	unsigned		 evidence;	/* most terms shared with one story */
	bool			 other_names;	/* both name events, no name in common */
	bool			 other_hosts;	/* Korea's event vs Japan's */
	bool			 other_figures;	/* sums of one kind, none in common */
	bool			 other_topics;	/* none of the story's topics */
};

/* The kind of a figure term: 1 dollars, 2 won, 3 yen, 4 percent, 0 other
 * (counts: a rewrite rounds them, or counts something else). */
static int
figure_kind(const char *term)
{
	size_t n = strlen(term);

	if (strncmp(term, "f:", 2) != 0)
		return -1;
	if (term[2] == '$')
		return 1;
	if (n > 4 && strcmp(term + n - 4, " won") == 0)
		return 2;
	if (n > 4 && strcmp(term + n - 4, " yen") == 0)
		return 3;
	return term[n - 1] == '%' ? 4 : 0;
}

/* What kind of evidence a term is, kept in its entry (memo_kind): */
#define TERM_KNOWN		0x01u
#define TERM_NAME		0x02u
#define TERM_FIGURE_SHIFT	2	/* figure_kind() + 1, 3 bits */
#define TERM_HOST_SHIFT		5	/* host_bit(), 2 bits */

static unsigned
term_class(struct store_term *e)
{
	if (e->memo_kind == 0)
		e->memo_kind = (int)(TERM_KNOWN | (e->term[0] == 'n' ? TERM_NAME : 0) |
		    (unsigned)(figure_kind(e->term) + 1) << TERM_FIGURE_SHIFT |
		    host_bit(e->term) << TERM_HOST_SHIFT);
	return (unsigned)e->memo_kind;
}

static int
term_figure_kind(struct store_term *e)
{
	return (int)((term_class(e) >> TERM_FIGURE_SHIFT) & 7u) - 1;
}

static unsigned
term_host_bit(struct store_term *e)
{
	return (term_class(e) >> TERM_HOST_SHIFT) & 3u;
}

/* Whether x holds the entry e. */
static bool
vec_holds(const struct vec *x, const struct store_term *e)
{
	for (size_t q = 0; q < x->n; q++)
		if (x->v[q].term == e)
			return true;
	return false;
}

/* Average-linkage score of x against development dev. */
static int
score_development(struct store *s, const struct idf_cache *c, const struct cluster_opts *o,
    const struct vec *x, enum cluster_stage x_stage, int64_t feed_id, int64_t t, int64_t dev,
    struct dev_score *ret, struct fw_error *reterr)
{
	const struct store_features *m[MAX_MEMBERS];
	size_t			 n = 0;
	unsigned		 stages[_STAGE_MAX] = { 0 };
	size_t			 dev_names = 0, shared_names = 0, x_names = 0;
	unsigned		 x_kinds = 0, dev_kinds = 0, shared_kinds = 0;
	unsigned		 x_hosts = 0, dev_hosts = 0;
	double			 sum = 0;
	int			 r;

	r = store_development_member_features(s, dev, t - o->window, t + o->window,
	    MAX_MEMBERS, m, &n, reterr);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->development = dev;
	for (size_t i = 0; i < n && r >= 0; i++) {
		const struct store_features	*f = m[i];
		struct vec			 v = { 0 };
		int				 stage = f->stage;
		double				 dt = fabs((double)(t - f->t));

		if (stage < 0 || stage >= _STAGE_MAX)
			stage = STAGE_NONE;
		stages[stage]++;
		ret->same_feed |= f->feed_id == feed_id;
		for (size_t k = 0; k < f->n; k++) {
			struct store_term	*e = f->v[k].term;
			int			 kind = term_figure_kind(e);

			dev_hosts |= term_host_bit(e);
			if (kind > 0) {
				dev_kinds |= 1u << kind;
				if (vec_holds(x, e))
					shared_kinds |= 1u << kind;
			}
			if (term_class(e) & TERM_NAME) {
				dev_names++;
				shared_names += vec_holds(x, e);
			}
		}
		r = vec_build(c, f->v, f->n, &v);
		if (r >= 0) {
			unsigned shared;

			sum += vec_cosine(x, &v, &shared) * exp(-dt / (o->decay > 0 ? o->decay : 1));
			if (shared > ret->evidence)
				ret->evidence = shared;
		}
		free(v.v);
	}
	if (r < 0)
		return r;
	ret->members = n;
	ret->similarity = n > 0 ? sum / (double)n : 0;
	for (int st = 1; st < _STAGE_MAX; st++)
		if (stages[st] > stages[ret->stage] || (ret->stage == STAGE_NONE && stages[st] > 0))
			ret->stage = (enum cluster_stage)st;
	ret->score = ret->similarity;
	/* A reaction is news of its own (rule 5) also beside a report whose
	 * headlines name no stage (a newspaper's scoop), whichever came in
	 * first. */
	if (x_stage != ret->stage && ((x_stage != STAGE_NONE && ret->stage != STAGE_NONE) ||
	    x_stage == STAGE_REACTION || ret->stage == STAGE_REACTION))
		ret->score *= o->stage_penalty;
	if (ret->same_feed)
		ret->score *= o->same_feed_penalty;
	for (size_t q = 0; q < x->n; q++) {
		int kind = term_figure_kind(x->v[q].term);

		x_names += (term_class(x->v[q].term) & TERM_NAME) != 0;
		x_hosts |= term_host_bit(x->v[q].term);
		if (kind > 0)
			x_kinds |= 1u << kind;
	}
	/* $21 billion is not $350 billion: both report a sum in one currency
	 * (or a rate) and none of them agree. */
	ret->other_figures = (x_kinds & dev_kinds & ~shared_kinds) != 0;
	if (ret->other_figures)
		ret->score *= o->name_penalty;
	/* Freedom Edge is not Resolute Dragon, whatever else they share. */
	ret->other_names = x_names > 0 && dev_names > 0 && shared_names == 0;
	if (ret->other_names)
		ret->score *= o->name_penalty;
	/* Seoul's cost talks are not Tokyo's: both ledes name a host country
	 * and none in common. */
	ret->other_hosts = x_hosts != 0 && dev_hosts != 0 && (x_hosts & dev_hosts) == 0;
	if (ret->other_hosts)
		ret->score *= CLUSTER_HOST_PENALTY;
	/* One shared common word is chance, whatever its weight in a young
	 * state file where every word is rare. */
	if (ret->evidence < CLUSTER_MIN_EVIDENCE)
		ret->score = 0;
	return 0;
}

static int
decide(struct store *s, const struct idf_cache *c, const struct cluster_opts *o, const struct vec *x,
    enum cluster_stage x_stage, int64_t feed_id, const char *const *topics, size_t n_topics,
    int64_t t, struct dev_score *ret_best, size_t *ret_n_dev, int64_t *ret_merge,
    size_t *ret_n_merge, struct fw_error *reterr)
{
	struct candidate	*cand = NULL;
	int64_t			 devs[MAX_DEVELOPMENTS];
	size_t			 n_cand = 0, n_dev = 0;
	int			 r;

	memset(ret_best, 0, sizeof(*ret_best));
	r = find_candidates(s, x, t - o->window, t + o->window, &cand, &n_cand, reterr);
	for (size_t i = 0; r >= 0 && i < n_cand && n_dev < MAX_DEVELOPMENTS; i++) {
		int64_t	dev;
		bool	seen = false;

		if ((r = store_story_development(s, cand[i].story, &dev, reterr)) < 0)
			break;
		for (size_t j = 0; j < n_dev; j++)
			seen |= devs[j] == dev;
		if (!seen)
			devs[n_dev++] = dev;
	}
	free(cand);
	for (size_t i = 0; r >= 0 && i < n_dev; i++) {
		struct dev_score sc;

		r = score_development(s, c, o, x, x_stage, feed_id, t, devs[i], &sc, reterr);
		if (r >= 0 && sc.score > 0 && n_topics > 0) {
			struct store_development d;

			if ((r = store_development_get(s, devs[i], &d, reterr)) < 0)
				break;
			sc.other_topics = !json_set_overlaps(d.topics, topics, n_topics);
			store_development_done(&d);
			if (sc.other_topics)
				sc.score *= o->topic_penalty;
		}
		if (r >= 0 && sc.score > ret_best->score)
			*ret_best = sc;
		if (r >= 0 && sc.score >= o->threshold * CLUSTER_MERGE_FACTOR)
			ret_merge[(*ret_n_merge)++] = sc.development;
	}
	*ret_n_dev = n_dev;
	return r < 0 ? r : 0;
}

static int
topics_json(const char *const *topics, size_t n, char **ret)
{
	*ret = NULL;
	return json_set_merge(ret, topics, n, NULL, NULL);
}

int
cluster_add(struct store *s, const struct cluster_opts *o, int64_t feed_id,
    const char *feed_name, const struct feed_item *item, const char *canon,
    const char *const *topics, size_t n_topics, int64_t t, int64_t now,
    struct cluster_result *ret, struct fw_error *reterr)
{
	struct cluster_features	 f = { 0 };
	struct cluster_result	 res = { 0 };
	struct idf_cache	 c = { 0 };
	struct store_term	*all;
	struct store_story_term	*x_terms = NULL;
	struct store_development d = { 0 };
	struct store_story	 story = { 0 };
	struct dev_score	 best = { 0 };
	struct vec		 x = { 0 };
	const char		*terms[256];
	const char		*src[1] = { feed_name };
	size_t			 n_dev = 0, n_merge = 0;
	int64_t			 same_link = 0, merge[MAX_DEVELOPMENTS];
	double			 threshold;
	size_t			 n_merged = 0;
	char			*key_src = NULL;
	int			 r;

	r = cluster_features_build(item->title, item->summary, &f);
	if (r < 0)
		goto oom;
	/* No entry of the store's cache is held between two stories. */
	store_dev_cache_trim(s);
	if ((r = store_term_get(s, "", &all, reterr)) < 0)
		goto out;
	c.store = s;
	c.n_stories = all->df;
	if ((x_terms = calloc(f.n_terms ? f.n_terms : 1, sizeof(*x_terms))) == NULL)
		goto oom;
	for (size_t i = 0; i < f.n_terms; i++) {
		if ((r = store_term_get(s, f.terms[i].term, &x_terms[i].term, reterr)) < 0)
			goto out;
		x_terms[i].weight = f.terms[i].weight;
	}
	if (vec_build(&c, x_terms, f.n_terms, &x) < 0)
		goto oom;
	if (canon != NULL && (r = store_canon_development(s, canon, &same_link, reterr)) < 0)
		goto out;
	if (same_link == 0 && (r = decide(s, &c, o, &x, f.stage, feed_id, topics, n_topics, t, &best, &n_dev,
	    merge, &n_merge, reterr)) < 0)
		goto out;

	threshold = o->threshold;
	if (same_link != 0) {
		r = asprintf(&res.explain, "joined: the same article (canonical link %s) is "
		    "stored already", canon);
	} else if (best.development != 0 && best.score >= threshold) {
		r = asprintf(&res.explain, "joined: score %.3f (average similarity %.3f to "
		    "its %zu stories within %llds%s%s; stage %s, development's %s); threshold "
		    "%.3f; %zu candidate developments", best.score, best.similarity,
		    best.members, (long long)o->window, best.same_feed ? ", a story of this "
		    "feed in it" : best.other_names ? ", other names" : best.other_hosts ?
		    ", another host country" : best.other_figures ? ", other figures" : "", best.other_topics ? ", other topics" : "",
		    cluster_stage_to_string(f.stage),
		    cluster_stage_to_string(best.stage), threshold, n_dev);
	} else if (best.development != 0) {
		r = asprintf(&res.explain, "new: the closest development scored %.3f "
		    "(average similarity %.3f%s%s; stage %s, its %s), below the threshold "
		    "%.3f; %zu candidates", best.score, best.similarity, best.same_feed ?
		    ", a story of this feed in it" : best.other_names ? ", other names" :
		    best.other_hosts ? ", another host country" :
		    best.other_figures ? ", other figures" : "",
		    best.other_topics ? ", other topics" : "", cluster_stage_to_string(f.stage),
		    cluster_stage_to_string(best.stage), o->threshold, n_dev);
		best.development = 0;
	} else {
		r = asprintf(&res.explain, "new: no stored story within %llds shares its "
		    "terms (stage %s)", (long long)o->window, cluster_stage_to_string(f.stage));
	}
	if (r < 0) {
		res.explain = NULL;
		goto oom;
	}
	if (same_link != 0)
		best.development = same_link;

	if (best.development == 0) {
		char hex[33];

		if (asprintf(&key_src, "development:%lld:%s", (long long)feed_id, item->id) < 0) {
			key_src = NULL;
			goto oom;
		}
		alert_hash_hex(key_src, hex);
		d.key = strdup(hex);
		if (d.key == NULL)
			goto oom;
		d.first_t = d.last_t = t;
		d.first_seen = d.last_seen = now;
		if ((r = store_development_add(s, &d, reterr)) < 0)
			goto out;
		res.is_new = true;
	} else if ((r = store_development_get(s, best.development, &d, reterr)) < 0)
		goto out;
	for (size_t i = 0; same_link == 0 && !res.is_new && i < n_merge; i++) {
		struct store_development other;
		const char		*one[1];
		json_t			*a;
		json_t			*v;
		size_t			 k;

		if (merge[i] == d.id)
			continue;
		if ((r = store_development_get(s, merge[i], &other, reterr)) < 0)
			goto out;
		/* Fold the other's sets and times in; its first alert stays
		 * the development's if this one had none. */
		const char *sets[3] = { other.topics, other.figures, other.sources };
		char **dst[3] = { &d.topics, &d.figures, &d.sources };

		for (int j = 0; j < 3 && r == 0; j++) {
			a = json_loads(sets[j] != NULL ? sets[j] : "[]", 0, NULL);
			json_array_foreach(a, k, v) {
				one[0] = json_string_value(v);
				if (one[0] != NULL && r == 0)
					r = json_set_merge(dst[j], one, 1, NULL, NULL);
			}
			json_decref(a);
		}
		if (other.first_t < d.first_t)
			d.first_t = other.first_t;
		if (other.last_t > d.last_t)
			d.last_t = other.last_t;
		if (other.first_seen < d.first_seen)
			d.first_seen = other.first_seen;
		if (d.alert_id == NULL && other.alert_id != NULL) {
			d.alert_id = other.alert_id;
			other.alert_id = NULL;
		}
		store_development_done(&other);
		if (r < 0)
			goto oom;
		if ((r = store_development_merge(s, d.id, merge[i], reterr)) < 0)
			goto out;
		n_merged++;
	}
	if (n_merged > 0) {
		char *longer;

		if (asprintf(&longer, "%s; merged %zu more development%s it matched at %.0fx "
		    "the threshold", res.explain, n_merged, n_merged > 1 ? "s" : "",
		    CLUSTER_MERGE_FACTOR) < 0)
			goto oom;
		free(res.explain);
		res.explain = longer;
	}
	if (t < d.first_t)
		d.first_t = t;
	if (t > d.last_t)
		d.last_t = t;
	d.last_seen = now;
	r = json_set_merge(&d.figures, (const char *const *)f.figures, f.n_figures,
	    &res.new_figures, &res.n_new_figures);
	if (r == 0)
		r = json_set_merge(&d.topics, topics, n_topics, &res.new_topics, &res.n_new_topics);
	if (r == 0) {
		size_t before = json_set_size(d.sources);

		/* A copy of a stored article (through an aggregator, say)
		 * confirms nothing: its feed is no new source. */
		r = json_set_merge(&d.sources, src, feed_name != NULL && same_link == 0 ? 1 : 0,
		    NULL, NULL);
		res.n_sources = json_set_size(d.sources);
		res.new_source = res.n_sources > before;
	}
	if (r < 0)
		goto oom;
	if ((r = store_development_save(s, &d, reterr)) < 0)
		goto out;

	story.feed_id = feed_id;
	story.item_id = item->id;
	story.canon = (char *)canon;
	story.t = t;
	story.first_seen = now;
	story.development = d.id;
	story.explain = res.explain;
	if (topics_json(topics, n_topics, &story.topics) < 0 ||
	    (story.features = features_serialise(&f)) == NULL) {
		free(story.topics);
		goto oom;
	}
	for (size_t i = 0; i < f.n_terms && i < 256; i++)
		terms[i] = f.terms[i].term;
	r = store_story_add(s, &story, terms, f.n_terms < 256 ? f.n_terms : 256, reterr);
	free(story.topics);
	free(story.features);
	if (r < 0)
		goto out;
	/* Stories seen long ago are found by no new one (their time is out
	 * of its window): a few of them leave the term index with each new
	 * story, so the index holds about the window's stories however many
	 * are stored. */
	r = store_index_prune(s, now - CLUSTER_INDEX_KEEP_WINDOWS * o->window,
	    CLUSTER_PRUNE_PER_STORY, reterr);
	if (r < 0)
		goto out;
	res.development = d.id;
	snprintf(res.key, sizeof(res.key), "%s", d.key);
	if (d.alert_id != NULL && (res.alert_id = strdup(d.alert_id)) == NULL)
		goto oom;
	if ((res.sources = strdup(d.sources)) == NULL)
		goto oom;
	*ret = res;
	memset(&res, 0, sizeof(res));
	r = 0;
	goto out;
oom:
	r = -ENOMEM;
	fw_error_set(reterr, NULL, 0, 0, "out of memory");
out:
	cluster_result_done(&res);
	store_development_done(&d);
	cluster_features_done(&f);
	free(x.v);
	free(x_terms);
	free(key_src);
	return r;
}

int
cluster_set_alert(struct store *s, int64_t development, const char *alert_id,
    struct fw_error *reterr)
{
	struct store_development	d;
	int				r;

	if ((r = store_development_get(s, development, &d, reterr)) < 0)
		return r;
	free(d.alert_id);
	d.alert_id = strdup(alert_id);
	r = d.alert_id == NULL ? -ENOMEM : store_development_save(s, &d, reterr);
	store_development_done(&d);
	return r;
}
