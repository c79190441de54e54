/* canon.h — the canonical form of an article's link, its identity across
 * feeds: the same article with another scheme, a www./m./amp. host, an /amp
 * path, tracking parameters, a fragment, a default port or a trailing slash
 * has one canonical link. Also finds the publisher's link behind an
 * aggregator's redirect link. Never touches the network; never logs. */
#pragma once

#include <stddef.h>

#include "error.h"

struct canon_opts {
	/* Query parameters dropped: a name ending in '*' is a prefix
	 * ("utm_*"), any other is matched whole. NULL = the defaults. */
	const char *const	*strip_params;
	size_t			 n_strip_params;
	/* Host labels dropped from the front ("www.", "m.", "amp."). NULL =
	 * the defaults. */
	const char *const	*host_prefixes;
	size_t			 n_host_prefixes;
	/* Hosts whose links only redirect to the publisher (news.google.com).
	 * NULL = the defaults. */
	const char *const	*aggregators;
	size_t			 n_aggregators;
};

/* The defaults, as NULL-terminated lists (for docs and check-config). */
extern const char *const canon_default_strip_params[];
extern const char *const canon_default_host_prefixes[];
extern const char *const canon_default_aggregators[];

/* The canonical link of link: "https://host[:port]/path[?query]", with the
 * scheme http or https taken as https, the host lower-cased and its prefixes
 * dropped, default ports, "amp" path segments, a trailing slash, the
 * fragment and the stripped parameters removed, the remaining parameters
 * sorted. A link that is no http(s) URL is returned as it is. o may be
 * NULL (the defaults). Returns 0 and *ret (owned), or -ENOMEM. */
int canon_link(const char *link, const struct canon_opts *o, char **ret) _must_check_;

/* When link points into an aggregator, the publisher's link the item
 * carries: source_url (e.g. RSS <source url>, may be NULL) when it is on
 * another host, else the first http(s) link in text (the description, may
 * be NULL) on another host, else a "url=" parameter of link. Returns 1 and
 * *ret (owned), 0 when there is none (link is the article's own), or
 * -ENOMEM. */
int canon_publisher_link(const char *link, const char *source_url, const char *text,
    const struct canon_opts *o, char **ret) _must_check_;
