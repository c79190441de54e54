/* ac.h — an Aho–Corasick automaton over bytes: every pattern of every rule
 * in one machine, so a text is scanned once whatever the number of patterns.
 * Patterns are added, the automaton is compiled once, then it is read-only
 * and may be shared between threads. Never logs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct ac;

/* Returns a new empty automaton, or NULL when out of memory. */
struct ac *ac_new(void);
/* NULL is a no-op; returns NULL. */
struct ac *ac_free(struct ac *a);

/* Adds pattern p[0..len) (len > 0) before ac_compile(). The same bytes
 * added twice get the same id. Sets *ret_id (ids are 0, 1, 2 … in order of
 * first addition). Returns 0, -ENOMEM, -EINVAL (empty pattern) or -EBUSY
 * (already compiled). */
int ac_add(struct ac *a, const char *p, size_t len, uint32_t *ret_id) _must_check_;

/* Builds the failure links and, when it takes at most AC_DFA_MAX_ENTRIES
 * table entries, a full transition table. Returns 0 or -ENOMEM. */
#define AC_DFA_MAX_ENTRIES	(8u << 20)	/* 32 MiB */
int ac_compile(struct ac *a) _must_check_;
/* The same with another limit; 0 never builds the full table (tests). */
int ac_compile_limit(struct ac *a, size_t max_dfa_entries) _must_check_;

size_t ac_pattern_count(const struct ac *a);
/* Length in bytes of pattern id. */
size_t ac_pattern_len(const struct ac *a, uint32_t id);

/* Called for every occurrence, overlapping ones included; end is the offset
 * one past the occurrence's last byte. A non-zero return stops the scan and
 * is returned by ac_scan(). */
typedef int (*ac_hit_fn)(void *userdata, uint32_t id, size_t end);

/* Scans text[0..len) with a compiled automaton. Returns 0 or the first
 * non-zero value returned by fn. */
int ac_scan(const struct ac *a, const char *text, size_t len,
    ac_hit_fn fn, void *userdata);
