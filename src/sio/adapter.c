/* The in-memory adapter: rooms, the selection of sockets for the broadcast operator, and the
 * operations, which also go to the cluster hook when one is attached (and the operator is not
 * local). The fetchSockets and serverSideEmit-with-ack aggregations live here: the cluster only
 * carries messages.
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

static const adapter_cluster_ops *cluster_of(sio_namespace *nsp, const adapter_opts *o) {
  return o && o->local ? NULL : nsp->srv->cluster;
}

/* With connection state recovery in a cluster, a replayable broadcast is delivered here when
 * the cluster hands it back, in the order every server sees: true if it went that way. */
static bool broadcast_ordered(sio_namespace *nsp, const adapter_opts *o, const char *event,
                              json_t *args, const sio_bytes *bins, size_t nbins) {
  const adapter_cluster_ops *cl = cluster_of(nsp, o);
  if (!nsp->srv->recovery || o->is_volatile || o->offset || !cl || !cl->broadcast_ordered ||
      (args && !json_is_array(args)) ||
      (nbins && (nbins > UINT32_MAX || sio_packet_check_placeholders(args, (unsigned)nbins))))
    return false; /* the direct path refuses what is malformed */
  char offset[RECOVERY_OFFSET_MAX];
  recovery_next_offset(nsp->srv, offset);
  adapter_opts with_offset = *o;
  with_offset.offset = offset;
  if (!cl->broadcast_ordered(nsp->srv->cluster_ctx, nsp, &with_offset, event, args, bins, nbins))
    return false;
  metrics.sio_broadcasts++;
  return true;
}

