/* parse.h — turn one feed document (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed)
 * into a struct feed_doc. Never logs and never touches the network or the
 * file system: problems that still allow output are appended to
 * doc->warnings; input that cannot be parsed at all is an error. */
#pragma once

#include <stdio.h>

#include "error.h"
#include "feedwatch.h"

/* Bounds on what one document may cost. Zero fields mean "the default". */
struct parse_limits {
	size_t	max_bytes;		/* input size */
	size_t	max_items;		/* items kept per feed */
	size_t	max_depth;		/* element nesting */
	size_t	max_field_bytes;	/* one text field */
};

void parse_limits_default(struct parse_limits *lim);

/* Parses buf[0..len). base_url (may be NULL) resolves relative links;
 * content_type (may be NULL) is the HTTP Content-Type, consulted for the
 * charset as RFC 7303 says. lim may be NULL for the defaults.
 * Returns 0 and *ret_doc (owned by the caller, free with feed_doc_free()),
 * or a negative errno and *reterr ("not a feed: found an HTML page", ...). */
int parse_feed(const char *buf, size_t len, const char *base_url,
    const char *content_type, const struct parse_limits *lim,
    struct feed_doc **ret_doc, struct fw_error *reterr) _must_check_;

/* NULL is a no-op; returns NULL. */
struct feed_doc *feed_doc_free(struct feed_doc *doc);

/* "rss2.0", "rss1.0", "rss0.9", "atom1.0", "atom0.3", "jsonfeed1". */
const char *feed_format_to_string(enum feed_format f);

/* Writes doc as the one JSON object of the `parse --json` contract, plus a
 * newline. Returns 0 or a negative errno. */
int parse_doc_write_json(FILE *out, const struct feed_doc *doc);

/* Formats t (Unix seconds) as RFC 3339 UTC "2025-01-02T03:04:05Z" into buf
 * (at least 32 bytes). Returns buf. */
char *fw_time_format(int64_t t, char *buf, size_t size);
