/* metrics.c — the daemon's counters and the /healthz and /metrics endpoint.
 *
 * Counters are plain numbers in one struct behind a mutex: the main loop
 * (and the pipeline stages it drives) adds to them, and libmicrohttpd's
 * thread renders a copy. libmicrohttpd is used because it is a small,
 * well-kept HTTP/1.1 server that runs in its own thread, so a slow scraper
 * never stalls polling; without it the counters are kept and the endpoint
 * reports that it is not available. This module does not decide what is
 * counted when (daemon.c and the pipeline do) and never logs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "metrics.h"

#if HAVE_LIBMICROHTTPD
#include <microhttpd.h>
#endif

#define METRICS_MAX_SINKS	256
#define METRICS_MAX_STATUSES	64
#define METRICS_MAX_BODY	(1024 * 1024)
/* Seconds the loop may be late before /healthz calls it dead. */
#define METRICS_LOOP_GRACE	60

struct sink_counters {
	char		*name;
	uint64_t	 n[_METRICS_DELIVERY_MAX];
	uint64_t	 queued;
};

struct status_counter {
	long		status;
	uint64_t	count;
};

struct counters {
	struct status_counter	 statuses[METRICS_MAX_STATUSES];
	size_t			 n_statuses;
	uint64_t		 latency_buckets[METRICS_N_LATENCY];
	uint64_t		 latency_count;
	double			 latency_sum;
	uint64_t		 items;
	uint64_t		 new_items;
	struct sink_counters	 sinks[METRICS_MAX_SINKS];
	size_t			 n_sinks;
	size_t			 feeds[_METRICS_FEED_STATE_MAX];
	int64_t			 pending;
	int64_t			 dead_letters;
	uint64_t		 cycles;
	int64_t			 last_cycle;
	double			 last_cycle_seconds;
	int64_t			 alive_until;
	bool			 db_writable;
	int64_t			 started;
};

static pthread_mutex_t	lock = PTHREAD_MUTEX_INITIALIZER;
static struct counters	m = { .db_writable = true };
static const double	latency_bounds[METRICS_N_LATENCY] = METRICS_LATENCY_BUCKETS;

#if HAVE_LIBMICROHTTPD
static struct MHD_Daemon	*httpd;
#endif
static char			 listen_addr[128];

const char *
metrics_feed_state_to_string(enum metrics_feed_state st)
{
	static const char *names[_METRICS_FEED_STATE_MAX] = {
		[METRICS_FEED_OK] = "ok",
		[METRICS_FEED_FAILING] = "failing",
		[METRICS_FEED_DISABLED] = "disabled",
		[METRICS_FEED_NEW] = "new",
	};

	return st < _METRICS_FEED_STATE_MAX ? names[st] : "unknown";
}

static int64_t
now_unix(void)
{
	return (int64_t)time(NULL);
}

void
metrics_reset(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < m.n_sinks; i++)
		free(m.sinks[i].name);
	memset(&m, 0, sizeof(m));
	m.db_writable = true;
	m.started = now_unix();
	pthread_mutex_unlock(&lock);
}

/* Called with the lock held. NULL when the table is full (or OOM): those
 * sinks go uncounted rather than grow memory without bound. */
static struct sink_counters *
sink_slot(const char *name)
{
	struct sink_counters *s;

	for (size_t i = 0; i < m.n_sinks; i++)
		if (strcmp(m.sinks[i].name, name) == 0)
			return &m.sinks[i];
	if (m.n_sinks == METRICS_MAX_SINKS)
		return NULL;
	s = &m.sinks[m.n_sinks];
	memset(s, 0, sizeof(*s));
	if ((s->name = strdup(name)) == NULL)
		return NULL;
	m.n_sinks++;
	return s;
}

static void
alive_at_least(int64_t until)
{
	if (until > m.alive_until)
		m.alive_until = until;
}

void
metrics_poll_observe(long http_status)
{
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < m.n_statuses; i++)
		if (m.statuses[i].status == http_status)
			break;
	if (i == m.n_statuses && m.n_statuses < METRICS_MAX_STATUSES)
		m.statuses[m.n_statuses++] = (struct status_counter){ .status = http_status };
	if (i < m.n_statuses)
		m.statuses[i].count++;
	/* A poll ending, failed or not, is progress: the loop is alive. */
	alive_at_least(now_unix() + METRICS_LOOP_GRACE);
	pthread_mutex_unlock(&lock);
}

