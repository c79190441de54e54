/* sink_exec.c — alerts handed to a command: the argv list from the config
 * (no shell, so no quoting surprises), the alert JSON on stdin, and
 * FEEDWATCH_ALERT_ID / FEEDWATCH_DIGEST in the environment. Exit status 0
 * is delivered; another status, death by a signal or the timeout (the whole
 * process group is killed) is retried; a program that cannot be run at all
 * is a permanent failure. The tail of the command's output goes into the
 * error message. Never logs. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"

#define EXEC_OUTPUT_MAX	400	/* bytes of output kept for the error */

extern char **environ;

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

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when the variable "NAME=value" may reach the command: PATH and
 * LANG, and what the sink's env names. The rest of feedwatch's
 * environment (secrets given by *_env keys among it) stays here. */
static bool
env_passed(const struct conf_sink *cs, const char *var)
{
	size_t len = strcspn(var, "=");

	if ((len == 4 && strncmp(var, "PATH", 4) == 0) ||
	    (len == 4 && strncmp(var, "LANG", 4) == 0))
		return true;
	for (size_t i = 0; i < cs->env.n; i++)
		if (strlen(cs->env.v[i].s) == len && strncmp(var, cs->env.v[i].s, len) == 0)
			return true;
	return false;
}

/* The environment of the child: a minimal one (env_passed) plus the
 * alert's id. Built before fork(), as only async-signal-safe calls may
 * follow it. */
static char **
child_env(const struct conf_sink *cs, const struct sink_msg *msg, char **ret_id,
    char **ret_digest)
{
	size_t	  n = 0, k = 0;
	char	**env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 3, sizeof(*env))) == NULL)
		return NULL;
	if (asprintf(ret_id, "FEEDWATCH_ALERT_ID=%s", msg->id) < 0) {
		free(env);
		return NULL;
	}
	*ret_digest = msg->digest ? "FEEDWATCH_DIGEST=1" : "FEEDWATCH_DIGEST=0";
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "FEEDWATCH_ALERT_ID=", 19) != 0 &&
		    strncmp(environ[i], "FEEDWATCH_DIGEST=", 17) != 0 &&
		    env_passed(cs, environ[i]))
			env[k++] = environ[i];
	env[k++] = *ret_id;
	env[k++] = *ret_digest;
	return env;
}

/* Takes a SIGPIPE raised while it was blocked, so it never fires later. */
static void
consume_sigpipe(const sigset_t *pipe_set)
{
	struct timespec	zero = { 0, 0 };
	sigset_t	pending;

	if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
		(void)sigtimedwait(pipe_set, NULL, &zero);
}

