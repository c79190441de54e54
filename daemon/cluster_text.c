/* cluster_text.c — the features of an item's lede for cluster.c: what
 * survives an outlet's rewording of a wire story. Words carry little (each
 * outlet picks its own), so names written as acronyms, figures normalised
 * to one form (4,500 troops; 8.3%; 1.52 trillion won = W1.52tr; 3천500억달러
 * = $350 billion) and the headline's event stage weigh more. Korean,
 * Japanese and Chinese runs are cut into character bigrams: they have no
 * spaces between words. No state, no I/O. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "cluster.h"

/* Where a term stands: the headline says what the development is. */
#define WEIGHT_TITLE	2.0
#define WEIGHT_LEDE	1.0
#define BOOST_ENTITY	1.5
#define BOOST_FIGURE	2.0
#define BOOST_NAME	1.0
#define MAX_TERMS	256
#define MAX_FIGURES	32

/* NOTE: sorted (strcmp order) for bsearch. */
static const char *const stopwords[] = {
	"a", "about", "after", "against", "also", "amid", "an", "and", "are", "as",
	"at", "be", "been", "before", "billion", "bln", "bn", "but", "by", "can",
	"could", "down", "for", "from", "had", "has", "have", "he", "her", "his", "i",
	"in", "into", "is", "it", "its", "may", "million", "mln", "more", "most",
	"new", "no", "not", "of", "off", "on", "or", "our", "out", "over", "pct",
	"per", "percent", "said", "say", "says", "she", "should", "since", "than",
	"that", "the", "their", "these", "they", "this", "those", "to", "trillion",
	"under", "until", "up", "via", "was", "we", "were", "while", "will", "with",
	"within", "without", "would", "yes", "you",
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool
is_stopword(const char *w)
{
	return bsearch(&w, stopwords, sizeof(stopwords) / sizeof(stopwords[0]),
	    sizeof(stopwords[0]), cmp_str) != NULL;
}

/* ---- stages ------------------------------------------------------------ */

struct stage_word {
	const char		*word;	/* a lower-case word, or a CJK substring */
	enum cluster_stage	 stage;
	bool			 prefix;	/* matches words starting with it */
};

/* A word may be listed once only: the first row it matches decides. */
static const struct stage_word stage_words[] = {
	{ "says", STAGE_REACTION, false }, { "say", STAGE_REACTION, false },
	{ "said", STAGE_REACTION, false }, { "warn", STAGE_REACTION, true },
	{ "den", STAGE_REACTION, true }, { "slam", STAGE_REACTION, true },
	{ "critici", STAGE_REACTION, true }, { "protest", STAGE_REACTION, true },
	{ "rall", STAGE_REACTION, true }, { "condemn", STAGE_REACTION, true },
	{ "respond", STAGE_REACTION, true }, { "response", STAGE_REACTION, false },
	{ "vow", STAGE_REACTION, true }, { "urge", STAGE_REACTION, true },
	{ "call", STAGE_REACTION, true }, { "cite", STAGE_REACTION, true },
	{ "citing", STAGE_REACTION, false },
	{ "demand", STAGE_REACTION, true }, { "reject", STAGE_REACTION, true },
	{ "oppos", STAGE_REACTION, true }, { "blast", STAGE_REACTION, true },
	{ "반발", STAGE_REACTION, false }, { "규탄", STAGE_REACTION, false },
	{ "비난", STAGE_REACTION, false }, { "촉구", STAGE_REACTION, false },
	{ "ratif", STAGE_RATIFIED, true }, { "approv", STAGE_RATIFIED, true },
	{ "passes", STAGE_RATIFIED, false }, { "passed", STAGE_RATIFIED, false },
	{ "비준", STAGE_RATIFIED, false }, { "承認", STAGE_RATIFIED, false },
	{ "可決", STAGE_RATIFIED, false },
	{ "sign", STAGE_SIGNED, false }, { "signs", STAGE_SIGNED, false },
	{ "signed", STAGE_SIGNED, false }, { "signing", STAGE_SIGNED, false },
	{ "서명", STAGE_SIGNED, false }, { "署名", STAGE_SIGNED, false },
	{ "調印", STAGE_SIGNED, false },
	{ "agree", STAGE_AGREED, true }, { "reach", STAGE_AGREED, true },
	{ "deal", STAGE_AGREED, false }, { "strike", STAGE_AGREED, true },
	{ "struck", STAGE_AGREED, false }, { "settle", STAGE_AGREED, true },
	{ "finali", STAGE_AGREED, true }, { "accord", STAGE_AGREED, false },
	{ "pact", STAGE_AGREED, false }, { "seal", STAGE_AGREED, true },
	{ "타결", STAGE_AGREED, false }, { "합의", STAGE_AGREED, false },
	{ "合意", STAGE_AGREED, false },
	{ "postpon", STAGE_POSTPONED, true }, { "delay", STAGE_POSTPONED, true },
	{ "suspend", STAGE_POSTPONED, true }, { "halt", STAGE_POSTPONED, true },
	{ "cancel", STAGE_POSTPONED, true }, { "scrap", STAGE_POSTPONED, true },
	{ "연기", STAGE_POSTPONED, false }, { "중단", STAGE_POSTPONED, false },
	{ "延期", STAGE_POSTPONED, false },
	{ "extend", STAGE_EXTENDED, true }, { "연장", STAGE_EXTENDED, false },
	{ "end", STAGE_ENDED, false }, { "ends", STAGE_ENDED, false },
	{ "ended", STAGE_ENDED, false }, { "wrap", STAGE_ENDED, true },
	{ "conclude", STAGE_ENDED, true }, { "close", STAGE_ENDED, false },
	{ "closes", STAGE_ENDED, false }, { "종료", STAGE_ENDED, false },
	{ "終了", STAGE_ENDED, false },
	{ "begin", STAGE_BEGUN, true }, { "began", STAGE_BEGUN, false },
	{ "start", STAGE_BEGUN, true }, { "kick", STAGE_BEGUN, true },
	{ "launches", STAGE_BEGUN, false }, { "launch", STAGE_BEGUN, false },
	{ "launched", STAGE_BEGUN, false }, { "commenc", STAGE_BEGUN, true },
	{ "stage", STAGE_BEGUN, false }, { "stages", STAGE_BEGUN, false },
	{ "staged", STAGE_BEGUN, false }, { "hold", STAGE_BEGUN, false },
	{ "holds", STAGE_BEGUN, false }, { "held", STAGE_BEGUN, false },
	{ "conduct", STAGE_BEGUN, true }, { "open", STAGE_BEGUN, false },
	{ "opens", STAGE_BEGUN, false }, { "resume", STAGE_BEGUN, true }, { "시작", STAGE_BEGUN, false },
	{ "돌입", STAGE_BEGUN, false }, { "실시", STAGE_BEGUN, false },
	{ "開始", STAGE_BEGUN, false },
	{ "announc", STAGE_ANNOUNCED, true }, { "plan", STAGE_ANNOUNCED, true },
	{ "unveil", STAGE_ANNOUNCED, true }, { "propos", STAGE_ANNOUNCED, true },
	{ "consider", STAGE_ANNOUNCED, true }, { "발표", STAGE_ANNOUNCED, false },
	{ "계획", STAGE_ANNOUNCED, false }, { "검토", STAGE_ANNOUNCED, false },
};

const char *
cluster_stage_to_string(enum cluster_stage s)
{
	static const char *const names[_STAGE_MAX] = {
		"none", "reaction", "ratified", "signed", "agreed", "postponed",
		"extended", "ended", "begun", "announced",
	};

	return s >= 0 && s < _STAGE_MAX ? names[s] : "none";
}

static bool
stage_word_matches(const struct stage_word *sw, const char *word)
{
	return sw->prefix ? strncmp(word, sw->word, strlen(sw->word)) == 0
	    : strcmp(word, sw->word) == 0;
}

/* The stage of a headline: that of its first word (in reading order) found
 * in stage_words, the headline's main verb more often than not ("open
 * talks on a deal" is talks opening, not a deal). CJK headlines have no
 * spaces: the earliest row found in the text wins there. */
static enum cluster_stage
headline_stage(const char *title)
{
	const size_t	 n_rows = sizeof(stage_words) / sizeof(stage_words[0]);
	const char	*best_cjk = NULL;
	enum cluster_stage best_cjk_stage = STAGE_NONE;
	char		 prev[32] = "";

	for (const char *p = title; *p != '\0';) {
		char	word[32];
		size_t	n = 0;

		while (*p != '\0' && !isalpha((unsigned char)*p))
			p++;
		while (isalpha((unsigned char)*p)) {
			if (n < sizeof(word) - 1)
				word[n++] = (char)tolower((unsigned char)*p);
			p++;
		}
		word[n] = '\0';
		for (size_t i = 0; n > 0 && i < n_rows; i++)
			if ((unsigned char)stage_words[i].word[0] < 0x80 &&
			    stage_word_matches(&stage_words[i], word)) {
				/* "Allies to hold drills", "will sign": the step is
				 * announced, not taken (rule 4: announced, then
				 * begins, then ends). */
				if (stage_words[i].stage != STAGE_REACTION &&
				    (strcmp(prev, "to") == 0 || strcmp(prev, "will") == 0))
					return STAGE_ANNOUNCED;
				return stage_words[i].stage;
			}
		snprintf(prev, sizeof(prev), "%s", word);
	}
	/* Korean: "실시 예정", "서명키로", "방침": a plan, whatever verb. */
	if (strstr(title, "예정") != NULL || strstr(title, "키로") != NULL ||
	    strstr(title, "방침") != NULL || strstr(title, "予定") != NULL)
		return STAGE_ANNOUNCED;
	for (size_t i = 0; i < n_rows; i++) {
		const char *at;

		if ((unsigned char)stage_words[i].word[0] < 0x80)
			continue;
		at = strstr(title, stage_words[i].word);
		if (at != NULL && (best_cjk == NULL || at < best_cjk)) {
			best_cjk = at;
			best_cjk_stage = stage_words[i].stage;
		}
	}
	return best_cjk_stage;
}

/* ---- building the term list -------------------------------------------- */

struct builder {
	struct cluster_features	*f;
	int			 oom;
};

static void
add_term(struct builder *b, const char *prefix, const char *s, size_t len, double w)
{
	struct cluster_features	*f = b->f;
	char			 term[96];
	int			 n;

	n = snprintf(term, sizeof(term), "%s%.*s", prefix, (int)len, s);
	if (n <= 0 || (size_t)n >= sizeof(term))
		return;
	for (size_t i = 0; i < f->n_terms; i++)
		if (strcmp(f->terms[i].term, term) == 0) {
			f->terms[i].weight += w;
			return;
		}
	if (f->n_terms >= MAX_TERMS)
		return;
	if (f->terms == NULL && (f->terms = calloc(MAX_TERMS, sizeof(*f->terms))) == NULL) {
		b->oom = 1;
		return;
	}
	if ((f->terms[f->n_terms].term = strdup(term)) == NULL) {
		b->oom = 1;
		return;
	}
	f->terms[f->n_terms++].weight = w;
}

static void
add_figure(struct builder *b, const char *readable, double w)
{
	struct cluster_features *f = b->f;

	add_term(b, "f:", readable, strlen(readable), w * BOOST_FIGURE);
	for (size_t i = 0; i < f->n_figures; i++)
		if (strcmp(f->figures[i], readable) == 0)
			return;
	if (f->n_figures >= MAX_FIGURES)
		return;
	if (f->figures == NULL && (f->figures = calloc(MAX_FIGURES, sizeof(char *))) == NULL) {
		b->oom = 1;
		return;
	}
	if ((f->figures[f->n_figures] = strdup(readable)) == NULL)
		b->oom = 1;
	else
		f->n_figures++;
}

/* A crude English stemmer: enough that "drill" and "drills", "sign" and
 * "signs" meet. Longer words only, so "us" and "gas" stay. */
static void
stem(char *w)
{
	static const char *const suffixes[] = { "ing", "ed", "es", "s" };
	size_t n = strlen(w);

	for (size_t i = 0; i < 4; i++) {
		size_t sl = strlen(suffixes[i]);

		if (n > sl + 3 && strcmp(w + n - sl, suffixes[i]) == 0) {
			w[n - sl] = '\0';
			return;
		}
	}
}

/* ---- figures ------------------------------------------------------------ */

enum currency { CUR_NONE, CUR_USD, CUR_KRW, CUR_JPY };

static void
format_amount(char *out, size_t size, double v, enum currency cur)
{
	static const struct { double scale; const char *name; } scales[] = {
		{ 1e12, "trillion" }, { 1e9, "billion" }, { 1e6, "million" },
	};
	const char	*name = NULL;
	double		 x = v;

	for (size_t i = 0; i < 3; i++)
		if (v >= scales[i].scale) {
			x = v / scales[i].scale;
			name = scales[i].name;
			break;
		}
	char		 num[32];

	/* Three significant digits: W1.04tr and 1.0389 trillion won meet,
	 * and 28,500 stays 28500 rather than 2.85e+04. */
	if (x >= 1000) {
		double mag = pow(10, floor(log10(x)) - 2);

		snprintf(num, sizeof(num), "%.0f", round(x / mag) * mag);
	} else
		snprintf(num, sizeof(num), "%.3g", x);
	if (cur == CUR_USD)
		snprintf(out, size, "$%s%s%s", num, name ? " " : "", name ? name : "");
	else
		snprintf(out, size, "%s%s%s%s", num, name ? " " : "", name ? name : "",
		    cur == CUR_KRW ? " won" : cur == CUR_JPY ? " yen" : "");
}

static bool
word_at(const char *p, const char *w)
{
	size_t n = strlen(w);

	return strncasecmp(p, w, n) == 0 && !isalpha((unsigned char)p[n]);
}

static double
scale_word(const char **pp)
{
	static const struct { const char *w; double s; } words[] = {
		{ "trillion", 1e12 }, { "tr", 1e12 }, { "tn", 1e12 },
		{ "billion", 1e9 }, { "bln", 1e9 }, { "bn", 1e9 }, { "b", 1e9 },
		{ "million", 1e6 }, { "mln", 1e6 }, { "m", 1e6 },
	};
	const char *p = *pp;

	while (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (word_at(p, words[i].w)) {
			*pp = p + strlen(words[i].w);
			return words[i].s;
		}
	return 1;
}

static int
korean_unit(const char *p, double *ret)
{
	static const struct { const char *u; double v; } units[] = {
		{ "천", 1e3 }, { "만", 1e4 }, { "억", 1e8 }, { "조", 1e12 },
	};

	for (size_t i = 0; i < 4; i++)
		if (strncmp(p, units[i].u, strlen(units[i].u)) == 0) {
			*ret = units[i].v;
			return (int)strlen(units[i].u);
		}
	return 0;
}

/* Reads a number at p ("4,500", "1.52", "3천500억") into *ret_v; returns the
 * bytes read. Korean place units are folded in as written. */
static size_t
read_number(const char *p, double *ret_v, bool *ret_korean)
{
	const char	*s = p;
	double		 total = 0, group = 0;
	bool		 korean = false;

	for (;;) {
		char	 digits[64];
		size_t	 n = 0;
		double	 unit;
		int	 ul;

		while ((isdigit((unsigned char)*p) || *p == ',' || *p == '.') && n < 63) {
			/* A comma or dot must sit between digits. */
			if ((*p == ',' || *p == '.') && !isdigit((unsigned char)p[1]))
				break;
			if (*p != ',')
				digits[n++] = *p;
			p++;
		}
		digits[n] = '\0';
		if (n == 0)
			break;
		group = strtod(digits, NULL);
		ul = korean_unit(p, &unit);
		if (ul == 0)
			break;
		korean = true;
		p += ul;
		if (unit == 1e3) {
			/* 3천500억: thousands inside the next larger unit. */
			double	rest = 0, u2;
			int	ul2;

			if (isdigit((unsigned char)*p)) {
				rest = strtod(p, NULL);
				while (isdigit((unsigned char)*p))
					p++;
			}
			ul2 = korean_unit(p, &u2);
			if (ul2 > 0 && u2 > 1e3) {
				total += (group * 1e3 + rest) * u2;
				p += ul2;
			} else
				total += group * 1e3 + rest;
		} else
			total += group * unit;
		group = 0;
	}
	*ret_v = total + group;
	*ret_korean = korean;
	return (size_t)(p - s);
}

/* Finds the figures in text: percentages, money with currency and scale,
 * and other counts of at least 100 that are not years. */
static void
scan_figures(struct builder *b, const char *text, double w)
{
	const char *p = text;

	while (*p != '\0') {
		enum currency	 cur = CUR_NONE;
		const char	*start = p, *q;
		double		 v, scale;
		bool		 korean, pct = false;
		char		 out[64];
		size_t		 n;

		if (!isdigit((unsigned char)*p) ||
		    (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '.'))) {
			/* W1.04tr: a currency letter glued to the number. */
			if (!(isdigit((unsigned char)*p) && p > text && p[-1] == 'W' &&
			    (p - 1 == text || !isalpha((unsigned char)p[-2])))) {
				p++;
				continue;
			}
		}
		if (start > text && start[-1] == '$')
			cur = CUR_USD;
		else if (start > text && start[-1] == 'W')
			cur = CUR_KRW;
		else if (start - text >= 2 && strncmp(start - 2, "\xc2\xa5", 2) == 0)
			cur = CUR_JPY;
		else if (start - text >= 3 && strncmp(start - 3, "\xe2\x82\xa9", 3) == 0)
			cur = CUR_KRW;
		n = read_number(p, &v, &korean);
		q = p + n;
		scale = korean ? 1 : scale_word(&q);
		v *= scale;
		while (*q == ' ')
			q++;
		if (*q == '%' || word_at(q, "pct") || word_at(q, "percent"))
			pct = true;
		else if (word_at(q, "won") || strncmp(q, "원", strlen("원")) == 0)
			cur = CUR_KRW;
		else if (word_at(q, "yen") || strncmp(q, "엔", strlen("엔")) == 0 ||
		    strncmp(q, "円", strlen("円")) == 0)
			cur = CUR_JPY;
		else if (word_at(q, "dollars") || strncmp(q, "달러", strlen("달러")) == 0)
			cur = CUR_USD;
		if (pct)
			snprintf(out, sizeof(out), "%g%%", v);
		else if (cur != CUR_NONE || scale > 1 || korean || (v >= 100 && !(v >= 1900 && v <= 2100 && n == 4)))
			format_amount(out, sizeof(out), v, cur);
		else
			out[0] = '\0';
		if (out[0] != '\0')
			add_figure(b, out, w);
		p = q > p ? q : p + 1;
	}
}

/* ---- names -------------------------------------------------------------- */

/* Capitalised pairs every story of the watched news carries: no name of
 * an event. NOTE: sorted (strcmp order) for bsearch. */
static const char *const common_names[] = {
	"joint chiefs", "new york", "north korea", "north korean", "pentagon said",
	"south korea", "south korean", "united states", "wall street", "white house",
};

/* Names of two or more capitalised words ("Freedom Edge", "Resolute
 * Dragon", "Key Resolve"), not counting the headline's first word: the
 * name of an exercise, a deal or a place tells two events of the same kind
 * apart (RULES.md rule 7). A headline in title case (most words
 * capitalised) has none. */
static void
scan_names(struct builder *b, const char *title, double w)
{
	char		 words[48][32];
	bool		 cap[48];
	size_t		 nw = 0, n_long = 0, n_cap = 0;
	const char	*p = title;

	while (*p != '\0' && nw < 48) {
		size_t n = 0;

		while (*p != '\0' && !isalpha((unsigned char)*p))
			if (*p++ == ',' && nw > 0)
				cap[nw - 1] = false;	/* "Hyundai, Toyota" is a list */
		if (*p == '\0')
			break;
		cap[nw] = isupper((unsigned char)*p) && islower((unsigned char)p[1]);
		while (isalpha((unsigned char)*p) || *p == '\'') {
			if (n < sizeof(words[0]) - 1 && *p != '\'')
				words[nw][n++] = (char)tolower((unsigned char)*p);
			p++;
		}
		words[nw][n] = '\0';
		if (n > 3) {
			n_long++;
			n_cap += cap[nw];
		}
		nw++;
	}
	if (n_long >= 3 && n_cap * 10 >= n_long * 7)
		return;
	for (size_t i = 1; i + 1 < nw; i++) {
		char	 name[96];
		size_t	 j = i;

		if (!cap[i] || !cap[i + 1] || is_stopword(words[i]))
			continue;
		snprintf(name, sizeof(name), "%s", words[i]);
		while (j + 1 < nw && cap[j + 1] && !is_stopword(words[j + 1])) {
			size_t len = strlen(name);

			snprintf(name + len, sizeof(name) - len, " %s", words[++j]);
		}
		if (bsearch(&(const char *){ name }, common_names, sizeof(common_names) /
		    sizeof(common_names[0]), sizeof(common_names[0]), cmp_str) == NULL) {
			add_term(b, "n:", name, strlen(name), w * BOOST_NAME);
			b->f->n_names++;
		}
		i = j;
	}
}

/* ---- host countries ------------------------------------------------------ */

/* The alliance's two host countries, as a lede names them: an event in
 * Korea and one in Japan are two events even when they are of one kind
 * and on one day (RULES.md rule 7: Seoul's cost talks are not Tokyo's).
 * Terms "h:kr" and "h:jp" of negligible weight: they take no part in the
 * similarity, only in that check (cluster.c). */
#define HOST_WEIGHT	1e-6

static const struct {
	const char	*word;		/* lower case, or a CJK substring */
	const char	*host;
} host_words[] = {
	{ "korea", "kr" }, { "korean", "kr" }, { "koreans", "kr" }, { "seoul", "kr" },
	{ "usfk", "kr" }, { "pyeongtaek", "kr" }, { "humphreys", "kr" },
	{ "seongju", "kr" }, { "yongsan", "kr" },
	{ "japan", "jp" }, { "japanese", "jp" }, { "tokyo", "jp" }, { "usfj", "jp" },
	{ "okinawa", "jp" }, { "kadena", "jp" }, { "futenma", "jp" }, { "henoko", "jp" },
	{ "yokosuka", "jp" }, { "kyushu", "jp" },
	{ "한국", "kr" }, { "한미", "kr" }, { "서울", "kr" }, { "주한", "kr" },
	{ "韓国", "kr" }, { "韓米", "kr" }, { "在韓", "kr" },
	{ "일본", "jp" }, { "한일", "jp" }, { "日本", "jp" }, { "日米", "jp" },
	{ "在日", "jp" }, { "東京", "jp" }, { "沖縄", "jp" },
};

static void
scan_hosts(struct builder *b, const char *text)
{
	const char *p = text;

	for (size_t i = 0; i < sizeof(host_words) / sizeof(host_words[0]); i++)
		if ((unsigned char)host_words[i].word[0] >= 0x80 &&
		    strstr(text, host_words[i].word) != NULL)
			add_term(b, "h:", host_words[i].host, 2, HOST_WEIGHT);
	while (*p != '\0') {
		char	word[16];
		size_t	n = 0;

		while (*p != '\0' && !isalpha((unsigned char)*p))
			p++;
		while (isalpha((unsigned char)*p)) {
			if (n < sizeof(word) - 1)
				word[n++] = (char)tolower((unsigned char)*p);
			p++;
		}
		word[n] = '\0';
		for (size_t i = 0; n > 0 && i < sizeof(host_words) / sizeof(host_words[0]); i++)
			if (strcmp(word, host_words[i].word) == 0)
				add_term(b, "h:", host_words[i].host, 2, HOST_WEIGHT);
	}
}

/* ---- words -------------------------------------------------------------- */

static bool
is_cjk(utf8proc_int32_t cp)
{
	return (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0x3040 && cp <= 0x30FF) ||
	    (cp >= 0x3130 && cp <= 0x318F) || (cp >= 0x3400 && cp <= 0x4DBF) ||
	    (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF);
}

static void
scan_words(struct builder *b, const char *text, double w)
{
	const utf8proc_uint8_t	*p = (const utf8proc_uint8_t *)text;
	const utf8proc_uint8_t	*cjk_prev = NULL;
	size_t			 cjk_prev_len = 0;

	while (*p != '\0') {
		utf8proc_int32_t	cp;
		utf8proc_ssize_t	n = utf8proc_iterate(p, -1, &cp);

		if (n <= 0) {
			p++;
			cjk_prev = NULL;
			continue;
		}
		if (is_cjk(cp)) {
			if (cjk_prev != NULL)
				add_term(b, "c:", (const char *)cjk_prev, cjk_prev_len + (size_t)n, w);
			cjk_prev = p;
			cjk_prev_len = (size_t)n;
			p += n;
			continue;
		}
		cjk_prev = NULL;
		if (cp < 0x80 && isalpha((int)cp)) {
			char	 word[48];
			size_t	 len = 0, upper = 0;
			bool	 entity;

			while (isalnum(*p) || ((*p == '-' || *p == '.' || *p == '\'') &&
			    isalnum(p[1]))) {
				if (*p == '\'' && (p[1] == 's' || p[1] == 'S') && !isalnum(p[2])) {
					p += 2;	/* possessive */
					break;
				}
				if (isupper(*p))
					upper++;
				if (len < sizeof(word) - 1 && *p != '.' && *p != '\'')
					word[len++] = (char)tolower(*p);
				p++;
			}
			word[len] = '\0';
			/* USFK, WSJ, THAAD, UFS: names an outlet cannot reword. */
			entity = upper >= 2 && upper * 2 >= len;
			if (len < 2 || is_stopword(word))
				continue;
			if (entity)
				add_term(b, "e:", word, len, w * BOOST_ENTITY);
			stem(word);
			add_term(b, "w:", word, strlen(word), w);
			continue;
		}
		p += n;
	}
}

/* The lede's first sentence: up to a full stop that ends a word of more
 * than two letters and is followed by a space and a capital ("S. Korea"
 * and "U.S. troops" do not end it). */
static size_t
first_sentence_len(const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		const char *w;

		if (strncmp(p, "\xe3\x80\x82", 3) == 0)	/* 。 */
			return (size_t)(p - s + 3);
		if (*p != '.' && *p != '!' && *p != '?')
			continue;
		if (p[1] != '\0' && p[1] != ' ')
			continue;
		for (w = p; w > s && isalpha((unsigned char)w[-1]); w--)
			;
		if (*p == '.' && (p - w <= 2 || (w > s && w[-1] == '.')))
			continue;
		return (size_t)(p - s + 1);
	}
	return strlen(s);
}

