/* test_classify.c — topics on items: every operator and its edge cases,
 * Unicode (Hangul particles, full-width Latin, accents, mixed scripts),
 * scopes, feed restrictions, explanations, rule errors with file:line:col,
 * and the hard negatives of TOPICS.md against config/feedwatch.yaml. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "conf.h"
#include "normalize.h"
#include "stem.h"
#include "testutil.h"

/* A conf with one topic "t" built by hand: terms and excludes are
 * NULL-terminated lists. */
static struct conf *
mkconf(const char *const *terms, const char *const *excludes)
{
	struct conf		*c = calloc(1, sizeof(*c));
	struct conf_topic	*t;
	size_t			 n;

	ck_assert_ptr_nonnull(c);
	c->path = strdup("test.yaml");
	c->topics = calloc(1, sizeof(*c->topics));
	c->n_topics = 1;
	t = &c->topics[0];
	t->name.s = strdup("t");
	t->severity = SEVERITY_HIGH;
	for (n = 0; terms[n] != NULL; n++)
		;
	t->terms.v = calloc(n + 1, sizeof(*t->terms.v));
	for (t->terms.n = 0; t->terms.n < n; t->terms.n++) {
		t->terms.v[t->terms.n].s = strdup(terms[t->terms.n]);
		t->terms.v[t->terms.n].line = 10 + (unsigned)t->terms.n;
		t->terms.v[t->terms.n].col = 9;
	}
	for (n = 0; excludes != NULL && excludes[n] != NULL; n++)
		;
	t->exclude.v = calloc(n + 1, sizeof(*t->exclude.v));
	for (t->exclude.n = 0; excludes != NULL && t->exclude.n < n; t->exclude.n++)
		t->exclude.v[t->exclude.n].s = strdup(excludes[t->exclude.n]);
	return c;
}

/* Does the rule (alone as topic "t") match the item? */
static bool
matches_ex(const char *rule, const char *exclude, const char *title,
    const char *summary)
{
	const char		*terms[] = { rule, NULL };
	const char		*excl[] = { exclude, NULL };
	struct conf		*conf = mkconf(terms, excl);
	struct classifier	*cls = NULL;
	struct fw_errors	 errs = { 0 };
	struct feed_item	 item = { .id = (char *)"x",
	    .title = (char *)title, .summary = (char *)summary };
	struct classify_result	 res = { 0 };
	bool			 m;

	ck_assert_msg(classifier_new(conf, &cls, &errs) == 0, "rule '%s': %s",
	    rule, errs.n ? errs.v[0].msg : "?");
	ck_assert_int_eq(classify_item(cls, NULL, &item, &res), 0);
	m = res.n_matches == 1;
	classify_result_done(&res);
	classifier_free(cls);
	conf_free(conf);
	fw_errors_done(&errs);
	return m;
}

static bool
matches(const char *rule, const char *title, const char *summary)
{
	return matches_ex(rule, NULL, title, summary);
}

static void
expect_match(bool want, const char *rule, const char *title,
    const char *summary)
{
	ck_assert_msg(matches(rule, title, summary) == want,
	    "'%s' should%s match '%s' / '%s'", rule, want ? "" : " not",
	    title != NULL ? title : "", summary != NULL ? summary : "");
}

#define YES(rule, title, summary)	expect_match(true, rule, title, summary)
#define NO(rule, title, summary)	expect_match(false, rule, title, summary)

START_TEST(words_and_phrases)
{
	YES("drill", "Allies drill off Jeju", NULL);
	YES("drill", "DRILL!", NULL);
	/* Words meet by their stems; '=' asks for the form as written. */
	YES("drill", "Oil drilling resumes", NULL);
	YES("drill", "Drills", NULL);
	NO("=drill", "Oil drilling resumes", NULL);
	NO("=drill", "Drills", NULL);
	YES("=drills", "Drills", NULL);
	YES("troops", "a troop of scouts", NULL);
	YES("deploy", "the deployment of THAAD", NULL);
	YES("deployments", "Patriots were deployed", NULL);
	NO("=\"us troops\"", "US troop levels", NULL);
	YES("\"us troops\"", "US troop levels", NULL);
	YES("drill*", "Oil drilling resumes", NULL);
	YES("drill*", "drill", NULL);
	NO("drill*", "redrilled well", NULL);
	YES("special measures agreement", "Talks on the Special Measures Agreement", NULL);
	YES("\"special measures agreement\"", "special-measures agreement", NULL);
	NO("special measures agreement", "special measures for the agreement", NULL);
	/* A phrase never spans two fields. */
	NO("\"measures agreement\"", "Special measures", "agreement reached");
	YES("cost-sharing", "cost sharing talks", NULL);
	YES("cost sharing", "Cost-Sharing talks", NULL);
	YES("U.S.", "U.S. troops", NULL);
	NO("U.S.", "US troops", NULL);
	YES("28,500", "the 28,500-strong force", NULL);
	NO("28,500", "128,500 people", NULL);
	YES("b-52", "A B-52H bomber", NULL);
	NO("=sma", "SMAs", NULL);
	YES("tariff", "Tariffs", NULL);
	NO("sma", NULL, NULL);
	NO("sma", "", "");
}
END_TEST

START_TEST(boolean)
{
	YES("a AND b", "a x b", NULL);
	NO("a AND b", "a x", NULL);
	YES("a AND b", "a", "b");		/* across title and summary */
	YES("a OR b", "b", NULL);
	NO("a OR b", "c", NULL);
	YES("a AND NOT b", "a", NULL);
	NO("a AND NOT b", "a", "b");
	YES("(a OR b) AND (c OR d)", "b d", NULL);
	NO("(a OR b) AND (c OR d)", "a b", NULL);
	YES("a OR b AND c", "a", NULL);
	NO("a OR b AND c", "b", NULL);
	YES("NOT x AND y", "y", NULL);
	NO("NOT NOT x AND y", "y", NULL);
}
END_TEST

START_TEST(near)
{
	YES("sma NEAR/3 korea", "SMA talks with Korea", NULL);
	YES("sma NEAR/3 korea", "Korea and the SMA", NULL);	/* either order */
	NO("sma NEAR/2 korea", "SMA talks with Korea", NULL);
	YES("sma NEAR/1 korea", "SMA Korea", NULL);
	/* Positions run on from the title into the summary. */
	YES("sma NEAR/1 korea", "SMA", "Korea");
	NO("sma NEAR/1 korea", "SMA talks", "Korea");
	YES("sma NEAR/1 korea", "the SMA", "Korea says");
	YES("sma NEAR/5 (korea OR japan)", "SMA deal with Japan", NULL);
	YES("\"cost sharing\" NEAR/2 talks", "cost-sharing talks", NULL);
	YES("\"cost sharing\" NEAR/2 talks", "talks on cost sharing", NULL);
	NO("\"cost sharing\" NEAR/2 talks", "talks on the cost sharing", NULL);
	YES("(a NEAR/1 b) NEAR/1 c", "a b c", NULL);
	NO("(a NEAR/1 b) NEAR/1 c", "a b x c", NULL);
	/* Overlapping terms are at distance 0. */
	YES("\"freedom shield\" NEAR/1 shield", "Freedom Shield", NULL);
	/* NEAR within a longer text with the pair far apart and near. */
	NO("sma NEAR/4 korea", "SMA one two three four five six Korea", NULL);
	YES("sma NEAR/4 korea", "SMA one two three four five six Korea SMA", NULL);
	/* Korean: each space-separated word is one position. */
	YES("주한미군 NEAR/2 감축", "주한미군 병력 감축설", NULL);
	NO("주한미군 NEAR/1 감축", "주한미군 병력 일부 감축설", NULL);
}
END_TEST

