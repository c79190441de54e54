/* sink_mail.c — alerts as mail, over SMTP through libcurl (smtp://,
 * smtps://, STARTTLS with `starttls: true`, AUTH with the password from a
 * file or the environment), or piped to the local mail system's sendmail
 * command (`transport: sendmail`, run by spawn.c as the exec sink runs its
 * command). Each message is a proper RFC 5322 message:
 * Date, From, To, a Message-ID that is the same on every retry of an alert
 * (so a mail client shows one copy), an RFC 2047 encoded UTF-8 Subject, and
 * a quoted-printable UTF-8 text body with the title, link, feed, topics and
 * matched terms. An SMTP 5xx reply or refused credentials fail for good;
 * anything else is retried. sendmail's exit status is read as sysexits(3)
 * (mail_sendmail_outcome()). Never logs. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>

#include "buf.h"
#include "sink.h"
#include "spawn.h"

#define MAIL_MAX_BYTES	(4u * 1024 * 1024)

struct mail_state {
	CURL			*curl;
	char			*mail_from;	/* "<addr>" */
	struct curl_slist	*rcpt;		/* "<addr>" each */
	char			*domain;	/* for Message-ID */
	/* transport: sendmail: the command; borrowed strings, owned array */
	char			**sendmail;
};

/* What `transport: sendmail` runs when the sink names no command: the
 * interface rss2email and cron use. -t takes the recipients from the To
 * header (which the config's 'to' makes); -oi keeps a line of one "."
 * from ending the message. */
static const char *const default_sendmail[] = { "/usr/sbin/sendmail", "-t", "-oi" };

/* The bare address of "Name <addr>" or "addr" (owned). */
static char *
bare_address(const char *s)
{
	const char *lt = strrchr(s, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL)
		return strndup(lt + 1, (size_t)(gt - lt - 1));
	while (*s == ' ')
		s++;
	return strndup(s, strcspn(s, " "));
}

int
sink_mail_encode_header(const char *value, struct buf *b)
{
	const unsigned char	*s = (const unsigned char *)value;
	size_t			 len = strlen(value), i = 0;
	bool			 ascii = true;
	int			 r = 0;

	for (size_t j = 0; j < len; j++)
		if (s[j] >= 0x80 || s[j] < 0x20)
			ascii = false;
	if (ascii && len < 900)
		return buf_append_str(b, value);
	/* RFC 2047: encoded words of at most 75 characters; 45 bytes of
	 * UTF-8 make 60 base64 characters plus "=?UTF-8?B?" and "?=".
	 * Never split a character between two words. */
	while (i < len && r == 0) {
		unsigned char	out[64];
		size_t		n = len - i > 45 ? 45 : len - i;

		while (n < len - i && n > 1 && (s[i + n] & 0xC0) == 0x80)
			n--;
		(void)EVP_EncodeBlock(out, s + i, (int)n);
		r = buf_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", out);
		i += n;
	}
	return r;
}

/* "Name <addr>" with a non-ASCII name as an RFC 2047 encoded word (an
 * encoded word may stand for a phrase, RFC 2047 5(3)); else as it is. */
static int
address_header(const char *v, struct buf *b)
{
	const char	*lt = strrchr(v, '<');
	char		*name;
	size_t		 len;
	int		 r;

	if (lt == NULL)
		return buf_append_str(b, v);
	len = (size_t)(lt - v);
	while (len > 0 && v[len - 1] == ' ')
		len--;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] >= 0x80) {
			if ((name = strndup(v, len)) == NULL)
				return -ENOMEM;
			r = sink_mail_encode_header(name, b);
			free(name);
			return r < 0 ? r : buf_printf(b, " %s", lt);
		}
	return buf_append_str(b, v);
}

