/* sio: a Socket.IO (v5) and Engine.IO (v4) server in C.
 *
 * The object model is the one Socket.IO users know:
 *   sio_listener   the HTTP(S) server and its event loop (Node's http.Server);
 *   sio_engine     a plain Engine.IO endpoint attached to a listener at a path (the `engine.io`
 *                  package), with its sessions (sio_engine_session);
 * and, on top of Engine.IO, the Socket.IO server (see the Socket.IO section below).
 *
 * Threading: everything runs on the listener's loop thread; no function is thread-safe.
 * Errors: functions returning int return 0 on success and -1 on failure.
 * Ownership: options structs and strings passed in are copied unless said otherwise; pointers
 * handed to callbacks are valid during the call only. */
#ifndef SIO_H
#define SIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Listener: the HTTP server and the event loop                                              */

typedef struct sio_listener sio_listener;

typedef struct {
  const char *host;            /* interface to bind, e.g. "127.0.0.1"; NULL: all */
  int port;                    /* 3000 */
  const char *tls_cert;        /* PEM paths: both set serves https/wss */
  const char *tls_key;
  unsigned max_connections;    /* refused beyond this; 0: from the process fd limit */
  unsigned drain_timeout_ms;   /* graceful shutdown: longest wait for sessions to close: 5000 */
  unsigned http_idle_timeout_ms; /* a keep-alive connection idle between requests: 30000 */
} sio_listener_options;

void sio_listener_options_default(sio_listener_options *o);
/* Binds the port. NULL on failure (logged). */
sio_listener *sio_listener_new(const sio_listener_options *o);
/* Runs the loop until stopped. Returns 0. */
int sio_listener_run(sio_listener *l);
/* Stops the loop, safe from a signal handler or a callback (SIGINT and SIGTERM call it). The
 * first call drains: new connections are refused and every session flushes what it has queued
 * and closes ("server shutting down": clients reconnect, elsewhere behind a balancer); the loop
 * ends when they are gone or after drain_timeout_ms. A second call stops at once. */
void sio_listener_stop(sio_listener *l);
/* True once a drain has started (for a readiness probe). */
bool sio_listener_draining(const sio_listener *l);
/* Frees the listener and everything attached to it. */
void sio_listener_free(sio_listener *l);
/* Serves `body` (copied) at exactly `path` with GET. */
int sio_listener_serve_static(sio_listener *l, const char *path, const char *content_type,
                              const void *body, size_t len);

/* A one-shot timer on the listener's loop: fn(ctx) runs once, `ms` from now (0: on the next
 * loop turn), unless cancelled first; the handle is gone once it has run. Timers still pending
 * when the listener is freed run then, early, so that what they hold can be let go. NULL if
 * memory is exhausted. */
typedef struct sio_timer sio_timer;
sio_timer *sio_timer_start(sio_listener *l, unsigned ms, void (*fn)(void *ctx), void *ctx);
void sio_timer_cancel(sio_timer *t);

/* ---------------------------------------------------------------------------------------- */
/* Engine.IO                                                                                 */

typedef struct eio_server sio_engine;
typedef struct eio_session sio_engine_session;

enum {
  SIO_TRANSPORT_POLLING = 1 << 0,
  SIO_TRANSPORT_WEBSOCKET = 1 << 1,
};

typedef struct sio_engine_options {
  const char *path;            /* "/engine.io/"; starts and ends with '/' */
  unsigned ping_interval_ms;   /* 25000 */
  unsigned ping_timeout_ms;    /* 20000 */
  unsigned upgrade_timeout_ms; /* 10000 */
  size_t max_payload;          /* maxHttpBufferSize: 1000000 bytes, both transports */
  size_t max_buffered;         /* bytes queued for one client before it is cut off: 16 MiB */
  unsigned transports;         /* SIO_TRANSPORT_* mask: both */
  bool allow_upgrades;         /* polling -> websocket: true */
  const char *const *cors_origins; /* NULL-terminated list ("*": any); NULL: no CORS */
  bool cors_credentials;       /* Access-Control-Allow-Credentials: true */
} sio_engine_options;

