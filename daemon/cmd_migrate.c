/* cmd_migrate.c — `feedwatch migrate-state --from SRC --to DST`: a whole
 * state copied from a SQLite file into a PostgreSQL database (to share it
 * between instances) or back, then the rows of every table counted on
 * both sides. Run it with the instances stopped. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "store.h"

int
cmd_migrate_state(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct store	*from = NULL, *to = NULL;
	struct fw_error	 e;
	const char	*src = NULL, *dst = NULL;
	int64_t		 n_from[STORE_COPY_TABLES], n_to[STORE_COPY_TABLES];
	int		 c, r = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'f')
			src = optarg;
		else if (c == 't')
			dst = optarg;
		else
			return 2;
	}
	if (src == NULL || dst == NULL || optind < argc) {
		fprintf(stderr, "usage: feedwatch migrate-state --from STATE --to STATE\n"
		    "(a SQLite file, a postgresql:// URI or a libpq keyword string)\n");
		return 2;
	}
	if (strcmp(src, dst) == 0) {
		fprintf(stderr, "feedwatch migrate-state: --from and --to are the same state\n");
		return 2;
	}
	if (store_open(src, &from, &e) < 0 || store_open(dst, &to, &e) < 0) {
		fw_error_print(stderr, &e);
		goto out;
	}
	if (store_copy(from, to, n_from, n_to, &e) < 0) {
		fw_error_print(stderr, &e);
		fprintf(stderr, "feedwatch migrate-state: nothing was copied\n");
		goto out;
	}
	r = 0;
	printf("%-14s %12s %12s\n", "TABLE", "FROM", "TO");
	for (size_t i = 0; store_copy_table_name(i) != NULL; i++) {
		printf("%-14s %12" PRId64 " %12" PRId64 "%s\n", store_copy_table_name(i),
		    n_from[i], n_to[i], n_from[i] == n_to[i] ? "" : "  MISMATCH");
		if (n_from[i] != n_to[i])
			r = 1;
	}
	if (r == 0)
		printf("copied %s to %s: every count matches\n", store_label(from),
		    store_label(to));
	else
		fprintf(stderr, "feedwatch migrate-state: the counts differ (was an instance "
		    "writing to the source?)\n");
out:
	store_close(from);
	store_close(to);
	return r;
}
