/* conf.c — load the YAML configuration into struct conf.
 *
 * The file is read into a libyaml document (it is small), then walked with
 * one table of keys per mapping. Every key is known, every value has a type,
 * and every mistake is reported as "file:line:col: message" — all of them,
 * not just the first, so check-config can list a whole broken file at once.
 * This module does not compile topic rules (classify does) and never logs. */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"
#include "conf.h"
#include "db.h"
#include "safe.h"

#define CONF_MAX_SECRET_BYTES	(64 * 1024)
#define CONF_MAX_INCLUDED	1000
#define CONF_MAX_INCLUDED_BYTES	(1024 * 1024)

struct walker {
	yaml_document_t		*doc;
	const char		*path;
	const char		*conf_path;	/* path as kept in the conf (feed->file) */
	char			*dir;		/* directory of path, for relative files */
	struct fw_errors	*errs;
	int			 failed;	/* an error was recorded */
	int			 oom;
	bool			 no_secrets;	/* see conf_load_without_secrets() */
};

/* Records an error at file:line:col. */
static void _printf_(5, 6)
werr_in(struct walker *w, const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
	struct fw_error	e;
	va_list		ap;
	char		msg[sizeof(e.msg)];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fw_error_set(&e, file, line, col, "%s", msg);
	if (fw_errors_add(w->errs, &e) < 0)
		w->oom = 1;
	w->failed = 1;
}

/* Records an error at line:col of the file being loaded. */
#define werr_at(w, line, col, ...) werr_in((w), (w)->path, (line), (col), __VA_ARGS__)

/* Records an error at the start of node (libyaml marks are 0-based). */
#define werr(w, node, ...) \
	werr_at((w), (node) ? (unsigned)(node)->start_mark.line + 1 : 0, \
	    (node) ? (unsigned)(node)->start_mark.column + 1 : 0, __VA_ARGS__)

static yaml_node_t *
node_at(struct walker *w, int idx)
{
	return yaml_document_get_node(w->doc, idx);
}

static const char *
scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static const char *
node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:	 return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE:	 return "a mapping";
	default:		 return "nothing";
	}
}

/* A scalar written as ~, null or nothing at all. */
static int
is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	s = scalar(n);
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0;
}

static int
want_scalar(struct walker *w, const yaml_node_t *n, const char *key)
{
	if (n->type == YAML_SCALAR_NODE && !is_null(n))
		return 1;
	werr(w, n, "'%s' must be a value, found %s", key,
	    is_null(n) ? "an empty value" : node_kind(n));
	return 0;
}

static char *
xstrdup(struct walker *w, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		w->oom = 1;
	return p;
}

/* A path from the file, as an owned string: a relative one is relative to
 * the configuration file's directory, so it means the same whatever the
 * working directory (systemd starts the service in /). "-" stays "-". */
static char *
xpath(struct walker *w, const char *s)
{
	char *p;

	if (s[0] == '/' || strcmp(s, "-") == 0)
		return xstrdup(w, s);
	if (asprintf(&p, "%s/%s", w->dir, s) < 0) {
		w->oom = 1;
		return NULL;
	}
	return p;
}

static void
get_string(struct walker *w, const yaml_node_t *n, const char *key, char **dst)
{
	if (!want_scalar(w, n, key))
		return;
	free(*dst);
	*dst = xstrdup(w, scalar(n));
}

/* A path: see xpath(). */
static void
get_path(struct walker *w, const yaml_node_t *n, const char *key, char **dst)
{
	if (!want_scalar(w, n, key))
		return;
	free(*dst);
	*dst = xpath(w, scalar(n));
}

static void
get_duration(struct walker *w, const yaml_node_t *n, const char *key, int64_t *dst)
{
	int r;

	if (!want_scalar(w, n, key))
		return;
	r = conf_parse_duration(scalar(n), dst);

	if (r == -ERANGE)
		werr(w, n, "'%s': duration '%s' is longer than the maximum of 36500d",
		    key, scalar(n));
	else if (r < 0)
		werr(w, n, "'%s': invalid duration '%s' (use e.g. 90s, 15m, 2h, 7d)",
		    key, scalar(n));
}

static void
get_size(struct walker *w, const yaml_node_t *n, const char *key, uint64_t *dst)
{
	if (!want_scalar(w, n, key))
		return;
	if (conf_parse_size(scalar(n), dst) < 0)
		werr(w, n, "'%s': invalid size '%s' (use e.g. 512KiB, 10MiB)",
		    key, scalar(n));
}

static void
get_uint(struct walker *w, const yaml_node_t *n, const char *key, unsigned min,
    unsigned max, unsigned *dst)
{
	unsigned long	 v;
	char		*end;

	if (!want_scalar(w, n, key))
		return;
	errno = 0;
	v = strtoul(scalar(n), &end, 10);
	if (errno != 0 || end == scalar(n) || *end != '\0' || !isdigit((unsigned char)*scalar(n)) ||
	    v < min || v > max) {
		werr(w, n, "'%s' must be a whole number from %u to %u, found '%s'",
		    key, min, max, scalar(n));
		return;
	}
	*dst = (unsigned)v;
}

static void
get_double(struct walker *w, const yaml_node_t *n, const char *key, double *dst)
{
	double	 v;
	char	*end;

	if (!want_scalar(w, n, key))
		return;
	errno = 0;
	v = strtod(scalar(n), &end);
	if (errno != 0 || end == scalar(n) || *end != '\0' || !(v >= 0)) {
		werr(w, n, "'%s' must be a non-negative number, found '%s'",
		    key, scalar(n));
		return;
	}
	*dst = v;
}

static void
get_bool(struct walker *w, const yaml_node_t *n, const char *key, bool *dst)
{
	static const char *yes[] = { "true", "yes", "on" };
	static const char *no[] = { "false", "no", "off" };

	if (!want_scalar(w, n, key))
		return;
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(scalar(n), yes[i]) == 0) {
			*dst = true;
			return;
		}
		if (strcasecmp(scalar(n), no[i]) == 0) {
			*dst = false;
			return;
		}
	}
	werr(w, n, "'%s' must be true or false, found '%s'", key, scalar(n));
}

static void
get_severity(struct walker *w, const yaml_node_t *n, const char *key, enum severity *dst)
{
	if (!want_scalar(w, n, key))
		return;
	if (severity_from_string(scalar(n), dst) < 0)
		werr(w, n, "'%s' must be one of low, normal, high, critical; found '%s'",
		    key, scalar(n));
}

static int
strlist_push(struct walker *w, struct conf_strlist *l, const yaml_node_t *n)
{
	struct conf_str *v = reallocarray(l->v, l->n + 1, sizeof(*v));

	if (v == NULL) {
		w->oom = 1;
		return -ENOMEM;
	}
	l->v = v;
	v[l->n].s = xstrdup(w, scalar(n));
	if (v[l->n].s == NULL)
		return -ENOMEM;
	v[l->n].line = (unsigned)n->start_mark.line + 1;
	v[l->n].col = (unsigned)n->start_mark.column + 1;
	v[l->n].quoted = n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	    n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	l->n++;
	return 0;
}

/* A list of strings; a single scalar is taken as a list of one. */
static void
get_strlist(struct walker *w, const yaml_node_t *n, const char *key,
    struct conf_strlist *dst)
{
	if (n->type == YAML_SCALAR_NODE && !is_null(n)) {
		(void)strlist_push(w, dst, n);
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		werr(w, n, "'%s' must be a list of values, found %s", key,
		    is_null(n) ? "an empty value" : node_kind(n));
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = node_at(w, *it);

		if (item->type != YAML_SCALAR_NODE || is_null(item)) {
			werr(w, item, "each entry of '%s' must be a value, found %s",
			    key, is_null(item) ? "an empty value" : node_kind(item));
			continue;
		}
		if (strlist_push(w, dst, item) < 0)
			return;
	}
}

