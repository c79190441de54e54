/* fetch_multi.c — the concurrent poller's engine: one libcurl multi handle
 * driven by curl_multi_socket_action() and ppoll(), so one thread serves
 * thousands of feeds and a stop signal is seen while it waits.
 *
 * Politeness is enforced here, not left to libcurl's own pending queue:
 * a transfer only enters the multi handle when a global slot and a slot of
 * its host are free, so a queued transfer's timeout does not start while
 * it waits for its turn, and memory grows with the slots, not with the
 * number of feeds. Hosts are served round-robin. A host that answered
 * over HTTP/2 gets more streams (on at most per_host connections: libcurl
 * multiplexes them, CURLOPT_PIPEWAIT prefers that to a new connection).
 *
 * What a transfer does on the wire (redirects, caps, timeouts) is fetch.c's
 * business; what a finished transfer means is the caller's. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetch_multi.h"

#define FM_DEFAULT_CONCURRENCY	8
#define FM_DEFAULT_PER_HOST	2
#define FM_H2_STREAMS		16	/* streams per connection once h2 is seen */
#define FM_MAX_WAIT_MS		1000
#define FM_BUCKETS		1024

struct fm_host;

struct fm_job {
	struct fm_job		*next;		/* in its host's queue, or active list */
	struct fm_host		*host;
	char			*url;
	char			*etag;
	char			*last_modified;
	struct fetch_opts	 opts;
	fetch_multi_done_fn	 fn;
	void			*userdata;
	struct fetch_transfer	*xfer;		/* while in flight */
};

struct fm_host {
	struct fm_host	*hnext;		/* hash chain */
	char		*key;
	struct fm_job	*head, *tail;	/* waiting transfers, FIFO */
	unsigned	 active;
	unsigned	 limit;
};

struct fetch_multi {
	CURLM		*multi;
	unsigned	 concurrency;
	unsigned	 per_host;
	struct fm_host	*buckets[FM_BUCKETS];
	struct fm_host	**hosts;	/* every host, for the round-robin */
	size_t		 n_hosts, cap_hosts;
	size_t		 cursor;
	size_t		 queued;
	size_t		 active;
	struct fm_job	*active_list;
	struct pollfd	*pfds;
	size_t		 n_pfds, cap_pfds;
	int64_t		 deadline_ms;	/* libcurl's timer; -1 = none */
	int		(*tick)(void *userdata);
	void		*tick_userdata;
	int64_t		 max_wait_ms;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
fetch_multi_host_key(const char *url, char *buf, size_t size)
{
	const char	*p = strstr(url, "://"), *end, *at;
	size_t		 n;

	p = p != NULL ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	/* Drop any user:password@. */
	at = memchr(p, '@', (size_t)(end - p));
	if (at != NULL)
		p = at + 1;
	n = (size_t)(end - p);
	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)p[i]);
	buf[n] = '\0';
}

static unsigned
fm_hash(const char *s)
{
	unsigned h = 2166136261u;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % FM_BUCKETS;
}

static struct fm_host *
fm_host_get(struct fetch_multi *m, const char *url)
{
	char		 key[512];
	unsigned	 b;
	struct fm_host	*h;

	fetch_multi_host_key(url, key, sizeof(key));
	b = fm_hash(key);
	for (h = m->buckets[b]; h != NULL; h = h->hnext)
		if (strcmp(h->key, key) == 0)
			return h;
	if (m->n_hosts == m->cap_hosts) {
		size_t		 cap = m->cap_hosts ? m->cap_hosts * 2 : 16;
		struct fm_host	**v = realloc(m->hosts, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		m->hosts = v;
		m->cap_hosts = cap;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL || (h->key = strdup(key)) == NULL) {
		free(h);
		return NULL;
	}
	h->limit = m->per_host;
	h->hnext = m->buckets[b];
	m->buckets[b] = h;
	m->hosts[m->n_hosts++] = h;
	return h;
}

static void
fm_job_free(struct fm_job *j)
{
	if (j == NULL)
		return;
	fetch_transfer_free(j->xfer);
	free(j->url);
	free(j->etag);
	free(j->last_modified);
	free(j);
}

/* libcurl tells which sockets to watch: kept as a pollfd array for ppoll. */
static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct fetch_multi	*m = userp;
	size_t			 i;

	for (i = 0; i < m->n_pfds && m->pfds[i].fd != s; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < m->n_pfds)
			m->pfds[i] = m->pfds[--m->n_pfds];
		return 0;
	}
	if (i == m->n_pfds) {
		if (m->n_pfds == m->cap_pfds) {
			size_t		 cap = m->cap_pfds ? m->cap_pfds * 2 : 16;
			struct pollfd	*v = realloc(m->pfds, cap * sizeof(*v));

			if (v == NULL)
				return -1;	/* libcurl fails the transfer */
			m->pfds = v;
			m->cap_pfds = cap;
		}
		m->pfds[i].fd = s;
		m->n_pfds++;
	}
	m->pfds[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
	    ((what & CURL_POLL_OUT) ? POLLOUT : 0));
	m->pfds[i].revents = 0;
	return 0;
}

