/* classify.h — topic rules compiled into one matcher, applied to items.
 * The rule language (terms, "phrases", AND/OR/NOT, NEAR/n, title:/summary:,
 * prefix*) is documented in docs/rules.md. Never logs. */
#pragma once

#include "conf.h"
#include "error.h"
#include "feedwatch.h"

struct classifier;

/* One matched term: the term as written in the rule, and the item field it
 * was found in ("title", "summary" or "content"). */
struct classify_hit {
	char		*term;
	const char	*field;		/* static string */
	/* The item's words that matched, normalised, when they read otherwise
	 * than the term: "troops" for the stem term troop, "주한미군은" for
	 * 주한미군; NULL when they are the term's own words. Owned. */
	char		*surface;
};

struct classify_match {
	const char		*topic;		/* borrowed from the classifier */
	enum severity		 severity;
	struct classify_hit	*hits;
	size_t			 n_hits;
};

/* A topic whose terms matched but which an exclude rule removed. */
struct classify_exclusion {
	const char		*topic;		/* borrowed from the classifier */
	const char		*rule;		/* the exclude as written; borrowed */
};

struct classify_result {
	struct classify_match	*matches;	/* in config order of topics */
	size_t			 n_matches;
	struct classify_exclusion *excluded;	/* in config order of topics */
	size_t			 n_excluded;
};

/* Compiles every topic of conf. Returns 0 and *ret (free with
 * classifier_free()), or a negative errno with every rule error appended to
 * errs as "file:line:col: message" naming the offending token. The
 * classifier borrows nothing from conf after it returns. */
int classifier_new(const struct conf *conf, struct classifier **ret,
    struct fw_errors *errs) _must_check_;

struct classifier *classifier_free(struct classifier *c);

/* Classifies one item. feed (may be NULL for a dry run over a file) limits
 * the topics to those the feed and the topic allow. Fills *ret (release
 * with classify_result_done()). Returns 0 or a negative errno. */
int classify_item(const struct classifier *c, const struct conf_feed *feed,
    const struct feed_item *item, struct classify_result *ret) _must_check_;

void classify_result_done(struct classify_result *r);