static void
strlist_done(struct conf_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].s);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Reads a secret from a file (trailing newline dropped) or the environment. */
static char *
read_secret(struct walker *w, const yaml_node_t *n, const char *key, int from_env)
{
	struct buf	 b;
	struct stat	 st;
	FILE		*f;
	char		 chunk[4096];
	size_t		 got;
	const char	*v;
	char		*path;

	if (!want_scalar(w, n, key))
		return NULL;
	if (w->no_secrets)
		return xstrdup(w, "");
	if (from_env) {
		v = getenv(scalar(n));
		if (v == NULL) {
			werr(w, n, "'%s': environment variable '%s' is not set",
			    key, scalar(n));
			return NULL;
		}
		return xstrdup(w, v);
	}
	path = xpath(w, scalar(n));
	if (path == NULL)
		return NULL;
	f = fopen(path, "re");
	if (f == NULL) {
		werr(w, n, "'%s': cannot read '%s': %s", key, path, strerror(errno));
		free(path);
		return NULL;
	}
	/* A secret every local user can read is no secret: refuse it rather
	 * than use it (docs/security.md). */
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
		werr(w, n, "'%s': '%s' is readable by every user (mode %04o): "
		    "chmod o-r it", key, path, (unsigned)(st.st_mode & 07777));
		fclose(f);
		free(path);
		return NULL;
	}
	free(path);
	buf_init(&b, CONF_MAX_SECRET_BYTES);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, got) < 0) {
			werr(w, n, "'%s': '%s' is larger than 64 KiB", key, scalar(n));
			buf_done(&b);
			fclose(f);
			return NULL;
		}
	fclose(f);
	while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	return buf_take(&b);
}

enum secret_source {
	SECRET_INLINE,		/* the value itself */
	SECRET_FILE,		/* a file holding it */
	SECRET_ENV,		/* an environment variable holding it */
};

/* A value that exactly one of several keys may give (value, value_file,
 * value_env; secret_file, secret_env; ...): *count says how many did. */
static void
get_secret_once(struct walker *w, yaml_node_t *v, const char *key,
    enum secret_source from, const char *alternatives, int *count, char **dst)
{
	if ((*count)++) {
		werr(w, v, "give only one of %s", alternatives);
		return;
	}
	if (from == SECRET_INLINE)
		get_string(w, v, key, dst);
	else
		*dst = read_secret(w, v, key, from == SECRET_ENV);
}

#define HDR_VALUE_KEYS	"value, value_file, value_env"

/* One key of a mapping and the handler that takes its value. */
struct key_handler {
	const char	*key;
	void		(*fn)(struct walker *w, yaml_node_t *v, void *obj);
	bool		 required;
};

static int
walk_mapping(struct walker *w, yaml_node_t *map, const char *what,
    const struct key_handler *keys, void *obj)
{
	size_t nkeys = 0;

	if (map->type != YAML_MAPPING_NODE) {
		werr(w, map, "%s must be a mapping of keys to values, found %s",
		    what, is_null(map) ? "an empty value" : node_kind(map));
		return -EINVAL;
	}
	while (keys[nkeys].key != NULL)
		nkeys++;
	bool seen[32] = { false };

	if (nkeys > sizeof(seen) / sizeof(seen[0]))
		return -E2BIG;

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		yaml_node_t	*k = node_at(w, p->key);
		yaml_node_t	*v = node_at(w, p->value);
		size_t		 i;

		if (k->type != YAML_SCALAR_NODE) {
			werr(w, k, "%s: keys must be plain names", what);
			continue;
		}
		for (i = 0; i < nkeys; i++)
			if (strcmp(keys[i].key, scalar(k)) == 0)
				break;
		if (i == nkeys) {
			struct buf known;

			buf_init(&known, 4096);
			for (size_t j = 0; j < nkeys; j++)
				if (buf_printf(&known, "%s%s", j ? ", " : "", keys[j].key) < 0)
					break;
			werr(w, k, "unknown key '%s' in %s (known keys: %s)",
			    scalar(k), what, known.data ? known.data : "");
			buf_done(&known);
			continue;
		}
		if (seen[i]) {
			werr(w, k, "duplicate key '%s' in %s", scalar(k), what);
			continue;
		}
		seen[i] = true;
		keys[i].fn(w, v, obj);
	}
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].required && !seen[i])
			werr(w, map, "%s: missing required key '%s'", what, keys[i].key);
	return 0;
}

/* ---- defaults ---------------------------------------------------------- */

#define CONF_FIELD_HANDLER(fname, type, field, getter)			\
static void								\
fname(struct walker *w, yaml_node_t *v, void *obj)			\
{									\
	getter(w, v, #field, &((type *)obj)->field);			\
}

CONF_FIELD_HANDLER(def_interval, struct conf, interval, get_duration)
CONF_FIELD_HANDLER(def_min_interval, struct conf, min_interval, get_duration)
CONF_FIELD_HANDLER(def_max_interval, struct conf, max_interval, get_duration)
CONF_FIELD_HANDLER(def_timeout, struct conf, timeout, get_duration)
CONF_FIELD_HANDLER(def_max_bytes, struct conf, max_bytes, get_size)
CONF_FIELD_HANDLER(def_backlog, struct conf, backlog, get_duration)
CONF_FIELD_HANDLER(def_backoff_cap, struct conf, backoff_cap, get_duration)

static void
def_max_alerts(struct walker *w, yaml_node_t *v, void *obj)
{
	get_uint(w, v, "max_alerts_per_poll", 1, 1000000,
	    &((struct conf *)obj)->max_alerts_per_poll);
}

static void
feed_max_alerts(struct walker *w, yaml_node_t *v, void *obj)
{
	get_uint(w, v, "max_alerts_per_poll", 1, 1000000,
	    &((struct conf_feed *)obj)->max_alerts_per_poll);
}

static void
def_concurrency(struct walker *w, yaml_node_t *v, void *obj)
{
	get_uint(w, v, "concurrency", 1, 1024, &((struct conf *)obj)->concurrency);
}

static void
def_per_host(struct walker *w, yaml_node_t *v, void *obj)
{
	get_uint(w, v, "per_host", 1, 64, &((struct conf *)obj)->per_host);
}

static void
def_redirect_hold(struct walker *w, yaml_node_t *v, void *obj)
{
	get_uint(w, v, "redirect_hold", 1, 1000, &((struct conf *)obj)->redirect_hold);
}

static void
def_health_failures(struct walker *w, yaml_node_t *v, void *obj)
{
	get_uint(w, v, "health_failures", 1, 1000, &((struct conf *)obj)->health_failures);
}

static const struct key_handler defaults_keys[] = {
	{ "interval", def_interval, false },
	{ "min_interval", def_min_interval, false },
	{ "max_interval", def_max_interval, false },
	{ "timeout", def_timeout, false },
	{ "max_bytes", def_max_bytes, false },
	{ "backlog", def_backlog, false },
	{ "concurrency", def_concurrency, false },
	{ "max_alerts_per_poll", def_max_alerts, false },
	{ "per_host", def_per_host, false },
	{ "backoff_cap", def_backoff_cap, false },
	{ "redirect_hold", def_redirect_hold, false },
	{ "health_failures", def_health_failures, false },
	{ NULL, NULL, false },
};

/* ---- headers (feeds and webhooks) ------------------------------------- */

struct header_ctx {
	struct conf_header	*h;
	int			 have_value;
};

static void
hdr_name(struct walker *w, yaml_node_t *v, void *obj)
{
	get_string(w, v, "name", &((struct header_ctx *)obj)->h->name);
}

static void
hdr_value(struct walker *w, yaml_node_t *v, void *obj)
{
	struct header_ctx *c = obj;

	get_secret_once(w, v, "value", SECRET_INLINE, HDR_VALUE_KEYS,
	    &c->have_value, &c->h->value);
}

static void
hdr_value_file(struct walker *w, yaml_node_t *v, void *obj)
{
	struct header_ctx *c = obj;

	get_secret_once(w, v, "value_file", SECRET_FILE, HDR_VALUE_KEYS,
	    &c->have_value, &c->h->value);
}

static void
hdr_value_env(struct walker *w, yaml_node_t *v, void *obj)
{
	struct header_ctx *c = obj;

	get_secret_once(w, v, "value_env", SECRET_ENV, HDR_VALUE_KEYS,
	    &c->have_value, &c->h->value);
}

static const struct key_handler header_keys[] = {
	{ "name", hdr_name, true },
	{ "value", hdr_value, false },
	{ "value_file", hdr_value_file, false },
	{ "value_env", hdr_value_env, false },
	{ NULL, NULL, false },
};

static void
get_headers(struct walker *w, yaml_node_t *n, struct conf_header **dst, size_t *ndst)
{
	if (n->type != YAML_SEQUENCE_NODE) {
		werr(w, n, "'headers' must be a list of {name, value} entries");
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		yaml_node_t		*item = node_at(w, *it);
		struct conf_header	*v = reallocarray(*dst, *ndst + 1, sizeof(*v));
		struct header_ctx	 ctx;

		if (v == NULL) {
			w->oom = 1;
			return;
		}
		*dst = v;
		memset(&v[*ndst], 0, sizeof(v[0]));
		ctx.h = &v[(*ndst)++];
		ctx.have_value = 0;
		(void)walk_mapping(w, item, "a header", header_keys, &ctx);
		if (ctx.h->name != NULL && (strchr(ctx.h->name, ':') != NULL ||
		    strpbrk(ctx.h->name, "\r\n") != NULL))
			werr(w, item, "header name '%s' must not contain ':' or a line break",
			    ctx.h->name);
		if (ctx.h->value != NULL && strpbrk(ctx.h->value, "\r\n") != NULL)
			werr(w, item, "header value must not contain a line break");
		if (!ctx.have_value && item->type == YAML_MAPPING_NODE)
			werr(w, item, "a header needs one of value, value_file, value_env");
	}
}

static void
headers_free(struct conf_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		if (h[i].value != NULL)
			explicit_bzero(h[i].value, strlen(h[i].value));
		free(h[i].value);
	}
	free(h);
}

