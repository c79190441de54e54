/* parse.c — the entry of the parse stage: bounds the input, sniffs the
 * format from the content (never the file name or Content-Type) and
 * dispatches to the XML (parse_xml.c) or JSON Feed (parse_json.c) reader,
 * which hand what they read to the document builder (parse_doc.c). It
 * translates nothing from libxml2 or jansson itself; the readers report
 * through struct fw_error. It does not write output (parse_out.c does). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "date.h"
#include "parse_internal.h"

#define DEFAULT_MAX_BYTES	((size_t)64 << 20)
#define DEFAULT_MAX_ITEMS	((size_t)100000)
#define DEFAULT_MAX_DEPTH	((size_t)64)
#define DEFAULT_MAX_FIELD	((size_t)1 << 20)

static const char *const format_names[_FEED_FORMAT_MAX] = {
	[FEED_FORMAT_RSS20] = "rss2.0",
	[FEED_FORMAT_RSS10] = "rss1.0",
	[FEED_FORMAT_RSS09] = "rss0.9",
	[FEED_FORMAT_ATOM10] = "atom1.0",
	[FEED_FORMAT_ATOM03] = "atom0.3",
	[FEED_FORMAT_JSONFEED1] = "jsonfeed1",
};

const char *
feed_format_to_string(enum feed_format f)
{
	if ((unsigned)f >= _FEED_FORMAT_MAX)
		return "unknown";
	return format_names[f];
}

void
parse_limits_default(struct parse_limits *lim)
{
	lim->max_bytes = DEFAULT_MAX_BYTES;
	lim->max_items = DEFAULT_MAX_ITEMS;
	lim->max_depth = DEFAULT_MAX_DEPTH;
	lim->max_field_bytes = DEFAULT_MAX_FIELD;
	memset(&lim->tuning, 0, sizeof(lim->tuning));
}

char *
fw_time_format(int64_t t, char *buf, size_t size)
{
	return date_format_rfc3339(t, buf, size);
}

/* Skips a BOM and white space; returns the first significant byte. */
static const char *
sniff_start(const char *buf, size_t len, size_t *ret_skip)
{
	size_t i = 0;

	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' ||
	    buf[i] == '\r'))
		i++;
	*ret_skip = i;
	return buf + i;
}

static bool
starts_ci(const char *p, size_t avail, const char *word)
{
	size_t n = strlen(word);

	return avail >= n && strncasecmp(p, word, n) == 0;
}

/* Past the comments (and the white space after each) at p; NULL when one
 * does not end before end. */
static const char *
skip_comments(const char *p, const char *end)
{
	const char *q;

	while (p < end && starts_ci(p, (size_t)(end - p), "<!--")) {
		q = memmem(p, (size_t)(end - p), "-->", 3);
		if (q == NULL)
			return NULL;
		p = q + 3;
		while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
			p++;
	}
	return p;
}

/* Recognizes an HTML page without parsing it: a doctype or <html> first,
 * after comments. */
static bool
looks_like_html(const char *p, size_t avail)
{
	const char *end = p + avail;

	p = skip_comments(p, end);
	if (p == NULL)
		return false;
	return starts_ci(p, (size_t)(end - p), "<!doctype html") ||
	    starts_ci(p, (size_t)(end - p), "<html");
}

/* Junk before the document (a PHP warning, a stray line of HTML): the
 * offset of "<?xml", or else of a feed's root element, when one appears in
 * the first 4 KiB after something else; 0 when the document starts as it
 * should. ASCII-compatible input only. */
static size_t
junk_prefix(const char *p, size_t avail)
{
	static const char *const roots[] = { "<rss", "<feed", "<rdf:RDF", "<RDF" };
	size_t	n = avail < 4096 ? avail : 4096, i;
	char	*q;

	if (starts_ci(p, avail, "<?xml") || starts_ci(p, avail, "<!") ||
	    starts_ci(p, avail, "<?"))
		return 0;
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (starts_ci(p, avail, roots[i]))
			return 0;
	q = memmem(p, n, "<?xml", 5);
	if (q != NULL)
		return (size_t)(q - p);
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		q = memmem(p, n, roots[i], strlen(roots[i]));
		if (q != NULL)
			return (size_t)(q - p);
	}
	return 0;
}

