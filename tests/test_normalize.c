/* test_normalize.c — canonical token form: NFKC, case folding, accents,
 * script-aware token boundaries. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"
#include "testutil.h"

static void
expect(const char *in, const char *want)
{
	struct norm_text t;

	norm_text_init(&t);
	ck_assert_int_eq(normalize_text(&t, in, strlen(in)), 0);
	ck_assert_msg(strcmp(t.s, want) == 0, "'%s' -> '%s', want '%s'",
	    in, t.s, want);
	norm_text_done(&t);
}

START_TEST(ascii_words)
{
	expect("", " ");
	expect("   ...  ", " ");
	expect("Hello", " hello ");
	expect("Seoul's F-35A jets", " seoul s f 35 a jets ");
	expect("U.S. cost-sharing, 28,500 troops", " u s cost sharing 28 500 troops ");
	expect("B-52H", " b 52 h ");
	expect("  a\tb\nc  ", " a b c ");
}
END_TEST

START_TEST(unicode_fold)
{
	/* Full-width Latin (NFKC), accents, ligature, sharp s (case fold). */
	expect("ＵＳＦＫ", " usfk ");
	expect("Café Résumé", " cafe resume ");
	expect("ﬁnance", " finance ");
	expect("STRASSE Straße", " strasse strasse ");
	expect("ÉCOLE", " ecole ");
	/* Decomposed input composes the same way. */
	expect("Cafe\xcc\x81", " cafe ");
	/* Typographic apostrophe splits like the ASCII one. */
	expect("Seoul\xe2\x80\x99s", " seoul s ");
	/* Cyrillic and Greek are spaced scripts: whole words. */
	expect("Южная Корея", " южная корея ");
	expect("Ἀθῆναι", " αθηναι ");
}
END_TEST

START_TEST(cjk)
{
	/* Hangul stays one token with its particles; script changes split. */
	expect("주한미군은 28,500명", " 주한미군은 28 500 명 ");
	expect("SMA환아", " sma 환아 ");
	expect("美관세", " 美관세 ");
	/* Japanese: kana keep their voicing marks; half-width kana fold. */
	expect("思いやり予算", " 思いやり予算 ");
	expect("ｶﾞｲﾄﾞ", " ガイド ");
	expect("在日米軍、駐留経費", " 在日米軍 駐留経費 ");
	ck_assert(normalize_cp_inword(0xD55C));		/* 한 */
	ck_assert(normalize_cp_inword(0x7C73));		/* 米 */
	ck_assert(normalize_cp_inword(0x30AC));		/* ガ */
	ck_assert(!normalize_cp_inword('a'));
	ck_assert(!normalize_cp_inword(0x0416));		/* Ж */
}
END_TEST

START_TEST(invalid_utf8)
{
	expect("ab\xff" "cd", " ab cd ");
	expect("\xe4\xb8", " ");
	expect("x\xc3", " x ");
}
END_TEST

START_TEST(token_positions)
{
	struct norm_text	 t;
	const char		*in = "one two 주한미군은 three";

	norm_text_init(&t);
	ck_assert_int_eq(normalize_text(&t, in, strlen(in)), 0);
	ck_assert_uint_eq(t.n_tok, 4);
	ck_assert_uint_eq(norm_text_token_at(&t, 1), 0);
	ck_assert_uint_eq(norm_text_token_at(&t, 5), 1);
	ck_assert_uint_eq(norm_text_token_at(&t, 4), 0);	/* separator */
	ck_assert_uint_eq(norm_text_token_at(&t, t.tok[2] + 3), 2);
	ck_assert_uint_eq(norm_text_token_at(&t, t.len - 2), 3);
	/* Reuse keeps working. */
	ck_assert_int_eq(normalize_text(&t, "x", 1), 0);
	ck_assert_str_eq(t.s, " x ");
	ck_assert_uint_eq(t.n_tok, 1);
	norm_text_done(&t);
}
END_TEST

static void
expect_variant(const char *british, const char *american)
{
	char	 out[64];
	size_t	 n = normalize_variant(british, strlen(british), out,
	    sizeof(out));

	if (american == NULL) {
		ck_assert_msg(n == 0, "'%s' folded to '%s'", british, out);
		return;
	}
	ck_assert_msg(n == strlen(american) && strcmp(out, american) == 0,
	    "'%s' -> '%s', want '%s'", british, n ? out : "", american);
}

START_TEST(variants)
{
	ck_assert(normalize_variant_table_sorted());
	expect_variant("defence", "defense");
	expect_variant("defences", "defenses");
	expect_variant("manoeuvre", "maneuver");
	expect_variant("manoeuvres", "maneuvers");
	expect_variant("manoeuvred", "maneuvered");
	expect_variant("manoeuvring", "maneuvering");
	expect_variant("programme", "program");
	expect_variant("programmes", "programs");
	expect_variant("organise", "organize");
	expect_variant("organised", "organized");
	expect_variant("modernisation", "modernization");
	expect_variant("prioritising", "prioritizing");
	expect_variant("criticise", "criticize");
	expect_variant("colour", "color");
	expect_variant("favourite", "favorite");
	expect_variant("labour", "labor");
	expect_variant("centres", "centers");
	expect_variant("practised", "practiced");
	expect_variant("analysing", "analyzing");
	expect_variant("travelled", "traveled");
	expect_variant("grey", "gray");
	/* Not variants: -ise words without -ize, and look-alikes. */
	expect_variant("exercise", NULL);
	expect_variant("exercises", NULL);
	expect_variant("advertising", NULL);
	expect_variant("promised", NULL);
	expect_variant("enterprises", NULL);
	expect_variant("premises", NULL);
	expect_variant("surprising", NULL);
	expect_variant("noise", NULL);
	expect_variant("raised", NULL);
	expect_variant("rising", NULL);
	expect_variant("likewise", NULL);
	expect_variant("crises", NULL);
	expect_variant("greyhound", NULL);
	expect_variant("metro", NULL);
	expect_variant("programmed", NULL);
	expect_variant("defense", NULL);
	expect_variant("four", NULL);
	expect_variant("hour", NULL);
}
END_TEST

START_TEST(long_input)
{
	struct norm_text	 t;
	size_t			 n = NORMALIZE_MAX_INPUT + 100;
	char			*big = malloc(n);

	ck_assert_ptr_nonnull(big);
	memset(big, 'a', n);
	for (size_t i = 5; i < n; i += 6)
		big[i] = ' ';
	norm_text_init(&t);
	ck_assert_int_eq(normalize_text(&t, big, n), 0);
	ck_assert_uint_le(t.len, NORMALIZE_MAX_INPUT + 2);
	norm_text_done(&t);
	free(big);
}
END_TEST

static Suite *
normalize_suite(void)
{
	Suite	*s = suite_create("normalize");
	TCase	*tc;

	tc = tcase_create("ascii");
	tcase_add_test(tc, ascii_words);
	tcase_add_test(tc, long_input);
	tcase_add_test(tc, variants);
	suite_add_tcase(s, tc);
	tc = tcase_create("unicode");
	tcase_add_test(tc, unicode_fold);
	tcase_add_test(tc, cjk);
	tcase_add_test(tc, invalid_utf8);
	suite_add_tcase(s, tc);
	tc = tcase_create("positions");
	tcase_add_test(tc, token_positions);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(normalize_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
