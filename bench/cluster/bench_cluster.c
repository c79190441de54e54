/* bench/cluster/bench_cluster.c — time per item to find its development.
 *
 * Fills a state file with synthetic stories through cluster_add() itself
 * (with a one-hour window while filling, so that a million stories are
 * stored in minutes; the rows and the index are the same), at a steady rate (RATE per hour, so the 72 h window always holds the
 * same number of stories, as in a deployment with a steady flow), in
 * events of one to six rewrites that share a few words and a figure, with
 * one in ten items in Korean. At 10^4, 10^5 and 10^6 stored stories it
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

#include "cluster.h"
#include "store.h"

#define RATE		100	/* stories per hour */
#define PROBES		2000
#define N_VOCAB		20000
#define BATCH		5000	/* stories per transaction while filling */

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

int
main(int argc, char **argv)
{
	static const size_t	 sizes[] = { 10000, 100000, 1000000 };
	const char		*path = argc > 1 ? argv[1] : "bench-cluster.db";
	size_t			 max = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	struct cluster_opts	 o, fill_o;
	struct store		*s;
	struct store_feed	 f[8];
	struct fw_error		 e;
	struct event		 ev[8] = { 0 };
	double			*lat;
	size_t			 n = 0;
	int64_t			 t0 = 1700000000;

	make_vocab();
	cluster_opts_default(&o);
	fill_o = o;
	fill_o.window = 3600;
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
	}
	lat = calloc(PROBES, sizeof(*lat));
	printf("stored      median/item   mean/item   (window %lld h, %d stories/h)\n",
	    (long long)o.window / 3600, RATE);
	for (size_t k = 0; k < 3 && sizes[k] <= max; k++) {
		double	 sum = 0, fill = now_s();

		while (n < sizes[k]) {
			if (store_begin(s, &e) < 0)
				return 1;
			for (size_t b = 0; b < BATCH && n < sizes[k]; b++, n++)
				if (add_one(s, &fill_o, f[n % 8].id, n, &ev[n % 8], t0) < 0)
					return 1;
			if (store_commit(s, &e) < 0)
				return 1;
		}
		fill = now_s() - fill;
		if (store_begin(s, &e) < 0)
			return 1;
		for (size_t i = 0; i < PROBES; i++) {
			double t = now_s();

			if (add_one(s, &o, f[i % 8].id, n + i, &ev[i % 8], t0) < 0)
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
