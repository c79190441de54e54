/* test_rule.c — the rule language parser: tree shapes, precedence, term
 * patterns, and every syntax error with its offset and offending token. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"
#include "testutil.h"

static struct rule_set rs;

static void
setup(void)
{
	ck_assert_int_eq(rule_set_init(&rs), 0);
}

static void
teardown(void)
{
	rule_set_done(&rs);
}

/* Renders a tree as an S-expression for comparison; caller frees. */
static char *
render(const struct rule_node *n)
{
	char *a = NULL, *b = NULL, *out = NULL;

	switch (n->op) {
	case RULE_TERM:
		ck_assert_int_ge(asprintf(&out, "%s%s",
		    n->fields == RULE_FIELDS_ALL ? "" :
		    n->fields == RULE_FIELD_BIT(RULE_FIELD_TITLE) ? "title:" :
		    "summary:", n->text), 0);
		return out;
	case RULE_NOT:
		a = render(n->a);
		ck_assert_int_ge(asprintf(&out, "(NOT %s)", a), 0);
		break;
	default:
		a = render(n->a);
		b = render(n->b);
		if (n->op == RULE_NEAR)
			ck_assert_int_ge(asprintf(&out, "(NEAR/%u %s %s)",
			    n->near, a, b), 0);
		else
			ck_assert_int_ge(asprintf(&out, "(%s %s %s)",
			    n->op == RULE_AND ? "AND" : "OR", a, b), 0);
	}
	free(a);
	free(b);
	return out;
}

static void
expect_tree(const char *src, const char *want)
{
	struct rule_node	*n = NULL;
	struct rule_error	 e = { 0 };
	char			*got;

	ck_assert_msg(rule_parse(&rs, src, &n, &e) == 0, "'%s': %s", src, e.msg);
	got = render(n);
	ck_assert_msg(strcmp(got, want) == 0, "'%s' -> %s, want %s", src, got,
	    want);
	free(got);
	rule_free(n);
}

static void
expect_error(const char *src, size_t offset, const char *msg_part)
{
	struct rule_node	*n = NULL;
	struct rule_error	 e = { 0 };

	ck_assert_int_eq(rule_parse(&rs, src, &n, &e), -EINVAL);
	ck_assert_ptr_null(n);
	ck_assert_msg(strstr(e.msg, msg_part) != NULL, "'%s': message '%s' "
	    "lacks '%s'", src, e.msg, msg_part);
	ck_assert_msg(e.offset == offset, "'%s': offset %zu, want %zu (%s)",
	    src, e.offset, offset, e.msg);
}

START_TEST(terms_and_phrases)
{
	expect_tree("SMA", "SMA");
	expect_tree("special measures agreement", "special measures agreement");
	expect_tree("\"special measures agreement\"", "special measures agreement");
	expect_tree("tariff*", "tariff*");
	expect_tree("\"trade talk*\"", "trade talk*");
	/* Lower-case operator words are plain words of a phrase. */
	expect_tree("rock and roll", "rock and roll");
	expect_tree("near or far", "near or far");
	/* '=' marks an exact form: a word, a run of words, a phrase. */
	expect_tree("=troops", "troops");
	expect_tree("=us troops", "us troops");
	expect_tree("=\"u.s. forces\" OR a", "(OR u.s. forces a)");
	expect_tree("a=b", "a=b");
}
END_TEST

START_TEST(precedence)
{
	expect_tree("a OR b AND c", "(OR a (AND b c))");
	expect_tree("a AND b OR c", "(OR (AND a b) c)");
	expect_tree("(a OR b) AND c", "(AND (OR a b) c)");
	expect_tree("a AND NOT b", "(AND a (NOT b))");
	expect_tree("NOT NOT a AND b", "(AND (NOT (NOT a)) b)");
	expect_tree("a NEAR/3 b AND c", "(AND (NEAR/3 a b) c)");
	expect_tree("a NEAR/3 (b OR c)", "(NEAR/3 a (OR b c))");
	expect_tree("a NEAR/2 b NEAR/5 c", "(NEAR/5 (NEAR/2 a b) c)");
	expect_tree("a OR b OR c", "(OR (OR a b) c)");
	expect_tree("((a))", "a");
}
END_TEST

