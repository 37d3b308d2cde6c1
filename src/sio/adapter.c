/* The in-memory adapter: rooms, and the selection of sockets for the broadcast operator.
 *
 * Selecting "in any of these rooms, in none of those" without a temporary set: each selection
 * takes a new epoch number; sockets of the excepted rooms are stamped with it first, then the
 * members of the target rooms are taken unless already stamped, and stamped. One pass, no
 * allocation per socket, and a socket in several target rooms is taken once. */
#include "sio/adapter.h"

#include <stdlib.h>
#include <string.h>

#include "sio/sio_internal.h"
#include "util/log.h"
#include "util/metrics.h"

void adapter_init(sio_adapter *a) { strmap_init(&a->rooms); }

void adapter_free(sio_adapter *a) {
  size_t pos = 0;
  void *v;
  while (strmap_next(&a->rooms, &pos, NULL, &v)) {
    adapter_room *r = v;
    ptrset_free(&r->members);
    free(r);
  }
  strmap_free(&a->rooms);
}

size_t adapter_room_count(const sio_adapter *a) { return a->rooms.count; }

int adapter_join(sio_namespace *nsp, sio_socket *s, const char *room) {
  sio_adapter *a = &nsp->adapter;
  adapter_room *r = strmap_get(&a->rooms, room);
  bool created = false;
  if (!r) {
    size_t len = strlen(room);
    r = malloc(sizeof *r + len + 1);
    if (!r) return -1;
    ptrset_init(&r->members);
    memcpy(r->name, room, len + 1);
    if (!strmap_put(&a->rooms, r->name, r)) {
      free(r);
      return -1;
    }
    created = true;
  }
  int added = ptrset_add(&r->members, s);
  if (added >= 0 && ptrset_add(&s->rooms, r) >= 0) return 0;
  /* Out of memory: undo so that both directions stay in agreement. */
  if (added > 0) ptrset_remove(&r->members, s);
  if (created || !r->members.count) {
    strmap_remove(&a->rooms, r->name);
    ptrset_free(&r->members);
    free(r);
  }
  return -1;
}

static void room_drop_member(sio_adapter *a, adapter_room *r, sio_socket *s) {
  ptrset_remove(&r->members, s);
  if (r->members.count) return;
  strmap_remove(&a->rooms, r->name);
  ptrset_free(&r->members);
  free(r);
}

void adapter_leave(sio_namespace *nsp, sio_socket *s, const char *room) {
  adapter_room *r = strmap_get(&nsp->adapter.rooms, room);
  if (!r || !ptrset_remove(&s->rooms, r)) return;
  room_drop_member(&nsp->adapter, r, s);
}

void adapter_leave_all(sio_namespace *nsp, sio_socket *s) {
  size_t pos = 0;
  void *v;
  while (ptrset_next(&s->rooms, &pos, &v)) room_drop_member(&nsp->adapter, v, s);
  ptrset_free(&s->rooms);
}

bool adapter_in_room(sio_namespace *nsp, const sio_socket *s, const char *room) {
  adapter_room *r = strmap_get(&nsp->adapter.rooms, room);
  return r && ptrset_has(&s->rooms, r);
}

/* ------------------------------------------------------------------------------------------ */
/* selection                                                                                   */

typedef struct {
  sio_socket **v;
  size_t n, cap;
  bool failed;
} sock_vec;

static void vec_push(sock_vec *vec, sio_socket *s) {
  if (vec->failed) return;
  if (vec->n == vec->cap) {
    size_t cap = vec->cap ? vec->cap * 2 : 16;
    sio_socket **v = realloc(vec->v, cap * sizeof *v);
    if (!v) {
      vec->failed = true;
      return;
    }
    vec->v = v;
    vec->cap = cap;
  }
  vec->v[vec->n++] = sio_socket_ref(s);
}

static void vec_release(sock_vec *vec) {
  for (size_t i = 0; i < vec->n; i++) socket_release(vec->v[i]);
  free(vec->v);
}

static void select_sockets(sio_namespace *nsp, const adapter_opts *o, sock_vec *out) {
  uint64_t epoch = ++nsp->srv->epoch;
  sio_adapter *a = &nsp->adapter;
  size_t pos;
  void *v;
  for (unsigned i = 0; i < o->nexcept; i++) {
    adapter_room *r = strmap_get(&a->rooms, o->except[i]);
    for (pos = 0; r && ptrset_next(&r->members, &pos, &v);) ((sio_socket *)v)->mark = epoch;
  }
  if (!o->nrooms) {
    for (pos = 0; strmap_next(&nsp->sockets, &pos, NULL, &v);) {
      sio_socket *s = v;
      if (s->mark != epoch) vec_push(out, s);
    }
    return;
  }
  for (unsigned i = 0; i < o->nrooms; i++) {
    adapter_room *r = strmap_get(&a->rooms, o->rooms[i]);
    for (pos = 0; r && ptrset_next(&r->members, &pos, &v);) {
      sio_socket *s = v;
      if (s->mark == epoch || s->state != SOCK_CONNECTED) continue;
      s->mark = epoch;
      vec_push(out, s);
    }
  }
}