void sio_engine_options_default(sio_engine_options *o);

typedef struct {
  void (*on_open)(sio_engine_session *s, void *ctx);
  /* `data` is valid during the call only. */
  void (*on_message)(sio_engine_session *s, const uint8_t *data, size_t len, bool binary,
                     void *ctx);
  /* After this returns the session is gone. */
  void (*on_close)(sio_engine_session *s, const char *reason, void *ctx);
} sio_engine_handlers;

/* Attaches an Engine.IO endpoint at o->path. The listener owns it. */
sio_engine *sio_engine_attach(sio_listener *l, const sio_engine_options *o,
                              const sio_engine_handlers *h, void *ctx);
const char *sio_engine_session_id(const sio_engine_session *s);
/* Sends a text (UTF-8) or binary message. */
int sio_engine_send(sio_engine_session *s, const void *data, size_t len, bool binary);
/* Closes the session after flushing what is queued. */
void sio_engine_close(sio_engine_session *s);

/* ---------------------------------------------------------------------------------------- */
/* Socket.IO                                                                                 */
/*
 * The Socket.IO v5 server on top of an Engine.IO endpoint, as socket.io 4.8 behaves:
 *   sio_server     the Server (`io`): attached to a listener at a path ("/socket.io/");
 *   sio_namespace  a Namespace (`io.of(name)`), or a parent of dynamic namespaces
 *                  (`io.of(fn)`, `io.of(/regex/)`) whose handlers apply to the children;
 *   sio_socket     a Socket: one client in one namespace;
 *   sio_broadcast  the BroadcastOperator (`io.to(room)`, `socket.broadcast`, ...), a small value.
 *
 * Handlers are registered on namespaces (not on each socket, which would cost a closure per
 * socket in C); they receive the socket. A handler registered on a dynamic parent applies to
 * every child it creates, before the child's own handlers.
 *
 * JSON is jansson's json_t. Event arguments travel as a JSON array; binary arguments are
 * placeholders {"_placeholder":true,"num":i} inside it that stand for bins[i], exactly the wire
 * model (the same on the way in and the way out).
 *
 * Lifetimes: the listener owns the server, the server owns its namespaces, and a socket lives
 * until its disconnect handlers have returned (longer if referenced with sio_socket_ref()).
 * Pointers handed to handlers are borrowed for the call only, unless said otherwise. */

typedef struct sio_server sio_server;
typedef struct sio_namespace sio_namespace;
typedef struct sio_socket sio_socket;
typedef struct sio_ack sio_ack;
typedef struct sio_next sio_next;

/* A binary argument: `len` bytes at `data` (borrowed). */
typedef struct {
  const uint8_t *data;
  size_t len;
} sio_bytes;

/* An incoming event (or acknowledgement reply). Everything is borrowed for the call; keep
 * `args` with json_incref() and copy the bytes to use them later. */
typedef struct {
  const char *event;        /* the event name; NULL for an acknowledgement reply */
  json_t *args;             /* JSON array: the arguments after the event name */
  const sio_bytes *bins;    /* binary attachments, referenced by placeholders in `args` */
  size_t nbins;
} sio_message;

typedef struct {
  sio_engine_options engine;   /* engine.path defaults to "/socket.io/" */
  unsigned connect_timeout_ms; /* time a client has to join a namespace: 45000 */
  unsigned max_attachments;    /* binary attachments accepted per packet: 10 */
  unsigned max_depth;          /* JSON nesting accepted and produced: 32 */
  /* Connection state recovery (the reference's connectionStateRecovery): a client that
   * reconnects within max_disconnection_ms gets its socket id, rooms, socket.data (the JSON
   * one, sio_socket_set_json) and the packets it missed. Off by default. Replayable packets
   * (events without ack, not volatile) then carry their offset as their last argument, as
   * with the reference. */
  struct {
    bool enabled;
    unsigned max_disconnection_ms; /* 120000 */
    bool run_middlewares;          /* the reference's skipMiddlewares: false (skipped) */
    size_t log_bytes;              /* per namespace, packets kept for replay: 8 MiB */
    size_t max_sessions;           /* disconnected sessions kept (oldest go): 100000 */
    size_t session_bytes;          /* and the memory they may take: 64 MiB */
  } recovery;
} sio_server_options;

