/*
 * sha256.h - SHA-256 (FIPS 180-4), small and dependency-free
 *
 * Names photos by their content and gives templates a 'digest' filter, so
 * that a value changes exactly when the bytes behind it change.  Not for
 * secrets: nothing here is constant-time, and nothing needs to be.
 *
 * Pure: no I/O, no allocation, cannot fail.
 */
#ifndef L2S_SHA256_H
#define L2S_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32		/* bytes in a digest */
#define SHA256_HEX_MAX (2 * SHA256_LEN + 1)

struct sha256 {
	uint32_t h[8];
	uint64_t nbytes;		/* message length so far */
	unsigned char block[64];	/* the partial block */
	size_t nblock;
};

void sha256_init(struct sha256 *c);
/* Feed len bytes at p (borrowed; p may be NULL when len is 0). */
void sha256_update(struct sha256 *c, const void *p, size_t len);
/* Finish: out gets the digest; c must be initialised again before reuse. */
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);

/* The digest of len bytes at p, in one call. */
void sha256(const void *p, size_t len, unsigned char out[SHA256_LEN]);

/* The first n bytes (n <= SHA256_LEN) of the digest of [p, p + len) as
 * lower-case hex into out, which holds 2 * n + 1 bytes (NUL-terminated). */
void sha256_hex(const void *p, size_t len, size_t n, char *out);

#endif
