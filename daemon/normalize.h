/* normalize.h — the one text form topic rules and items are compared in.
 *
 * Text is NFKC-normalised and case-folded with utf8proc, accents are removed
 * from Latin, Greek and Cyrillic letters, and the result is cut into tokens:
 * runs of letters, runs of digits, and runs of Hangul/Han/Kana characters.
 * The canonical string holds the tokens separated by one space, with a space
 * before the first and after the last: "Seoul's F-35A jets" becomes
 * " seoul s f 35 a jets ". A whole-word pattern is then " word " and an
 * inside-word (CJK) pattern is just the characters. Never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Input beyond this many bytes of one field is ignored. */
#define NORMALIZE_MAX_INPUT	(1u << 20)

struct norm_text {
	char		*s;		/* canonical form, NUL-terminated */
	size_t		 len;
	size_t		 cap;
	uint32_t	*tok;		/* byte offset in s of each token's first byte */
	size_t		 n_tok;
	size_t		 tok_cap;
	int32_t		*cp;		/* scratch: code points */
	size_t		 cp_cap;
};

void norm_text_init(struct norm_text *t);
/* Frees the memory; t may be reused after norm_text_init(). */
void norm_text_done(struct norm_text *t);

/* Replaces t's content by the canonical form of in[0..len). Invalid UTF-8
 * bytes count as separators. Returns 0 or -ENOMEM (t is then empty). */
int normalize_text(struct norm_text *t, const char *in, size_t len) _must_check_;

/* Makes room for a canonical string of len bytes (and its NUL) and n_tok
 * tokens, for code that writes t->s and t->tok itself (stem.c). Returns 0
 * or -ENOMEM. */
int norm_text_reserve(struct norm_text *t, size_t len, size_t n_tok) _must_check_;

/* Index of the token that contains byte offset off of t->s (a separator
 * belongs to the token before it). */
size_t norm_text_token_at(const struct norm_text *t, size_t off);

/* True for scripts written without spaces between words, where a term
 * matches inside a word: Hangul, Han, Hiragana and Katakana. */
bool normalize_cp_inword(int32_t cp);

/* British spellings folded to American ones, for the words rules and items
 * are matched by (stem.c calls it before stemming): defence -> defense,
 * manoeuvres -> maneuvers, programme -> program, organised -> organized,
 * modernisation -> modernization, colour -> color, centre -> center,
 * travelled -> traveled. w[0..len) is one normalised word. Writes the
 * American form to out (size bytes, NUL-terminated) and returns its
 * length, or returns 0 when w is not a British form (or out is too small).
 * The tables and the -ise rule are in normalize_variant.c. */
size_t normalize_variant(const char *w, size_t len, char *out, size_t size);

/* True when the variant table is in the order its look-up needs (tests). */
bool normalize_variant_table_sorted(void);
