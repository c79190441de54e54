/* test_sink_webhook.c — the webhook sink: Standard Webhooks signatures (the
 * published test vector), secrets in whsec_ and raw form, the four body
 * formats, and real POSTs to a libmicrohttpd receiver on 127.0.0.1 that
 * answers what each test asks: 2xx, 3xx, 410, 429 with Retry-After, 5xx,
 * other 4xx, a slow reply, and a closed port. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sink.h"
#include "testutil.h"

static const char alert_json[] =
	"{\"id\":\"a1b2c3\",\"created\":\"2025-03-01T10:00:00Z\",\"severity\":\"high\","
	"\"topics\":[\"sma\",\"drills\"],\"matches\":{\"sma\":[\"cost-sharing\"],"
	"\"drills\":[\"freedom shield\"]},\"hits\":[{\"topic\":\"sma\",\"term\":\"cost-sharing\","
	"\"field\":\"title\"},{\"topic\":\"drills\",\"term\":\"freedom shield\",\"field\":\"summary\"}],"
	"\"feed\":\"http://feeds.example/wire.xml\",\"feed_name\":\"wire\","
	"\"item\":{\"id\":\"g1\",\"title\":\"Talks on cost-sharing <resume> & more\","
	"\"link\":\"http://news.example/1?a=1&b=2\",\"published\":\"2025-03-01T09:00:00Z\","
	"\"summary\":\"Seoul and Washington — talks.\"}}";

/* ---- signatures and keys ----------------------------------------------- */

/* Chat formats say "Update" and what is new for an update alert. */
START_TEST(test_update_chat)
{
	static const char update_json[] =
	    "{\"id\":\"ffff\",\"severity\":\"normal\",\"topics\":[\"sma\"],\"hits\":[],"
	    "\"feed\":\"http://f\",\"feed_name\":\"wire\","
	    "\"item\":{\"title\":\"Seoul to pay more\",\"link\":\"http://n/1\"},"
	    "\"development\":\"dddd\",\"sources\":[\"yonhap\",\"ap\"],"
	    "\"updates\":\"0123\",\"update\":{\"figures\":[\"1.52 trillion won\"],"
	    "\"topics\":[],\"confirmed_by\":0}}";
	const enum sink_format formats[] = { SINK_FORMAT_SLACK, SINK_FORMAT_DISCORD, SINK_FORMAT_NTFY };
	struct sink_msg m = { .id = "ffff", .json = update_json };

	for (size_t i = 0; i < 3; i++) {
		char *body = NULL;

		ck_assert_int_eq(sink_webhook_body(formats[i], &m, "t", &body), 0);
		ck_assert_msg(strstr(body, "Update: Seoul to pay more") != NULL, "%s", body);
		ck_assert_msg(strstr(body, "new figures 1.52 trillion won") != NULL, "%s", body);
		ck_assert_msg(strstr(body, "sources: yonhap, ap") != NULL, "%s", body);
		free(body);
	}
}
END_TEST

START_TEST(test_sign_vector)
{
	/* The example of the Standard Webhooks specification. */
	unsigned char	*key = NULL;
	size_t		 len = 0;
	char		 sig[128];

	ck_assert_int_eq(sink_webhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key, &len), 0);
	ck_assert_uint_eq(len, 24);
	ck_assert_int_eq(sink_webhook_sign(key, len, "msg_p5jXN8AQM9LWM0D4loKWxJek",
	    1614265330, "{\"test\": 2432232314}", sig, sizeof(sig)), 0);
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	ck_assert_int_eq(sink_webhook_sign(key, len, "x", 1, "{}", sig, 10), -ENOBUFS);
	free(key);
}
END_TEST

