/* opml.h — subscription lists in OPML 1.0/2.0, read and written with
 * libxml2 (no network, no external entities: the feed parser's rules).
 * Never logs. */
#pragma once

#include <stddef.h>

#include "error.h"
#include "feedwatch.h"

/* One subscription: an <outline> with an xmlUrl. */
struct opml_feed {
	char	*url;		/* xmlUrl, as given */
	char	*html_url;	/* htmlUrl, or NULL */
	char	*title;		/* title, else text, entities decoded; or NULL */
	char	**tags;		/* enclosing folders, then category parts */
	size_t	 n_tags;
};

struct opml_doc {
	char			*title;		/* <head><title>, or NULL */
	struct opml_feed	*feeds;		/* in document order */
	size_t			 n_feeds;
};

/* Parses an OPML document. Returns 0 and *ret (free with opml_doc_free()),
 * or a negative errno with *reterr: -EBADMSG for a document that is not
 * OPML (no <opml> root), -ENOMEM. Outlines without xmlUrl are folders;
 * their text or title becomes a tag of the feeds inside them. */
int opml_parse(const char *buf, size_t len, struct opml_doc **ret,
    struct fw_error *reterr) _must_check_;

struct opml_doc *opml_doc_free(struct opml_doc *doc);

/* Writes OPML 2.0 of feeds (title = name) to *ret (owned, NUL-terminated,
 * UTF-8): each feed under a folder named after its first tag (none for a
 * feed without tags), every tag in its category attribute. Returns 0 or
 * -ENOMEM. */
struct opml_out_feed {
	const char		*name;
	const char		*url;
	const char *const	*tags;
	size_t			 n_tags;
};
int opml_write(const char *title, const struct opml_out_feed *feeds, size_t n,
    char **ret) _must_check_;
