/* The Socket.IO layer's internal structures, shared by its modules:
 *   server.c     the server: options, the Engine.IO endpoint, namespaces by name, shutdown;
 *   client.c     one per Engine.IO session: decoding, binary reassembly, routing to namespaces,
 *                the connect timeout;
 *   namespace.c  namespaces (static, dynamic parents and their children), handler tables,
 *                the middleware chain;
 *   socket.c     sockets: connect, events in, emits out, disconnect, handshake;
 *   ack.c        acknowledgements both ways and their timers;
 *   adapter.c    rooms (the in-memory adapter), the operations, and the cluster hook;
 *   broadcast.c  the broadcast operator;
 *   frames.c     a packet encoded once into shared Engine.IO frames;
 *   recovery.c   connection state recovery: sessions of sockets that left, the replay log. */
#ifndef SIO_SIO_INTERNAL_H
#define SIO_SIO_INTERNAL_H

#include <regex.h>
#include <stddef.h>

#include "eio/eio_server.h"
#include "net/fifo_timer.h"
#include "sio.h"
#include "sio/adapter.h"
#include "sio/ptrset.h"
#include "sio/sio_packet.h"
#include "util/sbuf.h"
#include "util/random_id.h"
#include "util/strmap.h"


typedef struct sio_client sio_client;
typedef struct ack_wait ack_wait;
typedef struct recovery_store recovery_store;
typedef struct recovery_log recovery_log;
typedef struct recovery_session recovery_session;

/* --- handler lists: (function, context) pairs in registration order --- */
typedef void (*any_fn)(void);
typedef struct {
  any_fn fn;
  void *ctx;
} hook;
typedef struct {
  hook *v;
  size_t n;
} hook_list;

int hooks_add(hook_list *l, any_fn fn, void *ctx);
void hooks_free(hook_list *l);

/* --- timers for acknowledgements: a fixed-delay FIFO per distinct delay while there are few
 * distinct delays (the common case: one or two constants in an app), an lws timer each
 * beyond that. Idle sockets cost nothing. --- */
typedef struct deadline deadline;
struct deadline {
  fifo_timer_entry fifo;
  lws_sorted_usec_list_t sul;
  bool on_sul;
  void (*fire)(deadline *d);
};
void deadline_arm(sio_server *srv, deadline *d, unsigned ms, void (*fire)(deadline *d));
void deadline_cancel(deadline *d);

#define ACK_QUEUES_MAX 16
typedef struct ack_queue {
  fifo_timer q;
  unsigned ms;
} ack_queue;

/* --- the server --- */
struct sio_server {
  sio_listener *listener;
  struct lws_context *context;
  eio_server *eio;
  sio_server_options opts;
  char *path;
  sio_codec_limits limits;
  strmap nsps;                       /* name -> sio_namespace (static and children) */
  sio_namespace *parents;            /* dynamic parents, in creation order */
  unsigned parent_count;
  fifo_timer connect_wait;           /* connectTimeout of clients that joined nothing yet */
  ack_queue *ack_queues[ACK_QUEUES_MAX];
  unsigned n_ack_queues;
  struct bc_collector *collectors;   /* broadcasts awaiting acknowledgements */
  sbuf scratch;                      /* encoding buffer, reused by every emit */
  json_t *empty_auth;                /* {}: the auth of sockets that sent none */
  uint64_t epoch;                    /* broadcast marks, see adapter.c */
  const adapter_cluster_ops *cluster; /* the cluster adapter, NULL: in-memory only */
  void *cluster_ctx;
  recovery_store *recovery;          /* connection state recovery, NULL when off */
  bool closing;
};

/* --- namespaces --- */
typedef struct {
  hook_list hooks;
  char name[];
} event_handlers;

struct sio_namespace {
  sio_server *srv;
  char *name;
  sio_namespace *parent;             /* a dynamic child's parent */
  /* A dynamic parent: */
  bool is_parent;
  sio_match_fn match;
  void *match_ctx;
  bool has_regex;
  regex_t regex;
  sio_namespace *next_parent;        /* in the server's list */
  sio_namespace *children;           /* a parent's children, linked by next_child */
  sio_namespace *next_child;
  /* Handlers: */
  hook_list middleware, on_connection, on_any, on_any_out, on_disconnecting, on_disconnect;
  strmap events;                     /* event name -> event_handlers */
  strmap server_events;              /* events from other servers -> event_handlers */
  /* Sockets: */
  strmap sockets;                    /* id -> connected sio_socket */
  sio_adapter adapter;
  recovery_log *log;                 /* replayable packets, when recovery is on */
  uint64_t next_ack_id;              /* the reference's nsp._ids */
};

