/* daemon.c — the verbs that drive the pipeline: `once` (one cycle over every
 * feed, then deliver), `run` (the polling loop until SIGTERM/SIGINT, SIGHUP
 * reloads) and `check-config`. Signals only set flags; the loop sleeps in
 * ppoll() with them unblocked, so a signal always wakes it. */
#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "cmd.h"
#include "cmd_common.h"
#include "log.h"
#include "outbox.h"
#include "pipeline.h"
#include "schedule.h"

static volatile sig_atomic_t	got_stop;
static volatile sig_atomic_t	got_reload;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_reload = 1;
	else
		got_stop = 1;
}

static int64_t
now_seconds(void)
{
	return (int64_t)time(NULL);
}

static struct pipeline *
daemon_open(const char *config)
{
	struct fw_errors	 errs = { 0 };
	struct pipeline		*p = NULL;
	struct conf		*conf;

	conf = cmd_load_conf(config);
	if (conf == NULL)
		return NULL;
	if (pipeline_new(conf, &p, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fw_error_print(stderr, &errs.v[i]);
		if (errs.n == 0)
			fprintf(stderr, "%s: cannot start: out of memory\n", config);
		p = NULL;
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
	r = conf_load(o.config, &conf, &errs);
	/* The rules are checked even when the rest is broken only if the
	 * file loaded: rule positions come from the loaded document. */
	if (r == 0)
		r = classifier_new(conf, &cls, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fw_error_print(stderr, &errs.v[i]);
	if (r < 0 && errs.n == 0)
		fprintf(stderr, "%s: %s\n", o.config, strerror(-r));
	if (r == 0)
		printf("%s: OK: %zu feeds, %zu topics, %zu sinks\n", o.config,
		    conf->n_feeds, conf->n_topics, conf->n_sinks);
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
	p = daemon_open(o.config);
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
	return r < 0 ? 1 : 0;
}

static void
daemon_reload(struct pipeline **pp, const char *config)
{
	struct pipeline *np;

	log_notice("reloading %s", config);
	np = daemon_open(config);
	if (np == NULL) {
		log_errx("reload failed: keeping the running configuration");
		pipeline_reopen_sinks(*pp);
		return;
	}
	pipeline_free(*pp);
	*pp = np;
	log_notice("reloaded: %zu feeds, %zu topics, %zu sinks", np->conf->n_feeds,
	    np->conf->n_topics, np->conf->n_sinks);
}

int
cmd_run(int argc, char **argv)
{
	struct sigaction	 sa = { .sa_handler = on_signal };
	sigset_t		 block, waitmask;
	struct pipeline		*p;
	struct cmd_opts		 o;
	int			 failed = 0;

	if (cmd_parse_opts(argc, argv, "", &o) < 0)
		return 2;
	if (o.n_args > 0) {
		fprintf(stderr, "feedwatch run: unexpected argument '%s'\n", o.args[0]);
		return 2;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGHUP);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());

	p = daemon_open(o.config);
	if (p == NULL)
		return 1;
	log_notice("started: %zu feeds, %zu topics, %zu sinks", p->conf->n_feeds,
	    p->conf->n_topics, p->conf->n_sinks);
	while (!got_stop && !failed) {
		struct poll_stats	ps = { 0 };
		struct deliver_stats	ds = { 0 };
		struct timespec		ts;
		int64_t			wait = 1, dwait;

		if (got_reload) {
			got_reload = 0;
			daemon_reload(&p, o.config);
		}
		if (schedule_poll_cycle(p, false, now_seconds(), &got_stop, &ps, &wait) < 0)
			failed = 1;
		if (!got_stop && outbox_deliver_due(p, now_seconds(), &ds) < 0)
			failed = 1;
		if (ps.feeds_ok + ps.feeds_failed > 0 || ds.delivered + ds.failed > 0)
			log_info("cycle: %zu feeds polled (%zu failed), %zu new items, "
			    "%zu alerts, %zu delivered", ps.feeds_ok + ps.feeds_failed,
			    ps.feeds_failed, ps.new_items, ps.alerts, ds.delivered);
		dwait = outbox_next_delivery_in(p, now_seconds());
		if (dwait >= 0 && dwait < wait)
			wait = dwait;
		if (wait < 1)
			wait = 1;
		if (got_stop || got_reload || failed)
			continue;
		ts.tv_sec = (time_t)wait;
		ts.tv_nsec = 0;
		(void)ppoll(NULL, 0, &ts, &waitmask);
	}
	log_notice("stopping%s", failed ? " after a state-file error" : "");
	pipeline_free(p);
	return failed ? 1 : 0;
}
