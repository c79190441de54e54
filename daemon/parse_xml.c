/* parse_xml.c — the XML side of the parse stage: one streaming SAX2 pass
 * over an RSS or Atom document. No tree is built. The parser keeps a stack
 * of small frames (what the children of each open element are, and the
 * xml:base in effect), captures the text of the elements the field tables of
 * parse_rss.c and parse_atom.c name, and hands each item to the builder in
 * parse.c as soon as its end tag is read.
 *
 * Safety: libxml2 runs with XML_PARSE_NONET and without XML_PARSE_NOENT,
 * XML_PARSE_DTDLOAD and XML_PARSE_HUGE; the SAX handler has no
 * resolveEntity/externalSubset, the process-wide external entity loader
 * refuses everything, and entities declared in an internal subset are only
 * honoured when their replacement text is short and contains no further
 * references, so entity expansion (billion laughs) cannot amplify.
 * HTML named entities that XML does not declare (&nbsp;, &eacute;) are
 * supplied by getEntity from libxml2's HTML table.
 *
 * Encodings: the choice follows RFC 7303 (BOM, then the charset of the
 * Content-Type, then the XML declaration, then UTF-8) and is made from the
 * first bytes; conversion is libxml2's (iconv). Bytes that are not UTF-8 in
 * a document read as UTF-8 are repaired as windows-1252, and bare '<', '&'
 * and control characters escaped, before libxml2 sees them.
 *
 * Input: the document may arrive in pieces (px_stream_*). It is scanned,
 * repaired and handed to libxml2's push parser in rounds of 32 KiB, so a
 * large document is never held whole. A round stops before a construct the
 * bytes after it could change, and the rest waits for the next one, so the
 * result never depends on how the input was cut. */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <nettle/base64.h>

#include "buf.h"
#include "date.h"
#include "parse_internal.h"
#include "url.h"

#define XML_NS_URI "http://www.w3.org/XML/1998/namespace"

/* Declared entities kept from an internal subset, at most. */
#define PX_MAX_DECLARED_ENTITIES 64
#define PX_MAX_ENTITY_LEN 1024
/* Distinct entity names looked up per document (each lookup scans them). */
#define PX_MAX_ENTITY_NAMES 128
/* Total bytes entity references may expand to in one document. */
#define PX_MAX_ENTITY_TOTAL (256 * 1024)

struct px_frame {
	uint8_t		 where;		/* enum px_where of the children */
	bool		 base_owned;
	const char	*base;		/* xml:base in effect (or NULL) */
};

struct px_ent {
	struct px_ent	*next;
	xmlEntity	 e;
};

struct px {
	struct parse_ctx	*pc;
	xmlParserCtxtPtr	 ctxt;
	enum feed_format	 format;
	uint8_t			 native;	/* NS_RSS or NS_ATOM */
	char			*atom_uri;	/* a draft's own Atom namespace */
	bool			 root_seen;
	bool			 stopped;
	int			 fatal;		/* negative errno: not a feed */
	char			 fatal_msg[256];
	int			 oom;

	size_t			 depth;
	size_t			 max_depth;
	bool			 depth_warned;
	struct px_frame		*stack;

	/* The field being captured. */
	bool			 cap;
	const struct px_rule	*cap_rule;
	size_t			 cap_depth;
	enum text_kind		 cap_kind;
	bool			 cap_markup;
	bool			 cap_truncated;
	bool			 cap_permalink;
	bool			 cap_b64;	/* the text is base64 */
	uint8_t			 cap_prio;	/* HOW_ATOMLINK: the link's */
	int			 cap_skip;
	struct buf		 text;

	/* The item being read. */
	bool			 in_item;
	size_t			 item_depth;
	struct feed_item	 item;
	uint8_t			 item_prio[_PF_MAX];
	size_t			 item_no;	/* 1-based, for warnings */
	uint8_t			 feed_prio[_PF_MAX];
	char			*feed_author;	/* Atom: inherited by entries */
	long			 sy_freq;
	int64_t			 sy_period;

	char			 force_enc[64];	/* encoding to force, if any */

	/* libxml2's error reports. */
	unsigned		 xml_errors;
	struct px_ent		*ents;
	unsigned		 n_declared;
	unsigned		 n_ents;
	size_t			 ent_bytes;
	bool			 ent_budget_warned;
	bool			 ent_warned;

	/* Rule lookups by (name, namespace, prefix, where): libxml2 interns
	 * names in its dictionary, so pointers identify them. */
	struct px_cache {
		const xmlChar		*local, *uri, *prefix;
		const struct px_rule	*rule;
		uint8_t			 where;
	}			 cache[128];

	/* Namespace URI cache (dictionary strings are interned). */
	const xmlChar		*ns_uri[4];
	uint8_t			 ns_id[4];
	unsigned		 ns_next;
};

static const struct {
	const char	*uri;
	uint8_t		 ns;
} known_ns[] = {
	{ "http://www.w3.org/2005/Atom", NS_ATOM },
	{ "http://purl.org/atom/ns#", NS_ATOM },
	/* The names Atom had before 0.3 ("Echo", "Pie"). */
	{ "http://purl.org/echo/", NS_ATOM },
	{ "http://purl.org/pie/", NS_ATOM },
	{ "http://purl.org/rss/1.0/", NS_RSS },
	{ "http://my.netscape.com/rdf/simple/0.9/", NS_RSS },
	{ "http://backend.userland.com/rss2", NS_RSS },
	{ "http://blogs.law.harvard.edu/tech/rss", NS_RSS },
	{ "http://purl.org/dc/elements/1.1/", NS_DC },
	{ "http://purl.org/dc/terms/", NS_DCTERMS },
	{ "http://purl.org/rss/1.0/modules/content/", NS_CONTENT },
	{ "http://search.yahoo.com/mrss/", NS_MEDIA },
	{ "http://search.yahoo.com/mrss", NS_MEDIA },
	{ "http://www.itunes.com/dtds/podcast-1.0.dtd", NS_ITUNES },
	{ "http://www.itunes.com/DTDs/Podcast-1.0.dtd", NS_ITUNES },
	{ "http://purl.org/rss/1.0/modules/syndication/", NS_SY },
	{ "http://www.w3.org/1999/xhtml", NS_XHTML },
	{ "http://www.w3.org/1999/02/22-rdf-syntax-ns#", NS_RDF },
};

/* Prefixes feeds use without declaring them. */
static const struct {
	const char	*prefix;
	uint8_t		 ns;
} known_prefix[] = {
	{ "atom", NS_ATOM }, { "dc", NS_DC }, { "dcterms", NS_DCTERMS },
	{ "content", NS_CONTENT }, { "media", NS_MEDIA },
	{ "itunes", NS_ITUNES }, { "sy", NS_SY }, { "rdf", NS_RDF },
	{ "xhtml", NS_XHTML },
};

static uint8_t
px_ns(struct px *x, const xmlChar *prefix, const xmlChar *uri)
{
	size_t	i;
	uint8_t	ns = NS_OTHER;

	if (uri == NULL) {
		if (prefix == NULL)
			return x->native;
		for (i = 0; i < sizeof(known_prefix) / sizeof(known_prefix[0]); i++)
			if (strcmp((const char *)prefix, known_prefix[i].prefix) == 0)
				return known_prefix[i].ns;
		return NS_OTHER;
	}
	for (i = 0; i < 4; i++)
		if (x->ns_uri[i] == uri)
			return x->ns_id[i];
	for (i = 0; i < sizeof(known_ns) / sizeof(known_ns[0]); i++)
		if (strcmp((const char *)uri, known_ns[i].uri) == 0) {
			ns = known_ns[i].ns;
			break;
		}
	if (ns == NS_OTHER && x->atom_uri != NULL &&
	    strcmp((const char *)uri, x->atom_uri) == 0)
		ns = NS_ATOM;
	x->ns_uri[x->ns_next] = uri;
	x->ns_id[x->ns_next] = ns;
	x->ns_next = (x->ns_next + 1) % 4;
	return ns;
}

/* Element names match without regard to case, as other readers do:
 * feeds write <pubdate>, <PubDate> and <Title>. */
static const struct px_rule *
px_lookup(uint8_t where, uint8_t ns, const char *name)
{
	size_t	i;

	unsigned char	first;

	if (name == NULL)	/* libxml2 names every element; never here */
		return NULL;
	/* The first letter rules out most rules before strcasecmp(). */
	first = (unsigned char)tolower((unsigned char)name[0]);
	for (i = 0; i < px_rss_rules_n; i++) {
		const struct px_rule *r = &px_rss_rules[i];

		if (r->where == where && r->ns == ns &&
		    (unsigned char)tolower((unsigned char)r->name[0]) == first &&
		    strcasecmp(r->name, name) == 0)
			return r;
	}
	for (i = 0; i < px_atom_rules_n; i++) {
		const struct px_rule *r = &px_atom_rules[i];

		if (r->where == where && r->ns == ns &&
		    (unsigned char)tolower((unsigned char)r->name[0]) == first &&
		    strcasecmp(r->name, name) == 0)
			return r;
	}
	return NULL;
}

static void
px_oom(struct px *x)
{
	x->oom = 1;
	x->stopped = true;
	xmlStopParser(x->ctxt);
}

static void
px_warn(struct px *x, const char *fmt, ...) _printf_(2, 3);

static void
px_warn(struct px *x, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pc_warn(x->pc, "%s", msg) < 0)
		px_oom(x);
}

static void
px_fatal(struct px *x, int r, const char *fmt, ...) _printf_(3, 4);

static void
px_fatal(struct px *x, int r, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(x->fatal_msg, sizeof(x->fatal_msg), fmt, ap);
	va_end(ap);
	x->fatal = r;
	x->stopped = true;
	xmlStopParser(x->ctxt);
}

/* Looks up attribute (localname, namespace) in a SAX2 attribute array
 * (5 pointers per attribute) and returns a pointer/length pair. */
static const xmlChar *
px_attr(const xmlChar **attrs, int n, const char *name, const char *uri,
    size_t *ret_len)
{
	int	i;

	for (i = 0; i < n; i++) {
		const xmlChar **a = attrs + i * 5;

		if (strcmp((const char *)a[0], name) != 0)
			continue;
		if (uri == NULL ? a[2] != NULL :
		    (a[2] == NULL || strcmp((const char *)a[2], uri) != 0))
			continue;
		*ret_len = (size_t)(a[4] - a[3]);
		return a[3];
	}
	return NULL;
}

/* Copies an attribute value. Without entity substitution libxml2 hands
 * out "&amp;" in attribute values as "&#38;" (so a tree could be written
 * back); this turns it into the '&' the document meant. */
static char *
px_attr_strndup(const xmlChar *v, size_t len)
{
	char	*out, *o;
	size_t	 i;

	out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	for (i = 0, o = out; i < len; i++) {
		if (v[i] == '&' && len - i >= 5 && memcmp(v + i, "&#38;", 5) == 0) {
			*o++ = '&';
			i += 4;
		} else {
			*o++ = (char)v[i];
		}
	}
	*o = '\0';
	return out;
}

static char *
px_attr_dup(const xmlChar **attrs, int n, const char *name, const char *uri)
{
	const xmlChar	*v;
	size_t		 len;

	v = px_attr(attrs, n, name, uri, &len);
	if (v == NULL)
		return NULL;
	return px_attr_strndup(v, len);
}

