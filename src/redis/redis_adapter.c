/* The Redis adapter: the cluster hook of src/sio/adapter.h over Redis pub/sub, speaking the
 * wire format of @socket.io/redis-adapter 8.x (its default, non-sharded adapter) and
 * @socket.io/redis-emitter 5.x, so that sio and Node.js servers can share one cluster.
 *
 * Channels, per namespace `nsp`, with `prefix` ("socket.io" by default, the reference's key):
 *   <prefix>#<nsp>#                    broadcasts to the whole namespace (or several rooms)
 *   <prefix>#<nsp>#<room>#             broadcasts to exactly one room
 *                                      (both heard through PSUBSCRIBE <prefix>#<nsp>#*)
 *   <prefix>-request#<nsp>#            requests between servers
 *   <prefix>-response#<nsp>#           responses (the reference's default response channel)
 *   <prefix>-response#<nsp>#<uid>#     responses for one server (publishOnSpecificResponseChannel)
 * A broadcast is msgpack [uid, packet {type, data, nsp}, opts {rooms, except, flags}]. Requests
 * are JSON objects {uid, requestId?, type, ...}, except BROADCAST (with acks), which is msgpack
 * since it carries the packet; responses are JSON, except BROADCAST_ACK (msgpack). Request
 * types: 0 SOCKETS, 1 ALL_ROOMS, 2 REMOTE_JOIN, 3 REMOTE_LEAVE, 4 REMOTE_DISCONNECT,
 * 5 REMOTE_FETCH, 6 SERVER_SIDE_EMIT, 7 BROADCAST, 8 BROADCAST_CLIENT_COUNT, 9 BROADCAST_ACK.
 * sio answers on the requester's own response channel (every 8.x server listens there), and
 * serverSideEmit acknowledgements on the shared one, as the reference does.
 *
 * How many servers should answer: the reply to PUBLISH on the request channel is the number of
 * connections subscribed to it, one per server (ours included): the reference asks PUBSUB
 * NUMSUB for the same number, in a second round trip.
 *
 * The link: one connection publishes, one subscribes, both hiredis async clients on the
 * listener's loop (redis_loop.c). If either goes, the server carries on alone (operations are
 * local, what others publish meanwhile is missed), says so once in the log, in the
 * sio_redis_link_up gauge and sio_redis_status(), and reconnects with backoff (100 ms doubling
 * to 5 s), subscribing again. Nothing here blocks: the host is resolved once, at attach.
 *
 * Everything that arrives is checked: messages larger than MAX_MESSAGE, that do not decode
 * (JSON or msgpack: redis_codec.c), or whose fields have the wrong types are counted in
 * metrics.redis_messages_dropped and dropped. */
#include <ctype.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/listener.h"
#include "redis/redis_codec.h"
#include "redis/redis_loop.h"
#include "redis/redis_recovery.h"
#include "sio/sio_internal.h"
#include "util/json_write.h"
#include "util/log.h"
#include "util/metrics.h"

#define REQUEST_TIMEOUT_MS 5000       /* the reference's requestsTimeout */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define CONNECT_TIMEOUT_MS 3000
#define MAX_MESSAGE (16u << 20)       /* bytes of one message; Redis' pub/sub buffer is 32 MiB */
#define MAX_ATTACHMENTS 1024          /* binary attachments of one remote packet */

enum {
  REQ_SOCKETS = 0,
  REQ_ALL_ROOMS = 1,
  REQ_REMOTE_JOIN = 2,
  REQ_REMOTE_LEAVE = 3,
  REQ_REMOTE_DISCONNECT = 4,
  REQ_REMOTE_FETCH = 5,
  REQ_SERVER_SIDE_EMIT = 6,
  REQ_BROADCAST = 7,
  REQ_BROADCAST_CLIENT_COUNT = 8,
  REQ_BROADCAST_ACK = 9,
};

typedef struct redis_adapter redis_adapter;

/* A namespace's channels. */
typedef struct {
  sio_namespace *nsp;
  char *bc_channel;      /* prefix#nsp# */
  size_t bc_len;
  char *pattern;         /* bc_channel with glob characters escaped, then '*' */
  char *req_channel;     /* prefix-request#nsp# */
  char *resp_channel;    /* prefix-response#nsp# */
  char *own_channel;     /* prefix-response#nsp#uid# */
} nsp_entry;

/* A request of ours waiting for answers. */
typedef enum { P_FETCH, P_SS, P_BC } pending_kind;
typedef struct pending pending;
struct pending {
  pending *prev, *next;
  redis_adapter *r;
  pending_kind kind;
  char id[RANDOM_ID_LEN + 1];     /* requestId */
  uint64_t serial;                /* for the PUBLISH reply */
  size_t expected, answered;
  bool expected_known;
  bool timer_armed;
  lws_sorted_usec_list_t timer;
  adapter_fetch *fetch;
  adapter_ss_wait *ss;
  bc_collector *bc;
};

/* A broadcast with acknowledgements that another server asked for: replies go back to it. */
typedef struct relay relay;
struct relay {
  relay *prev, *next;
  redis_adapter *r;               /* NULL once the adapter is gone */
  char *request_id;
  char *channel;
};

/* An acknowledgement another server waits for (serverSideEmit). */
typedef struct remote_ack remote_ack;
struct remote_ack {
  struct sio_server_ack base;
  remote_ack *prev, *next;
  redis_adapter *r;               /* NULL once the adapter is gone */
  char *request_id;
  char *channel;
};

struct redis_adapter {
  sio_server *srv;
  sio_listener *listener;
  struct lws_context *context;
  char *host;                     /* numeric, resolved at attach */
  int port;
  char *user, *password;
  char *prefix;
  char uid[RANDOM_ID_LEN + 1];
  redisAsyncContext *pub, *sub;
  redis_recovery *recovery;       /* sessions of connection state recovery, when it is on */
  bool pub_up, sub_up;
  bool warned;                    /* the link's loss has been logged */
  bool detached;
  unsigned backoff_ms;
  lws_sorted_usec_list_t retry_timer, connect_timer;
  nsp_entry **entries;
  size_t nentries;
  strmap by_name;                 /* nsp name -> nsp_entry */
  strmap patterns;                /* pattern -> nsp_entry */
  strmap channels;                /* request and response channels -> nsp_entry */
  pending *pendings;
  strmap pending_ids;             /* requestId -> pending */
  uint64_t serial;
  relay *relays;
  remote_ack *acks;
  unsigned remote_servers;        /* other servers at the last count */
  sbuf json;                      /* encoding buffer for JSON messages */
};

static const adapter_cluster_ops redis_ops;

static bool link_up(const redis_adapter *r) { return r->pub_up && r->sub_up; }

static void dropped(const char *why) {
  metrics.redis_messages_dropped++;
  LOG_D("redis", "message dropped: %s", why);
}

/* ------------------------------------------------------------------------------------------ */
/* publishing                                                                                  */

bool redis_adapter_send(redis_adapter *r, redisCallbackFn *cb, void *priv, int argc,
                        const char **argv, const size_t *lens) {
  return r->pub && link_up(r) &&
         redisAsyncCommandArgv(r->pub, cb, priv, argc, argv, lens) == REDIS_OK;
}

static bool publish(redis_adapter *r, const char *channel, const void *data, size_t len,
                    redisCallbackFn *cb, void *priv) {
  if (!r->pub || !link_up(r)) return false;
  const char *argv[3] = {"PUBLISH", channel, data};
  size_t lens[3] = {7, strlen(channel), len};
  if (redisAsyncCommandArgv(r->pub, cb, priv, 3, argv, lens) != REDIS_OK) return false;
  metrics.redis_messages_out++;
  return true;
}

static bool publish_json(redis_adapter *r, const char *channel, const json_t *v,
                         redisCallbackFn *cb, void *priv) {
  sbuf *b = &r->json;
  b->len = 0;
  b->failed = false;
  if (!v || !json_write(b, v, r->srv->limits.max_depth + 4)) {
    LOG_D("redis", "cannot encode a message for %s", channel);
    return false;
  }
  bool ok = publish(r, channel, b->data, b->len, cb, priv);
  if (b->cap > 65536) {
    sbuf_free(b);
    sbuf_init(b, MAX_MESSAGE);
  }
  return ok;
}

