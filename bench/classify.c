/* bench/classify.c — throughput of the topic classifier, one core.
 *
 * Generates 100,000 news-like items (title + summary, one in ten in Korean)
 * and rule sets of 10, 1,000 and 10,000 terms (ten terms per topic: words,
 * phrases, prefixes, NEAR rules and Korean terms; a few per cent of them
 * occur in the text), then times classify_item() over every item with each
 * rule set and prints a table. Each rate is the best of three passes, in
 * CPU time, which filters out the noise of a busy machine. Run it with bench/classify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "conf.h"

#define N_ITEMS		100000
#define N_VOCAB		2000

static const char *const common[] = {
	"the", "a", "of", "to", "in", "and", "on", "for", "with", "said",
	"officials", "government", "minister", "president", "talks", "deal",
	"new", "year", "week", "after", "before", "over", "under", "as",
	"korea", "japan", "seoul", "tokyo", "washington", "united", "states",
	"troops", "forces", "tariffs", "trade", "exports", "drills", "exercise",
	"defense", "military", "alliance", "market", "shares", "company",
};

static const char *const korean[] = {
	"정부는", "미국과", "관세", "협상을", "주한미군", "병력", "한미", "연합훈련을",
	"실시했다", "밝혔다", "국방부는", "방위비", "분담금", "논의", "서울에서",
};

static unsigned long rng = 88172645463325252UL;

static unsigned long
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A pronounceable made-up word of 4 to 9 letters. */
static void
make_word(char *out)
{
	static const char cons[] = "bcdfghjklmnprstvwz", vow[] = "aeiou";
	int len = 4 + (int)(next_rand() % 6), i;

	for (i = 0; i < len; i++)
		out[i] = i % 2 ? vow[next_rand() % 5] : cons[next_rand() % 18];
	out[len] = '\0';
}

static char vocab[N_VOCAB][12];

static const char *
text_word(void)
{
	unsigned long r = next_rand() % 100;

	if (r < 45)
		return common[next_rand() % (sizeof(common) / sizeof(common[0]))];
	return vocab[next_rand() % N_VOCAB];
}

static char *
make_text(int words, int korean_item)
{
	char	*s = malloc((size_t)words * 24 + 1);
	size_t	 len = 0;
	int	 i;

	for (i = 0; i < words; i++) {
		const char *w = korean_item ?
		    korean[next_rand() % (sizeof(korean) / sizeof(korean[0]))] :
		    text_word();

		len += (size_t)sprintf(s + len, "%s%s", i ? " " : "", w);
	}
	return s;
}

/* One rule term: mostly made-up words the text never contains; about one
 * in twenty uses the text's vocabulary. */
static char *
make_term(int i)
{
	char	 w1[12], w2[12], *s = NULL;
	int	 kind = i % 10, r = 0;

	make_word(w1);
	make_word(w2);
	if (next_rand() % 20 == 0) {
		snprintf(w1, sizeof(w1), "%s", vocab[next_rand() % N_VOCAB]);
		snprintf(w2, sizeof(w2), "%s", vocab[next_rand() % N_VOCAB]);
	}
	switch (kind) {
	case 0: case 1: case 2: case 3:
		r = asprintf(&s, "%s", w1);
		break;
	case 4: case 5:
		r = asprintf(&s, "\"%s %s\"", w1, w2);
		break;
	case 6:
		r = asprintf(&s, "%s*", w1);
		break;
	case 7:
		r = asprintf(&s, "%s NEAR/5 (korea OR japan OR %s)", w1, w2);
		break;
	case 8:
		r = asprintf(&s, "%s AND NOT %s", w1, w2);
		break;
	default:
		r = asprintf(&s, "%s%s", korean[next_rand() % 15], w1);
		break;
	}
	return r < 0 ? NULL : s;
}

static struct conf *
make_conf(int n_terms)
{
	struct conf	*c = calloc(1, sizeof(*c));
	int		 n_topics = (n_terms + 9) / 10, t, k;

	c->path = strdup("bench");
	c->topics = calloc((size_t)n_topics, sizeof(*c->topics));
	c->n_topics = (size_t)n_topics;
	for (t = 0; t < n_topics; t++) {
		struct conf_topic *ct = &c->topics[t];

		if (asprintf(&ct->name.s, "topic%d", t) < 0)
			abort();
		ct->terms.v = calloc(10, sizeof(*ct->terms.v));
		for (k = 0; k < 10 && t * 10 + k < n_terms; k++)
			ct->terms.v[ct->terms.n++].s = make_term(k);
	}
	/* Topic 0 also has real words, so some items match. */
	free(c->topics[0].terms.v[0].s);
	c->topics[0].terms.v[0].s = strdup("troops NEAR/3 (korea OR japan)");
	return c;
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The passes are timed in this thread's CPU time: the rate of one core,
 * which another busy process on the machine does not change. */
static double
cpu_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static const int	 sizes[] = { 10, 1000, 10000 };
	struct feed_item	*items = calloc(N_ITEMS, sizeof(*items));
	double			 rate[3];
	size_t			 i, bytes = 0;
	int			 s;

	for (i = 0; i < N_VOCAB; i++)
		make_word(vocab[i]);
	for (i = 0; i < N_ITEMS; i++) {
		int ko = i % 10 == 9;

		items[i].id = (char *)"x";
		items[i].title = make_text(8 + (int)(next_rand() % 6), ko);
		items[i].summary = make_text(20 + (int)(next_rand() % 20), ko);
		bytes += strlen(items[i].title) + strlen(items[i].summary);
	}
	printf("%zu items, %.0f bytes of title+summary on average, one core\n\n",
	    (size_t)N_ITEMS, (double)bytes / N_ITEMS);
	printf("%8s %8s %11s %12s %14s %10s\n", "terms", "topics", "compile ms",
	    "items/s", "ns/item", "matched");
	for (s = 0; s < 3; s++) {
		struct conf		*conf = make_conf(sizes[s]);
		struct classifier	*cls = NULL;
		struct fw_errors	 errs = { 0 };
		size_t			 matched = 0;
		double			 t0, t1, t2, best = 0, compile_ms;
		int			 pass;

		t0 = now_sec();
		if (classifier_new(conf, &cls, &errs) < 0) {
			fprintf(stderr, "bench: cannot compile %d terms: %s\n",
			    sizes[s], errs.n ? errs.v[0].msg : "out of memory");
			return 1;
		}
		compile_ms = (now_sec() - t0) * 1e3;
		for (pass = 0; pass < 3; pass++) {
			matched = 0;
			t1 = cpu_sec();
			for (i = 0; i < N_ITEMS; i++) {
				struct classify_result res;

				if (classify_item(cls, NULL, &items[i], &res) < 0)
					return 1;
				matched += res.n_matches > 0;
				classify_result_done(&res);
			}
			t2 = cpu_sec();
			if (t2 - t1 < best || best == 0)
				best = t2 - t1;
		}
		rate[s] = N_ITEMS / best;
		printf("%8d %8zu %11.1f %12.0f %14.0f %10zu\n", sizes[s],
		    conf->n_topics, compile_ms, rate[s], best * 1e9 / N_ITEMS,
		    matched);
		classifier_free(cls);
		conf_free(conf);
		fw_errors_done(&errs);
	}
	printf("\n10,000-term rate / 10-term rate: %.2f\n", rate[2] / rate[0]);
	for (i = 0; i < N_ITEMS; i++) {
		free(items[i].title);
		free(items[i].summary);
	}
	free(items);
	(void)argc;
	(void)argv;
	return 0;
}