void sio_server_options_default(sio_server_options *o);

/* Attaches a Socket.IO server at o->engine.path. The listener owns it: it is freed by
 * sio_listener_free(), after every socket has been disconnected ("server shutting down").
 * NULL on failure (logged). */
sio_server *sio_server_attach(sio_listener *l, const sio_server_options *o);
/* The Engine.IO endpoint under the server (for its sessions and options). */
sio_engine *sio_server_engine(sio_server *srv);

/* --- namespaces --- */

/* The namespace `name` ("/chat"; a missing leading '/' is added), created on demand; "/"
 * always exists. A name that matches a sio_of_regex() parent becomes that parent's child.
 * NULL if memory is exhausted. */
sio_namespace *sio_of(sio_server *srv, const char *name);
/* A parent of dynamic namespaces (io.of(fn)): a client connecting to a namespace that does not
 * exist yet asks each parent in creation order; the first whose `match` returns true creates
 * it as its child. `auth` is the client's CONNECT payload (borrowed). Unknown names that no
 * parent accepts get CONNECT_ERROR {"message":"Invalid namespace"}. */
typedef bool (*sio_match_fn)(const char *name, const json_t *auth, void *ctx);
sio_namespace *sio_of_match(sio_server *srv, sio_match_fn match, void *ctx);
/* The same with a POSIX extended regular expression, searched in the name like JS's
 * RegExp.test (anchor it with ^...$ to match whole names). NULL if it does not compile. */
sio_namespace *sio_of_regex(sio_server *srv, const char *pattern);
/* "/chat"; a parent's name is "/_0", "/_1", ... as the reference's. Owned by the namespace. */
const char *sio_namespace_name(const sio_namespace *nsp);
sio_server *sio_namespace_server(const sio_namespace *nsp);
/* Connected sockets in the namespace (a parent: 0). */
size_t sio_namespace_size(const sio_namespace *nsp);

/* --- middleware: io.of(name).use((socket, next) => ...) --- */

/* Runs before a socket joins the namespace, in registration order (a parent's first). `fn`
 * must end with exactly one sio_next_accept() or sio_next_reject(), then or later (from any
 * callback on the loop). If the client left meanwhile, that call only frees what waited. */
typedef void (*sio_middleware_fn)(sio_socket *s, sio_next *next, void *ctx);
int sio_use(sio_namespace *nsp, sio_middleware_fn fn, void *ctx);
/* Lets the socket go on to the next middleware, then into the namespace. */
void sio_next_accept(sio_next *next);
/* Refuses the connection: the client gets CONNECT_ERROR {"message":message,"data":data}
 * ("data" omitted when NULL; borrowed). */
void sio_next_reject(sio_next *next, const char *message, json_t *data);

/* --- handlers --- */

typedef void (*sio_socket_fn)(sio_socket *s, void *ctx);
/* `ack` is NULL unless the client asked for an acknowledgement (see sio_ack_send). */
typedef void (*sio_event_fn)(sio_socket *s, const sio_message *msg, sio_ack *ack, void *ctx);
typedef void (*sio_any_fn)(sio_socket *s, const sio_message *msg, void *ctx);
/* `reason`, as the reference's: "client namespace disconnect" (the client left the namespace),
 * "server namespace disconnect" (sio_disconnect), "transport close", "transport error" (also a
 * client cut off for exceeding max_buffered), "ping timeout", "parse error" (an undecodable
 * Engine.IO packet), "forced close" (the connection was closed after a Socket.IO protocol
 * violation), "forced server close" (a packet that makes no sense in the client's state),
 * "server shutting down". */
