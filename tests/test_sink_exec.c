/* test_sink_exec.c — the exec sink with real commands: a script that
 * records its stdin and environment, one that fails with a message, one
 * that never reads stdin, one that outlives the timeout (and its child),
 * and a program that does not exist. */
#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"
#include "spawn.h"
#include "testutil.h"

static const char alert_json[] =
	"{\"id\":\"a1\",\"severity\":\"normal\",\"topics\":[\"sma\"],"
	"\"item\":{\"title\":\"Talks\"}}";

static char *tmp;

static void
setup(void)
{
	tmp = tu_tmpdir();
}

static void
teardown(void)
{
	tu_rmtree(tmp);
	free(tmp);
}

static char *
script(const char *name, const char *body)
{
	char *path = tu_write_file(tmp, name, body);

	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

static struct sink *
open_exec(struct conf_sink *cs, struct conf_str *argv, size_t argc, int64_t timeout)
{
	struct sink	*s = NULL;
	struct fw_error	 e;

	memset(cs, 0, sizeof(*cs));
	cs->name = "exec";
	cs->type = SINK_EXEC;
	cs->command.v = argv;
	cs->command.n = argc;
	cs->timeout = timeout;
	cs->quiet_start_min = cs->quiet_end_min = -1;
	ck_assert_msg(sink_new(cs, &s, &e) == 0, "%s", e.msg);
	return s;
}

static void
run_msg(struct sink *s, const char *id, bool digest, struct sink_outcome *out)
{
	struct sink_msg m = { .id = id, .json = alert_json, .digest = digest };

	ck_assert_int_eq(sink_deliver(s, &m, out), 0);
}

START_TEST(test_records_stdin)
{
	char			*sh = script("rec.sh", "#!/bin/sh\n"
				    "cat > \"$1\"\necho \"$FEEDWATCH_ALERT_ID $FEEDWATCH_DIGEST $2\" > \"$1.env\"\n");
	char			 out_path[512], env_path[600], *got;
	struct conf_str		 argv[3];
	struct conf_sink	 cs;
	struct sink_outcome	 out;
	struct sink		*s;

	snprintf(out_path, sizeof(out_path), "%s/stdin.json", tmp);
	snprintf(env_path, sizeof(env_path), "%s.env", out_path);
	/* An argument with spaces and quotes reaches the program as is. */
	argv[0].s = sh;
	argv[1].s = out_path;
	argv[2].s = "it's \"one\" arg; $(no shell)";
	s = open_exec(&cs, argv, 3, 5);
	run_msg(s, "a1", false, &out);
	ck_assert_int_eq(out.result, SINK_DELIVERED);
	got = tu_read_file(out_path, NULL);
	ck_assert_str_eq(got, "{\"id\":\"a1\",\"severity\":\"normal\",\"topics\":[\"sma\"],"
	    "\"item\":{\"title\":\"Talks\"}}\n");
	free(got);
	got = tu_read_file(env_path, NULL);
	ck_assert_str_eq(got, "a1 0 it's \"one\" arg; $(no shell)\n");
	free(got);
	run_msg(s, "d9", true, &out);
	got = tu_read_file(env_path, NULL);
	ck_assert_str_eq(got, "d9 1 it's \"one\" arg; $(no shell)\n");
	free(got);
	sink_free(s);
	free(sh);
}
END_TEST

/* The command gets PATH, LANG, the alert's variables and what the sink's
 * env names, and nothing else of feedwatch's environment (where the
 * values of *_env secrets live). */
START_TEST(test_minimal_environment)
{
	char			*sh = script("env.sh", "#!/bin/sh\ncat >/dev/null\nenv > \"$1\"\n");
	char			 env_path[512], *got;
	struct conf_str		 argv[2], named[1] = { { .s = "FW_TEST_PASSED" } };
	struct conf_sink	 cs;
	struct sink_outcome	 out;
	struct sink		*s;

	snprintf(env_path, sizeof(env_path), "%s/env.txt", tmp);
	ck_assert_int_eq(setenv("FW_TEST_HOOK_SECRET", "s3cret-value", 1), 0);
	ck_assert_int_eq(setenv("FW_TEST_PASSED", "yes", 1), 0);
	ck_assert_int_eq(setenv("LANG", "C.UTF-8", 1), 0);
	argv[0].s = sh;
	argv[1].s = env_path;
	s = open_exec(&cs, argv, 2, 5);
	cs.env.v = named;
	cs.env.n = 1;
	run_msg(s, "a1", false, &out);
	ck_assert_int_eq(out.result, SINK_DELIVERED);
	got = tu_read_file(env_path, NULL);
	ck_assert_ptr_null(strstr(got, "s3cret-value"));
	ck_assert_ptr_nonnull(strstr(got, "FW_TEST_PASSED=yes\n"));
	ck_assert_ptr_nonnull(strstr(got, "FEEDWATCH_ALERT_ID=a1\n"));
	ck_assert_ptr_nonnull(strstr(got, "LANG=C.UTF-8\n"));
	ck_assert_ptr_nonnull(strstr(got, "PATH="));
	free(got);
	sink_free(s);
	free(sh);
	unsetenv("FW_TEST_HOOK_SECRET");
	unsetenv("FW_TEST_PASSED");
}
END_TEST

START_TEST(test_failing_command)
{
	char			*sh = script("fail.sh", "#!/bin/sh\ncat >/dev/null\n"
				    "echo 'first line' >&2\necho 'receiver said no' >&2\nexit 3\n");
	struct conf_str		 argv[1] = { { .s = sh } };
	struct conf_sink	 cs;
	struct sink_outcome	 out;
	struct sink		*s = open_exec(&cs, argv, 1, 5);

	run_msg(s, "a1", false, &out);
	ck_assert_int_eq(out.result, SINK_RETRY);
	ck_assert_msg(strstr(out.error, "exited with status 3: first line receiver said no") != NULL,
	    "%s", out.error);
	sink_free(s);
	free(sh);
}
END_TEST

/* What a command prints reaches the log and the store: its control
 * characters are escaped there, and only its last words are kept, never
 * from the middle of a UTF-8 character. */
START_TEST(test_output_escaped_and_capped)
{
	char			*sh = script("noisy.sh", "#!/bin/sh\ncat >/dev/null\n"
				    "i=0; while [ $i -lt 300 ]; do printf '\\303\\251'; i=$((i+1)); done\n"
				    "printf 'red \\033[31malert\\033[0m \\342\\200\\256end' >&2\nexit 1\n");
	struct conf_str		 argv[1] = { { .s = sh } };
	struct conf_sink	 cs;
	struct sink_outcome	 out;
	struct sink		*s = open_exec(&cs, argv, 1, 5);
	const char		*tail;

	run_msg(s, "a1", false, &out);
	ck_assert_int_eq(out.result, SINK_RETRY);
	ck_assert_msg(strstr(out.error, "red \\x1B[31malert\\x1B[0m \\u202Eend") != NULL,
	    "%s", out.error);
	ck_assert_ptr_null(strchr(out.error, '\033'));
	/* The tail starts on a whole "\303\251" (é). */
	tail = strstr(out.error, "status 1: ");
	ck_assert_ptr_nonnull(tail);
	ck_assert_msg(strncmp(tail + 10, "\303\251", 2) == 0, "%s", out.error);
	ck_assert_uint_le(strlen(tail + 10), SPAWN_OUTPUT_MAX);
	sink_free(s);
	free(sh);
}
END_TEST

START_TEST(test_ignores_stdin)
{
	/* Exits at once without reading a large alert: no SIGPIPE for us. */
	struct conf_str		 argv[1] = { { .s = "true" } };
	struct conf_sink	 cs;
	struct sink_outcome	 out;
	struct sink		*s = open_exec(&cs, argv, 1, 5);
	struct sink_msg		 m = { .id = "big" };
	char			*big = malloc(1 << 20);

	memset(big, ' ', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	m.json = big;
	ck_assert_int_eq(sink_deliver(s, &m, &out), 0);
	ck_assert_int_eq(out.result, SINK_DELIVERED);
	free(big);
	sink_free(s);
}
END_TEST

/* Whether pid runs: a zombie waiting for a PID 1 that does not reap (as
 * in some containers) is dead enough. */
static bool
alive(pid_t pid)
{
	char	 path[64], buf[256], *p;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

START_TEST(test_timeout_kills_group)
{
	char			*sh = script("slow.sh", "#!/bin/sh\nsleep 30 &\necho $! > \"$1\"\nsleep 30\n");
	char			 pid_path[512], *pid_text;
	struct conf_str		 argv[2];
	struct conf_sink	 cs;
	struct sink_outcome	 out;
	struct sink		*s;
	time_t			 t0 = time(NULL);
	pid_t			 child;

	snprintf(pid_path, sizeof(pid_path), "%s/child.pid", tmp);
	argv[0].s = sh;
	argv[1].s = pid_path;
	s = open_exec(&cs, argv, 2, 1);
	run_msg(s, "a1", false, &out);
	ck_assert_int_eq(out.result, SINK_RETRY);
	ck_assert_msg(strstr(out.error, "longer than 1s") != NULL, "%s", out.error);
	ck_assert_int_lt(time(NULL) - t0, 5);
	/* The grandchild went with it. */
	pid_text = tu_read_file(pid_path, NULL);
	child = (pid_t)atoi(pid_text);
	free(pid_text);
	ck_assert_int_gt(child, 0);
	for (int i = 0; i < 200 && alive(child); i++)
		usleep(10000);
	ck_assert_msg(!alive(child), "the command's child %d outlived the timeout", (int)child);
	sink_free(s);
	free(sh);
}
END_TEST

START_TEST(test_missing_program)
{
	struct conf_str		 argv[1] = { { .s = "/nonexistent/feedwatch-hook" } };
	struct conf_sink	 cs;
	struct sink_outcome	 out;
	struct sink		*s = open_exec(&cs, argv, 1, 5);

	run_msg(s, "a1", false, &out);
	ck_assert_int_eq(out.result, SINK_PERMANENT);
	ck_assert_msg(strstr(out.error, "cannot run '/nonexistent/feedwatch-hook': "
	    "No such file or directory") != NULL, "%s", out.error);
	sink_free(s);
}
END_TEST

START_TEST(test_killed_by_signal)
{
	char			*sh = script("kill.sh", "#!/bin/sh\nkill -TERM $$\n");
	struct conf_str		 argv[1] = { { .s = sh } };
	struct conf_sink	 cs;
	struct sink_outcome	 out;
	struct sink		*s = open_exec(&cs, argv, 1, 5);
	sigset_t		 block;

	/* Blocked here (as in the daemon) but not in the command. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	run_msg(s, "a1", false, &out);
	ck_assert_int_eq(out.result, SINK_RETRY);
	ck_assert_msg(strstr(out.error, "killed by signal 15") != NULL, "%s", out.error);
	sink_free(s);
	free(sh);
}
END_TEST

static Suite *
exec_suite(void)
{
	Suite	*s = suite_create("sink_exec");
	TCase	*tc = tcase_create("run");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_records_stdin);
	tcase_add_test(tc, test_minimal_environment);
	tcase_add_test(tc, test_failing_command);
	tcase_add_test(tc, test_output_escaped_and_capped);
	tcase_add_test(tc, test_ignores_stdin);
	tcase_add_test(tc, test_timeout_kills_group);
	tcase_add_test(tc, test_missing_program);
	tcase_add_test(tc, test_killed_by_signal);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(exec_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
