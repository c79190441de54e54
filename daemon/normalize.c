/* normalize.c — Unicode normalisation and tokenisation for topic rules.
 *
 * Responsible for turning any UTF-8 field into the canonical token string
 * described in normalize.h, the same way for rule terms and for item text,
 * so that matching is plain byte comparison. Not responsible for matching
 * (ac.c) nor for rule syntax (rule.c).
 *
 * utf8proc does the Unicode work: NFKC (full-width letters, ligatures and
 * half-width kana fold to their plain forms), full case folding and the
 * lumping of look-alike punctuation. Pure-ASCII text, the common case for
 * English feeds, takes a byte loop with the same result. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "buf.h"
#include "normalize.h"

enum cp_class {
	CP_SEP,
	CP_ALPHA,
	CP_DIGIT,
	CP_INWORD,
	CP_MARK,
};

void
norm_text_init(struct norm_text *t)
{
	memset(t, 0, sizeof(*t));
}

void
norm_text_done(struct norm_text *t)
{
	free(t->s);
	free(t->tok);
	free(t->cp);
	norm_text_init(t);
}

bool
normalize_cp_inword(int32_t cp)
{
	return (cp >= 0x1100 && cp <= 0x11FF) ||	/* Hangul Jamo */
	    (cp >= 0x3005 && cp <= 0x3007) ||		/* 々 〆 〇 */
	    (cp >= 0x3040 && cp <= 0x30FF) ||		/* Hiragana, Katakana */
	    (cp >= 0x3130 && cp <= 0x318F) ||		/* Hangul compat. Jamo */
	    (cp >= 0x31F0 && cp <= 0x31FF) ||		/* Katakana ext. */
	    (cp >= 0x3400 && cp <= 0x4DBF) ||		/* Han ext. A */
	    (cp >= 0x4E00 && cp <= 0x9FFF) ||		/* Han */
	    (cp >= 0xA960 && cp <= 0xA97F) ||		/* Hangul Jamo ext. A */
	    (cp >= 0xAC00 && cp <= 0xD7FF) ||		/* Hangul syllables, ext. B */
	    (cp >= 0xF900 && cp <= 0xFAFF) ||		/* Han compatibility */
	    (cp >= 0x20000 && cp <= 0x3FFFF);		/* Han ext. B… */
}

static enum cp_class
cp_classify(int32_t cp)
{
	if (cp < 0x80) {
		if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
			return CP_ALPHA;
		if (cp >= '0' && cp <= '9')
			return CP_DIGIT;
		return CP_SEP;
	}
	if (normalize_cp_inword(cp))
		return CP_INWORD;
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
		return CP_ALPHA;
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return CP_DIGIT;
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
		return CP_MARK;
	default:
		return CP_SEP;
	}
}

/* Letters whose accents are dropped: Latin, Greek, Cyrillic. Marks on other
 * scripts carry meaning (Japanese dakuten: か/が) and are kept. */
static bool
cp_strips_marks(int32_t cp)
{
	return cp < 0x0530 || (cp >= 0x1D00 && cp <= 0x1FFF) ||
	    (cp >= 0x2C60 && cp <= 0x2C7F) || (cp >= 0xA720 && cp <= 0xA7FF);
}

/* Appends code point cp of class cl to the canonical string. */
static int
emit(struct norm_text *t, int32_t cp, enum cp_class cl, enum cp_class *prev)
{
	uint8_t	 enc[4];
	ssize_t	 n;

	if (cl == CP_SEP) {
		*prev = CP_SEP;
		return 0;
	}
	if (cl == CP_MARK) {
		/* A mark belongs to the word it follows; alone it is noise. */
		if (*prev == CP_SEP)
			return 0;
		cl = *prev;
	}
	if (array_reserve((void **)&t->s, &t->cap, t->len + 8, 1, 64) < 0)
		return -ENOMEM;
	if (cl != *prev) {
		if (t->n_tok > 0)
			t->s[t->len++] = ' ';
		if (array_reserve((void **)&t->tok, &t->tok_cap, t->n_tok + 1,
		    sizeof(*t->tok), 64) < 0)
			return -ENOMEM;
		t->tok[t->n_tok++] = (uint32_t)t->len;
	}
	*prev = cl;
	if (cp < 0x80) {
		t->s[t->len++] = (char)cp;
		return 0;
	}
	n = utf8proc_encode_char(cp, enc);
	memcpy(t->s + t->len, enc, (size_t)n);
	t->len += (size_t)n;
	return 0;
}

