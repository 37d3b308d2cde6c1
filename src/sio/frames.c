/* A Socket.IO packet encoded once into Engine.IO frames: the text frame ("4" + packet) and one
 * binary frame per attachment. The same frames are queued to every recipient, each queue
 * taking a reference, so a broadcast costs one encoding whatever the number of sockets. */
#include <stdlib.h>
#include <string.h>

#include "sio/sio_internal.h"
#include "util/metrics.h"

static const char *const reserved_events[] = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

bool event_name_reserved(const char *event) {
  for (size_t i = 0; i < sizeof reserved_events / sizeof *reserved_events; i++)
    if (strcmp(event, reserved_events[i]) == 0) return true;
  return false;
}

json_t *event_data(const char *event, json_t *args) {
  if (!event || (args && !json_is_array(args))) return NULL;
  json_t *data = json_array();
  if (!data || json_array_append_new(data, json_string(event)) ||
      (args && json_array_extend(data, args))) {
    json_decref(data);
    return NULL;
  }
  return data;
}

int frames_build(sio_server *srv, sio_packet_type type, const char *nsp, int64_t id,
                 const json_t *data, const sio_bytes *bins, size_t nbins, sio_frames *out) {
  memset(out, 0, sizeof *out);
  if (nbins) {
    if (nbins > UINT32_MAX || !data || sio_packet_check_placeholders(data, (unsigned)nbins))
      return -1;
    if (type == SIO_PACKET_EVENT) type = SIO_PACKET_BINARY_EVENT;
    else if (type == SIO_PACKET_ACK) type = SIO_PACKET_BINARY_ACK;
  }
  /* The encoding buffer is the server's, reused: an emit allocates its frames only. */
  sbuf *b = &srv->scratch;
  b->len = 0;
  b->failed = false;
  if (!sbuf_append_byte(b, '0' + EIO_MESSAGE) ||
      !sio_packet_encode(b, type, nsp, id, data, (unsigned)nbins, srv->limits.max_depth) ||
      !(out->text = eio_frame_new(false, b->len)))
    return -1;
  memcpy(eio_frame_data(out->text), b->data, b->len);
  if (b->cap > 65536) { /* do not keep a large buffer after a large emit */
    sbuf_free(b);
    sbuf_init(b, 0);
  }
  if (!nbins) return 0;
  out->bins = calloc(nbins, sizeof *out->bins);
  if (!out->bins) goto fail;
  for (size_t i = 0; i < nbins; i++) {
    out->bins[i] = eio_frame_new(true, bins[i].len);
    if (!out->bins[i]) goto fail;
    out->nbins++;
    if (bins[i].len) memcpy(eio_frame_data(out->bins[i]), bins[i].data, bins[i].len);
  }
  return 0;
fail:
  frames_clear(out);
  return -1;
}

bool frames_send(sio_client *c, const sio_frames *f, bool is_volatile) {
  if (!c || !c->open || !c->eio) return false;
  if (is_volatile && !eio_session_writable_now(c->eio)) {
    metrics.sio_volatile_dropped++;
    return false;
  }
  /* A send can cut the session off (slow consumer), which closes the client and may free it:
   * hold it, and stop at the first refusal. */
  client_ref(c);
  bool ok = eio_session_send(c->eio, f->text) == 0;
  for (size_t i = 0; ok && i < f->nbins; i++)
    ok = c->open && eio_session_send(c->eio, f->bins[i]) == 0;
  client_release(c);
  return ok;
}

void frames_clear(sio_frames *f) {
  eio_frame_unref(f->text);
  for (size_t i = 0; i < f->nbins; i++) eio_frame_unref(f->bins[i]);
  free(f->bins);
  memset(f, 0, sizeof *f);
}
