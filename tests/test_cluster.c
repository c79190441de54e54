/* test_cluster.c — the features of a lede (figures in one form whatever
 * the outlet's notation, acronyms, CJK bigrams, the headline's stage) and
 * the assignment of stories to developments in a real state file. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "store.h"
#include "testutil.h"

static bool
has_figure(const struct cluster_features *f, const char *want)
{
	for (size_t i = 0; i < f->n_figures; i++)
		if (strcmp(f->figures[i], want) == 0)
			return true;
	return false;
}

static bool
has_term(const struct cluster_features *f, const char *want)
{
	for (size_t i = 0; i < f->n_terms; i++)
		if (strcmp(f->terms[i].term, want) == 0)
			return true;
	return false;
}

static const struct {
	const char	*text, *figure;
} figures[] = {
	{ "Seoul will pay 1.0389 trillion won this year", "1.04 trillion won" },
	{ "Seoul to pay W1.04tr for USFK", "1.04 trillion won" },
	{ "Hyundai unveils $21 billion US investment", "$21 billion" },
	{ "Hyundai to invest US$21 bln in US", "$21 billion" },
	{ "Hyundai's $21b US bet", "$21 billion" },
	{ "Trump imposes 25 pct tariffs", "25%" },
	{ "tariffs of 25% on steel", "25%" },
	{ "up 8.2 percent", "8.2%" },
	{ "Japan to pay \xc2\xa5" "1.05 trillion", "1.05 trillion yen" },
	{ "USFK puts 4,000 Korean workers on leave", "4000" },
	{ "keeping 28,500 troops", "28500" },
	{ "3천500억달러 현금 투자", "$350 billion" },
	{ "2만8천500명 미만으로", "28500" },
	{ "관세 비용 8천282억원", "828 billion won" },
	{ "올해 13.9% 인상", "13.9%" },
};

START_TEST(test_figures)
{
	struct cluster_features f;

	ck_assert_int_eq(cluster_features_build(figures[_i].text, NULL, &f), 0);
	ck_assert_msg(has_figure(&f, figures[_i].figure), "'%s': no figure '%s' (%zu found%s%s)",
	    figures[_i].text, figures[_i].figure, f.n_figures, f.n_figures ? ", first " : "",
	    f.n_figures ? f.figures[0] : "");
	cluster_features_done(&f);
}
END_TEST

START_TEST(test_no_figures_in_years)
{
	struct cluster_features f;

	ck_assert_int_eq(cluster_features_build("Talks resume in 2019 after 3 rounds", NULL, &f), 0);
	ck_assert_uint_eq(f.n_figures, 0);
	cluster_features_done(&f);
}
END_TEST

START_TEST(test_terms_and_lede)
{
	struct cluster_features f;

	/* Only the first sentence of the summary is the lede (rule 8); "S."
	 * and "U.S." do not end it. */
	ck_assert_int_eq(cluster_features_build("WSJ report on USFK reduction options alarms Seoul",
	    "The U.S. report said S. Korea was told. The Hanoi summit collapsed.", &f), 0);
	ck_assert(has_term(&f, "e:wsj"));
	ck_assert(has_term(&f, "e:usfk"));
	ck_assert(has_term(&f, "w:reduction"));
	ck_assert(has_term(&f, "w:option"));	/* stemmed */
	ck_assert(has_term(&f, "w:told"));
	ck_assert(!has_term(&f, "w:hanoi"));
	ck_assert(!has_term(&f, "w:the"));
	cluster_features_done(&f);
	ck_assert_int_eq(cluster_features_build("사드기지 환경영향평가", NULL, &f), 0);
	ck_assert(has_term(&f, "c:사드"));
	ck_assert(has_term(&f, "c:드기"));
	ck_assert(!has_term(&f, "c:지환"));	/* a space separates runs */
	cluster_features_done(&f);
}
END_TEST

