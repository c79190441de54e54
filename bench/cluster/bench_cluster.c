/* bench/cluster/bench_cluster.c — time per item to find its development.
 *
 * Fills a state file with synthetic stories at a steady rate (RATE per hour, so the 72 h window always holds the
 * same number of stories, as in a deployment with a steady flow), in
 * events of one to six rewrites that share a few words and a figure, with
 * one in ten items in Korean. The first FILL_BY_CLUSTER stories go through
 * cluster_add() itself; the rest are written straight into the same
 * tables (stories, story_terms, term_df, developments) with the features
 * cluster_features_build() gives, in large transactions with a large page
 * cache, so that a million stories are stored in minutes rather than
 * hours: the probes only read them. Stories more than two windows older
 * than the newest are written out of the term index, as cluster_add()
 * leaves them. At 10^4, 10^5 and 10^6 stored stories it
 * times PROBES more items placed right after the newest, each inside a
 * transaction that is rolled back (so the probes do not change the file),
 * and prints the median and mean per item. The work must not grow with the
 * number of stored stories: the lookups read the inverted index by term
 * and time, restricted to the window. Run it with bench/cluster/run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "cluster.h"
#include "store.h"

#define RATE		100	/* stories per hour */
#define PROBES		2000
#define N_VOCAB		20000
#define BATCH		5000	/* stories per transaction while filling */
#define FILL_BY_CLUSTER	2000

static char	vocab[N_VOCAB][12];
static unsigned	seed = 12345;

static unsigned
rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 8) & 0xffffff;
}

/* Zipf-like: small indices much more often. */
static const char *
word(void)
{
	double u = (rnd() + 1.0) / 16777217.0;

	return vocab[(size_t)(pow(u, 3.0) * (N_VOCAB - 1))];
}

static void
make_vocab(void)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz";

	for (size_t i = 0; i < N_VOCAB; i++) {
		size_t	len = 4 + i % 6;
		size_t	v = i * 2654435761u;

		for (size_t j = 0; j < len; j++) {
			vocab[i][j] = letters[v % 26];
			v = v / 26 + i + j;
		}
		vocab[i][len] = '\0';
	}
}

struct event {
	char	key[4][12];
	int	figure;
	int	left;
};

