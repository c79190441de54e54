/* classify.c — topics of the configuration applied to feed items.
 *
 * Responsible for compiling every term and exclude rule of every topic into
 * shared matchers (rule.c: terms that begin with a word are looked up by it
 * in wordmatch.c, Hangul, Han and Kana terms are found by ac.c), scanning
 * an item's title, summary and content once, and deciding from the hits
 * which topics match and why.
 * Not responsible for the rule syntax (rule.c), Unicode handling
 * (normalize.c), nor for what happens to a match (alert.c).
 *
 * An item is scanned field by field; word positions run on from the title
 * into the summary and the content, so NEAR can pair a word of the headline
 * with one of the summary, while a phrase never spans two fields. Only the
 * rule entries that one of the item's hits can make true are evaluated
 * (each pattern knows the entries it can trigger: see
 * rule_foreach_trigger_term()), so the cost per item follows the number of
 * hits, not the number of rules. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "normalize.h"
#include "rule.h"
#include "stem.h"

struct cl_entry {
	struct rule_node	*expr;
	char			*text;		/* an exclude's rule as written */
	uint32_t		 topic;
	bool			 exclude;
};

struct cl_topic {
	char		*name;
	enum severity	 severity;
	char		**feeds;
	size_t		 n_feeds;
};

struct classifier {
	struct rule_set		 rs;
	struct rule_lists	 lists;		/* while compiling only */
	struct cl_topic		*topics;
	size_t			 n_topics;
	struct cl_entry		*entries;	/* grouped by topic, in order */
	size_t			 n_entries;
	uint32_t		*trig_off;	/* by pattern id, n_patterns + 1 */
	uint32_t		*trig;		/* entry indexes */
};

struct classifier *
classifier_free(struct classifier *c)
{
	size_t i, j;

	if (c == NULL)
		return NULL;
	for (i = 0; c->entries != NULL && i < c->n_entries; i++) {
		rule_free(c->entries[i].expr);
		free(c->entries[i].text);
	}
	free(c->entries);
	for (i = 0; i < c->n_topics; i++) {
		free(c->topics[i].name);
		for (j = 0; j < c->topics[i].n_feeds; j++)
			free(c->topics[i].feeds[j]);
		free(c->topics[i].feeds);
	}
	free(c->topics);
	for (i = 0; i < c->lists.n; i++) {
		free((char *)c->lists.v[i].name);
		free((void *)c->lists.v[i].entries);
	}
	free(c->lists.v);
	free(c->trig_off);
	free(c->trig);
	rule_set_done(&c->rs);
	free(c);
	return NULL;
}

