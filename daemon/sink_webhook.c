/* sink_webhook.c — alerts as HTTP POSTs with a JSON body, signed the
 * Standard Webhooks way. The body is built with jansson in one of four
 * formats: generic (the alert object itself), slack, discord, ntfy. Every
 * request carries webhook-id (the alert id: the same on every retry, so a
 * receiver can drop duplicates), webhook-timestamp (this attempt) and, with
 * a secret, webhook-signature: "v1," + base64 HMAC-SHA256 over
 * "id.timestamp.body" (OpenSSL's libcrypto).
 *
 * Standard Webhooks: "The signature is ... the base64 encoded HMAC-SHA256 of
 * the signed content, {msg_id}.{timestamp}.{payload}"; the secret is shown as
 * "whsec_" + base64 of the key bytes.
 *
 * The reply decides the outcome: 2xx delivered; 3xx a failure (redirects are
 * not followed: a signed POST must not wander); 410 Gone, this receiver will
 * never want the alert; 408, 429 and 5xx retried, honouring Retry-After;
 * any other 4xx a permanent failure. Transport errors are retried.
 * Never logs: outcomes go back to the outbox. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "safe.h"
#include "sink.h"

#define WEBHOOK_REPLY_MAX	1024		/* reply bytes kept for the error message */
#define WEBHOOK_RETRY_AFTER_MAX	(24 * 3600)	/* cap on a receiver's Retry-After */
#define WEBHOOK_SLACK_BLOCKS	48		/* Slack allows 50 blocks per message */
#define WEBHOOK_DISCORD_EMBEDS	10		/* Discord allows 10 embeds per message */
#define WEBHOOK_NTFY_MESSAGE	3500		/* ntfy's message limit is 4096 bytes */

struct webhook_state {
	CURL			*curl;
	unsigned char		*key;
	size_t			 key_len;
	char			*post_url;
	char			*ntfy_topic;
	struct curl_slist	*headers;	/* fixed ones: content type, custom */
};

/* ---- bodies ------------------------------------------------------------ */

/* A copy of s cut to at most max bytes on a UTF-8 boundary, with "…". */
static json_t *
jtrunc(const char *s, size_t max)
{
	size_t	 len = strlen(s);
	char	*c;
	json_t	*j;

	if (len <= max)
		return json_string(s);
	if (max < 4)
		max = 4;
	len = max - 3;
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	if ((c = malloc(len + 4)) == NULL)
		return NULL;
	memcpy(c, s, len);
	memcpy(c + len, "\xe2\x80\xa6", 4);
	j = json_string(c);
	free(c);
	return j;
}

/* "\nupdate: new figures ...; sources: ..." for an alert of a
 * development, escaped for the chat format. */
static int
chat_update_line(json_t *a, struct buf *b, int (*escape)(const char *, struct buf *))
{
	struct buf	u;
	int		r;

	buf_init(&u, 8192);
	r = sink_render_update(a, &u);
	if (r == 0 && u.len > 0) {
		r |= buf_append_str(b, "\n");
		r |= escape != NULL ? escape(u.data, b) : buf_append_str(b, u.data);
	}
	buf_done(&u);
	return r;
}

/* "Update: title" for an update alert (owned), NULL for any other. */
static char *
chat_title(json_t *a)
{
	const char	*t = sink_json_str(json_object_get(a, "item"), "title");
	char		*out;

	if (!sink_alert_is_update(a) || asprintf(&out, "Update: %s", t[0] ? t : "(no title)") < 0)
		return NULL;
	return out;
}

/* A copy of s cut as jtrunc() cuts, for text that is escaped or combined
 * before the final cut: whatever a stored alert holds, a body can always
 * be built (an alert stored before parse capped its fields included). */
static char *
cut_dup(const char *s, size_t max)
{
	size_t	 len = strlen(s);
	char	*c;

	if (len <= max)
		return strdup(s);
	len = max - 3;
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	if ((c = malloc(len + 4)) == NULL)
		return NULL;
	memcpy(c, s, len);
	memcpy(c + len, "\xe2\x80\xa6", 4);
	return c;
}

