/* main.c — the feedwatch executable: help, version, usage errors and
 * `parse` of a file or standard input run here; every other command runs in
 * feedwatch-core, which this process replaces itself with (execv) only then.
 *
 * Why two pieces: `feedwatch parse` is run once per file by scripts, so its
 * start-up is paid per feed. Linked with libcurl, OpenSSL, libmicrohttpd,
 * libsystemd and SQLite, the dynamic loader relocated about 50 libraries
 * before main() (6 ms); this executable holds only the parser and is linked
 * statically where the archives are there (see daemon/meson.build), so it
 * starts in about 0.7 ms. feedwatch-core holds the same parser code for the
 * daemon, so a feed parses the same in both. execv keeps the process id, so
 * systemd sees the daemon it started. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cmd.h"

#define CORE_NAME	"feedwatch-core"

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
"  import-opml -c CONFIG FILE       add the feeds of another reader's OPML export\n"
"                                   as one file in the config directory (feeds.d)\n"
"  export-opml -c CONFIG            print the configured feeds as OPML 2.0\n"
"  discover [--json] URL            the feeds a web page advertises, each checked\n"
"  add -c CONFIG [--name NAME] [--topics a,b] [--interval 10m] [--dry-run] URL...\n"
"                                   check a feed (or a page's), dry-run the rules,\n"
"                                   write it to the config directory (feeds.d)\n"
"  remove -c CONFIG URL|NAME        remove a feed added there\n"
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

static const char *const verbs[] = {
	"parse", "classify", "once", "run", "check-config", "status", "alerts",
	"import-opml", "export-opml", "discover", "add", "remove",
};

static bool
is_verb(const char *s)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(s, verbs[i]) == 0)
			return true;
	return false;
}

/* `parse` needs the network only for a URL; anything else it is given is a
 * path, "-" or an option, which this executable handles alone. */
static bool
parse_needs_core(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (strstr(argv[i], "://") != NULL)
			return true;
	return false;
}

/* Where feedwatch-core is: beside this executable (the build tree), at the
 * installed place relative to it (an install under any prefix or DESTDIR),
 * or at the installed path. Returns false when it is in none of them. */
static bool
find_core(char *path, size_t size)
{
	char	self[PATH_MAX], *slash;
	ssize_t	n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(path, size, "%s/%s", self,
			    CORE_NAME) < size && access(path, X_OK) == 0)
				return true;
			if (FW_CORE_REL[0] != '\0' &&
			    (size_t)snprintf(path, size, "%s/%s", self,
			    FW_CORE_REL) < size && access(path, X_OK) == 0)
				return true;
		}
	}
	if ((size_t)snprintf(path, size, "%s", FW_CORE_ABS) < size &&
	    access(path, X_OK) == 0)
		return true;
	return false;
}

/* Replaces this process with feedwatch-core, same arguments; returns only
 * on failure, having said why. */
int
run_core(int argc, char **argv)
{
	char	core[PATH_MAX];

	(void)argc;
	if (!find_core(core, sizeof(core))) {
		fprintf(stderr, "feedwatch: cannot run the %s command: "
		    "%s is not installed (looked beside %s and at %s)\n",
		    argv[1], CORE_NAME, "the executable", FW_CORE_ABS);
		return 1;
	}
	(void)fflush(NULL);
	execv(core, argv);
	fprintf(stderr, "feedwatch: cannot run the %s command: %s: %s\n",
	    argv[1], core, strerror(errno));
	return 1;
}

int
main(int argc, char **argv)
{
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
	if (!is_verb(argv[1])) {
		fprintf(stderr, "feedwatch: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "parse") == 0 && !parse_needs_core(argc, argv))
		return cmd_parse(argc - 1, argv + 1);
	return run_core(argc, argv);
}