/* The channel a response to `uid` goes to: its own when it has a uid, else the shared one. */
static char *response_channel(const nsp_entry *e, const char *uid) {
  if (!uid) return strdup(e->resp_channel);
  size_t a = strlen(e->resp_channel), u = strlen(uid);
  char *c = malloc(a + u + 2);
  if (!c) return NULL;
  memcpy(c, e->resp_channel, a);
  memcpy(c + a, uid, u);
  c[a + u] = '#';
  c[a + u + 1] = 0;
  return c;
}

static void respond(redis_adapter *r, const nsp_entry *e, const char *uid, json_t *msg) {
  char *channel = response_channel(e, uid);
  if (channel && msg) publish_json(r, channel, msg, NULL, NULL);
  free(channel);
  json_decref(msg);
}

static json_t *string_array(const char *const *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++)
    if (json_array_append_new(a, json_string(v[i]))) {
      json_decref(a);
      return NULL;
    }
  return a;
}

/* {rooms, except} of an operator, as the reference's requests carry them. */
static json_t *opts_json(const adapter_opts *o) {
  json_t *rooms = string_array(o->rooms, o->nrooms), *except = string_array(o->except, o->nexcept);
  return json_pack("{soso}", "rooms", rooms, "except", except);
}

static int pack_strings(msgpack_packer *pk, const char *const *v, size_t n) {
  if (msgpack_pack_array(pk, n)) return -1;
  for (size_t i = 0; i < n; i++)
    if (rcodec_pack_str(pk, v[i])) return -1;
  return 0;
}

/* The packet {type: 2, data: [event, ...args], nsp}. */
static int pack_packet(msgpack_packer *pk, sio_namespace *nsp, const char *event, json_t *args,
                       const sio_bytes *bins, size_t nbins, unsigned max_depth) {
  size_t n = json_array_size(args);
  if (msgpack_pack_map(pk, 3) || rcodec_pack_str(pk, "type") || msgpack_pack_int(pk, 2) ||
      rcodec_pack_str(pk, "data") || msgpack_pack_array(pk, n + 1) || rcodec_pack_str(pk, event))
    return -1;
  for (size_t i = 0; i < n; i++)
    if (rcodec_pack_json(pk, json_array_get(args, i), bins, nbins, max_depth)) return -1;
  return rcodec_pack_str(pk, "nsp") || rcodec_pack_str(pk, nsp->name) ? -1 : 0;
}

/* {rooms, except, flags}: flags as the reference's operator has them (volatile, compress
 * when turned off, timeout when set). */
static int pack_opts(msgpack_packer *pk, const adapter_opts *o) {
  unsigned nflags = (o->is_volatile ? 1 : 0) + (o->compress ? 0 : 1) + (o->timeout_ms ? 1 : 0) +
                    (o->offset ? 1 : 0);
  if (msgpack_pack_map(pk, 3) || rcodec_pack_str(pk, "rooms") ||
      pack_strings(pk, o->rooms, o->nrooms) || rcodec_pack_str(pk, "except") ||
      pack_strings(pk, o->except, o->nexcept) || rcodec_pack_str(pk, "flags") ||
      msgpack_pack_map(pk, nflags))
    return -1;
  if (o->is_volatile && (rcodec_pack_str(pk, "volatile") || msgpack_pack_true(pk))) return -1;
  if (!o->compress && (rcodec_pack_str(pk, "compress") || msgpack_pack_false(pk))) return -1;
  if (o->timeout_ms &&
      (rcodec_pack_str(pk, "timeout") || msgpack_pack_unsigned_int(pk, o->timeout_ms)))
    return -1;
  /* sio's own flag (connection state recovery): the offset every server logs the packet under.
   * Node.js servers ignore flags they do not know. */
  if (o->offset && (rcodec_pack_str(pk, "offset") || rcodec_pack_str(pk, o->offset))) return -1;
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* namespaces and subscriptions                                                                */

static char *concat(const char *a, const char *b, const char *c) {
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  char *s = malloc(la + lb + lc + 1);
  if (!s) return NULL;
  memcpy(s, a, la);
  memcpy(s + la, b, lb);
  memcpy(s + la + lb, c, lc + 1);
  return s;
}

/* Redis glob: the name's * ? [ ] \ are escaped so that it matches literally. */
static char *glob_pattern(const char *literal) {
  size_t n = strlen(literal);
  char *p = malloc(2 * n + 2), *o = p;
  if (!p) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (strchr("*?[]\\", literal[i])) *o++ = '\\';
    *o++ = literal[i];
  }
  *o++ = '*';
  *o = 0;
  return p;
}

static void entry_free(nsp_entry *e) {
  if (!e) return;
  free(e->bc_channel);
  free(e->pattern);
  free(e->req_channel);
  free(e->resp_channel);
  free(e->own_channel);
  free(e);
}

static void on_sub_reply(redisAsyncContext *ac, void *reply, void *priv);

static void subscribe_entry(redis_adapter *r, const nsp_entry *e) {
  if (!r->sub) return;
  const char *argv[2];
  size_t lens[2];
  argv[0] = "PSUBSCRIBE", lens[0] = 10;
  argv[1] = e->pattern, lens[1] = strlen(e->pattern);
  redisAsyncCommandArgv(r->sub, on_sub_reply, r, 2, argv, lens);
  const char *chans[3] = {e->req_channel, e->resp_channel, e->own_channel};
  for (int i = 0; i < 3; i++) {
    argv[0] = "SUBSCRIBE", lens[0] = 9;
    argv[1] = chans[i], lens[1] = strlen(chans[i]);
    redisAsyncCommandArgv(r->sub, on_sub_reply, r, 2, argv, lens);
  }
}

static void namespace_added(void *ctx, sio_namespace *nsp) {
  redis_adapter *r = ctx;
  if (strmap_get(&r->by_name, nsp->name)) return;
  nsp_entry *e = calloc(1, sizeof *e);
  nsp_entry **grown = realloc(r->entries, (r->nentries + 1) * sizeof *grown);
  if (grown) r->entries = grown;
  char *req_prefix = concat(r->prefix, "-request#", ""), *resp_prefix = concat(r->prefix, "-response#", "");
  if (e) {
    e->nsp = nsp;
    e->bc_channel = concat(r->prefix, "#", nsp->name);
    char *bc = e->bc_channel ? concat(e->bc_channel, "#", "") : NULL;
    free(e->bc_channel);
    e->bc_channel = bc;
    e->pattern = bc ? glob_pattern(bc) : NULL;
    e->req_channel = req_prefix ? concat(req_prefix, nsp->name, "#") : NULL;
    e->resp_channel = resp_prefix ? concat(resp_prefix, nsp->name, "#") : NULL;
    e->own_channel = e->resp_channel ? concat(e->resp_channel, r->uid, "#") : NULL;
  }
  free(req_prefix);
  free(resp_prefix);
  if (!e || !grown || !e->bc_channel || !e->pattern || !e->req_channel || !e->resp_channel ||
      !e->own_channel || !strmap_put(&r->by_name, nsp->name, e)) {
    LOG_E("redis", "out of memory: namespace %s stays out of the cluster", nsp->name);
    entry_free(e);
    return;
  }
  e->bc_len = strlen(e->bc_channel);
  r->entries[r->nentries++] = e;
  strmap_put(&r->patterns, e->pattern, e);
  strmap_put(&r->channels, e->req_channel, e);
  strmap_put(&r->channels, e->resp_channel, e);
  strmap_put(&r->channels, e->own_channel, e);
  subscribe_entry(r, e);
  LOG_D("redis", "namespace in the cluster nsp=%s channel=%s", nsp->name, e->bc_channel);
}

static nsp_entry *entry_of(redis_adapter *r, sio_namespace *nsp) {
  return strmap_get(&r->by_name, nsp->name);
}