void
metrics_latency_observe(double seconds)
{
	if (seconds < 0)
		return;
	pthread_mutex_lock(&lock);
	for (size_t b = 0; b < METRICS_N_LATENCY; b++)
		if (seconds <= latency_bounds[b])
			m.latency_buckets[b]++;
	m.latency_count++;
	m.latency_sum += seconds;
	/* A transfer ending is progress: the loop is alive mid-cycle. */
	alive_at_least(now_unix() + METRICS_LOOP_GRACE);
	pthread_mutex_unlock(&lock);
}

void
metrics_items_observe(uint64_t items, uint64_t new_items)
{
	pthread_mutex_lock(&lock);
	m.items += items;
	m.new_items += new_items;
	pthread_mutex_unlock(&lock);
}

void
metrics_alert_queued(const char *sink)
{
	struct sink_counters *s;

	pthread_mutex_lock(&lock);
	if ((s = sink_slot(sink)) != NULL)
		s->queued++;
	pthread_mutex_unlock(&lock);
}

void
metrics_delivery_observe(const char *sink, enum metrics_delivery what)
{
	struct sink_counters *s;

	if (what >= _METRICS_DELIVERY_MAX)
		return;
	pthread_mutex_lock(&lock);
	if ((s = sink_slot(sink)) != NULL)
		s->n[what]++;
	alive_at_least(now_unix() + METRICS_LOOP_GRACE);
	pthread_mutex_unlock(&lock);
}

void
metrics_loop_alive(int64_t now, int64_t max_wait, bool db_writable)
{
	pthread_mutex_lock(&lock);
	m.alive_until = now + (max_wait > 0 ? max_wait : 0) + METRICS_LOOP_GRACE;
	m.db_writable = db_writable;
	if (m.started == 0)
		m.started = now;
	pthread_mutex_unlock(&lock);
}

void
metrics_cycle_done(int64_t now, double seconds)
{
	pthread_mutex_lock(&lock);
	m.cycles++;
	m.last_cycle = now;
	m.last_cycle_seconds = seconds;
	pthread_mutex_unlock(&lock);
}

void
metrics_set_feeds(const size_t counts[_METRICS_FEED_STATE_MAX])
{
	pthread_mutex_lock(&lock);
	memcpy(m.feeds, counts, sizeof(m.feeds));
	pthread_mutex_unlock(&lock);
}

void
metrics_set_outbox(int64_t pending, int64_t dead_letters)
{
	pthread_mutex_lock(&lock);
	m.pending = pending;
	m.dead_letters = dead_letters;
	pthread_mutex_unlock(&lock);
}

bool
metrics_healthy(int64_t now, const char **ret_reason)
{
	const char	*why = "ok";
	bool		 ok = true;

	pthread_mutex_lock(&lock);
	if (m.alive_until == 0) {
		ok = false;
		why = "the polling loop has not started";
	} else if (now > m.alive_until) {
		ok = false;
		why = "the polling loop is stuck";
	} else if (!m.db_writable) {
		ok = false;
		why = "the state database is not writable";
	}
	pthread_mutex_unlock(&lock);
	if (ret_reason != NULL)
		*ret_reason = why;
	return ok;
}

/* ---- rendering --------------------------------------------------------- */

static void _printf_(2, 3)
out(struct buf *b, const char *fmt, ...)
{
	char	line[1024];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Past the cap the scrape is cut short rather than the daemon hurt. */
	if (n > 0 && buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n :
	    sizeof(line) - 1) < 0)
		return;
}

/* The exposition format: label values escape \, " and newline. */
static void
label_escape(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 3 < size; src++) {
		if (*src == '\\' || *src == '"') {
			dst[o++] = '\\';
			dst[o++] = *src;
		} else if (*src == '\n') {
			dst[o++] = '\\';
			dst[o++] = 'n';
		} else {
			dst[o++] = *src;
		}
	}
	dst[o] = '\0';
}

