/* rule.h — the topic rule language: parse one rule expression into a tree
 * whose terms are patterns of shared matchers (wordmatch.h, ac.h), and evaluate
 * the tree on the pattern hits of one item. Syntax and semantics are in
 * docs/rules.md. Never logs: errors come back as data. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ac.h"
#include "error.h"
#include "normalize.h"
#include "stem.h"
#include "wordmatch.h"

/* The item fields a term may match in, as a bit mask. */
enum rule_field {
	RULE_FIELD_TITLE,
	RULE_FIELD_SUMMARY,
	RULE_FIELD_CONTENT,
	_RULE_FIELD_MAX,
};
#define RULE_FIELD_BIT(f)	(1u << (f))
#define RULE_FIELDS_ALL		((1u << _RULE_FIELD_MAX) - 1)

/* "title", "summary", "content". */
const char *rule_field_to_string(enum rule_field f);

/* Largest n accepted in NEAR/n. */
#define RULE_NEAR_MAX	1000

enum rule_op {
	RULE_TERM,
	RULE_AND,
	RULE_OR,
	RULE_NOT,
	RULE_NEAR,
	_RULE_OP_MAX,
};

struct rule_node {
	enum rule_op		 op;
	struct rule_node	*a;		/* operands; NOT uses only a */
	struct rule_node	*b;
	unsigned		 near;		/* NEAR/n */
	/* RULE_TERM */
	char			*text;		/* as written, without quotes */
	char			*norm;		/* its normalised words */
	uint32_t		 pattern;	/* id in the rule set */
	uint32_t		 span;		/* tokens covered, minus one */
	unsigned		 fields;	/* RULE_FIELD_BIT mask */
};

/* What a pattern id needs for position computing: how many tokens it
 * covers, minus one (where it starts is the matcher's to say); the layer
 * whose matchers hold it. An exact form or a prefix is found by its
 * stems and then checked against the item's words as written: verify holds
 * those words, normalised ("us troops"; "trade talk" for "trade talk*"). */
struct rule_pattern_info {
	bool		 verify_prefix;	/* the words begin with verify */
	uint32_t	 span;
	uint32_t	 layer;
	char		*verify;	/* NULL: any words with these stems */
	uint32_t	 next;		/* next id of the same matcher id */
};

#define RULE_PATTERN_NONE	UINT32_MAX

/* The first pattern id of each id of one matcher (the others follow
 * rule_pattern_info.next). */
struct rule_ids {
	uint32_t	*first;
	size_t		 n;
	size_t		 cap;
};

/* The matchers of one text form: layer 0 holds the terms of topics without
 * stems (language "none") and runs over the normalised text; each other
 * layer holds the terms of one stemming language and runs over the text's
 * stems. A term that begins with a word is looked up by that word
 * (wordmatch.h); one that begins with Hangul, Han or Kana, and so may
 * start inside a word, is found by the Aho–Corasick automaton (ac.h). */
struct rule_layer {
	struct stem		*stem;		/* NULL for layer 0 */
	char			*language;	/* NULL for layer 0 */
	struct wordmatch	*words;
	struct ac		*ac;
	struct rule_ids		 word_ids;	/* by wordmatch id */
	struct rule_ids		 ac_ids;	/* by automaton id */
};

/* Named word lists for "@name" (the configuration's "lists:" block). Each
 * entry is an expression; the list matches when one of them does. */
struct rule_list {
	const char		 *name;
	const char *const	 *entries;
	size_t			  n;
	bool			  busy;		/* being expanded (cycle check) */
};

struct rule_lists {
	struct rule_list	*v;
	size_t			 n;
};

/* The matchers all rules of a classifier share, and per-pattern data. */
struct rule_set {
	struct rule_layer		*layers;
	size_t				 n_layers;
	size_t				 cur_layer;	/* for terms parsed next */
	struct rule_pattern_info	*info;		/* by pattern id */
	size_t				 n_info;
	size_t				 cap_info;
	struct rule_lists		*lists;		/* borrowed; may be NULL */
	struct norm_text		 scratch;
	struct norm_text		 stemmed;
};