static bool
px_attr_eq(const xmlChar **attrs, int n, const char *name, const char *val)
{
	const xmlChar	*v;
	size_t		 len;

	v = px_attr(attrs, n, name, NULL, &len);
	return v != NULL && strlen(val) == len &&
	    strncasecmp((const char *)v, val, len) == 0;
}

/* Offers a string value for a field of the item (or the feed when no item
 * is open). Takes val in every case. */
static void
px_offer(struct px *x, enum px_field f, uint8_t prio, char *val)
{
	char		**slot = NULL;
	uint8_t		 *prios = x->in_item ? x->item_prio : x->feed_prio;
	struct feed_doc	 *doc = x->pc->doc;

	if (val == NULL)
		return;
	if (f == PF_CATEGORY) {
		if (x->in_item && pc_item_add_category(&x->item, val) < 0)
			px_oom(x);
		else if (!x->in_item)
			free(val);
		return;
	}
	if (!x->in_item && f == PF_AUTHOR) {
		/* RFC 4287 4.2.1: the feed's atom:author applies to entries
		 * that have none. */
		slot = &x->feed_author;
	} else if (x->in_item) {
		switch (f) {
		case PF_TITLE:   slot = &x->item.title; break;
		case PF_LINK:    slot = &x->item.link; break;
		case PF_SUMMARY: slot = &x->item.summary; break;
		case PF_CONTENT: slot = &x->item.content; break;
		case PF_AUTHOR:  slot = &x->item.author; break;
		case PF_ID:      slot = &x->item.id; break;
		default:         break;
		}
	} else {
		/* Feed-level fields are read up to the first item, so that a
		 * streaming writer can print them before the items and still
		 * agree with parse_feed() (docs/parsing.md). */
		if (x->item_no > 0 && f != PF_LANGUAGE) {
			free(val);
			return;
		}
		switch (f) {
		case PF_TITLE:    slot = &doc->title; break;
		case PF_LINK:     slot = &doc->link; break;
		case PF_SUMMARY:  slot = &doc->description; break;
		case PF_LANGUAGE: slot = &doc->language; break;
		default:          break;
		}
	}
	if (slot == NULL || (prios[f] != 0 && prios[f] <= prio)) {
		free(val);
		return;
	}
	/* "en_US" is a locale name; BCP 47 (RFC 5646) writes "en-US". */
	if (f == PF_LANGUAGE)
		for (char *p = val; *p != '\0'; p++)
			if (*p == '_')
				*p = '-';
	free(*slot);
	*slot = val;
	prios[f] = prio;
}

static void
px_offer_time(struct px *x, enum px_field f, uint8_t prio, int64_t t)
{
	if (!x->in_item || (x->item_prio[f] != 0 && x->item_prio[f] <= prio))
		return;
	if (f == PF_PUBLISHED)
		x->item.published = t;
	else
		x->item.updated = t;
	x->item_prio[f] = prio;
}

/* "jdoe@example.com (John Doe)", the RSS 2.0 author form: keep the name. */
static void
px_author_name(char *s)
{
	char	*open, *close;

	open = strstr(s, " (");
	if (open == NULL || strchr(s, '@') == NULL || strchr(s, '@') > open)
		return;
	close = strrchr(open, ')');
	if (close == NULL || close[1] != '\0' || close == open + 2)
		return;
	*close = '\0';
	memmove(s, open + 2, strlen(open + 2) + 1);
}

static bool
px_looks_like_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 ||
	    strncasecmp(s, "https://", 8) == 0;
}

static int64_t
px_sy_period(const char *s)
{
	static const struct {
		const char	*name;
		int64_t		 secs;
	} periods[] = {
		{ "hourly", 3600 }, { "daily", 86400 }, { "weekly", 604800 },
		{ "monthly", 2592000 }, { "yearly", 31536000 },
	};
	size_t	i;

	for (i = 0; i < sizeof(periods) / sizeof(periods[0]); i++)
		if (strcasecmp(s, periods[i].name) == 0)
			return periods[i].secs;
	return 0;
}

/* Decodes base64 text (white space anywhere, as in Atom 0.3's
 * mode="base64"). *ret is the decoded text (NUL-terminated, *ret_len its
 * length), or NULL when s is not base64 or decodes to something that is
 * not text: invalid UTF-8 or control characters (an image). Returns 0 or
 * -ENOMEM. */
static int
px_base64_text(const char *s, size_t len, char **ret, size_t *ret_len)
{
	struct base64_decode_ctx	 ctx;
	uint8_t				*out;
	size_t				 n, i;

	*ret = NULL;
	out = malloc(BASE64_DECODE_LENGTH(len) + 1);
	if (out == NULL)
		return -ENOMEM;
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &n, out, len, s) ||
	    !base64_decode_final(&ctx) || !text_utf8_is_valid((char *)out, n)) {
		free(out);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (out[i] < 0x20 && out[i] != '\t' && out[i] != '\n' &&
		    out[i] != '\r') {
			free(out);
			return 0;
		}
	out[n] = '\0';
	*ret = (char *)out;
	*ret_len = n;
	return 0;
}

