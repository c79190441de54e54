/* daemon.c — the verbs that drive the pipeline: `once` (one cycle over every
 * feed, then deliver), `run` (the polling loop until SIGTERM/SIGINT, SIGHUP
 * reloads) and `check-config`.
 *
 * `run` is what systemd supervises, so it keeps the service manager told
 * (notify.c: READY=1 once the config is loaded and the state file open,
 * STATUS= after each cycle, WATCHDOG=1 from this loop, RELOADING=1/READY=1
 * around a reload, STOPPING=1), feeds the counters behind /metrics and
 * answers signals:
 *  - SIGTERM/SIGINT set a flag that the polling cycle checks between
 *    transfers; the loop then ends and the state file is closed. Whatever
 *    was in flight is abandoned: its items were not recorded, so the next
 *    start fetches them again, and queued alerts stay in the outbox. A stop
 *    that is not done within FW_STOP_DEADLINE seconds ends the process
 *    anyway (SQLite's journal keeps the state file consistent).
 *  - SIGHUP loads the config again; a broken one is logged with its
 *    file:line:col and the running one is kept.
 * Signals are blocked except while the loop polls, delivers or sleeps in
 * ppoll(), so a signal never slips in between checking the flags and
 * sleeping. Polling itself, delivery and the store are other modules'. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "cmd.h"
#include "cmd_common.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "outbox.h"
#include "pipeline.h"
#include "schedule.h"
#include "sink.h"

/* systemd's default TimeoutStopSec is 90 s; the promise here is 5 s. */
#define FW_STOP_DEADLINE	4
/* Seconds between tries while a shared state database is unreachable. */
#define DAEMON_RECONNECT_WAIT	2
#define STRINGIFY_(x)		#x
#define STRINGIFY(x)		STRINGIFY_(x)

static volatile sig_atomic_t	got_stop;
static volatile sig_atomic_t	got_reload;

static void
on_signal(int sig)
{
	if (sig == SIGHUP) {
		got_reload = 1;
		return;
	}
	if (!got_stop)
		alarm(FW_STOP_DEADLINE);
	got_stop = 1;
}

/* Only async-signal-safe calls: the loop did not stop in time. */
static void
on_stop_deadline(int sig)
{
	static const char msg[] = "feedwatch: still busy " STRINGIFY(FW_STOP_DEADLINE) " seconds after the "
	    "stop signal; exiting now (queued alerts stay queued)\n";

	(void)sig;
	if (!got_stop)
		return;
	/* Nothing to do if this fails; gcc's warn_unused_result (glibc with
	 * _FORTIFY_SOURCE) does not accept a (void) cast of the call. */
	ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
	_exit(0);
}

static int64_t
now_seconds(void)
{
	return (int64_t)time(NULL);
}

