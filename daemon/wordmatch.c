/* wordmatch.c — patterns that begin with a whole word, indexed by that word.
 *
 * Responsible for finding every occurrence of every pattern in the tokens of
 * one normalised text. Not responsible for what a pattern means (rule.c)
 * nor for patterns that begin inside a word, as Hangul, Han and Kana terms
 * do: those stay with ac.c.
 *
 * Every pattern is filed in an open-addressing hash table under the hash of
 * its first word, its key. A pattern of one word that ends without a space
 * (" negoti", for "negotiat*") is a beginning: it occurs in every token
 * its key begins. A scan hashes each token byte by byte, looks the running
 * hash up in the table of beginnings at each length one of them has, and
 * the token's hash in the table of the other patterns. A pattern filed
 * under a hash found occurs when its bytes are those of the text from the
 * space before the token on, which one memcmp() checks: that also tells
 * two keys with one hash apart. A text of n words thus costs n hash
 * computations and a few look-ups per word, however many patterns there
 * are. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "wordmatch.h"

#define WM_NONE		UINT32_MAX

/* FNV-1a, 32 bits: it runs on byte by byte, so the hash of every
 * beginning of a token comes on the way to the hash of the token. */
#define WM_HASH_INIT	2166136261u
#define WM_HASH_MUL	16777619u
/* Filter bits per key: a word that is no key passes with a chance of
 * about 1/16. */
#define WM_FILTER_BITS	16

static inline uint32_t
wm_hash_step(uint32_t h, uint8_t b)
{
	return (h ^ b) * WM_HASH_MUL;
}

static uint32_t
wm_hash(const char *s, size_t len)
{
	uint32_t	 h = WM_HASH_INIT;
	size_t		 i;

	for (i = 0; i < len; i++)
		h = wm_hash_step(h, (uint8_t)s[i]);
	return h;
}

/* Bytes pool[off..off+len). */
struct wm_str {
	uint32_t	 off;
	uint32_t	 len;
};

struct wm_slot {
	uint32_t	 hash;
	uint32_t	 idx;		/* into the table's strings; WM_NONE: empty */
};

/* A set of strings of the pool, by content: the patterns while they are
 * added, and the keys while an index is built. */
struct wm_table {
	struct wm_slot	*slot;
	size_t		 mask;		/* slots - 1, a power of two minus one */
	size_t		 n;
};

/* A pattern as a scan needs it: its id and its bytes. */
struct wm_entry {
	uint32_t	 id;
	uint32_t	 off;
	uint32_t	 len;
};

/* The patterns of one key: entry[first..first + n). n == 0: empty. */
struct wm_bucket {
	uint32_t	 hash;
	uint32_t	 first;
	uint32_t	 n;
};

struct wm_index {
	struct wm_bucket *bucket;
	size_t		 mask;		/* buckets - 1 */
	struct wm_entry	*entry;		/* grouped by key, then by id */
	/* One bit per hash (at least WM_FILTER_BITS per key), set for the
	 * keys: most words are no key, and one bit in a small array says so
	 * where a probe of the table would take a cache miss and a branch
	 * that cannot be predicted. */
	uint64_t	*filter;
	unsigned	 filter_shift;	/* 32 - log2(bits) */
};

struct wordmatch {
	char		*pool;
	size_t		 pool_len;
	size_t		 pool_cap;
	struct wm_str	*pat;		/* by id: the pattern's bytes */
	size_t		 n_pat;
	size_t		 cap_pat;
	struct wm_table	 pat_tab;	/* over pat: same bytes, same id */
	/* After wordmatch_compile(): the beginnings, looked up by every
	 * beginning of a token as long as one of them, and the other
	 * patterns, looked up by the whole token. Two tables, so that the
	 * few beginnings are looked up in a small one. */
	struct wm_index	 begin;
	struct wm_index	 whole;
	bool		*begin_len;	/* [l]: some beginning is l bytes long */
	size_t		 max_begin;
	bool		 compiled;
};

