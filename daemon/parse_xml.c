/* parse_xml.c — the XML side of the parse stage: one streaming SAX2 pass
 * over an RSS or Atom document with libxml2's push parser, on the calling
 * thread. No tree is built. This file drives it: the charset is planned
 * from the document's first bytes (parse_xml_charset.c), each round of
 * input is repaired (parse_xml_repair.c) and handed to libxml2, whose SAX
 * events parse_xml_sax.c turns into fields and items, with entities as
 * parse_xml_entity.c allows.
 *
 * Input: the document may arrive in pieces (px_stream_*). It is scanned,
 * repaired and handed to libxml2's push parser in rounds of 32 KiB, so a
 * large document is never held whole. A round stops before a construct the
 * bytes after it could change, and the rest waits for the next one, so the
 * result never depends on how the input was cut. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "parse_xml.h"

static pthread_once_t px_once = PTHREAD_ONCE_INIT;

static void
px_global_init(void)
{
	xmlInitParser();
	xmlSetExternalEntityLoader(px_refuse_loader);
	px_charset_init();
}

/* Bytes repaired and handed on per round, unless the parse limits' tuning
 * says otherwise (a longer round only when one construct fills a whole
 * round). */
#define PX_ROUND ((size_t)32 * 1024)
/* Pieces shorter than this are gathered before a round runs over them
 * (libxml2's push parser pays per call). */
#define PX_MIN_ROUND ((size_t)4096)
/* libxml2 is handed at most this much at a time: it copies what it gets
 * into a buffer of its own, which would otherwise grow to a round's size. */
#define PX_FEED_MAX ((size_t)8 * 1024)

struct px_stream {
	struct px		 x;
	xmlSAXHandler		 sax;
	struct px_scan		 scan;
	struct px_charset	 cs;
	bool			 started;	/* libxml2 has a context */
	size_t			 round_size;	/* a round's bytes, as a rule */
	size_t			 warn_at;	/* where the repair warnings go */
	size_t			 round;
	size_t			 fed;		/* bytes handed to libxml2 */
	/* Input not yet scanned. */
	char			*in;
	size_t			 in_len, in_cap;
	size_t			 skip;		/* bytes still to drop (a BOM) */
};

/* Creates libxml2's push parser; first is the start of the document
 * (libxml2 detects a BOM or UTF-16 from its first four bytes unless the
 * encoding is forced). Returns how many bytes of first it took. */
static int
px_stream_start(struct px_stream *s, const char *first, size_t len,
    size_t *ret_took)
{
	struct px			*x = &s->x;
	xmlCharEncodingHandlerPtr	 h;
	size_t				 n;
	int				 opts;

	n = s->cs.force == NULL ? (len < 4 ? len : 4) : 0;
	/* Process-wide set-up once (libxml2 wants xmlInitParser() before
	 * threads use it); the error hook is per thread. */
	(void)pthread_once(&px_once, px_global_init);
	if (xmlGetExternalEntityLoader() != px_refuse_loader)
		xmlSetExternalEntityLoader(px_refuse_loader);
	xmlSetGenericErrorFunc(NULL, px_generic_error);
	memset(&s->sax, 0, sizeof(s->sax));
	s->sax.initialized = XML_SAX2_MAGIC;
	s->sax.startElementNs = px_start;
	s->sax.endElementNs = px_end;
	s->sax.characters = px_chars;
	s->sax.cdataBlock = px_chars;
	s->sax.getEntity = px_get_entity;
	s->sax.entityDecl = px_entity_decl;
	s->sax.serror = px_serror;
	x->ctxt = xmlCreatePushParserCtxt(&s->sax, x, n > 0 ? first : NULL,
	    (int)n, NULL);
	if (x->ctxt == NULL)
		return -ENOMEM;
	/* XML_PARSE_NONET: libxml2's HTTP and FTP clients are linked in but
	 * never reached. They run only when libxml2 is asked to open a URL:
	 * this parser is handed bytes, never a URL, loads no DTD
	 * (XML_PARSE_DTDLOAD is off) and no external entity (the loader
	 * refuses all), and NONET stops any of those that slipped through. */
	/* No XML_PARSE_NOERROR: from libxml2 2.13 on it silences the SAX
	 * handler's serror too, where the errors become warnings. Nothing
	 * is printed either way: serror takes every error. */
	opts = XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOWARNING;
	if (s->cs.force != NULL)
		opts |= XML_PARSE_IGNORE_ENC;
	/* Without XML_PARSE_NOENT, XML_PARSE_DTDLOAD and XML_PARSE_DTDVALID
	 * libxml2 neither substitutes entities nor loads or validates a DTD. */
	(void)xmlCtxtUseOptions(x->ctxt, opts);
	if (s->cs.force != NULL && strcmp(s->cs.force, "UTF-8") == 0) {
		/* libxml2 reads UTF-8 natively. A UTF-8 "handler" would
		 * only copy every byte once more (into a raw buffer, then
		 * into the parser's). */
		(void)xmlSwitchEncoding(x->ctxt, XML_CHAR_ENCODING_UTF8);
	} else if (s->cs.force != NULL) {
		h = px_charset_handler(s->cs.force);
		if (h != NULL)
			(void)xmlSwitchToEncoding(x->ctxt, h);
	}
	s->started = true;
	s->warn_at = x->pc->doc->n_warnings;
	s->fed = n;
	*ret_took = n;
	return 0;
}

