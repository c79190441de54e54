/* text.c — the text normalizer of the parse stage. It turns what a feed put
 * in a field (HTML, entity-escaped HTML, double-escaped entities, XHTML
 * already flattened by the XML parser, or plain text) into one line of plain
 * UTF-8. Markup is stripped with libxml2's HTML parser driven through SAX, so
 * no tree is built; entities alone are decoded without it. It knows nothing
 * of feeds: which kind a field is, is the caller's business. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "buf.h"
#include "text.h"
#include "xml_compat.h"

struct text_ctx {
	htmlParserCtxtPtr	 html;
	bool			 html_by_libxml2; /* no one-pass stripper */
	struct buf		 scratch;
	struct buf		 wrap;		/* the input inside a <div> */
	int			 skip;		/* inside <script> or <style> */
	int			 failed;	/* scratch overflowed */
};

/* The HTML parser's callbacks find their context here rather than through
 * ctxt->userData, which a context reset may rewrite. */
static __thread struct text_ctx *text_cur;

/* windows-1252 bytes 0x80..0x9F; 0 marks the five unassigned ones, which
 * map to the C1 control of the same value as ISO-8859-1 does. */
static const uint16_t cp1252_c1[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

size_t
text_utf8_put(char *p, uint32_t cp)
{
	unsigned char *u = (unsigned char *)p;

	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0)
		cp = 0xFFFD;
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	u[0] = (unsigned char)(0xF0 | (cp >> 18));
	u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	u[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t
text_utf8_valid_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0) {
		if (len < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		return 2;
	}
	if (c < 0xF0) {
		if (len < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0;	/* overlong */
		if (c == 0xED && s[1] >= 0xA0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c < 0xF5) {
		if (len < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0;
		if (c == 0xF4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

#define U8_ONES		0x0101010101010101ULL
#define U8_HIGHS	0x8080808080808080ULL

/* Whether one of the eight bytes of v is zero (exact as a yes or no). */
static inline bool
u8_has_zero(uint64_t v)
{
	return ((v - U8_ONES) & ~v & U8_HIGHS) != 0;
}

/*
 * Eight bytes at a time, with the masks of each byte's top bits: every
 * lead byte of two or three bytes (C2-DF, E1-EF) must be followed by as
 * many continuation bytes (80-BF) and no continuation byte may stand
 * elsewhere; ED may not start a surrogate (a second byte from A0). The
 * rare rest (E0 and its overlongs, C0, C1, the four-byte leads and what
 * is past them) is left to text_utf8_valid_seq() a character at a time.
 * In the Korean and Japanese text of news feeds (three-byte characters
 * with a space every few) this is several times faster than a character
 * at a time, whose branches the spaces keep mispredicting.
 */
size_t
text_utf8_valid_prefix(const unsigned char *s, size_t len)
{
	const uint64_t	lo = 0x7F7F7F7F7F7F7F7FULL;
	size_t		i = 0, stop, n;

	while (i < len) {
		/* need: the continuation bytes the word before promised
		 * (0x80 in each); ed_next: that it ended in ED. */
		uint64_t need = 0, ed_next = 0;

		while (i + 8 <= len) {
			uint64_t w, hi, b6, b5, cont, l2, l3, l4, x, ed;

			memcpy(&w, s + i, 8);
			hi = w & U8_HIGHS;
			if ((hi | need) == 0) {
				i += 8;
				continue;
			}
			b6 = (w << 1) & U8_HIGHS;
			b5 = (w << 2) & U8_HIGHS;
			cont = hi & ~b6;
			l2 = hi & b6;
			l3 = l2 & b5;
			l4 = l3 & (w << 3);
			if (l4 != 0 || (need | (l2 << 8) | (l3 << 16)) != cont ||
			    u8_has_zero((w & (U8_ONES * 0xFE)) ^ (U8_ONES * 0xC0)) ||
			    u8_has_zero(w ^ (U8_ONES * 0xE0)))
				break;
			x = w ^ (U8_ONES * 0xED);
			ed = ~(((x & lo) + lo) | x | lo);
			if ((((ed << 8) | ed_next) & b5) != 0)
				break;
			ed_next = ed >> 56;
			need = (l2 >> 56) | (l3 >> 48);
			i += 8;
		}
		if (need != 0) {
			/* Back to the start of the character the last word
			 * left open. */
			while ((s[i - 1] & 0xC0) == 0x80)
				i--;
			i--;
		}
		/* A character at a time past the word that stopped the
		 * fast loop (or to the end). */
		stop = len - i > 8 ? i + 8 : len;
		while (i < stop) {
			n = text_utf8_valid_seq(s + i, len - i);
			if (n == 0)
				return i;
			i += n;
		}
	}
	return i;
}

int
text_utf8_is_valid(const char *s, size_t len)
{
	return text_utf8_valid_prefix((const unsigned char *)s, len) == len;
}

size_t
text_utf8_repair_byte(char *p, unsigned char c)
{
	if (c >= 0x80 && c < 0xA0 && cp1252_c1[c - 0x80] != 0)
		return text_utf8_put(p, cp1252_c1[c - 0x80]);
	return text_utf8_put(p, c);
}

int
text_utf8_repair(const char *s, size_t len, char **ret, size_t *ret_len)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*out, *p;
	size_t			 i = 0, n;

	/* Each invalid byte becomes at most three bytes. */
	out = malloc(len * 3 + 1);
	if (out == NULL)
		return -ENOMEM;
	p = out;
	while (i < len) {
		if (u[i] < 0x80) {
			*p++ = (char)u[i++];
			continue;
		}
		n = text_utf8_valid_seq(u + i, len - i);
		if (n > 0) {
			memcpy(p, u + i, n);
			p += n;
			i += n;
			continue;
		}
		p += text_utf8_repair_byte(p, u[i]);
		i++;
	}
	*p = '\0';
	*ret_len = (size_t)(p - out);
	*ret = out;
	return 0;
}

/* Reads s, one to six digits (hex: hexadecimal, else decimal) and
 * nothing else, into *ret; false for anything else. */
static bool
entity_digits(const char *s, bool hex, unsigned long *ret)
{
	unsigned long	v = 0;
	size_t		i;
	int		d;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == 6)
			return false;
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (hex && (s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')
			d = (s[i] | 0x20) - 'a' + 10;
		else
			return false;
		v = v * (hex ? 16 : 10) + (unsigned long)d;
	}
	if (i == 0)
		return false;
	*ret = v;
	return true;
}

int32_t
text_entity_lookup(const char *name, size_t len)
{
	const htmlEntityDesc	*d;
	char			 tmp[40];
	unsigned long		 v;
	char			*end;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	if (tmp[0] == '#') {
		bool	hex = tmp[1] == 'x' || tmp[1] == 'X';

		/* Digits alone, as feeds write them ("&#8220;"), are read
		 * here: strtoul() cost more than the rest of a reference. Its
		 * cases (a sign, a "0x", an overflow) stay with it. */
		if (!entity_digits(tmp + (hex ? 2 : 1), hex, &v)) {
			if (hex)
				v = strtoul(tmp + 2, &end, 16);
			else
				v = strtoul(tmp + 1, &end, 10);
			if (*end != '\0' ||
			    end == tmp + ((tmp[1] | 0x20) == 'x' ? 2 : 1))
				return -1;
		}
		/* HTML5: numeric references to C1 controls mean windows-1252. */
		if (v >= 0x80 && v < 0xA0 && cp1252_c1[v - 0x80] != 0)
			return cp1252_c1[v - 0x80];
		if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			return 0xFFFD;
		return (int32_t)v;
	}
	/* The five XML ones first: they are most of what feeds use. */
	switch (tmp[0]) {
	case 'a':
		if (strcmp(tmp, "amp") == 0)
			return '&';
		if (strcmp(tmp, "apos") == 0)
			return '\'';
		break;
	case 'l':
		if (strcmp(tmp, "lt") == 0)
			return '<';
		break;
	case 'g':
		if (strcmp(tmp, "gt") == 0)
			return '>';
		break;
	case 'q':
		if (strcmp(tmp, "quot") == 0)
			return '"';
		break;
	case 'n':
		if (strcmp(tmp, "nbsp") == 0)
			return 0xA0;
		break;
	}
	FW_XML_ALLOW_DEPRECATED_BEGIN
	d = htmlEntityLookup((const xmlChar *)tmp);
	FW_XML_ALLOW_DEPRECATED_END
	if (d == NULL)
		return -1;
	return (int32_t)d->value;
}

/* Decodes entity references in s[0..len) into b; '&' that starts no known
 * reference stays as it is. */
static int
text_decode_entities(struct buf *b, const char *s, size_t len)
{
	const char	*p = s, *end = s + len, *amp, *semi;
	char		 u[4];
	int32_t		 cp;
	int		 r;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			break;
		r = buf_append(b, p, (size_t)(amp - p));
		if (r < 0)
			return r;
		semi = amp + 1;
		while (semi < end && semi - amp <= 33 &&
		    (((*semi | 0x20) >= 'a' && (*semi | 0x20) <= 'z') ||
		    (*semi >= '0' && *semi <= '9') || *semi == '#'))
			semi++;
		cp = -1;
		if (semi < end && *semi == ';')
			cp = text_entity_lookup(amp + 1, (size_t)(semi - amp - 1));
		if (cp < 0) {
			r = buf_append(b, "&", 1);
			p = amp + 1;
		} else {
			r = buf_append(b, u, text_utf8_put(u, (uint32_t)cp));
			p = semi + 1;
		}
		if (r < 0)
			return r;
	}
	return buf_append(b, p, (size_t)(end - p));
}

/* NOTE: must stay in strcmp order (bsearch). */
static const char *const block_elements[] = {
	"address", "article", "aside", "blockquote", "br", "caption", "dd",
	"details", "div", "dl", "dt", "fieldset", "figcaption", "figure",
	"footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
	"li", "main", "nav", "ol", "option", "p", "pre", "section", "summary",
	"table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
is_block(const char *name)
{
	/* The common inline ones first, without a search. */
	switch (name[0]) {
	case 'a':
		if (name[1] == '\0')
			return 0;
		break;
	case 'b':
		if (name[1] == '\0')
			return 0;
		if (name[1] == 'r' && name[2] == '\0')
			return 1;
		break;
	case 'p':
		if (name[1] == '\0')
			return 1;
		break;
	case 'i':
	case 'u':
		if (name[1] == '\0')
			return 0;
		break;
	case 's':
		if (strcmp(name, "span") == 0 || strcmp(name, "strong") == 0)
			return 0;
		break;
	case 'e':
		if (name[1] == 'm' && name[2] == '\0')
			return 0;
		break;
	default:
		break;
	}
	return bsearch(&name, block_elements,
	    sizeof(block_elements) / sizeof(block_elements[0]),
	    sizeof(block_elements[0]), cmp_str) != NULL;
}

static int
is_skipped(const char *name)
{
	if (name[0] != 's' && name[0] != 't')
		return 0;
	return strcmp(name, "script") == 0 || strcmp(name, "style") == 0 ||
	    strcmp(name, "template") == 0;
}

static void
html_append(const char *s, size_t len)
{
	if (text_cur->failed)
		return;
	if (buf_append(&text_cur->scratch, s, len) < 0)
		text_cur->failed = 1;
}

static void
html_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	if (is_skipped((const char *)name))
		text_cur->skip++;
	else if (is_block((const char *)name))
		html_append(" ", 1);
}

static void
html_end(void *ctx, const xmlChar *name)
{
	if (is_skipped((const char *)name)) {
		if (text_cur->skip > 0)
			text_cur->skip--;
	} else if (is_block((const char *)name)) {
		html_append(" ", 1);
	}
}

static void
html_chars(void *ctx, const xmlChar *ch, int len)
{
	if (text_cur->skip == 0)
		html_append((const char *)ch, (size_t)len);
}

static void
html_serror(void *ctx, FW_XML_ERROR_CONST xmlError *err)
{
	/* Markup errors in a description are the norm; the text is kept. */
}

struct text_ctx *
text_ctx_new(void)
{
	struct text_ctx	*tc;

	tc = calloc(1, sizeof(*tc));
	if (tc == NULL)
		return NULL;
	buf_init(&tc->scratch, (size_t)1 << 30);
	buf_init(&tc->wrap, (size_t)1 << 30);
	return tc;
}

struct text_ctx *
text_ctx_free(struct text_ctx *tc)
{
	if (tc == NULL)
		return NULL;
	if (tc->html != NULL)
		htmlFreeParserCtxt(tc->html);
	buf_done(&tc->scratch);
	buf_done(&tc->wrap);
	free(tc);
	return NULL;
}

/* Runs libxml2's HTML parser over s[0..len) and keeps the text in
 * tc->scratch. */
static int
text_strip_html(struct text_ctx *tc, const char *s, size_t len)
{
	htmlDocPtr	 doc;
	int		 opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
			    HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
			    HTML_PARSE_NOIMPLIED | HTML_PARSE_NOBLANKS;

	if (len > INT32_MAX - 16)
		return -E2BIG;
	if (tc->html == NULL) {
		tc->html = htmlNewParserCtxt();
		if (tc->html == NULL)
			return -ENOMEM;
	}
	/* Install the text-only handlers on the context's own SAX block. */
	memset(tc->html->sax, 0, sizeof(*tc->html->sax));
	tc->html->sax->initialized = XML_SAX2_MAGIC;
	tc->html->sax->startElement = html_start;
	tc->html->sax->endElement = html_end;
	tc->html->sax->characters = html_chars;
	tc->html->sax->cdataBlock = html_chars;
	tc->html->sax->ignorableWhitespace = html_chars;
	tc->html->sax->serror = html_serror;
	tc->skip = 0;
	tc->failed = 0;
	/* Text at the top level makes libxml2 open an implied <p> (a word
	 * break where there is none: "<b>x</b>y"); inside a <div> it does
	 * not. */
	buf_reset(&tc->wrap);
	if (buf_append(&tc->wrap, "<div>", 5) < 0 ||
	    buf_append(&tc->wrap, s, len) < 0 ||
	    buf_append(&tc->wrap, "</div>", 6) < 0)
		return -ENOMEM;
	text_cur = tc;
	doc = htmlCtxtReadMemory(tc->html, tc->wrap.data, (int)tc->wrap.len,
	    NULL, "UTF-8", opts);
	text_cur = NULL;
	if (doc != NULL)
		xmlFreeDoc(doc);
	return tc->failed ? -ENOMEM : 0;
}

/* Byte classes for the collapse loop. */
enum { C_COPY, C_SPACE, C_DROP, C_HIGH };

static const uint8_t byte_class[256] = {
	/* C0 controls are dropped, except the white space ones. */
	[0x00 ... 0x08] = C_DROP, [0x09 ... 0x0D] = C_SPACE,
	[0x0E ... 0x1F] = C_DROP, [' '] = C_SPACE, [0x7F] = C_DROP,
	[0x80 ... 0xFF] = C_HIGH,
};

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* Whether any of the eight bytes of w is below 0x21 or above 0x7E (white
 * space, controls, non-ASCII). */
static inline int
swar_special(uint64_t w)
{
	uint64_t lt = (w - ONES * 0x21) & ~w & HIGHS;
	uint64_t gt = ((w + ONES * (127 - 0x7E)) | w) & HIGHS;

	return (lt | gt) != 0;
}

/* The exact mask (0x80 in each such byte) of the bytes of w that are
 * spaces. */
static inline uint64_t
swar_spaces(uint64_t w)
{
	uint64_t lo = 0x7F7F7F7F7F7F7F7FULL, sp = w ^ (ONES * ' ');

	return ~(((sp & lo) + lo) | sp | lo);
}

/* Ends a collapsed string at p: cut to max bytes on a character boundary
 * (0: no cap) with no trailing space; an empty result is NULL. */
static char *
collapse_finish(char *out, char *p, size_t max)
{
	*p = '\0';
	if (max > 0 && (size_t)(p - out) > max) {
		size_t cut = max;

		/* Back up to the start of a character. */
		while (cut > 0 && (((unsigned char)out[cut]) & 0xC0) == 0x80)
			cut--;
		out[cut] = '\0';
		p = out + cut;
		while (p > out && p[-1] == ' ')
			*--p = '\0';
	}
	if (p == out) {
		free(out);
		return NULL;
	}
	return out;
}

/* Copies s[0..len) into a new string with white space (and U+00A0)
 * collapsed to single spaces, control characters dropped and the ends
 * trimmed, cut to max bytes on a character boundary. Returns 1 (and
 * nothing) when s is not valid UTF-8. */
static int
text_collapse_checked(const char *s, size_t len, size_t max, char **ret)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*out, *p;
	size_t			 i = 0, n;
	int			 pending = 0;

	/* A two-byte C1 control may become a three-byte character. */
	out = malloc(len + len / 2 + 1);
	if (out == NULL)
		return -ENOMEM;
	p = out;
	while (i < len) {
		size_t start = i;

		while (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, u + i, 8);
			if (swar_special(w))
				break;
			i += 8;
		}
		while (i < len && byte_class[u[i]] == C_COPY)
			i++;
		if (i > start) {
			if (pending && p != out)
				*p++ = ' ';
			pending = 0;
			memcpy(p, u + start, i - start);
			p += i - start;
			continue;
		}
		switch (byte_class[u[i]]) {
		case C_SPACE:
			pending = 1;
			i++;
			break;
		case C_DROP:
			i++;
			break;
		default:
			if (u[i] == 0xC2 && i + 1 < len && u[i + 1] == 0xA0) {
				pending = 1;
				i += 2;
				break;
			}
			/* A C1 control windows-1252 leaves unassigned goes
			 * as the C0 ones do, without a space of its own. */
			if (u[i] == 0xC2 && i + 1 < len && u[i + 1] >= 0x80 &&
			    u[i + 1] < 0xA0 && cp1252_c1[u[i + 1] - 0x80] == 0) {
				i += 2;
				break;
			}
			if (pending && p != out)
				*p++ = ' ';
			pending = 0;
			/* A run of non-ASCII characters (Hangul, kana). */
			while (i < len && u[i] >= 0x80) {
				if (u[i] >= 0xE1 && u[i] <= 0xEC && i + 2 < len &&
				    (u[i + 1] & 0xC0) == 0x80 &&
				    (u[i + 2] & 0xC0) == 0x80) {
					n = 3;	/* the common 3-byte case */
				} else {
					if (u[i] == 0xC2 && i + 1 < len &&
					    u[i + 1] == 0xA0)
						break;
					/* C1 controls (from &#147; and the
					 * like) are windows-1252, as HTML5
					 * reads them. */
					if (u[i] == 0xC2 && i + 1 < len &&
					    u[i + 1] >= 0x80 && u[i + 1] < 0xA0) {
						uint16_t c = cp1252_c1[u[i + 1] - 0x80];

						if (c != 0)
							p += text_utf8_put(p, c);
						i += 2;
						continue;
					}
					n = text_utf8_valid_seq(u + i, len - i);
					if (n == 0) {
						free(out);
						return 1;
					}
				}
				memcpy(p, u + i, n);
				p += n;
				i += n;
			}
			break;
		}
	}
	*ret = collapse_finish(out, p, max);
	return 0;
}

/* Whether one of the eight bytes of w stops a run of valid UTF-8 that is
 * copied as it is: a control character, 0x7F, 0xC2 (the lead byte of
 * U+00A0 and the C1 controls), or a space after a space (the byte before
 * w is one when space_before is 0x80). */
static inline int
swar_valid_special(uint64_t w, uint64_t space_before)
{
	uint64_t c2 = w ^ (ONES * 0xC2), x7f = w ^ (ONES * 0x7F);
	uint64_t m = swar_spaces(w);

	return ((((w - ONES * 0x20) & ~w) | ((c2 - ONES) & ~c2) |
	    ((x7f - ONES) & ~x7f) | (m & ((m << 8) | space_before))) &
	    HIGHS) != 0;
}

/* text_collapse_checked() for valid UTF-8, which is copied as it is up to
 * what changes it. A space is written as soon as it is met, unless the
 * output is empty or ends in one already; a trailing one goes at the end.
 * Single spaces between words, the usual case, stay inside a run. */
static int
text_collapse_valid(const char *s, size_t len, size_t max, char **ret)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*out, *p;
	size_t			 i = 0, start;
	uint16_t		 c1;

	out = malloc(len + len / 2 + 1);
	if (out == NULL)
		return -ENOMEM;
	p = out;
	while (i < len) {
		uint64_t	space_before = 0;

		start = i;
		while (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, u + i, 8);
			if (swar_valid_special(w, space_before))
				break;
			space_before = (swar_spaces(w) >> 56) & 0x80;
			i += 8;
		}
		for (; i < len; i++) {
			if (u[i] == ' ') {
				if (i > start && u[i - 1] == ' ')
					break;
			} else if (u[i] < 0x20 || u[i] == 0x7F || u[i] == 0xC2) {
				break;
			}
		}
		if (i > start) {
			/* The run holds no two spaces in a row; its first
			 * may follow one written already. */
			if (u[start] == ' ' && (p == out || p[-1] == ' '))
				start++;
			memcpy(p, u + start, i - start);
			p += i - start;
		}
		if (i >= len)
			break;
		if (byte_class[u[i]] == C_SPACE ||
		    (u[i] == 0xC2 && i + 1 < len && u[i + 1] == 0xA0)) {
			if (p != out && p[-1] != ' ')
				*p++ = ' ';
			i += u[i] == 0xC2 ? 2 : 1;
		} else if (u[i] != 0xC2) {
			i++;		/* a control character: dropped */
		} else if (i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] < 0xA0) {
			/* C1 controls (from &#147; and the like) are
			 * windows-1252, as HTML5 reads them; the five it
			 * leaves unassigned go as the C0 ones do. */
			c1 = cp1252_c1[u[i + 1] - 0x80];
			if (c1 != 0)
				p += text_utf8_put(p, c1);
			i += 2;
		} else if (i + 1 < len && u[i + 1] > 0xA0 && u[i + 1] <= 0xBF) {
			memcpy(p, u + i, 2);
			p += 2;
			i += 2;
		} else {
			free(out);
			return 1;	/* not UTF-8 after all */
		}
	}
	if (p > out && p[-1] == ' ')
		p--;
	*ret = collapse_finish(out, p, max);
	return 0;
}

