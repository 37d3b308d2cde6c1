#include "util/base64.h"

static const char alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of a base64 character, or -1 for anything outside the standard alphabet
 * (including '=', which the decoder handles before it gets here). */
static int sextet(uint8_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

size_t base64_encoded_len(size_t len) { return (len + 2) / 3 * 4; }

size_t base64_encode(uint8_t *dst, const uint8_t *src, size_t len) {
  size_t o = 0, i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
    dst[o++] = (uint8_t)alphabet[v >> 18];
    dst[o++] = (uint8_t)alphabet[v >> 12 & 63];
    dst[o++] = (uint8_t)alphabet[v >> 6 & 63];
    dst[o++] = (uint8_t)alphabet[v & 63];
  }
  if (i < len) { /* one or two bytes left: a padded final quantum */
    uint32_t v = (uint32_t)src[i] << 16;
    if (i + 1 < len) v |= (uint32_t)src[i + 1] << 8;
    dst[o++] = (uint8_t)alphabet[v >> 18];
    dst[o++] = (uint8_t)alphabet[v >> 12 & 63];
    dst[o++] = i + 1 < len ? (uint8_t)alphabet[v >> 6 & 63] : '=';
    dst[o++] = '=';
  }
  return o;
}

long base64_decode(uint8_t *dst, const uint8_t *src, size_t len) {
  /* Padding may only complete the last quantum to four characters: "QQ==" and "QUI=" are
   * accepted (as are the unpadded "QQ" and "QUI"), "QQ=" and "====" are not. */
  size_t n = len;
  if (n > 0 && src[n - 1] == '=') {
    if (n % 4 != 0) return -1;
    n--;
    if (src[n - 1] == '=') n--; /* n >= 3 here, since len is a non-zero multiple of 4 */
  }
  if (n % 4 == 1) return -1; /* a lone character carries only 6 bits: not even one byte */

  /* Bits accumulate in `acc`; a byte is written as soon as 8 are available. After reading
   * i + 1 characters at most 6 * (i + 1) / 8 bytes have been written, so every write lands
   * on a character already consumed: decoding in place (dst == src) is safe. The unused low
   * bits of a final partial quantum are ignored, not checked, as Node's Buffer does. */
  uint32_t acc = 0;
  unsigned bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    int v = sextet(src[i]);
    if (v < 0) return -1; /* foreign character, or an '=' before the end */
    acc = (acc << 6 | (uint32_t)v) & 0xfff; /* never more than 12 bits are pending */
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      dst[o++] = (uint8_t)(acc >> bits);
    }
  }
  return (long)o;
}
