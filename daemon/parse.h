/* parse.h — turn one feed document (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed)
 * into a struct feed_doc. Never logs and never touches the network or the
 * file system: problems that still allow output are appended to
 * doc->warnings; input that cannot be parsed at all is an error. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "feedwatch.h"

/* Bounds on what one document may cost. Zero fields mean "the default". */
/* What tests and benchmarks vary to reach every path; zero (what
 * parse_limits_default() sets) is what the daemon runs with. */
struct parse_tuning {
	size_t	round_bytes;		/* bytes the XML reader repairs and
					 * hands to libxml2 per round; 0 is
					 * 32 KiB, 1 puts a round boundary
					 * after every byte */
	bool	html_by_libxml2;	/* strip all HTML with libxml2's HTML
					 * parser, not the one-pass stripper
					 * (they must agree) */
};

struct parse_limits {
	size_t	max_bytes;		/* input size */
	size_t	max_items;		/* items kept per feed */
	size_t	max_depth;		/* element nesting */
	size_t	max_field_bytes;	/* one text field */
	struct parse_tuning tuning;
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

/* The same parse, fed in pieces (a file or a pipe read in chunks), so a
 * large document is never held whole: items are handed on as they
 * complete and the input is scanned and dropped as it arrives. The result
 * is exactly parse_feed()'s on the concatenated pieces, however the
 * document was cut. JSON Feed is the exception that is kept whole (jansson
 * parses from memory), and so is an XML document labelled windows-1252 or
 * ISO-8859-1, because only all of it tells whether it is really UTF-8.
 *
 * parse_stream_new() borrows base_url and content_type (both may be NULL)
 * until parse_stream_free(); lim may be NULL. parse_stream_push() takes
 * len bytes of the document (copied as needed; buf may be reused at once)
 * and fails with -E2BIG once more than lim->max_bytes arrived, or with the
 * error that makes the input unreadable ("not a feed: ...") as soon as it
 * shows; after a failure the stream only waits to be freed.
 * parse_stream_finish() ends the input and returns 0 and *ret_doc (owned
 * by the caller), or a negative errno and *reterr as parse_feed() does.
 * parse_stream_free() accepts NULL and returns NULL. */
struct parse_stream;
int parse_stream_new(const char *base_url, const char *content_type,
    const struct parse_limits *lim, struct parse_stream **ret,
    struct fw_error *reterr) _must_check_;
int parse_stream_push(struct parse_stream *ps, const char *buf, size_t len,
    struct fw_error *reterr) _must_check_;
int parse_stream_finish(struct parse_stream *ps, struct feed_doc **ret_doc,
    struct fw_error *reterr) _must_check_;
struct parse_stream *parse_stream_free(struct parse_stream *ps);

/* Reads fd to its end in chunks through a parse_stream (fd stays open).
 * Returns as parse_stream_finish(); a read error is -errno with "read
 * error: ..." in *reterr. */
int parse_feed_fd(int fd, const char *base_url, const char *content_type,
    const struct parse_limits *lim, struct feed_doc **ret_doc,
    struct fw_error *reterr) _must_check_;

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