static void
index_done(struct wm_index *x)
{
	free(x->bucket);
	free(x->entry);
	free(x->filter);
}

struct wordmatch *
wordmatch_new(void)
{
	return calloc(1, sizeof(struct wordmatch));
}

struct wordmatch *
wordmatch_free(struct wordmatch *w)
{
	if (w == NULL)
		return NULL;
	free(w->pool);
	free(w->pat);
	free(w->pat_tab.slot);
	index_done(&w->begin);
	index_done(&w->whole);
	free(w->begin_len);
	free(w);
	return NULL;
}

/* Index of the string s[0..len) with hash h in t, or WM_NONE; *ret_slot is
 * its slot, or the empty slot where it would go. */
static inline uint32_t
table_find(const struct wm_table *t, const struct wm_str *strs,
    const char *pool, uint32_t h, const char *s, size_t len, size_t *ret_slot)
{
	size_t i = h & t->mask;

	for (;; i = (i + 1) & t->mask) {
		const struct wm_slot *sl = &t->slot[i];

		if (sl->idx == WM_NONE)
			break;
		if (sl->hash == h && strs[sl->idx].len == len &&
		    memcmp(pool + strs[sl->idx].off, s, len) == 0)
			break;
	}
	*ret_slot = i;
	return t->slot[i].idx;
}

/* Makes t hold n + 1 strings at most half full, rehashing strs. */
static int
table_grow(struct wm_table *t, const struct wm_str *strs, const char *pool,
    size_t n)
{
	struct wm_table	 nt = { 0 };
	size_t		 slots = 16, i, at;

	if (t->slot != NULL && (n + 1) * 2 <= t->mask + 1)
		return 0;
	while (slots < (n + 1) * 2)
		slots *= 2;
	nt.slot = reallocarray(NULL, slots, sizeof(*nt.slot));
	if (nt.slot == NULL)
		return -ENOMEM;
	nt.mask = slots - 1;
	for (i = 0; i < slots; i++)
		nt.slot[i].idx = WM_NONE;
	for (i = 0; t->slot != NULL && i <= t->mask; i++) {
		const struct wm_slot *sl = &t->slot[i];

		if (sl->idx == WM_NONE)
			continue;
		(void)table_find(&nt, strs, pool, sl->hash,
		    pool + strs[sl->idx].off, strs[sl->idx].len, &at);
		nt.slot[at] = *sl;
	}
	nt.n = t->n;
	free(t->slot);
	*t = nt;
	return 0;
}

/* Is p[0..len) a space, words separated by one space, maybe a space? */
static bool
pattern_ok(const char *p, size_t len)
{
	size_t i;

	if (len < 2 || p[0] != ' ' || p[1] == ' ')
		return false;
	for (i = 1; i < len; i++)
		if (p[i] == ' ' && p[i - 1] == ' ')
			return false;
	return true;
}

int
wordmatch_add(struct wordmatch *w, const char *p, size_t len,
    uint32_t *ret_id)
{
	uint32_t	 h, id;
	size_t		 at;

	if (w->compiled)
		return -EBUSY;
	if (!pattern_ok(p, len))
		return -EINVAL;
	if (w->pool_len + len > UINT32_MAX || w->n_pat >= WM_NONE)
		return -ENOMEM;
	if (table_grow(&w->pat_tab, w->pat, w->pool, w->n_pat) < 0)
		return -ENOMEM;
	h = wm_hash(p, len);
	id = table_find(&w->pat_tab, w->pat, w->pool, h, p, len, &at);
	if (id != WM_NONE) {
		*ret_id = id;
		return 0;
	}
	if (array_reserve((void **)&w->pat, &w->cap_pat, w->n_pat + 1,
	    sizeof(*w->pat), 64) < 0 ||
	    array_reserve((void **)&w->pool, &w->pool_cap, w->pool_len + len,
	    1, 1024) < 0)
		return -ENOMEM;
	memcpy(w->pool + w->pool_len, p, len);
	w->pat[w->n_pat].off = (uint32_t)w->pool_len;
	w->pat[w->n_pat].len = (uint32_t)len;
	w->pool_len += len;
	id = (uint32_t)w->n_pat++;
	w->pat_tab.slot[at].hash = h;
	w->pat_tab.slot[at].idx = id;
	w->pat_tab.n++;
	*ret_id = id;
	return 0;
}