/* What the start of a document is. */
enum sniff {
	SNIFF_MORE,	/* too little of it yet */
	SNIFF_XML,
	SNIFF_JSON,
};

static void
pc_init(struct parse_ctx *pc, const char *base_url,
    const struct parse_limits *lim, parse_head_fn on_head,
    parse_item_fn on_item, void *userdata)
{
	memset(pc, 0, sizeof(*pc));
	parse_limits_default(&pc->lim);
	if (lim != NULL) {
		if (lim->max_bytes > 0)
			pc->lim.max_bytes = lim->max_bytes;
		if (lim->max_items > 0)
			pc->lim.max_items = lim->max_items;
		if (lim->max_depth > 0)
			pc->lim.max_depth = lim->max_depth;
		if (lim->max_field_bytes > 0)
			pc->lim.max_field_bytes = lim->max_field_bytes;
		pc->lim.tuning = lim->tuning;
	}
	pc->base_url = base_url;
	pc->on_head = on_head;
	pc->on_item = on_item;
	pc->on_item_data = userdata;
}

static int
pc_alloc(struct parse_ctx *pc, struct fw_error *reterr)
{
	pc->doc = calloc(1, sizeof(*pc->doc));
	pc->tc = text_ctx_new();
	if (pc->doc == NULL || pc->tc == NULL) {
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
		return -ENOMEM;
	}
	text_ctx_set_html_by_libxml2(pc->tc, pc->lim.tuning.html_by_libxml2);
	return 0;
}

static void
pc_done(struct parse_ctx *pc)
{
	pc->doc = feed_doc_free(pc->doc);
	text_ctx_free(pc->tc);
	pc->tc = NULL;
	free(pc->ids);
	pc->ids = NULL;
}

/* Whether the start of an XML document in p[0..avail) is enough for
 * looks_like_html(), junk_prefix() and the encoding (the XML declaration
 * within 512 bytes of where the document starts). */
static bool
sniff_xml_enough(const char *p, size_t avail)
{
	const char *end = p + avail;

	if (avail < 8192)
		return false;
	p = skip_comments(p, end);
	if (p == NULL)
		return false;
	return end - p >= 16;
}

/* Reads the start of the document, buf[0..len) (all of it when eof), as
 * parse_feed() does: SNIFF_XML with *ret_start where libxml2 is to begin
 * (after a warning for junk before the document), SNIFF_JSON with
 * *ret_start after white space, SNIFF_MORE when more bytes are needed, or
 * a negative errno and *reterr for what is no feed. */