/* ------------------------------------------------------------------------------------------ */
/* requests of ours                                                                            */

static void pending_free(pending *p) {
  redis_adapter *r = p->r;
  if (p->timer_armed) lws_sul_cancel(&p->timer);
  if (p->prev) p->prev->next = p->next;
  else r->pendings = p->next;
  if (p->next) p->next->prev = p->prev;
  strmap_remove(&r->pending_ids, p->id);
  free(p);
}

static pending *pending_new(redis_adapter *r, pending_kind kind) {
  pending *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  if (!random_id(p->id) || !strmap_put(&r->pending_ids, p->id, p)) {
    free(p);
    return NULL;
  }
  p->r = r;
  p->kind = kind;
  p->serial = ++r->serial;
  p->next = r->pendings;
  if (p->next) p->next->prev = p;
  r->pendings = p;
  return p;
}

/* Ends a fetch or a serverSideEmit with acknowledgements. */
static void pending_finish(pending *p, const char *err) {
  adapter_fetch *f = p->fetch;
  adapter_ss_wait *w = p->ss;
  pending_free(p);
  if (f) adapter_fetch_end(f);
  if (w) adapter_ss_end(w, err);
}

static void pending_check(pending *p) {
  if (p->expected_known && p->answered >= p->expected) pending_finish(p, NULL);
}

static void on_pending_timeout(lws_sorted_usec_list_t *sul) {
  pending *p = lws_container_of(sul, pending, timer);
  p->timer_armed = false;
  char err[128];
  size_t expected = p->expected_known ? p->expected : p->answered;
  if (p->kind == P_FETCH) {
    LOG_W("redis", "fetchSockets: %zu of %zu servers answered in time", p->answered, expected);
    pending_finish(p, NULL);
    return;
  }
  snprintf(err, sizeof err, "timeout reached: only %zu responses received out of %zu",
           p->answered, expected);
  pending_finish(p, err);
}

static void pending_arm(pending *p, unsigned ms) {
  p->timer_armed = true;
  lws_sul_schedule(p->r->context, 0, &p->timer, on_pending_timeout, (lws_usec_t)ms * 1000);
}

static pending *pending_by_serial(redis_adapter *r, uint64_t serial) {
  for (pending *p = r->pendings; p; p = p->next)
    if (p->serial == serial) return p;
  return NULL;
}

/* The reply to PUBLISH on the request channel: how many servers got the request, ourselves
 * included while our subscription is up. */
static void on_request_published(redisAsyncContext *ac, void *reply, void *priv) {
  redis_adapter *r = ac->data;
  redisReply *rep = reply;
  if (!r || r->detached) return;
  long long n = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
  if (r->sub_up && n > 0) n--;
  if (n < 0) n = 0;
  r->remote_servers = (unsigned)n;
  pending *p = pending_by_serial(r, (uint64_t)(uintptr_t)priv);
  if (!p) return;
  if (p->kind == P_BC) {
    bc_collector_remote_servers(p->bc, (size_t)n); /* may end it, and free p */
    return;
  }
  p->expected = (size_t)n;
  p->expected_known = true;
  pending_check(p);
}

