/* parse_json.c — JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1)
 * read with jansson into the same struct feed_doc as the XML formats.
 * jansson errors are translated here. JSON Feed has no markup in its text
 * fields except content_html, which is stripped like any HTML. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "date.h"
#include "parse_internal.h"
#include "url.h"

static int
jf_text(struct parse_ctx *pc, json_t *obj, const char *key,
    enum text_kind kind, char **ret)
{
	json_t		*v = json_object_get(obj, key);
	const char	*s;

	*ret = NULL;
	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	return text_clean_valid(pc->tc, s, json_string_length(v), kind,
	    pc->lim.max_field_bytes, ret);
}

static int
jf_url(struct parse_ctx *pc, json_t *obj, const char *key, const char *base,
    char **ret)
{
	json_t	*v = json_object_get(obj, key);

	*ret = NULL;
	if (!json_is_string(v))
		return 0;
	return url_resolve(base, json_string_value(v), ret);
}

static int
jf_date(struct parse_ctx *pc, json_t *obj, const char *key, size_t n,
    int64_t *ret)
{
	json_t	*v = json_object_get(obj, key);

	*ret = FW_TIME_NONE;
	if (!json_is_string(v))
		return 0;
	if (date_parse(json_string_value(v), ret) > 0)
		return pc_warn(pc, "item %zu: date \"%.64s\" has a month name "
		    "that is not English", n, json_string_value(v));
	if (date_parse(json_string_value(v), ret) < 0) {
		*ret = FW_TIME_NONE;
		return pc_warn(pc, "item %zu: cannot parse date \"%.64s\"", n,
		    json_string_value(v));
	}
	return 0;
}

/* JSON Feed 1.1 "authors" (array), 1.0 "author" (object): first name. */
static int
jf_author(struct parse_ctx *pc, json_t *obj, char **ret)
{
	json_t	*a = json_object_get(obj, "authors");

	*ret = NULL;
	if (json_is_array(a) && json_array_size(a) > 0)
		a = json_array_get(a, 0);
	else
		a = json_object_get(obj, "author");
	if (!json_is_object(a))
		return 0;
	return jf_text(pc, a, "name", TEXT_PLAIN, ret);
}

static int
jf_item(struct parse_ctx *pc, json_t *o, size_t n, const char *base)
{
	struct feed_item	 it;
	json_t			*v, *tag;
	size_t			 i;
	char			*s;
	int			 r;

	memset(&it, 0, sizeof(it));
	it.published = it.updated = FW_TIME_NONE;
	/* JSON Feed 1.1: "id (required, string) ... If an id is presented
	 * as a number or other type, a JSON Feed reader must coerce it to a
	 * string." */
	v = json_object_get(o, "id");
	if (json_is_string(v)) {
		r = text_clean_valid(pc->tc, json_string_value(v), json_string_length(v),
		    TEXT_PLAIN, pc->lim.max_field_bytes, &it.id);
	} else if (json_is_integer(v)) {
		r = asprintf(&it.id, "%lld", (long long)json_integer_value(v)) < 0 ?
		    -ENOMEM : 0;
	} else if (json_is_real(v)) {
		r = asprintf(&it.id, "%.17g", json_real_value(v)) < 0 ? -ENOMEM : 0;
	} else {
		r = 0;
	}
	if (r < 0)
		goto fail;
	if ((r = jf_text(pc, o, "title", TEXT_PLAIN, &it.title)) < 0 ||
	    (r = jf_url(pc, o, "url", base, &it.link)) < 0 ||
	    (r = jf_text(pc, o, "summary", TEXT_PLAIN, &it.summary)) < 0 ||
	    (r = jf_text(pc, o, "content_html", TEXT_HTML, &it.content)) < 0 ||
	    (r = jf_author(pc, o, &it.author)) < 0 ||
	    (r = jf_date(pc, o, "date_published", n, &it.published)) < 0 ||
	    (r = jf_date(pc, o, "date_modified", n, &it.updated)) < 0)
		goto fail;
	if (it.link == NULL &&
	    (r = jf_url(pc, o, "external_url", base, &it.link)) < 0)
		goto fail;
	if (it.content == NULL &&
	    (r = jf_text(pc, o, "content_text", TEXT_PLAIN, &it.content)) < 0)
		goto fail;
	tag = json_object_get(o, "tags");
	if (json_is_array(tag)) {
		json_array_foreach(tag, i, v) {
			if (!json_is_string(v))
				continue;
			r = text_clean_valid(pc->tc, json_string_value(v),
			    json_string_length(v), TEXT_PLAIN,
			    pc->lim.max_field_bytes, &s);
			if (r < 0)
				goto fail;
			if (s != NULL && (r = pc_item_add_category(&it, s)) < 0)
				goto fail;
		}
	}
	return pc_add_item(pc, &it);
fail:
	feed_item_done(&it);
	return r;
}

int
parse_json_run(struct parse_ctx *pc, const char *buf, size_t len,
    struct fw_error *reterr)
{
	json_error_t	 jerr;
	json_t		*root, *items, *v, *o;
	const char	*version, *base = pc->base_url;
	size_t		 i;
	int		 r;

	/* JSON_REJECT_DUPLICATES is not used: duplicate keys are harmless.
	 * Depth is bounded by jansson itself (JSON_PARSER_MAX_DEPTH). */
	root = json_loadb(buf, len, 0, &jerr);
	if (root == NULL) {
		fw_error_set(reterr, NULL, 0, 0,
		    "not a feed: unreadable JSON at line %d: %s", jerr.line,
		    jerr.text);
		return -EBADMSG;
	}
	v = json_object_get(root, "version");
	version = json_string_value(v);
	if (!json_is_object(root) || version == NULL ||
	    strstr(version, "jsonfeed.org/version/") == NULL) {
		fw_error_set(reterr, NULL, 0, 0,
		    "not a feed: found JSON that is not a JSON Feed");
		r = -EBADMSG;
		goto out;
	}
	pc->doc->format = FEED_FORMAT_JSONFEED1;
	pc->format_known = true;
	/* Relative URLs: against the feed's own URL if the document has one
	 * and we were not given one. */
	if (base == NULL && json_is_string(json_object_get(root, "feed_url")))
		base = json_string_value(json_object_get(root, "feed_url"));
	if ((r = jf_text(pc, root, "title", TEXT_PLAIN, &pc->doc->title)) < 0 ||
	    (r = jf_url(pc, root, "home_page_url", base, &pc->doc->link)) < 0 ||
	    (r = jf_text(pc, root, "description", TEXT_PLAIN,
	    &pc->doc->description)) < 0 ||
	    (r = jf_text(pc, root, "language", TEXT_PLAIN,
	    &pc->doc->language)) < 0)
		goto oom;
	items = json_object_get(root, "items");
	if (!json_is_array(items)) {
		r = pc_warn(pc, "JSON Feed without an \"items\" array");
		if (r < 0)
			goto oom;
		goto done;
	}
	json_array_foreach(items, i, o) {
		if (!json_is_object(o))
			continue;
		r = jf_item(pc, o, i + 1, base);
		if (r < 0)
			goto oom;
	}
done:
	r = 0;
	goto out;
oom:
	fw_error_set(reterr, NULL, 0, 0, "out of memory");
out:
	json_decref(root);
	return r;
}
