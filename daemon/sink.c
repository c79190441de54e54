/* sink.c — the table of sink types, the per-sink filters, and the readable
 * renderings of an alert that several sink types share (the text log, the
 * mail body and subject). The sink types themselves live in sink_*.c; flood
 * control state is created here with each sink and used by the outbox. */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flood.h"
#include "sink.h"
#include "safe.h"

/* NOTE: indexed by enum sink_type. */
static const struct sink_ops *const sink_types[_SINK_TYPE_MAX] = {
	[SINK_LOG] = &sink_log_ops,
	[SINK_WEBHOOK] = &sink_webhook_ops,
	[SINK_MAIL] = &sink_mail_ops,
	[SINK_EXEC] = &sink_exec_ops,
};

int
sink_new(const struct conf_sink *cs, struct sink **ret, struct fw_error *reterr)
{
	static const char	*type_names[] = { "log", "webhook", "mail", "exec" };
	struct sink		*s;
	int			 r;

	if (cs->type >= _SINK_TYPE_MAX || sink_types[cs->type] == NULL) {
		fw_error_set(reterr, NULL, cs->line, cs->col,
		    "sink '%s': type '%s' is not built into this feedwatch", cs->name,
		    cs->type < _SINK_TYPE_MAX ? type_names[cs->type] : "?");
		return -EOPNOTSUPP;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->conf = cs;
	s->ops = sink_types[cs->type];
	s->flood = flood_new(cs);
	if (s->flood == NULL) {
		free(s);
		return -ENOMEM;
	}
	r = s->ops->open(s, reterr);
	if (r < 0) {
		flood_free(s->flood);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

struct sink *
sink_free(struct sink *s)
{
	if (s == NULL)
		return NULL;
	s->ops->close(s);
	flood_free(s->flood);
	free(s);
	return NULL;
}

int
sink_deliver(struct sink *s, const struct sink_msg *msg, struct sink_outcome *out)
{
	memset(out, 0, sizeof(*out));
	return s->ops->deliver(s, msg, out);
}

bool
sink_can_batch(const struct sink *s)
{
	return s->ops->deliver_batch != NULL;
}

int
sink_deliver_batch(struct sink *s, const struct sink_msg *msgs, size_t n,
    struct sink_outcome *outs)
{
	memset(outs, 0, n * sizeof(*outs));
	return s->ops->deliver_batch(s, msgs, n, outs);
}

void
sink_reopen(struct sink *s)
{
	if (s->ops->reopen != NULL)
		s->ops->reopen(s);
}

static bool
strlist_has(const struct conf_strlist *l, const char *s)
{
	for (size_t i = 0; s != NULL && i < l->n; i++)
		if (strcmp(l->v[i].s, s) == 0)
			return true;
	return false;
}

bool
sink_accepts(const struct conf_sink *cs, const char *feed_name, const char *feed_url,
    const char *const *topics, size_t n_topics, enum severity severity)
{
	bool any = cs->topics.n == 0;

	if (severity < cs->min_severity)
		return false;
	if (cs->feeds.n > 0 && !strlist_has(&cs->feeds, feed_name) &&
	    !strlist_has(&cs->feeds, feed_url))
		return false;
	for (size_t i = 0; !any && i < n_topics; i++)
		any = strlist_has(&cs->topics, topics[i]);
	return any;
}

const char *
sink_json_str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

bool
sink_alert_is_update(json_t *a)
{
	return sink_json_str(a, "updates")[0] != '\0';
}

static int
join_strings(json_t *arr, struct buf *b)
{
	json_t	*v;
	size_t	 i;
	int	 r = 0;

	json_array_foreach(arr, i, v)
		r |= safe_bprintf(b, "%s%s", i ? ", " : "", json_is_string(v) ? json_string_value(v) : "");
	return r;
}

int
sink_render_update(json_t *a, struct buf *b)
{
	json_t	*u = json_object_get(a, "update");
	json_t	*sources = json_object_get(a, "sources");
	int	 r = 0;

	if (json_object_get(a, "development") == NULL)
		return 0;
	if (sink_alert_is_update(a)) {
		r |= buf_append_str(b, "update:");
		if (json_array_size(json_object_get(u, "figures")) > 0) {
			r |= buf_append_str(b, " new figures ");
			r |= join_strings(json_object_get(u, "figures"), b);
			r |= buf_append_str(b, ";");
		}
		if (json_array_size(json_object_get(u, "topics")) > 0) {
			r |= buf_append_str(b, " now also ");
			r |= join_strings(json_object_get(u, "topics"), b);
			r |= buf_append_str(b, ";");
		}
		if (json_integer_value(json_object_get(u, "confirmed_by")) > 0)
			r |= buf_printf(b, " confirmed by %lld sources;",
			    (long long)json_integer_value(json_object_get(u, "confirmed_by")));
		r |= buf_append_str(b, " ");
	}
	r |= buf_append_str(b, "sources: ");
	r |= join_strings(sources, b);
	return r < 0 ? -ENOMEM : 0;
}

int
sink_render_text(json_t *a, struct buf *b)
{
	json_t		*item = json_object_get(a, "item");
	json_t		*topics = json_object_get(a, "topics");
	json_t		*hits = json_object_get(a, "hits");
	json_t		*v;
	const char	*title = sink_json_str(item, "title");
	const char	*feed = sink_json_str(a, "feed_name");
	size_t		 i;
	int		 r = 0;

	if (sink_alert_is_update(a))
		r |= buf_append_str(b, "Update: ");
	r |= buf_append_str(b, "[");
	json_array_foreach(topics, i, v)
		r |= safe_bprintf(b, "%s%s", i ? ", " : "", json_string_value(v));
	r |= safe_bprintf(b, "] %s", title[0] ? title : "(no title)");
	if (strcmp(sink_json_str(a, "severity"), "normal") != 0)
		r |= safe_bprintf(b, "  (%s)", sink_json_str(a, "severity"));
	r |= buf_append_str(b, "\n");
	if (sink_json_str(item, "link")[0])
		r |= safe_bprintf(b, "    %s\n", sink_json_str(item, "link"));
	r |= safe_bprintf(b, "    feed: %s", feed[0] ? feed : sink_json_str(a, "feed"));
	if (sink_json_str(item, "published")[0])
		r |= safe_bprintf(b, " | published %s", sink_json_str(item, "published"));
	r |= buf_append_str(b, "\n    matched:");
	json_array_foreach(hits, i, v)
		r |= safe_bprintf(b, "%s %s: \"%s\" in %s", i ? ";" : "",
		    sink_json_str(v, "topic"), sink_json_str(v, "term"),
		    sink_json_str(v, "field"));
	if (json_object_get(a, "development") != NULL) {
		r |= safe_bprintf(b, "\n    development %s", sink_json_str(a, "development"));
		if (sink_alert_is_update(a))
			r |= safe_bprintf(b, " (updates alert %s)", sink_json_str(a, "updates"));
		r |= buf_append_str(b, "\n    ");
		r |= sink_render_update(a, b);
	}
	r |= safe_bprintf(b, "\n    alert %s\n", sink_json_str(a, "id"));
	return r < 0 ? -ENOMEM : 0;
}

int
sink_render_msg_text(const struct sink_msg *msg, struct buf *b)
{
	json_t	*o = json_loads(msg->json, 0, NULL);
	json_t	*v;
	size_t	 i;
	int	 r = 0;

	if (o == NULL)
		return -EINVAL;
	if (!msg->digest) {
		r = sink_render_text(o, b);
		json_decref(o);
		return r;
	}
	r = safe_bprintf(b, "feedwatch digest %s: %zu alerts\n\n", sink_json_str(o, "id"),
	    json_array_size(json_object_get(o, "alerts")));
	json_array_foreach(json_object_get(o, "alerts"), i, v) {
		if (r == 0)
			r = sink_render_text(v, b);
		if (r == 0)
			r = buf_append_str(b, "\n");
	}
	json_decref(o);
	return r;
}

int
sink_render_subject(const struct sink_msg *msg, struct buf *b)
{
	json_t		*o = json_loads(msg->json, 0, NULL);
	json_t		*first;
	const char	*title;
	size_t		 n;
	int		 r;

	if (o == NULL)
		return -EINVAL;
	first = msg->digest ? json_array_get(json_object_get(o, "alerts"), 0) : o;
	title = sink_json_str(json_object_get(first, "item"), "title");
	if (title[0] == '\0')
		title = "(no title)";
	n = json_array_size(json_object_get(o, "alerts"));
	if (msg->digest)
		r = buf_printf(b, "%zu feedwatch alerts: %s%s", n, title, n > 1 ? " …" : "");
	else
		r = buf_printf(b, "%s%s", sink_alert_is_update(o) ? "Update: " : "", title);
	json_decref(o);
	return r;
}

void
sink_curl_ca(void *curl, const char *ca_path)
{
	struct stat st;

	if (ca_path == NULL)
		return;
	if (stat(ca_path, &st) == 0 && S_ISDIR(st.st_mode))
		(void)curl_easy_setopt((CURL *)curl, CURLOPT_CAPATH, ca_path);
	else
		(void)curl_easy_setopt((CURL *)curl, CURLOPT_CAINFO, ca_path);
}
