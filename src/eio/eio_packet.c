#include "eio/eio_packet.h"

#include <stdio.h>
#include <string.h>

#include "util/base64.h"

int eio_decode_text(const uint8_t *frame, size_t len, eio_packet *out) {
  if (len == 0 || frame[0] < '0' || frame[0] > '6') return -1;
  out->type = (eio_type)(frame[0] - '0');
  out->binary = false;
  out->data = frame + 1;
  out->len = len - 1;
  return 0;
}

void eio_payload_reader_init(eio_payload_reader *r, uint8_t *body, size_t len) {
  r->cur = body;
  r->end = body ? body + len : body; /* NULL + 0 is undefined in C */
  r->done = false;
}

/* The reader's states: reading (!done); finished after the last segment (done, cur == end,
 * both non-NULL: a body that yields a packet is never NULL); failed (done, cur == NULL), so
 * that an error keeps being reported instead of turning into a clean end. */
static int fail(eio_payload_reader *r) {
  r->cur = r->end = NULL;
  r->done = true;
  return -1;
}

int eio_payload_next(eio_payload_reader *r, eio_packet *out) {
  if (r->done) return r->cur ? 0 : -1;

  /* Every segment ends at a separator or at the end of the body. As with split() in the
   * reference, "" is one empty segment and a trailing separator leaves an empty last one:
   * both are malformed. */
  uint8_t *seg = r->cur;
  size_t avail = (size_t)(r->end - seg);
  uint8_t *sep = avail ? memchr(seg, EIO_RECORD_SEPARATOR, avail) : NULL;
  size_t len = sep ? (size_t)(sep - seg) : avail;
  if (len == 0) return fail(r);

  if (seg[0] == 'b') { /* a binary message, base64 after the 'b', decoded where it stands */
    long n = base64_decode(seg + 1, seg + 1, len - 1);
    if (n < 0) return fail(r);
    out->type = EIO_MESSAGE;
    out->binary = true;
    out->data = seg + 1;
    out->len = (size_t)n;
  } else if (eio_decode_text(seg, len, out)) {
    return fail(r);
  }

  if (sep) {
    r->cur = sep + 1;
  } else {
    r->cur = r->end;
    r->done = true;
  }
  return 1;
}

size_t eio_payload_segment_len(bool binary, size_t frame_len) {
  return binary ? 1 + base64_encoded_len(frame_len) : frame_len;
}

uint8_t *eio_payload_write_segment(uint8_t *dst, bool binary, const uint8_t *frame,
                                   size_t frame_len) {
  if (binary) {
    *dst = 'b';
    return dst + 1 + base64_encode(dst + 1, frame, frame_len);
  }
  if (frame_len) memcpy(dst, frame, frame_len); /* memcpy with NULL is undefined, even for 0 */
  return dst + frame_len;
}

/* The sid goes into JSON unescaped, so it must be plain: the server makes it from the
 * URL-safe base64 alphabet, but this function does not take that on trust. */
static bool plain_sid(const char *sid) {
  if (!sid || !*sid) return false;
  for (; *sid; sid++) {
    char c = *sid;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-'))
      return false;
  }
  return true;
}

int eio_open_frame(char *dst, size_t cap, const char *sid, bool can_upgrade,
                   unsigned ping_interval_ms, unsigned ping_timeout_ms, size_t max_payload) {
  if (!plain_sid(sid)) return -1;
  /* Key order as JSON.stringify writes the reference's handshake object. */
  int n = snprintf(dst, cap,
                   "0{\"sid\":\"%s\",\"upgrades\":%s,\"pingInterval\":%u,\"pingTimeout\":%u,"
                   "\"maxPayload\":%zu}",
                   sid, can_upgrade ? "[\"websocket\"]" : "[]", ping_interval_ms,
                   ping_timeout_ms, max_payload);
  if (n < 0 || (size_t)n >= cap) return -1; /* truncated, or no room for the terminator */
  return n;
}