/* The end tag of the captured element: clean the text and offer it. */
static void
px_capture_end(struct px *x)
{
	const struct px_rule	*r = x->cap_rule;
	const char		*raw = x->text.data != NULL ? x->text.data : "";
	size_t			 rawlen = x->text.len;
	enum text_kind		 kind = x->cap_kind;
	char			*val = NULL, *abs = NULL, *dec = NULL;
	int64_t			 t;
	int			 rr;

	x->cap = false;
	if (x->cap_truncated)
		px_warn(x, "%s%zu: <%s> longer than %zu bytes, truncated",
		    x->in_item ? "item " : "feed", x->in_item ? x->item_no : 0,
		    r->name, x->pc->lim.max_field_bytes);
	if (x->cap_markup && !x->cap_b64)
		kind = TEXT_PLAIN;	/* the XML parser already took it apart */
	if (x->cap_b64) {
		rr = px_base64_text(raw, rawlen, &dec, &rawlen);
		if (rr < 0) {
			px_oom(x);
			return;
		}
		if (dec == NULL)
			return;		/* not base64, or not text */
		raw = dec;
	}
	switch (r->how) {
	case HOW_URL:
	case HOW_ATOMLINK:
	case HOW_GUID:
	case HOW_DATE:
	case HOW_PLAIN:
	case HOW_MEDIACAT:
	case HOW_KEYWORDS:
		kind = TEXT_PLAIN;
		break;
	default:
		break;
	}
	rr = text_clean_valid(x->pc->tc, raw, rawlen, kind, x->pc->lim.max_field_bytes,
	    &val);
	free(dec);
	if (rr < 0) {
		px_oom(x);
		return;
	}
	if (val == NULL)
		return;
	switch (r->how) {
	case HOW_URL:
	case HOW_ATOMLINK:
		rr = url_resolve(x->stack[x->cap_depth].base, val, &abs);
		free(val);
		if (rr < 0) {
			px_oom(x);
			return;
		}
		px_offer(x, (enum px_field)r->field, r->how == HOW_ATOMLINK ?
		    x->cap_prio : r->prio, abs);
		return;
	case HOW_GUID:
		if (x->cap_permalink && px_looks_like_url(val)) {
			abs = strdup(val);
			if (abs == NULL) {
				free(val);
				px_oom(x);
				return;
			}
			/* Below <link> and atom:link: guid is a fallback. */
			px_offer(x, PF_LINK, 8, abs);
		}
		px_offer(x, PF_ID, r->prio, val);
		return;
	case HOW_KEYWORDS: {
		/* "tariffs, trade,  Korea": one category each. */
		char	*save = NULL, *tok, *one;

		for (tok = strtok_r(val, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ')
				tok++;
			if (*tok == '\0')
				continue;
			one = strdup(tok);
			if (one == NULL) {
				px_oom(x);
				break;
			}
			for (size_t n = strlen(one); n > 0 && one[n - 1] == ' '; n--)
				one[n - 1] = '\0';
			px_offer(x, PF_CATEGORY, 1, one);
		}
		free(val);
		return;
	}
	case HOW_DATE:
		rr = date_parse(val, &t);
		if (rr >= 0)
			px_offer_time(x, (enum px_field)r->field, r->prio, t);
		if (rr > 0 && x->in_item)
			px_warn(x, "item %zu: date \"%.64s\" has a month name "
			    "that is not English", x->item_no, val);
		else if (rr < 0 && x->in_item)
			px_warn(x, "item %zu: cannot parse date \"%.64s\"",
			    x->item_no, val);
		free(val);
		return;
	default:
		break;
	}
	switch (r->field) {
	case PF_TTL: {
		char	*end;
		long	 v = strtol(val, &end, 10);

		if (*end == '\0' && v > 0 && v < 10 * 365 * 24 * 60 &&
		    x->feed_prio[PF_TTL] == 0) {
			x->pc->doc->ttl_seconds = (int64_t)v * 60;
			x->feed_prio[PF_TTL] = 1;
		}
		free(val);
		return;
	}
	case PF_SY_PERIOD:
		x->sy_period = px_sy_period(val);
		free(val);
		return;
	case PF_SY_FREQ: {
		char	*end;
		long	 v = strtol(val, &end, 10);

		if (*end == '\0' && v > 0)
			x->sy_freq = v;
		free(val);
		return;
	}
	case PF_AUTHOR:
		if (r->ns == NS_RSS)
			px_author_name(val);
		break;
	default:
		break;
	}
	px_offer(x, (enum px_field)r->field, r->prio, val);
}

/* Microsoft's CDF puts the link and the date in attributes of <CHANNEL>
 * and <ITEM>: HREF="..." LASTMOD="...", written in upper case (CDF came
 * from HTML, so the lower case is taken too). Below every RSS and Atom
 * element for the same field. */
static void
px_cdf_attrs(struct px *x, const xmlChar **attrs, int nattrs)
{
	char	*v, *abs = NULL;
	int64_t	 t;

	v = px_attr_dup(attrs, nattrs, "HREF", NULL);
	if (v == NULL)
		v = px_attr_dup(attrs, nattrs, "href", NULL);
	if (v != NULL) {
		int r = url_resolve(x->stack[x->depth].base, v, &abs);

		free(v);
		if (r < 0) {
			px_oom(x);
			return;
		}
		px_offer(x, PF_LINK, 9, abs);
	}
	v = px_attr_dup(attrs, nattrs, "LASTMOD", NULL);
	if (v == NULL)
		v = px_attr_dup(attrs, nattrs, "lastmod", NULL);
	if (v != NULL && date_parse(v, &t) >= 0)
		px_offer_time(x, PF_UPDATED, 9, t);
	else if (v != NULL && x->in_item)
		px_warn(x, "item %zu: cannot parse date \"%.64s\"",
		    x->item_no, v);
	free(v);
}

static void
px_item_begin(struct px *x, const xmlChar **attrs, int nattrs)
{
	char	*about;

	memset(&x->item, 0, sizeof(x->item));
	x->item.published = FW_TIME_NONE;
	x->item.updated = FW_TIME_NONE;
	memset(x->item_prio, 0, sizeof(x->item_prio));
	x->in_item = true;
	x->item_depth = x->depth;
	x->item_no++;
	/* RSS 1.0: rdf:about "must be unique" and is the item's URI. */
	about = px_attr_dup(attrs, nattrs, "about",
	    "http://www.w3.org/1999/02/22-rdf-syntax-ns#");
	if (about != NULL)
		px_offer(x, PF_ID, 5, about);
	px_cdf_attrs(x, attrs, nattrs);
}

static void
px_item_end(struct px *x)
{
	x->in_item = false;
	if (x->item.author == NULL && x->feed_author != NULL) {
		x->item.author = strdup(x->feed_author);
		if (x->item.author == NULL) {
			feed_item_done(&x->item);
			px_oom(x);
			return;
		}
	}
	if (pc_add_item(x->pc, &x->item) < 0)
		px_oom(x);
}

/* An Atom link to the item or feed. Returns 0, or the priority with which
 * the element's text is the link (an Atom 0.3 link without href). */
static uint8_t
px_atom_link(struct px *x, const xmlChar **attrs, int nattrs)
{
	const xmlChar	*rel, *type, *href;
	size_t		 rel_len, type_len, href_len;
	uint8_t		 prio;
	char		*tmp, *abs = NULL;
	int		 r;

	static const char iana_alt[] =
	    "http://www.iana.org/assignments/relation/alternate";

	rel = px_attr(attrs, nattrs, "rel", NULL, &rel_len);
	if (rel != NULL && !(rel_len == 9 &&
	    strncasecmp((const char *)rel, "alternate", 9) == 0) &&
	    !(rel_len == sizeof(iana_alt) - 1 &&
	    strncmp((const char *)rel, iana_alt, rel_len) == 0))
		return 0;
	href = px_attr(attrs, nattrs, "href", NULL, &href_len);
	type = px_attr(attrs, nattrs, "type", NULL, &type_len);
	/* Prefer the HTML alternate; in RSS, <link> itself comes first. */
	if (type == NULL || (type_len >= 9 &&
	    (strncasecmp((const char *)type, "text/html", 9) == 0 ||
	    strncasecmp((const char *)type, "application/xhtml", 17) == 0)))
		prio = 2;
	else
		prio = 3;
	if (x->native == NS_RSS)
		prio += 2;
	/* Early Atom 0.3 feeds put the URL in the element, as RSS does:
	 * <link rel="alternate" type="text/html">http://...</link>. It ranks
	 * below every link with an href (2-5), above a guid (8). */
	if (href == NULL)
		return prio + 2;
	tmp = px_attr_strndup(href, href_len);
	if (tmp == NULL) {
		px_oom(x);
		return 0;
	}
	r = url_resolve(x->stack[x->depth].base, tmp, &abs);
	free(tmp);
	if (r < 0) {
		px_oom(x);
		return 0;
	}
	px_offer(x, PF_LINK, prio, abs);
	return 0;
}

static void
px_atom_category(struct px *x, const xmlChar **attrs, int nattrs)
{
	const xmlChar	*v;
	size_t		 len;
	char		*val = NULL;

	v = px_attr(attrs, nattrs, "term", NULL, &len);
	if (v == NULL || len == 0)
		v = px_attr(attrs, nattrs, "label", NULL, &len);
	if (v == NULL)	/* iTunes: <itunes:category text="Technology"> */
		v = px_attr(attrs, nattrs, "text", NULL, &len);
	if (v == NULL)
		return;
	/* HTML: an HTML entity in an attribute arrives as "&eacute;" (see
	 * px_ent_for_context). Validating, to be safe with attribute bytes. */
	if (text_clean(x->pc->tc, (const char *)v, len, TEXT_HTML,
	    x->pc->lim.max_field_bytes, &val) < 0) {
		px_oom(x);
		return;
	}
	px_offer(x, PF_CATEGORY, 1, val);
}

/* Atom text constructs and Atom 0.3 content modes pick the text kind;
 * *ret_b64 says that the text is base64 of text of that kind. */
static bool
px_textcons_kind(const xmlChar **attrs, int nattrs, enum text_kind *ret,
    bool *ret_b64)
{
	const xmlChar	*v;
	size_t		 len;
	bool		 b64 = false;

	*ret_b64 = false;
	if (px_attr(attrs, nattrs, "src", NULL, &len) != NULL)
		return false;	/* out-of-line content: nothing to read */
	v = px_attr(attrs, nattrs, "mode", NULL, &len);
	if (v != NULL && len == 6 && strncasecmp((const char *)v, "base64", 6) == 0)
		b64 = true;
	if (v != NULL && len == 7 && strncasecmp((const char *)v, "escaped", 7) == 0) {
		*ret = TEXT_HTML;
		return true;
	}
	*ret_b64 = b64;
	v = px_attr(attrs, nattrs, "type", NULL, &len);
	if (v == NULL) {
		*ret = TEXT_PLAIN;
		return true;
	}
	if ((len == 4 && strncasecmp((const char *)v, "html", 4) == 0) ||
	    (len == 9 && strncasecmp((const char *)v, "text/html", 9) == 0)) {
		*ret = TEXT_HTML;
		return true;
	}
	/* "text", "xhtml", "text/plain", "application/xhtml+xml", other
	 * XML types: the parser flattens any markup, unless it is base64,
	 * where the markup of an XML type is stripped as HTML's is. */
	if ((len >= 4 && strncasecmp((const char *)v, "text", 4) == 0) ||
	    (len >= 5 && strncasecmp((const char *)v, "xhtml", 5) == 0) ||
	    (len > 4 && strncasecmp((const char *)v + len - 4, "+xml", 4) == 0) ||
	    (len > 4 && strncasecmp((const char *)v + len - 4, "/xml", 4) == 0)) {
		*ret = b64 && strncasecmp((const char *)v, "text", 4) != 0 ?
		    TEXT_HTML : TEXT_PLAIN;
		return true;
	}
	/*
	 * RFC 4287 4.1.3.3: "Otherwise, the content of atom:content MUST be
	 * a valid Base64 encoding". Some other media type: kept as literal
	 * text when it decodes to text (px_base64_text), dropped when it
	 * is binary (an image). A type that is not a media type ("plain")
	 * says nothing about the text: dropped as before.
	 */
	if (memchr(v, '/', len) == NULL)
		return false;
	*ret = TEXT_PLAIN;
	*ret_b64 = true;
	return true;
}

static void
px_root(struct px *x, const xmlChar *local, const xmlChar *uri,
    int nb_namespaces, const xmlChar **namespaces, const xmlChar **attrs,
    int nattrs)
{
	struct px_frame	*f = &x->stack[x->depth];
	const char	*name = (const char *)local;
	const xmlChar	*v;
	size_t		 len;
	uint8_t		 ns;
	bool		 v03;

	x->root_seen = true;
	if (strcasecmp(name, "rss") == 0) {
		x->native = NS_RSS;
		x->format = FEED_FORMAT_RSS20;
		v = px_attr(attrs, nattrs, "version", NULL, &len);
		if (v != NULL && len >= 3 && strncmp((const char *)v, "0.9", 3) == 0)
			x->format = FEED_FORMAT_RSS09;
		f->where = AT_ROOT;
	} else if (strcmp(name, "RDF") == 0) {
		x->native = NS_RSS;
		x->format = FEED_FORMAT_RSS10;
		/* RSS 0.90 says so by its default namespace, which the root
		 * declares even when no channel or item is there to tell. */
		for (int i = 0; i < nb_namespaces; i++)
			if (namespaces[2 * i] == NULL &&
			    namespaces[2 * i + 1] != NULL &&
			    strcmp((const char *)namespaces[2 * i + 1],
			    "http://my.netscape.com/rdf/simple/0.9/") == 0)
				x->format = FEED_FORMAT_RSS09;
		f->where = AT_ROOT;
	} else if (strcasecmp(name, "feed") == 0) {
		x->native = NS_ATOM;
		x->format = FEED_FORMAT_ATOM10;
		v = px_attr(attrs, nattrs, "version", NULL, &len);
		v03 = v != NULL && len >= 3 && strncmp((const char *)v, "0.3", 3) == 0;
		ns = uri != NULL ? px_ns(x, NULL, uri) : NS_ATOM;
		if (uri != NULL && ns == NS_OTHER && v03) {
			/* Atom 0.3 drafts circulated under other names
			 * ("http://example.com/newformat#"); version="0.3"
			 * says the elements are Atom's all the same. */
			free(x->atom_uri);
			x->atom_uri = strdup((const char *)uri);
			if (x->atom_uri == NULL) {
				px_oom(x);
				return;
			}
			x->ns_next = 0;
			memset(x->ns_uri, 0, sizeof(x->ns_uri));
			ns = NS_ATOM;
		}
		if (uri == NULL ? v03 : (ns == NS_ATOM && strcmp((const char *)uri,
		    "http://www.w3.org/2005/Atom") != 0))
			x->format = FEED_FORMAT_ATOM03;
		f->where = AT_FEED;
	} else if (strcasecmp(name, "channel") == 0) {
		/* An RSS channel without its <rss> wrapper, or CDF. */
		x->native = NS_RSS;
		x->format = FEED_FORMAT_RSS20;
		f->where = AT_FEED;
		px_cdf_attrs(x, attrs, nattrs);
	} else if (strcasecmp(name, "html") == 0) {
		px_fatal(x, -EBADMSG, "not a feed: found an HTML page");
		return;
	} else if (strcmp(name, "opml") == 0) {
		px_fatal(x, -EBADMSG, "not a feed: found an OPML outline");
		return;
	} else {
		px_fatal(x, -EBADMSG, "not a feed: found XML with root element <%.64s>",
		    name);
		return;
	}
	x->pc->doc->format = x->format;
	x->pc->format_known = true;
	if (f->where == AT_FEED) {
		char *lang = px_attr_dup(attrs, nattrs, "lang", XML_NS_URI);

		x->in_item = false;
		if (lang != NULL)
			px_offer(x, PF_LANGUAGE, 9, lang);
	}
}

/* Whether an element met inside a captured field says that the field was
 * left unclosed: an item start inside a feed-level field, or a sibling
 * field inside a short one (title, link, id, date, author, language),
 * which never holds markup of that name. */
static bool
px_unclosed(struct px *x, const xmlChar *local, const xmlChar *prefix,
    const xmlChar *uri)
{
	const struct px_rule	*r;
	uint8_t			 outer = x->stack[x->cap_depth - 1].where;

	switch (x->cap_rule->field) {
	case PF_TITLE:
	case PF_LINK:
	case PF_ID:
	case PF_PUBLISHED:
	case PF_UPDATED:
	case PF_AUTHOR:
	case PF_LANGUAGE:
		break;
	default:
		if (x->in_item)
			return false;
		break;
	}
	if (x->cap_depth == 0 || outer == AT_IGNORE || outer == AT_CAPTURE)
		return false;
	r = px_lookup(outer, px_ns(x, prefix, uri), (const char *)local);
	if (r == NULL)
		return false;
	/* In a feed-level description only an item start counts. */
	return x->cap_rule->field != PF_SUMMARY || r->how == HOW_ITEM;
}

static void
px_start(void *ctx, const xmlChar *local, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nattrs, int nb_defaulted, const xmlChar **attrs)
{
	struct px		*x = ctx;
	struct px_frame		*parent, *f;
	const struct px_rule	*r;
	const xmlChar		*v;
	size_t			 len;
	uint8_t			 ns;
	bool			 b64 = false;
	uint8_t			 link_prio = 0;

	if (x->stopped)
		return;
	x->depth++;
	if (x->depth > x->max_depth) {
		if (!x->depth_warned)
			px_warn(x, "elements nested deeper than %zu levels ignored",
			    x->max_depth);
		x->depth_warned = true;
		return;
	}
	parent = &x->stack[x->depth - 1];
	f = &x->stack[x->depth];
	f->base = parent->base;
	f->base_owned = false;
	f->where = AT_IGNORE;
	v = px_attr(attrs, nattrs, "base", XML_NS_URI, &len);
	if (v != NULL) {
		char	*tmp = px_attr_strndup(v, len), *abs = NULL;

		if (tmp == NULL || url_resolve(parent->base, tmp, &abs) < 0) {
			free(tmp);
			px_oom(x);
			return;
		}
		free(tmp);
		if (abs != NULL) {
			f->base = abs;
			f->base_owned = true;
		}
	}

	if (x->cap && px_unclosed(x, local, prefix, uri)) {
		/* The field was never closed (<title>News<item>..., or
		 * <title>T<link>...): end it here and read this element as
		 * its sibling. */
		x->stack[x->cap_depth].where = x->stack[x->cap_depth - 1].where;
		px_capture_end(x);
		parent->where = x->stack[x->cap_depth].where;
	}
	if (x->cap) {
		/* Markup inside a captured field: XHTML content, or HTML a
		 * feed forgot to escape. Keep the text and word boundaries. */
		const char *n = (const char *)local;

		f->where = AT_CAPTURE;
		x->cap_markup = true;
		if (strcasecmp(n, "script") == 0 || strcasecmp(n, "style") == 0)
			x->cap_skip++;
		else if (x->text.len > 0 && buf_append(&x->text, " ", 1) < 0)
			x->cap_truncated = true;
		return;
	}
	if (x->depth == 1) {
		px_root(x, local, uri, nb_namespaces, namespaces, attrs, nattrs);
		return;
	}
	if (parent->where == AT_IGNORE || parent->where == AT_CAPTURE)
		return;
	{
		struct px_cache *c = &x->cache[(((uintptr_t)local >> 4) ^
		    ((uintptr_t)uri >> 4) ^ parent->where) & 127];

		if (c->local == local && c->uri == uri && c->prefix == prefix &&
		    c->where == parent->where && local != NULL) {
			r = c->rule;
		} else {
			ns = px_ns(x, prefix, uri);
			r = px_lookup(parent->where, ns, (const char *)local);
			c->local = local;
			c->uri = uri;
			c->prefix = prefix;
			c->where = parent->where;
			c->rule = r;
		}
	}
	if (r == NULL)
		return;
	switch (r->how) {
	case HOW_CHANNEL:
		if (uri != NULL && strcmp((const char *)uri,
		    "http://my.netscape.com/rdf/simple/0.9/") == 0) {
			x->format = FEED_FORMAT_RSS09;
			x->pc->doc->format = x->format;
		}
		f->where = AT_FEED;
		return;
	case HOW_ITEM:
		/* Items never nest: one inside another means the first was
		 * left unclosed. */
		if (x->in_item)
			px_item_end(x);
		px_item_begin(x, attrs, nattrs);
		f->where = AT_ITEM;
		return;
	case HOW_CONTAINER:
		f->where = r->enter;
		return;
	case HOW_SKIP:
		return;
	case HOW_ATOMLINK:
		link_prio = px_atom_link(x, attrs, nattrs);
		if (link_prio == 0)
			return;
		x->cap_kind = TEXT_PLAIN;
		break;
	case HOW_ATOMCAT:
		px_atom_category(x, attrs, nattrs);
		/* iTunes subcategories nest inside their category. */
		if (r->ns == NS_ITUNES)
			f->where = parent->where;
		return;
	case HOW_TEXTCONS:
		if (!px_textcons_kind(attrs, nattrs, &x->cap_kind, &b64))
			return;
		break;
	case HOW_HTML:
		x->cap_kind = TEXT_HTML;
		break;
	default:
		x->cap_kind = TEXT_PLAIN;
		break;
	}
	x->cap = true;
	x->cap_rule = r;
	x->cap_depth = x->depth;
	x->cap_markup = false;
	x->cap_truncated = false;
	x->cap_skip = 0;
	x->cap_permalink = !px_attr_eq(attrs, nattrs, "isPermaLink", "false");
	x->cap_b64 = b64;
	x->cap_prio = link_prio;
	buf_reset(&x->text);
	f->where = AT_CAPTURE;
}

static void
px_end(void *ctx, const xmlChar *local, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct px	*x = ctx;
	struct px_frame	*f;

	if (x->stopped || x->depth == 0)
		return;
	if (x->depth > x->max_depth) {
		x->depth--;
		return;
	}
	f = &x->stack[x->depth];
	if (x->cap) {
		if (x->depth == x->cap_depth) {
			px_capture_end(x);
		} else {
			const char *n = (const char *)local;

			if (strcasecmp(n, "script") == 0 || strcasecmp(n, "style") == 0) {
				if (x->cap_skip > 0)
					x->cap_skip--;
			} else if (buf_append(&x->text, " ", 1) < 0) {
				x->cap_truncated = true;
			}
		}
	}
	if (x->in_item && x->depth == x->item_depth)
		px_item_end(x);
	if (f->base_owned)
		free((char *)f->base);
	f->base_owned = false;
	x->depth--;
}

static void
px_chars(void *ctx, const xmlChar *ch, int len)
{
	struct px	*x = ctx;
	size_t		 room;

	if (!x->cap || x->cap_skip > 0 || x->stopped)
		return;
	room = x->text.max - x->text.len;
	if ((size_t)len > room) {
		x->cap_truncated = true;
		len = (int)room;
		/* Cut on a character boundary. */
		while (len > 0 && (ch[len] & 0xC0) == 0x80)
			len--;
	}
	if (len > 0 && buf_append(&x->text, ch, (size_t)len) < 0)
		px_oom(x);
}


static xmlEntityPtr
px_ent_new(struct px *x, const char *name, const char *content, size_t len)
{
	struct px_ent	*pe;

	pe = calloc(1, sizeof(*pe));
	if (pe == NULL)
		return NULL;
	pe->e.type = XML_ENTITY_DECL;
	/* A general entity: libxml2 parses its content and reports the text
	 * through the SAX handler in element content, and keeps "&name;" in
	 * an attribute value. */
	pe->e.etype = XML_INTERNAL_GENERAL_ENTITY;
	pe->e.name = (const xmlChar *)strdup(name);
	pe->e.content = (xmlChar *)strndup(content, len);
	if (pe->e.name == NULL || pe->e.content == NULL) {
		free((char *)pe->e.name);
		free(pe->e.content);
		free(pe);
		return NULL;
	}
	pe->e.length = (int)len;
	pe->next = x->ents;
	x->ents = pe;
	return &pe->e;
}

static xmlEntityPtr
px_get_entity(void *ctx, const xmlChar *name)
{
	struct px	*x = ctx;
	struct px_ent	*pe;
	char		 u[8];
	int32_t		 cp;
	xmlEntityPtr	 e;

	for (pe = x->ents; pe != NULL; pe = pe->next)
		if (strcmp((const char *)pe->e.name, (const char *)name) == 0) {
			/* Bound what references can expand to in total (a
			 * document of many references to a 1 KiB entity). */
			x->ent_bytes += (size_t)pe->e.length;
			if (x->ent_bytes > PX_MAX_ENTITY_TOTAL) {
				if (!x->ent_budget_warned)
					px_warn(x, "entity references expand to "
					    "more than %d bytes; the rest are dropped",
					    PX_MAX_ENTITY_TOTAL);
				x->ent_budget_warned = true;
				return NULL;
			}
			return &pe->e;
		}
	/* Bound the cache against a document of endless distinct names. */
	if (x->n_ents >= PX_MAX_ENTITY_NAMES)
		return NULL;
	x->n_ents++;
	cp = text_entity_lookup((const char *)name, strlen((const char *)name));
	if (cp >= 0) {
		e = px_ent_new(x, (const char *)name, u,
		    text_utf8_put(u, (uint32_t)cp));
	} else {
		/* Unknown (or refused) entity: keep the reference as text,
		 * as a browser shows it, instead of losing it. The content
		 * is parsed, so its '&' is a reference too. */
		char	*lit;
		int	 n = asprintf(&lit, "&#38;%s;", (const char *)name);

		if (n < 0) {
			px_oom(x);
			return NULL;
		}
		e = px_ent_new(x, (const char *)name, lit, (size_t)n);
		free(lit);
	}
	if (e == NULL) {
		px_oom(x);
		return NULL;
	}
	return e;
}

static void
px_entity_decl(void *ctx, const xmlChar *name, int type,
    const xmlChar *publicId, const xmlChar *systemId, xmlChar *content)
{
	struct px	*x = ctx;
	size_t		 len;

	if (type == XML_INTERNAL_GENERAL_ENTITY && content != NULL &&
	    (len = strlen((const char *)content)) <= PX_MAX_ENTITY_LEN &&
	    strchr((const char *)content, '&') == NULL &&
	    strchr((const char *)content, '<') == NULL &&
	    strchr((const char *)content, '%') == NULL &&
	    x->n_declared < PX_MAX_DECLARED_ENTITIES) {
		x->n_declared++;
		if (px_ent_new(x, (const char *)name, (const char *)content,
		    len) == NULL)
			px_oom(x);
		return;
	}
	if (!x->ent_warned)
		px_warn(x, "entity declaration '%.64s' ignored (external, "
		    "recursive or too large)", (const char *)name);
	x->ent_warned = true;
}

static void
px_serror(void *ctx, xmlErrorPtr err)
{
	struct px	*x = ctx;
	char		 msg[256];
	size_t		 n;

	if (err == NULL || err->level == XML_ERR_WARNING)
		return;
	x->xml_errors++;
	if (x->xml_errors > 3)
		return;
	snprintf(msg, sizeof(msg), "%s", err->message != NULL ? err->message : "error");
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	px_warn(x, "malformed XML at line %d: %s (recovered what could be read)",
	    err->line, msg);
}

static void
px_generic_error(void *ctx, const char *msg, ...)
{
	/* libxml2 must never print: the parser does not log. */
}

static xmlParserInputPtr
px_refuse_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	return NULL;	/* no external entity, DTD or XInclude is ever read */
}

