/* The Engine.IO v4 server: sessions, their two transports (HTTP long-polling and WebSocket), the
 * polling->WebSocket upgrade, heartbeats and limits, as the reference engine.io 6 does them.
 *
 * The layer above (Socket.IO, or an app that speaks plain Engine.IO) sees sessions that open,
 * carry messages both ways and close with a reason; it never sees a request or a frame header.
 * The listener (net/listener.c) hands this module the libwebsockets events of the requests under
 * its path. */
#ifndef SIO_EIO_SERVER_H
#define SIO_EIO_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eio/eio_frame.h"
#include "sio.h"

struct lws;
struct lws_context;

typedef struct eio_server eio_server;
typedef struct eio_session eio_session;

enum {
  EIO_TRANSPORT_POLLING = SIO_TRANSPORT_POLLING,
  EIO_TRANSPORT_WEBSOCKET = SIO_TRANSPORT_WEBSOCKET,
};

/* The options are the public ones (include/sio.h). */
typedef sio_engine_options eio_options;

void eio_options_default(eio_options *o);

/* on_open: the handshake is done (the open packet is queued). on_message: `data` is valid during
 * the call only. on_close: the session is gone after it returns; reasons are "transport close",
 * "transport error", "ping timeout", "parse error", "forced close", "server shutting down". */
typedef sio_engine_handlers eio_handlers;

eio_server *eio_server_new(struct lws_context *context, const eio_options *opts,
                           const eio_handlers *handlers, void *ctx);
/* Starts a graceful shutdown: no new sessions; every session flushes what it has queued, then
 * closes with "server shutting down" (clients see their transport close and reconnect). */
void eio_server_drain(eio_server *srv);
/* Closes every session ("server shutting down") and stops the timers: before the lws context
 * is destroyed. */
void eio_server_stop(eio_server *srv);
/* Frees the server's memory: after the lws context is destroyed. */
void eio_server_free(eio_server *srv);
const eio_options *eio_server_options(const eio_server *srv);
size_t eio_server_session_count(const eio_server *srv);
/* Closes every session with `reason`, flushing what they have queued first. */
void eio_server_close_all(eio_server *srv, const char *reason);

/* --- sessions --- */
const char *eio_session_id(const eio_session *s);
void *eio_session_user(const eio_session *s);
void eio_session_set_user(eio_session *s, void *user);
bool eio_session_is_websocket(const eio_session *s);
/* Queues a frame (taking a new reference). Returns 0, or -1 if the session is closing/closed
 * or was cut off for exceeding max_buffered (it then closes with "transport error"). */
int eio_session_send(eio_session *s, eio_frame *f);
/* Sends a message: text (`data` is the message without the type digit) or binary. */
int eio_session_send_message(eio_session *s, const void *data, size_t len, bool binary);
/* True when a frame sent now would leave without waiting behind others (volatile emits). */
bool eio_session_writable_now(const eio_session *s);
/* Closes the session: what is queued is flushed first; on_close follows with "forced close". */
void eio_session_close(eio_session *s);
size_t eio_session_buffered(const eio_session *s);

/* The handshake request, kept for the upper layer (Socket.IO's socket.handshake). */
typedef struct {
  const char *url;             /* path and query of the first request */
  const char *remote_address;
  const char *headers;         /* "name: value\r\n" lines, lower-case names */
  bool secure;
  int64_t issued_ms;           /* wall-clock ms at handshake */
} eio_handshake;
const eio_handshake *eio_session_handshake(const eio_session *s);

/* --- the listener's side: libwebsockets events for requests under this server's path --- */
typedef struct eio_conn eio_conn;  /* per-wsi state, lives in the wsi's user area */
size_t eio_conn_size(void);
/* An HTTP request (LWS_CALLBACK_HTTP). Returns the callback's return value. */
int eio_http_request(eio_server *srv, struct lws *wsi, eio_conn *c);
int eio_http_body(eio_server *srv, struct lws *wsi, eio_conn *c, const void *in, size_t len);
int eio_http_body_done(eio_server *srv, struct lws *wsi, eio_conn *c);
/* Writes a response that is ready. Returns EIO_HTTP_DONE when it is written whole: the caller
 * then ends the HTTP transaction (keep-alive: lws_http_transaction_completed and its idle
 * timer); otherwise the callback's return value. */
#define EIO_HTTP_DONE 1
int eio_http_writeable(eio_server *srv, struct lws *wsi, eio_conn *c);
void eio_http_closed(eio_server *srv, struct lws *wsi, eio_conn *c);
/* A WebSocket upgrade request (LWS_CALLBACK_HTTP_CONFIRM_UPGRADE): 0 accepts; otherwise an
 * error response has been written and the return value is the callback's. */
int eio_ws_confirm(eio_server *srv, struct lws *wsi, eio_conn *c);
int eio_ws_established(eio_server *srv, struct lws *wsi, eio_conn *c);
int eio_ws_receive(eio_server *srv, struct lws *wsi, eio_conn *c, const void *in, size_t len);
int eio_ws_writeable(eio_server *srv, struct lws *wsi, eio_conn *c);
void eio_ws_closed(eio_server *srv, struct lws *wsi, eio_conn *c);
/* The connection is being destroyed (LWS_CALLBACK_WSI_DESTROY): lws does not always say
 * "closed" first (not when the context goes down), so whatever the state still holds goes. */
void eio_conn_destroyed(struct lws *wsi, eio_conn *c);

#endif