/* The first word of pattern s: its bytes after the leading space. */
static struct wm_str
first_word(const char *pool, struct wm_str s)
{
	const char	*p = pool + s.off + 1;
	const char	*sp = memchr(p, ' ', s.len - 1);
	struct wm_str	 k = { s.off + 1, 0 };

	k.len = sp != NULL ? (uint32_t)(sp - p) : s.len - 1;
	return k;
}

/* A pattern of one word without a closing space is a beginning. */
static bool
is_begin(const char *pool, struct wm_str s)
{
	return first_word(pool, s).len == s.len - 1;
}

/* The filter's bit for hash h: its high bits after a multiplication,
 * which the table's index (its low bits) does not use. */
static inline uint32_t
filter_bit(const struct wm_index *x, uint32_t h)
{
	return (h * 0x9E3779B1u) >> x->filter_shift;
}

static inline bool
filter_has(const struct wm_index *x, uint32_t h)
{
	uint32_t b = filter_bit(x, h);

	return (x->filter[b >> 6] >> (b & 63)) & 1;
}

/* Files the patterns for which is_begin() is begin in x, grouped by key. */
static int
index_build(struct wordmatch *w, struct wm_index *x, bool begin)
{
	struct wm_table	 keys = { 0 };
	struct wm_str	*key = NULL;
	uint32_t	*key_of = NULL, *fill = NULL;
	size_t		 n = w->n_pat ? w->n_pat : 1, n_key = 0, n_bucket = 16;
	size_t		 i, k, at;
	int		 r = -ENOMEM;

	key_of = reallocarray(NULL, n, sizeof(*key_of));
	key = reallocarray(NULL, n, sizeof(*key));
	x->entry = reallocarray(NULL, n, sizeof(*x->entry));
	if (key_of == NULL || key == NULL || x->entry == NULL)
		goto out;
	/* Distinct keys by content, and each pattern's key. */
	for (i = 0; i < w->n_pat; i++) {
		struct wm_str	 ks = first_word(w->pool, w->pat[i]);
		const char	*kp = w->pool + ks.off;
		uint32_t	 h = wm_hash(kp, ks.len);

		key_of[i] = WM_NONE;
		if (is_begin(w->pool, w->pat[i]) != begin)
			continue;
		if (table_grow(&keys, key, w->pool, n_key) < 0)
			goto out;
		k = table_find(&keys, key, w->pool, h, kp, ks.len, &at);
		if (k == WM_NONE) {
			k = n_key++;
			key[k] = ks;
			keys.slot[at].hash = h;
			keys.slot[at].idx = (uint32_t)k;
			keys.n++;
		}
		key_of[i] = (uint32_t)k;
	}
	while (n_bucket < n_key * 2)
		n_bucket *= 2;
	x->mask = n_bucket - 1;
	x->filter_shift = 32 - 6;
	while (x->filter_shift > 0 &&
	    ((size_t)1 << (32 - x->filter_shift)) < n_key * WM_FILTER_BITS)
		x->filter_shift--;
	x->bucket = calloc(n_bucket, sizeof(*x->bucket));
	x->filter = calloc((size_t)1 << (32 - x->filter_shift - 6),
	    sizeof(*x->filter));
	fill = calloc(n_key + 1, sizeof(*fill));
	if (x->bucket == NULL || x->filter == NULL || fill == NULL)
		goto out;
	/* fill[k + 1]: patterns of key k; then the offsets of the groups. */
	for (i = 0; i < w->n_pat; i++)
		if (key_of[i] != WM_NONE)
			fill[key_of[i] + 1]++;
	for (k = 0; k < n_key; k++) {
		uint32_t	 h = wm_hash(w->pool + key[k].off, key[k].len);
		uint32_t	 bit = filter_bit(x, h);

		fill[k + 1] += fill[k];
		for (i = h & x->mask; x->bucket[i].n != 0; i = (i + 1) & x->mask)
			;
		x->bucket[i].hash = h;
		x->bucket[i].first = fill[k];
		x->bucket[i].n = fill[k + 1] - fill[k];
		x->filter[bit >> 6] |= (uint64_t)1 << (bit & 63);
	}
	for (i = 0; i < w->n_pat; i++) {
		struct wm_entry *e;

		if (key_of[i] == WM_NONE)
			continue;
		e = &x->entry[fill[key_of[i]]++];
		e->id = (uint32_t)i;
		e->off = w->pat[i].off;
		e->len = w->pat[i].len;
	}
	r = 0;
out:
	free(keys.slot);
	free(key);
	free(key_of);
	free(fill);
	return r;
}