/* Hands repaired bytes to libxml2, a piece at a time. */
static void
px_stream_feed(struct px_stream *s, const char *p, size_t n)
{
	struct px	*x = &s->x;

	s->fed += n;
	while (n > 0 && !x->stopped) {
		size_t k = n < PX_FEED_MAX ? n : PX_FEED_MAX;

		(void)xmlParseChunk(x->ctxt, p, (int)k, 0);
		p += k;
		n -= k;
	}
}

/* One round over p[0..len): repairs (unless raw) and feeds what it
 * decided. Sets *ret_used to the bytes consumed (0 when one construct
 * fills the round: the next round is longer). Returns 0 or -ENOMEM. */
static int
px_stream_round(struct px_stream *s, const char *p, size_t len, bool eof,
    size_t *ret_used)
{
	size_t	used;
	int	r;

	if (s->cs.mode == PXM_RAW) {
		used = len;
		px_stream_feed(s, p, len);
	} else {
		r = px_scan_round(&s->scan, p, len, eof, &used);
		if (r < 0)
			return r;
		/* scan.out is NULL when the round only dropped bytes. */
		if (!s->scan.changed)
			px_stream_feed(s, p, used);
		else if (s->scan.out_len > 0)
			px_stream_feed(s, s->scan.out, s->scan.out_len);
	}
	s->round = used > 0 ? s->round_size : s->round * 2;
	*ret_used = used;
	return 0;
}

static int
px_in_append(struct px_stream *s, const char *p, size_t n)
{
	return bytes_append(&s->in, &s->in_len, &s->in_cap, 8192,
	    s->x.pc->lim.max_bytes, p, n);
}

/* Takes more of the document. Rounds run straight from the caller's
 * buffer: only what a round could not decide yet (a construct cut by the
 * end of a piece) and pieces too small to be worth a round wait in s->in,
 * so the document is not copied once more on its way to libxml2. A round
 * never needs the document to end after it (the scanner cuts before what
 * it cannot decide), so rounds may be shorter than s->round. */
static int
px_stream_push(struct px_stream *s, const char *p, size_t n)
{
	size_t	used, take, old, min;
	int	r;

	if (s->skip > 0) {
		take = n < s->skip ? n : s->skip;
		s->skip -= take;
		p += take;
		n -= take;
	}
	if (s->cs.mode == PXM_WAIT)
		return px_in_append(s, p, n);
	while (n > 0) {
		min = s->round < PX_MIN_ROUND ? s->round : PX_MIN_ROUND;
		if (s->in_len == 0) {
			if (n < min)
				break;
			take = n < s->round ? n : s->round;
			r = px_stream_round(s, p, take, false, &used);
			if (r < 0)
				return r;
			p += used;
			n -= used;
			if (used == 0 && take == n)
				break;	/* undecided up to the end: it waits */
			continue;
		}
		/* A round over what waits and the start of p. */
		old = s->in_len;
		take = old < min ? min : old;
		if (take > n)
			take = n;
		r = px_in_append(s, p, take);
		if (r < 0)
			return r;
		if (s->in_len < min && take == n)
			return 0;
		r = px_stream_round(s, s->in, s->in_len, false, &used);
		if (r < 0)
			return r;
		if (used >= old) {
			/* The rest of s->in is a copy of p's start. */
			p += used - old;
			n -= used - old;
			s->in_len = 0;
		} else {
			memmove(s->in, s->in + used, s->in_len - used);
			s->in_len -= used;
			p += take;
			n -= take;
		}
	}
	return px_in_append(s, p, n);
}