START_TEST(scopes)
{
	YES("title:sma", "SMA talks", NULL);
	NO("title:sma", "Talks", "SMA");
	YES("summary:sma", "Talks", "SMA");
	NO("summary:sma", "SMA", "Talks");
	YES("title:(a OR b) AND summary:c", "b", "c");
	NO("title:(a OR b) AND summary:c", "c", "b");
}
END_TEST

START_TEST(content_field)
{
	const char		*terms[] = { "summary:usfk", "title:usfk", NULL };
	struct conf		*conf = mkconf(terms, NULL);
	struct classifier	*cls = NULL;
	struct fw_errors	 errs = { 0 };
	struct feed_item	 item = { .id = (char *)"x",
	    .title = (char *)"News", .summary = (char *)"nothing",
	    .content = (char *)"<p>USFK said</p>" };
	struct classify_result	 res = { 0 };

	ck_assert_int_eq(classifier_new(conf, &cls, &errs), 0);
	ck_assert_int_eq(classify_item(cls, NULL, &item, &res), 0);
	ck_assert_uint_eq(res.n_matches, 1);
	ck_assert_str_eq(res.matches[0].hits[0].field, "content");
	classify_result_done(&res);
	/* Content equal to the summary is scanned once, as the summary. */
	item.summary = item.content;
	ck_assert_int_eq(classify_item(cls, NULL, &item, &res), 0);
	ck_assert_uint_eq(res.n_matches, 1);
	ck_assert_uint_eq(res.matches[0].n_hits, 1);
	ck_assert_str_eq(res.matches[0].hits[0].field, "summary");
	classify_result_done(&res);
	classifier_free(cls);
	conf_free(conf);
	fw_errors_done(&errs);
}
END_TEST

START_TEST(unicode)
{
	/* Hangul matches inside words, with particles. */
	YES("주한미군", "주한미군은 28,500명", NULL);
	YES("주한미군", "주한미군이", NULL);
	YES("주한미군", "주한미군의 역할", NULL);
	YES("\"방위비 분담\"", "방위비 분담금 협상", NULL);
	NO("\"방위비 분담\"", "방위비분담금 협상", NULL);
	YES("방위비분담", "제12차 방위비분담특별협정", NULL);
	/* Japanese. */
	YES("思いやり予算", "在日米軍駐留経費負担（思いやり予算）", NULL);
	YES("ガイド", "ｶﾞｲﾄﾞ", NULL);			/* half-width kana */
	NO("カイト", "ガイド", NULL);			/* voicing is kept */
	/* Full-width Latin, accents, ligatures. */
	YES("usfk", "ＵＳＦＫ commander", NULL);
	YES("ＵＳＦＫ", "USFK commander", NULL);
	YES("resume", "Résumé", NULL);
	YES("résumé", "RESUME", NULL);
	YES("financial", "ﬁnancial times", NULL);
	YES("strasse", "Straße", NULL);
	/* Mixed scripts: Latin whole-word next to Hangul. */
	YES("sma", "SMA환아 부모들", NULL);
	NO("sma", "SMAX환아", NULL);
	YES("美 NEAR/1 관세", "美 관세 여파", NULL);
	YES("usfk", "USFK는 밝혔다", NULL);
	YES("южная корея", "ЮЖНАЯ КОРЕЯ", NULL);
	NO("корея", "кореяна", NULL);
	/* Invalid UTF-8 in an item is survived. */
	YES("seoul", "Seoul\xff\xfe talks", NULL);
}
END_TEST

START_TEST(excludes)
{
	ck_assert(matches_ex("sma", "\"spinal muscular atrophy\"",
	    "SMA talks", NULL));
	ck_assert(!matches_ex("sma", "\"spinal muscular atrophy\"",
	    "SMA drug", "for spinal muscular atrophy"));
	ck_assert(!matches_ex("sma", "title:sma NEAR/1 solar",
	    "SMA Solar wins order", NULL));
	ck_assert(matches_ex("sma", "title:sma NEAR/1 solar",
	    "SMA talks", "solar"));
}
END_TEST

/* Two topics, severities, feed restrictions both ways, explanation. */
START_TEST(topics_and_feeds)
{
	const char		*terms[] = { "alpha", NULL };
	struct conf		*conf = mkconf(terms, NULL);
	struct conf_topic	*t2;
	struct classifier	*cls = NULL;
	struct fw_errors	 errs = { 0 };
	struct conf_feed	 feed = { .name = (char *)"wire",
	    .url = (char *)"https://example.org/wire.xml" };
	struct conf_str		 only_t2 = { .s = (char *)"t2" };
	struct feed_item	 item = { .id = (char *)"x",
	    .title = (char *)"Alpha and beta", .summary = (char *)"beta" };
	struct classify_result	 res = { 0 };

	conf->topics = realloc(conf->topics, 2 * sizeof(*conf->topics));
	t2 = &conf->topics[1];
	memset(t2, 0, sizeof(*t2));
	conf->n_topics = 2;
	t2->name.s = strdup("t2");
	t2->severity = SEVERITY_LOW;
	t2->terms.v = calloc(1, sizeof(*t2->terms.v));
	t2->terms.v[0].s = strdup("beta OR gamma");
	t2->terms.n = 1;
	ck_assert_int_eq(classifier_new(conf, &cls, &errs), 0);

	ck_assert_int_eq(classify_item(cls, NULL, &item, &res), 0);
	ck_assert_uint_eq(res.n_matches, 2);
	ck_assert_str_eq(res.matches[0].topic, "t");
	ck_assert_int_eq(res.matches[0].severity, SEVERITY_HIGH);
	ck_assert_str_eq(res.matches[1].topic, "t2");
	ck_assert_int_eq(res.matches[1].severity, SEVERITY_LOW);
	/* beta is in both fields: the first occurrence is the reason. */
	ck_assert_uint_eq(res.matches[1].n_hits, 1);
	ck_assert_str_eq(res.matches[1].hits[0].term, "beta");
	ck_assert_str_eq(res.matches[1].hits[0].field, "title");
	classify_result_done(&res);

	/* The feed allows only t2. */
	feed.topics.v = &only_t2;
	feed.topics.n = 1;
	ck_assert_int_eq(classify_item(cls, &feed, &item, &res), 0);
	ck_assert_uint_eq(res.n_matches, 1);
	ck_assert_str_eq(res.matches[0].topic, "t2");
	classify_result_done(&res);
	feed.topics.n = 0;
	classifier_free(cls);

	/* The topic allows only another feed; then this feed by URL. */
	conf->topics[0].feeds.v = calloc(1, sizeof(struct conf_str));
	conf->topics[0].feeds.v[0].s = strdup("other");
	conf->topics[0].feeds.n = 1;
	ck_assert_int_eq(classifier_new(conf, &cls, &errs), 0);
	ck_assert_int_eq(classify_item(cls, &feed, &item, &res), 0);
	ck_assert_uint_eq(res.n_matches, 1);
	ck_assert_str_eq(res.matches[0].topic, "t2");
	classify_result_done(&res);
	ck_assert_int_eq(classify_item(cls, NULL, &item, &res), 0);
	ck_assert_uint_eq(res.n_matches, 2);	/* a dry run has no feed */
	classify_result_done(&res);
	classifier_free(cls);
	free(conf->topics[0].feeds.v[0].s);
	conf->topics[0].feeds.v[0].s = strdup("https://example.org/wire.xml");
	ck_assert_int_eq(classifier_new(conf, &cls, &errs), 0);
	ck_assert_int_eq(classify_item(cls, &feed, &item, &res), 0);
	ck_assert_uint_eq(res.n_matches, 2);
	classify_result_done(&res);
	classify_result_done(&res);		/* twice is harmless */
	classifier_free(cls);
	ck_assert_ptr_null(classifier_free(NULL));
	conf_free(conf);
	fw_errors_done(&errs);
}
END_TEST