/* The handler list of `nsp` for `which` (an offset into sio_namespace), parent's first. The
 * callbacks run through both lists with namespace_hooks(). */
typedef struct {
  const hook_list *lists[2];
} hook_chain;
hook_chain namespace_chain(const sio_namespace *nsp, size_t list_offset);
hook_chain namespace_event_chain(const sio_namespace *nsp, const char *event);
hook_chain namespace_server_event_chain(const sio_namespace *nsp, const char *event);
#define NSP_CHAIN(nsp, field) namespace_chain((nsp), offsetof(sio_namespace, field))
#define CHAIN_FOREACH(chain, h)                                                          \
  for (unsigned _l = 0; _l < 2; _l++)                                                     \
    for (size_t _i = 0; (chain).lists[_l] && _i < (chain).lists[_l]->n; _i++)             \
      for (const hook *h = &(chain).lists[_l]->v[_i]; h; h = NULL)

sio_namespace *namespace_new(sio_server *srv, const char *name, sio_namespace *parent);
void namespace_free(sio_namespace *nsp);
/* The namespace a client may join under `name`: existing, or created by a dynamic parent that
 * accepts it; NULL otherwise. */
sio_namespace *namespace_lookup(sio_server *srv, const char *name, const json_t *auth);
/* Runs the middleware chain from the socket's current step; then connects or refuses. */
void namespace_run_middleware(sio_socket *s);

/* --- clients: one per Engine.IO session --- */
struct sio_client {
  sio_server *srv;
  eio_session *eio;                  /* NULL once the session is gone or let go */
  bool open;                         /* packets may be written */
  uint32_t refs;                     /* the session's, one per socket, and callers' on the stack */
  fifo_timer_entry connect_timer;
  sio_socket *sockets;               /* every socket of the client, linked by cnext/cprev */
  unsigned connected;                /* how many of them have joined their namespace */
  /* A binary packet waiting for its attachments: */
  sio_packet partial;
  bool reassembling;
  sio_bytes *bins;
  unsigned nbins;
};

sio_client *client_ref(sio_client *c);
void client_release(sio_client *c);
void client_on_open(eio_session *es, void *ctx);
void client_on_message(eio_session *es, const uint8_t *data, size_t len, bool binary, void *ctx);
void client_on_close(eio_session *es, const char *reason, void *ctx);
/* The server's connect_wait timer: a client that joined no namespace in time is closed. */
void client_connect_timeout(fifo_timer *q, fifo_timer_entry *e);
/* Lets the connection go: every socket leaves with `reason`, then the session is closed after
 * its queue drains (Client.close(): "forced server close"). */
void client_close(sio_client *c, const char *reason);
/* socket.disconnect(true): every socket leaves ("server namespace disconnect"), then close. */
void client_disconnect_all(sio_client *c);
/* A socket joined its namespace (the connect timeout no longer applies). */
void client_socket_connected(sio_client *c);
void client_detach_socket(sio_client *c, sio_socket *s);

/* --- sockets --- */
enum socket_state { SOCK_PENDING, SOCK_CONNECTED, SOCK_CLOSED };

struct sio_next {
  unsigned step;                     /* the middleware it is waiting on */
  bool waiting;                      /* a middleware holds it */
};

struct sio_socket {
  char id[RANDOM_ID_LEN + 1];
  uint8_t state;
  uint32_t refs;
  sio_server *srv;
  sio_namespace *nsp;
  sio_client *client;                /* counted reference; NULL once detached */
  sio_socket *cnext, *cprev;
  json_t *auth;
  sio_handshake *hs;                 /* built on first use */
  char *hs_store;
  int64_t created_ms;
  void *data;
  ptrset rooms;                      /* adapter_room * */
  uint64_t mark;                     /* broadcast epoch, see adapter.c */
  ack_wait *acks;                    /* server->client acks awaiting a reply */
  sio_next next;
  json_t *json;                      /* socket.data as the cluster sees it (NULL: {}) */
  struct remote_info *remote;        /* a socket of another server (fetchSockets) */
  /* Connection state recovery: */
  char pid[RANDOM_ID_LEN + 1];       /* the private session id ("" when recovery is off) */
  bool recovered;
  uint64_t start_seq;                /* the namespace log's position when it connected */
  recovery_session *restored;        /* the session it took over, until it connects */
};