static bool publish_request(redis_adapter *r, const nsp_entry *e, json_t *req, pending *p) {
  bool ok = req && publish_json(r, e->req_channel, req, p ? on_request_published : NULL,
                                p ? (void *)(uintptr_t)p->serial : NULL);
  json_decref(req);
  return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* the cluster hook: operations of this server                                                 */

static void op_broadcast(void *ctx, sio_namespace *nsp, const adapter_opts *o, const char *event,
                         json_t *args, const sio_bytes *bins, size_t nbins) {
  redis_adapter *r = ctx;
  nsp_entry *e = entry_of(r, nsp);
  if (!e || !link_up(r)) return;
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  char *channel = o->nrooms == 1 ? concat(e->bc_channel, o->rooms[0], "#") : NULL;
  if ((o->nrooms != 1 || channel) && !msgpack_pack_array(&pk, 3) &&
      !rcodec_pack_str(&pk, r->uid) &&
      !pack_packet(&pk, nsp, event, args, bins, nbins, r->srv->limits.max_depth) &&
      !pack_opts(&pk, o))
    publish(r, channel ? channel : e->bc_channel, sb.data, sb.size, NULL, NULL);
  else
    LOG_W("redis", "cannot encode a broadcast nsp=%s event=%s", nsp->name, event);
  free(channel);
  msgpack_sbuffer_destroy(&sb);
}

/* A broadcast published to be delivered here too when Redis hands it back, so that every
 * server delivers (and logs, for connection state recovery) the cluster's broadcasts in the
 * one order Redis gives them. Kept until Redis has taken it: if the publication fails, it is
 * delivered here at once. */
typedef struct {
  redis_adapter *r;
  sio_namespace *nsp;
  size_t len;
  char data[];
} ordered;

static void broadcast_in(redis_adapter *r, nsp_entry *e, const char *data, size_t len);

static void on_ordered_published(redisAsyncContext *ac, void *reply, void *priv) {
  ordered *m = priv;
  const redisReply *rep = reply;
  redis_adapter *r = m->r;
  if ((!rep || rep->type == REDIS_REPLY_ERROR) && !r->detached) {
    nsp_entry *e = entry_of(r, m->nsp);
    if (e) broadcast_in(r, e, m->data, m->len);
  }
  free(m);
}

static bool op_broadcast_ordered(void *ctx, sio_namespace *nsp, const adapter_opts *o,
                                 const char *event, json_t *args, const sio_bytes *bins,
                                 size_t nbins) {
  redis_adapter *r = ctx;
  nsp_entry *e = entry_of(r, nsp);
  if (!e || !link_up(r) || !o->offset) return false;
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  char *channel = o->nrooms == 1 ? concat(e->bc_channel, o->rooms[0], "#") : NULL;
  ordered *m = NULL;
  bool ok = (o->nrooms != 1 || channel) && !msgpack_pack_array(&pk, 3) &&
            !rcodec_pack_str(&pk, r->uid) &&
            !pack_packet(&pk, nsp, event, args, bins, nbins, r->srv->limits.max_depth) &&
            !pack_opts(&pk, o) && sb.size <= MAX_MESSAGE && (m = malloc(sizeof *m + sb.size));
  if (ok) {
    *m = (ordered){r, nsp, sb.size};
    memcpy(m->data, sb.data, sb.size);
    ok = publish(r, channel ? channel : e->bc_channel, sb.data, sb.size, on_ordered_published, m);
    if (!ok) free(m);
  }
  free(channel);
  msgpack_sbuffer_destroy(&sb);
  return ok;
}

static void on_bc_end(void *ctx) { pending_free(ctx); }

static void op_broadcast_with_ack(void *ctx, sio_namespace *nsp, const adapter_opts *o,
                                  const char *event, json_t *args, const sio_bytes *bins,
                                  size_t nbins, bc_collector *bc) {
  redis_adapter *r = ctx;
  nsp_entry *e = entry_of(r, nsp);
  if (!e || !link_up(r)) return;
  pending *p = pending_new(r, P_BC);
  if (!p) return;
  p->bc = bc;
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  bool ok = !msgpack_pack_map(&pk, 5) && !rcodec_pack_str(&pk, "uid") &&
            !rcodec_pack_str(&pk, r->uid) && !rcodec_pack_str(&pk, "requestId") &&
            !rcodec_pack_str(&pk, p->id) && !rcodec_pack_str(&pk, "type") &&
            !msgpack_pack_int(&pk, REQ_BROADCAST) && !rcodec_pack_str(&pk, "packet") &&
            !pack_packet(&pk, nsp, event, args, bins, nbins, r->srv->limits.max_depth) &&
            !rcodec_pack_str(&pk, "opts") && !pack_opts(&pk, o) &&
            publish(r, e->req_channel, sb.data, sb.size, on_request_published,
                    (void *)(uintptr_t)p->serial);
  msgpack_sbuffer_destroy(&sb);
  if (!ok) {
    pending_free(p);
    return;
  }
  bc_collector_remote_begin(bc, REQUEST_TIMEOUT_MS, on_bc_end, p);
}

static void op_fetch_sockets(void *ctx, sio_namespace *nsp, const adapter_opts *o,
                             adapter_fetch *f) {
  redis_adapter *r = ctx;
  nsp_entry *e = entry_of(r, nsp);
  pending *p = e && link_up(r) ? pending_new(r, P_FETCH) : NULL;
  if (!p) {
    adapter_fetch_end(f);
    return;
  }
  p->fetch = f;
  json_t *req = json_pack("{sssssiso}", "uid", r->uid, "requestId", p->id, "type",
                          REQ_REMOTE_FETCH, "opts", opts_json(o));
  if (!publish_request(r, e, req, p)) {
    pending_finish(p, NULL);
    return;
  }
  pending_arm(p, REQUEST_TIMEOUT_MS);
}

/* socketsJoin / socketsLeave: {uid, type, opts, rooms}. */
static void room_request(redis_adapter *r, sio_namespace *nsp, const adapter_opts *o, int type,
                         const char *room) {
  nsp_entry *e = entry_of(r, nsp);
  if (!e || !link_up(r)) return;
  json_t *req = json_pack("{sssisos[s]}", "uid", r->uid, "type", type, "opts", opts_json(o),
                          "rooms", room);
  publish_request(r, e, req, NULL);
}

static void op_add_sockets(void *ctx, sio_namespace *nsp, const adapter_opts *o, const char *room) {
  room_request(ctx, nsp, o, REQ_REMOTE_JOIN, room);
}

static void op_del_sockets(void *ctx, sio_namespace *nsp, const adapter_opts *o, const char *room) {
  room_request(ctx, nsp, o, REQ_REMOTE_LEAVE, room);
}

static void op_disconnect_sockets(void *ctx, sio_namespace *nsp, const adapter_opts *o,
                                  bool close) {
  redis_adapter *r = ctx;
  nsp_entry *e = entry_of(r, nsp);
  if (!e || !link_up(r)) return;
  json_t *req = json_pack("{sssisosb}", "uid", r->uid, "type", REQ_REMOTE_DISCONNECT, "opts",
                          opts_json(o), "close", close);
  publish_request(r, e, req, NULL);
}

static void op_server_side_emit(void *ctx, sio_namespace *nsp, const char *event, json_t *args,
                                unsigned timeout_ms, adapter_ss_wait *w) {
  redis_adapter *r = ctx;
  nsp_entry *e = entry_of(r, nsp);
  json_t *data = event_data(event, args);
  pending *p = w && e && data && link_up(r) ? pending_new(r, P_SS) : NULL;
  if (w && !p) {
    json_decref(data);
    adapter_ss_end(w, NULL); /* nobody else to hear it */
    return;
  }
  if (!e || !data || !link_up(r)) {
    json_decref(data);
    return;
  }
  json_t *req = json_pack("{sssiso}", "uid", r->uid, "type", REQ_SERVER_SIDE_EMIT, "data", data);
  if (p) {
    p->ss = w;
    if (req) json_object_set_new(req, "requestId", json_string(p->id));
  }
  if (!publish_request(r, e, req, p)) {
    if (p) pending_finish(p, NULL);
    return;
  }
  if (p) pending_arm(p, timeout_ms ? timeout_ms : REQUEST_TIMEOUT_MS);
}

static unsigned op_server_count(void *ctx, sio_namespace *nsp) {
  redis_adapter *r = ctx;
  return 1 + (link_up(r) ? r->remote_servers : 0);
}

/* ------------------------------------------------------------------------------------------ */
/* incoming: decoding                                                                          */

/* A request or response: JSON when it starts with '{' (as the reference tells them apart),
 * msgpack otherwise; an object either way. */
static json_t *decode_message(const char *data, size_t len, rcodec_bins *bins) {
  memset(bins, 0, sizeof *bins);
  bins->max = MAX_ATTACHMENTS;
  if (len > MAX_MESSAGE || len == 0) return NULL;
  json_t *v = NULL;
  if (data[0] == '{') {
    v = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  } else {
    msgpack_unpacked u;
    if (rcodec_unpack((const uint8_t *)data, len, &u) == 0) {
      v = rcodec_to_json(&u.data, bins, RCODEC_MAX_DEPTH);
      msgpack_unpacked_destroy(&u);
    }
  }
  if (!json_is_object(v)) {
    json_decref(v);
    rcodec_bins_free(bins);
    return NULL;
  }
  return v;
}

/* A list of room names: strings (without NUL) or integers (their decimal form, as a JS Set of
 * numbers would match). Returns false if `v` is neither absent nor such a list. */
typedef struct {
  char **v;
  size_t n;
} name_list;

static void names_free(name_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

static bool names_from(const json_t *v, name_list *out) {
  memset(out, 0, sizeof *out);
  if (!v || json_is_null(v)) return true;
  if (!json_is_array(v)) return false;
  size_t n = json_array_size(v);
  if (n && !(out->v = calloc(n, sizeof *out->v))) return false;
  for (size_t i = 0; i < n; i++) {
    const json_t *x = json_array_get(v, i);
    char buf[32];
    const char *s = NULL;
    if (json_is_string(x) && strlen(json_string_value(x)) == json_string_length(x))
      s = json_string_value(x);
    else if (json_is_integer(x)) {
      snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(x));
      s = buf;
    }
    if (!s || !(out->v[out->n] = strdup(s))) {
      names_free(out);
      return false;
    }
    out->n++;
  }
  return true;
}

/* The operator's selection from {rooms, except} (absent fields: none). */
typedef struct {
  name_list rooms, except;
  adapter_opts o;
} selection;

static bool selection_from(const json_t *opts, selection *sel) {
  memset(sel, 0, sizeof *sel);
  if (opts && !json_is_object(opts)) return false;
  if (!names_from(json_object_get(opts, "rooms"), &sel->rooms) ||
      !names_from(json_object_get(opts, "except"), &sel->except)) {
    names_free(&sel->rooms);
    return false;
  }
  const json_t *flags = json_object_get(opts, "flags");
  const char *offset = json_string_value(json_object_get(flags, "offset"));
  if (offset && strlen(offset) >= RECOVERY_OFFSET_MAX) offset = NULL;
  sel->o = (adapter_opts){
      .rooms = (const char *const *)sel->rooms.v, .nrooms = (unsigned)sel->rooms.n,
      .except = (const char *const *)sel->except.v, .nexcept = (unsigned)sel->except.n,
      .is_volatile = json_is_true(json_object_get(flags, "volatile")),
      .local = true, /* what comes from the cluster is done here only */
      .compress = true,
      .offset = offset, /* lives as long as `opts` */
  };
  return true;
}

static void selection_free(selection *sel) {
  names_free(&sel->rooms);
  names_free(&sel->except);
}

/* The event name of a packet's data (its first element): a string, or a number's decimal form;
 * NULL for anything else or a reserved name. */
static const char *event_name(const json_t *first, char *buf, size_t cap) {
  const char *ev = NULL;
  if (json_is_string(first) && strlen(json_string_value(first)) == json_string_length(first))
    ev = json_string_value(first);
  else if (json_is_integer(first)) {
    snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(first));
    ev = buf;
  }
  return ev && !event_name_reserved(ev) ? ev : NULL;
}

/* The event and arguments of a packet {type: EVENT or BINARY_EVENT, data: [event, ...args]}:
 * `args` is a new array. */
static const char *packet_event(const json_t *packet, char *buf, size_t cap, json_t **args) {
  json_int_t type = json_integer_value(json_object_get(packet, "type"));
  json_t *data = json_object_get(packet, "data");
  if (!json_is_integer(json_object_get(packet, "type")) ||
      (type != SIO_PACKET_EVENT && type != SIO_PACKET_BINARY_EVENT) ||
      !json_is_array(data) || !json_array_size(data))
    return NULL;
  const char *ev = event_name(json_array_get(data, 0), buf, cap);
  if (!ev || !(*args = json_array())) return NULL;
  for (size_t i = 1; i < json_array_size(data); i++)
    json_array_append(*args, json_array_get(data, i));
  return ev;
}