/* Under NEAR only the occurrences that are near count as the reason. */
START_TEST(explain)
{
	const char		*terms[] = { "sma NEAR/2 (korea OR japan)", NULL };
	struct conf		*conf = mkconf(terms, NULL);
	struct classifier	*cls = NULL;
	struct fw_errors	 errs = { 0 };
	struct feed_item	 item = { .id = (char *)"x",
	    .title = (char *)"Japan weighs SMA with Korea",
	    .summary = (char *)"Far away from here, Japan." };
	struct classify_result	 res = { 0 };
	size_t			 i;
	bool			 korea = false, japan_title = false;

	ck_assert_int_eq(classifier_new(conf, &cls, &errs), 0);
	ck_assert_int_eq(classify_item(cls, NULL, &item, &res), 0);
	ck_assert_uint_eq(res.n_matches, 1);
	for (i = 0; i < res.matches[0].n_hits; i++) {
		const struct classify_hit *h = &res.matches[0].hits[i];

		ck_assert_msg(strcmp(h->field, "title") == 0, "%s in %s",
		    h->term, h->field);
		korea |= strcmp(h->term, "korea") == 0;
		japan_title |= strcmp(h->term, "japan") == 0;
	}
	ck_assert(korea && japan_title);
	classify_result_done(&res);
	classifier_free(cls);
	conf_free(conf);
	fw_errors_done(&errs);
}
END_TEST

/* What explains a match is only what makes it hold: the half of an AND
 * under an OR whose other half is missing, and a nested NEAR too far from
 * its partner, are not reported, however long the OR chain around them. */
START_TEST(explain_only_what_holds)
{
	const char		*terms[] = {
	    "(alpha AND beta) OR gamma OR delta OR ((epsilon NEAR/1 zeta) NEAR/1 eta)"
	    " OR theta", NULL };
	struct conf		*conf = mkconf(terms, NULL);
	struct classifier	*cls = NULL;
	struct fw_errors	 errs = { 0 };
	/* alpha without beta; epsilon next to zeta, but eta far from both. */
	struct feed_item	 item = { .id = (char *)"x",
	    .title = (char *)"alpha epsilon zeta one two three four eta delta" };
	struct classify_result	 res = { 0 };

	ck_assert_int_eq(classifier_new(conf, &cls, &errs), 0);
	ck_assert_int_eq(classify_item(cls, NULL, &item, &res), 0);
	ck_assert_uint_eq(res.n_matches, 1);
	ck_assert_uint_eq(res.matches[0].n_hits, 1);
	ck_assert_str_eq(res.matches[0].hits[0].term, "delta");
	classify_result_done(&res);
	classifier_free(cls);
	conf_free(conf);
	fw_errors_done(&errs);
}
END_TEST

/* Every bad rule is reported, each with file:line:col of its token. */
START_TEST(rule_errors)
{
	const char		*terms[] = { "good", "a NEAR b", "(x OR y", NULL };
	const char		*excl[] = { "c AND", NULL };
	struct conf		*conf = mkconf(terms, excl);
	struct classifier	*cls = NULL;
	struct fw_errors	 errs = { 0 };
	char			 buf[2048];

	conf->topics[0].terms.v[2].quoted = true;
	conf->topics[0].exclude.v[0].line = 20;
	conf->topics[0].exclude.v[0].col = 7;
	ck_assert_int_eq(classifier_new(conf, &cls, &errs), -EINVAL);
	ck_assert_ptr_null(cls);
	ck_assert_uint_eq(errs.n, 3);
	ck_assert_str_eq(fw_error_format(&errs.v[0], buf, sizeof(buf)),
	    "test.yaml:11:11: topic 't': 'NEAR' needs a distance, as in NEAR/5");
	ck_assert_str_eq(fw_error_format(&errs.v[1], buf, sizeof(buf)),
	    "test.yaml:12:10: topic 't': '(' is never closed");
	ck_assert_str_eq(fw_error_format(&errs.v[2], buf, sizeof(buf)),
	    "test.yaml:20:12: topic 't': exclude: expected a term at the end "
	    "of the rule");
	conf_free(conf);
	fw_errors_done(&errs);
}
END_TEST

