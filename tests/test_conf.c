/* test_conf.c — the YAML config loader: defaults, every type of value, and
 * every kind of mistake reported as file:line:col. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "testutil.h"

static char *tmp;

static void
setup(void)
{
	tmp = tu_tmpdir();
}

static void
teardown(void)
{
	tu_rmtree(tmp);
	free(tmp);
}

/* Loads text as a config; returns the conf (or NULL) and the errors. */
static struct conf *
load(const char *text, struct fw_errors *errs)
{
	char		*path = tu_write_file(tmp, "feedwatch.yaml", text);
	struct conf	*c = NULL;
	int		 r = conf_load(path, &c, errs);

	free(path);
	if (r < 0)
		ck_assert_ptr_null(c);
	return r == 0 ? c : NULL;
}

/* Asserts that text fails with an error at line:col containing needle. */
static void
assert_error(const char *text, unsigned line, unsigned col, const char *needle)
{
	struct fw_errors	 errs = { 0 };
	struct conf		*c = load(text, &errs);
	int			 found = 0;

	ck_assert_ptr_null(c);
	ck_assert_uint_gt(errs.n, 0);
	for (size_t i = 0; i < errs.n; i++) {
		if (errs.v[i].line == line && (col == 0 || errs.v[i].col == col) &&
		    strstr(errs.v[i].msg, needle) != NULL)
			found = 1;
	}
	if (!found) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "got %u:%u: %s\n", errs.v[i].line, errs.v[i].col, errs.v[i].msg);
	}
	ck_assert_msg(found, "no error at %u:%u containing '%s'", line, col, needle);
	ck_assert(strstr(errs.v[0].file, "feedwatch.yaml") != NULL);
	fw_errors_done(&errs);
}

START_TEST(test_minimal_defaults)
{
	struct fw_errors	 errs = { 0 };
	struct conf		*c = load(
	    "state: /tmp/x.db\n"
	    "feeds:\n"
	    "  - url: https://example.org/feed.xml\n", &errs);

	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_str_eq(c->state_path, "/tmp/x.db");
	ck_assert_uint_eq(c->n_feeds, 1);
	ck_assert_str_eq(c->feeds[0].name, "https://example.org/feed.xml");
	ck_assert_int_eq(c->feeds[0].interval, 15 * 60);
	ck_assert_int_eq(c->feeds[0].backlog, 24 * 3600);
	ck_assert_uint_eq(c->feeds[0].max_bytes, 10 * 1024 * 1024);
	ck_assert_uint_eq(c->concurrency, 8);
	ck_assert_uint_eq(c->n_topics, 0);
	ck_assert_uint_eq(c->n_sinks, 0);
	conf_free(c);
}
END_TEST