START_TEST(test_keys)
{
	unsigned char	*key = NULL;
	size_t		 len = 0;

	/* Padding may be left out. */
	ck_assert_int_eq(sink_webhook_key("whsec_aGVsbG8", &key, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert(memcmp(key, "hello", 5) == 0);
	free(key);
	ck_assert_int_eq(sink_webhook_key("whsec_aGVsbG8=", &key, &len), 0);
	ck_assert_uint_eq(len, 5);
	free(key);
	/* A secret without the prefix is the key itself. */
	ck_assert_int_eq(sink_webhook_key("plain secret", &key, &len), 0);
	ck_assert_uint_eq(len, 12);
	ck_assert(memcmp(key, "plain secret", 12) == 0);
	free(key);
	ck_assert_int_eq(sink_webhook_key("whsec_", &key, &len), -EINVAL);
	ck_assert_int_eq(sink_webhook_key("whsec_not base64!", &key, &len), -EINVAL);
	ck_assert_int_eq(sink_webhook_key("whsec_a===", &key, &len), -EINVAL);
	ck_assert_int_eq(sink_webhook_key("", &key, &len), -EINVAL);
}
END_TEST

/* ---- bodies ------------------------------------------------------------ */

static json_t *
body_of(enum sink_format f, const char *json, bool digest, const char *topic)
{
	struct sink_msg	 m = { .id = "a1b2c3", .json = json, .digest = digest };
	char		*body = NULL;
	json_t		*o;

	ck_assert_int_eq(sink_webhook_body(f, &m, topic, &body), 0);
	o = json_loads(body, 0, NULL);
	ck_assert_msg(o != NULL, "not JSON: %s", body);
	free(body);
	return o;
}

static char *
digest_of(int n)
{
	json_t	*d = json_pack("{s:s, s:s, s:b, s:i, s:[]}", "id", "d1",
	    "created", "2025-03-01T10:00:00Z", "digest", 1, "count", n, "alerts");
	char	*s;

	for (int i = 0; i < n; i++)
		json_array_append_new(json_object_get(d, "alerts"), json_loads(alert_json, 0, NULL));
	s = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	return s;
}

START_TEST(test_body_generic)
{
	struct sink_msg	 m = { .id = "a1b2c3", .json = alert_json };
	char		*body = NULL;

	ck_assert_int_eq(sink_webhook_body(SINK_FORMAT_GENERIC, &m, NULL, &body), 0);
	ck_assert_str_eq(body, alert_json);
	free(body);
	m.json = "not json";
	ck_assert_int_eq(sink_webhook_body(SINK_FORMAT_SLACK, &m, NULL, &body), -EINVAL);
}
END_TEST

START_TEST(test_body_slack)
{
	json_t		*o = body_of(SINK_FORMAT_SLACK, alert_json, false, NULL);
	json_t		*blocks = json_object_get(o, "blocks");
	const char	*text;
	char		*dj;

	ck_assert_str_eq(json_string_value(json_object_get(o, "text")),
	    "[sma, drills] Talks on cost-sharing &lt;resume&gt; &amp; more");
	ck_assert_uint_eq(json_array_size(blocks), 1);
	text = json_string_value(json_object_get(json_object_get(json_array_get(blocks, 0),
	    "text"), "text"));
	ck_assert_ptr_nonnull(strstr(text,
	    "*<http://news.example/1?a=1&amp;b=2|Talks on cost-sharing &lt;resume&gt; &amp; more>*"));
	/* Severity, feed, and each topic once with its terms. */
	ck_assert_ptr_nonnull(strstr(text,
	    "high · wire · matched sma: cost-sharing; drills: freedom shield"));
	json_decref(o);

	dj = digest_of(60);
	o = body_of(SINK_FORMAT_SLACK, dj, true, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(o, "text")), "60 feedwatch alerts");
	/* Slack's limit is 50 blocks: 48 alerts and a note. */
	ck_assert_uint_eq(json_array_size(json_object_get(o, "blocks")), 49);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(
	    json_array_get(json_object_get(o, "blocks"), 48), "elements"), 0), "text")),
	    "and 12 more");
	json_decref(o);
	free(dj);
}
END_TEST

START_TEST(test_body_discord)
{
	json_t	*o = body_of(SINK_FORMAT_DISCORD, alert_json, false, NULL);
	json_t	*e = json_array_get(json_object_get(o, "embeds"), 0);
	char	*dj;

	ck_assert_str_eq(json_string_value(json_object_get(o, "content")),
	    "[sma, drills] Talks on cost-sharing \\<resume\\> & more");
	ck_assert_str_eq(json_string_value(json_object_get(e, "title")),
	    "Talks on cost-sharing \\<resume\\> & more");
	ck_assert_str_eq(json_string_value(json_object_get(e, "url")), "http://news.example/1?a=1&b=2");
	ck_assert_str_eq(json_string_value(json_object_get(e, "timestamp")), "2025-03-01T09:00:00Z");
	ck_assert_str_eq(json_string_value(json_object_get(e, "description")),
	    "Seoul and Washington — talks.");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "color")), 0xf57c00);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e, "footer"), "text")), "wire");
	json_decref(o);

	dj = digest_of(12);
	o = body_of(SINK_FORMAT_DISCORD, dj, true, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(o, "embeds")), 10);
	ck_assert_str_eq(json_string_value(json_object_get(o, "content")),
	    "12 feedwatch alerts (the first 10 below)");
	json_decref(o);
	free(dj);
}
END_TEST

