/* SHA-1 (RFC 3174), for the WebSocket handshake: the server proves it read the client's
 * Sec-WebSocket-Key by hashing it (RFC 6455, section 4.2.2). Not for anything that needs
 * collision resistance. Pure functions over caller-owned memory. */
#ifndef SIO_UTIL_SHA1_H
#define SIO_UTIL_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20

/* Incremental state: init, any number of updates, one final. */
typedef struct {
  uint32_t h[5];      /* chaining value */
  uint64_t total;     /* bytes hashed so far; total % 64 of them wait in `block` */
  uint8_t block[64];
} sha1_ctx;

void sha1_init(sha1_ctx *c);

/* Hashes data[0..len) after everything already given; `data` may be NULL when len is 0. */
void sha1_update(sha1_ctx *c, const void *data, size_t len);

/* Pads, writes the 20-byte digest to `out` and leaves `c` spent (sha1_init it to reuse). */
void sha1_final(sha1_ctx *c, uint8_t out[SHA1_DIGEST_LEN]);

/* The digest of data[0..len) in one call. */
void sha1(const void *data, size_t len, uint8_t out[SHA1_DIGEST_LEN]);

#endif