START_TEST(test_full)
{
	struct fw_errors	 errs = { 0 };
	struct conf		*c;

	setenv("FW_TEST_TOKEN", "s3cret", 1);
	c = load(
	    "state: state.db\n"
	    "user_agent: test-agent\n"
	    "defaults:\n"
	    "  interval: 5m\n"
	    "  timeout: 10s\n"
	    "  max_bytes: 2MiB\n"
	    "  backlog: 2d\n"
	    "  concurrency: 4\n"
	    "feeds:\n"
	    "  - url: file:samples/a.xml\n"
	    "    name: a\n"
	    "    interval: 1h\n"
	    "    topics: [sma]\n"
	    "    headers:\n"
	    "      - {name: Authorization, value_env: FW_TEST_TOKEN}\n"
	    "  - url: http://127.0.0.1:1/b.xml\n"
	    "topics:\n"
	    "  - name: sma\n"
	    "    severity: high\n"
	    "    terms: ['\"special measures agreement\"', SMA]\n"
	    "    exclude:\n"
	    "      - spinal\n"
	    "    feeds: [a]\n"
	    "sinks:\n"
	    "  - type: log\n"
	    "    path: '-'\n"
	    "  - type: log\n"
	    "    name: json\n"
	    "    path: alerts.jsonl\n"
	    "    format: jsonl\n"
	    "    topics: [sma]\n"
	    "    min_severity: high\n"
	    "    quiet_hours: 22:00-07:30\n", &errs);
	for (size_t i = 0; i < errs.n; i++)
		fw_error_print(stderr, &errs.v[i]);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->user_agent, "test-agent");
	ck_assert_uint_eq(c->n_feeds, 2);
	ck_assert_int_eq(c->feeds[0].interval, 3600);
	ck_assert_int_eq(c->feeds[1].interval, 300);
	ck_assert_int_eq(c->feeds[1].timeout, 10);
	ck_assert_int_eq(c->feeds[1].backlog, 2 * 86400);
	ck_assert_uint_eq(c->feeds[1].max_bytes, 2 * 1024 * 1024);
	/* A relative file: URL is resolved against the config's directory. */
	ck_assert(strncmp(c->feeds[0].url, "file:///", 8) == 0);
	ck_assert(strstr(c->feeds[0].url, "/samples/a.xml") != NULL);
	ck_assert_uint_eq(c->feeds[0].n_headers, 1);
	ck_assert_str_eq(c->feeds[0].headers[0].value, "s3cret");
	ck_assert_uint_eq(c->n_topics, 1);
	ck_assert_int_eq(c->topics[0].severity, SEVERITY_HIGH);
	ck_assert_uint_eq(c->topics[0].terms.n, 2);
	ck_assert_str_eq(c->topics[0].terms.v[0].s, "\"special measures agreement\"");
	ck_assert(c->topics[0].terms.v[0].quoted);
	ck_assert(!c->topics[0].terms.v[1].quoted);
	ck_assert_uint_eq(c->topics[0].terms.v[0].line, 20);
	ck_assert_uint_eq(c->topics[0].exclude.v[0].line, 22);
	ck_assert_uint_eq(c->topics[0].exclude.v[0].col, 9);
	ck_assert_uint_eq(c->n_sinks, 2);
	ck_assert_str_eq(c->sinks[0].name, "log1");
	ck_assert_int_eq(c->sinks[0].format, SINK_FORMAT_TEXT);
	ck_assert_int_eq(c->sinks[1].format, SINK_FORMAT_JSONL);
	ck_assert_int_eq(c->sinks[1].min_severity, SEVERITY_HIGH);
	ck_assert_int_eq(c->sinks[1].quiet_start_min, 22 * 60);
	ck_assert_int_eq(c->sinks[1].quiet_end_min, 7 * 60 + 30);
	ck_assert_ptr_nonnull(conf_find_feed(c, "a"));
	ck_assert_ptr_null(conf_find_feed(c, "nope"));
	conf_free(c);
	fw_errors_done(&errs);
}
END_TEST

START_TEST(test_unknown_key)
{
	assert_error("state: x.db\nfeeds:\n  - url: http://a/\n    intervall: 5m\n",
	    4, 5, "unknown key 'intervall'");
}
END_TEST

START_TEST(test_unknown_top_key)
{
	assert_error("state: x.db\nfeedz: []\n", 2, 1, "unknown key 'feedz'");
}
END_TEST

START_TEST(test_missing_required)
{
	assert_error("state: x.db\n", 1, 1, "missing required key 'feeds'");
	assert_error("state: x.db\nfeeds:\n  - name: a\n", 3, 5, "missing required key 'url'");
}
END_TEST

