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
#include "bytes16.h"
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

/*
 * Sixteen bytes at a time, each with the two before it: a byte is a
 * continuation byte (80-BF) exactly when the byte before is a lead byte
 * (C2-EF) or the one before that a three-byte lead (E1-EF); ED may not
 * start a surrogate (a second byte from A0). The rare rest (E0 and its
 * overlongs, C0, C1, the four-byte leads and what is past them) is left
 * to text_utf8_valid_seq() a character at a time. In the Korean and
 * Japanese text of news feeds (three-byte characters with a space every
 * few) a character at a time is slow: the spaces keep its branches
 * mispredicting.
 */
size_t
text_utf8_valid_prefix(const unsigned char *s, size_t len)
{
	size_t	i = 0, stop, n;
	bool	blocks;

	while (i < len) {
		blocks = false;
		while (i >= 2 && len - i >= 16) {
			v16 v = v16_load(s + i), before = v16_load(s + i - 1);
			v16 before2 = v16_load(s + i - 2), bad;

			bad = ((v16)((v & v16_splat(0xC0)) == v16_splat(0x80)) ^
			    ((v16)(before >= v16_splat(0xC0)) |
			    (v16)(before2 >= v16_splat(0xE0)))) |
			    (v16)(v >= v16_splat(0xF0)) |
			    (v16)(v == v16_splat(0xE0)) |
			    (v16)((v & v16_splat(0xFE)) == v16_splat(0xC0)) |
			    ((v16)(before == v16_splat(0xED)) &
			    (v16)(v >= v16_splat(0xA0)));
			if (v16_any(bad))
				break;
			blocks = true;
			i += 16;
		}
		if (blocks) {
			/* The last block may end inside a character: back to
			 * its start (or that of the last one, which is
			 * checked again). */
			while ((s[i - 1] & 0xC0) == 0x80)
				i--;
			if (s[i - 1] >= 0xC0)
				i--;
		}
		/* A character at a time past the block that stopped the
		 * fast loop (or to the end). */
		stop = len - i > 16 ? i + 16 : len;
		while (i < stop) {
			if (s[i] < 0x80) {
				i++;
				continue;
			}
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

/* Byte classes for the collapse. */
enum { C_COPY, C_SPACE, C_DROP, C_HIGH };

static const uint8_t byte_class[256] = {
	/* C0 controls are dropped, except the white space ones. */
	[0x00 ... 0x08] = C_DROP, [0x09 ... 0x0D] = C_SPACE,
	[0x0E ... 0x1F] = C_DROP, [' '] = C_SPACE, [0x7F] = C_DROP,
	[0x80 ... 0xFF] = C_HIGH,
};

/*
 * The collapsed text being written: white space (and U+00A0) as single
 * spaces, control characters dropped, C1 controls read as windows-1252,
 * no space at the start. A space is written as soon as it is met unless
 * the output is empty or ends in one already, so single spaces between
 * words, the usual case, are copied with the words; a trailing one goes
 * at the end (collapse_finish). Writes at most one and a half times what
 * it is given (a two-byte C1 control may become a three-byte character).
 */
struct collapse {
	char	*out;
	char	*p;
};

static inline void
collapse_space(struct collapse *cw)
{
	if (cw->p != cw->out && cw->p[-1] != ' ')
		*cw->p++ = ' ';
}

/* What text_strip_collapse() and collapse_copy() return besides 0. */
#define STRIP_TO_LIBXML2	1	/* markup it does not take apart as libxml2 does */
#define STRIP_NOT_UTF8		2

/*
 * Collapses valid UTF-8 from s up to end into cw, copying runs as they
 * are up to what changes them. With markup it stops at '<' or '&'. Sets
 * *ret_stop to where it stopped (end without markup) and returns 0, or
 * STRIP_NOT_UTF8 when the bytes are not UTF-8 after all (only the C1
 * range is checked: it is read anyway).
 */
static int
collapse_copy(struct collapse *cw, const char *s, const char *end, int markup,
    const char **ret_stop)
{
	const unsigned char	*u = (const unsigned char *)s;
	/* Without markup the stops are a control character, which stops
	 * the run anyway. */
	const v16		 stop1 = v16_splat(markup ? '<' : 0x01);
	const v16		 stop2 = v16_splat(markup ? '&' : 0x01);
	size_t			 len = (size_t)(end - s), i = 0, start;
	uint16_t		 c1;

	while (i < len) {
		start = i;
		/* To the next byte that stops a run: a control character,
		 * 0x7F, 0xC2 (the lead byte of U+00A0 and the C1 controls),
		 * a space after a space, or a stop. Sixteen at a time, with
		 * the byte before each. */
		for (;;) {
			static const v16 index = { 0, 1, 2, 3, 4, 5, 6, 7, 8,
			    9, 10, 11, 12, 13, 14, 15 };
			v16	v, before, stop;
			size_t	at = i;

			if (i == 0) {
				/* The first byte has none before it. */
				if (u[0] < 0x20 || u[0] == 0x7F || u[0] == 0xC2 ||
				    (markup && (u[0] == '<' || u[0] == '&')))
					break;
				if (++i >= len)
					break;
				continue;
			}
			if (len - i < 16 && len >= 17) {
				/* The last sixteen bytes, of which those
				 * before i were looked at already. */
				at = len - 16;
			}
			if (len - at >= 16) {
				v = v16_load(u + at);
				before = v16_load(u + at - 1);
			} else {
				/* A short text: in a copy, after the byte
				 * before, padded with bytes that stop
				 * nothing. */
				unsigned char	tmp[17];

				memset(tmp, 'a', sizeof(tmp));
				memcpy(tmp, u + i - 1, len - i + 1);
				v = v16_load(tmp + 1);
				before = v16_load(tmp);
			}
			stop = (v16)(v < v16_splat(0x20)) |
			    (v16)(v == v16_splat(0x7F)) |
			    (v16)(v == v16_splat(0xC2)) | (v16)(v == stop1) |
			    (v16)(v == stop2) | ((v16)(v == v16_splat(' ')) &
			    (v16)(before == v16_splat(' ')));
			if (at < i)
				stop &= (v16)(index >= v16_splat((uint8_t)(i - at)));
			if (v16_any(stop)) {
				i = at + v16_first(stop);
				break;
			}
			if (len - at <= 16) {
				i = len;
				break;
			}
			i = at + 16;
		}
		if (i > start) {
			/* The run holds no two spaces in a row; its first
			 * may follow one written already. */
			if (u[start] == ' ' && (cw->p == cw->out || cw->p[-1] == ' '))
				start++;
			memcpy(cw->p, u + start, i - start);
			cw->p += i - start;
		}
		if (i >= len)
			break;
		if (markup && (u[i] == '<' || u[i] == '&')) {
			*ret_stop = s + i;
			return 0;
		} else if (byte_class[u[i]] == C_SPACE ||
		    (u[i] == 0xC2 && i + 1 < len && u[i + 1] == 0xA0)) {
			collapse_space(cw);
			i += u[i] == 0xC2 ? 2 : 1;
		} else if (u[i] != 0xC2) {
			i++;		/* a control character: dropped */
		} else if (i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] < 0xA0) {
			/* C1 controls (from &#147; and the like) are
			 * windows-1252, as HTML5 reads them; the five it
			 * leaves unassigned go as the C0 ones do. */
			c1 = cp1252_c1[u[i + 1] - 0x80];
			if (c1 != 0)
				cw->p += text_utf8_put(cw->p, c1);
			i += 2;
		} else if (i + 1 < len && u[i + 1] > 0xA0 && u[i + 1] <= 0xBF) {
			memcpy(cw->p, u + i, 2);
			cw->p += 2;
			i += 2;
		} else {
			return STRIP_NOT_UTF8;
		}
	}
	*ret_stop = end;
	return 0;
}

/* Ends the collapsed text: no trailing space, cut to max bytes on a
 * character boundary (0: no cap). Returns it, or NULL (freed) when it is
 * empty. */
static char *
collapse_finish(struct collapse *cw, size_t max)
{
	char	*out = cw->out, *p = cw->p;

	if (p > out && p[-1] == ' ')
		p--;
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
	cw->out = cw->p = NULL;
	if (p == out) {
		free(out);
		return NULL;
	}
	return out;
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

/*
 * The fast path for the HTML of descriptions: the tag soup that feeds
 * carry, taken apart in one pass with the same result libxml2's HTML
 * parser gives (tags dropped, a word break at block elements, script and
 * style dropped, entities decoded, a '<' that starts no tag kept as text),
 * collapsed as it goes into cw. Returns STRIP_TO_LIBXML2 when it meets
 * something it does not handle the same way (an unterminated tag or
 * comment, CDATA, a bare "</"), and the caller falls back to libxml2.
 */
static int
text_strip_collapse(struct collapse *cw, const char *s, size_t len)
{
	const char	*p = s, *end = s + len, *q, *stop;
	char		 name[16], u[4];
	size_t		 n;
	int32_t		 cp;
	int		 closing;

	while (p < end) {
		if (collapse_copy(cw, p, end, 1, &p) != 0)
			return STRIP_NOT_UTF8;
		if (p >= end)
			break;
		if (*p == '&') {
			q = p + 1;
			while (q < end && q - p <= 33 &&
			    (((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z') ||
			    (*q >= '0' && *q <= '9') || *q == '#'))
				q++;
			cp = -1;
			if (q < end && *q == ';')
				cp = text_entity_lookup(p + 1, (size_t)(q - p - 1));
			if (cp < 0) {
				*cw->p++ = *p++;	/* a bare '&' is text */
				continue;
			}
			n = text_utf8_put(u, (uint32_t)cp);
			/* What a reference decodes to is collapsed too: a
			 * "&nbsp;" is a space, a "&#1;" goes. */
			if (collapse_copy(cw, u, u + n, 0, &stop) != 0)
				return STRIP_NOT_UTF8;	/* cannot happen */
			p = q + 1;
			continue;
		}
		/* '<' */
		q = p + 1;
		if (q >= end) {
			*cw->p++ = *p++;
			continue;
		}
		if (*q == '!') {
			if (end - q >= 3 && q[1] == '-' && q[2] == '-') {
				q = memmem(q + 3, (size_t)(end - q - 3), "-->", 3);
				if (q == NULL)
					return STRIP_TO_LIBXML2;
				p = q + 3;
				continue;
			}
			if (end - q >= 8 && memcmp(q, "![CDATA[", 8) == 0)
				return STRIP_TO_LIBXML2;
			q = memchr(q, '>', (size_t)(end - q));
			if (q == NULL)
				return STRIP_TO_LIBXML2;
			p = q + 1;
			continue;
		}
		closing = *q == '/';
		if (closing)
			q++;
		if (q >= end || !(((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z'))) {
			if (closing)
				return STRIP_TO_LIBXML2;
			*cw->p++ = *p++;	/* "a < b": text */
			continue;
		}
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
					return STRIP_TO_LIBXML2;
				q = c;
			}
			q++;
		}
		if (q >= end)
			return STRIP_TO_LIBXML2;
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
			collapse_space(cw);
		}
		p = q;
	}
	return 0;
}

/* Room for the collapse of len bytes. */
static int
collapse_start(struct collapse *cw, size_t len)
{
	if (len > (SIZE_MAX - 1) / 3 * 2)
		return -E2BIG;
	cw->out = cw->p = malloc(len + len / 2 + 1);
	return cw->out == NULL ? -ENOMEM : 0;
}

static int
text_clean_impl(struct text_ctx *tc, const char *s, size_t len,
    enum text_kind kind, size_t max, int trusted, char **ret)
{
	struct collapse	 cw = { NULL, NULL };
	struct text_ctx	*own = NULL;
	const char	*stop;
	char		*fixed = NULL;
	size_t		 fixed_len;
	int		 r;

	/* Text that is not UTF-8 (only from callers other than the
	 * parsers) is read as windows-1252 first: the markup is ASCII, so
	 * it is taken apart the same either way. */
	if (!trusted && !text_utf8_is_valid(s, len)) {
		r = text_utf8_repair(s, len, &fixed, &fixed_len);
		if (r < 0)
			return r;
		s = fixed;
		len = fixed_len;
	}
	if ((r = collapse_start(&cw, len)) < 0)
		goto out;
	if (kind == TEXT_PLAIN)
		r = collapse_copy(&cw, s, s + len, 0, &stop);
	else if (tc != NULL && tc->html_by_libxml2 && memchr(s, '<', len) != NULL)
		r = STRIP_TO_LIBXML2;
	else
		r = text_strip_collapse(&cw, s, len);
	if (r == STRIP_TO_LIBXML2) {
		if (tc == NULL && (own = tc = text_ctx_new()) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		/* libxml2 must be given valid UTF-8, and the text it hands
		 * back is collapsed as the fast path's is. */
		if (fixed == NULL && !text_utf8_is_valid(s, len)) {
			r = STRIP_NOT_UTF8;
		} else {
			buf_reset(&tc->scratch);
			r = text_strip_html(tc, s, len);
		}
		if (r == 0) {
			free(cw.out);
			cw.out = NULL;
			r = collapse_start(&cw, tc->scratch.len);
		}
		if (r == 0) {
			const char *t = tc->scratch.data != NULL ?
			    tc->scratch.data : "";

			r = collapse_copy(&cw, t, t + tc->scratch.len, 0, &stop);
		}
	}
	if (r == STRIP_NOT_UTF8 && fixed == NULL) {
		/* Said to be UTF-8 and is not: repair it and start over. */
		free(cw.out);
		cw.out = NULL;
		r = text_utf8_repair(s, len, &fixed, &fixed_len);
		if (r == 0)
			r = text_clean_impl(tc, fixed, fixed_len, kind, max, 0, ret);
		goto out;
	}
	if (r == STRIP_NOT_UTF8)
		r = -EINVAL;	/* repaired input is UTF-8: cannot happen */
	if (r < 0)
		goto out;
	*ret = collapse_finish(&cw, max);
out:
	free(cw.out);
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
