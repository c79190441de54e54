/* test_sink_mail.c — the RFC 5322 message the mail sink sends: headers,
 * a stable Message-ID, RFC 2047 subjects split on character boundaries,
 * a quoted-printable body with lines of at most 76 characters, digests;
 * and the outcome when no server listens. A real SMTP exchange (aiosmtpd)
 * is in tests/cli/test_deliver.py. */
#include <check.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sink.h"
#include "testutil.h"

static const char alert_json[] =
	"{\"id\":\"0123abcd\",\"severity\":\"high\",\"topics\":[\"sma\"],"
	"\"hits\":[{\"topic\":\"sma\",\"term\":\"cost-sharing\",\"field\":\"title\"}],"
	"\"feed\":\"http://feeds.example/w.xml\",\"feed_name\":\"wire\","
	"\"item\":{\"id\":\"g1\",\"title\":\"한미 방위비 분담금 협상 — cost-sharing talks resume\","
	"\"link\":\"http://news.example/1\",\"published\":\"2025-03-01T09:00:00Z\","
	"\"summary\":\"A=B; a very long summary line that goes on and on and on and on and on "
	"beyond seventy-six characters for sure.\"}}";

static struct conf_str to[2] = { { .s = "Ops <ops@example.org>" }, { .s = "desk@example.net" } };

static void
mail_conf(struct conf_sink *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->name = "mail";
	cs->type = SINK_MAIL;
	cs->url = "smtp://127.0.0.1:1";
	cs->from = "feedwatch <alerts@watch.example>";
	cs->to.v = to;
	cs->to.n = 2;
	cs->timeout = 3;
	cs->quiet_start_min = cs->quiet_end_min = -1;
}

/* Decodes "=?UTF-8?B?...?=" words (folded with CRLF SP) back to UTF-8. */
static char *
decode_words(const char *v)
{
	char		*out = calloc(1, strlen(v) + 1);
	size_t		 n = 0;
	const char	*p = v;

	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		const char	*end = strstr(p + 10, "?=");
		unsigned char	 buf[128];
		int		 len, pad = 0;

		ck_assert_ptr_nonnull(end);
		ck_assert_int_le(end + 2 - p, 75);
		len = EVP_DecodeBlock(buf, (const unsigned char *)p + 10, (int)(end - p - 10));
		ck_assert_int_ge(len, 0);
		for (const char *q = end - 1; *q == '='; q--)
			pad++;
		memcpy(out + n, buf, (size_t)(len - pad));
		n += (size_t)(len - pad);
		p = end + 2;
	}
	out[n] = '\0';
	return out;
}

static char *
header(const char *msg, const char *name)
{
	const char	*p = msg, *end;
	size_t		 nlen = strlen(name);

	for (;;) {
		if (strncmp(p, name, nlen) == 0 && p[nlen] == ':')
			break;
		p = strstr(p, "\r\n");
		ck_assert_ptr_nonnull(p);
		p += 2;
		ck_assert_msg(strncmp(p, "\r\n", 2) != 0, "no header %s", name);
	}
	p += nlen + 2;
	end = p;
	/* Folded lines continue with a blank. */
	while ((end = strstr(end, "\r\n")) != NULL && (end[2] == ' ' || end[2] == '\t'))
		end += 2;
	return end != NULL ? strndup(p, (size_t)(end - p)) : strdup(p);
}

