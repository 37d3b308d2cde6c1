/* Small helpers for writing HTTP/1.1 responses with libwebsockets. */
#ifndef SIO_NET_HTTP_H
#define SIO_NET_HTTP_H

#include <stdbool.h>
#include <stdint.h>

struct lws;

/* Adds "name: value" to the headers being built at *p (name without the colon). Returns 0/-1. */
int http_add_header(struct lws *wsi, const char *name, const char *value, uint8_t **p, uint8_t *end);

/* Adds "connection: close" when the request asked for it. lws closes such a connection after
 * the response but does not say so; clients with a keep-alive pool (Node's) would then reuse a
 * dead socket. Returns 0/-1. */
int http_add_connection_close(struct lws *wsi, uint8_t **p, uint8_t *end);

#endif
