/* safe.c — neutralising text from outside at the one place it leaves the
 * program as text: the logger (log.c) escapes each whole line, the verbs'
 * human-readable output and the text sink format through safe_bprintf(),
 * links are judged by safe_link_ok() where a parsed item is finished
 * (parse.c) and again where a sink makes one clickable, validators by
 * safe_header_value_ok() before they are stored, and secrets are cut out
 * of what is shown by safe_redact().
 *
 * Why escape rather than drop: an operator reading "\x1b]0;pwned" in the
 * journal learns what a feed tried; a silently cleaned line hides it.
 * Why escape whole log lines and only the arguments elsewhere: no log line
 * of ours has a control character in it, while the verbs' output has its
 * own newlines between records.
 *
 * This module knows nothing of feeds, sinks or the store. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "safe.h"

/* The format and bidi controls worth hiding nothing behind: they reorder
 * or hide text on a terminal (Trojan Source), or end a line in some log
 * viewers (U+2028, U+2029). ZWJ and ZWNJ stay: emoji and Persian use them. */
static bool
is_format_control(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200B ||
	    cp == 0x200E || cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) ||
	    (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB);
}

/* Length of the well-formed UTF-8 sequence at s (at most avail bytes) and
 * its code point, or 0 when s[0] does not start one (RFC 3629 table). */