START_TEST(test_message)
{
	struct conf_sink	 cs;
	struct sink_msg		 m = { .id = "0123abcd", .json = alert_json };
	char			*msg = NULL, *msg2 = NULL, *v, *subj;
	const char		*body;

	mail_conf(&cs);
	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert_int_eq(sink_mail_message(&cs, &m, 1740819600, &msg), 0);
	v = header(msg, "Date");
	ck_assert_str_eq(v, "Sat, 01 Mar 2025 09:00:00 +0000");
	free(v);
	v = header(msg, "From");
	ck_assert_str_eq(v, "feedwatch <alerts@watch.example>");
	free(v);
	v = header(msg, "To");
	ck_assert_str_eq(v, "Ops <ops@example.org>,\r\n desk@example.net");
	free(v);
	v = header(msg, "Message-ID");
	ck_assert_str_eq(v, "<feedwatch.0123abcd@watch.example>");
	free(v);
	v = header(msg, "Content-Type");
	ck_assert_str_eq(v, "text/plain; charset=utf-8");
	free(v);
	v = header(msg, "Subject");
	subj = decode_words(v);
	ck_assert_str_eq(subj, "[sma] 한미 방위비 분담금 협상 — cost-sharing talks resume");
	free(subj);
	free(v);
	/* The same alert a minute later: same Message-ID. */
	ck_assert_int_eq(sink_mail_message(&cs, &m, 1740819660, &msg2), 0);
	v = header(msg2, "Message-ID");
	ck_assert_str_eq(v, "<feedwatch.0123abcd@watch.example>");
	free(v);
	free(msg2);

	body = strstr(msg, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	body += 4;
	/* Quoted-printable: ASCII only, no line over 76, "=" encoded. */
	for (const char *l = body; *l != '\0';) {
		const char *e = strstr(l, "\r\n");

		if (e == NULL)
			e = l + strlen(l);
		ck_assert_int_le(e - l, 76);
		for (const char *c = l; c < e; c++)
			ck_assert_int_lt((unsigned char)*c, 0x80);
		l = *e ? e + 2 : e;
	}
	ck_assert_ptr_nonnull(strstr(body, "http://news.example/1"));
	ck_assert_ptr_nonnull(strstr(body, "feed: wire"));
	ck_assert_ptr_nonnull(strstr(body, "matched: sma: \"cost-sharing\" in title"));
	ck_assert_ptr_nonnull(strstr(body, "A=3DB;"));
	ck_assert_ptr_nonnull(strstr(body, "=ED=95=9C"));	/* 한 */
	free(msg);
}
END_TEST

/* An update alert threads under its development's first alert, whose
 * Message-ID is built from that alert's id; its subject says "Update". */
START_TEST(test_update_threads)
{
	static const char update_json[] =
	    "{\"id\":\"ffff0000ffff0000ffff0000ffff0000\",\"topics\":[\"sma\"],"
	    "\"item\":{\"title\":\"Seoul to pay 1.52 trillion won\"},"
	    "\"development\":\"dddd\",\"sources\":[\"yonhap\",\"ap\"],"
	    "\"updates\":\"0123456789abcdef0123456789abcdef\","
	    "\"update\":{\"figures\":[\"1.52 trillion won\"],\"topics\":[],\"confirmed_by\":0}}";
	struct conf_sink	 cs;
	struct sink_msg		 m = { .id = "ffff0000ffff0000ffff0000ffff0000", .json = update_json };
	char			*msg = NULL, *v;

	mail_conf(&cs);
	ck_assert_int_eq(sink_mail_message(&cs, &m, 1740819600, &msg), 0);
	v = header(msg, "In-Reply-To");
	ck_assert_str_eq(v, "<feedwatch.0123456789abcdef0123456789abcdef@watch.example>");
	free(v);
	v = header(msg, "References");
	ck_assert_str_eq(v, "<feedwatch.0123456789abcdef0123456789abcdef@watch.example>");
	free(v);
	v = header(msg, "Subject");
	ck_assert_str_eq(v, "[sma] Update: Seoul to pay 1.52 trillion won");
	free(v);
	ck_assert(strstr(msg, "new figures 1.52 trillion won") != NULL);
	free(msg);
	/* A first alert has no thread headers. */
	m.json = alert_json;
	ck_assert_int_eq(sink_mail_message(&cs, &m, 1740819600, &msg), 0);
	ck_assert_ptr_null(strstr(msg, "In-Reply-To"));
	free(msg);
}
END_TEST

START_TEST(test_utf8_display_names)
{
	struct conf_sink	 cs;
	struct conf_str		 to_kr[1] = { { .s = "국방부 당직 <duty@example.kr>" } };
	struct sink_msg		 m = { .id = "0123abcd", .json = alert_json };
	char			*msg = NULL, *v, *dec;

	mail_conf(&cs);
	cs.from = "Żaneta Alerts <alerts@watch.example>";
	cs.to.v = to_kr;
	cs.to.n = 1;
	ck_assert_int_eq(sink_mail_message(&cs, &m, 1740819600, &msg), 0);
	v = header(msg, "From");
	ck_assert_ptr_nonnull(strstr(v, "?= <alerts@watch.example>"));
	dec = decode_words(v);
	ck_assert_str_eq(dec, "Żaneta Alerts");
	free(dec);
	free(v);
	v = header(msg, "To");
	dec = decode_words(v);
	ck_assert_str_eq(dec, "국방부 당직");
	ck_assert_ptr_nonnull(strstr(v, "?= <duty@example.kr>"));
	free(dec);
	free(v);
	free(msg);
}
END_TEST

START_TEST(test_subject_encoding)
{
	struct buf	 b;
	char		*dec;
	char		 longs[400];

	buf_init(&b, 1 << 16);
	ck_assert_int_eq(sink_mail_encode_header("plain ascii", &b), 0);
	ck_assert_str_eq(b.data, "plain ascii");
	buf_reset(&b);
	/* 100 three-byte characters: several words, none splitting one. */
	for (int i = 0; i < 100; i++)
		memcpy(longs + 3 * i, "가", 3);
	longs[300] = '\0';
	ck_assert_int_eq(sink_mail_encode_header(longs, &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "?=\r\n =?UTF-8?B?"));
	dec = decode_words(b.data);
	ck_assert_str_eq(dec, longs);
	free(dec);
	buf_done(&b);
}
END_TEST

START_TEST(test_digest_message)
{
	struct conf_sink	 cs;
	char			 digest[2048];
	struct sink_msg		 m = { .id = "d1", .json = digest, .digest = true };
	char			*msg = NULL, *v, *subj;

	snprintf(digest, sizeof(digest), "{\"id\":\"d1\",\"digest\":true,\"count\":2,"
	    "\"alerts\":[%s,%s]}", alert_json, alert_json);
	mail_conf(&cs);
	ck_assert_int_eq(sink_mail_message(&cs, &m, 1740819600, &msg), 0);
	v = header(msg, "Subject");
	subj = decode_words(v);
	ck_assert_str_eq(subj, "2 feedwatch alerts: 한미 방위비 분담금 협상 — cost-sharing talks resume …");
	free(subj);
	free(v);
	v = header(msg, "Message-ID");
	ck_assert_str_eq(v, "<feedwatch.d1@watch.example>");
	free(v);
	ck_assert_ptr_nonnull(strstr(msg, "feedwatch digest d1: 2 alerts"));
	free(msg);
	m.json = "{broken";
	ck_assert_int_eq(sink_mail_message(&cs, &m, 1, &msg), -EINVAL);
}
END_TEST

START_TEST(test_no_server)
{
	struct conf_sink	 cs;
	struct sink_msg		 m = { .id = "0123abcd", .json = alert_json };
	struct sink_outcome	 out;
	struct sink		*s = NULL;
	struct fw_error		 e;

	mail_conf(&cs);
	ck_assert_int_eq(sink_new(&cs, &s, &e), 0);
	ck_assert_int_eq(sink_deliver(s, &m, &out), 0);
	ck_assert_int_eq(out.result, SINK_RETRY);
	ck_assert_msg(strstr(out.error, "SMTP smtp://127.0.0.1:1") != NULL, "%s", out.error);
	sink_free(s);

	cs.from = "no address here";
	ck_assert_int_eq(sink_new(&cs, &s, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "'from' has no mail address"));
}
END_TEST

/* ---- transport: sendmail ------------------------------------------- */

static char *tmp;

static void
sendmail_setup(void)
{
	tmp = tu_tmpdir();
}

static void
sendmail_teardown(void)
{
	tu_rmtree(tmp);
	free(tmp);
}

/* A sink piping to the script body, given argv after the program. */
static struct sink *
open_sendmail(struct conf_sink *cs, struct conf_str *argv, size_t argc, const char *body)
{
	struct sink	*s = NULL;
	struct fw_error	 e;
	char		*path = tu_write_file(tmp, "sendmail", body);

	ck_assert_int_eq(chmod(path, 0755), 0);
	mail_conf(cs);
	cs->url = NULL;
	cs->transport = MAIL_TRANSPORT_SENDMAIL;
	cs->timeout = 1;
	argv[0].s = path;
	cs->sendmail.v = argv;
	cs->sendmail.n = argc;
	ck_assert_msg(sink_new(cs, &s, &e) == 0, "%s", e.msg);
	return s;
}

static void
send_one(struct sink *s, struct sink_outcome *out)
{
	struct sink_msg m = { .id = "0123abcd", .json = alert_json };

	ck_assert_int_eq(sink_deliver(s, &m, out), 0);
}

/* The same message as over SMTP, with the \n line ends of the local
 * interface, and the argv as given. */
START_TEST(test_sendmail_pipes_message)
{
	struct conf_str		 argv[3] = { { 0 }, { .s = "-t" }, { .s = "-oi" } };
	struct conf_sink	 cs;
	struct sink_outcome	 out;
	struct sink		*s;
	char			 path[600], *got, *want;
	int			 r;

	snprintf(path, sizeof(path), "#!/bin/sh\nprintf '%%s|' \"$@\" > %s/argv\n"
	    "cat > %s/message\n", tmp, tmp);
	s = open_sendmail(&cs, argv, 3, path);
	send_one(s, &out);
	ck_assert_int_eq(out.result, SINK_DELIVERED);
	snprintf(path, sizeof(path), "%s/argv", tmp);
	got = tu_read_file(path, NULL);
	ck_assert_str_eq(got, "-t|-oi|");
	free(got);
	snprintf(path, sizeof(path), "%s/message", tmp);
	got = tu_read_file(path, NULL);
	r = sink_mail_message(&cs, &(struct sink_msg){ .id = "0123abcd", .json = alert_json },
	    0, &want);
	ck_assert_int_eq(r, 0);
	ck_assert_ptr_null(strchr(got, '\r'));
	ck_assert_ptr_nonnull(strstr(want, "\r\n"));
	for (char *p = want, *w = want;; p++) {
		if (p[0] == '\r' && p[1] == '\n')
			continue;
		*w++ = *p;
		if (*p == '\0')
			break;
	}
	/* All but the Date line, which has the time of sending. */
	ck_assert(strncmp(got, "Date: ", 6) == 0);
	ck_assert_str_eq(strchr(got, '\n'), strchr(want, '\n'));
	ck_assert_ptr_nonnull(strstr(got, "\nMessage-ID: <feedwatch.0123abcd@watch.example>\n"));
	ck_assert_ptr_nonnull(strstr(got, "\nTo: Ops <ops@example.org>,\n desk@example.net\n"));
	free(want);
	free(got);
	sink_free(s);
	free(argv[0].s);
}
END_TEST

START_TEST(test_sendmail_exit_status)
{
	static const struct {
		const char		*script;
		enum sink_result	 result;
		const char		*error;
	} cases[] = {
		{ "#!/bin/sh\ncat >/dev/null\necho 'queue busy' >&2\nexit 75\n", SINK_RETRY,
		  "exited with status 75 (EX_TEMPFAIL): queue busy" },
		{ "#!/bin/sh\ncat >/dev/null\necho 'No such user' >&2\nexit 67\n", SINK_PERMANENT,
		  "exited with status 67: No such user" },
		{ "#!/bin/sh\ncat >/dev/null\nexit 64\n", SINK_PERMANENT, "exited with status 64" },
		{ "#!/bin/sh\ncat >/dev/null\nexit 1\n", SINK_RETRY, "exited with status 1" },
		{ "#!/bin/sh\nkill -KILL $$\n", SINK_RETRY, "killed by signal 9" },
		{ "#!/bin/sh\nsleep 30\n", SINK_RETRY, "took longer than 1s, killed" },
		/* Postfix under NoNewPrivileges=yes: postdrop retries every 10 s. */
		{ "#!/bin/sh\ncat >/dev/null\necho 'postdrop: warning: mail_queue_enter: create "
		  "file maildrop/1.2: Permission denied' >&2\nsleep 30\n", SINK_RETRY,
		  "setgid helper (Postfix's postdrop)" },
		{ "#!/bin/sh\ncat >/dev/null\necho 'sendmail: fatal: ... postdrop exited' >&2\n"
		  "exit 75\n", SINK_RETRY, "NoNewPrivileges=yes; use smtp://localhost:25, or a "
		  "sendmail that needs no privilege such as msmtp's" },
	};
	struct conf_str		 argv[1];
	struct conf_sink	 cs;
	struct sink_outcome	 out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sink *s = open_sendmail(&cs, argv, 1, cases[i].script);

		send_one(s, &out);
		ck_assert_msg(out.result == cases[i].result, "case %zu: %d %s", i, out.result,
		    out.error);
		ck_assert_msg(strstr(out.error, cases[i].error) != NULL, "case %zu: %s", i,
		    out.error);
		ck_assert_msg(strncmp(out.error, "sendmail '", 10) == 0, "%s", out.error);
		sink_free(s);
		free(argv[0].s);
	}
}
END_TEST

