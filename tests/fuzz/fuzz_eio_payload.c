/* libFuzzer target: the Engine.IO decoders on arbitrary bytes. The input is read as a text
 * frame (eio_decode_text) and as a long-polling body (eio_payload_next, on a malloc'd copy of
 * exactly its size, since the reader decodes base64 in place). Every packet read must lie
 * inside the body and survive a round trip: written with eio_payload_write_segment into a
 * buffer of exactly eio_payload_segment_len() bytes, it reads back as the same packet.
 * Base64 is also checked on its own: decoding in place gives what decoding elsewhere gives. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eio/eio_packet.h"
#include "util/base64.h"

static void round_trip(const eio_packet *p) {
  /* The frame: raw bytes for a binary message, type digit + data for the rest. */
  size_t frame_len = p->binary ? p->len : 1 + p->len;
  uint8_t *frame = malloc(frame_len ? frame_len : 1);
  if (p->binary) {
    if (p->len) memcpy(frame, p->data, p->len);
  } else {
    frame[0] = (uint8_t)('0' + p->type);
    if (p->len) memcpy(frame + 1, p->data, p->len);
  }

  size_t seg_len = eio_payload_segment_len(p->binary, frame_len);
  uint8_t *seg = malloc(seg_len ? seg_len : 1);
  if (eio_payload_write_segment(seg, p->binary, frame, frame_len) != seg + seg_len) abort();

  eio_payload_reader r;
  eio_packet q;
  eio_payload_reader_init(&r, seg, seg_len);
  if (eio_payload_next(&r, &q) != 1) abort();
  if (q.type != p->type || q.binary != p->binary || q.len != p->len) abort();
  if (q.len && memcmp(q.data, p->data, q.len) != 0) abort();
  if (eio_payload_next(&r, &q) != 0) abort();
  free(seg);
  free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  eio_packet p;
  if (eio_decode_text(data, size, &p) == 0) {
    if (p.binary || p.type > EIO_NOOP || p.data != data + 1 || p.len != size - 1) abort();
    /* A text frame without separators is also a one-packet payload. */
    if (!memchr(data, EIO_RECORD_SEPARATOR, size)) round_trip(&p);
  }

  uint8_t *body = malloc(size ? size : 1);
  if (size) memcpy(body, data, size);

  uint8_t *out = malloc(size ? size : 1);
  long decoded = base64_decode(out, data, size);
  if (decoded > (long)size || base64_decode(body, body, size) != decoded) abort();
  if (decoded > 0 && memcmp(out, body, (size_t)decoded) != 0) abort();
  free(out);
  if (size) memcpy(body, data, size);
  eio_payload_reader r;
  eio_payload_reader_init(&r, body, size);
  size_t count = 0;
  int n;
  while ((n = eio_payload_next(&r, &p)) == 1) {
    if (p.type > EIO_NOOP || (p.binary && p.type != EIO_MESSAGE)) abort();
    if (p.data < body || p.len > size || p.data + p.len > body + size) abort();
    if (++count > size) abort(); /* every segment takes at least one byte */
    round_trip(&p);
  }
  /* The outcome sticks: no packet, and no read, after the end or an error. */
  if (eio_payload_next(&r, &p) != n || eio_payload_next(&r, &p) != n) abort();
  if (size == 0 && n != -1) abort();
  free(body);
  return 0;
}
