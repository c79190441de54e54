/* opml.c — OPML subscription lists: the reader's half turns an export from
 * another feed reader into struct opml_doc, the writer's half turns the
 * configured feeds back into OPML 2.0.
 *
 * Readers export OPML in many styles: flat lists, folders as nested
 * outlines, title or only text, categories in an attribute, titles with
 * HTML entities escaped once more, encodings other than UTF-8. libxml2
 * reads the document (it decodes any encoding the XML declaration names)
 * with the feed parser's safety rules: XML_PARSE_NONET, no entity
 * substitution (no XML_PARSE_NOENT), no DTD loading, and an external
 * entity loader that refuses everything, so an OPML file can neither make
 * feedwatch read a local file nor reach the network. Titles go through
 * text_clean() as HTML, which decodes the entities escaped twice.
 *
 * Not here: deciding which feeds are new, names, and writing the config
 * (feeds_file.c, cmd_opml.c). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "buf.h"
#include "opml.h"
#include "text.h"

/* Limits for a hostile file: how many feeds, and how deep folders nest. */
#define OPML_MAX_FEEDS		20000
#define OPML_MAX_DEPTH		32
#define OPML_MAX_TITLE		512

struct opml_walk {
	struct opml_doc	*doc;
	struct text_ctx	*tc;
	char		*folders[OPML_MAX_DEPTH];
	size_t		 depth;
	size_t		 cap;
	int		 err;
};

static xmlParserInputPtr
opml_refuse_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

static void
opml_feed_done(struct opml_feed *f)
{
	free(f->url);
	free(f->html_url);
	free(f->title);
	for (size_t i = 0; i < f->n_tags; i++)
		free(f->tags[i]);
	free(f->tags);
}

struct opml_doc *
opml_doc_free(struct opml_doc *doc)
{
	if (doc == NULL)
		return NULL;
	for (size_t i = 0; i < doc->n_feeds; i++)
		opml_feed_done(&doc->feeds[i]);
	free(doc->feeds);
	free(doc->title);
	free(doc);
	return NULL;
}

/* The value of the attribute named name in any letter case (exporters
 * write xmlUrl, xmlurl and XMLURL), cleaned as kind; NULL when absent or
 * empty. Sets w->err on OOM. */
static char *
attr(struct opml_walk *w, xmlNodePtr n, const char *name, enum text_kind kind)
{
	xmlChar	*v = NULL;
	char	*out = NULL;

	for (xmlAttrPtr a = n->properties; a != NULL; a = a->next)
		if (strcasecmp((const char *)a->name, name) == 0) {
			v = xmlNodeListGetString(n->doc, a->children, 1);
			break;
		}
	if (v == NULL)
		return NULL;
	if (text_clean_valid(w->tc, (const char *)v, strlen((const char *)v), kind,
	    OPML_MAX_TITLE, &out) < 0)
		w->err = -ENOMEM;
	xmlFree(v);
	return out;
}