static int
on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetch_multi *m = userp;

	m->deadline_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	return 0;
}

int
fetch_multi_new(const struct fetch_multi_opts *opts, struct fetch_multi **ret)
{
	struct fetch_multi *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return -ENOMEM;
	m->concurrency = opts != NULL && opts->concurrency ? opts->concurrency
	    : FM_DEFAULT_CONCURRENCY;
	m->per_host = opts != NULL && opts->per_host ? opts->per_host : FM_DEFAULT_PER_HOST;
	m->deadline_ms = -1;
	m->max_wait_ms = FM_MAX_WAIT_MS;
	if (opts != NULL) {
		m->tick = opts->tick;
		m->tick_userdata = opts->tick_userdata;
		if (opts->tick_ms > 0 && opts->tick_ms < FM_MAX_WAIT_MS)
			m->max_wait_ms = opts->tick_ms;
	}
	m->multi = curl_multi_init();
	if (m->multi == NULL) {
		free(m);
		return -ENOMEM;
	}
	(void)curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	(void)curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	(void)curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	(void)curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	(void)curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	(void)curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)m->per_host);
	(void)curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)m->concurrency);
	(void)curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)m->concurrency);
	(void)curl_multi_setopt(m->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)FM_H2_STREAMS);
	*ret = m;
	return 0;
}

struct fetch_multi *
fetch_multi_free(struct fetch_multi *m)
{
	struct fm_job *j, *next;

	if (m == NULL)
		return NULL;
	for (j = m->active_list; j != NULL; j = next) {
		next = j->next;
		(void)curl_multi_remove_handle(m->multi, fetch_transfer_handle(j->xfer));
		fm_job_free(j);
	}
	for (size_t i = 0; i < m->n_hosts; i++) {
		struct fm_host *h = m->hosts[i];

		for (j = h->head; j != NULL; j = next) {
			next = j->next;
			fm_job_free(j);
		}
		free(h->key);
		free(h);
	}
	free(m->hosts);
	free(m->pfds);
	if (m->multi != NULL)
		(void)curl_multi_cleanup(m->multi);
	free(m);
	return NULL;
}

static int
dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	if (s != NULL && (*ret = strdup(s)) == NULL)
		return -ENOMEM;
	return 0;
}

int
fetch_multi_add(struct fetch_multi *m, const char *url, const struct fetch_opts *opts,
    fetch_multi_done_fn fn, void *userdata)
{
	struct fm_job	*j = calloc(1, sizeof(*j));
	struct fm_host	*h;

	if (j == NULL)
		return -ENOMEM;
	if (opts != NULL)
		j->opts = *opts;
	if (dup_or_null(url, &j->url) < 0 || dup_or_null(j->opts.etag, &j->etag) < 0 ||
	    dup_or_null(j->opts.last_modified, &j->last_modified) < 0 ||
	    (h = fm_host_get(m, url)) == NULL) {
		fm_job_free(j);
		return -ENOMEM;
	}
	j->opts.etag = j->etag;
	j->opts.last_modified = j->last_modified;
	j->fn = fn;
	j->userdata = userdata;
	j->host = h;
	if (h->tail != NULL)
		h->tail->next = j;
	else
		h->head = j;
	h->tail = j;
	m->queued++;
	return 0;
}

size_t
fetch_multi_pending(const struct fetch_multi *m)
{
	return m->queued + m->active;
}

/* The next host, round-robin from the cursor, with a waiting transfer and
 * a free slot; NULL when none. */
static struct fm_host *
fm_next_host(struct fetch_multi *m)
{
	for (size_t k = 0; k < m->n_hosts; k++) {
		struct fm_host *h = m->hosts[(m->cursor + k) % m->n_hosts];

		if (h->head != NULL && h->active < h->limit) {
			m->cursor = (m->cursor + k + 1) % m->n_hosts;
			return h;
		}
	}
	return NULL;
}

/* Starts waiting transfers while slots are free. A transfer that cannot
 * even be set up ends at once through its callback. */
