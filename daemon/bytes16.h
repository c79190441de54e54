/* bytes16.h — sixteen bytes compared at once, for the loops that look
 * for a few special bytes in the whole text of a feed (UTF-8 checks,
 * white space, JSON escapes). GCC's and clang's vector extensions: the
 * compiler picks the machine's vector instructions (SSE2 on x86-64, NEON
 * on arm64) and falls back to plain code where there are none, so no
 * intrinsics and nothing per architecture here. A comparison gives 0xFF
 * in each byte where it holds, 0 elsewhere. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t v16 __attribute__((vector_size(16)));

static inline v16
v16_load(const void *p)
{
	v16 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Sixteen copies of c. */
static inline v16
v16_splat(uint8_t c)
{
	return (v16){ c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c };
}

/* Whether any byte of the mask m is set. */
static inline bool
v16_any(v16 m)
{
	uint64_t a, b;

	memcpy(&a, &m, 8);
	memcpy(&b, (const char *)&m + 8, 8);
	return (a | b) != 0;
}

/* The index of the first byte of the mask m that is set (m has one). */
static inline unsigned
v16_first(v16 m)
{
	uint64_t a, b;

	memcpy(&a, &m, 8);
	memcpy(&b, (const char *)&m + 8, 8);
	/* The vector's first byte is the lowest of a on a little-endian
	 * machine, the highest on a big-endian one. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return a != 0 ? (unsigned)__builtin_ctzll(a) / 8 :
	    8 + (unsigned)__builtin_ctzll(b) / 8;
#else
	return a != 0 ? (unsigned)__builtin_clzll(a) / 8 :
	    8 + (unsigned)__builtin_clzll(b) / 8;
#endif
}