/* The same through conf_load(): positions come from the YAML file. */
START_TEST(rule_errors_yaml)
{
	char			*dir = tu_tmpdir(), *path;
	struct conf		*conf = NULL;
	struct classifier	*cls = NULL;
	struct fw_errors	 errs = { 0 };
	char			 buf[2048], want[1024];

	path = tu_write_file(dir, "c.yaml",
	    "state: s.db\n"
	    "feeds:\n"
	    "  - url: file:x.xml\n"
	    "topics:\n"
	    "  - name: sma\n"
	    "    terms:\n"
	    "      - 'SMA NEAR/12 (korea OR'\n"
	    "      - tariff* talks\n");
	ck_assert_int_eq(conf_load(path, &conf, &errs), 0);
	ck_assert_int_eq(classifier_new(conf, &cls, &errs), -EINVAL);
	ck_assert_uint_eq(errs.n, 2);
	snprintf(want, sizeof(want), "%s:7:31: topic 'sma': expected a term "
	    "at the end of the rule", path);
	ck_assert_str_eq(fw_error_format(&errs.v[0], buf, sizeof(buf)), want);
	snprintf(want, sizeof(want), "%s:8:15: topic 'sma': '*' is only "
	    "allowed at the end of a term: 'tariff* talks'", path);
	ck_assert_str_eq(fw_error_format(&errs.v[1], buf, sizeof(buf)), want);
	conf_free(conf);
	fw_errors_done(&errs);
	tu_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* Compiles a YAML config; fills errs (formatted into buf, one per line)
 * when it does not compile. */
static struct classifier *
yaml_classifier(const char *yaml, char *buf, size_t size)
{
	char			*dir = tu_tmpdir(), *path;
	struct conf		*conf = NULL;
	struct classifier	*cls = NULL;
	struct fw_errors	 errs = { 0 };
	char			 one[1024];
	size_t			 i;

	path = tu_write_file(dir, "c.yaml", yaml);
	buf[0] = '\0';
	ck_assert_int_eq(conf_load(path, &conf, &errs), 0);
	if (classifier_new(conf, &cls, &errs) < 0) {
		for (i = 0; i < errs.n; i++) {
			/* Without the temporary directory. */
			const char *f = fw_error_format(&errs.v[i], one,
			    sizeof(one));

			snprintf(buf + strlen(buf), size - strlen(buf), "%s\n",
			    strstr(f, "c.yaml:") != NULL ? strstr(f, "c.yaml:") :
			    f);
		}
		cls = NULL;
	}
	conf_free(conf);
	fw_errors_done(&errs);
	tu_rmtree(dir);
	free(path);
	free(dir);
	return cls;
}

/* The topics (space-separated) an item gets. */
static void
topics_of(const struct classifier *cls, const char *title,
    const char *summary, char *got, size_t size)
{
	struct feed_item	 item = { .id = (char *)"x",
	    .title = (char *)title, .summary = (char *)summary };
	struct classify_result	 res = { 0 };
	size_t			 j;

	got[0] = '\0';
	ck_assert_int_eq(classify_item(cls, NULL, &item, &res), 0);
	for (j = 0; j < res.n_matches; j++)
		snprintf(got + strlen(got), size - strlen(got), "%s%s",
		    j ? " " : "", res.matches[j].topic);
	classify_result_done(&res);
}

#define EXPECT_TOPICS(cls, title, summary, want) do {			\
	char got_[256];							\
	topics_of((cls), (title), (summary), got_, sizeof(got_));	\
	ck_assert_msg(strcmp(got_, (want)) == 0, "'%s': got [%s], want [%s]", \
	    (title), got_, (want));					\
} while (0)

/* Stems inside phrases and NEAR/n; exact forms; languages per topic and
 * for the whole file. */
START_TEST(stems)
{
	struct classifier	*cls;
	char			 errs[2048];

	YES("troop NEAR/3 korea", "Troops stationed in Korea", NULL);
	YES("\"deploy missile\"", "Seoul deployed missiles", NULL);
	NO("\"deploy missile\"", "deployed anti-ship missiles", NULL);
	YES("\"us troops\" NEAR/2 withdraw", "Withdrawal of US troop units",
	    NULL);
	NO("=troops NEAR/3 korea", "A troop in Korea", NULL);
	YES("=troops NEAR/3 korea", "Troops in Korea", NULL);
	/* A prefix is of the word as written. */
	YES("negotiat*", "negotiations resume", NULL);
	NO("negotiat*", "negotiable", NULL);
	/* British and American spellings are one word. */
	YES("defense", "Defence ministers meet", NULL);
	YES("defence", "defense ministers meet", NULL);
	YES("maneuvers", "Allied manoeuvres begin", NULL);
	YES("\"joint maneuver\"", "joint manoeuvring", NULL);
	YES("program", "a new programme", NULL);
	YES("modernization", "alliance modernisation", NULL);
	YES("organize", "Seoul organised talks", NULL);
	NO("exercize", "exercise", NULL);
	/* An exact form keeps its own spelling. */
	NO("=defence", "defense ministers meet", NULL);
	YES("=defence", "Defence ministers meet", NULL);
	YES("exercise", "exercises", NULL);
	/* Korean keeps matching inside words, next to stemmed English. */
	YES("주한미군 AND troop", "주한미군은 troops", NULL);

	cls = yaml_classifier(
	    "state: s.db\n"
	    "feeds:\n"
	    "  - url: file:x.xml\n"
	    "language: none\n"
	    "topics:\n"
	    "  - name: asis\n"
	    "    terms: [drill]\n"
	    "  - name: en\n"
	    "    language: english\n"
	    "    terms: [drill]\n"
	    "  - name: de\n"
	    "    language: german\n"
	    "    terms: [haus]\n", errs, sizeof(errs));
	ck_assert_msg(cls != NULL, "%s", errs);
	EXPECT_TOPICS(cls, "Allies drill", NULL, "asis en");
	EXPECT_TOPICS(cls, "Allies hold drills", NULL, "en");
	EXPECT_TOPICS(cls, "Zwei Häuser", NULL, "de");
	EXPECT_TOPICS(cls, "Zwei Hauses", NULL, "de");
	classifier_free(cls);

	cls = yaml_classifier(
	    "state: s.db\n"
	    "feeds:\n"
	    "  - url: file:x.xml\n"
	    "topics:\n"
	    "  - name: t\n"
	    "    language: klingon\n"
	    "    terms: [x]\n", errs, sizeof(errs));
	ck_assert_ptr_null(cls);
	ck_assert_msg(strncmp(errs, "c.yaml:6:15: topic 't': unknown language "
	    "'klingon' (known: none, ", 63) == 0, "%s", errs);
}
END_TEST

/* Named lists: in any expression, inside each other, under NEAR and
 * scopes; an unknown or recursive list is an error at its place. */
