/* rule.c — parser and evaluator of the topic rule language.
 *
 * Responsible for turning one rule expression (a YAML scalar of a topic's
 * terms or exclude list) into a tree of AND/OR/NOT/NEAR nodes over terms,
 * registering each term's normalised pattern in the shared matchers, and
 * for evaluating a tree on the hits the matchers found in one item. Not
 * responsible for scanning text (classify.c drives wordmatch.c and ac.c)
 * nor for topics and feeds (classify.c).
 *
 * Grammar, loosest binding first (docs/rules.md has the prose):
 *
 *	expr    := and ( "OR" and )*
 *	and     := near ( "AND" near )*
 *	near    := unary ( "NEAR/n" unary )*
 *	unary   := "NOT" unary | primary
 *	primary := scope primary | "(" expr ")" | "quoted phrase" | word+
 *	scope   := "title:" | "summary:"
 *
 * Adjacent bare words form one phrase ("special measures agreement"), and
 * the operators are operators only in upper case, so "and"/"or" inside a
 * phrase are plain words. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include <utf8proc.h>

#include "buf.h"
#include "rule.h"
#include "stem.h"

/* Cap on the positions a NEAR operand collects for one item. */
#define RULE_MAX_SPANS	4096

static const char *const field_names[_RULE_FIELD_MAX] = {
	[RULE_FIELD_TITLE] = "title",
	[RULE_FIELD_SUMMARY] = "summary",
	[RULE_FIELD_CONTENT] = "content",
};

const char *
rule_field_to_string(enum rule_field f)
{
	return f < _RULE_FIELD_MAX ? field_names[f] : NULL;
}

static int
layer_add(struct rule_set *rs, struct stem *stem, const char *language)
{
	struct rule_layer	*nl, *l;

	nl = reallocarray(rs->layers, rs->n_layers + 1, sizeof(*nl));
	if (nl == NULL)
		return -ENOMEM;
	rs->layers = nl;
	l = &rs->layers[rs->n_layers];
	memset(l, 0, sizeof(*l));
	l->words = wordmatch_new();
	l->ac = ac_new();
	l->language = language != NULL ? strdup(language) : NULL;
	if (l->words == NULL || l->ac == NULL ||
	    (language != NULL && l->language == NULL)) {
		wordmatch_free(l->words);
		ac_free(l->ac);
		free(l->language);
		return -ENOMEM;
	}
	l->stem = stem;
	rs->n_layers++;
	return 0;
}

int
rule_set_init(struct rule_set *rs)
{
	int r;

	memset(rs, 0, sizeof(*rs));
	norm_text_init(&rs->scratch);
	norm_text_init(&rs->stemmed);
	r = layer_add(rs, NULL, NULL);
	if (r < 0)
		return r;
	return rule_set_language(rs, "english");
}

void
rule_set_done(struct rule_set *rs)
{
	size_t i;

	for (i = 0; i < rs->n_layers; i++) {
		wordmatch_free(rs->layers[i].words);
		ac_free(rs->layers[i].ac);
		stem_free(rs->layers[i].stem);
		free(rs->layers[i].language);
		free(rs->layers[i].word_ids.first);
		free(rs->layers[i].ac_ids.first);
	}
	free(rs->layers);
	for (i = 0; i < rs->n_info; i++)
		free(rs->info[i].verify);
	free(rs->info);
	norm_text_done(&rs->scratch);
	norm_text_done(&rs->stemmed);
	memset(rs, 0, sizeof(*rs));
}

int
rule_set_language(struct rule_set *rs, const char *language)
{
	struct stem	*stem = NULL;
	size_t		 i;
	int		 r;

	if (language == NULL || strcmp(language, "none") == 0) {
		rs->cur_layer = 0;
		return 0;
	}
	for (i = 1; i < rs->n_layers; i++)
		if (strcmp(rs->layers[i].language, language) == 0) {
			rs->cur_layer = i;
			return 0;
		}
	r = stem_new(language, &stem);
	if (r < 0)
		return r;
	r = layer_add(rs, stem, language);
	if (r < 0) {
		stem_free(stem);
		return r;
	}
	rs->cur_layer = rs->n_layers - 1;
	return 0;
}

int
rule_set_compile(struct rule_set *rs)
{
	size_t i;

	for (i = 0; i < rs->n_layers; i++)
		if (wordmatch_compile(rs->layers[i].words) < 0 ||
		    ac_compile(rs->layers[i].ac) < 0)
			return -ENOMEM;
	return 0;
}

size_t
rule_set_pattern_count(const struct rule_set *rs)
{
	return rs->n_info;
}

/* Lexer. */

enum tok_type {
	TOK_EOF,
	TOK_WORD,
	TOK_PHRASE,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_AND,
	TOK_OR,
	TOK_NOT,
	TOK_NEAR,
	TOK_SCOPE,
	TOK_LIST,
};

struct tok {
	enum tok_type	 type;
	size_t		 off;		/* where the token starts in src */
	size_t		 len;		/* its length in src */
	size_t		 coff;		/* WORD/PHRASE content */
	size_t		 clen;
	unsigned	 n;		/* NEAR/n; SCOPE field mask */
	bool		 exact;		/* WORD/PHRASE written with '=' */
};