static int
fm_fill(struct fetch_multi *m)
{
	struct fm_host	*h;
	struct fm_job	*j;
	struct fw_error	 err;
	CURL		*easy;
	int		 r;

	while (m->active < m->concurrency && m->queued > 0 && (h = fm_next_host(m)) != NULL) {
		j = h->head;
		h->head = j->next;
		if (h->head == NULL)
			h->tail = NULL;
		j->next = NULL;
		m->queued--;
		r = fetch_transfer_new(j->url, &j->opts, &j->xfer, &err);
		if (r == 0) {
			easy = fetch_transfer_handle(j->xfer);
			(void)curl_easy_setopt(easy, CURLOPT_PRIVATE, j);
			/* Over TLS, where HTTP/2 may be offered, wait for a
			 * multiplexed stream rather than open a new
			 * connection; plain http is HTTP/1.1 only. */
			if (strncmp(j->url, "https://", 8) == 0)
				(void)curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
			if (curl_multi_add_handle(m->multi, easy) != CURLM_OK) {
				r = -ENOMEM;
				fw_error_set(&err, j->url, 0, 0, "cannot start the transfer");
			}
		}
		if (r < 0) {
			r = j->fn(j->userdata, r, &err, NULL);
			fm_job_free(j);
			if (r < 0)
				return r;
			continue;
		}
		j->next = m->active_list;
		m->active_list = j;
		m->active++;
		h->active++;
	}
	return 0;
}

/* Hands every finished transfer to its callback. */
static int
fm_reap(struct fetch_multi *m)
{
	CURLMsg	*msg;
	int	 left, r;

	while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
		struct fetch_result	 res = { 0 };
		struct fw_error		 err = { .msg = "" };
		struct fm_job		*j = NULL, **pp;
		CURL			*easy = msg->easy_handle;
		CURLcode		 cc = msg->data.result;
		int			 rc;

		if (msg->msg != CURLMSG_DONE)
			continue;
		(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j);
		(void)curl_multi_remove_handle(m->multi, easy);
		for (pp = &m->active_list; *pp != NULL && *pp != j; pp = &(*pp)->next)
			;
		if (*pp != NULL)
			*pp = j->next;
		m->active--;
		j->host->active--;
		rc = fetch_transfer_finish(j->xfer, (int)cc, &res, &err);
		if (rc == 0 && res.http2)
			j->host->limit = m->per_host * FM_H2_STREAMS;
		r = j->fn(j->userdata, rc, &err, rc == 0 ? &res : NULL);
		fetch_result_done(&res);
		fm_job_free(j);
		if (r < 0)
			return r;
	}
	return 0;
}

int
fetch_multi_run(struct fetch_multi *m, volatile sig_atomic_t *stop)
{
	struct pollfd	 ready[64];
	sigset_t	 waitmask;
	int		 running = 0, r;

	/* The daemon blocks its stop signals outside its waits: let them in
	 * while this loop waits, so a handler runs and sets *stop. */
	(void)sigprocmask(SIG_BLOCK, NULL, &waitmask);
	(void)sigdelset(&waitmask, SIGTERM);
	(void)sigdelset(&waitmask, SIGINT);
	if ((r = fm_fill(m)) < 0)
		return r;
	while (m->active > 0 || m->queued > 0) {
		struct timespec	ts;
		int64_t		wait = m->max_wait_ms;
		size_t		n_ready = 0;
		int		n;

		if (stop != NULL && *stop)
			return -EINTR;
		if (m->deadline_ms >= 0) {
			wait = m->deadline_ms - now_ms();
			if (wait < 0)
				wait = 0;
			if (wait > m->max_wait_ms)
				wait = m->max_wait_ms;
		}
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000;
		n = ppoll(m->pfds, (nfds_t)m->n_pfds, &ts, &waitmask);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (stop != NULL && *stop)
			return -EINTR;
		if (m->tick != NULL && (r = m->tick(m->tick_userdata)) < 0)
			return r;
		/* Copied first: socket_action changes m->pfds under us. */
		for (size_t i = 0; n > 0 && i < m->n_pfds && n_ready < 64; i++)
			if (m->pfds[i].revents != 0)
				ready[n_ready++] = m->pfds[i];
		for (size_t i = 0; i < n_ready; i++) {
			int ev = 0;

			if (ready[i].revents & POLLIN)
				ev |= CURL_CSELECT_IN;
			if (ready[i].revents & POLLOUT)
				ev |= CURL_CSELECT_OUT;
			if (ready[i].revents & (POLLERR | POLLHUP | POLLNVAL))
				ev |= CURL_CSELECT_ERR;
			(void)curl_multi_socket_action(m->multi, ready[i].fd, ev, &running);
		}
		if (n_ready == 0 || (m->deadline_ms >= 0 && now_ms() >= m->deadline_ms)) {
			m->deadline_ms = -1;
			(void)curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		}
		if ((r = fm_reap(m)) < 0 || (r = fm_fill(m)) < 0)
			return r;
	}
	return 0;
}
