/* fuzz_parse.c — libFuzzer target for the parse stage.
 *
 * Every input goes through parse_feed() and, when it parses, through the
 * JSON writer; then through the streaming path parse --json uses. Anything
 * an input can do must come back as a document with warnings or as an
 * error: never a crash, a leak, undefined behaviour, unbounded memory or an
 * unbounded loop. The first byte picks a Content-Type and limits, so the
 * charset handling of RFC 7303 and the limit code are reached too; the rest
 * is the document. Bit 0x20 of it makes the streaming pass run in rounds of
 * 61 bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "parse.h"
#include "parse_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const content_types[] = {
	NULL,
	"application/rss+xml; charset=utf-8",
	"text/xml; charset=iso-8859-1",
	"application/atom+xml; charset=\"EUC-KR\"",
	"text/xml; charset=Shift_JIS",
	"application/xml; charset=utf-16",
	"text/html; charset=bogus-charset",
	"application/feed+json",
};

static FILE *devnull;

static int
fz_head(void *userdata, const struct feed_doc *doc)
{
	return parse_out_head(devnull, doc);
}

static int
fz_item(void *userdata, struct feed_item *it)
{
	return parse_out_item(devnull, it);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_limits	 lim = { 0 };
	struct feed_doc		*doc = NULL;
	struct fw_error		 err;
	const char		*ct, *buf;
	unsigned		 sel;
	int			 r;

	if (devnull == NULL) {
		devnull = fopen("/dev/null", "w");
		if (devnull == NULL)
			abort();
	}
	if (size < 1)
		return 0;
	sel = data[0];
	ct = content_types[sel % (sizeof(content_types) / sizeof(content_types[0]))];
	if (sel & 0x80) {
		/* Small limits, so the bounds themselves are exercised. */
		lim.max_items = 3;
		lim.max_depth = 8;
		lim.max_field_bytes = 64;
	}
	buf = (const char *)data + 1;
	size--;

	r = parse_feed(buf, size, (sel & 0x40) ? "https://example.com/a/b/feed.xml" :
	    NULL, ct, &lim, &doc, &err);
	if (r == 0) {
		if (parse_doc_write_json(devnull, doc) < 0)
			abort();
		if (doc->format >= _FEED_FORMAT_MAX)
			abort();
		for (size_t i = 0; i < doc->n_items; i++)
			if (doc->items[i].id == NULL)
				abort();	/* the contract: id is always there */
		doc = feed_doc_free(doc);
	}
	/* Bit 0x20: rounds of 61 bytes, so that round boundaries fall
	 * inside every construct. */
	if (sel & 0x20)
		lim.tuning.round_bytes = 61;
	r = parse_feed_ex(buf, size, "https://example.com/", ct, &lim, fz_head,
	    fz_item, NULL, &doc, &err);
	if (r == 0)
		(void)parse_out_tail(devnull, doc);
	feed_doc_free(doc);
	return 0;
}