START_TEST(lists)
{
	struct classifier	*cls;
	char			 errs[4096];

	cls = yaml_classifier(
	    "state: s.db\n"
	    "feeds:\n"
	    "  - url: file:x.xml\n"
	    "lists:\n"
	    "  us_forces: [usfk, \"us troops\", '@japan_bases']\n"
	    "  japan_bases:\n"
	    "    - kadena\n"
	    "    - 'camp schwab'\n"
	    "  cuts: [withdraw, reduce, cut]\n"
	    "topics:\n"
	    "  - name: posture\n"
	    "    terms:\n"
	    "      - '@us_forces NEAR/4 @cuts'\n"
	    "      - 'title:@japan_bases AND relocation'\n"
	    "    exclude: ['@cuts NEAR/1 =tax']\n", errs, sizeof(errs));
	ck_assert_msg(cls != NULL, "%s", errs);
	EXPECT_TOPICS(cls, "Pentagon to reduce US troops in Korea", NULL,
	    "posture");
	EXPECT_TOPICS(cls, "USFK withdrawal weighed", NULL, "posture");
	/* A list inside a list, with stems. */
	EXPECT_TOPICS(cls, "Marines cut at Kadena", NULL, "posture");
	EXPECT_TOPICS(cls, "Camp Schwab relocation", NULL, "posture");
	EXPECT_TOPICS(cls, "Relocation", "Camp Schwab", "");
	EXPECT_TOPICS(cls, "USFK reduced nothing", "cut tax", "");
	EXPECT_TOPICS(cls, "Cuts loom far from anything said about the USFK",
	    NULL, "");
	classifier_free(cls);

	cls = yaml_classifier(
	    "state: s.db\n"
	    "feeds:\n"
	    "  - url: file:x.xml\n"
	    "lists:\n"
	    "  a: [x, '@b']\n"
	    "  b: [y, 'z OR @a']\n"
	    "  self: ['@self']\n"
	    "  broken: ['x AND']\n"
	    "topics:\n"
	    "  - name: t\n"
	    "    terms:\n"
	    "      - 'q OR @nosuch'\n"
	    "      - '@broken'\n"
	    "      - '@a'\n", errs, sizeof(errs));
	ck_assert_ptr_null(cls);
	ck_assert_str_eq(errs,
	    "c.yaml:6:16: list 'b': list '@a' contains itself: @a -> @b -> @a\n"
	    "c.yaml:5:11: list 'a': list '@b' contains itself: @b -> @a -> @b\n"
	    "c.yaml:7:11: list 'self': list '@self' contains itself: @self -> "
	    "@self\n"
	    "c.yaml:8:18: list 'broken': expected a term at the end of the "
	    "rule\n"
	    "c.yaml:12:15: topic 't': unknown list '@nosuch'\n");
}
END_TEST

/* --explain's words: the inflection a stem matched, the Korean word a term
 * was found in; nothing when the item says the term itself. */
START_TEST(explain_surface)
{
	const char		*terms[] = { "troop AND 주한미군 AND korea", NULL };
	struct conf		*conf = mkconf(terms, NULL);
	struct classifier	*cls = NULL;
	struct fw_errors	 errs = { 0 };
	struct feed_item	 item = { .id = (char *)"x",
	    .title = (char *)"More TROOPS for Korea",
	    .summary = (char *)"주한미군은 밝혔다" };
	struct classify_result	 res = { 0 };

	ck_assert_int_eq(classifier_new(conf, &cls, &errs), 0);
	ck_assert_int_eq(classify_item(cls, NULL, &item, &res), 0);
	ck_assert_uint_eq(res.n_matches, 1);
	ck_assert_uint_eq(res.matches[0].n_hits, 3);
	ck_assert_str_eq(res.matches[0].hits[0].term, "troop");
	ck_assert_str_eq(res.matches[0].hits[0].surface, "troops");
	ck_assert_str_eq(res.matches[0].hits[1].term, "주한미군");
	ck_assert_str_eq(res.matches[0].hits[1].surface, "주한미군은");
	ck_assert_str_eq(res.matches[0].hits[2].term, "korea");
	ck_assert_ptr_null(res.matches[0].hits[2].surface);
	classify_result_done(&res);
	classifier_free(cls);
	conf_free(conf);
	fw_errors_done(&errs);
}
END_TEST

/* The default rules: every hard negative named in TOPICS.md, and a few
 * positives in each language, through config/feedwatch.yaml. */
struct labeled {
	const char	*title;
	const char	*summary;
	const char	*topics;	/* space-separated, "" for none */
};

