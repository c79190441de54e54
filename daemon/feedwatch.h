/* feedwatch.h — the plain structs that flow through the pipeline:
 * parse produces a struct feed_doc, classify reads its items. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* A time that is missing or could not be parsed. */
#define FW_TIME_NONE INT64_MIN

enum feed_format {
	FEED_FORMAT_RSS20,
	FEED_FORMAT_RSS10,
	FEED_FORMAT_RSS09,
	FEED_FORMAT_ATOM10,
	FEED_FORMAT_ATOM03,
	FEED_FORMAT_JSONFEED1,
	_FEED_FORMAT_MAX,
};

/* One entry of a feed. All strings are plain UTF-8 (entities decoded, markup
 * stripped, white space collapsed) or NULL when the feed has no such field,
 * except id, which is never NULL. Owned by the struct feed_doc. */
struct feed_item {
	char	 *id;
	char	 *title;
	char	 *link;
	char	 *summary;
	char	 *content;
	char	 *author;
	int64_t	  published;	/* Unix seconds, UTC; FW_TIME_NONE if missing */
	int64_t	  updated;	/* Unix seconds, UTC; FW_TIME_NONE if missing */
	char	**categories;
	size_t	  n_categories;
};

/* A parsed feed; owns every string and item it points to. */
struct feed_doc {
	enum feed_format	  format;
	char			 *title;
	char			 *link;
	char			 *description;
	char			 *language;
	struct feed_item	 *items;
	size_t			  n_items;
	char			**warnings;
	size_t			  n_warnings;
	/* Publisher's hint on how often to poll, in seconds (RSS <ttl>,
	 * sy:updatePeriod/sy:updateFrequency); 0 when the feed gives none. */
	int64_t			  ttl_seconds;
};

enum severity {
	SEVERITY_LOW,
	SEVERITY_NORMAL,
	SEVERITY_HIGH,
	SEVERITY_CRITICAL,
	_SEVERITY_MAX,
};

const char *severity_to_string(enum severity s);
/* Returns 0 and sets *ret, or -EINVAL for an unknown name. */
int severity_from_string(const char *s, enum severity *ret);
