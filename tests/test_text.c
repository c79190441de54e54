/* test_text.c — the text normalizer: entity decoding (HTML named ones
 * included), markup stripping, white space, UTF-8 repair, the length cap. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "testutil.h"

static const struct {
	enum text_kind	 kind;
	const char	*in;
	const char	*want;	/* NULL: empty result */
} cases[] = {
	{ TEXT_PLAIN, "  hello \n\t world  ", "hello world" },
	{ TEXT_PLAIN, "", NULL },
	{ TEXT_PLAIN, " \n ", NULL },
	{ TEXT_PLAIN, "a &amp; b <b>", "a &amp; b <b>" },
	{ TEXT_PLAIN, "non\xc2\xa0" "breaking", "non breaking" },
	{ TEXT_PLAIN, "caf\xe9 \x93quoted\x94", "caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d" },
	{ TEXT_PLAIN, "\xed\x95\x9c\xea\xb8\x80", "\xed\x95\x9c\xea\xb8\x80" },
	{ TEXT_HTML, "AT&amp;T", "AT&T" },
	{ TEXT_HTML, "AT&T", "AT&T" },
	{ TEXT_HTML, "caf&eacute; &rsquo;s&nbsp;x", "caf\xc3\xa9 \xe2\x80\x99s x" },
	{ TEXT_HTML, "&#233;&#xE9;&#X00e9;", "\xc3\xa9\xc3\xa9\xc3\xa9" },
	{ TEXT_HTML, "&#150; &#x93;", "\xe2\x80\x93 \xe2\x80\x9c" },
	{ TEXT_HTML, "&#0; &#xD800; &#1114112;", "\xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd" },
	{ TEXT_HTML, "&unknown; & &;", "&unknown; & &;" },
	{ TEXT_HTML, "<p>one</p><p>two</p>", "one two" },
	{ TEXT_HTML, "a<br>b<br/>c", "a b c" },
	{ TEXT_HTML, "<b>bold</b>face", "boldface" },
	{ TEXT_HTML, "x<script>alert(1)</script>y<style>p{}</style>z", "xyz" },
	{ TEXT_HTML, "<ul><li>a</li><li>b</li></ul>", "a b" },
	{ TEXT_HTML, "<p>Hi &amp; bye</p>", "Hi & bye" },
	{ TEXT_HTML, "&lt;b&gt;x&lt;/b&gt;", "<b>x</b>" },
	{ TEXT_HTML, "<div>unclosed <i>tags", "unclosed tags" },
	{ TEXT_HTML, "<!-- comment -->text", "text" },
	{ TEXT_HTML, "<img src=x alt=y>", NULL },
	{ TEXT_HTML, "<p>\xed\x95\x9c\xea\xb5\xad</p>", "\xed\x95\x9c\xea\xb5\xad" },
	{ TEXT_HTML, "<td>a</td><td>b</td>", "a b" },
};

START_TEST(test_clean_table)
{
	char	*out = (char *)1;
	int	 r = text_clean(NULL, cases[_i].in, strlen(cases[_i].in),
		    cases[_i].kind, 0, &out);

	ck_assert_int_eq(r, 0);
	if (cases[_i].want == NULL) {
		ck_assert_msg(out == NULL, "case %d: got \"%s\"", _i, out);
		return;
	}
	ck_assert_msg(out != NULL, "case %d: empty", _i);
	ck_assert_str_eq(out, cases[_i].want);
	free(out);
}
END_TEST

/* The fast stripper must give what libxml2's HTML parser gives. */
static const char *const html_inputs[] = {
	"<p>Hello <b>world</b></p><p>Second&nbsp;para</p><script>evil()</script> x < y &amp; z",
	"<div class=\"a\" data-x='1>2'>quoted &gt; attrs</div>tail",
	"one<br>two<br/>three<hr>four",
	"<ul><li>a</li><li>b &amp; c</li></ul>after",
	"<!-- c --><p>after comment</p>",
	"<style type=\"text/css\">p { color: red }</style><p>styled</p>",
	"<SCRIPT>alert('<p>')</SCRIPT>Upper",
	"<a href=\"/x?a=1&amp;b=2\">link</a> text",
	"&lt;not a tag&gt; &eacute;&#233;&#xe9;",
	"<img src=x alt='y'> <span>in</span>line",
	"<table><tr><td>1</td><td>2</td></tr></table>",
	"<h1>Head</h1>body<h2>Sub</h2>more",
	"a <3 b",
	"<p>\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 <em>\xed\x85\x8d\xec\x8a\xa4\xed\x8a\xb8</em></p>",
	"<blockquote>q</blockquote><pre>  pre  </pre>",
	"<p>x</p>\n\n<p>y</p>",
	"<!DOCTYPE html><p>doctype</p>",
	"<figure><img src=a><figcaption>cap</figcaption></figure>",
};

