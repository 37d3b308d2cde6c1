/* HTTP query strings: the parameters of a request URL (`EIO=4&transport=polling&sid=...`).
 * A bounded, allocation-free container: hostile input can never make it grow. */
#ifndef SIO_HTTP_QUERY_H
#define SIO_HTTP_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/sbuf.h"

#define QUERY_MAX_PARAMS 32    /* parameters kept; more is an error */
#define QUERY_MAX_BYTES  4096  /* decoded keys and values, all together */

typedef struct {
  const char *key;   /* NUL-terminated, inside `store` */
  const char *value; /* NUL-terminated, inside `store`; "" for `key` or `key=` */
} query_param;

typedef struct query {
  query_param params[QUERY_MAX_PARAMS];
  unsigned count;
  size_t used;                     /* bytes of `store` in use */
  char store[QUERY_MAX_BYTES];
} query;

void query_init(query *q);

/* Parses a raw query string (without the leading '?'): pairs separated by '&', '%XX' escapes and
 * '+' (space) decoded. Empty pairs ("a=1&&b=2") are skipped. A malformed escape, a decoded NUL,
 * too many parameters or too many bytes is an error. Returns 0 or -1; on error `q` holds
 * the parameters parsed before the fault. */
int query_parse(query *q, const char *raw, size_t len);

/* Adds one already-decoded "key=value" pair (as an HTTP library hands them out after its own
 * decoding). A pair without '=' has the value "". Returns 0, or -1 when full or the pair holds NUL. */
int query_add_pair(query *q, const char *pair, size_t len);

/* The value of the last parameter named `key` (the reference's rule), or NULL when absent. */
const char *query_get(const query *q, const char *key);

/* Appends `s` percent-encoded as JavaScript's encodeURIComponent does (what the clients send),
 * so that a URL rebuilt from decoded parameters reads as the client wrote it. */
void query_append_component(sbuf *out, const char *s);

#endif
