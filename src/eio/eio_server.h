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
#include "util/sbuf.h"

struct lws;
struct lws_context;
struct query;

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

/* --- WebSockets, whoever carries them ---
 * Two carriers exist: libwebsockets (TLS listeners, and upgrades on connections lws already
 * holds) and the listener's own plain-TCP WebSockets (net/ws_conn.c), which cost a fraction of
 * the memory and CPU. A carrier embeds an eio_ws in its connection state, fills `ops`, and
 * reports the connection's events through the eio_ws_* calls below; Engine.IO's rules (upgrade,
 * heartbeats, limits) live here once for both. */
typedef struct eio_ws eio_ws;
typedef struct {
  /* eio_ws_write() should run soon, from the carrier's loop, not from inside this call. */
  void (*want_write)(eio_ws *ws);
  /* Bytes already framed, to go out in order; what the kernel does not take now is kept and
   * sent before anything else. -1: the connection is dead. */
  int (*send)(eio_ws *ws, const uint8_t *data, size_t len);
  /* Bytes of an earlier send are still waiting for the kernel. */
  bool (*choked)(const eio_ws *ws);
  /* `send` may be called at any time, not only from eio_ws_write() (lws: no). */
  bool send_anytime;
} eio_ws_ops;

struct eio_ws {
  const eio_ws_ops *ops;
  eio_session *s;           /* counted reference, or NULL */
  eio_frame *probe_reply;   /* upgrade candidate: the 3probe to write */
  uint8_t kind;             /* internal: none, the session's transport, an upgrade candidate */
  bool close_asked;         /* close at the next eio_ws_write() */
  uint16_t close_code;      /* when a call returns -1: the WebSocket close code to send */
};

/* The upgrade request as the carrier read it. */
typedef struct {
  const struct query *q;          /* its parameters (http/query.h) */
  const char *origin;             /* the Origin header, or NULL */
  bool secure;
  /* What only a new session keeps (socket.handshake), asked for only then: the peer's address,
   * and the request's headers as "name: value\r\n" lines with lower-case names. */
  void (*write_address)(const void *ctx, sbuf *out);
  void (*write_headers)(const void *ctx, sbuf *out);
  const void *ctx;
} eio_ws_request;

/* The Engine.IO error of an upgrade request (an index for eio_error_message), or -1 when it may
 * proceed. A refusal is answered 400 with the message as text/html, as the reference does. */
int eio_ws_check(eio_server *srv, const eio_ws_request *r);
const char *eio_error_message(int code);
/* The WebSocket is open: a new session, or a candidate to upgrade one. 0, or -1: close it. */
int eio_ws_open(eio_server *srv, eio_ws *ws, const eio_ws_request *r);
/* A whole message. 0, or -1: close the connection with ws->close_code. */
int eio_ws_message(eio_ws *ws, const uint8_t *data, size_t len, bool binary);
/* A message over max_payload arrived: the session ends ("transport error"); close with
 * ws->close_code (1009). Returns -1. */
int eio_ws_oversize(eio_ws *ws);
/* The carrier may write: queued frames go out. 0, or -1: close with ws->close_code. */
int eio_ws_write(eio_ws *ws);
/* The connection is gone (closed by either side): no eio_ws_* call follows for it. */
void eio_ws_gone(eio_ws *ws);

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
int eio_lws_confirm(eio_server *srv, struct lws *wsi, eio_conn *c);
int eio_lws_established(eio_server *srv, struct lws *wsi, eio_conn *c);
int eio_lws_receive(eio_server *srv, struct lws *wsi, eio_conn *c, const void *in, size_t len);
int eio_lws_writeable(eio_server *srv, struct lws *wsi, eio_conn *c);
void eio_lws_closed(eio_server *srv, struct lws *wsi, eio_conn *c);
/* The connection is being destroyed (LWS_CALLBACK_WSI_DESTROY): lws does not always say
 * "closed" first (not when the context goes down), so whatever the state still holds goes. */
void eio_conn_destroyed(struct lws *wsi, eio_conn *c);

#endif
