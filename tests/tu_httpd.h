/* tu_httpd.h — a small HTTP server on 127.0.0.1 for the fetch tests, on
 * libmicrohttpd (one thread per connection, so slow routes overlap). Header
 * only: tests/meson.build builds each test from one .c and testutil.c. */
#pragma once

#include <check.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum tu_mode {
	TU_PLAIN,	/* status, headers, body */
	TU_ENDLESS,	/* 200 with an endless body of unknown length */
	TU_DRIP,	/* 200, one byte every 200 ms */
	TU_SLOW,	/* like plain, after delay_ms */
};

struct tu_route {
	const char	*path;
	int		 status;
	const char	*headers;	/* "Name: value\n" lines, or NULL */
	const char	*body;		/* or NULL */
	enum tu_mode	 mode;
	unsigned	 delay_ms;
};

struct tu_httpd {
	struct MHD_Daemon	*d;
	unsigned short		 port;
	const struct tu_route	*routes;
	pthread_mutex_t		 lock;
	int			 live, max_live, hits;
	char			 last[4096];	/* the last request's headers */
};

static ssize_t
tu_endless(void *cls, uint64_t pos, char *buf, size_t max)
{
	memset(buf, 'x', max);
	return (ssize_t)max;
}

static ssize_t
tu_drip(void *cls, uint64_t pos, char *buf, size_t max)
{
	if (pos >= 100)
		return MHD_CONTENT_READER_END_OF_STREAM;
	usleep(200 * 1000);
	buf[0] = ' ';
	return 1;
}

static enum MHD_Result
tu_header_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct tu_httpd	*h = cls;
	size_t		 n = strlen(h->last);

	snprintf(h->last + n, sizeof(h->last) - n, "%s: %s\n", key, value);
	return MHD_YES;
}

static enum MHD_Result
tu_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct tu_httpd		*h = cls;
	const struct tu_route	*rt = NULL;
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;
	int			 status = 404;

	if (*con_cls == NULL) {	/* first call: headers only */
		*con_cls = h;
		return MHD_YES;
	}
	for (const struct tu_route *r = h->routes; r->path != NULL; r++)
		if (strcmp(r->path, url) == 0)
			rt = r;
	pthread_mutex_lock(&h->lock);
	h->hits++;
	h->last[0] = '\0';
	MHD_get_connection_values(c, MHD_HEADER_KIND, tu_header_cb, h);
	if (++h->live > h->max_live)
		h->max_live = h->live;
	pthread_mutex_unlock(&h->lock);
	if (rt != NULL && rt->mode == TU_SLOW)
		usleep(rt->delay_ms * 1000);
	if (rt != NULL && rt->mode == TU_ENDLESS)
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536, tu_endless,
		    NULL, NULL);
	else if (rt != NULL && rt->mode == TU_DRIP)
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16, tu_drip,
		    NULL, NULL);
	else
		resp = MHD_create_response_from_buffer(rt && rt->body ? strlen(rt->body) : 0,
		    (void *)(rt && rt->body ? rt->body : ""), MHD_RESPMEM_PERSISTENT);
	if (rt != NULL) {
		status = rt->status;
		for (const char *p = rt->headers; p != NULL && *p != '\0';) {
			const char	*nl = strchr(p, '\n'), *colon = strchr(p, ':');
			char		 name[128], value[512];

			if (nl == NULL || colon == NULL || colon > nl)
				break;
			snprintf(name, sizeof(name), "%.*s", (int)(colon - p), p);
			colon++;
			while (*colon == ' ')
				colon++;
			snprintf(value, sizeof(value), "%.*s", (int)(nl - colon), colon);
			MHD_add_response_header(resp, name, value);
			p = nl + 1;
		}
	}
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	pthread_mutex_lock(&h->lock);
	h->live--;
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static void
tu_httpd_start(struct tu_httpd *h, const struct tu_route *routes)
{
	struct sockaddr_in		 sa = { .sin_family = AF_INET };
	const union MHD_DaemonInfo	*info;

	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->routes = routes;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, tu_handler, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	ck_assert_ptr_nonnull(h->d);
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	ck_assert_ptr_nonnull(info);
	h->port = info->port;
}

static void
tu_httpd_stop(struct tu_httpd *h)
{
	MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
}

/* "http://127.0.0.1:PORT/path" in a rotating static buffer. */
static const char *
tu_httpd_url(const struct tu_httpd *h, const char *path)
{
	static char	buf[8][256];
	static int	n;

	n = (n + 1) % 8;
	snprintf(buf[n], sizeof(buf[n]), "http://127.0.0.1:%u%s", h->port, path);
	return buf[n];
}
