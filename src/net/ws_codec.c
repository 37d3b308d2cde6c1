#include "net/ws_codec.h"

#include <string.h>

#include "util/base64.h"
#include "util/sha1.h"

/* ---- HTTP/1.1 request head ---- */

/* RFC 9110 tchar: the characters of a method or a header name. */
static bool is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

/* A request-target byte: anything visible. Bytes >= 0x80 are let through, as some clients
 * send UTF-8 unescaped; the query decoder copes with whatever comes. */
static bool is_target_char(unsigned char c) { return c > 0x20 && c != 0x7f; }

/* A header value byte: visible characters, SP, HTAB and obs-text (>= 0x80). */
static bool is_value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static unsigned char ascii_lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* ASCII case-insensitive equality of a[0..n) and b[0..n): header names and tokens are ASCII,
 * and the C library's versions would depend on the locale. */
static bool ascii_case_equal(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i])) return false;
  return true;
}

/* The line validators below read p[0..n), a line without its CR LF. With `complete` false the
 * line is still arriving: running out of bytes is then not an error (0), so that a prefix of
 * a valid head is never refused, while a byte that no continuation can make right is (-1).
 * With `complete` true they return 1 or -1. */

static int request_line(const char *p, size_t n, bool complete, http_head *h) {
  const int short_line = complete ? -1 : 0;
  size_t i = 0;

  while (i < n && is_tchar((unsigned char)p[i])) i++;
  if (i == n) return short_line;
  if (i == 0 || p[i] != ' ') return -1;
  h->method = p;
  h->method_len = i;

  size_t t = ++i;
  if (i == n) return short_line;
  if (p[i] != '/') return -1; /* origin-form only: no "*", no absolute URLs */
  while (i < n && is_target_char((unsigned char)p[i])) i++;
  if (i == n) return short_line;
  if (p[i] != ' ') return -1;
  h->target = p + t;
  h->target_len = i - t;

  static const char version[] = "HTTP/1.";
  i++;
  for (size_t k = 0; k < sizeof version - 1 && i + k < n; k++)
    if (p[i + k] != version[k]) return -1;
  if (n - i < sizeof version) return short_line; /* the prefix and one digit */
  char minor = p[i + sizeof version - 1];
  if (minor != '0' && minor != '1') return -1;
  if (n - i > sizeof version) return -1; /* anything after the version */
  h->minor_version = minor - '0';

  const char *q = memchr(h->target, '?', h->target_len);
  h->path = h->target;
  h->path_len = q ? (size_t)(q - h->target) : h->target_len;
  h->query = q ? q + 1 : NULL;
  h->query_len = q ? h->target_len - h->path_len - 1 : 0;
  return 1;
}

static int header_line(const char *p, size_t n, bool complete, http_header *hd) {
  size_t i = 0;
  while (i < n && is_tchar((unsigned char)p[i])) i++;
  if (i == n) return complete ? -1 : 0;
  /* This also refuses obs-fold (a first byte of SP or HTAB) and whitespace before the colon,
   * which RFC 9112 requires a server to reject: both are ways to smuggle a header past a
   * proxy that reads them differently. */
  if (i == 0 || p[i] != ':') return -1;

  size_t v = i + 1, e = n;
  for (size_t j = v; j < n; j++)
    if (!is_value_char((unsigned char)p[j])) return -1;
  if (!complete) return 0;
  while (v < e && is_ows(p[v])) v++;
  while (e > v && is_ows(p[e - 1])) e--;
  hd->name = p;
  hd->name_len = i;
  hd->value = p + v;
  hd->value_len = e - v;
  return 1;
}