/* A title that pings everyone and masks a link, with a javascript: link
 * (as an alert stored before links were checked would have). */
static const char *const hostile_alert =
    "{\"id\":\"h1\",\"feed\":\"http://f.example/x.xml\",\"feed_name\":\"@here <!here>\","
    "\"topics\":[\"sma\"],\"severity\":\"high\",\"hits\":[],"
    "\"item\":{\"title\":\"@everyone <!channel> [click](https://evil.example) **bold** a|b\","
    "\"link\":\"javascript:alert(1)\",\"summary\":\"see [here](https://evil.example) @everyone\"}}";

START_TEST(test_body_hostile)
{
	json_t		*o = body_of(SINK_FORMAT_SLACK, hostile_alert, false, NULL);
	const char	*text, *section;
	json_t		*e, *am;

	text = json_string_value(json_object_get(o, "text"));
	section = json_string_value(json_object_get(json_object_get(json_array_get(
	    json_object_get(o, "blocks"), 0), "text"), "text"));
	ck_assert_str_eq(text, "[sma] @everyone &lt;!channel&gt; [click](https://evil.example) "
	    "**bold** a|b");
	ck_assert_ptr_null(strstr(section, "<!"));
	ck_assert_ptr_null(strstr(section, "javascript:"));
	ck_assert_ptr_nonnull(strstr(section, "&lt;!here&gt;"));
	ck_assert_ptr_null(strchr(section, '<'));	/* no link at all */
	json_decref(o);

	o = body_of(SINK_FORMAT_DISCORD, hostile_alert, false, NULL);
	am = json_object_get(o, "allowed_mentions");
	ck_assert(json_is_array(json_object_get(am, "parse")));
	ck_assert_uint_eq(json_array_size(json_object_get(am, "parse")), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "content")),
	    "[sma] \\@everyone \\<!channel\\> \\[click\\]\\(https://evil.example\\) "
	    "\\*\\*bold\\*\\* a\\|b");
	e = json_array_get(json_object_get(o, "embeds"), 0);
	ck_assert_ptr_null(json_object_get(e, "url"));
	ck_assert_str_eq(json_string_value(json_object_get(e, "description")),
	    "see \\[here\\]\\(https://evil.example\\) \\@everyone");
	json_decref(o);

	/* A digest silences mentions too. */
	{
		json_t	*d = json_pack("{s:s, s:b, s:[o]}", "id", "d1", "digest", 1, "alerts",
		    json_loads(hostile_alert, 0, NULL));
		char	*dj = json_dumps(d, JSON_COMPACT);

		json_decref(d);
		o = body_of(SINK_FORMAT_DISCORD, dj, true, NULL);
		ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(o,
		    "allowed_mentions"), "parse")), 0);
		ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(o, "embeds"), 0),
		    "url"));
		json_decref(o);
		free(dj);
	}

	o = body_of(SINK_FORMAT_NTFY, hostile_alert, false, "alliance");
	ck_assert_ptr_null(json_object_get(o, "click"));
	ck_assert_ptr_null(json_object_get(o, "markdown"));
	json_decref(o);
}
END_TEST

START_TEST(test_body_ntfy)
{
	json_t	*o = body_of(SINK_FORMAT_NTFY, alert_json, false, "alliance");
	char	*dj;

	ck_assert_str_eq(json_string_value(json_object_get(o, "topic")), "alliance");
	ck_assert_str_eq(json_string_value(json_object_get(o, "title")),
	    "Talks on cost-sharing <resume> & more");
	ck_assert_str_eq(json_string_value(json_object_get(o, "click")), "http://news.example/1?a=1&b=2");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "priority")), 4);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "tags"), 1)), "drills");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(o, "message")),
	    "Seoul and Washington — talks."));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(o, "message")),
	    "matched: sma: cost-sharing; drills: freedom shield"));
	json_decref(o);

	dj = digest_of(3);
	o = body_of(SINK_FORMAT_NTFY, dj, true, "alliance");
	ck_assert_str_eq(json_string_value(json_object_get(o, "title")), "3 feedwatch alerts");
	ck_assert_ptr_null(json_object_get(o, "click"));
	json_decref(o);
	free(dj);
}
END_TEST