START_TEST(test_wrong_types)
{
	assert_error("state: x.db\nfeeds:\n  - url: http://a/\n    interval: soon\n",
	    4, 15, "invalid duration 'soon'");
	assert_error("state: x.db\nfeeds: http://a/\n", 2, 8, "'feeds' must be a list of feeds");
	assert_error("state: x.db\nfeeds: []\ntopics: {name: t}\n", 3, 9,
	    "'topics' must be a list of topics, found a mapping");
	assert_error("state: x.db\nfeeds: []\nsinks:\n", 3, 7,
	    "'sinks' must be a list of sinks, found an empty value");
	assert_error("state: [a, b]\nfeeds: []\n", 1, 8, "must be a value");
	assert_error("state: x.db\ndefaults:\n  concurrency: -3\nfeeds: []\n",
	    3, 16, "whole number");
	assert_error("state: x.db\ndefaults:\n  max_bytes: 10 parsecs\nfeeds: []\n",
	    3, 14, "invalid size");
	assert_error("state: x.db\nfeeds: []\ntopics:\n  - name: t\n    terms: [a]\n"
	    "    severity: urgent\n", 6, 15, "low, normal, high, critical");
}
END_TEST

START_TEST(test_yaml_syntax)
{
	assert_error("state: x.db\nfeeds:\n  - url: \"http://a/\n", 4, 0, "YAML syntax error");
	assert_error("state: x.db\n feeds: [\n", 2, 0, "YAML syntax error");
}
END_TEST

START_TEST(test_bad_url)
{
	assert_error("state: x.db\nfeeds:\n  - url: gopher://a/\n", 3, 10, "must start with");
}
END_TEST

/* The lists block and languages: kept with their positions for classify,
 * which compiles them; shape errors here. */
START_TEST(test_lists)
{
	struct fw_errors	 errs = { 0 };
	struct conf		*c;

	c = load("state: x.db\nfeeds: []\nlanguage: german\nlists:\n"
	    "  us_forces: [usfk, \"us troops\"]\n  one: x\n"
	    "topics:\n  - name: t\n    language: none\n    terms: ['@one']\n",
	    &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n_lists, 2);
	ck_assert_str_eq(c->lists[0].name.s, "us_forces");
	ck_assert_uint_eq(c->lists[0].entries.n, 2);
	ck_assert_str_eq(c->lists[0].entries.v[1].s, "us troops");
	ck_assert_uint_eq(c->lists[0].entries.v[1].line, 5);
	ck_assert_uint_eq(c->lists[0].entries.v[1].col, 21);
	ck_assert_str_eq(c->lists[1].entries.v[0].s, "x");
	ck_assert_str_eq(c->language.s, "german");
	ck_assert_str_eq(c->topics[0].language.s, "none");
	conf_free(c);
	fw_errors_done(&errs);

	assert_error("state: x.db\nfeeds: []\nlists: [a]\n", 3, 8,
	    "'lists' must map list names");
	assert_error("state: x.db\nfeeds: []\nlists:\n  bad.name: [a]\n", 4, 3,
	    "a list name is made of");
	assert_error("state: x.db\nfeeds: []\nlists:\n  a: [x]\n  a: [y]\n", 5, 3,
	    "list 'a' is defined twice");
	assert_error("state: x.db\nfeeds: []\nlists:\n  a: []\n", 4, 6,
	    "list 'a' is empty");
	assert_error("state: x.db\nfeeds: []\nlists:\n  a: [[x]]\n", 4, 7,
	    "each entry of 'a' must be a value");
	assert_error("state: x.db\nfeeds: []\nlanguage: [x]\n", 3, 11,
	    "'language'");
}
END_TEST

START_TEST(test_references)
{
	assert_error("state: x.db\nfeeds:\n  - url: http://a/\n    topics: [nope]\n",
	    4, 14, "unknown topic 'nope'");
	assert_error("state: x.db\nfeeds:\n  - url: http://a/\n  - url: http://a/\n",
	    4, 5, "listed twice");
	assert_error("state: x.db\nfeeds: []\ntopics:\n  - name: t\n    terms: [a]\n"
	    "  - name: t\n    terms: [b]\n", 6, 11, "defined twice");
}
END_TEST

