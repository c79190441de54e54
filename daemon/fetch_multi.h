/* fetch_multi.h — many feed transfers at once in one thread, through the
 * libcurl multi interface: a global limit on transfers in flight, a
 * per-host limit, connection reuse and HTTP/2 multiplexing where the server
 * offers it. Each transfer follows the rules of fetch.h. Never logs. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "fetch.h"

struct fetch_multi;

struct fetch_multi_opts {
	unsigned	concurrency;	/* transfers in flight; 0 = 8 */
	unsigned	per_host;	/* connections per host:port; 0 = 2 */
	/* Called at least every tick_ms while transfers run, even when none
	 * makes progress (a server that hangs until its timeout): the daemon
	 * pings the service manager's watchdog from it and commits the
	 * feeds' results waiting in a transaction. NULL = none; tick_ms 0 =
	 * every second. A negative return stops fetch_multi_run(), which
	 * returns it. */
	int		(*tick)(void *userdata);
	void		*tick_userdata;
	unsigned	tick_ms;
};

/* Called once per queued transfer, as soon as it ends: rc and err as from
 * fetch_source(), res when rc is 0 (borrowed: valid during the call; the
 * callee may steal its fields and set them to NULL). A negative return
 * stops fetch_multi_run(), which returns it. */
typedef int (*fetch_multi_done_fn)(void *userdata, int rc, const struct fw_error *err,
    struct fetch_result *res);

int fetch_multi_new(const struct fetch_multi_opts *opts, struct fetch_multi **ret) _must_check_;
/* Abandons whatever is still queued or in flight (no callbacks). NULL is a
 * no-op; returns NULL. */
struct fetch_multi *fetch_multi_free(struct fetch_multi *m);

/* Queues a transfer of url. The url, etag and last_modified strings are
 * copied; the other strings of opts are borrowed and must stay valid until
 * the transfer's callback ran or the multi is freed. Returns 0 or -ENOMEM. */
int fetch_multi_add(struct fetch_multi *m, const char *url, const struct fetch_opts *opts,
    fetch_multi_done_fn fn, void *userdata) _must_check_;

/* Runs every queued transfer to its end, calling the callbacks. While it
 * waits, SIGTERM and SIGINT are unblocked so that a handler can set *stop
 * (may be NULL); then it returns -EINTR promptly, leaving what was not done
 * abandoned. Returns 0, -EINTR, a callback's negative return, or another
 * negative errno when libcurl fails as a whole. */
int fetch_multi_run(struct fetch_multi *m, volatile sig_atomic_t *stop) _must_check_;

/* Transfers queued and not yet finished. */
size_t fetch_multi_pending(const struct fetch_multi *m);

/* The key of url's host for the per-host limit: "host:port", lower case,
 * into buf (truncated to size). */
void fetch_multi_host_key(const char *url, char *buf, size_t size);
