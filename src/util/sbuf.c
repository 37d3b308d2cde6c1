#include "util/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(sbuf *b, size_t limit) {
  memset(b, 0, sizeof *b);
  b->limit = limit ? limit : SIZE_MAX / 2;
}

void sbuf_free(sbuf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

bool sbuf_reserve(sbuf *b, size_t n) {
  if (b->failed) return false;
  if (n > b->limit || b->len > b->limit - n) {
    b->failed = true;
    return false;
  }
  size_t need = b->len + n;
  if (need <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > b->limit / 2 ? b->limit : cap * 2;
  if (cap < need) cap = need;
  uint8_t *p = realloc(b->data, cap);
  if (!p) {
    b->failed = true;
    return false;
  }
  b->data = p;
  b->cap = cap;
  return true;
}

bool sbuf_append(sbuf *b, const void *p, size_t n) {
  if (!sbuf_reserve(b, n)) return false;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  return true;
}

bool sbuf_append_str(sbuf *b, const char *s) { return sbuf_append(b, s, strlen(s)); }

bool sbuf_append_byte(sbuf *b, uint8_t c) { return sbuf_append(b, &c, 1); }

bool sbuf_printf(sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !sbuf_reserve(b, (size_t)n + 1)) return false;
  va_start(ap, fmt);
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return true;
}

uint8_t *sbuf_steal(sbuf *b, size_t *len) {
  uint8_t *p = b->data;
  if (len) *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}
