/* stem.c — Snowball stems of the words of a normalised text.
 *
 * Responsible for running libstemmer over the letter words of a norm_text
 * (normalize.h) and for remembering recent stems. Not responsible for
 * deciding which rule terms are stemmed (rule.c) nor for the text's form
 * (normalize.c).
 *
 * libstemmer spends about 150 ns on a word, more than the rest of the
 * classification of that word together, while news repeats a few thousand
 * words all day. So each stemmer keeps a direct-mapped table of the last
 * word seen in each of STEM_CACHE_SLOTS slots: a repeated word costs a hash
 * and a comparison. A struct sb_stemmer keeps state between calls, so one
 * mutex, taken once per text, guards it and the table. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "stem.h"

/* The table: STEM_CACHE_SETS sets of two 32-byte slots, one 64-byte cache
 * line each (256 KiB), so that a look-up touches one line; a new word goes
 * first in its set and pushes the older one second. A word of up to 16
 * bytes is its own key, zero-padded (words hold no NUL), so comparing is
 * two 64-bit loads. */
#define STEM_CACHE_SETS		4096	/* a power of two */
#define STEM_CACHE_WORD		16	/* longer words are not remembered */

struct stem_slot {
	uint64_t	 key[2];	/* the word, zero-padded; 0: empty */
	uint8_t		 stem_len;
	char		 stem[15];
};

struct stem_set {
	struct stem_slot	 slot[2];
};

struct stem {
	struct sb_stemmer	*sb;
	size_t			 min_len;	/* shorter words stay as they are */
	pthread_mutex_t		 lock;
	struct stem_set		*cache;
};

int
stem_new(const char *language, struct stem **ret)
{
	struct stem *s;

	if (!stem_language_known(language))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->cache = aligned_alloc(64, STEM_CACHE_SETS * sizeof(*s->cache));
	if (s->cache != NULL)
		memset(s->cache, 0, STEM_CACHE_SETS * sizeof(*s->cache));
	s->sb = sb_stemmer_new(language, NULL);
	if (s->cache == NULL || s->sb == NULL ||
	    pthread_mutex_init(&s->lock, NULL) != 0) {
		if (s->sb != NULL)
			sb_stemmer_delete(s->sb);
		free(s->cache);
		free(s);
		return -ENOMEM;
	}
	/* Porter2: "If the word has two letters or less, leave it as it
	 * is." A third of news words are that short (a, of, to, in, us). */
	s->min_len = strcmp(language, "english") == 0 ||
	    strcmp(language, "en") == 0 || strcmp(language, "eng") == 0 ? 3 : 1;
	*ret = s;
	return 0;
}

struct stem *
stem_free(struct stem *s)
{
	if (s == NULL)
		return NULL;
	sb_stemmer_delete(s->sb);
	(void)pthread_mutex_destroy(&s->lock);
	free(s->cache);
	free(s);
	return NULL;
}

bool
stem_language_known(const char *language)
{
	const char **l;

	if (language == NULL)
		return false;
	for (l = sb_stemmer_list(); *l != NULL; l++)
		if (strcmp(*l, language) == 0)
			return true;
	/* Codes and other names ("en", "eng") are libstemmer's aliases,
	 * which sb_stemmer_list() does not list. */
	{
		struct sb_stemmer *sb = sb_stemmer_new(language, NULL);

		if (sb == NULL)
			return false;
		sb_stemmer_delete(sb);
		return true;
	}
}

void
stem_languages(char *buf, size_t size)
{
	const char	**l;
	size_t		  len = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (l = sb_stemmer_list(); *l != NULL && len < size; l++) {
		int n = snprintf(buf + len, size - len, "%s%s",
		    len > 0 ? ", " : "", *l);

		if (n < 0)
			break;
		len += (size_t)n;
	}
}

/* Is the token that starts with these bytes a word of letters that a
 * stemmer should see (not a number, not Hangul/Han/Kana)? */
bool
stem_is_word(const char *p, size_t len)
{
	int32_t	 cp = -1;
	ssize_t	 n;

	if ((unsigned char)p[0] < 0x80)
		return (p[0] >= 'a' && p[0] <= 'z');
	n = utf8proc_iterate((const uint8_t *)p, (ssize_t)len, &cp);
	if (n <= 0 || normalize_cp_inword(cp))
		return false;
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
		return true;
	default:
		return false;
	}
}

