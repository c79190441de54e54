/* spawn.c — one run of a configured program: fork and exec with no shell,
 * the message written to its stdin while the tail of its output is read,
 * all of it within a deadline after which its whole process group is
 * killed. What the result means (delivered, retried, given up) is the
 * caller's business: the exec sink and the mail sink's sendmail transport
 * read exit statuses differently. Never logs. */
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

#include "buf.h"
#include "safe.h"
#include "spawn.h"

extern char **environ;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
var_named(const char *var, const char *name, size_t name_len)
{
	return strncmp(var, name, name_len) == 0 && var[name_len] == '=';
}

/* True when the variable "NAME=value" of feedwatch's environment may reach
 * the program: PATH, LANG, and what pass names. */
static bool
env_passed(const struct conf_strlist *pass, const char *var)
{
	if (var_named(var, "PATH", 4) || var_named(var, "LANG", 4))
		return true;
	for (size_t i = 0; pass != NULL && i < pass->n; i++)
		if (var_named(var, pass->v[i].s, strlen(pass->v[i].s)))
			return true;
	return false;
}

static bool
env_replaced(char *const *extra, size_t n_extra, const char *var)
{
	for (size_t i = 0; i < n_extra; i++)
		if (var_named(var, extra[i], strcspn(extra[i], "=")))
			return true;
	return false;
}

char **
spawn_env(const struct conf_strlist *pass, char *const *extra, size_t n_extra)
{
	size_t	  n = 0, k = 0;
	char	**env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + n_extra + 1, sizeof(*env))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (env_passed(pass, environ[i]) && !env_replaced(extra, n_extra, environ[i]))
			env[k++] = environ[i];
	for (size_t i = 0; i < n_extra; i++)
		env[k++] = extra[i];
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

/* The kept tail, escaped into ret->output: as many of its last bytes as
 * fit there once escaped, never starting inside a UTF-8 character. */
static void
output_done(const char *tail, size_t len, struct spawn_result *ret)
{
	struct buf	b;
	int		r;

	while (len > 0 && tail[len - 1] == ' ')
		len--;
	buf_init(&b, 4 * SPAWN_OUTPUT_MAX);
	for (;;) {
		while (len > 0 && ((unsigned char)*tail & 0xC0) == 0x80) {
			tail++;
			len--;
		}
		buf_reset(&b);
		if ((r = safe_escape_buf(&b, tail, len)) < 0 || b.len < sizeof(ret->output))
			break;
		tail++;
		len--;
	}
	if (r == 0 && b.data != NULL)
		memcpy(ret->output, b.data, b.len + 1);
	else if (r < 0)
		snprintf(ret->output, sizeof(ret->output), "(output not kept: out of memory)");
	buf_done(&b);
}

int
spawn_run(char *const *argv, char *const *envp, const char *input, size_t input_len,
    int64_t timeout_sec, struct spawn_result *ret)
{
	int		 in[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	char		 tail[SPAWN_OUTPUT_MAX] = "";
	const char	*p = input;
	size_t		 left = input_len, tail_len = 0;
	int64_t		 deadline;
	sigset_t	 pipe_set, old_set;
	pid_t		 pid;
	int		 status = 0, err = 0, r = 0;
	bool		 out_open = true, timed_out = false;

	memset(ret, 0, sizeof(*ret));
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
		sigset_t none;

		/* Child: its own process group, so a timeout kills all of it. */
		(void)setpgid(0, 0);
		(void)dup2(in[0], STDIN_FILENO);
		(void)dup2(outp[1], STDOUT_FILENO);
		(void)dup2(outp[1], STDERR_FILENO);
		(void)signal(SIGPIPE, SIG_DFL);
		/* The daemon blocks SIGTERM & co.; the program must not inherit that. */
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		/* Nothing of ours but stdio crosses into the program. */
		(void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		execvpe(argv[0], argv, envp);
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
	deadline = mono_ms() + 1000 * timeout_sec;
	if (left == 0) {
		close(in[1]);
		in[1] = -1;
	}
	while (in[1] >= 0 || out_open) {
		struct pollfd	pfd[2];
		int		nfd = 0, wait_ms = (int)(deadline - mono_ms());

		if (wait_ms <= 0) {
			timed_out = true;
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
				ssize_t w = write(in[1], p, left);

				if (w > 0) {
					p += w;
					left -= (size_t)w;
				}
				if (left == 0 || (w < 0 && errno != EAGAIN && errno != EINTR)) {
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
					if (tail_len == sizeof(tail)) {
						memmove(tail, tail + 1, sizeof(tail) - 1);
						tail_len--;
					}
					tail[tail_len++] = buf[j] == '\n' || buf[j] == '\r' ? ' ' : buf[j];
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
			timed_out = true;
		else
			(void)poll(NULL, 0, 10);
	}
	if (timed_out) {
		(void)kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (read(errp[0], &err, sizeof(err)) == (ssize_t)sizeof(err)) {
		ret->exec_errno = err;
		goto out;
	}
	ret->timed_out = timed_out;
	ret->status = status;
	output_done(tail, tail_len, ret);
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return r;
}
