/* libFuzzer target: the WebSocket server path's codecs on arbitrary bytes. The input is read as
 * an HTTP request head, as a run of client frames, as UTF-8 text, as a payload to unmask and
 * (a slice of it) as a Sec-WebSocket-Key. Beyond not crashing, each result must keep its
 * contract: pointers inside the input, prefixes of a complete head or frame header asking for
 * more, frame headers that re-encode to the same bytes, and a UTF-8 verdict that agrees with a
 * plain code-point decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/ws_codec.h"
#include "util/base64.h"

static bool inside(const char *p, size_t n, const char *buf, size_t len) {
  return p && p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }
static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c; }

static void check_head(const http_head *h, const char *buf, size_t len) {
  size_t hl = h->head_len;
  if (hl == 0 || hl > len || hl > HTTP_HEAD_MAX_BYTES || buf[hl - 1] != '\n') abort();
  if (memchr(buf, '\0', hl)) abort();
  if (!inside(h->method, h->method_len, buf, hl) || h->method_len == 0) abort();
  if (!inside(h->target, h->target_len, buf, hl) || h->target_len == 0) abort();
  if (h->target[0] != '/' || h->path != h->target || h->path_len > h->target_len) abort();
  const char *q = memchr(h->target, '?', h->target_len);
  if (q) {
    if (h->query != q + 1 || h->path_len != (size_t)(q - h->target) ||
        h->path_len + 1 + h->query_len != h->target_len)
      abort();
  } else if (h->query || h->path_len != h->target_len) {
    abort();
  }
  if (h->minor_version != 0 && h->minor_version != 1) abort();
  if (h->header_count > HTTP_HEAD_MAX_HEADERS) abort();

  for (unsigned i = 0; i < h->header_count; i++) {
    const http_header *hd = &h->headers[i];
    if (!inside(hd->name, hd->name_len, buf, hl) || hd->name_len == 0) abort();
    if (!inside(hd->value, hd->value_len, buf, hl)) abort();
    if (memchr(hd->name, ':', hd->name_len) || memchr(hd->value, '\r', hd->value_len) ||
        memchr(hd->value, '\n', hd->value_len))
      abort();
    if (hd->value_len && (is_ows(hd->value[0]) || is_ows(hd->value[hd->value_len - 1]))) abort();

    /* Lookup by this name, in another case, finds this header or an earlier one of that name. */
    static char name[HTTP_HEAD_MAX_BYTES + 1];
    for (size_t k = 0; k < hd->name_len; k++)
      name[k] = k & 1 ? upper(hd->name[k]) : lower(hd->name[k]);
    name[hd->name_len] = '\0'; /* a name is tchars only: no NUL to cut it short */
    const http_header *found = http_head_find(h, name);
    if (!found || found > hd || found->name_len != hd->name_len) abort();
    for (size_t k = 0; k < hd->name_len; k++)
      if (lower(found->name[k]) != lower(hd->name[k])) abort();

    /* A token is found only where the value spells it out. */
    if (http_header_has_token(hd, "upgrade")) {
      bool seen = false;
      for (size_t k = 0; k + 7 <= hd->value_len && !seen; k++) {
        seen = true;
        for (size_t j = 0; j < 7; j++) seen = seen && lower(hd->value[k + j]) == "upgrade"[j];
      }
      if (!seen) abort();
    }
  }
}

