/* parse_internal.h — what the parse_*.c files share and nothing else sees:
 * the document builder (parse_doc.c: warnings, items, identity), the field
 * tables of the XML formats, and the entry points of each format parser.
 * parse.c calls the readers; the readers call only the builder, never
 * parse.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "feedwatch.h"
#include "parse.h"
#include "buf.h"
#include "text.h"

/* At most this many warnings are kept per document; the rest are counted. */
#define PARSE_MAX_WARNINGS 32

/* Called with every finished item instead of storing it in doc->items (the
 * streaming writer). Takes ownership of the item's contents. */
typedef int (*parse_item_fn)(void *userdata, struct feed_item *it);
/* Called once, before the first item is handed to a parse_item_fn, with the
 * feed-level fields read so far. */
typedef int (*parse_head_fn)(void *userdata, const struct feed_doc *doc);

struct parse_ctx {
	struct feed_doc		*doc;
	struct parse_limits	 lim;
	const char		*base_url;
	struct text_ctx		*tc;
	size_t			 items_cap;
	size_t			 items_seen;	/* kept + dropped by the cap */
	size_t			 n_kept;	/* stored or streamed */
	size_t			 warnings_dropped;
	bool			 format_known;

	/* Identity: open-addressing set of the ids handed out so far. */
	struct pc_id {
		uint64_t	 hash;
		uint64_t	 content;	/* content hash of the item */
	}			*ids;
	size_t			 ids_n, ids_cap;

	parse_item_fn		 on_item;	/* NULL: append to doc->items */
	void			*on_item_data;
	parse_head_fn		 on_head;	/* called once before the first item */
	bool			 head_done;
};

/* parse_feed() with streaming: when on_item is not NULL, items are handed
 * to it as they complete (doc->items stays empty)
 * and on_head (may be NULL) is called just before the first one. */
int parse_feed_ex(const char *buf, size_t len, const char *base_url,
    const char *content_type, const struct parse_limits *lim,
    parse_head_fn on_head, parse_item_fn on_item, void *userdata,
    struct feed_doc **ret_doc, struct fw_error *reterr) _must_check_;

/* parse_stream_new() with streaming, as parse_feed_ex(). */
int parse_stream_new_ex(const char *base_url, const char *content_type,
    const struct parse_limits *lim, parse_head_fn on_head,
    parse_item_fn on_item, void *userdata, struct parse_stream **ret,
    struct fw_error *reterr) _must_check_;

/* parse_feed_fd() with streaming, as parse_feed_ex(). */
int parse_feed_fd_ex(int fd, const char *base_url, const char *content_type,
    const struct parse_limits *lim, parse_head_fn on_head,
    parse_item_fn on_item, void *userdata, struct feed_doc **ret_doc,
    struct fw_error *reterr) _must_check_;

/* ---- The document builder (parse_doc.c): what every reader hands its
 * findings to. ---- */

/* Appends a formatted warning to the document (bounded). Returns 0 or
 * -ENOMEM. */
int pc_warn(struct parse_ctx *pc, const char *fmt, ...) _printf_(2, 3) _must_check_;

/* Hands a finished item to the document: caps its fields and drops a link
 * that is not one (docs/security.md), fills a missing id (link, else a hash
 * of title and summary), makes a repeated id distinct, applies the item
 * cap. Takes ownership of it's contents in every case (the struct itself is
 * the caller's, and is zeroed). Returns 0 or -ENOMEM. */
int pc_add_item(struct parse_ctx *pc, struct feed_item *it) _must_check_;

/* Caps the feed's own title and drops a link that is not one (the checks
 * every item gets in pc_add_item()); may run more than once. Returns 0 or
 * -ENOMEM. */
int pc_finish_head(struct parse_ctx *pc) _must_check_;

/* Frees the contents of one item; the struct is zeroed. */
void feed_item_done(struct feed_item *it);

/* Appends a category to it unless already there; takes s. */
int pc_item_add_category(struct feed_item *it, char *s) _must_check_;

/* The format parsers. Return 0, or a negative errno with *reterr set
 * ("not a feed: ..."). */
int parse_xml_run(struct parse_ctx *pc, const char *buf, size_t len,
    const char *content_type, struct fw_error *reterr) _must_check_;
