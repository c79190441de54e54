/* fuzz_rules.c — libFuzzer target for the topic rule compiler and matcher.
 *
 * The input is read as lines, with no YAML in between:
 *   - each line is a term of the current topic (a leading '!' makes it an
 *     exclude term);
 *   - an empty line starts the next topic;
 *   - a line "---" ends the rules: what follows is an item, its first line
 *     the title and the rest the summary. Without it, a fixed item is used.
 * The rules are compiled with classifier_new() over a struct conf built
 * here; when they compile, the item is classified. Rule errors must come
 * back as "file:line:col: message", never as a crash or a leak. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "conf.h"
#include "error.h"
#include "feedwatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bounds so one input stays cheap; the compiler has its own limits too. */
#define FUZZ_MAX_TOPICS	16
#define FUZZ_MAX_TERMS	64

static const char fixed_title[] =
    "US and South Korea sign special measures agreement on troop costs";
static const char fixed_summary[] =
    "Seoul agreed to pay more for the 28,500 US Forces Korea troops; joint "
    "drills (Ulchi Freedom Shield) resume next month. Tariffs on steel and "
    "cars were not part of the talks. Caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d "
    "text, \xed\x95\x9c\xea\xb5\xad\xec\x96\xb4, co-operation, pre-emptive.";

static bool
strlist_push(struct conf_strlist *l, const char *s, size_t len, unsigned line)
{
	struct conf_str *v;

	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL)
		return false;
	l->v = v;
	v[l->n].s = strndup(s, len);
	if (v[l->n].s == NULL)
		return false;
	v[l->n].line = line;
	v[l->n].col = 1;
	v[l->n].quoted = false;
	l->n++;
	return true;
}

static void
topics_free(struct conf_topic *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].name.s);
		for (size_t j = 0; j < t[i].terms.n; j++)
			free(t[i].terms.v[j].s);
		free(t[i].terms.v);
		for (size_t j = 0; j < t[i].exclude.n; j++)
			free(t[i].exclude.v[j].s);
		free(t[i].exclude.v);
	}
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf		 conf = { .path = (char *)"fuzz.yaml" };
	struct conf_topic	*topics;
	struct fw_errors	 errs = { 0 };
	struct classifier	*cl = NULL;
	struct classify_result	 res = { 0 };
	struct feed_item	 item = {
		.id = (char *)"fuzz",
		.title = (char *)fixed_title,
		.summary = (char *)fixed_summary,
		.published = FW_TIME_NONE,
		.updated = FW_TIME_NONE,
	};
	const char		*p = (const char *)data, *end = p + size;
	char			*title = NULL, *summary = NULL, msg[2048];
	unsigned		 lineno = 0;
	size_t			 n_terms = 0;

	topics = calloc(FUZZ_MAX_TOPICS, sizeof(*topics));
	if (topics == NULL)
		return 0;
	conf.topics = topics;
	conf.n_topics = 1;
	while (p < end) {
		const char	*nl = memchr(p, '\n', (size_t)(end - p));
		size_t		 len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		const char	*next = nl != NULL ? nl + 1 : end;
		struct conf_topic *t = &topics[conf.n_topics - 1];

		lineno++;
		if (len == 3 && memcmp(p, "---", 3) == 0) {
			const char *tnl = memchr(next, '\n', (size_t)(end - next));
			size_t tlen = tnl != NULL ? (size_t)(tnl - next) : (size_t)(end - next);

			title = strndup(next, tlen);
			summary = tnl != NULL ? strndup(tnl + 1, (size_t)(end - tnl - 1)) : NULL;
			item.title = title;
			item.summary = summary;
			break;
		}
		if (len == 0) {
			if (conf.n_topics == FUZZ_MAX_TOPICS)
				break;
			conf.n_topics++;
		} else if (n_terms < FUZZ_MAX_TERMS) {
			bool ok = p[0] == '!' ?
			    strlist_push(&t->exclude, p + 1, len - 1, lineno) :
			    strlist_push(&t->terms, p, len, lineno);

			if (!ok)
				goto out;
			n_terms++;
		}
		p = next;
	}
	for (size_t i = 0; i < conf.n_topics; i++) {
		char name[32];

		(void)snprintf(name, sizeof(name), "t%zu", i);
		topics[i].name.s = strdup(name);
		if (topics[i].name.s == NULL)
			goto out;
		topics[i].severity = (enum severity)(i % _SEVERITY_MAX);
	}

	if (classifier_new(&conf, &cl, &errs) == 0) {
		if (classify_item(cl, NULL, &item, &res) == 0)
			classify_result_done(&res);
		cl = classifier_free(cl);
	}
	for (size_t i = 0; i < errs.n; i++)
		(void)fw_error_format(&errs.v[i], msg, sizeof(msg));
out:
	fw_errors_done(&errs);
	topics_free(topics, conf.n_topics);
	free(title);
	free(summary);
	return 0;
}
