/* alert.c — build the alert record (its stable id and its JSON) from an item
 * and its topic matches. The JSON shape is the contract of the JSONL log sink
 * and the generic webhook: id, created, severity, topics, matches, feed,
 * feed_name, item {id, title, link, published, summary}. */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "parse.h"
#include "safe.h"

void
alert_hash_hex(const char *s, char out[33])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;

	if (!EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) || mdlen < 16)
		memset(md, 0, sizeof(md));
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[32] = '\0';
}

static json_t *
json_str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
json_time_or_null(int64_t t)
{
	char buf[40];

	if (t == FW_TIME_NONE)
		return json_null();
	return json_string(fw_time_format(t, buf, sizeof(buf)));
}

void
alert_done(struct alert *a)
{
	free(a->id);
	free(a->dedup_key);
	free(a->json);
	memset(a, 0, sizeof(*a));
}

static json_t *
json_strings(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int
alert_add_development(json_t *o, const struct alert_development *dev)
{
	json_t *sources = json_loads(dev->sources != NULL ? dev->sources : "[]", 0, NULL);

	if (sources == NULL || json_object_set_new(o, "development", json_string(dev->key)) < 0 ||
	    json_object_set_new(o, "sources", sources) < 0)
		return -ENOMEM;
	if (dev->updates == NULL)
		return 0;
	/* What is new, so the receiver can say it without diffing. */
	if (json_object_set_new(o, "updates", json_string(dev->updates)) < 0 ||
	    json_object_set_new(o, "update", json_pack("{s:o, s:o, s:i}",
	    "figures", json_strings(dev->new_figures, dev->n_new_figures),
	    "topics", json_strings(dev->new_topics, dev->n_new_topics),
	    "confirmed_by", (json_int_t)dev->n_sources)) < 0)
		return -ENOMEM;
	return 0;
}

int
alert_build(const struct conf_feed *feed, const char *feed_url,
    const struct feed_item *item, const struct classify_result *cls, int64_t now,
    struct alert *ret)
{
	return alert_build_dev(feed, feed_url, item, cls, NULL, now, ret);
}

int
alert_build_dev(const struct conf_feed *feed, const char *feed_url,
    const struct feed_item *item, const struct classify_result *cls,
    const struct alert_development *dev, int64_t now, struct alert *ret)
{
	struct alert	 a = { 0 };
	json_t		*o = NULL, *topics, *matches, *hits, *it;
	char		 hex[33];
	int		 r = -ENOMEM;

	if (feed != NULL)
		feed_url = feed->url;
	/* The same story carried by two feeds has one link: one alert. */
	if (dev != NULL && dev->updates != NULL) {
		if (asprintf(&a.dedup_key, "update:%s:%s\n%s", dev->key, feed_url, item->id) < 0)
			a.dedup_key = NULL;
	} else if (dev != NULL && dev->canon != NULL && dev->canon[0] != '\0') {
		if (asprintf(&a.dedup_key, "link:%s", dev->canon) < 0)
			a.dedup_key = NULL;
	} else if (item->link != NULL && item->link[0] != '\0') {
		if (asprintf(&a.dedup_key, "link:%s", item->link) < 0)
			a.dedup_key = NULL;
	} else if (asprintf(&a.dedup_key, "id:%s\n%s", feed_url, item->id) < 0)
		a.dedup_key = NULL;
	if (a.dedup_key == NULL)
		goto out;
	alert_hash_hex(a.dedup_key, hex);
	if ((a.id = strdup(hex)) == NULL)
		goto out;

	o = json_object();
	topics = json_array();
	matches = json_object();
	hits = json_array();
	it = json_object();
	if (o == NULL || topics == NULL || matches == NULL || hits == NULL || it == NULL) {
		json_decref(topics);
		json_decref(matches);
		json_decref(hits);
		json_decref(it);
		goto out;
	}
	a.severity = SEVERITY_LOW;
	for (size_t i = 0; i < cls->n_matches; i++) {
		const struct classify_match	*m = &cls->matches[i];
		json_t				*terms = json_array();

		if (m->severity > a.severity)
			a.severity = m->severity;
		json_array_append_new(topics, json_string(m->topic));
		for (size_t j = 0; terms != NULL && j < m->n_hits; j++) {
			json_array_append_new(terms, json_string(m->hits[j].term));
			json_array_append_new(hits, json_pack("{s:s, s:s, s:s}",
			    "topic", m->topic, "term", m->hits[j].term,
			    "field", m->hits[j].field));
		}
		json_object_set_new(matches, m->topic, terms != NULL ? terms : json_array());
	}
	json_object_set_new(it, "id", json_string(item->id));
	json_object_set_new(it, "title", json_str_or_null(item->title));
	json_object_set_new(it, "link", json_str_or_null(item->link));
	json_object_set_new(it, "published", json_time_or_null(item->published));
	json_object_set_new(it, "summary", json_str_or_null(item->summary));

	json_object_set_new(o, "id", json_string(a.id));
	json_object_set_new(o, "created", json_time_or_null(now));
	json_object_set_new(o, "severity", json_string(severity_to_string(a.severity)));
	json_object_set_new(o, "topics", topics);
	json_object_set_new(o, "matches", matches);
	json_object_set_new(o, "hits", hits);
	/* Shown in every sink: a token in the feed's URL is not (safe.h). */
	{
		char *shown = feed_url != NULL ? safe_redact(feed_url) : NULL;

		if (feed_url != NULL && shown == NULL)
			goto out;
		json_object_set_new(o, "feed", json_str_or_null(shown));
		free(shown);
	}
	json_object_set_new(o, "feed_name", json_str_or_null(feed != NULL ? feed->name : NULL));
	json_object_set_new(o, "item", it);
	if (dev != NULL && alert_add_development(o, dev) < 0)
		goto out;

	a.json = json_dumps(o, JSON_COMPACT);
	if (a.json == NULL)
		goto out;
	*ret = a;
	memset(&a, 0, sizeof(a));
	r = 0;
out:
	json_decref(o);
	alert_done(&a);
	return r;
}
