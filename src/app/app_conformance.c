/* The conformance app: what the official test suites of socketio/engine.io-protocol and
 * socketio/socket.io-protocol expect of their server, so anyone can run them against sio.
 * At /engine.io/: a plain Engine.IO server that echoes every message, with the suites'
 * pingInterval 300 ms, pingTimeout 200 ms and maxPayload 1000000 (flags may override them).
 * At /socket.io/ (or --path): the Socket.IO suite's server, as its README configures the Node
 * one: connectTimeout 1000 ms, CORS for any origin; on each connection to "/" or "/custom" the
 * socket is sent ["auth", <its CONNECT payload>]; "message" is echoed back as "message-back"
 * (binary attachments included) and "message-with-ack" is acknowledged with its arguments.
 *
 * Beyond the suite, a few events let the end-to-end tests reach the rest of the API (they do
 * not change what the suite sees):
 *   "join" room / "leave" room         socket.join/leave, acknowledged with socket.rooms
 *   "to-room" room, ...args            socket.to(room).emit("room-message", ...args)
 *   "broadcast" ...args                io.emit("broadcast-message", ...args)
 *   "ask" timeoutMs, ...args           socket.timeout(ms).emit("question", ...args, cb);
 *                                      the result comes back as "answer" err, ...reply
 *   "ask-all" timeoutMs, ...args       io.timeout(ms).emit("question", ...args, cb); the result
 *                                      comes back as "answers" err, responses
 *   "disconnect-me" close              socket.disconnect(close)
 *   "drop-transport"                   the connection is closed under the socket (no DISCONNECT)
 *   "set-data" value, ack?             socket.data = value (sio_socket_set_json)
 *   "get-data" ack                     ack(socket.data, socket.recovered)
 *   "handshake" ack                    ack(socket.handshake)
 *   "count"                            acknowledged with the namespace's fetchSockets() size
 * and, for the cluster tests (tests/e2e/cluster; tests/e2e/ref/cluster-node.mjs is the same on
 * socket.io 4.8 with @socket.io/redis-adapter), where `spec` is {to?: [rooms],
 * except?: [rooms], local?: bool, volatile?: bool}, a broadcast operator on the namespace:
 *   "bc" spec, event, ...args, ack?    operator.emit(event, ...args), then ack()
 *   "fetch" spec, ack                  operator.fetchSockets(): ack([{id, rooms (sorted),
 *                                      remote}]) sorted by id
 *   "sockets-join" spec, room, ack?    operator.socketsJoin(room), then ack()
 *   "sockets-leave" spec, room, ack?   operator.socketsLeave(room), then ack()
 *   "disconnect-sockets" spec, close, ack?   operator.disconnectSockets(close), then ack()
 *   "server-emit" event, ...args, ack? nsp.serverSideEmit(event, ...args), then ack()
 *   "server-emit-ack" ms, event, ...args, ack
 *                                      nsp.serverSideEmit(event, ...args, cb) (timeout ms):
 *                                      ack(err message or null, responses)
 *   "remote-emit" id, event, ...args, ack?   the fetched socket `id` (local or remote) gets
 *                                      socket.emit(event, ...args), then ack(found)
 * and what other servers may send (serverSideEmit): "hello" ...args is broadcast locally to
 * the namespace as "server-hello" ...args; "whoami" is acknowledged with "sio:<port>".
 * With --redis the server joins that cluster (app_attach_cluster).
 * Two namespaces besides: "/guarded", whose middleware wants auth {"token":"secret"} (else
 * CONNECT_ERROR "unauthorized" with data {"reason":"bad token"}), and dynamic namespaces
 * matching ^/dyn-[0-9]+$ (io.of(/^\/dyn-\d+$/)), which behave like "/". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/apps.h"

static void echo(sio_engine_session *s, const uint8_t *data, size_t len, bool binary, void *ctx) {
  (void)ctx;
  sio_engine_send(s, data, len, binary);
}

/* --- the suite's server --- */

/* The "auth" event leaves a few milliseconds after the CONNECT reply, as it does from the
 * reference, where engine.io writes a socket's next packet once the previous write has
 * completed. The suite's raw WebSocket client waits for each message with a listener added
 * after the previous one arrived: two frames read at once reach it in one turn, and it would
 * miss the second. */