static const struct labeled default_cases[] = {
	/* sma: near-misses. */
	{ "Biogen's Spinraza sales slip as SMA gene therapy gains",
	  "Zolgensma took share in spinal muscular atrophy.", "" },
	{ "척수성 근위축증(SMA) 신약 건강보험 적용", "환자 단체가 환영했다.", "" },
	{ "SMA Solar cuts outlook on weak European demand",
	  "The German inverter maker supplies plants in Japan.", "" },
	{ "Nikkei slips below its 200-day SMA", "Tokyo stocks fell.", "" },
	{ "Sergeant Major of the Army visits troops in Korea",
	  "The SMA met soldiers at Camp Humphreys.", "" },
	{ "Shape memory alloy (SMA) actuators find use in Japanese robots",
	  "Researchers in Tokyo showed a new design.", "" },
	{ "Korea raises patient cost-sharing for dental implants",
	  "The health insurance change takes effect in July.", "" },
	{ "Japan enacts special measures law on pandemic preparedness",
	  "The Diet passed the bill.", "" },
	{ "NATO allies urged to share more of the defense burden",
	  "Germany and France pledged 3.5% of GDP.", "" },
	{ "Korea's defense budget to reach 3.5% of GDP by 2035",
	  "The ministry plans more spending on drones.", "" },
	/* sma: positives. */
	{ "Seoul, Washington sign new Special Measures Agreement",
	  "The deal sets Seoul's payments for US troops.", "sma" },
	{ "트럼프 \"한국, 방위비 100억 달러 내야\"",
	  "방위비 분담금 대폭 인상을 요구했다.", "sma" },
	{ "思いやり予算、5年で1兆円超に", "在日米軍駐留経費負担の特別協定。", "sma" },
	/* drills: near-misses. */
	{ "Oil majors step up drilling in Gulf of Mexico",
	  "\"Drill, baby, drill,\" the president said.", "" },
	{ "Chicago drill rapper tours Japan", "The drill artist plays Tokyo.", "" },
	{ "Bosch recalls cordless drills sold in Japan", "Battery risk.", "" },
	{ "Army drill sergeant school expands", "Fort Jackson, South Carolina.", "" },
	{ "Tokyo holds earthquake drill on Disaster Prevention Day",
	  "Residents and the Self-Defense Forces joined.", "" },
	{ "J-Alert missile evacuation drill held in Hokkaido town",
	  "Residents practiced taking cover.", "" },
	{ "China, Russia hold joint naval drills in Sea of Japan",
	  "Warships practiced anti-submarine warfare.", "" },
	{ "Chinese military launches drills around Taiwan",
	  "The PLA exercises came after Japan's remarks.", "" },
	{ "North Korea test-fires cruise missiles",
	  "Kim Jong Un oversaw the launch, state media said.", "" },
	{ "Japanese elderly benefit from daily exercise",
	  "A study in Tokyo tracked 3,000 people.", "" },
	{ "Seoul urges citizens to exercise caution in Thailand",
	  "The foreign ministry issued an advisory.", "" },
	{ "Korean War armistice anniversary marked in Seoul",
	  "Veterans gathered.", "" },
	{ "Analysts drill down into Samsung's chip margins",
	  "Brokerages in Seoul weigh HBM demand.", "" },
	{ "Seoul subway holds anti-terror drill", "Police practiced response.", "" },
	/* drills: positives. */
	{ "S. Korea, US begin Ulchi Freedom Shield", "The 11-day exercise.", "drills" },
	{ "한미, 서해서 연합 해상훈련", "해군 함정이 참가했다.", "drills" },
	{ "North Korea fires missiles in protest of joint drills",
	  "Pyongyang said the US-South Korea exercises were war rehearsals.",
	  "drills" },
	/* tariffs: near-misses. */
	{ "Japan raises electricity tariffs for households",
	  "Power bills rise in summer.", "" },
	{ "EU slaps tariffs on Chinese EVs", "Beijing vows response.", "" },
	{ "US, Canada resume trade talks", "Ottawa dropped its tax.", "" },
	{ "China suspends Japanese seafood imports",
	  "Beijing cited the Fukushima water release.", "" },
	{ "Korea imposes anti-dumping duties on Chinese steel plates",
	  "The trade commission set 27 percent duties.", "" },
	{ "Korea, Singapore sign digital trade agreement",
	  "The pact covers data flows.", "" },
	{ "Korea's exports rise for fifth month on chips",
	  "Semiconductor shipments jumped.", "" },
	/* tariffs: positives. */
	{ "US to impose 25% tariff on Korean goods",
	  "Trump said the levy starts Aug. 1.", "tariffs" },
	{ "Honda shifts production to Ohio to avoid tariffs",
	  "The Japanese automaker moves Civic output.", "tariffs" },
	{ "여한구 본부장, 美 USTR과 관세 협상", "상호관세 인하를 논의했다.", "tariffs" },
	/* usfk_posture: near-misses. */
	{ "Pentagon releases Nuclear Posture Review", "The triad stays.", "" },
	{ "Bad posture linked to back pain among Korean office workers",
	  "A Seoul hospital study.", "" },
	{ "USFK soldier arrested over assault in Pyeongtaek",
	  "Police said the private was detained.", "" },
	{ "US sends more troops to Middle East", "Carrier group moves.", "" },
	{ "Kadena fighters relocate ahead of typhoon",
	  "US Air Force jets flew to mainland Japan temporarily.", "" },
	{ "China protests THAAD as Korea's K-pop ban lingers",
	  "The 2017 boycott still weighs on tourism.", "" },
	/* usfk_posture: positives. */
	{ "Pentagon weighs pulling 4,500 troops from South Korea",
	  "Officials considered relocating them to Guam.", "usfk_posture" },
	{ "주한미군 감축 논의 없다", "국방부가 밝혔다.", "usfk_posture" },
	{ "Allies agree on timeline for OPCON transfer",
	  "Wartime operational control will pass to Seoul.", "usfk_posture" },
	/* Written from TOPICS.md's definitions and the kinds of misses of the
	 * held-out set (issue 14): wording without the usual keywords. */
	{ "Seoul, Washington reach cost deal for US troops",
	  "The agreement raises Korea's contribution by 8.3 percent.", "sma" },
	{ "Defense ministry budget sets aside 1.4 trillion won for troop upkeep",
	  "The line covers the stationing of American forces in South Korea.", "sma" },
	{ "Trump asks who pays for US deployments in Japan",
	  "He said Tokyo should cover more of the cost of American troops.", "sma" },
	{ "Trump threatens to pull troops unless Seoul pays more",
	  "The president said South Korea was a money machine.", "sma usfk_posture" },
	{ "Seoul's share of USFK costs to rise 8.3% next year",
	  "The foreign ministry said the payment covers Korean workers' wages.", "sma" },
	{ "Japan, US begin talks on host-nation support",
	  "Tokyo's contribution to the upkeep of US forces expires in March.", "sma" },
	{ "Allies stage drills with B-1B bombers and F-35 jets",
	  "South Korean and US fighters escorted the bombers over the peninsula.", "drills" },
	{ "US carrier Nimitz joins South Korean, Japanese destroyers for trilateral maneuvers",
	  "The three navies practiced missile defense in the East Sea.", "drills" },
	{ "Japanese and US troops hold amphibious landing exercise in Okinawa",
	  "Marines and the Ground Self-Defense Force took part.", "drills" },
	{ "South Korea conducts live-fire artillery drills on border islands",
	  "Marines fired K9 howitzers near the NLL.", "drills" },
	{ "Japan's defence ministry announces joint manoeuvres with US Navy",
	  "Destroyers of the Maritime Self-Defense Force will sail with the USS Ronald Reagan.", "drills" },
	{ "Pentagon moves Patriot battery from South Korea to Middle East",
	  "USFK said the air defense assets would return after the deployment.", "usfk_posture" },
	{ "USFK to station Reaper drone unit at Kunsan",
	  "The squadron will be deployed permanently, US officials said.", "usfk_posture" },
	{ "Trump says US wants ownership of Camp Humphreys land",
	  "He said the US spent billions on the base in Pyeongtaek.", "usfk_posture" },
	{ "Colby urges Seoul to take primary responsibility for conventional deterrence",
	  "The Pentagon official said US forces would focus on China.", "usfk_posture" },
	{ "USFK activates new Space Force component at Osan",
	  "The unit will track North Korean missiles.", "usfk_posture" },
	{ "Marines begin relocation from Okinawa to Guam",
	  "About 100 logistics personnel moved in the first phase.", "usfk_posture" },
	{ "주한미군 일부 병력 중동 차출",
	  "미 국방부는 패트리엇 포대를 중동으로 이동한다고 밝혔다.", "usfk_posture" },
	{ "한미, 방위비 분담금 1조5천억원 합의",
	  "제12차 방위비분담특별협정이 타결됐다.", "sma" },
	{ "한미일, 제주 남방서 프리덤 에지 훈련",
	  "3국 해군 함정이 참가했다.", "drills" },
	{ "美, 일본산 자동차 관세 15%로 인하",
	  "일본 정부와 합의했다.", "tariffs" },
	{ "日米、関税交渉で合意",
	  "赤沢担当相が発表した。", "tariffs" },
	{ "在日米軍の統合軍司令部への移行、来年に",
	  "米国防総省が発表した。", "usfk_posture" },
	{ "North Korea holds artillery drills near the border",
	  "Kim Jong Un oversaw the firing, KCNA said.", "" },
	{ "NATO allies begin Steadfast Defender exercise in Europe",
	  "US, German and Polish troops take part.", "" },
	{ "Germany to pay more for US troops stationed there",
	  "Berlin agreed to raise host-nation support.", "" },
	{ "Japan raises defence budget to 2% of GDP",
	  "Tokyo will buy Tomahawk missiles from the US.", "" },
	{ "US soldier in Korea arrested for assault",
	  "Police said the private was drunk.", "" },
	{ "Korea's health insurance cost-sharing rises for seniors",
	  "Patients will pay 30 percent.", "" },
	{ "US to withdraw troops from Syria",
	  "The Pentagon will cut forces to 1,000.", "" },
	{ "Oil drilling off Japan's coast begins",
	  "The well is operated by Inpex.", "" },
	{ "US and China agree to cut tariffs for 90 days",
	  "Washington and Beijing eased levies.", "" },
	{ "Japan's SDF troops deploy for earthquake relief",
	  "The Ground Self-Defense Force sent 1,000 troops to Noto.", "" },
	{ "North Korean troops in Russia to be withdrawn, Seoul says",
	  "US officials said the deployment continued.", "" },
};

