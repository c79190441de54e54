/* sink.c — the table of sink types and the per-sink filters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sink.h"

static const struct sink_ops *const sink_types[_SINK_TYPE_MAX] = {
	[SINK_LOG] = &sink_log_ops,
};

int
sink_new(const struct conf_sink *cs, struct sink **ret, struct fw_error *reterr)
{
	static const char	*type_names[] = { "log", "webhook", "mail", "exec" };
	struct sink		*s;
	int			 r;

	if (sink_types[cs->type] == NULL) {
		fw_error_set(reterr, NULL, cs->line, cs->col,
		    "sink '%s': type '%s' is not built into this feedwatch",
		    cs->name, type_names[cs->type]);
		return -EOPNOTSUPP;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->conf = cs;
	s->ops = sink_types[cs->type];
	r = s->ops->open(s, reterr);
	if (r < 0) {
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
	free(s);
	return NULL;
}

int
sink_deliver(struct sink *s, const char *alert_json, struct sink_outcome *out)
{
	memset(out, 0, sizeof(*out));
	return s->ops->deliver(s, alert_json, out);
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
