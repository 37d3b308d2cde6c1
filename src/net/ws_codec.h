/* The byte-level pieces of serving WebSocket connections ourselves: reading the HTTP/1.1
 * request head a client opens with, computing the handshake's Sec-WebSocket-Accept, and reading
 * and writing RFC 6455 frame headers. Pure functions with no I/O and no allocation: the
 * connection code owns the buffers and the sockets, and everything here can be unit-tested and
 * fuzzed on its own. Every input is treated as hostile. */
#ifndef SIO_NET_WS_CODEC_H
#define SIO_NET_WS_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- HTTP/1.1 request head, as read off a fresh connection ---- */
#define HTTP_HEAD_MAX_BYTES   8192  /* a longer head is refused */
#define HTTP_HEAD_MAX_HEADERS 64

/* Pointers into the caller's buffer, not NUL-terminated. */
typedef struct {
  const char *name;  size_t name_len;    /* as sent (case kept) */
  const char *value; size_t value_len;   /* leading/trailing spaces and tabs trimmed */
} http_header;

typedef struct {
  const char *method;  size_t method_len;   /* "GET" */
  const char *target;  size_t target_len;   /* as sent: "/socket.io/?EIO=4&transport=websocket" */
  const char *path;    size_t path_len;     /* target up to '?' (or all of it) */
  const char *query;   size_t query_len;    /* after '?', without it; NULL when there is no '?' */
  int minor_version;                        /* HTTP/1.<minor>: 0 or 1 */
  http_header headers[HTTP_HEAD_MAX_HEADERS];
  unsigned header_count;
  size_t head_len;                          /* bytes up to and including the blank line */
} http_head;

/* Parses the head at buf[0..len). Returns 1 when complete (h filled, h->head_len set), 0 when
 * more bytes are needed (nothing malformed so far and len < HTTP_HEAD_MAX_BYTES), -1 when
 * malformed or too large (head over HTTP_HEAD_MAX_BYTES, more than HTTP_HEAD_MAX_HEADERS headers).
 * Lines end with CRLF or a bare LF; a CR anywhere else is an error. Request line:
 * METHOD SP target SP HTTP/1.x (x 0 or 1), with method = token chars and a target that starts
 * with '/' and holds no control chars or spaces (bytes >= 0x80 are let through).
 * Header line "name: value" with name = token chars (RFC 9110 tchar) and no space before the
 * colon, no obs-fold (a line starting with SP/HTAB is an error), no control chars (other than
 * HTAB) in values; NUL anywhere is an error. Malformed input is reported as soon as the bytes
 * that make it so are in buf, even before the head is complete, so a prefix of a valid head
 * always gives 0. Bytes after the head (a pipelined body) are not looked at.
 * The pointers in h point into buf: they are valid as long as it is. On 0 or -1, h holds
 * nothing to rely on. */
int http_head_parse(const char *buf, size_t len, http_head *h);

/* The first header named `name` (ASCII case-insensitive), or NULL. */
const http_header *http_head_find(const http_head *h, const char *name);

/* Whether a comma-separated header value contains `token` (case-insensitive, whitespace around
 * elements ignored): "keep-alive, Upgrade" contains "upgrade". NULL hdr (or an empty token)
 * → false. */
bool http_header_has_token(const http_header *hdr, const char *token);

/* ---- WebSocket (RFC 6455) ---- */

/* Sec-WebSocket-Accept for a client key:
 * base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), written as 28 chars + NUL.
 * Returns 0, or -1 when the key is not 24 chars of base64 decoding to 16 bytes (out is then
 * left untouched). The key is hashed as sent, not decoded. */
int ws_accept_key(const char *key, size_t key_len, char out[29]);

enum { WS_OP_CONT = 0x0, WS_OP_TEXT = 0x1, WS_OP_BINARY = 0x2,
       WS_OP_CLOSE = 0x8, WS_OP_PING = 0x9, WS_OP_PONG = 0xA };

typedef struct {
  uint8_t opcode;
  bool fin;
  bool masked;
  uint8_t mask[4];
  uint64_t payload_len;
  size_t header_len;      /* 2..14 */
} ws_frame_header;

/* Parses a frame header at buf[0..len) of a frame sent by a client. Returns 1 (h filled),
 * 0 (need more bytes), or -1 on a protocol error: any RSV bit set (no extensions are negotiated),
 * unknown opcode (3-7, 0xB-0xF), client frame not masked, control frame (>= 0x8) longer than 125
 * or not FIN, 64-bit length with the top bit set, or a length not in its shortest form
 * (126 used for < 126, 127 used for < 65536). An error is reported as soon as the bytes showing
 * it are in buf, so a prefix of a valid header always gives 0. Whether a CONT frame may come
 * (a fragmented message in progress) is the connection's business, not checked here. */
int ws_frame_header_parse(const uint8_t *buf, size_t len, ws_frame_header *h);

/* XORs data[0..len) with the mask, `offset` being the position of data[0] within the payload
 * (so that a payload can be unmasked in pieces). Unmasking twice gives the original back. */
void ws_unmask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset);

/* Writes the header of a server frame (FIN set, unmasked, shortest length form) into out
 * (at least 10 bytes); returns its length (2, 4 or 10). payload_len must be below 2^63
 * (the top bit is dropped otherwise) and, for control opcodes, at most 125. */
size_t ws_frame_header_write(uint8_t *out, uint8_t opcode, uint64_t payload_len);

/* Whether data[0..len) is valid UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
 * A sequence cut at the end is invalid, so a fragmented text message is checked once whole,
 * not frame by frame (a character may straddle two fragments). */
bool ws_utf8_valid(const uint8_t *data, size_t len);

#endif
