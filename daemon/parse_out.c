/* parse_out.c — the output of `feedwatch parse --json`: one JSON object,
 * keys in the contract's order, null for what is missing. Written directly
 * (stdio, escaping by hand) rather than through a jansson tree: the output of
 * a large feed is as large as the feed, and building it twice would double
 * the memory and the time. Items can be written one at a time
 * (parse_out_item), so the streaming path never holds them all. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bytes16.h"
#include "parse_internal.h"

/* The first byte from p (before end) that JSON must escape: below 0x20,
 * '"' or a backslash. Sixteen bytes at a time. */
static const char *
json_escape_next(const char *p, const char *end)
{
	while (end - p >= 16) {
		v16 v = v16_load(p), esc;

		esc = (v16)(v < v16_splat(0x20)) | (v16)(v == v16_splat('"')) |
		    (v16)(v == v16_splat('\\'));
		if (v16_any(esc))
			return p + v16_first(esc);
		p += 16;
	}
	while (p < end && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	return p;
}

/* Writes s as a JSON string (or null). Input is valid UTF-8: the parser
 * guarantees it, so only the JSON escapes are needed. */
static void
json_str(FILE *out, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 len, i = 0, run = 0;

	if (s == NULL) {
		fputs_unlocked("null", out);
		return;
	}
	len = strlen(s);
	putc_unlocked('"', out);
	while (i < len) {
		unsigned char c;

		i = (size_t)(json_escape_next(s + i, s + len) - s);
		if (i >= len)
			break;
		c = (unsigned char)s[i];
		if (i > run)
			fwrite_unlocked(s + run, 1, i - run, out);
		run = ++i;
		putc_unlocked('\\', out);
		switch (c) {
		case '"':  putc_unlocked('"', out); break;
		case '\\': putc_unlocked('\\', out); break;
		case '\n': putc_unlocked('n', out); break;
		case '\t': putc_unlocked('t', out); break;
		case '\r': putc_unlocked('r', out); break;
		default:
			fputs_unlocked("u00", out);
			putc_unlocked(hex[c >> 4], out);
			putc_unlocked(hex[c & 15], out);
			break;
		}
	}
	if (len > run)
		fwrite_unlocked(s + run, 1, len - run, out);
	putc_unlocked('"', out);
}

static void
json_time(FILE *out, int64_t t)
{
	char	buf[40];

	if (t == FW_TIME_NONE) {
		fputs_unlocked("null", out);
		return;
	}
	putc_unlocked('"', out);
	fputs_unlocked(fw_time_format(t, buf, sizeof(buf)), out);
	putc_unlocked('"', out);
}

int
parse_out_head(FILE *out, const struct feed_doc *doc)
{
	fputs_unlocked("{\"format\":", out);
	json_str(out, feed_format_to_string(doc->format));
	fputs_unlocked(",\"title\":", out);
	json_str(out, doc->title);
	fputs_unlocked(",\"link\":", out);
	json_str(out, doc->link);
	fputs_unlocked(",\"description\":", out);
	json_str(out, doc->description);
	fputs_unlocked(",\"language\":", out);
	json_str(out, doc->language);
	fputs_unlocked(",\"items\":[", out);
	return ferror(out) ? -EIO : 0;
}

int
parse_out_item(FILE *out, const struct feed_item *it)
{
	size_t	i;

	fputs_unlocked("{\"id\":", out);
	json_str(out, it->id);
	fputs_unlocked(",\"title\":", out);
	json_str(out, it->title);
	fputs_unlocked(",\"link\":", out);
	json_str(out, it->link);
	fputs_unlocked(",\"summary\":", out);
	json_str(out, it->summary);
	fputs_unlocked(",\"content\":", out);
	json_str(out, it->content);
	fputs_unlocked(",\"author\":", out);
	json_str(out, it->author);
	fputs_unlocked(",\"published\":", out);
	json_time(out, it->published);
	fputs_unlocked(",\"updated\":", out);
	json_time(out, it->updated);
	fputs_unlocked(",\"categories\":[", out);
	for (i = 0; i < it->n_categories; i++) {
		if (i > 0)
			putc_unlocked(',', out);
		json_str(out, it->categories[i]);
	}
	fputs_unlocked("]}", out);
	return ferror(out) ? -EIO : 0;
}

int
parse_out_tail(FILE *out, const struct feed_doc *doc)
{
	size_t	i;

	fputs_unlocked("],\"warnings\":[", out);
	for (i = 0; i < doc->n_warnings; i++) {
		if (i > 0)
			putc_unlocked(',', out);
		json_str(out, doc->warnings[i]);
	}
	fputs_unlocked("]}\n", out);
	return ferror(out) ? -EIO : 0;
}

int
parse_doc_write_json(FILE *out, const struct feed_doc *doc)
{
	size_t	i;
	int	r;

	r = parse_out_head(out, doc);
	for (i = 0; r == 0 && i < doc->n_items; i++) {
		if (i > 0)
			putc_unlocked(',', out);
		r = parse_out_item(out, &doc->items[i]);
	}
	if (r == 0)
		r = parse_out_tail(out, doc);
	return r;
}