typedef void (*sio_reason_fn)(sio_socket *s, const char *reason, void *ctx);

/* The registration functions return 0, or -1 if memory is exhausted. */

/* io.on("connection"): the socket has joined (its CONNECT reply is already queued). */
int sio_on_connection(sio_namespace *nsp, sio_socket_fn fn, void *ctx);
/* socket.on(event): every handler for the event runs, in registration order. */
int sio_on(sio_namespace *nsp, const char *event, sio_event_fn fn, void *ctx);
/* socket.onAny(): runs before the event's handlers, for every incoming event. */
int sio_on_any(sio_namespace *nsp, sio_any_fn fn, void *ctx);
/* socket.onAnyOutgoing(): runs for every event sent to a socket (emits and broadcasts). */
int sio_on_any_outgoing(sio_namespace *nsp, sio_any_fn fn, void *ctx);
/* socket.on("disconnecting"): still in its rooms. */
int sio_on_disconnecting(sio_namespace *nsp, sio_reason_fn fn, void *ctx);
/* socket.on("disconnect"): out of its rooms; the last moment the socket is valid (unless
 * referenced). */
int sio_on_disconnect(sio_namespace *nsp, sio_reason_fn fn, void *ctx);

/* --- acknowledgements --- */

/* Answers the client's acknowledgement with `args` (a JSON array, borrowed; NULL: none) and
 * binary attachments. Once only: later calls are ignored. An ack not answered by the end of
 * the handler is dropped, unless retained. Returns 0, or -1 if nothing could be sent. */
int sio_ack_send(sio_ack *ack, json_t *args, const sio_bytes *bins, size_t nbins);
/* Keeps an ack beyond its handler: returns a pointer to answer later with sio_ack_send(), or to
 * let go with sio_ack_free(), exactly once. NULL if memory is exhausted. */
sio_ack *sio_ack_retain(sio_ack *ack);
/* Lets a retained ack go without answering it. */
void sio_ack_free(sio_ack *ack);

/* The reply to an emit with acknowledgement: `err` is NULL, "operation has timed out", or
 * "socket has been disconnected" (the socket left before answering; where the reference
 * never calls back, sio does, so that `ctx` can be freed); `reply` is NULL when `err` is set. */
typedef void (*sio_ack_fn)(sio_socket *s, const char *err, const sio_message *reply, void *ctx);

/* --- sockets --- */

/* The socket's id: random, 20 characters, not the Engine.IO id. Owned by the socket. */
const char *sio_socket_id(const sio_socket *s);
sio_namespace *sio_socket_namespace(const sio_socket *s);
bool sio_socket_connected(const sio_socket *s);
/* socket.recovered: the socket took over a disconnected session (connection state recovery);
 * its rooms and JSON data are back, its missed packets sent. The C data pointer is not kept:
 * set it again in the connection handler. */
bool sio_socket_recovered(const sio_socket *s);
/* The Engine.IO session carrying the socket; NULL once it is gone. */
sio_engine_session *sio_socket_engine_session(const sio_socket *s);

/* socket.handshake.auth: the CONNECT packet's payload ({} when none). Owned by the socket. */
const json_t *sio_socket_auth(const sio_socket *s);

/* socket.handshake, built on first use and owned by the socket; NULL if memory is exhausted.
 * Read after the transport has gone, the request's fields are empty. */
typedef struct {
  const json_t *headers;     /* object: lower-case header name -> value. A session opened
                                over plain-TCP WebSocket has them all; one opened over
                                long-polling or TLS has those libwebsockets 4.1 knows by
                                name (standard ones: no x-*) */
  const char *time;          /* Date().toString() of the connection */
  const char *address;       /* the peer's address */
  bool xdomain;              /* an Origin header was sent */
  bool secure;               /* https/wss */
  int64_t issued;            /* ms since the epoch, at the connection */
  const char *url;           /* path and query of the Engine.IO handshake request */
  const json_t *query;       /* object: the handshake request's query parameters */
  const json_t *auth;        /* object: the CONNECT packet's payload, {} when none */
} sio_handshake;
const sio_handshake *sio_socket_handshake(sio_socket *s);