START_TEST(default_rules)
{
	struct conf		*conf = NULL;
	struct classifier	*cls = NULL;
	struct fw_errors	 errs = { 0 };
	const char		*root = getenv("FW_SOURCE_ROOT");
	char			 path[4096];
	size_t			 i, j;

	snprintf(path, sizeof(path), "%s/config/feedwatch.yaml",
	    root != NULL ? root : ".");
	ck_assert_int_eq(conf_load(path, &conf, &errs), 0);
	ck_assert_int_eq(classifier_new(conf, &cls, &errs), 0);
	for (i = 0; i < sizeof(default_cases) / sizeof(default_cases[0]); i++) {
		const struct labeled	*lc = &default_cases[i];
		struct feed_item	 item = { .id = (char *)"x",
		    .title = (char *)lc->title, .summary = (char *)lc->summary };
		struct classify_result	 res = { 0 };
		char			 got[256] = "";

		ck_assert_int_eq(classify_item(cls, NULL, &item, &res), 0);
		for (j = 0; j < res.n_matches; j++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
			    "%s%s", j ? " " : "", res.matches[j].topic);
		ck_assert_msg(strcmp(got, lc->topics) == 0, "'%s': got [%s], "
		    "want [%s]", lc->title, got, lc->topics);
		classify_result_done(&res);
	}
	classifier_free(cls);
	conf_free(conf);
	fw_errors_done(&errs);
}
END_TEST

/* Terms that begin with a word are looked up by it, the others (Hangul,
 * Han, Kana) by the automaton: both kinds side by side, several terms
 * under one first word, and phrases that cross from one script to the
 * other. */
START_TEST(word_index)
{
	struct classifier	*cls;
	char			 errs[2048];

	/* Begins with a word, ends inside one: the Hangul is a beginning. */
	YES("\"troops 주한미군\"", "Troops 주한미군은 밝혔다", NULL);
	NO("\"troops 주한미군\"", "Troops 재주한미군", NULL);
	/* Begins inside a word, ends with one. */
	YES("\"주한미군 troops\"", "재주한미군 troops", NULL);
	NO("\"주한미군 troops\"", "주한미군 troopship", NULL);
	YES("미군", "미군", NULL);
	YES("미군", "x 주한미군", NULL);
	/* Stems and prefixes on both sides of a phrase. */
	YES("\"deploy troop\" NEAR/2 korea*", "deployed troops in Korean bases",
	    NULL);
	YES("korea* NEAR/2 \"deploy troop\"", "Korean bases deployed troops",
	    NULL);
	NO("korea* NEAR/1 \"deploy troop\"", "Korean bases deployed troops",
	    NULL);

	cls = yaml_classifier(
	    "state: s.db\n"
	    "feeds:\n"
	    "  - url: file:x.xml\n"
	    "topics:\n"
	    "  - name: phrase\n"
	    "    terms: ['us troops']\n"
	    "  - name: word\n"
	    "    terms: [us]\n"
	    "  - name: prefix\n"
	    "    terms: ['us*']\n"
	    "  - name: exact\n"
	    "    terms: ['=us']\n"
	    "  - name: exact_phrase\n"
	    "    terms: ['=\"us troops\"']\n"
	    "  - name: near\n"
	    "    terms: ['us NEAR/1 troop*']\n"
	    "  - name: korean\n"
	    "    terms: ['미군 OR 미국']\n", errs, sizeof(errs));
	ck_assert_msg(cls != NULL, "%s", errs);
	EXPECT_TOPICS(cls, "US troops", NULL,
	    "phrase word prefix exact exact_phrase near");
	EXPECT_TOPICS(cls, "US troop cut", NULL, "phrase word prefix exact near");
	EXPECT_TOPICS(cls, "USFK", NULL, "prefix");
	EXPECT_TOPICS(cls, "Used troops", NULL, "prefix");
	EXPECT_TOPICS(cls, "Troops, US", NULL, "word prefix exact near");
	/* Word positions run on from the title: NEAR pairs across
	 * fields, a phrase does not. */
	EXPECT_TOPICS(cls, "US", "troops", "word prefix exact near");
	EXPECT_TOPICS(cls, "미국 US", "주한미군", "word prefix exact korean");
	classifier_free(cls);
}
END_TEST

#define MANY_VOCAB	400
#define MANY_TERMS	10000
#define MANY_ITEMS	150

static unsigned long many_rng = 88172645463325252UL;

static unsigned long
many_rand(void)
{
	many_rng ^= many_rng << 13;
	many_rng ^= many_rng >> 7;
	many_rng ^= many_rng << 17;
	return many_rng;
}

static const char *const many_korean[] = {
	"주한미군", "한미", "방위비", "분담금", "연합훈련", "미국", "관세",
};

/* The form a naive search looks for: the term's normalised words (their
 * stems with stem != NULL), with the space at each end that a word has and
 * Hangul has not, and none at the end of a prefix. */
static char *
many_pattern(struct stem *stem, const char *term, size_t len)
{
	struct norm_text	 nt, st;
	const struct norm_text	*t = &nt;
	size_t			 a = 0, b;
	bool			 prefix = term[len - 1] == '*';
	char			*p;

	norm_text_init(&nt);
	norm_text_init(&st);
	ck_assert_int_eq(normalize_text(&nt, term, prefix ? len - 1 : len), 0);
	if (stem != NULL) {
		ck_assert_int_eq(stem_text(stem, &nt, &st), 0);
		t = &st;
	}
	/* The test's words are ASCII: a byte past it is Hangul. */
	b = t->len;
	if ((unsigned char)t->s[1] >= 0x80)
		a = 1;
	if (prefix || (unsigned char)t->s[t->len - 2] >= 0x80)
		b--;
	p = strndup(t->s + a, b - a);
	ck_assert_ptr_nonnull(p);
	norm_text_done(&nt);
	norm_text_done(&st);
	return p;
}

/* The normalised (and stemmed) form of field, where a naive search
 * looks. */
static char *
many_form(struct stem *stem, const char *field)
{
	struct norm_text	 nt, st;
	char			*form;

	norm_text_init(&nt);
	norm_text_init(&st);
	ck_assert_int_eq(normalize_text(&nt, field, strlen(field)), 0);
	if (stem != NULL)
		ck_assert_int_eq(stem_text(stem, &nt, &st), 0);
	form = strdup(stem != NULL ? st.s : nt.s);
	ck_assert_ptr_nonnull(form);
	norm_text_done(&nt);
	norm_text_done(&st);
	return form;
}

