/* parse_doc.c — the document builder every format reader hands its
 * findings to (the item sink): warnings, items and their identity, or the
 * caller's on_item callback when items are streamed. It knows no format.
 *
 * Identity (docs/parsing.md): an item's id is its guid / atom:id / JSON Feed
 * id; else its link; else "sha256:" and the first 32 hex digits of the
 * SHA-256 of title, summary and content. When a feed repeats an id for an
 * item whose content differs, the later item's id gets "#" and 16 hex digits
 * of the SHA-256 of its title, link, summary and content; an exact repeat is
 * listed as it is (the store keeps one row per feed and id). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "parse_internal.h"
#include "safe.h"
#include "url.h"

/*
 * Caps on the fields everything downstream shows (docs/security.md): a
 * hostile item cannot make a chat message, mail or digest too big to build
 * (summary and content are kept whole under the parser's max_field_bytes:
 * every sink that shows them cuts them to its own size).
 * Text is cut at a UTF-8 boundary and ends in "…"; a link or an id is
 * never cut, as a cut link leads elsewhere: a link over the cap is dropped,
 * an id over it is replaced by its hash.
 */
#define FIELD_MAX_TITLE		2048
#define FIELD_MAX_AUTHOR	512
#define FIELD_MAX_CATEGORY	256
#define FIELD_MAX_LINK		8192
#define FIELD_MAX_ID		2048

void
feed_item_done(struct feed_item *it)
{
	size_t	i;

	free(it->id);
	free(it->title);
	free(it->link);
	free(it->summary);
	free(it->content);
	free(it->author);
	for (i = 0; i < it->n_categories; i++)
		free(it->categories[i]);
	free(it->categories);
	memset(it, 0, sizeof(*it));
}

struct feed_doc *
feed_doc_free(struct feed_doc *doc)
{
	size_t	i;

	if (doc == NULL)
		return NULL;
	free(doc->title);
	free(doc->link);
	free(doc->description);
	free(doc->language);
	for (i = 0; i < doc->n_items; i++)
		feed_item_done(&doc->items[i]);
	free(doc->items);
	for (i = 0; i < doc->n_warnings; i++)
		free(doc->warnings[i]);
	free(doc->warnings);
	free(doc);
	return NULL;
}