/* Where offset off of a rule's text is in the file. */
static void
rule_position(const struct conf_str *cs, size_t off, unsigned *ret_line,
    unsigned *ret_col)
{
	unsigned	 line = cs->line, col = cs->col + (cs->quoted ? 1 : 0);
	size_t		 i;

	for (i = 0; cs->s != NULL && i < off && cs->s[i] != '\0'; i++) {
		if (cs->s[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)cs->s[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	*ret_line = line;
	*ret_col = col;
}

static int
add_entries(struct classifier *c, const struct conf *conf, uint32_t ti,
    const struct conf_strlist *list, bool exclude, struct fw_errors *errs,
    bool *failed)
{
	size_t i;

	for (i = 0; i < list->n; i++) {
		const struct conf_str	*cs = &list->v[i];
		struct rule_node	*expr = NULL;
		struct rule_error	 rerr = { 0 };
		struct fw_error		 e;
		unsigned		 line, col;
		int			 r;

		r = rule_parse(&c->rs, cs->s != NULL ? cs->s : "", &expr, &rerr);
		if (r == -EINVAL && rerr.list != NULL) {
			/* Inside a list: check_lists() reported it. */
			*failed = true;
			continue;
		}
		if (r == -EINVAL) {
			rule_position(cs, rerr.offset, &line, &col);
			fw_error_set(&e, conf->path, line, col,
			    "topic '%s': %s%s", c->topics[ti].name,
			    exclude ? "exclude: " : "", rerr.msg);
			if (errs != NULL && fw_errors_add(errs, &e) < 0)
				return -ENOMEM;
			*failed = true;
			continue;
		}
		if (r < 0)
			return r;
		/* Kept to tell the user which exclude removed an item. */
		if (exclude && (c->entries[c->n_entries].text =
		    strdup(cs->s != NULL ? cs->s : "")) == NULL) {
			rule_free(expr);
			return -ENOMEM;
		}
		c->entries[c->n_entries].expr = expr;
		c->entries[c->n_entries].topic = ti;
		c->entries[c->n_entries].exclude = exclude;
		c->n_entries++;
	}
	return 0;
}

/* Takes the configuration's word lists. The entry strings stay conf's
 * until classifier_new() returns; nothing keeps them after. */
static int
take_lists(struct classifier *c, const struct conf *conf)
{
	size_t i, j;

	if (conf->n_lists == 0)
		return 0;
	c->lists.v = calloc(conf->n_lists, sizeof(*c->lists.v));
	if (c->lists.v == NULL)
		return -ENOMEM;
	for (i = 0; i < conf->n_lists; i++) {
		const struct conf_list	*cl = &conf->lists[i];
		struct rule_list	*l = &c->lists.v[c->lists.n];
		const char		**e;

		l->name = strdup(cl->name.s);
		e = calloc(cl->entries.n ? cl->entries.n : 1, sizeof(*e));
		if (l->name == NULL || e == NULL) {
			free((char *)l->name);
			free(e);
			return -ENOMEM;
		}
		for (j = 0; j < cl->entries.n; j++)
			e[j] = cl->entries.v[j].s;
		l->entries = e;
		l->n = cl->entries.n;
		c->lists.n++;
	}
	c->rs.lists = &c->lists;
	return 0;
}

/* Where an error inside a list entry is in the file. */
static const struct conf_str *
list_entry_str(const struct conf *conf, const struct classifier *c,
    const struct rule_error *e)
{
	size_t i = (size_t)(e->list - c->lists.v);

	return &conf->lists[i].entries.v[e->entry];
}

/* Checks every list once, so that a mistake in a list is reported once, at
 * its place in the list, however many rules name it. */
static int
check_lists(struct classifier *c, const struct conf *conf,
    struct fw_errors *errs, bool *failed)
{
	struct fw_error	 seen[16];
	size_t		 n_seen = 0, i, k;

	for (i = 0; i < c->lists.n; i++) {
		struct rule_error	 rerr = { 0 };
		const struct conf_str	*cs;
		struct fw_error		 e;
		unsigned		 line, col;
		int			 r;

		r = rule_check_list(&c->rs, i, &rerr);
		if (r == -ENOMEM)
			return r;
		if (r == 0)
			continue;
		*failed = true;
		cs = list_entry_str(conf, c, &rerr);
		rule_position(cs, rerr.offset, &line, &col);
		fw_error_set(&e, conf->path, line, col, "list '%s': %s",
		    rerr.list->name, rerr.msg);
		/* A broken list is found again from every list that names
		 * it. */
		for (k = 0; k < n_seen; k++)
			if (seen[k].line == e.line && seen[k].col == e.col)
				break;
		if (k < n_seen)
			continue;
		if (n_seen < sizeof(seen) / sizeof(seen[0]))
			seen[n_seen++] = e;
		if (errs != NULL && fw_errors_add(errs, &e) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Sets the stemming language of the rules parsed next: the topic's, else
 * the configuration's, else English. */
static int
set_language(struct classifier *c, const struct conf *conf,
    const struct conf_topic *ct, struct fw_errors *errs, bool *failed)
{
	const struct conf_str	*cs = ct->language.s != NULL ? &ct->language :
	    conf->language.s != NULL ? &conf->language : NULL;
	struct fw_error		 e;
	char			 known[512];
	int			 r;

	r = rule_set_language(&c->rs, cs != NULL ? cs->s : "english");
	/* English is always there: only a configured language is unknown. */
	if (r != -EINVAL || cs == NULL)
		return r;
	stem_languages(known, sizeof(known));
	fw_error_set(&e, conf->path, cs->line, cs->col, "topic '%s': unknown "
	    "language '%s' (known: none, %s)", ct->name.s != NULL ?
	    ct->name.s : "", cs->s, known);
	*failed = true;
	if (errs != NULL && fw_errors_add(errs, &e) < 0)
		return -ENOMEM;
	return rule_set_language(&c->rs, "none");
}

struct trig_pair {
	uint32_t	 pattern;
	uint32_t	 entry;
};

struct trig_build {
	struct trig_pair	*v;
	size_t			 n;
	size_t			 cap;
	uint32_t		 entry;
	int			 err;
};

static void
trig_add(void *userdata, const struct rule_node *term)
{
	struct trig_build *tb = userdata;

	if (tb->err < 0)
		return;
	if (tb->n == tb->cap) {
		size_t			 ncap = tb->cap ? tb->cap * 2 : 64;
		struct trig_pair	*nv = reallocarray(tb->v, ncap,
		    sizeof(*nv));

		if (nv == NULL) {
			tb->err = -ENOMEM;
			return;
		}
		tb->v = nv;
		tb->cap = ncap;
	}
	tb->v[tb->n].pattern = term->pattern;
	tb->v[tb->n].entry = tb->entry;
	tb->n++;
}

static int
trig_cmp(const void *x, const void *y)
{
	const struct trig_pair *a = x, *b = y;

	if (a->pattern != b->pattern)
		return a->pattern < b->pattern ? -1 : 1;
	if (a->entry != b->entry)
		return a->entry < b->entry ? -1 : 1;
	return 0;
}

/* Builds the pattern → entries index. */
static int
build_triggers(struct classifier *c)
{
	struct trig_build	 tb = { 0 };
	size_t			 n_pat = rule_set_pattern_count(&c->rs), i, k = 0;
	int			 r = -ENOMEM;

	for (i = 0; i < c->n_entries; i++) {
		tb.entry = (uint32_t)i;
		rule_foreach_trigger_term(c->entries[i].expr, trig_add, &tb);
	}
	if (tb.err < 0)
		goto out;
	if (tb.n > 0)
		qsort(tb.v, tb.n, sizeof(*tb.v), trig_cmp);
	c->trig_off = calloc(n_pat + 1, sizeof(*c->trig_off));
	c->trig = reallocarray(NULL, tb.n ? tb.n : 1, sizeof(*c->trig));
	if (c->trig_off == NULL || c->trig == NULL)
		goto out;
	for (i = 0; i < tb.n; i++) {
		if (k > 0 && tb.v[i].pattern == tb.v[i - 1].pattern &&
		    tb.v[i].entry == tb.v[i - 1].entry)
			continue;
		c->trig[k++] = tb.v[i].entry;
		c->trig_off[tb.v[i].pattern + 1]++;
	}
	for (i = 0; i < n_pat; i++)
		c->trig_off[i + 1] += c->trig_off[i];
	r = 0;
out:
	free(tb.v);
	return r;
}

int
classifier_new(const struct conf *conf, struct classifier **ret,
    struct fw_errors *errs)
{
	struct classifier	*c;
	size_t			 i, j, n_rules = 0;
	bool			 failed = false;
	int			 r = -ENOMEM;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	if (rule_set_init(&c->rs) < 0)
		goto out;
	for (i = 0; i < conf->n_topics; i++)
		n_rules += conf->topics[i].terms.n + conf->topics[i].exclude.n;
	c->topics = calloc(conf->n_topics ? conf->n_topics : 1,
	    sizeof(*c->topics));
	c->entries = calloc(n_rules ? n_rules : 1, sizeof(*c->entries));
	if (c->topics == NULL || c->entries == NULL)
		goto out;
	if (take_lists(c, conf) < 0 || check_lists(c, conf, errs, &failed) < 0)
		goto out;
	for (i = 0; i < conf->n_topics; i++) {
		const struct conf_topic	*ct = &conf->topics[i];
		struct cl_topic		*t = &c->topics[i];

		c->n_topics++;
		t->name = strdup(ct->name.s != NULL ? ct->name.s : "");
		if (t->name == NULL)
			goto out;
		t->severity = ct->severity;
		if (ct->feeds.n > 0) {
			t->feeds = calloc(ct->feeds.n, sizeof(*t->feeds));
			if (t->feeds == NULL)
				goto out;
			for (j = 0; j < ct->feeds.n; j++) {
				t->feeds[j] = strdup(ct->feeds.v[j].s);
				if (t->feeds[j] == NULL)
					goto out;
				t->n_feeds++;
			}
		}
		r = set_language(c, conf, ct, errs, &failed);
		if (r < 0)
			goto out;
		r = add_entries(c, conf, (uint32_t)i, &ct->terms, false, errs,
		    &failed);
		if (r < 0)
			goto out;
		r = add_entries(c, conf, (uint32_t)i, &ct->exclude, true, errs,
		    &failed);
		if (r < 0)
			goto out;
		r = -ENOMEM;
	}
	if (failed) {
		r = -EINVAL;
		goto out;
	}
	if (rule_set_compile(&c->rs) < 0 || build_triggers(c) < 0)
		goto out;
	/* The lists' entries are conf's strings: keep nothing of them. */
	c->rs.lists = NULL;
	for (i = 0; i < c->lists.n; i++) {
		free((char *)c->lists.v[i].name);
		free((void *)c->lists.v[i].entries);
	}
	free(c->lists.v);
	memset(&c->lists, 0, sizeof(c->lists));
	*ret = c;
	c = NULL;
	r = 0;
out:
	classifier_free(c);
	return r;
}

/* Per-item work. */

struct hitvec {
	struct rule_hit	*v;
	size_t		 n;
	size_t		 cap;
};

struct scan {
	const struct classifier	*c;
	const struct rule_layer	*layer;
	const struct norm_text	*nt;		/* the text scanned */
	const struct norm_text	*surface;	/* the words as written */
	struct hitvec		*hv;
	uint32_t		 base;
	uint8_t			 field;
};

/* Bounds what one item can cost: further hits are dropped. */
#define CLASSIFY_MAX_HITS	65536

/* Are the words of tokens first..first+span of t the words v (or do they
 * begin with them, for a prefix)? */
static bool
surface_is(const struct norm_text *t, size_t first, uint32_t span,
    const char *v, bool prefix)
{
	size_t	 last = first + span, a, end, vlen = strlen(v);

	if (last >= t->n_tok)
		return false;
	a = t->tok[first];
	end = last + 1 < t->n_tok ? t->tok[last + 1] - 1 : t->len - 1;
	if (prefix)
		return end - a >= vlen && memcmp(t->s + a, v, vlen) == 0;
	return end - a == vlen && memcmp(t->s + a, v, vlen) == 0;
}

/* Records the patterns of one matcher id, pat the first of them, occurring
 * from token first on. */
static int
scan_add(struct scan *sc, uint32_t pat, size_t first)
{
	const struct rule_pattern_info	*info = sc->c->rs.info;
	struct hitvec			*hv = sc->hv;

	/* One matcher id can stand for several patterns: the stems alone,
	 * and exact forms or prefixes with those stems. */
	for (; pat != RULE_PATTERN_NONE; pat = info[pat].next) {
		const struct rule_pattern_info *pi = &info[pat];

		if (pi->verify != NULL && !surface_is(sc->surface, first,
		    pi->span, pi->verify, pi->verify_prefix))
			continue;
		if (hv->n >= CLASSIFY_MAX_HITS)
			return 1;
		if (hv->n == hv->cap) {
			size_t		 ncap = hv->cap ? hv->cap * 2 : 16;
			struct rule_hit	*nv = reallocarray(hv->v, ncap,
			    sizeof(*nv));

			if (nv == NULL)
				return -ENOMEM;
			hv->v = nv;
			hv->cap = ncap;
		}
		hv->v[hv->n].pattern = pat;
		hv->v[hv->n].first = sc->base + (uint32_t)first;
		hv->v[hv->n].last = sc->base + (uint32_t)first + pi->span;
		hv->v[hv->n].field = sc->field;
		hv->n++;
	}
	return 0;
}

static int
scan_word_hit(void *userdata, uint32_t id, size_t first)
{
	struct scan *sc = userdata;

	return scan_add(sc, sc->layer->word_ids.first[id], first);
}

/* The automaton holds the terms that begin inside a word: an occurrence
 * starts in the token where its first byte is. */
static int
scan_ac_hit(void *userdata, uint32_t id, size_t end)
{
	struct scan *sc = userdata;

	return scan_add(sc, sc->layer->ac_ids.first[id], norm_text_token_at(
	    sc->nt, end - ac_pattern_len(sc->layer->ac, id)));
}

static int
hit_cmp(const void *x, const void *y)
{
	const struct rule_hit *a = x, *b = y;

	if (a->pattern != b->pattern)
		return a->pattern < b->pattern ? -1 : 1;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return (int)a->field - (int)b->field;
}

/* Hits and candidates are few per item: insertion sort beats qsort()'s
 * set-up there. */
static void
sort_hits(struct rule_hit *v, size_t n)
{
	size_t i, j;

	if (n > 32) {
		qsort(v, n, sizeof(*v), hit_cmp);
		return;
	}
	for (i = 1; i < n; i++) {
		struct rule_hit x = v[i];

		for (j = i; j > 0 && hit_cmp(&v[j - 1], &x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static int
u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

static bool
topic_applies(const struct cl_topic *t, const struct conf_feed *feed)
{
	size_t	 i;
	bool	 ok;

	if (feed == NULL)
		return true;
	if (feed->topics.n > 0) {
		for (ok = false, i = 0; i < feed->topics.n && !ok; i++)
			ok = strcmp(feed->topics.v[i].s, t->name) == 0;
		if (!ok)
			return false;
	}
	if (t->n_feeds > 0) {
		for (ok = false, i = 0; i < t->n_feeds && !ok; i++)
			ok = (feed->name != NULL &&
			    strcmp(t->feeds[i], feed->name) == 0) ||
			    (feed->url != NULL &&
			    strcmp(t->feeds[i], feed->url) == 0);
		if (!ok)
			return false;
	}
	return true;
}

/* The item as the scan saw it, for explaining a match. */
struct item_text {
	const char		*fields[_RULE_FIELD_MAX];
	uint32_t		 base[_RULE_FIELD_MAX];	/* first token's position */
	struct norm_text	 norm[_RULE_FIELD_MAX];	/* the scanned text */
	bool			 have[_RULE_FIELD_MAX];	/* norm[] is made */
};

struct explain {
	struct classify_match	*m;
	struct item_text	*it;
	uint32_t		*pats;		/* pattern of each m->hits[] */
	size_t			 cap;
	int			 err;
};

/* The normalised words of the item that hit h covers; NULL when they read
 * as the term itself. */
static int
hit_surface(const struct item_text *it, const struct rule_node *term,
    const struct rule_hit *h, char **ret)
{
	const struct norm_text	*nt = &it->norm[h->field];
	size_t			 a, b, end;

	*ret = NULL;
	if (!it->have[h->field])
		return 0;
	a = h->first - it->base[h->field];
	b = h->last - it->base[h->field];
	if (b >= nt->n_tok || a > b)
		return 0;
	end = b + 1 < nt->n_tok ? nt->tok[b + 1] - 1 : nt->len - 1;
	if (end - nt->tok[a] == strlen(term->norm) &&
	    memcmp(nt->s + nt->tok[a], term->norm, end - nt->tok[a]) == 0)
		return 0;
	*ret = strndup(nt->s + nt->tok[a], end - nt->tok[a]);
	return *ret != NULL ? 0 : -ENOMEM;
}

/* Adds a witness term to the match, once per pattern and field: "cost-sharing"
 * and "cost sharing" are the same pattern and are listed once. */
static void
explain_term(void *userdata, const struct rule_node *term,
    const struct rule_hit *h)
{
	struct explain		*ex = userdata;
	struct classify_match	*m = ex->m;
	const char		*field;
	size_t			 i;

	if (ex->err < 0)
		return;
	field = rule_field_to_string(h->field);
	for (i = 0; i < m->n_hits; i++)
		if (m->hits[i].field == field && ex->pats[i] == term->pattern)
			return;
	if (m->n_hits == ex->cap) {
		size_t			 ncap = ex->cap ? ex->cap * 2 : 4;
		struct classify_hit	*nv = reallocarray(m->hits, ncap,
		    sizeof(*nv));
		uint32_t		*np;

		if (nv == NULL) {
			ex->err = -ENOMEM;
			return;
		}
		m->hits = nv;
		np = reallocarray(ex->pats, ncap, sizeof(*np));
		if (np == NULL) {
			ex->err = -ENOMEM;
			return;
		}
		ex->pats = np;
		ex->cap = ncap;
	}
	ex->pats[m->n_hits] = term->pattern;
	m->hits[m->n_hits].term = strdup(term->text);
	if (m->hits[m->n_hits].term == NULL) {
		ex->err = -ENOMEM;
		return;
	}
	ex->err = hit_surface(ex->it, term, h, &m->hits[m->n_hits].surface);
	if (ex->err < 0) {
		free(m->hits[m->n_hits].term);
		return;
	}
	m->hits[m->n_hits].field = field;
	m->n_hits++;
}

/* Evaluates topic ti given its candidate entries cand[0..n); appends a match
 * to ret when it matches. */
static int
eval_topic(const struct classifier *c, uint32_t ti, const uint32_t *cand,
    size_t n, const struct rule_hit *hits, size_t n_hits,
    struct item_text *it, struct classify_result *ret)
{
	struct explain		 ex = { .it = it };
	struct classify_match	*m;
	size_t			 i;
	bool			 any = false;
	int			 r;

	for (i = 0; i < n; i++) {
		const struct cl_entry *e = &c->entries[cand[i]];

		if (!e->exclude && !any) {
			r = rule_eval(e->expr, hits, n_hits);
			if (r < 0)
				return r;
			any = r > 0;
		} else if (e->exclude) {
			r = rule_eval(e->expr, hits, n_hits);
			if (r < 0)
				return r;
			if (r > 0 && any) {
				/* Terms come before excludes in a topic's
				 * entries, so any is final here. */
				ret->excluded[ret->n_excluded++] =
				    (struct classify_exclusion){ c->topics[ti].name, e->text };
			}
			if (r > 0)
				return 0;	/* excluded */
		}
	}
	if (!any)
		return 0;
	m = &ret->matches[ret->n_matches];
	memset(m, 0, sizeof(*m));
	m->topic = c->topics[ti].name;
	m->severity = c->topics[ti].severity;
	ret->n_matches++;
	ex.m = m;
	for (i = 0; i < n && ex.err == 0; i++) {
		const struct cl_entry *e = &c->entries[cand[i]];

		if (e->exclude)
			continue;
		r = rule_eval(e->expr, hits, n_hits);
		if (r > 0)
			r = rule_explain(e->expr, hits, n_hits, explain_term, &ex);
		if (r < 0) {
			free(ex.pats);
			return r;
		}
	}
	free(ex.pats);
	return ex.err;
}

int
classify_item(const struct classifier *c, const struct conf_feed *feed,
    const struct feed_item *item, struct classify_result *ret)
{
	struct classify_result	 res = { 0 };
	struct item_text	 it = { 0 };
	struct norm_text	 st;
	struct hitvec		 hv = { 0 };
	uint32_t		*cand = NULL;
	size_t			 n_cand = 0, cap_cand = 0, i, j, li;
	size_t			 n_topics;
	uint32_t		 base = 0;
	int			 r;

	it.fields[RULE_FIELD_TITLE] = item->title;
	it.fields[RULE_FIELD_SUMMARY] = item->summary;
	it.fields[RULE_FIELD_CONTENT] = item->content;
	/* Feeds often repeat the summary as content: scan it once. */
	if (item->content != NULL && item->summary != NULL &&
	    strcmp(item->content, item->summary) == 0)
		it.fields[RULE_FIELD_CONTENT] = NULL;

	norm_text_init(&st);
	for (i = 0; i < _RULE_FIELD_MAX; i++) {
		const char		*f = it.fields[i];
		struct norm_text	*nt;

		it.base[i] = base;
		if (f == NULL || f[0] == '\0')
			continue;
		/* Kept for explaining a match (hit_surface()). */
		nt = &it.norm[i];
		r = normalize_text(nt, f, strlen(f));
		if (r < 0)
			goto out;
		it.have[i] = true;
		/* Each layer's matchers over its text: the words as
		 * written (topics without stems), or their stems in one
		 * language. */
		for (li = 0; li < c->rs.n_layers; li++) {
			const struct rule_layer	*l = &c->rs.layers[li];
			struct scan		 sc = {
				.c = c, .layer = l, .nt = nt, .surface = nt,
				.hv = &hv, .base = base, .field = (uint8_t)i,
			};

			if (l->word_ids.n == 0 && l->ac_ids.n == 0)
				continue;
			if (l->stem != NULL) {
				r = stem_text(l->stem, nt, &st);
				if (r < 0)
					goto out;
				sc.nt = &st;
			}
			r = wordmatch_scan(l->words, sc.nt, scan_word_hit, &sc);
			if (r >= 0 && l->ac_ids.n > 0)
				r = ac_scan(l->ac, sc.nt->s, sc.nt->len,
				    scan_ac_hit, &sc);
			if (r < 0)
				goto out;
		}
		base += (uint32_t)nt->n_tok;
	}
	if (hv.n == 0)
		goto done;
	sort_hits(hv.v, hv.n);

	/* The entries the hits can make true. */
	for (i = 0; i < hv.n; i++) {
		uint32_t p = hv.v[i].pattern;

		if (i > 0 && hv.v[i - 1].pattern == p)
			continue;
		for (j = c->trig_off[p]; j < c->trig_off[p + 1]; j++) {
			if (n_cand == cap_cand) {
				size_t		 ncap = cap_cand ? cap_cand * 2 : 16;
				uint32_t	*nv = reallocarray(cand, ncap,
				    sizeof(*nv));

				if (nv == NULL) {
					r = -ENOMEM;
					goto out;
				}
				cand = nv;
				cap_cand = ncap;
			}
			cand[n_cand++] = c->trig[j];
		}
	}
	if (n_cand == 0)
		goto done;
	if (n_cand > 32) {
		qsort(cand, n_cand, sizeof(*cand), u32_cmp);
	} else {
		for (i = 1; i < n_cand; i++) {
			uint32_t x = cand[i];

			for (j = i; j > 0 && cand[j - 1] > x; j--)
				cand[j] = cand[j - 1];
			cand[j] = x;
		}
	}
	for (i = j = 0; i < n_cand; i++)
		if (j == 0 || cand[j - 1] != cand[i])
			cand[j++] = cand[i];
	n_cand = j;

	/* A topic gives one match or one exclusion at most: room for the
	 * candidates' topics, not for every topic. */
	for (i = 0, n_topics = 0; i < n_cand; i++)
		if (i == 0 || c->entries[cand[i]].topic !=
		    c->entries[cand[i - 1]].topic)
			n_topics++;
	res.matches = calloc(n_topics, sizeof(*res.matches));
	res.excluded = calloc(n_topics, sizeof(*res.excluded));
	if (res.matches == NULL || res.excluded == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* Entries are grouped by topic, so candidates are too. */
	for (i = 0; i < n_cand; i = j) {
		uint32_t ti = c->entries[cand[i]].topic;

		for (j = i; j < n_cand && c->entries[cand[j]].topic == ti; j++)
			;
		if (!topic_applies(&c->topics[ti], feed))
			continue;
		r = eval_topic(c, ti, cand + i, j - i, hv.v, hv.n, &it, &res);
		if (r < 0)
			goto out;
	}
done:
	*ret = res;
	res.matches = NULL;
	res.n_matches = 0;
	res.excluded = NULL;
	res.n_excluded = 0;
	r = 0;
out:
	classify_result_done(&res);
	free(cand);
	free(hv.v);
	norm_text_done(&st);
	for (i = 0; i < _RULE_FIELD_MAX; i++)
		norm_text_done(&it.norm[i]);
	return r;
}

void
classify_result_done(struct classify_result *r)
{
	size_t i, j;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_matches; i++) {
		for (j = 0; j < r->matches[i].n_hits; j++) {
			free(r->matches[i].hits[j].term);
			free(r->matches[i].hits[j].surface);
		}
		free(r->matches[i].hits);
	}
	free(r->matches);
	r->matches = NULL;
	r->n_matches = 0;
	free(r->excluded);
	r->excluded = NULL;
	r->n_excluded = 0;
}
