/* Socket.IO v5 packets: a pure codec (no I/O) between the text of an Engine.IO message and a
 * decoded packet. Binary attachments travel as separate Engine.IO binary messages; inside the
 * JSON they are placeholders {"_placeholder":true,"num":N}, which this codec validates and
 * leaves in place: a decoded packet's data plus its list of buffers is the wire model itself.
 *
 * Text form:  <type>[<attachments>-][<nsp>,][<ack id>][<JSON>]
 *   e.g. 0  0/admin,{"token":"x"}  2["hello",1]  21["ask"]  3/admin,21[true]  51-["f",{"_placeholder":true,"num":0}] */
#ifndef SIO_SIO_PACKET_H
#define SIO_SIO_PACKET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/sbuf.h"

typedef enum {
  SIO_PACKET_CONNECT = 0,
  SIO_PACKET_DISCONNECT = 1,
  SIO_PACKET_EVENT = 2,
  SIO_PACKET_ACK = 3,
  SIO_PACKET_CONNECT_ERROR = 4,
  SIO_PACKET_BINARY_EVENT = 5,
  SIO_PACKET_BINARY_ACK = 6,
} sio_packet_type;

typedef struct {
  unsigned max_attachments; /* reference default: 10 */
  unsigned max_depth;       /* JSON nesting depth accepted (checked before parsing, iteratively) */
  size_t max_nsp_len;       /* bytes of a namespace name */
} sio_codec_limits;

/* The defaults: 10 attachments, depth 32, namespace 256 bytes. */
extern const sio_codec_limits sio_codec_default_limits;

typedef struct {
  sio_packet_type type;
  char *nsp;             /* owned, NUL-terminated; "/" when the packet names none */
  int64_t id;            /* ack id, or -1 when absent */
  json_t *data;          /* owned reference, or NULL when the packet carries no JSON */
  unsigned attachments;  /* binary buffers that follow (BINARY_EVENT / BINARY_ACK), else 0 */
} sio_packet;

/* Decodes the text of one packet. Validation is the reference parser's:
 *  - type 0..6; BINARY_* need "<n>-" with 1 <= n <= max_attachments;
 *  - ack id: decimal digits, must fit in 2^53-1;
 *  - CONNECT: object or nothing; DISCONNECT: nothing; CONNECT_ERROR: string or object;
 *    EVENT/BINARY_EVENT: a non-empty array whose first element is a number, or a string that is
 *    not a reserved event name (connect, connect_error, disconnect, disconnecting, newListener,
 *    removeListener); ACK/BINARY_ACK: an array;
 *  - JSON deeper than max_depth, or invalid JSON, or a namespace longer than max_nsp_len: error;
 *  - as in the reference, the payload rules above apply only when JSON is present: "2" and
 *    "2/nsp," are EVENTs with data NULL; and its Number() quirks are kept (see sio_packet.c).
 * On success returns 0 and `out` owns its fields (free with sio_packet_clear). On error returns
 * -1 and `out` holds nothing to free. */
int sio_packet_decode(const char *text, size_t len, const sio_codec_limits *lim, sio_packet *out);

/* Checks that every placeholder inside `data` has an integer num in [0, count), as the
 * reference's reconstruction does. Other objects are left alone. Returns 0 or -1. Iterative. */
int sio_packet_check_placeholders(const json_t *data, unsigned count);

/* Frees what the packet owns and zeroes it. */
void sio_packet_clear(sio_packet *p);

/* Appends the text form of a packet to `out`. `nsp` NULL, "" or "/" is omitted; `id` < 0 is
 * omitted; `data` NULL or JSON null is omitted (the reference's `null != data`); `attachments`
 * is written for the BINARY_* types only. JSON is written with json_write (JSON.stringify's
 * exact output). Returns false if `out` failed or the data is too deep (max_depth); `out` then
 * keeps its previous length. */
bool sio_packet_encode(sbuf *out, sio_packet_type type, const char *nsp, int64_t id,
                       const json_t *data, unsigned attachments, unsigned max_depth);

/* A placeholder object {"_placeholder":true,"num":num} (new reference). */
json_t *sio_placeholder_new(unsigned num);

/* True if `v` is a placeholder object; its number goes to *num. */
bool sio_placeholder_get(const json_t *v, unsigned *num);

#endif
