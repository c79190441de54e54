/* fetch.c — the bytes of one feed: libcurl for http(s) and file:// URLs, plain
 * reads for paths and stdin. Owns the translation of CURLcode into reasons a
 * user can act on. The size cap is enforced in the write callback on the
 * decompressed bytes, because libcurl 7.88 applies CURLOPT_MAXFILESIZE only
 * to a declared Content-Length. Never logs. */
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "fetch.h"
#include "safe.h"

#define FETCH_DEFAULT_TIMEOUT	30
#define FETCH_DEFAULT_MAX_BYTES	(16u * 1024 * 1024)
#define FETCH_MAX_REDIRS	5

const char *
fetch_default_user_agent(void)
{
	return "feedwatch/" FW_VERSION " (+" FW_PROJECT_URL ")";
}

int
fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void
fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

void
fetch_result_done(struct fetch_result *r)
{
	free(r->body);
	free(r->content_type);
	free(r->etag);
	free(r->last_modified);
	free(r->effective_url);
	free(r->retry_after);
	free(r->permanent_url);
	memset(r, 0, sizeof(*r));
}

static int
fetch_read_stream(FILE *f, const char *name, uint64_t max_bytes,
    struct fetch_result *ret, struct fw_error *reterr)
{
	struct buf	b;
	char		chunk[65536];
	size_t		got;
	int		r;

	buf_init(&b, max_bytes);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		r = buf_append(&b, chunk, got);
		if (r == -E2BIG) {
			fw_error_set(reterr, name, 0, 0,
			    "larger than the limit of %llu bytes", (unsigned long long)max_bytes);
			buf_done(&b);
			return r;
		}
		if (r < 0) {
			buf_done(&b);
			return r;
		}
	}
	if (ferror(f)) {
		r = -errno;
		fw_error_set(reterr, name, 0, 0, "read error: %s", strerror(errno));
		buf_done(&b);
		return r ? r : -EIO;
	}
	memset(ret, 0, sizeof(*ret));
	ret->len = b.len;
	ret->body = buf_take(&b);
	if (ret->body == NULL)
		return -ENOMEM;
	ret->status = 200;
	return 0;
}

static int
fetch_file(const char *path, uint64_t max_bytes, struct fetch_result *ret,
    struct fw_error *reterr)
{
	FILE	*f;
	int	 r;

	if (strcmp(path, "-") == 0)
		return fetch_read_stream(stdin, "<stdin>", max_bytes, ret, reterr);
	f = fopen(path, "rbe");
	if (f == NULL) {
		r = -errno;
		fw_error_set(reterr, path, 0, 0, "cannot open: %s", strerror(-r));
		return r;
	}
	r = fetch_read_stream(f, path, max_bytes, ret, reterr);
	fclose(f);
	return r;
}

static int
is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
	    strncmp(s, "file://", 7) == 0;
}

struct fetch_transfer {
	CURL			*curl;
	struct curl_slist	*hdrs;
	char			*url;
	struct buf		 body;
	struct fetch_result	 res;
	uint64_t		 max_bytes;
	char			*cache_control;	/* raw headers of the last response */
	char			*expires;
	char			*date;
	bool			 too_big;
	bool			 oom;
	bool			 temp_redirect;	/* a 302/303/307 on the way */
	long			 hop_status;
	char			*hop_url;	/* the URL of the current hop */
	char			*origin;	/* headers_origin's "scheme://host:port" */
	size_t			 n_fixed;	/* t->hdrs before the custom headers */
	bool			 allow_downgrade;
	bool			 allow_private;
	bool			 origin_private; /* the configured URL's address is */
	int			 redirects;	/* followed so far */
	const char *const	*test_public;
	char			 refused[256];	/* why a redirect was not followed */
	char			 errbuf[CURL_ERROR_SIZE];
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct fetch_transfer	*t = userdata;
	size_t			 n = size * nmemb;
	int			 r = buf_append(&t->body, data, n);

