/* parse_xml_charset.c — how the bytes of an XML document are decoded.
 * the choice follows RFC 7303 (BOM, then the charset of the
 * Content-Type, then the XML declaration, then UTF-8) and is made from the
 * first bytes; conversion is libxml2's (iconv). Bytes that are not UTF-8 in
 * a document read as UTF-8 are repaired as windows-1252, and bare '<', '&'
 * and control characters escaped, before libxml2 sees them.
 */
#include <ctype.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/encoding.h>

#include "parse_xml.h"

/* windows-1252 to UTF-8 for libxml2, the decoder of every ISO-8859-1,
 * US-ASCII and windows-1252 label (charset_alias). Written here rather
 * than taken from iconv for two reasons: iconv refuses the five bytes
 * windows-1252 leaves unassigned (0x81, 0x8D, 0x8F, 0x90, 0x9D), and
 * libxml2 then stops reading, so a Latin-1 feed with one such byte lost
 * every item after it. The five become the C1 controls of the same
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

#if FW_XML_CUSTOM_HANDLER
static xmlCharEncError
px_cp1252_conv(void *vctxt, unsigned char *out, int *outlen,
    const unsigned char *in, int *inlen, int flush)
{
	(void)vctxt;
	(void)flush;
	(void)px_cp1252_to_utf8(out, outlen, in, inlen);
	return XML_ENC_ERR_SUCCESS;
}

void
px_charset_init(void)
{
}

xmlCharEncodingHandlerPtr
px_charset_handler(const char *force)
{
	xmlCharEncodingHandlerPtr h = NULL;

	if (strcmp(force, "WINDOWS-1252") != 0)
		return xmlFindCharEncodingHandler(force);
	if (xmlCharEncNewCustomHandler("WINDOWS-1252", px_cp1252_conv, NULL,
	    NULL, NULL, NULL, &h) != XML_ERR_OK)
		return NULL;
	return h;
}
#else
void
px_charset_init(void)
{
	/* Registered handlers come before iconv in libxml2's search. */
	(void)xmlNewCharEncodingHandler("WINDOWS-1252", px_cp1252_to_utf8, NULL);
}

xmlCharEncodingHandlerPtr
px_charset_handler(const char *force)
{
	return xmlFindCharEncodingHandler(force);
}
#endif

/* Charset names as labelled → what to decode with (the WHATWG mapping of
 * legacy labels to their supersets, as browsers do), and the labels of
 * the WHATWG Encoding Standard and of Python's codecs that glibc's iconv
 * does not know under any spelling px_charset_name() tries. Labels are
 * written as px_charset_name() normalises them: lower case, '-' for '_'.
 * NOTE: a label that maps to WINDOWS-1252 is read as px_charset_decide()
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
/* Decides how the document is read, from its first bytes (at least 520 of
 * them, or all) and the Content-Type, as RFC 7303 orders it: a BOM, then
 * the charset of the Content-Type, then the XML declaration, then UTF-8.
 * UTF-8, UTF-16 and the windows-1252 family, nearly every feed, convert
 * without iconv. */
void
px_charset_plan(struct px_charset *s, struct px *x, const char *head,
    size_t len, const char *content_type)
{
	const unsigned char	*u = (const unsigned char *)head;
	char			 cs[64], decl[64], name[64];
	const char		*label = NULL, *use = NULL;
	bool			 from_header = false;

	memset(s, 0, sizeof(*s));
	s->mode = PXM_RAW;
	/* RFC 7303 3.3: a BOM takes precedence over everything. */
	if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) ||
	    (u[0] == 0xFE && u[1] == 0xFF)))
		return;
	/* UTF-16 without a BOM ("<\0?\0"): libxml2 detects it. */
	if (len >= 4 && ((u[0] == '<' && u[1] == 0) || (u[0] == 0 && u[1] == '<')))
		return;
	if (!(len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)) {
		if (px_ct_charset(content_type, cs, sizeof(cs))) {
			label = cs;
			from_header = true;
		} else if (px_decl_encoding(head, len, decl, sizeof(decl))) {
			label = decl;
		}
	}
	if (label != NULL && !is_utf8_label(label)) {
		use = px_charset_name(label, name, sizeof(name)) ? name : label;
		/* Not UTF-16 (no BOM, no "<\0"), whatever the label says: an
		 * 8-bit document, read as UTF-8 (libxml2 2.9 did so by itself,
		 * later releases believe the label and read nothing). */
		if (is_utf16_label(label))
			px_warn(x, "document labelled %.32s is not UTF-16; "
			    "read as UTF-8", label);
		if (is_utf16_label(label) || is_utf16_label(use))
			use = NULL;
	}
	if (use != NULL && !is_utf8_label(use)) {
		if (strcmp(use, "WINDOWS-1252") == 0) {
			/* A legacy label on what is really UTF-8 is common:
			 * only the whole document can tell (px_charset_decide). */
			snprintf(s->label, sizeof(s->label), "%s", label);
			s->mode = PXM_WAIT;
			return;
		}
		xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(use);

		if (h != NULL) {
			xmlCharEncCloseFunc(h);
			/* use may point into this frame's buffers. */
			snprintf(s->enc, sizeof(s->enc), "%s", use);
			s->force = s->enc;
			/* Legacy charsets are ASCII-compatible: '<' and '&'
			 * never occur inside a multibyte character. */
			s->mode = PXM_LEGACY;
			return;
		}
		px_warn(x, "unknown encoding \"%.32s\"%s; read as UTF-8",
		    label, from_header ? " in Content-Type" : "");
	}
	/* UTF-8, by label or by default: forced, so that no label in the
	 * document can change it. libxml2 does not skip a UTF-8 BOM once
	 * the encoding is forced, so it is dropped here. */
	s->mode = PXM_UTF8;
	s->force = "UTF-8";
	if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		s->skip = 3;
}

/* PXM_WAIT, with the whole document: a document labelled
 * windows-1252 (or ISO-8859-1, US-ASCII) that is valid UTF-8 and not plain
 * ASCII is UTF-8; anything else is windows-1252. */
void
px_charset_decide(struct px_charset *s, struct px *x, const char *doc,
    size_t len)
{
	const unsigned char	*u = (const unsigned char *)doc;
	size_t			 i;

	if (text_utf8_is_valid(doc, len)) {
		for (i = 0; i < len && u[i] < 0x80; i++)
			;
		if (i < len) {
			px_warn(x, "document labelled %s is UTF-8; read as UTF-8",
			    s->label);
			s->mode = PXM_RAW;
			s->force = "UTF-8";
			return;
		}
	}
	snprintf(s->enc, sizeof(s->enc), "WINDOWS-1252");
	s->force = s->enc;
	s->mode = PXM_LEGACY;
}