/* Bytes the repair scanner looks at: '<', '&', the C0 controls XML 1.0
 * does not allow (all but tab, newline and carriage return), and the bytes
 * that are not ASCII (checked as UTF-8 when the document is read as such). */
static const uint8_t px_scan_class[256] = {
	[0x00 ... 0x08] = 1, [0x0B] = 1, [0x0C] = 1, [0x0E ... 0x1F] = 1,
	['<'] = 2, ['&'] = 3, [0x80 ... 0xFF] = 4,
};

static bool
px_name_start(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? true :
	    c == '_' || c == ':' || c >= 0x80;
}

static bool
px_name_char(unsigned char c)
{
	return px_name_start(c) || (c >= '0' && c <= '9') || c == '-' ||
	    c == '.';
}

/* Whether s[0..len) (len < 4, s[0] >= 0x80) is the start of a UTF-8
 * sequence that more bytes could complete. */
static bool
px_utf8_partial(const unsigned char *s, size_t len)
{
	size_t	need, i;

	if (s[0] < 0xC2 || s[0] > 0xF4)
		return false;
	need = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
	if (len >= need)
		return false;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return false;
	return true;
}

/* The common valid three-byte sequences (Hangul, kana, CJK, punctuation):
 * lead bytes E1-EF without the overlong E0 and the surrogates of ED. */