/* A socket of another server, as its fetchSockets answer describes it: never connected here
 * (state SOCK_CLOSED, no client); `rooms` are copied, `handshake` (an object: the reference's
 * handshake) and `data` referenced. NULL if memory is exhausted. */
sio_socket *socket_new_remote(sio_namespace *nsp, const char *id, const char *const *rooms,
                              size_t nrooms, json_t *handshake, json_t *data);
/* The reference's handshake object of a local socket (a new reference), for other servers. */
json_t *socket_handshake_json(sio_socket *s);

sio_socket *socket_new(sio_namespace *nsp, sio_client *c, json_t *auth);
void socket_release(sio_socket *s);
/* The namespace accepted the socket: it joins its own room and gets its CONNECT reply. */
void socket_connect(sio_socket *s);
/* Middleware refused it: CONNECT_ERROR, and it is dropped. */
void socket_refuse(sio_socket *s, const char *message, json_t *data);
/* A decoded packet for this socket (EVENT, ACK, DISCONNECT), with its attachments. */
void socket_on_packet(sio_socket *s, sio_packet *p, const sio_bytes *bins, size_t nbins);
/* Socket._onclose(reason): handlers, rooms, detach. A pending socket is just dropped. */
void socket_close(sio_socket *s, const char *reason);
/* The reference's notifyOutgoingListeners. */
void socket_notify_outgoing(sio_socket *s, const char *event, json_t *args,
                            const sio_bytes *bins, size_t nbins);

/* --- frames: a packet encoded once --- */
typedef struct {
  eio_frame *text;
  eio_frame **bins;
  size_t nbins;
} sio_frames;

/* Encodes a packet: EVENT/ACK become BINARY_* when there are attachments, whose placeholders
 * are checked against `nbins`. Returns 0 or -1. */
int frames_build(sio_server *srv, sio_packet_type type, const char *nsp, int64_t id,
                 const json_t *data, const sio_bytes *bins, size_t nbins, sio_frames *out);
/* Queues the frames to a client (a reference each). Volatile frames are dropped unless the
 * transport can take them now. Returns false if nothing was queued. */
bool frames_send(sio_client *c, const sio_frames *f, bool is_volatile);
void frames_clear(sio_frames *f);
/* [event, ...args] (a new array sharing the arguments). NULL if `args` is not an array. */
json_t *event_data(const char *event, json_t *args);
bool event_name_reserved(const char *event);

/* --- acknowledgements --- */
struct sio_ack {
  sio_socket *socket;                /* counted reference when retained */
  int64_t id;
  bool sent, retained, heap;
};

/* A broadcast's collection of replies. */
typedef struct bc_collector bc_collector;

/* Registers a wait for the reply to ack id `id` from `s`. */
ack_wait *ack_wait_single(sio_socket *s, int64_t id, unsigned timeout_ms, sio_ack_fn cb,
                          void *ctx);
int ack_wait_broadcast(sio_socket *s, int64_t id, bc_collector *bc);
/* A client's ACK packet. */
void ack_on_reply(sio_socket *s, int64_t id, json_t *args, const sio_bytes *bins, size_t nbins);
/* The socket leaves: its waits end ("socket has been disconnected" for single ones). */
void ack_socket_closed(sio_socket *s);
void ack_wait_cancel(ack_wait *w);

bc_collector *bc_collector_new(sio_server *srv, unsigned timeout_ms, sio_bc_ack_fn cb, void *ctx);
/* All recipients are known: starts the completion check (and the timer). */
void bc_collector_start(bc_collector *bc, size_t expected);
/* The broadcast failed before anyone was reached: freed without calling back. */
void bc_collector_abort(bc_collector *bc);
/* The server stops: unfinished broadcasts end ("server shutting down"), the timers go. */
void ack_server_shutdown(sio_server *srv);

/* The cluster's part of a broadcast with acknowledgements (the reference's
 * expectedServerCount / clientCountCallback / ack). begin: other servers take part; their
 * number is not known yet, and without a timeout of its own the collection ends after
 * `default_timeout_ms`. `on_end(ctx)` runs once when the collection ends (before it is freed),
 * so that the cluster forgets it. */
