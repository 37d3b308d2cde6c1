/* Standard base64 (RFC 4648, with padding), as Engine.IO uses for binary packets over long-polling.
 * Pure functions over caller-owned buffers. */
#ifndef SIO_UTIL_BASE64_H
#define SIO_UTIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to encode `len` input bytes (no terminator). */
size_t base64_encoded_len(size_t len);

/* Writes the encoding of src[0..len) to dst (which holds base64_encoded_len(len) bytes).
 * Returns the number of bytes written. */
size_t base64_encode(uint8_t *dst, const uint8_t *src, size_t len);

/* Decodes src[0..len) into dst, which may be the same buffer as src (in-place decoding is
 * allowed because the output is never longer than the input). Padding is optional; any other
 * character, a misplaced '=' or a dangling single character is an error.
 * Returns the decoded length, or -1 on malformed input. */
long base64_decode(uint8_t *dst, const uint8_t *src, size_t len);

#endif
