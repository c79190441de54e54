/* test_wordmatch.c — the word-indexed matcher: whole words, phrases and
 * beginnings at every place of a text, keys shared by several patterns,
 * two keys with one hash, errors, and 10,000 random patterns against a
 * naive search and against the Aho–Corasick automaton it stands in for. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac.h"
#include "normalize.h"
#include "testutil.h"
#include "wordmatch.h"

struct found {
	uint32_t	*id;
	size_t		*first;
	size_t		 n;
	size_t		 cap;
};

/* Room for n elements of size bytes at p, or the test fails. */
static void *
grow(void *p, size_t n, size_t size)
{
	void *np = reallocarray(p, n ? n : 1, size);

	if (np == NULL) {
		free(p);
		ck_abort_msg("out of memory");
	}
	return np;
}

static int
on_hit(void *ud, uint32_t id, size_t first)
{
	struct found *f = ud;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->id = grow(f->id, f->cap, sizeof(*f->id));
		f->first = grow(f->first, f->cap, sizeof(*f->first));
	}
	f->id[f->n] = id;
	f->first[f->n] = first;
	f->n++;
	return 0;
}

static void
found_done(struct found *f)
{
	free(f->id);
	free(f->first);
	memset(f, 0, sizeof(*f));
}

static size_t
count(const struct found *f, uint32_t id, size_t first)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += f->id[i] == id && f->first[i] == first;
	return n;
}

/* Scans the canonical form of text. */
static void
scan(const struct wordmatch *w, const char *text, struct found *f)
{
	struct norm_text t;

	norm_text_init(&t);
	ck_assert_int_eq(normalize_text(&t, text, strlen(text)), 0);
	f->n = 0;
	ck_assert_int_eq(wordmatch_scan(w, &t, on_hit, f), 0);
	norm_text_done(&t);
}

static struct wordmatch *
make(const char *const *pats, size_t n, uint32_t *ids)
{
	struct wordmatch	*w = wordmatch_new();
	size_t			 i;

	ck_assert_ptr_nonnull(w);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(wordmatch_add(w, pats[i], strlen(pats[i]),
		    &ids[i]), 0);
	ck_assert_int_eq(wordmatch_compile(w), 0);
	return w;
}

START_TEST(words_phrases_beginnings)
{
	static const char *const pats[] = {
		" us ",			/* 0: a word */
		" us troops ",		/* 1: a phrase under the same key */
		" us forces korea ",	/* 2: three words */
		" us",			/* 3: a beginning: us, usfk, used */
		" trade talk",		/* 4: a phrase ending in a beginning */
		" usfk ",		/* 5 */
		" korea ",		/* 6 */
		" 35 ",			/* 7: a number */
	};
	uint32_t		 id[8];
	struct wordmatch	*w = make(pats, 8, id);
	struct found		 f = { 0 };
	size_t			 i;

	for (i = 0; i < 8; i++)
		ck_assert_uint_eq(id[i], i);
	ck_assert_uint_eq(wordmatch_pattern_count(w), 8);

	/* " us troops and usfk us forces korea trade talks f 35 " */
	scan(w, "US troops and USFK: US Forces Korea; trade talks, F-35", &f);
	ck_assert_uint_eq(count(&f, 0, 0), 1);
	ck_assert_uint_eq(count(&f, 1, 0), 1);
	ck_assert_uint_eq(count(&f, 3, 0), 1);
	ck_assert_uint_eq(count(&f, 3, 3), 1);	/* usfk begins with us */
	ck_assert_uint_eq(count(&f, 5, 3), 1);
	ck_assert_uint_eq(count(&f, 0, 4), 1);
	ck_assert_uint_eq(count(&f, 2, 4), 1);
	ck_assert_uint_eq(count(&f, 3, 4), 1);
	ck_assert_uint_eq(count(&f, 6, 6), 1);
	ck_assert_uint_eq(count(&f, 4, 7), 1);
	ck_assert_uint_eq(count(&f, 7, 10), 1);
	ck_assert_uint_eq(f.n, 11);

	/* Words run to the text's end; a phrase cut there is no match. */
	scan(w, "the us", &f);
	ck_assert_uint_eq(count(&f, 0, 1), 1);
	ck_assert_uint_eq(count(&f, 3, 1), 1);
	ck_assert_uint_eq(f.n, 2);
	scan(w, "us forces", &f);
	ck_assert_uint_eq(f.n, 2);		/* us, us* */
	scan(w, "trade", &f);
	ck_assert_uint_eq(f.n, 0);
	scan(w, "trade talk", &f);
	ck_assert_uint_eq(count(&f, 4, 0), 1);
	ck_assert_uint_eq(f.n, 1);
	/* A word is whole: "u" and "trust" are not "us". */
	scan(w, "u s trust bus", &f);
	ck_assert_uint_eq(f.n, 0);
	scan(w, "", &f);
	ck_assert_uint_eq(f.n, 0);
	found_done(&f);
	wordmatch_free(w);
}
END_TEST