static int
text_collapse(const char *s, size_t len, size_t max, int trusted, char **ret)
{
	if (trusted)
		return text_collapse_valid(s, len, max, ret);
	return text_collapse_checked(s, len, max, ret);
}

void
text_ctx_set_html_by_libxml2(struct text_ctx *tc, bool on)
{
	tc->html_by_libxml2 = on;
}

static const char *
find_ci(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; (size_t)(end - p) >= n; p++)
		if ((*p == '<') && strncasecmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* The fast path for the HTML of descriptions: the tag soup that feeds
 * carry, taken apart in one pass with the same result libxml2's HTML
 * parser gives (tags dropped, a word break at block elements, script and
 * style dropped, entities decoded, a '<' that starts no tag kept as text).
 * Returns 1 when it meets something it does not handle the same way (an
 * unterminated tag or comment, CDATA, a bare "</"), and the caller falls
 * back to libxml2. */
static int
text_strip_fast(struct buf *b, const char *s, size_t len)
{
	const char	*p = s, *end = s + len, *run = s, *q;
	char		 name[16], u[4];
	size_t		 n;
	int32_t		 cp;
	int		 closing;

#define FLUSH() do {							\
	if (p > run && buf_append(b, run, (size_t)(p - run)) < 0)	\
		return -ENOMEM;						\
} while (0)
	while (p < end) {
		if (*p != '<' && *p != '&') {
			p++;
			while (end - p >= 8) {
				uint64_t w, lt, amp;

				memcpy(&w, p, 8);
				lt = w ^ (ONES * '<');
				amp = w ^ (ONES * '&');
				if ((((lt - ONES) & ~lt) | ((amp - ONES) & ~amp)) &
				    HIGHS)
					break;
				p += 8;
			}
			continue;
		}
		if (*p == '&') {
			FLUSH();
			q = p + 1;
			while (q < end && q - p <= 33 &&
			    (((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z') ||
			    (*q >= '0' && *q <= '9') || *q == '#'))
				q++;
			cp = -1;
			if (q < end && *q == ';')
				cp = text_entity_lookup(p + 1, (size_t)(q - p - 1));
			if (cp < 0) {
				run = p;
				p++;
				continue;
			}
			if (buf_append(b, u, text_utf8_put(u, (uint32_t)cp)) < 0)
				return -ENOMEM;
			p = run = q + 1;
			continue;
		}
		/* '<' */
		q = p + 1;
		if (q >= end) {
			p++;
			continue;
		}
		if (*q == '!') {
			FLUSH();
			if (end - q >= 3 && q[1] == '-' && q[2] == '-') {
				q = memmem(q + 3, (size_t)(end - q - 3), "-->", 3);
				if (q == NULL)
					return 1;
				p = run = q + 3;
				continue;
			}
			if (end - q >= 8 && memcmp(q, "![CDATA[", 8) == 0)
				return 1;
			q = memchr(q, '>', (size_t)(end - q));
			if (q == NULL)
				return 1;
			p = run = q + 1;
			continue;
		}
		closing = *q == '/';
		if (closing)
			q++;
		if (q >= end || !(((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z'))) {
			if (closing)
				return 1;
			p++;		/* "a < b": text */
			continue;
		}
		FLUSH();
		n = 0;
		while (q < end && (isalnum((unsigned char)*q) || *q == '-' ||
		    *q == ':' || *q == '_')) {
			if (n + 1 < sizeof(name))
				name[n++] = (char)tolower((unsigned char)*q);
			q++;
		}
		name[n] = '\0';
		/* To the end of the tag, over quoted attribute values. */
		while (q < end && *q != '>') {
			if (*q == '"' || *q == '\'') {
				const char *c = memchr(q + 1, *q, (size_t)(end - q - 1));

				if (c == NULL)
					return 1;
				q = c;
			}
			q++;
		}
		if (q >= end)
			return 1;
		q++;
		if (is_skipped(name)) {
			if (!closing && q[-2] != '/') {
				char	 close[24];

				snprintf(close, sizeof(close), "</%s", name);
				q = find_ci(q, end, close);
				if (q == NULL) {
					q = end;
				} else {
					q = memchr(q, '>', (size_t)(end - q));
					q = q == NULL ? end : q + 1;
				}
			}
		} else if (is_block(name)) {
			if (buf_append(b, " ", 1) < 0)
				return -ENOMEM;
		}
		p = run = q;
	}
	FLUSH();
#undef FLUSH
	return 0;
}

static int
text_clean_impl(struct text_ctx *tc, const char *s, size_t len,
    enum text_kind kind, size_t max, int trusted, char **ret)
{
	struct text_ctx	*own = NULL;
	char		*fixed = NULL;
	size_t		 fixed_len;
	int		 r;

	if (kind == TEXT_PLAIN ||
	    (memchr(s, '&', len) == NULL && memchr(s, '<', len) == NULL)) {
		r = text_collapse(s, len, max, trusted, ret);
		if (r <= 0)
			return r;
		/* Not UTF-8: repair, then the same again. */
		r = text_utf8_repair(s, len, &fixed, &fixed_len);
		if (r < 0)
			return r;
		r = text_collapse(fixed, fixed_len, max, 0, ret);
		free(fixed);
		return r;
	}
	if (tc == NULL) {
		own = tc = text_ctx_new();
		if (tc == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}
	buf_reset(&tc->scratch);
	if (memchr(s, '<', len) == NULL) {
		r = text_decode_entities(&tc->scratch, s, len);
	} else {
		r = tc->html_by_libxml2 ? 1 : text_strip_fast(&tc->scratch, s, len);
		if (r == 1) {
			/* libxml2 must be given valid UTF-8. */
			if (fixed == NULL && !text_utf8_is_valid(s, len)) {
				r = text_utf8_repair(s, len, &fixed, &fixed_len);
				if (r < 0)
					goto out;
				s = fixed;
				len = fixed_len;
			}
			buf_reset(&tc->scratch);
			r = text_strip_html(tc, s, len);
		}
	}
	if (r < 0)
		goto out;
	r = text_collapse(tc->scratch.data != NULL ? tc->scratch.data : "",
	    tc->scratch.len, max, trusted, ret);
	if (r > 0 && fixed == NULL) {
		/* The input was not UTF-8 (only possible for callers other
		 * than the parsers): repair it and start over. */
		r = text_utf8_repair(s, len, &fixed, &fixed_len);
		if (r < 0)
			goto out;
		text_ctx_free(own);
		r = text_clean_impl(tc == own ? NULL : tc, fixed, fixed_len, kind,
		    max, 0, ret);
		free(fixed);
		return r;
	}
	if (r > 0)
		r = -EINVAL;	/* repaired input is UTF-8: cannot happen */
out:
	text_ctx_free(own);
	free(fixed);
	return r;
}

int
text_clean(struct text_ctx *tc, const char *s, size_t len,
    enum text_kind kind, size_t max, char **ret)
{
	return text_clean_impl(tc, s, len, kind, max, 0, ret);
}

int
text_clean_valid(struct text_ctx *tc, const char *s, size_t len,
    enum text_kind kind, size_t max, char **ret)
{
	return text_clean_impl(tc, s, len, kind, max, 1, ret);
}