int
cluster_features_build(const char *title, const char *summary, struct cluster_features *ret)
{
	struct cluster_features	 f = { 0 };
	struct builder		 b = { .f = &f };
	char			*lede = NULL;

	if (title != NULL) {
		scan_words(&b, title, WEIGHT_TITLE);
		scan_figures(&b, title, WEIGHT_TITLE);
		f.stage = headline_stage(title);
		scan_names(&b, title, WEIGHT_TITLE);
		scan_hosts(&b, title);
	}
	if (summary != NULL) {
		lede = strndup(summary, first_sentence_len(summary));
		if (lede == NULL)
			b.oom = 1;
		else {
			scan_words(&b, lede, WEIGHT_LEDE);
			scan_figures(&b, lede, WEIGHT_LEDE);
			scan_hosts(&b, lede);
		}
	}
	free(lede);
	if (b.oom) {
		cluster_features_done(&f);
		return -ENOMEM;
	}
	*ret = f;
	return 0;
}

void
cluster_features_done(struct cluster_features *f)
{
	for (size_t i = 0; i < f->n_terms; i++)
		free(f->terms[i].term);
	free(f->terms);
	for (size_t i = 0; i < f->n_figures; i++)
		free(f->figures[i]);
	free(f->figures);
	memset(f, 0, sizeof(*f));
}