static inline bool
px_utf8_three(const unsigned char *s, size_t len)
{
	return len >= 3 && s[0] >= 0xE1 && s[0] <= 0xEF &&
	    (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 &&
	    (s[0] != 0xED || s[1] < 0xA0);
}

/* The length of the valid UTF-8 prefix of s[0..len). */
static size_t
px_utf8_valid_prefix(const unsigned char *s, size_t len)
{
	size_t	i = 0, n;

	while (i < len) {
		while (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (px_utf8_three(s + i, len - i)) {
			i += 3;
			continue;
		}
		n = text_utf8_valid_seq(s + i, len - i);
		if (n == 0)
			break;
		i += n;
	}
	return i;
}

/* Whether the '&' at p starts a well-formed reference: 1 yes, 0 no, -1
 * when the bytes up to end do not tell and more may follow (!eof). With
 * utf8, lengths are counted as in the repaired document, where each byte
 * that is not UTF-8 has become two or three bytes. */
static int
px_good_ref(const char *p, const char *end, bool utf8, bool eof)
{
	const unsigned char	*q = (const unsigned char *)p + 1;
	const unsigned char	*e = (const unsigned char *)end;
	size_t			 count = 1, n, adv;
	char			 tmp[4];

	if (q >= e)
		return eof ? 0 : -1;
	if (*q == '#') {
		q++;
		if (q < e && (*q == 'x' || *q == 'X')) {
			q++;
			if (q < e && !isxdigit(*q))
				return 0;
			while (q < e && isxdigit(*q))
				q++;
		} else {
			if (q < e && !isdigit(*q))
				return 0;
			while (q < e && isdigit(*q))
				q++;
		}
		if (q >= e)
			return eof ? 0 : -1;
		return *q == ';';
	}
	if (!px_name_start(*q))
		return 0;
	while (q < e && px_name_char(*q) && count < 64) {
		if (*q < 0x80 || !utf8) {
			count++;
			q++;
			continue;
		}
		n = text_utf8_valid_seq(q, (size_t)(e - q));
		adv = n;
		if (n == 0) {
			if (!eof && e - q < 4 && px_utf8_partial(q, (size_t)(e - q)))
				return -1;
			n = text_utf8_repair_byte(tmp, *q);
			adv = 1;
		}
		if (count + n > 64)
			return 0;	/* stops inside a character */
		count += n;
		q += adv;
	}
	if (q >= e)
		return eof ? 0 : -1;
	return *q == ';';
}

/*
 * A well-formed numeric reference at p (px_good_ref() said so) that
 * libxml2 would refuse and drop: "&#X41;" (XML allows only a small x, but
 * HTML and feeds write both), and references to what is not an XML
 * character. As HTML5 reads them, zero, surrogates and numbers past
 * U+10FFFF become U+FFFD; a reference to a control character goes, as
 * the control characters themselves do. Writes the replacement to out
 * (16 bytes) and sets *ret_end past the reference; returns the length of
 * the replacement. Leaves *ret_end alone when the reference is fine.
 */
static size_t
px_charref_repair(const char *p, char *out, const char **ret_end)
{
	const char	*q = p + 2;
	uint32_t	 cp = 0;
	bool		 hex = *q == 'x' || *q == 'X', upper = *q == 'X';
	int		 d;

	if (hex)
		q++;
	for (; *q != ';'; q++) {
		d = hex ? (isdigit((unsigned char)*q) ? *q - '0' :
		    (*q | 0x20) - 'a' + 10) : *q - '0';
		if (cp <= 0x10FFFF)
			cp = cp * (hex ? 16 : 10) + (uint32_t)d;
	}
	*ret_end = q + 1;
	if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF ||
	    cp == 0xFFFE || cp == 0xFFFF)
		return (size_t)snprintf(out, 16, "&#xFFFD;");
	if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r')
		return 0;
	if (upper)
		return (size_t)snprintf(out, 16, "&#x%X;", (unsigned)cp);
	*ret_end = p;
	return 0;
}

/*
 * A well-formed named reference at p (px_good_ref() said so) to a
 * character XML or HTML names ("&amp;", "&eacute;"), written as the
 * numeric reference to it ("&#38;", "&#233;") to out (16 bytes); sets
 * *ret_end past the reference and returns the length. A name neither
 * knows is kept as text ("&#38;name;") when no entity can be declared
 * (undeclared), else left to libxml2, which asks px_get_entity().
 *
 * Why: libxml2 drops every named reference after its first error in
 * recover mode (a mismatched end tag loses each "&amp;" after it), and
 * puts only the first byte of a multibyte character into an attribute
 * value; it reads numeric references right in both places. A name the
 * document declares itself is taken as the HTML name all the same.
 */
static size_t
px_named_ref(const char *p, const char *end, bool undeclared, char *out,
    const char **ret_end)
{
	const char	*semi = memchr(p, ';', (size_t)(end - p));
	int32_t		 cp;

	cp = text_entity_lookup(p + 1, (size_t)(semi - p - 1));
	if (cp < 0 && !undeclared)
		return 0;
	if (cp < 0) {
		*ret_end = p + 1;	/* the name and ';' follow as text */
		return (size_t)snprintf(out, 16, "&#38;");
	}
	*ret_end = semi + 1;
	return (size_t)snprintf(out, 16, "&#%ld;", (long)cp);
}

#define PX_ONES		0x0101010101010101ULL
#define PX_HIGHS	0x8080808080808080ULL

/* Whether one of the eight bytes of w may need the scanner's attention: a
 * byte below 0x20 or from 0x80, '<' or '&' (the "has a zero byte" tests of
 * Bit Twiddling Hacks; a false alarm only sends the bytes the slow way). */
static inline bool
px_swar_special(uint64_t w)
{
	uint64_t lt = w ^ (PX_ONES * '<'), amp = w ^ (PX_ONES * '&');

	return ((w | ((w - PX_ONES * 0x20) & ~w) | ((lt - PX_ONES) & ~lt) |
	    ((amp - PX_ONES) & ~amp)) & PX_HIGHS) != 0;
}

enum { PXS_TEXT, PXS_CDATA, PXS_COMMENT };

/* The first size of the scanner's buffers: what a round usually needs,
 * so that they are not copied as they grow. */
#define PX_SCAN_BUF ((size_t)40 * 1024)

/* The repair scanner, between rounds. */
struct px_scan {
	uint8_t	 in;		/* PXS_*: inside a CDATA section or comment */
	bool	 utf8;		/* repair bytes that are not UTF-8 */
	bool	 bad;		/* some byte was not UTF-8 */
	bool	 doctype;	/* entities may be declared */
	size_t	 fixes;		/* bare '<', '&' and controls */
	size_t	 refs;		/* character references repaired */
	/* A round's output when it repaired something. */
	char	*out;
	size_t	 out_len, out_cap;
	bool	 changed;
};

static int
px_scan_put(struct px_scan *s, const char *p, size_t n)
{
	return bytes_append(&s->out, &s->out_len, &s->out_cap, PX_SCAN_BUF, p, n);
}

/*
 * One round of the repairs made before libxml2 sees the text. Feeds in
 * the wild carry a bare '<' ("a < b") or '&' ("Tom & Jerry", "?a=1&b=2"),
 * and control characters. libxml2's recover mode stops at the first and
 * drops the second and third with what follows, so they are escaped (or
 * dropped); CDATA sections and comments are left alone. With s->utf8, a
 * byte that is not part of valid UTF-8 is decoded as windows-1252, the usual
 * mislabelled encoding. ASCII-compatible encodings only.
 *
 * Reads buf[0..len); eof says that the document ends there. Decides every
 * byte it can from what it sees, and stops before a construct that the
 * bytes after len could change (a reference or a "<![CDATA[" cut short, a
 * split UTF-8 sequence): *ret_used is what it consumed. So the result
 * depends only on the document and the round's length, never on how the
 * input arrived. When something was repaired, s->changed is set and the
 * repaired bytes are in s->out. Returns 0 or -ENOMEM.
 */
static int
px_scan_round(struct px_scan *s, const char *buf, size_t len, bool eof,
    size_t *ret_used)
{
	const char		*p = buf, *end = buf + len, *run = buf, *q;
	const unsigned char	*u;
	char			 rb[4], rb16[16];
	size_t			 n;
	int			 g;

	s->out_len = 0;
	s->changed = false;
#define FIX(str, slen) do {						\
	if (px_scan_put(s, run, (size_t)(p - run)) < 0 ||		\
	    px_scan_put(s, (str), (slen)) < 0)				\
		return -ENOMEM;						\
	s->changed = true;						\
	run = ++p;							\
} while (0)
	while (p < end) {
		u = (const unsigned char *)p;
		if (s->in != PXS_TEXT) {
			/* Skip to the closing "]]>" or "-->", checking
			 * UTF-8 on the way. */
			q = memchr(p, s->in == PXS_CDATA ? ']' : '-',
			    (size_t)(end - p));
			if (q == NULL)
				q = end;
			n = s->utf8 ? px_utf8_valid_prefix(u, (size_t)(q - p)) :
			    (size_t)(q - p);
			p += n;
			if (p < q) {
				/* A byte that is not UTF-8 (or a split
				 * sequence) before q. */
				n = text_utf8_valid_seq((const unsigned char *)p,
				    (size_t)(end - p));
				if (n > 0) {
					p += n;
					continue;
				}
				if (!eof && end - p < 4 && px_utf8_partial(
				    (const unsigned char *)p, (size_t)(end - p)))
					break;
				s->bad = true;
				FIX(rb, text_utf8_repair_byte(rb, (unsigned char)*p));
				continue;
			}
			if (p >= end)
				break;
			if (end - p < 3) {
				if (!eof)
					break;
				p++;
				continue;
			}
			if (s->in == PXS_CDATA ? (p[1] == ']' && p[2] == '>') :
			    (p[1] == '-' && p[2] == '>')) {
				p += 3;
				s->in = PXS_TEXT;
			} else {
				p++;
			}
			continue;
		}
		/* Eight plain ASCII bytes at a time. */
		while (end - p >= 8) {
			uint64_t w;

			memcpy(&w, p, 8);
			if (px_swar_special(w))
				break;
			p += 8;
		}
		if (p >= end)
			break;
		u = (const unsigned char *)p;
		switch (px_scan_class[*u]) {
		case 0:
			p++;
			continue;
		case 1:
			s->fixes++;
			FIX("", 0);
			continue;
		case 3:
			g = px_good_ref(p, end, s->utf8, eof);
			if (g < 0)
				goto cut;
			if (g == 0) {
				s->fixes++;
				FIX("&#38;", 5);
				continue;
			}
			q = p;
			n = p[1] == '#' ? px_charref_repair(p, rb16, &q) :
			    px_named_ref(p, end, !s->doctype, rb16, &q);
			if (q != p) {
				if (p[1] == '#')
					s->refs++;
				FIX(rb16, n);
				p = q;
				run = p;
				continue;
			}
			p++;
			continue;
		case 4:
			if (!s->utf8) {
				p++;
				continue;
			}
			if (px_utf8_three(u, (size_t)(end - p))) {
				do {
					p += 3;
				} while (px_utf8_three((const unsigned char *)p,
				    (size_t)(end - p)));
				continue;
			}
			n = text_utf8_valid_seq(u, (size_t)(end - p));
			if (n > 0) {
				p += n;
				continue;
			}
			if (!eof && end - p < 4 &&
			    px_utf8_partial(u, (size_t)(end - p)))
				goto cut;
			s->bad = true;
			FIX(rb, text_utf8_repair_byte(rb, *u));
			continue;
		default:
			break;
		}
		/* '<' */
		n = (size_t)(end - p);
		if (n >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
			p += 9;
			s->in = PXS_CDATA;
			continue;
		}
		if (!eof && n < 9 && memcmp(p, "<![CDATA[", n) == 0)
			goto cut;
		if (n >= 9 && memcmp(p, "<!DOCTYPE", 9) == 0)
			s->doctype = true;
		if (!eof && n < 9 && memcmp(p, "<!DOCTYPE", n) == 0)
			goto cut;
		if (n >= 4 && memcmp(p, "<!--", 4) == 0) {
			p += 4;
			s->in = PXS_COMMENT;
			continue;
		}
		if (!eof && n < 4 && memcmp(p, "<!--", n) == 0)
			goto cut;
		if (n >= 2 && (px_name_start((unsigned char)p[1]) ||
		    p[1] == '/' || p[1] == '!' || p[1] == '?')) {
			p++;
			continue;
		}
		if (n < 2) {
			if (!eof)
				goto cut;
			p++;	/* a truncated document: leave it */
			continue;
		}
		s->fixes++;
		FIX("&lt;", 4);
	}
cut:
#undef FIX
	if (s->changed && px_scan_put(s, run, (size_t)(p - run)) < 0)
		return -ENOMEM;
	*ret_used = (size_t)(p - buf);
	return 0;
}