/* Appends s, cut to max bytes, through an escape function. */
static int
append_cut(struct buf *b, const char *s, size_t max,
    int (*escape)(const char *, struct buf *))
{
	char	*c = cut_dup(s, max);
	int	 r;

	if (c == NULL)
		return -ENOMEM;
	r = escape(c, b);
	free(c);
	return r;
}

static int
append_plain(const char *s, struct buf *b)
{
	return buf_append_str(b, s);
}

static const char *
alert_title(json_t *a)
{
	const char *t = sink_json_str(json_object_get(a, "item"), "title");

	return t[0] != '\0' ? t : "(no title)";
}

static const char *
alert_feed(json_t *a)
{
	const char *f = sink_json_str(a, "feed_name");

	return f[0] != '\0' ? f : sink_json_str(a, "feed");
}

/* "sma, tariffs" into b. */
static int
join_topics(json_t *a, struct buf *b)
{
	json_t	*v;
	size_t	 i;
	int	 r = 0;

	json_array_foreach(json_object_get(a, "topics"), i, v)
		r |= buf_printf(b, "%s%s", i ? ", " : "", json_string_value(v));
	return r < 0 ? -ENOMEM : 0;
}

/* "sma: term, term2; drills: term3" into b: each topic once, in the
 * alert's order, with its matched terms (the alert's "matches"). */
static int
join_hits(json_t *a, struct buf *b)
{
	json_t		*matches = json_object_get(a, "matches"), *t, *v;
	size_t		 i, j;
	int		 r = 0;

	json_array_foreach(json_object_get(a, "topics"), i, t) {
		const char *topic = json_string_value(t);

		if (topic == NULL)
			continue;
		r |= buf_printf(b, "%s%s", i ? "; " : "", topic);
		json_array_foreach(json_object_get(matches, topic), j, v)
			r |= buf_printf(b, "%s%s", j ? ", " : ": ", json_string_value(v));
	}
	return r < 0 ? -ENOMEM : 0;
}

/* Slack mrkdwn: "&", "<" and ">" are the only characters to escape, and
 * with them "<!channel>", "<!here>", "<@U123>" and "<url|masked>" from a
 * feed are plain text. A "|" in a link would end the URL of "<url|title>":
 * it is percent-encoded there (the link is the same). */
static int
slack_escape(const char *s, struct buf *b)
{
	int r = 0;

	for (; *s != '\0' && r == 0; s++) {
		if (*s == '&')
			r = buf_append_str(b, "&amp;");
		else if (*s == '<')
			r = buf_append_str(b, "&lt;");
		else if (*s == '>')
			r = buf_append_str(b, "&gt;");
		else if (*s == '|')
			r = buf_append_str(b, "%7C");
		else
			r = buf_append(b, s, 1);
	}
	return r;
}

/* slack_escape() for text, where "|" is just a character. */
static int
slack_escape_text(const char *s, struct buf *b)
{
	const char	*bar;
	int		 r = 0;

	while (r == 0 && (bar = strchr(s, '|')) != NULL) {
		char *part = strndup(s, (size_t)(bar - s));

		if (part == NULL)
			return -ENOMEM;
		r = slack_escape(part, b);
		free(part);
		if (r == 0)
			r = buf_append(b, "|", 1);
		s = bar + 1;
	}
	return r == 0 ? slack_escape(s, b) : r;
}

/*
 * Discord markdown: a backslash before a markdown character shows it as
 * itself, so a feed's "[click](https://evil)" cannot mask a link, nor
 * "**", "||" or "`" restyle the message. Mentions ("@everyone", "<@id>")
 * are silenced by allowed_mentions in every body as well (discord_body).
 */
static int
discord_escape(const char *s, struct buf *b)
{
	int r = 0;

	for (; *s != '\0' && r == 0; s++) {
		if (strchr("\\*_~`|<>[]()#@", *s) != NULL)
			r = buf_append(b, "\\", 1);
		if (r == 0)
			r = buf_append(b, s, 1);
	}
	return r;
}

