/* The broadcast operator: a value (namespace, rooms, exceptions, flags) that the caller builds
 * on the stack and hands to one operation. Operations go through the adapter (adapter.c), which
 * acts on this server's sockets and is where a cluster adapter will forward them.
 * On a dynamic parent, an operation applies to each child namespace. */
#include <string.h>

#include "sio/sio_internal.h"

sio_broadcast sio_broadcast_of(sio_namespace *nsp) {
  sio_broadcast b;
  memset(&b, 0, sizeof b);
  b.nsp = nsp;
  b.compress = true;
  return b;
}

sio_broadcast sio_broadcast_from(sio_socket *s) {
  sio_broadcast b = sio_broadcast_of(s->nsp);
  b.except[b.nexcept++] = s->id; /* the sender's own room */
  return b;
}

static void add_room(const char **list, unsigned *n, bool *overflow, const char *room) {
  if (!room) return;
  for (unsigned i = 0; i < *n; i++)
    if (strcmp(list[i], room) == 0) return;
  if (*n == SIO_BC_MAX_ROOMS) *overflow = true;
  else list[(*n)++] = room;
}

void sio_bc_to(sio_broadcast *b, const char *room) { add_room(b->rooms, &b->nrooms, &b->overflow, room); }
void sio_bc_except(sio_broadcast *b, const char *room) {
  add_room(b->except, &b->nexcept, &b->overflow, room);
}
void sio_bc_volatile(sio_broadcast *b) { b->is_volatile = true; }
void sio_bc_local(sio_broadcast *b) { b->local = true; }
void sio_bc_compress(sio_broadcast *b, bool compress) { b->compress = compress; }
void sio_bc_timeout(sio_broadcast *b, unsigned ms) { b->timeout_ms = ms; }

static bool usable(const sio_broadcast *b) { return b && b->nsp && !b->overflow; }

static adapter_opts opts_of(const sio_broadcast *b) {
  return (adapter_opts){
      .rooms = b->rooms, .nrooms = b->nrooms, .except = b->except, .nexcept = b->nexcept,
      .is_volatile = b->is_volatile, .local = b->local, .compress = b->compress,
      .timeout_ms = b->timeout_ms,
  };
}

int sio_bc_emit(sio_broadcast *b, const char *event, json_t *args, const sio_bytes *bins,
                size_t nbins) {
  if (!usable(b) || !event || event_name_reserved(event)) return -1;
  adapter_opts o = opts_of(b);
  if (!b->nsp->is_parent) return (int)adapter_broadcast(b->nsp, &o, event, args, bins, nbins);
  long total = 0; /* ParentNamespace.emit(): each child's own broadcast */
  for (sio_namespace *c = b->nsp->children; c; c = c->next_child) {
    long n = adapter_broadcast(c, &o, event, args, bins, nbins);
    if (n < 0) return -1;
    total += n;
  }
  return (int)total;
}

int sio_bc_emit_with_ack(sio_broadcast *b, const char *event, json_t *args,
                         const sio_bytes *bins, size_t nbins, sio_bc_ack_fn cb, void *ctx) {
  if (!usable(b) || !cb || !event || event_name_reserved(event) || b->nsp->is_parent) return -1;
  bc_collector *bc = bc_collector_new(b->nsp->srv, b->timeout_ms, cb, ctx);
  if (!bc) return -1;
  adapter_opts o = opts_of(b);
  long n = adapter_broadcast_with_ack(b->nsp, &o, event, args, bins, nbins, bc);
  if (n < 0) {
    bc_collector_abort(bc);
    return -1;
  }
  bc_collector_start(bc, (size_t)n); /* may complete at once: no recipient */
  return (int)n;
}

int sio_bc_fetch_sockets(sio_broadcast *b, sio_fetch_fn cb, void *ctx) {
  if (!usable(b) || !cb || b->nsp->is_parent) return -1; /* as the reference's parents */
  adapter_opts o = opts_of(b);
  return (int)adapter_fetch_sockets(b->nsp, &o, cb, ctx);
}

/* socketsJoin/socketsLeave/disconnectSockets, on a namespace or each child of a parent. */
typedef long (*room_op)(sio_namespace *, const adapter_opts *, const char *);

static int each_namespace(sio_broadcast *b, room_op op, const char *room, int close) {
  if (!usable(b)) return -1;
  adapter_opts o = opts_of(b);
  long total = 0;
  sio_namespace *only = b->nsp->is_parent ? NULL : b->nsp;
  for (sio_namespace *n = only ? only : b->nsp->children; n; n = only ? NULL : n->next_child) {
    long r = op ? op(n, &o, room) : adapter_disconnect_sockets(n, &o, close);
    if (r < 0) return -1;
    total += r;
  }
  return (int)total;
}

int sio_bc_sockets_join(sio_broadcast *b, const char *room) {
  return room ? each_namespace(b, adapter_add_sockets, room, 0) : -1;
}

int sio_bc_sockets_leave(sio_broadcast *b, const char *room) {
  return room ? each_namespace(b, adapter_del_sockets, room, 0) : -1;
}

int sio_bc_disconnect_sockets(sio_broadcast *b, bool close) {
  return each_namespace(b, NULL, NULL, close);
}

static bool server_event_ok(sio_namespace *nsp, const char *event, json_t *args) {
  static const char *const reserved[] = {"connect", "connection", "new_namespace"};
  if (!nsp || !event || (args && !json_is_array(args))) return false;
  for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
    if (strcmp(event, reserved[i]) == 0) return false;
  return true;
}

int sio_server_side_emit(sio_namespace *nsp, const char *event, json_t *args) {
  if (!server_event_ok(nsp, event, args)) return -1;
  return adapter_server_side_emit(nsp, event, args);
}

int sio_server_side_emit_with_ack(sio_namespace *nsp, const char *event, json_t *args,
                                  unsigned timeout_ms, sio_server_acks_fn cb, void *ctx) {
  if (!cb || !server_event_ok(nsp, event, args)) return -1;
  return adapter_server_side_emit_with_ack(nsp, event, args, timeout_ms, cb, ctx);
}
