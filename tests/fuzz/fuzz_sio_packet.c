/* libFuzzer target: sio_packet_decode on arbitrary bytes (default limits). Whatever decodes
 * must survive a round trip: encoding it and decoding the result gives the same type,
 * attachments, namespace, id and JSON. Placeholder checking runs on every decoded payload.
 *
 * The text itself is not always a fixpoint, and need not be: the real 1e20 is written
 * "100000000000000000000", an integer too big for jansson, so the second decode reads the
 * whole payload as reals (as JSON.parse would) and an exact 64-bit integer next to it then
 * prints rounded. The values compare equal, as JS numbers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "same_json.h"
#include "sio/sio_packet.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const sio_codec_limits *lim = &sio_codec_default_limits;
  sio_packet p;
  if (sio_packet_decode((const char *)data, size, lim, &p) != 0) return 0;

  (void)sio_packet_check_placeholders(p.data, p.attachments);
  unsigned num;
  (void)sio_placeholder_get(p.data, &num);

  sbuf text;
  sbuf_init(&text, 0);
  /* The decoder accepted the depth, so the encoder must too. */
  if (!sio_packet_encode(&text, p.type, p.nsp, p.id, p.data, p.attachments, lim->max_depth))
    abort();
  sio_packet q;
  if (sio_packet_decode((const char *)text.data, text.len, lim, &q) != 0) abort();
  if (q.type != p.type || q.attachments != p.attachments || q.id != p.id ||
      strcmp(q.nsp, p.nsp) != 0)
    abort();
  if (p.data ? !(json_equal(p.data, q.data) || same_json(p.data, q.data)) : q.data != NULL)
    abort();

  sbuf_free(&text);
  sio_packet_clear(&q);
  sio_packet_clear(&p);
  return 0;
}