static const struct {
	const char		*title;
	enum cluster_stage	 stage;
} stages[] = {
	{ "S. Korea, US sign new cost-sharing deal", STAGE_SIGNED },
	{ "S. Korea, US reach agreement on cost-sharing", STAGE_AGREED },
	{ "Parliament ratifies the cost-sharing deal", STAGE_RATIFIED },
	{ "South Korea, US begin biggest drills in years", STAGE_BEGUN },
	{ "Allies wrap up Freedom Shield", STAGE_ENDED },
	{ "Esper says he has not issued orders to withdraw troops", STAGE_REACTION },
	{ "North Korea denies firing", STAGE_REACTION },
	{ "N. Korea fires artillery into sea, calls allied drills 'invasion rehearsal'", STAGE_REACTION },
	{ "Pyongyang fires missiles citing the allies' exercise", STAGE_REACTION },
	{ "US, South Korea postpone joint drills", STAGE_POSTPONED },
	{ "Trump announces 25% tariffs on cars", STAGE_ANNOUNCED },
	{ "한미 방위비 협상 타결", STAGE_AGREED },
	{ "한미 을지프리덤실드 연습 시작", STAGE_BEGUN },
	{ "Environmental assessment for THAAD base completed", STAGE_NONE },
	{ "Allies to hold Freedom Shield exercise next month", STAGE_ANNOUNCED },
	{ "Seoul, Washington will sign the deal on Friday", STAGE_ANNOUNCED },
	{ "한미, 내달 연합훈련 실시 예정", STAGE_ANNOUNCED },
};

START_TEST(test_stages)
{
	struct cluster_features f;

	ck_assert_int_eq(cluster_features_build(stages[_i].title, NULL, &f), 0);
	ck_assert_msg(f.stage == stages[_i].stage, "'%s': stage %s, want %s", stages[_i].title,
	    cluster_stage_to_string(f.stage), cluster_stage_to_string(stages[_i].stage));
	cluster_features_done(&f);
}
END_TEST

/* ---- assignment --------------------------------------------------------- */

static char		*tmp;
static struct store	*st;
static int64_t		 feeds[4];

static void
setup(void)
{
	struct fw_error e;
	char		*path;
	const char	*urls[4] = { "http://a/", "http://b/", "http://c/", "http://d/" };

	tmp = tu_tmpdir();
	path = tu_state_target(tmp);
	ck_assert_msg(store_open(path, &st, &e) == 0, "%s", e.msg);
	free(path);
	for (int i = 0; i < 4; i++) {
		struct store_feed f;

		ck_assert_int_eq(store_feed_get(st, urls[i], &f, &e), 0);
		feeds[i] = f.id;
		store_feed_done(&f);
	}
}

static void
teardown(void)
{
	store_close(st);
	tu_rmtree(tmp);
	free(tmp);
}

static struct cluster_result
add_to(struct store *s, int feed, const char *id, const char *title, const char *summary,
    const char *canon, int64_t t)
{
	struct cluster_opts	o;
	struct cluster_result	r;
	struct fw_error		e;
	struct feed_item	it = { .id = (char *)id, .title = (char *)title,
	    .summary = (char *)summary, .published = t, .updated = FW_TIME_NONE };
	const char		*topics[1] = { "drills" };
	char			 name[8];

	snprintf(name, sizeof(name), "f%d", feed);
	cluster_opts_default(&o);
	ck_assert_msg(cluster_add(s, &o, feeds[feed], name, &it, canon, topics, 1, t, t, &r,
	    &e) == 0, "cluster_add: %s", e.msg);
	return r;
}

static struct cluster_result
add(int feed, const char *id, const char *title, const char *summary, const char *canon,
    int64_t t)
{
	return add_to(st, feed, id, title, summary, canon, t);
}

#define H 3600