START_TEST(test_fast_matches_libxml2)
{
	const char	*in = html_inputs[_i];
	char		*fast = NULL, *slow = NULL;

	struct text_ctx	*tc = text_ctx_new();

	ck_assert_ptr_nonnull(tc);
	ck_assert_int_eq(text_clean(tc, in, strlen(in), TEXT_HTML, 0, &fast), 0);
	text_ctx_set_html_by_libxml2(tc, true);
	ck_assert_int_eq(text_clean(tc, in, strlen(in), TEXT_HTML, 0, &slow), 0);
	text_ctx_free(tc);
	ck_assert_msg((fast == NULL) == (slow == NULL), "input %d", _i);
	if (fast != NULL)
		ck_assert_msg(strcmp(fast, slow) == 0, "input %d: fast \"%s\", "
		    "libxml2 \"%s\"", _i, fast, slow);
	free(fast);
	free(slow);
}
END_TEST

/* The trusted fast path (text_clean_valid) must agree with the checking
 * one on any valid UTF-8: random strings over the bytes that matter. */
START_TEST(test_valid_matches_checked)
{
	static const char *const atoms[] = {
		" ", "  ", "\n", "\t", "\r\n", "a", "bc", "\xc2\xa0", "\xc2\x93",
		"\xc2\xa9", "\xed\x95\x9c", "\xe3\x81\x82", "\xf0\x9f\x98\x80", "\x7f",
		"\x01", "<p>", "&amp;", "&nbsp;", "x y", "<br>", "</p>", "&#150;",
		/* Words longer than the eight bytes read at a time. */
		"abcdefghij", "word ", "\xed\x95\x9c\xea\xb8\x80\xeb\xa7\x90 ",
	};
	uint32_t	 seed = 12345;
	char		 in[256], *a, *b;
	int		 n, k, kind;

	for (n = 0; n < 20000; n++) {
		size_t len = 0;

		for (k = 0; k < 24; k++) {
			const char *t;

			seed = seed * 1103515245 + 12345;
			t = atoms[(seed >> 16) % (sizeof(atoms) / sizeof(atoms[0]))];
			if (len + strlen(t) >= sizeof(in))
				break;
			memcpy(in + len, t, strlen(t));
			len += strlen(t);
		}
		kind = n % 2 ? TEXT_HTML : TEXT_PLAIN;
		ck_assert_int_eq(text_clean(NULL, in, len, kind, 0, &a), 0);
		ck_assert_int_eq(text_clean_valid(NULL, in, len, kind, 0, &b), 0);
		ck_assert_msg((a == NULL) == (b == NULL), "case %d", n);
		if (a != NULL)
			ck_assert_msg(strcmp(a, b) == 0, "case %d: \"%s\" vs \"%s\"",
			    n, a, b);
		free(a);
		free(b);
	}
}
END_TEST

START_TEST(test_clean_reuse)
{
	struct text_ctx	*tc = text_ctx_new();
	char		*out;
	int		 i;

	ck_assert_ptr_nonnull(tc);
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(text_clean(tc, "<p>a</p>b", 9, TEXT_HTML, 0, &out), 0);
		ck_assert_str_eq(out, "a b");
		free(out);
	}
	ck_assert_ptr_null(text_ctx_free(tc));
}
END_TEST

START_TEST(test_clean_cap)
{
	char	*out;

	ck_assert_int_eq(text_clean(NULL, "abcdef", 6, TEXT_PLAIN, 3, &out), 0);
	ck_assert_str_eq(out, "abc");
	free(out);
	/* Never inside a character: U+D55C is three bytes. */
	ck_assert_int_eq(text_clean(NULL, "a\xed\x95\x9c", 4, TEXT_PLAIN, 2, &out), 0);
	ck_assert_str_eq(out, "a");
	free(out);
}
END_TEST

