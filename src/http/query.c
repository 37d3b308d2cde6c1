#include "http/query.h"

#include <string.h>

void query_init(query *q) {
  q->count = 0;
  q->used = 0;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Appends src[0..len) to the store at *at, percent- and '+'-decoded if `decode`, then a NUL.
 * Returns the start of the copy, or NULL on a malformed escape, a NUL in the result or a full
 * store. Only *at advances: the caller commits it to q->used once the whole pair is in, so
 * that a failed pair leaves no trace. Decoding only shrinks, but the store is shared by all
 * pairs, hence the bound check on every byte. */
static const char *put(query *q, size_t *at, const char *src, size_t len, bool decode) {
  size_t o = *at;
  char *start = q->store + o;
  for (size_t i = 0; i < len; i++) {
    char c = src[i];
    if (decode && c == '+') {
      c = ' ';
    } else if (decode && c == '%') {
      if (len - i < 3) return NULL; /* "%4" or "%" at the end */
      int hi = hex_digit(src[i + 1]), lo = hex_digit(src[i + 2]);
      if (hi < 0 || lo < 0) return NULL;
      c = (char)(hi << 4 | lo);
      i += 2;
    }
    if (c == '\0' || o >= QUERY_MAX_BYTES) return NULL;
    q->store[o++] = c;
  }
  if (o >= QUERY_MAX_BYTES) return NULL; /* no room for the terminator */
  q->store[o++] = '\0';
  *at = o;
  return start;
}

/* One "key=value" pair, split at its first raw '=' (so an escaped "%3D" stays in the key). */
static int add(query *q, const char *pair, size_t len, bool decode) {
  if (q->count >= QUERY_MAX_PARAMS) return -1;
  size_t eq = 0;
  while (eq < len && pair[eq] != '=') eq++;
  size_t at = q->used;
  const char *key = put(q, &at, pair, eq, decode);
  if (!key) return -1;
  const char *value = eq < len ? put(q, &at, pair + eq + 1, len - eq - 1, decode)
                               : put(q, &at, "", 0, false);
  if (!value) return -1;
  q->params[q->count].key = key;
  q->params[q->count].value = value;
  q->count++;
  q->used = at;
  return 0;
}

/* Stricter than the reference (URLSearchParams), which keeps a malformed escape as literal
 * text: a request carrying one is refused here. */
int query_parse(query *q, const char *raw, size_t len) {
  size_t i = 0;
  while (i < len) {
    size_t start = i;
    while (i < len && raw[i] != '&') i++;
    if (i > start && add(q, raw + start, i - start, true)) return -1;
    i++; /* past the '&' (or past the end, which ends the loop) */
  }
  return 0;
}

int query_add_pair(query *q, const char *pair, size_t len) { return add(q, pair, len, false); }

const char *query_get(const query *q, const char *key) {
  if (!key) return NULL;
  /* The last one wins, as with the reference's Object.fromEntries(url.searchParams). */
  for (unsigned i = q->count; i-- > 0;)
    if (strcmp(q->params[i].key, key) == 0) return q->params[i].value;
  return NULL;
}

void query_append_component(sbuf *out, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
        strchr("-_.!~*'()", *p)) {
      sbuf_append_byte(out, *p);
    } else {
      char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      sbuf_append(out, esc, 3);
    }
  }
}