/* Quoted-printable (RFC 2045 6.7) of text with \n line ends, into CRLF lines. */
static int
qp_encode(const char *text, struct buf *b)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*s = (const unsigned char *)text;
	size_t			 col = 0;
	int			 r = 0;

	for (; *s != '\0' && r == 0; s++) {
		char	tok[4];
		size_t	tlen;

		if (*s == '\n') {
			r = buf_append_str(b, "\r\n");
			col = 0;
			continue;
		}
		if (*s == '\r')
			continue;
		/* Literal: printable ASCII but '=', and blanks not ending a line. */
		if ((*s >= 33 && *s <= 126 && *s != '=') ||
		    ((*s == ' ' || *s == '\t') && s[1] != '\n' && s[1] != '\0')) {
			tok[0] = (char)*s;
			tlen = 1;
		} else {
			tok[0] = '=';
			tok[1] = hex[*s >> 4];
			tok[2] = hex[*s & 15];
			tlen = 3;
		}
		/* Lines of at most 76 characters, the soft break "=" included. */
		if (col + tlen > 75) {
			r = buf_append_str(b, "=\r\n");
			col = 0;
		}
		if (r == 0)
			r = buf_append(b, tok, tlen);
		col += tlen;
	}
	return r;
}

static const char *
json_s(json_t *o, const char *key)
{
	return sink_json_str(o, key);
}

/* The subject: "[sma, tariffs] Title", or "N feedwatch alerts: Title …". */
static int
mail_subject(const struct sink_msg *msg, struct buf *b)
{
	json_t	*o, *v;
	size_t	 i;
	int	 r = 0;

	if (msg->digest)
		return sink_render_subject(msg, b);
	if ((o = json_loads(msg->json, 0, NULL)) == NULL)
		return -EINVAL;
	r |= buf_append_str(b, "[");
	json_array_foreach(json_object_get(o, "topics"), i, v)
		r |= buf_printf(b, "%s%s", i ? ", " : "", json_string_value(v));
	r |= buf_append_str(b, "] ");
	json_decref(o);
	return r < 0 ? r : sink_render_subject(msg, b);
}

/* The body: the readable alert text, and a single alert's summary. */
static int
mail_body(const struct sink_msg *msg, struct buf *b)
{
	json_t		*o;
	const char	*summary;
	int		 r;

	if ((r = sink_render_msg_text(msg, b)) < 0 || msg->digest)
		return r;
	if ((o = json_loads(msg->json, 0, NULL)) == NULL)
		return -EINVAL;
	summary = json_s(json_object_get(o, "item"), "summary");
	if (summary[0] != '\0')
		r = buf_printf(b, "\n%s\n", summary);
	json_decref(o);
	if (r == 0)
		r = buf_append_str(b, "\n-- \nSent by feedwatch. Alert ids stay the same on "
		    "every retry.\n");
	return r;
}