/* An escaped copy of s cut to max bytes (jtrunc), for a Discord text. */
static json_t *
discord_text(const char *s, size_t max)
{
	struct buf	 b;
	json_t		*j = NULL;

	buf_init(&b, (size_t)-1);
	if (discord_escape(s, &b) == 0)
		j = jtrunc(b.data != NULL ? b.data : "", max);
	buf_done(&b);
	return j;
}

/* One alert as a Slack section: bold linked title, then topics and feed. */
static json_t *
slack_section(json_t *a)
{
	json_t		*item = json_object_get(a, "item");
	const char	*link = sink_json_str(item, "link");
	struct buf	 b;
	json_t		*j = NULL;
	int		 r = 0;

	buf_init(&b, 64 * 1024);
	/* Slack cuts the section at 3000 characters: a longer link would be
	 * cut, and lead elsewhere. */
	if (!safe_link_ok(link) || strlen(link) > 2000)
		link = "";
	r |= buf_append_str(&b, "*");
	if (link[0] != '\0') {
		r |= buf_append_str(&b, "<");
		r |= slack_escape(link, &b);
		r |= buf_append_str(&b, "|");
	}
	if (sink_alert_is_update(a))
		r |= buf_append_str(&b, "Update: ");
	r |= append_cut(&b, alert_title(a), 2000, slack_escape_text);
	r |= buf_append_str(&b, link[0] != '\0' ? ">*\n" : "*\n");
	r |= slack_escape(sink_json_str(a, "severity"), &b);
	r |= buf_append_str(&b, " · ");
	r |= append_cut(&b, alert_feed(a), 2000, slack_escape_text);
	r |= buf_append_str(&b, " · matched ");
	r |= join_hits(a, &b);
	r |= chat_update_line(a, &b, slack_escape_text);
	if (r == 0)
		j = json_pack("{s:s, s:{s:s, s:o}}", "type", "section", "text",
		    "type", "mrkdwn", "text", jtrunc(b.data, 2900));
	buf_done(&b);
	return j;
}

static json_t *
slack_body(json_t *o, bool digest)
{
	json_t		*blocks = json_array(), *a, *sec;
	struct buf	 text;
	size_t		 i, n;
	json_t		*body = NULL;
	int		 r = 0;

	buf_init(&text, 64 * 1024);
	if (blocks == NULL)
		goto out;
	if (!digest) {
		r |= buf_append_str(&text, "[");
		r |= join_topics(o, &text);
		r |= buf_append_str(&text, "] ");
		r |= append_cut(&text, alert_title(o), 3000, slack_escape_text);
		if ((sec = slack_section(o)) == NULL || json_array_append_new(blocks, sec) < 0)
			goto out;
	} else {
		n = json_array_size(json_object_get(o, "alerts"));
		r |= buf_printf(&text, "%zu feedwatch alerts", n);
		json_array_foreach(json_object_get(o, "alerts"), i, a) {
			if (i == WEBHOOK_SLACK_BLOCKS) {
				char more[64];

				snprintf(more, sizeof(more), "and %zu more", n - i);
				json_array_append_new(blocks, json_pack("{s:s, s:[{s:s, s:s}]}",
				    "type", "context", "elements", "type", "mrkdwn", "text", more));
				break;
			}
			if ((sec = slack_section(a)) == NULL ||
			    json_array_append_new(blocks, sec) < 0)
				goto out;
		}
	}
	if (r == 0)
		body = json_pack("{s:o, s:O}", "text", jtrunc(text.data, 3000), "blocks", blocks);
out:
	json_decref(blocks);
	buf_done(&text);
	return body;
}

static int
severity_color(const char *sev)
{
	if (strcmp(sev, "critical") == 0)
		return 0xd32f2f;
	if (strcmp(sev, "high") == 0)
		return 0xf57c00;
	if (strcmp(sev, "low") == 0)
		return 0x9e9e9e;
	return 0x1976d2;
}

