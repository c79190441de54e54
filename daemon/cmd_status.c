/* cmd_status.c — `feedwatch status`: every configured feed and its polling
 * state, read from the state file (safe while the daemon runs: WAL). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "cmd_common.h"
#include "parse.h"
#include "store.h"
#include "safe.h"

static json_t *
time_or_null(int64_t t)
{
	char buf[40];

	return t > 0 ? json_string(fw_time_format(t, buf, sizeof(buf))) : json_null();
}

static const char *
feed_state_name(const struct store_feed *st)
{
	if (st->disabled)
		return "disabled";
	if (st->last_poll == 0)
		return "new";
	return st->consecutive_errors > 0 ? "failing" : "ok";
}

int
cmd_status(int argc, char **argv)
{
	struct cmd_opts	 o;
	struct conf	*conf;
	struct store	*store = NULL;
	struct fw_error	 e;
	int		 r = 0;

	if (cmd_parse_opts(argc, argv, "json", &o) < 0)
		return 2;
	conf = cmd_load_conf_without_secrets(o.config);
	if (conf == NULL)
		return 1;
	if (store_open(conf->state_path, &store, &e) < 0) {
		fw_error_print(stderr, &e);
		conf_free(conf);
		return 1;
	}
	if (!o.json)
		printf("%-24s %-9s %-20s %4s %7s %6s %8s %-20s\n", "FEED", "STATE", "LAST POLL",
		    "HTTP", "ITEMS", "ERRORS", "BACKOFF", "NEXT POLL");
	for (size_t i = 0; i < conf->n_feeds && r == 0; i++) {
		const struct conf_feed	*f = &conf->feeds[i];
		struct store_feed	 st;
		char			 last[40] = "-", next[40] = "-", backoff[32] = "-";
		const char		*polled;
		char			*url_shown, *polled_shown, *error_shown;
		int64_t			 wait;

		if ((r = store_feed_get(store, f->url, &st, &e)) < 0) {
			fw_error_print(stderr, &e);
			break;
		}
		/* Where the feed is polled now: a permanent redirect that held
		 * for redirect_hold polls replaces the configured URL. */
		polled = st.redirect_url != NULL &&
		    st.redirect_count >= (int)conf->redirect_hold ? st.redirect_url : f->url;
		/* The wait before the next try, while a feed is failing. */
		wait = st.consecutive_errors > 0 && st.next_poll > st.last_poll
		    ? st.next_poll - st.last_poll : 0;
		/* URLs and errors as shown: without secrets (safe.h). */
		url_shown = safe_redact(f->url);
		polled_shown = safe_redact(polled);
		error_shown = st.last_error != NULL ? safe_redact(st.last_error) : NULL;
		if (url_shown == NULL || polled_shown == NULL ||
		    (st.last_error != NULL && error_shown == NULL)) {
			r = -ENOMEM;
			goto next;
		}
		if (o.json) {
			json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:i, s:I, s:I,"
			    " s:b, s:o, s:o, s:o}",
			    "name", f->name, "url", url_shown, "polled_url", polled_shown,
			    "state", feed_state_name(&st),
			    "last_poll", time_or_null(st.last_poll),
			    "http_status", (json_int_t)st.last_status,
			    "items_seen", (json_int_t)st.items_seen,
			    "consecutive_errors", st.consecutive_errors,
			    "backoff_seconds", (json_int_t)wait,
			    "interval_seconds", (json_int_t)st.interval,
			    "health_alert", st.health_alerted != 0,
			    "last_error", error_shown ? json_string(error_shown) : json_null(),
			    "next_poll", time_or_null(st.next_poll),
			    "last_success", time_or_null(st.last_success));
			char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

			if (s != NULL)
				printf("%s\n", s);
			free(s);
			json_decref(j);
		} else {
			if (st.last_poll > 0)
				fw_time_format(st.last_poll, last, sizeof(last));
			if (st.next_poll > 0)
				fw_time_format(st.next_poll, next, sizeof(next));
			if (wait > 0)
				snprintf(backoff, sizeof(backoff), "%llds", (long long)wait);
			safe_printf("%-24.24s %-9s %-20s %4ld %7lld %6d %8s %-20s\n", f->name,
			    feed_state_name(&st), last, st.last_status,
			    (long long)st.items_seen, st.consecutive_errors, backoff, next);
			if (polled != f->url)
				safe_printf("    moved to: %s\n", polled_shown);
			if (error_shown != NULL)
				safe_printf("    last error: %s\n", error_shown);
		}
next:
		free(url_shown);
		free(polled_shown);
		free(error_shown);
		store_feed_done(&st);
	}
	store_close(store);
	conf_free(conf);
	return r < 0 ? 1 : 0;
}
