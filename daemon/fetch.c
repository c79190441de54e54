/* fetch.c — the bytes of one feed: libcurl for http(s) and file:// URLs, plain
 * reads for paths and stdin. Owns the translation of CURLcode into reasons a
 * user can act on. The size cap is enforced in the write callback on the
 * decompressed bytes, because libcurl 7.88 applies CURLOPT_MAXFILESIZE only
 * to a declared Content-Length. Never logs. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "fetch.h"

#define FETCH_DEFAULT_TIMEOUT	30
#define FETCH_DEFAULT_MAX_BYTES	(16u * 1024 * 1024)

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
	memset(r, 0, sizeof(*r));
}

struct transfer {
	struct buf		 body;
	struct fetch_result	*res;
	int			 too_big;
	int			 oom;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct transfer	*t = userdata;
	size_t		 n = size * nmemb;
	int		 r = buf_append(&t->body, data, n);

	if (r == -E2BIG)
		t->too_big = 1;
	else if (r < 0)
		t->oom = 1;
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

static size_t
on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct transfer		*t = userdata;
	struct fetch_result	*res = t->res;
	size_t			 n = size * nmemb;

	/* A new status line (after a redirect or 100) starts a new header set. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		free(res->etag);
		free(res->last_modified);
		free(res->content_type);
		free(res->retry_after);
		res->etag = res->last_modified = res->content_type = res->retry_after = NULL;
		return n;
	}
	(void)(header_take(data, n, "ETag", &res->etag) ||
	    header_take(data, n, "Last-Modified", &res->last_modified) ||
	    header_take(data, n, "Content-Type", &res->content_type) ||
	    header_take(data, n, "Retry-After", &res->retry_after));
	return n;
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

int
fetch_source(const char *source, const struct fetch_opts *opts,
    struct fetch_result *ret, struct fw_error *reterr)
{
	struct fetch_opts	 defaults = { 0 };
	struct fetch_result	 res = { 0 };
	struct transfer		 t = { .res = &res };
	struct curl_slist	*hdrs = NULL;
	CURL			*curl = NULL;
	CURLcode		 cc;
	char			 errbuf[CURL_ERROR_SIZE] = "";
	char			*line = NULL, *eff;
	uint64_t		 max_bytes;
	int			 r;

	if (opts == NULL)
		opts = &defaults;
	max_bytes = opts->max_bytes ? opts->max_bytes : FETCH_DEFAULT_MAX_BYTES;
	if (!is_url(source))
		return fetch_file(source, max_bytes, ret, reterr);

	buf_init(&t.body, max_bytes);
	curl = curl_easy_init();
	if (curl == NULL) {
		r = -ENOMEM;
		fw_error_set(reterr, source, 0, 0, "cannot create a transfer");
		goto out;
	}
	(void)curl_easy_setopt(curl, CURLOPT_URL, source);
	(void)curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
	/* Never let a server redirect us to file:// or anything but http(s). */
	(void)curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	(void)curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
	(void)curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(curl, CURLOPT_TIMEOUT,
	    (long)(opts->timeout > 0 ? opts->timeout : FETCH_DEFAULT_TIMEOUT));
	(void)curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
	/* A server dripping less than 64 bytes/s for 15 s is dropped. */
	(void)curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 64L);
	(void)curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 15L);
	(void)curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
	(void)curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
	(void)curl_easy_setopt(curl, CURLOPT_USERAGENT,
	    opts->user_agent ? opts->user_agent : fetch_default_user_agent());
	(void)curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	(void)curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
	(void)curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	(void)curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
	(void)curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	if (opts->ca_path != NULL)
		(void)curl_easy_setopt(curl, CURLOPT_CAINFO, opts->ca_path);
	if (opts->proxy != NULL)
		(void)curl_easy_setopt(curl, CURLOPT_PROXY, opts->proxy);

	if (opts->etag != NULL) {
		if (asprintf(&line, "If-None-Match: %s", opts->etag) < 0 ||
		    (hdrs = curl_slist_append(hdrs, line)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		free(line);
		line = NULL;
	}
	if (opts->last_modified != NULL) {
		struct curl_slist *n;

		if (asprintf(&line, "If-Modified-Since: %s", opts->last_modified) < 0 ||
		    (n = curl_slist_append(hdrs, line)) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		hdrs = n;
		free(line);
		line = NULL;
	}
	for (size_t i = 0; opts->headers != NULL && opts->headers[i] != NULL; i++) {
		struct curl_slist *n = curl_slist_append(hdrs, opts->headers[i]);

		if (n == NULL) {
			r = -ENOMEM;
			goto out;
		}
		hdrs = n;
	}
	if (hdrs != NULL)
		(void)curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);

	cc = curl_easy_perform(curl);
	if (t.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		r = -E2BIG;
		fw_error_set(reterr, source, 0, 0, "body larger than the limit of %llu bytes",
		    (unsigned long long)max_bytes);
		goto out;
	}
	if (t.oom) {
		r = -ENOMEM;
		fw_error_set(reterr, source, 0, 0, "out of memory");
		goto out;
	}
	if (cc != CURLE_OK) {
		switch (cc) {
		case CURLE_OPERATION_TIMEDOUT:	r = -ETIMEDOUT; break;
		case CURLE_COULDNT_CONNECT:	r = -ECONNREFUSED; break;
		case CURLE_COULDNT_RESOLVE_HOST:	r = -EHOSTUNREACH; break;
		case CURLE_FILE_COULDNT_READ_FILE:	r = -ENOENT; break;
		case CURLE_TOO_MANY_REDIRECTS:	r = -ELOOP; break;
		default:			r = -EIO; break;
		}
		fw_error_set(reterr, source, 0, 0, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	(void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res.status);
	if (strncmp(source, "file://", 7) == 0)
		res.status = 200;
	if (curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff != NULL &&
	    (res.effective_url = strdup(eff)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	res.len = t.body.len;
	res.body = buf_take(&t.body);
	if (res.body == NULL) {
		r = -ENOMEM;
		goto out;
	}
	*ret = res;
	memset(&res, 0, sizeof(res));
	r = 0;
out:
	free(line);
	curl_slist_free_all(hdrs);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	buf_done(&t.body);
	fetch_result_done(&res);
	return r;
}
