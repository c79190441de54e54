/* fuzz_opml.c — libFuzzer target for the OPML reader and writer, and for
 * discover_links() (the HTML half of `feedwatch discover`), which read
 * what other programs and web sites produce.
 *
 * Each input is read as OPML; whatever feeds come out are written back
 * with opml_write() and read again, which must give as many feeds. The
 * same bytes are read as an HTML page for its advertised feeds. Neither
 * may crash, leak, or touch the network or a file (external entities are
 * refused; the page is never fetched here). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "opml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct opml_doc		*doc = NULL, *again = NULL;
	struct opml_out_feed	*v;
	struct discover_result	 links;
	struct fw_error		 e;
	char			*out = NULL;

	if (opml_parse((const char *)data, size, &doc, &e) == 0) {
		v = calloc(doc->n_feeds + 1, sizeof(*v));
		if (v == NULL)
			abort();
		for (size_t i = 0; i < doc->n_feeds; i++)
			v[i] = (struct opml_out_feed){ .name = doc->feeds[i].title != NULL ?
			    doc->feeds[i].title : "x", .url = doc->feeds[i].url,
			    .tags = (const char *const *)doc->feeds[i].tags,
			    .n_tags = doc->feeds[i].n_tags };
		if (opml_write("fuzz", v, doc->n_feeds, &out) == 0) {
			if (opml_parse(out, strlen(out), &again, &e) != 0 ||
			    again->n_feeds != doc->n_feeds)
				abort();
			opml_doc_free(again);
			free(out);
		}
		free(v);
		opml_doc_free(doc);
	}
	if (discover_links((const char *)data, size, "http://page.example/dir/index.html",
	    &links) == 0)
		discover_result_done(&links);
	return 0;
}
