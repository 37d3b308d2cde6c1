/* The adapter of a namespace: its rooms, and the operations of the broadcast operator.
 *
 * Rooms (the in-memory adapter): room name -> room, each room holding a pointer set of its
 * sockets, and each socket a pointer set of its rooms, so that join, leave and "is in" are O(1)
 * both ways and a socket leaves all its rooms in O(its rooms). Every connected socket is in the
 * room named by its id. An empty room is freed at once.
 *
 * Operations (broadcast, fetchSockets, socketsJoin/Leave, disconnectSockets, serverSideEmit)
 * go through the functions below, which act on this server's sockets; a cluster adapter will
 * forward them to the other servers from here too. */
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
} adapter_opts;

/* Calls fn for each connected socket of the namespace that is in one of the rooms (every
 * socket when there are none) and in none of the exceptions, once each. The sockets are
 * collected first and held, so fn may do anything (disconnect, join, leave, emit). Returns
 * how many were selected, or -1 if memory is exhausted. */
typedef void (*adapter_apply_fn)(sio_socket *s, void *ctx);
long adapter_apply(sio_namespace *nsp, const adapter_opts *o, adapter_apply_fn fn, void *ctx);

/* The operations. Each returns the number of local sockets reached, or -1. */
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
/* Servers in the cluster, this one included. */
unsigned adapter_server_count(sio_namespace *nsp);

#endif