START_TEST(test_assign)
{
	struct cluster_result a, b, c, d, x, y;

	a = add(0, "a", "S. Korea, US launch Freedom Shield exercise, longest in years",
	    "The 11-day exercise includes large-scale combined field training.", NULL, 100 * H);
	ck_assert(a.is_new);
	ck_assert_ptr_nonnull(a.explain);
	b = add(1, "b", "US, South Korea begin Freedom Shield drills, largest in five years",
	    "North Korea fired cruise missiles ahead of the exercise.", NULL, 101 * H);
	ck_assert_msg(!b.is_new && b.development == a.development, "%s", b.explain);
	ck_assert_uint_eq(b.n_sources, 2);
	ck_assert(b.new_source);
	/* the same article by its canonical link, from a third feed */
	c = add(2, "c", "Unrelated words entirely", NULL, "https://e.org/x", 102 * H);
	ck_assert(c.is_new);
	d = add(3, "d", "Other title", NULL, "https://e.org/x", 102 * H);
	ck_assert_int_eq(d.development, c.development);
	ck_assert(strstr(d.explain, "canonical") != NULL);
	/* a new figure is reported as new once */
	y = add(3, "y", "Freedom Shield: 13,000 troops begin field training exercise",
	    "Freedom Shield exercise field training involves 13,000 troops.", NULL, 101 * H);
	ck_assert_msg(y.development == a.development, "%s", y.explain);
	ck_assert_uint_eq(y.n_new_figures, 1);
	ck_assert_str_eq(y.new_figures[0], "13000");
	/* the same words a week later: another event (rule 7, 9) */
	x = add(2, "x", "S. Korea, US launch Freedom Shield exercise, longest in years",
	    "The 11-day exercise includes large-scale combined field training.", NULL, 300 * H);
	ck_assert(x.is_new);
	/* Stories seen more than two windows before leave the term index. */
	{
		int64_t		*ids = NULL;
		size_t		 n = 0;
		struct fw_error	 e;

		ck_assert_int_eq(store_term_postings(st, "w:freedom", 0, 200 * H, 100, &ids, &n,
		    &e), 0);
		ck_assert_uint_eq(n, 0);
		ck_assert_int_eq(store_term_postings(st, "w:freedom", 0, 400 * H, 100, &ids, &n,
		    &e), 0);
		ck_assert_uint_eq(n, 1);
		free(ids);
	}
	cluster_result_done(&a);
	cluster_result_done(&b);
	cluster_result_done(&c);
	cluster_result_done(&d);
	cluster_result_done(&x);
	cluster_result_done(&y);
}
END_TEST

/* Talks that open in Seoul and talks that open in Tokyo on the same day
 * are two events of one kind (rule 7); a second report of the Seoul talks
 * still joins them. */
START_TEST(test_host_country)
{
	struct cluster_result kr, jp, kr2;

	kr = add(0, "kr", "S. Korea, U.S. open talks on next cost-sharing deal for American troops",
	    "Negotiators from Seoul and Washington began talks on the share of the cost.",
	    NULL, 100 * H);
	jp = add(1, "jp", "Tokyo, Washington start talks on host-nation support as pact nears expiry",
	    "Japan and the United States began talks on the cost of stationing US forces.",
	    NULL, 101 * H);
	ck_assert_msg(jp.is_new, "%s", jp.explain);
	ck_assert_msg(strstr(jp.explain, "host country") != NULL || jp.development != kr.development,
	    "%s", jp.explain);
	kr2 = add(2, "kr2", "South Korea, US begin talks on cost-sharing deal for US troops",
	    "Seoul and Washington opened negotiations on the share of the cost of US troops.",
	    NULL, 102 * H);
	ck_assert_msg(kr2.development == kr.development, "%s", kr2.explain);
	cluster_result_done(&kr);
	cluster_result_done(&jp);
	cluster_result_done(&kr2);
}
END_TEST

/* Two first reports that do not resemble each other start two
 * developments; a third that matches both well makes them one. */
