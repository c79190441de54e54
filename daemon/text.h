/* text.h — turn the text of a feed field into plain UTF-8: entities decoded
 * (HTML named entities included), markup stripped with libxml2's HTML
 * parser, invalid UTF-8 repaired, white space collapsed. Never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum text_kind {
	TEXT_PLAIN,	/* already plain: repair UTF-8 and collapse white space */
	TEXT_HTML,	/* HTML (or entity-escaped text): decode and strip markup */
	_TEXT_KIND_MAX,
};

/* Reusable state (an HTML parser context and a scratch buffer), so cleaning
 * many fields costs no allocation per field beyond the result. */
struct text_ctx;

/* Returns a new context or NULL on OOM. */
struct text_ctx *text_ctx_new(void);
/* NULL is a no-op; returns NULL. */
struct text_ctx *text_ctx_free(struct text_ctx *tc);

/* Cleans s[0..len) as kind into at most max bytes of output (0 = no cap;
 * the cut falls on a character boundary). tc may be NULL (a temporary one is
 * used). Returns 0 and *ret: a new string owned by the caller, or NULL when
 * the cleaned text is empty. Returns -ENOMEM on allocation failure. */
int text_clean(struct text_ctx *tc, const char *s, size_t len,
    enum text_kind kind, size_t max, char **ret) _must_check_;

/* text_clean() for input the caller knows to be valid UTF-8 (what libxml2
 * and jansson hand out): the same result without checking every byte.
 * Invalid input gives invalid output, never a crash. */
int text_clean_valid(struct text_ctx *tc, const char *s, size_t len,
    enum text_kind kind, size_t max, char **ret) _must_check_;

/* Decodes one entity reference name (without '&' and ';'), "amp", "eacute",
 * "#233", "#xE9", into its code point. Returns the code point, or -1 when the
 * name is unknown. */
int32_t text_entity_lookup(const char *name, size_t len);

/* Appends the UTF-8 encoding of cp (replacing invalid code points with
 * U+FFFD) to p, which must have room for 4 bytes. Returns the byte count. */
size_t text_utf8_put(char *p, uint32_t cp);

/* Returns the length of the valid UTF-8 sequence at s[0..len), or 0 if the
 * bytes there are not valid UTF-8. */
size_t text_utf8_valid_seq(const unsigned char *s, size_t len);

/* Returns the length of the longest prefix of s[0..len) that is valid
 * UTF-8 and ends on a character boundary. */
size_t text_utf8_valid_prefix(const unsigned char *s, size_t len);

/* Returns 1 when s[0..len) is entirely valid UTF-8, else 0. */
int text_utf8_is_valid(const char *s, size_t len);

/* Copies s[0..len) to a new string (*ret, caller frees, *ret_len its
 * length), decoding every byte that is not part of a valid UTF-8 sequence as
 * windows-1252, the usual mislabelled encoding. Returns 0 or -ENOMEM. */
int text_utf8_repair(const char *s, size_t len, char **ret, size_t *ret_len) _must_check_;

/* Writes byte c, read as windows-1252, as UTF-8 to p (room for 4 bytes):
 * what text_utf8_repair() makes of one byte that is not UTF-8. Returns the
 * byte count (2 or 3). */
size_t text_utf8_repair_byte(char *p, unsigned char c);

/* Strips every HTML text with libxml2's HTML parser instead of the
 * one-pass stripper (off by default), so tests can check that they agree. */
void text_ctx_set_html_by_libxml2(struct text_ctx *tc, bool on);
