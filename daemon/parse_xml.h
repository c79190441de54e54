/* parse_xml.h — what the files of the XML reader share: the SAX state
 * (struct px), the repair pass, the charset plan. parse_xml.c drives
 * libxml2's push parser; parse_xml_sax.c turns its events into fields and
 * items; parse_xml_entity.c decides what an entity reference may expand
 * to; parse_xml_repair.c repairs bytes before libxml2 sees them;
 * parse_xml_charset.c decides how the bytes are decoded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "buf.h"
#include "parse_internal.h"
#include "xml_compat.h"

#define XML_NS_URI "http://www.w3.org/XML/1998/namespace"

/* Declared entities kept from an internal subset, at most. */
#define PX_MAX_DECLARED_ENTITIES 64
#define PX_MAX_ENTITY_LEN 1024
/* Distinct entity names looked up per document (each lookup scans them). */
#define PX_MAX_ENTITY_NAMES 128
/* Total bytes entity references may expand to in one document. */
#define PX_MAX_ENTITY_TOTAL (256 * 1024)

struct px_frame {
	uint8_t		 where;		/* enum px_where of the children */
	bool		 base_owned;
	const char	*base;		/* xml:base in effect (or NULL) */
};

struct px_ent {
	struct px_ent	*next;
	xmlEntity	 e;
};

struct px {
	struct parse_ctx	*pc;
	xmlParserCtxtPtr	 ctxt;
	enum feed_format	 format;
	uint8_t			 native;	/* NS_RSS or NS_ATOM */
	char			*atom_uri;	/* a draft's own Atom namespace */
	bool			 root_seen;
	bool			 stopped;
	int			 fatal;		/* negative errno: not a feed */
	char			 fatal_msg[256];
	int			 oom;

	size_t			 depth;
	size_t			 max_depth;
	bool			 depth_warned;
	struct px_frame		*stack;

	/* The field being captured. */
	bool			 cap;
	const struct px_rule	*cap_rule;
	size_t			 cap_depth;
	enum text_kind		 cap_kind;
	bool			 cap_markup;
	bool			 cap_truncated;
	bool			 cap_permalink;
	bool			 cap_b64;	/* the text is base64 */
	uint8_t			 cap_prio;	/* HOW_ATOMLINK: the link's */
	int			 cap_skip;
	struct buf		 text;

	/* The item being read. */
	bool			 in_item;
	size_t			 item_depth;
	struct feed_item	 item;
	uint8_t			 item_prio[_PF_MAX];
	size_t			 item_no;	/* 1-based, for warnings */
	uint8_t			 feed_prio[_PF_MAX];
	char			*feed_author;	/* Atom: inherited by entries */
	long			 sy_freq;
	int64_t			 sy_period;


	/* libxml2's error reports. */
	unsigned		 xml_errors;
	struct px_ent		*ents;
	unsigned		 n_declared;
	unsigned		 n_ents;
	size_t			 ent_bytes;
	bool			 ent_budget_warned;
	bool			 ent_warned;

	/* Rule lookups by (name, namespace, prefix, where): libxml2 interns
	 * names in its dictionary, so pointers identify them. */
	struct px_cache {
		const xmlChar		*local, *uri, *prefix;
		const struct px_rule	*rule;
		uint8_t			 where;
	}			 cache[128];

	/* Namespace URI cache (dictionary strings are interned). */
	const xmlChar		*ns_uri[4];
	uint8_t			 ns_id[4];
	unsigned		 ns_next;
};

/* ---- parse_xml_sax.c: libxml2's SAX2 callbacks (ctx is the struct px) */
void px_start(void *ctx, const xmlChar *local, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nattrs, int nb_defaulted, const xmlChar **attrs);
void px_end(void *ctx, const xmlChar *local, const xmlChar *prefix,
    const xmlChar *uri);
void px_chars(void *ctx, const xmlChar *ch, int len);
void px_serror(void *ctx, FW_XML_ERROR_CONST xmlError *err);
void px_generic_error(void *ctx, const char *msg, ...);
/* Out of memory: stops the parse. */
void px_oom(struct px *x);
/* A warning on the document (bounded), or px_oom(). */
void px_warn(struct px *x, const char *fmt, ...) _printf_(2, 3);
/* The end of the captured field, or of the item being read. */
void px_capture_end(struct px *x);
void px_item_end(struct px *x);

/* ---- parse_xml_entity.c: what entity references expand to */
xmlEntityPtr px_get_entity(void *ctx, const xmlChar *name);
void px_entity_decl(void *ctx, const xmlChar *name, int type,
    const xmlChar *publicId, const xmlChar *systemId, xmlChar *content);
/* The process-wide external entity loader: refuses everything. */
xmlParserInputPtr px_refuse_loader(const char *url, const char *id,
    xmlParserCtxtPtr ctxt);
/* Frees the entities px_get_entity() and px_entity_decl() made. */
void px_ents_free(struct px *x);

/* ---- parse_xml_repair.c: the repairs made before libxml2 reads */
enum { PXS_TEXT, PXS_CDATA, PXS_COMMENT };

/* The repair scanner, between rounds. */
struct px_scan {
	uint8_t	 in;		/* PXS_*: inside a CDATA section or comment */
	bool	 utf8;		/* repair bytes that are not UTF-8 */
	bool	 bad;		/* some byte was not UTF-8 */
	bool	 doctype;	/* entities may be declared */
	size_t	 fixes;		/* bare '<', '&' and controls */
	size_t	 refs;		/* character references repaired */
	/* A round's output when it repaired something: never more than
	 * max_out bytes (the driver's bound on a round's expansion). */
	char	*out;
	size_t	 max_out;
	size_t	 out_len, out_cap;
	bool	 changed;
};

/* One round of repairs over buf[0..len) (eof: the document ends there).
 * Sets *ret_used to what it decided; s->changed says the output is in
 * s->out rather than buf itself. Returns 0 or -ENOMEM. */
int px_scan_round(struct px_scan *s, const char *buf, size_t len, bool eof,
    size_t *ret_used);

/* ---- parse_xml_charset.c: how the bytes are decoded */
enum px_mode {
	PXM_RAW,	/* as they are (UTF-16: libxml2 decodes) */
	PXM_UTF8,	/* UTF-8: repaired and pre-scanned */
	PXM_LEGACY,	/* a legacy ASCII-compatible charset: pre-scanned */
	PXM_WAIT,	/* labelled windows-1252: decided at the end */
};

struct px_charset {
	enum px_mode	 mode;
	const char	*force;		/* encoding to force, or NULL */
	char		 enc[64];	/* a legacy encoding force points to */
	char		 label[64];	/* PXM_WAIT: the label */
	size_t		 skip;		/* a UTF-8 BOM to drop */
};

/* Registers the windows-1252 converter with libxml2 where it must be
 * (once, before any parse). */
void px_charset_init(void);
/* The converter for an encoding px_charset_plan() chose (force), or NULL;
 * the caller hands it to xmlSwitchToEncoding(). */
xmlCharEncodingHandlerPtr px_charset_handler(const char *force);
/* Decides how the document is read from its first bytes (at least 520 of
 * them, or all) and the Content-Type; warns on x about a label nothing
 * knows. */
void px_charset_plan(struct px_charset *cs, struct px *x, const char *head,
    size_t len, const char *content_type);
/* PXM_WAIT, with the whole document: UTF-8 or windows-1252. */
void px_charset_decide(struct px_charset *cs, struct px *x, const char *doc,
    size_t len);
