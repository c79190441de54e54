/* stem.h — Snowball word stems (the C libstemmer) for the words of a
 * normalised text, so that a rule's "troop" meets an item's "troops" and
 * "deploy" meets "deployed" and "deployment". Words of Hangul, Han and
 * Kana, and numbers, are left as they are. Never logs. */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "normalize.h"

struct stem;

/* A stemmer for language, a Snowball algorithm name or code ("english",
 * "en", "german", "porter" …). Returns 0 and *ret (free with stem_free()),
 * -EINVAL for a language libstemmer does not know, or -ENOMEM. */
int stem_new(const char *language, struct stem **ret) _must_check_;

/* NULL is a no-op; returns NULL. */
struct stem *stem_free(struct stem *s);

/* True when libstemmer has an algorithm called language. */
bool stem_language_known(const char *language);

/* Writes the names of the languages libstemmer knows, separated by ", ",
 * into buf (truncated to size). */
void stem_languages(char *buf, size_t size);

/* Is the token at p[0..len) (normalised) a word a stemmer sees: letters,
 * not a number, not Hangul/Han/Kana? */
bool stem_is_word(const char *p, size_t len);

/* The stem of one normalised word into out[0..size); *ret_len is its
 * length (at most size - 1, NUL-terminated). Thread-safe. Returns 0 or
 * -ENOMEM. */
int stem_word(struct stem *s, const char *word, size_t len, char *out,
    size_t size, size_t *ret_len) _must_check_;

/* Replaces out's content by in with every word of letters replaced by its
 * stem; numbers and Hangul/Han/Kana runs are copied. out has the same
 * tokens as in, in the same order, so a token index means the same word in
 * both. Each word is stemmed once; recent words are remembered, so common
 * words cost a table look-up. Safe to call from several threads on one
 * stemmer. Returns 0 or -ENOMEM (out is then empty). */
int stem_text(struct stem *s, const struct norm_text *in,
    struct norm_text *out) _must_check_;