int
wordmatch_compile(struct wordmatch *w)
{
	size_t i;

	if (w->compiled)
		return 0;
	for (i = 0; i < w->n_pat; i++)
		if (is_begin(w->pool, w->pat[i]) &&
		    w->pat[i].len - 1 > w->max_begin)
			w->max_begin = w->pat[i].len - 1;
	w->begin_len = calloc(w->max_begin + 1, sizeof(*w->begin_len));
	if (w->begin_len == NULL)
		return -ENOMEM;
	for (i = 0; i < w->n_pat; i++)
		if (is_begin(w->pool, w->pat[i]))
			w->begin_len[w->pat[i].len - 1] = true;
	if (index_build(w, &w->begin, true) < 0 ||
	    index_build(w, &w->whole, false) < 0)
		return -ENOMEM;
	w->compiled = true;
	return 0;
}

size_t
wordmatch_pattern_count(const struct wordmatch *w)
{
	return w->n_pat;
}

/* Reports the patterns of x filed under hash h that occur at token tok of
 * t: those whose bytes are the text's from the space before it on. */
static inline int
index_scan(const struct wordmatch *w, const struct wm_index *x, uint32_t h,
    const struct norm_text *t, size_t tok, wordmatch_hit_fn fn,
    void *userdata)
{
	size_t	 from = t->tok[tok] - 1, i, q;
	int	 r;

	if (!filter_has(x, h))
		return 0;
	for (i = h & x->mask; x->bucket[i].n != 0; i = (i + 1) & x->mask) {
		const struct wm_bucket *b = &x->bucket[i];

		if (b->hash != h)
			continue;
		for (q = b->first; q < b->first + b->n; q++) {
			const struct wm_entry *e = &x->entry[q];

			if (from + e->len > t->len ||
			    memcmp(t->s + from, w->pool + e->off, e->len) != 0)
				continue;
			r = fn(userdata, e->id, tok);
			if (r != 0)
				return r;
		}
	}
	return 0;
}

int
wordmatch_scan(const struct wordmatch *w, const struct norm_text *t,
    wordmatch_hit_fn fn, void *userdata)
{
	size_t	 i, l;
	int	 r;

	if (!w->compiled)
		return -EINVAL;
	if (w->n_pat == 0)
		return 0;
	for (i = 0; i < t->n_tok; i++) {
		const char	*s = t->s + t->tok[i];
		size_t		 len = (i + 1 < t->n_tok ? t->tok[i + 1] - 1 :
		    t->len - 1) - t->tok[i];
		uint32_t	 h = WM_HASH_INIT;

		for (l = 1; l <= len; l++) {
			h = wm_hash_step(h, (uint8_t)s[l - 1]);
			if (l > w->max_begin || !w->begin_len[l])
				continue;
			r = index_scan(w, &w->begin, h, t, i, fn, userdata);
			if (r != 0)
				return r;
		}
		r = index_scan(w, &w->whole, h, t, i, fn, userdata);
		if (r != 0)
			return r;
	}
	return 0;
}