START_TEST(test_merge)
{
	struct cluster_result a, b, c;

	a = add(0, "a", "Freedom Edge exercise gets under way off Jeju",
	    "Warships sailed from Busan.", NULL, 10 * H);
	b = add(1, "b", "Carrier George Washington leads trilateral naval maneuvers",
	    "Destroyers of three navies joined.", NULL, 10 * H + 600);
	ck_assert_int_ne(a.development, b.development);
	c = add(2, "c", "Freedom Edge: carrier George Washington leads trilateral maneuvers off Jeju",
	    "Destroyers of three navies joined the Freedom Edge exercise off Jeju.", NULL, 11 * H);
	ck_assert_msg(strstr(c.explain, "merged 1 more development") != NULL, "%s", c.explain);
	{
		struct store_story	*m = NULL;
		size_t			 n = 0;
		struct fw_error		 e;

		ck_assert_int_eq(store_development_members(st, c.development, 0, 100 * H, 10,
		    &m, &n, &e), 0);
		ck_assert_uint_eq(n, 3);
		for (size_t i = 0; i < n; i++) {
			int64_t dev = 0;

			/* The development each story was read in moved along. */
			ck_assert_int_eq(store_story_development(st, m[i].id, &dev, &e), 0);
			ck_assert_int_eq(dev, c.development);
			store_story_done(&m[i]);
		}
		free(m);
	}
	cluster_result_done(&a);
	a = add(3, "d", "Freedom Edge exercise under way off Jeju with George Washington carrier",
	    NULL, NULL, 12 * H);
	ck_assert_int_eq(a.development, c.development);
	cluster_result_done(&a);
	cluster_result_done(&b);
	cluster_result_done(&c);
}
END_TEST

/* The sixteen postings lists read in one statement are the ones read one
 * by one. */
START_TEST(test_postings_at_once)
{
	const char	*terms[4] = { "w:freedom", "w:shield", "n:freedom shield", "w:absent" };
	int64_t		*one = NULL, *all = NULL;
	size_t		 n_one = 0, n_all = 0;
	struct fw_error	 e;
	struct cluster_result r[5];

	r[0] = add(0, "a", "Freedom Shield exercise begins", NULL, NULL, 10 * H);
	r[1] = add(1, "b", "Freedom Shield drills begin off the coast", NULL, NULL, 11 * H);
	r[2] = add(2, "c", "Allies open Freedom Shield", NULL, NULL, 12 * H);
	r[3] = add(3, "d", "Shield of words", NULL, NULL, 13 * H);
	r[4] = add(0, "e", "Freedom Shield ends", NULL, NULL, 90 * H);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(store_term_postings(st, terms[i], 9 * H, 20 * H, 2, &one, &n_one,
		    &e), 0);
	ck_assert_int_eq(store_terms_postings(st, terms, 4, 9 * H, 20 * H, 2, &all, &n_all, &e),
	    0);
	ck_assert_uint_eq(n_all, n_one);
	ck_assert_uint_ge(n_all, 4);
	for (size_t i = 0; i < n_all; i++) {
		size_t have = 0, want = 0;

		for (size_t j = 0; j < n_all; j++) {
			have += all[j] == all[i];
			want += one[j] == all[i];
		}
		ck_assert_uint_eq(have, want);
	}
	ck_assert_int_eq(store_terms_postings(st, terms, STORE_POSTINGS_TERMS + 1, 0, 1, 2, &all,
	    &n_all, &e), -EINVAL);
	free(one);
	free(all);
	for (size_t i = 0; i < 5; i++)
		cluster_result_done(&r[i]);
}
END_TEST

/* The document frequencies the decisions read are the state's: this
 * process's own stories counted in, a rolled-back one not, another
 * process's read from the next transaction on. */