static int
exec_deliver(struct sink *s, const struct sink_msg *msg, struct sink_outcome *out)
{
	struct exec_state	*st = s->state;
	int			 in[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	char			**env, *id_var = NULL, *digest_var, output[EXEC_OUTPUT_MAX + 1];
	const char		*p = msg->json;
	size_t			 left = strlen(msg->json) + 1, out_len = 0;
	int64_t			 deadline;
	sigset_t		 pipe_set, old_set;
	pid_t			 pid;
	int			 status = 0, err = 0, r = 0, timed_out = 0;
	bool			 out_open = true;

	if ((env = child_env(s->conf, msg, &id_var, &digest_var)) == NULL)
		return -ENOMEM;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 ||
	    pipe2(errp, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0) {
		/* Child: its own process group, so a timeout kills all of it. */
		(void)setpgid(0, 0);
		(void)dup2(in[0], STDIN_FILENO);
		(void)dup2(outp[1], STDOUT_FILENO);
		(void)dup2(outp[1], STDERR_FILENO);
		sigset_t none;

		(void)signal(SIGPIPE, SIG_DFL);
		/* The daemon blocks SIGTERM & co.; the command must not inherit that. */
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		/* Nothing of ours but stdio crosses into the command. */
		(void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		execvpe(st->argv[0], st->argv, env);
		err = errno;
		(void)!write(errp[1], &err, sizeof(err));
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	close(errp[1]);
	in[0] = outp[1] = errp[1] = -1;
	(void)fcntl(in[1], F_SETFL, O_NONBLOCK);
	/* The child may exit without reading its stdin: a write then gets
	 * EPIPE, and the SIGPIPE it raises must not end feedwatch. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
	left--;		/* the NUL is not sent; a newline is */
	deadline = mono_ms() + 1000 * (s->conf->timeout > 0 ? s->conf->timeout : 10);
	while (in[1] >= 0 || out_open) {
		struct pollfd	pfd[2];
		int		nfd = 0, wait_ms = (int)(deadline - mono_ms());

		if (wait_ms <= 0) {
			timed_out = 1;
			break;
		}
		if (in[1] >= 0)
			pfd[nfd++] = (struct pollfd){ .fd = in[1], .events = POLLOUT };
		if (out_open)
			pfd[nfd++] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
		if (poll(pfd, (nfds_t)nfd, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < nfd; i++) {
			if (pfd[i].fd == in[1] && pfd[i].revents) {
				ssize_t w = left > 0 ? write(in[1], p, left) : write(in[1], "\n", 1);

				if (w > 0 && left > 0) {
					p += w;
					left -= (size_t)w;
				} else if (w > 0 || (w < 0 && errno != EAGAIN && errno != EINTR)) {
					/* Done, or the child does not want the rest. */
					close(in[1]);
					in[1] = -1;
				}
			} else if (pfd[i].fd == outp[0] && pfd[i].revents) {
				char	buf[4096];
				ssize_t	n = read(outp[0], buf, sizeof(buf));

				if (n <= 0) {
					if (n == 0 || (errno != EAGAIN && errno != EINTR))
						out_open = false;
					continue;
				}
				/* Keep the tail: the last words are the reason. */
				for (ssize_t j = 0; j < n; j++) {
					if (out_len == EXEC_OUTPUT_MAX) {
						memmove(output, output + 1, EXEC_OUTPUT_MAX - 1);
						out_len--;
					}
					output[out_len++] = buf[j] == '\n' || buf[j] == '\r' ? ' ' : buf[j];
				}
			}
		}
	}
	consume_sigpipe(&pipe_set);
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	/* Output closed early (a daemonizing child): wait for the exit, but
	 * only until the deadline. */
	while (!timed_out && waitpid(pid, &status, WNOHANG) == 0) {
		if (mono_ms() >= deadline)
			timed_out = 1;
		else
			(void)poll(NULL, 0, 10);
	}
	if (timed_out) {
		(void)kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	output[out_len] = '\0';
	while (out_len > 0 && output[out_len - 1] == ' ')
		output[--out_len] = '\0';
	if (read(errp[0], &err, sizeof(err)) == (ssize_t)sizeof(err)) {
		out->result = SINK_PERMANENT;
		snprintf(out->error, sizeof(out->error), "cannot run '%s': %s", st->argv[0],
		    strerror(err));
	} else if (timed_out) {
		out->result = SINK_RETRY;
		snprintf(out->error, sizeof(out->error), "'%s' took longer than %llds, killed",
		    st->argv[0], (long long)(s->conf->timeout > 0 ? s->conf->timeout : 10));
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		out->result = SINK_DELIVERED;
	else {
		out->result = SINK_RETRY;
		if (WIFEXITED(status))
			snprintf(out->error, sizeof(out->error), "'%s' exited with status %d%s%s",
			    st->argv[0], WEXITSTATUS(status), out_len ? ": " : "", output);
		else
			snprintf(out->error, sizeof(out->error), "'%s' killed by signal %d%s%s",
			    st->argv[0], WTERMSIG(status), out_len ? ": " : "", output);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	free(id_var);
	free(env);
	return r;
}

const struct sink_ops sink_exec_ops = {
	.open = exec_open,
	.deliver = exec_deliver,
	.close = exec_close,
};