/* ---- a real receiver --------------------------------------------------- */

struct receiver {
	struct MHD_Daemon	*d;
	unsigned		 port;
	pthread_mutex_t		 lock;
	/* what to answer */
	unsigned		 status;
	const char		*retry_after;
	const char		*location;
	unsigned		 delay_ms;
	/* what came */
	int			 requests;
	char			 path[256];
	char			 id[128], ts[64], sig[256], custom[128], ctype[128];
	char			 body[65536];
	size_t			 body_len;
};

static struct receiver rcv;

static void
copy_header(struct MHD_Connection *c, const char *name, char *out, size_t size)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	snprintf(out, size, "%s", v != NULL ? v : "");
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct receiver		*r = cls;
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	if (*con_cls == NULL) {
		*con_cls = r;
		pthread_mutex_lock(&r->lock);
		r->body_len = 0;
		pthread_mutex_unlock(&r->lock);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		pthread_mutex_lock(&r->lock);
		if (r->body_len + *upload_size < sizeof(r->body)) {
			memcpy(r->body + r->body_len, upload, *upload_size);
			r->body_len += *upload_size;
			r->body[r->body_len] = '\0';
		}
		pthread_mutex_unlock(&r->lock);
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&r->lock);
	r->requests++;
	snprintf(r->path, sizeof(r->path), "%s %s", method, url);
	copy_header(c, "webhook-id", r->id, sizeof(r->id));
	copy_header(c, "webhook-timestamp", r->ts, sizeof(r->ts));
	copy_header(c, "webhook-signature", r->sig, sizeof(r->sig));
	copy_header(c, "X-Custom", r->custom, sizeof(r->custom));
	copy_header(c, "Content-Type", r->ctype, sizeof(r->ctype));
	pthread_mutex_unlock(&r->lock);
	if (r->delay_ms > 0)
		usleep(r->delay_ms * 1000);
	resp = MHD_create_response_from_buffer(7, (void *)"answer\n", MHD_RESPMEM_PERSISTENT);
	if (r->retry_after != NULL)
		MHD_add_response_header(resp, "Retry-After", r->retry_after);
	if (r->location != NULL)
		MHD_add_response_header(resp, "Location", r->location);
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
receiver_start(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	memset(&rcv, 0, sizeof(rcv));
	pthread_mutex_init(&rcv.lock, NULL);
	rcv.status = 200;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rcv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
	    0, NULL, NULL, on_request, &rcv, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	ck_assert_ptr_nonnull(rcv.d);
	rcv.port = MHD_get_daemon_info(rcv.d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void
receiver_stop(void)
{
	MHD_stop_daemon(rcv.d);
	pthread_mutex_destroy(&rcv.lock);
}

static struct conf_header custom = { "X-Custom", "yes" };

static struct sink *
open_hook(struct conf_sink *cs, enum sink_format f, const char *path, const char *secret)
{
	struct sink	*s = NULL;
	struct fw_error	 e;
	static char	 url[256], sec[256];

	memset(cs, 0, sizeof(*cs));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", rcv.port, path);
	cs->name = "hook";
	cs->type = SINK_WEBHOOK;
	cs->format = f;
	cs->url = url;
	cs->timeout = 2;
	cs->headers = &custom;
	cs->n_headers = 1;
	cs->quiet_start_min = cs->quiet_end_min = -1;
	if (secret != NULL) {
		snprintf(sec, sizeof(sec), "%s", secret);
		cs->secret = sec;
	}
	ck_assert_msg(sink_new(cs, &s, &e) == 0, "%s", e.msg);
	return s;
}

static void
send_alert(struct sink *s, struct sink_outcome *out)
{
	struct sink_msg m = { .id = "a1b2c3", .json = alert_json };

	ck_assert_int_eq(sink_deliver(s, &m, out), 0);
}

START_TEST(test_post_signed)
{
	struct conf_sink	 cs;
	struct sink		*s = open_hook(&cs, SINK_FORMAT_GENERIC, "/hook",
				    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	struct sink_outcome	 out;
	unsigned char		 key[64], mac[32];
	unsigned int		 mac_len = 0;
	char			 expect[128], content[70000];
	int			 klen;

	send_alert(s, &out);
	ck_assert_int_eq(out.result, SINK_DELIVERED);
	ck_assert_int_eq(rcv.requests, 1);
	ck_assert_str_eq(rcv.path, "POST /hook");
	ck_assert_str_eq(rcv.body, alert_json);
	ck_assert_str_eq(rcv.id, "a1b2c3");
	ck_assert_str_eq(rcv.custom, "yes");
	ck_assert_str_eq(rcv.ctype, "application/json");
	ck_assert_int_lt(labs(atol(rcv.ts) - (long)time(NULL)), 5);
	/* Verify as a receiver would, from the secret alone. */
	klen = EVP_DecodeBlock(key, (const unsigned char *)"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 32);
	ck_assert_int_eq(klen, 24);
	snprintf(content, sizeof(content), "%s.%s.%s", rcv.id, rcv.ts, rcv.body);
	HMAC(EVP_sha256(), key, klen, (unsigned char *)content, strlen(content), mac, &mac_len);
	memcpy(expect, "v1,", 4);	/* EVP_EncodeBlock writes from the NUL on */
	EVP_EncodeBlock((unsigned char *)expect + 3, mac, (int)mac_len);
	ck_assert_str_eq(rcv.sig, expect);
	/* The retry carries the same id. */
	send_alert(s, &out);
	ck_assert_int_eq(rcv.requests, 2);
	ck_assert_str_eq(rcv.id, "a1b2c3");
	sink_free(s);
}
END_TEST

START_TEST(test_post_unsigned_without_secret)
{
	struct conf_sink	 cs;
	struct sink		*s = open_hook(&cs, SINK_FORMAT_SLACK, "/slack", NULL);
	struct sink_outcome	 out;
	json_t			*o;

	send_alert(s, &out);
	ck_assert_int_eq(out.result, SINK_DELIVERED);
	ck_assert_str_eq(rcv.sig, "");
	ck_assert_str_eq(rcv.id, "a1b2c3");
	o = json_loads(rcv.body, 0, NULL);
	ck_assert_ptr_nonnull(json_object_get(o, "blocks"));
	json_decref(o);
	sink_free(s);
}
END_TEST

START_TEST(test_post_ntfy_root)
{
	struct conf_sink	 cs;
	struct sink		*s = open_hook(&cs, SINK_FORMAT_NTFY, "/alliance", NULL);
	struct sink_outcome	 out;
	json_t			*o;

	send_alert(s, &out);
	ck_assert_int_eq(out.result, SINK_DELIVERED);
	ck_assert_str_eq(rcv.path, "POST /");
	o = json_loads(rcv.body, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(o, "topic")), "alliance");
	json_decref(o);
	sink_free(s);
}
END_TEST

struct status_case {
	unsigned		 status;
	const char		*retry_after;
	enum sink_result	 result;
	int64_t			 retry_after_min, retry_after_max;
	const char		*error;
};

static const struct status_case status_cases[] = {
	{ 200, NULL, SINK_DELIVERED, 0, 0, "" },
	{ 204, NULL, SINK_DELIVERED, 0, 0, "" },
	{ 500, NULL, SINK_RETRY, 0, 0, "HTTP 500: answer" },
	{ 503, "7", SINK_RETRY, 7, 7, "HTTP 503" },
	{ 429, "120", SINK_RETRY, 120, 120, "HTTP 429" },
	{ 429, "99999999", SINK_RETRY, 86400, 86400, "HTTP 429" },
	{ 429, "soon", SINK_RETRY, 0, 0, "HTTP 429" },
	{ 408, NULL, SINK_RETRY, 0, 0, "HTTP 408" },
	{ 410, NULL, SINK_GONE, 0, 0, "HTTP 410" },
	{ 404, NULL, SINK_PERMANENT, 0, 0, "HTTP 404" },
	{ 400, "5", SINK_PERMANENT, 0, 0, "HTTP 400" },
	{ 301, NULL, SINK_RETRY, 0, 0, "HTTP 301 redirect to http://elsewhere.example/ not followed" },
};

START_TEST(test_status)
{
	const struct status_case	*c = &status_cases[_i];
	struct conf_sink		 cs;
	struct sink			*s = open_hook(&cs, SINK_FORMAT_GENERIC, "/s", "k");
	struct sink_outcome		 out;

	rcv.status = c->status;
	rcv.retry_after = c->retry_after;
	rcv.location = c->status == 301 ? "http://elsewhere.example/" : NULL;
	send_alert(s, &out);
	ck_assert_int_eq(out.result, c->result);
	ck_assert_int_ge(out.retry_after, c->retry_after_min);
	ck_assert_int_le(out.retry_after, c->retry_after_max);
	ck_assert_msg(strstr(out.error, c->error) != NULL, "%u: '%s'", c->status, out.error);
	/* Redirects are not followed: one request only. */
	ck_assert_int_eq(rcv.requests, 1);
	sink_free(s);
}
END_TEST

START_TEST(test_retry_after_date)
{
	struct conf_sink	 cs;
	struct sink		*s = open_hook(&cs, SINK_FORMAT_GENERIC, "/s", NULL);
	struct sink_outcome	 out;
	char			 date[64];
	time_t			 t = time(NULL) + 600;
	struct tm		 tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	rcv.status = 503;
	rcv.retry_after = date;
	send_alert(s, &out);
	ck_assert_int_eq(out.result, SINK_RETRY);
	ck_assert_int_ge(out.retry_after, 590);
	ck_assert_int_le(out.retry_after, 600);
	sink_free(s);
}
END_TEST

START_TEST(test_timeout_and_refused)
{
	struct conf_sink	 cs;
	struct sink		*s = open_hook(&cs, SINK_FORMAT_GENERIC, "/slow", NULL);
	struct sink_outcome	 out;
	struct fw_error		 e;

	cs.timeout = 1;
	rcv.delay_ms = 2500;
	send_alert(s, &out);
	ck_assert_int_eq(out.result, SINK_RETRY);
	ck_assert_msg(strstr(out.error, "imed out") != NULL, "%s", out.error);
	sink_free(s);

	/* Port 1 on loopback: nobody listens. */
	cs.url = "http://127.0.0.1:1/hook";
	ck_assert_int_eq(sink_new(&cs, &s, &e), 0);
	send_alert(s, &out);
	ck_assert_int_eq(out.result, SINK_RETRY);
	ck_assert_msg(strstr(out.error, "POST http://127.0.0.1:1/hook") != NULL, "%s", out.error);
	sink_free(s);
}
END_TEST

START_TEST(test_open_errors)
{
	struct conf_sink	 cs;
	struct sink		*s = NULL;
	struct fw_error		 e;

	memset(&cs, 0, sizeof(cs));
	cs.name = "bad";
	cs.type = SINK_WEBHOOK;
	cs.format = SINK_FORMAT_GENERIC;
	cs.url = "http://127.0.0.1:1/x";
	cs.secret = "whsec_!!!";
	cs.line = 7;
	cs.col = 5;
	ck_assert_int_eq(sink_new(&cs, &s, &e), -EINVAL);
	ck_assert_uint_eq(e.line, 7);
	ck_assert_ptr_nonnull(strstr(e.msg, "whsec_"));
	cs.secret = NULL;
	cs.format = SINK_FORMAT_NTFY;
	cs.url = "https://ntfy.example";
	ck_assert_int_eq(sink_new(&cs, &s, &e), -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "topic"));
	ck_assert_ptr_null(s);
}
END_TEST

static Suite *
webhook_suite(void)
{
	Suite	*s = suite_create("sink_webhook");
	TCase	*tc;

	tc = tcase_create("sign");
	tcase_add_test(tc, test_sign_vector);
	tcase_add_test(tc, test_update_chat);
	tcase_add_test(tc, test_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_add_test(tc, test_body_generic);
	tcase_add_test(tc, test_body_slack);
	tcase_add_test(tc, test_body_discord);
	tcase_add_test(tc, test_body_hostile);
	tcase_add_test(tc, test_body_ntfy);
	suite_add_tcase(s, tc);

	tc = tcase_create("post");
	tcase_add_checked_fixture(tc, receiver_start, receiver_stop);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_post_signed);
	tcase_add_test(tc, test_post_unsigned_without_secret);
	tcase_add_test(tc, test_post_ntfy_root);
	tcase_add_loop_test(tc, test_status, 0,
	    (int)(sizeof(status_cases) / sizeof(status_cases[0])));
	tcase_add_test(tc, test_retry_after_date);
	tcase_add_test(tc, test_timeout_and_refused);
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(webhook_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
