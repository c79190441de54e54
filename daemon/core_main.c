/* core_main.c — the entry point of feedwatch-core, the executable main.c
 * hands every command but `parse` of a file to: verb dispatch, nothing
 * else. The verbs live in cmd_*.c and pipeline.c/daemon.c, so `once`, `run`
 * and the dry-run verbs share the code the daemon uses. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "cmd.h"
#include "fetch.h"
#include "log.h"

static const struct {
	const char	*name;
	int		(*fn)(int argc, char **argv);
} verbs[] = {
	{ "parse", cmd_parse },
	{ "classify", cmd_classify },
	{ "once", cmd_once },
	{ "run", cmd_run },
	{ "check-config", cmd_check_config },
	{ "status", cmd_status },
	{ "alerts", cmd_alerts },
	{ "import-opml", cmd_import_opml },
	{ "export-opml", cmd_export_opml },
	{ "discover", cmd_discover },
	{ "add", cmd_add },
	{ "remove", cmd_remove },
};

/* argv is the whole command line main.c was given; argv[1] is a verb it has
 * already recognised (help, version and usage errors stay in main.c). */
int
main(int argc, char **argv)
{
	int r;

	if (argc < 2) {
		fprintf(stderr, "feedwatch-core: run by feedwatch, not directly\n");
		return 2;
	}
	log_init();
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].name) != 0)
			continue;
		if (fetch_global_init() < 0) {
			log_errx("cannot initialise libcurl");
			return 1;
		}
		r = verbs[i].fn(argc - 1, argv + 1);
		fetch_global_cleanup();
		return r;
	}
	log_errx("unknown command '%s'", argv[1]);
	return 2;
}