/* The stem of word[0..len): *ret_stem stays valid until the next call.
 * Called with s->lock held. */
/* The set of the table where word[0..len) lives, with its key; NULL for a
 * word too long to be remembered. */
static struct stem_set *
stem_set_of(const struct stem *s, const char *word, size_t len,
    uint64_t key[2])
{
	uint64_t h;

	key[0] = key[1] = 0;
	if (len > STEM_CACHE_WORD)
		return NULL;
	memcpy(key, word, len);
	h = (key[0] ^ (key[1] * 0x9E3779B97F4A7C15u)) * 0xBF58476D1CE4E5B9u;
	return &s->cache[(h >> 40) & (STEM_CACHE_SETS - 1)];
}

static int
stem_lookup(struct stem *s, const char *word, size_t len, const char **ret_stem,
    size_t *ret_len)
{
	struct stem_set	*set;
	const sb_symbol	*out;
	uint64_t	 key[2];
	char		 variant[64];
	size_t		 olen, vlen;

	set = stem_set_of(s, word, len, key);
	if (set != NULL) {
		for (int k = 0; k < 2; k++)
			if (set->slot[k].key[0] == key[0] &&
			    set->slot[k].key[1] == key[1]) {
				*ret_stem = set->slot[k].stem;
				*ret_len = set->slot[k].stem_len;
				return 0;
			}
	}
	/* A British spelling is stemmed as the American one. */
	vlen = normalize_variant(word, len, variant, sizeof(variant));
	out = vlen > 0 ? sb_stemmer_stem(s->sb, (const sb_symbol *)variant,
	    (int)vlen) : sb_stemmer_stem(s->sb, (const sb_symbol *)word,
	    (int)len);
	if (out == NULL)
		return -ENOMEM;
	olen = (size_t)sb_stemmer_length(s->sb);
	if (set != NULL && olen <= sizeof(set->slot[0].stem)) {
		set->slot[1] = set->slot[0];
		set->slot[0].key[0] = key[0];
		set->slot[0].key[1] = key[1];
		set->slot[0].stem_len = (uint8_t)olen;
		memcpy(set->slot[0].stem, out, olen);
	}
	*ret_stem = (const char *)out;
	*ret_len = olen;
	return 0;
}

int
stem_word(struct stem *s, const char *word, size_t len, char *out,
    size_t size, size_t *ret_len)
{
	const char	*st;
	size_t		 slen;
	int		 r;

	(void)pthread_mutex_lock(&s->lock);
	r = stem_lookup(s, word, len, &st, &slen);
	if (r == 0) {
		if (slen >= size)
			slen = size - 1;
		memcpy(out, st, slen);
		out[slen] = '\0';
		*ret_len = slen;
	}
	(void)pthread_mutex_unlock(&s->lock);
	return r;
}

int
stem_text(struct stem *s, const struct norm_text *in, struct norm_text *out)
{
	size_t	 i, o = 0;
	int	 r;

	/* A stem is never longer than its word: Snowball only removes and
	 * replaces endings, and the replacements are no longer. */
	r = norm_text_reserve(out, 2 * in->len + 8, in->n_tok + 1);
	if (r < 0)
		return r;
	out->n_tok = 0;
	out->s[o++] = ' ';
	(void)pthread_mutex_lock(&s->lock);
	for (i = 0; i < in->n_tok; i++) {
		const char	*w = in->s + in->tok[i];
		size_t		 wlen = (i + 1 < in->n_tok ? in->tok[i + 1] - 1 :
		    in->len - 1) - in->tok[i];
		const char	*st = w;
		size_t		 slen = wlen;

		if (wlen >= s->min_len && stem_is_word(w, wlen)) {
			r = stem_lookup(s, w, wlen, &st, &slen);
			if (r < 0)
				break;
			if (slen == 0 || slen > wlen) {
				st = w;		/* keep the contract above */
				slen = wlen;
			}
		}
		out->tok[out->n_tok++] = (uint32_t)o;
		memcpy(out->s + o, st, slen);
		o += slen;
		out->s[o++] = ' ';
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		out->len = 0;
		out->n_tok = 0;
		out->s[0] = '\0';
		return r;
	}
	if (in->n_tok == 0)
		o = in->len;	/* " " or "" */
	out->len = o;
	out->s[o] = '\0';
	return 0;
}