static json_t *
discord_embed(json_t *a, size_t desc_max)
{
	json_t		*item = json_object_get(a, "item");
	json_t		*e;
	struct buf	 topics, hits, upd;
	const char	*v;
	char		*title;

	buf_init(&topics, 1024);
	buf_init(&hits, 4096);
	buf_init(&upd, 8192);
	(void)join_topics(a, &topics);
	(void)join_hits(a, &hits);
	title = chat_title(a);
	e = json_pack("{s:o, s:i, s:[{s:s, s:o, s:b}, {s:s, s:o, s:b}], s:{s:o}}",
	    "title", discord_text(title != NULL ? title : alert_title(a), 256),
	    "color", severity_color(sink_json_str(a, "severity")),
	    "fields", "name", "topics", "value",
	    jtrunc(topics.len > 0 ? topics.data : "-", 1024),
	    "inline", 1, "name", "matched", "value",
	    jtrunc(hits.len > 0 ? hits.data : "-", 1024), "inline", 1,
	    "footer", "text", jtrunc(alert_feed(a), 2048));
	buf_done(&topics);
	buf_done(&hits);
	free(title);
	if (e != NULL && chat_update_line(a, &upd, discord_escape) == 0 && upd.len > 1)
		json_object_set_new(e, "description", jtrunc(upd.data + 1, 4096));
	buf_done(&upd);
	if (e == NULL)
		return NULL;
	if (safe_link_ok(v = sink_json_str(item, "link")))
		json_object_set_new(e, "url", json_string(v));
	if ((v = sink_json_str(item, "summary"))[0] != '\0')
		json_object_set_new(e, "description", discord_text(v, desc_max));
	if ((v = sink_json_str(item, "published"))[0] != '\0')
		json_object_set_new(e, "timestamp", json_string(v));
	return e;
}

static json_t *
discord_body(json_t *o, bool digest)
{
	json_t		*embeds = json_array(), *a, *e, *body = NULL;
	struct buf	 content;
	size_t		 i, n;
	int		 r = 0;

	buf_init(&content, 16 * 1024);
	if (embeds == NULL)
		goto out;
	if (!digest) {
		r |= buf_append_str(&content, "[");
		r |= join_topics(o, &content);
		r |= buf_append_str(&content, "] ");
		r |= append_cut(&content, alert_title(o), 2000, discord_escape);
		if ((e = discord_embed(o, 2000)) == NULL || json_array_append_new(embeds, e) < 0)
			goto out;
	} else {
		n = json_array_size(json_object_get(o, "alerts"));
		r |= buf_printf(&content, "%zu feedwatch alerts", n);
		if (n > WEBHOOK_DISCORD_EMBEDS)
			r |= buf_printf(&content, " (the first %d below)", WEBHOOK_DISCORD_EMBEDS);
		json_array_foreach(json_object_get(o, "alerts"), i, a) {
			if (i == WEBHOOK_DISCORD_EMBEDS)
				break;
			/* Discord caps all embeds of a message at 6000 characters. */
			if ((e = discord_embed(a, 200)) == NULL ||
			    json_array_append_new(embeds, e) < 0)
				goto out;
		}
	}
	if (r == 0)
		body = json_pack("{s:o, s:O, s:{s:[]}}", "content", jtrunc(content.data, 2000),
		    "embeds", embeds, "allowed_mentions", "parse");
out:
	json_decref(embeds);
	buf_done(&content);
	return body;
}

static int
ntfy_priority(const char *sev)
{
	if (strcmp(sev, "critical") == 0)
		return 5;
	if (strcmp(sev, "high") == 0)
		return 4;
	if (strcmp(sev, "low") == 0)
		return 2;
	return 3;
}

