/* cluster.h — developments: which real-world event a stored item reports.
 * Each item that matched a topic (a story) joins exactly one development,
 * or starts its own. The decision reads the item's lede (title and first
 * sentence of the summary): TF-IDF weighted words (document frequencies
 * from the stored stories), names and figures as strong features,
 * character bigrams for Korean, Japanese and Chinese, the time between
 * stories and the event stage the headline reports. Never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "feedwatch.h"
#include "store.h"

struct cluster_opts {
	int64_t	window;		/* seconds either side of a story's time */
	double	threshold;	/* least average similarity to join */
	double	decay;		/* seconds: similarity halves about every 0.7 decay */
	double	stage_penalty;	/* factor for a headline of another stage */
	double	same_feed_penalty; /* factor for a development with a story of the feed */
	double	topic_penalty;	/* factor for a development of none of its topics */
	double	name_penalty;	/* factor for a development named otherwise */
};

#define CLUSTER_DEFAULT_WINDOW		(72 * 3600)
#define CLUSTER_DEFAULT_THRESHOLD	0.02
#define CLUSTER_DEFAULT_DECAY		(24 * 3600)
#define CLUSTER_DEFAULT_STAGE_PENALTY	0.5
#define CLUSTER_DEFAULT_SAME_FEED_PENALTY 0.3
#define CLUSTER_DEFAULT_TOPIC_PENALTY	0.5
#define CLUSTER_DEFAULT_NAME_PENALTY	0.3

void cluster_opts_default(struct cluster_opts *o);

/* The event stage a headline reports, from its verb (RULES.md rules 4 and
 * 5: a follow-up step or a reaction is a development of its own). */
enum cluster_stage {
	STAGE_NONE,
	STAGE_REACTION,		/* says, warns, denies, protests ... */
	STAGE_RATIFIED,
	STAGE_SIGNED,
	STAGE_AGREED,
	STAGE_POSTPONED,
	STAGE_EXTENDED,
	STAGE_ENDED,
	STAGE_BEGUN,
	STAGE_ANNOUNCED,
	_STAGE_MAX,
};
const char *cluster_stage_to_string(enum cluster_stage s);

struct cluster_term {
	char	*term;		/* "w:word", "e:acronym", "n:name", "f:figure", "c:bigram" */
	double	 weight;	/* term frequency, boosted by kind and place */
};

struct cluster_features {
	struct cluster_term	*terms;
	size_t			 n_terms;
	char			**figures;	/* readable: "25%", "$21 billion" */
	size_t			 n_figures;
	enum cluster_stage	 stage;
	size_t			 n_names;	/* "n:" terms: names in the headline */
};

/* The features of an item's lede. Returns 0 or -ENOMEM. */
int cluster_features_build(const char *title, const char *summary,
    struct cluster_features *ret) _must_check_;
void cluster_features_done(struct cluster_features *f);

/* What became of one story. */
struct cluster_result {
	int64_t	 development;	/* row id */
	char	 key[33];	/* the development's stable id */
	bool	 is_new;	/* it started the development */
	char	**new_figures;	/* figures the development had not reported */
	size_t	 n_new_figures;
	char	**new_topics;	/* topics the development had not matched */
	size_t	 n_new_topics;
	size_t	 n_sources;	/* distinct feeds reporting it, this one included */
	bool	 new_source;	/* this feed had not reported it */
	char	*sources;	/* JSON array of the feed names reporting it */
	char	*alert_id;	/* the development's first alert; NULL = none */
	char	*explain;	/* the decision, in words */
};
void cluster_result_done(struct cluster_result *r);

/* Adds the item (from feed feed_id, named feed_name) that matched topics
 * as a story, at time t, and assigns it to a development; call it inside
 * the transaction that marks the item seen. canon may be NULL. A story
 * with a canonical link already stored joins that story's development.
 * Returns 0 and *ret, or a negative errno with *reterr set. */
int cluster_add(struct store *s, const struct cluster_opts *o, int64_t feed_id,
    const char *feed_name, const struct feed_item *item, const char *canon,
    const char *const *topics, size_t n_topics, int64_t t, int64_t now,
    struct cluster_result *ret, struct fw_error *reterr) _must_check_;

/* Records that the development's first alert is alert_id. */
int cluster_set_alert(struct store *s, int64_t development, const char *alert_id,
    struct fw_error *reterr) _must_check_;