#define AUTH_DELAY_MS 5
static sio_listener *suite_listener;

static void send_auth(void *ctx) {
  sio_socket *s = ctx;
  if (sio_socket_connected(s)) {
    json_t *args = json_pack("[O]", sio_socket_auth(s));
    sio_emit(s, "auth", args, NULL, 0);
    json_decref(args);
  }
  sio_socket_unref(s);
}

static void on_connection(sio_socket *s, void *ctx) {
  sio_socket_ref(s);
  if (!sio_timer_start(suite_listener, AUTH_DELAY_MS, send_auth, s)) send_auth(s);
}

static void on_message(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  sio_emit(s, "message-back", m->args, m->bins, m->nbins);
}

static void on_message_with_ack(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  if (ack) sio_ack_send(ack, m->args, m->bins, m->nbins);
}

/* --- the extras for the end-to-end tests --- */

/* The arguments after the first `skip` ones (a new array sharing them). */
static json_t *args_from(const sio_message *m, size_t skip) {
  json_t *rest = json_array();
  for (size_t i = skip; i < json_array_size(m->args); i++)
    json_array_append(rest, json_array_get(m->args, i));
  return rest;
}

static void ack_rooms(sio_socket *s, sio_ack *ack) {
  if (!ack) return;
  const char *rooms[64];
  size_t n = sio_socket_rooms(s, rooms, 64);
  json_t *list = json_array();
  for (size_t i = 0; i < n && i < 64; i++) json_array_append_new(list, json_string(rooms[i]));
  json_t *args = json_pack("[o]", list);
  sio_ack_send(ack, args, NULL, 0);
  json_decref(args);
}

static void on_join(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const char *room = json_string_value(json_array_get(m->args, 0));
  if (room) sio_join(s, room);
  ack_rooms(s, ack);
}

static void on_leave(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const char *room = json_string_value(json_array_get(m->args, 0));
  if (room) sio_leave(s, room);
  ack_rooms(s, ack);
}

static void on_to_room(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const char *room = json_string_value(json_array_get(m->args, 0));
  if (!room) return;
  json_t *rest = args_from(m, 1);
  sio_broadcast b = sio_broadcast_from(s);
  sio_bc_to(&b, room);
  sio_bc_emit(&b, "room-message", rest, m->bins, m->nbins);
  json_decref(rest);
}

static void on_broadcast(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  sio_broadcast b = sio_broadcast_of(sio_socket_namespace(s));
  sio_bc_emit(&b, "broadcast-message", m->args, m->bins, m->nbins);
}

static void on_answer(sio_socket *s, const char *err, const sio_message *reply, void *ctx) {
  json_t *args = json_array();
  json_array_append_new(args, err ? json_string(err) : json_null());
  if (reply) json_array_extend(args, reply->args);
  sio_emit(s, "answer", args, reply ? reply->bins : NULL, reply ? reply->nbins : 0);
  json_decref(args);
}

static void on_ask(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  json_int_t ms = json_integer_value(json_array_get(m->args, 0));
  json_t *rest = args_from(m, 1);
  sio_emit_with_ack(s, "question", rest, m->bins, m->nbins, ms > 0 ? (unsigned)ms : 0,
                    on_answer, NULL);
  json_decref(rest);
}

/* The asker is held (sio_socket_ref) until the answers are in: it may have left by then. */
static void on_answers(const char *err, json_t *responses, const sio_message *replies, size_t n,
                       void *ctx) {
  sio_socket *asker = ctx;
  json_t *args = json_array();
  json_array_append_new(args, err ? json_string(err) : json_null());
  json_array_append(args, responses);
  sio_emit(asker, "answers", args, NULL, 0);
  json_decref(args);
  sio_socket_unref(asker);
}

static void on_ask_all(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  json_int_t ms = json_integer_value(json_array_get(m->args, 0));
  json_t *rest = args_from(m, 1);
  sio_broadcast b = sio_broadcast_of(sio_socket_namespace(s));
  sio_bc_timeout(&b, ms > 0 ? (unsigned)ms : 0);
  sio_socket_ref(s);
  if (sio_bc_emit_with_ack(&b, "question", rest, m->bins, m->nbins, on_answers, s) < 0)
    sio_socket_unref(s);
  json_decref(rest);
}