static int
normalize_ascii(struct norm_text *t, const char *in, size_t len)
{
	enum cp_class	 prev = CP_SEP;
	size_t		 i, o;
	char		*out;

	/* Each byte adds at most itself and a separator, and starts at most
	 * one token. */
	if (array_reserve((void **)&t->s, &t->cap, 2 * len + 8, 1, 64) < 0 ||
	    array_reserve((void **)&t->tok, &t->tok_cap, len + 2,
	    sizeof(*t->tok), 64) < 0)
		return -ENOMEM;
	out = t->s;
	o = t->len;
	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)in[i];
		enum cp_class	 cl;

		if (c >= 'a' && c <= 'z') {
			cl = CP_ALPHA;
		} else if (c >= 'A' && c <= 'Z') {
			c += 'a' - 'A';
			cl = CP_ALPHA;
		} else if (c >= '0' && c <= '9') {
			cl = CP_DIGIT;
		} else {
			prev = CP_SEP;
			continue;
		}
		if (cl != prev) {
			if (t->n_tok > 0)
				out[o++] = ' ';
			t->tok[t->n_tok++] = (uint32_t)o;
			prev = cl;
		}
		out[o++] = (char)c;
	}
	t->len = o;
	return 0;
}

static int
normalize_unicode(struct norm_text *t, const char *in, size_t len)
{
	const utf8proc_option_t	 dopt = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT |
	    UTF8PROC_CASEFOLD | UTF8PROC_LUMP;
	enum cp_class		 prev = CP_SEP;
	size_t			 i = 0, n = 0, k, base;
	bool			 strip = false;
	ssize_t			 r;

	while (i < len) {
		int32_t	 cp;

		r = utf8proc_iterate((const uint8_t *)in + i,
		    (ssize_t)(len - i), &cp);
		if (r < 0) {
			/* Invalid UTF-8: one byte becomes a separator. */
			i++;
			cp = ' ';
		} else {
			i += (size_t)r;
		}
		if (array_reserve((void **)&t->cp, &t->cp_cap, n + 32,
		    sizeof(*t->cp), 64) < 0)
			return -ENOMEM;
		if (cp < 0x80) {
			t->cp[n++] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
			strip = true;
			continue;
		}
		r = utf8proc_decompose_char(cp, t->cp + n, 32, dopt, NULL);
		if (r < 0 || r > 32)
			continue;	/* unassigned or oversized: dropped */
		base = n;
		for (k = 0; k < (size_t)r; k++) {
			int32_t c = t->cp[base + k];

			if (utf8proc_category(c) == UTF8PROC_CATEGORY_MN) {
				if (strip)
					continue;	/* accent on a Latin letter */
			} else {
				strip = cp_strips_marks(c);
			}
			t->cp[n++] = c;
		}
	}
	r = utf8proc_normalize_utf32(t->cp, (ssize_t)n,
	    UTF8PROC_COMPOSE | UTF8PROC_STABLE);
	if (r < 0)
		return -EINVAL;
	n = (size_t)r;
	for (k = 0; k < n; k++)
		if (emit(t, t->cp[k], cp_classify(t->cp[k]), &prev) < 0)
			return -ENOMEM;
	return 0;
}

int
normalize_text(struct norm_text *t, const char *in, size_t len)
{
	size_t	 i;
	bool	 ascii = true;
	int	 r;

	if (len > NORMALIZE_MAX_INPUT)
		len = NORMALIZE_MAX_INPUT;
	t->len = 0;
	t->n_tok = 0;
	if (array_reserve((void **)&t->s, &t->cap, len + 8, 1, 64) < 0)
		return -ENOMEM;
	t->s[t->len++] = ' ';
	for (i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80) {
			ascii = false;
			break;
		}
	r = ascii ? normalize_ascii(t, in, len) : normalize_unicode(t, in, len);
	if (r < 0) {
		t->len = 0;
		t->n_tok = 0;
		if (t->s != NULL)
			t->s[0] = '\0';
		return r;
	}
	if (t->n_tok > 0)
		t->s[t->len++] = ' ';
	t->s[t->len] = '\0';
	return 0;
}

int
norm_text_reserve(struct norm_text *t, size_t len, size_t n_tok)
{
	if (array_reserve((void **)&t->s, &t->cap, len + 1, 1, 64) < 0 ||
	    array_reserve((void **)&t->tok, &t->tok_cap, n_tok, sizeof(*t->tok), 64) < 0)
		return -ENOMEM;
	return 0;
}

size_t
norm_text_token_at(const struct norm_text *t, size_t off)
{
	size_t	 lo = 0, hi = t->n_tok;

	/* The last token whose start is <= off. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->tok[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}