/* The XML reader fed in pieces: px_stream_new() takes the start of the
 * document (at least its first 520 bytes, or all of it), px_stream_write()
 * the rest in pieces of any size, px_stream_finish() ends it. The result
 * does not depend on how the document was cut. content_type is borrowed
 * until px_stream_free(). Each returns 0 or a negative errno with *reterr. */
struct px_stream;
int px_stream_new(struct parse_ctx *pc, const char *head, size_t len,
    const char *content_type, struct px_stream **ret,
    struct fw_error *reterr) _must_check_;
int px_stream_write(struct px_stream *s, const char *buf, size_t len,
    struct fw_error *reterr) _must_check_;
int px_stream_finish(struct px_stream *s, struct fw_error *reterr) _must_check_;
void px_stream_free(struct px_stream *s);
int parse_json_run(struct parse_ctx *pc, const char *buf, size_t len,
    struct fw_error *reterr) _must_check_;

/* Writing one item of the --json contract (parse_out.c). */
int parse_out_item(FILE *out, const struct feed_item *it);
int parse_out_head(FILE *out, const struct feed_doc *doc);
int parse_out_tail(FILE *out, const struct feed_doc *doc);

/* ---- The XML field tables (parse_rss.c, parse_atom.c) ---- */

/* Namespaces the parser knows. NS_NATIVE is "no namespace, or the
 * namespace of the feed's own format". */
enum px_ns {
	NS_OTHER,
	NS_RSS,		/* no namespace in RSS 0.9x/2.0; RSS 1.0; RSS 0.90 */
	NS_ATOM,	/* Atom 1.0 and 0.3 */
	NS_DC,
	NS_DCTERMS,
	NS_CONTENT,
	NS_MEDIA,
	NS_ITUNES,
	NS_SY,
	NS_XHTML,
	NS_RDF,
	NS_NONE,	/* resolved to NS_RSS or NS_ATOM by the feed's format */
	_NS_MAX,
};

/* Where an element is: what its parent made of it. */
enum px_where {
	AT_IGNORE,	/* inside something we do not read */
	AT_ROOT,	/* children of <rss> or <rdf:RDF> */
	AT_FEED,	/* children of <channel> or <feed> */
	AT_ITEM,	/* children of <item> or <entry> */
	AT_AUTHOR,	/* children of atom:author of an entry */
	AT_CONTRIB,	/* children of atom:contributor of an entry */
	AT_MEDIA,	/* children of media:group / media:content in an item */
	AT_CAPTURE,	/* inside a field being captured */
	_AT_MAX,
};

/* What the parser fills. */
enum px_field {
	PF_TITLE,
	PF_LINK,
	PF_SUMMARY,	/* item summary; the feed's description */
	PF_CONTENT,
	PF_AUTHOR,
	PF_ID,
	PF_LANGUAGE,
	PF_PUBLISHED,
	PF_UPDATED,
	PF_CATEGORY,
	PF_TTL,
	PF_SY_PERIOD,
	PF_SY_FREQ,
	_PF_MAX,
};

/* How the value is read. */
enum px_how {
	HOW_HTML,	/* element text is HTML or escaped HTML (RSS) */
	HOW_TEXTCONS,	/* an Atom text construct: type="text|html|xhtml" */
	HOW_PLAIN,	/* plain text */
	HOW_URL,	/* element text is a URL */
	HOW_GUID,	/* RSS guid: id, and link unless isPermaLink="false" */
	HOW_DATE,
	HOW_ATOMLINK,	/* attributes rel/href/type */
	HOW_ATOMCAT,	/* attributes term/label */
	HOW_MEDIACAT,	/* text, a category */
	HOW_KEYWORDS,	/* text, comma-separated categories */
	HOW_CONTAINER,	/* opens a nested context (enter) */
	HOW_ITEM,	/* starts an item */
	HOW_CHANNEL,	/* RSS <channel> */
	HOW_SKIP,	/* ignore the subtree */
};

struct px_rule {
	uint8_t		 where;		/* enum px_where */
	uint8_t		 ns;		/* enum px_ns */
	const char	*name;
	uint8_t		 field;		/* enum px_field */
	uint8_t		 prio;		/* 1 is the best source of the field */
	uint8_t		 how;		/* enum px_how */
	uint8_t		 enter;		/* HOW_CONTAINER: the where inside */
};

extern const struct px_rule px_rss_rules[];
extern const size_t px_rss_rules_n;
extern const struct px_rule px_atom_rules[];
extern const size_t px_atom_rules_n;
