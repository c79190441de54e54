/* cmd_common.c — option parsing and config loading for the verbs. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "cmd_common.h"
#include "log.h"

static bool
allowed_has(const char *allowed, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = allowed; p != NULL && *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

int
cmd_parse_opts(int argc, char **argv, const char *allowed, struct cmd_opts *ret)
{
	enum { OPT_JSON = 256, OPT_FAILED, OPT_STORED, OPT_SINCE, OPT_RETRY, OPT_LOG_LEVEL,
	    OPT_TOPIC, OPT_EXPLAIN, OPT_NAME, OPT_TOPICS, OPT_INTERVAL, OPT_DRY_RUN };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "failed", no_argument, NULL, OPT_FAILED },
		{ "stored", no_argument, NULL, OPT_STORED },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "retry", required_argument, NULL, OPT_RETRY },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "topic", required_argument, NULL, OPT_TOPIC },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "topics", required_argument, NULL, OPT_TOPICS },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ NULL, 0, NULL, 0 },
	};
	struct option	opts[sizeof(longopts) / sizeof(longopts[0])];
	/* `developments --explain ID` names a development; `classify
	 * --explain` is a switch. */
	bool		explain_id = allowed_has(allowed, "explain-id");
	enum log_level	level;
	int		c, idx;

	memset(ret, 0, sizeof(*ret));
	ret->config = FW_DEFAULT_CONFIG;
	optind = 1;
	opterr = 0;
	memcpy(opts, longopts, sizeof(opts));
	for (size_t i = 0; explain_id && opts[i].name != NULL; i++)
		if (opts[i].val == OPT_EXPLAIN)
			opts[i].has_arg = required_argument;
	while ((c = getopt_long(argc, argv, "+c:", opts, &idx)) != -1) {
		const char *name = c >= OPT_JSON ? opts[idx].name : NULL;

		if (c == OPT_EXPLAIN && explain_id)
			name = "explain-id";
		if (name != NULL && c != OPT_LOG_LEVEL && !allowed_has(allowed, name)) {
			fprintf(stderr, "feedwatch %s: unknown option '--%s'\n", argv[0], name);
			return -EINVAL;
		}
		switch (c) {
		case 'c':		ret->config = optarg; break;
		case OPT_JSON:		ret->json = true; break;
		case OPT_FAILED:	ret->failed = true; break;
		case OPT_STORED:	ret->stored = true; break;
		case OPT_SINCE:		ret->since = optarg; break;
		case OPT_RETRY:		ret->retry = optarg; break;
		case OPT_TOPIC:		ret->topic = optarg; break;
		case OPT_EXPLAIN:
			if (explain_id)
				ret->explain_id = optarg;
			else
				ret->explain = true;
			break;
		case OPT_NAME:		ret->name = optarg; break;
		case OPT_TOPICS:	ret->topics = optarg; break;
		case OPT_INTERVAL:	ret->interval = optarg; break;
		case OPT_DRY_RUN:	ret->dry_run = true; break;
		case OPT_LOG_LEVEL:
			if (log_level_from_string(optarg, &level) < 0) {
				fprintf(stderr, "feedwatch %s: unknown log level '%s' "
				    "(err, warning, notice, info, debug)\n", argv[0], optarg);
				return -EINVAL;
			}
			log_set_level(level);
			break;
		case ':':
			fprintf(stderr, "feedwatch %s: option '%s' needs a value\n",
			    argv[0], argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "feedwatch %s: unknown option '%s'\n", argv[0],
			    argv[optind - 1]);
			return -EINVAL;
		}
	}
	ret->args = argv + optind;
	ret->n_args = argc - optind;
	return 0;
}

static struct conf *
load_conf(const char *path, bool secrets)
{
	struct fw_errors	 errs = { 0 };
	struct conf		*conf = NULL;
	int			 r;

	r = secrets ? conf_load(path, &conf, &errs) :
	    conf_load_without_secrets(path, &conf, &errs);
	if (r < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fw_error_print(stderr, &errs.v[i]);
		if (errs.n == 0)
			fprintf(stderr, "%s: cannot load the configuration\n", path);
		conf = NULL;
	}
	fw_errors_done(&errs);
	return conf;
}

struct conf *
cmd_load_conf(const char *path)
{
	return load_conf(path, true);
}

struct conf *
cmd_load_conf_without_secrets(const char *path)
{
	return load_conf(path, false);
}
