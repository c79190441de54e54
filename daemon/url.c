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

/* Length of "scheme://authority" at the start of s, or 0 when s has no
 * authority. */
static size_t
url_prefix_len(const char *s)
{
	const char *p;

	if (!url_has_scheme(s))
		return 0;
	p = strchr(s, ':');
	if (p == NULL || p[1] != '/' || p[2] != '/')
		return 0;
	p += 3;
	return (size_t)(p - s) + strcspn(p, "/?#");
}

/* RFC 3986 5.2.4 on the path of u, in place: libxml2 leaves the dot
 * segments of an absolute-path reference ("/../g" gives "http://a/../g",
 * where the RFC says "http://a/g"). */
static void
url_remove_dot_segments(char *u)
{
	char	*path = u + url_prefix_len(u), *in, *out;
	size_t	 n = strcspn(path, "?#");
	char	 end = path[n];

	if (*path != '/')
		return;
	path[n] = '\0';
	if (strstr(path, "/./") == NULL && strstr(path, "/../") == NULL &&
	    !(n >= 2 && strcmp(path + n - 2, "/.") == 0) &&
	    !(n >= 3 && strcmp(path + n - 3, "/..") == 0)) {
		path[n] = end;
		return;
	}
	in = out = path;
	while (*in != '\0') {
		if (strncmp(in, "/./", 3) == 0) {
			in += 2;
		} else if (strcmp(in, "/.") == 0) {
			in[1] = '\0';
		} else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
			in += 3;
			if (*in == '\0')
				*--in = '/';
			while (out > path && *--out != '/')
				;
		} else {
			do
				*out++ = *in++;
			while (*in != '\0' && *in != '/');
		}
	}
	/* The rest of u (query, fragment) follows the shortened path. */
	*out = '\0';
	if (end != '\0') {
		path[n] = end;
		memmove(out, path + n, strlen(path + n) + 1);
	}
}

int
url_resolve(const char *base, const char *ref, char **ret)
{
	const char	*end;
	char		*r = NULL, *esc = NULL, *besc = NULL;
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
	/* libxml2 cannot parse a base with a space or a non-ASCII byte in it
	 * (an xml:base of an IRI, a slug in UTF-8): escape it as the link.
	 * libxml2 (2.9) writes the host back unescaped, so an IRI's host
	 * stays as written, as in an absolute link to it. */
	esc = url_escape_loose(ref, len);
	besc = url_escape_loose(base, strlen(base));
	if (esc == NULL || besc == NULL) {
		free(esc);
		free(besc);
		return -ENOMEM;
	}
	built = xmlBuildURI((const xmlChar *)esc, (const xmlChar *)besc);
	if (built != NULL) {
		r = strdup((const char *)built);
		xmlFree(built);
	} else {
		r = strndup(ref, len);	/* unresolvable: keep as written */
	}
	if (r != NULL && built != NULL)
		url_remove_dot_segments(r);
	free(esc);
	free(besc);
	if (r == NULL)
		return -ENOMEM;
	*ret = r;
	return 0;
}