static pthread_once_t px_once = PTHREAD_ONCE_INIT;

/* windows-1252 to UTF-8 for libxml2, the decoder of every ISO-8859-1,
 * US-ASCII and windows-1252 label (charset_alias). Written here rather
 * than taken from iconv for two reasons: iconv refuses the five bytes
 * windows-1252 leaves unassigned (0x81, 0x8D, 0x8F, 0x90, 0x9D), and
 * libxml2 then stops reading, so a Latin-1 feed with one such byte lost
 * every item after it; and the statically linked executable converts
 * without iconv (see px_plan). The five become the C1 controls of the same
 * value, as the WHATWG Encoding Standard and ISO-8859-1 read them.
 * libxml2's contract: convert what fits, say how much of each side was
 * used, return the bytes written. */
static int
px_cp1252_to_utf8(unsigned char *out, int *outlen, const unsigned char *in,
    int *inlen)
{
	const unsigned char	*i = in, *iend = in + *inlen;
	unsigned char		*o = out, *oend = out + *outlen;

	while (i < iend) {
		if (*i < 0x80) {
			if (o == oend)
				break;
			*o++ = *i++;
			continue;
		}
		if (oend - o < 3)
			break;
		o += text_utf8_repair_byte((char *)o, *i++);
	}
	*outlen = (int)(o - out);
	*inlen = (int)(i - in);
	return *outlen;
}

static void
px_global_init(void)
{
	xmlInitParser();
	xmlSetExternalEntityLoader(px_refuse_loader);
	/* Registered handlers come before iconv in libxml2's search. */
	(void)xmlNewCharEncodingHandler("WINDOWS-1252", px_cp1252_to_utf8, NULL);
}

/* Charset names as labelled → what to decode with (the WHATWG mapping of
 * legacy labels to their supersets, as browsers do), and the labels of
 * the WHATWG Encoding Standard and of Python's codecs that glibc's iconv
 * does not know under any spelling px_charset_name() tries. Labels are
 * written as px_charset_name() normalises them: lower case, '-' for '_'.
 * NOTE: a label that maps to WINDOWS-1252 is read as px_wait_decide()
 * says, so every spelling of ISO-8859-1 and US-ASCII must be here. */
static const struct {
	const char	*label;
	const char	*use;
} charset_alias[] = {
	{ "iso-8859-1", "WINDOWS-1252" }, { "iso8859-1", "WINDOWS-1252" },
	{ "latin1", "WINDOWS-1252" }, { "latin-1", "WINDOWS-1252" },
	{ "us-ascii", "WINDOWS-1252" }, { "ascii", "WINDOWS-1252" },
	{ "windows-1252", "WINDOWS-1252" }, { "cp1252", "WINDOWS-1252" },
	{ "iso88591", "WINDOWS-1252" }, { "iso-ir-100", "WINDOWS-1252" },
	{ "l1", "WINDOWS-1252" }, { "ibm819", "WINDOWS-1252" },
	{ "cp819", "WINDOWS-1252" }, { "isolatin1", "WINDOWS-1252" },
	{ "ansi-x3.4", "WINDOWS-1252" }, { "iso8859", "WINDOWS-1252" },
	{ "latin", "WINDOWS-1252" }, { "8859", "WINDOWS-1252" },
	{ "iso646-us", "WINDOWS-1252" }, { "646", "WINDOWS-1252" },
	{ "iso-ir-6", "WINDOWS-1252" }, { "us", "WINDOWS-1252" },
	{ "cp367", "WINDOWS-1252" }, { "ibm367", "WINDOWS-1252" },
	{ "euc-kr", "CP949" }, { "ks-c-5601-1987", "CP949" },
	{ "ksc5601", "CP949" }, { "cp949", "CP949" }, { "uhc", "CP949" },
	{ "euckr", "CP949" }, { "korean", "CP949" }, { "ks-c-5601", "CP949" },
	{ "ksc56011987", "CP949" }, { "windows-949", "CP949" },
	{ "ksc-5601", "CP949" }, { "iso-ir-149", "CP949" },
	{ "ks-x-1001", "CP949" }, { "ksx1001", "CP949" }, { "ms949", "CP949" },
	{ "shift-jis", "CP932" }, { "sjis", "CP932" }, { "s-jis", "CP932" },
	{ "windows-31j", "CP932" }, { "ms-kanji", "CP932" },
	{ "mskanji", "CP932" }, { "shiftjis", "CP932" },
	{ "gb2312", "GB18030" }, { "gbk", "GB18030" }, { "gb-2312-80", "GB18030" },
	{ "gb2312-80", "GB18030" }, { "iso-ir-58", "GB18030" },
	{ "chinese", "GB18030" }, { "iso58gb231280", "GB18030" },
	{ "euc-cn", "GB18030" }, { "euccn", "GB18030" },
	/* WHATWG: "iso-8859-8-i" is ISO-8859-8 read in logical order. */
	{ "iso-8859-8-i", "ISO-8859-8" }, { "iso88598i", "ISO-8859-8" },
	{ "logical", "ISO-8859-8" }, { "visual", "ISO-8859-8" },
	{ "iso-8859-8-e", "ISO-8859-8" }, { "iso88598e", "ISO-8859-8" },
	{ "iso-8859-6-e", "ISO-8859-6" }, { "iso88596e", "ISO-8859-6" },
	{ "iso-8859-6-i", "ISO-8859-6" }, { "iso88596i", "ISO-8859-6" },
	{ "sun-eu-greek", "ISO-8859-7" }, { "koi", "KOI8-R" },
	{ "iso-8859-9", "WINDOWS-1254" }, { "iso8859-9", "WINDOWS-1254" },
	{ "iso88599", "WINDOWS-1254" }, { "latin5", "WINDOWS-1254" },
	{ "l5", "WINDOWS-1254" }, { "iso-ir-148", "WINDOWS-1254" },
	{ "isolatin5", "WINDOWS-1254" },
	{ "tis-620", "CP874" }, { "iso-8859-11", "CP874" },
	{ "iso8859-11", "CP874" }, { "iso885911", "CP874" },
	{ "dos-874", "CP874" }, { "windows-874", "CP874" }, { "thai", "CP874" },
	{ "mac", "MACINTOSH" }, { "mac-roman", "MACINTOSH" },
	{ "macroman", "MACINTOSH" },
	{ "mac-cyrillic", "MAC-CYRILLIC" }, { "mac-ukrainian", "MAC-UK" },
	{ "l9", "ISO-8859-15" }, { "iso-646.irv-1991", "WINDOWS-1252" },
	{ "ptcp154", "PT154" }, { "cp154", "PT154" }, { "kz1048", "RK1048" },
	{ "hkscs", "BIG5-HKSCS" },
	{ "big5", "BIG5-HKSCS" }, { "big5-tw", "BIG5-HKSCS" },
	{ "cn-big5", "BIG5-HKSCS" }, { "ms950", "CP950" },
	{ "u8", "UTF-8" }, { "utf", "UTF-8" }, { "unicode11utf8", "UTF-8" },
	{ "unicode20utf8", "UTF-8" }, { "utf8-ucs2", "UTF-8" },
	{ "utf8-ucs4", "UTF-8" },
	/* Python's names for two IBM code pages. */
	{ "cp-is", "CP861" }, { "cp-gr", "CP869" },
};

static bool
is_utf8_label(const char *s)
{
	return strcasecmp(s, "utf-8") == 0 || strcasecmp(s, "utf8") == 0 ||
	    strcasecmp(s, "unicode-1-1-utf-8") == 0 ||
	    strcasecmp(s, "cp65001") == 0;
}

static bool
is_utf16_label(const char *s)
{
	return strncasecmp(s, "utf-16", 6) == 0 || strncasecmp(s, "utf16", 5) == 0 ||
	    strncasecmp(s, "ucs-2", 5) == 0 || strncasecmp(s, "utf-32", 6) == 0 ||
	    strncasecmp(s, "utf32", 5) == 0;
}

static bool
px_iconv_knows(const char *name)
{
	iconv_t	cd = iconv_open("UTF-8", name);

	if (cd == (iconv_t)-1)
		return false;
	(void)iconv_close(cd);
	return true;
}

/*
 * The name to decode a charset label with, in use (at most size bytes),
 * or false when nothing here knows it. Labels come in more spellings than
 * glibc's iconv accepts: Python's codec names ("windows_1251", "latin_1",
 * "cp_is"), IANA's "cs" aliases ("csIBM861", "csISOLatin2"), "x-" names
 * ("x-mac-cyrillic", "x-cp1251") and year suffixes ("ISO_8859-2:1987").
 * So the label is put in one form (lower case, '-' for '_' and ' ', no
 * ":year"), then tried as it is, with "x-" or "cs" taken off, and as
 * "cp" + a bare number or without a "-1987" year, each against
 * charset_alias and then iconv itself, which has the last word, as libxml2
 * converts through it (before ICU, which it asks only for a name iconv
 * does not know).
 */