static double
now_monotonic(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *
plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Loads config and opens the pipeline. Problems are printed as
 * "file:line:col: message": on stderr as-is for the one-shot verbs
 * (to_log false), through the log (with a priority) for `run`. */
static struct pipeline *
daemon_open(const char *config, bool to_log)
{
	struct fw_errors	 errs = { 0 };
	struct pipeline		*p = NULL;
	struct conf		*conf = NULL;
	char			 line[2048];
	int			 r;

	r = conf_load(config, &conf, &errs);
	if (r == 0)
		r = pipeline_new(conf, &p, &errs);	/* takes conf */
	if (r == 0) {
		struct fw_error e;

		r = pipeline_schedule_fit(p, now_seconds(), &e);
		if (r < 0)
			(void)fw_errors_add(&errs, &e);
	}
	if (r < 0) {
		for (size_t i = 0; i < errs.n; i++) {
			if (to_log)
				log_struct(LOG_LEVEL_ERR, LOG_FIELDS({ "CONFIG_FILE", config }),
				    "%s", fw_error_format(&errs.v[i], line, sizeof(line)));
			else
				fw_error_print(stderr, &errs.v[i]);
		}
		if (errs.n == 0 && to_log)
			log_errx("%s: cannot start: %s", config, strerror(-r));
		else if (errs.n == 0)
			fprintf(stderr, "%s: cannot start: %s\n", config, strerror(-r));
		p = pipeline_free(p);
	}
	fw_errors_done(&errs);
	return p;
}

int
cmd_check_config(int argc, char **argv)
{
	struct fw_errors	 errs = { 0 };
	struct classifier	*cls = NULL;
	struct cmd_opts		 o;
	struct conf		*conf = NULL;
	int			 r;

	if (cmd_parse_opts(argc, argv, "", &o) < 0)
		return 2;
	if (o.n_args > 0) {
		fprintf(stderr, "feedwatch check-config: unexpected argument '%s'\n", o.args[0]);
		return 2;
	}
	r = conf_load_invalid(o.config, &conf, &errs);
	/* The rules are checked even when other keys are broken, so that one
	 * run reports every error of the file. */
	if (conf != NULL) {
		struct fw_error	e;
		int		rr = classifier_new(conf, &cls, &errs);

		if (r == 0)
			r = rr;
		/* `once` and `run` would fail to open it: say why now. */
		rr = conf_check_state(conf, &e);
		if (rr < 0 && fw_errors_add(&errs, &e) < 0)
			rr = -ENOMEM;
		if (r == 0)
			r = rr;
	}
	for (size_t i = 0; i < errs.n; i++)
		fw_error_print(stderr, &errs.v[i]);
	if (r < 0 && errs.n == 0)
		fprintf(stderr, "%s: %s\n", o.config, strerror(-r));
	if (r == 0 && conf != NULL)
		printf("%s: OK: %zu %s, %zu %s, %zu %s\n", o.config,
		    conf->n_feeds, plural(conf->n_feeds, "feed", "feeds"),
		    conf->n_topics, plural(conf->n_topics, "topic", "topics"),
		    conf->n_sinks, plural(conf->n_sinks, "sink", "sinks"));
	classifier_free(cls);
	conf_free(conf);
	fw_errors_done(&errs);
	return r < 0 ? 1 : 0;
}

int
cmd_once(int argc, char **argv)
{
	struct poll_stats	 ps = { 0 };
	struct deliver_stats	 ds = { 0 };
	struct pipeline		*p;
	struct cmd_opts		 o;
	int			 r = 0;

	if (cmd_parse_opts(argc, argv, "", &o) < 0)
		return 2;
	if (o.n_args > 0) {
		fprintf(stderr, "feedwatch once: unexpected argument '%s'\n", o.args[0]);
		return 2;
	}
	p = daemon_open(o.config, false);
	if (p == NULL)
		return 1;
	r = schedule_poll_cycle(p, true, now_seconds(), NULL, &ps, NULL);
	if (r == 0)
		r = outbox_deliver_due(p, now_seconds(), &ds);
	log_info("cycle done: %zu feeds ok, %zu failed, %zu new items, %zu alerts; "
	    "%zu delivered, %zu to retry, %zu failed",
	    ps.feeds_ok, ps.feeds_failed, ps.new_items, ps.alerts,
	    ds.delivered, ds.retrying, ds.failed);
	pipeline_free(p);
	metrics_reset();	/* the pipeline fed the counters: free sink names */
	return r < 0 ? 1 : 0;
}

/* What the loop knows about itself, for STATUS= and the gauges. */
struct daemon_state {
	struct pipeline	*p;
	const char	*config;
	int64_t		 last_cycle;	/* unix time, 0 = none yet */
	size_t		 last_polled;
	size_t		 last_new;
	size_t		 last_alerts;
	size_t		 feeds[_METRICS_FEED_STATE_MAX];
	int64_t		 pending;
	int64_t		 dead;
	bool		 writable;
};

static int
feed_url_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct store_feed *)elem)->url);
}

