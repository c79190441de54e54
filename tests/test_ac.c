/* test_ac.c — the Aho–Corasick automaton against a naive search. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ac.h"
#include "testutil.h"

struct found {
	uint32_t	 id[256];
	size_t		 end[256];
	size_t		 n;
};

static int
on_hit(void *ud, uint32_t id, size_t end)
{
	struct found *f = ud;

	ck_assert_uint_lt(f->n, 256);
	f->id[f->n] = id;
	f->end[f->n] = end;
	f->n++;
	return 0;
}

static size_t
count(const struct found *f, uint32_t id, size_t end)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += f->id[i] == id && f->end[i] == end;
	return n;
}

START_TEST(classic)
{
	/* _i = 0: full DFA; 1: hybrid tables. */
	struct ac	*a = ac_new();
	const char	*pats[] = { "he", "she", "his", "hers" };
	uint32_t	 id[4], again;
	struct found	 f = { 0 };
	size_t		 i;

	ck_assert_ptr_nonnull(a);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(ac_add(a, pats[i], strlen(pats[i]), &id[i]), 0);
		ck_assert_uint_eq(id[i], i);
	}
	ck_assert_int_eq(ac_add(a, "she", 3, &again), 0);
	ck_assert_uint_eq(again, id[1]);
	ck_assert_uint_eq(ac_pattern_count(a), 4);
	ck_assert_uint_eq(ac_pattern_len(a, id[3]), 4);
	ck_assert_int_eq(ac_compile_limit(a, _i == 0 ? AC_DFA_MAX_ENTRIES : 0), 0);
	ck_assert_int_eq(ac_add(a, "x", 1, &again), -EBUSY);
	ck_assert_int_eq(ac_scan(a, "ushers", 6, on_hit, &f), 0);
	ck_assert_uint_eq(f.n, 3);
	ck_assert_uint_eq(count(&f, id[1], 4), 1);	/* she */
	ck_assert_uint_eq(count(&f, id[0], 4), 1);	/* he */
	ck_assert_uint_eq(count(&f, id[3], 6), 1);	/* hers */
	ac_free(a);
}
END_TEST

START_TEST(empty_and_errors)
{
	struct ac	*a = ac_new();
	struct found	 f = { 0 };
	uint32_t	 id;

	ck_assert_int_eq(ac_add(a, "", 0, &id), -EINVAL);
	ck_assert_int_eq(ac_scan(a, "abc", 3, on_hit, &f), -EINVAL);
	ck_assert_int_eq(ac_compile(a), 0);
	ck_assert_int_eq(ac_scan(a, "abc", 3, on_hit, &f), 0);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_ptr_null(ac_free(a));
	ck_assert_ptr_null(ac_free(NULL));
}
END_TEST

/* The scan skips the bytes that begin no pattern (here all of Latin):
 * occurrences right after them, at the text's start and end, and inside a
 * longer word are all found. */
START_TEST(skip_to_starts)
{
	/* _i = 0: full DFA; 1: hybrid tables. */
	struct ac	*a = ac_new();
	struct found	 f = { 0 };
	const char	*text = "한미 abc 주한미군 xyz 미군";
	uint32_t	 id[2];

	ck_assert_int_eq(ac_add(a, "한미", strlen("한미"), &id[0]), 0);
	ck_assert_int_eq(ac_add(a, "미군 ", strlen("미군 "), &id[1]), 0);
	ck_assert_int_eq(ac_compile_limit(a, _i == 0 ? AC_DFA_MAX_ENTRIES : 0), 0);
	ck_assert_int_eq(ac_scan(a, text, strlen(text), on_hit, &f), 0);
	ck_assert_uint_eq(f.n, 3);
	ck_assert_uint_eq(count(&f, id[0], 6), 1);
	ck_assert_uint_eq(count(&f, id[0], 20), 1);
	ck_assert_uint_eq(count(&f, id[1], 24), 1);	/* not the last 미군 */
	/* Cut before the space after 주한미군: no "미군 ". */
	f.n = 0;
	ck_assert_int_eq(ac_scan(a, text, 23, on_hit, &f), 0);
	ck_assert_uint_eq(f.n, 2);
	f.n = 0;
	ck_assert_int_eq(ac_scan(a, "abc xyz", 7, on_hit, &f), 0);
	ck_assert_uint_eq(f.n, 0);
	ac_free(a);
}
END_TEST

static int
stop_hit(void *ud, uint32_t id, size_t end)
{
	(*(int *)ud)++;
	return 7;
}

START_TEST(stop_early)
{
	struct ac	*a = ac_new();
	uint32_t	 id;
	int		 calls = 0;

	ck_assert_int_eq(ac_add(a, "a", 1, &id), 0);
	ck_assert_int_eq(ac_compile(a), 0);
	ck_assert_int_eq(ac_scan(a, "aaaa", 4, stop_hit, &calls), 7);
	ck_assert_int_eq(calls, 1);
	ac_free(a);
}
END_TEST

/* Random patterns over a small alphabet, checked against strstr-like search;
 * many patterns so that dense states and long fail chains both occur. */
START_TEST(random_vs_naive)
{
	/* _i = 0: full DFA; 1: the hybrid tables of a large automaton. */
	struct ac	*a = ac_new();
	char		 pats[300][6];
	size_t		 plen[300], np = 300, i, j, k;
	char		 text[2000];
	struct found	*f = calloc(1, sizeof(*f));
	uint32_t	 id;
	unsigned	 seed = 12345;

	for (i = 0; i < np; i++) {
		plen[i] = 1 + (seed = seed * 1103515245 + 12345) % 5;
		for (j = 0; j < plen[i]; j++)
			pats[i][j] = (char)('a' + (seed = seed * 1103515245 +
			    12345) / 65536 % 8);
		ck_assert_int_eq(ac_add(a, pats[i], plen[i], &id), 0);
	}
	ck_assert_int_eq(ac_compile_limit(a, _i == 0 ? AC_DFA_MAX_ENTRIES : 0), 0);
	for (i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + (seed = seed * 1103515245 + 12345) /
		    65536 % 8);
	/* Check in windows to keep the hit buffer small. */
	for (k = 0; k + 40 <= sizeof(text); k += 40) {
		size_t naive = 0;

		f->n = 0;
		ck_assert_int_eq(ac_scan(a, text + k, 40, on_hit, f), 0);
		for (i = 0; i < f->n; i++) {
			size_t	 len = ac_pattern_len(a, f->id[i]);
			bool	 ok = false;

			for (j = 0; j < np && !ok; j++)
				ok = plen[j] == len && memcmp(pats[j],
				    text + k + f->end[i] - len, len) == 0;
			ck_assert(ok);
		}
		/* Count distinct (pattern bytes, end) pairs naively. */
		for (j = 1; j <= 40; j++)
			for (size_t L = 1; L <= 5 && L <= j; L++) {
				bool present = false;

				for (i = 0; i < np && !present; i++)
					present = plen[i] == L && memcmp(pats[i],
					    text + k + j - L, L) == 0;
				naive += present;
			}
		ck_assert_uint_eq(f->n, naive);
	}
	free(f);
	ac_free(a);
}
END_TEST

static Suite *
ac_suite(void)
{
	Suite	*s = suite_create("ac");
	TCase	*tc = tcase_create("match");

	tcase_add_loop_test(tc, classic, 0, 2);
	tcase_add_test(tc, empty_and_errors);
	tcase_add_loop_test(tc, skip_to_starts, 0, 2);
	tcase_add_test(tc, stop_early);
	tcase_add_loop_test(tc, random_vs_naive, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(ac_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
