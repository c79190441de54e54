/* ac.c — Aho–Corasick multi-pattern matching (Aho & Corasick, "Efficient
 * string matching: an aid to bibliographic search", CACM 18(6), 1975).
 *
 * Responsible for finding every occurrence of every pattern in one pass over
 * a byte string. Not responsible for what a pattern means: word boundaries
 * are already spelled into the patterns as spaces (normalize.h), and rule
 * logic lives in rule.c.
 *
 * Layout: while patterns are added, each state keeps a sorted edge list.
 * ac_compile() computes failure links breadth-first. When the automaton is
 * small enough (states x byte classes <= AC_DFA_MAX_ENTRIES: bytes that no
 * pattern uses share one class) it becomes a full DFA, and the hot loop is
 * one table load per byte. Otherwise the root, its children and every state
 * with many edges get a 256-entry table, where a scan spends most of its
 * time, and other states keep their short edge list and fall back along the
 * failure links. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ac.h"
#include "buf.h"

#define AC_NONE		UINT32_MAX
/* States with at least this many edges get a 256-entry table. */
#define AC_DENSE_MIN	4

struct ac_edge {
	uint8_t		 byte;
	uint32_t	 to;
};

struct ac_state {
	struct ac_edge	*edges;		/* sorted by byte */
	uint32_t	 n_edges;
	uint32_t	 cap_edges;
	uint32_t	 fail;
	uint32_t	 out;		/* pattern id ending here, or AC_NONE */
	uint32_t	 dict;		/* next state on the fail chain with out */
	uint32_t	 dense;		/* index into a->dense, or AC_NONE */
	uint32_t	 depth;
};

struct ac {
	struct ac_state	*st;
	size_t		 n_st;
	size_t		 cap_st;
	uint32_t	*pat_len;	/* by pattern id */
	size_t		 n_pat;
	size_t		 cap_pat;
	uint32_t	*dense;		/* blocks of 256 next states */
	size_t		 n_dense;
	size_t		 cap_dense;	/* in entries */
	/* Full DFA, or NULL: delta[state * n_class + cls[byte]]. */
	uint32_t	*delta;
	uint8_t		 cls[256];
	unsigned	 n_class;
	uint32_t	*emit;		/* first state with output on the
					 * fail chain, itself included */
	bool		 starts[256];	/* some pattern begins with the byte */
	bool		 compiled;
};

static int
ac_state_add(struct ac *a, uint32_t depth, uint32_t *ret)
{
	struct ac_state *s;

	if (a->n_st >= UINT32_MAX - 1)
		return -ENOMEM;
	if (array_reserve((void **)&a->st, &a->cap_st, a->n_st + 1,
	    sizeof(*a->st), 16) < 0)
		return -ENOMEM;
	s = &a->st[a->n_st];
	memset(s, 0, sizeof(*s));
	s->out = AC_NONE;
	s->dict = AC_NONE;
	s->dense = AC_NONE;
	s->depth = depth;
	*ret = (uint32_t)a->n_st++;
	return 0;
}

struct ac *
ac_new(void)
{
	struct ac	*a = calloc(1, sizeof(*a));
	uint32_t	 root;

	if (a == NULL)
		return NULL;
	if (ac_state_add(a, 0, &root) < 0)
		return ac_free(a);
	return a;
}

struct ac *
ac_free(struct ac *a)
{
	size_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < a->n_st; i++)
		free(a->st[i].edges);
	free(a->st);
	free(a->pat_len);
	free(a->dense);
	free(a->delta);
	free(a->emit);
	free(a);
	return NULL;
}

/* Returns the position of byte in s's edges, or where it would go. */
static uint32_t
edge_find(const struct ac_state *s, uint8_t byte, bool *found)
{
	uint32_t lo = 0, hi = s->n_edges;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (s->edges[mid].byte < byte)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->n_edges && s->edges[lo].byte == byte;
	return lo;
}

