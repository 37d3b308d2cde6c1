/* The listener's own front door for plain TCP: it accepts connections, peeks at each one's
 * first request, keeps the WebSocket upgrades under an Engine.IO path as its own lean
 * connections (one ~120-byte struct, epoll, a direct send() per write), and hands every other
 * connection to libwebsockets untouched (long-polling, /metrics, static files, other paths).
 * libwebsockets' own WebSocket costs ~1.4 KB per connection and its poll() loop visits every
 * descriptor on every turn; with tens of thousands of mostly idle WebSockets, both dominated
 * the server (docs/PERFORMANCE.md). TLS listeners do not use it: lws keeps them whole.
 *
 * Its epoll descriptor is watched on the lws loop, so everything still runs on one thread, one
 * loop, with lws's timers. */
#ifndef SIO_NET_WS_CONN_H
#define SIO_NET_WS_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "eio/eio_server.h"

struct lws_context;
typedef struct sio_listener sio_listener;

typedef struct ws_front ws_front;

typedef struct {
  /* The Engine.IO server whose path holds `path` (NUL-terminated), or NULL. */
  eio_server *(*engine_for)(void *ctx, const char *path);
  /* Whether one more connection may be accepted (connection budget, draining). */
  bool (*admit)(void *ctx);
  /* Gives a connection to libwebsockets, its first request unread; the fd is lws's after. */
  void (*adopt)(void *ctx, int fd);
  void *ctx;
} ws_front_hooks;

/* Listens on host:port (host NULL: every address, IPv6 and IPv4) and serves on the listener's
 * loop. NULL (logged) when the port cannot be bound. */
ws_front *ws_front_new(sio_listener *l, struct lws_context *context, const char *host, int port,
                       const ws_front_hooks *hooks);
/* Connections it holds: accepted and not yet handed over, and its WebSockets. */
unsigned ws_front_connections(const ws_front *f);
/* Closes the listening socket and every connection, then frees (Engine.IO sessions are closed
 * first by the caller). */
void ws_front_free(ws_front *f);

#endif
