/* discover.c — from a web page's address to its feeds.
 *
 * A news site's home page names its feeds in its head, as the HTML
 * standard's "alternate" link type describes: <link rel="alternate"
 * type="application/rss+xml" href="/rss.xml">. libxml2's HTML parser reads
 * the page (no hand-written scanning: real pages are tag soup), hrefs are
 * resolved against <base href> and the page's URL, and each candidate is
 * fetched and parsed so the user sees what it is before adding it. Only
 * when a page advertises nothing are the common feed paths of its site
 * tried, and then only those that turn out to be feeds are kept.
 *
 * Not here: printing (cmd_discover.c) and writing the configuration
 * (cmd_add.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "discover.h"
#include "parse.h"
#include "text.h"
#include "url.h"

/* The MIME types of feeds in <link type>: RSS, Atom, RSS 1.0 (RDF) and
 * JSON Feed ("application/feed+json"; version 1 recommended
 * "application/json", which sites still use). */
static const char *const feed_types[] = {
	"application/rss+xml", "application/atom+xml", "application/rdf+xml",
	"application/feed+json", "application/json", "application/x.atom+xml",
	"application/x-atom+xml", "application/x-rss+xml", "text/xml",
};

/* Where sites keep their feeds when they do not say: WordPress (/feed),
 * Hugo (/index.xml), Jekyll (/feed.xml), Ghost (/rss/), Blogger, static
 * generators' /atom.xml and /rss.xml, JSON Feed's /feed.json. */
static const char *const common_paths[] = {
	"/feed", "/rss", "/atom.xml", "/index.xml", "/feed.xml", "/rss.xml",
	"/feed.json", "/atom", "/feeds/posts/default",
};

/* Pages and feeds larger than this are not read further. */
#define DISCOVER_MAX_BYTES	(8 * 1024 * 1024)
#define DISCOVER_MAX_CANDIDATES	32

static void
candidate_done(struct discover_candidate *c)
{
	free(c->url);
	free(c->type);
	free(c->link_title);
	free(c->title);
}

void
discover_result_done(struct discover_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		candidate_done(&r->v[i]);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* Adds url (owned, taken also on failure) unless it is there already. */
static int
add_candidate(struct discover_result *r, char *url, const char *type, const char *title,
    bool guessed)
{
	struct discover_candidate *v, *c;

	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].url, url) == 0) {
			free(url);
			return 0;
		}
	if (r->n == DISCOVER_MAX_CANDIDATES) {
		free(url);
		return 0;
	}
	v = reallocarray(r->v, r->n + 1, sizeof(*v));
	if (v == NULL) {
		free(url);
		return -ENOMEM;
	}
	r->v = v;
	c = &r->v[r->n++];
	memset(c, 0, sizeof(*c));
	c->url = url;
	c->guessed = guessed;
	c->newest = FW_TIME_NONE;
	if ((type != NULL && (c->type = strdup(type)) == NULL) ||
	    (title != NULL && title[0] != '\0' && (c->link_title = strdup(title)) == NULL))
		return -ENOMEM;
	return 0;
}

static bool
is_feed_type(const char *type)
{
	size_t n;

	if (type == NULL)
		return false;
	/* Parameters ("; charset=utf-8") do not change the type. */
	n = strcspn(type, "; \t");
	for (size_t i = 0; i < sizeof(feed_types) / sizeof(feed_types[0]); i++)
		if (strlen(feed_types[i]) == n && strncasecmp(type, feed_types[i], n) == 0)
			return true;
	return false;
}

/* Whether the rel attribute's space-separated tokens include "alternate". */
static bool
rel_alternate(const char *rel)
{
	const char *p = rel;

	while (p != NULL && *p != '\0') {
		size_t n;

		p += strspn(p, " \t\n\r\f");
		n = strcspn(p, " \t\n\r\f");
		if (n == 9 && strncasecmp(p, "alternate", 9) == 0)
			return true;
		p += n;
	}
	return false;
}

/* An attribute's value as plain text: white space collapsed and control
 * characters dropped (text_clean()), as every string from a page must be
 * before it reaches a terminal or the configuration. Owned; NULL when
 * absent or empty. */
static char *
prop(xmlNodePtr n, const char *name)
{
	xmlChar	*v = xmlGetProp(n, (const xmlChar *)name);
	char	*out = NULL;

	if (v != NULL && text_clean_valid(NULL, (const char *)v, strlen((const char *)v),
	    TEXT_PLAIN, 2048, &out) < 0)
		out = NULL;
	xmlFree(v);
	return out;
}

struct link_walk {
	struct discover_result	*r;
	char			*base;		/* owned: <base href> resolved, or the page URL */
	bool			 have_base;
	int			 err;
};

static void
walk(struct link_walk *w, xmlNodePtr node)
{
	for (xmlNodePtr n = node; n != NULL && w->err == 0; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		/* HTML: "the first base element with an href attribute". */
		if (!w->have_base && strcasecmp((const char *)n->name, "base") == 0) {
			char *href = prop(n, "href"), *abs = NULL;

			if (href != NULL) {
				w->have_base = true;
				if (url_resolve(w->base, href, &abs) < 0)
					w->err = -ENOMEM;
				else if (abs != NULL) {
					free(w->base);
					w->base = abs;
				}
			}
			free(href);
		} else if (strcasecmp((const char *)n->name, "link") == 0) {
			char *rel = prop(n, "rel"), *type = prop(n, "type");
			char *href = prop(n, "href"), *title = prop(n, "title"), *abs = NULL;

			if (rel_alternate(rel) && is_feed_type(type) && href != NULL) {
				if (url_resolve(w->base, href, &abs) < 0)
					w->err = -ENOMEM;
				else if (abs != NULL)
					w->err = add_candidate(w->r, abs, type, title, false);
			}
			free(rel);
			free(type);
			free(href);
			free(title);
		}
		walk(w, n->children);
	}
}