/* ------------------------------------------------------------------------------------------ */
/* incoming: broadcasts                                                                        */

static void on_broadcast(redis_adapter *r, const redisReply *pattern, const redisReply *channel,
                         const redisReply *payload) {
  nsp_entry *e = strmap_get(&r->patterns, pattern->str);
  if (!e || channel->len < e->bc_len || memcmp(channel->str, e->bc_channel, e->bc_len)) return;
  /* As the reference: the room is what follows the namespace's channel, minus one character
   * (the closing '#'); a room nobody here is in is ignored before decoding. */
  size_t rlen = channel->len - e->bc_len;
  if (rlen > 1) {
    char *room = strndup(channel->str + e->bc_len, rlen - 1);
    bool known = room && strlen(room) == rlen - 1 && strmap_get(&e->nsp->adapter.rooms, room);
    free(room);
    /* With connection state recovery every broadcast is logged: a client may recover here. */
    if (!known && !r->recovery) return;
  }
  if (payload->type != REDIS_REPLY_STRING || payload->len > MAX_MESSAGE) {
    dropped("broadcast too large");
    return;
  }
  broadcast_in(r, e, payload->str, payload->len);
}

/* A broadcast message [uid, packet, opts], from the channel or (ordered broadcasts whose
 * publication failed) from ourselves. */
static void broadcast_in(redis_adapter *r, nsp_entry *e, const char *data, size_t len) {
  msgpack_unpacked u;
  if (rcodec_unpack((const uint8_t *)data, len, &u)) {
    dropped("broadcast is not msgpack");
    return;
  }
  const msgpack_object *root = &u.data;
  json_t *msg = NULL, *args = NULL;
  rcodec_bins bins = {.max = MAX_ATTACHMENTS};
  selection sel;
  bool have_sel = false;
  const char *why = NULL;
  if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size < 3) {
    why = "broadcast is not [uid, packet, opts]";
    goto out;
  }
  const msgpack_object *uid = &root->via.array.ptr[0];
  bool own = uid->type == MSGPACK_OBJECT_STR && uid->via.str.size == strlen(r->uid) &&
             memcmp(uid->via.str.ptr, r->uid, uid->via.str.size) == 0;
  if (own && !r->recovery) goto out; /* our own: done here already */
  msg = rcodec_to_json(root, &bins, RCODEC_MAX_DEPTH);
  if (!msg) {
    why = "broadcast does not decode";
    goto out;
  }
  json_t *packet = json_array_get(msg, 1), *opts = json_array_get(msg, 2);
  if (!json_is_object(packet) || !json_is_object(opts)) {
    why = "broadcast packet or opts is not an object";
    goto out;
  }
  const json_t *nsp = json_object_get(packet, "nsp");
  if (nsp && !json_is_string(nsp)) {
    why = "packet nsp is not a string";
    goto out;
  }
  if (strcmp(nsp ? json_string_value(nsp) : "/", e->nsp->name) != 0) goto out; /* another's */
  char buf[32];
  const char *event = packet_event(packet, buf, sizeof buf, &args);
  if (!event) {
    why = "broadcast packet is not an event";
    goto out;
  }
  if (!(have_sel = selection_from(opts, &sel))) {
    why = "broadcast opts are malformed";
    goto out;
  }
  /* Our own come back to be delivered here only if they were ordered (they have an offset). */
  if (own && !sel.o.offset) goto out;
  if (adapter_broadcast(e->nsp, &sel.o, event, args, bins.v, bins.n) < 0)
    why = "broadcast cannot be sent (placeholders?)";
out:
  if (why) dropped(why);
  if (have_sel) selection_free(&sel);
  json_decref(args);
  json_decref(msg);
  rcodec_bins_free(&bins);
  msgpack_unpacked_destroy(&u);
}

/* ------------------------------------------------------------------------------------------ */
/* incoming: requests of other servers                                                         */

static json_t *socket_ids(sio_namespace *nsp, const adapter_opts *o);

typedef struct {
  json_t *list;
} collect_ctx;

static void collect_id(sio_socket *s, void *ctx) {
  json_array_append_new(((collect_ctx *)ctx)->list, json_string(s->id));
}

static json_t *socket_ids(sio_namespace *nsp, const adapter_opts *o) {
  collect_ctx c = {json_array()};
  if (c.list) adapter_apply(nsp, o, collect_id, &c);
  return c.list;
}

static void collect_details(sio_socket *s, void *ctx) {
  json_t *list = ((collect_ctx *)ctx)->list;
  const char *rooms[64];
  size_t n = sio_socket_rooms(s, rooms, 64);
  json_t *room_list;
  if (n > 64) { /* many rooms: a second pass with room for all */
    const char **all = malloc(n * sizeof *all);
    room_list = all ? string_array(all, sio_socket_rooms(s, all, n)) : NULL;
    free(all);
  } else {
    room_list = string_array(rooms, n);
  }
  json_t *data = s->json ? json_incref(s->json) : json_object();
  json_array_append_new(list, json_pack("{ssso?soso}", "id", s->id, "handshake",
                                        socket_handshake_json(s), "rooms", room_list, "data",
                                        data));
}

/* The single-socket forms of REMOTE_JOIN/LEAVE/DISCONNECT ({sid, room}), kept by 8.x. */
static void single_socket_request(redis_adapter *r, nsp_entry *e, json_t *req, int type,
                                  const char *uid, const char *request_id) {
  const char *sid = json_string_value(json_object_get(req, "sid"));
  const char *room = json_string_value(json_object_get(req, "room"));
  if (!sid || (type != REQ_REMOTE_DISCONNECT && !room)) {
    dropped("request without opts nor sid");
    return;
  }
  sio_socket *s = strmap_get(&e->nsp->sockets, sid);
  if (!s) return;
  sio_socket_ref(s);
  if (type == REQ_REMOTE_JOIN) sio_join(s, room);
  else if (type == REQ_REMOTE_LEAVE) sio_leave(s, room);
  else sio_disconnect(s, json_is_true(json_object_get(req, "close")));
  socket_release(s);
  if (request_id) respond(r, e, uid, json_pack("{ss}", "requestId", request_id));
}

static void relay_unlink(relay *rl) {
  redis_adapter *r = rl->r;
  if (!r) return;
  if (rl->prev) rl->prev->next = rl->next;
  else r->relays = rl->next;
  if (rl->next) rl->next->prev = rl->prev;
  rl->prev = rl->next = NULL;
  rl->r = NULL;
}

static void relay_reply(void *ctx, json_t *args, const sio_bytes *bins, size_t nbins) {
  relay *rl = ctx;
  redis_adapter *r = rl->r;
  if (!r) return;
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  /* The reference forwards the reply's first argument. */
  json_t *first = json_array_size(args) ? json_array_get(args, 0) : NULL;
  if (!msgpack_pack_map(&pk, 3) && !rcodec_pack_str(&pk, "type") &&
      !msgpack_pack_int(&pk, REQ_BROADCAST_ACK) && !rcodec_pack_str(&pk, "requestId") &&
      !rcodec_pack_str(&pk, rl->request_id) && !rcodec_pack_str(&pk, "packet") &&
      !rcodec_pack_json(&pk, first, bins, nbins, r->srv->limits.max_depth + 1))
    publish(r, rl->channel, sb.data, sb.size, NULL, NULL);
  msgpack_sbuffer_destroy(&sb);
}

static void relay_free(relay *rl) {
  relay_unlink(rl);
  free(rl->request_id);
  free(rl->channel);
  free(rl);
}

static void relay_done(const char *err, json_t *responses, const sio_message *replies, size_t n,
                       void *ctx) {
  relay_free(ctx);
}