	/* Counted here on the decompressed bytes: libcurl 7.88 applies
	 * CURLOPT_MAXFILESIZE only to a declared Content-Length, so a
	 * chunked or compressed body would otherwise go straight through. */
	if (r == -E2BIG)
		t->too_big = true;
	else if (r < 0)
		t->oom = true;
	return r < 0 ? 0 : n;	/* a short count makes libcurl abort */
}

/* Copies a header's value, trimmed, when its name matches. */
static int
header_take(const char *line, size_t len, const char *name, char **dst)
{
	size_t		 nlen = strlen(name);
	const char	*v, *end;

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return 0;
	v = line + nlen + 1;
	end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	free(*dst);
	*dst = strndup(v, (size_t)(end - v));
	return 1;
}

/* "scheme://host:port" of url (lower case, the scheme's default port
 * filled in) into a new string, or NULL when url does not parse. */
static char *
url_origin(const char *url)
{
	CURLU	*u = curl_url();
	char	*scheme = NULL, *host = NULL, *port = NULL, *o = NULL;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	if (asprintf(&o, "%s://%s:%s", scheme, host, port) < 0)
		o = NULL;
	for (char *p = o; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return o;
}

/* The absolute URL a Location value names, resolved against base as
 * libcurl resolves it before following; NULL when it does not parse. */
static char *
location_resolve(const char *base, const char *loc)
{
	CURLU	*u = curl_url();
	char	*out = NULL, *copy = NULL;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, loc, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
		copy = strdup(out);
	curl_free(out);
	curl_url_cleanup(u);
	return copy;
}

/* Keeps the custom headers from leaving their origin. libcurl reads the
 * header list anew for every request of a transfer, redirects included,
 * so blanking an entry here ("Name:" is one libcurl does not send) takes
 * effect for the next hop and every later one. CURLOPT_UNRESTRICTED_AUTH
 * stays off, so libcurl drops Authorization and cookies itself. */
static void
drop_custom_headers(struct fetch_transfer *t)
{
	struct curl_slist	*l = t->hdrs;
	char			*colon;

	for (size_t i = 0; l != NULL; l = l->next, i++)
		if (i >= t->n_fixed && (colon = strchr(l->data, ':')) != NULL)
			colon[1] = '\0';
}

/*
 * A redirect the response at hand asks for, seen before libcurl follows
 * it: an https to http downgrade is refused (the transfer stops) unless
 * the feed allows it, and a hop to another origin goes without the
 * feed's custom headers. Returns false to stop the transfer.
 */
static bool
on_redirect(struct fetch_transfer *t, const char *location)
{
	char	*target = location_resolve(t->hop_url, location), *o;
	bool	 ok = true;

	if (target == NULL)
		return true;	/* libcurl will not follow it either */
	if (!t->allow_downgrade && strncasecmp(t->hop_url, "https:", 6) == 0 &&
	    strncasecmp(target, "http:", 5) == 0) {
		snprintf(t->refused, sizeof(t->refused), "redirect from https to http "
		    "refused (allow_downgrade: true lets a feed follow it)");
		ok = false;
	}
	o = url_origin(target);
	if (o == NULL || t->origin == NULL || strcmp(o, t->origin) != 0)
		drop_custom_headers(t);
	free(o);
	free(t->hop_url);
	t->hop_url = target;
	t->redirects++;
	return ok;
}

/* ---- where a feed may lead: SSRF ------------------------------------- */

/* True for addresses a feed server must not send us to: loopback,
 * "this network", private (RFC 1918, ULA), shared (RFC 6598), link-local,
 * benchmarking, multicast and reserved ranges. */
static bool
addr_is_private(int family, const void *a)
{
	if (family == AF_INET) {
		const unsigned char *b = a;

		return b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224 ||
		    (b[0] == 100 && (b[1] & 0xC0) == 64) ||
		    (b[0] == 169 && b[1] == 254) ||
		    (b[0] == 172 && (b[1] & 0xF0) == 16) ||
		    (b[0] == 192 && b[1] == 168) ||
		    (b[0] == 192 && b[1] == 0 && b[2] == 0) ||
		    (b[0] == 198 && (b[1] & 0xFE) == 18);
	}
	if (family == AF_INET6) {
		const struct in6_addr	*v6 = a;
		const unsigned char	*b = v6->s6_addr;

		if (IN6_IS_ADDR_V4MAPPED(v6) || IN6_IS_ADDR_V4COMPAT(v6))
			return addr_is_private(AF_INET, b + 12);
		return IN6_IS_ADDR_LOOPBACK(v6) || IN6_IS_ADDR_UNSPECIFIED(v6) ||
		    IN6_IS_ADDR_LINKLOCAL(v6) || IN6_IS_ADDR_SITELOCAL(v6) ||
		    IN6_IS_ADDR_MULTICAST(v6) || (b[0] & 0xFE) == 0xFC;
	}
	return true;	/* not IP: never where a feed should lead */
}

/*
 * The policy, asked for every connection and every request of a
 * transfer: the configured URL's own address decides whether the feed is
 * a private one (then anything goes, the config is trusted); after a
 * redirect, a public feed may not reach a private address unless
 * allow_private. Returns false, with t->refused set, to refuse.
 */
static bool
address_allowed(struct fetch_transfer *t, int family, const void *addr, unsigned port)
{
	char	ip[INET6_ADDRSTRLEN], key[INET6_ADDRSTRLEN + 8];
	bool	priv = addr_is_private(family, addr);

	if (inet_ntop(family, addr, ip, sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	snprintf(key, sizeof(key), "%s:%u", ip, port);
	for (size_t i = 0; priv && t->test_public != NULL && t->test_public[i] != NULL; i++)
		if (strcmp(t->test_public[i], key) == 0)
			priv = false;
	if (t->redirects == 0) {
		if (priv)
			t->origin_private = true;
		return true;
	}
	if (!priv || t->origin_private || t->allow_private)
		return true;
	snprintf(t->refused, sizeof(t->refused), "redirect to the private address %s "
	    "refused (allow_private: true lets a feed follow it)", ip);
	return false;
}

/* Before every new connection: a refused address is never connected to. */
static curl_socket_t
on_open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *sa)
{
	struct fetch_transfer	*t = userdata;
	const void		*addr = NULL;
	unsigned		 port = 0;

	if (sa->family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&sa->addr;

		addr = &in->sin_addr;
		port = ntohs(in->sin_port);
	} else if (sa->family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)&sa->addr;

		addr = &in6->sin6_addr;
		port = ntohs(in6->sin6_port);
	}
	if (purpose == CURLSOCKTYPE_IPCXN && addr != NULL &&
	    !address_allowed(t, sa->family, addr, port))
		return CURL_SOCKET_BAD;
	return socket(sa->family, sa->socktype | SOCK_CLOEXEC, sa->protocol);
}

/* Before every request, also on a connection reused from another feed's
 * transfer (the multi handle shares them), which opens no socket. */
static int
on_prereq(void *userdata, char *conn_primary_ip, char *conn_local_ip,
    int conn_primary_port, int conn_local_port)
{
	struct fetch_transfer	*t = userdata;
	struct in6_addr		 a6;
	struct in_addr		 a4;

	(void)conn_local_ip;
	(void)conn_local_port;
	if (inet_pton(AF_INET, conn_primary_ip, &a4) == 1) {
		if (!address_allowed(t, AF_INET, &a4, (unsigned)conn_primary_port))
			return CURL_PREREQFUNC_ABORT;
	} else if (inet_pton(AF_INET6, conn_primary_ip, &a6) == 1) {
		if (!address_allowed(t, AF_INET6, &a6, (unsigned)conn_primary_port))
			return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

/* A validator is sent back byte for byte in the next request's
 * If-None-Match or If-Modified-Since: one that is not a valid header value
 * (a bare CR, an ESC) or is absurdly long is not kept at all. */
#define FETCH_VALIDATOR_MAX	1024

static void
validator_check(char **v)
{
	if (*v != NULL && (strlen(*v) > FETCH_VALIDATOR_MAX || !safe_header_value_ok(*v))) {
		free(*v);
		*v = NULL;
	}
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct fetch_transfer	*t = userdata;
	struct fetch_result	*res = &t->res;
	size_t			 n = size * nmemb;
	char			*sp;

	/* A new status line (after a redirect or 100) starts a new header
	 * set; the hop before it was a redirect when it was a 3xx. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		if (t->hop_status >= 300 && t->hop_status <= 399 &&
		    t->hop_status != 301 && t->hop_status != 308 && t->hop_status != 304)
			t->temp_redirect = true;
		sp = memchr(data, ' ', n);
		t->hop_status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
		free(res->etag);
		free(res->last_modified);
		free(res->content_type);
		free(res->retry_after);
		free(t->cache_control);
		free(t->expires);
		free(t->date);
		res->etag = res->last_modified = res->content_type = res->retry_after = NULL;
		t->cache_control = t->expires = t->date = NULL;
		return n;
	}
	if (t->hop_status == 301 || t->hop_status == 302 || t->hop_status == 303 ||
	    t->hop_status == 307 || t->hop_status == 308) {
		char *loc = NULL;

		if (header_take(data, n, "Location", &loc) && loc != NULL &&
		    !on_redirect(t, loc)) {
			free(loc);
			return 0;	/* a short count makes libcurl abort */
		}
		free(loc);
	}
	if (header_take(data, n, "ETag", &res->etag) ||
	    header_take(data, n, "Last-Modified", &res->last_modified)) {
		validator_check(&res->etag);
		validator_check(&res->last_modified);
		return n;
	}
	(void)(header_take(data, n, "Content-Type", &res->content_type) ||
	    header_take(data, n, "Retry-After", &res->retry_after) ||
	    header_take(data, n, "Cache-Control", &t->cache_control) ||
	    header_take(data, n, "Expires", &t->expires) ||
	    header_take(data, n, "Date", &t->date));
	return n;
}

/*
 * RFC 9111 4.2.1: "If the cached response includes the max-age directive,
 * use its value; otherwise, if the Expires header is present, subtract the
 * value of the Date header from it." And 5.3: "A cache recipient MUST
 * interpret invalid date formats, especially the value '0', as
 * representing a time in the past."
 */
static int64_t
freshness_lifetime(const struct fetch_transfer *t)
{
	const char	*p;
	time_t		 exp, date;

	if (t->cache_control != NULL) {
		for (p = t->cache_control; (p = strcasestr(p, "max-age")) != NULL; p += 7) {
			/* Not the tail of s-maxage or another token. */
			if (p != t->cache_control && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
				continue;
			p += 7;
			while (*p == ' ')
				p++;
			if (*p != '=')
				break;
			p++;
			if (*p == '"')
				p++;
			if (isdigit((unsigned char)*p)) {
				long long v = strtoll(p, NULL, 10);

				return v < 0 ? 0 : (int64_t)v;
			}
			break;
		}
		if (strcasestr(t->cache_control, "no-cache") != NULL ||
		    strcasestr(t->cache_control, "no-store") != NULL)
			return 0;
	}
	if (t->expires == NULL)
		return -1;
	exp = curl_getdate(t->expires, NULL);
	if (exp == (time_t)-1)
		return 0;
	date = t->date != NULL ? curl_getdate(t->date, NULL) : (time_t)-1;
	if (date == (time_t)-1)
		date = time(NULL);
	return exp > date ? (int64_t)(exp - date) : 0;
}

int64_t
fetch_retry_after_seconds(const char *value, int64_t now)
{
	const char	*p;
	time_t		 when;

	if (value == NULL)
		return -1;
	/* RFC 9110 10.2.3: Retry-After = HTTP-date / delay-seconds */
	for (p = value; isdigit((unsigned char)*p); p++)
		;
	if (p != value && *p == '\0') {
		long long v = strtoll(value, NULL, 10);

		return v;
	}
	when = curl_getdate(value, NULL);
	if (when == (time_t)-1)
		return -1;
	return (int64_t)when > now ? (int64_t)when - now : 0;
}

struct fetch_transfer *
fetch_transfer_free(struct fetch_transfer *t)
{
	if (t == NULL)
		return NULL;
	if (t->curl != NULL)
		curl_easy_cleanup(t->curl);
	curl_slist_free_all(t->hdrs);
	buf_done(&t->body);
	fetch_result_done(&t->res);
	free(t->cache_control);
	free(t->expires);
	free(t->date);
	free(t->url);
	free(t->hop_url);
	free(t->origin);
	free(t);
	return NULL;
}

void *
fetch_transfer_handle(struct fetch_transfer *t)
{
	return t->curl;
}

static int
header_add(struct curl_slist **list, const char *name, const char *value)
{
	struct curl_slist	*n;
	char			*line;

	if (asprintf(&line, "%s: %s", name, value) < 0)
		return -ENOMEM;
	n = curl_slist_append(*list, line);
	free(line);
	if (n == NULL)
		return -ENOMEM;
	*list = n;
	return 0;
}

int
fetch_transfer_new(const char *url, const struct fetch_opts *opts,
    struct fetch_transfer **ret, struct fw_error *reterr)
{
	static const struct fetch_opts	 defaults = { 0 };
	struct fetch_transfer		*t;
	CURL				*c;
	const char			*why = "out of memory";

	if (opts == NULL)
		opts = &defaults;
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->url = strdup(url)) == NULL ||
	    (t->hop_url = strdup(url)) == NULL)
		goto fail;
	/* NULL (a URL that does not parse) matches no origin: no headers. */
	t->origin = url_origin(opts->headers_origin != NULL ? opts->headers_origin : url);
	t->allow_downgrade = opts->allow_downgrade;
	t->allow_private = opts->allow_private;
	t->test_public = opts->test_public;
	t->max_bytes = opts->max_bytes ? opts->max_bytes : FETCH_DEFAULT_MAX_BYTES;
	t->res.max_age = -1;
	buf_init(&t->body, t->max_bytes);
	c = t->curl = curl_easy_init();
	if (c == NULL) {
		why = "cannot create a transfer";
		goto fail;
	}
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	/* Never let a server redirect us to file:// or anything but http(s). */
	(void)curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	(void)curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT,
	    (long)(opts->timeout > 0 ? opts->timeout : FETCH_DEFAULT_TIMEOUT));
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	/* No low-speed limit: a server that drips or stalls is cut by the
	 * feed's own timeout, the one the user configured, never earlier. */
	(void)curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_bytes);
	/* "" = every encoding this libcurl build decodes. */
	(void)curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	(void)curl_easy_setopt(c, CURLOPT_USERAGENT,
	    opts->user_agent ? opts->user_agent : fetch_default_user_agent());
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
	(void)curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	(void)curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
	/* Through a proxy, libcurl connects to the proxy only: the policy
	 * then judges the proxy's address, and the proxy the rest. */
	(void)curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	(void)curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, t);
	(void)curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq);
	(void)curl_easy_setopt(c, CURLOPT_PREREQDATA, t);
	if (opts->ca_path != NULL) {
		struct stat sb;

		/* A directory of hashed certificates, or one bundle file. */
		if (stat(opts->ca_path, &sb) == 0 && S_ISDIR(sb.st_mode))
			(void)curl_easy_setopt(c, CURLOPT_CAPATH, opts->ca_path);
		else
			(void)curl_easy_setopt(c, CURLOPT_CAINFO, opts->ca_path);
	}
	if (opts->proxy != NULL)
		(void)curl_easy_setopt(c, CURLOPT_PROXY, opts->proxy);
	if (opts->etag != NULL && header_add(&t->hdrs, "If-None-Match", opts->etag) < 0)
		goto fail;
	if (opts->last_modified != NULL &&
	    header_add(&t->hdrs, "If-Modified-Since", opts->last_modified) < 0)
		goto fail;
	for (struct curl_slist *l = t->hdrs; l != NULL; l = l->next)
		t->n_fixed++;
	for (size_t i = 0; opts->headers != NULL && opts->headers[i] != NULL; i++) {
		struct curl_slist *n = curl_slist_append(t->hdrs, opts->headers[i]);

		if (n == NULL)
			goto fail;
		t->hdrs = n;
	}
	{
		char *o = url_origin(url);

		/* Polled at a URL it moved to on another origin: no headers. */
		if (o == NULL || t->origin == NULL || strcmp(o, t->origin) != 0)
			drop_custom_headers(t);
		free(o);
	}
	if (t->hdrs != NULL)
		(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->hdrs);
	*ret = t;
	return 0;
