/* test_safe.c — the neutralising boundary (safe.h): escapes of control
 * characters, formatting that escapes only the arguments, the link and
 * header-value tests, and the redaction of secrets. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "safe.h"
#include "testutil.h"

static char *
esc(const char *s)
{
	char *e = safe_escape_dup(s);

	ck_assert_ptr_nonnull(e);
	return e;
}

static const struct {
	const char *in, *want;
} escapes[] = {
	/* A forged journald line: "<0>" at the start of a line is an emergency. */
	{ "a\n<0>forged", "a\\x0A<0>forged" },
	{ "a\r\n<3>x", "a\\x0D\\x0A<3>x" },
	/* OSC 0 sets a terminal's title; CSI moves the cursor. */
	{ "\x1b]0;owned\x07", "\\x1B]0;owned\\x07" },
	{ "\x1b[2J", "\\x1B[2J" },
	{ "tab\tstays", "tab\tstays" },
	{ "del\x7f", "del\\x7F" },
	/* C1 CSI as UTF-8 (U+009B), and a lone 0x9B byte (not UTF-8). */
	{ "c1 \xc2\x9b" "2J", "c1 \\u009B2J" },
	{ "raw \x9b" "2J", "raw \\x9B2J" },
	/* Bidi override and isolate (Trojan Source), line separator. */
	{ "abc\xe2\x80\xae" "def", "abc\\u202Edef" },
	{ "\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069" },
	{ "a\xe2\x80\xa8" "b", "a\\u2028b" },
	/* What stays: UTF-8 text, ZWJ in an emoji, a Korean title. */
	{ "\xed\x95\x9c\xea\xb5\xad \xe2\x80\xa6", "\xed\x95\x9c\xea\xb5\xad \xe2\x80\xa6" },
	{ "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9", "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9" },
	/* Overlong "/" and a UTF-16 surrogate are not UTF-8. */
	{ "\xc0\xaf", "\\xC0\\xAF" },
	{ "\xed\xa0\x80", "\\xED\\xA0\\x80" },
	{ "", "" },
};

START_TEST(test_escape_table)
{
	char *e = esc(escapes[_i].in);

	ck_assert_str_eq(e, escapes[_i].want);
	ck_assert(!safe_has_control(e));
	ck_assert_int_eq(safe_has_control(escapes[_i].in),
	    strcmp(escapes[_i].in, escapes[_i].want) != 0);
	free(e);
}
END_TEST

START_TEST(test_bprintf_escapes_arguments_only)
{
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_int_eq(safe_bprintf(&b, "[%s]\n%-6s|%5d|%zu|%lld|%.3s|%.*s|%c|%x|%%|%4.1f\n",
	    "t\x1b]0;x", "ab", -42, (size_t)7, (long long)1 << 40, "abcdef", 2,
	    "\n<0>", '\n', 255u, 2.25), 0);
	ck_assert_str_eq(b.data, "[t\\x1B]0;x]\nab    |  -42|7|1099511627776|abc|\\x0A<|\\x0A|ff|%|"
	    " 2.2\n");
	buf_reset(&b);
	ck_assert_int_eq(safe_bprintf(&b, "%s|%*s|%ld|%hhu", "", 3, "x", -5L,
	    (unsigned char)200), 0);
	ck_assert_str_eq(b.data, "|  x|-5|200");
	buf_done(&b);
}
END_TEST

START_TEST(test_links)
{
	ck_assert(safe_link_ok("https://news.example/a?b=c#d"));
	ck_assert(safe_link_ok("HTTP://news.example/"));
	ck_assert(safe_link_ok("mailto:desk@example.org"));
	ck_assert(!safe_link_ok("javascript:alert(1)"));
	ck_assert(!safe_link_ok("JavaScript:alert(1)"));
	ck_assert(!safe_link_ok("data:text/html,<script>"));
	ck_assert(!safe_link_ok("file:///etc/passwd"));
	ck_assert(!safe_link_ok("/relative"));
	ck_assert(!safe_link_ok("https://a.example/\n<0>x"));
	ck_assert(!safe_link_ok("https://a.example/\xe2\x80\xae"));
	ck_assert(!safe_link_ok("https://a.example/ b"));
	ck_assert(!safe_link_ok(""));
}
END_TEST

START_TEST(test_header_values)
{
	ck_assert(safe_header_value_ok("\"abc\""));
	ck_assert(safe_header_value_ok("W/\"x y\"\t"));
	ck_assert(safe_header_value_ok("Tue, 15 Nov 1994 12:45:26 GMT"));
	ck_assert(!safe_header_value_ok("\"a\rX-Evil: 1\""));
	ck_assert(!safe_header_value_ok("\"a\nb\""));
	ck_assert(!safe_header_value_ok("\x1b]0;x"));
	ck_assert(!safe_header_value_ok("a\x7f"));
}
END_TEST

static const struct {
	const char *in, *want;
} redactions[] = {
	{ "POST https://hooks.slack.com/services/T000/B000/XXXXSECRET: HTTP 500",
	  "POST https://hooks.slack.com/services/\xe2\x80\xa6 HTTP 500" },
	{ "https://discord.com/api/webhooks/123/tok3n", "https://discord.com/api/\xe2\x80\xa6" },
	{ "https://discordapp.com/api/webhooks/1/t?wait=true",
	  "https://discordapp.com/api/\xe2\x80\xa6?wait=true" },
	{ "smtp://user:pa55@mail.example:587", "smtp://\xe2\x80\xa6@mail.example:587" },
	{ "feed 'x': https://a.example/f.xml?token=abc&page=2&api_key=k#frag: timeout",
	  "feed 'x': https://a.example/f.xml?token=\xe2\x80\xa6&page=2&api_key=\xe2\x80\xa6#frag:"
	  " timeout" },
	{ "http://a.example/?Signature=s;X-Amz-Credential=c&q=1",
	  "http://a.example/?Signature=\xe2\x80\xa6;X-Amz-Credential=\xe2\x80\xa6&q=1" },
	{ "\"https://u@h.example/p\" and ftp://x", "\"https://\xe2\x80\xa6@h.example/p\" and ftp://x" },
	{ "https://news.example/a?id=7", "https://news.example/a?id=7" },
	{ "no url: just :// text", "no url: just :// text" },
	{ "", "" },
};

START_TEST(test_redact_table)
{
	char *r = safe_redact(redactions[_i].in);

	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r, redactions[_i].want);
	free(r);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("safe");
	TCase	*tc = tcase_create("escape");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_escape_table, 0,
	    (int)(sizeof(escapes) / sizeof(escapes[0])));
	tcase_add_test(tc, test_bprintf_escapes_arguments_only);
	suite_add_tcase(s, tc);
	tc = tcase_create("policy");
	tcase_add_test(tc, test_links);
	tcase_add_test(tc, test_header_values);
	suite_add_tcase(s, tc);
	tc = tcase_create("redact");
	tcase_add_loop_test(tc, test_redact_table, 0,
	    (int)(sizeof(redactions) / sizeof(redactions[0])));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