int
discover_links(const char *html, size_t len, const char *page_url,
    struct discover_result *ret)
{
	struct link_walk	 w = { .r = ret };
	htmlDocPtr		 doc;

	memset(ret, 0, sizeof(*ret));
	if ((w.base = strdup(page_url)) == NULL)
		return -ENOMEM;
	/* <base> may come after a <link> in a broken page; it applies to all
	 * of them, so find it first. */
	doc = htmlReadMemory(html, (int)(len > INT32_MAX ? INT32_MAX : len), page_url, NULL,
	    HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	if (doc != NULL) {
		struct discover_result	 none = { 0 };
		struct link_walk	 pass = { .r = &none, .base = w.base };

		walk(&pass, xmlDocGetRootElement(doc));
		discover_result_done(&none);
		w.base = pass.base;
		w.have_base = true;	/* found or not, the first pass settled it */
		if (pass.err == 0)
			walk(&w, xmlDocGetRootElement(doc));
		else
			w.err = pass.err;
		xmlFreeDoc(doc);
	}
	free(w.base);
	if (w.err < 0)
		discover_result_done(ret);
	return w.err;
}

/* Fetches and parses c, filling in what it is. */
static void
check_candidate(struct discover_candidate *c, const struct fetch_opts *opts)
{
	struct fetch_result	 res = { 0 };
	struct feed_doc		*doc = NULL;
	struct fw_error		 e;

	if (fetch_source(c->url, opts, &res, &e) < 0) {
		snprintf(c->error, sizeof(c->error), "%s", e.msg);
		return;
	}
	if (res.status < 200 || res.status > 299)
		snprintf(c->error, sizeof(c->error), "HTTP %ld", res.status);
	else if (parse_feed(res.body != NULL ? res.body : "", res.len,
	    res.effective_url != NULL ? res.effective_url : c->url, res.content_type, NULL,
	    &doc, &e) < 0)
		snprintf(c->error, sizeof(c->error), "%s", e.msg);
	else {
		c->ok = true;
		c->format = doc->format;
		c->n_items = doc->n_items;
		if (doc->title != NULL && (c->title = strdup(doc->title)) == NULL)
			c->ok = false;
		for (size_t i = 0; i < doc->n_items; i++) {
			int64_t t = doc->items[i].published != FW_TIME_NONE ?
			    doc->items[i].published : doc->items[i].updated;

			if (t != FW_TIME_NONE && (c->newest == FW_TIME_NONE || t > c->newest))
				c->newest = t;
		}
		feed_doc_free(doc);
	}
	fetch_result_done(&res);
}

int
discover_run(const char *url, const struct fetch_opts *opts, struct discover_result *ret,
    struct fw_error *reterr)
{
	struct fetch_result	 page = { 0 };
	struct fetch_opts	 o = *opts;
	struct feed_doc		*doc = NULL;
	struct fw_error		 e;
	const char		*base;
	char			*abs;
	int			 r;

	memset(ret, 0, sizeof(*ret));
	if (o.max_bytes == 0 || o.max_bytes > DISCOVER_MAX_BYTES)
		o.max_bytes = DISCOVER_MAX_BYTES;
	if ((r = fetch_source(url, &o, &page, reterr)) < 0)
		return r;
	if (page.status < 200 || page.status > 299) {
		fw_error_set(reterr, url, 0, 0, "HTTP %ld", page.status);
		r = -EIO;
		goto out;
	}
	base = page.effective_url != NULL ? page.effective_url : url;
	/* A feed's own address: nothing to discover. */
	if (parse_feed(page.body != NULL ? page.body : "", page.len, base, page.content_type,
	    NULL, &doc, &e) == 0) {
		feed_doc_free(doc);
		ret->page_is_feed = true;
		if ((abs = strdup(url)) == NULL || add_candidate(ret, abs, NULL, NULL, false) < 0) {
			r = -ENOMEM;
			goto out;
		}
	} else if ((r = discover_links(page.body != NULL ? page.body : "", page.len, base,
	    ret)) < 0)
		goto out;
	if (ret->n == 0)
		for (size_t i = 0; i < sizeof(common_paths) / sizeof(common_paths[0]); i++) {
			if (url_resolve(base, common_paths[i], &abs) < 0 || abs == NULL ||
			    add_candidate(ret, abs, NULL, NULL, true) < 0) {
				r = -ENOMEM;
				goto out;
			}
		}
	for (size_t i = 0; i < ret->n; i++)
		check_candidate(&ret->v[i], &o);
	/* A guess that is not a feed is no news: drop it. */
	for (size_t i = 0; i < ret->n;) {
		if (ret->v[i].guessed && !ret->v[i].ok) {
			candidate_done(&ret->v[i]);
			memmove(&ret->v[i], &ret->v[i + 1], (ret->n - i - 1) * sizeof(ret->v[0]));
			ret->n--;
		} else
			i++;
	}
	r = 0;
out:
	if (r == -ENOMEM)
		fw_error_set(reterr, url, 0, 0, "out of memory");
	if (r < 0)
		discover_result_done(ret);
	fetch_result_done(&page);
	return r;
}

const struct discover_candidate *
discover_best(const struct discover_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].ok)
			return &r->v[i];
	return NULL;
}