START_TEST(test_sinks)
{
	assert_error("state: x.db\nfeeds: []\nsinks:\n  - type: pager\n", 4, 11,
	    "must be one of log, webhook, mail, exec");
	assert_error("state: x.db\nfeeds: []\nsinks:\n  - type: log\n", 4, 5, "needs 'path'");
	assert_error("state: x.db\nfeeds: []\nsinks:\n  - type: webhook\n    url: ftp://x\n",
	    4, 5, "must start with http");
	assert_error("state: x.db\nfeeds: []\nsinks:\n  - type: log\n    path: a\n    format: slack\n",
	    6, 13, "must be one of text, jsonl; found 'slack'");
	assert_error("state: x.db\nfeeds: []\nsinks:\n  - type: webhook\n    url: http://x/\n"
	    "    secret_env: FW_TEST_SURELY_UNSET_VAR\n", 6, 17, "is not set");
	assert_error("state: x.db\nfeeds: []\nsinks:\n  - type: exec\n", 4, 5, "needs 'command'");
	/* A secret comes from exactly one place. */
	assert_error("state: x.db\nfeeds: []\nsinks:\n  - type: webhook\n    url: http://x/\n"
	    "    secret_env: HOME\n    secret_file: /etc/hostname\n", 7, 18,
	    "give only one of secret_file, secret_env");
	assert_error("state: x.db\nfeeds:\n  - url: http://a/\n    headers:\n"
	    "      - {name: A, value: x, value_env: HOME}\n", 5, 40,
	    "give only one of value, value_file, value_env");
}
END_TEST

#define MAIL_SINK "state: x.db\nfeeds: []\nsinks:\n  - type: mail\n" \
	"    from: a@watch.example\n    to: [b@example.org]\n"

/* Mail through the local mail system: the command as argv, no SMTP keys. */
START_TEST(test_sink_sendmail)
{
	struct fw_errors	 errs = { 0 };
	struct conf		*c = load(MAIL_SINK "    transport: sendmail\n"
				    "  - type: mail\n    transport: sendmail\n"
				    "    sendmail: [/usr/bin/msmtp, --host=relay.example, -t]\n"
				    "    from: a@watch.example\n    to: [b@example.org]\n"
				    "    env: [HOME]\n"
				    "  - {type: mail, transport: smtp, url: \"smtp://h\", from: a@x.example, "
				    "to: [b@x.example]}\n", &errs);

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%u:%u: %s\n", errs.v[i].line, errs.v[i].col, errs.v[i].msg);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->sinks[0].transport, MAIL_TRANSPORT_SENDMAIL);
	/* Not given: sink_mail.c's /usr/sbin/sendmail -t -oi. */
	ck_assert_uint_eq(c->sinks[0].sendmail.n, 0);
	ck_assert_uint_eq(c->sinks[1].sendmail.n, 3);
	ck_assert_str_eq(c->sinks[1].sendmail.v[0].s, "/usr/bin/msmtp");
	ck_assert_str_eq(c->sinks[1].sendmail.v[2].s, "-t");
	ck_assert_str_eq(c->sinks[1].env.v[0].s, "HOME");
	ck_assert_int_eq(c->sinks[2].transport, MAIL_TRANSPORT_SMTP);
	conf_free(c);
	/* Not what a shell would split. */
	assert_error(MAIL_SINK "    transport: sendmail\n    sendmail: /usr/sbin/sendmail -t -oi\n",
	    8, 15, "'sendmail' is a list, the program and its arguments (no shell)");
	assert_error(MAIL_SINK "    transport: sendmail\n    sendmail: []\n", 8, 15,
	    "'sendmail' must name a program");
	assert_error(MAIL_SINK "    transport: sendmail\n    sendmail: [\"\", -t]\n", 8, 16,
	    "must name a program first");
	assert_error(MAIL_SINK "    transport: lmtp\n", 7, 16,
	    "'transport' must be smtp or sendmail; found 'lmtp'");
	assert_error(MAIL_SINK "    transport: [sendmail]\n", 7, 16, "'transport'");
	/* The SMTP keys say the config means something else. */
	assert_error(MAIL_SINK "    transport: sendmail\n    url: smtp://localhost:25\n", 8, 10,
	    "'url' is for the smtp transport");
	assert_error(MAIL_SINK "    transport: sendmail\n    starttls: true\n", 8, 15,
	    "'starttls' is for the smtp transport");
	assert_error(MAIL_SINK "    transport: sendmail\n    username: u\n", 8, 15,
	    "'username' is for the smtp transport");
	assert_error(MAIL_SINK "    transport: sendmail\n    password_env: HOME\n", 8, 19,
	    "'password_env' is for the smtp transport");
	assert_error(MAIL_SINK "    url: smtp://localhost:25\n    sendmail: [/usr/sbin/sendmail]\n",
	    8, 15, "'sendmail' is for 'transport: sendmail'");
	assert_error(MAIL_SINK, 4, 5, "or 'transport: sendmail'");
	assert_error("state: x.db\nfeeds: []\nsinks:\n  - {type: exec, command: [x], "
	    "transport: sendmail}\n", 4, 43, "only a mail sink has a 'transport'");
	assert_error("state: x.db\nfeeds: []\nsinks:\n  - {type: log, path: a, "
	    "sendmail: [x]}\n", 4, 36, "only a mail sink has 'sendmail'");
	/* Recipients come from the config; a line break would add a header. */
	assert_error("state: x.db\nfeeds: []\nsinks:\n  - type: mail\n    transport: sendmail\n"
	    "    from: a@watch.example\n    to: [b@example.org, \"c@example.org\\nBcc: x@y\"]\n",
	    7, 25, "'to' has a control character");
	assert_error("state: x.db\nfeeds: []\nsinks:\n  - type: mail\n    transport: sendmail\n"
	    "    from: \"a@watch.example\\rX: y\"\n    to: [b@example.org]\n",
	    4, 5, "'from' has a control character");
}
END_TEST