int http_head_parse(const char *buf, size_t len, http_head *h) {
  /* Nothing past the limit is looked at: a head that has not ended within it is refused
   * whatever follows. */
  size_t scan = len < HTTP_HEAD_MAX_BYTES ? len : HTTP_HEAD_MAX_BYTES;
  size_t pos = 0;
  bool request_seen = false;
  h->header_count = 0;

  for (;;) {
    const char *lf = pos < scan ? memchr(buf + pos, '\n', scan - pos) : NULL;
    size_t end = lf ? (size_t)(lf - buf) : scan; /* the line is buf[pos..end) */
    size_t n = end - pos;
    /* A CR belongs to the line end only right before the LF (or, while the line is still
     * arriving, as its last byte so far); anywhere else the validators refuse it as a
     * control character. */
    if (n > 0 && buf[end - 1] == '\r') n--;

    if (!lf) { /* an unfinished line: is it still the prefix of a good one? */
      int rc;
      if (!request_seen)
        rc = request_line(buf + pos, n, false, h);
      else if (n > 0 && h->header_count == HTTP_HEAD_MAX_HEADERS)
        rc = -1; /* not the blank line, so one header too many */
      else
        rc = header_line(buf + pos, n, false, NULL);
      if (rc < 0) return -1;
      return len >= HTTP_HEAD_MAX_BYTES ? -1 : 0;
    }

    if (!request_seen) {
      if (request_line(buf + pos, n, true, h) != 1) return -1;
      request_seen = true;
    } else if (n == 0) {
      h->head_len = end + 1;
      return 1;
    } else {
      if (h->header_count == HTTP_HEAD_MAX_HEADERS) return -1;
      if (header_line(buf + pos, n, true, &h->headers[h->header_count]) != 1) return -1;
      h->header_count++;
    }
    pos = end + 1;
  }
}

const http_header *http_head_find(const http_head *h, const char *name) {
  size_t n = strlen(name);
  for (unsigned i = 0; i < h->header_count; i++) {
    const http_header *hd = &h->headers[i];
    if (hd->name_len == n && ascii_case_equal(hd->name, name, n)) return hd;
  }
  return NULL;
}

bool http_header_has_token(const http_header *hdr, const char *token) {
  if (!hdr) return false;
  size_t tn = strlen(token);
  if (tn == 0) return false;
  const char *p = hdr->value, *end = hdr->value + hdr->value_len;
  while (p < end) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *s = p, *e = comma ? comma : end;
    while (s < e && is_ows(*s)) s++;
    while (e > s && is_ows(e[-1])) e--;
    if ((size_t)(e - s) == tn && ascii_case_equal(s, token, tn)) return true;
    if (!comma) break;
    p = comma + 1;
  }
  return false;
}

/* ---- WebSocket ---- */

/* RFC 6455, section 1.3: the fixed string appended to the client's key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int ws_accept_key(const char *key, size_t key_len, char out[29]) {
  /* The key must be a base64-encoded 16-byte nonce (section 4.1): 24 characters, the last two
   * of them "==". Checking that refuses keys that are not what a client would send, which
   * is all the value checking the handshake asks for. */
  uint8_t nonce[18]; /* base64_decode writes at most 3/4 of 24 bytes */
  if (key_len != 24 || base64_decode(nonce, (const uint8_t *)key, key_len) != 16) return -1;

  uint8_t digest[SHA1_DIGEST_LEN];
  sha1_ctx c;
  sha1_init(&c);
  sha1_update(&c, key, key_len);
  sha1_update(&c, ws_guid, sizeof ws_guid - 1);
  sha1_final(&c, digest);
  size_t n = base64_encode((uint8_t *)out, digest, sizeof digest); /* 28 characters */
  out[n] = '\0';
  return 0;
}

static bool ws_opcode_known(uint8_t op) {
  return op <= WS_OP_BINARY || (op >= WS_OP_CLOSE && op <= WS_OP_PONG);
}

