/* cmd_alerts.c — `feedwatch alerts`: recent alerts and their delivery state
 * per sink, the dead letters (--failed), and requeueing them or hurrying
 * pending ones (--retry). */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "cmd_common.h"
#include "parse.h"
#include "store.h"
#include "safe.h"

#define ALERTS_LIST_LIMIT 200

static void
print_delivery(const struct store_delivery *d, int json)
{
	json_t		*a = json_loads(d->json, 0, NULL);
	json_t		*item = json_object_get(a, "item");
	const char	*title = json_string_value(json_object_get(item, "title"));
	char		 created[40], next[40];

	bool		 waiting = d->state == DELIVERY_PENDING || d->state == DELIVERY_HELD;
	/* Rows stored before errors were redacted are shown redacted too. */
	char		*error = d->last_error != NULL ? safe_redact(d->last_error) : NULL;
	const char	*last_error = error != NULL ? error : d->last_error;

	fw_time_format(d->created, created, sizeof(created));
	fw_time_format(d->next_attempt, next, sizeof(next));
	if (json) {
		json_t	*o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s?, s:s?, s:s?, s:s?, s:O?}",
		    "alert", d->alert_id, "sink", d->sink,
		    "state", delivery_state_to_string(d->state), "attempts", d->attempts,
		    "created", created, "next_attempt", waiting ? next : NULL,
		    "last_error", last_error, "digest", d->digest_id,
		    "title", title, "topics", json_object_get(a, "topics"));
		char	*s = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (s != NULL)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	} else {
		safe_printf("%s  %-10s %-9s %2d  %s  %s\n", d->alert_id, d->sink,
		    delivery_state_to_string(d->state), d->attempts, created,
		    title ? title : "(no title)");
		if (d->state == DELIVERY_HELD)
			safe_printf("    held for a digest (flood control), sent %s%s%s\n", next,
			    last_error != NULL ? "; last error: " : "",
			    last_error != NULL ? last_error : "");
		else if (last_error != NULL && d->state != DELIVERY_DELIVERED &&
		    d->state != DELIVERY_DIGESTED)
			safe_printf("    %s%s%s\n", last_error,
			    d->state == DELIVERY_PENDING ? "; next attempt " : "",
			    d->state == DELIVERY_PENDING ? next : "");
	}
	json_decref(a);
	free(error);
}

/* --retry ID|PREFIX|all: dead letters are requeued, pending deliveries made
 * due now. Returns 0, or -1 having said why on stderr. */
static int
retry(struct store *store, const char *which)
{
	struct fw_error	 e;
	char		*id = NULL;
	int64_t		 now;
	int		 r, failed = 0, pending = 0;

	if (strcmp(which, "all") != 0) {
		r = which[0] == '\0' ? 0 : store_alert_find(store, which, &id, &e);
		if (r < 0) {
			fw_error_print(stderr, &e);
			return -1;
		}
		if (r != 1) {
			fprintf(stderr, "feedwatch alerts: %s '%s'%s\n",
			    r == 0 ? "no such alert" : "more than one alert starts with", which,
			    r == 0 ? " (feedwatch alerts lists them)" : ": give more of its id");
			return -1;
		}
	}
	/* Dead letters start over; pending deliveries keep their attempts
	 * and are only brought forward. */
	now = (int64_t)time(NULL);
	if (store_begin(store, &e) == 0 &&
	    (failed = store_deliveries_retry(store, id, now, &e)) >= 0 &&
	    (pending = store_deliveries_hurry(store, NULL, id, now, &e)) >= 0)
		r = store_commit(store, &e);
	else {
		store_rollback(store);
		r = -1;
	}
	if (r < 0)
		fw_error_print(stderr, &e);
	else if (id != NULL && failed + pending == 0)
		printf("alert %s has no failed or pending delivery to requeue\n", id);
	else if (pending == 0)
		printf("requeued %d %s%s%s; %s sent on the next cycle\n", failed,
		    failed == 1 ? "delivery" : "deliveries", id != NULL ? " of alert " : "",
		    id != NULL ? id : "", failed == 1 ? "it is" : "they are");
	else if (failed == 0)
		printf("made %d pending %s%s%s due now; %s sent on the next cycle\n", pending,
		    pending == 1 ? "delivery" : "deliveries", id != NULL ? " of alert " : "",
		    id != NULL ? id : "", pending == 1 ? "it is" : "they are");
	else
		printf("requeued %d %s and made %d pending %s due now%s%s; they are sent on "
		    "the next cycle\n", failed, failed == 1 ? "delivery" : "deliveries", pending,
		    pending == 1 ? "one" : "ones", id != NULL ? " for alert " : "",
		    id != NULL ? id : "");
	free(id);
	return r < 0 ? -1 : 0;
}

int
cmd_alerts(int argc, char **argv)
{
	struct store_delivery	*v = NULL;
	struct cmd_opts		 o;
	struct conf		*conf;
	struct store		*store = NULL;
	struct fw_error		 e;
	size_t			 n = 0;
	int			 r;

	if (cmd_parse_opts(argc, argv, "json,failed,retry", &o) < 0)
		return 2;
	conf = cmd_load_conf_without_secrets(o.config);
	if (conf == NULL)
		return 1;
	if ((r = store_open(conf->state_path, &store, &e)) < 0) {
		fw_error_print(stderr, &e);
		goto out;
	}
	if (o.retry != NULL) {
		r = retry(store, o.retry);
		goto out;
	}
	if ((r = store_deliveries_list(store, o.failed, ALERTS_LIST_LIMIT, &v, &n, &e)) < 0) {
		fw_error_print(stderr, &e);
		goto out;
	}
	if (!o.json)
		printf("%-32s  %-10s %-9s %2s  %-20s  %s\n", "ALERT", "SINK", "STATE", "#",
		    "CREATED", "TITLE");
	for (size_t i = 0; i < n; i++) {
		print_delivery(&v[i], o.json);
		store_delivery_done(&v[i]);
	}
	free(v);
out:
	store_close(store);
	conf_free(conf);
	return r < 0 ? 1 : 0;
}