int
pc_warn(struct parse_ctx *pc, const char *fmt, ...)
{
	struct feed_doc	 *doc = pc->doc;
	char		**w;
	char		 *s;
	va_list		  ap;
	int		  n;

	if (doc->n_warnings >= PARSE_MAX_WARNINGS) {
		pc->warnings_dropped++;
		return 0;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	w = realloc(doc->warnings, (doc->n_warnings + 1) * sizeof(*w));
	if (w == NULL) {
		free(s);
		return -ENOMEM;
	}
	doc->warnings = w;
	doc->warnings[doc->n_warnings++] = s;
	return 0;
}

int
pc_item_add_category(struct feed_item *it, char *s)
{
	char	**v;
	size_t	  i;

	for (i = 0; i < it->n_categories; i++)
		if (strcmp(it->categories[i], s) == 0) {
			free(s);
			return 0;
		}
	/* A bound on a hostile item: 256 categories are plenty. */
	if (it->n_categories >= 256) {
		free(s);
		return 0;
	}
	v = realloc(it->categories, (it->n_categories + 1) * sizeof(*v));
	if (v == NULL) {
		free(s);
		return -ENOMEM;
	}
	it->categories = v;
	it->categories[it->n_categories++] = s;
	return 0;
}

/* SHA-256 of the given strings, each followed by a 0x1F separator (NULL
 * counts as empty), as lowercase hex cut to hexlen digits. Nettle's plain
 * functions need no context allocation and no library initialisation: with
 * OpenSSL's EVP the first hash loaded libcrypto's configuration, a cost
 * `feedwatch parse` paid on every start (see docs/architecture.md). */
static void
hash_fields(char *out, size_t hexlen, const char *const *v, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	uint8_t			 md[SHA256_DIGEST_SIZE];
	struct sha256_ctx	 md_ctx;
	size_t			 i;

	sha256_init(&md_ctx);
	for (i = 0; i < n; i++) {
		if (v[i] != NULL)
			sha256_update(&md_ctx, strlen(v[i]), (const uint8_t *)v[i]);
		sha256_update(&md_ctx, 1, (const uint8_t *)"\x1f");
	}
	sha256_digest(&md_ctx, sizeof(md), md);
	for (i = 0; i < hexlen && i / 2 < sizeof(md); i++)
		out[i] = hex[(md[i / 2] >> ((i % 2) ? 0 : 4)) & 15];
	out[i] = '\0';
}

/* FNV-1a, for the in-memory id set only. */
static uint64_t
fnv1a(uint64_t h, const char *s)
{
	if (s == NULL)
		return h * 0x100000001b3ULL;
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= 0x1f;
	return h * 0x100000001b3ULL;
}

/* FNV-1a of the first and last 64 bytes and the length of s: enough to
 * tell items apart, without hashing every byte of every item. */
static uint64_t
fnv1a_sample(uint64_t h, const char *s)
{
	size_t	len, i;

	if (s == NULL)
		return h * 0x100000001b3ULL;
	len = strlen(s);
	for (i = 0; i < len && i < 64; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	for (i = len > 128 ? len - 64 : i; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	h ^= len;
	return h * 0x100000001b3ULL;
}

static uint64_t
item_content_hash(const struct feed_item *it)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = fnv1a(h, it->title);
	h = fnv1a(h, it->link);
	h = fnv1a_sample(h, it->summary);
	h = fnv1a_sample(h, it->content);
	return h;
}

/* Looks up (and with add, inserts) id hash h. Returns the slot. */
static struct pc_id *
ids_find(struct parse_ctx *pc, uint64_t h)
{
	size_t	i;

	if (pc->ids_cap == 0)
		return NULL;
	if (h == 0)
		h = 1;		/* 0 marks an empty slot */
	for (i = h & (pc->ids_cap - 1); pc->ids[i].hash != 0;
	    i = (i + 1) & (pc->ids_cap - 1))
		if (pc->ids[i].hash == h)
			return &pc->ids[i];
	return &pc->ids[i];
}

static int
ids_add(struct parse_ctx *pc, uint64_t h, uint64_t content)
{
	struct pc_id	*slot, *old = pc->ids;
	size_t		 oldcap = pc->ids_cap, i;

	if (h == 0)
		h = 1;
	if ((pc->ids_n + 1) * 2 > pc->ids_cap) {
		size_t cap = pc->ids_cap ? pc->ids_cap * 2 : 64;

		pc->ids = calloc(cap, sizeof(*pc->ids));
		if (pc->ids == NULL) {
			pc->ids = old;
			return -ENOMEM;
		}
		pc->ids_cap = cap;
		for (i = 0; i < oldcap; i++)
			if (old[i].hash != 0)
				*ids_find(pc, old[i].hash) = old[i];
		free(old);
	}
	slot = ids_find(pc, h);
	slot->hash = h;
	slot->content = content;
	pc->ids_n++;
	return 0;
}

/* Cuts s to at most max bytes on a UTF-8 boundary, ending in "…". Returns
 * 1 when it cut. */
static int
field_cap(char *s, size_t max)
{
	size_t len;

	if (s == NULL || strlen(s) <= max)
		return 0;
	len = max - 3;
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	memcpy(s + len, "\xe2\x80\xa6", 4);
	return 1;
}

/*
 * The one place a link becomes a link. A link that has a control
 * character, has a scheme other than http(s) or mailto (javascript:,
 * data:, file:) or is over the cap is not a link: it is dropped with a
 * warning that names it escaped. A relative link stays as written when
 * there was no base to resolve it against (`feedwatch parse FILE`); sinks
 * make only absolute http(s) and mailto links clickable.
 */
static int
link_check(struct parse_ctx *pc, char **link)
{
	const char	*why;
	int		 r;

	if (*link == NULL)
		return 0;
	if (strlen(*link) > FIELD_MAX_LINK)
		why = "longer than the cap";
	else if (safe_link_ok(*link))
		return 0;
	else if (safe_has_control(*link))
		why = "control character";
	else if (!url_has_scheme(*link))
		return 0;	/* relative, with no base to resolve it: no scheme to fear */
	else
		why = "not an http(s) or mailto URL";
	r = pc_warn(pc, "link dropped (%s): %.200s", why, *link);
	free(*link);
	*link = NULL;
	return r;
}

/* Caps and checks the feed's own title and link; may run more than once. */
int
pc_finish_head(struct parse_ctx *pc)
{
	struct feed_doc *doc = pc->doc;

	if (field_cap(doc->title, FIELD_MAX_TITLE) &&
	    pc_warn(pc, "feed title cut to %d bytes", FIELD_MAX_TITLE) < 0)
		return -ENOMEM;
	return link_check(pc, &doc->link);
}

/* Caps every field of an item before anything uses it (see FIELD_MAX_*). */
static int
item_finish(struct parse_ctx *pc, struct feed_item *it)
{
	int	cut = 0;

	cut |= field_cap(it->title, FIELD_MAX_TITLE);
	cut |= field_cap(it->author, FIELD_MAX_AUTHOR);
	for (size_t i = 0; i < it->n_categories; i++)
		cut |= field_cap(it->categories[i], FIELD_MAX_CATEGORY);
	if (cut && pc_warn(pc, "item fields over their caps were cut") < 0)
		return -ENOMEM;
	return 0;
}

/* An id over the cap becomes "sha256:" and its hash: still stable, and
 * still different from every other id. */
static int
id_cap(struct feed_item *it)
{
	const char	*v[] = { it->id };
	char		 hex[65];

	if (it->id == NULL || strlen(it->id) <= FIELD_MAX_ID)
		return 0;
	hash_fields(hex, 32, v, 1);
	free(it->id);
	if (asprintf(&it->id, "sha256:%s", hex) < 0) {
		it->id = NULL;
		return -ENOMEM;
	}
	return 0;
}

int
pc_add_item(struct parse_ctx *pc, struct feed_item *it)
{
	struct feed_doc	*doc = pc->doc;
	struct pc_id	*slot;
	uint64_t	 h, content;
	char		 hex[65];
	char		*id;
	int		 r;

	pc->items_seen++;
	if (pc->n_kept >= pc->lim.max_items) {
		/* Over the cap: counted, reported once at the end. */
		feed_item_done(it);
		return 0;
	}
	if ((r = item_finish(pc, it)) < 0)
		goto fail;
	if (it->id == NULL && it->link != NULL) {
		it->id = strdup(it->link);
		if (it->id == NULL) {
			r = -ENOMEM;
			goto fail;
		}
	}
	/* After the id took it, so that dropping a bad link does not change
	 * the item's identity. */
	if ((r = link_check(pc, &it->link)) < 0 || (r = id_cap(it)) < 0)
		goto fail;
	if (it->id == NULL) {
		const char *v[] = { it->title, it->summary, it->content };

		hash_fields(hex, 32, v, 3);
		if (asprintf(&it->id, "sha256:%s", hex) < 0) {
			it->id = NULL;
			r = -ENOMEM;
			goto fail;
		}
	}
	content = item_content_hash(it);
	h = fnv1a(0xcbf29ce484222325ULL, it->id);
	slot = ids_find(pc, h);
	if (slot != NULL && slot->hash != 0 && slot->content == content) {
		/* An exact repeat: listed as it is. Whether it is new is
		 * the store's question (it keeps one row per feed and id). */
	} else if (slot != NULL && slot->hash != 0) {
		const char *v[] = { it->title, it->link, it->summary, it->content };

		hash_fields(hex, 16, v, 4);
		if (asprintf(&id, "%s#%s", it->id, hex) < 0) {
			r = -ENOMEM;
			goto fail;
		}
		free(it->id);
		it->id = id;
		h = fnv1a(0xcbf29ce484222325ULL, it->id);
		slot = ids_find(pc, h);
		if (slot == NULL || slot->hash == 0) {
			r = ids_add(pc, h, content);
			if (r < 0)
				goto fail;
		}
	} else {
		r = ids_add(pc, h, content);
		if (r < 0)
			goto fail;
	}
	if (pc->on_item != NULL) {
		if (!pc->head_done && pc->on_head != NULL) {
			pc->head_done = true;
			r = pc_finish_head(pc);
			if (r < 0)
				goto fail;
			r = pc->on_head(pc->on_item_data, doc);
			if (r < 0)
				goto fail;
		}
		pc->n_kept++;
		r = pc->on_item(pc->on_item_data, it);
		feed_item_done(it);
		return r;
	}
	if (doc->n_items == pc->items_cap) {
		size_t		  cap = pc->items_cap ? pc->items_cap * 2 : 16;
		struct feed_item *v = realloc(doc->items, cap * sizeof(*v));

		if (v == NULL) {
			r = -ENOMEM;
			goto fail;
		}
		doc->items = v;
		pc->items_cap = cap;
	}
	doc->items[doc->n_items++] = *it;
	pc->n_kept++;
	memset(it, 0, sizeof(*it));
	return 0;
fail:
	feed_item_done(it);
	return r;
}
