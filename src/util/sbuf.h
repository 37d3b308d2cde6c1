/* A growable byte buffer for building frames and responses. Grows geometrically; `cap` never
 * exceeds the limit the caller sets, so hostile input cannot make it balloon. */
#ifndef SIO_UTIL_SBUF_H
#define SIO_UTIL_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t *data;
  size_t len;
  size_t cap;
  size_t limit;   /* 0: no limit (SIZE_MAX/2) */
  bool failed;    /* an append failed (allocation or limit); the content is then incomplete */
} sbuf;

void sbuf_init(sbuf *b, size_t limit);
void sbuf_free(sbuf *b);
/* Makes room for `n` more bytes. Returns false (and sets `failed`) if that is impossible. */
bool sbuf_reserve(sbuf *b, size_t n);
bool sbuf_append(sbuf *b, const void *p, size_t n);
bool sbuf_append_str(sbuf *b, const char *s);
bool sbuf_append_byte(sbuf *b, uint8_t c);
bool sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the buffer over to the caller (who frees it with free()) and resets `b`. */
uint8_t *sbuf_steal(sbuf *b, size_t *len);

#endif
