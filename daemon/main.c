/* main.c — the feedwatch executable: help, version, usage errors and
 * `parse` of a file or standard input run here; every other command runs in
 * feedwatch-core.so, loaded with dlopen() only then.
 *
 * Why two pieces: `feedwatch parse` is run once per file by scripts, so its
 * start-up is paid per feed. Linked with libcurl, OpenSSL, libmicrohttpd,
 * libsystemd and SQLite, the dynamic loader relocated about 50 libraries
 * before main() (6 ms); this executable links only the parser's libraries
 * (statically where Debian ships the archives, see daemon/meson.build) and
 * starts in about 1 ms. The module holds the same parser code for the
 * daemon, so a feed parses the same in both. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "cmd.h"

/* Found through the executable's RUNPATH: $ORIGIN in the build tree, the
 * installed package library directory relative to $ORIGIN once installed. */
#define CORE_MODULE	"feedwatch-core.so"

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
"  classify --stored -c CONFIG [--since 7d] [--json]\n"
"                                   run the rules over items in the state database\n"
"  once -c CONFIG                   poll every feed once, deliver alerts, exit\n"
"  run -c CONFIG                    the daemon: poll each feed on its interval\n"
"                                   until SIGTERM/SIGINT (SIGHUP reloads)\n"
"  check-config -c CONFIG           validate the configuration\n"
"  status -c CONFIG [--json]        every feed: last poll, errors, next poll\n"
"  alerts -c CONFIG [--failed] [--retry ID|all] [--json]\n"
"                                   recent alerts and their delivery state\n"
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

static int
run_core(int argc, char **argv)
{
	int	(*core_main)(int, char **);
	void	*module;

	module = dlopen(CORE_MODULE, RTLD_NOW | RTLD_LOCAL);
	if (module == NULL) {
		fprintf(stderr, "feedwatch: cannot load the %s command: %s\n",
		    argv[1], dlerror());
		return 1;
	}
	/* POSIX's way to turn dlsym()'s object pointer into a function
	 * pointer without a conversion ISO C leaves undefined. */
	*(void **)&core_main = dlsym(module, "fw_core_main");
	if (core_main == NULL) {
		fprintf(stderr, "feedwatch: %s: %s\n", CORE_MODULE, dlerror());
		(void)dlclose(module);
		return 1;
	}
	/* The module stays loaded until exit: libcurl, OpenSSL and the
	 * journal client register exit-time clean-ups inside it. */
	// cppcheck-suppress resourceLeak
	return core_main(argc, argv);
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