/* Reads the feed states and the outbox size from the store. */
static void
daemon_refresh(struct daemon_state *d)
{
	struct store_feed	*v = NULL;
	struct fw_error		 e;
	size_t			 n = 0;
	int64_t			 extra = 0;
	const struct conf	*c = d->p->conf;

	memset(d->feeds, 0, sizeof(d->feeds));
	/* NOTE: store_feed_list() returns rows in URL order (SQLite's BINARY
	 * collation is strcmp order), so each lookup is a bsearch: a cycle
	 * over 10,000 feeds refreshes in milliseconds. */
	if (store_feed_list(d->p->store, &v, &n, &e) == 0) {
		for (size_t i = 0; i < c->n_feeds; i++) {
			enum metrics_feed_state	 st = METRICS_FEED_NEW;
			const struct store_feed	*f;

			/* No row yet, or no success yet: a new feed. */
			f = n > 0 ? bsearch(c->feeds[i].url, v, n, sizeof(*v), feed_url_cmp) : NULL;
			if (f != NULL && f->disabled)
				st = METRICS_FEED_DISABLED;
			else if (f != NULL && f->consecutive_errors > 0)
				st = METRICS_FEED_FAILING;
			else if (f != NULL && f->last_success > 0)
				st = METRICS_FEED_OK;
			d->feeds[st]++;
		}
		for (size_t j = 0; j < n; j++)
			store_feed_done(&v[j]);
		free(v);
	}
	/* Pending: waiting for an attempt, or held for a digest. */
	if (store_deliveries_count(d->p->store, DELIVERY_PENDING, &d->pending, &e) < 0 ||
	    store_deliveries_count(d->p->store, DELIVERY_HELD, &extra, &e) < 0)
		d->pending = -1;
	else
		d->pending += extra;
	extra = 0;
	/* Dead letters: retries exhausted, refused for good, or 410 Gone. */
	if (store_deliveries_count(d->p->store, DELIVERY_FAILED, &d->dead, &e) < 0 ||
	    store_deliveries_count(d->p->store, DELIVERY_GONE, &extra, &e) < 0)
		d->dead = -1;
	else
		d->dead += extra;
	metrics_set_feeds(d->feeds);
	metrics_set_outbox(d->pending, d->dead);
}

/* Whether the state file takes a write lock now: the /healthz probe. */
static bool
daemon_probe_writable(struct pipeline *p)
{
	struct fw_error e;

	if (store_begin(p->store, &e) < 0)
		return false;
	if (store_commit(p->store, &e) < 0) {
		store_rollback(p->store);
		return false;
	}
	return store_is_shared(p->store) || access(p->conf->state_path, W_OK) == 0 ||
	    errno == ENOENT;
}

/* One line for `systemctl status`: "12 feeds (1 failing); last cycle
 * 14:02:11 UTC: 3 polled, 5 new items, 1 alert; 0 alerts pending". */
