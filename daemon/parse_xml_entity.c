/* parse_xml_entity.c — the entity policy of the XML reader: what an
 * entity reference may expand to, and what libxml2 may load (nothing).
 * libxml2 runs with XML_PARSE_NONET and without XML_PARSE_NOENT,
 * XML_PARSE_DTDLOAD and XML_PARSE_HUGE; the SAX handler has no
 * resolveEntity/externalSubset, the process-wide external entity loader
 * refuses everything, and entities declared in an internal subset are only
 * honoured when their replacement text is short and contains no further
 * references, so entity expansion (billion laughs) cannot amplify.
 * HTML named entities that XML does not declare (&nbsp;, &eacute;) are
 * supplied by getEntity from libxml2's HTML table.
 *
 * The repair pass (parse_xml_repair.c) hands the names XML and HTML know
 * on as numeric references, so what reaches getEntity here is a name the
 * document declares, or any name in a UTF-16 document. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/entities.h>

#include "parse_xml.h"

/* Declared entities kept from an internal subset, at most. */
#define PX_MAX_DECLARED_ENTITIES 64
#define PX_MAX_ENTITY_LEN 1024
/* Distinct entity names looked up per document (each lookup scans them). */
#define PX_MAX_ENTITY_NAMES 128
/* Total bytes entity references may expand to in one document. */
#define PX_MAX_ENTITY_TOTAL (256 * 1024)

static xmlEntityPtr
px_ent_new(struct px *x, const char *name, const char *content, size_t len)
{
	struct px_ent	*pe;

	pe = calloc(1, sizeof(*pe));
	if (pe == NULL)
		return NULL;
	pe->e.type = XML_ENTITY_DECL;
	/* A general entity: libxml2 parses its content and reports the text
	 * through the SAX handler in element content, and keeps "&name;" in
	 * an attribute value. */
	pe->e.etype = XML_INTERNAL_GENERAL_ENTITY;
	pe->e.name = (const xmlChar *)strdup(name);
	pe->e.content = (xmlChar *)strndup(content, len);
	if (pe->e.name == NULL || pe->e.content == NULL) {
		free((char *)pe->e.name);
		free(pe->e.content);
		free(pe);
		return NULL;
	}
	pe->e.length = (int)len;
	pe->next = x->ents;
	x->ents = pe;
	return &pe->e;
}

xmlEntityPtr
px_get_entity(void *ctx, const xmlChar *name)
{
	struct px	*x = ctx;
	struct px_ent	*pe;
	char		 u[8];
	int32_t		 cp;
	xmlEntityPtr	 e;

	for (pe = x->ents; pe != NULL; pe = pe->next)
		if (strcmp((const char *)pe->e.name, (const char *)name) == 0) {
			/* Bound what references can expand to in total (a
			 * document of many references to a 1 KiB entity). */
			x->ent_bytes += (size_t)pe->e.length;
			if (x->ent_bytes > PX_MAX_ENTITY_TOTAL) {
				if (!x->ent_budget_warned)
					px_warn(x, "entity references expand to "
					    "more than %d bytes; the rest are dropped",
					    PX_MAX_ENTITY_TOTAL);
				x->ent_budget_warned = true;
				return NULL;
			}
			return &pe->e;
		}
	/* Bound the cache against a document of endless distinct names. */
	if (x->n_ents >= PX_MAX_ENTITY_NAMES)
		return NULL;
	x->n_ents++;
	cp = text_entity_lookup((const char *)name, strlen((const char *)name));
	if (cp >= 0) {
		e = px_ent_new(x, (const char *)name, u,
		    text_utf8_put(u, (uint32_t)cp));
	} else {
		/* Unknown (or refused) entity: keep the reference as text,
		 * as a browser shows it, instead of losing it. The content
		 * is parsed, so its '&' is a reference too. */
		char	*lit;
		int	 n = asprintf(&lit, "&#38;%s;", (const char *)name);

		if (n < 0) {
			px_oom(x);
			return NULL;
		}
		e = px_ent_new(x, (const char *)name, lit, (size_t)n);
		free(lit);
	}
	if (e == NULL) {
		px_oom(x);
		return NULL;
	}
	return e;
}

void
px_entity_decl(void *ctx, const xmlChar *name, int type,
    const xmlChar *publicId, const xmlChar *systemId, xmlChar *content)
{
	struct px	*x = ctx;
	size_t		 len;

	if (type == XML_INTERNAL_GENERAL_ENTITY && content != NULL &&
	    (len = strlen((const char *)content)) <= PX_MAX_ENTITY_LEN &&
	    strchr((const char *)content, '&') == NULL &&
	    strchr((const char *)content, '<') == NULL &&
	    strchr((const char *)content, '%') == NULL &&
	    x->n_declared < PX_MAX_DECLARED_ENTITIES) {
		x->n_declared++;
		if (px_ent_new(x, (const char *)name, (const char *)content,
		    len) == NULL)
			px_oom(x);
		return;
	}
	if (!x->ent_warned)
		px_warn(x, "entity declaration '%.64s' ignored (external, "
		    "recursive or too large)", (const char *)name);
	x->ent_warned = true;
}

xmlParserInputPtr
px_refuse_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	return NULL;	/* no external entity, DTD or XInclude is ever read */
}

void
px_ents_free(struct px *x)
{
	while (x->ents != NULL) {
		struct px_ent *n = x->ents->next;

		free((char *)x->ents->e.name);
		free(x->ents->e.content);
		/* xmlParseEntityDecl hands the raw value to the entity that
		 * getEntity returns. */
		if (x->ents->e.orig != NULL)
			xmlFree(x->ents->e.orig);
		free(x->ents);
		x->ents = n;
	}
}
