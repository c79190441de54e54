/* rule.c — parser and evaluator of the topic rule language.
 *
 * Responsible for turning one rule expression (a YAML scalar of a topic's
 * terms or exclude list) into a tree of AND/OR/NOT/NEAR nodes over terms,
 * registering each term's normalised pattern in the shared automaton, and
 * for evaluating a tree on the hits the automaton found in one item. Not
 * responsible for scanning text (classify.c drives ac.c) nor for topics and
 * feeds (classify.c).
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

#include <utf8proc.h>

#include "rule.h"

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

int
rule_set_init(struct rule_set *rs)
{
	memset(rs, 0, sizeof(*rs));
	norm_text_init(&rs->scratch);
	rs->ac = ac_new();
	return rs->ac != NULL ? 0 : -ENOMEM;
}

void
rule_set_done(struct rule_set *rs)
{
	rs->ac = ac_free(rs->ac);
	free(rs->info);
	norm_text_done(&rs->scratch);
	memset(rs, 0, sizeof(*rs));
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
};

struct tok {
	enum tok_type	 type;
	size_t		 off;		/* where the token starts in src */
	size_t		 len;		/* its length in src */
	size_t		 coff;		/* WORD/PHRASE content */
	size_t		 clen;
	unsigned	 n;		/* NEAR/n; SCOPE field mask */
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
	if (s[i] == '"') {
		const char *q = memchr(s + i + 1, '"', p->len - i - 1);

		if (q == NULL)
			return perr(p, i, "unterminated quote: '%.*s'",
			    (int)(p->len - i > 40 ? 40 : p->len - i), s + i);
		t->type = TOK_PHRASE;
		t->coff = i + 1;
		t->clen = (size_t)(q - (s + i + 1));
		t->len = t->clen + 2;
		p->pos = i + t->len;
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

/* Builds a term node from src[off..off+len), which may end in '*'.
 * at is where the term starts in src, for messages. */
static int
make_term(struct parser *p, size_t off, size_t len, size_t at,
    struct rule_node **ret)
{
	struct rule_set		*rs = p->rs;
	struct norm_text	*nt = &rs->scratch;
	struct rule_node	*n = NULL;
	const char		*s = p->src + off;
	bool			 prefix = false, lead, trail;
	const char		*star;
	int32_t			 cp = -1;
	uint32_t		 id;
	size_t			 plen;
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
	(void)utf8proc_iterate((const uint8_t *)nt->s + 1,
	    (ssize_t)(nt->len - 1), &cp);
	lead = !normalize_cp_inword(cp);
	trail = !prefix && !normalize_cp_inword(last_cp(nt->s, nt->len - 1));
	plen = nt->len - (lead ? 0 : 1) - (trail ? 0 : 1);
	r = ac_add(rs->ac, nt->s + (lead ? 0 : 1), plen, &id);
	if (r < 0)
		return r;
	if (id >= rs->n_info) {
		if (id >= rs->cap_info) {
			size_t				 ncap = rs->cap_info ?
			    rs->cap_info * 2 : 64;
			struct rule_pattern_info	*ni;

			while (ncap <= id)
				ncap *= 2;
			ni = reallocarray(rs->info, ncap, sizeof(*ni));
			if (ni == NULL)
				return -ENOMEM;
			rs->info = ni;
			rs->cap_info = ncap;
		}
		rs->n_info = (size_t)id + 1;
	}
	rs->info[id].lead = lead;
	rs->info[id].span = (uint32_t)(nt->n_tok - 1);

	n = node_new(RULE_TERM, NULL, NULL);
	if (n == NULL)
		return -ENOMEM;
	n->text = strndup(s, len);
	if (n->text == NULL) {
		free(n);
		return -ENOMEM;
	}
	n->pattern = id;
	n->span = (uint32_t)(nt->n_tok - 1);
	n->fields = RULE_FIELDS_ALL;
	*ret = n;
	return 0;
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

static int
parse_primary(struct parser *p, struct rule_node **ret)
{
	struct rule_node	*n = NULL;
	struct tok		*t;
	size_t			 first_off, end, at;
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
		    t->type != TOK_LPAREN && t->type != TOK_SCOPE)
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
		consume(p);
		return make_term(p, t->coff, t->clen, at, ret);
	case TOK_WORD:
		/* A run of bare words is one phrase. */
		first_off = t->off;
		end = t->off + t->len;
		consume(p);
		for (;;) {
			r = peek(p, &t);
			if (r < 0)
				return r;
			if (t->type != TOK_WORD)
				break;
			if (p->src[end - 1] == '*')
				return perr(p, end - 1, "'*' is only allowed at "
				    "the end of a term: '%.*s'",
				    (int)(t->off + t->len - first_off),
				    p->src + first_off);
			end = t->off + t->len;
			consume(p);
		}
		return make_term(p, first_off, end - first_off, first_off, ret);
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

int
rule_eval(const struct rule_node *n, const struct rule_hit *hits,
    size_t n_hits)
{
	struct spans	 s = { 0 };
	int		 r;

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
		r = collect_spans(n, hits, n_hits, &s);
		if (r == 0)
			r = s.n > 0;
		free(s.v);
		return r;
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
		r = rule_eval(n->a, hits, n_hits);
		if (r > 0)
			r = rule_explain(n->a, hits, n_hits, fn, userdata);
		if (r < 0)
			return r;
		r = rule_eval(n->b, hits, n_hits);
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