static json_t *
ntfy_body(json_t *o, bool digest, const char *topic)
{
	json_t		*item = json_object_get(o, "item"), *a, *tags = NULL, *body;
	struct buf	 msg;
	char		*title = NULL;
	const char	*link = sink_json_str(item, "link");
	size_t		 i;
	int		 prio = 1, r = 0;

	buf_init(&msg, 64 * 1024);
	if (!digest) {
		const char *summary = sink_json_str(item, "summary");

		r |= append_cut(&msg, summary[0] ? summary : alert_title(o),
		    WEBHOOK_NTFY_MESSAGE, append_plain);
		r |= buf_append_str(&msg, "\n\nmatched: ");
		r |= join_hits(o, &msg);
		r |= buf_printf(&msg, "\nfeed: %s", alert_feed(o));
		r |= chat_update_line(o, &msg, NULL);
		prio = ntfy_priority(sink_json_str(o, "severity"));
		tags = json_deep_copy(json_object_get(o, "topics"));
	} else {
		json_array_foreach(json_object_get(o, "alerts"), i, a) {
			int p = ntfy_priority(sink_json_str(a, "severity"));

			if (p > prio)
				prio = p;
			/* The message is cut to WEBHOOK_NTFY_MESSAGE below. */
			if (msg.len > WEBHOOK_NTFY_MESSAGE)
				continue;
			r |= buf_append_str(&msg, i ? "\n• " : "• ");
			r |= append_cut(&msg, alert_title(a), WEBHOOK_NTFY_MESSAGE, append_plain);
		}
		tags = json_pack("[s]", "digest");
		link = "";
	}
	if (r < 0 || tags == NULL) {
		json_decref(tags);
		buf_done(&msg);
		return NULL;
	}
	title = digest ? NULL : chat_title(o);
	body = json_pack("{s:s, s:o, s:o, s:o, s:i}", "topic", topic,
	    "title", digest ? json_sprintf("%zu feedwatch alerts",
	    json_array_size(json_object_get(o, "alerts"))) :
	    jtrunc(title != NULL ? title : alert_title(o), 250),
	    "message", jtrunc(msg.data, WEBHOOK_NTFY_MESSAGE), "tags", tags,
	    "priority", prio);
	/* ntfy renders markdown only when asked ("markdown": true), which
	 * these bodies never are: the message is plain text. */
	if (body != NULL && safe_link_ok(link))
		json_object_set_new(body, "click", json_string(link));
	free(title);
	buf_done(&msg);
	return body;
}

int
sink_webhook_body(enum sink_format format, const struct sink_msg *msg,
    const char *ntfy_topic, char **ret_body)
{
	json_t	*o, *body = NULL;
	char	*s;

	if (format == SINK_FORMAT_GENERIC || format == SINK_FORMAT_JSONL ||
	    format == SINK_FORMAT_TEXT) {
		if ((s = strdup(msg->json)) == NULL)
			return -ENOMEM;
		*ret_body = s;
		return 0;
	}
	if ((o = json_loads(msg->json, 0, NULL)) == NULL)
		return -EINVAL;
	if (format == SINK_FORMAT_SLACK)
		body = slack_body(o, msg->digest);
	else if (format == SINK_FORMAT_DISCORD)
		body = discord_body(o, msg->digest);
	else if (format == SINK_FORMAT_NTFY)
		body = ntfy_body(o, msg->digest, ntfy_topic != NULL ? ntfy_topic : "");
	json_decref(o);
	if (body == NULL)
		return -ENOMEM;
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (s == NULL)
		return -ENOMEM;
	*ret_body = s;
	return 0;
}

/* ---- signature --------------------------------------------------------- */

int
sink_webhook_key(const char *secret, unsigned char **ret_key, size_t *ret_len)
{
	const char	*b64;
	unsigned char	*key;
	char		*padded;
	size_t		 len, plen;
	int		 n, pad = 0;

	if (strncmp(secret, "whsec_", 6) != 0) {
		len = strlen(secret);
		if (len == 0)
			return -EINVAL;
		if ((key = malloc(len)) == NULL)
			return -ENOMEM;
		memcpy(key, secret, len);
		*ret_key = key;
		*ret_len = len;
		return 0;
	}
	b64 = secret + 6;
	len = strlen(b64);
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)b64[i]) && b64[i] != '+' && b64[i] != '/' &&
		    !(b64[i] == '=' && i >= len - 2))
			return -EINVAL;
	/* EVP_DecodeBlock wants whole quanta: restore omitted padding. */
	plen = (len + 3) / 4 * 4;
	if ((padded = malloc(plen + 1)) == NULL)
		return -ENOMEM;
	memcpy(padded, b64, len);
	memset(padded + len, '=', plen - len);
	padded[plen] = '\0';
	for (size_t i = plen; i > 0 && padded[i - 1] == '='; i--)
		pad++;
	if (pad > 2 || (key = malloc(plen / 4 * 3 + 1)) == NULL) {
		free(padded);
		return pad > 2 ? -EINVAL : -ENOMEM;
	}
	n = EVP_DecodeBlock(key, (unsigned char *)padded, (int)plen);
	free(padded);
	if (n < 0 || n - pad <= 0) {
		free(key);
		return -EINVAL;
	}
	*ret_key = key;
	*ret_len = (size_t)(n - pad);
	return 0;
}