long adapter_apply(sio_namespace *nsp, const adapter_opts *o, adapter_apply_fn fn, void *ctx) {
  sock_vec vec = {0};
  select_sockets(nsp, o, &vec);
  if (vec.failed) {
    vec_release(&vec);
    return -1;
  }
  for (size_t i = 0; i < vec.n; i++) fn(vec.v[i], ctx);
  long n = (long)vec.n;
  vec_release(&vec);
  return n;
}

/* ------------------------------------------------------------------------------------------ */
/* operations                                                                                  */

typedef struct {
  const sio_frames *frames;
  bool is_volatile;
  bool notify;             /* the namespace has outgoing listeners */
  const char *event;
  json_t *args;
  const sio_bytes *bins;
  size_t nbins;
  int64_t ack_id;
  struct bc_collector *bc;
  long reached;
} send_ctx;

static void send_one(sio_socket *s, void *ctx) {
  send_ctx *c = ctx;
  if (s->state != SOCK_CONNECTED) return; /* left during an earlier recipient's callback */
  if (c->bc && ack_wait_broadcast(s, c->ack_id, c->bc)) return;
  c->reached++;
  if (c->notify) socket_notify_outgoing(s, c->event, c->args, c->bins, c->nbins);
  if (s->state == SOCK_CONNECTED) frames_send(s->client, c->frames, c->is_volatile);
}

static long broadcast(sio_namespace *nsp, const adapter_opts *o, const char *event, json_t *args,
                      const sio_bytes *bins, size_t nbins, struct bc_collector *bc) {
  json_t *data = event_data(event, args);
  if (!data) return -1;
  int64_t id = bc ? (int64_t)nsp->next_ack_id++ : -1;
  sio_frames frames;
  int r = frames_build(nsp->srv, SIO_PACKET_EVENT, nsp->name, id, data, bins, nbins, &frames);
  if (r) {
    json_decref(data);
    return -1;
  }
  hook_chain out = NSP_CHAIN(nsp, on_any_out);
  send_ctx c = {
      .frames = &frames, .is_volatile = o->is_volatile,
      .notify = (out.lists[0] && out.lists[0]->n) || (out.lists[1] && out.lists[1]->n),
      .event = event, .args = args, .bins = bins, .nbins = nbins, .ack_id = id, .bc = bc,
  };
  long n = adapter_apply(nsp, o, send_one, &c);
  frames_clear(&frames);
  json_decref(data);
  metrics.sio_broadcasts++;
  return n < 0 ? -1 : c.reached;
}

long adapter_broadcast(sio_namespace *nsp, const adapter_opts *o, const char *event,
                       json_t *args, const sio_bytes *bins, size_t nbins) {
  return broadcast(nsp, o, event, args, bins, nbins, NULL);
}

long adapter_broadcast_with_ack(sio_namespace *nsp, const adapter_opts *o, const char *event,
                                json_t *args, const sio_bytes *bins, size_t nbins,
                                struct bc_collector *bc) {
  return broadcast(nsp, o, event, args, bins, nbins, bc);
}

long adapter_fetch_sockets(sio_namespace *nsp, const adapter_opts *o, sio_fetch_fn cb,
                           void *ctx) {
  sock_vec vec = {0};
  select_sockets(nsp, o, &vec);
  if (vec.failed) {
    vec_release(&vec);
    return -1;
  }
  cb(vec.v, vec.n, ctx);
  long n = (long)vec.n;
  vec_release(&vec);
  return n;
}

static void join_one(sio_socket *s, void *room) { sio_join(s, room); }
static void leave_one(sio_socket *s, void *room) { sio_leave(s, room); }
static void disconnect_one(sio_socket *s, void *close) { sio_disconnect(s, close != NULL); }

long adapter_add_sockets(sio_namespace *nsp, const adapter_opts *o, const char *room) {
  return adapter_apply(nsp, o, join_one, (void *)room);
}

long adapter_del_sockets(sio_namespace *nsp, const adapter_opts *o, const char *room) {
  return adapter_apply(nsp, o, leave_one, (void *)room);
}

long adapter_disconnect_sockets(sio_namespace *nsp, const adapter_opts *o, bool close) {
  return adapter_apply(nsp, o, disconnect_one, close ? (void *)1 : NULL);
}

int adapter_server_side_emit(sio_namespace *nsp, const char *event, json_t *args) {
  /* Alone in the cluster: there is no other server to tell. */
  LOG_D("sio", "serverSideEmit without a cluster adapter nsp=%s event=%s", nsp->name, event);
  return 0;
}

unsigned adapter_server_count(sio_namespace *nsp) { return 1; }