#define RETRY_SINK "state: x.db\nfeeds: []\nsinks:\n  - type: log\n    path: a\n    retry: "

START_TEST(test_sink_retry)
{
	struct fw_errors	 errs = { 0 };
	struct conf		*c = load(RETRY_SINK "[2s, 1m, 1h]\n  - type: log\n    path: b\n",
				    &errs);

	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->sinks[0].n_retry, 3);
	ck_assert_int_eq(c->sinks[0].retry[0], 2);
	ck_assert_int_eq(c->sinks[0].retry[1], 60);
	ck_assert_int_eq(c->sinks[0].retry[2], 3600);
	/* Not given: the default schedule (outbox.c). */
	ck_assert_uint_eq(c->sinks[1].n_retry, 0);
	conf_free(c);
	assert_error(RETRY_SINK "[5s, soon, 1h]\n", 6, 17, "invalid duration 'soon'");
	assert_error(RETRY_SINK "[5s, 0s]\n", 6, 17, "at least 1s, found '0s'");
	assert_error(RETRY_SINK "[]\n", 6, 12, "from 1 to 20 durations, found 0");
	assert_error(RETRY_SINK "5m\n", 6, 12, "must be a list of durations");
	assert_error(RETRY_SINK "[5s, [1m]]\n", 6, 17, "must be a duration, found a list");
	assert_error(RETRY_SINK "[1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s,"
	    " 1s, 1s, 1s, 1s, 1s, 1s, 1s]\n", 6, 12, "from 1 to 20 durations, found 21");
	assert_error(RETRY_SINK "[5s, 40000d]\n", 6, 17, "longer than the maximum");
}
END_TEST