int
sink_webhook_sign(const unsigned char *key, size_t key_len, const char *id,
    int64_t timestamp, const char *body, char *out, size_t out_size)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 mac_len = 0;
	struct buf	 content;
	int		 r;

	buf_init(&content, (size_t)-1);
	r = buf_printf(&content, "%s.%lld.", id, (long long)timestamp);
	if (r == 0)
		r = buf_append_str(&content, body);
	if (r < 0) {
		buf_done(&content);
		return r;
	}
	if (HMAC(EVP_sha256(), key, (int)key_len, (unsigned char *)content.data, content.len,
	    mac, &mac_len) == NULL) {
		buf_done(&content);
		return -EIO;
	}
	buf_done(&content);
	/* base64 of 32 bytes is 44 characters, plus "v1," and the NUL. */
	if (out_size < 3 + 4 * ((mac_len + 2) / 3) + 1)
		return -ENOBUFS;
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): EVP_EncodeBlock adds the NUL. */
	memcpy(out, "v1,", 3);
	(void)EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)mac_len);
	return 0;
}

/* ---- the sink ---------------------------------------------------------- */

static void
webhook_close(struct sink *s)
{
	struct webhook_state *st = s->state;

	if (st == NULL)
		return;
	if (st->curl != NULL)
		curl_easy_cleanup(st->curl);
	if (st->key != NULL)
		explicit_bzero(st->key, st->key_len);
	free(st->key);
	free(st->post_url);
	free(st->ntfy_topic);
	curl_slist_free_all(st->headers);
	free(st);
	s->state = NULL;
}

/* ntfy's JSON publishing posts to the server root with the topic in the
 * body: "https://ntfy.sh/alerts" is root "https://ntfy.sh/", topic "alerts". */
static int
ntfy_split(const char *url, char **ret_root, char **ret_topic)
{
	const char	*p = strstr(url, "://"), *slash;
	size_t		 tlen;

	if (p == NULL || (slash = strchr(p + 3, '/')) == NULL)
		return -EINVAL;
	slash = strrchr(slash, '/');
	tlen = strcspn(slash + 1, "?#");
	if (tlen == 0)
		return -EINVAL;
	if ((*ret_topic = strndup(slash + 1, tlen)) == NULL)
		return -ENOMEM;
	if ((*ret_root = strndup(url, (size_t)(slash - url + 1))) == NULL) {
		free(*ret_topic);
		*ret_topic = NULL;	/* webhook_close() frees it again */
		return -ENOMEM;
	}
	return 0;
}

static int
webhook_open(struct sink *s, struct fw_error *reterr)
{
	const struct conf_sink	*cs = s->conf;
	struct webhook_state	*st = calloc(1, sizeof(*st));
	struct curl_slist	*l;
	char			*h = NULL;
	int			 r = -ENOMEM;

	if (st == NULL)
		return -ENOMEM;
	s->state = st;
	if (cs->secret != NULL && (r = sink_webhook_key(cs->secret, &st->key, &st->key_len)) < 0) {
		fw_error_set(reterr, NULL, cs->line, cs->col, "sink '%s': %s", cs->name,
		    r == -EINVAL ? "the secret is empty or not valid whsec_ base64" :
		    strerror(-r));
		goto fail;
	}
	if (cs->format == SINK_FORMAT_NTFY) {
		r = ntfy_split(cs->url, &st->post_url, &st->ntfy_topic);
		if (r < 0) {
			fw_error_set(reterr, NULL, cs->line, cs->col,
			    "sink '%s': an ntfy url names the topic, like https://ntfy.sh/mytopic",
			    cs->name);
			goto fail;
		}
	} else if ((st->post_url = strdup(cs->url)) == NULL)
		goto fail;
	r = -ENOMEM;
	if ((st->curl = curl_easy_init()) == NULL)
		goto fail;
	l = curl_slist_append(NULL, "Content-Type: application/json");
	/* No "Expect: 100-continue" round trip for larger bodies. */
	if (l != NULL)
		st->headers = curl_slist_append(l, "Expect:");
	if (st->headers == NULL) {
		curl_slist_free_all(l);
		goto fail;
	}
	for (size_t i = 0; i < cs->n_headers; i++) {
		if (asprintf(&h, "%s: %s", cs->headers[i].name, cs->headers[i].value) < 0)
			goto fail;
		l = curl_slist_append(st->headers, h);
		explicit_bzero(h, strlen(h));
		free(h);
		if (l == NULL)
			goto fail;
		st->headers = l;
	}
	return 0;
fail:
	webhook_close(s);
	return r;
}