/* ---- feeds ------------------------------------------------------------- */

/* Turns "file:samples/x.xml" (relative to the config file) into an absolute
 * file:// URL; other URLs are kept. Rejects schemes feedwatch cannot poll. */
static char *
feed_url_resolve(struct walker *w, yaml_node_t *n)
{
	const char	*u = scalar(n);
	char		*out = NULL;

	if (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0 ||
	    strncmp(u, "file:///", 8) == 0)
		return xstrdup(w, u);
	if (strncmp(u, "file:", 5) == 0 && u[5] != '/') {
		if (asprintf(&out, "file://%s/%s", w->dir, u + 5) < 0) {
			w->oom = 1;
			return NULL;
		}
		return out;
	}
	werr(w, n, "feed url '%s' must start with http://, https:// or file:", u);
	return NULL;
}

static void
feed_url(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf_feed *f = obj;

	if (!want_scalar(w, v, "url"))
		return;
	f->url = feed_url_resolve(w, v);
}

CONF_FIELD_HANDLER(feed_name, struct conf_feed, name, get_string)
CONF_FIELD_HANDLER(feed_interval, struct conf_feed, interval, get_duration)
CONF_FIELD_HANDLER(feed_min_interval, struct conf_feed, min_interval, get_duration)
CONF_FIELD_HANDLER(feed_max_interval, struct conf_feed, max_interval, get_duration)
CONF_FIELD_HANDLER(feed_timeout, struct conf_feed, timeout, get_duration)
CONF_FIELD_HANDLER(feed_max_bytes, struct conf_feed, max_bytes, get_size)
CONF_FIELD_HANDLER(feed_backlog, struct conf_feed, backlog, get_duration)
CONF_FIELD_HANDLER(feed_allow_downgrade, struct conf_feed, allow_downgrade, get_bool)
CONF_FIELD_HANDLER(feed_allow_private, struct conf_feed, allow_private, get_bool)
CONF_FIELD_HANDLER(feed_topics, struct conf_feed, topics, get_strlist)
CONF_FIELD_HANDLER(feed_tags, struct conf_feed, tags, get_strlist)

static void
feed_headers(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf_feed *f = obj;

	get_headers(w, v, &f->headers, &f->n_headers);
}

static const struct key_handler feed_keys[] = {
	{ "url", feed_url, true },
	{ "name", feed_name, false },
	{ "interval", feed_interval, false },
	{ "min_interval", feed_min_interval, false },
	{ "max_interval", feed_max_interval, false },
	{ "timeout", feed_timeout, false },
	{ "max_bytes", feed_max_bytes, false },
	{ "backlog", feed_backlog, false },
	{ "topics", feed_topics, false },
	{ "tags", feed_tags, false },
	{ "headers", feed_headers, false },
	{ "allow_downgrade", feed_allow_downgrade, false },
	{ "allow_private", feed_allow_private, false },
	{ "max_alerts_per_poll", feed_max_alerts, false },
	{ NULL, NULL, false },
};

static void
conf_feed_done(struct conf_feed *f)
{
	free(f->name);
	free(f->url);
	strlist_done(&f->topics);
	strlist_done(&f->tags);
	headers_free(f->headers, f->n_headers);
}

/* ---- topics ------------------------------------------------------------ */

/* A scalar kept with its position, for messages about it later. */
static void
get_confstr(struct walker *w, const yaml_node_t *v, const char *key,
    struct conf_str *dst)
{
	struct conf_strlist one = { NULL, 0 };

	if (!want_scalar(w, v, key))
		return;
	if (strlist_push(w, &one, v) == 0) {
		free(dst->s);
		*dst = one.v[0];
		free(one.v);
	}
}

static void
topic_name(struct walker *w, yaml_node_t *v, void *obj)
{
	get_confstr(w, v, "name", &((struct conf_topic *)obj)->name);
}

static void
topic_language(struct walker *w, yaml_node_t *v, void *obj)
{
	get_confstr(w, v, "language", &((struct conf_topic *)obj)->language);
}

CONF_FIELD_HANDLER(topic_severity, struct conf_topic, severity, get_severity)
CONF_FIELD_HANDLER(topic_terms, struct conf_topic, terms, get_strlist)
CONF_FIELD_HANDLER(topic_exclude, struct conf_topic, exclude, get_strlist)
CONF_FIELD_HANDLER(topic_feeds, struct conf_topic, feeds, get_strlist)

static void
upd_new_figure(struct walker *w, yaml_node_t *v, void *obj)
{
	get_bool(w, v, "new_figure", &((struct conf_updates *)obj)->new_figure);
}

static void
upd_new_topic(struct walker *w, yaml_node_t *v, void *obj)
{
	get_bool(w, v, "new_topic", &((struct conf_updates *)obj)->new_topic);
}

static void
upd_sources(struct walker *w, yaml_node_t *v, void *obj)
{
	get_uint(w, v, "sources", 0, 1000, &((struct conf_updates *)obj)->sources);
}

static const struct key_handler updates_keys[] = {
	{ "new_figure", upd_new_figure, false },
	{ "new_topic", upd_new_topic, false },
	{ "sources", upd_sources, false },
	{ NULL, NULL, false },
};

static void
topic_updates(struct walker *w, yaml_node_t *v, void *obj)
{
	(void)walk_mapping(w, v, "'updates'", updates_keys, &((struct conf_topic *)obj)->updates);
}

static const struct key_handler topic_keys[] = {
	{ "name", topic_name, true },
	{ "updates", topic_updates, false },
	{ "severity", topic_severity, false },
	{ "terms", topic_terms, true },
	{ "exclude", topic_exclude, false },
	{ "feeds", topic_feeds, false },
	{ "language", topic_language, false },
	{ NULL, NULL, false },
};

static void
conf_topic_done(struct conf_topic *t)
{
	free(t->name.s);
	free(t->language.s);
	strlist_done(&t->terms);
	strlist_done(&t->exclude);
	strlist_done(&t->feeds);
}

/* ---- sinks ------------------------------------------------------------- */

struct sink_ctx {
	struct conf_sink	*s;
	int			 have_type;
	int			 have_format;
	yaml_node_t		*format_node;
	int			 n_secret;
	int			 n_password;
	yaml_node_t		*transport_node;
	bool			 transport_bad;	/* reported; the rest is not checked */
	yaml_node_t		*sendmail_node;
	/* The first key given that only the SMTP transport uses. */
	yaml_node_t		*smtp_node;
	const char		*smtp_key;
};

/* Notes a key that only a mail sink's SMTP transport reads. */
static void
note_smtp_key(struct sink_ctx *c, const char *key, yaml_node_t *v)
{
	if (c->smtp_node == NULL) {
		c->smtp_node = v;
		c->smtp_key = key;
	}
}

static void
sink_type(struct walker *w, yaml_node_t *v, void *obj)
{
	static const char *names[] = { "log", "webhook", "mail", "exec" };
	struct sink_ctx *c = obj;

	if (!want_scalar(w, v, "type"))
		return;
	for (int i = 0; i < _SINK_TYPE_MAX; i++)
		if (strcmp(scalar(v), names[i]) == 0) {
			c->s->type = (enum sink_type)i;
			c->have_type = 1;
			return;
		}
	werr(w, v, "'type' must be one of log, webhook, mail, exec; found '%s'", scalar(v));
}