static void broadcast_request(redis_adapter *r, nsp_entry *e, json_t *req, const char *uid,
                              const char *request_id, rcodec_bins *bins) {
  json_t *packet = json_object_get(req, "packet"), *opts = json_object_get(req, "opts");
  char buf[32];
  json_t *args = NULL;
  const char *event = json_is_object(packet) && request_id
                          ? packet_event(packet, buf, sizeof buf, &args) : NULL;
  selection sel;
  if (!event || !json_is_object(opts) || !selection_from(opts, &sel)) {
    json_decref(args);
    dropped("malformed BROADCAST request");
    return;
  }
  json_t *timeout = json_object_get(json_object_get(opts, "flags"), "timeout");
  double t = json_number_value(timeout);
  unsigned ms = json_is_number(timeout) && t >= 1 && t < 86400000.0 ? (unsigned)t
                                                                      : REQUEST_TIMEOUT_MS;
  relay *rl = calloc(1, sizeof *rl);
  bc_collector *bc = NULL;
  if (rl && (rl->request_id = strdup(request_id)) && (rl->channel = response_channel(e, uid)))
    bc = bc_collector_new(r->srv, ms, relay_done, rl);
  if (!bc) {
    if (rl) relay_free(rl);
    selection_free(&sel);
    json_decref(args);
    return;
  }
  rl->r = r;
  rl->next = r->relays;
  if (rl->next) rl->next->prev = rl;
  r->relays = rl;
  bc_collector_relay(bc, relay_reply);
  long n = adapter_broadcast_with_ack(e->nsp, &sel.o, event, args, bins->v, bins->n, bc);
  selection_free(&sel);
  json_decref(args);
  if (n < 0) {
    bc_collector_abort(bc); /* frees it without calling back */
    relay_free(rl);
    dropped("BROADCAST cannot be sent");
    return;
  }
  /* The count first: the replies can only come later, from the loop. */
  json_t *count = json_pack("{sisssI}", "type", REQ_BROADCAST_CLIENT_COUNT, "requestId",
                            request_id, "clientCount", (json_int_t)n);
  if (count) publish_json(r, rl->channel, count, NULL, NULL);
  json_decref(count);
  bc_collector_start(bc, (size_t)n); /* may end at once, freeing rl */
}

static void remote_ack_unlink(remote_ack *a) {
  redis_adapter *r = a->r;
  if (!r) return;
  if (a->prev) a->prev->next = a->next;
  else r->acks = a->next;
  if (a->next) a->next->prev = a->prev;
  a->prev = a->next = NULL;
  a->r = NULL;
}

static void remote_ack_send(struct sio_server_ack *base, json_t *arg) {
  remote_ack *a = (remote_ack *)base;
  if (!a->r) return;
  json_t *msg = json_pack("{siss}", "type", REQ_SERVER_SIDE_EMIT, "requestId", a->request_id);
  if (msg && arg) json_object_set(msg, "data", arg); /* undefined: no "data" at all */
  if (msg) publish_json(a->r, a->channel, msg, NULL, NULL);
  json_decref(msg);
}

static void remote_ack_release(struct sio_server_ack *base) {
  remote_ack *a = (remote_ack *)base;
  remote_ack_unlink(a);
  free(a->request_id);
  free(a->channel);
  free(a);
}

static void server_side_emit_request(redis_adapter *r, nsp_entry *e, json_t *req,
                                     const char *request_id) {
  json_t *data = json_object_get(req, "data");
  char buf[32];
  const char *event = json_is_array(data) && json_array_size(data)
                          ? event_name(json_array_get(data, 0), buf, sizeof buf) : NULL;
  if (!event) {
    dropped("malformed SERVER_SIDE_EMIT request");
    return;
  }
  json_t *args = json_array();
  for (size_t i = 1; args && i < json_array_size(data); i++)
    json_array_append(args, json_array_get(data, i));
  remote_ack *a = NULL;
  if (request_id && (a = calloc(1, sizeof *a))) {
    a->base.send = remote_ack_send;
    a->base.release = remote_ack_release;
    a->request_id = strdup(request_id);
    a->channel = strdup(e->resp_channel); /* the reference answers on the shared channel */
    a->r = r;
    a->next = r->acks;
    if (a->next) a->next->prev = a;
    r->acks = a;
    if (!a->request_id || !a->channel) {
      remote_ack_release(&a->base);
      a = NULL;
    }
  }
  if (args && (!request_id || a)) adapter_server_event(e->nsp, event, args, a ? &a->base : NULL);
  else if (a) remote_ack_release(&a->base);
  json_decref(args);
}

static void on_request(redis_adapter *r, nsp_entry *e, const redisReply *payload) {
  rcodec_bins bins;
  json_t *req = decode_message(payload->str, payload->len, &bins);
  if (!req) {
    dropped("request does not decode");
    return;
  }
  const json_t *type_v = json_object_get(req, "type");
  const char *uid = json_string_value(json_object_get(req, "uid"));
  const char *request_id = json_string_value(json_object_get(req, "requestId"));
  json_int_t type = json_integer_value(type_v);
  if (uid && strcmp(uid, r->uid) == 0) goto out; /* our own */
  if (!json_is_integer(type_v)) {
    dropped("request without a type");
    goto out;
  }
  sio_namespace *nsp = e->nsp;
  selection sel;
  switch (type) {
  case REQ_SOCKETS:
  case REQ_REMOTE_FETCH: {
    json_t *opts = type == REQ_SOCKETS ? NULL : json_object_get(req, "opts");
    bool ok = request_id && (type == REQ_SOCKETS ? names_from(json_object_get(req, "rooms"),
                                                              &sel.rooms)
                                                 : json_is_object(opts) && selection_from(opts, &sel));
    if (!ok) {
      dropped("malformed SOCKETS/REMOTE_FETCH request");
      break;
    }
    if (type == REQ_SOCKETS) {
      memset(&sel.except, 0, sizeof sel.except);
      sel.o = (adapter_opts){.rooms = (const char *const *)sel.rooms.v,
                             .nrooms = (unsigned)sel.rooms.n, .local = true};
      respond(r, e, uid, json_pack("{ssso}", "requestId", request_id, "sockets",
                                   socket_ids(nsp, &sel.o)));
    } else {
      collect_ctx c = {json_array()};
      if (c.list) adapter_apply(nsp, &sel.o, collect_details, &c);
      respond(r, e, uid, json_pack("{ssso}", "requestId", request_id, "sockets", c.list));
    }
    selection_free(&sel);
    break;
  }
  case REQ_ALL_ROOMS: {
    if (!request_id) {
      dropped("ALL_ROOMS without requestId");
      break;
    }
    json_t *rooms = json_array();
    size_t pos = 0;
    const char *name;
    while (rooms && strmap_next(&nsp->adapter.rooms, &pos, &name, NULL))
      json_array_append_new(rooms, json_string(name));
    respond(r, e, uid, json_pack("{ssso}", "requestId", request_id, "rooms", rooms));
    break;
  }
  case REQ_REMOTE_JOIN:
  case REQ_REMOTE_LEAVE:
  case REQ_REMOTE_DISCONNECT: {
    json_t *opts = json_object_get(req, "opts");
    if (!opts) {
      single_socket_request(r, e, req, (int)type, uid, request_id);
      break;
    }
    name_list rooms;
    if (!selection_from(opts, &sel)) {
      dropped("malformed opts");
      break;
    }
    if (type == REQ_REMOTE_DISCONNECT) {
      adapter_disconnect_sockets(nsp, &sel.o, json_is_true(json_object_get(req, "close")));
    } else if (names_from(json_object_get(req, "rooms"), &rooms)) {
      for (size_t i = 0; i < rooms.n; i++) {
        if (type == REQ_REMOTE_JOIN) adapter_add_sockets(nsp, &sel.o, rooms.v[i]);
        else adapter_del_sockets(nsp, &sel.o, rooms.v[i]);
      }
      names_free(&rooms);
    } else {
      dropped("malformed rooms");
    }
    selection_free(&sel);
    break;
  }
  case REQ_SERVER_SIDE_EMIT:
    server_side_emit_request(r, e, req, request_id);
    break;
  case REQ_BROADCAST:
    broadcast_request(r, e, req, uid, request_id, &bins);
    break;
  default:
    dropped("unknown request type");
    break;
  }
out:
  json_decref(req);
  rcodec_bins_free(&bins);
}