struct parser {
	struct rule_set		*rs;
	const char		*src;
	size_t			 len;
	size_t			 pos;
	struct tok		 peek;
	bool			 have_peek;
	struct rule_error	*err;
	int			 depth;
	bool			 dry;		/* check only: add no pattern */
	const struct rule_list	*list;		/* src is an entry of it */
	size_t			 entry;
	const struct parser	*parent;	/* the rule or list naming it */
};

static void perr_set(struct parser *p, size_t off, const char *fmt, ...)
    _printf_(3, 4);
/* Records a syntax error and yields -EINVAL. A macro, so that static
 * analysis sees the value (it does not follow variadic calls). */
#define perr(p, off, ...)	(perr_set((p), (off), __VA_ARGS__), -EINVAL)

static void
perr_set(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (p->err != NULL) {
		p->err->offset = off;
		p->err->list = p->list;
		p->err->entry = p->entry;
		va_start(ap, fmt);
		vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
		va_end(ap);
	}
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static bool
is_delim(char c)
{
	return is_space(c) || c == '(' || c == ')' || c == '"' || c == '\0';
}

/* Shows a token in a message: at most 40 bytes of it. */
static int
tok_show_len(const struct tok *t)
{
	return t->type == TOK_EOF ? 0 : (int)(t->len > 40 ? 40 : t->len);
}

static int
lex(struct parser *p, struct tok *t)
{
	const char	*s = p->src;
	size_t		 i = p->pos, start;

	while (i < p->len && is_space(s[i]))
		i++;
	memset(t, 0, sizeof(*t));
	t->off = i;
	if (i >= p->len) {
		t->type = TOK_EOF;
		p->pos = i;
		return 0;
	}
	if (s[i] == '(' || s[i] == ')') {
		t->type = s[i] == '(' ? TOK_LPAREN : TOK_RPAREN;
		t->len = 1;
		p->pos = i + 1;
		return 0;
	}
	if (s[i] == '@') {
		start = i++;
		while (i < p->len && (isalnum((unsigned char)s[i]) ||
		    s[i] == '_' || s[i] == '-'))
			i++;
		if (i == start + 1 || (i < p->len && !is_delim(s[i])))
			return perr(p, start, "'@' must be followed by a list "
			    "name of letters, digits, '_' and '-': '%.*s'",
			    (int)(p->len - start > 40 ? 40 : p->len - start),
			    s + start);
		t->type = TOK_LIST;
		t->coff = start + 1;
		t->clen = i - start - 1;
		t->len = i - start;
		p->pos = i;
		return 0;
	}
	if (s[i] == '=') {
		t->exact = true;
		if (++i >= p->len || (is_delim(s[i]) && s[i] != '"'))
			return perr(p, t->off, "'=' must be followed by a word "
			    "or a quoted phrase, as in =US or =\"u.s. forces\"");
		if (s[i] != '"') {
			start = i;
			while (i < p->len && !is_delim(s[i]))
				i++;
			t->type = TOK_WORD;
			t->coff = start;
			t->clen = i - start;
			t->len = i - t->off;
			p->pos = i;
			return 0;
		}
	}
	if (s[i] == '"') {
		const char *q = memchr(s + i + 1, '"', p->len - i - 1);

		if (q == NULL)
			return perr(p, i, "unterminated quote: '%.*s'",
			    (int)(p->len - i > 40 ? 40 : p->len - i), s + i);
		t->type = TOK_PHRASE;
		t->coff = i + 1;
		t->clen = (size_t)(q - (s + i + 1));
		t->len = (size_t)(q + 1 - (s + t->off));
		p->pos = t->off + t->len;
		if (t->clen == 0)
			return perr(p, i, "empty phrase '\"\"'");
		return 0;
	}
	start = i;
	while (i < p->len && !is_delim(s[i]))
		i++;
	t->type = TOK_WORD;
	t->len = i - start;
	t->coff = start;
	t->clen = t->len;
	p->pos = i;

#define IS(w) (t->len == sizeof(w) - 1 && memcmp(s + start, w, t->len) == 0)
	if (IS("AND"))
		t->type = TOK_AND;
	else if (IS("OR"))
		t->type = TOK_OR;
	else if (IS("NOT"))
		t->type = TOK_NOT;
#undef IS
	else if (t->len >= 4 && memcmp(s + start, "NEAR", 4) == 0 &&
	    (t->len == 4 || s[start + 4] == '/')) {
		unsigned long	 n = 0;
		size_t		 k = start + 5;

		if (t->len <= 5)
			return perr(p, start, "'%.*s' needs a distance, as in "
			    "NEAR/5", (int)t->len, s + start);
		for (; k < i; k++) {
			if (s[k] < '0' || s[k] > '9')
				return perr(p, start, "bad distance in '%.*s': "
				    "expected NEAR/n with n a number",
				    (int)t->len, s + start);
			n = n * 10 + (unsigned long)(s[k] - '0');
			if (n > RULE_NEAR_MAX)
				break;
		}
		if (n == 0 || n > RULE_NEAR_MAX)
			return perr(p, start, "distance in '%.*s' must be "
			    "1 to %d", (int)t->len, s + start, RULE_NEAR_MAX);
		t->type = TOK_NEAR;
		t->n = (unsigned)n;
	} else {
		const char	*colon = memchr(s + start, ':', t->len);
		size_t		 k, nlen;
		bool		 lower = true;

		if (colon == NULL)
			return 0;
		nlen = (size_t)(colon - (s + start));
		for (k = start; k < start + nlen; k++) {
			if (s[k] >= 'A' && s[k] <= 'Z')
				lower = false;
			else if (s[k] < 'a' || s[k] > 'z')
				return 0;	/* "U.S.:" or "12:30" is text */
		}
		if (nlen == 5 && strncasecmp(s + start, "title", 5) == 0)
			t->n = RULE_FIELD_BIT(RULE_FIELD_TITLE);
		else if (nlen == 7 && strncasecmp(s + start, "summary", 7) == 0)
			t->n = RULE_FIELD_BIT(RULE_FIELD_SUMMARY) |
			    RULE_FIELD_BIT(RULE_FIELD_CONTENT);
		else if (nlen > 0 && lower)
			return perr(p, start, "unknown field '%.*s' (use "
			    "title: or summary:)", (int)nlen + 1, s + start);
		else
			return 0;	/* "USFK:" is text */
		t->type = TOK_SCOPE;
		t->len = nlen + 1;
		p->pos = start + t->len;	/* the rest is the next token */
	}
	return 0;
}

static int
peek(struct parser *p, struct tok **ret)
{
	int r;

	if (!p->have_peek) {
		r = lex(p, &p->peek);
		if (r < 0)
			return r;
		p->have_peek = true;
	}
	*ret = &p->peek;
	return 0;
}

static void
consume(struct parser *p)
{
	p->have_peek = false;
}

/* Tree. */

struct rule_node *
rule_free(struct rule_node *n)
{
	if (n == NULL)
		return NULL;
	rule_free(n->a);
	rule_free(n->b);
	free(n->text);
	free(n->norm);
	free(n);
	return NULL;
}

static struct rule_node *
node_new(enum rule_op op, struct rule_node *a, struct rule_node *b)
{
	struct rule_node *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->op = op;
	n->a = a;
	n->b = b;
	return n;
}

/* Decodes the code point that ends just before s + end. */
static int32_t
last_cp(const char *s, size_t end)
{
	size_t	 i = end;
	int32_t	 cp = -1;

	while (i > 0) {
		i--;
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			break;
	}
	(void)utf8proc_iterate((const uint8_t *)s + i, (ssize_t)(end - i), &cp);
	return cp;
}

/* Gives id local of a matcher of layer li (ids maps it), with the check
 * verify (may be NULL), its pattern id: the one it already has, else a new
 * one. */
static int
pattern_id(struct rule_set *rs, size_t li, struct rule_ids *ids,
    uint32_t local, uint32_t span, const char *verify,
    bool verify_prefix, uint32_t *ret)
{
	struct rule_pattern_info	*pi;
	uint32_t			 id, prev = RULE_PATTERN_NONE;

	if (local < ids->n) {
		for (id = ids->first[local]; id != RULE_PATTERN_NONE;
		    id = rs->info[id].next) {
			pi = &rs->info[id];
			if ((pi->verify == NULL) == (verify == NULL) &&
			    (verify == NULL || (strcmp(pi->verify, verify) == 0 &&
			    pi->verify_prefix == verify_prefix))) {
				*ret = id;
				return 0;
			}
			prev = id;
		}
	} else {
		if (array_reserve((void **)&ids->first, &ids->cap, local + 1,
		    sizeof(*ids->first), 64) < 0)
			return -ENOMEM;
		/* Matcher ids are handed out in order: local == ids->n. */
		ids->first[ids->n++] = RULE_PATTERN_NONE;
	}
	if (rs->n_info == rs->cap_info) {
		size_t				 ncap = rs->cap_info ?
		    rs->cap_info * 2 : 64;
		struct rule_pattern_info	*ni;

		ni = reallocarray(rs->info, ncap, sizeof(*ni));
		if (ni == NULL)
			return -ENOMEM;
		rs->info = ni;
		rs->cap_info = ncap;
	}
	id = (uint32_t)rs->n_info;
	pi = &rs->info[id];
	memset(pi, 0, sizeof(*pi));
	if (verify != NULL && (pi->verify = strdup(verify)) == NULL)
		return -ENOMEM;
	rs->n_info++;
	pi->span = span;
	pi->layer = (uint32_t)li;
	pi->verify_prefix = verify_prefix;
	pi->next = RULE_PATTERN_NONE;
	if (prev == RULE_PATTERN_NONE)
		ids->first[local] = id;
	else
		rs->info[prev].next = id;
	*ret = id;
	return 0;
}

/* The part of a prefix's last word that the stems of the words it begins
 * keep: the longest common beginning of the word and of the stems of it
 * with common endings ("negotiat" -> "negoti", from "negotiation"). */
static int
prefix_stem(struct stem *st, const char *w, size_t len, size_t *ret)
{
	static const char *const endings[] = {
		"", "s", "es", "ed", "ing", "e", "er", "ers", "ion", "ions",
		"ation", "ations", "ment", "ments", "ly", "al", "ity", "ive",
		"ize", "able", "ness", "y", "ies", "ied", "ence", "ance",
	};
	char	 buf[128], out[128];
	size_t	 q = len, i, k, n;
	int	 r;

	if (len + 8 > sizeof(buf)) {
		*ret = len;
		return 0;
	}
	for (i = 0; i < sizeof(endings) / sizeof(endings[0]); i++) {
		n = strlen(endings[i]);
		memcpy(buf, w, len);
		memcpy(buf + len, endings[i], n);
		r = stem_word(st, buf, len + n, out, sizeof(out), &n);
		if (r < 0)
			return r;
		for (k = 0; k < q && k < n && out[k] == w[k]; k++)
			;
		q = k;
	}
	*ret = q > 0 ? q : 1;
	return 0;
}

/* Does any token of t go through a stemmer? */
static bool
has_word(const struct norm_text *t)
{
	size_t i, end;

	for (i = 0; i < t->n_tok; i++) {
		end = i + 1 < t->n_tok ? t->tok[i + 1] - 1 : t->len - 1;
		if (stem_is_word(t->s + t->tok[i], end - t->tok[i]))
			return true;
	}
	return false;
}

/* Builds a term node from src[off..off+len), which may end in '*'.
 * at is where the term starts in src, for messages. In a layer with stems
 * the pattern is the term's stems; an exact form, or a prefix (whose last
 * word becomes the part its inflections keep), is checked against the
 * words as written when found. */
static int
make_term(struct parser *p, size_t off, size_t len, size_t at, bool exact,
    struct rule_node **ret)
{
	struct rule_set		*rs = p->rs;
	struct norm_text	*nt = &rs->scratch;
	struct norm_text	*pt = nt;
	struct rule_node	*n = NULL;
	const char		*s = p->src + off;
	bool			 prefix = false, lead, trail;
	const char		*star;
	char			*verify = NULL;
	int32_t			 cp = -1;
	uint32_t		 id = 0, local;
	size_t			 plen, li = rs->cur_layer;
	int			 r;

	star = memchr(s, '*', len);
	if (star != NULL) {
		if ((size_t)(star - s) != len - 1)
			return perr(p, off + (size_t)(star - s), "'*' is only "
			    "allowed at the end of a term: '%.*s'",
			    (int)(len > 60 ? 60 : len), s);
		prefix = true;
	}
	r = normalize_text(nt, s, prefix ? len - 1 : len);
	if (r < 0)
		return r;
	if (nt->n_tok == 0)
		return perr(p, at, "term '%.*s' has no letters or digits",
		    (int)(len > 60 ? 60 : len), s);
	if (prefix && len >= 2 && is_space(s[len - 2]))
		return perr(p, off + len - 1, "'*' must follow a word, as in "
		    "tariff*");
	if (li > 0) {
		struct stem	*st = rs->layers[li].stem;
		size_t		 last, q, lt;

		if ((exact || prefix) && has_word(nt)) {
			verify = strndup(nt->s + 1, nt->len - 2);
			if (verify == NULL)
				return -ENOMEM;
		}
		r = stem_text(st, nt, &rs->stemmed);
		if (r < 0)
			goto fail;
		pt = &rs->stemmed;
		last = pt->n_tok - 1;
		lt = nt->tok[nt->n_tok - 1];
		if (prefix && stem_is_word(nt->s + lt, nt->len - 1 - lt)) {
			r = prefix_stem(st, nt->s + lt, nt->len - 1 - lt, &q);
			if (r < 0)
				goto fail;
			memcpy(pt->s + pt->tok[last], nt->s + lt, q);
			pt->len = pt->tok[last] + q;
			pt->s[pt->len++] = ' ';
			pt->s[pt->len] = '\0';
		}
	}
	(void)utf8proc_iterate((const uint8_t *)pt->s + 1,
	    (ssize_t)(pt->len - 1), &cp);
	lead = !normalize_cp_inword(cp);
	trail = !prefix && !normalize_cp_inword(last_cp(pt->s, pt->len - 1));
	plen = pt->len - (lead ? 0 : 1) - (trail ? 0 : 1);
	if (!p->dry) {
		struct rule_layer *l = &rs->layers[li];

		/* A term that begins with a word is looked up by it; one that
		 * may begin inside a word needs the automaton. */
		if (lead)
			r = wordmatch_add(l->words, pt->s, plen, &local);
		else
			r = ac_add(l->ac, pt->s + 1, plen, &local);
		if (r == 0)
			r = pattern_id(rs, li, lead ? &l->word_ids : &l->ac_ids,
			    local, (uint32_t)(pt->n_tok - 1),
			    lead ? verify : NULL, prefix, &id);
		if (r < 0)
			goto fail;
	}

	n = node_new(RULE_TERM, NULL, NULL);
	if (n == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	n->text = strndup(s, len);
	n->norm = strndup(nt->s + 1, nt->len - 2);
	if (n->text == NULL || n->norm == NULL) {
		rule_free(n);
		r = -ENOMEM;
		goto fail;
	}
	n->pattern = id;
	n->span = (uint32_t)(pt->n_tok - 1);
	n->fields = RULE_FIELDS_ALL;
	*ret = n;
	r = 0;
fail:
	free(verify);
	return r;
}

static int parse_or(struct parser *p, struct rule_node **ret);

static int
apply_scope(struct parser *p, struct rule_node *n, unsigned mask, size_t at)
{
	int r;

	if (n == NULL)
		return 0;
	if (n->op == RULE_TERM) {
		n->fields &= mask;
		if (n->fields == 0)
			return perr(p, at, "conflicting scopes: '%s' cannot "
			    "be in both title and summary", n->text);
		return 0;
	}
	r = apply_scope(p, n->a, mask, at);
	if (r < 0)
		return r;
	return apply_scope(p, n->b, mask, at);
}

/* Writes "a -> b -> a" for the chain of lists that leads back to name. */
static void
list_chain(const struct parser *p, const char *name, size_t len, char *buf,
    size_t size)
{
	const struct parser	*q;
	size_t			 n = 0;

	buf[0] = '\0';
	for (q = p; q != NULL && q->list != NULL; q = q->parent)
		n++;
	for (; n > 0; n--) {
		size_t k = n;

		for (q = p; --k > 0; q = q->parent)
			;
		(void)snprintf(buf + strlen(buf), size - strlen(buf), "@%s -> ",
		    q->list->name);
	}
	(void)snprintf(buf + strlen(buf), size - strlen(buf), "@%.*s",
	    (int)len, name);
}

/* "@name": the OR of the list's entries, each parsed as an expression of
 * its own (errors point into the entry). */
static int
expand_list(struct parser *p, const char *name, size_t len, size_t at,
    struct rule_node **ret)
{
	struct rule_lists	*lists = p->rs->lists;
	struct rule_list	*l = NULL;
	struct rule_node	*n = NULL, *e, *o;
	struct tok		*t;
	char			 chain[256];
	size_t			 i;
	int			 r = 0;

	for (i = 0; lists != NULL && i < lists->n; i++)
		if (strlen(lists->v[i].name) == len &&
		    memcmp(lists->v[i].name, name, len) == 0) {
			l = &lists->v[i];
			break;
		}
	if (l == NULL)
		return perr(p, at, "unknown list '@%.*s'", (int)len, name);
	if (l->busy) {
		list_chain(p, name, len, chain, sizeof(chain));
		return perr(p, at, "list '@%.*s' contains itself: %s",
		    (int)len, name, chain);
	}
	if (p->depth + 1 > 64)
		return perr(p, at, "lists nested too deep at '@%.*s'",
		    (int)len, name);
	l->busy = true;
	for (i = 0; i < l->n; i++) {
		struct parser sub = {
			.rs = p->rs, .src = l->entries[i],
			.len = strlen(l->entries[i]), .err = p->err,
			.depth = p->depth + 1, .dry = p->dry, .list = l,
			.entry = i, .parent = p,
		};

		e = NULL;
		r = parse_or(&sub, &e);
		if (r == 0)
			r = peek(&sub, &t);
		if (r == 0 && t->type != TOK_EOF)
			r = perr(&sub, t->off, "expected AND, OR or NEAR/n "
			    "before '%.*s'", tok_show_len(t), sub.src + t->off);
		if (r == 0 && !rule_needs_hit(e))
			r = perr(&sub, 0, "entry '%.60s' would match items "
			    "that contain none of its terms", sub.src);
		if (r < 0) {
			rule_free(e);
			break;
		}
		if (n == NULL) {
			n = e;
			continue;
		}
		o = node_new(RULE_OR, n, e);
		if (o == NULL) {
			rule_free(e);
			r = -ENOMEM;
			break;
		}
		n = o;
	}
	l->busy = false;
	if (r == 0 && n == NULL)
		r = perr(p, at, "list '@%.*s' is empty", (int)len, name);
	if (r < 0) {
		rule_free(n);
		return r;
	}
	*ret = n;
	return 0;
}

static int
parse_primary(struct parser *p, struct rule_node **ret)
{
	struct rule_node	*n = NULL;
	struct tok		*t;
	size_t			 first_off, end, at;
	bool			 exact;
	int			 r;

	r = peek(p, &t);
	if (r < 0)
		return r;
	switch (t->type) {
	case TOK_SCOPE: {
		unsigned	 mask = t->n;
		int		 at_len = (int)t->len;

		at = t->off;
		consume(p);
		r = peek(p, &t);
		if (r < 0)
			return r;
		if (t->type != TOK_WORD && t->type != TOK_PHRASE &&
		    t->type != TOK_LPAREN && t->type != TOK_SCOPE &&
		    t->type != TOK_LIST)
			return perr(p, t->off, "a term, phrase or '(' must "
			    "follow '%.*s'", at_len, p->src + at);
		r = parse_primary(p, &n);
		if (r < 0)
			return r;
		r = apply_scope(p, n, mask, at);
		if (r < 0) {
			rule_free(n);
			return r;
		}
		*ret = n;
		return 0;
	}
	case TOK_LPAREN:
		at = t->off;
		consume(p);
		if (++p->depth > 64)
			return perr(p, at, "parentheses nested too deep");
		r = parse_or(p, &n);
		p->depth--;
		if (r < 0)
			return r;
		r = peek(p, &t);
		if (r < 0) {
			rule_free(n);
			return r;
		}
		if (t->type != TOK_RPAREN) {
			rule_free(n);
			if (t->type == TOK_EOF)
				return perr(p, at, "'(' is never closed");
			return perr(p, t->off, "expected ')' or an operator "
			    "before '%.*s'", tok_show_len(t), p->src + t->off);
		}
		consume(p);
		*ret = n;
		return 0;
	case TOK_PHRASE:
		at = t->off;
		exact = t->exact;
		consume(p);
		return make_term(p, t->coff, t->clen, at, exact, ret);
	case TOK_LIST:
		at = t->off;
		consume(p);
		return expand_list(p, p->src + at + 1, t->len - 1, at, ret);
	case TOK_WORD:
		/* A run of bare words is one phrase; '=' on its first word
		 * makes all of it exact. */
		at = t->off;
		first_off = t->coff;
		end = t->coff + t->clen;
		exact = t->exact;
		consume(p);
		for (;;) {
			r = peek(p, &t);
			if (r < 0)
				return r;
			if (t->type != TOK_WORD)
				break;
			if (t->exact)
				return perr(p, t->off, "'=' marks a whole term: "
				    "write it before the first word, as in "
				    "=\"u.s. forces\"");
			if (p->src[end - 1] == '*')
				return perr(p, end - 1, "'*' is only allowed at "
				    "the end of a term: '%.*s'",
				    (int)(t->off + t->len - first_off),
				    p->src + first_off);
			end = t->off + t->len;
			consume(p);
		}
		return make_term(p, first_off, end - first_off, at, exact, ret);
	case TOK_EOF:
		return perr(p, t->off, "expected a term at the end of the rule");
	default:
		return perr(p, t->off, "expected a term, phrase or '(' "
		    "before '%.*s'", tok_show_len(t), p->src + t->off);
	}
}

static int
parse_unary(struct parser *p, struct rule_node **ret)
{
	struct rule_node	*a = NULL, *n;
	struct tok		*t;
	int			 r;

	r = peek(p, &t);
	if (r < 0)
		return r;
	if (t->type != TOK_NOT)
		return parse_primary(p, ret);
	consume(p);
	if (++p->depth > 64)
		return perr(p, t->off, "NOT nested too deep");
	r = parse_unary(p, &a);
	p->depth--;
	if (r < 0)
		return r;
	n = node_new(RULE_NOT, a, NULL);
	if (n == NULL) {
		rule_free(a);
		return -ENOMEM;
	}
	*ret = n;
	return 0;
}

/* NEAR joins what has positions: terms, and ORs and NEARs of them. */
static bool
near_operand_ok(const struct rule_node *n)
{
	switch (n->op) {
	case RULE_TERM:
	case RULE_NEAR:
		return true;
	case RULE_OR:
		return near_operand_ok(n->a) && near_operand_ok(n->b);
	default:
		return false;
	}
}

typedef int (*parse_fn)(struct parser *, struct rule_node **);

/* Parses "sub (op sub)*" for a left-associative binary operator. */
static int
parse_binary(struct parser *p, enum tok_type op_tok, enum rule_op op,
    parse_fn sub, struct rule_node **ret)
{
	struct rule_node	*left = NULL, *right = NULL, *n;
	struct tok		*t;
	int			 r;

	r = sub(p, &left);
	if (r < 0)
		return r;
	for (;;) {
		size_t		 at, at_len;
		unsigned	 near;

		r = peek(p, &t);
		if (r < 0)
			goto fail;
		if (t->type != op_tok)
			break;
		at = t->off;
		at_len = t->len;
		near = t->n;
		consume(p);
		r = sub(p, &right);
		if (r < 0)
			goto fail;
		if (op == RULE_NEAR && (!near_operand_ok(left) ||
		    !near_operand_ok(right))) {
			r = perr(p, at, "'%.*s' joins terms, phrases and "
			    "OR-groups of them, not AND or NOT",
			    (int)at_len, p->src + at);
			goto fail;
		}
		n = node_new(op, left, right);
		if (n == NULL) {
			r = -ENOMEM;
			goto fail;
		}
		n->near = near;
		left = n;
		right = NULL;
	}
	*ret = left;
	return 0;
fail:
	rule_free(left);
	rule_free(right);
	return r;
}

static int
parse_near(struct parser *p, struct rule_node **ret)
{
	return parse_binary(p, TOK_NEAR, RULE_NEAR, parse_unary, ret);
}

static int
parse_and(struct parser *p, struct rule_node **ret)
{
	return parse_binary(p, TOK_AND, RULE_AND, parse_near, ret);
}

static int
parse_or(struct parser *p, struct rule_node **ret)
{
	return parse_binary(p, TOK_OR, RULE_OR, parse_and, ret);
}

int
rule_parse(struct rule_set *rs, const char *src, struct rule_node **ret,
    struct rule_error *reterr)
{
	struct parser		 p = {
		.rs = rs, .src = src, .len = strlen(src), .err = reterr,
	};
	struct rule_node	*n = NULL;
	struct tok		*t;
	int			 r;

	r = parse_or(&p, &n);
	if (r < 0)
		return r;
	r = peek(&p, &t);
	if (r < 0)
		goto fail;
	if (t->type != TOK_EOF) {
		if (t->type == TOK_RPAREN)
			r = perr(&p, t->off, "unmatched ')'");
		else
			r = perr(&p, t->off, "expected AND, OR or NEAR/n "
			    "before '%.*s'", tok_show_len(t), src + t->off);
		goto fail;
	}
	if (!rule_needs_hit(n)) {
		r = perr(&p, 0, "rule '%.60s' would match items that contain "
		    "none of its terms; add a term outside NOT", src);
		goto fail;
	}
	*ret = n;
	return 0;
fail:
	rule_free(n);
	return r;
}

int
rule_check_list(struct rule_set *rs, size_t i, struct rule_error *reterr)
{
	struct parser		 p = { .rs = rs, .err = reterr, .dry = true };
	struct rule_list	*l = &rs->lists->v[i];
	struct rule_node	*n = NULL;
	int			 r;

	p.src = l->name;
	p.len = strlen(l->name);
	r = expand_list(&p, l->name, p.len, 0, &n);
	rule_free(n);
	return r;
}

bool
rule_needs_hit(const struct rule_node *n)
{
	switch (n->op) {
	case RULE_TERM:
	case RULE_NEAR:
		return true;
	case RULE_AND:
		return rule_needs_hit(n->a) || rule_needs_hit(n->b);
	case RULE_OR:
		return rule_needs_hit(n->a) && rule_needs_hit(n->b);
	default:
		return false;
	}
}

/* Evaluation. */

/* Index of the first hit of pattern, or n_hits. */
static size_t
hits_lower(const struct rule_hit *hits, size_t n_hits, uint32_t pattern)
{
	size_t lo = 0, hi = n_hits;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (hits[mid].pattern < pattern)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct rule_hit *
rule_term_hit(const struct rule_node *term, const struct rule_hit *hits,
    size_t n_hits)
{
	size_t i = hits_lower(hits, n_hits, term->pattern);

	for (; i < n_hits && hits[i].pattern == term->pattern; i++)
		if (term->fields & RULE_FIELD_BIT(hits[i].field))
			return &hits[i];
	return NULL;
}

struct span {
	uint32_t	 first;
	uint32_t	 last;
};

struct spans {
	struct span	*v;
	size_t		 n;
	size_t		 cap;
};

static int
spans_push(struct spans *s, uint32_t first, uint32_t last)
{
	if (s->n >= RULE_MAX_SPANS)
		return 0;
	if (s->n == s->cap) {
		size_t		 ncap = s->cap ? s->cap * 2 : 8;
		struct span	*nv = reallocarray(s->v, ncap, sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n].first = first;
	s->v[s->n].last = last;
	s->n++;
	return 0;
}

static uint32_t
span_distance(const struct span *x, const struct span *y)
{
	if (x->last < y->first)
		return y->first - x->last;
	if (y->last < x->first)
		return x->first - y->last;
	return 0;
}

static int
collect_spans(const struct rule_node *n, const struct rule_hit *hits,
    size_t n_hits, struct spans *out)
{
	struct spans	 sa = { 0 }, sb = { 0 };
	size_t		 i, j;
	int		 r = 0;

	switch (n->op) {
	case RULE_TERM:
		i = hits_lower(hits, n_hits, n->pattern);
		for (; i < n_hits && hits[i].pattern == n->pattern; i++)
			if (n->fields & RULE_FIELD_BIT(hits[i].field)) {
				r = spans_push(out, hits[i].first, hits[i].last);
				if (r < 0)
					return r;
			}
		return 0;
	case RULE_OR:
		r = collect_spans(n->a, hits, n_hits, out);
		if (r < 0)
			return r;
		return collect_spans(n->b, hits, n_hits, out);
	case RULE_NEAR:
		r = collect_spans(n->a, hits, n_hits, &sa);
		if (r < 0 || sa.n == 0)
			goto out;
		r = collect_spans(n->b, hits, n_hits, &sb);
		if (r < 0)
			goto out;
		for (i = 0; i < sa.n; i++)
			for (j = 0; j < sb.n; j++) {
				if (span_distance(&sa.v[i], &sb.v[j]) > n->near)
					continue;
				r = spans_push(out,
				    sa.v[i].first < sb.v[j].first ?
				    sa.v[i].first : sb.v[j].first,
				    sa.v[i].last > sb.v[j].last ?
				    sa.v[i].last : sb.v[j].last);
				if (r < 0)
					goto out;
			}
		break;
	default:
		break;		/* the parser never puts these under NEAR */
	}
out:
	free(sa.v);
	free(sb.v);
	return r;
}

/* Whether some span of n's one side lies within n->near words of one of
 * the other's: the first such pair answers, where collect_spans() lists
 * every pair. */
static int
near_holds(const struct rule_node *n, const struct rule_hit *hits, size_t n_hits)
{
	struct spans	 sa = { 0 }, sb = { 0 };
	int		 r;

	r = collect_spans(n->a, hits, n_hits, &sa);
	if (r == 0 && sa.n > 0)
		r = collect_spans(n->b, hits, n_hits, &sb);
	for (size_t i = 0; r == 0 && i < sa.n; i++)
		for (size_t j = 0; j < sb.n; j++)
			if (span_distance(&sa.v[i], &sb.v[j]) <= n->near) {
				r = 1;
				break;
			}
	free(sa.v);
	free(sb.v);
	return r;
}

int
rule_eval(const struct rule_node *n, const struct rule_hit *hits,
    size_t n_hits)
{
	int r;

	switch (n->op) {
	case RULE_TERM:
		return rule_term_hit(n, hits, n_hits) != NULL;
	case RULE_AND:
		r = rule_eval(n->a, hits, n_hits);
		if (r <= 0)
			return r;
		return rule_eval(n->b, hits, n_hits);
	case RULE_OR:
		r = rule_eval(n->a, hits, n_hits);
		if (r != 0)
			return r;
		return rule_eval(n->b, hits, n_hits);
	case RULE_NOT:
		r = rule_eval(n->a, hits, n_hits);
		return r < 0 ? r : !r;
	case RULE_NEAR:
		return near_holds(n, hits, n_hits);
	default:
		return 0;
	}
}

void
rule_foreach_positive_term(const struct rule_node *n,
    void (*fn)(void *userdata, const struct rule_node *term), void *userdata)
{
	if (n == NULL || n->op == RULE_NOT)
		return;
	if (n->op == RULE_TERM) {
		fn(userdata, n);
		return;
	}
	rule_foreach_positive_term(n->a, fn, userdata);
	rule_foreach_positive_term(n->b, fn, userdata);
}

typedef void (*explain_fn)(void *, const struct rule_node *,
    const struct rule_hit *);

/* Reports the occurrences of n's terms that lie within near words of one of
 * the spans of other. */
static int
explain_near_side(const struct rule_node *n, const struct spans *other,
    unsigned near, const struct rule_hit *hits, size_t n_hits, explain_fn fn,
    void *userdata)
{
	size_t	 i, j;
	int	 r;

	switch (n->op) {
	case RULE_TERM:
		i = hits_lower(hits, n_hits, n->pattern);
		for (; i < n_hits && hits[i].pattern == n->pattern; i++) {
			struct span sp = { hits[i].first, hits[i].last };

			if (!(n->fields & RULE_FIELD_BIT(hits[i].field)))
				continue;
			for (j = 0; j < other->n; j++)
				if (span_distance(&sp, &other->v[j]) <= near) {
					fn(userdata, n, &hits[i]);
					return 0;
				}
		}
		return 0;
	case RULE_OR:
		r = explain_near_side(n->a, other, near, hits, n_hits, fn,
		    userdata);
		if (r < 0)
			return r;
		return explain_near_side(n->b, other, near, hits, n_hits, fn,
		    userdata);
	default:
		/* A nested NEAR: its own witnesses. */
		return rule_explain(n, hits, n_hits, fn, userdata);
	}
}

/* Whether explaining n reports nothing when n does not hold, so that it
 * need not be evaluated first: a term without a hit, a NOT (never
 * explained), an OR (whose halves are evaluated first where needed). An
 * AND may have a half that holds, a nested NEAR witnesses of its own.
 * Evaluating each OR of a long chain before explaining it evaluated the
 * chain's tail again at every level: most of a burst's classification
 * time. */
static bool
explained_alone(const struct rule_node *n)
{
	return n->op == RULE_TERM || n->op == RULE_NOT || n->op == RULE_OR;
}

int
rule_explain(const struct rule_node *n, const struct rule_hit *hits,
    size_t n_hits, explain_fn fn, void *userdata)
{
	struct spans	 sa = { 0 }, sb = { 0 };
	const struct rule_hit *h;
	int		 r;

	switch (n->op) {
	case RULE_TERM:
		h = rule_term_hit(n, hits, n_hits);
		if (h != NULL)
			fn(userdata, n, h);
		return 0;
	case RULE_AND:
	case RULE_OR:
		r = explained_alone(n->a) ? 1 : rule_eval(n->a, hits, n_hits);
		if (r > 0)
			r = rule_explain(n->a, hits, n_hits, fn, userdata);
		if (r < 0)
			return r;
		r = explained_alone(n->b) ? 1 : rule_eval(n->b, hits, n_hits);
		if (r > 0)
			r = rule_explain(n->b, hits, n_hits, fn, userdata);
		return r < 0 ? r : 0;
	case RULE_NEAR:
		r = collect_spans(n->a, hits, n_hits, &sa);
		if (r == 0)
			r = collect_spans(n->b, hits, n_hits, &sb);
		if (r == 0)
			r = explain_near_side(n->a, &sb, n->near, hits, n_hits,
			    fn, userdata);
		if (r == 0)
			r = explain_near_side(n->b, &sa, n->near, hits, n_hits,
			    fn, userdata);
		free(sa.v);
		free(sb.v);
		return r;
	default:
		return 0;
	}
}

/* Size of the trigger set of n; SIZE_MAX when n needs no hit. */
static size_t
trigger_count(const struct rule_node *n)
{
	size_t a, b;

	switch (n->op) {
	case RULE_TERM:
		return 1;
	case RULE_OR:
		a = trigger_count(n->a);
		b = trigger_count(n->b);
		return a == SIZE_MAX || b == SIZE_MAX ? SIZE_MAX : a + b;
	case RULE_AND:
	case RULE_NEAR:
		a = trigger_count(n->a);
		b = trigger_count(n->b);
		return a < b ? a : b;
	default:
		return SIZE_MAX;
	}
}

void
rule_foreach_trigger_term(const struct rule_node *n,
    void (*fn)(void *userdata, const struct rule_node *term), void *userdata)
{
	switch (n->op) {
	case RULE_TERM:
		fn(userdata, n);
		return;
	case RULE_OR:
		rule_foreach_trigger_term(n->a, fn, userdata);
		rule_foreach_trigger_term(n->b, fn, userdata);
		return;
	case RULE_AND:
	case RULE_NEAR:
		/* Ties go left: the subject usually comes before its context. */
		if (trigger_count(n->a) <= trigger_count(n->b))
			rule_foreach_trigger_term(n->a, fn, userdata);
		else
			rule_foreach_trigger_term(n->b, fn, userdata);
		return;
	default:
		return;
	}
}
