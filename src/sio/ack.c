/* Acknowledgements, both ways.
 *
 * Client -> server: an event with an id hands its handlers a sio_ack (on the stack); answering
 * it writes an ACK packet. Retaining copies it to the heap with a reference on the socket.
 *
 * Server -> client: each emit with ack leaves a wait on the socket (a short list: replies come
 * in order, so the match is near the head), with a deadline when a timeout is asked. A
 * broadcast with ack leaves one wait per recipient, all pointing at one collector that holds the
 * single timer and the replies; the reference does the same with one shared ack id.
 *
 * Deadlines: timeouts are usually one or two constants per app, so each distinct delay gets a
 * fixed-delay FIFO (net/fifo_timer.h: O(1) arm and cancel, one lws timer for all); past
 * ACK_QUEUES_MAX distinct delays, a wait gets an lws timer of its own. */
#include <stdlib.h>
#include <string.h>

#include "sio/sio_internal.h"
#include "util/metrics.h"

/* ------------------------------------------------------------------------------------------ */
/* deadlines                                                                                   */

static void on_fifo_deadline(fifo_timer *q, fifo_timer_entry *e) {
  deadline *d = lws_container_of(e, deadline, fifo);
  d->fire(d);
}

static void on_sul_deadline(lws_sorted_usec_list_t *sul) {
  deadline *d = lws_container_of(sul, deadline, sul);
  d->on_sul = false;
  d->fire(d);
}

void deadline_arm(sio_server *srv, deadline *d, unsigned ms, void (*fire)(deadline *d)) {
  deadline_cancel(d);
  d->fire = fire;
  ack_queue *q = NULL;
  for (unsigned i = 0; i < srv->n_ack_queues && !q; i++)
    if (srv->ack_queues[i]->ms == ms) q = srv->ack_queues[i];
  if (!q && srv->n_ack_queues < ACK_QUEUES_MAX && (q = malloc(sizeof *q))) {
    q->ms = ms;
    fifo_timer_init(&q->q, srv->context, (int64_t)ms * 1000, on_fifo_deadline, srv);
    srv->ack_queues[srv->n_ack_queues++] = q;
  }
  if (q) {
    fifo_timer_arm(&q->q, &d->fifo);
    return;
  }
  d->on_sul = true;
  lws_sul_schedule(srv->context, 0, &d->sul, on_sul_deadline, (lws_usec_t)ms * 1000);
}