fail:
	fw_error_set(reterr, url, 0, 0, "%s", why);
	fetch_transfer_free(t);
	return -ENOMEM;
}

int
fetch_transfer_finish(struct fetch_transfer *t, int curl_code,
    struct fetch_result *ret, struct fw_error *reterr)
{
	CURLcode	 cc = (CURLcode)curl_code;
	const char	*source = t->url;
	char		*eff = NULL;
	long		 nredirs = 0, ver = 0;
	int		 r;

	if (t->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		fw_error_set(reterr, source, 0, 0, "body larger than the limit of %llu bytes",
		    (unsigned long long)t->max_bytes);
		return -E2BIG;
	}
	if (t->oom) {
		fw_error_set(reterr, source, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if (t->refused[0] != '\0') {
		fw_error_set(reterr, source, 0, 0, "%s", t->refused);
		return -EPERM;
	}
	if (cc != CURLE_OK) {
		switch (cc) {
		case CURLE_OPERATION_TIMEDOUT:		r = -ETIMEDOUT; break;
		case CURLE_COULDNT_CONNECT:		r = -ECONNREFUSED; break;
		case CURLE_COULDNT_RESOLVE_HOST:	r = -EHOSTUNREACH; break;
		case CURLE_FILE_COULDNT_READ_FILE:	r = -ENOENT; break;
		case CURLE_TOO_MANY_REDIRECTS:		r = -ELOOP; break;
		case CURLE_UNSUPPORTED_PROTOCOL:	r = -EPROTONOSUPPORT; break;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_SSL_CACERT_BADFILE:		r = -EPROTO; break;
		default:				r = -EIO; break;
		}
		fw_error_set(reterr, source, 0, 0, "%s",
		    t->errbuf[0] ? t->errbuf : curl_easy_strerror(cc));
		return r;
	}
	(void)curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->res.status);
	if (strncmp(source, "file://", 7) == 0)
		t->res.status = 200;
	if (curl_easy_getinfo(t->curl, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK &&
	    eff != NULL && (t->res.effective_url = strdup(eff)) == NULL)
		goto oom;
	(void)curl_easy_getinfo(t->curl, CURLINFO_REDIRECT_COUNT, &nredirs);
	if (nredirs > 0 && !t->temp_redirect && eff != NULL &&
	    (t->res.permanent_url = strdup(eff)) == NULL)
		goto oom;
	(void)curl_easy_getinfo(t->curl, CURLINFO_HTTP_VERSION, &ver);
	t->res.http2 = ver == CURL_HTTP_VERSION_2_0;
	(void)curl_easy_getinfo(t->curl, CURLINFO_TOTAL_TIME, &t->res.seconds);
	t->res.max_age = freshness_lifetime(t);
	t->res.len = t->body.len;
	t->res.body = buf_take(&t->body);
	if (t->res.body == NULL)
		goto oom;
	*ret = t->res;
	memset(&t->res, 0, sizeof(t->res));
	return 0;
oom:
	fw_error_set(reterr, source, 0, 0, "out of memory");
	return -ENOMEM;
}

int
fetch_source(const char *source, const struct fetch_opts *opts,
    struct fetch_result *ret, struct fw_error *reterr)
{
	struct fetch_transfer	*t = NULL;
	uint64_t		 max_bytes;
	CURLcode		 cc;
	int			 r;

	max_bytes = opts != NULL && opts->max_bytes ? opts->max_bytes : FETCH_DEFAULT_MAX_BYTES;
	if (!is_url(source))
		return fetch_file(source, max_bytes, ret, reterr);
	r = fetch_transfer_new(source, opts, &t, reterr);
	if (r < 0)
		return r;
	cc = curl_easy_perform(t->curl);
	r = fetch_transfer_finish(t, (int)cc, ret, reterr);
	fetch_transfer_free(t);
	return r;
}