START_TEST(test_df_cache)
{
	struct store		*other;
	struct store_term	*term;
	struct fw_error		 e;
	struct cluster_result	 r;
	const struct store_features *members[1];
	size_t			 n;
	const char		*pg = getenv("FW_TEST_PG");
	char			*path = NULL;
	int64_t			 df, gone;

	/* A second connection to the same state (tu_state_target() would
	 * empty a PostgreSQL one). */
	if (pg != NULL)
		path = strdup(pg);
	else
		ck_assert_int_ge(asprintf(&path, "%s/state.db", tmp), 0);
	ck_assert_ptr_nonnull(path);
	ck_assert_msg(store_open(path, &other, &e) == 0, "%s", e.msg);
	free(path);
	ck_assert_int_eq(store_begin(st, &e), 0);
	ck_assert_int_eq(store_term_get(st, "w:vigilant", &term, &e), 0);
	ck_assert_int_eq(term->df, 0);
	r = add(0, "a", "Vigilant Storm air drills begin", NULL, NULL, 10 * H);
	cluster_result_done(&r);
	ck_assert_int_eq(store_term_get(st, "w:vigilant", &term, &e), 0);
	ck_assert_int_eq(term->df, 1);
	ck_assert_int_eq(store_commit(st, &e), 0);

	ck_assert_int_eq(store_begin(other, &e), 0);
	r = add_to(other, 1, "b", "Vigilant Storm air drills under way", NULL, NULL, 11 * H);
	cluster_result_done(&r);
	ck_assert_int_eq(store_commit(other, &e), 0);

	ck_assert_int_eq(store_begin(st, &e), 0);
	ck_assert_int_eq(store_term_get(st, "w:vigilant", &term, &e), 0);
	ck_assert_int_eq(term->df, 2);
	r = add(2, "c", "Vigilant Storm ends", NULL, NULL, 50 * H);
	ck_assert_int_eq(store_term_get(st, "w:vigilant", &term, &e), 0);
	ck_assert_int_eq(term->df, 3);
	/* Its features are read (and kept) before the rollback. */
	ck_assert_int_eq(store_development_member_features(st, r.development, 49 * H, 51 * H,
	    1, members, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	gone = members[0]->id;
	cluster_result_done(&r);
	store_rollback(st);

	/* SQLite gives the next story the rolled-back one's id: its features
	 * are its own. */
	ck_assert_int_eq(store_begin(st, &e), 0);
	r = add(3, "d", "Resolute Dragon begins", NULL, NULL, 50 * H);
	ck_assert_int_eq(store_development_member_features(st, r.development, 49 * H, 51 * H,
	    1, members, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	if (pg == NULL)
		ck_assert_int_eq(members[0]->id, gone);
	for (size_t i = 0; i < members[0]->n; i++)
		ck_assert_str_ne(members[0]->v[i].term->term, "w:vigilant");
	cluster_result_done(&r);
	store_rollback(st);

	ck_assert_int_eq(store_begin(st, &e), 0);
	ck_assert_int_eq(store_term_get(st, "w:vigilant", &term, &e), 0);
	ck_assert_int_eq(store_term_df(st, "w:vigilant", &df, &e), 0);
	ck_assert_int_eq(df, 2);
	ck_assert_int_eq(term->df, 2);
	ck_assert_int_eq(store_term_get(st, "", &term, &e), 0);
	ck_assert_int_eq(term->df, 2);
	ck_assert_int_eq(store_commit(st, &e), 0);
	store_close(other);
}
END_TEST

START_TEST(test_alert_recorded)
{
	struct cluster_result	a, b;
	struct fw_error		e;

	a = add(0, "a", "Allies wrap up Vigilant Storm air drills", NULL, NULL, 10 * H);
	ck_assert_ptr_null(a.alert_id);
	ck_assert_int_eq(cluster_set_alert(st, a.development, "0123456789abcdef0123456789abcdef",
	    &e), 0);
	b = add(1, "b", "Vigilant Storm air drills wrap up", NULL, NULL, 11 * H);
	ck_assert_int_eq(b.development, a.development);
	ck_assert_str_eq(b.alert_id, "0123456789abcdef0123456789abcdef");
	cluster_result_done(&a);
	cluster_result_done(&b);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("cluster");
	TCase	*tc = tcase_create("features");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_figures, 0, (int)(sizeof(figures) / sizeof(figures[0])));
	tcase_add_test(tc, test_no_figures_in_years);
	tcase_add_test(tc, test_terms_and_lede);
	tcase_add_loop_test(tc, test_stages, 0, (int)(sizeof(stages) / sizeof(stages[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("assign");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_assign);
	tcase_add_test(tc, test_alert_recorded);
	tcase_add_test(tc, test_host_country);
	tcase_add_test(tc, test_merge);
	tcase_add_test(tc, test_postings_at_once);
	tcase_add_test(tc, test_df_cache);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
