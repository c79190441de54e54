/* safe.h — the one boundary between text from outside (feeds, feed servers,
 * webhook receivers) and the places where a byte is an instruction: log
 * lines and the journal, terminals, text sinks, HTTP header values, links.
 * See docs/security.md for the threat model. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "error.h"

/* Appends s[0..len) to b with every control character written out as an
 * escape: C0 and DEL as "\xHH" (tab stays), the C1 controls and the
 * Unicode format and bidi controls (U+200B..U+200F, U+2028..U+202E,
 * U+2060..U+2069, U+061C, U+FEFF, ...) as "\uHHHH", and every byte that is
 * not part of well-formed UTF-8 as "\xHH". Returns 0 or buf_append()'s
 * error. */
int safe_escape_buf(struct buf *b, const char *s, size_t len) _must_check_;

/* An escaped copy of s (caller frees), or NULL when out of memory. */
char *safe_escape_dup(const char *s);

/* Formats into b like buf_printf(), except that every string argument
 * (%s, also %.*s) is escaped as safe_escape_buf() does: the format is the
 * program's own text, the arguments may come from anywhere. Conversions:
 * d i u o x X c s p f e g a % with the flags, width, precision and length
 * modifiers of printf(3). Returns 0, -E2BIG past b's cap, -ENOMEM, or
 * -EINVAL for a conversion it does not know. */
int safe_vbprintf(struct buf *b, const char *fmt, va_list ap) _printf_(2, 0);
int safe_bprintf(struct buf *b, const char *fmt, ...) _printf_(2, 3);

/* safe_vbprintf() to a stream: for every human-readable (non-JSON) output
 * of the verbs. Returns 0 or a negative errno. */
int safe_vfprintf(FILE *out, const char *fmt, va_list ap) _printf_(2, 0);
int safe_fprintf(FILE *out, const char *fmt, ...) _printf_(2, 3);
#define safe_printf(...) safe_fprintf(stdout, __VA_ARGS__)

/* True when s has a byte that safe_escape_buf() would escape. */
bool safe_has_control(const char *s);

/* True when s may be shown or sent as a link: an http, https or mailto
 * URL (scheme in any case) with no control character and no white space.
 * javascript:, data:, file: and relative links are not links. */
bool safe_link_ok(const char *s);

/* True when s may be sent back as an HTTP header value (RFC 9110 5.5:
 * field-value = *field-content, VCHAR / obs-text with SP and HTAB inside):
 * no CR, LF, NUL, other C0 or DEL. Used for validators a server chose. */
bool safe_header_value_ok(const char *s);

/* A copy of s with the secrets it may hold replaced by "…": the userinfo of
 * a URL ("smtp://user:pass@host" → "smtp://…@host"), the path of a known
 * token-carrying webhook URL (Slack, Discord, ...: everything after the
 * host's first path segment), and the values of query parameters whose
 * names look like credentials (token, key, secret, sig, password, auth,
 * ...). Works on URLs anywhere inside s, so whole messages can be passed.
 * Returns NULL only when out of memory. Caller frees. */
char *safe_redact(const char *s);