/* socket.data: one pointer for the application (not freed by sio). */
void sio_socket_set_data(sio_socket *s, void *data);
void *sio_socket_get_data(const sio_socket *s);

/* Keeps the socket's memory past its disconnect (functions on a disconnected socket are
 * harmless no-ops); every ref needs an unref. */
sio_socket *sio_socket_ref(sio_socket *s);
void sio_socket_unref(sio_socket *s);

/* socket.emit(event, ...args): `args` is a JSON array (borrowed; NULL: none). Reserved names
 * (connect, connect_error, disconnect, disconnecting, newListener, removeListener) are
 * refused. Returns 0, or -1 if refused or the socket is not connected. */
int sio_emit(sio_socket *s, const char *event, json_t *args, const sio_bytes *bins,
             size_t nbins);
/* socket.volatile.emit(): dropped unless the transport can take it right now. */
int sio_emit_volatile(sio_socket *s, const char *event, json_t *args, const sio_bytes *bins,
                      size_t nbins);
/* socket.timeout(ms).emit(event, ...args, cb): `cb` runs exactly once (timeout_ms 0: no
 * timeout, the reply or the disconnect ends the wait). Returns -1 without calling `cb` if
 * the socket is not connected or the emit is refused. */
int sio_emit_with_ack(sio_socket *s, const char *event, json_t *args, const sio_bytes *bins,
                      size_t nbins, unsigned timeout_ms, sio_ack_fn cb, void *ctx);

/* socket.join(room) / socket.leave(room): `room` is copied. join returns -1 if memory is
 * exhausted or the socket has left. */
int sio_join(sio_socket *s, const char *room);
void sio_leave(sio_socket *s, const char *room);
/* socket.rooms: fills `out` with up to `max` room names (owned by the rooms, valid until the
 * socket leaves them) and returns how many rooms the socket is in. */
size_t sio_socket_rooms(const sio_socket *s, const char **out, size_t max);
/* socket.disconnect(close): leaves the namespace ("server namespace disconnect"); with
 * `close`, leaves every namespace of the client and closes the connection. */
void sio_disconnect(sio_socket *s, bool close);

/* --- broadcasting: the BroadcastOperator --- */

#define SIO_BC_MAX_ROOMS 16

/* A value built on the stack and consumed by one of the operations below. Room names are
 * borrowed: they must outlive the operation call (not the operation itself). */
typedef struct {
  sio_namespace *nsp;
  const char *rooms[SIO_BC_MAX_ROOMS];
  const char *except[SIO_BC_MAX_ROOMS];
  unsigned nrooms, nexcept;
  bool is_volatile, local, compress, overflow;
  unsigned timeout_ms;         /* 0: none */
} sio_broadcast;

/* io.of(nsp) as an operator: every socket of the namespace (of each child, for a parent). */
sio_broadcast sio_broadcast_of(sio_namespace *nsp);
/* socket.broadcast: the socket's namespace, except the socket itself. */
sio_broadcast sio_broadcast_from(sio_socket *s);
/* .to(room) / .in(room) and .except(room): more than SIO_BC_MAX_ROOMS of either makes the
 * operation fail (returns -1) rather than reach the wrong sockets. */
void sio_bc_to(sio_broadcast *b, const char *room);
void sio_bc_except(sio_broadcast *b, const char *room);
/* .volatile, .local, .compress(bool) and .timeout(ms). Frames are not compressed per message
 * (compress is accepted for compatibility); local matters once a cluster adapter is used. */
void sio_bc_volatile(sio_broadcast *b);
void sio_bc_local(sio_broadcast *b);
void sio_bc_compress(sio_broadcast *b, bool compress);
void sio_bc_timeout(sio_broadcast *b, unsigned ms);