static void
sink_format(struct walker *w, yaml_node_t *v, void *obj)
{
	static const char *names[] = { "text", "jsonl", "generic", "slack", "discord", "ntfy" };
	struct sink_ctx *c = obj;

	if (!want_scalar(w, v, "format"))
		return;
	/* Checked in sink_validate(), which knows the sink's type and so
	 * which formats to offer. */
	c->have_format = 1;
	c->format_node = v;
	c->s->format = _SINK_FORMAT_MAX;
	for (int i = 0; i < _SINK_FORMAT_MAX; i++)
		if (strcmp(scalar(v), names[i]) == 0)
			c->s->format = (enum sink_format)i;
}

/* Whether the sink's format is one of first..last, saying which ones are
 * when it is not. */
static void
sink_check_format(struct walker *w, struct sink_ctx *c, const char *kind,
    enum sink_format first, enum sink_format last, const char *choices)
{
	if (c->s->format >= first && c->s->format <= last)
		return;
	werr(w, c->format_node, "a %s's format must be one of %s; found '%s'", kind, choices,
	    scalar(c->format_node));
}

#define SINK_HANDLER(fname, field, getter)				\
static void								\
fname(struct walker *w, yaml_node_t *v, void *obj)			\
{									\
	getter(w, v, #field, &((struct sink_ctx *)obj)->s->field);	\
}

SINK_HANDLER(sink_name, name, get_string)
SINK_HANDLER(sink_topics, topics, get_strlist)
SINK_HANDLER(sink_feeds, feeds, get_strlist)
SINK_HANDLER(sink_min_severity, min_severity, get_severity)
SINK_HANDLER(sink_path, path, get_path)
SINK_HANDLER(sink_timeout, timeout, get_duration)
SINK_HANDLER(sink_from, from, get_string)
SINK_HANDLER(sink_to, to, get_strlist)
SINK_HANDLER(sink_sendmail_argv, sendmail, get_strlist)
SINK_HANDLER(sink_command, command, get_strlist)
SINK_HANDLER(sink_env, env, get_strlist)
SINK_HANDLER(sink_rate, rate_per_second, get_double)
SINK_HANDLER(sink_budget_dur, digest_interval, get_duration)
SINK_HANDLER(sink_bypass, bypass_severity, get_severity)

static void
sink_url(struct walker *w, yaml_node_t *v, void *obj)
{
	note_smtp_key(obj, "url", v);
	get_string(w, v, "url", &((struct sink_ctx *)obj)->s->url);
}

static void
sink_username(struct walker *w, yaml_node_t *v, void *obj)
{
	note_smtp_key(obj, "username", v);
	get_string(w, v, "username", &((struct sink_ctx *)obj)->s->username);
}

static void
sink_starttls(struct walker *w, yaml_node_t *v, void *obj)
{
	note_smtp_key(obj, "starttls", v);
	get_bool(w, v, "starttls", &((struct sink_ctx *)obj)->s->starttls);
}

static void
sink_transport(struct walker *w, yaml_node_t *v, void *obj)
{
	static const char	*names[] = { "smtp", "sendmail" };
	struct sink_ctx		*c = obj;

	if (!want_scalar(w, v, "transport"))
		return;
	c->transport_node = v;
	for (int i = 0; i < _MAIL_TRANSPORT_MAX; i++)
		if (strcmp(scalar(v), names[i]) == 0) {
			c->s->transport = (enum mail_transport)i;
			return;
		}
	c->transport_bad = true;
	werr(w, v, "'transport' must be smtp or sendmail; found '%s'", scalar(v));
}

static void
sink_sendmail(struct walker *w, yaml_node_t *v, void *obj)
{
	((struct sink_ctx *)obj)->sendmail_node = v;
	sink_sendmail_argv(w, v, obj);
}

static void
sink_hourly_budget(struct walker *w, yaml_node_t *v, void *obj)
{
	unsigned n = 0;

	get_uint(w, v, "hourly_budget", 0, 1000000, &n);
	((struct sink_ctx *)obj)->s->hourly_budget = n;
}

/* retry: [5s, 5m, ...]: the waits between attempts, then a dead letter. */
static void
sink_retry(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf_sink	*s = ((struct sink_ctx *)obj)->s;
	size_t			 n;

	if (v->type != YAML_SEQUENCE_NODE) {
		werr(w, v, "'retry' must be a list of durations such as [5s, 5m, 30m], found %s",
		    is_null(v) ? "an empty value" : node_kind(v));
		return;
	}
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0 || n > CONF_RETRY_MAX) {
		werr(w, v, "'retry' must list from 1 to %d durations, found %zu",
		    CONF_RETRY_MAX, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t	*item = node_at(w, v->data.sequence.items.start[i]);
		int64_t		 delay = -1;

		if (item->type != YAML_SCALAR_NODE || is_null(item)) {
			werr(w, item, "each entry of 'retry' must be a duration, found %s",
			    is_null(item) ? "an empty value" : node_kind(item));
			return;
		}
		get_duration(w, item, "retry", &delay);
		if (delay == 0) {
			/* A retry at once would hammer a receiver that is down. */
			werr(w, item, "'retry': each wait must be at least 1s, found '%s'",
			    scalar(item));
			return;
		}
		if (delay < 0)
			return;
		s->retry[i] = delay;
	}
	s->n_retry = n;
}

static void
sink_headers(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf_sink *s = ((struct sink_ctx *)obj)->s;

	get_headers(w, v, &s->headers, &s->n_headers);
}

#define SINK_SECRET_KEYS	"secret_file, secret_env"
#define SINK_PASSWORD_KEYS	"password_file, password_env"

static void
sink_secret_file(struct walker *w, yaml_node_t *v, void *obj)
{
	struct sink_ctx *c = obj;

	get_secret_once(w, v, "secret_file", SECRET_FILE, SINK_SECRET_KEYS,
	    &c->n_secret, &c->s->secret);
}

static void
sink_secret_env(struct walker *w, yaml_node_t *v, void *obj)
{
	struct sink_ctx *c = obj;

	get_secret_once(w, v, "secret_env", SECRET_ENV, SINK_SECRET_KEYS,
	    &c->n_secret, &c->s->secret);
}

static void
sink_password_file(struct walker *w, yaml_node_t *v, void *obj)
{
	struct sink_ctx *c = obj;

	note_smtp_key(c, "password_file", v);
	get_secret_once(w, v, "password_file", SECRET_FILE, SINK_PASSWORD_KEYS,
	    &c->n_password, &c->s->password);
}

static void
sink_password_env(struct walker *w, yaml_node_t *v, void *obj)
{
	struct sink_ctx *c = obj;

	note_smtp_key(c, "password_env", v);
	get_secret_once(w, v, "password_env", SECRET_ENV, SINK_PASSWORD_KEYS,
	    &c->n_password, &c->s->password);
}

static int
parse_hhmm(const char *s, int *ret_min)
{
	const char	*p;
	char		*end;
	long		 h, m;

	/* strtol, not sscanf: an out-of-range number is caught, not UB. */
	h = strtol(s, &end, 10);
	if (end == s || *end != ':' || h < 0 || h > 23)
		return -EINVAL;
	p = end + 1;
	m = strtol(p, &end, 10);
	if (end == p || m < 0 || m > 59)
		return -EINVAL;
	*ret_min = (int)(h * 60 + m);
	return (int)(end - s);
}

static void
sink_quiet_hours(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf_sink	*s = ((struct sink_ctx *)obj)->s;
	const char		*p;
	int			 n, start, end;

	if (!want_scalar(w, v, "quiet_hours"))
		return;
	p = scalar(v);
	if ((n = parse_hhmm(p, &start)) < 0 || p[n] != '-' ||
	    parse_hhmm(p + n + 1, &end) < 0) {
		werr(w, v, "'quiet_hours' must look like 22:00-07:00, found '%s'", p);
		return;
	}
	s->quiet_start_min = start;
	s->quiet_end_min = end;
}

static const struct key_handler sink_keys[] = {
	{ "type", sink_type, true },
	{ "name", sink_name, false },
	{ "format", sink_format, false },
	{ "topics", sink_topics, false },
	{ "feeds", sink_feeds, false },
	{ "min_severity", sink_min_severity, false },
	{ "path", sink_path, false },
	{ "url", sink_url, false },
	{ "secret_file", sink_secret_file, false },
	{ "secret_env", sink_secret_env, false },
	{ "headers", sink_headers, false },
	{ "timeout", sink_timeout, false },
	{ "from", sink_from, false },
	{ "to", sink_to, false },
	{ "username", sink_username, false },
	{ "password_file", sink_password_file, false },
	{ "password_env", sink_password_env, false },
	{ "starttls", sink_starttls, false },
	{ "transport", sink_transport, false },
	{ "sendmail", sink_sendmail, false },
	{ "command", sink_command, false },
	{ "env", sink_env, false },
	{ "retry", sink_retry, false },
	{ "rate_per_second", sink_rate, false },
	{ "hourly_budget", sink_hourly_budget, false },
	{ "digest", sink_budget_dur, false },
	{ "bypass_severity", sink_bypass, false },
	{ "quiet_hours", sink_quiet_hours, false },
	{ NULL, NULL, false },
};

static void
conf_sink_done(struct conf_sink *s)
{
	free(s->name);
	strlist_done(&s->topics);
	strlist_done(&s->feeds);
	free(s->path);
	free(s->url);
	if (s->secret != NULL)
		explicit_bzero(s->secret, strlen(s->secret));
	free(s->secret);
	headers_free(s->headers, s->n_headers);
	free(s->from);
	strlist_done(&s->to);
	free(s->username);
	if (s->password != NULL)
		explicit_bzero(s->password, strlen(s->password));
	free(s->password);
	strlist_done(&s->sendmail);
	strlist_done(&s->command);
	strlist_done(&s->env);
}

/* A mail sink with 'transport: sendmail': no SMTP keys, and a command
 * given as a list. */
static void
sink_validate_sendmail(struct walker *w, struct sink_ctx *c)
{
	const struct conf_strlist *argv = &c->s->sendmail;

	if (c->smtp_node != NULL)
		werr(w, c->smtp_node, "'%s' is for the smtp transport; with 'transport: "
		    "sendmail' the local mail system delivers", c->smtp_key);
	if (c->sendmail_node == NULL)
		return;
	if (argv->n == 0)
		werr(w, c->sendmail_node, "'sendmail' must name a program, such as "
		    "[/usr/sbin/sendmail, -t, -oi]");
	/* No shell splits it: "/usr/sbin/sendmail -t" would be one file name. */
	else if (argv->n == 1 && strpbrk(argv->v[0].s, " \t") != NULL)
		werr_at(w, argv->v[0].line, argv->v[0].col, "'sendmail' is a list, the "
		    "program and its arguments (no shell): [/usr/sbin/sendmail, -t, -oi]; "
		    "found '%s'", argv->v[0].s);
	else if (argv->v[0].s[0] == '\0')
		werr_at(w, argv->v[0].line, argv->v[0].col, "'sendmail' must name a program "
		    "first, found an empty string");
}

/* Cross-field checks of one sink, once all its keys are read. */
static void
sink_validate(struct walker *w, yaml_node_t *node, struct sink_ctx *c)
{
	struct conf_sink *s = c->s;

	if (!c->have_type)
		return;
	if (c->transport_node != NULL && s->type != SINK_MAIL)
		werr(w, c->transport_node, "only a mail sink has a 'transport'");
	if (c->sendmail_node != NULL && s->type != SINK_MAIL)
		werr(w, c->sendmail_node, "only a mail sink has 'sendmail' (with "
		    "'transport: sendmail')");
	/* Mail and exec sinks have no formats. */
	if (c->have_format && s->type != SINK_LOG && s->type != SINK_WEBHOOK)
		werr(w, c->format_node, "a%s sink has no 'format' (log and webhook sinks do)",
		    s->type == SINK_MAIL ? " mail" : "n exec");
	switch (s->type) {
	case SINK_LOG:
		if (!c->have_format)
			s->format = SINK_FORMAT_TEXT;
		else
			sink_check_format(w, c, "log sink", SINK_FORMAT_TEXT, SINK_FORMAT_JSONL,
			    "text, jsonl");
		if (s->path == NULL)
			werr(w, node, "a log sink needs 'path' (a file, or - for stderr)");
		break;
	case SINK_WEBHOOK:
		if (!c->have_format)
			s->format = SINK_FORMAT_GENERIC;
		else
			sink_check_format(w, c, "webhook", SINK_FORMAT_GENERIC, SINK_FORMAT_NTFY,
			    "generic, slack, discord, ntfy");
		if (s->url == NULL)
			werr(w, node, "a webhook sink needs 'url'");
		else if (strncmp(s->url, "http://", 7) != 0 && strncmp(s->url, "https://", 8) != 0)
			werr(w, node, "webhook url '%s' must start with http:// or https://", s->url);
		break;
	case SINK_MAIL:
		if (c->transport_bad)
			;
		else if (s->transport == MAIL_TRANSPORT_SENDMAIL)
			sink_validate_sendmail(w, c);
		else if (c->sendmail_node != NULL)
			werr(w, c->sendmail_node, "'sendmail' is for 'transport: sendmail' "
			    "(this mail sink sends over SMTP to its 'url')");
		else if (s->url == NULL)
			werr(w, node, "a mail sink needs 'url' (smtp://host:port or smtps://...), "
			    "or 'transport: sendmail' to use the local mail system");
		else if (strncmp(s->url, "smtp://", 7) != 0 && strncmp(s->url, "smtps://", 8) != 0)
			werr(w, node, "mail url '%s' must start with smtp:// or smtps://", s->url);
		if (s->from == NULL)
			werr(w, node, "a mail sink needs 'from'");
		else if (!safe_header_value_ok(s->from))
			werr(w, node, "'from' has a control character (a line break would "
			    "add a header)");
		if (s->to.n == 0)
			werr(w, node, "a mail sink needs 'to'");
		for (size_t i = 0; i < s->to.n; i++)
			if (!safe_header_value_ok(s->to.v[i].s))
				werr_at(w, s->to.v[i].line, s->to.v[i].col, "'to' has a control "
				    "character (a line break would add a header)");
		break;
	case SINK_EXEC:
		if (s->command.n == 0)
			werr(w, node, "an exec sink needs 'command' (a list: program and arguments)");
		break;
	default:
		break;
	}
}

/* ---- top level --------------------------------------------------------- */

static void
top_state(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf *c = obj;

	if (!want_scalar(w, v, "state"))
		return;
	free(c->state_path);
	/* A database is named, not a file: no config directory in front. */
	c->state_path = db_target_is_postgresql(scalar(v)) ? xstrdup(w, scalar(v))
	    : xpath(w, scalar(v));
	c->state_line = (unsigned)v->start_mark.line + 1;
	c->state_col = (unsigned)v->start_mark.column + 1;
}

static void
top_retention(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf *c = obj;

	get_duration(w, v, "retention", &c->retention);
	/* Under an hour, `feedwatch alerts` would hardly ever show one. */
	if (c->retention < 3600)
		werr(w, v, "'retention': '%s' is shorter than the minimum of 1h", scalar(v));
}

static void
top_lease(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf *c = obj;

	get_duration(w, v, "lease", &c->lease);
	if (c->lease <= 0)
		werr(w, v, "'lease': must be at least 1s");
}

CONF_FIELD_HANDLER(top_user_agent, struct conf, user_agent, get_string)
CONF_FIELD_HANDLER(top_ca_path, struct conf, ca_path, get_path)
CONF_FIELD_HANDLER(top_proxy, struct conf, proxy, get_string)

static void
http_listen(struct walker *w, yaml_node_t *v, void *obj)
{
	get_string(w, v, "listen", &((struct conf *)obj)->http_listen);
}

static const struct key_handler http_keys[] = {
	{ "listen", http_listen, true },
	{ NULL, NULL, false },
};

static void
top_http(struct walker *w, yaml_node_t *v, void *obj)
{
	(void)walk_mapping(w, v, "'http'", http_keys, obj);
}

static void
top_defaults(struct walker *w, yaml_node_t *v, void *obj)
{
	(void)walk_mapping(w, v, "'defaults'", defaults_keys, obj);
}

/*
 * The one shape of the top-level lists (feeds, topics, sinks): a sequence,
 * appended to items (included files add to the main file's feeds), each
 * element zeroed and handed to each() with its 1-based position in the
 * list, for the caller's defaults and its keys. Returns the array, grown,
 * or items as it was when the node is no list or memory ran out.
 */
static void *
walk_sequence(struct walker *w, yaml_node_t *v, const char *key, void *items,
    size_t *n_items, size_t size,
    void (*each)(struct walker *w, yaml_node_t *item, size_t pos, void *elem))
{
	size_t	 n;
	char	*grown;

	if (v->type != YAML_SEQUENCE_NODE) {
		werr(w, v, "'%s' must be a list of %s, found %s", key, key,
		    is_null(v) ? "an empty value" : node_kind(v));
		return items;
	}
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	grown = reallocarray(items, *n_items + n + 1, size);
	if (grown == NULL) {
		w->oom = 1;
		return items;
	}
	memset(grown + *n_items * size, 0, (n + 1) * size);
	for (size_t i = 0; i < n; i++)
		each(w, node_at(w, v->data.sequence.items.start[i]), i + 1,
		    grown + (*n_items)++ * size);
	return grown;
}

static void
feed_each(struct walker *w, yaml_node_t *item, size_t pos, void *elem)
{
	struct conf_feed	*f = elem;
	char			 what[64];

	f->file = w->conf_path;
	f->line = (unsigned)item->start_mark.line + 1;
	f->col = (unsigned)item->start_mark.column + 1;
	f->interval = f->min_interval = f->max_interval = -1;
	f->timeout = f->backlog = -1;
	snprintf(what, sizeof(what), "feed %zu", pos);
	(void)walk_mapping(w, item, what, feed_keys, f);
}

static void
top_feeds(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf *c = obj;

	c->feeds = walk_sequence(w, v, "feeds", c->feeds, &c->n_feeds, sizeof(*c->feeds),
	    feed_each);
}

static void
topic_each(struct walker *w, yaml_node_t *item, size_t pos, void *elem)
{
	struct conf_topic	*t = elem;
	char			 what[64];

	t->severity = SEVERITY_NORMAL;
	t->updates = (struct conf_updates){ .new_figure = true, .new_topic = true };
	snprintf(what, sizeof(what), "topic %zu", pos);
	(void)walk_mapping(w, item, what, topic_keys, t);
}

static void
top_topics(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf *c = obj;

	c->topics = walk_sequence(w, v, "topics", c->topics, &c->n_topics, sizeof(*c->topics),
	    topic_each);
}

/* ---- lists ------------------------------------------------------------- */

static bool
list_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static void
top_lists(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf	*c = obj;
	size_t		 n;

	if (v->type != YAML_MAPPING_NODE) {
		werr(w, v, "'lists' must map list names to lists of terms, "
		    "found %s", is_null(v) ? "an empty value" : node_kind(v));
		return;
	}
	n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	c->lists = calloc(n ? n : 1, sizeof(*c->lists));
	if (c->lists == NULL) {
		w->oom = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_pair_t	*p = &v->data.mapping.pairs.start[i];
		yaml_node_t		*k = node_at(w, p->key);
		yaml_node_t		*val = node_at(w, p->value);
		struct conf_list	*l;
		char			 what[96];

		if (k->type != YAML_SCALAR_NODE || !list_name_ok(scalar(k))) {
			werr(w, k, "a list name is made of letters, digits, "
			    "'_' and '-'");
			continue;
		}
		for (size_t j = 0; j < c->n_lists; j++)
			if (c->lists[j].name.s != NULL &&
			    strcmp(c->lists[j].name.s, scalar(k)) == 0) {
				werr(w, k, "list '%s' is defined twice",
				    scalar(k));
				break;
			}
		l = &c->lists[c->n_lists++];
		get_confstr(w, k, "list name", &l->name);
		if (l->name.s == NULL)
			return;		/* out of memory */
		snprintf(what, sizeof(what), "list '%.64s'", scalar(k));
		if (is_null(val) || (val->type == YAML_SEQUENCE_NODE &&
		    val->data.sequence.items.top ==
		    val->data.sequence.items.start))
			werr(w, val, "%s is empty", what);
		else
			get_strlist(w, val, scalar(k), &l->entries);
	}
}

static void
top_language(struct walker *w, yaml_node_t *v, void *obj)
{
	get_confstr(w, v, "language", &((struct conf *)obj)->language);
}

static void
sink_each(struct walker *w, yaml_node_t *item, size_t pos, void *elem)
{
	struct sink_ctx	 ctx = { .s = elem };
	char		 what[64];

	ctx.s->line = (unsigned)item->start_mark.line + 1;
	ctx.s->col = (unsigned)item->start_mark.column + 1;
	ctx.s->min_severity = SEVERITY_LOW;
	ctx.s->bypass_severity = SEVERITY_CRITICAL;
	ctx.s->quiet_start_min = ctx.s->quiet_end_min = -1;
	ctx.s->timeout = 10;
	snprintf(what, sizeof(what), "sink %zu", pos);
	if (walk_mapping(w, item, what, sink_keys, &ctx) == 0)
		sink_validate(w, item, &ctx);
}

static void
top_sinks(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf *c = obj;

	c->sinks = walk_sequence(w, v, "sinks", c->sinks, &c->n_sinks, sizeof(*c->sinks),
	    sink_each);
}

/* ---- developments ------------------------------------------------------ */

static void
dev_group(struct walker *w, yaml_node_t *v, void *obj)
{
	get_bool(w, v, "group", &((struct conf_developments *)obj)->group);
}

static void
dev_window(struct walker *w, yaml_node_t *v, void *obj)
{
	get_duration(w, v, "window", &((struct conf_developments *)obj)->window);
}

static void
dev_threshold(struct walker *w, yaml_node_t *v, void *obj)
{
	get_double(w, v, "threshold", &((struct conf_developments *)obj)->threshold);
}

static void
dev_strip_params(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf_developments *d = obj;

	d->have_strip_params = true;
	get_strlist(w, v, "strip_params", &d->strip_params);
}

static void
dev_host_prefixes(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf_developments *d = obj;

	d->have_host_prefixes = true;
	get_strlist(w, v, "host_prefixes", &d->host_prefixes);
}

static void
dev_aggregators(struct walker *w, yaml_node_t *v, void *obj)
{
	struct conf_developments *d = obj;

	d->have_aggregators = true;
	get_strlist(w, v, "aggregators", &d->aggregators);
}

static const struct key_handler developments_keys[] = {
	{ "group", dev_group, false },
	{ "window", dev_window, false },
	{ "threshold", dev_threshold, false },
	{ "strip_params", dev_strip_params, false },
	{ "host_prefixes", dev_host_prefixes, false },
	{ "aggregators", dev_aggregators, false },
	{ NULL, NULL, false },
};

static void
top_developments(struct walker *w, yaml_node_t *v, void *obj)
{
	(void)walk_mapping(w, v, "'developments'", developments_keys,
	    &((struct conf *)obj)->developments);
}

static void
top_include(struct walker *w, yaml_node_t *v, void *obj)
{
	get_path(w, v, "include", &((struct conf *)obj)->include);
}

static const struct key_handler top_keys[] = {
	{ "developments", top_developments, false },
	{ "state", top_state, true },
	{ "retention", top_retention, false },
	{ "lease", top_lease, false },
	{ "include", top_include, false },
	{ "user_agent", top_user_agent, false },
	{ "ca_path", top_ca_path, false },
	{ "proxy", top_proxy, false },
	{ "http", top_http, false },
	{ "defaults", top_defaults, false },
	{ "feeds", top_feeds, true },
	{ "topics", top_topics, false },
	{ "lists", top_lists, false },
	{ "language", top_language, false },
	{ "sinks", top_sinks, false },
	{ NULL, NULL, false },
};

/* What an included file may hold. */
static const struct key_handler include_keys[] = {
	{ "feeds", top_feeds, true },
	{ NULL, NULL, false },
};

/* Names must be unique, references must resolve, defaults flow down. */
static void
conf_finish(struct walker *w, struct conf *c)
{
	for (size_t i = 0; i < c->n_feeds; i++) {
		struct conf_feed *f = &c->feeds[i];

		if (f->url == NULL)
			continue;
		if (f->name == NULL && (f->name = xstrdup(w, f->url)) == NULL)
			return;
		if (f->interval < 0)
			f->interval = c->interval;
		if (f->min_interval < 0)
			f->min_interval = c->min_interval;
		if (f->max_interval < 0)
			f->max_interval = c->max_interval;
		if (f->timeout < 0)
			f->timeout = c->timeout;
		if (f->max_bytes == 0)
			f->max_bytes = c->max_bytes;
		if (f->backlog < 0)
			f->backlog = c->backlog;
		if (f->max_alerts_per_poll == 0)
			f->max_alerts_per_poll = c->max_alerts_per_poll;
		if (f->interval < 1)
			werr_in(w, f->file, f->line, f->col,
			    "feed '%s': interval must be at least 1s", f->name);
		for (size_t j = 0; j < i; j++) {
			const struct conf_feed *g = &c->feeds[j];

			/* Both places, as the two may be in different files. */
			if (g->url != NULL && strcmp(g->url, f->url) == 0)
				werr_in(w, f->file, f->line, f->col,
				    "feed '%s' is listed twice: first at %s:%u:%u",
				    f->url, g->file, g->line, g->col);
			else if (g->name != NULL && strcmp(g->name, f->name) == 0)
				werr_in(w, f->file, f->line, f->col,
				    "feed name '%s' is used twice: first at %s:%u:%u",
				    f->name, g->file, g->line, g->col);
		}
	}
	for (size_t i = 0; i < c->n_topics; i++) {
		struct conf_topic *t = &c->topics[i];

		if (t->name.s == NULL)
			continue;
		for (size_t j = 0; j < i; j++)
			if (c->topics[j].name.s != NULL && strcmp(c->topics[j].name.s, t->name.s) == 0)
				werr_at(w, t->name.line, t->name.col,
				    "topic '%s' is defined twice", t->name.s);
		for (size_t j = 0; j < t->feeds.n; j++)
			if (conf_find_feed(c, t->feeds.v[j].s) == NULL)
				werr_at(w, t->feeds.v[j].line, t->feeds.v[j].col,
				    "topic '%s' names feed '%s', which is not in 'feeds'",
				    t->name.s, t->feeds.v[j].s);
	}
	/* Feeds, topics and sinks that name topics must name real ones. */
	for (size_t i = 0; i < c->n_feeds + c->n_sinks; i++) {
		struct conf_strlist *l = i < c->n_feeds ? &c->feeds[i].topics
		    : &c->sinks[i - c->n_feeds].topics;

		for (size_t j = 0; j < l->n; j++) {
			size_t k;

			for (k = 0; k < c->n_topics; k++)
				if (c->topics[k].name.s != NULL &&
				    strcmp(c->topics[k].name.s, l->v[j].s) == 0)
					break;
			/* A sink may name the feed-health alerts' topic. */
			if (k == c->n_topics && !(i >= c->n_feeds &&
			    strcmp(l->v[j].s, CONF_HEALTH_TOPIC) == 0))
				werr_in(w, i < c->n_feeds ? c->feeds[i].file : w->path,
				    l->v[j].line, l->v[j].col, "unknown topic '%s'", l->v[j].s);
		}
	}
	for (size_t i = 0; i < c->n_sinks; i++) {
		struct conf_sink *s = &c->sinks[i];

		s->ca_path = c->ca_path;
		for (size_t j = 0; j < s->feeds.n; j++)
			if (conf_find_feed(c, s->feeds.v[j].s) == NULL)
				werr_at(w, s->feeds.v[j].line, s->feeds.v[j].col,
				    "sink names feed '%s', which is not in 'feeds'", s->feeds.v[j].s);
		if (s->name == NULL) {
			static const char *tn[] = { "log", "webhook", "mail", "exec" };

			if (asprintf(&s->name, "%s%zu", tn[s->type], i + 1) < 0) {
				s->name = NULL;
				w->oom = 1;
			}
		}
		for (size_t j = 0; j < i; j++)
			if (s->name != NULL && c->sinks[j].name != NULL &&
			    strcmp(s->name, c->sinks[j].name) == 0)
				werr_at(w, s->line, s->col,
				    "sink name '%s' is used twice", s->name);
	}
}

static void
conf_set_defaults(struct conf *c)
{
	c->interval = 15 * 60;
	c->min_interval = 5 * 60;
	c->max_interval = 6 * 3600;
	c->timeout = 30;
	c->max_bytes = 10 * 1024 * 1024;
	c->backlog = 24 * 3600;
	c->concurrency = 8;
	c->per_host = 2;
	c->backoff_cap = 24 * 3600;
	c->lease = 5 * 60;
	c->redirect_hold = 3;
	c->retention = 90 * 86400;
	c->health_failures = 5;
	c->developments.group = true;
	c->developments.window = 72 * 3600;
	c->developments.threshold = 0.02;	/* CLUSTER_DEFAULT_THRESHOLD */
	c->max_alerts_per_poll = 200;
}

/* The absolute directory of path (owned), or "." when it cannot be
 * resolved; NULL when out of memory. */
static char *
dir_of(const char *path)
{
	char *abs = realpath(path, NULL), *slash;

	if (abs == NULL)
		return strdup(".");
	if ((slash = strrchr(abs, '/')) != NULL)
		*(slash == abs ? slash + 1 : slash) = '\0';
	return abs;
}

/* Reads one included file's feeds into c. Its errors name it, and its
 * relative paths are relative to its own directory. */
static void
conf_include_file(struct walker *w, struct conf *c, const char *path)
{
	struct walker	 sub = { .path = path, .conf_path = path, .errs = w->errs,
	    .no_secrets = w->no_secrets };
	yaml_parser_t	 parser;
	yaml_document_t	 doc;
	yaml_node_t	*root;
	FILE		*f;

	f = fopen(path, "re");
	if (f == NULL) {
		werr_in(w, path, 0, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if ((sub.dir = dir_of(path)) == NULL || !yaml_parser_initialize(&parser)) {
		w->oom = 1;
		free(sub.dir);
		fclose(f);
		return;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		werr_in(w, path, (unsigned)parser.problem_mark.line + 1,
		    (unsigned)parser.problem_mark.column + 1, "YAML syntax error: %s%s%s",
		    parser.problem ? parser.problem : "unknown problem",
		    parser.context ? " " : "", parser.context ? parser.context : "");
		goto out;
	}
	sub.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL)
		werr_in(w, path, 1, 1, "the file is empty: an included file holds 'feeds'");
	else
		(void)walk_mapping(&sub, root, "an included file (it may hold only 'feeds')",
		    include_keys, c);
	yaml_document_delete(&doc);
	w->failed |= sub.failed;
	w->oom |= sub.oom;
out:
	yaml_parser_delete(&parser);
	fclose(f);
	free(sub.dir);
}

/* The files 'include' names (default CONF_DEFAULT_INCLUDE beside the main
 * file), in name order; a pattern that matches nothing is no error, so a
 * missing feeds.d is fine. The main file itself is never included again. */
static void
conf_include(struct walker *w, struct conf *c)
{
	glob_t	 g;
	char	*pattern = c->include, *self, *other;
	int	 r;

	if (pattern == NULL && asprintf(&pattern, "%s/%s", w->dir, CONF_DEFAULT_INCLUDE) < 0) {
		w->oom = 1;
		return;
	}
	r = glob(pattern, 0, NULL, &g);
	if (pattern != c->include)
		free(pattern);
	if (r == GLOB_NOSPACE)
		w->oom = 1;
	if (r != 0)
		return;
	c->included = calloc(g.gl_pathc + 1, sizeof(*c->included));
	if (c->included == NULL)
		w->oom = 1;
	self = realpath(c->path, NULL);
	for (size_t i = 0; !w->oom && i < g.gl_pathc; i++) {
		struct stat st;

		/* Limits on what a glob may pull in: regular files of a
		 * sane size, and not too many of them. */
		if (c->n_included == CONF_MAX_INCLUDED) {
			werr_in(w, c->path, 0, 0, "include: more than %d files match; the "
			    "rest are not read", CONF_MAX_INCLUDED);
			break;
		}
		if (stat(g.gl_pathv[i], &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (st.st_size > CONF_MAX_INCLUDED_BYTES) {
			werr_in(w, g.gl_pathv[i], 0, 0, "an included file larger than 1 MiB "
			    "is not a list of feeds");
			continue;
		}
		other = realpath(g.gl_pathv[i], NULL);
		r = self != NULL && other != NULL && strcmp(self, other) == 0;
		free(other);
		if (r)
			continue;
		if ((c->included[c->n_included] = strdup(g.gl_pathv[i])) == NULL) {
			w->oom = 1;
			break;
		}
		conf_include_file(w, c, c->included[c->n_included++]);
	}
	free(self);
	globfree(&g);
}

static int
conf_load_impl(const char *path, bool keep_invalid, bool no_secrets, struct conf **ret_conf,
    struct fw_errors *errs)
{
	struct walker	 w = { .path = path, .errs = errs, .no_secrets = no_secrets };
	yaml_parser_t	 parser;
	yaml_document_t	 doc;
	struct conf	*c = NULL;
	FILE		*f = NULL;
	yaml_node_t	*root;
	int		 have_parser = 0, have_doc = 0, r;

	f = fopen(path, "re");
	if (f == NULL) {
		struct fw_error e;

		r = -errno;
		fw_error_set(&e, path, 0, 0, "cannot open: %s", strerror(-r));
		(void)fw_errors_add(errs, &e);
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->path = strdup(path)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	conf_set_defaults(c);
	w.conf_path = c->path;
	if ((w.dir = dir_of(path)) == NULL) {
		r = -ENOMEM;
		goto out;
	}

	if (!yaml_parser_initialize(&parser)) {
		r = -ENOMEM;
		goto out;
	}
	have_parser = 1;
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		struct fw_error e;

		/* libyaml marks are 0-based; the contract's are 1-based. */
		fw_error_set(&e, path, (unsigned)parser.problem_mark.line + 1,
		    (unsigned)parser.problem_mark.column + 1, "YAML syntax error: %s%s%s",
		    parser.problem ? parser.problem : "unknown problem",
		    parser.context ? " " : "", parser.context ? parser.context : "");
		(void)fw_errors_add(errs, &e);
		r = -EINVAL;
		goto out;
	}
	have_doc = 1;
	w.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		struct fw_error e;

		fw_error_set(&e, path, 1, 1, "the file is empty: it needs at least 'state' and 'feeds'");
		(void)fw_errors_add(errs, &e);
		r = -EINVAL;
		goto out;
	}
	(void)walk_mapping(&w, root, "the top level", top_keys, c);
	if (!w.oom)
		conf_include(&w, c);
	if (!w.oom)
		conf_finish(&w, c);
	if (w.oom) {
		r = -ENOMEM;
		goto out;
	}
	r = w.failed ? -EINVAL : 0;
	if (r == 0 || keep_invalid) {
		*ret_conf = c;
		c = NULL;
	}
out:
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	if (f != NULL)
		fclose(f);
	free(w.dir);
	conf_free(c);
	return r;
}

int
conf_load(const char *path, struct conf **ret_conf, struct fw_errors *errs)
{
	return conf_load_impl(path, false, false, ret_conf, errs);
}

int
conf_load_without_secrets(const char *path, struct conf **ret_conf, struct fw_errors *errs)
{
	return conf_load_impl(path, false, true, ret_conf, errs);
}

int
conf_load_invalid(const char *path, struct conf **ret_conf, struct fw_errors *errs)
{
	return conf_load_impl(path, true, false, ret_conf, errs);
}

int
conf_check_state(const struct conf *c, struct fw_error *reterr)
{
	struct stat	 st;
	char		*dir;
	const char	*what = NULL;
	int		 r = 0;

	if (c->state_path == NULL || db_target_is_postgresql(c->state_path))
		return 0;
	dir = strdup(c->state_path);
	if (dir == NULL)
		return -ENOMEM;
	if (strrchr(dir, '/') == NULL) {	/* only "-" is not made absolute */
		free(dir);
		return 0;
	}
	*strrchr(dir, '/') = '\0';
	if (stat(dir[0] != '\0' ? dir : "/", &st) < 0) {
		r = -errno;
		what = r == -ENOENT ? "does not exist: create it (the service's "
		    "StateDirectory= does)" : strerror(-r);
	} else if (!S_ISDIR(st.st_mode)) {
		r = -ENOTDIR;
		what = "is not a directory";
	} else if (access(dir[0] != '\0' ? dir : "/", W_OK | X_OK) < 0) {
		r = -errno;
		what = r == -EACCES ? "permission denied: this user cannot create the "
		    "state file there (run as the service's user, or with sudo)" : strerror(-r);
	} else if (access(c->state_path, R_OK | W_OK) < 0 && errno != ENOENT) {
		r = -errno;
		fw_error_set(reterr, c->path, c->state_line, c->state_col,
		    "state file '%s': %s", c->state_path, r == -EACCES ?
		    "permission denied (run as the service's user, or with sudo)" : strerror(-r));
		free(dir);
		return r;
	}
	if (r < 0)
		fw_error_set(reterr, c->path, c->state_line, c->state_col,
		    "state file '%s': directory '%s' %s", c->state_path, dir, what);
	free(dir);
	return r;
}

struct conf *
conf_free(struct conf *c)
{
	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_feeds; i++)
		conf_feed_done(&c->feeds[i]);
	free(c->feeds);
	for (size_t i = 0; i < c->n_topics; i++)
		conf_topic_done(&c->topics[i]);
	free(c->topics);
	for (size_t i = 0; i < c->n_lists; i++) {
		free(c->lists[i].name.s);
		strlist_done(&c->lists[i].entries);
	}
	free(c->lists);
	free(c->language.s);
	for (size_t i = 0; i < c->n_sinks; i++)
		conf_sink_done(&c->sinks[i]);
	free(c->sinks);
	strlist_done(&c->developments.strip_params);
	strlist_done(&c->developments.host_prefixes);
	strlist_done(&c->developments.aggregators);
	for (size_t i = 0; i < c->n_included; i++)
		free(c->included[i]);
	free(c->included);
	free(c->include);
	free(c->path);
	free(c->state_path);
	free(c->user_agent);
	free(c->ca_path);
	free(c->proxy);
	free(c->http_listen);
	free(c);
	return NULL;
}

const struct conf_feed *
conf_find_feed(const struct conf *c, const char *name_or_url)
{
	for (size_t i = 0; i < c->n_feeds; i++)
		if ((c->feeds[i].name != NULL && strcmp(c->feeds[i].name, name_or_url) == 0) ||
		    (c->feeds[i].url != NULL && strcmp(c->feeds[i].url, name_or_url) == 0))
			return &c->feeds[i];
	return NULL;
}

int
conf_parse_duration(const char *s, int64_t *ret_seconds)
{
	static const struct {
		const char	*suffix;
		int64_t		 mult;
	} units[] = {
		{ "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
		{ "d", 86400 }, { "w", 7 * 86400 },
	};
	unsigned long long	 v;
	char			*end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > (unsigned long long)(CONF_MAX_DURATION / units[i].mult) ||
			    (int64_t)v * units[i].mult > CONF_MAX_DURATION)
				return -ERANGE;
			*ret_seconds = (int64_t)v * units[i].mult;
			return 0;
		}
	return -EINVAL;
}

int
conf_parse_size(const char *s, uint64_t *ret_bytes)
{
	static const struct {
		const char	*suffix;
		uint64_t	 mult;
	} units[] = {
		{ "", 1 }, { "B", 1 },
		{ "KiB", 1024 }, { "MiB", 1024 * 1024 }, { "GiB", 1024 * 1024 * 1024 },
		{ "kB", 1000 }, { "KB", 1000 }, { "MB", 1000 * 1000 }, { "GB", 1000 * 1000 * 1000 },
	};
	unsigned long long	 v;
	char			*end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > UINT64_MAX / units[i].mult)
				return -EINVAL;
			*ret_bytes = v * units[i].mult;
			return 0;
		}
	return -EINVAL;
}

const char *
severity_to_string(enum severity s)
{
	static const char *names[_SEVERITY_MAX] = { "low", "normal", "high", "critical" };

	return s >= 0 && s < _SEVERITY_MAX ? names[s] : "normal";
}

int
severity_from_string(const char *s, enum severity *ret)
{
	for (int i = 0; i < _SEVERITY_MAX; i++)
		if (strcmp(s, severity_to_string((enum severity)i)) == 0) {
			*ret = (enum severity)i;
			return 0;
		}
	return -EINVAL;
}
