/* discover.h — find the feeds behind a web page: the ones its HTML
 * advertises (<link rel="alternate"> of feed types), else the common feed
 * paths of its site, each fetched and parsed to show what it is.
 * Never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "feedwatch.h"
#include "fetch.h"

struct discover_candidate {
	char		*url;		/* absolute */
	char		*type;		/* the advertised MIME type; NULL when guessed */
	char		*link_title;	/* the <link>'s title attribute, or NULL */
	bool		 guessed;	/* a common path, not advertised */
	/* What fetching and parsing it gave: */
	bool		 ok;
	char		 error[1024];	/* when !ok: as long as a fw_error message */
	char		*title;		/* the feed's own title, or NULL */
	enum feed_format format;
	size_t		 n_items;
	int64_t		 newest;	/* newest item date, FW_TIME_NONE if none */
};

struct discover_result {
	bool				 page_is_feed;	/* the URL given is a feed */
	struct discover_candidate	*v;
	size_t				 n;
};

/* The feeds html (a page fetched from page_url) advertises, in document
 * order, without duplicates: <link rel="alternate"> whose type is RSS,
 * Atom, RDF or JSON Feed, hrefs resolved against <base href> (itself
 * resolved against page_url) or page_url. Parsed with libxml2's HTML
 * parser, no network. Returns 0 and *ret (candidates not yet checked), or
 * -ENOMEM. */
int discover_links(const char *html, size_t len, const char *page_url,
    struct discover_result *ret) _must_check_;

/* Everything: fetches url; when it is a feed itself, that is the one
 * candidate; else the advertised links, or when there are none the common
 * paths (/feed, /rss, /atom.xml, /index.xml, ...) of which only those that
 * parse are kept. Each candidate is fetched and parsed (opts for every
 * transfer). Returns 0 and *ret, or a negative errno with *reterr when the
 * page itself cannot be fetched. */
int discover_run(const char *url, const struct fetch_opts *opts,
    struct discover_result *ret, struct fw_error *reterr) _must_check_;

/* The first candidate that parsed, or NULL. */
const struct discover_candidate *discover_best(const struct discover_result *r);

void discover_result_done(struct discover_result *r);