/* .emit(event, ...args): encoded once, the same frames queued to every recipient. Returns
 * the number of recipients on this server, or -1 on error (reserved name, bad placeholders,
 * too many rooms). With connection state recovery in a Redis cluster, a replayable broadcast
 * is delivered here when Redis hands it back (so that every server sees the cluster's
 * broadcasts in one order): it returns 0 then. */
int sio_bc_emit(sio_broadcast *b, const char *event, json_t *args, const sio_bytes *bins,
                size_t nbins);
/* .emit(event, ...args, cb) with acknowledgements from every recipient: `cb` runs once, when
 * every recipient has answered (err NULL; at once when there is none) or the timeout passed
 * first (err "operation has timed out", with the replies so far; "server shutting down" if
 * the server stops first). `responses` is the JSON array the reference resolves
 * with (each reply's first argument, null if none); `replies` has each reply in full, with its
 * binary attachments. Without a timeout, recipients that disconnect are no longer awaited.
 * Not available on a parent namespace. Returns the number of recipients, or -1. */
typedef void (*sio_bc_ack_fn)(const char *err, json_t *responses, const sio_message *replies,
                              size_t nreplies, void *ctx);
int sio_bc_emit_with_ack(sio_broadcast *b, const char *event, json_t *args,
                         const sio_bytes *bins, size_t nbins, sio_bc_ack_fn cb, void *ctx);
/* .fetchSockets(): `cb` gets the matching sockets (valid during the call; sio_socket_ref() to
 * keep one). Not available on a parent namespace (returns -1). Without a cluster `cb` runs
 * before this returns; with one, once the other servers have answered (see Scale-out). */
typedef void (*sio_fetch_fn)(sio_socket *const *sockets, size_t n, void *ctx);
int sio_bc_fetch_sockets(sio_broadcast *b, sio_fetch_fn cb, void *ctx);
/* .socketsJoin(room) / .socketsLeave(room) / .disconnectSockets(close). */
int sio_bc_sockets_join(sio_broadcast *b, const char *room);
int sio_bc_sockets_leave(sio_broadcast *b, const char *room);
int sio_bc_disconnect_sockets(sio_broadcast *b, bool close);

/* nsp.serverSideEmit(event, ...args): to the other servers of a cluster (see Scale-out);
 * with the in-memory adapter there are none, so nothing is sent (returns 0). Reserved names:
 * connect, connection, new_namespace. */
int sio_server_side_emit(sio_namespace *nsp, const char *event, json_t *args);

/* ---------------------------------------------------------------------------------------- */
/* Scale-out                                                                                 */
/*
 * Several servers form one cluster through Redis pub/sub, speaking the wire format of Node's
 * @socket.io/redis-adapter 8.x, so a cluster may mix sio and socket.io 4.x servers, and
 * @socket.io/redis-emitter 5.x (or any compatible emitter) can emit to sio's clients.
 *
 * With a cluster attached, the broadcast operator works cluster-wide unless sio_bc_local()
 * is used: sio_bc_emit (rooms, exceptions, volatile), sio_bc_emit_with_ack (client counts and
 * replies gathered from every server), sio_bc_fetch_sockets, sio_bc_sockets_join/leave,
 * sio_bc_disconnect_sockets, and sio_server_side_emit (with acknowledgements too). Their
 * return values count this server's sockets only.
 *
 * Differences from the single-server behaviour:
 *   - sio_bc_fetch_sockets calls back once every server has answered, or after the request
 *     timeout (5 s) with what has arrived (the reference rejects then): possibly after it
 *     returns, so `ctx` must outlive the call. Sockets of other servers are "remote" (below).
 *   - sio_bc_emit_with_ack without a timeout waits for other servers at most the request
 *     timeout (5 s), then ends with "operation has timed out".
 *   - While the Redis link is down the server keeps serving its own clients: operations are
 *     local, what the other servers publish meanwhile is missed, and the link is re-established
 *     in the background (backoff up to 5 s; sio_redis_status()).
 *
 * Remote sockets (from another server, in a fetch callback): sio_socket_id, _namespace,
 * _rooms, _handshake, _auth and _json describe them as their server reported; sio_emit,
 * sio_emit_volatile, sio_join, sio_leave and sio_disconnect act on them through the cluster
 * (as the reference's RemoteSocket, by their id room); sio_emit_with_ack returns -1;
 * sio_socket_connected is true (as of the fetch) and sio_socket_engine_session NULL. */

