/* sink_exec.c — alerts handed to a command: the argv list from the config
 * (no shell, so no quoting surprises), the alert JSON on stdin, and
 * FEEDWATCH_ALERT_ID / FEEDWATCH_DIGEST in the environment. Exit status 0
 * is delivered; another status, death by a signal or the timeout (the whole
 * process group is killed) is retried; a program that cannot be run at all
 * is a permanent failure. The tail of the command's output, escaped, goes
 * into the error message. Running it is spawn.c's job. Never logs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "sink.h"
#include "spawn.h"

struct exec_state {
	char	**argv;		/* borrowed strings, owned array */
};

static int
exec_open(struct sink *s, struct fw_error *reterr)
{
	const struct conf_sink	*cs = s->conf;
	struct exec_state	*st;

	if (cs->command.n == 0) {
		fw_error_set(reterr, NULL, cs->line, cs->col, "sink '%s': empty command", cs->name);
		return -EINVAL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->argv = calloc(cs->command.n + 1, sizeof(*st->argv))) == NULL) {
		free(st);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cs->command.n; i++)
		st->argv[i] = cs->command.v[i].s;
	s->state = st;
	return 0;
}

static void
exec_close(struct sink *s)
{
	struct exec_state *st = s->state;

	if (st != NULL)
		free(st->argv);
	free(st);
	s->state = NULL;
}

static int
exec_deliver(struct sink *s, const struct sink_msg *msg, struct sink_outcome *out)
{
	struct exec_state	*st = s->state;
	int64_t			 timeout = s->conf->timeout > 0 ? s->conf->timeout : 10;
	char			**env = NULL, *vars[2], *input = NULL;
	struct spawn_result	 res;
	int			 r;

	/* The alert JSON as one line. */
	if (asprintf(&input, "%s\n", msg->json) < 0)
		return -ENOMEM;
	if (asprintf(&vars[0], "FEEDWATCH_ALERT_ID=%s", msg->id) < 0) {
		free(input);
		return -ENOMEM;
	}
	vars[1] = msg->digest ? "FEEDWATCH_DIGEST=1" : "FEEDWATCH_DIGEST=0";
	if ((env = spawn_env(&s->conf->env, vars, 2)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = spawn_run(st->argv, env, input, strlen(input), timeout, &res)) < 0)
		goto out;
	if (res.exec_errno != 0) {
		out->result = SINK_PERMANENT;
		snprintf(out->error, sizeof(out->error), "cannot run '%s': %s", st->argv[0],
		    strerror(res.exec_errno));
	} else if (res.timed_out) {
		out->result = SINK_RETRY;
		snprintf(out->error, sizeof(out->error), "'%s' took longer than %llds, killed",
		    st->argv[0], (long long)timeout);
	} else if (WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0)
		out->result = SINK_DELIVERED;
	else {
		out->result = SINK_RETRY;
		if (WIFEXITED(res.status))
			snprintf(out->error, sizeof(out->error), "'%s' exited with status %d%s%s",
			    st->argv[0], WEXITSTATUS(res.status), res.output[0] ? ": " : "",
			    res.output);
		else
			snprintf(out->error, sizeof(out->error), "'%s' killed by signal %d%s%s",
			    st->argv[0], WTERMSIG(res.status), res.output[0] ? ": " : "",
			    res.output);
	}
out:
	free(vars[0]);
	free(env);
	free(input);
	return r;
}

const struct sink_ops sink_exec_ops = {
	.open = exec_open,
	.deliver = exec_deliver,
	.close = exec_close,
};
