#include "util/sha1.h"

#include <string.h>

static uint32_t rol32(uint32_t x, unsigned n) { return x << n | x >> (32 - n); }

static uint32_t load_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* One 512-bit block into the chaining value (RFC 3174, section 6.1). The message schedule is
 * kept as a rolling window of 16 words rather than all 80, which is the same computation. */
static void compress(uint32_t h[5], const uint8_t block[64]) {
  uint32_t w[16];
  for (int i = 0; i < 16; i++) w[i] = load_be32(block + 4 * i);

  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int t = 0; t < 80; t++) {
    if (t >= 16)
      w[t & 15] = rol32(w[(t - 3) & 15] ^ w[(t - 8) & 15] ^ w[(t - 14) & 15] ^ w[t & 15], 1);
    uint32_t f, k;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDC;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6;
    }
    uint32_t tmp = rol32(a, 5) + f + e + w[t & 15] + k;
    e = d;
    d = c;
    c = rol32(b, 30);
    b = a;
    a = tmp;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

void sha1_init(sha1_ctx *c) {
  c->h[0] = 0x67452301;
  c->h[1] = 0xEFCDAB89;
  c->h[2] = 0x98BADCFE;
  c->h[3] = 0x10325476;
  c->h[4] = 0xC3D2E1F0;
  c->total = 0;
}

void sha1_update(sha1_ctx *c, const void *data, size_t len) {
  if (len == 0) return; /* also keeps a NULL `data` away from memcpy */
  const uint8_t *p = data;
  size_t used = (size_t)(c->total % 64);
  c->total += len;

  if (used) { /* top up the pending partial block first */
    size_t n = 64 - used < len ? 64 - used : len;
    memcpy(c->block + used, p, n);
    p += n;
    len -= n;
    if (used + n < 64) return;
    compress(c->h, c->block);
  }
  for (; len >= 64; p += 64, len -= 64) compress(c->h, p); /* whole blocks straight from input */
  if (len) memcpy(c->block, p, len);
}

void sha1_final(sha1_ctx *c, uint8_t out[SHA1_DIGEST_LEN]) {
  /* Padding: a 1 bit, zeros up to 56 bytes mod 64, then the message length in bits as a
   * 64-bit big-endian number. The length is taken before the padding changes `total`. */
  uint64_t bits = c->total * 8;
  size_t used = (size_t)(c->total % 64);
  uint8_t pad[72] = {0x80};
  size_t pad_len = (used < 56 ? 56 : 120) - used;
  for (int i = 0; i < 8; i++) pad[pad_len + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
  sha1_update(c, pad, pad_len + 8);

  for (int i = 0; i < 5; i++) store_be32(out + 4 * i, c->h[i]);
}

void sha1(const void *data, size_t len, uint8_t out[SHA1_DIGEST_LEN]) {
  sha1_ctx c;
  sha1_init(&c);
  sha1_update(&c, data, len);
  sha1_final(&c, out);
}