/* Attaches the Redis adapter to `io`: `url` is redis://[[user:]password@]host[:port][/db]
 * (port 6379; the db is accepted and unused, as pub/sub ignores it), `key_prefix` the
 * channels' prefix (NULL: "socket.io", as the reference's `key`). Call it right after
 * sio_server_attach(): namespaces created later join the cluster as they appear. The host is
 * resolved here, once (this may block); everything else is asynchronous on the loop. Redis
 * need not be up yet. Returns 0, or -1 (bad URL, already attached, no memory; logged). */
int sio_redis_attach(sio_server *io, const char *url, const char *key_prefix);
/* 1 while both Redis connections are up and subscribed, 0 while (re)connecting, -1 when no
 * Redis adapter is attached. */
int sio_redis_status(const sio_server *io);

/* --- events between servers: nsp.serverSideEmit() and nsp.on(event) --- */

/* An answer a sender is waiting for; valid during the handler unless retained. */
typedef struct sio_server_ack sio_server_ack;
/* `msg->event` and `msg->args` (a JSON array, JSON only: no binary between servers); `ack` is
 * NULL unless the sender asked for acknowledgements. */
typedef void (*sio_server_event_fn)(sio_namespace *nsp, const sio_message *msg,
                                    sio_server_ack *ack, void *ctx);
/* Handlers for `event` sent by other servers (every handler runs, in registration order; a
 * dynamic parent's apply to its children). Returns 0, or -1. */
int sio_on_server_event(sio_namespace *nsp, const char *event, sio_server_event_fn fn, void *ctx);
/* Answers with one argument (borrowed; NULL: undefined), as the reference's callback takes
 * one. The first answer of any handler counts; later ones return -1. */
int sio_server_ack_send(sio_server_ack *ack, json_t *arg);
/* Keeps the ack past the handler: answer later with sio_server_ack_send(), or let go with
 * sio_server_ack_free(). */
sio_server_ack *sio_server_ack_retain(sio_server_ack *ack);
void sio_server_ack_free(sio_server_ack *ack);

/* nsp.serverSideEmitWithAck(): `cb` gets one answer per other server (`responses`, a JSON
 * array, borrowed), with err NULL, or "timeout reached: only N responses received out of M"
 * after `timeout_ms` (0: the request timeout, 5 s) with the answers so far. Without a cluster
 * (or with the link down) there is no other server: `cb` runs at once with []. Returns 0, or
 * -1 without calling `cb` (reserved name, bad arguments). */
typedef void (*sio_server_acks_fn)(const char *err, json_t *responses, void *ctx);
int sio_server_side_emit_with_ack(sio_namespace *nsp, const char *event, json_t *args,
                                  unsigned timeout_ms, sio_server_acks_fn cb, void *ctx);

/* --- sockets across the cluster --- */

/* True for a socket of another server (from a fetch callback). */
bool sio_socket_is_remote(const sio_socket *s);
/* socket.data as the cluster sees it: a JSON value (the reference's default is {}) reported to
 * other servers by fetchSockets, and for a remote socket what its server reported. `data` is
 * referenced (not copied); NULL resets it. Returns 0, or -1 on a remote socket. */
int sio_socket_set_json(sio_socket *s, json_t *data);
const json_t *sio_socket_json(const sio_socket *s);

#ifdef __cplusplus
}
#endif

#endif