static void
header(struct buf *b, const char *name, const char *type, const char *help)
{
	out(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
render_sinks(struct buf *b, const struct counters *c, const char *name,
    const char *help, int which)
{
	char label[600];

	header(b, name, "counter", help);
	for (size_t i = 0; i < c->n_sinks; i++) {
		uint64_t v = which < 0 ? c->sinks[i].queued : c->sinks[i].n[which];

		label_escape(label, sizeof(label), c->sinks[i].name);
		out(b, "%s{sink=\"%s\"} %llu\n", name, label, (unsigned long long)v);
	}
}

char *
metrics_render(void)
{
	struct counters	 c;
	struct buf	 b;
	char		*text;

	pthread_mutex_lock(&lock);
	c = m;
	/* The sink names stay owned by m: copy them while locked. */
	for (size_t i = 0; i < c.n_sinks; i++)
		c.sinks[i].name = strdup(m.sinks[i].name ? m.sinks[i].name : "");
	pthread_mutex_unlock(&lock);

	buf_init(&b, METRICS_MAX_BODY);
	header(&b, "feedwatch_up", "gauge", "1 while the daemon runs.");
	out(&b, "feedwatch_up 1\n");
	header(&b, "feedwatch_build_info", "gauge", "The running version.");
	out(&b, "feedwatch_build_info{version=\"%s\"} 1\n", FW_VERSION);
	header(&b, "feedwatch_start_time_seconds", "gauge",
	    "Unix time the daemon started.");
	out(&b, "feedwatch_start_time_seconds %lld\n", (long long)c.started);

	header(&b, "feedwatch_feeds", "gauge",
	    "Feeds of the running configuration by state.");
	for (int i = 0; i < _METRICS_FEED_STATE_MAX; i++)
		out(&b, "feedwatch_feeds{state=\"%s\"} %zu\n",
		    metrics_feed_state_to_string((enum metrics_feed_state)i), c.feeds[i]);

	header(&b, "feedwatch_polls_total", "counter",
	    "Feed polls by HTTP status (\"error\" when no response came).");
	for (size_t i = 0; i < c.n_statuses; i++) {
		if (c.statuses[i].status == 0)
			out(&b, "feedwatch_polls_total{status=\"error\"} %llu\n",
			    (unsigned long long)c.statuses[i].count);
		else
			out(&b, "feedwatch_polls_total{status=\"%ld\"} %llu\n",
			    c.statuses[i].status, (unsigned long long)c.statuses[i].count);
	}

	header(&b, "feedwatch_fetch_duration_seconds", "histogram",
	    "Time to fetch a feed.");
	for (size_t i = 0; i < METRICS_N_LATENCY; i++)
		out(&b, "feedwatch_fetch_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    latency_bounds[i], (unsigned long long)c.latency_buckets[i]);
	out(&b, "feedwatch_fetch_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)c.latency_count);
	out(&b, "feedwatch_fetch_duration_seconds_sum %.6f\n", c.latency_sum);
	out(&b, "feedwatch_fetch_duration_seconds_count %llu\n",
	    (unsigned long long)c.latency_count);

	header(&b, "feedwatch_items_seen_total", "counter",
	    "Items found in fetched feeds.");
	out(&b, "feedwatch_items_seen_total %llu\n", (unsigned long long)c.items);
	header(&b, "feedwatch_items_new_total", "counter",
	    "Items seen for the first time.");
	out(&b, "feedwatch_items_new_total %llu\n", (unsigned long long)c.new_items);

	render_sinks(&b, &c, "feedwatch_alerts_queued_total",
	    "Alerts queued for delivery, per sink.", -1);
	render_sinks(&b, &c, "feedwatch_alerts_delivered_total",
	    "Alerts delivered, per sink.", METRICS_DELIVERED);
	render_sinks(&b, &c, "feedwatch_alerts_failed_total",
	    "Alerts given up on (dead letters), per sink.", METRICS_DELIVERY_FAILED);
	render_sinks(&b, &c, "feedwatch_alerts_retried_total",
	    "Delivery attempts that failed and will be retried, per sink.",
	    METRICS_DELIVERY_RETRY);
	header(&b, "feedwatch_alerts_pending", "gauge",
	    "Deliveries waiting in the outbox.");
	out(&b, "feedwatch_alerts_pending %lld\n", (long long)c.pending);
	header(&b, "feedwatch_alerts_dead_letters", "gauge",
	    "Deliveries that failed for good (feedwatch alerts --failed).");
	out(&b, "feedwatch_alerts_dead_letters %lld\n", (long long)c.dead_letters);

	header(&b, "feedwatch_cycles_total", "counter", "Polling cycles run.");
	out(&b, "feedwatch_cycles_total %llu\n", (unsigned long long)c.cycles);
	header(&b, "feedwatch_last_cycle_timestamp_seconds", "gauge",
	    "Unix time the last polling cycle ended (0 = none yet).");
	out(&b, "feedwatch_last_cycle_timestamp_seconds %lld\n", (long long)c.last_cycle);
	header(&b, "feedwatch_last_cycle_duration_seconds", "gauge",
	    "How long the last polling cycle took.");
	out(&b, "feedwatch_last_cycle_duration_seconds %.6f\n", c.last_cycle_seconds);
	header(&b, "feedwatch_state_writable", "gauge",
	    "1 when the last probe could write the state database.");
	out(&b, "feedwatch_state_writable %d\n", c.db_writable ? 1 : 0);

	for (size_t i = 0; i < c.n_sinks; i++)
		free(c.sinks[i].name);
	text = buf_take(&b);
	buf_done(&b);
	return text;
}

/* ---- the endpoint ------------------------------------------------------ */

/* Parses "host:port", "[v6]:port" or "port" into sa. */
static int
parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
	char		 host[64];
	const char	*port;
	char		*end;
	long		 p;

	memset(sa, 0, sizeof(*sa));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		port = close + 2;
	} else if ((port = strrchr(s, ':')) != NULL) {
		if ((size_t)(port - s) >= sizeof(host) || strchr(s, ':') != port)
			return -EINVAL;
		memcpy(host, s, (size_t)(port - s));
		host[port - s] = '\0';
		port++;
	} else {
		strcpy(host, "127.0.0.1");
		port = s;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || errno != 0 || p < 0 || p > 65535)
		return -EINVAL;
	if (host[0] == '\0' || strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)sa;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)p);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a);
	}
	return 0;
}

