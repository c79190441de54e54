/* spawn.h — running a program from the config (argv, no shell) with a
 * message on its stdin, a deadline, and a process group of its own that the
 * deadline kills whole. Used by the exec sink and the mail sink's sendmail
 * transport. Never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "error.h"

/* Bytes of the program's last output kept, escaped. */
#define SPAWN_OUTPUT_MAX	400

struct spawn_result {
	/* Nonzero: the program could not be started (execvpe()'s errno);
	 * nothing else is set. */
	int	exec_errno;
	/* The deadline passed: the program and its process group were
	 * killed. status is then that of the killed program. */
	bool	timed_out;
	int	status;		/* from waitpid() */
	/* The tail of what it wrote to stdout and stderr, line ends made
	 * spaces and every control character escaped as safe_escape_buf()
	 * does, so it can go into a log line or the store as it is. */
	char	output[SPAWN_OUTPUT_MAX + 1];
};

/* The environment of a child, built before fork() (only async-signal-safe
 * calls may follow it): PATH, LANG and the variables pass names from
 * feedwatch's own environment, then extra[0..n_extra) ("NAME=value"),
 * which replace variables of the same names. The rest of feedwatch's
 * environment (the values of *_env secrets among it) is not passed.
 * The strings are borrowed; the caller frees only the array. NULL when
 * out of memory. */
char **spawn_env(const struct conf_strlist *pass, char *const *extra, size_t n_extra);

/* Runs argv[0] (searched in PATH as execvp() does) with argv and envp,
 * input[0..input_len) on its stdin, SIGPIPE and the signal mask back to
 * their defaults and no descriptor of ours but stdio, and waits for it for
 * at most timeout_sec seconds. A program that closes its stdin early is
 * not an error. Returns 0 with *ret filled, or a negative errno when
 * feedwatch itself could not start it (pipes, fork). */
int spawn_run(char *const *argv, char *const *envp, const char *input, size_t input_len,
    int64_t timeout_sec, struct spawn_result *ret) _must_check_;