START_TEST(test_utf8)
{
	char	*out;
	size_t	 len;

	ck_assert(text_utf8_is_valid("plain ascii text, long enough", 29));
	ck_assert(text_utf8_is_valid("\xed\x95\x9c", 3));
	ck_assert(!text_utf8_is_valid("\xc0\x80", 2));		/* overlong */
	ck_assert(!text_utf8_is_valid("\xed\xa0\x80", 3));	/* surrogate */
	ck_assert(!text_utf8_is_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	ck_assert(!text_utf8_is_valid("abc\xe9", 4));
	ck_assert_int_eq(text_utf8_repair("\x80\x81\xff", 3, &out, &len), 0);
	ck_assert_str_eq(out, "\xe2\x82\xac\xc2\x81\xc3\xbf");
	ck_assert_uint_eq(len, 7);
	free(out);
	ck_assert_int_eq(text_entity_lookup("eacute", 6), 0xE9);
	ck_assert_int_eq(text_entity_lookup("apos", 4), '\'');
	ck_assert_int_eq(text_entity_lookup("nope", 4), -1);
	ck_assert_int_eq(text_entity_lookup("#x", 2), -1);
}
END_TEST

/* The collapse as the contract states it, a character at a time: white
 * space and U+00A0 one space between words and none at the ends, control
 * characters dropped, C1 controls read as windows-1252 (only the two the
 * random strings below hold). */
static char *
collapse_slow(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*out = malloc(len * 2 + 1), *p = out;
	size_t			 i = 0, n;
	int			 pending = 0;

	ck_assert_ptr_nonnull(out);
	while (i < len) {
		if (u[i] == ' ' || (u[i] >= '\t' && u[i] <= '\r') ||
		    (u[i] == 0xC2 && u[i + 1] == 0xA0)) {
			pending = 1;
			i += u[i] == 0xC2 ? 2 : 1;
			continue;
		}
		if (u[i] < 0x20 || u[i] == 0x7F ||
		    (u[i] == 0xC2 && u[i + 1] == 0x81)) {
			i += u[i] == 0xC2 ? 2 : 1;
			continue;
		}
		if (pending && p != out)
			*p++ = ' ';
		pending = 0;
		if (u[i] == 0xC2 && u[i + 1] == 0x93) {
			memcpy(p, "\xe2\x80\x9c", 3);	/* U+201C */
			p += 3;
			i += 2;
			continue;
		}
		n = text_utf8_valid_seq(u + i, len - i);
		ck_assert_uint_gt(n, 0);
		memcpy(p, u + i, n);
		p += n;
		i += n;
	}
	*p = '\0';
	if (p == out) {
		free(out);
		return NULL;
	}
	return out;
}

/* The collapse, sixteen bytes at a time, against the same a character
 * at a time: long random strings, so that runs of spaces, controls and
 * words fall across every boundary of the sixteen. */
START_TEST(test_collapse_matches_slow)
{
	static const char *const atoms[] = {
		" ", "  ", "   ", "\n", "\t", "\r\n", "a", "bc", "\xc2\xa0",
		"\xc2\x93", "\xc2\x81", "\xc2\xa9", "\xed\x95\x9c", "\x7f",
		"\x01", "abcdefghijklmnopq", "word ", " word",
		"\xed\x95\x9c\xea\xb8\x80\xeb\xa7\x90 ", "\xe3\x81\x82\xe3\x81\x84",
		"\xf0\x9f\x98\x80",
	};
	uint32_t	 seed = 777;
	char		 in[400], *a, *b;
	size_t		 len;
	int		 n, k, natoms;

	for (n = 0; n < 20000; n++) {
		len = 0;
		seed = seed * 1103515245 + 12345;
		natoms = 1 + (int)((seed >> 16) % 60);
		for (k = 0; k < natoms; k++) {
			const char *t;

			seed = seed * 1103515245 + 12345;
			t = atoms[(seed >> 16) % (sizeof(atoms) / sizeof(atoms[0]))];
			if (len + strlen(t) >= sizeof(in))
				break;
			memcpy(in + len, t, strlen(t));
			len += strlen(t);
		}
		a = collapse_slow(in, len);
		ck_assert_int_eq(text_clean_valid(NULL, in, len, TEXT_PLAIN, 0,
		    &b), 0);
		ck_assert_msg((a == NULL) == (b == NULL), "case %d", n);
		if (a != NULL)
			ck_assert_msg(strcmp(a, b) == 0, "case %d: \"%s\" vs \"%s\"",
			    n, a, b);
		free(a);
		free(b);
	}
}
END_TEST

/* The longest valid prefix, a character at a time: what the eight-bytes-
 * at-a-time text_utf8_valid_prefix() must agree with. */
static size_t
valid_prefix_slow(const unsigned char *s, size_t len)
{
	size_t	i = 0, n;

	while (i < len && (n = text_utf8_valid_seq(s + i, len - i)) > 0)
		i += n;
	return i;
}

/* Random strings of characters, spaces and broken sequences, in every
 * alignment and cut at every length: the boundaries of the eight-byte
 * words fall inside and between characters. */
START_TEST(test_valid_prefix_matches_slow)
{
	static const char *const atoms[] = {
		" ", "a", "abcdefghi", "\xc2\xa0", "\xdf\xbf", "\xc0\x80",
		"\xc1\xbf", "\xe0\xa0\x80", "\xe0\x9f\xbf", "\xed\x95\x9c",
		"\xed\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xe3\x81\x82",
		"\xef\xbf\xbf", "\xf0\x9f\x98\x80", "\xf0\x8f\xbf\xbf",
		"\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
		"\xff", "\x80", "\xbf", "\xe3\x81", "\xed", "\xc2", "\xf0\x9f",
		"\xed\x95\x9c\xea\xb8\x80 ", "\xea\xb8\x80\xeb\xa7\x90",
	};
	uint32_t	 seed = 4242;
	unsigned char	 in[96];
	size_t		 len, cut, off;
	int		 n, k;

	for (n = 0; n < 20000; n++) {
		off = (size_t)n % 8;
		memset(in, 'x', off);
		len = off;
		for (k = 0; k < 16; k++) {
			const char *t;

			seed = seed * 1103515245 + 12345;
			/* Mostly valid text, so the checks run far in. */
			t = atoms[(seed >> 16) % (sizeof(atoms) / sizeof(atoms[0]))];
			if ((seed >> 8) % 4 != 0 && (t[0] == '\xc0' ||
			    t[0] == '\xff' || t[0] == '\x80' || t[0] == '\xbf' ||
			    strlen(t) < 3))
				t = "\xed\x95\x9c";
			if (len + strlen(t) > sizeof(in))
				break;
			memcpy(in + len, t, strlen(t));
			len += strlen(t);
		}
		for (cut = off; cut <= len; cut++)
			ck_assert_msg(text_utf8_valid_prefix(in + off, cut - off) ==
			    valid_prefix_slow(in + off, cut - off),
			    "case %d cut %zu", n, cut);
	}
}
END_TEST

/* Numeric references: the digits read by hand and the forms left to
 * strtoul() give what strtoul() alone gave. */
START_TEST(test_entity_numeric)
{
	static const struct {
		const char	*name;
		int32_t		 cp;
	} refs[] = {
		{ "#65", 'A' }, { "#x41", 'A' }, { "#X41", 'A' }, { "#x4a", 'J' },
		{ "#8220", 0x201C }, { "#xAC00", 0xAC00 }, { "#000065", 'A' },
		{ "#1114111", 0x10FFFF }, { "#1114112", 0xFFFD },
		{ "#x10FFFF", 0x10FFFF }, { "#x110000", 0xFFFD },
		{ "#x0000000041", 'A' }, { "#99999999999999999999999", 0xFFFD },
		{ "#0", 0xFFFD }, { "#xD800", 0xFFFD }, { "#150", 0x2013 },
		{ "#x0x41", 'A' }, { "#x0x", -1 }, { "#", -1 }, { "#x", -1 },
		{ "#12a", -1 }, { "#x4g", -1 }, { "#1#2", -1 }, { "#+65", 'A' },
		{ "#-1", 0xFFFD }, { "# 65", 'A' }, { "#65 ", -1 },
	};

	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
		ck_assert_msg(text_entity_lookup(refs[i].name,
		    strlen(refs[i].name)) == refs[i].cp, "%s", refs[i].name);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("text");
	TCase	*tc = tcase_create("clean");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_clean_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_clean_reuse);
	tcase_add_test(tc, test_valid_matches_checked);
	tcase_add_test(tc, test_collapse_matches_slow);
	tcase_add_loop_test(tc, test_fast_matches_libxml2, 0,
	    (int)(sizeof(html_inputs) / sizeof(html_inputs[0])));
	tcase_add_test(tc, test_clean_cap);
	suite_add_tcase(s, tc);
	tc = tcase_create("utf8");
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_valid_prefix_matches_slow);
	tcase_add_test(tc, test_entity_numeric);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
