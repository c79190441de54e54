/* date.c — parse the dates feeds carry. RSS says RFC 822, Atom and JSON
 * Feed say RFC 3339; the web writes both with two-digit years, missing
 * seconds, day names that do not match, named zones, "GMT+9", local month
 * names and stray words. Rather than one grammar per variant, the parser
 * splits the string into tokens (numbers, words, times, offsets) and assigns
 * them by shape. It does not guess at all-numeric day/month orders other than
 * year-first: "01/02/2025" is refused. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "date.h"

int64_t
date_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		era, yoe, doy, doe;

	/* Howard Hinnant's days_from_civil. */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

char *
date_format_rfc3339(int64_t t, char *buf, size_t size)
{
	int64_t		days, secs, z, era, doe, yoe, y, doy, mp, d, m;

	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	/* civil_from_days */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y >= 0 && y <= 9999 && size >= 21) {
		/* What the snprintf below writes, without its cost: every
		 * item's dates go through here. */
		const int64_t v[6] = { y, m, d, secs / 3600, secs / 60 % 60,
		    secs % 60 };
		char *p = buf;

		*p++ = (char)('0' + v[0] / 1000);
		*p++ = (char)('0' + v[0] / 100 % 10);
		for (int i = 0; i < 6; i++) {
			*p++ = (char)('0' + v[i] / 10 % 10);
			*p++ = (char)('0' + v[i] % 10);
			*p++ = "--T::Z"[i];
		}
		*p = '\0';
		return buf;
	}
	snprintf(buf, size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
	    (long long)y, (long long)m, (long long)d, (long long)(secs / 3600),
	    (long long)(secs / 60 % 60), (long long)(secs % 60));
	return buf;
}

/* Month names: English first (full and three-letter), then the languages
 * feeds in the wild use. NOTE: matched as case-insensitive prefixes of at
 * least three letters for the English entries, exactly for the others. */
static const struct {
	const char	*name;
	unsigned	 month;
} months[] = {
	{ "january", 1 }, { "february", 2 }, { "march", 3 }, { "april", 4 },
	{ "may", 5 }, { "june", 6 }, { "july", 7 }, { "august", 8 },
	{ "september", 9 }, { "october", 10 }, { "november", 11 },
	{ "december", 12 },
	{ "sept", 9 },
	/* German, French, Spanish, Italian, Portuguese, Dutch short forms. */
	{ "jan.", 1 }, { "feb.", 2 }, { "mär", 3 }, { "märz", 3 }, { "mrz", 3 },
	{ "mai", 5 }, { "juni", 6 }, { "juli", 7 }, { "okt", 10 },
	{ "dez", 12 }, { "janv", 1 }, { "janvier", 1 }, { "févr", 2 },
	{ "fevr", 2 }, { "février", 2 }, { "mars", 3 }, { "avr", 4 },
	{ "avril", 4 }, { "juin", 6 }, { "juil", 7 }, { "juillet", 7 },
	{ "août", 8 }, { "aout", 8 }, { "déc", 12 }, { "décembre", 12 },
	{ "ene", 1 }, { "enero", 1 }, { "febrero", 2 }, { "marzo", 3 },
	{ "abr", 4 }, { "abril", 4 }, { "mayo", 5 }, { "junio", 6 },
	{ "julio", 7 }, { "ago", 8 }, { "agosto", 8 }, { "septiembre", 9 },
	{ "set", 9 }, { "octubre", 10 }, { "noviembre", 11 }, { "dic", 12 },
	{ "diciembre", 12 }, { "gen", 1 }, { "mag", 5 }, { "giu", 6 },
	{ "lug", 7 }, { "ott", 10 }, { "fev", 2 }, { "out", 10 }, { "dez.", 12 },
	{ "mei", 5 }, { "okt.", 10 },
	/* Greek and Hungarian, as feedparser's corpus has them. */
	{ "Ιαν", 1 }, { "Φεβ", 2 }, { "Μάώ", 3 }, { "Μαρ", 3 }, { "Απρ", 4 },
	{ "Μάι", 5 }, { "Μαϊ", 5 }, { "Μαι", 5 }, { "Ιούν", 6 }, { "Ιον", 6 },
	{ "Ιούλ", 7 }, { "Ιολ", 7 }, { "Αύγ", 8 }, { "Αυγ", 8 }, { "Σεπ", 9 },
	{ "Οκτ", 10 }, { "Νοέ", 11 }, { "Νοε", 11 }, { "Δεκ", 12 },
	{ "január", 1 }, { "február", 2 }, { "március", 3 }, { "április", 4 },
	{ "május", 5 }, { "június", 6 }, { "július", 7 }, { "augusztus", 8 },
	{ "szeptember", 9 }, { "október", 10 }, { "november", 11 },
	{ "december", 12 },
};

