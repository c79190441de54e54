/* parse_rss.c — what the RSS family (0.90, 0.91-0.94, 1.0, 2.0) and the
 * extension namespaces every format borrows (Dublin Core, content, Media
 * RSS, iTunes, syndication) put where. Data only: the reading is done by
 * parse_xml.c. Supporting a new element means adding a row.
 *
 * Priorities: when several elements give the same field, the lowest prio
 * wins and the first of equal ones is kept. */
#include "parse_internal.h"

const struct px_rule px_rss_rules[] = {
	/* Structure. RSS 1.0 and 0.90 put <item> beside <channel>. */
	{ AT_ROOT, NS_RSS, "channel", 0, 0, HOW_CHANNEL, 0 },
	{ AT_ROOT, NS_RSS, "item", 0, 0, HOW_ITEM, 0 },
	{ AT_FEED, NS_RSS, "item", 0, 0, HOW_ITEM, 0 },
	/* Only in broken feeds: an item left unclosed. */
	{ AT_ITEM, NS_RSS, "item", 0, 0, HOW_ITEM, 0 },

	/* The channel. */
	{ AT_FEED, NS_RSS, "title", PF_TITLE, 1, HOW_HTML, 0 },
	{ AT_FEED, NS_DC, "title", PF_TITLE, 2, HOW_HTML, 0 },
	{ AT_FEED, NS_RSS, "link", PF_LINK, 1, HOW_URL, 0 },
	{ AT_FEED, NS_RSS, "description", PF_SUMMARY, 1, HOW_HTML, 0 },
	{ AT_FEED, NS_DC, "description", PF_SUMMARY, 2, HOW_HTML, 0 },
	{ AT_FEED, NS_ITUNES, "summary", PF_SUMMARY, 3, HOW_HTML, 0 },
	{ AT_FEED, NS_ITUNES, "subtitle", PF_SUMMARY, 4, HOW_HTML, 0 },
	/* CDF's <ABSTRACT> (its HREF and LASTMOD are attributes, read by
	 * parse_xml.c). */
	{ AT_FEED, NS_RSS, "abstract", PF_SUMMARY, 5, HOW_HTML, 0 },
	{ AT_FEED, NS_RSS, "language", PF_LANGUAGE, 1, HOW_PLAIN, 0 },
	{ AT_FEED, NS_DC, "language", PF_LANGUAGE, 2, HOW_PLAIN, 0 },
	/* RSS 2.0: "ttl stands for time to live. It's a number of minutes
	 * that indicates how long a channel can be cached." */
	{ AT_FEED, NS_RSS, "ttl", PF_TTL, 1, HOW_PLAIN, 0 },
	{ AT_FEED, NS_SY, "updatePeriod", PF_SY_PERIOD, 1, HOW_PLAIN, 0 },
	{ AT_FEED, NS_SY, "updateFrequency", PF_SY_FREQ, 1, HOW_PLAIN, 0 },
	{ AT_FEED, NS_RSS, "image", 0, 0, HOW_SKIP, 0 },
	{ AT_FEED, NS_RSS, "textinput", 0, 0, HOW_SKIP, 0 },
	{ AT_FEED, NS_RSS, "textInput", 0, 0, HOW_SKIP, 0 },
	{ AT_FEED, NS_RSS, "items", 0, 0, HOW_SKIP, 0 },
	{ AT_ROOT, NS_RSS, "image", 0, 0, HOW_SKIP, 0 },
	{ AT_ROOT, NS_RSS, "textinput", 0, 0, HOW_SKIP, 0 },

	/* The item. */
	{ AT_ITEM, NS_RSS, "title", PF_TITLE, 1, HOW_HTML, 0 },
	{ AT_ITEM, NS_DC, "title", PF_TITLE, 2, HOW_HTML, 0 },
	{ AT_ITEM, NS_MEDIA, "title", PF_TITLE, 4, HOW_HTML, 0 },
	{ AT_MEDIA, NS_MEDIA, "title", PF_TITLE, 5, HOW_HTML, 0 },
	{ AT_ITEM, NS_RSS, "link", PF_LINK, 1, HOW_URL, 0 },
	/* RSS 2.0: "isPermaLink is optional, its default value is true. If
	 * its value is false, the guid may not be assumed to be a url." */
	{ AT_ITEM, NS_RSS, "guid", PF_ID, 1, HOW_GUID, 0 },
	{ AT_ITEM, NS_DC, "identifier", PF_ID, 2, HOW_PLAIN, 0 },
	{ AT_ITEM, NS_RSS, "description", PF_SUMMARY, 1, HOW_HTML, 0 },
	{ AT_ITEM, NS_DC, "description", PF_SUMMARY, 2, HOW_HTML, 0 },
	{ AT_ITEM, NS_ITUNES, "summary", PF_SUMMARY, 3, HOW_HTML, 0 },
	{ AT_ITEM, NS_MEDIA, "description", PF_SUMMARY, 4, HOW_HTML, 0 },
	{ AT_MEDIA, NS_MEDIA, "description", PF_SUMMARY, 5, HOW_HTML, 0 },
	{ AT_ITEM, NS_ITUNES, "subtitle", PF_SUMMARY, 6, HOW_HTML, 0 },
	/* Not RSS, but written by feeds that borrow Atom's names. */
	{ AT_ITEM, NS_RSS, "summary", PF_SUMMARY, 7, HOW_HTML, 0 },
	{ AT_ITEM, NS_RSS, "abstract", PF_SUMMARY, 8, HOW_HTML, 0 },
	{ AT_ITEM, NS_CONTENT, "encoded", PF_CONTENT, 1, HOW_HTML, 0 },
	{ AT_ITEM, NS_XHTML, "body", PF_CONTENT, 2, HOW_HTML, 0 },
	/* XHTML's <body> with the namespace left off. */
	{ AT_ITEM, NS_RSS, "body", PF_CONTENT, 2, HOW_HTML, 0 },
	/* The full text, in an element some old feeds write. */
	{ AT_ITEM, NS_RSS, "fullitem", PF_CONTENT, 3, HOW_HTML, 0 },
	{ AT_ITEM, NS_DC, "creator", PF_AUTHOR, 1, HOW_PLAIN, 0 },
	/* Dublin Core has no "author" term, but feeds write dc:author for
	 * dc:creator. */
	{ AT_ITEM, NS_DC, "author", PF_AUTHOR, 2, HOW_PLAIN, 0 },
	{ AT_ITEM, NS_RSS, "author", PF_AUTHOR, 2, HOW_PLAIN, 0 },
	{ AT_ITEM, NS_ITUNES, "author", PF_AUTHOR, 3, HOW_PLAIN, 0 },
	{ AT_ITEM, NS_DC, "contributor", PF_AUTHOR, 4, HOW_PLAIN, 0 },
	{ AT_ITEM, NS_RSS, "pubDate", PF_PUBLISHED, 1, HOW_DATE, 0 },
	{ AT_ITEM, NS_DC, "date", PF_PUBLISHED, 2, HOW_DATE, 0 },
	{ AT_ITEM, NS_DCTERMS, "issued", PF_PUBLISHED, 3, HOW_DATE, 0 },
	{ AT_ITEM, NS_DCTERMS, "created", PF_PUBLISHED, 4, HOW_DATE, 0 },
	{ AT_ITEM, NS_DCTERMS, "modified", PF_UPDATED, 2, HOW_DATE, 0 },
	{ AT_ITEM, NS_RSS, "category", PF_CATEGORY, 1, HOW_MEDIACAT, 0 },
	{ AT_ITEM, NS_DC, "subject", PF_CATEGORY, 1, HOW_MEDIACAT, 0 },
	{ AT_ITEM, NS_ITUNES, "keywords", PF_CATEGORY, 1, HOW_KEYWORDS, 0 },
	{ AT_ITEM, NS_ITUNES, "category", PF_CATEGORY, 0, HOW_ATOMCAT, 0 },
	{ AT_ITEM, NS_MEDIA, "keywords", PF_CATEGORY, 1, HOW_KEYWORDS, 0 },
	{ AT_MEDIA, NS_MEDIA, "keywords", PF_CATEGORY, 1, HOW_KEYWORDS, 0 },
	{ AT_ITEM, NS_MEDIA, "category", PF_CATEGORY, 1, HOW_MEDIACAT, 0 },
	{ AT_MEDIA, NS_MEDIA, "category", PF_CATEGORY, 1, HOW_MEDIACAT, 0 },
	{ AT_ITEM, NS_MEDIA, "group", 0, 0, HOW_CONTAINER, AT_MEDIA },
	{ AT_ITEM, NS_MEDIA, "content", 0, 0, HOW_CONTAINER, AT_MEDIA },
	{ AT_MEDIA, NS_MEDIA, "content", 0, 0, HOW_CONTAINER, AT_MEDIA },
	{ AT_ITEM, NS_RSS, "source", 0, 0, HOW_SKIP, 0 },
};
const size_t px_rss_rules_n = sizeof(px_rss_rules) / sizeof(px_rss_rules[0]);