int ws_frame_header_parse(const uint8_t *buf, size_t len, ws_frame_header *h) {
  /* Each rule is checked as soon as the bytes it needs are there, so a bad frame is refused
   * without waiting for more of it, and a prefix of a good header always gives 0. */
  if (len < 1) return 0;
  bool fin = buf[0] & 0x80;
  uint8_t op = buf[0] & 0x0f;
  if (buf[0] & 0x70) return -1; /* RSV1-3: no extension gives them a meaning */
  if (!ws_opcode_known(op)) return -1;
  bool control = op >= WS_OP_CLOSE;
  if (control && !fin) return -1; /* control frames may not be fragmented */

  if (len < 2) return 0;
  if (!(buf[1] & 0x80)) return -1; /* a client must mask every frame (section 5.1) */
  uint64_t plen = buf[1] & 0x7f;
  if (control && plen > 125) return -1;

  size_t pos = 2;
  if (plen == 126) {
    if (len < 4) return 0;
    plen = (uint64_t)buf[2] << 8 | buf[3];
    if (plen < 126) return -1;
    pos = 4;
  } else if (plen == 127) {
    if (len >= 3 && (buf[2] & 0x80)) return -1; /* the most significant bit must be 0 */
    /* Below 65536 when the six high bytes are all zero: known before the last two arrive. */
    if (len >= 8 && !(buf[2] | buf[3] | buf[4] | buf[5] | buf[6] | buf[7])) return -1;
    if (len < 10) return 0;
    plen = 0;
    for (int i = 2; i < 10; i++) plen = plen << 8 | buf[i];
    pos = 10;
  }
  if (len < pos + 4) return 0;

  h->opcode = op;
  h->fin = fin;
  h->masked = true;
  memcpy(h->mask, buf + pos, 4);
  h->payload_len = plen;
  h->header_len = pos + 4;
  return 1;
}

void ws_unmask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset) {
  /* The mask rotated to start at `offset`, repeated over 8 bytes; since 8 is a multiple of 4,
   * byte i of the data (counted from data[0]) takes m[i % 8] everywhere. The words are moved
   * with memcpy: no alignment is assumed and byte order does not matter, as the pattern is
   * laid out in memory exactly as the data is. */
  uint8_t m[8];
  for (unsigned i = 0; i < 8; i++) m[i] = mask[(offset + i) & 3];

  size_t i = 0;
  if (len >= 8) {
    uint64_t m64;
    memcpy(&m64, m, 8);
    for (; i + 8 <= len; i += 8) {
      uint64_t v;
      memcpy(&v, data + i, 8);
      v ^= m64;
      memcpy(data + i, &v, 8);
    }
  }
  for (; i < len; i++) data[i] ^= m[i & 7];
}

size_t ws_frame_header_write(uint8_t *out, uint8_t opcode, uint64_t payload_len) {
  out[0] = (uint8_t)(0x80 | (opcode & 0x0f));
  if (payload_len < 126) {
    out[1] = (uint8_t)payload_len;
    return 2;
  }
  if (payload_len <= 0xffff) {
    out[1] = 126;
    out[2] = (uint8_t)(payload_len >> 8);
    out[3] = (uint8_t)payload_len;
    return 4;
  }
  payload_len &= ~((uint64_t)1 << 63); /* a peer would refuse the frame with it set */
  out[1] = 127;
  for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
  return 10;
}

bool ws_utf8_valid(const uint8_t *data, size_t len) {
  size_t i = 0;
  while (i < len) {
    /* Chat text and JSON are mostly ASCII: skip it 8 bytes at a time. */
    if (len - i >= 8) {
      uint64_t v;
      memcpy(&v, data + i, 8);
      if (!(v & UINT64_C(0x8080808080808080))) {
        i += 8;
        continue;
      }
    }
    uint8_t c = data[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    /* RFC 3629, section 4: the lead byte fixes the length and the range of the second byte,
     * which is where overlongs (E0, F0), surrogates (ED) and code points past U+10FFFF (F4)
     * are excluded; C0, C1 and F5..FF never start a valid sequence. */
    size_t more;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      more = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      more = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (len - i - 1 < more) return false; /* cut short */
    if (data[i + 1] < lo || data[i + 1] > hi) return false;
    for (size_t k = 2; k <= more; k++)
      if ((data[i + k] & 0xc0) != 0x80) return false;
    i += more + 1;
  }
  return true;
}