static void fuzz_head(const char *buf, size_t len) {
  static http_head h, again; /* 2 KiB each: kept off the stack */
  int rc = http_head_parse(buf, len, &h);
  if (rc < -1 || rc > 1) abort();
  if (rc == 0 && len >= HTTP_HEAD_MAX_BYTES) abort();
  if (rc != 1) {
    /* A prefix of an input still asking for more asks for more too. */
    if (rc == 0 && len > 0 && http_head_parse(buf, len / 2, &again) != 0) abort();
    return;
  }
  check_head(&h, buf, len);

  /* What follows the head does not matter: the head alone gives the same result. */
  if (http_head_parse(buf, h.head_len, &again) != 1 || again.head_len != h.head_len ||
      again.header_count != h.header_count)
    abort();
  /* A few prefixes (checking all of them would be quadratic): never complete, never refused. */
  size_t cuts[] = {h.head_len - 1, h.head_len / 2, h.head_len / 3, h.head_len * 3 / 4, 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
    if (cuts[i] < h.head_len && http_head_parse(buf, cuts[i], &again) != 0) abort();
}

static bool opcode_known(uint8_t op) { return op <= 2 || (op >= 8 && op <= 10); }

/* The input as frames sent by a client, one after the other, each payload unmasked. */
static void fuzz_frames(const uint8_t *data, size_t len) {
  size_t pos = 0;
  while (pos < len) {
    const uint8_t *f = data + pos;
    size_t avail = len - pos;
    ws_frame_header h;
    int rc = ws_frame_header_parse(f, avail, &h);
    if (rc < -1 || rc > 1) abort();
    if (rc == 0 && avail >= 14) abort();
    if (rc != 1) return;

    if (h.header_len > 14 || h.header_len > avail || !h.masked || !opcode_known(h.opcode)) abort();
    if (h.opcode >= 8 && (!h.fin || h.payload_len > 125)) abort();
    if (h.payload_len >> 63) abort();
    if (memcmp(h.mask, f + h.header_len - 4, 4) != 0) abort();
    for (size_t n = 0; n < h.header_len; n++)
      if (ws_frame_header_parse(f, n, &h) != 0) abort();
    ws_frame_header_parse(f, avail, &h);

    /* The same header written by the server side is the same bytes, less FIN and mask:
     * what was accepted was in its shortest form. */
    uint8_t out[10];
    size_t n = ws_frame_header_write(out, h.opcode, h.payload_len);
    if (n + 4 != h.header_len || (out[0] & 0x0f) != (f[0] & 0x7f) || out[1] != (f[1] & 0x7f) ||
        memcmp(out + 2, f + 2, n - 2) != 0)
      abort();

    /* Unmask what there is of the payload in two pieces; a second pass restores it. */
    size_t body = avail - h.header_len;
    if (h.payload_len < body) body = (size_t)h.payload_len;
    uint8_t *p = malloc(body ? body : 1);
    if (!p) abort();
    memcpy(p, f + h.header_len, body);
    size_t cut = body / 3 + (body & 1);
    ws_unmask(p, cut, h.mask, 0);
    ws_unmask(p + cut, body - cut, h.mask, cut);
    for (size_t i = 0; i < body; i++)
      if (p[i] != (f[h.header_len + i] ^ h.mask[i & 3])) abort();
    if (h.opcode == WS_OP_TEXT) (void)ws_utf8_valid(p, body);
    ws_unmask(p, body, h.mask, 0);
    if (memcmp(p, f + h.header_len, body) != 0) abort();
    free(p);

    if (h.payload_len > avail - h.header_len) return;
    pos += h.header_len + (size_t)h.payload_len;
  }
}

/* UTF-8 the long way: decode each sequence to its code point, then judge the code point. */
static bool utf8_reference(const uint8_t *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    uint8_t c = s[i];
    size_t more;
    uint32_t cp, min;
    if (c < 0x80) {
      more = 0, cp = c, min = 0;
    } else if ((c & 0xe0) == 0xc0) {
      more = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      more = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      more = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (len - i - 1 < more) return false;
    for (size_t k = 1; k <= more; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += more + 1;
  }
  return true;
}

static void fuzz_accept_key(const uint8_t *data, size_t len) {
  if (len == 0) return;
  /* The first byte picks the slice length, around the 24 a key has. */
  size_t key_len = data[0] % 32;
  if (key_len > len - 1) key_len = len - 1;
  const char *key = (const char *)data + 1;
  char out[29];
  memset(out, '#', sizeof out);
  int rc = ws_accept_key(key, key_len, out);
  uint8_t nonce[24];
  bool good = key_len == 24 && base64_decode(nonce, (const uint8_t *)key, key_len) == 16;
  if (rc != (good ? 0 : -1)) abort();
  if (rc == 0) {
    uint8_t digest[24];
    if (out[28] != '\0' || out[27] != '=' || strlen(out) != 28) abort();
    if (base64_decode(digest, (const uint8_t *)out, 28) != 20) abort();
  } else {
    for (size_t i = 0; i < sizeof out; i++)
      if (out[i] != '#') abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_head((const char *)data, size);
  fuzz_frames(data, size);
  if (ws_utf8_valid(data, size) != utf8_reference(data, size)) abort();
  fuzz_accept_key(data, size);
  return 0;
}
