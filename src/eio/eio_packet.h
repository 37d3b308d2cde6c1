/* Engine.IO v4 packets and long-polling payloads: a pure codec over buffers, no I/O.
 *
 * A packet's "frame" is its WebSocket form: a text frame is the type digit followed by the data
 * ("4hello"); a binary frame is the raw bytes of a binary message. A long-polling payload joins
 * frames with the record separator 0x1e, binary ones written as 'b' + base64. */
#ifndef SIO_EIO_PACKET_H
#define SIO_EIO_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EIO_RECORD_SEPARATOR 0x1e

typedef enum {
  EIO_OPEN = 0,
  EIO_CLOSE = 1,
  EIO_PING = 2,
  EIO_PONG = 3,
  EIO_MESSAGE = 4,
  EIO_UPGRADE = 5,
  EIO_NOOP = 6,
} eio_type;

typedef struct {
  eio_type type;
  bool binary;          /* true only for a binary EIO_MESSAGE */
  const uint8_t *data;  /* the packet's data (after the type digit); points into the input */
  size_t len;
} eio_packet;

/* Decodes one text frame (a WebSocket text message). An empty frame or an unknown type is an
 * error. Returns 0 or -1. */
int eio_decode_text(const uint8_t *frame, size_t len, eio_packet *out);

/* Reads the packets of a long-polling request body one by one. The body is modified in place:
 * base64 segments are decoded where they stand, so `out->data` points into the body. */
typedef struct {
  uint8_t *cur;
  uint8_t *end;
  bool done;
} eio_payload_reader;

void eio_payload_reader_init(eio_payload_reader *r, uint8_t *body, size_t len);

/* Returns 1 and fills `out` with the next packet, 0 at the end, -1 on a malformed segment
 * (an empty segment, an unknown type, bad base64). An empty body is malformed. */
int eio_payload_next(eio_payload_reader *r, eio_packet *out);

/* Bytes that `frame` takes in a long-polling payload (not counting the separator). */
size_t eio_payload_segment_len(bool binary, size_t frame_len);

/* Writes `frame` as one payload segment (text as-is; binary as 'b' + base64) at dst, which holds
 * eio_payload_segment_len() bytes. Returns the end of what was written. */
uint8_t *eio_payload_write_segment(uint8_t *dst, bool binary, const uint8_t *frame, size_t frame_len);

/* The open packet's JSON ("0{...}" frame) into dst. `upgrades` is "[\"websocket\"]" or "[]".
 * Returns the frame length, or -1 if dst is too small. */
int eio_open_frame(char *dst, size_t cap, const char *sid, bool can_upgrade,
                   unsigned ping_interval_ms, unsigned ping_timeout_ms, size_t max_payload);

#endif
