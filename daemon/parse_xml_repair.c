/* parse_xml_repair.c — the repairs made to an XML document before
 * libxml2 reads it, a round at a time: bytes that are not UTF-8 decoded as
 * windows-1252, bare '<' and '&' escaped, control characters dropped,
 * character references XML refuses read as HTML5 reads them, and named
 * references handed on as numeric ones (px_named_ref() says why). Never
 * inside CDATA sections or comments. A round stops before a construct the
 * bytes after it could change, so the result never depends on how the
 * input was cut. Plain bytes only: nothing here knows libxml2. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bytes16.h"
#include "parse_xml.h"

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

/* "&#N;" for cp (at most U+10FFFF: 10 bytes) in out. By hand: this runs
 * for each "&amp;" of a feed, where snprintf() cost a fifth of the
 * scanner's time. */
static size_t
px_decimal_ref(char *out, uint32_t cp)
{
	char	digits[8];
	size_t	n = 0, len = 0;

	do {
		digits[n++] = (char)('0' + cp % 10);
		cp /= 10;
	} while (cp > 0);
	out[len++] = '&';
	out[len++] = '#';
	while (n > 0)
		out[len++] = digits[--n];
	out[len++] = ';';
	out[len] = '\0';
	return len;
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
	return px_decimal_ref(out, (uint32_t)cp);
}

/* The end of a run of text the scanner passes over as it is: the first
 * '<', '&' or control character XML does not allow (tab, newline and
 * carriage return are fine), sixteen bytes at a time. */
static const char *
px_text_end(const char *p, const char *end)
{
	while (end - p >= 16) {
		v16 v = v16_load(p), stop;

		stop = ((v16)(v < v16_splat(0x20)) &
		    (v16)(v != v16_splat('\t')) & (v16)(v != v16_splat('\n')) &
		    (v16)(v != v16_splat('\r'))) |
		    (v16)(v == v16_splat('<')) | (v16)(v == v16_splat('&'));
		if (v16_any(stop))
			return p + v16_first(stop);
		p += 16;
	}
	while (p < end && (px_scan_class[(unsigned char)*p] == 0 ||
	    px_scan_class[(unsigned char)*p] == 4))
		p++;
	return p;
}

/* The first size of the scanner's buffers: what a round usually needs,
 * so that they are not copied as they grow. */
#define PX_SCAN_BUF ((size_t)40 * 1024)

static int
px_scan_put(struct px_scan *s, const char *p, size_t n)
{
	return bytes_append(&s->out, &s->out_len, &s->out_cap, PX_SCAN_BUF,
	    s->max_out, p, n);
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
int
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
			n = s->utf8 ? text_utf8_valid_prefix(u, (size_t)(q - p)) :
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
		/* Text, up to what the switch below decides: with s->utf8
		 * that includes the first byte that is not UTF-8, or a
		 * sequence the end of the round cuts. */
		q = px_text_end(p, end);
		if (s->utf8)
			p += text_utf8_valid_prefix((const unsigned char *)p,
			    (size_t)(q - p));
		else
			p = q;
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