void deadline_cancel(deadline *d) {
  fifo_timer_disarm(&d->fifo);
  if (d->on_sul) {
    lws_sul_cancel(&d->sul);
    d->on_sul = false;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* waits                                                                                       */

struct ack_wait {
  ack_wait *prev, *next;       /* in the socket's list */
  sio_socket *socket;          /* not counted: a wait never outlives its socket's presence */
  int64_t id;
  sio_ack_fn cb;               /* a single emit's */
  void *ctx;
  deadline timer;
  bool timed;
  bc_collector *bc;            /* a broadcast's */
  ack_wait *bc_prev, *bc_next; /* in the collector's list */
};

typedef struct {
  json_t *args;
  sio_bytes *bins;
  size_t nbins;
} stored_reply;

struct bc_collector {
  sio_server *srv;
  sio_bc_ack_fn cb;
  void *ctx;
  unsigned timeout_ms;
  deadline timer;
  bool started;
  size_t expected, gone;       /* recipients; those that left unanswered (no-timeout mode) */
  json_t *responses;
  stored_reply *replies;
  size_t nreplies, cap;
  ack_wait *waits;
  bc_collector *prev, *next;   /* in the server's list */
  /* The cluster's part (bc_collector_remote_*): */
  bool remote, servers_known, timer_armed;
  size_t servers, servers_counted;
  unsigned remote_timeout_ms;
  void (*on_end)(void *ctx);
  void *end_ctx;
  bc_relay_fn relay;           /* relay mode: replies go on at once */
  size_t relayed;
};

static void socket_unlink(ack_wait *w) {
  sio_socket *s = w->socket;
  if (w->prev) w->prev->next = w->next;
  else s->acks = w->next;
  if (w->next) w->next->prev = w->prev;
  w->prev = w->next = NULL;
  metrics.sio_acks_pending--;
}

static void socket_link(sio_socket *s, ack_wait *w) {
  /* Appended, so that the oldest (the likeliest to be answered next) is found first. */
  ack_wait **tail = &s->acks, *prev = NULL;
  while (*tail) prev = *tail, tail = &(*tail)->next;
  w->prev = prev;
  *tail = w;
  metrics.sio_acks_pending++;
}

static void bc_unlink(ack_wait *w) {
  bc_collector *bc = w->bc;
  if (w->bc_prev) w->bc_prev->bc_next = w->bc_next;
  else bc->waits = w->bc_next;
  if (w->bc_next) w->bc_next->bc_prev = w->bc_prev;
  w->bc_prev = w->bc_next = NULL;
}

static void on_single_timeout(deadline *d) {
  ack_wait *w = lws_container_of(d, ack_wait, timer);
  sio_socket *s = sio_socket_ref(w->socket);
  socket_unlink(w);
  w->cb(s, "operation has timed out", NULL, w->ctx);
  free(w);
  socket_release(s);
}

ack_wait *ack_wait_single(sio_socket *s, int64_t id, unsigned timeout_ms, sio_ack_fn cb,
                          void *ctx) {
  ack_wait *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->socket = s;
  w->id = id;
  w->cb = cb;
  w->ctx = ctx;
  socket_link(s, w);
  if (timeout_ms) {
    w->timed = true;
    deadline_arm(s->srv, &w->timer, timeout_ms, on_single_timeout);
  }
  return w;
}

void ack_wait_cancel(ack_wait *w) {
  if (w->timed) deadline_cancel(&w->timer);
  socket_unlink(w);
  if (w->bc) bc_unlink(w);
  free(w);
}

int ack_wait_broadcast(sio_socket *s, int64_t id, bc_collector *bc) {
  ack_wait *w = calloc(1, sizeof *w);
  if (!w) return -1;
  w->socket = s;
  w->id = id;
  w->bc = bc;
  w->bc_next = bc->waits;
  if (bc->waits) bc->waits->bc_prev = w;
  bc->waits = w;
  socket_link(s, w);
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* broadcast collectors                                                                        */

static void bc_finish(bc_collector *bc, const char *err) {
  if (bc->timer_armed) deadline_cancel(&bc->timer);
  if (bc->on_end) {
    void (*on_end)(void *) = bc->on_end;
    bc->on_end = NULL;
    on_end(bc->end_ctx);
  }
  if (bc->prev) bc->prev->next = bc->next;
  else bc->srv->collectors = bc->next;
  if (bc->next) bc->next->prev = bc->prev;
  while (bc->waits) ack_wait_cancel(bc->waits); /* late replies are then simply ignored */
  sio_message *msgs = bc->nreplies ? calloc(bc->nreplies, sizeof *msgs) : NULL;
  for (size_t i = 0; msgs && i < bc->nreplies; i++)
    msgs[i] = (sio_message){NULL, bc->replies[i].args, bc->replies[i].bins, bc->replies[i].nbins};
  if (bc->cb) bc->cb(err, bc->responses, msgs, msgs ? bc->nreplies : 0, bc->ctx);
  free(msgs);
  for (size_t i = 0; i < bc->nreplies; i++) {
    json_decref(bc->replies[i].args);
    for (size_t k = 0; k < bc->replies[i].nbins; k++) free((void *)bc->replies[i].bins[k].data);
    free(bc->replies[i].bins);
  }
  free(bc->replies);
  json_decref(bc->responses);
  free(bc);
}

void bc_collector_abort(bc_collector *bc) {
  bc->cb = NULL;
  bc_finish(bc, NULL);
}

static void bc_check(bc_collector *bc) {
  if (!bc->started || bc->nreplies + bc->relayed + bc->gone < bc->expected) return;
  if (bc->remote && (!bc->servers_known || bc->servers_counted < bc->servers)) return;
  bc_finish(bc, NULL);
}

static void on_bc_timeout(deadline *d) {
  bc_finish(lws_container_of(d, bc_collector, timer), "operation has timed out");
}

bc_collector *bc_collector_new(sio_server *srv, unsigned timeout_ms, sio_bc_ack_fn cb, void *ctx) {
  bc_collector *bc = calloc(1, sizeof *bc);
  if (!bc || !(bc->responses = json_array())) {
    free(bc);
    return NULL;
  }
  bc->srv = srv;
  bc->cb = cb;
  bc->ctx = ctx;
  bc->timeout_ms = timeout_ms;
  bc->next = srv->collectors;
  if (bc->next) bc->next->prev = bc;
  srv->collectors = bc;
  return bc;
}

void bc_collector_start(bc_collector *bc, size_t expected) {
  bc->expected += expected; /* other servers' counts may have come first */
  bc->started = true;
  unsigned ms = bc->timeout_ms ? bc->timeout_ms : bc->remote ? bc->remote_timeout_ms : 0;
  if (ms) {
    bc->timer_armed = true;
    deadline_arm(bc->srv, &bc->timer, ms, on_bc_timeout);
  }
  bc_check(bc);
}

void bc_collector_remote_begin(bc_collector *bc, unsigned default_timeout_ms,
                               void (*on_end)(void *ctx), void *ctx) {
  bc->remote = true;
  bc->remote_timeout_ms = default_timeout_ms;
  bc->on_end = on_end;
  bc->end_ctx = ctx;
}

void bc_collector_remote_servers(bc_collector *bc, size_t servers) {
  bc->servers_known = true;
  bc->servers = servers;
  bc_check(bc);
}

void bc_collector_remote_count(bc_collector *bc, size_t clients) {
  bc->servers_counted++;
  bc->expected += clients;
  bc_check(bc);
}

void bc_collector_remote_gone(bc_collector *bc) {
  bc->on_end = NULL;
  bc->remote = false;
  bc_check(bc);
}

void bc_collector_relay(bc_collector *bc, bc_relay_fn relay) { bc->relay = relay; }

/* Keeps a reply until the collection ends: the arguments by reference, the bytes copied. */
static void bc_store(bc_collector *bc, json_t *args, const sio_bytes *bins, size_t nbins) {
  if (bc->relay) {
    bc->relayed++;
    bc->relay(bc->ctx, args, bins, nbins);
    return;
  }
  if (bc->nreplies == bc->cap) {
    size_t cap = bc->cap ? bc->cap * 2 : 8;
    stored_reply *r = realloc(bc->replies, cap * sizeof *r);
    if (!r) return;
    bc->replies = r;
    bc->cap = cap;
  }
  stored_reply *r = &bc->replies[bc->nreplies];
  *r = (stored_reply){json_incref(args), NULL, 0};
  if (nbins && (r->bins = calloc(nbins, sizeof *r->bins))) {
    for (size_t i = 0; i < nbins; i++) {
      uint8_t *copy = malloc(bins[i].len ? bins[i].len : 1);
      if (!copy) break;
      if (bins[i].len) memcpy(copy, bins[i].data, bins[i].len);
      r->bins[r->nbins++] = (sio_bytes){copy, bins[i].len};
    }
  }
  json_t *first = json_array_size(args) ? json_array_get(args, 0) : json_null();
  json_array_append(bc->responses, first);
  bc->nreplies++;
}

void bc_collector_remote_reply(bc_collector *bc, json_t *args, const sio_bytes *bins,
                               size_t nbins) {
  bc_store(bc, args, bins, nbins);
  bc_check(bc);
}

void ack_server_shutdown(sio_server *srv) {
  while (srv->collectors) bc_finish(srv->collectors, "server shutting down");
  for (unsigned i = 0; i < srv->n_ack_queues; i++) {
    fifo_timer_destroy(&srv->ack_queues[i]->q);
    free(srv->ack_queues[i]);
  }
  srv->n_ack_queues = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* replies and departures                                                                      */

void ack_on_reply(sio_socket *s, int64_t id, json_t *args, const sio_bytes *bins, size_t nbins) {
  ack_wait *w = s->acks;
  while (w && w->id != id) w = w->next;
  if (!w) return; /* unknown or already answered: ignored, as the reference does */
  if (w->bc) {
    bc_collector *bc = w->bc;
    ack_wait_cancel(w);
    bc_store(bc, args, bins, nbins);
    bc_check(bc);
    return;
  }
  sio_ack_fn cb = w->cb;
  void *ctx = w->ctx;
  ack_wait_cancel(w);
  sio_message msg = {NULL, args, bins, nbins};
  cb(s, NULL, &msg, ctx);
}

void ack_socket_closed(sio_socket *s) {
  while (s->acks) {
    ack_wait *w = s->acks;
    if (w->bc) {
      bc_collector *bc = w->bc;
      ack_wait_cancel(w);
      /* With a timeout the reference simply waits for it; without one, stop waiting. */
      if (!bc->timeout_ms) {
        bc->gone++;
        bc_check(bc);
      }
      continue;
    }
    sio_ack_fn cb = w->cb;
    void *ctx = w->ctx;
    ack_wait_cancel(w);
    cb(s, "socket has been disconnected", NULL, ctx);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* client -> server                                                                            */

int sio_ack_send(sio_ack *ack, json_t *args, const sio_bytes *bins, size_t nbins) {
  if (!ack || ack->sent) return -1;
  ack->sent = true;
  sio_socket *s = ack->socket;
  int r = -1;
  json_t *empty = args ? NULL : json_array();
  sio_frames f;
  if (json_is_array(args ? args : empty) && s->client && s->client->open &&
      frames_build(s->srv, SIO_PACKET_ACK, s->nsp->name, ack->id, args ? args : empty, bins,
                   nbins, &f) == 0) {
    r = frames_send(s->client, &f, false) ? 0 : -1;
    frames_clear(&f);
  }
  json_decref(empty);
  if (ack->heap) sio_ack_free(ack);
  return r;
}

sio_ack *sio_ack_retain(sio_ack *ack) {
  if (!ack || ack->sent) return NULL;
  if (ack->heap) return ack;
  sio_ack *h = malloc(sizeof *h);
  if (!h) return NULL;
  *h = (sio_ack){sio_socket_ref(ack->socket), ack->id, false, true, true};
  ack->sent = ack->retained = true; /* the handler's copy is spent: the heap one answers */
  return h;
}

void sio_ack_free(sio_ack *ack) {
  if (!ack || !ack->heap) return;
  socket_release(ack->socket);
  free(ack);
}
