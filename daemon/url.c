/* url.c — relative link resolution for the parse stage. The RFC 3986
 * algorithm itself is libxml2's xmlBuildURI(); this module adds what feeds
 * need around it: trimming, a fast path for links that are already
 * absolute, escaping of the spaces and non-ASCII bytes that feeds put in
 * links, and a fallback to the link as written when nothing else works. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/uri.h>
#include <libxml/xmlmemory.h>

#include "url.h"

int
url_has_scheme(const char *s)
{
	const char *p = s;

	if (!isalpha((unsigned char)*p))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':';
}

/* Percent-encodes the bytes RFC 3986 never allows in a URI (space,
 * controls, non-ASCII, and a few delimiters) and leaves the rest. */
static char *
url_escape_loose(const char *s, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*out, *p;
	size_t			 i;

	out = malloc(len * 3 + 1);
	if (out == NULL)
		return NULL;
	p = out;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7F || c == '"' || c == '<' ||
		    c == '>' || c == '\\' || c == '^' || c == '`' ||
		    c == '{' || c == '|' || c == '}') {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		} else {
			*p++ = (char)c;
		}
	}
	*p = '\0';
	return out;
}

int
url_resolve(const char *base, const char *ref, char **ret)
{
	const char	*end;
	char		*r = NULL, *esc = NULL;
	xmlChar		*built;
	size_t		 len;

	while (*ref == ' ' || *ref == '\t' || *ref == '\n' || *ref == '\r')
		ref++;
	end = ref + strlen(ref);
	while (end > ref && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\n' || end[-1] == '\r'))
		end--;
	len = (size_t)(end - ref);
	if (len == 0) {
		*ret = NULL;
		return 0;
	}
	if (base == NULL || *base == '\0' || url_has_scheme(ref) ||
	    !url_has_scheme(base)) {
		r = strndup(ref, len);
		if (r == NULL)
			return -ENOMEM;
		*ret = r;
		return 0;
	}
	esc = url_escape_loose(ref, len);
	if (esc == NULL)
		return -ENOMEM;
	built = xmlBuildURI((const xmlChar *)esc, (const xmlChar *)base);
	if (built != NULL) {
		r = strdup((const char *)built);
		xmlFree(built);
	} else {
		r = strndup(ref, len);	/* unresolvable: keep as written */
	}
	free(esc);
	if (r == NULL)
		return -ENOMEM;
	*ret = r;
	return 0;
}
