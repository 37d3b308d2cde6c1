/* Small helpers for writing HTTP/1.1 responses with libwebsockets. */
#ifndef SIO_NET_HTTP_H
#define SIO_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lws;

/* Adds "name: value" to the headers being built at *p (name without the colon). Returns 0/-1. */
int http_add_header(struct lws *wsi, const char *name, const char *value, uint8_t **p, uint8_t *end);

/* True when the request asked for "Connection: close" (read while its header table is there). */
bool http_request_closes(struct lws *wsi);

/* Adds "connection: close" when `closes` (the request asked for it). lws closes such a
 * connection after the response but does not say so; clients with a keep-alive pool (Node's)
 * would then reuse a dead socket. Returns 0/-1. */
int http_add_connection_close(struct lws *wsi, bool closes, uint8_t **p, uint8_t *end);

/* Ends the headers built at [start, *p) and sends them with `body`. Over HTTP/1.1 both go in
 * one write (one syscall, one TCP segment: a separate header write cost a syscall and, with
 * Nagle and delayed ACKs, could hold the body back) when the body fits in [*p, end); HTTP/2
 * frames headers and body separately. lws keeps what the kernel does not take at once and
 * sends it before the next writeable event. Returns 0/-1. */
int http_write_response(struct lws *wsi, uint8_t *start, uint8_t **p, uint8_t *end,
                        const uint8_t *body, size_t len);

#endif
