/* notify.c — the service-manager notification protocol (sd_notify(3)).
 *
 * This module only formats and sends notifications; deciding when the
 * daemon is ready, reloading or stopping is daemon.c's business. libsystemd
 * is used when meson found it, because it tracks protocol details (socket
 * address forms, credentials) as systemd evolves; without it the documented
 * wire format is small enough to send here: one datagram of newline-separated
 * assignments to the AF_UNIX socket in $NOTIFY_SOCKET, where a leading '@'
 * names an abstract socket. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "notify.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#define NOTIFY_MAX_MESSAGE	4096

static uint64_t	watchdog_usec;
static uint64_t	last_ping_usec;

static uint64_t
now_monotonic_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#if !HAVE_LIBSYSTEMD
/*
 * sd_watchdog_enabled(3): "$WATCHDOG_USEC ... contains the watchdog timeout
 * in microseconds"; "$WATCHDOG_PID ... if set, the watchdog is only meant
 * for the process with this PID".
 */
static uint64_t
watchdog_from_env(void)
{
	const char		*e = getenv("WATCHDOG_USEC");
	const char		*pid = getenv("WATCHDOG_PID");
	unsigned long long	 v;
	char			*end;

	if (e == NULL || *e == '\0')
		return 0;
	errno = 0;
	v = strtoull(e, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		return 0;
	if (pid != NULL && *pid != '\0') {
		long p = strtol(pid, &end, 10);

		if (*end != '\0' || p != (long)getpid())
			return 0;
	}
	return (uint64_t)v;
}

static int
send_datagram(const char *state)
{
	struct sockaddr_un	 sa = { .sun_family = AF_UNIX };
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 salen;
	size_t			 n;
	ssize_t			 w;
	int			 fd, r;

	if (path == NULL || *path == '\0')
		return 0;
	n = strlen(path);
	/* Only the AF_UNIX forms: "/path" and "@abstract". */
	if ((path[0] != '/' && path[0] != '@') || n < 2 || n >= sizeof(sa.sun_path))
		return -EAFNOSUPPORT;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '/' ? 1 : 0));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	r = w < 0 ? -errno : 1;
	(void)close(fd);
	return r;
}
#endif

void
notify_init(void)
{
#if HAVE_LIBSYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0)
		watchdog_usec = usec;
	else
		watchdog_usec = 0;
#else
	watchdog_usec = watchdog_from_env();
#endif
	last_ping_usec = 0;
}

int
notify_send(const char *state)
{
	int r;

#if HAVE_LIBSYSTEMD
	r = sd_notify(0, state);
#else
	r = send_datagram(state);
#endif
	return r;
}

int
notify_sendf(const char *fmt, ...)
{
	char	buf[NOTIFY_MAX_MESSAGE];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	/* A cut status line is still a status line. */
	return notify_send(buf);
}

/* A STATUS= value is one line: newlines would start new assignments. */
static void
one_line(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src != NULL && src[i] != '\0' && i + 1 < size; i++)
		dst[i] = src[i] == '\n' || src[i] == '\r' ? ' ' : src[i];
	dst[i] = '\0';
}

int
notify_ready(const char *status)
{
	char line[1024];

	if (status == NULL)
		return notify_send("READY=1");
	one_line(line, sizeof(line), status);
	return notify_sendf("READY=1\nSTATUS=%s", line);
}

int
notify_status(const char *status)
{
	char line[1024];

	one_line(line, sizeof(line), status);
	return notify_sendf("STATUS=%s", line);
}

int
notify_reloading(void)
{
	/*
	 * sd_notify(3): "RELOADING=1 ... If this is sent, MONOTONIC_USEC= must
	 * be set too" for Type=notify-reload; older systemd ignores it.
	 */
	return notify_sendf("RELOADING=1\nSTATUS=Reloading the configuration\n"
	    "MONOTONIC_USEC=%llu", (unsigned long long)now_monotonic_usec());
}

int
notify_stopping(void)
{
	return notify_send("STOPPING=1\nSTATUS=Stopping");
}

uint64_t
notify_watchdog_usec(void)
{
	return watchdog_usec;
}

uint64_t
notify_watchdog_period_usec(void)
{
	return watchdog_usec / 2;
}

int
notify_watchdog(void)
{
	uint64_t now;
	int	 r;

	if (watchdog_usec == 0)
		return 0;
	now = now_monotonic_usec();
	if (last_ping_usec != 0 && now - last_ping_usec < watchdog_usec / 4)
		return 0;
	r = notify_send("WATCHDOG=1");
	if (r > 0)
		last_ping_usec = now;
	return r;
}