/* RFC 5322 date-time, in English whatever the locale. */
static void
mail_date(int64_t now, char *out, size_t size)
{
	static const char	*days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char	*months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t			 t = (time_t)now;
	struct tm		 tm;
	long			 off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
	    (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
}

/* An update alert answers its development's first alert: mail clients
 * thread it under that message (RFC 5322 3.6.4). The first alert's
 * Message-ID is built from its id as above. */
static int
mail_thread_headers(const struct sink_msg *msg, const char *domain, struct buf *b)
{
	json_t		*o;
	const char	*updates;
	int		 r = 0;

	if (msg->digest || (o = json_loads(msg->json, 0, NULL)) == NULL)
		return 0;
	updates = sink_json_str(o, "updates");
	/* The id is 32 hex digits from alert.c; anything else is not put in
	 * a header. */
	if (strlen(updates) == 32 && strspn(updates, "0123456789abcdef") == 32)
		r = buf_printf(b, "\r\nIn-Reply-To: <feedwatch.%s@%s>\r\n"
		    "References: <feedwatch.%s@%s>", updates, domain, updates, domain);
	json_decref(o);
	return r;
}

int
sink_mail_message(const struct conf_sink *cs, const struct sink_msg *msg, int64_t now,
    char **ret)
{
	struct buf	 b, subject, body;
	char		 date[64], *from = bare_address(cs->from);
	const char	*domain;
	int		 r = 0;

	if (from == NULL)
		return -ENOMEM;
	domain = strchr(from, '@') != NULL ? strchr(from, '@') + 1 : "feedwatch.invalid";
	buf_init(&b, MAIL_MAX_BYTES);
	buf_init(&subject, 64 * 1024);
	buf_init(&body, MAIL_MAX_BYTES);
	if ((r = mail_subject(msg, &subject)) < 0 || (r = mail_body(msg, &body)) < 0)
		goto out;
	mail_date(now, date, sizeof(date));
	r |= buf_printf(&b, "Date: %s\r\nFrom: ", date);
	r |= address_header(cs->from, &b);
	r |= buf_append_str(&b, "\r\nTo: ");
	for (size_t i = 0; i < cs->to.n; i++) {
		r |= buf_append_str(&b, i ? ",\r\n " : "");
		r |= address_header(cs->to.v[i].s, &b);
	}
	r |= buf_printf(&b, "\r\nMessage-ID: <feedwatch.%s@%s>", msg->id, domain);
	r |= mail_thread_headers(msg, domain, &b);
	r |= buf_append_str(&b, "\r\nSubject: ");
	r |= sink_mail_encode_header(subject.data, &b);
	r |= buf_printf(&b, "\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "X-Feedwatch-Alert: %s\r\n\r\n", msg->id);
	r |= qp_encode(body.data, &b);
	if (r != 0)
		r = -ENOMEM;
out:
	if (r == 0)
		*ret = buf_take(&b);
	buf_done(&b);
	buf_done(&subject);
	buf_done(&body);
	free(from);
	return r;
}

static void
mail_close(struct sink *s)
{
	struct mail_state *st = s->state;

	if (st == NULL)
		return;
	if (st->curl != NULL)
		curl_easy_cleanup(st->curl);
	free(st->mail_from);
	curl_slist_free_all(st->rcpt);
	free(st->sendmail);
	free(st);
	s->state = NULL;
}

static int
mail_open(struct sink *s, struct fw_error *reterr)
{
	const struct conf_sink	*cs = s->conf;
	struct mail_state	*st = calloc(1, sizeof(*st));
	struct curl_slist	*l;
	char			*a, *line;

	if (st == NULL)
		return -ENOMEM;
	s->state = st;
	if ((a = bare_address(cs->from)) == NULL)
		goto oom;
	if (strchr(a, '@') == NULL) {
		fw_error_set(reterr, NULL, cs->line, cs->col,
		    "sink '%s': 'from' has no mail address: '%s'", cs->name, cs->from);
		free(a);
		mail_close(s);
		return -EINVAL;
	}
	if (asprintf(&st->mail_from, "<%s>", a) < 0) {
		st->mail_from = NULL;
		free(a);
		goto oom;
	}
	free(a);
	for (size_t i = 0; i < cs->to.n; i++) {
		if ((a = bare_address(cs->to.v[i].s)) == NULL)
			goto oom;
		if (asprintf(&line, "<%s>", a) < 0) {
			free(a);
			goto oom;
		}
		free(a);
		l = curl_slist_append(st->rcpt, line);
		free(line);
		if (l == NULL)
			goto oom;
		st->rcpt = l;
	}
	if (cs->transport == MAIL_TRANSPORT_SENDMAIL) {
		size_t n = cs->sendmail.n > 0 ? cs->sendmail.n : sizeof(default_sendmail) /
		    sizeof(default_sendmail[0]);

		if ((st->sendmail = calloc(n + 1, sizeof(*st->sendmail))) == NULL)
			goto oom;
		for (size_t i = 0; i < n; i++)
			st->sendmail[i] = cs->sendmail.n > 0 ? cs->sendmail.v[i].s :
			    (char *)default_sendmail[i];
		return 0;
	}
	if ((st->curl = curl_easy_init()) == NULL)
		goto oom;
	return 0;
oom:
	mail_close(s);
	return -ENOMEM;
}

struct upload {
	const char	*p;
	size_t		 left;
};

static size_t
on_read(char *dst, size_t size, size_t nmemb, void *userdata)
{
	struct upload	*u = userdata;
	size_t		 n = size * nmemb < u->left ? size * nmemb : u->left;

	memcpy(dst, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/* Whether sendmail's last words say it could not run a helper that needs
 * a set-group-ID or set-user-ID bit: Postfix's sendmail hands the message
 * to the setgid postdrop, which under no_new_privs (NoNewPrivileges=yes,
 * DynamicUser=yes) runs without its group and cannot write the maildrop
 * queue ("postdrop: warning: mail_queue_enter: create file maildrop/...:
 * Permission denied", again every 10 seconds); nullmailer's
 * nullmailer-queue is set-user-ID the same way. */
static bool
needs_privilege(const char *output)
{
	static const char *const words[] = {
		"postdrop", "nullmailer-queue", "setgid", "setuid",
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(output, words[i]) != NULL)
			return true;
	return false;
}

/* The outcome of one run of sendmail. sysexits(3), which sendmail,
 * Postfix, Exim and msmtp use: the message or its recipients will never
 * be accepted (EX_USAGE, EX_DATAERR, EX_NOUSER) is permanent; EX_TEMPFAIL
 * and every other status, a signal or the timeout is retried, as the mail
 * system may be down or misconfigured for a while. */
static void
mail_sendmail_outcome(const char *program, int64_t timeout, const struct spawn_result *res,
    struct sink_outcome *out)
{
	const char	*sep = res->output[0] != '\0' ? ": " : "";
	char		 why[96];
	int		 code = WIFEXITED(res->status) ? WEXITSTATUS(res->status) : -1, r;
	struct buf	 msg;

	if (res->exec_errno != 0) {
		out->result = SINK_PERMANENT;
		snprintf(out->error, sizeof(out->error), "sendmail: cannot run '%s': %s (is a "
		    "mail system installed? see 'transport' in feedwatch.yaml(5))", program,
		    strerror(res->exec_errno));
		return;
	}
	if (!res->timed_out && code == 0) {
		out->result = SINK_DELIVERED;
		return;
	}
	out->result = code == EX_USAGE || code == EX_DATAERR || code == EX_NOUSER ?
	    SINK_PERMANENT : SINK_RETRY;
	if (res->timed_out)
		snprintf(why, sizeof(why), "took longer than %llds, killed", (long long)timeout);
	else if (code == EX_TEMPFAIL)
		snprintf(why, sizeof(why), "exited with status 75 (EX_TEMPFAIL)");
	else if (code >= 0)
		snprintf(why, sizeof(why), "exited with status %d", code);
	else
		snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(res->status));
	/* The advice first: a long output is cut, not the advice. */
	buf_init(&msg, 4 * sizeof(out->error));
	if (needs_privilege(res->output))
		r = buf_printf(&msg, "sendmail '%s' %s: %s; use smtp://localhost:25, or a "
		    "sendmail that needs no privilege such as msmtp's (feedwatch.yaml(5))%s%s",
		    program, why, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ?
		    "it needs a setgid helper (Postfix's postdrop), which cannot gain its "
		    "group under no_new_privs (NoNewPrivileges=yes, as the feedwatch unit sets)" :
		    "its setgid helper (Postfix's postdrop) failed, as it does under "
		    "NoNewPrivileges=yes", sep, res->output);
	else
		r = buf_printf(&msg, "sendmail '%s' %s%s%s", program, why, sep, res->output);
	snprintf(out->error, sizeof(out->error), "%s", r == 0 ? msg.data : why);
	buf_done(&msg);
}

const char *
sink_mail_sendmail_privileged(const struct conf_sink *cs)
{
	const char	*program;
	char		*real, *slash, *helper = NULL;
	struct stat	 st;
	bool		 privileged = false;

	if (cs->type != SINK_MAIL || cs->transport != MAIL_TRANSPORT_SENDMAIL)
		return NULL;
	program = cs->sendmail.n > 0 ? cs->sendmail.v[0].s : default_sendmail[0];
	/* A bare name is found in PATH only when it runs. */
	if (program[0] != '/' || (real = realpath(program, NULL)) == NULL)
		return NULL;
	if (stat(real, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)) != 0)
		privileged = true;
	else if ((slash = strrchr(real, '/')) != NULL &&
	    asprintf(&helper, "%.*s/postdrop", (int)(slash - real), real) >= 0) {
		privileged = strcmp(slash, "/sendmail") == 0 && stat(helper, &st) == 0 &&
		    (st.st_mode & S_ISGID) != 0;
		free(helper);
	}
	free(real);
	return privileged ? program : NULL;
}

/* The message with the line ends of the local mail interface: sendmail
 * reads text lines ending in \n and makes them CRLF on the wire. */
static void
crlf_to_lf(char *text)
{
	char *w = text;

	for (const char *p = text; *p != '\0'; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			*w++ = *p;
	*w = '\0';
}

static int
mail_deliver_sendmail(struct sink *s, char *text, struct sink_outcome *out)
{
	const struct conf_sink	*cs = s->conf;
	struct mail_state	*st = s->state;
	struct spawn_result	 res;
	int64_t			 timeout = cs->timeout > 0 ? cs->timeout : 10;
	char			**env;
	int			 r;

	crlf_to_lf(text);
	if ((env = spawn_env(&cs->env, NULL, 0)) == NULL)
		return -ENOMEM;
	r = spawn_run(st->sendmail, env, text, strlen(text), timeout, &res);
	free(env);
	if (r == 0)
		mail_sendmail_outcome(st->sendmail[0], timeout, &res, out);
	return r;
}

static int
mail_deliver(struct sink *s, const struct sink_msg *msg, struct sink_outcome *out)
{
	const struct conf_sink	*cs = s->conf;
	struct mail_state	*st = s->state;
	struct upload		 u;
	char			*text = NULL, errbuf[CURL_ERROR_SIZE] = "";
	CURLcode		 cc;
	long			 code = 0;
	int			 r;

	r = sink_mail_message(cs, msg, (int64_t)time(NULL), &text);
	if (r == -EINVAL) {
		out->result = SINK_PERMANENT;
		snprintf(out->error, sizeof(out->error), "the stored alert is not valid JSON");
		return 0;
	}
	if (r < 0)
		return r;
	if (cs->transport == MAIL_TRANSPORT_SENDMAIL) {
		r = mail_deliver_sendmail(s, text, out);
		free(text);
		return r;
	}
	u.p = text;
	u.left = strlen(text);
	curl_easy_reset(st->curl);
	(void)curl_easy_setopt(st->curl, CURLOPT_URL, cs->url);
	(void)curl_easy_setopt(st->curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	(void)curl_easy_setopt(st->curl, CURLOPT_NOSIGNAL, 1L);
	sink_curl_ca(st->curl, s->conf->ca_path);
	(void)curl_easy_setopt(st->curl, CURLOPT_MAIL_FROM, st->mail_from);
	(void)curl_easy_setopt(st->curl, CURLOPT_MAIL_RCPT, st->rcpt);
	(void)curl_easy_setopt(st->curl, CURLOPT_UPLOAD, 1L);
	(void)curl_easy_setopt(st->curl, CURLOPT_READFUNCTION, on_read);
	(void)curl_easy_setopt(st->curl, CURLOPT_READDATA, &u);
	(void)curl_easy_setopt(st->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u.left);
	(void)curl_easy_setopt(st->curl, CURLOPT_TIMEOUT, (long)(cs->timeout > 0 ? cs->timeout : 10));
	(void)curl_easy_setopt(st->curl, CURLOPT_ERRORBUFFER, errbuf);
	if (cs->starttls)
		(void)curl_easy_setopt(st->curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (cs->username != NULL)
		(void)curl_easy_setopt(st->curl, CURLOPT_USERNAME, cs->username);
	if (cs->password != NULL)
		(void)curl_easy_setopt(st->curl, CURLOPT_PASSWORD, cs->password);
	cc = curl_easy_perform(st->curl);
	(void)curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &code);
	(void)curl_easy_setopt(st->curl, CURLOPT_ERRORBUFFER, NULL);
	free(text);
	if (cc == CURLE_OK) {
		out->result = SINK_DELIVERED;
		return 0;
	}
	/* RFC 5321: 5yz is a permanent negative reply, 4yz a transient one. */
	if ((code >= 500 && code <= 599) || cc == CURLE_LOGIN_DENIED ||
	    cc == CURLE_USE_SSL_FAILED || cc == CURLE_URL_MALFORMAT ||
	    cc == CURLE_UNSUPPORTED_PROTOCOL)
		out->result = SINK_PERMANENT;
	else
		out->result = SINK_RETRY;
	if (code > 0)
		snprintf(out->error, sizeof(out->error), "SMTP %s: %ld: %s", cs->url, code,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
	else
		snprintf(out->error, sizeof(out->error), "SMTP %s: %s", cs->url,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
	return 0;
}

const struct sink_ops sink_mail_ops = {
	.open = mail_open,
	.deliver = mail_deliver,
	.close = mail_close,
};