#if HAVE_LIBMICROHTTPD
static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 r;

	if (body == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	const char	*reason;
	char		*body;
	bool		 ok;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
		    strdup("only GET and HEAD\n"));
	if (strcmp(url, "/metrics") == 0)
		return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		    metrics_render());
	if (strcmp(url, "/healthz") == 0) {
		ok = metrics_healthy(now_unix(), &reason);
		if (asprintf(&body, "%s\n", reason) < 0)
			body = NULL;
		return reply(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
		    "text/plain; charset=utf-8", body);
	}
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
	    strdup("not found: try /metrics or /healthz\n"));
}
#endif

int
metrics_start(const char *listen, struct fw_error *reterr)
{
	struct sockaddr_storage	sa;
	socklen_t		salen = 0;
	int			r;

	metrics_stop();
	r = parse_listen(listen, &sa, &salen);
	if (r < 0) {
		fw_error_set(reterr, NULL, 0, 0, "http listen address '%s' is not "
		    "HOST:PORT (e.g. 127.0.0.1:9117 or [::1]:9117)", listen);
		return r;
	}
#if HAVE_LIBMICROHTTPD
	{
		const union MHD_DaemonInfo	*info;
		char				 host[INET6_ADDRSTRLEN] = "?";
		unsigned			 flags = MHD_USE_INTERNAL_POLLING_THREAD |
						    MHD_USE_AUTO;
		unsigned			 port = 0;

		if (sa.ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
		httpd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)8,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
		    MHD_OPTION_END);
		if (httpd == NULL) {
			fw_error_set(reterr, NULL, 0, 0, "cannot listen on '%s' for "
			    "/metrics (address in use, or not a local address?)", listen);
			return -EADDRNOTAVAIL;
		}
		info = MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_BIND_PORT);
		if (info != NULL)
			port = info->port;
		if (sa.ss_family == AF_INET6) {
			(void)inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr,
			    host, sizeof(host));
			snprintf(listen_addr, sizeof(listen_addr), "[%s]:%u", host, port);
		} else {
			(void)inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr,
			    host, sizeof(host));
			snprintf(listen_addr, sizeof(listen_addr), "%s:%u", host, port);
		}
		return 0;
	}
#else
	(void)salen;
	fw_error_set(reterr, NULL, 0, 0, "cannot serve /metrics on '%s': feedwatch "
	    "was built without libmicrohttpd", listen);
	return -EOPNOTSUPP;
#endif
}

void
metrics_stop(void)
{
#if HAVE_LIBMICROHTTPD
	if (httpd != NULL)
		MHD_stop_daemon(httpd);
	httpd = NULL;
#endif
	listen_addr[0] = '\0';
}

const char *
metrics_listen_address(void)
{
	return listen_addr[0] != '\0' ? listen_addr : NULL;
}