static int
parse_sniff(struct parse_ctx *pc, const char *buf, size_t len, bool eof,
    size_t *ret_start, struct fw_error *reterr)
{
	const char	*p;
	size_t		 skip, avail, junk;

	p = sniff_start(buf, len, &skip);
	avail = len - skip;
	if (avail == 0) {
		if (!eof)
			return SNIFF_MORE;
		fw_error_set(reterr, NULL, 0, 0, "not a feed: empty document");
		return -EBADMSG;
	}
	if (*p == '{') {
		*ret_start = skip;
		return SNIFF_JSON;
	}
	if (*p == '<' || (unsigned char)*p == 0xFE ||
	    (unsigned char)*p == 0xFF || *p == '\0') {
		if (!eof && !sniff_xml_enough(p, avail))
			return SNIFF_MORE;
		if (looks_like_html(p, avail)) {
			fw_error_set(reterr, NULL, 0, 0,
			    "not a feed: found an HTML page");
			return -EBADMSG;
		}
		junk = *p == '<' || skip > 0 ? junk_prefix(p, avail) : 0;
		/* Leading white space is dropped silently (libxml2 would
		 * object to it before "<?xml"); other junk with a warning. */
		if (junk > 0 && pc_warn(pc, "%zu bytes before the XML document "
		    "skipped", junk) < 0) {
			fw_error_set(reterr, NULL, 0, 0, "out of memory");
			return -ENOMEM;
		}
		if (skip > 0 && (unsigned char)buf[0] != 0xEF && junk == 0 &&
		    starts_ci(p, avail, "<?xml"))
			*ret_start = skip;
		else if (junk > 0)
			*ret_start = skip + junk;
		else
			*ret_start = 0;
		return SNIFF_XML;
	}
	if (*p == '[') {
		fw_error_set(reterr, NULL, 0, 0,
		    "not a feed: found a JSON array, not a JSON Feed");
		return -EBADMSG;
	} else {
		char	 shown[24];
		size_t	 i, n = avail < 16 ? avail : 16;

		if (!eof && avail < 16)
			return SNIFF_MORE;
		for (i = 0; i < n; i++)
			shown[i] = (p[i] >= 0x20 && p[i] < 0x7F) ? p[i] : '.';
		shown[n] = '\0';
		fw_error_set(reterr, NULL, 0, 0,
		    "not a feed: found neither XML nor JSON (starts with \"%s\")",
		    shown);
		return -EBADMSG;
	}
}

/* After the reader: the warnings about what was dropped, then the document
 * moves to *ret_doc. */
static int
pc_end(struct parse_ctx *pc, struct feed_doc **ret_doc, struct fw_error *reterr)
{
	int	r;

	if (pc_finish_head(pc) < 0)
		goto oom;
	if (pc->items_seen > pc->n_kept && pc->n_kept >= pc->lim.max_items) {
		r = pc_warn(pc, "feed has %zu items; kept the first %zu",
		    pc->items_seen, pc->lim.max_items);
		if (r < 0)
			goto oom;
	}
	if (pc->warnings_dropped > 0) {
		/* The cap leaves room for exactly this one. */
		char **w = realloc(pc->doc->warnings,
		    (pc->doc->n_warnings + 1) * sizeof(*w));

		if (w == NULL)
			goto oom;
		pc->doc->warnings = w;
		if (asprintf(&w[pc->doc->n_warnings], "%zu more warnings",
		    pc->warnings_dropped) < 0)
			goto oom;
		pc->doc->n_warnings++;
	}
	*ret_doc = pc->doc;
	pc->doc = NULL;
	return 0;
oom:
	fw_error_set(reterr, NULL, 0, 0, "out of memory");
	return -ENOMEM;
}

/* The whole document at once: sniff, read, end. */
static int
parse_whole(struct parse_ctx *pc, const char *buf, size_t len,
    const char *content_type, struct feed_doc **ret_doc,
    struct fw_error *reterr)
{
	size_t	start = 0;
	int	r;

	r = parse_sniff(pc, buf, len, true, &start, reterr);
	if (r == SNIFF_JSON) {
		pc->doc->format = FEED_FORMAT_JSONFEED1;
		r = parse_json_run(pc, buf + start, len - start, reterr);
	} else if (r == SNIFF_XML) {
		r = parse_xml_run(pc, buf + start, len - start, content_type,
		    reterr);
	}
	if (r < 0)
		return r;
	return pc_end(pc, ret_doc, reterr);
}

int
parse_feed_ex(const char *buf, size_t len, const char *base_url,
    const char *content_type, const struct parse_limits *lim,
    parse_head_fn on_head, parse_item_fn on_item, void *userdata,
    struct feed_doc **ret_doc, struct fw_error *reterr)
{
	struct parse_ctx	 pc;
	int			 r;

	pc_init(&pc, base_url, lim, on_head, on_item, userdata);
	if (len > pc.lim.max_bytes) {
		r = -E2BIG;
		fw_error_set(reterr, NULL, 0, 0,
		    "feed is %zu bytes, over the limit of %zu", len,
		    pc.lim.max_bytes);
		goto out;
	}
	r = pc_alloc(&pc, reterr);
	if (r == 0)
		r = parse_whole(&pc, buf, len, content_type, ret_doc, reterr);
out:
	pc_done(&pc);
	return r;
}