static void
daemon_status_line(const struct daemon_state *d, char *buf, size_t size)
{
	size_t	total = 0;
	char	when[32] = "none yet";

	for (int i = 0; i < _METRICS_FEED_STATE_MAX; i++)
		total += d->feeds[i];
	if (d->last_cycle > 0) {
		time_t		t = (time_t)d->last_cycle;
		struct tm	tm;

		(void)gmtime_r(&t, &tm);
		(void)strftime(when, sizeof(when), "%H:%M:%S UTC", &tm);
	}
	snprintf(buf, size, "%zu feeds (%zu failing, %zu disabled); last cycle %s: "
	    "%zu polled, %zu new items, %zu alerts; %lld alerts pending",
	    total, d->feeds[METRICS_FEED_FAILING], d->feeds[METRICS_FEED_DISABLED],
	    when, d->last_polled, d->last_new, d->last_alerts, (long long)d->pending);
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Starts, moves or stops the /metrics endpoint to match conf. */
static int
daemon_apply_http(const struct conf *old, const struct conf *conf)
{
	struct fw_error	e;
	int		r;

	if (old != NULL && same_str(old->http_listen, conf->http_listen))
		return 0;
	metrics_stop();
	if (conf->http_listen == NULL)
		return 0;
	r = metrics_start(conf->http_listen, &e);
	if (r < 0) {
		log_errx("%s: %s", conf->path, e.msg);
		return r;
	}
	log_notice("serving /metrics and /healthz on http://%s",
	    metrics_listen_address());
	return 0;
}

/* Deliveries are one blocking transfer each: a receiver that hangs for
 * longer than half the watchdog interval could get the daemon killed. */
static void
daemon_check_watchdog(const struct conf *conf)
{
	uint64_t wd = notify_watchdog_usec();

	if (wd == 0)
		return;
	for (size_t i = 0; i < conf->n_sinks; i++) {
		const struct conf_sink *cs = &conf->sinks[i];

		if (cs->type != SINK_LOG && cs->timeout > 0 && (uint64_t)cs->timeout * 1000000u > wd / 2)
			log_warnx("sink '%s': timeout %llds is longer than half the watchdog "
			    "interval (%llus): a receiver that hangs that long gets the "
			    "daemon restarted; lower the timeout or raise WatchdogSec=",
			    cs->name, (long long)cs->timeout, (unsigned long long)(wd / 1000000u));
	}
}

/* Under no_new_privs (the unit's NoNewPrivileges=yes) a sendmail that
 * needs a set-user-ID or set-group-ID helper fails on every delivery: say
 * so at start, not only at the first alert. */
static void
daemon_check_sendmail(const struct conf *conf)
{
	const char *program;

	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return;
	for (size_t i = 0; i < conf->n_sinks; i++)
		if ((program = sink_mail_sendmail_privileged(&conf->sinks[i])) != NULL)
			log_warnx("sink '%s': sendmail '%s' needs a setgid or setuid helper "
			    "(Postfix's postdrop), which cannot gain its privilege under "
			    "no_new_privs (NoNewPrivileges=yes): its deliveries will fail; use "
			    "smtp://localhost:25, or a sendmail that needs no privilege such as "
			    "msmtp's (feedwatch.yaml(5))", conf->sinks[i].name, program);
}

static void
daemon_reload(struct daemon_state *d)
{
	struct pipeline	*np;
	char		 status[512];

	(void)notify_reloading();
	log_notice("reloading %s", d->config);
	np = daemon_open(d->config, true);
	if (np == NULL) {
		log_struct(LOG_LEVEL_ERR, LOG_FIELDS({ "CONFIG_FILE", d->config }),
		    "reload failed: keeping the running configuration");
		/* Log files are still reopened: logrotate sends SIGHUP too. */
		pipeline_reopen_sinks(d->p);
	} else {
		(void)daemon_apply_http(d->p->conf, np->conf);
		pipeline_free(d->p);
		d->p = np;
		log_notice("reloaded: %zu %s, %zu %s, %zu %s", np->conf->n_feeds,
		    plural(np->conf->n_feeds, "feed", "feeds"), np->conf->n_topics,
		    plural(np->conf->n_topics, "topic", "topics"), np->conf->n_sinks,
		    plural(np->conf->n_sinks, "sink", "sinks"));
		daemon_check_watchdog(np->conf);
		daemon_check_sendmail(np->conf);
	}
	daemon_refresh(d);
	daemon_status_line(d, status, sizeof(status));
	(void)notify_ready(status);
}

/* How long to sleep: until the next feed or delivery is due, but never
 * past half the watchdog interval. In microseconds. */
static uint64_t
daemon_sleep_usec(int64_t wait)
{
	uint64_t usec, wd = notify_watchdog_period_usec();

	if (wait < 1)
		wait = 1;
	usec = (uint64_t)wait * 1000000u;
	if (wd > 0 && wd < usec)
		usec = wd;
	return usec;
}

int
cmd_run(int argc, char **argv)
{
	struct sigaction	 sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	struct sigaction	 sa_alarm = { .sa_handler = on_stop_deadline };
	struct daemon_state	 d = { .writable = true };
	sigset_t		 block, waitmask;
	struct cmd_opts		 o;
	char			 status[512];
	int			 failed = 0;

	if (cmd_parse_opts(argc, argv, "", &o) < 0)
		return 2;
	if (o.n_args > 0) {
		fprintf(stderr, "feedwatch run: unexpected argument '%s'\n", o.args[0]);
		return 2;
	}
	notify_init();
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	/* Blocked before any thread (libmicrohttpd's) starts, so that the
	 * threads inherit the mask and the signals come to this one. */
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGHUP);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&sa_alarm.sa_mask);
	sigaction(SIGALRM, &sa_alarm, NULL);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());

	d.config = o.config;
	d.p = daemon_open(o.config, true);
	if (d.p == NULL)
		return 1;
	if (daemon_apply_http(NULL, d.p->conf) < 0) {
		d.p = pipeline_free(d.p);
		return 1;
	}
	log_notice("started: %zu %s, %zu %s, %zu %s", d.p->conf->n_feeds,
	    plural(d.p->conf->n_feeds, "feed", "feeds"), d.p->conf->n_topics,
	    plural(d.p->conf->n_topics, "topic", "topics"), d.p->conf->n_sinks,
	    plural(d.p->conf->n_sinks, "sink", "sinks"));
	daemon_refresh(&d);
	metrics_loop_alive(now_seconds(), 0, daemon_probe_writable(d.p));
	daemon_status_line(&d, status, sizeof(status));
	(void)notify_ready(status);
	if (notify_watchdog_usec() > 0)
		log_info("watchdog: pinging every %llums at most",
		    (unsigned long long)(notify_watchdog_period_usec() / 1000));
	daemon_check_watchdog(d.p->conf);
	daemon_check_sendmail(d.p->conf);

	while (!got_stop && !failed) {
		struct poll_stats	ps = { 0 };
		struct deliver_stats	ds = { 0 };
		struct timespec		ts;
		int64_t			wait = 1, dwait;
		uint64_t		usec;
		double			t0;
		int			r;

		if (got_reload) {
			got_reload = 0;
			daemon_reload(&d);
		}
		(void)notify_watchdog();
		t0 = now_monotonic();
		/* Signals may interrupt polling and delivery: the cycle
		 * checks got_stop and returns early. */
		sigprocmask(SIG_SETMASK, &waitmask, NULL);
		r = schedule_poll_cycle(d.p, false, now_seconds(), &got_stop, &ps, &wait);
		if (r == 0 && !got_stop)
			r = outbox_deliver_due(d.p, now_seconds(), &ds);
		/* A shared database that restarts or fails over drops the
		 * connection: what was in the transaction was rolled back,
		 * and the next cycle connects again. A file that fails is
		 * not going to get better by itself. */
		if (r == -ECONNRESET && store_is_shared(d.p->store)) {
			log_warnx("the state database %s is unreachable: trying again in %ds",
			    store_label(d.p->store), DAEMON_RECONNECT_WAIT);
			wait = DAEMON_RECONNECT_WAIT;
		} else if (r < 0)
			failed = 1;
		sigprocmask(SIG_BLOCK, &block, NULL);
		(void)notify_watchdog();
		metrics_items_observe(ps.items, ps.new_items);
		if (ps.feeds_ok + ps.feeds_failed > 0) {
			d.last_cycle = now_seconds();
			d.last_polled = ps.feeds_ok + ps.feeds_failed;
			d.last_new = ps.new_items;
			d.last_alerts = ps.alerts;
			metrics_cycle_done(d.last_cycle, now_monotonic() - t0);
		}
		if (ps.feeds_ok + ps.feeds_failed > 0 || ds.delivered + ds.failed > 0) {
			log_info("cycle: %zu feeds polled (%zu failed), %zu new items, "
			    "%zu alerts, %zu delivered", ps.feeds_ok + ps.feeds_failed,
			    ps.feeds_failed, ps.new_items, ps.alerts, ds.delivered);
			daemon_refresh(&d);
			daemon_status_line(&d, status, sizeof(status));
			(void)notify_status(status);
		}
		if (got_stop || failed)
			continue;
		dwait = outbox_next_delivery_in(d.p, now_seconds());
		if (dwait >= 0 && dwait < wait)
			wait = dwait;
		usec = daemon_sleep_usec(wait);
		if (metrics_listen_address() != NULL)
			d.writable = daemon_probe_writable(d.p);
		metrics_loop_alive(now_seconds(), (int64_t)(usec / 1000000u) + 1, d.writable);
		if (got_reload)
			continue;
		ts.tv_sec = (time_t)(usec / 1000000u);
		ts.tv_nsec = (long)(usec % 1000000u) * 1000;
		(void)ppoll(NULL, 0, &ts, &waitmask);
	}
	(void)notify_stopping();
	log_notice("stopping%s", failed ? " after a state-file error" : "");
	metrics_stop();
	metrics_reset();
	pipeline_free(d.p);
	alarm(0);
	return failed ? 1 : 0;
}