/* Only the Latin words: Hangul patterns belong to the automaton, but a
 * phrase that begins with a word may end in one and then reads it as a
 * beginning, as the automaton would. */
START_TEST(mixed_scripts)
{
	static const char *const pats[] = {
		" troop 주한미군",	/* 0 */
		" 한미 ",		/* 1: a whole Hangul token */
	};
	uint32_t		 id[2];
	struct wordmatch	*w = make(pats, 2, id);
	struct found		 f = { 0 };

	scan(w, "troop 주한미군은 한미", &f);
	ck_assert_uint_eq(count(&f, 0, 0), 1);
	ck_assert_uint_eq(count(&f, 1, 2), 1);
	ck_assert_uint_eq(f.n, 2);
	scan(w, "troop 재주한미군 한미연합", &f);
	ck_assert_uint_eq(f.n, 0);
	found_done(&f);
	wordmatch_free(w);
}
END_TEST

static uint32_t
fnv1a(const char *s, size_t len)
{
	uint32_t	 h = 2166136261u;
	size_t		 i;

	for (i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* Word i of a pseudo-random sequence of 8-letter words. */
static void
nth_word(uint32_t i, char w[9])
{
	uint32_t	 x = i * 2654435761u;
	int		 k;

	for (k = 0; k < 8; k++, x /= 26)
		w[k] = (char)('a' + x % 26);
	w[8] = '\0';
}

/* Two words of 8 letters with the same 32-bit hash (FNV-1a, as
 * wordmatch.c hashes; one comes within 150,000 words). */
static void
find_collision(char a[9], char b[9])
{
	enum { N = 1 << 20 };
	struct { uint32_t h; uint32_t i; } *seen = calloc(N, sizeof(*seen));
	uint32_t	 i, k;

	ck_assert_ptr_nonnull(seen);
	for (i = 1; ; i++) {
		char		 w[9];
		uint32_t	 h;

		nth_word(i, w);
		h = fnv1a(w, 8);
		for (k = h & (N - 1); seen[k].i != 0; k = (k + 1) & (N - 1)) {
			if (seen[k].h != h)
				continue;
			nth_word(seen[k].i, a);
			memcpy(b, w, 9);
			free(seen);
			return;
		}
		ck_assert_uint_lt(i, N / 2);
		seen[k].h = h;
		seen[k].i = i;
	}
}

/* Two keys with one hash are told apart, as words and as beginnings. */
START_TEST(hash_collision)
{
	char			 a[9], b[9], pat[4][16], text[64];
	const char		*pats[4];
	uint32_t		 id[4];
	struct wordmatch	*w;
	struct found		 f = { 0 };
	size_t			 i;

	find_collision(a, b);
	ck_assert_str_ne(a, b);
	ck_assert_uint_eq(fnv1a(a, 8), fnv1a(b, 8));
	snprintf(pat[0], sizeof(pat[0]), " %s ", a);
	snprintf(pat[1], sizeof(pat[1]), " %s ", b);
	snprintf(pat[2], sizeof(pat[2]), " %s", a);
	snprintf(pat[3], sizeof(pat[3]), " %s", b);
	for (i = 0; i < 4; i++)
		pats[i] = pat[i];
	w = make(pats, 4, id);
	snprintf(text, sizeof(text), "%s x %sz %s", a, b, b);
	scan(w, text, &f);
	ck_assert_uint_eq(count(&f, 0, 0), 1);
	ck_assert_uint_eq(count(&f, 2, 0), 1);
	ck_assert_uint_eq(count(&f, 3, 2), 1);
	ck_assert_uint_eq(count(&f, 1, 3), 1);
	ck_assert_uint_eq(count(&f, 3, 3), 1);
	ck_assert_uint_eq(f.n, 5);
	found_done(&f);
	wordmatch_free(w);
}
END_TEST

static int
stop_at_second(void *ud, uint32_t id, size_t first)
{
	int *n = ud;

	(void)id;
	(void)first;
	return ++*n == 2 ? 7 : 0;
}

START_TEST(errors_and_stop)
{
	struct wordmatch	*w = wordmatch_new();
	struct norm_text	 t;
	uint32_t		 id, again;
	int			 n = 0;

	ck_assert_ptr_nonnull(w);
	norm_text_init(&t);
	ck_assert_int_eq(normalize_text(&t, "a a a", 5), 0);
	ck_assert_int_eq(wordmatch_add(w, "", 0, &id), -EINVAL);
	ck_assert_int_eq(wordmatch_add(w, " ", 1, &id), -EINVAL);
	ck_assert_int_eq(wordmatch_add(w, "a ", 2, &id), -EINVAL);
	ck_assert_int_eq(wordmatch_add(w, "  a ", 4, &id), -EINVAL);
	ck_assert_int_eq(wordmatch_add(w, " a  b ", 6, &id), -EINVAL);
	ck_assert_int_eq(wordmatch_scan(w, &t, stop_at_second, &n), -EINVAL);
	ck_assert_int_eq(wordmatch_add(w, " a ", 3, &id), 0);
	ck_assert_int_eq(wordmatch_add(w, " a ", 3, &again), 0);
	ck_assert_uint_eq(again, id);
	ck_assert_uint_eq(wordmatch_pattern_count(w), 1);
	ck_assert_int_eq(wordmatch_compile(w), 0);
	ck_assert_int_eq(wordmatch_compile(w), 0);
	ck_assert_int_eq(wordmatch_add(w, " b ", 3, &id), -EBUSY);
	ck_assert_int_eq(wordmatch_scan(w, &t, stop_at_second, &n), 7);
	ck_assert_int_eq(n, 2);
	wordmatch_free(w);
	ck_assert_ptr_null(wordmatch_free(NULL));

	/* An empty matcher finds nothing. */
	w = wordmatch_new();
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(wordmatch_compile(w), 0);
	n = 0;
	ck_assert_int_eq(wordmatch_scan(w, &t, stop_at_second, &n), 0);
	ck_assert_int_eq(n, 0);
	wordmatch_free(w);
	norm_text_done(&t);
}
END_TEST

static unsigned long rng = 88172645463325252UL;

static unsigned long
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define N_VOCAB		300
#define N_PATS		10000

/* Words of 1 to 6 letters over a small alphabet, so that beginnings of
 * one are often others. */
static void
random_word(char *out)
{
	int len = 1 + (int)(next_rand() % 6), i;

	for (i = 0; i < len; i++)
		out[i] = "abcde"[next_rand() % 5];
	out[len] = '\0';
}

struct ref_hit {
	uint32_t	 id;
	uint32_t	 first;
};

static int
ref_cmp(const void *x, const void *y)
{
	const struct ref_hit *a = x, *b = y;

	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return a->first < b->first ? -1 : a->first > b->first;
}

/* 10,000 patterns (words, phrases of up to three words, beginnings, and
 * phrases ending in a beginning) over a vocabulary that makes them occur
 * often: every occurrence the naive search sees, and only those, as the
 * automaton sees them too. */
START_TEST(random_vs_naive)
{
	static char		 vocab[N_VOCAB][8];
	struct wordmatch	*w = wordmatch_new();
	struct ac		*a = ac_new();
	char			**pats = calloc(N_PATS, sizeof(*pats));
	struct norm_text	 t;
	struct found		 f = { 0 }, g = { 0 };
	struct ref_hit		*got = NULL, *want = NULL, *viaac = NULL;
	size_t			 i, j, k, n_pat = 0, round;

	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(pats);
	for (i = 0; i < N_VOCAB; i++)
		random_word(vocab[i]);
	for (i = 0; i < N_PATS; i++) {
		char		 buf[64];
		size_t		 len = 0, words = 1 + next_rand() % 3;
		bool		 begin = next_rand() % 4 == 0;
		uint32_t	 id, aid;

		for (j = 0; j < words; j++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    " %s", vocab[next_rand() % N_VOCAB]);
		if (!begin)
			buf[len++] = ' ';
		buf[len] = '\0';
		ck_assert_int_eq(wordmatch_add(w, buf, len, &id), 0);
		ck_assert_int_eq(ac_add(a, buf, len, &aid), 0);
		/* Both number distinct patterns in order of addition. */
		ck_assert_uint_eq(aid, id);
		if (id == n_pat) {
			pats[n_pat] = strdup(buf);
			ck_assert_ptr_nonnull(pats[n_pat]);
			n_pat++;
		}
		ck_assert_uint_lt(id, n_pat);
		ck_assert_str_eq(pats[id], buf);
	}
	ck_assert_uint_eq(wordmatch_pattern_count(w), n_pat);
	ck_assert_uint_eq(ac_pattern_count(a), n_pat);
	ck_assert_int_eq(wordmatch_compile(w), 0);
	ck_assert_int_eq(ac_compile(a), 0);
	norm_text_init(&t);
	for (round = 0; round < 200; round++) {
		char	 text[2048];
		size_t	 len = 0, n_words = 1 + next_rand() % 60;
		size_t	 n_want = 0, n_ac;

		for (j = 0; j < n_words; j++)
			len += (size_t)snprintf(text + len, sizeof(text) - len,
			    "%s%s", j ? " " : "", vocab[next_rand() % N_VOCAB]);
		ck_assert_int_eq(normalize_text(&t, text, len), 0);
		f.n = 0;
		ck_assert_int_eq(wordmatch_scan(w, &t, on_hit, &f), 0);
		got = grow(got, f.n, sizeof(*got));
		for (i = 0; i < f.n; i++) {
			got[i].id = f.id[i];
			got[i].first = (uint32_t)f.first[i];
			/* By increasing token. */
			if (i > 0)
				ck_assert_uint_le(f.first[i - 1], f.first[i]);
		}
		qsort(got, f.n, sizeof(*got), ref_cmp);

		/* Naive: every pattern at every token. */
		want = grow(want, n_pat * t.n_tok, sizeof(*want));
		for (i = 0; i < n_pat; i++) {
			size_t plen = strlen(pats[i]);

			for (k = 0; k < t.n_tok; k++) {
				size_t from = t.tok[k] - 1;

				if (from + plen <= t.len &&
				    memcmp(t.s + from, pats[i], plen) == 0)
					want[n_want++] = (struct ref_hit){
					    (uint32_t)i, (uint32_t)k };
			}
		}
		ck_assert_uint_eq(f.n, n_want);
		ck_assert(memcmp(got, want, n_want * sizeof(*got)) == 0);

		/* The automaton: its hits end where g.first says; they
		 * start at the token after the pattern's leading space. */
		g.n = 0;
		ck_assert_int_eq(ac_scan(a, t.s, t.len, on_hit, &g), 0);
		viaac = grow(viaac, g.n, sizeof(*viaac));
		for (n_ac = 0; n_ac < g.n; n_ac++) {
			viaac[n_ac].id = g.id[n_ac];
			viaac[n_ac].first = (uint32_t)norm_text_token_at(&t,
			    g.first[n_ac] - strlen(pats[g.id[n_ac]]) + 1);
		}
		qsort(viaac, n_ac, sizeof(*viaac), ref_cmp);
		ck_assert_uint_eq(n_ac, n_want);
		ck_assert(memcmp(viaac, want, n_want * sizeof(*viaac)) == 0);
	}
	for (i = 0; i < n_pat; i++)
		free(pats[i]);
	free(pats);
	free(got);
	free(want);
	free(viaac);
	found_done(&f);
	found_done(&g);
	norm_text_done(&t);
	ac_free(a);
	wordmatch_free(w);
}
END_TEST

static Suite *
wordmatch_suite(void)
{
	Suite	*s = suite_create("wordmatch");
	TCase	*tc = tcase_create("match");

	tcase_add_test(tc, words_phrases_beginnings);
	tcase_add_test(tc, mixed_scripts);
	tcase_add_test(tc, hash_collision);
	tcase_add_test(tc, errors_and_stop);
	tcase_add_test(tc, random_vs_naive);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(wordmatch_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