int
parse_feed(const char *buf, size_t len, const char *base_url,
    const char *content_type, const struct parse_limits *lim,
    struct feed_doc **ret_doc, struct fw_error *reterr)
{
	return parse_feed_ex(buf, len, base_url, content_type, lim, NULL, NULL,
	    NULL, ret_doc, reterr);
}

/*
 * The stream: the start of the document is gathered until parse_sniff()
 * can tell what it is; an XML document then goes to the XML reader piece
 * by piece (px_stream_*), anything else is gathered whole and read at the
 * end, exactly as parse_feed() would.
 */
struct parse_stream {
	struct parse_ctx	 pc;
	const char		*content_type;
	struct px_stream	*xs;
	char			*head;		/* gathered input */
	size_t			 head_len, head_cap;
	size_t			 total;		/* bytes pushed */
	bool			 whole;		/* gather all of it */
	int			 failed;	/* negative errno */
	struct fw_error		 err;
};

int
parse_stream_new_ex(const char *base_url, const char *content_type,
    const struct parse_limits *lim, parse_head_fn on_head,
    parse_item_fn on_item, void *userdata, struct parse_stream **ret,
    struct fw_error *reterr)
{
	struct parse_stream	*ps;
	int			 r;

	ps = calloc(1, sizeof(*ps));
	if (ps == NULL) {
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
		return -ENOMEM;
	}
	pc_init(&ps->pc, base_url, lim, on_head, on_item, userdata);
	ps->content_type = content_type;
	r = pc_alloc(&ps->pc, reterr);
	if (r < 0) {
		parse_stream_free(ps);
		return r;
	}
	*ret = ps;
	return 0;
}

int
parse_stream_new(const char *base_url, const char *content_type,
    const struct parse_limits *lim, struct parse_stream **ret,
    struct fw_error *reterr)
{
	return parse_stream_new_ex(base_url, content_type, lim, NULL, NULL,
	    NULL, ret, reterr);
}

struct parse_stream *
parse_stream_free(struct parse_stream *ps)
{
	if (ps == NULL)
		return NULL;
	px_stream_free(ps->xs);
	pc_done(&ps->pc);
	free(ps->head);
	free(ps);
	return NULL;
}

static int
ps_fail(struct parse_stream *ps, int r, struct fw_error *reterr)
{
	ps->failed = r;
	if (reterr != NULL)
		ps->err = *reterr;
	return r;
}

int
parse_stream_push(struct parse_stream *ps, const char *buf, size_t len,
    struct fw_error *reterr)
{
	size_t	start = 0;
	int	r;

	if (ps->failed < 0) {
		*reterr = ps->err;
		return ps->failed;
	}
	if (len == 0)
		return 0;	/* nothing new to look at */
	if (len > ps->pc.lim.max_bytes - ps->total) {
		fw_error_set(reterr, NULL, 0, 0,
		    "feed is larger than the limit of %zu bytes",
		    ps->pc.lim.max_bytes);
		return ps_fail(ps, -E2BIG, reterr);
	}
	ps->total += len;
	if (ps->xs != NULL) {
		r = px_stream_write(ps->xs, buf, len, reterr);
		return r < 0 ? ps_fail(ps, r, reterr) : 0;
	}
	if (ps->head_len == 0 && !ps->whole) {
		/* A first piece that tells what the document is goes to the
		 * reader as it is, without being gathered first. */
		r = parse_sniff(&ps->pc, buf, len, false, &start, reterr);
		if (r < 0)
			return ps_fail(ps, r, reterr);
		if (r == SNIFF_XML) {
			r = px_stream_new(&ps->pc, buf + start, len - start,
			    ps->content_type, &ps->xs, reterr);
			return r < 0 ? ps_fail(ps, r, reterr) : 0;
		}
	}
	if (bytes_append(&ps->head, &ps->head_len, &ps->head_cap, 16384,
	    ps->pc.lim.max_bytes, buf, len) < 0) {
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
		return ps_fail(ps, -ENOMEM, reterr);
	}
	if (ps->whole)
		return 0;
	r = parse_sniff(&ps->pc, ps->head, ps->head_len, false, &start, reterr);
	if (r < 0)
		return ps_fail(ps, r, reterr);
	if (r == SNIFF_JSON)
		ps->whole = true;
	if (r != SNIFF_XML)
		return 0;
	r = px_stream_new(&ps->pc, ps->head + start, ps->head_len - start,
	    ps->content_type, &ps->xs, reterr);
	if (r < 0)
		return ps_fail(ps, r, reterr);
	free(ps->head);
	ps->head = NULL;
	ps->head_len = ps->head_cap = 0;
	return 0;
}