/* ------------------------------------------------------------------------------------------ */
/* incoming: responses to our requests                                                         */

static void add_remote_sockets(pending *p, sio_namespace *nsp, const json_t *sockets) {
  size_t i;
  json_t *d;
  json_array_foreach(sockets, i, d) {
    const char *id = json_string_value(json_object_get(d, "id"));
    name_list rooms;
    if (!id || !*id || !names_from(json_object_get(d, "rooms"), &rooms)) {
      dropped("malformed socket in a fetchSockets response");
      continue;
    }
    sio_socket *s = socket_new_remote(nsp, id, (const char *const *)rooms.v, rooms.n,
                                      json_object_get(d, "handshake"), json_object_get(d, "data"));
    names_free(&rooms);
    if (s) adapter_fetch_add(p->fetch, s);
  }
}

static void on_response(redis_adapter *r, nsp_entry *e, const redisReply *payload) {
  rcodec_bins bins;
  json_t *res = decode_message(payload->str, payload->len, &bins);
  if (!res) {
    dropped("response does not decode");
    return;
  }
  const char *id = json_string_value(json_object_get(res, "requestId"));
  pending *p = id ? strmap_get(&r->pending_ids, id) : NULL;
  if (!p) goto out; /* someone else's, or too late */
  json_int_t type = json_integer_value(json_object_get(res, "type"));
  switch (p->kind) {
  case P_FETCH: {
    json_t *sockets = json_object_get(res, "sockets");
    p->answered++;
    if (json_is_array(sockets)) add_remote_sockets(p, e->nsp, sockets);
    pending_check(p);
    break;
  }
  case P_SS:
    if (type != REQ_SERVER_SIDE_EMIT) break;
    adapter_ss_reply(p->ss, json_object_get(res, "data"));
    p->answered++;
    pending_check(p);
    break;
  case P_BC:
    if (type == REQ_BROADCAST_CLIENT_COUNT) {
      const json_t *c = json_object_get(res, "clientCount");
      if (!json_is_integer(c) || json_integer_value(c) < 0) {
        dropped("malformed BROADCAST_CLIENT_COUNT");
        break;
      }
      bc_collector_remote_count(p->bc, (size_t)json_integer_value(c)); /* may free p */
    } else if (type == REQ_BROADCAST_ACK) {
      json_t *packet = json_object_get(res, "packet");
      json_t *args = json_pack("[O]", packet ? packet : json_null());
      if (args && sio_packet_check_placeholders(args, (unsigned)bins.n) == 0)
        bc_collector_remote_reply(p->bc, args, bins.v, bins.n); /* may free p */
      else
        dropped("malformed BROADCAST_ACK");
      json_decref(args);
    }
    break;
  }
out:
  json_decref(res);
  rcodec_bins_free(&bins);
}

static bool reply_is(const redisReply *x, const char *s) {
  size_t n = strlen(s);
  return x->type == REDIS_REPLY_STRING && x->len == n && strncasecmp(x->str, s, n) == 0;
}

static bool plain_string(const redisReply *x) {
  return x->type == REDIS_REPLY_STRING && strlen(x->str) == x->len;
}

static void on_sub_reply(redisAsyncContext *ac, void *reply, void *priv) {
  redis_adapter *r = priv;
  redisReply *rep = reply;
  if (!rep || r->detached || rep->type != REDIS_REPLY_ARRAY || rep->elements < 3) return;
  redisReply **el = rep->element;
  if (reply_is(el[0], "pmessage") && rep->elements == 4 && plain_string(el[1]) &&
      plain_string(el[2])) {
    metrics.redis_messages_in++;
    if (el[3]->type != REDIS_REPLY_STRING) return;
    on_broadcast(r, el[1], el[2], el[3]);
  } else if (reply_is(el[0], "message") && plain_string(el[1]) &&
             el[2]->type == REDIS_REPLY_STRING) {
    metrics.redis_messages_in++;
    nsp_entry *e = strmap_get(&r->channels, el[1]->str);
    if (!e) return;
    if (el[2]->len > MAX_MESSAGE) {
      dropped("message too large");
      return;
    }
    if (strcmp(el[1]->str, e->req_channel) == 0) on_request(r, e, el[2]);
    else on_response(r, e, el[2]);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* the link                                                                                    */

static void open_connections(redis_adapter *r);

static void on_retry(lws_sorted_usec_list_t *sul) {
  redis_adapter *r = lws_container_of(sul, redis_adapter, retry_timer);
  open_connections(r);
}

static void schedule_retry(redis_adapter *r) {
  if (r->detached) return;
  unsigned ms = r->backoff_ms ? r->backoff_ms : BACKOFF_MIN_MS;
  r->backoff_ms = ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
  lws_sul_schedule(r->context, 0, &r->retry_timer, on_retry, (lws_usec_t)ms * 1000);
}

static void link_lost(redis_adapter *r, const char *what, const char *err) {
  if (!r->warned) {
    r->warned = true;
    LOG_W("redis", "Redis link down (%s: %s): serving local clients only, reconnecting to %s:%d",
          what, err && *err ? err : "closed", r->host, r->port);
  }
}

static void on_connect(const redisAsyncContext *ac, int status) {
  redis_adapter *r = ac->data;
  if (!r || r->detached) return;
  bool is_pub = ac == r->pub;
  if (status != REDIS_OK) { /* hiredis frees the context after this */
    if (is_pub) r->pub = NULL;
    else if (ac == r->sub) r->sub = NULL;
    link_lost(r, is_pub ? "publisher" : "subscriber", ac->errstr);
    schedule_retry(r);
    return;
  }
  if (is_pub) r->pub_up = true;
  else r->sub_up = true;
  if (link_up(r)) {
    lws_sul_cancel(&r->connect_timer);
    r->backoff_ms = 0;
    if (r->warned) LOG_I("redis", "Redis link up again (%s:%d): subscribed", r->host, r->port);
    else LOG_I("redis", "Redis link up (%s:%d) prefix=%s uid=%s", r->host, r->port, r->prefix,
               r->uid);
    r->warned = false;
  }
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  redis_adapter *r = ac->data;
  if (!r || r->detached) return;
  bool is_pub = ac == r->pub;
  if (is_pub) r->pub = NULL, r->pub_up = false;
  else if (ac == r->sub) r->sub = NULL, r->sub_up = false;
  link_lost(r, is_pub ? "publisher" : "subscriber", ac->errstr);
  schedule_retry(r);
}

static void on_auth(redisAsyncContext *ac, void *reply, void *priv) {
  redisReply *rep = reply;
  redis_adapter *r = ac->data;
  if (!rep || !r || r->detached || rep->type != REDIS_REPLY_ERROR) return;
  LOG_E("redis", "Redis refused AUTH: %s", rep->str);
  redisAsyncDisconnect(ac);
}

/* A connection that has not come up in time is given up (no callback runs for it). */
static void on_connect_timeout(lws_sorted_usec_list_t *sul) {
  redis_adapter *r = lws_container_of(sul, redis_adapter, connect_timer);
  bool gave_up = false;
  if (r->pub && !r->pub_up) {
    redisAsyncContext *ac = r->pub;
    r->pub = NULL;
    redisAsyncFree(ac);
    gave_up = true;
  }
  if (r->sub && !r->sub_up) {
    redisAsyncContext *ac = r->sub;
    r->sub = NULL;
    redisAsyncFree(ac);
    gave_up = true;
  }
  if (gave_up) {
    link_lost(r, "connect", "timed out");
    schedule_retry(r);
  }
}

static redisAsyncContext *connect_one(redis_adapter *r) {
  redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
  if (!ac) return NULL;
  if (ac->err || redis_loop_attach(ac, r->listener)) {
    if (ac->err) link_lost(r, "connect", ac->errstr);
    redisAsyncFree(ac);
    return NULL;
  }
  ac->data = r;
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  if (r->password) { /* before anything else, so that its reply comes first */
    const char *argv[3] = {"AUTH", r->user ? r->user : r->password, r->password};
    size_t lens[3] = {4, strlen(argv[1]), strlen(r->password)};
    redisAsyncCommandArgv(ac, on_auth, r, r->user ? 3 : 2, argv, lens);
  }
  return ac;
}

static void open_connections(redis_adapter *r) {
  if (r->detached) return;
  bool failed = false;
  if (!r->pub && !(r->pub = connect_one(r))) failed = true;
  if (!r->sub) {
    if ((r->sub = connect_one(r))) {
      for (size_t i = 0; i < r->nentries; i++) subscribe_entry(r, r->entries[i]);
    } else {
      failed = true;
    }
  }
  if (failed) schedule_retry(r);
  if (r->pub || r->sub)
    lws_sul_schedule(r->context, 0, &r->connect_timer, on_connect_timeout,
                     (lws_usec_t)CONNECT_TIMEOUT_MS * 1000);
}

/* ------------------------------------------------------------------------------------------ */
/* attach, status, detach                                                                      */

static void collect_metrics(void *ctx, sbuf *out) {
  redis_adapter *r = ctx;
  char labels[160];
  snprintf(labels, sizeof labels, "prefix=\"%.120s\"", r->prefix);
  metrics_write_gauge(out, "sio_redis_link_up", "1 while the Redis link of the cluster is up",
                      labels, link_up(r) ? 1 : 0);
}

static void free_adapter(redis_adapter *r) {
  for (size_t i = 0; i < r->nentries; i++) entry_free(r->entries[i]);
  free(r->entries);
  strmap_free(&r->by_name);
  strmap_free(&r->patterns);
  strmap_free(&r->channels);
  strmap_free(&r->pending_ids);
  sbuf_free(&r->json);
  free(r->host);
  free(r->user);
  free(r->password);
  free(r->prefix);
  free(r);
}

static void detach(void *ctx) {
  redis_adapter *r = ctx;
  r->detached = true;
  redis_recovery_free(r->recovery); /* first: sockets that close from here are not saved */
  r->recovery = NULL;
  lws_sul_cancel(&r->retry_timer);
  lws_sul_cancel(&r->connect_timer);
  metrics_remove_collector(collect_metrics, r);
  /* What waited on other servers ends with what it has. */
  while (r->pendings) {
    pending *p = r->pendings;
    if (p->kind == P_BC) {
      bc_collector *bc = p->bc;
      pending_free(p);
      bc_collector_remote_gone(bc);
    } else {
      pending_finish(p, p->kind == P_SS ? "server shutting down" : NULL);
    }
  }
  while (r->relays) relay_unlink(r->relays);
  while (r->acks) remote_ack_unlink(r->acks);
  /* Pending callbacks run with no reply and find `detached` set. */
  redisAsyncContext *pub = r->pub, *sub = r->sub;
  r->pub = r->sub = NULL;
  r->pub_up = r->sub_up = false;
  if (pub) redisAsyncFree(pub);
  if (sub) redisAsyncFree(sub);
  free_adapter(r);
}

static const adapter_cluster_ops redis_ops = {
    .namespace_added = namespace_added,
    .broadcast = op_broadcast,
    .broadcast_ordered = op_broadcast_ordered,
    .broadcast_with_ack = op_broadcast_with_ack,
    .fetch_sockets = op_fetch_sockets,
    .add_sockets = op_add_sockets,
    .del_sockets = op_del_sockets,
    .disconnect_sockets = op_disconnect_sockets,
    .server_side_emit = op_server_side_emit,
    .server_count = op_server_count,
    .detach = detach,
};

/* Percent-decodes a URL part (user, password) into a new string. */
static char *url_part(const char *s, size_t n) {
  char *out = malloc(n + 1), *o = out;
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
        isxdigit((unsigned char)s[i + 2])) {
      char hex[3] = {s[i + 1], s[i + 2], 0};
      *o++ = (char)strtol(hex, NULL, 16);
      i += 2;
    } else {
      *o++ = s[i];
    }
  }
  *o = 0;
  return out;
}