START_TEST(test_sendmail_missing)
{
	struct conf_str		 argv[1] = { { .s = "/nonexistent/sendmail" } };
	struct conf_sink	 cs;
	struct sink_outcome	 out;
	struct sink		*s = NULL;
	struct fw_error		 e;

	mail_conf(&cs);
	cs.transport = MAIL_TRANSPORT_SENDMAIL;
	cs.sendmail.v = argv;
	cs.sendmail.n = 1;
	ck_assert_int_eq(sink_new(&cs, &s, &e), 0);
	send_one(s, &out);
	ck_assert_int_eq(out.result, SINK_PERMANENT);
	ck_assert_msg(strstr(out.error, "cannot run '/nonexistent/sendmail': No such file or "
	    "directory (is a mail system installed?") != NULL, "%s", out.error);
	sink_free(s);
}
END_TEST

/* sendmail -t takes the recipients from the headers: a feed's line break
 * must never start one. The title is an encoded word, the summary is in
 * the quoted-printable body. */
START_TEST(test_sendmail_no_header_injection)
{
	static const char	 hostile[] =
		"{\"id\":\"0123abcd\",\"severity\":\"high\",\"topics\":[\"sma\"],"
		"\"feed\":\"http://feeds.example/w.xml\",\"feed_name\":\"wire\","
		"\"updates\":\"x\\r\\nBcc: evil@example.net\","
		"\"item\":{\"id\":\"g1\",\"title\":\"Talks\\r\\nBcc: evil@example.net\\n\\nbody\","
		"\"link\":\"http://news.example/1\",\"summary\":\"\\nBcc: evil@example.net\"}}";
	struct conf_str		 argv[1] = { { 0 } };
	struct conf_sink	 cs;
	struct sink_outcome	 out;
	struct sink_msg		 m = { .id = "0123abcd", .json = hostile };
	struct sink		*s;
	char			 body[600], *got, *end;

	snprintf(body, sizeof(body), "#!/bin/sh\ncat > %s/message\n", tmp);
	s = open_sendmail(&cs, argv, 1, body);
	ck_assert_int_eq(sink_deliver(s, &m, &out), 0);
	ck_assert_int_eq(out.result, SINK_DELIVERED);
	snprintf(body, sizeof(body), "%s/message", tmp);
	got = tu_read_file(body, NULL);
	end = strstr(got, "\n\n");
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	ck_assert_msg(strcasestr(got, "\nBcc:") == NULL, "%s", got);
	ck_assert_ptr_null(strstr(got, "evil@"));
	ck_assert_ptr_null(strstr(got, "In-Reply-To"));
	ck_assert_ptr_nonnull(strstr(got, "\nSubject: =?UTF-8?B?"));
	free(got);
	sink_free(s);
	free(argv[0].s);
}
END_TEST