static size_t
utf8_decode(const unsigned char *s, size_t avail, uint32_t *ret_cp)
{
	uint32_t	cp;
	size_t		n, i;
	unsigned char	lo = 0x80, hi = 0xBF;

	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		n = 3;
		cp = s[0] & 0x0F;
		if (s[0] == 0xE0)
			lo = 0xA0;	/* overlong */
		else if (s[0] == 0xED)
			hi = 0x9F;	/* surrogates */
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 4;
		cp = s[0] & 0x07;
		if (s[0] == 0xF0)
			lo = 0x90;
		else if (s[0] == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < n; i++) {
		if (i > 1 && (s[i] < 0x80 || s[i] > 0xBF))
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	*ret_cp = cp;
	return n;
}

/* Length of the run at s[0..len) that needs no escape, and whether the
 * byte after it does (*ret_stop). */
static size_t
plain_run(const unsigned char *s, size_t len)
{
	size_t		i = 0, n;
	uint32_t	cp;

	while (i < len) {
		if (s[i] < 0x80) {
			if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7F)
				break;
			i++;
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		if (n == 0 || is_format_control(cp))
			break;
		i += n;
	}
	return i;
}

int
safe_escape_buf(struct buf *b, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, run, n;
	uint32_t		 cp;
	char			 esc[8];
	int			 r;

	while (i < len) {
		run = plain_run(u + i, len - i);
		if (run > 0 && (r = buf_append(b, u + i, run)) < 0)
			return r;
		i += run;
		if (i >= len)
			break;
		n = u[i] >= 0x80 ? utf8_decode(u + i, len - i, &cp) : 0;
		if (n > 0) {
			(void)snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)cp);
			r = buf_append_str(b, esc);
			i += n;
		} else {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[u[i] >> 4];
			esc[3] = hex[u[i] & 15];
			r = buf_append(b, esc, 4);
			i++;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

char *
safe_escape_dup(const char *s)
{
	struct buf b;

	buf_init(&b, (size_t)-1);
	if (safe_escape_buf(&b, s, strlen(s)) < 0 || buf_append(&b, "", 0) < 0) {
		buf_done(&b);
		return NULL;
	}
	return buf_take(&b);
}

bool
safe_has_control(const char *s)
{
	size_t len = strlen(s);

	return plain_run((const unsigned char *)s, len) != len;
}

/* Appends spec (a printf conversion of one argument) applied to the value
 * that follows. Wraps buf_printf() so its format check stays in one place. */
#define SPEC_APPEND(b, spec, value)					\
	({								\
		_Pragma("GCC diagnostic push")				\
		_Pragma("GCC diagnostic ignored \"-Wformat-nonliteral\"") \
		int _r = buf_printf((b), (spec), (value));		\
		_Pragma("GCC diagnostic pop")				\
		_r;							\
	})

enum arg_size { SZ_INT, SZ_CHAR, SZ_SHORT, SZ_LONG, SZ_LLONG, SZ_SIZE,
	SZ_INTMAX, SZ_PTRDIFF, SZ_LDOUBLE };

int
safe_vbprintf(struct buf *b, const char *fmt, va_list ap)
{
	const char	*p = fmt, *pct, *q;
	char		 spec[64];
	size_t		 k;
	enum arg_size	 sz;
	int		 r = 0, prec;

	while (r == 0 && *p != '\0') {
		pct = strchr(p, '%');
		if (pct == NULL)
			return buf_append_str(b, p);
		if (pct > p && (r = buf_append(b, p, (size_t)(pct - p))) < 0)
			return r;
		q = pct + 1;
		if (*q == '%') {
			r = buf_append(b, "%", 1);
			p = q + 1;
			continue;
		}
		/* spec gets flags and width (a '*' replaced by its value);
		 * the precision is kept apart, for %s applies it to the
		 * argument before escaping. */
		k = 0;
		spec[k++] = '%';
		while (*q != '\0' && strchr("-+ #0", *q) != NULL && k < 8)
			spec[k++] = *q++;
		if (*q == '*') {
			k += (size_t)snprintf(spec + k, sizeof(spec) - k, "%d", va_arg(ap, int));
			q++;
		} else {
			while (isdigit((unsigned char)*q) && k < 24)
				spec[k++] = *q++;
		}
		prec = -1;
		if (*q == '.') {
			q++;
			if (*q == '*') {
				prec = va_arg(ap, int);
				q++;
			} else {
				prec = 0;
				while (isdigit((unsigned char)*q) && prec < 100000)
					prec = prec * 10 + (*q++ - '0');
			}
		}
		if (prec >= 0 && *q != 's')
			k += (size_t)snprintf(spec + k, sizeof(spec) - k, ".%d", prec);
		sz = SZ_INT;
		if (q[0] == 'h' && q[1] == 'h') {
			sz = SZ_CHAR;
			q += 2;
		} else if (q[0] == 'l' && q[1] == 'l') {
			sz = SZ_LLONG;
			q += 2;
		} else if (*q == 'h' || *q == 'l' || *q == 'z' || *q == 'j' ||
		    *q == 't' || *q == 'L') {
			sz = *q == 'h' ? SZ_SHORT : *q == 'l' ? SZ_LONG : *q == 'z' ?
			    SZ_SIZE : *q == 'j' ? SZ_INTMAX : *q == 't' ? SZ_PTRDIFF :
			    SZ_LDOUBLE;
			q++;
		}
		if (*q == '\0' || k + 8 >= sizeof(spec))
			return -EINVAL;
		switch (*q) {
		case 'd': case 'i':
			spec[k++] = 'l';
			spec[k++] = 'l';
			spec[k++] = 'd';
			spec[k] = '\0';
			{
				long long v = sz == SZ_LONG ? va_arg(ap, long) :
				    sz == SZ_LLONG ? va_arg(ap, long long) :
				    sz == SZ_SIZE ? va_arg(ap, ssize_t) :
				    sz == SZ_INTMAX ? (long long)va_arg(ap, intmax_t) :
				    sz == SZ_PTRDIFF ? va_arg(ap, ptrdiff_t) :
				    sz == SZ_CHAR ? (signed char)va_arg(ap, int) :
				    sz == SZ_SHORT ? (short)va_arg(ap, int) : va_arg(ap, int);

				r = SPEC_APPEND(b, spec, v);
			}
			break;
		case 'u': case 'o': case 'x': case 'X':
			spec[k++] = 'l';
			spec[k++] = 'l';
			spec[k++] = *q;
			spec[k] = '\0';
			{
				unsigned long long v = sz == SZ_LONG ? va_arg(ap, unsigned long) :
				    sz == SZ_LLONG ? va_arg(ap, unsigned long long) :
				    sz == SZ_SIZE ? va_arg(ap, size_t) :
				    sz == SZ_INTMAX ? (unsigned long long)va_arg(ap, uintmax_t) :
				    sz == SZ_PTRDIFF ? (unsigned long long)va_arg(ap, ptrdiff_t) :
				    sz == SZ_CHAR ? (unsigned char)va_arg(ap, unsigned) :
				    sz == SZ_SHORT ? (unsigned short)va_arg(ap, unsigned) :
				    va_arg(ap, unsigned);

				r = SPEC_APPEND(b, spec, v);
			}
			break;
		case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
		case 'a': case 'A':
			if (sz == SZ_LDOUBLE)
				spec[k++] = 'L';
			spec[k++] = *q;
			spec[k] = '\0';
			if (sz == SZ_LDOUBLE)
				r = SPEC_APPEND(b, spec, va_arg(ap, long double));
			else
				r = SPEC_APPEND(b, spec, va_arg(ap, double));
			break;
		case 'p':
			spec[k++] = 'p';
			spec[k] = '\0';
			r = SPEC_APPEND(b, spec, va_arg(ap, void *));
			break;
		case 'c':
		case 's': {
			struct buf	 esc;
			char		 c;
			const char	*s;
			size_t		 len;

			if (*q == 'c') {
				c = (char)va_arg(ap, int);
				s = &c;
				len = 1;
			} else {
				s = va_arg(ap, const char *);
				if (s == NULL)
					s = "(null)";
				len = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
			}
			buf_init(&esc, b->max);
			r = safe_escape_buf(&esc, s, len);
			if (r == 0)
				r = buf_append(&esc, "", 0);
			spec[k++] = 's';
			spec[k] = '\0';
			if (r == 0)
				r = SPEC_APPEND(b, spec, esc.data != NULL ? esc.data : "");
			buf_done(&esc);
			break;
		}
		default:
			return -EINVAL;
		}
		p = q + 1;
	}
	return r;
}

int
safe_bprintf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = safe_vbprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

int
safe_vfprintf(FILE *out, const char *fmt, va_list ap)
{
	struct buf	b;
	int		r;

	buf_init(&b, (size_t)-1);
	r = safe_vbprintf(&b, fmt, ap);
	if (r == 0 && b.len > 0 && fwrite(b.data, 1, b.len, out) != b.len)
		r = -EIO;
	buf_done(&b);
	return r;
}

int
safe_fprintf(FILE *out, const char *fmt, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = safe_vfprintf(out, fmt, ap);
	va_end(ap);
	return r;
}

bool
safe_link_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7F)
			return false;
	if (safe_has_control(s))
		return false;
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0 ||
	    strncasecmp(s, "mailto:", 7) == 0;
}