/* redis://[[user:]password@]host[:port][/db]; IPv6 hosts in brackets. */
static int parse_url(redis_adapter *r, const char *url, char **host) {
  static const char scheme[] = "redis://";
  if (strncmp(url, scheme, sizeof scheme - 1) != 0) return -1;
  const char *p = url + sizeof scheme - 1;
  const char *end = p + strcspn(p, "/?#");
  const char *at = NULL;
  for (const char *q = p; q < end; q++)
    if (*q == '@') at = q;
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (colon) {
      if (colon > p && !(r->user = url_part(p, (size_t)(colon - p)))) return -1;
      if (!(r->password = url_part(colon + 1, (size_t)(at - colon - 1)))) return -1;
    } else if (!(r->password = url_part(p, (size_t)(at - p)))) {
      return -1;
    }
    if (r->password && !*r->password) {
      free(r->password);
      r->password = NULL;
    }
    p = at + 1;
  }
  const char *hs = p, *he;
  const char *port = NULL;
  if (*p == '[') {
    hs = p + 1;
    he = memchr(hs, ']', (size_t)(end - hs));
    if (!he) return -1;
    if (he + 1 < end) {
      if (he[1] != ':') return -1;
      port = he + 2;
    }
  } else {
    he = memchr(p, ':', (size_t)(end - p));
    if (he) port = he + 1;
    else he = end;
  }
  if (he == hs) return -1;
  r->port = 6379;
  if (port) {
    char *stop;
    long v = strtol(port, &stop, 10);
    if (stop != end || v <= 0 || v > 65535) return -1;
    r->port = (int)v;
  }
  *host = strndup(hs, (size_t)(he - hs));
  return *host ? 0 : -1;
}

int sio_redis_attach(sio_server *io, const char *url, const char *key_prefix) {
  if (!io || !url) return -1;
  if (io->cluster) {
    LOG_E("redis", "a cluster adapter is attached already");
    return -1;
  }
  redis_adapter *r = calloc(1, sizeof *r);
  char *host = NULL;
  if (!r) return -1;
  r->srv = io;
  r->listener = io->listener;
  r->context = io->context;
  strmap_init(&r->by_name);
  strmap_init(&r->patterns);
  strmap_init(&r->channels);
  strmap_init(&r->pending_ids);
  sbuf_init(&r->json, MAX_MESSAGE);
  if (parse_url(r, url, &host)) {
    LOG_E("redis", "invalid Redis URL (want redis://[[user:]password@]host[:port][/db])");
    free(host);
    free_adapter(r);
    return -1;
  }
  /* Resolved once, here: hiredis would resolve names on every connect, blocking the loop. */
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
  char numeric[NI_MAXHOST];
  int gai = getaddrinfo(host, NULL, &hints, &res);
  if (gai || !res || getnameinfo(res->ai_addr, res->ai_addrlen, numeric, sizeof numeric, NULL, 0,
                                 NI_NUMERICHOST)) {
    LOG_E("redis", "cannot resolve the Redis host %s: %s", host, gai ? gai_strerror(gai) : "?");
    if (res) freeaddrinfo(res);
    free(host);
    free_adapter(r);
    return -1;
  }
  freeaddrinfo(res);
  free(host);
  r->host = strdup(numeric);
  r->prefix = strdup(key_prefix && *key_prefix ? key_prefix : "socket.io");
  if (!r->host || !r->prefix || !random_id(r->uid) || adapter_cluster_attach(io, &redis_ops, r)) {
    free_adapter(r);
    return -1;
  }
  if (io->recovery && !(r->recovery = redis_recovery_attach(io, r, r->prefix)))
    LOG_W("redis", "connection state recovery stays local to this server (out of memory)");
  metrics_add_collector(collect_metrics, r);
  LOG_I("redis", "Redis adapter attached %s:%d prefix=%s", r->host, r->port, r->prefix);
  open_connections(r);
  return 0;
}

int sio_redis_status(const sio_server *io) {
  const redis_adapter *r = adapter_cluster_ctx(io, &redis_ops);
  return r ? link_up(r) ? 1 : 0 : -1;
}