/* The first byte, folded as strncasecmp() folds it in the C locale: a
 * cheap test before the whole comparison (every item has a date or two). */
static inline unsigned char
first_lc(const char *w)
{
	unsigned char c = (unsigned char)w[0];

	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static int
month_lookup(const char *w, size_t n)
{
	size_t	i;

	if (n < 3)
		return 0;
	/* English: any prefix of three letters or more ("Sep", "Sept."). */
	for (i = 0; i < 12; i++)
		if (first_lc(w) == first_lc(months[i].name) &&
		    n <= strlen(months[i].name) &&
		    strncasecmp(w, months[i].name, n) == 0)
			return (int)months[i].month;
	if (n == 4 && strncasecmp(w, "sept", 4) == 0)
		return 9;
	for (i = 13; i < sizeof(months) / sizeof(months[0]); i++)
		if (first_lc(w) == first_lc(months[i].name) &&
		    strlen(months[i].name) == n &&
		    strncasecmp(w, months[i].name, n) == 0)
			return (int)months[i].month + 100;	/* not English */
	return 0;
}

/* Named zones, offsets in minutes east of UTC. */
static const struct {
	const char	*name;
	int		 offset;
} zones[] = {
	{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 }, { "WET", 0 },
	{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
	{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
	{ "AKST", -540 }, { "AKDT", -480 }, { "HST", -600 }, { "AST", -240 },
	{ "ADT", -180 }, { "NST", -210 }, { "NDT", -150 },
	{ "BST", 60 }, { "IST", 330 }, { "CET", 60 }, { "CEST", 120 },
	{ "MET", 60 }, { "MEST", 120 }, { "EET", 120 }, { "EEST", 180 },
	{ "WEST", 60 }, { "MSK", 180 }, { "KST", 540 }, { "JST", 540 },
	{ "HKT", 480 }, { "SGT", 480 }, { "AWST", 480 }, { "ACST", 570 },
	{ "AEST", 600 }, { "AEDT", 660 }, { "NZST", 720 }, { "NZDT", 780 },
	{ "PHT", 480 }, { "ICT", 420 }, { "WIB", 420 },
	/* Not RFC 822, but in feeds: the US zones without their S or D,
	 * read as standard time ("Mon, 26 January 2004 16:31:00 ET"). */
	{ "ET", -300 }, { "CT", -360 }, { "MT", -420 }, { "PT", -480 },
};

static int
zone_lookup(const char *w, size_t n, int *ret)
{
	size_t	i;

	if (n == 0)
		return 0;
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (first_lc(w) == first_lc(zones[i].name) &&
		    strlen(zones[i].name) == n &&
		    strncasecmp(w, zones[i].name, n) == 0) {
			*ret = zones[i].offset;
			return 1;
		}
	return 0;
}

static int
is_day_name(const char *w, size_t n)
{
	static const char *const days[] = {
		"monday", "tuesday", "wednesday", "thursday", "friday",
		"saturday", "sunday", "tues", "thur", "thurs",
	};
	size_t	i;

	if (n < 2)
		return 0;
	for (i = 0; i < sizeof(days) / sizeof(days[0]); i++)
		if (first_lc(w) == first_lc(days[i]) && n <= strlen(days[i]) &&
		    strncasecmp(w, days[i], n) == 0)
			return 1;
	return 0;
}

struct date_parts {
	long	year, month, day, hour, min, sec;
	int	have_time, have_zone;
	int	year_full;	/* written with four digits: "0100" is 100 */
	long	yday;		/* ISO 8601 ordinal date: day of the year */
	int	foreign;	/* a month name that is not English */
	int	cjk;		/* Korean/Japanese words: local time is +09:00 */
	int	offset;		/* minutes east of UTC */
};

static int64_t
date_finish(const struct date_parts *p, int *ok)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
					  31, 30, 31 };
	long	year = p->year, sec = p->sec;
	int64_t	t;
	int	leap;

	*ok = 0;
	if (year < 0 || p->month < 1 || p->month > 12 || p->day < 1)
		return 0;
	if (year < 100 && !p->year_full) /* RFC 2822 4.3: 00-49 is 20xx */
		year += year < 50 ? 2000 : 1900;
	else if (year < 1000 && !p->year_full) /* RFC 2822 4.3: + 1900 */
		year += 1900;
	if (year > 9999)
		return 0;
	if ((unsigned long)p->day > mdays[p->month - 1])
		return 0;
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (p->month == 2 && p->day == 29 && !leap)
		return 0;
	if (p->yday < 0 || p->yday > 365 + leap)
		return 0;
	if (p->hour > 24 || p->min > 59 || sec > 60 ||
	    (p->hour == 24 && (p->min > 0 || sec > 0)))
		return 0;
	if (sec == 60)
		sec = 59;	/* a leap second: POSIX time has none */
	t = (date_days_from_civil(year, (unsigned)p->month, (unsigned)p->day) +
	    (p->yday > 0 ? p->yday - 1 : 0)) * 86400 + p->hour * 3600 +
	    p->min * 60 + sec;
	t -= (int64_t)p->offset * 60;
	*ok = 1;
	return t;
}

static long
num(const char **pp, int *ndigits)
{
	const char	*p = *pp;
	long		 v = 0;
	int		 n = 0;

	while (isdigit((unsigned char)*p) && n < 10) {
		v = v * 10 + (*p - '0');
		p++;
		n++;
	}
	*ndigits = n;
	*pp = p;
	return v;
}

/* "+09:00", "+0900", "+9", "-05"; p points at the sign. */
static int
parse_offset(const char **pp, int *ret)
{
	const char	*p = *pp;
	int		 sign = *p == '-' ? -1 : 1, nd, nd2;
	long		 h, m = 0;

	p++;
	h = num(&p, &nd);
	if (nd == 0 || nd > 4)
		return 0;
	if (nd == 4 || nd == 3) {
		m = h % 100;
		h /= 100;
	} else if (*p == ':' && isdigit((unsigned char)p[1])) {
		p++;
		m = num(&p, &nd2);
		if (nd2 != 2)
			return 0;
	}
	if (h > 14 || m > 59)
		return 0;
	*ret = sign * (int)(h * 60 + m);
	*pp = p;
	return 1;
}

/* ISO 8601:1988 dates with a two-digit year and nothing else, after any
 * leading "-": "0312" (YYMM), "03-12" (YY-MM), "03-12-31" (YY-MM-DD; the
 * only form allowed without the "-" when need_day is set, as "03-12" alone
 * could be anything). */
static int
parse_iso_two_digit_year(const char *q, int need_day, struct date_parts *p)
{
	int	nd;

	p->year = num(&q, &nd);
	p->day = 1;
	if (nd == 4 && !need_day) {
		p->month = p->year % 100;
		p->year /= 100;
		return *q == '\0';
	}
	if (nd != 2 || *q != '-')
		return 0;
	q++;
	p->month = num(&q, &nd);
	if (nd != 2)
		return 0;
	if (*q == '-') {
		q++;
		p->day = num(&q, &nd);
		if (nd != 2)
			return 0;
	} else if (need_day) {
		return 0;
	}
	return *q == '\0';
}

/* RFC 3339 / ISO 8601: 2025-01-02[T ]03:04[:05[.123]][Z|+09:00|+0900].
 * Returns 1 and fills *p when s has that shape (trailing junk allowed only
 * as white space or a parenthesized comment). */
static int
parse_iso(const char *s, struct date_parts *p)
{
	const char	*q = s;
	int		 nd;

	memset(p, 0, sizeof(*p));
	if (*q == '-')
		return parse_iso_two_digit_year(q + 1, 0, p);
	p->year = num(&q, &nd);
	p->year_full = nd == 4 || nd == 8 || nd == 7;
	if (*q == '\0' && (nd == 6 || nd == 7)) {
		/* ISO 8601 basic dates alone: "031231" (YYMMDD) and
		 * "2003335" (year, day of the year). Not "03335": five
		 * digits alone are likelier junk than a date. */
		if (nd == 6) {
			p->day = p->year % 100;
			p->month = p->year / 100 % 100;
			p->year /= 10000;
		} else {
			p->yday = p->year % 1000;
			p->year /= 1000;
			p->month = p->day = 1;
			if (p->yday == 0)
				return 0;
		}
		return 1;
	}
	if (nd == 2 && *q == '-')
		return parse_iso_two_digit_year(s, 1, p);
	if (nd == 8) {
		/* Basic format: 20250102[T030405Z]. */
		p->day = p->year % 100;
		p->month = p->year / 100 % 100;
		p->year /= 10000;
		if (*q == 'T' || *q == 't') {
			long hms;

			q++;
			hms = num(&q, &nd);
			if (nd != 6 && nd != 4)
				return 0;
			if (nd == 4)
				hms *= 100;
			p->hour = hms / 10000;
			p->min = hms / 100 % 100;
			p->sec = hms % 100;
			p->have_time = 1;
		}
		goto zone;
	}
	if (nd != 4)
		return 0;
	if (*q == '\0') {
		p->month = p->day = 1;	/* "2025": W3C-DTF allows a year alone */
		return 1;
	}
	if (*q == '-' || *q == '/' || *q == '.') {
		char sep = *q++;

		p->month = num(&q, &nd);
		if (nd == 3 && sep == '-' && *q != sep && p->month > 0) {
			/* ISO 8601 ordinal date: "2003-335". */
			p->yday = p->month;
			p->month = p->day = 1;
			goto time;
		}
		if (nd < 1 || nd > 2)
			return 0;
		if (*q != sep) {
			/* "2025-01": the first of the month. */
			if (*q != '\0')
				return 0;
			p->day = 1;
			return 1;
		}
		q++;
		p->day = num(&q, &nd);
		if (nd < 1 || nd > 2)
			return 0;
	} else {
		return 0;
	}
time:
	if (*q == 'T' || *q == 't' || (*q == ' ' && isdigit((unsigned char)q[1])) ||
	    (*q == '_' && isdigit((unsigned char)q[1]))) {
		q++;
		while (*q == ' ')
			q++;
		p->hour = num(&q, &nd);
		if (nd < 1 || nd > 2 || *q != ':')
			return 0;
		q++;
		p->min = num(&q, &nd);
		if (nd != 2)
			return 0;
		if (*q == ':') {
			q++;
			p->sec = num(&q, &nd);
			if (nd != 2)
				return 0;
		}
		if (*q == '.' || *q == ',') {
			q++;
			while (isdigit((unsigned char)*q))
				q++;
		}
		p->have_time = 1;
	}
zone:
	while (*q == ' ')
		q++;
	if (*q == 'Z' || *q == 'z') {
		q++;
	} else if ((*q == '+' || *q == '-') && p->have_time) {
		/* Without a time, "2013-01-27-01" is no zone but junk. */
		if (!parse_offset(&q, &p->offset))
			return 0;
	} else if (isalpha((unsigned char)*q)) {
		const char *w = q;

		while (isalpha((unsigned char)*q))
			q++;
		if (!zone_lookup(w, (size_t)(q - w), &p->offset))
			return 0;
		if (*q == '+' || *q == '-')
			if (!parse_offset(&q, &p->offset))
				return 0;
	}
	/* A missing zone is UTC (what the issue asks, and what feed readers
	 * do: the feed's local time is unknowable). */
	while (*q == ' ')
		q++;
	if (*q == '(') {
		while (*q != '\0' && *q != ')')
			q++;
		if (*q == ')')
			q++;
		while (*q == ' ')
			q++;
	}
	return *q == '\0';
}

/* Everything that is not ISO-shaped: tokens assigned by shape. */
static int
parse_loose(const char *s, struct date_parts *p)
{
	const char	*q = s, *first;
	long		 nums[4];
	int		 ndig[4], nn = 0, nd, have_month = 0, i;
	int		 day_set = 0, year_set = 0, ampm = 0;

	memset(p, 0, sizeof(*p));
	p->year = p->day = -1;
	first = q;
	while (*q != '\0') {
		unsigned char c = (unsigned char)*q;

		if (c == ' ' || c == ',' || c == '\t' || c == '\n' ||
		    c == '\r' || c == '.' || c == '/') {
			q++;
			continue;
		}
		if (c == '(') {	/* "(KST)" comments */
			while (*q != '\0' && *q != ')')
				q++;
			if (*q == ')')
				q++;
			continue;
		}
		if (isdigit(c)) {
			long v = num(&q, &nd);

			if (*q == ':') {
				if (p->have_time)
					return 0;
				p->hour = v;
				q++;
				p->min = num(&q, &nd);
				if (nd != 2)
					return 0;
				if (*q == ':') {
					q++;
					p->sec = num(&q, &nd);
					if (nd != 2)
						return 0;
					if (*q == '.' || *q == ',') {
						q++;
						while (isdigit((unsigned char)*q))
							q++;
					}
				}
				p->have_time = 1;
				while (*q == ' ')
					q++;
				/* "3:04 PM" */
				if ((q[0] == 'P' || q[0] == 'p' || q[0] == 'A' ||
				    q[0] == 'a') && (q[1] == 'M' || q[1] == 'm') &&
				    !isalpha((unsigned char)q[2])) {
					if (p->hour > 12)
						return 0;
					if (p->hour == 12)
						p->hour = 0;
					if (q[0] == 'P' || q[0] == 'p')
						p->hour += 12;
					q += 2;
				}
				continue;
			}
			/* Korean and Japanese numeric forms: 2025년 1월 2일,
			 * 2025年1月2日. */
			if (strncmp(q, "년", 3) == 0 || strncmp(q, "年", 3) == 0) {
				p->cjk = 1;
				p->year = v;
				p->year_full = nd == 4;
				year_set = 1;
				q += 3;
				continue;
			}
			if (strncmp(q, "월", 3) == 0 || strncmp(q, "月", 3) == 0) {
				p->month = v;
				have_month = 1;
				if (strncmp(q, "월", 3) == 0 && year_set == 0)
					p->foreign = 1;	/* "07 1월 2025": RFC 822 shape */
				q += 3;
				continue;
			}
			if (strncmp(q, "일", 3) == 0 || strncmp(q, "日", 3) == 0) {
				p->day = v;
				day_set = 1;
				q += 3;
				continue;
			}
			if (strncmp(q, "시", 3) == 0 || strncmp(q, "時", 3) == 0) {
				/* 09시 30분: hours and minutes in words. */
				p->hour = v;
				p->have_time = 1;
				q += 3;
				while (*q == ' ')
					q++;
				if (isdigit((unsigned char)*q)) {
					long mi = num(&q, &nd);

					if (strncmp(q, "분", 3) == 0 ||
					    strncmp(q, "分", 3) == 0)
						q += 3;
					p->min = mi;
				}
				continue;
			}
			if (nn == 4)
				return 0;
			nums[nn] = v;
			ndig[nn++] = nd;
			continue;
		}
		if (c == '-' && q > s && isdigit((unsigned char)q[-1]) &&
		    isdigit((unsigned char)q[1]) && !p->have_time) {
			q++;	/* "2004-05-25": a separator, not an offset */
			continue;
		}
		if (c == '-' && q > s && !p->have_time &&
		    (isalnum((unsigned char)q[-1]) || (unsigned char)q[-1] >= 0x80) &&
		    (isalpha((unsigned char)q[1]) || (unsigned char)q[1] >= 0x80 ||
		    (!isdigit((unsigned char)q[-1]) && isdigit((unsigned char)q[1])))) {
			/* "02-Jan-2025", "2004-július-13": a separator next
			 * to a month name. */
			q++;
			continue;
		}
		if (c == '+' || c == '-') {
			if (p->have_zone && !p->have_time)
				return 0;
			if (!parse_offset(&q, &p->offset))
				return 0;
			p->have_zone = 1;
			continue;
		}
		if (strncmp(q, "오전", 6) == 0 || strncmp(q, "오후", 6) == 0 ||
		    strncmp(q, "午前", 6) == 0 || strncmp(q, "午後", 6) == 0) {
			/* Korean/Japanese AM and PM, written before the time
			 * ("2004-05-25 오후 11:23:17"). */
			ampm = (q[3] == '\xed' || strncmp(q, "午後", 6) == 0) ? 2 : 1;
			p->cjk = 1;
			q += 6;
			continue;
		}
		if (isalpha(c) || c >= 0x80) {
			const char	*w = q;
			size_t		 n;
			int		 m, off;

			while (isalpha((unsigned char)*q) ||
			    (unsigned char)*q >= 0x80)
				q++;
			n = (size_t)(q - w);
			if (!have_month && (m = month_lookup(w, n)) > 0) {
				p->month = m % 100;
				p->foreign = m > 100;
				have_month = 1;
			} else if (zone_lookup(w, n, &off)) {
				p->offset = off;
				p->have_zone = 1;
				/* "GMT+9", "UTC+09:00" */
				if (*q == '+' || *q == '-') {
					if (!parse_offset(&q, &off))
						return 0;
					p->offset += off;
				}
			} else if (n == 3 && *q == '/' &&
			    strncasecmp(w, "etc", 3) == 0) {
				/* "Etc/GMT": the tz database's name. */
			} else if (n == 2 && p->have_time && !p->have_zone &&
			    strncmp(w, "AT", 2) == 0) {
				/* Atlantic time after the time ("16:31:00 AT");
				 * "at" before it is a word. */
				p->offset = -240;
				p->have_zone = 1;
			} else if (is_day_name(w, n) ||
			    (w == first && *q == ',')) {
				/* The day name is redundant and often wrong;
				 * any word before the first comma is one
				 * ("Di,", "화,"). */
			} else if ((n == 2 && (strncasecmp(w, "at", 2) == 0 ||
			    strncasecmp(w, "th", 2) == 0 ||
			    strncasecmp(w, "st", 2) == 0 ||
			    strncasecmp(w, "nd", 2) == 0 ||
			    strncasecmp(w, "rd", 2) == 0)) ||
			    (n == 1 && isalpha((unsigned char)*w))) {
				/* "at", ordinal suffixes, military zones. */
			} else {
				return 0;	/* a word we do not know */
			}
			continue;
		}
		return 0;
	}
	if (ampm != 0 && p->have_time) {
		if (p->hour > 12)
			return 0;
		if (p->hour == 12)
			p->hour = 0;
		if (ampm == 2)
			p->hour += 12;
	}
	if (!have_month && !year_set && !day_set && nn >= 3 && ndig[0] == 4) {
		/* Year first, all numbers: "2006/09/15", "2004-05-25". */
		p->year = nums[0];
		p->year_full = 1;
		p->month = nums[1];
		p->day = nums[2];
		return nn == 3;
	}
	if (!have_month)
		return 0;
	/* Assign the bare numbers: a four-digit (or > 31) one is the year;
	 * otherwise RFC 822 order, day then year. */
	for (i = 0; i < nn; i++) {
		if (!year_set && (ndig[i] >= 3 || nums[i] > 31)) {
			p->year = nums[i];
			p->year_full = ndig[i] == 4;
			year_set = 1;
		} else if (!day_set) {
			p->day = nums[i];
			day_set = 1;
		} else if (!year_set) {
			p->year = nums[i];
			p->year_full = ndig[i] == 4;
			year_set = 1;
		} else {
			return 0;
		}
	}
	if (!day_set || !year_set)
		return 0;
	return 1;
}

int
date_parse(const char *s, int64_t *ret)
{
	struct date_parts	 p;
	int64_t			 t;
	int			 ok;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '\0' || strlen(s) > 128)
		return -EINVAL;
	if (!parse_iso(s, &p) && !parse_loose(s, &p))
		return -EINVAL;
	/* A date written with Korean or Japanese words and no zone is local
	 * time there (KST and JST are both +09:00), as feedparser reads it. */
	if (p.cjk && !p.have_zone)
		p.offset = 540;
	t = date_finish(&p, &ok);
	if (!ok)
		return -EINVAL;
	*ret = t;
	return p.foreign ? 1 : 0;
}
