/* main.c — the feedwatch executable: help, version and usage errors, then
 * one of the verbs. The verbs live in cmd_*.c and pipeline.c/daemon.c, so
 * `once`, `run` and the dry-run verbs share the code the daemon uses, and
 * `feedwatch parse` reads a feed exactly as the daemon does. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "cmd.h"
#include "fetch.h"
#include "log.h"

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: feedwatch COMMAND [OPTIONS]\n"
"\n"
"Watch RSS/Atom/JSON feeds, remember what was seen, classify items against\n"
"topic rules and deliver alerts.\n"
"\n"
"Commands:\n"
"  parse [--json] SOURCE            parse one feed (path, - for stdin, or URL)\n"
"  classify -c CONFIG [--json] SOURCE\n"
"                                   dry-run the topic rules over one feed\n"
"                                   (SOURCE: a path, -, a URL or a feed's name)\n"
"  classify --stored -c CONFIG [--since 7d] [--json]\n"
"                                   run the rules over items in the state database\n"
"  once -c CONFIG                   poll every feed once, deliver alerts, exit\n"
"  run -c CONFIG                    the daemon: poll each feed on its interval\n"
"                                   until SIGTERM/SIGINT (SIGHUP reloads)\n"
"  check-config -c CONFIG           validate the configuration\n"
"  status -c CONFIG [--json]        every feed: last poll, errors, next poll\n"
"  alerts -c CONFIG [--failed] [--retry ID|all] [--json]\n"
"                                   recent alerts and their delivery state\n"
"  developments -c CONFIG [--since 3d] [--topic T] [--json] [--explain ID]\n"
"                                   recent developments: the items that report\n"
"                                   one event, grouped (one alert each)\n"
"  import-opml -c CONFIG FILE       add the feeds of another reader's OPML export\n"
"                                   as one file in the config directory (feeds.d)\n"
"  export-opml -c CONFIG            print the configured feeds as OPML 2.0\n"
"  discover [--json] URL            the feeds a web page advertises, each checked\n"
"  add -c CONFIG [--name NAME] [--topics a,b] [--interval 10m] [--dry-run] URL...\n"
"                                   check a feed (or a page's), dry-run the rules,\n"
"                                   write it to the config directory (feeds.d)\n"
"  remove -c CONFIG URL|NAME        remove a feed added there\n"
"  migrate-state --from STATE --to STATE\n"
"                                   copy a whole state between a SQLite file and\n"
"                                   a PostgreSQL database; counts checked\n"
"\n"
"Options:\n"
"  -c, --config FILE   configuration file (default " FW_DEFAULT_CONFIG ")\n"
"  --log-level LEVEL   err, warning, notice, info (default) or debug\n"
"  -h, --help          show this help\n"
"  -V, --version       show the version\n"
"\n"
"Exit status: 0 on success; 1 on a config, state or input error; 2 on a\n"
"usage error.\n"
"See feedwatch(1) and feedwatch.yaml(5).\n");
}

/* own_net: the verb initialises libcurl itself, only when it fetches.
 * curl_global_init() sets up OpenSSL (its configuration file, its
 * algorithm tables) and costs milliseconds that `parse` of a file never
 * needs; the other verbs may fetch or deliver, and get it before they
 * start threads. */
static const struct {
	const char	*name;
	int		(*fn)(int argc, char **argv);
	bool		 own_net;
} verbs[] = {
	{ "parse", cmd_parse, true },
	{ "classify", cmd_classify, false },
	{ "once", cmd_once, false },
	{ "run", cmd_run, false },
	{ "check-config", cmd_check_config, false },
	{ "status", cmd_status, false },
	{ "alerts", cmd_alerts, false },
	{ "developments", cmd_developments, false },
	{ "import-opml", cmd_import_opml, false },
	{ "export-opml", cmd_export_opml, false },
	{ "discover", cmd_discover, false },
	{ "add", cmd_add, false },
	{ "remove", cmd_remove, false },
	{ "migrate-state", cmd_migrate_state, false },
};

int
main(int argc, char **argv)
{
	int r;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("feedwatch %s\n", FW_VERSION);
		return 0;
	}
	log_init();
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].name) != 0)
			continue;
		if (verbs[i].own_net)
			return verbs[i].fn(argc - 1, argv + 1);
		if (fetch_global_init() < 0) {
			log_errx("cannot initialise libcurl");
			return 1;
		}
		r = verbs[i].fn(argc - 1, argv + 1);
		fetch_global_cleanup();
		return r;
	}
	fprintf(stderr, "feedwatch: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