bool
safe_header_value_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7F)
			return false;
	return true;
}

/* ---- redaction --------------------------------------------------------- */

#define REDACTED "\xe2\x80\xa6"	/* "…" */

/* Hosts whose webhook URLs carry the credential in the path. */
static const char *const token_path_hosts[] = {
	"hooks.slack.com", "discord.com", "discordapp.com", "ptb.discord.com",
	"canary.discord.com", "outlook.office.com", "webhook.office.com",
	"api.telegram.org", "chat.googleapis.com", "hooks.zapier.com",
	"maker.ifttt.com",
};

/* Query parameter names whose values are credentials; matched as
 * substrings, case-insensitively. */
static const char *const secret_param_words[] = {
	"token", "key", "secret", "sig", "pass", "pwd", "auth", "session",
	"credential", "code", "jwt", "bearer",
};

static bool
host_has_token_path(const char *host, size_t len)
{
	for (size_t i = 0; i < sizeof(token_path_hosts) / sizeof(*token_path_hosts); i++) {
		size_t n = strlen(token_path_hosts[i]);

		/* The host itself or a subdomain of it ("x.webhook.office.com"). */
		if (len >= n && strncasecmp(host + len - n, token_path_hosts[i], n) == 0 &&
		    (len == n || host[len - n - 1] == '.'))
			return true;
	}
	return false;
}