START_TEST(test_all_errors_reported)
{
	struct fw_errors	 errs = { 0 };
	struct conf		*c = load(
	    "state: x.db\n"
	    "bogus: 1\n"
	    "feeds:\n"
	    "  - url: http://a/\n"
	    "    interval: never\n"
	    "  - name: b\n", &errs);

	ck_assert_ptr_null(c);
	ck_assert_uint_ge(errs.n, 3);
	fw_errors_done(&errs);
}
END_TEST

START_TEST(test_missing_file)
{
	struct fw_errors	 errs = { 0 };
	struct conf		*c = NULL;

	ck_assert_int_lt(conf_load("/nonexistent/feedwatch.yaml", &c, &errs), 0);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert(strstr(errs.v[0].msg, "cannot open") != NULL);
	fw_errors_done(&errs);
}
END_TEST

START_TEST(test_empty_file)
{
	assert_error("", 1, 1, "empty");
	assert_error("# only a comment\n", 1, 1, "empty");
	assert_error("- a\n- b\n", 1, 1, "must be a mapping");
}
END_TEST

START_TEST(test_durations_sizes)
{
	int64_t		d;
	uint64_t	s;

	ck_assert_int_eq(conf_parse_duration("90", &d), 0);
	ck_assert_int_eq(d, 90);
	ck_assert_int_eq(conf_parse_duration("15m", &d), 0);
	ck_assert_int_eq(d, 900);
	ck_assert_int_eq(conf_parse_duration("7d", &d), 0);
	ck_assert_int_eq(d, 7 * 86400);
	ck_assert_int_eq(conf_parse_duration("1w", &d), 0);
	ck_assert_int_eq(d, 7 * 86400);
	ck_assert_int_lt(conf_parse_duration("-5m", &d), 0);
	ck_assert_int_lt(conf_parse_duration("5 m", &d), 0);
	ck_assert_int_lt(conf_parse_duration("5y", &d), 0);
	ck_assert_int_lt(conf_parse_duration("99999999999999999999", &d), 0);
	/* 2^63-1 seconds: now + interval would overflow; 36500d is the most. */
	ck_assert_int_eq(conf_parse_duration("9223372036854775807", &d), -ERANGE);
	ck_assert_int_eq(conf_parse_duration("36501d", &d), -ERANGE);
	ck_assert_int_eq(conf_parse_duration("5215w", &d), -ERANGE);
	ck_assert_int_eq(conf_parse_duration("36500d", &d), 0);
	ck_assert_int_eq(d, (int64_t)36500 * 86400);
	ck_assert_int_eq(conf_parse_size("10MiB", &s), 0);
	ck_assert_uint_eq(s, 10 * 1024 * 1024);
	ck_assert_int_eq(conf_parse_size("512", &s), 0);
	ck_assert_uint_eq(s, 512);
	ck_assert_int_eq(conf_parse_size("2kB", &s), 0);
	ck_assert_uint_eq(s, 2000);
	ck_assert_int_lt(conf_parse_size("10 MiB", &s), 0);
	ck_assert_int_lt(conf_parse_size("MiB", &s), 0);
}
END_TEST

/* The path of name under tmp (owned). */
static char *
tmp_path(const char *name)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", tmp, name), 0);
	return p;
}

/* Whether errs holds an error in a file ending in file, at line:col,
 * containing needle. */
static bool
has_error(const struct fw_errors *errs, const char *file, unsigned line, unsigned col,
    const char *needle)
{
	for (size_t i = 0; i < errs->n; i++) {
		size_t fl = strlen(errs->v[i].file), nl = strlen(file);

		if (fl >= nl && strcmp(errs->v[i].file + fl - nl, file) == 0 &&
		    errs->v[i].line == line && errs->v[i].col == col &&
		    strstr(errs->v[i].msg, needle) != NULL)
			return true;
	}
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "got %s:%u:%u: %s\n", errs->v[i].file, errs->v[i].line,
		    errs->v[i].col, errs->v[i].msg);
	return false;
}