void bc_collector_remote_begin(bc_collector *bc, unsigned default_timeout_ms,
                               void (*on_end)(void *ctx), void *ctx);
/* How many other servers received the request. */
void bc_collector_remote_servers(bc_collector *bc, size_t servers);
/* One server's number of recipients. */
void bc_collector_remote_count(bc_collector *bc, size_t clients);
/* One recipient's reply (its arguments: the reference forwards the first only). */
void bc_collector_remote_reply(bc_collector *bc, json_t *args, const sio_bytes *bins,
                               size_t nbins);
/* The cluster goes: nothing more will come from it (on_end is not called). */
void bc_collector_remote_gone(bc_collector *bc);
/* Relay mode, for a broadcast asked for by another server: each reply goes to `relay` at once
 * instead of being stored; `cb` still runs at the end (with no replies). */
typedef void (*bc_relay_fn)(void *ctx, json_t *args, const sio_bytes *bins, size_t nbins);
void bc_collector_relay(bc_collector *bc, bc_relay_fn relay);

/* --- connection state recovery (recovery.c) --- */

/* Longest offset string, NUL included. */
#define RECOVERY_OFFSET_MAX 32

/* The server's stores: set up by sio_server_attach when recovery is on, freed at shutdown. */
int recovery_server_init(sio_server *srv);
void recovery_server_free(sio_server *srv);
void recovery_namespace_free(sio_namespace *nsp);

/* The next offset of this server, into out[RECOVERY_OFFSET_MAX]. */
void recovery_next_offset(sio_server *srv, char *out);
/* Logs a packet sent with `offset` to the target `o` (rooms, exceptions): the frames gain a
 * reference. Older entries go if the budget is exceeded. Returns 0, or -1 (not logged). */
int recovery_log_add(sio_namespace *nsp, const char *offset, const adapter_opts *o,
                     const sio_frames *frames);

/* CONNECT with auth {pid, offset?}: if the session is known, still recoverable and its missed
 * packets are still in the log, the socket takes over its id, pid and data, and is marked
 * recovered (its rooms and missed packets come at connect). Returns true if recovered. */
bool recovery_restore(sio_socket *s, const json_t *auth);
/* The socket joins its namespace: a recovered one rejoins its rooms and gets its missed
 * packets (before the CONNECT reply, as the reference sends them); every socket gets a pid
 * and its log position. */
void recovery_on_connect(sio_socket *s);
/* The socket leaves for `reason`: a session is kept if the reason is recoverable. */
void recovery_on_close(sio_socket *s, const char *reason);
/* The socket is freed: what it held of a session goes. */
void recovery_socket_free(sio_socket *s);
/* For the metrics: stored sessions and what they cost; a namespace's log size. */
void recovery_stats(const sio_server *srv, size_t *sessions, size_t *session_bytes);
size_t recovery_log_bytes(const sio_namespace *nsp);
/* The socket's rooms or data changed (the cluster's copy of its session is refreshed). */
void recovery_touch(sio_socket *s);

/* The cluster's part (src/redis/redis_recovery.c): sessions kept where every server finds
 * them, so that a client recovers on another server, which finds its missed packets in its own
 * log (every server logs every broadcast of the cluster, under the offset its origin gave). */
typedef struct {
  /* Keeps `session` (JSON: sid, nsp, rooms, data, from) under `pid` for ttl_ms; NULL forgets. */
  void (*save)(void *ctx, const char *pid, json_t *session, unsigned ttl_ms);
  /* Looks the session of `pid` up and forgets it: done(arg, session or NULL) runs once, later
   * (NULL also when the cluster goes first). */
  void (*take)(void *ctx, const char *pid, void (*done)(void *arg, json_t *session), void *arg);
} recovery_cluster_ops;
void recovery_cluster_attach(sio_server *srv, const recovery_cluster_ops *ops, void *ctx);
void recovery_cluster_detach(sio_server *srv);
/* CONNECT with a pid this server does not know: asks the cluster. Returns true if the socket
 * waits for the answer (it then goes on to its middleware or connects by itself). */
bool recovery_restore_cluster(sio_socket *s, const json_t *auth);

/* --- ids --- */
int64_t sio_wall_ms(void);

#endif
