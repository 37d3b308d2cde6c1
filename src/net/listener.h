/* The listener: one libwebsockets context serving HTTP and WebSocket on one port, routing each
 * request by path to what is attached there (Engine.IO endpoints, static bodies, handlers such
 * as /metrics). It is the public sio_listener. */
#ifndef SIO_NET_LISTENER_H
#define SIO_NET_LISTENER_H

#include <stddef.h>

#include "eio/eio_server.h"
#include "sio.h"
#include "util/sbuf.h"

struct lws_context;

struct lws_context *listener_context(sio_listener *l);
/* Attaches an Engine.IO server (created on this listener's context) at its path; the listener
 * frees it. */
int listener_mount_engine(sio_listener *l, eio_server *srv);
/* A dynamic GET handler at exactly `path`: fills `body` and the content type; returns the status. */
typedef int (*listener_handler)(void *ctx, sbuf *body, const char **content_type);
int listener_mount_handler(sio_listener *l, const char *path, listener_handler fn, void *ctx);
/* Called once, when the listener is freed (before its endpoints stop): for layers above to
 * release what they attached. */
int listener_on_shutdown(sio_listener *l, void (*fn)(void *ctx), void *ctx);

/* Watching a foreign file descriptor (the Redis client's socket) on the listener's loop. The
 * listener polls a duplicate of `fd`, so the owner keeps closing its own fd as it likes. */
typedef struct listener_watch listener_watch;
typedef struct {
  void (*readable)(void *ctx);   /* also called once when the peer hangs up */
  void (*writable)(void *ctx);   /* once per listener_watch_want_write() */
} listener_watch_ops;

listener_watch *listener_watch_fd(sio_listener *l, int fd, const listener_watch_ops *ops, void *ctx);
void listener_watch_want_write(listener_watch *w);
/* Stops watching; no callback runs after this. */
void listener_watch_close(listener_watch *w);

#endif