int
ac_add(struct ac *a, const char *p, size_t len, uint32_t *ret_id)
{
	uint32_t	 cur = 0;
	size_t		 i;

	if (a->compiled)
		return -EBUSY;
	if (len == 0 || len > UINT32_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		uint8_t		 b = (uint8_t)p[i];
		bool		 found;
		uint32_t	 pos = edge_find(&a->st[cur], b, &found), nst;
		struct ac_state	*s;

		if (found) {
			cur = a->st[cur].edges[pos].to;
			continue;
		}
		if (ac_state_add(a, (uint32_t)i + 1, &nst) < 0)
			return -ENOMEM;
		s = &a->st[cur];
		if (s->n_edges == s->cap_edges) {
			uint32_t	 ncap = s->cap_edges ? s->cap_edges * 2 : 2;
			struct ac_edge	*ne = reallocarray(s->edges, ncap,
			    sizeof(*ne));

			if (ne == NULL)
				return -ENOMEM;	/* the new state is unreachable */
			s->edges = ne;
			s->cap_edges = ncap;
		}
		memmove(&s->edges[pos + 1], &s->edges[pos],
		    (s->n_edges - pos) * sizeof(*s->edges));
		s->edges[pos].byte = b;
		s->edges[pos].to = nst;
		s->n_edges++;
		cur = nst;
	}
	if (a->st[cur].out == AC_NONE) {
		if (array_reserve((void **)&a->pat_len, &a->cap_pat, a->n_pat + 1,
		    sizeof(*a->pat_len), 16) < 0)
			return -ENOMEM;
		a->pat_len[a->n_pat] = (uint32_t)len;
		a->st[cur].out = (uint32_t)a->n_pat++;
	}
	*ret_id = a->st[cur].out;
	return 0;
}

/* The goto function with failure fall-back, usable once fail links of
 * all shallower states are known. */
static uint32_t
ac_next(const struct ac *a, uint32_t s, uint8_t b)
{
	for (;;) {
		const struct ac_state	*st = &a->st[s];
		bool			 found;
		uint32_t		 pos;

		if (st->dense != AC_NONE)
			return a->dense[(size_t)st->dense * 256 + b];
		pos = edge_find(st, b, &found);
		if (found)
			return st->edges[pos].to;
		if (s == 0)
			return 0;
		s = st->fail;
	}
}

/* Assigns byte classes; returns whether a full DFA fits max_entries. */
static bool
dfa_fits(struct ac *a, size_t max_entries)
{
	bool		 used[256] = { false };
	size_t		 i, q;
	unsigned	 b, k = 1;

	for (i = 0; i < a->n_st; i++)
		for (q = 0; q < a->st[i].n_edges; q++)
			used[a->st[i].edges[q].byte] = true;
	for (b = 0; b < 256; b++)
		a->cls[b] = used[b] ? (uint8_t)k++ : 0;
	a->n_class = k;
	return k <= 256 && (size_t)k * a->n_st <= max_entries;
}

/* Builds the full DFA over byte classes, states in BFS order (queue). */
static int
build_dfa(struct ac *a, const uint32_t *queue)
{
	size_t		 i, q;
	unsigned	 k = a->n_class;

	a->delta = calloc((size_t)k * a->n_st, sizeof(*a->delta));
	if (a->delta == NULL)
		return -ENOMEM;
	/* A state's row is its fail state's row plus its own edges; the fail
	 * state comes earlier in breadth-first order. */
	for (q = 0; q < a->n_st; q++) {
		uint32_t		 s = queue[q];
		const struct ac_state	*st = &a->st[s];
		uint32_t		*row = a->delta + (size_t)s * k;

		if (s != 0)
			memcpy(row, a->delta + (size_t)st->fail * k,
			    k * sizeof(*row));
		for (i = 0; i < st->n_edges; i++)
			row[a->cls[st->edges[i].byte]] = st->edges[i].to;
	}
	return 0;
}

int
ac_compile(struct ac *a)
{
	return ac_compile_limit(a, AC_DFA_MAX_ENTRIES);
}

