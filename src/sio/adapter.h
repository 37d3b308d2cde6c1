/* The adapter of a namespace: its rooms, and the operations of the broadcast operator.
 *
 * Rooms (the in-memory adapter): room name -> room, each room holding a pointer set of its
 * sockets, and each socket a pointer set of its rooms, so that join, leave and "is in" are O(1)
 * both ways and a socket leaves all its rooms in O(its rooms). Every connected socket is in the
 * room named by its id. An empty room is freed at once.
 *
 * Operations (broadcast, fetchSockets, socketsJoin/Leave, disconnectSockets, serverSideEmit)
 * go through the functions below, which act on this server's sockets. When a cluster is
 * attached (adapter_cluster_attach: the Redis adapter in src/redis/), they also hand the
 * operation to it, unless the operator is `local`; what the cluster receives from the other
 * servers comes back through the same functions with `local` set. Without a cluster nothing
 * changes: the in-memory path is the whole story. */
#ifndef SIO_SIO_ADAPTER_H
#define SIO_SIO_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>

#include "sio.h"
#include "sio/ptrset.h"
#include "util/strmap.h"

typedef struct {
  ptrset members;   /* sio_socket * */
  char name[];
} adapter_room;

typedef struct {
  strmap rooms;     /* name -> adapter_room */
} sio_adapter;

struct bc_collector;

void adapter_init(sio_adapter *a);
/* Frees the rooms (the sockets must have left; leftovers are freed too). */
void adapter_free(sio_adapter *a);

/* socket.join(room): returns 0, or -1 if memory is exhausted. */
int adapter_join(sio_namespace *nsp, sio_socket *s, const char *room);
void adapter_leave(sio_namespace *nsp, sio_socket *s, const char *room);
void adapter_leave_all(sio_namespace *nsp, sio_socket *s);
bool adapter_in_room(sio_namespace *nsp, const sio_socket *s, const char *room);
size_t adapter_room_count(const sio_adapter *a);

/* The target of an operation: the broadcast operator's rooms, exceptions and flags. */
typedef struct {
  const char *const *rooms;
  unsigned nrooms;
  const char *const *except;
  unsigned nexcept;
  bool is_volatile, local, compress;
  unsigned timeout_ms;  /* broadcast with acknowledgements: the operator's timeout, 0: none */
  const char *offset;   /* connection state recovery: the offset the broadcast's origin gave it
                           (set by the cluster for a remote broadcast, and for the cluster) */
} adapter_opts;

/* Calls fn for each connected socket of the namespace that is in one of the rooms (every
 * socket when there are none) and in none of the exceptions, once each. The sockets are
 * collected first and held, so fn may do anything (disconnect, join, leave, emit). Returns
 * how many were selected, or -1 if memory is exhausted. */
typedef void (*adapter_apply_fn)(sio_socket *s, void *ctx);
long adapter_apply(sio_namespace *nsp, const adapter_opts *o, adapter_apply_fn fn, void *ctx);

/* The operations. Each returns the number of local sockets reached, or -1.
 * With a cluster, fetch_sockets calls back once every server has answered (or the cluster's
 * request timeout passed), so possibly after it returns. */
long adapter_broadcast(sio_namespace *nsp, const adapter_opts *o, const char *event,
                       json_t *args, const sio_bytes *bins, size_t nbins);
long adapter_broadcast_with_ack(sio_namespace *nsp, const adapter_opts *o, const char *event,
                                json_t *args, const sio_bytes *bins, size_t nbins,
                                struct bc_collector *bc);
long adapter_fetch_sockets(sio_namespace *nsp, const adapter_opts *o, sio_fetch_fn cb,
                           void *ctx);
long adapter_add_sockets(sio_namespace *nsp, const adapter_opts *o, const char *room);
long adapter_del_sockets(sio_namespace *nsp, const adapter_opts *o, const char *room);
long adapter_disconnect_sockets(sio_namespace *nsp, const adapter_opts *o, bool close);
int adapter_server_side_emit(sio_namespace *nsp, const char *event, json_t *args);
int adapter_server_side_emit_with_ack(sio_namespace *nsp, const char *event, json_t *args,
                                      unsigned timeout_ms, sio_server_acks_fn cb, void *ctx);
/* Servers in the cluster, this one included (the last count the cluster has seen). */
unsigned adapter_server_count(sio_namespace *nsp);