static void on_disconnect_me(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  sio_disconnect(s, json_is_true(json_array_get(m->args, 0)));
}

/* The server drops the connection under the socket without a Socket.IO DISCONNECT, as a network
 * failure would: the client sees "transport close" and its auto-reconnect brings it back. */
static void on_drop_transport(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  sio_engine_session *session = sio_socket_engine_session(s);
  if (session) sio_engine_close(session);
}

/* socket.data, the JSON the cluster and connection state recovery keep. */
static void on_set_data(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  sio_socket_set_json(s, json_array_get(m->args, 0));
  if (ack) sio_ack_send(ack, NULL, NULL, 0);
}

static void on_get_data(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const json_t *data = sio_socket_json(s);
  json_t *args = json_pack("[Ob]", data ? (json_t *)data : json_null(), sio_socket_recovered(s));
  if (ack && args) sio_ack_send(ack, args, NULL, 0);
  json_decref(args);
}

/* socket.handshake, as the reference's object. */
static void on_handshake(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const sio_handshake *h = sio_socket_handshake(s);
  json_t *args = h ? json_pack("[{sOsssssbsbsIsssOsO}]", "headers", h->headers, "time", h->time,
                               "address", h->address, "xdomain", h->xdomain, "secure",
                               h->secure, "issued", (json_int_t)h->issued, "url", h->url,
                               "query", h->query, "auth", h->auth)
                   : NULL;
  if (ack && args) sio_ack_send(ack, args, NULL, 0);
  json_decref(args);
}

/* fetchSockets() may answer after the handler (in a cluster): the ack is retained. */
static void count_sockets(sio_socket *const *sockets, size_t n, void *ctx) {
  json_t *args = json_pack("[I]", (json_int_t)n);
  sio_ack_send(ctx, args, NULL, 0);
  json_decref(args);
}

static void on_count(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  sio_ack *kept = sio_ack_retain(ack);
  if (!kept) return;
  sio_broadcast b = sio_broadcast_of(sio_socket_namespace(s));
  if (sio_bc_fetch_sockets(&b, count_sockets, kept) < 0) sio_ack_free(kept);
}

/* --- the cluster extras --- */

/* The operator a spec {to, except, local, volatile} describes; the names stay in `spec`. */
static sio_broadcast operator_of(sio_socket *s, const json_t *spec) {
  sio_broadcast b = sio_broadcast_of(sio_socket_namespace(s));
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(spec, "to"), i, v) sio_bc_to(&b, json_string_value(v));
  json_array_foreach(json_object_get(spec, "except"), i, v) sio_bc_except(&b, json_string_value(v));
  if (json_is_true(json_object_get(spec, "local"))) sio_bc_local(&b);
  if (json_is_true(json_object_get(spec, "volatile"))) sio_bc_volatile(&b);
  return b;
}

static void ack_empty(sio_ack *ack) {
  if (ack) sio_ack_send(ack, NULL, NULL, 0);
}

static void on_bc(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const char *event = json_string_value(json_array_get(m->args, 1));
  if (!event) return;
  json_t *rest = args_from(m, 2);
  sio_broadcast b = operator_of(s, json_array_get(m->args, 0));
  sio_bc_emit(&b, event, rest, m->bins, m->nbins);
  json_decref(rest);
  ack_empty(ack);
}

static int by_id(const void *a, const void *b) {
  return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "id")),
                json_string_value(json_object_get(*(json_t *const *)b, "id")));
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void fetched(sio_socket *const *sockets, size_t n, void *ctx) {
  json_t **items = calloc(n ? n : 1, sizeof *items);
  json_t *list = json_array();
  for (size_t i = 0; items && i < n; i++) {
    const char *rooms[64];
    size_t k = sio_socket_rooms(sockets[i], rooms, 64);
    if (k > 64) k = 64;
    qsort(rooms, k, sizeof *rooms, by_name);
    json_t *names = json_array();
    for (size_t j = 0; j < k; j++) json_array_append_new(names, json_string(rooms[j]));
    items[i] = json_pack("{sssosb}", "id", sio_socket_id(sockets[i]), "rooms", names, "remote",
                         sio_socket_is_remote(sockets[i]));
  }
  if (items) qsort(items, n, sizeof *items, by_id);
  for (size_t i = 0; items && i < n; i++) json_array_append_new(list, items[i]);
  free(items);
  json_t *args = json_pack("[o]", list);
  sio_ack_send(ctx, args, NULL, 0);
  json_decref(args);
}