int
ac_compile_limit(struct ac *a, size_t max_dfa_entries)
{
	uint32_t	*queue = NULL;
	size_t		 head = 0, tail = 0, i;
	bool		 dfa;
	int		 r = -ENOMEM;

	if (a->compiled)
		return 0;
	dfa = max_dfa_entries > 0 && dfa_fits(a, max_dfa_entries);
	queue = reallocarray(NULL, a->n_st, sizeof(*queue));
	a->emit = reallocarray(NULL, a->n_st, sizeof(*a->emit));
	if (queue == NULL || a->emit == NULL)
		goto out;
	a->st[0].fail = 0;
	queue[tail++] = 0;
	/* Breadth first, so a state's fail target is complete before it. */
	while (head < tail) {
		uint32_t	 s = queue[head++];
		struct ac_state	*st = &a->st[s];

		if (s != 0) {
			uint32_t f = st->fail;

			st->dict = a->st[f].out != AC_NONE ? f : a->st[f].dict;
		}
		for (i = 0; i < st->n_edges; i++) {
			uint32_t	 to = st->edges[i].to;

			a->st[to].fail = s == 0 ? 0 :
			    ac_next(a, st->fail, st->edges[i].byte);
			queue[tail++] = to;
		}
		if (!dfa && (st->depth <= 1 || st->n_edges >= AC_DENSE_MIN)) {
			uint32_t	*blk;
			unsigned	 b;

			if (array_reserve((void **)&a->dense, &a->cap_dense,
			    (a->n_dense + 1) * 256, sizeof(*a->dense), 16) < 0)
				goto out;
			blk = a->dense + a->n_dense * 256;
			for (b = 0; b < 256; b++)
				blk[b] = s == 0 ? 0 : ac_next(a, st->fail, (uint8_t)b);
			for (i = 0; i < st->n_edges; i++)
				blk[st->edges[i].byte] = st->edges[i].to;
			a->st[s].dense = (uint32_t)a->n_dense++;
		}
	}
	for (i = 0; i < a->st[0].n_edges; i++)
		a->starts[a->st[0].edges[i].byte] = true;
	for (i = 0; i < a->n_st; i++)
		a->emit[i] = a->st[i].out != AC_NONE ? (uint32_t)i : a->st[i].dict;
	a->emit[0] = AC_NONE;
	if (dfa && build_dfa(a, queue) < 0)
		goto out;
	a->compiled = true;
	r = 0;
out:
	free(queue);
	return r;
}

size_t
ac_pattern_count(const struct ac *a)
{
	return a->n_pat;
}

size_t
ac_pattern_len(const struct ac *a, uint32_t id)
{
	return id < a->n_pat ? a->pat_len[id] : 0;
}

/* From the root, a byte that begins no pattern leads back to the root and
 * reports nothing: skips them, a load each instead of a transition each.
 * Returns the offset of the next byte that begins a pattern, or len. */
static size_t
skip_root(const struct ac *a, const char *text, size_t i, size_t len)
{
	while (i < len && !a->starts[(uint8_t)text[i]])
		i++;
	return i;
}

int
ac_scan(const struct ac *a, const char *text, size_t len, ac_hit_fn fn,
    void *userdata)
{
	uint32_t	 s = 0;
	size_t		 i;
	int		 r;

	if (!a->compiled)
		return -EINVAL;
	if (a->delta != NULL) {
		const uint32_t	*delta = a->delta;
		const uint8_t	*cls = a->cls;
		size_t		 k = a->n_class;

		for (i = 0; i < len; i++) {
			uint32_t o;

			if (s == 0 && (i = skip_root(a, text, i, len)) == len)
				break;
			s = delta[(size_t)s * k + cls[(uint8_t)text[i]]];
			for (o = a->emit[s]; o != AC_NONE; o = a->st[o].dict) {
				r = fn(userdata, a->st[o].out, i + 1);
				if (r != 0)
					return r;
			}
		}
		return 0;
	}
	for (i = 0; i < len; i++) {
		uint32_t o;

		if (s == 0 && (i = skip_root(a, text, i, len)) == len)
			break;
		s = ac_next(a, s, (uint8_t)text[i]);
		o = a->emit[s];
		while (o != AC_NONE) {
			r = fn(userdata, a->st[o].out, i + 1);
			if (r != 0)
				return r;
			o = a->st[o].dict;
		}
	}
	return 0;
}