/* ------------------------------------------------------------------------------------------ */
/* The cluster hook: what a cluster adapter implements. The adapter layer calls it after doing
 * the local part of a non-local operation; the cluster tells the other servers, and feeds what
 * they send back into the adapter functions above (with `local` set) or into the aggregations
 * below. Every call runs on the loop and must not block. */

typedef struct adapter_fetch adapter_fetch;
typedef struct adapter_ss_wait adapter_ss_wait;

typedef struct {
  /* A namespace exists (also called for each existing one at attach time). */
  void (*namespace_added)(void *ctx, sio_namespace *nsp);
  void (*broadcast)(void *ctx, sio_namespace *nsp, const adapter_opts *o, const char *event,
                    json_t *args, const sio_bytes *bins, size_t nbins);
  /* Optional. A broadcast that this server must deliver in the cluster's order (connection
   * state recovery: every server logs the cluster's broadcasts in one order, so that a client
   * can recover on any of them): the cluster hands it back later through adapter_broadcast
   * (with `local` and this `o->offset`) to be delivered here. Returns false if it cannot (the
   * link is down): the caller delivers it now. */
  bool (*broadcast_ordered)(void *ctx, sio_namespace *nsp, const adapter_opts *o,
                            const char *event, json_t *args, const sio_bytes *bins,
                            size_t nbins);
  /* The remote part of a broadcast with acknowledgements: see bc_collector_remote_*. */
  void (*broadcast_with_ack)(void *ctx, sio_namespace *nsp, const adapter_opts *o,
                             const char *event, json_t *args, const sio_bytes *bins,
                             size_t nbins, struct bc_collector *bc);
  /* Adds the other servers' sockets to `f` (adapter_fetch_add), then ends it exactly once
   * (adapter_fetch_end), then or later. */
  void (*fetch_sockets)(void *ctx, sio_namespace *nsp, const adapter_opts *o, adapter_fetch *f);
  void (*add_sockets)(void *ctx, sio_namespace *nsp, const adapter_opts *o, const char *room);
  void (*del_sockets)(void *ctx, sio_namespace *nsp, const adapter_opts *o, const char *room);
  void (*disconnect_sockets)(void *ctx, sio_namespace *nsp, const adapter_opts *o, bool close);
  /* `w` NULL: no acknowledgement wanted. Otherwise adapter_ss_reply() per answer, then
   * adapter_ss_end() exactly once. */
  void (*server_side_emit)(void *ctx, sio_namespace *nsp, const char *event, json_t *args,
                           unsigned timeout_ms, adapter_ss_wait *w);
  unsigned (*server_count)(void *ctx, sio_namespace *nsp);
  /* The server shuts down: the cluster lets go of everything (it is detached already). */
  void (*detach)(void *ctx);
} adapter_cluster_ops;

/* One cluster per server. Returns 0, or -1 if one is attached already. */
int adapter_cluster_attach(sio_server *srv, const adapter_cluster_ops *ops, void *ctx);
/* The cluster context attached with `ops`, or NULL. */
void *adapter_cluster_ctx(const sio_server *srv, const adapter_cluster_ops *ops);

/* fetchSockets: a remote socket (from socket_new_remote; the reference is taken over). */
void adapter_fetch_add(adapter_fetch *f, sio_socket *remote);
/* Calls the application back with the local sockets then the remote ones, and frees `f`. */
void adapter_fetch_end(adapter_fetch *f);

/* serverSideEmit with acknowledgements: one server's answer (borrowed; NULL: undefined). */
void adapter_ss_reply(adapter_ss_wait *w, json_t *arg);
/* Calls the application back (err NULL, or the reason) and frees `w`. */
void adapter_ss_end(adapter_ss_wait *w, const char *err);

/* An event from another server (serverSideEmit): runs the namespace's server-event handlers.
 * `ack` (NULL: none wanted) is made by the cluster: the adapter calls its `send` once with the
 * first answer and its `release` once when nobody can answer any more. */
struct sio_server_ack {
  void (*send)(struct sio_server_ack *ack, json_t *arg);
  void (*release)(struct sio_server_ack *ack);
  bool answered, retained, dropped, in_handlers;
};
void adapter_server_event(sio_namespace *nsp, const char *event, json_t *args,
                          struct sio_server_ack *ack);

#endif
