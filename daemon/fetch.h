/* fetch.h — get the bytes of a feed: http(s) with libcurl, file:// URLs,
 * plain paths and "-" (stdin). Never logs: failures come back as a reason.
 * fetch_source() does one blocking transfer; fetch_multi.h drives many
 * struct fetch_transfer at once on the same rules. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct fetch_opts {
	int64_t		 timeout;	/* seconds for the whole transfer; 0 = 30 */
	uint64_t	 max_bytes;	/* cap on the (decompressed) body; 0 = 16 MiB */
	const char	*user_agent;	/* NULL = the default */
	const char	*etag;		/* validators from the last poll, or NULL */
	const char	*last_modified;
	const char	*ca_path;
	const char	*proxy;
	const char *const *headers;	/* "Name: value" lines, NULL-terminated; may be NULL */
	/* The URL whose origin (scheme, host, port) alone gets headers: the
	 * configured one, when a feed is polled at the URL it moved to.
	 * NULL = the URL fetched. Redirects to another origin go without
	 * them (docs/security.md). */
	const char	*headers_origin;
	/* Follow a redirect from https to http; off by default, as it would
	 * send the request, and the custom headers, in clear text. */
	bool		 allow_downgrade;
	/* Let a redirect from a public address lead to a loopback,
	 * link-local or private one (docs/security.md). A URL whose own
	 * address is private may always be fetched, with its redirects. */
	bool		 allow_private;
	/* Tests only: "address:port" strings (as inet_ntop writes them) to
	 * take for public, so a server on 127.0.0.1 can play one. */
	const char *const *test_public;
};

struct fetch_result {
	char	*body;		/* NUL-terminated; owned */
	size_t	 len;
	long	 status;	/* HTTP status; 200 for files and stdin */
	char	*content_type;	/* or NULL */
	char	*etag;		/* or NULL */
	char	*last_modified;	/* or NULL */
	char	*effective_url;	/* after redirects; or NULL */
	char	*retry_after;	/* raw header, or NULL */
	/* The final URL when every redirect on the way was permanent
	 * (301/308), else NULL. */
	char	*permanent_url;
	/* Freshness lifetime from Cache-Control max-age, else Expires minus
	 * Date, in seconds; -1 when the response gives none. */
	int64_t	 max_age;
	bool	 http2;		/* the response came over HTTP/2 */
	double	 seconds;	/* transfer time (0 for files and stdin) */
};

/* Fetches source (URL, path or "-"). Returns 0 and fills *ret (release with
 * fetch_result_done()) for any HTTP response, 304 included (then body is
 * empty); returns a negative errno and *reterr for transport failures,
 * missing files and bodies over the cap. */
int fetch_source(const char *source, const struct fetch_opts *opts,
    struct fetch_result *ret, struct fw_error *reterr) _must_check_;

void fetch_result_done(struct fetch_result *r);

/* One http(s) or file:// transfer, set up but not run: the unit that
 * fetch_source() performs and fetch_multi.c schedules. Redirects: at most
 * 5, and only to http(s). */
struct fetch_transfer;

/* Sets up a transfer of url with opts (whose strings are copied by libcurl
 * and need not outlive the call). Returns 0 or a negative errno. */
int fetch_transfer_new(const char *url, const struct fetch_opts *opts,
    struct fetch_transfer **ret, struct fw_error *reterr) _must_check_;
/* The libcurl easy handle (CURL *), borrowed. */
void *fetch_transfer_handle(struct fetch_transfer *t);
/* Turns the finished transfer, whose libcurl result was curl_code
 * (a CURLcode), into *ret or a negative errno and *reterr, exactly as
 * fetch_source() does. The body moves to *ret. */
int fetch_transfer_finish(struct fetch_transfer *t, int curl_code,
    struct fetch_result *ret, struct fw_error *reterr) _must_check_;
/* NULL is a no-op; returns NULL. */
struct fetch_transfer *fetch_transfer_free(struct fetch_transfer *t);

/* Process-wide libcurl set-up; call once from main(). */
int fetch_global_init(void);
void fetch_global_cleanup(void);

/* "feedwatch/VERSION (+URL)". */
const char *fetch_default_user_agent(void);

/* Seconds asked for by a Retry-After value, either delay-seconds or an
 * HTTP-date (relative to now); -1 when value is NULL or unreadable. */
int64_t fetch_retry_after_seconds(const char *value, int64_t now);