/* The end of the input: the rest, as the last rounds. */
static int
px_stream_drain(struct px_stream *s)
{
	size_t	off = 0, used, took = 0;
	int	r;

	if (s->cs.mode == PXM_WAIT) {
		px_charset_decide(&s->cs, &s->x, s->in, s->in_len);
		r = px_stream_start(s, s->in, s->in_len, &took);
		if (r < 0)
			return r;
		off = took;
	}
	while (off < s->in_len) {
		bool last = s->in_len - off <= s->round;

		r = px_stream_round(s, s->in + off,
		    last ? s->in_len - off : s->round, last, &used);
		if (r < 0)
			return r;
		off += used;
	}
	s->in_len = 0;
	return 0;
}

/* Puts a warning at position at among the document's warnings, as if it
 * had been added then: the bound on their number still keeps the first
 * ones. */
static int
px_warn_insert(struct parse_ctx *pc, size_t at, const char *msg)
{
	struct feed_doc	 *doc = pc->doc;
	char		**w, *s;

	if (at >= PARSE_MAX_WARNINGS) {
		pc->warnings_dropped++;
		return 0;
	}
	s = strdup(msg);
	if (s == NULL)
		return -ENOMEM;
	if (doc->n_warnings >= PARSE_MAX_WARNINGS) {
		free(doc->warnings[--doc->n_warnings]);
		pc->warnings_dropped++;
	}
	w = realloc(doc->warnings, (doc->n_warnings + 1) * sizeof(*w));
	if (w == NULL) {
		free(s);
		return -ENOMEM;
	}
	doc->warnings = w;
	memmove(w + at + 1, w + at, (doc->n_warnings - at) * sizeof(*w));
	w[at] = s;
	doc->n_warnings++;
	return 0;
}

static void
px_stream_done(struct px_stream *s)
{
	struct px	*x = &s->x;
	size_t		 i;

	px_ents_free(x);
	if (x->in_item)
		feed_item_done(&x->item);
	if (x->stack != NULL)
		for (i = 0; i <= x->max_depth && i <= x->depth; i++)
			if (x->stack[i].base_owned)
				free((char *)x->stack[i].base);
	free(x->stack);
	free(x->feed_author);
	free(x->atom_uri);
	buf_done(&x->text);
	if (x->ctxt != NULL) {
		if (x->ctxt->myDoc != NULL)
			xmlFreeDoc(x->ctxt->myDoc);
		xmlFreeParserCtxt(x->ctxt);
	}
	free(s->scan.out);
	free(s->in);
	free(s);
}

void
px_stream_free(struct px_stream *s)
{
	if (s != NULL)
		px_stream_done(s);
}

int
px_stream_new(struct parse_ctx *pc, const char *head, size_t len,
    const char *content_type, struct px_stream **ret,
    struct fw_error *reterr)
{
	struct px_stream	*s;
	struct px		*x;
	size_t			 took = 0;
	int			 r;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto oom;
	x = &s->x;
	x->pc = pc;
	x->native = NS_RSS;
	x->max_depth = pc->lim.max_depth;
	buf_init(&x->text, pc->lim.max_field_bytes);
	s->round_size = pc->lim.tuning.round_bytes > 0 ?
	    pc->lim.tuning.round_bytes : PX_ROUND;
	s->round = s->round_size;
	x->stack = calloc(x->max_depth + 1, sizeof(*x->stack));
	if (x->stack == NULL)
		goto oom;
	x->stack[0].base = pc->base_url;
	x->stack[0].where = AT_IGNORE;
	px_charset_plan(&s->cs, x, head, len, content_type);
	s->scan.utf8 = s->cs.mode == PXM_UTF8;
	/* A repair writes at most 5 bytes for one ("&" is "&#38;"), a
	 * reference at most twice its length ("&#0;" is "&#xFFFD;"). */
	s->scan.max_out = pc->lim.max_bytes <= SIZE_MAX / 8 ?
	    8 * pc->lim.max_bytes : SIZE_MAX;
	s->skip = s->cs.skip;
	if (s->cs.mode != PXM_WAIT) {
		r = px_stream_start(s, head + s->skip, len - s->skip, &took);
		if (r < 0)
			goto oom;
		took += s->skip;
		s->skip = 0;
	}
	r = px_stream_push(s, head + took, len - took);
	if (r < 0) {
		px_stream_free(s);
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
		return r;
	}
	*ret = s;
	return 0;
oom:
	px_stream_free(s);
	fw_error_set(reterr, NULL, 0, 0, "out of memory");
	return -ENOMEM;
}

