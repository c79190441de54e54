/* test_notify.c — the service-manager notification protocol, against a
 * datagram socket the test binds (path and abstract forms): message
 * contents, STATUS= kept to one line, the watchdog's interval, WATCHDOG_PID
 * and rate limiting, and silence without $NOTIFY_SOCKET. */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include "testutil.h"

static char	*tmp;
static int	 sock = -1;
static char	 sockpath[256];

static void
setup(void)
{
	struct sockaddr_un	sa = { .sun_family = AF_UNIX };
	struct timeval		tv = { .tv_sec = 0, .tv_usec = 200000 };

	tmp = tu_tmpdir();
	snprintf(sockpath, sizeof(sockpath), "%s/notify.sock", tmp);
	ck_assert_uint_lt(strlen(sockpath), sizeof(sa.sun_path));
	memcpy(sa.sun_path, sockpath, strlen(sockpath) + 1);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(sock, 0);
	ck_assert_int_eq(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	setenv("NOTIFY_SOCKET", sockpath, 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	notify_init();
}

static void
teardown(void)
{
	if (sock >= 0)
		close(sock);
	sock = -1;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	tu_rmtree(tmp);
	free(tmp);
}

/* The next datagram, or "" after the receive timeout. */
static const char *
next_msg(void)
{
	static char	buf[4096];
	ssize_t		n = recv(sock, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

START_TEST(test_ready_status)
{
	ck_assert_int_eq(notify_ready("3 feeds\nsecond line"), 1);
	ck_assert_str_eq(next_msg(), "READY=1\nSTATUS=3 feeds second line");
	ck_assert_int_eq(notify_status("all good"), 1);
	ck_assert_str_eq(next_msg(), "STATUS=all good");
	ck_assert_int_eq(notify_ready(NULL), 1);
	ck_assert_str_eq(next_msg(), "READY=1");
}
END_TEST

START_TEST(test_reloading_stopping)
{
	const char		*m;
	unsigned long long	 usec = 0;

	ck_assert_int_eq(notify_reloading(), 1);
	m = next_msg();
	ck_assert_ptr_nonnull(strstr(m, "RELOADING=1\n"));
	ck_assert_ptr_nonnull(strstr(m, "MONOTONIC_USEC="));
	usec = strtoull(strstr(m, "MONOTONIC_USEC=") + 15, NULL, 10);
	ck_assert_uint_gt(usec, 0);
	ck_assert_int_eq(notify_stopping(), 1);
	ck_assert_ptr_nonnull(strstr(next_msg(), "STOPPING=1"));
}
END_TEST

START_TEST(test_abstract_socket)
{
	struct sockaddr_un	sa = { .sun_family = AF_UNIX };
	char			name[64];
	socklen_t		len;
	int			s;

	snprintf(name, sizeof(name), "@feedwatch-test-notify-%d", (int)getpid());
	memcpy(sa.sun_path, name, strlen(name));
	sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, len), 0);
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(notify_send("READY=1"), 1);
	{
		char	buf[64];
		ssize_t	n = recv(s, buf, sizeof(buf) - 1, 0);

		ck_assert_int_eq(n, 7);
		buf[n] = '\0';
		ck_assert_str_eq(buf, "READY=1");
	}
	close(s);
}
END_TEST

START_TEST(test_no_socket)
{
	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(notify_send("READY=1"), 0);
	ck_assert_int_eq(notify_ready("x"), 0);
	ck_assert_str_eq(next_msg(), "");
}
END_TEST

START_TEST(test_watchdog)
{
	char pid[32];

	/* Off unless asked for. */
	ck_assert_uint_eq(notify_watchdog_usec(), 0);
	ck_assert_int_eq(notify_watchdog(), 0);
	ck_assert_str_eq(next_msg(), "");

	setenv("WATCHDOG_USEC", "400000", 1);
	notify_init();
	ck_assert_uint_eq(notify_watchdog_usec(), 400000);
	ck_assert_uint_eq(notify_watchdog_period_usec(), 200000);
	ck_assert_int_eq(notify_watchdog(), 1);
	ck_assert_str_eq(next_msg(), "WATCHDOG=1");
	/* Rate-limited to a quarter of the interval. */
	ck_assert_int_eq(notify_watchdog(), 0);
	usleep(120000);
	ck_assert_int_eq(notify_watchdog(), 1);
	ck_assert_str_eq(next_msg(), "WATCHDOG=1");

	/* Meant for another process: off. */
	setenv("WATCHDOG_PID", "1", 1);
	notify_init();
	ck_assert_uint_eq(notify_watchdog_usec(), 0);
	/* Meant for us: on. */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	notify_init();
	ck_assert_uint_eq(notify_watchdog_usec(), 400000);
	/* Garbage is off. */
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "soon", 1);
	notify_init();
	ck_assert_uint_eq(notify_watchdog_usec(), 0);
}
END_TEST

static Suite *
notify_suite(void)
{
	Suite	*s = suite_create("notify");
	TCase	*tc = tcase_create("protocol");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ready_status);
	tcase_add_test(tc, test_reloading_stopping);
	tcase_add_test(tc, test_abstract_socket);
	tcase_add_test(tc, test_no_socket);
	tcase_add_test(tc, test_watchdog);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(notify_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
