/* url.h — make links absolute: RFC 3986 reference resolution against a base
 * (the feed URL, or an xml:base in effect). Never touches the network. */
#pragma once

#include "error.h"

/* Returns 1 when s starts with a URI scheme ("http:", "mailto:", ...). */
int url_has_scheme(const char *s);

/* Resolves ref (surrounding white space ignored) against base (may be NULL
 * or relative itself, then ref is returned as it is). Returns 0 and *ret (a
 * new string, caller frees; NULL when ref is empty), or -ENOMEM. A ref that
 * cannot be resolved is returned unchanged. */
int url_resolve(const char *base, const char *ref, char **ret) _must_check_;