static bool
param_is_secret(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(secret_param_words) / sizeof(*secret_param_words); i++) {
		size_t n = strlen(secret_param_words[i]);

		for (size_t j = 0; j + n <= len; j++)
			if (strncasecmp(name + j, secret_param_words[i], n) == 0)
				return true;
	}
	return false;
}

static bool
url_end_char(char c)
{
	return c == '\0' || isspace((unsigned char)c) || c == '"' || c == '\'' ||
	    c == '<' || c == '>' || c == '`';
}

/* Appends the URL at u (whose scheme ends at u + slash, "://") to b with
 * its secrets cut out; returns the length of the URL read. */
static int
redact_url(struct buf *b, const char *u, size_t *ret_len)
{
	const char	*auth = strstr(u, "://") + 3, *end, *at = NULL, *host;
	const char	*path, *query, *p;
	size_t		 hostlen;
	int		 r;

	for (end = auth; !url_end_char(*end); end++)
		;
	for (p = auth; p < end && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p == '@')
			at = p;
	path = p;
	r = buf_append(b, u, (size_t)(auth - u));
	if (at != NULL) {
		r |= buf_append_str(b, REDACTED);
		host = at;	/* "@host" follows */
	} else {
		host = auth;
	}
	r |= buf_append(b, host, (size_t)(path - host));
	hostlen = (size_t)(path - (at != NULL ? at + 1 : auth));
	query = memchr(path, '?', (size_t)(end - path));
	if (query == NULL)
		query = end;
	if (*path == '/' && host_has_token_path(at != NULL ? at + 1 : auth, hostlen)) {
		/* Keep the first segment ("/services", "/api"): it says what
		 * kind of hook this is without saying which. */
		const char *seg = memchr(path + 1, '/', (size_t)(query - path - 1));

		if (seg != NULL && seg + 1 < query) {
			r |= buf_append(b, path, (size_t)(seg + 1 - path));
			r |= buf_append_str(b, REDACTED);
		} else {
			r |= buf_append(b, path, (size_t)(query - path));
		}
	} else {
		r |= buf_append(b, path, (size_t)(query - path));
	}
	p = query;
	while (p < end && r == 0) {
		const char	*name = p + 1, *eq, *next;

		next = name;
		while (next < end && *next != '&' && *next != ';' && *next != '#')
			next++;
		eq = memchr(name, '=', (size_t)(next - name));
		r |= buf_append(b, p, 1);
		if (eq != NULL && eq + 1 < next && param_is_secret(name, (size_t)(eq - name))) {
			r |= buf_append(b, name, (size_t)(eq + 1 - name));
			r |= buf_append_str(b, REDACTED);
		} else {
			r |= buf_append(b, name, (size_t)(next - name));
		}
		p = next;
		if (p < end && *p == '#') {
			r |= buf_append(b, p, (size_t)(end - p));
			p = end;
		}
	}
	*ret_len = (size_t)(end - u);
	return r < 0 ? -ENOMEM : 0;
}

char *
safe_redact(const char *s)
{
	struct buf	 b;
	const char	*p = s, *sep, *start;
	size_t		 n;

	buf_init(&b, (size_t)-1);
	while ((sep = strstr(p, "://")) != NULL) {
		start = sep;
		while (start > p && (isalnum((unsigned char)start[-1]) || start[-1] == '+' ||
		    start[-1] == '-' || start[-1] == '.'))
			start--;
		if (start == sep) {	/* no scheme: not a URL */
			if (buf_append(&b, p, (size_t)(sep + 3 - p)) < 0)
				goto oom;
			p = sep + 3;
			continue;
		}
		if (buf_append(&b, p, (size_t)(start - p)) < 0 ||
		    redact_url(&b, start, &n) < 0)
			goto oom;
		p = start + n;
	}
	if (buf_append_str(&b, p) < 0 || buf_append(&b, "", 0) < 0)
		goto oom;
	return buf_take(&b);
oom:
	buf_done(&b);
	return NULL;
}