START_TEST(test_include_default_dir)
{
	struct fw_errors	 errs = { 0 };
	struct conf		*c;
	char			*d = tmp_path("feeds.d");

	ck_assert_int_eq(mkdir(d, 0755), 0);
	free(tu_write_file(d, "b.yaml", "feeds:\n  - {url: \"file:b.xml\", name: b, "
	    "interval: 1h}\n"));
	free(tu_write_file(d, "a.yaml", "feeds:\n  - {url: \"http://a.example/\", name: a}\n"));
	free(tu_write_file(d, "notes.txt", "not yaml: ["));
	/* Not a regular file: not read. */
	{
		char *sub = tmp_path("feeds.d/sub.yaml");

		ck_assert_int_eq(mkdir(sub, 0755), 0);
		free(sub);
	}
	c = load("state: x.db\ndefaults: {interval: 5m}\nfeeds:\n"
	    "  - {url: \"http://main.example/\", name: main}\n", &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n_feeds, 3);
	ck_assert_str_eq(c->feeds[0].name, "main");
	/* In name order; defaults flow into included feeds. */
	ck_assert_str_eq(c->feeds[1].name, "a");
	ck_assert_int_eq(c->feeds[1].interval, 300);
	ck_assert_str_eq(c->feeds[2].name, "b");
	ck_assert_int_eq(c->feeds[2].interval, 3600);
	ck_assert_uint_eq(c->n_included, 2);
	ck_assert_ptr_nonnull(strstr(c->feeds[2].file, "feeds.d/b.yaml"));
	/* A file: URL is relative to the included file's directory. */
	ck_assert_ptr_nonnull(strstr(c->feeds[2].url, "/feeds.d/b.xml"));
	conf_free(c);
	fw_errors_done(&errs);
	free(d);
}
END_TEST

START_TEST(test_include_errors)
{
	struct fw_errors	 errs = { 0 };
	struct conf		*c;
	char			*d = tmp_path("more");

	ck_assert_int_eq(mkdir(d, 0755), 0);
	free(tu_write_file(d, "dup.yaml", "# added by hand\nfeeds:\n"
	    "  - {url: \"http://main.example/\", name: again}\n"
	    "  - {url: \"http://x.example/\", name: x, intervall: 5m}\n"));
	free(tu_write_file(d, "bad.yaml", "feeds:\n  - {url: \"http://y.example/\"\n"));
	free(tu_write_file(d, "other.yaml", "topics: []\n"));
	c = load("state: x.db\ninclude: more/*.yaml\nfeeds:\n"
	    "  - {url: \"http://main.example/\", name: main}\n", &errs);
	ck_assert_ptr_null(c);
	/* Each error names the file it is in; a feed defined twice names
	 * both places. */
	ck_assert(has_error(&errs, "more/dup.yaml", 3, 5,
	    "feed 'http://main.example/' is listed twice: first at "));
	ck_assert(has_error(&errs, "more/dup.yaml", 3, 5, "feedwatch.yaml:4:5"));
	ck_assert(has_error(&errs, "more/dup.yaml", 4, 41, "unknown key 'intervall'"));
	ck_assert(has_error(&errs, "more/bad.yaml", 3, 1, "YAML syntax error"));
	ck_assert(has_error(&errs, "more/other.yaml", 1, 1, "unknown key 'topics'"));
	fw_errors_done(&errs);
	free(d);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_minimal_defaults);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_unknown_top_key);
	tcase_add_test(tc, test_missing_required);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_yaml_syntax);
	tcase_add_test(tc, test_bad_url);
	tcase_add_test(tc, test_references);
	tcase_add_test(tc, test_lists);
	tcase_add_test(tc, test_sinks);
	tcase_add_test(tc, test_sink_retry);
	tcase_add_test(tc, test_sink_sendmail);
	tcase_add_test(tc, test_all_errors_reported);
	tcase_add_test(tc, test_empty_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("include");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_include_default_dir);
	tcase_add_test(tc, test_include_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, test_durations_sizes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(conf_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
