/* date.h — dates as feeds write them (RFC 822/1123 and the variants of the
 * wild web, RFC 3339 / ISO 8601, Korean and Japanese numeric forms) into
 * Unix seconds, UTC. Pure functions: no time zone database, no locale. */
#pragma once

#include <stdint.h>

#include "error.h"

/* Parses s. Returns 0 and *ret (Unix seconds, UTC); 1 and *ret when the
 * date was read through a month name that is not English ("Januar", "1월"
 * in an RFC 822 shape), which callers report as a warning; or -EINVAL when
 * s is not a date this parser understands (*ret untouched). */
int date_parse(const char *s, int64_t *ret) _must_check_;

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t date_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Formats t as RFC 3339 UTC ("2025-01-02T03:04:05Z") into buf (at least
 * 21 bytes, 32 recommended). Returns buf. */
char *date_format_rfc3339(int64_t t, char *buf, size_t size);