static bool
px_charset_name(const char *label, char *use, size_t size)
{
	char		 n[64] = "", cp[64], year[64], *colon;
	const char	*v[4], *p;
	size_t		 i, k, len, nv = 0;

	for (i = 0; label[i] != '\0' && i + 1 < sizeof(n); i++)
		n[i] = label[i] == '_' || label[i] == ' ' ? '-' :
		    (char)tolower((unsigned char)label[i]);
	n[i] = '\0';
	colon = strchr(n, ':');
	if (colon != NULL)
		*colon = '\0';
	v[nv++] = n;
	for (p = n; strncmp(p, "x-", 2) == 0; p += 2)
		;
	if (p == n && strncmp(n, "cs", 2) == 0 && n[2] != '\0')
		p = n + 2;
	if (p != n)
		v[nv++] = p;
	len = strlen(p);
	/* Python's "1251" is cp1251; "iso_8859_2_1987" is ISO-8859-2. */
	if (len > 0 && strspn(p, "0123456789") == len) {
		snprintf(cp, sizeof(cp), "cp%.61s", p);
		v[nv++] = cp;
	} else if (len > 5 && p[len - 5] == '-' && (strncmp(p + len - 4,
	    "19", 2) == 0 || strncmp(p + len - 4, "20", 2) == 0) &&
	    strspn(p + len - 4, "0123456789") == 4) {
		snprintf(year, sizeof(year), "%.*s", (int)(len - 5), p);
		v[nv++] = year;
	}
	for (k = 0; k < nv; k++)
		for (i = 0; i < sizeof(charset_alias) / sizeof(charset_alias[0]); i++)
			if (strcmp(v[k], charset_alias[i].label) == 0) {
				snprintf(use, size, "%s", charset_alias[i].use);
				return true;
			}
	for (k = 0; k < nv; k++)
		if (px_iconv_knows(v[k])) {
			snprintf(use, size, "%s", v[k]);
			return true;
		}
	return false;
}

/* Copies the charset parameter of a Content-Type into out. */
static bool
px_ct_charset(const char *ct, char *out, size_t size)
{
	const char	*p;
	size_t		 n = 0;

	if (ct == NULL)
		return false;
	for (p = ct; (p = strchr(p, ';')) != NULL; ) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "charset", 7) != 0)
			continue;
		p += 7;
		while (*p == ' ')
			p++;
		if (*p != '=')
			continue;
		p++;
		while (*p == ' ' || *p == '"' || *p == '\'')
			p++;
		while (*p != '\0' && *p != ';' && *p != '"' && *p != '\'' &&
		    *p != ' ' && n + 1 < size)
			out[n++] = *p++;
		out[n] = '\0';
		return n > 0;
	}
	return false;
}

