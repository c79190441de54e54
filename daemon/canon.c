/* canon.c — canonical links: one identity for one article whatever feed,
 * tracker or mobile host it came through. What is dropped is what
 * publishers and aggregators add to a link without changing the article
 * (RULES.md rule 2: "same URL with tracking parameters, a different host
 * prefix, or via an aggregator feed"). Path case and parameter values are
 * kept: servers may tell them apart. Relative resolution stays in url.c. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "canon.h"

const char *const canon_default_strip_params[] = {
	"utm_*", "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid",
	"ref", "ref_src", "ref_url", "cmpid", "ocid", "smid", "soc_src", "soc_trk",
	"igshid", "_ga", "outputType", NULL,
};
const char *const canon_default_host_prefixes[] = { "www.", "m.", "amp.", "mobile.", NULL };
const char *const canon_default_aggregators[] = { "news.google.com", NULL };

#define CANON_MAX_PARAMS	64

static size_t
list_len(const char *const *v)
{
	size_t n = 0;

	while (v[n] != NULL)
		n++;
	return n;
}

static void
opts_lists(const struct canon_opts *o, const char *const **strip, size_t *n_strip,
    const char *const **hosts, size_t *n_hosts, const char *const **aggr, size_t *n_aggr)
{
	*strip = canon_default_strip_params;
	*n_strip = list_len(canon_default_strip_params);
	*hosts = canon_default_host_prefixes;
	*n_hosts = list_len(canon_default_host_prefixes);
	*aggr = canon_default_aggregators;
	*n_aggr = list_len(canon_default_aggregators);
	if (o == NULL)
		return;
	if (o->strip_params != NULL) {
		*strip = o->strip_params;
		*n_strip = o->n_strip_params;
	}
	if (o->host_prefixes != NULL) {
		*hosts = o->host_prefixes;
		*n_hosts = o->n_host_prefixes;
	}
	if (o->aggregators != NULL) {
		*aggr = o->aggregators;
		*n_aggr = o->n_aggregators;
	}
}

/* The parts of an http(s) URL, as spans of the original string. */
struct url_parts {
	const char	*host;
	size_t		 host_len;
	const char	*port;
	size_t		 port_len;
	bool		 https;
	const char	*path;
	size_t		 path_len;
	const char	*query;		/* after '?', NULL when none */
	size_t		 query_len;
};

static bool
url_split(const char *s, struct url_parts *u)
{
	const char *p, *auth, *end, *at, *colon;

	memset(u, 0, sizeof(*u));
	while (isspace((unsigned char)*s))
		s++;
	if (strncasecmp(s, "https://", 8) == 0) {
		u->https = true;
		auth = s + 8;
	} else if (strncasecmp(s, "http://", 7) == 0)
		auth = s + 7;
	else
		return false;
	end = auth + strcspn(auth, "/?#");
	/* user:password@ is no part of the article's identity. */
	at = memchr(auth, '@', (size_t)(end - auth));
	if (at != NULL)
		auth = at + 1;
	colon = memchr(auth, ':', (size_t)(end - auth));
	u->host = auth;
	u->host_len = (size_t)((colon != NULL ? colon : end) - auth);
	if (colon != NULL) {
		u->port = colon + 1;
		u->port_len = (size_t)(end - colon - 1);
	}
	if (u->host_len == 0)
		return false;
	p = end;
	u->path = p;
	u->path_len = strcspn(p, "?#");
	p += u->path_len;
	if (*p == '?') {
		u->query = p + 1;
		u->query_len = strcspn(p + 1, "#");
	}
	/* Trailing white space in a link is no part of it. */
	while (u->query == NULL && u->path_len > 0 &&
	    isspace((unsigned char)u->path[u->path_len - 1]))
		u->path_len--;
	while (u->query != NULL && u->query_len > 0 &&
	    isspace((unsigned char)u->query[u->query_len - 1]))
		u->query_len--;
	return true;
}

