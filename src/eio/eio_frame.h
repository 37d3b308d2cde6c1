/* Shared, reference-counted outgoing frames. A frame is encoded once and the same bytes are
 * queued to every recipient (a broadcast costs one allocation, not one per socket). Room is kept
 * in front of the bytes for the WebSocket header, which the transport writes in place. */
#ifndef SIO_EIO_FRAME_H
#define SIO_EIO_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eio/eio_packet.h"

typedef struct eio_frame eio_frame;

/* A frame of `len` bytes to fill through eio_frame_data(); one reference, owned by the caller.
 * NULL if allocation fails or len exceeds 4 GiB. */
eio_frame *eio_frame_new(bool binary, size_t len);
/* A text frame: the type digit followed by `data`. */
eio_frame *eio_frame_text(eio_type type, const void *data, size_t len);
/* Frames of the data-less control packets ("2", "3", "6", ...): shared for the process, never
 * freed; ref/unref on them are no-ops. */
eio_frame *eio_frame_control(eio_type type);

eio_frame *eio_frame_ref(eio_frame *f);
void eio_frame_unref(eio_frame *f);

uint8_t *eio_frame_data(eio_frame *f);
size_t eio_frame_len(const eio_frame *f);
bool eio_frame_binary(const eio_frame *f);
/* The start of the headroom (for the transport's header), and its size. */
uint8_t *eio_frame_headroom(eio_frame *f);

#endif