/* Adds tag to f unless it is there already. */
static int
add_tag(struct opml_feed *f, const char *tag)
{
	char **v;

	for (size_t i = 0; i < f->n_tags; i++)
		if (strcmp(f->tags[i], tag) == 0)
			return 0;
	v = reallocarray(f->tags, f->n_tags + 1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	f->tags = v;
	if ((f->tags[f->n_tags] = strdup(tag)) == NULL)
		return -ENOMEM;
	f->n_tags++;
	return 0;
}

/*
 * OPML 2.0: "category is a string of comma-separated slash-delimited
 * category strings, in the format defined by the RSS 2.0 category
 * element", e.g. "/Boston/Weather,/Harvard/Economics": every non-empty
 * part is a tag.
 */
static int
add_categories(struct opml_feed *f, char *cats)
{
	char	*save = NULL, *part;
	int	 r = 0;

	for (part = strtok_r(cats, ",/", &save); part != NULL && r == 0;
	    part = strtok_r(NULL, ",/", &save)) {
		while (*part == ' ')
			part++;
		if (*part != '\0')
			r = add_tag(f, part);
	}
	return r;
}

static void walk_outlines(struct opml_walk *w, xmlNodePtr parent);

static void
outline(struct opml_walk *w, xmlNodePtr n)
{
	struct opml_feed	*f, *v;
	char			*url, *title, *cats;

	url = attr(w, n, "xmlUrl", TEXT_PLAIN);
	title = attr(w, n, "title", TEXT_HTML);
	if (title == NULL)
		title = attr(w, n, "text", TEXT_HTML);
	if (url == NULL) {
		/* A folder: its feeds carry its name. Past the depth limit
		 * the folder is flattened into its parent. */
		bool pushed = title != NULL && w->depth < OPML_MAX_DEPTH;

		if (pushed)
			w->folders[w->depth++] = title;
		else
			free(title);
		walk_outlines(w, n);
		if (pushed)
			free(w->folders[--w->depth]);
		return;
	}
	if (w->doc->n_feeds == OPML_MAX_FEEDS) {
		free(url);
		free(title);
		return;
	}
	if (w->doc->n_feeds == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 16;

		v = reallocarray(w->doc->feeds, ncap, sizeof(*v));
		if (v == NULL) {
			w->err = -ENOMEM;
			free(url);
			free(title);
			return;
		}
		w->doc->feeds = v;
		w->cap = ncap;
	}
	f = &w->doc->feeds[w->doc->n_feeds++];
	memset(f, 0, sizeof(*f));
	f->url = url;
	f->title = title;
	f->html_url = attr(w, n, "htmlUrl", TEXT_PLAIN);
	for (size_t i = 0; i < w->depth && w->err == 0; i++)
		w->err = add_tag(f, w->folders[i]);
	cats = attr(w, n, "category", TEXT_PLAIN);
	if (cats != NULL && w->err == 0)
		w->err = add_categories(f, cats);
	free(cats);
	/* Some readers nest feeds under a feed; keep those too. */
	walk_outlines(w, n);
}

static void
walk_outlines(struct opml_walk *w, xmlNodePtr parent)
{
	for (xmlNodePtr n = parent->children; n != NULL && w->err == 0; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    strcasecmp((const char *)n->name, "outline") == 0)
			outline(w, n);
}

static xmlNodePtr
child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent != NULL ? parent->children : NULL; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcasecmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

int
opml_parse(const char *buf, size_t len, struct opml_doc **ret, struct fw_error *reterr)
{
	struct opml_walk	 w = { 0 };
	xmlDocPtr		 x = NULL;
	xmlNodePtr		 root, head, body, t;
	xmlChar			*s;
	int			 r;

	if (len > INT32_MAX) {
		fw_error_set(reterr, NULL, 0, 0, "the file is too large");
		return -E2BIG;
	}
	xmlInitParser();
	if (xmlGetExternalEntityLoader() != opml_refuse_loader)
		xmlSetExternalEntityLoader(opml_refuse_loader);
	x = xmlReadMemory(buf, (int)len, NULL, NULL, XML_PARSE_RECOVER | XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = x != NULL ? xmlDocGetRootElement(x) : NULL;
	if (root == NULL || strcasecmp((const char *)root->name, "opml") != 0) {
		fw_error_set(reterr, NULL, 0, 0, "not an OPML file (no <opml> element)");
		r = -EBADMSG;
		goto out;
	}
	w.doc = calloc(1, sizeof(*w.doc));
	w.tc = text_ctx_new();
	if (w.doc == NULL || w.tc == NULL) {
		r = -ENOMEM;
		goto out;
	}
	head = child(root, "head");
	t = child(head, "title");
	if (t != NULL && (s = xmlNodeGetContent(t)) != NULL) {
		if (text_clean_valid(w.tc, (const char *)s, strlen((const char *)s), TEXT_HTML,
		    OPML_MAX_TITLE, &w.doc->title) < 0)
			w.err = -ENOMEM;
		xmlFree(s);
	}
	body = child(root, "body");
	if (body != NULL && w.err == 0)
		walk_outlines(&w, body);
	r = w.err;
	if (r == 0) {
		*ret = w.doc;
		w.doc = NULL;
	}
out:
	if (r == -ENOMEM)
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
	while (w.depth > 0)
		free(w.folders[--w.depth]);
	opml_doc_free(w.doc);
	text_ctx_free(w.tc);
	xmlFreeDoc(x);
	return r;
}

/* Adds <outline> for one feed under parent. */
static int
write_feed(xmlNodePtr parent, const struct opml_out_feed *f)
{
	xmlNodePtr	 o = xmlNewChild(parent, NULL, BAD_CAST "outline", NULL);
	struct buf	 cats;
	int		 r = 0;

	if (o == NULL)
		return -ENOMEM;
	if (xmlSetProp(o, BAD_CAST "type", BAD_CAST "rss") == NULL ||
	    xmlSetProp(o, BAD_CAST "text", BAD_CAST f->name) == NULL ||
	    xmlSetProp(o, BAD_CAST "title", BAD_CAST f->name) == NULL ||
	    xmlSetProp(o, BAD_CAST "xmlUrl", BAD_CAST f->url) == NULL)
		return -ENOMEM;
	if (f->n_tags == 0)
		return 0;
	buf_init(&cats, 64 * 1024);
	/* "/tag" parts: a tag is a category of its own, not a path. */
	for (size_t i = 0; i < f->n_tags && r == 0; i++)
		r = buf_printf(&cats, "%s%s", i > 0 ? ",/" : "/", f->tags[i]);
	if (r == 0 && xmlSetProp(o, BAD_CAST "category", BAD_CAST cats.data) == NULL)
		r = -ENOMEM;
	buf_done(&cats);
	return r < 0 ? -ENOMEM : 0;
}

int
opml_write(const char *title, const struct opml_out_feed *feeds, size_t n, char **ret)
{
	xmlDocPtr	 x = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr	 root = NULL, head, body = NULL, folder;
	xmlChar		*mem = NULL;
	int		 size = 0, r = -ENOMEM;

	if (x == NULL || (root = xmlNewNode(NULL, BAD_CAST "opml")) == NULL)
		goto out;
	xmlDocSetRootElement(x, root);
	if (xmlSetProp(root, BAD_CAST "version", BAD_CAST "2.0") == NULL ||
	    (head = xmlNewChild(root, NULL, BAD_CAST "head", NULL)) == NULL ||
	    xmlNewTextChild(head, NULL, BAD_CAST "title", BAD_CAST title) == NULL ||
	    (body = xmlNewChild(root, NULL, BAD_CAST "body", NULL)) == NULL)
		goto out;
	/* Feeds without tags first, then one folder per first tag, in the
	 * order the tags first appear. */
	for (size_t i = 0; i < n; i++)
		if (feeds[i].n_tags == 0 && write_feed(body, &feeds[i]) < 0)
			goto out;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		if (feeds[i].n_tags == 0)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = feeds[j].n_tags > 0 && strcmp(feeds[j].tags[0], feeds[i].tags[0]) == 0;
		if (seen)
			continue;
		folder = xmlNewChild(body, NULL, BAD_CAST "outline", NULL);
		if (folder == NULL ||
		    xmlSetProp(folder, BAD_CAST "text", BAD_CAST feeds[i].tags[0]) == NULL ||
		    xmlSetProp(folder, BAD_CAST "title", BAD_CAST feeds[i].tags[0]) == NULL)
			goto out;
		for (size_t j = i; j < n; j++)
			if (feeds[j].n_tags > 0 && strcmp(feeds[j].tags[0], feeds[i].tags[0]) == 0 &&
			    write_feed(folder, &feeds[j]) < 0)
				goto out;
	}
	xmlDocDumpFormatMemoryEnc(x, &mem, &size, "UTF-8", 1);
	if (mem == NULL || (*ret = strndup((const char *)mem, (size_t)size)) == NULL)
		goto out;
	r = 0;
out:
	xmlFree(mem);
	xmlFreeDoc(x);
	return r;
}