int
px_stream_write(struct px_stream *s, const char *buf, size_t len,
    struct fw_error *reterr)
{
	int	r;

	r = px_stream_push(s, buf, len);
	if (r < 0)
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
	return r;
}

int
px_stream_finish(struct px_stream *s, struct fw_error *reterr)
{
	struct px		*x = &s->x;
	struct parse_ctx	*pc = x->pc;
	size_t			 i, at;
	char			 msg[128];
	int			 r;

	r = px_stream_drain(s);
	if (r < 0) {
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
		return r;
	}
	if (!x->stopped)
		(void)xmlParseChunk(x->ctxt, NULL, 0, 1);

	/* The repairs are reported before what parsing found, as they were
	 * made before it. */
	at = s->warn_at;
	if (s->scan.bad) {
		if (px_warn_insert(pc, at++, "bytes that are not UTF-8 decoded "
		    "as windows-1252") < 0)
			x->oom = 1;
	}
	if (s->scan.fixes > 0) {
		snprintf(msg, sizeof(msg), "%zu bare '<', '&' or control "
		    "character%s escaped before parsing", s->scan.fixes,
		    s->scan.fixes == 1 ? "" : "s");
		if (px_warn_insert(pc, at++, msg) < 0)
			x->oom = 1;
	}
	if (s->scan.refs > 0) {
		snprintf(msg, sizeof(msg), "%zu character reference%s that XML "
		    "does not allow repaired before parsing", s->scan.refs,
		    s->scan.refs == 1 ? "" : "s");
		if (px_warn_insert(pc, at, msg) < 0)
			x->oom = 1;
	}
	if (x->oom) {
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if (x->fatal < 0) {
		fw_error_set(reterr, NULL, 0, 0, "%s", x->fatal_msg);
		return x->fatal;
	}
	if (!x->root_seen) {
		const xmlError *e = xmlCtxtGetLastError(x->ctxt);
		char emsg[200] = "";

		if (e != NULL && e->message != NULL) {
			snprintf(emsg, sizeof(emsg), "%s", e->message);
			for (i = strlen(emsg); i > 0 && emsg[i - 1] == '\n'; i--)
				emsg[i - 1] = '\0';
		}
		fw_error_set(reterr, NULL, 0, 0, "not a feed: %s%s",
		    emsg[0] != '\0' ? "unreadable XML: " : "no root element",
		    emsg);
		return -EBADMSG;
	}
	/* A document cut short: keep the item that was being read. */
	if (x->in_item) {
		if (x->cap)
			px_capture_end(x);
		px_warn(x, "document ends inside item %zu; kept what was read",
		    x->item_no);
		px_item_end(x);
		if (x->oom) {
			fw_error_set(reterr, NULL, 0, 0, "out of memory");
			return -ENOMEM;
		}
	}
	if (x->xml_errors > 3)
		px_warn(x, "%u more XML errors", x->xml_errors - 3);
	if (pc->doc->ttl_seconds == 0 && x->sy_period > 0)
		pc->doc->ttl_seconds = x->sy_period / (x->sy_freq > 0 ? x->sy_freq : 1);
	return 0;
}

int
parse_xml_run(struct parse_ctx *pc, const char *buf, size_t len,
    const char *content_type, struct fw_error *reterr)
{
	struct px_stream	*s = NULL;
	int			 r;

	if (len > INT32_MAX) {
		fw_error_set(reterr, NULL, 0, 0, "document too large");
		return -E2BIG;
	}
	r = px_stream_new(pc, buf, len, content_type, &s, reterr);
	if (r < 0)
		return r;
	r = px_stream_finish(s, reterr);
	px_stream_free(s);
	return r;
}
