#include "eio/eio_frame.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

/* Static control frames are marked by this reference count and never freed. */
#define FRAME_STATIC UINT32_MAX

struct eio_frame {
  uint32_t refs;
  uint32_t len;
  bool binary;
  /* LWS_PRE bytes of headroom, then the frame's bytes. */
  uint8_t buf[];
};

eio_frame *eio_frame_new(bool binary, size_t len) {
  if (len > UINT32_MAX - LWS_PRE) return NULL;
  eio_frame *f = malloc(sizeof *f + LWS_PRE + len);
  if (!f) return NULL;
  f->refs = 1;
  f->len = (uint32_t)len;
  f->binary = binary;
  return f;
}

eio_frame *eio_frame_text(eio_type type, const void *data, size_t len) {
  eio_frame *f = eio_frame_new(false, len + 1);
  if (!f) return NULL;
  uint8_t *p = eio_frame_data(f);
  p[0] = (uint8_t)('0' + type);
  if (len) memcpy(p + 1, data, len);
  return f;
}

/* One static frame per data-less packet type: 16 bytes of headroom plus the digit. */
static struct {
  eio_frame frame;
  uint8_t bytes[LWS_PRE + 1];
} control_frames[EIO_NOOP + 1];

eio_frame *eio_frame_control(eio_type type) {
  eio_frame *f = &control_frames[type].frame;
  if (f->refs != FRAME_STATIC) { /* first use; single-threaded loop */
    f->refs = FRAME_STATIC;
    f->len = 1;
    f->binary = false;
    f->buf[LWS_PRE] = (uint8_t)('0' + type);
  }
  return f;
}

eio_frame *eio_frame_ref(eio_frame *f) {
  if (f->refs != FRAME_STATIC) f->refs++;
  return f;
}

void eio_frame_unref(eio_frame *f) {
  if (!f || f->refs == FRAME_STATIC) return;
  if (--f->refs == 0) free(f);
}

uint8_t *eio_frame_data(eio_frame *f) { return f->buf + LWS_PRE; }
size_t eio_frame_len(const eio_frame *f) { return f->len; }
bool eio_frame_binary(const eio_frame *f) { return f->binary; }
uint8_t *eio_frame_headroom(eio_frame *f) { return f->buf; }
