/* rule.h — the topic rule language: parse one rule expression into a tree
 * whose terms are patterns of a shared Aho–Corasick automaton, and evaluate
 * the tree on the pattern hits of one item. Syntax and semantics are in
 * docs/rules.md. Never logs: errors come back as data. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ac.h"
#include "error.h"
#include "normalize.h"

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
	uint32_t		 pattern;	/* id in the automaton */
	uint32_t		 span;		/* tokens covered, minus one */
	unsigned		 fields;	/* RULE_FIELD_BIT mask */
};

/* What a pattern id needs for position computing: whether it starts with a
 * word boundary (a space) and how many tokens it covers, minus one. */
struct rule_pattern_info {
	bool		 lead;
	uint32_t	 span;
};

/* The automaton all rules of a classifier share, and per-pattern data. */
struct rule_set {
	struct ac			*ac;
	struct rule_pattern_info	*info;		/* by pattern id */
	size_t				 n_info;
	size_t				 cap_info;
	struct norm_text		 scratch;
};

/* Returns 0 or -ENOMEM. */
int rule_set_init(struct rule_set *rs) _must_check_;
void rule_set_done(struct rule_set *rs);

/* A parse error: the byte offset in the source where the offending token
 * starts, and a message that quotes it. */
struct rule_error {
	size_t	 offset;
	char	 msg[512];
};

/* Parses src, adding its terms to rs (before ac_compile()). Returns 0 and
 * *ret (free with rule_free()); -EINVAL with *reterr for a syntax error;
 * -ENOMEM. */
int rule_parse(struct rule_set *rs, const char *src, struct rule_node **ret,
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
