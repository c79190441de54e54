/* parse_xml_sax.c — the XML side of the parse stage: one streaming SAX2 pass
 * over an RSS or Atom document. No tree is built. The parser keeps a stack
 * of small frames (what the children of each open element are, and the
 * xml:base in effect), captures the text of the elements the field tables of
 * parse_rss.c and parse_atom.c name, and hands each item to the builder in
 * parse.c as soon as its end tag is read.
 *
 * The events come from libxml2 (parse_xml.c) as SAX2 callbacks; ctx is
 * the struct px. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/base64.h>

#include "date.h"
#include "parse_xml.h"
#include "url.h"

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
	{ "http://backend.userland.com/rss", NS_RSS },
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

void
px_oom(struct px *x)
{
	x->oom = 1;
	x->stopped = true;
	xmlStopParser(x->ctxt);
}

void
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

/* Of equal ones the first date published is kept, and the last date
 * updated: an item updated several times says so in order. */
static void
px_offer_time(struct px *x, enum px_field f, uint8_t prio, int64_t t)
{
	uint8_t	 have = x->in_item ? x->item_prio[f] : 0;

	if (!x->in_item || (have != 0 && (have < prio ||
	    (have == prio && f == PF_PUBLISHED))))
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
void
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

void
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
	if (v == NULL || len == 0) {
		/* type="" says nothing: the default, text. */
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

void
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

void
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

void
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

void
px_serror(void *ctx, FW_XML_ERROR_CONST xmlError *err)
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

void
px_generic_error(void *ctx, const char *msg, ...)
{
	/* libxml2 must never print: the parser does not log. */
}