static bool
param_stripped(const char *name, size_t len, const char *const *strip, size_t n_strip)
{
	for (size_t i = 0; i < n_strip; i++) {
		size_t sl = strlen(strip[i]);

		if (sl > 0 && strip[i][sl - 1] == '*') {
			if (len >= sl - 1 && strncasecmp(name, strip[i], sl - 1) == 0)
				return true;
		} else if (sl == len && strncasecmp(name, strip[i], len) == 0)
			return true;
	}
	return false;
}

struct span {
	const char	*s;
	size_t		 len;
};

static int
cmp_span(const void *a, const void *b)
{
	const struct span	*x = a, *y = b;
	size_t			 n = x->len < y->len ? x->len : y->len;
	int			 c = memcmp(x->s, y->s, n);

	return c != 0 ? c : x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

static int
append(struct buf *b, const char *s, size_t len)
{
	return buf_append(b, s, len);
}

int
canon_link(const char *link, const struct canon_opts *o, char **ret)
{
	const char *const	*strip, *const *hosts, *const *aggr;
	size_t			 n_strip, n_hosts, n_aggr, n_params = 0;
	struct url_parts	 u;
	struct span		 params[CANON_MAX_PARAMS];
	struct buf		 b;
	char			*out;
	int			 r = 0;

	if (!url_split(link, &u)) {
		out = strdup(link);
		if (out == NULL)
			return -ENOMEM;
		*ret = out;
		return 0;
	}
	opts_lists(o, &strip, &n_strip, &hosts, &n_hosts, &aggr, &n_aggr);
	(void)aggr;
	(void)n_aggr;
	buf_init(&b, strlen(link) + 16);
	/* One prefix at most: "m.www.example.com" is not a form anyone uses,
	 * and a host of its own may start with "m." once its prefix is gone. */
	for (size_t i = 0; i < n_hosts; i++) {
		size_t pl = strlen(hosts[i]);

		if (pl > 0 && u.host_len > pl + 1 && strncasecmp(u.host, hosts[i], pl) == 0 &&
		    memchr(u.host + pl, '.', u.host_len - pl) != NULL) {
			u.host += pl;
			u.host_len -= pl;
			break;
		}
	}
	r |= append(&b, "https://", 8);
	for (size_t i = 0; i < u.host_len; i++) {
		char c = (char)tolower((unsigned char)u.host[i]);

		r |= append(&b, &c, 1);
	}
	/* A trailing dot names the same host. */
	if (b.len > 8 && b.data[b.len - 1] == '.')
		b.data[--b.len] = '\0';
	if (u.port_len > 0 && !(u.port_len == 2 && memcmp(u.port, "80", 2) == 0) &&
	    !(u.port_len == 3 && memcmp(u.port, "443", 3) == 0)) {
		r |= append(&b, ":", 1);
		r |= append(&b, u.port, u.port_len);
	}
	/* The path without "amp" segments, empty segments and a trailing
	 * slash: /amp/x, /x/amp and /x/ are /x. */
	for (size_t i = 0; i < u.path_len;) {
		size_t		 j = i + 1, len;
		const char	*seg;

		while (j < u.path_len && u.path[j] != '/')
			j++;
		seg = u.path + i + 1;
		len = j - i - 1;
		if (u.path[i] == '/' && len > 0 && !(len == 3 && strncasecmp(seg, "amp", 3) == 0)) {
			r |= append(&b, "/", 1);
			r |= append(&b, seg, len);
		} else if (u.path[i] != '/')
			r |= append(&b, u.path + i, j - i);
		i = j;
	}
	/* ".amp.html" is the AMP twin of ".html". */
	if (b.len > 9 && memcmp(b.data + b.len - 9, ".amp.html", 9) == 0) {
		memmove(b.data + b.len - 9, ".html", 5);
		b.len -= 4;
		b.data[b.len] = '\0';
	}
	for (size_t i = 0; u.query != NULL && i < u.query_len;) {
		size_t	j = i, eq;

		while (j < u.query_len && u.query[j] != '&' && u.query[j] != ';')
			j++;
		for (eq = i; eq < j && u.query[eq] != '='; eq++)
			;
		if (j > i && !param_stripped(u.query + i, eq - i, strip, n_strip) &&
		    n_params < CANON_MAX_PARAMS)
			params[n_params++] = (struct span){ u.query + i, j - i };
		i = j + 1;
	}
	/* Parameter order is the publisher's whim, not the article's. */
	qsort(params, n_params, sizeof(params[0]), cmp_span);
	for (size_t i = 0; i < n_params; i++) {
		r |= append(&b, i == 0 ? "?" : "&", 1);
		r |= append(&b, params[i].s, params[i].len);
	}
	if (r < 0 || (out = buf_take(&b)) == NULL) {
		buf_done(&b);
		return -ENOMEM;
	}
	*ret = out;
	return 0;
}

static bool
host_is(const struct url_parts *u, const char *host)
{
	return u->host != NULL && host != NULL && strlen(host) == u->host_len &&
	    strncasecmp(u->host, host, u->host_len) == 0;
}

static bool
is_aggregator(const char *link, const struct canon_opts *o)
{
	const char *const	*strip = NULL, *const *hosts = NULL, *const *aggr = NULL;
	size_t			 n_strip = 0, n_hosts = 0, n_aggr = 0;
	struct url_parts	 u;

	if (link == NULL || !url_split(link, &u))
		return false;
	opts_lists(o, &strip, &n_strip, &hosts, &n_hosts, &aggr, &n_aggr);
	for (size_t i = 0; i < n_aggr; i++)
		/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): aggr holds n_aggr strings. */
		if (host_is(&u, aggr[i]))
			return true;
	return false;
}