int
parse_stream_finish(struct parse_stream *ps, struct feed_doc **ret_doc,
    struct fw_error *reterr)
{
	int	r;

	if (ps->failed < 0) {
		*reterr = ps->err;
		return ps->failed;
	}
	if (ps->xs == NULL) {
		r = parse_whole(&ps->pc, ps->head != NULL ? ps->head : "",
		    ps->head_len, ps->content_type, ret_doc, reterr);
		return r < 0 ? ps_fail(ps, r, reterr) : 0;
	}
	r = px_stream_finish(ps->xs, reterr);
	if (r == 0)
		r = pc_end(&ps->pc, ret_doc, reterr);
	return r < 0 ? ps_fail(ps, r, reterr) : 0;
}

/* Bytes read from a file descriptor at a time. A regular file under
 * PARSE_READ_LARGE is read in pieces of at most PARSE_READ_SMALL (a
 * smaller one whole, in a buffer of its size): the buffer's pages cost
 * more than the extra reads. */
#define PARSE_READ_SIZE		((size_t)128 * 1024)
#define PARSE_READ_SMALL	((size_t)32 * 1024)
#define PARSE_READ_LARGE	((size_t)2 << 20)

int
parse_feed_fd_ex(int fd, const char *base_url, const char *content_type,
    const struct parse_limits *lim, parse_head_fn on_head,
    parse_item_fn on_item, void *userdata, struct feed_doc **ret_doc,
    struct fw_error *reterr)
{
	struct parse_stream	*ps = NULL;
	struct stat		 sb;
	char			*buf;
	size_t			 size = PARSE_READ_SIZE;
	ssize_t			 n = 0;
	int			 r;

	/* One byte more than the file, so that its end is seen in the
	 * first read. */
	if (fstat(fd, &sb) != 0 || sb.st_size < 0)
		sb.st_mode = 0;
	if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size < PARSE_READ_LARGE)
		size = (uint64_t)sb.st_size < PARSE_READ_SMALL ?
		    (size_t)sb.st_size + 1 : PARSE_READ_SMALL;
	buf = malloc(size);
	if (buf == NULL) {
		fw_error_set(reterr, NULL, 0, 0, "out of memory");
		return -ENOMEM;
	}
	r = parse_stream_new_ex(base_url, content_type, lim, on_head, on_item,
	    userdata, &ps, reterr);
	while (r == 0) {
		n = read(fd, buf, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			fw_error_set(reterr, NULL, 0, 0, "read error: %s",
			    strerror(errno));
			break;
		}
		if (n == 0) {
			r = parse_stream_finish(ps, ret_doc, reterr);
			break;
		}
		r = parse_stream_push(ps, buf, (size_t)n, reterr);
	}
	parse_stream_free(ps);
	free(buf);
	return r;
}

int
parse_feed_fd(int fd, const char *base_url, const char *content_type,
    const struct parse_limits *lim, struct feed_doc **ret_doc,
    struct fw_error *reterr)
{
	return parse_feed_fd_ex(fd, base_url, content_type, lim, NULL, NULL,
	    NULL, ret_doc, reterr);
}
