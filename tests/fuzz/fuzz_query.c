/* libFuzzer target: query_parse and query_add_pair on arbitrary bytes. Whatever is parsed must
 * respect the container's bounds, be found by query_get, and survive a round trip: written
 * back with every byte percent-escaped, it parses to the same parameters. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/query.h"

/* Every key and value is a NUL-terminated string inside the used part of the store, and
 * query_get finds the last parameter of each name. */
static void check(const query *q) {
  if (q->count > QUERY_MAX_PARAMS || q->used > QUERY_MAX_BYTES) abort();
  for (unsigned i = 0; i < q->count; i++) {
    const char *k = q->params[i].key, *v = q->params[i].value;
    if (k < q->store || k >= q->store + q->used) abort();
    if (v < q->store || v >= q->store + q->used) abort();
    if (!memchr(k, '\0', (size_t)(q->store + q->used - k))) abort();
    if (!memchr(v, '\0', (size_t)(q->store + q->used - v))) abort();
    unsigned last = q->count - 1;
    while (strcmp(q->params[last].key, k) != 0) last--;
    if (query_get(q, k) != q->params[last].value) abort();
  }
}

/* "k=v&k=v...", every byte as %XX: decoding gives the original bytes back whatever they are. */
static size_t encode(const query *q, char *out) {
  size_t n = 0;
  for (unsigned i = 0; i < q->count; i++) {
    if (i) out[n++] = '&';
    for (const char *s = q->params[i].key; *s; s++)
      n += (size_t)sprintf(out + n, "%%%02X", (uint8_t)*s); /* upper-case hex here */
    out[n++] = '=';
    for (const char *s = q->params[i].value; *s; s++)
      n += (size_t)sprintf(out + n, "%%%02x", (uint8_t)*s); /* lower-case there */
  }
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  query q, again;
  char text[3 * QUERY_MAX_BYTES + 1]; /* each stored byte becomes 3 characters at most */

  query_init(&q);
  (void)query_parse(&q, (const char *)data, size);
  check(&q);

  /* Success or not, what was kept re-encodes and parses to exactly the same parameters. */
  size_t n = encode(&q, text);
  query_init(&again);
  if (query_parse(&again, text, n) != 0 || again.count != q.count || again.used != q.used)
    abort();
  for (unsigned i = 0; i < q.count; i++)
    if (strcmp(q.params[i].key, again.params[i].key) != 0 ||
        strcmp(q.params[i].value, again.params[i].value) != 0)
      abort();

  /* The whole input as one pre-decoded pair. */
  query_init(&q);
  int rc = query_add_pair(&q, (const char *)data, size);
  check(&q);
  if (rc == 0 && (q.count != 1 || memchr(data, '\0', size))) abort();
  return 0;
}
