/* cmd_common.h — option parsing shared by the verbs that take a config. */
#pragma once

#include <stdbool.h>

#include "conf.h"

struct cmd_opts {
	const char	*config;	/* -c, default FW_DEFAULT_CONFIG */
	bool		 json;		/* --json */
	bool		 failed;	/* --failed (alerts) */
	bool		 stored;	/* --stored (classify) */
	bool		 explain;	/* --explain (classify) */
	const char	*since;		/* --since DURATION */
	const char	*retry;		/* --retry ID|all (alerts) */
	const char	*topic;		/* --topic NAME (developments) */
	const char	*explain_id;	/* --explain ID (developments) */
	const char	*name;		/* --name NAME (add) */
	const char	*topics;	/* --topics a,b (add) */
	const char	*interval;	/* --interval DURATION (add) */
	bool		 dry_run;	/* --dry-run (add) */
	char		**args;		/* positional arguments */
	int		 n_args;
};

/* Parses argv (argv[0] is the verb). allowed lists the long options the verb
 * takes besides -c and --log-level, e.g. "json,since"; "explain-id" is
 * --explain with a value (developments), "explain" the switch (classify). Prints a usage error
 * and returns -EINVAL on a bad option. */
int cmd_parse_opts(int argc, char **argv, const char *allowed, struct cmd_opts *ret);

/* Loads the config, printing every error as FILE:LINE:COL: message.
 * Returns the conf or NULL. */
struct conf *cmd_load_conf(const char *path);
/* The same without reading any secret (conf_load_without_secrets()): for
 * verbs that deliver nothing. */
struct conf *cmd_load_conf_without_secrets(const char *path);
