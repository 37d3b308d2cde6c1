/* The bench app: a small, fixed contract for load generators, with the reference's default
 * options (pingInterval 25000, pingTimeout 20000, maxHttpBufferSize 1e6, ...; flags override
 * them). tests/e2e/ref/bench-server.mjs is the same contract on socket.io 4.8, so that both
 * servers can be measured with the same client. On namespace "/":
 *   "echo" ...args, ack          ack(...args), binary attachments included
 *   "bcast" payload              io.emit("msg", payload)            (the sender included)
 *   "join" room, ack?            socket.join(room), then ack()
 *   "room-bcast" room, payload   io.to(room).emit("msg", payload)   (the sender too, if in it)
 * As in the Node handlers, only the payload argument travels on (a missing one becomes null,
 * as JSON.stringify makes of undefined), with the message's binary attachments. */
#include "app/apps.h"

static void on_echo(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  if (ack) sio_ack_send(ack, m->args, m->bins, m->nbins);
}

/* Emits ["msg", args[at]] to the operator's sockets. */
static void emit_msg(sio_broadcast *b, const sio_message *m, size_t at) {
  json_t *payload = json_array_get(m->args, at);
  json_t *args = json_pack("[O]", payload ? payload : json_null());
  if (args) sio_bc_emit(b, "msg", args, m->bins, m->nbins);
  json_decref(args);
}

static void on_bcast(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  sio_broadcast b = sio_broadcast_of(sio_socket_namespace(s));
  emit_msg(&b, m, 0);
}

static void on_join(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const char *room = json_string_value(json_array_get(m->args, 0));
  if (room) sio_join(s, room);
  if (ack) sio_ack_send(ack, NULL, NULL, 0);
}

static void on_room_bcast(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const char *room = json_string_value(json_array_get(m->args, 0));
  if (!room) return;
  sio_broadcast b = sio_broadcast_of(sio_socket_namespace(s));
  sio_bc_to(&b, room);
  emit_msg(&b, m, 1);
}

int app_bench_setup(sio_listener *l, const config *c) {
  sio_server_options so;
  sio_server_options_default(&so);
  app_engine_options(c, &so.engine);
  if (c->path) so.engine.path = c->path;
  if (c->connect_timeout_ms) so.connect_timeout_ms = c->connect_timeout_ms;
  app_recovery_options(c, &so);
  sio_server *io = sio_server_attach(l, &so);
  if (!io || app_attach_cluster(io, c)) return -1; /* --redis: join that cluster */
  sio_namespace *nsp = sio_of(io, "/");
  if (!nsp || sio_on(nsp, "echo", on_echo, NULL) || sio_on(nsp, "bcast", on_bcast, NULL) ||
      sio_on(nsp, "join", on_join, NULL) || sio_on(nsp, "room-bcast", on_room_bcast, NULL))
    return -1;
  return 0;
}