/* Copies encoding="..." of the XML declaration (ASCII-compatible input). */
static bool
px_decl_encoding(const char *buf, size_t len, char *out, size_t size)
{
	const char	*end, *p, *q;
	size_t		 n;

	if (len > 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	if (len < 6 || memcmp(buf, "<?xml", 5) != 0)
		return false;
	end = memchr(buf, '>', len < 512 ? len : 512);
	if (end == NULL)
		return false;
	for (p = buf; p + 8 < end; p++) {
		if (memcmp(p, "encoding", 8) != 0)
			continue;
		p += 8;
		while (p < end && (*p == ' ' || *p == '='))
			p++;
		if (p >= end || (*p != '"' && *p != '\''))
			return false;
		q = memchr(p + 1, *p, (size_t)(end - p - 1));
		if (q == NULL)
			return false;
		n = (size_t)(q - p - 1);
		if (n == 0 || n >= size)
			return false;
		memcpy(out, p + 1, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

/* How the bytes go to libxml2. */
enum px_mode {
	PXM_RAW,	/* as they are (UTF-16: libxml2 decodes) */
	PXM_UTF8,	/* UTF-8: repaired and pre-scanned */
	PXM_LEGACY,	/* a legacy ASCII-compatible charset: pre-scanned */
	PXM_WAIT,	/* labelled windows-1252: decided at the end */
};

/* Bytes repaired and handed on per round, unless the parse limits' tuning
 * says otherwise (a longer round only when one construct fills a whole
 * round). */
#define PX_ROUND ((size_t)32 * 1024)
/* Pieces shorter than this are gathered before a round runs over them
 * (libxml2's push parser pays per call). */
#define PX_MIN_ROUND ((size_t)4096)
/* libxml2 is handed at most this much at a time: it copies what it gets
 * into a buffer of its own, which would otherwise grow to a round's size. */
#define PX_FEED_MAX ((size_t)8 * 1024)

struct px_stream {
	struct px		 x;
	xmlSAXHandler		 sax;
	struct px_scan		 scan;
	enum px_mode		 mode;
	const char		*force;		/* encoding to force, or NULL */
	char			 label[64];	/* PXM_WAIT: the label */
	bool			 started;	/* libxml2 has a context */
	size_t			 round_size;	/* a round's bytes, as a rule */
	size_t			 warn_at;	/* where the repair warnings go */
	size_t			 round;
	size_t			 fed;		/* bytes handed to libxml2 */
	/* Input not yet scanned. */
	char			*in;
	size_t			 in_len, in_cap;
	size_t			 skip;		/* bytes still to drop (a BOM) */
};

/* Decides how the document is read, from its first bytes (at least 520 of
 * them, or all) and the Content-Type, as RFC 7303 orders it: a BOM, then
 * the charset of the Content-Type, then the XML declaration, then UTF-8.
 * Returns 0. UTF-8, UTF-16 and the windows-1252 family, nearly every feed,
 * convert without iconv. */
static int
px_plan(struct px_stream *s, const char *head, size_t len,
    const char *content_type, struct fw_error *reterr)
{
	const unsigned char	*u = (const unsigned char *)head;
	char			 cs[64], decl[64], name[64];
	const char		*label = NULL, *use = NULL;
	bool			 from_header = false;

	s->mode = PXM_RAW;
	s->force = NULL;
	/* RFC 7303 3.3: a BOM takes precedence over everything. */
	if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) ||
	    (u[0] == 0xFE && u[1] == 0xFF)))
		return 0;
	/* UTF-16 without a BOM ("<\0?\0"): libxml2 detects it. */
	if (len >= 4 && ((u[0] == '<' && u[1] == 0) || (u[0] == 0 && u[1] == '<')))
		return 0;
	if (!(len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)) {
		if (px_ct_charset(content_type, cs, sizeof(cs))) {
			label = cs;
			from_header = true;
		} else if (px_decl_encoding(head, len, decl, sizeof(decl))) {
			label = decl;
		}
	}
	if (label != NULL && !is_utf8_label(label)) {
		if (is_utf16_label(label))
			return 0;		/* libxml2 sorts out UTF-16 itself */
		use = px_charset_name(label, name, sizeof(name)) ? name : label;
		/* Not UTF-16 (no BOM, no "<\0"): an 8-bit document whose
		 * label ("utf_16") libxml2 would not even know. */
		if (is_utf16_label(use))
			use = NULL;
	}
	if (use != NULL && !is_utf8_label(use)) {
		if (strcmp(use, "WINDOWS-1252") == 0) {
			/* A legacy label on what is really UTF-8 is common:
			 * only the whole document can tell (px_wait_decide). */
			snprintf(s->label, sizeof(s->label), "%s", label);
			s->mode = PXM_WAIT;
			return 0;
		}
		xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(use);

		(void)reterr;
		if (h != NULL) {
			xmlCharEncCloseFunc(h);
			/* use may point into this frame's buffers. */
			snprintf(s->x.force_enc, sizeof(s->x.force_enc), "%s", use);
			s->force = s->x.force_enc;
			/* Legacy charsets are ASCII-compatible: '<' and '&'
			 * never occur inside a multibyte character. */
			s->mode = PXM_LEGACY;
			return 0;
		}
		px_warn(&s->x, "unknown encoding \"%.32s\"%s; read as UTF-8",
		    label, from_header ? " in Content-Type" : "");
	}
	/* UTF-8, by label or by default: forced, so that no label in the
	 * document can change it. libxml2 does not skip a UTF-8 BOM once
	 * the encoding is forced, so it is dropped here. */
	s->mode = PXM_UTF8;
	s->force = "UTF-8";
	s->scan.utf8 = true;
	if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		s->skip = 3;
	return 0;
}

/* PXM_WAIT, with the whole document in s->in: a document labelled
 * windows-1252 (or ISO-8859-1, US-ASCII) that is valid UTF-8 and not plain
 * ASCII is UTF-8; anything else is windows-1252. */
static void
px_wait_decide(struct px_stream *s)
{
	const unsigned char	*u = (const unsigned char *)s->in;
	size_t			 i;

	if (text_utf8_is_valid(s->in, s->in_len)) {
		for (i = 0; i < s->in_len && u[i] < 0x80; i++)
			;
		if (i < s->in_len) {
			px_warn(&s->x, "document labelled %s is UTF-8; read as UTF-8",
			    s->label);
			s->mode = PXM_RAW;
			s->force = "UTF-8";
			return;
		}
	}
	snprintf(s->x.force_enc, sizeof(s->x.force_enc), "WINDOWS-1252");
	s->force = s->x.force_enc;
	s->mode = PXM_LEGACY;
}

/* Creates libxml2's push parser; first is the start of the document
 * (libxml2 detects a BOM or UTF-16 from its first four bytes unless the
 * encoding is forced). Returns how many bytes of first it took. */
static int
px_stream_start(struct px_stream *s, const char *first, size_t len,
    size_t *ret_took)
{
	struct px			*x = &s->x;
	xmlCharEncodingHandlerPtr	 h;
	size_t				 n;
	int				 opts;

	n = s->force == NULL ? (len < 4 ? len : 4) : 0;
	/* Process-wide set-up once (libxml2 wants xmlInitParser() before
	 * threads use it); the error hook is per thread. */
	(void)pthread_once(&px_once, px_global_init);
	if (xmlGetExternalEntityLoader() != px_refuse_loader)
		xmlSetExternalEntityLoader(px_refuse_loader);
	xmlSetGenericErrorFunc(NULL, px_generic_error);
	memset(&s->sax, 0, sizeof(s->sax));
	s->sax.initialized = XML_SAX2_MAGIC;
	s->sax.startElementNs = px_start;
	s->sax.endElementNs = px_end;
	s->sax.characters = px_chars;
	s->sax.cdataBlock = px_chars;
	s->sax.getEntity = px_get_entity;
	s->sax.entityDecl = px_entity_decl;
	s->sax.serror = px_serror;
	x->ctxt = xmlCreatePushParserCtxt(&s->sax, x, n > 0 ? first : NULL,
	    (int)n, NULL);
	if (x->ctxt == NULL)
		return -ENOMEM;
	/* XML_PARSE_NONET: libxml2's HTTP and FTP clients are linked in but
	 * never reached. They run only when libxml2 is asked to open a URL:
	 * this parser is handed bytes, never a URL, loads no DTD
	 * (XML_PARSE_DTDLOAD is off) and no external entity (the loader
	 * refuses all), and NONET stops any of those that slipped through. */
	opts = XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING;
	if (s->force != NULL)
		opts |= XML_PARSE_IGNORE_ENC;
	(void)xmlCtxtUseOptions(x->ctxt, opts);
	x->ctxt->replaceEntities = 0;
	x->ctxt->loadsubset = 0;
	x->ctxt->validate = 0;
	if (s->force != NULL && strcmp(s->force, "UTF-8") == 0) {
		/* libxml2 reads UTF-8 natively. A UTF-8 "handler" would
		 * only copy every byte once more (into a raw buffer, then
		 * into the parser's). */
		(void)xmlSwitchEncoding(x->ctxt, XML_CHAR_ENCODING_UTF8);
	} else if (s->force != NULL) {
		h = xmlFindCharEncodingHandler(s->force);
		if (h != NULL)
			(void)xmlSwitchToEncoding(x->ctxt, h);
	}
	s->started = true;
	s->warn_at = x->pc->doc->n_warnings;
	s->fed = n;
	*ret_took = n;
	return 0;
}

/* Hands repaired bytes to libxml2, a piece at a time. */
static void
px_stream_feed(struct px_stream *s, const char *p, size_t n)
{
	struct px	*x = &s->x;

	s->fed += n;
	while (n > 0 && !x->stopped) {
		size_t k = n < PX_FEED_MAX ? n : PX_FEED_MAX;

		(void)xmlParseChunk(x->ctxt, p, (int)k, 0);
		p += k;
		n -= k;
	}
}

/* One round over p[0..len): repairs (unless raw) and feeds what it
 * decided. Sets *ret_used to the bytes consumed (0 when one construct
 * fills the round: the next round is longer). Returns 0 or -ENOMEM. */
static int
px_stream_round(struct px_stream *s, const char *p, size_t len, bool eof,
    size_t *ret_used)
{
	size_t	used;
	int	r;

	if (s->mode == PXM_RAW) {
		used = len;
		px_stream_feed(s, p, len);
	} else {
		r = px_scan_round(&s->scan, p, len, eof, &used);
		if (r < 0)
			return r;
		/* scan.out is NULL when the round only dropped bytes. */
		if (!s->scan.changed)
			px_stream_feed(s, p, used);
		else if (s->scan.out_len > 0)
			px_stream_feed(s, s->scan.out, s->scan.out_len);
	}
	s->round = used > 0 ? s->round_size : s->round * 2;
	*ret_used = used;
	return 0;
}

static int
px_in_append(struct px_stream *s, const char *p, size_t n)
{
	return bytes_append(&s->in, &s->in_len, &s->in_cap, 8192, p, n);
}

/* Takes more of the document. Rounds run straight from the caller's
 * buffer: only what a round could not decide yet (a construct cut by the
 * end of a piece) and pieces too small to be worth a round wait in s->in,
 * so the document is not copied once more on its way to libxml2. A round
 * never needs the document to end after it (the scanner cuts before what
 * it cannot decide), so rounds may be shorter than s->round. */
static int
px_stream_push(struct px_stream *s, const char *p, size_t n)
{
	size_t	used, take, old, min;
	int	r;

	if (s->skip > 0) {
		take = n < s->skip ? n : s->skip;
		s->skip -= take;
		p += take;
		n -= take;
	}
	if (s->mode == PXM_WAIT)
		return px_in_append(s, p, n);
	while (n > 0) {
		min = s->round < PX_MIN_ROUND ? s->round : PX_MIN_ROUND;
		if (s->in_len == 0) {
			if (n < min)
				break;
			take = n < s->round ? n : s->round;
			r = px_stream_round(s, p, take, false, &used);
			if (r < 0)
				return r;
			p += used;
			n -= used;
			if (used == 0 && take == n)
				break;	/* undecided up to the end: it waits */
			continue;
		}
		/* A round over what waits and the start of p. */
		old = s->in_len;
		take = old < min ? min : old;
		if (take > n)
			take = n;
		r = px_in_append(s, p, take);
		if (r < 0)
			return r;
		if (s->in_len < min && take == n)
			return 0;
		r = px_stream_round(s, s->in, s->in_len, false, &used);
		if (r < 0)
			return r;
		if (used >= old) {
			/* The rest of s->in is a copy of p's start. */
			p += used - old;
			n -= used - old;
			s->in_len = 0;
		} else {
			memmove(s->in, s->in + used, s->in_len - used);
			s->in_len -= used;
			p += take;
			n -= take;
		}
	}
	return px_in_append(s, p, n);
}

/* The end of the input: the rest, as the last rounds. */
static int
px_stream_drain(struct px_stream *s)
{
	size_t	off = 0, used, took = 0;
	int	r;

	if (s->mode == PXM_WAIT) {
		px_wait_decide(s);
		r = px_stream_start(s, s->in, s->in_len, &took);
		if (r < 0)
			return r;
		off = took;
	}
	while (off < s->in_len) {
		bool last = s->in_len - off <= s->round;

		r = px_stream_round(s, s->in + off,
		    last ? s->in_len - off : s->round, last, &used);
		if (r < 0)
			return r;
		off += used;
	}
	s->in_len = 0;
	return 0;
}

/* Puts a warning at position at among the document's warnings, as if it
 * had been added then: the bound on their number still keeps the first
 * ones. */
static int
px_warn_insert(struct parse_ctx *pc, size_t at, const char *msg)
{
	struct feed_doc	 *doc = pc->doc;
	char		**w, *s;

	if (at >= PARSE_MAX_WARNINGS) {
		pc->warnings_dropped++;
		return 0;
	}
	s = strdup(msg);
	if (s == NULL)
		return -ENOMEM;
	if (doc->n_warnings >= PARSE_MAX_WARNINGS) {
		free(doc->warnings[--doc->n_warnings]);
		pc->warnings_dropped++;
	}
	w = realloc(doc->warnings, (doc->n_warnings + 1) * sizeof(*w));
	if (w == NULL) {
		free(s);
		return -ENOMEM;
	}
	doc->warnings = w;
	memmove(w + at + 1, w + at, (doc->n_warnings - at) * sizeof(*w));
	w[at] = s;
	doc->n_warnings++;
	return 0;
}

static void
px_stream_done(struct px_stream *s)
{
	struct px	*x = &s->x;
	size_t		 i;

	while (x->ents != NULL) {
		struct px_ent *n = x->ents->next;

		free((char *)x->ents->e.name);
		free(x->ents->e.content);
		/* xmlParseEntityDecl hands the raw value to the entity that
		 * getEntity returns. */
		if (x->ents->e.orig != NULL)
			xmlFree(x->ents->e.orig);
		free(x->ents);
		x->ents = n;
	}
	if (x->in_item)
		feed_item_done(&x->item);
	if (x->stack != NULL)
		for (i = 0; i <= x->max_depth && i <= x->depth; i++)
			if (x->stack[i].base_owned)
				free((char *)x->stack[i].base);
	free(x->stack);
	free(x->feed_author);
	free(x->atom_uri);
	buf_done(&x->text);
	if (x->ctxt != NULL) {
		if (x->ctxt->myDoc != NULL)
			xmlFreeDoc(x->ctxt->myDoc);
		xmlFreeParserCtxt(x->ctxt);
	}
	free(s->scan.out);
	free(s->in);
	free(s);
}

void
px_stream_free(struct px_stream *s)
{
	if (s != NULL)
		px_stream_done(s);
}

int
px_stream_new(struct parse_ctx *pc, const char *head, size_t len,
    const char *content_type, struct px_stream **ret,
    struct fw_error *reterr)
{
	struct px_stream	*s;
	struct px		*x;
	size_t			 took = 0;
	int			 r;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto oom;
	x = &s->x;
	x->pc = pc;
	x->native = NS_RSS;
	x->max_depth = pc->lim.max_depth;
	buf_init(&x->text, pc->lim.max_field_bytes);
	s->round_size = pc->lim.tuning.round_bytes > 0 ?
	    pc->lim.tuning.round_bytes : PX_ROUND;
	s->round = s->round_size;
	x->stack = calloc(x->max_depth + 1, sizeof(*x->stack));
	if (x->stack == NULL)
		goto oom;
	x->stack[0].base = pc->base_url;
	x->stack[0].where = AT_IGNORE;
	r = px_plan(s, head, len, content_type, reterr);
	if (r < 0) {
		px_stream_free(s);
		return r;
	}
	if (s->mode != PXM_WAIT) {
		r = px_stream_start(s, head + s->skip, len - s->skip, &took);
		if (r < 0)
			goto oom;
		took += s->skip;
		s->skip = 0;
	}
	r = px_stream_push(s, head + took, len - took);
	if (r < 0) {
		px_stream_free(s);
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
		return r;
	}
	*ret = s;
	return 0;
oom:
	px_stream_free(s);
	fw_error_set(reterr, NULL, 0, 0, "out of memory");
	return -ENOMEM;
}

int
px_stream_write(struct px_stream *s, const char *buf, size_t len,
    struct fw_error *reterr)
{
	int	r;

	r = px_stream_push(s, buf, len);
	if (r < 0)
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
	return r;
}

int
px_stream_finish(struct px_stream *s, struct fw_error *reterr)
{
	struct px		*x = &s->x;
	struct parse_ctx	*pc = x->pc;
	size_t			 i, at;
	char			 msg[128];
	int			 r;

	r = px_stream_drain(s);
	if (r < 0) {
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
		return r;
	}
	if (!x->stopped)
		(void)xmlParseChunk(x->ctxt, NULL, 0, 1);

	/* The repairs are reported before what parsing found, as they were
	 * made before it. */
	at = s->warn_at;
	if (s->scan.bad) {
		if (px_warn_insert(pc, at++, "bytes that are not UTF-8 decoded "
		    "as windows-1252") < 0)
			x->oom = 1;
	}
	if (s->scan.fixes > 0) {
		snprintf(msg, sizeof(msg), "%zu bare '<', '&' or control "
		    "character%s escaped before parsing", s->scan.fixes,
		    s->scan.fixes == 1 ? "" : "s");
		if (px_warn_insert(pc, at++, msg) < 0)
			x->oom = 1;
	}
	if (s->scan.refs > 0) {
		snprintf(msg, sizeof(msg), "%zu character reference%s that XML "
		    "does not allow repaired before parsing", s->scan.refs,
		    s->scan.refs == 1 ? "" : "s");
		if (px_warn_insert(pc, at, msg) < 0)
			x->oom = 1;
	}
	if (x->oom) {
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if (x->fatal < 0) {
		fw_error_set(reterr, NULL, 0, 0, "%s", x->fatal_msg);
		return x->fatal;
	}
	if (!x->root_seen) {
		const xmlError *e = xmlCtxtGetLastError(x->ctxt);
		char emsg[200] = "";

		if (e != NULL && e->message != NULL) {
			snprintf(emsg, sizeof(emsg), "%s", e->message);
			for (i = strlen(emsg); i > 0 && emsg[i - 1] == '\n'; i--)
				emsg[i - 1] = '\0';
		}
		fw_error_set(reterr, NULL, 0, 0, "not a feed: %s%s",
		    emsg[0] != '\0' ? "unreadable XML: " : "no root element",
		    emsg);
		return -EBADMSG;
	}
	/* A document cut short: keep the item that was being read. */
	if (x->in_item) {
		if (x->cap)
			px_capture_end(x);
		px_warn(x, "document ends inside item %zu; kept what was read",
		    x->item_no);
		px_item_end(x);
		if (x->oom) {
			fw_error_set(reterr, NULL, 0, 0, "out of memory");
			return -ENOMEM;
		}
	}
	if (x->xml_errors > 3)
		px_warn(x, "%u more XML errors", x->xml_errors - 3);
	if (pc->doc->ttl_seconds == 0 && x->sy_period > 0)
		pc->doc->ttl_seconds = x->sy_period / (x->sy_freq > 0 ? x->sy_freq : 1);
	return 0;
}

int
parse_xml_run(struct parse_ctx *pc, const char *buf, size_t len,
    const char *content_type, struct fw_error *reterr)
{
	struct px_stream	*s = NULL;
	int			 r;

	if (len > INT32_MAX) {
		fw_error_set(reterr, NULL, 0, 0, "document too large");
		return -E2BIG;
	}
	r = px_stream_new(pc, buf, len, content_type, &s, reterr);
	if (r < 0)
		return r;
	r = px_stream_finish(s, reterr);
	px_stream_free(s);
	return r;
}