/* Which sendmails no_new_privs stops: Postfix's (its setgid postdrop
 * beside it) and any set-user-ID or set-group-ID program. */
START_TEST(test_sendmail_privileged)
{
	struct conf_str		 argv[1];
	struct conf_sink	 cs;
	char			 dir[600], *plain, *postfix, *postdrop, *suid;

	mail_conf(&cs);
	cs.transport = MAIL_TRANSPORT_SENDMAIL;
	cs.sendmail.v = argv;
	cs.sendmail.n = 1;
	plain = tu_write_file(tmp, "msmtp", "#!/bin/sh\n");
	ck_assert_int_eq(chmod(plain, 0755), 0);
	argv[0].s = plain;
	ck_assert_ptr_null(sink_mail_sendmail_privileged(&cs));
	snprintf(dir, sizeof(dir), "%s/sbin", tmp);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	postfix = tu_write_file(dir, "sendmail", "#!/bin/sh\n");
	ck_assert_int_eq(chmod(postfix, 0755), 0);
	argv[0].s = postfix;
	/* A sendmail without a postdrop is not Postfix's. */
	ck_assert_ptr_null(sink_mail_sendmail_privileged(&cs));
	postdrop = tu_write_file(dir, "postdrop", "");
	ck_assert_int_eq(chmod(postdrop, 0755), 0);
	ck_assert_ptr_null(sink_mail_sendmail_privileged(&cs));
	ck_assert_int_eq(chmod(postdrop, 02755), 0);
	ck_assert_str_eq(sink_mail_sendmail_privileged(&cs), postfix);
	suid = tu_write_file(tmp, "exim4", "#!/bin/sh\n");
	ck_assert_int_eq(chmod(suid, 04755), 0);
	argv[0].s = suid;
	ck_assert_str_eq(sink_mail_sendmail_privileged(&cs), suid);
	/* Found in PATH only when it runs; and not a sendmail sink. */
	argv[0].s = "sendmail";
	ck_assert_ptr_null(sink_mail_sendmail_privileged(&cs));
	argv[0].s = suid;
	cs.transport = MAIL_TRANSPORT_SMTP;
	ck_assert_ptr_null(sink_mail_sendmail_privileged(&cs));
	free(plain);
	free(postfix);
	free(postdrop);
	free(suid);
}
END_TEST

static Suite *
mail_suite(void)
{
	Suite	*s = suite_create("sink_mail");
	TCase	*tc = tcase_create("message");

	tcase_add_test(tc, test_message);
	tcase_add_test(tc, test_subject_encoding);
	tcase_add_test(tc, test_utf8_display_names);
	tcase_add_test(tc, test_update_threads);
	tcase_add_test(tc, test_digest_message);
	tcase_add_test(tc, test_no_server);
	suite_add_tcase(s, tc);
	tc = tcase_create("sendmail");
	tcase_add_checked_fixture(tc, sendmail_setup, sendmail_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sendmail_pipes_message);
	tcase_add_test(tc, test_sendmail_exit_status);
	tcase_add_test(tc, test_sendmail_missing);
	tcase_add_test(tc, test_sendmail_privileged);
	tcase_add_test(tc, test_sendmail_no_header_injection);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(mail_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