struct reply {
	struct buf	body;
	char		retry_after[64];
	char		location[256];
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct reply	*rp = userdata;
	size_t		 room = WEBHOOK_REPLY_MAX - rp->body.len;

	/* Keep the start for the error message; swallow the rest. */
	if (rp->body.len < WEBHOOK_REPLY_MAX &&
	    buf_append(&rp->body, data, size * nmemb < room ? size * nmemb : room) < 0)
		rp->body.max = rp->body.len;
	return size * nmemb;
}

static void
header_value(const char *line, size_t len, size_t name_len, char *out, size_t out_size)
{
	const char	*v = line + name_len;
	size_t		 n = len - name_len;

	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= out_size)
		n = out_size - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

static size_t
on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
	struct reply	*rp = userdata;
	size_t		 len = size * nmemb;

	if (len > 12 && strncasecmp(line, "Retry-After:", 12) == 0)
		header_value(line, len, 12, rp->retry_after, sizeof(rp->retry_after));
	else if (len > 9 && strncasecmp(line, "Location:", 9) == 0)
		header_value(line, len, 9, rp->location, sizeof(rp->location));
	return len;
}

/* RFC 9110: Retry-After = HTTP-date / delay-seconds. */
static int64_t
retry_after_seconds(const char *v, int64_t now)
{
	char	*end;
	long	 n;
	time_t	 t;

	if (v[0] == '\0')
		return 0;
	if (isdigit((unsigned char)v[0])) {
		n = strtol(v, &end, 10);
		if (*end != '\0' || n < 0)
			return 0;
		return n > WEBHOOK_RETRY_AFTER_MAX ? WEBHOOK_RETRY_AFTER_MAX : n;
	}
	t = curl_getdate(v, NULL);
	if (t == -1 || (int64_t)t <= now)
		return 0;
	return (int64_t)t - now > WEBHOOK_RETRY_AFTER_MAX ? WEBHOOK_RETRY_AFTER_MAX
	    : (int64_t)t - now;
}

/* The start of the receiver's reply, on one printable line. */
static const char *
reply_excerpt(struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] < 0x20)
			b->data[i] = ' ';
	if (b->len > 200)
		b->data[200] = '\0';
	return b->data != NULL ? b->data : "";
}

static void
classify_status(long status, struct reply *rp, int64_t now, struct sink_outcome *out)
{
	const char *excerpt = reply_excerpt(&rp->body);

	if (status >= 200 && status <= 299) {
		out->result = SINK_DELIVERED;
		return;
	}
	if (status >= 300 && status <= 399) {
		out->result = SINK_RETRY;
		snprintf(out->error, sizeof(out->error),
		    "HTTP %ld redirect%s%s not followed: fix the sink's url", status,
		    rp->location[0] ? " to " : "", rp->location);
		return;
	}
	if (status == 410)
		out->result = SINK_GONE;
	else if (status == 408 || status == 429 || status >= 500) {
		out->result = SINK_RETRY;
		out->retry_after = retry_after_seconds(rp->retry_after, now);
	} else
		out->result = SINK_PERMANENT;
	snprintf(out->error, sizeof(out->error), "HTTP %ld%s%s", status,
	    excerpt[0] ? ": " : "", excerpt);
}

