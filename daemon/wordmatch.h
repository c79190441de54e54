/* wordmatch.h — patterns that begin with a whole word, found in the tokens
 * of a normalised text (normalize.h) by one hash look-up per word: the cost
 * of a text follows its number of words, whatever the number of patterns,
 * where an Aho–Corasick automaton (ac.h) slows down once it no longer fits
 * the cache. A pattern is spelled as the text is: " w1 w2 " for whole
 * words, " w1 w2" when the last word is a beginning ("w2" starts the
 * word). Patterns are added, compiled once, then the matcher is read-only
 * and may be shared between threads. Never logs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "normalize.h"

struct wordmatch;

/* Returns a new empty matcher, or NULL when out of memory. */
struct wordmatch *wordmatch_new(void);
/* NULL is a no-op; returns NULL. */
struct wordmatch *wordmatch_free(struct wordmatch *w);

/* Adds pattern p[0..len) before wordmatch_compile(): a space, then words
 * separated by one space, then optionally a space. The same bytes added
 * twice get the same id. Sets *ret_id (ids are 0, 1, 2 … in order of first
 * addition). Returns 0, -ENOMEM, -EINVAL (not of that form) or -EBUSY
 * (already compiled). */
int wordmatch_add(struct wordmatch *w, const char *p, size_t len,
    uint32_t *ret_id) _must_check_;

/* Builds the index of first words. Returns 0 or -ENOMEM. */
int wordmatch_compile(struct wordmatch *w) _must_check_;

size_t wordmatch_pattern_count(const struct wordmatch *w);

/* Called for every occurrence, with the index in t->tok of the token the
 * occurrence starts at. A non-zero return stops the scan and is returned
 * by wordmatch_scan(). */
typedef int (*wordmatch_hit_fn)(void *userdata, uint32_t id, size_t first);

/* Finds every occurrence of every pattern in t with a compiled matcher,
 * by increasing first token. Returns 0, -EINVAL (not compiled) or the
 * first non-zero value returned by fn. */
int wordmatch_scan(const struct wordmatch *w, const struct norm_text *t,
    wordmatch_hit_fn fn, void *userdata);