/* Whether candidate is an http(s) URL on another host than the aggregator. */
static bool
is_publisher(const char *candidate, const struct canon_opts *o)
{
	struct url_parts u;

	return url_split(candidate, &u) && !is_aggregator(candidate, o);
}

static int
dup_out(const char *s, size_t len, char **ret)
{
	char *p = strndup(s, len);

	if (p == NULL)
		return -ENOMEM;
	*ret = p;
	return 1;
}

static int
hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

int
canon_publisher_link(const char *link, const char *source_url, const char *text,
    const struct canon_opts *o, char **ret)
{
	const char	*p, *q;

	if (!is_aggregator(link, o))
		return 0;
	if (source_url != NULL && is_publisher(source_url, o))
		return dup_out(source_url, strlen(source_url), ret);
	for (p = text; p != NULL && (p = strstr(p, "http")) != NULL; p++) {
		size_t len = strcspn(p, " \t\r\n\"'<>");

		while (len > 0 && strchr(".,;:)]", p[len - 1]) != NULL)
			len--;
		if (len > 0) {
			char	 tmp[2048];

			if (len >= sizeof(tmp))
				continue;
			memcpy(tmp, p, len);
			tmp[len] = '\0';
			if (is_publisher(tmp, o))
				return dup_out(p, len, ret);
		}
	}
	/* A redirect of the form .../url?url=https%3A%2F%2F... */
	q = strchr(link, '?');
	for (p = q; p != NULL; p = strchr(p + 1, '&')) {
		char	*out, *w;

		if (strncmp(p + 1, "url=", 4) != 0)
			continue;
		p += 5;
		out = malloc(strcspn(p, "&#") + 1);
		if (out == NULL)
			return -ENOMEM;
		for (w = out; *p != '\0' && *p != '&' && *p != '#'; p++) {
			if (*p == '%' && hexval((unsigned char)p[1]) >= 0 &&
			    hexval((unsigned char)p[2]) >= 0) {
				*w++ = (char)(hexval((unsigned char)p[1]) * 16 +
				    hexval((unsigned char)p[2]));
				p += 2;
			} else
				*w++ = *p;
		}
		*w = '\0';
		if (is_publisher(out, o)) {
			*ret = out;
			return 1;
		}
		free(out);
		break;
	}
	return 0;
}