START_TEST(scopes)
{
	expect_tree("title:SMA", "title:SMA");
	expect_tree("title: SMA", "title:SMA");
	expect_tree("summary:\"cost sharing\"", "summary:cost sharing");
	expect_tree("title:(a OR b) AND c", "(AND (OR title:a title:b) c)");
	expect_tree("Title:a", "title:a");
	/* Other words with a colon are text. */
	expect_tree("12:30", "12:30");
	expect_tree("U.S.:", "U.S.:");
	expect_tree("USFK: troops", "USFK: troops");
}
END_TEST

START_TEST(patterns)
{
	struct rule_node	*a = NULL, *b = NULL, *c = NULL;
	struct rule_error	 e;
	const struct rule_layer	*l;

	/* Spelling variants normalise to the same pattern. */
	ck_assert_int_eq(rule_parse(&rs, "cost-sharing", &a, &e), 0);
	ck_assert_int_eq(rule_parse(&rs, "\"COST sharing\"", &b, &e), 0);
	ck_assert_uint_eq(a->pattern, b->pattern);
	ck_assert_uint_eq(a->span, 1);
	/* Begins with a word: looked up by it. */
	l = &rs.layers[rs.info[a->pattern].layer];
	ck_assert_uint_eq(l->word_ids.n, 1);
	ck_assert_uint_eq(l->word_ids.first[0], a->pattern);
	ck_assert_uint_eq(l->ac_ids.n, 0);
	/* Hangul: inside-word, no boundary: the automaton finds it. */
	ck_assert_int_eq(rule_parse(&rs, "주한미군", &c, &e), 0);
	ck_assert_ptr_eq(&rs.layers[rs.info[c->pattern].layer], l);
	ck_assert_uint_eq(l->ac_ids.n, 1);
	ck_assert_uint_eq(l->ac_ids.first[0], c->pattern);
	ck_assert_uint_eq(l->word_ids.n, 1);
	ck_assert_uint_eq(c->span, 0);
	ck_assert_uint_ne(c->pattern, a->pattern);
	rule_free(a);
	rule_free(b);
	rule_free(c);
	ck_assert_uint_eq(rule_set_pattern_count(&rs), 2);
	/* Full-width and accented spellings are the same term. */
	ck_assert_int_eq(rule_parse(&rs, "ＳＭＡ", &a, &e), 0);
	ck_assert_int_eq(rule_parse(&rs, "sma", &b, &e), 0);
	ck_assert_uint_eq(a->pattern, b->pattern);
	rule_free(a);
	rule_free(b);
}
END_TEST

START_TEST(errors)
{
	expect_error("", 0, "expected a term at the end");
	expect_error("a AND", 5, "expected a term at the end");
	expect_error("(a OR b", 0, "'(' is never closed");
	expect_error("a OR b)", 6, "unmatched ')'");
	expect_error("a OR )", 5, "before ')'");
	expect_error("\"open phrase", 0, "unterminated quote");
	expect_error("\"\"", 0, "empty phrase");
	expect_error("a NEAR b", 2, "needs a distance");
	expect_error("a NEAR/x b", 2, "bad distance in 'NEAR/x'");
	expect_error("a NEAR/0 b", 2, "must be 1 to");
	expect_error("a NEAR/5000 b", 2, "must be 1 to");
	expect_error("a NEAR/3 (b AND c)", 2, "'NEAR/3' joins terms");
	expect_error("NOT a NEAR/3 b", 6, "'NEAR/3' joins terms");
	expect_error("ta*riff", 2, "'*' is only allowed at the end");
	expect_error("tariff* talks", 6, "'*' is only allowed at the end");
	expect_error("\"a *\"", 3, "'*' must follow a word");
	expect_error("---", 0, "has no letters or digits");
	expect_error("a \"b\"", 2, "expected AND, OR or NEAR/n before '\"b\"'");
	expect_error("\"a\" b", 4, "expected AND, OR or NEAR/n before 'b'");
	expect_error("body:a", 0, "unknown field 'body:'");
	expect_error("title:AND", 6, "must follow 'title:'");
	expect_error("title:(summary:a)", 0, "conflicting scopes");
	expect_error("NOT a", 0, "none of its terms");
	expect_error("a OR NOT b", 0, "none of its terms");
	expect_error("AND a", 0, "before 'AND'");
	/* Exact forms and lists. */
	expect_error("a OR =", 5, "'=' must be followed by a word");
	expect_error("= a", 0, "'=' must be followed by a word");
	expect_error("us =troops", 3, "'=' marks a whole term");
	expect_error("a OR @", 5, "'@' must be followed by a list name");
	expect_error("@a.b", 0, "'@' must be followed by a list name");
	expect_error("x AND @nolist", 6, "unknown list '@nolist'");
	expect_error("korea @x", 6, "expected AND, OR or NEAR/n before '@x'");
}
END_TEST

