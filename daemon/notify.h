/* notify.h — tell the service manager how the daemon is doing: the
 * sd_notify(3) protocol (READY=1, STATUS=, RELOADING=1, STOPPING=1,
 * WATCHDOG=1) over the datagram socket named by $NOTIFY_SOCKET.
 *
 * With libsystemd these go through sd_notify(); without it the same
 * datagrams are sent by hand. Outside systemd ($NOTIFY_SOCKET unset) every
 * call is a cheap no-op, so `run` behaves the same anywhere. Never logs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* Reads $WATCHDOG_USEC and $WATCHDOG_PID once. Call at start-up. */
void notify_init(void);

/* Sends one notification: newline-separated VAR=value assignments.
 * Returns 1 when sent, 0 when there is no $NOTIFY_SOCKET, or a negative
 * errno. */
int notify_send(const char *state);

/* Sends a notification built from a printf format. Same returns. */
int notify_sendf(const char *fmt, ...) _printf_(1, 2);

/* "READY=1" with a status line. */
int notify_ready(const char *status);

/* "STATUS=..." alone: one line summary shown by systemctl status. */
int notify_status(const char *status);

/* "RELOADING=1" with "MONOTONIC_USEC=" (what Type=notify-reload, systemd
 * 253 and later, expects); follow with notify_ready() once reloaded. */
int notify_reloading(void);

/* "STOPPING=1": the daemon is shutting down. */
int notify_stopping(void);

/* The watchdog interval the service manager asked for, in microseconds,
 * or 0 when the watchdog is off (or meant for another process). */
uint64_t notify_watchdog_usec(void);

/* The longest the main loop may sleep between pings: half the watchdog
 * interval, as sd_watchdog_enabled(3) recommends; 0 when off. */
uint64_t notify_watchdog_period_usec(void);

/* Sends "WATCHDOG=1" if the watchdog is on and at least a quarter of the
 * interval passed since the last ping. Call it from the main loop (and from
 * long-running steps that the loop drives), never from another thread: a
 * hung loop must stop pinging. Returns like notify_send(), 0 when skipped. */
int notify_watchdog(void);