static long broadcast(sio_namespace *nsp, const adapter_opts *o, const char *event, json_t *args,
                      const sio_bytes *bins, size_t nbins, struct bc_collector *bc) {
  if (!bc && broadcast_ordered(nsp, o, event, args, bins, nbins)) return 0; /* reached later */
  json_t *data = event_data(event, args);
  if (!data) return -1;
  int64_t id = bc ? (int64_t)nsp->next_ack_id++ : -1;
  /* Connection state recovery: a replayable packet carries its offset as its last argument
   * and is logged (the reference's SessionAwareAdapter). The other servers get it without. */
  char offset[RECOVERY_OFFSET_MAX];
  bool logged = nsp->srv->recovery && !bc && !o->is_volatile;
  if (logged) {
    if (o->offset) snprintf(offset, sizeof offset, "%s", o->offset);
    else recovery_next_offset(nsp->srv, offset);
    if (json_array_append_new(data, json_string(offset))) logged = false;
  }
  sio_frames frames;
  int r = frames_build(nsp->srv, SIO_PACKET_EVENT, nsp->name, id, data, bins, nbins, &frames);
  if (r) {
    json_decref(data);
    return -1;
  }
  if (logged) recovery_log_add(nsp, offset, o, &frames);
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
  if (n < 0) return -1;
  const adapter_cluster_ops *cl = cluster_of(nsp, o);
  adapter_opts with_offset = *o;
  if (logged) with_offset.offset = offset; /* every server logs it under the same offset */
  if (cl && bc) cl->broadcast_with_ack(nsp->srv->cluster_ctx, nsp, o, event, args, bins, nbins, bc);
  else if (cl) cl->broadcast(nsp->srv->cluster_ctx, nsp, &with_offset, event, args, bins, nbins);
  return c.reached;
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

/* A fetch that waits for the other servers: the local sockets (held) and the remote ones. */
struct adapter_fetch {
  sock_vec vec;
  sio_fetch_fn cb;
  void *ctx;
};

long adapter_fetch_sockets(sio_namespace *nsp, const adapter_opts *o, sio_fetch_fn cb,
                           void *ctx) {
  sock_vec vec = {0};
  select_sockets(nsp, o, &vec);
  if (vec.failed) {
    vec_release(&vec);
    return -1;
  }
  long n = (long)vec.n;
  const adapter_cluster_ops *cl = cluster_of(nsp, o);
  adapter_fetch *f = cl ? malloc(sizeof *f) : NULL;
  if (!f) { /* alone (or out of memory: this server's sockets are all there is to give) */
    cb(vec.v, vec.n, ctx);
    vec_release(&vec);
    return n;
  }
  *f = (adapter_fetch){vec, cb, ctx};
  cl->fetch_sockets(nsp->srv->cluster_ctx, nsp, o, f);
  return n;
}

void adapter_fetch_add(adapter_fetch *f, sio_socket *remote) {
  size_t before = f->vec.n;
  vec_push(&f->vec, remote); /* takes its own reference */
  if (f->vec.n == before) f->vec.failed = false; /* keep what we have */
  socket_release(remote);
}

void adapter_fetch_end(adapter_fetch *f) {
  f->cb(f->vec.v, f->vec.n, f->ctx);
  vec_release(&f->vec);
  free(f);
}

static void join_one(sio_socket *s, void *room) { sio_join(s, room); }
static void leave_one(sio_socket *s, void *room) { sio_leave(s, room); }
static void disconnect_one(sio_socket *s, void *close) { sio_disconnect(s, close != NULL); }

long adapter_add_sockets(sio_namespace *nsp, const adapter_opts *o, const char *room) {
  long n = adapter_apply(nsp, o, join_one, (void *)room);
  const adapter_cluster_ops *cl = cluster_of(nsp, o);
  if (n >= 0 && cl) cl->add_sockets(nsp->srv->cluster_ctx, nsp, o, room);
  return n;
}

long adapter_del_sockets(sio_namespace *nsp, const adapter_opts *o, const char *room) {
  long n = adapter_apply(nsp, o, leave_one, (void *)room);
  const adapter_cluster_ops *cl = cluster_of(nsp, o);
  if (n >= 0 && cl) cl->del_sockets(nsp->srv->cluster_ctx, nsp, o, room);
  return n;
}

long adapter_disconnect_sockets(sio_namespace *nsp, const adapter_opts *o, bool close) {
  /* The other servers first: the request carries the selection, which the local
   * disconnections do not change for them. */
  const adapter_cluster_ops *cl = cluster_of(nsp, o);
  if (cl) cl->disconnect_sockets(nsp->srv->cluster_ctx, nsp, o, close);
  return adapter_apply(nsp, o, disconnect_one, close ? (void *)1 : NULL);
}

int adapter_server_side_emit(sio_namespace *nsp, const char *event, json_t *args) {
  const adapter_cluster_ops *cl = nsp->srv->cluster;
  if (cl) {
    cl->server_side_emit(nsp->srv->cluster_ctx, nsp, event, args, 0, NULL);
    return 0;
  }
  /* Alone in the cluster: there is no other server to tell. */
  LOG_D("sio", "serverSideEmit without a cluster adapter nsp=%s event=%s", nsp->name, event);
  return 0;
}

struct adapter_ss_wait {
  sio_server_acks_fn cb;
  void *ctx;
  json_t *responses;
};

int adapter_server_side_emit_with_ack(sio_namespace *nsp, const char *event, json_t *args,
                                      unsigned timeout_ms, sio_server_acks_fn cb, void *ctx) {
  adapter_ss_wait *w = malloc(sizeof *w);
  if (!w || !(w->responses = json_array())) {
    free(w);
    return -1;
  }
  w->cb = cb;
  w->ctx = ctx;
  const adapter_cluster_ops *cl = nsp->srv->cluster;
  if (cl) cl->server_side_emit(nsp->srv->cluster_ctx, nsp, event, args, timeout_ms, w);
  else adapter_ss_end(w, NULL); /* no other server: no answer to wait for */
  return 0;
}

void adapter_ss_reply(adapter_ss_wait *w, json_t *arg) {
  json_array_append(w->responses, arg ? arg : json_null());
}

void adapter_ss_end(adapter_ss_wait *w, const char *err) {
  w->cb(err, w->responses, w->ctx);
  json_decref(w->responses);
  free(w);
}

unsigned adapter_server_count(sio_namespace *nsp) {
  const adapter_cluster_ops *cl = nsp->srv->cluster;
  return cl ? cl->server_count(nsp->srv->cluster_ctx, nsp) : 1;
}

/* ------------------------------------------------------------------------------------------ */
/* the cluster hook                                                                            */

int adapter_cluster_attach(sio_server *srv, const adapter_cluster_ops *ops, void *ctx) {
  if (srv->cluster || !ops) return -1;
  srv->cluster = ops;
  srv->cluster_ctx = ctx;
  size_t pos = 0;
  void *v;
  while (strmap_next(&srv->nsps, &pos, NULL, &v)) ops->namespace_added(ctx, v);
  return 0;
}

void *adapter_cluster_ctx(const sio_server *srv, const adapter_cluster_ops *ops) {
  return srv && srv->cluster == ops ? srv->cluster_ctx : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* events from other servers                                                                   */

static void server_ack_done(struct sio_server_ack *ack) {
  if (ack && !ack->in_handlers && (ack->answered || ack->dropped || !ack->retained))
    ack->release(ack);
}

void adapter_server_event(sio_namespace *nsp, const char *event, json_t *args,
                          struct sio_server_ack *ack) {
  sio_message msg = {event, args, NULL, 0};
  if (ack) ack->in_handlers = true;
  hook_chain chain = namespace_server_event_chain(nsp, event);
  CHAIN_FOREACH(chain, h)((sio_server_event_fn)h->fn)(nsp, &msg, ack, h->ctx);
  if (!ack) return;
  ack->in_handlers = false;
  server_ack_done(ack);
}

int sio_server_ack_send(sio_server_ack *ack, json_t *arg) {
  if (!ack || ack->answered || ack->dropped) return -1;
  ack->answered = true;
  ack->send(ack, arg);
  server_ack_done(ack);
  return 0;
}

sio_server_ack *sio_server_ack_retain(sio_server_ack *ack) {
  if (!ack || ack->answered || ack->dropped) return NULL;
  ack->retained = true;
  return ack;
}

void sio_server_ack_free(sio_server_ack *ack) {
  if (!ack || !ack->retained || ack->answered || ack->dropped) return;
  ack->dropped = true;
  server_ack_done(ack);
}