static void on_fetch(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  sio_ack *kept = sio_ack_retain(ack);
  if (!kept) return;
  sio_broadcast b = operator_of(s, json_array_get(m->args, 0));
  if (sio_bc_fetch_sockets(&b, fetched, kept) < 0) sio_ack_free(kept);
}

static void on_sockets_join(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const char *room = json_string_value(json_array_get(m->args, 1));
  sio_broadcast b = operator_of(s, json_array_get(m->args, 0));
  if (room) sio_bc_sockets_join(&b, room);
  ack_empty(ack);
}

static void on_sockets_leave(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const char *room = json_string_value(json_array_get(m->args, 1));
  sio_broadcast b = operator_of(s, json_array_get(m->args, 0));
  if (room) sio_bc_sockets_leave(&b, room);
  ack_empty(ack);
}

static void on_disconnect_sockets(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  sio_broadcast b = operator_of(s, json_array_get(m->args, 0));
  /* The ack first: the asker may be among the disconnected. */
  ack_empty(ack);
  sio_bc_disconnect_sockets(&b, json_is_true(json_array_get(m->args, 1)));
}

static void on_server_emit(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const char *event = json_string_value(json_array_get(m->args, 0));
  json_t *rest = args_from(m, 1);
  if (event) sio_server_side_emit(sio_socket_namespace(s), event, rest);
  json_decref(rest);
  ack_empty(ack);
}

static void server_answers(const char *err, json_t *responses, void *ctx) {
  json_t *args = json_pack("[s?O]", err, responses);
  sio_ack_send(ctx, args, NULL, 0);
  json_decref(args);
}

static void on_server_emit_ack(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  json_int_t ms = json_integer_value(json_array_get(m->args, 0));
  const char *event = json_string_value(json_array_get(m->args, 1));
  sio_ack *kept = event ? sio_ack_retain(ack) : NULL;
  if (!kept) return;
  json_t *rest = args_from(m, 2);
  if (sio_server_side_emit_with_ack(sio_socket_namespace(s), event, rest,
                                    ms > 0 ? (unsigned)ms : 0, server_answers, kept) < 0)
    sio_ack_free(kept);
  json_decref(rest);
}

/* socket.emit() on a socket found by fetchSockets(), which may live on another server. */
typedef struct {
  sio_ack *ack;
  char *id;
  json_t *args; /* [event, ...args] */
} remote_emit_req;

static void remote_emit_fetched(sio_socket *const *sockets, size_t n, void *ctx) {
  remote_emit_req *req = ctx;
  bool found = false;
  for (size_t i = 0; i < n && !found; i++) {
    if (strcmp(sio_socket_id(sockets[i]), req->id) != 0) continue;
    found = true;
    json_t *rest = json_array();
    for (size_t k = 1; k < json_array_size(req->args); k++)
      json_array_append(rest, json_array_get(req->args, k));
    sio_emit(sockets[i], json_string_value(json_array_get(req->args, 0)), rest, NULL, 0);
    json_decref(rest);
  }
  json_t *args = json_pack("[b]", found);
  sio_ack_send(req->ack, args, NULL, 0);
  json_decref(args);
  json_decref(req->args);
  free(req->id);
  free(req);
}

static void on_remote_emit(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const char *id = json_string_value(json_array_get(m->args, 0));
  if (!id || !json_is_string(json_array_get(m->args, 1)) || !ack) return;
  remote_emit_req *req = calloc(1, sizeof *req);
  if (!req) return;
  req->id = strdup(id);
  req->args = args_from(m, 1);
  req->ack = sio_ack_retain(ack);
  sio_broadcast b = sio_broadcast_of(sio_socket_namespace(s));
  if (!req->id || !req->ack || sio_bc_fetch_sockets(&b, remote_emit_fetched, req) < 0) {
    sio_ack_free(req->ack);
    json_decref(req->args);
    free(req->id);
    free(req);
  }
}