static void
make_item(struct event *ev, size_t n, char *title, size_t tsize, char *summary, size_t ssize)
{
	if (ev->left <= 0) {
		for (int i = 0; i < 4; i++)
			snprintf(ev->key[i], sizeof(ev->key[i]), "%s", word());
		ev->figure = (int)(rnd() % 900 + 100);
		ev->left = (int)(rnd() % 6 + 1);
	}
	ev->left--;
	if (n % 10 == 0)
		snprintf(title, tsize, "한미 %s 협상 %d억원 %s 타결 %zu", ev->key[0], ev->figure,
		    ev->key[1], n % 97);
	else
		snprintf(title, tsize, "%s %s %s %s %s %s with %d troops", word(), ev->key[0],
		    word(), ev->key[1], ev->key[2], word(), ev->figure);
	snprintf(summary, ssize, "The %s %s %s said %s %s %s on %s.", ev->key[3], word(),
	    word(), word(), ev->key[0], word(), word());
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
add_one(struct store *s, const struct cluster_opts *o, int64_t feed_id, size_t n,
    struct event *ev, int64_t t0)
{
	struct cluster_result	 r;
	struct fw_error		 e;
	char			 title[256], summary[512], id[32];
	struct feed_item	 it = { .id = id, .title = title, .summary = summary,
	    .updated = FW_TIME_NONE };
	const char		*topics[1] = { "t" };
	int64_t			 t = t0 + (int64_t)n * 3600 / RATE;
	int			 rc;

	make_item(ev, n, title, sizeof(title), summary, sizeof(summary));
	snprintf(id, sizeof(id), "i%zu", n);
	it.published = t;
	rc = cluster_add(s, o, feed_id, "f", &it, NULL, topics, 1, t, t, &r, &e);
	if (rc < 0) {
		fprintf(stderr, "cluster_add: %s\n", e.msg);
		return rc;
	}
	cluster_result_done(&r);
	return 0;
}

/* Writes stories [from, to) straight into the tables, as cluster_add()
 * would have (one development per event of the feed). */
static int
bulk_fill(const char *path, size_t from, size_t to, struct event *ev, int64_t t0,
    const int64_t *feed_ids, int64_t *dev_of_feed)
{
	sqlite3		*db;
	sqlite3_stmt	*ins_story, *ins_term, *ins_dev, *upd_df;
	int		 rc = 0;
	int64_t		 t_end = t0 + (int64_t)to * 3600 / RATE;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	sqlite3_exec(db, "PRAGMA cache_size = -400000; PRAGMA synchronous = OFF; BEGIN", NULL,
	    NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO stories(feed_id, item_id, t, first_seen, development,"
	    " topics, features, indexed) VALUES (?1, ?2, ?3, ?3, ?4, '[\"t\"]', ?5, ?6)", -1,
	    &ins_story, NULL);
	sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO story_terms(term, t, story) VALUES (?1, ?2, ?3)",
	    -1, &ins_term, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO developments(key, first_t, last_t, first_seen, last_seen)"
	    " VALUES (?1, ?2, ?2, ?2, ?2)", -1, &ins_dev, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO term_df(term, df) VALUES (?1, 1)"
	    " ON CONFLICT(term) DO UPDATE SET df = df + 1", -1, &upd_df, NULL);
	for (size_t n = from; n < to && rc == 0; n++) {
		struct cluster_features	 f;
		char			 title[256], summary[512], id[32], key[40], *feat, *w;
		int64_t			 t = t0 + (int64_t)n * 3600 / RATE;
		size_t			 k = n % 8, cap;
		bool			 new_event = ev[k].left <= 0;
		/* As the daemon would have left them: stories seen more than
		 * two windows before the newest are out of the term index. */
		int			 indexed = t >= t_end - 2 * 72 * 3600;

		make_item(&ev[k], n, title, sizeof(title), summary, sizeof(summary));
		if (cluster_features_build(title, summary, &f) < 0)
			return -1;
		if (new_event || dev_of_feed[k] == 0) {
			snprintf(key, sizeof(key), "bench%zu", n);
			sqlite3_reset(ins_dev);
			sqlite3_bind_text(ins_dev, 1, key, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(ins_dev, 2, t);
			sqlite3_step(ins_dev);
			dev_of_feed[k] = sqlite3_last_insert_rowid(db);
		}
		cap = 16 + f.n_terms * 120;
		feat = w = calloc(1, cap);
		if (feat == NULL)
			return -1;
		w += snprintf(w, cap, "%d\n", (int)f.stage);
		for (size_t i = 0; i < f.n_terms; i++)
			w += snprintf(w, cap - (size_t)(w - feat), "%s\t%.4f\n", f.terms[i].term,
			    f.terms[i].weight);
		snprintf(id, sizeof(id), "i%zu", n);
		sqlite3_reset(ins_story);
		sqlite3_bind_int64(ins_story, 1, feed_ids[k]);
		sqlite3_bind_text(ins_story, 2, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins_story, 3, t);
		sqlite3_bind_int64(ins_story, 4, dev_of_feed[k]);
		sqlite3_bind_text(ins_story, 5, feat, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(ins_story, 6, indexed);
		if (sqlite3_step(ins_story) != SQLITE_DONE)
			rc = -1;
		for (size_t i = 0; i <= f.n_terms && rc == 0; i++) {
			const char *term = i < f.n_terms ? f.terms[i].term : "";

			sqlite3_reset(upd_df);
			sqlite3_bind_text(upd_df, 1, term, -1, SQLITE_TRANSIENT);
			sqlite3_step(upd_df);
			if (i == f.n_terms || !indexed)
				break;
			sqlite3_reset(ins_term);
			sqlite3_bind_text(ins_term, 1, term, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(ins_term, 2, t);
			sqlite3_bind_int64(ins_term, 3, sqlite3_last_insert_rowid(db));
			sqlite3_step(ins_term);
		}
		free(feat);
		cluster_features_done(&f);
		if ((n + 1) % 100000 == 0)
			sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_finalize(ins_story);
	sqlite3_finalize(ins_term);
	sqlite3_finalize(ins_dev);
	sqlite3_finalize(upd_df);
	sqlite3_close(db);
	return rc;
}

int
main(int argc, char **argv)
{
	static const size_t	 sizes[] = { 10000, 100000, 1000000 };
	const char		*path = argc > 1 ? argv[1] : "bench-cluster.db";
	size_t			 max = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	struct cluster_opts	 o;
	int64_t			 feed_ids[8], dev_of_feed[8] = { 0 };
	struct store		*s;
	struct store_feed	 f[8];
	struct fw_error		 e;
	struct event		 ev[8] = { 0 };
	double			*lat;
	size_t			 n = 0;
	int64_t			 t0 = 1700000000;

	make_vocab();
	cluster_opts_default(&o);
	(void)remove(path);
	if (store_open(path, &s, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	for (int i = 0; i < 8; i++) {
		char url[32];

		snprintf(url, sizeof(url), "http://feed%d/", i);
		if (store_feed_get(s, url, &f[i], &e) < 0)
			return 1;
		feed_ids[i] = f[i].id;
	}
	lat = calloc(PROBES, sizeof(*lat));
	printf("stored      median/item   mean/item   (window %lld h, %d stories/h)\n",
	    (long long)o.window / 3600, RATE);
	for (size_t k = 0; k < 3 && sizes[k] <= max; k++) {
		double	 sum = 0, fill = now_s();

		while (n < sizes[k] && n < FILL_BY_CLUSTER) {
			if (store_begin(s, &e) < 0)
				return 1;
			for (size_t b = 0; b < BATCH && n < sizes[k] && n < FILL_BY_CLUSTER; b++, n++)
				if (add_one(s, &o, f[n % 8].id, n, &ev[n % 8], t0) < 0)
					return 1;
			if (store_commit(s, &e) < 0)
				return 1;
		}
		if (n < sizes[k]) {
			/* The bulk writer has the file to itself meanwhile. */
			s = store_close(s);
			if (bulk_fill(path, n, sizes[k], ev, t0, feed_ids, dev_of_feed) < 0) {
				fprintf(stderr, "cannot fill %s\n", path);
				return 1;
			}
			n = sizes[k];
			if (store_open(path, &s, &e) < 0) {
				fprintf(stderr, "%s\n", e.msg);
				return 1;
			}
		}
		fill = now_s() - fill;
		if (store_begin(s, &e) < 0)
			return 1;
		for (size_t i = 0; i < PROBES; i++) {
			double t = now_s();

			if (add_one(s, &o, feed_ids[i % 8], n + i, &ev[i % 8], t0) < 0)
				return 1;
			lat[i] = now_s() - t;
			sum += lat[i];
		}
		store_rollback(s);
		qsort(lat, PROBES, sizeof(*lat), cmp_double);
		printf("%-10zu  %8.1f us   %8.1f us   (filled in %.0f s)\n", n,
		    lat[PROBES / 2] * 1e6, sum / PROBES * 1e6, fill);
		fflush(stdout);
	}
	free(lat);
	for (int i = 0; i < 8; i++)
		store_feed_done(&f[i]);
	store_close(s);
	(void)remove(path);
	return 0;
}