/* Exact forms and stems share one automaton: the stems are the pattern,
 * the exact form a check on top. */
START_TEST(exact_and_stems)
{
	struct rule_node	*a = NULL, *b = NULL, *c = NULL, *d = NULL;
	struct rule_error	 e;

	ck_assert_int_eq(rule_parse(&rs, "troops", &a, &e), 0);
	ck_assert_int_eq(rule_parse(&rs, "troop", &b, &e), 0);
	ck_assert_int_eq(rule_parse(&rs, "=troops", &c, &e), 0);
	ck_assert_int_eq(rule_parse(&rs, "=\"troops\"", &d, &e), 0);
	ck_assert_uint_eq(a->pattern, b->pattern);
	ck_assert_uint_ne(a->pattern, c->pattern);
	ck_assert_uint_eq(c->pattern, d->pattern);
	ck_assert_ptr_null(rs.info[a->pattern].verify);
	ck_assert_str_eq(rs.info[c->pattern].verify, "troops");
	ck_assert(rule_set_pattern_count(&rs) == 2);
	rule_free(a);
	rule_free(b);
	rule_free(c);
	rule_free(d);
	/* A prefix is of the written word, found by what its stems keep. */
	ck_assert_int_eq(rule_parse(&rs, "negotiat*", &a, &e), 0);
	ck_assert_str_eq(rs.info[a->pattern].verify, "negotiat");
	ck_assert(rs.info[a->pattern].verify_prefix);
	rule_free(a);
	/* Without stems, words are patterns as written. */
	ck_assert_int_eq(rule_set_language(&rs, "none"), 0);
	ck_assert_int_eq(rule_parse(&rs, "troops", &a, &e), 0);
	ck_assert_ptr_null(rs.info[a->pattern].verify);
	ck_assert_uint_eq(rs.info[a->pattern].layer, 0);
	rule_free(a);
	ck_assert_int_eq(rule_set_language(&rs, "klingon"), -EINVAL);
	ck_assert_int_eq(rule_set_language(&rs, "en"), 0);
}
END_TEST

START_TEST(needs_hit)
{
	struct rule_node	*n = NULL;
	struct rule_error	 e;

	ck_assert_int_eq(rule_parse(&rs, "a AND NOT b", &n, &e), 0);
	ck_assert(rule_needs_hit(n));
	ck_assert(!rule_needs_hit(n->b));
	rule_free(n);
	ck_assert_ptr_null(rule_free(NULL));
}
END_TEST

START_TEST(deep_nesting)
{
	char			 src[400];
	struct rule_node	*n = NULL;
	struct rule_error	 e;

	memset(src, '(', 100);
	src[100] = 'a';
	memset(src + 101, ')', 100);
	src[201] = '\0';
	ck_assert_int_eq(rule_parse(&rs, src, &n, &e), -EINVAL);
	ck_assert(strstr(e.msg, "too deep") != NULL);
}
END_TEST

static Suite *
rule_suite(void)
{
	Suite	*s = suite_create("rule");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, terms_and_phrases);
	tcase_add_test(tc, precedence);
	tcase_add_test(tc, scopes);
	tcase_add_test(tc, patterns);
	tcase_add_test(tc, needs_hit);
	tcase_add_test(tc, exact_and_stems);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, deep_nesting);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(rule_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