/* 10,000 terms (words, phrases, prefixes, Hangul words and phrases that
 * mix both), each its own topic, over a vocabulary small enough that many
 * of them occur: an item's topics are exactly those whose term a naive
 * search finds in its title or summary. _i = 0: words as written; 1:
 * English stems (no prefixes, whose stems rule.c works out). */
START_TEST(many_terms_vs_naive)
{
	static char		 vocab[MANY_VOCAB][12];
	struct conf		*conf = calloc(1, sizeof(*conf));
	struct classifier	*cls = NULL;
	struct fw_errors	 errs = { 0 };
	struct stem		*stem = NULL;
	char			**pattern = calloc(MANY_TERMS, sizeof(*pattern));
	size_t			 i, j, k, total = 0;

	ck_assert_ptr_nonnull(conf);
	ck_assert_ptr_nonnull(pattern);
	if (_i == 1)
		ck_assert_int_eq(stem_new("english", &stem), 0);
	for (i = 0; i < MANY_VOCAB; i++) {
		int len = 2 + (int)(many_rand() % 6);

		for (j = 0; j < (size_t)len; j++)
			vocab[i][j] = j % 2 ? "aeiou"[many_rand() % 5] :
			    "bdgkst"[many_rand() % 6];
		vocab[i][len] = '\0';
	}
	conf->path = strdup("many.yaml");
	conf->language.s = strdup(_i == 0 ? "none" : "english");
	conf->topics = calloc(MANY_TERMS, sizeof(*conf->topics));
	ck_assert_ptr_nonnull(conf->topics);
	conf->n_topics = MANY_TERMS;
	for (i = 0; i < MANY_TERMS; i++) {
		struct conf_topic	*t = &conf->topics[i];
		const char		*w1 = vocab[many_rand() % MANY_VOCAB];
		const char		*w2 = vocab[many_rand() % MANY_VOCAB];
		const char		*ko = many_korean[many_rand() % 7];
		char			*term = NULL;
		int			 r = 0;

		switch (many_rand() % (_i == 0 ? 7 : 6)) {
		case 0: case 1:	r = asprintf(&term, "%s", w1); break;
		case 2:		r = asprintf(&term, "%s %s", w1, w2); break;
		case 3:		r = asprintf(&term, "%s", ko); break;
		case 4:		r = asprintf(&term, "\"%s %s\"", ko, w1); break;
		case 5:		r = asprintf(&term, "\"%s %s\"", w1, ko); break;
		default:	r = asprintf(&term, "%s*", w1); break;
		}
		ck_assert_int_ge(r, 0);
		ck_assert_int_ge(asprintf(&t->name.s, "t%zu", i), 0);
		t->terms.v = calloc(1, sizeof(*t->terms.v));
		ck_assert_ptr_nonnull(t->terms.v);
		t->terms.v[0].s = term;
		t->terms.n = 1;
		/* Without the quotes of a phrase. */
		pattern[i] = term[0] == '"' ?
		    many_pattern(stem, term + 1, strlen(term) - 2) :
		    many_pattern(stem, term, strlen(term));
	}
	ck_assert_msg(classifier_new(conf, &cls, &errs) == 0, "%s",
	    errs.n ? errs.v[0].msg : "?");
	for (k = 0; k < MANY_ITEMS; k++) {
		char			 title[256], summary[1024];
		struct feed_item	 item = { .id = (char *)"x",
		    .title = title, .summary = summary };
		struct classify_result	 res = { 0 };
		size_t			 len, n, m = 0;
		char			*tf, *sf;

		for (len = 0, n = 0; n < 8; n++)
			len += (size_t)snprintf(title + len, sizeof(title) - len,
			    "%s%s", n ? " " : "", many_rand() % 8 == 0 ?
			    many_korean[many_rand() % 7] :
			    vocab[many_rand() % MANY_VOCAB]);
		for (len = 0, n = 0; n < 40; n++)
			len += (size_t)snprintf(summary + len,
			    sizeof(summary) - len, "%s%s%s", n ? " " : "",
			    many_rand() % 8 == 0 ? "재" : "",
			    many_rand() % 8 == 0 ?
			    many_korean[many_rand() % 7] :
			    vocab[many_rand() % MANY_VOCAB]);
		ck_assert_int_eq(classify_item(cls, NULL, &item, &res), 0);
		tf = many_form(stem, title);
		sf = many_form(stem, summary);
		for (i = 0; i < MANY_TERMS; i++) {
			bool want = strstr(tf, pattern[i]) != NULL ||
			    strstr(sf, pattern[i]) != NULL;
			bool got = m < res.n_matches &&
			    strcmp(res.matches[m].topic, conf->topics[i].name.s) == 0;

			/* Check writes down every assertion that passes: a
			 * plain test keeps this loop of 10,000 fast. */
			if (want != got)
				ck_abort_msg("term '%s' (%s): want %d, got %d "
				    "in '%s' / '%s'", conf->topics[i].terms.v[0].s,
				    pattern[i], want, got, title, summary);
			m += got;
		}
		ck_assert_uint_eq(m, res.n_matches);
		total += m;
		free(tf);
		free(sf);
		classify_result_done(&res);
	}
	/* The vocabulary is small enough that terms do occur. */
	ck_assert_uint_gt(total, MANY_ITEMS * 10);
	for (i = 0; i < MANY_TERMS; i++)
		free(pattern[i]);
	free(pattern);
	classifier_free(cls);
	conf_free(conf);
	stem_free(stem);
	fw_errors_done(&errs);
}
END_TEST

static Suite *
classify_suite(void)
{
	Suite	*s = suite_create("classify");
	TCase	*tc;

	tc = tcase_create("operators");
	tcase_add_test(tc, words_and_phrases);
	tcase_add_test(tc, boolean);
	tcase_add_test(tc, near);
	tcase_add_test(tc, scopes);
	tcase_add_test(tc, content_field);
	tcase_add_test(tc, excludes);
	tcase_add_test(tc, stems);
	tcase_add_test(tc, lists);
	suite_add_tcase(s, tc);
	tc = tcase_create("unicode");
	tcase_add_test(tc, unicode);
	suite_add_tcase(s, tc);
	tc = tcase_create("matching");
	tcase_add_test(tc, word_index);
	tcase_add_loop_test(tc, many_terms_vs_naive, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("topics");
	tcase_add_test(tc, topics_and_feeds);
	tcase_add_test(tc, explain);
	tcase_add_test(tc, explain_only_what_holds);
	tcase_add_test(tc, explain_surface);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, rule_errors);
	tcase_add_test(tc, rule_errors_yaml);
	suite_add_tcase(s, tc);
	tc = tcase_create("defaults");
	tcase_add_test(tc, default_rules);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(classify_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
