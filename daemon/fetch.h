/* fetch.h — get the bytes of a feed: http(s) with libcurl, file:// URLs,
 * plain paths and "-" (stdin). Never logs: failures come back as a reason. */
#pragma once

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
};

/* Fetches source (URL, path or "-"). Returns 0 and fills *ret (release with
 * fetch_result_done()) for any HTTP response, 304 included (then body is
 * empty); returns a negative errno and *reterr for transport failures,
 * missing files and bodies over the cap. */
int fetch_source(const char *source, const struct fetch_opts *opts,
    struct fetch_result *ret, struct fw_error *reterr) _must_check_;

void fetch_result_done(struct fetch_result *r);

/* Process-wide libcurl set-up; call once from main(). */
int fetch_global_init(void);
void fetch_global_cleanup(void);

/* "feedwatch/VERSION (+URL)". */
const char *fetch_default_user_agent(void);