static int
webhook_deliver(struct sink *s, const struct sink_msg *msg, struct sink_outcome *out)
{
	struct webhook_state	*st = s->state;
	struct curl_slist	*hdrs = NULL, *l;
	struct reply		 rp = { 0 };
	char			*body = NULL, line[256], sig[128], errbuf[CURL_ERROR_SIZE] = "";
	int64_t			 now = (int64_t)time(NULL);
	CURLcode		 cc;
	long			 status = 0;
	int			 r;

	buf_init(&rp.body, WEBHOOK_REPLY_MAX + 1);
	r = sink_webhook_body(s->conf->format, msg, st->ntfy_topic, &body);
	if (r == -EINVAL) {
		out->result = SINK_PERMANENT;
		snprintf(out->error, sizeof(out->error), "the stored alert is not valid JSON");
		return 0;
	}
	if (r < 0)
		return r;
	r = -ENOMEM;
	/* A fresh list per request: the fixed headers, then this message's. */
	for (struct curl_slist *h = st->headers; h != NULL; h = h->next) {
		if ((l = curl_slist_append(hdrs, h->data)) == NULL)
			goto out;
		hdrs = l;
	}
	snprintf(line, sizeof(line), "webhook-id: %s", msg->id);
	if ((l = curl_slist_append(hdrs, line)) == NULL)
		goto out;
	hdrs = l;
	snprintf(line, sizeof(line), "webhook-timestamp: %lld", (long long)now);
	if ((l = curl_slist_append(hdrs, line)) == NULL)
		goto out;
	hdrs = l;
	if (st->key != NULL) {
		if ((r = sink_webhook_sign(st->key, st->key_len, msg->id, now, body, sig,
		    sizeof(sig))) < 0)
			goto out;
		snprintf(line, sizeof(line), "webhook-signature: %s", sig);
		r = -ENOMEM;
		if ((l = curl_slist_append(hdrs, line)) == NULL)
			goto out;
		hdrs = l;
	}
	curl_easy_reset(st->curl);
	(void)curl_easy_setopt(st->curl, CURLOPT_URL, st->post_url);
	(void)curl_easy_setopt(st->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(st->curl, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(st->curl, CURLOPT_FOLLOWLOCATION, 0L);
	sink_curl_ca(st->curl, s->conf->ca_path);
	(void)curl_easy_setopt(st->curl, CURLOPT_USERAGENT, "feedwatch/" FW_VERSION);
	(void)curl_easy_setopt(st->curl, CURLOPT_HTTPHEADER, hdrs);
	(void)curl_easy_setopt(st->curl, CURLOPT_POSTFIELDS, body);
	(void)curl_easy_setopt(st->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	(void)curl_easy_setopt(st->curl, CURLOPT_TIMEOUT, (long)(s->conf->timeout > 0 ?
	    s->conf->timeout : 10));
	(void)curl_easy_setopt(st->curl, CURLOPT_WRITEFUNCTION, on_body);
	(void)curl_easy_setopt(st->curl, CURLOPT_WRITEDATA, &rp);
	(void)curl_easy_setopt(st->curl, CURLOPT_HEADERFUNCTION, on_header);
	(void)curl_easy_setopt(st->curl, CURLOPT_HEADERDATA, &rp);
	(void)curl_easy_setopt(st->curl, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(st->curl);
	if (cc != CURLE_OK) {
		/* Refused, reset, timed out, DNS: the receiver may be back later. */
		out->result = cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT
		    ? SINK_PERMANENT : SINK_RETRY;
		snprintf(out->error, sizeof(out->error), "POST %s: %s", st->post_url,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
	} else {
		(void)curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &status);
		classify_status(status, &rp, now, out);
	}
	r = 0;
out:
	/* The handle keeps the connection, not our buffers. */
	(void)curl_easy_setopt(st->curl, CURLOPT_HTTPHEADER, NULL);
	(void)curl_easy_setopt(st->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
	buf_done(&rp.body);
	free(body);
	return r;
}

const struct sink_ops sink_webhook_ops = {
	.open = webhook_open,
	.deliver = webhook_deliver,
	.close = webhook_close,
};