/* Returns 0 or -ENOMEM. Terms are stemmed in English until
 * rule_set_language() says otherwise. */
int rule_set_init(struct rule_set *rs) _must_check_;
void rule_set_done(struct rule_set *rs);

/* Stems the terms that rule_parse() adds next with language's Snowball
 * algorithm; "none" (or NULL) matches them as written. Returns 0, -EINVAL
 * for a language libstemmer does not know, or -ENOMEM. */
int rule_set_language(struct rule_set *rs, const char *language) _must_check_;

/* Compiles every layer's matchers once all rules are parsed. Returns 0 or
 * -ENOMEM. */
int rule_set_compile(struct rule_set *rs) _must_check_;

/* Number of distinct patterns over all layers. */
size_t rule_set_pattern_count(const struct rule_set *rs);

/* A parse error: the byte offset where the offending token starts, in the
 * rule itself (list NULL) or in entry `entry` of a word list, and a message
 * that quotes it. */
struct rule_error {
	size_t			 offset;
	const struct rule_list	*list;
	size_t			 entry;
	char			 msg[512];
};

/* Parses src, adding its terms to rs (before rule_set_compile()), with
 * "@name" taken from rs->lists. Returns 0 and *ret (free with
 * rule_free()); -EINVAL with *reterr for a syntax error, an unknown list or
 * a list that contains itself; -ENOMEM. */
int rule_parse(struct rule_set *rs, const char *src, struct rule_node **ret,
    struct rule_error *reterr) _must_check_;

/* Checks list i of rs->lists and every list it names without adding any
 * pattern. Returns 0, -EINVAL with *reterr, or -ENOMEM. */
int rule_check_list(struct rule_set *rs, size_t i,
    struct rule_error *reterr) _must_check_;

/* NULL is a no-op; returns NULL. */
struct rule_node *rule_free(struct rule_node *n);

/* True when the expression can only be true if one of its non-negated terms
 * occurs (so "NOT x" alone is false). */
bool rule_needs_hit(const struct rule_node *n);

/* One occurrence of a pattern in an item: the word positions of its first
 * and last token (positions run on from title to summary to content) and
 * the field. */
struct rule_hit {
	uint32_t	 pattern;
	uint32_t	 first;
	uint32_t	 last;
	uint8_t		 field;
};

/* Evaluates n on hits[0..n_hits), which must be sorted by pattern and then
 * by first. Returns 1 (true), 0 (false) or -ENOMEM. */
int rule_eval(const struct rule_node *n, const struct rule_hit *hits,
    size_t n_hits);

/* Calls fn for a set of terms one of which must occur for n to be true
 * (n must satisfy rule_needs_hit()): for AND and NEAR only the side with
 * fewer terms is needed, so "SMA NEAR/12 (korea OR japan)" is triggered by
 * SMA alone and common context words do not wake up every rule. */
void rule_foreach_trigger_term(const struct rule_node *n,
    void (*fn)(void *userdata, const struct rule_node *term), void *userdata);

/* Calls fn for every term not under a NOT. */
void rule_foreach_positive_term(const struct rule_node *n,
    void (*fn)(void *userdata, const struct rule_node *term), void *userdata);

/* Calls fn for the terms that make a true expression n true, each with the
 * hit that counts: both sides of AND, the true sides of OR, and under
 * NEAR/n the occurrences within n words of the other side. Nothing under
 * NOT. Returns 0 or -ENOMEM. */
int rule_explain(const struct rule_node *n, const struct rule_hit *hits,
    size_t n_hits, void (*fn)(void *userdata, const struct rule_node *term,
    const struct rule_hit *hit), void *userdata);

/* Returns the first hit of term (a RULE_TERM node) in one of its fields, or
 * NULL. */
const struct rule_hit *rule_term_hit(const struct rule_node *term,
    const struct rule_hit *hits, size_t n_hits);