/* From other servers. */
static void on_server_hello(sio_namespace *nsp, const sio_message *m, sio_server_ack *ack,
                            void *ctx) {
  sio_broadcast b = sio_broadcast_of(nsp);
  sio_bc_local(&b);
  sio_bc_emit(&b, "server-hello", m->args, NULL, 0);
}

static void on_server_whoami(sio_namespace *nsp, const sio_message *m, sio_server_ack *ack,
                             void *ctx) {
  json_t *name = json_string(ctx);
  sio_server_ack_send(ack, name);
  json_decref(name);
}

static char server_name[32];

static void guard(sio_socket *s, sio_next *next, void *ctx) {
  const char *token = json_string_value(json_object_get(sio_socket_auth(s), "token"));
  if (token && strcmp(token, "secret") == 0) {
    sio_next_accept(next);
    return;
  }
  json_t *data = json_pack("{ss}", "reason", "bad token");
  sio_next_reject(next, "unauthorized", data);
  json_decref(data);
}

static int serve(sio_namespace *nsp) {
  static const struct {
    const char *event;
    sio_event_fn fn;
  } events[] = {
      {"message", on_message},     {"message-with-ack", on_message_with_ack},
      {"join", on_join},           {"leave", on_leave},
      {"to-room", on_to_room},     {"broadcast", on_broadcast},
      {"ask", on_ask},             {"ask-all", on_ask_all},
      {"disconnect-me", on_disconnect_me}, {"count", on_count},
      {"drop-transport", on_drop_transport},
      {"set-data", on_set_data},   {"get-data", on_get_data},
      {"handshake", on_handshake},
      {"bc", on_bc},               {"fetch", on_fetch},
      {"sockets-join", on_sockets_join}, {"sockets-leave", on_sockets_leave},
      {"disconnect-sockets", on_disconnect_sockets}, {"server-emit", on_server_emit},
      {"server-emit-ack", on_server_emit_ack}, {"remote-emit", on_remote_emit},
  };
  if (!nsp || sio_on_connection(nsp, on_connection, NULL)) return -1;
  for (size_t i = 0; i < sizeof events / sizeof *events; i++)
    if (sio_on(nsp, events[i].event, events[i].fn, NULL)) return -1;
  if (sio_on_server_event(nsp, "hello", on_server_hello, NULL) ||
      sio_on_server_event(nsp, "whoami", on_server_whoami, server_name))
    return -1;
  return 0;
}

int app_conformance_setup(sio_listener *l, const config *c) {
  suite_listener = l;
  sio_engine_options o;
  sio_engine_options_default(&o);
  o.ping_interval_ms = 300;
  o.ping_timeout_ms = 200;
  app_engine_options(c, &o);
  o.path = "/engine.io/";
  static const sio_engine_handlers handlers = {.on_message = echo};
  if (!sio_engine_attach(l, &o, &handlers, NULL)) return -1;

  sio_server_options so;
  sio_server_options_default(&so);
  so.engine.ping_interval_ms = 300;
  so.engine.ping_timeout_ms = 200;
  static const char *const any_origin[] = {"*", NULL};
  so.engine.cors_origins = any_origin;
  app_engine_options(c, &so.engine);
  so.engine.path = c->path ? c->path : "/socket.io/";
  so.connect_timeout_ms = c->connect_timeout_ms ? c->connect_timeout_ms : 1000;
  /* Off unless asked for (the official suite expects CONNECT replies without a pid). */
  app_recovery_options(c, &so);
  sio_server *io = sio_server_attach(l, &so);
  if (!io || app_attach_cluster(io, c)) return -1;
  snprintf(server_name, sizeof server_name, "sio:%d", c->port);
  sio_namespace *guarded = sio_of(io, "/guarded");
  if (serve(sio_of(io, "/")) || serve(sio_of(io, "/custom")) ||
      serve(sio_of_regex(io, "^/dyn-[0-9]+$")) || serve(guarded) ||
      sio_use(guarded, guard, NULL))
    return -1;
  return 0;
}
