/* Connection state recovery (the reference's connectionStateRecovery, socket.io 4.6+): a
 * client that comes back after a short disconnection gets its socket id, rooms and data back,
 * and every packet it missed, once and in order.
 *
 * Two stores, both bounded:
 *   - the replay log, one per namespace: each replayable packet (an EVENT without ack that is
 *     not volatile) as its encoded frames (shared with the recipients: no copy), its target
 *     (rooms, exceptions) and its offset, the string the client sees as the packet's last
 *     argument and sends back as `offset` when it reconnects. A ring in sequence order: the
 *     offset finds its entry in O(1) (a hash map), and a restore reads only the entries after
 *     it. Entries go when the log exceeds its byte budget or when they are older than the
 *     longest disconnection that can still be recovered.
 *   - the sessions, one per socket that left for a reason the client will reconnect after
 *     (transport close/error, ping timeout, forced close, server shutting down): id, pid,
 *     rooms, socket.data as JSON, and the log position the socket had reached when it
 *     connected. Keyed by pid, expiring after max_disconnection_ms (a FIFO: O(1) per session),
 *     at most max_sessions (the oldest goes first).
 *
 * Unlike the reference, a client that had received no replayable packet yet (no offset) still
 * recovers: it replays from its session's start, and a socket recovers as many times as it
 * disconnects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio/sio_internal.h"
#include "util/log.h"
#include "util/metrics.h"

#define DEFAULT_MAX_DISCONNECTION_MS 120000
#define DEFAULT_LOG_BYTES ((size_t)8 << 20)
#define DEFAULT_MAX_SESSIONS 100000
#define DEFAULT_SESSION_BYTES ((size_t)64 << 20)
#define TAG_LEN 8

/* A logged packet. Its size counts toward the log's budget: the entry, its names and its
 * frames (which the recipients' queues may share for a while, but the log keeps them). */
typedef struct {
  uint64_t seq;
  int64_t at_ms;
  size_t bytes;
  sio_frames frames;
  unsigned nrooms, nexcept;
  char offset[RECOVERY_OFFSET_MAX];
  const char *names[];          /* rooms, then exceptions; their text follows */
} log_entry;

struct recovery_log {
  log_entry **ring;
  size_t cap, head, count;      /* ring[head] is the oldest entry */
  uint64_t next_seq;            /* the oldest entry's seq is next_seq - count */
  size_t bytes;
  strmap by_offset;             /* offset -> log_entry */
};

struct recovery_session {
  fifo_timer_entry expiry;
  sio_namespace *nsp;
  char pid[RANDOM_ID_LEN + 1];
  char sid[RANDOM_ID_LEN + 1];
  uint64_t from_seq;            /* stored: the socket's start; restored: the first to replay */
  size_t bytes;                 /* what it costs: itself, its rooms, its data's JSON text */
  json_t *data;
  unsigned nrooms;
  char *rooms[];                /* their text follows */
};

struct recovery_store {
  strmap sessions;              /* pid -> recovery_session */
  fifo_timer expiry;            /* of the stored sessions, all with the same delay */
  char tag[TAG_LEN + 1];        /* this server's offsets start with it */
  uint64_t counter;
  size_t log_bytes, max_sessions, max_session_bytes;
  size_t session_bytes;         /* of the stored sessions */
  int64_t max_ms;
  /* The cluster's copy of the sessions: */
  const recovery_cluster_ops *cluster;
  void *cluster_ctx;
  ptrset dirty;                 /* sockets whose copy is out of date (held) */
  lws_sorted_usec_list_t flush_timer, refresh_timer;
  struct lws_context *context;
  sio_server *srv;
};

#define FLUSH_DELAY_US 20000    /* changes to a session's copy are written together */

static void cluster_save(sio_socket *s, bool keep);
static const log_entry *log_at(const recovery_log *log, uint64_t seq);

/* ------------------------------------------------------------------------------------------ */
/* sessions                                                                                    */

static void session_free(recovery_session *sess) {
  if (!sess) return;
  fifo_timer_disarm(&sess->expiry);
  json_decref(sess->data);
  free(sess);
}

/* Out of the store (its owner is the caller now). */
static void session_take(recovery_store *st, recovery_session *sess) {
  if (strmap_get(&st->sessions, sess->pid) != sess) return;
  strmap_remove(&st->sessions, sess->pid);
  fifo_timer_disarm(&sess->expiry);
  st->session_bytes -= sess->bytes;
}

static void session_drop(recovery_store *st, recovery_session *sess) {
  session_take(st, sess);
  session_free(sess);
}

static recovery_session *session_of_entry(fifo_timer_entry *e) {
  return (recovery_session *)((char *)e - offsetof(recovery_session, expiry));
}

static void log_trim(const recovery_store *st, recovery_log *log, int64_t now_ms);

static void session_expired(fifo_timer *q, fifo_timer_entry *e) {
  recovery_store *st = q->user;
  recovery_session *sess = session_of_entry(e);
  LOG_D("sio", "recovery: session expired pid=%s", sess->pid);
  /* What it could have replayed is as old: the log lets it go now rather than at the next
   * packet, so that a namespace that has gone quiet gives its memory back. */
  if (sess->nsp->log) log_trim(st, sess->nsp->log, sio_wall_ms());
  session_drop(st, sess);
}

int recovery_server_init(sio_server *srv) {
  recovery_store *st = calloc(1, sizeof *st);
  char id[RANDOM_ID_LEN + 1];
  if (!st || !random_id(id)) {
    free(st);
    return -1;
  }
  const sio_server_options *o = &srv->opts;
  st->max_ms = o->recovery.max_disconnection_ms ? o->recovery.max_disconnection_ms
                                                : DEFAULT_MAX_DISCONNECTION_MS;
  st->log_bytes = o->recovery.log_bytes ? o->recovery.log_bytes : DEFAULT_LOG_BYTES;
  st->max_sessions = o->recovery.max_sessions ? o->recovery.max_sessions : DEFAULT_MAX_SESSIONS;
  st->max_session_bytes =
      o->recovery.session_bytes ? o->recovery.session_bytes : DEFAULT_SESSION_BYTES;
  memcpy(st->tag, id, TAG_LEN);
  st->context = srv->context;
  st->srv = srv;
  ptrset_init(&st->dirty);
  strmap_init(&st->sessions);
  fifo_timer_init(&st->expiry, srv->context, st->max_ms * 1000, session_expired, st);
  srv->recovery = st;
  return 0;
}

void recovery_server_free(sio_server *srv) {
  recovery_store *st = srv->recovery;
  if (!st) return;
  size_t pos = 0;
  void *v;
  while (strmap_next(&st->sessions, &pos, NULL, &v)) session_free(v);
  strmap_free(&st->sessions);
  fifo_timer_destroy(&st->expiry);
  recovery_cluster_detach(srv);
  free(st);
  srv->recovery = NULL;
}

/* The reference's RECOVERABLE_DISCONNECT_REASONS: the client did not mean to leave. */
static bool recoverable(const char *reason) {
  static const char *const reasons[] = {
      "transport error", "transport close", "forced close",
      "ping timeout",    "server shutting down", "forced server close",
  };
  for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++)
    if (strcmp(reason, reasons[i]) == 0) return true;
  return false;
}

void recovery_on_close(sio_socket *s, const char *reason) {
  recovery_store *st = s->srv->recovery;
  if (!st || !s->pid[0] || s->remote) return;
  bool keep = reason && recoverable(reason);
  cluster_save(s, keep);
  if (!keep) return;
  size_t nrooms = 0, text = 0, pos = 0;
  void *p;
  while (ptrset_next(&s->rooms, &pos, &p)) {
    nrooms++;
    text += strlen(((adapter_room *)p)->name) + 1;
  }
  size_t size = sizeof(recovery_session) + nrooms * sizeof(char *) + text;
  recovery_session *sess = malloc(size);
  if (!sess) return;
  memset(sess, 0, sizeof *sess);
  sess->nsp = s->nsp;
  memcpy(sess->pid, s->pid, sizeof sess->pid);
  memcpy(sess->sid, s->id, sizeof sess->sid);
  sess->from_seq = s->start_seq;
  sess->data = json_incref(s->json);
  /* The data is shared with the socket until it is freed: counted as its JSON text. */
  sess->bytes = size + (s->json ? json_dumpb(s->json, NULL, 0, JSON_COMPACT) : 0);
  char *out = (char *)&sess->rooms[nrooms];
  pos = 0;
  while (ptrset_next(&s->rooms, &pos, &p)) {
    const char *name = ((adapter_room *)p)->name;
    size_t len = strlen(name) + 1;
    sess->rooms[sess->nrooms++] = memcpy(out, name, len);
    out += len;
  }
  recovery_session *old = strmap_get(&st->sessions, sess->pid);
  if (old) session_drop(st, old);
  /* At capacity the oldest sessions go: the FIFO's head. */
  while ((st->sessions.count >= st->max_sessions ||
          st->session_bytes + sess->bytes > st->max_session_bytes) && st->expiry.head)
    session_drop(st, session_of_entry(st->expiry.head));
  if (sess->bytes > st->max_session_bytes || !strmap_put(&st->sessions, sess->pid, sess)) {
    session_free(sess);
    return;
  }
  st->session_bytes += sess->bytes;
  fifo_timer_arm(&st->expiry, &sess->expiry);
  metrics.sio_recovery_sessions_kept++;
}

/* ------------------------------------------------------------------------------------------ */
/* the replay log                                                                              */

void recovery_next_offset(sio_server *srv, char *out) {
  recovery_store *st = srv->recovery;
  /* The tag keeps another server's (or an earlier run's) offsets from meaning anything here. */
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  char num[16];
  size_t n = 0;
  uint64_t v = ++st->counter;
  do num[n++] = digits[v % 36];
  while ((v /= 36) && n < sizeof num);
  memcpy(out, st->tag, TAG_LEN);
  out[TAG_LEN] = '.';
  for (size_t i = 0; i < n; i++) out[TAG_LEN + 1 + i] = num[n - 1 - i];
  out[TAG_LEN + 1 + n] = '\0';
}

static const log_entry *log_at(const recovery_log *log, uint64_t seq) {
  uint64_t oldest = log->next_seq - log->count;
  return log->ring[(log->head + (size_t)(seq - oldest)) % log->cap];
}

static void log_drop_oldest(recovery_log *log) {
  log_entry *e = log->ring[log->head];
  if (strmap_get(&log->by_offset, e->offset) == e) strmap_remove(&log->by_offset, e->offset);
  log->bytes -= e->bytes;
  frames_clear(&e->frames);
  free(e);
  log->head = (log->head + 1) % log->cap;
  log->count--;
}

/* Room for one more entry: the ring doubles, keeping its order. */
static int log_reserve(recovery_log *log) {
  if (log->count < log->cap) return 0;
  size_t cap = log->cap ? log->cap * 2 : 64;
  log_entry **ring = malloc(cap * sizeof *ring);
  if (!ring) return -1;
  for (size_t i = 0; i < log->count; i++) ring[i] = log->ring[(log->head + i) % log->cap];
  free(log->ring);
  log->ring = ring;
  log->cap = cap;
  log->head = 0;
  return 0;
}

static log_entry *entry_new(const char *offset, const adapter_opts *o, const sio_frames *f) {
  size_t text = 0;
  for (unsigned i = 0; i < o->nrooms; i++) text += strlen(o->rooms[i]) + 1;
  for (unsigned i = 0; i < o->nexcept; i++) text += strlen(o->except[i]) + 1;
  size_t names = (size_t)o->nrooms + o->nexcept;
  size_t size = sizeof(log_entry) + names * sizeof(char *) + text;
  log_entry *e = malloc(size);
  sio_frames frames = {0};
  if (e && f->nbins && !(frames.bins = calloc(f->nbins, sizeof *frames.bins))) {
    free(e);
    return NULL;
  }
  if (!e) return NULL;
  e->bytes = size + eio_frame_len(f->text) + f->nbins * sizeof *frames.bins;
  frames.text = eio_frame_ref(f->text);
  for (size_t i = 0; i < f->nbins; i++) {
    frames.bins[frames.nbins++] = eio_frame_ref(f->bins[i]);
    e->bytes += eio_frame_len(f->bins[i]);
  }
  e->frames = frames;
  e->at_ms = sio_wall_ms();
  e->nrooms = o->nrooms;
  e->nexcept = o->nexcept;
  snprintf(e->offset, sizeof e->offset, "%s", offset);
  char *out = (char *)&e->names[names];
  for (size_t i = 0; i < names; i++) {
    const char *name = i < o->nrooms ? o->rooms[i] : o->except[i - o->nrooms];
    size_t len = strlen(name) + 1;
    e->names[i] = memcpy(out, name, len);
    out += len;
  }
  return e;
}

int recovery_log_add(sio_namespace *nsp, const char *offset, const adapter_opts *o,
                     const sio_frames *frames) {
  recovery_store *st = nsp->srv->recovery;
  if (!st) return -1;
  recovery_log *log = nsp->log;
  if (!log) {
    if (!(log = calloc(1, sizeof *log))) return -1;
    strmap_init(&log->by_offset);
    nsp->log = log;
  }
  log_entry *e = entry_new(offset, o, frames);
  if (!e || log_reserve(log) || !strmap_put(&log->by_offset, e->offset, e)) {
    if (e) frames_clear(&e->frames);
    free(e);
    /* A hole in the log: sessions that started before it cannot be replayed faithfully, so
     * everything before it goes (restores fall back to new sessions). */
    while (log->count) log_drop_oldest(log);
    log->next_seq++;
    return -1;
  }
  e->seq = log->next_seq++;
  log->ring[(log->head + log->count) % log->cap] = e;
  log->count++;
  log->bytes += e->bytes;
  log_trim(st, log, e->at_ms);
  return 0;
}

/* Drops the oldest entries while the log is over its budget or they are too old to replay.
 * The newest stays (a client's offset may be it). */
static void log_trim(const recovery_store *st, recovery_log *log, int64_t now_ms) {
  int64_t too_old = now_ms - st->max_ms;
  while (log->count > 1 &&
         (log->bytes > st->log_bytes || log->ring[log->head]->at_ms < too_old))
    log_drop_oldest(log);
}

void recovery_namespace_free(sio_namespace *nsp) {
  recovery_log *log = nsp->log;
  if (!log) return;
  while (log->count) log_drop_oldest(log);
  strmap_free(&log->by_offset);
  free(log->ring);
  free(log);
  nsp->log = NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* the cluster's copy of the sessions                                                          */

/* The offset of the last packet logged before the socket connected: where another server
 * starts its replay when the client has no offset of its own. "" if that is not known. */
static const char *start_offset(const sio_socket *s) {
  const recovery_log *log = s->nsp->log;
  if (!log || !log->count || s->start_seq == 0) return "";
  uint64_t oldest = log->next_seq - log->count;
  if (s->start_seq - 1 < oldest || s->start_seq - 1 >= log->next_seq) return "";
  return log_at(log, s->start_seq - 1)->offset;
}

static json_t *session_json(sio_socket *s) {
  json_t *rooms = json_array();
  size_t pos = 0;
  void *p;
  while (rooms && ptrset_next(&s->rooms, &pos, &p))
    json_array_append_new(rooms, json_string(((adapter_room *)p)->name));
  return json_pack("{ss ss so sO ss}", "sid", s->id, "nsp", s->nsp->name, "rooms", rooms,
                   "data", s->json ? s->json : json_null(), "from", start_offset(s));
}

/* Writes (keep) or forgets the cluster's copy of the socket's session. */
static void cluster_save(sio_socket *s, bool keep) {
  recovery_store *st = s->srv->recovery;
  if (!st || !st->cluster || !s->pid[0]) return;
  json_t *j = keep ? session_json(s) : NULL;
  if (!keep || j) st->cluster->save(st->cluster_ctx, s->pid, j, (unsigned)st->max_ms);
  json_decref(j);
}

static void flush_dirty(lws_sorted_usec_list_t *sul) {
  recovery_store *st = lws_container_of(sul, recovery_store, flush_timer);
  ptrset dirty = st->dirty;
  ptrset_init(&st->dirty);
  size_t pos = 0;
  void *p;
  while (ptrset_next(&dirty, &pos, &p)) {
    sio_socket *s = p;
    if (s->state == SOCK_CONNECTED) cluster_save(s, true);
    socket_release(s);
  }
  ptrset_free(&dirty);
}

void recovery_touch(sio_socket *s) {
  recovery_store *st = s->srv->recovery;
  if (!st || !st->cluster || s->state != SOCK_CONNECTED) return;
  if (ptrset_add(&st->dirty, s) == 1) sio_socket_ref(s);
  if (st->dirty.count == 1) lws_sul_schedule(st->context, 0, &st->flush_timer, flush_dirty, FLUSH_DELAY_US);
}

/* The copies of connected sockets expire like those of disconnected ones (so that a server
 * that dies leaves nothing behind for long): they are written again twice per period. */
static void refresh_all(lws_sorted_usec_list_t *sul) {
  recovery_store *st = lws_container_of(sul, recovery_store, refresh_timer);
  size_t npos = 0;
  void *n;
  while (strmap_next(&st->srv->nsps, &npos, NULL, &n)) {
    size_t pos = 0;
    void *s;
    while (strmap_next(&((sio_namespace *)n)->sockets, &pos, NULL, &s)) cluster_save(s, true);
  }
  lws_sul_schedule(st->context, 0, &st->refresh_timer, refresh_all, st->max_ms * 500);
}

void recovery_cluster_attach(sio_server *srv, const recovery_cluster_ops *ops, void *ctx) {
  recovery_store *st = srv->recovery;
  if (!st) return;
  st->cluster = ops;
  st->cluster_ctx = ctx;
  lws_sul_schedule(st->context, 0, &st->refresh_timer, refresh_all, st->max_ms * 500);
}

void recovery_cluster_detach(sio_server *srv) {
  recovery_store *st = srv->recovery;
  if (!st || !st->cluster) return;
  lws_sul_cancel(&st->refresh_timer);
  lws_sul_cancel(&st->flush_timer);
  st->cluster = NULL;
  st->cluster_ctx = NULL;
  size_t pos = 0;
  void *p;
  while (ptrset_next(&st->dirty, &pos, &p)) socket_release(p);
  ptrset_free(&st->dirty);
}

/* ------------------------------------------------------------------------------------------ */
/* restoring                                                                                   */

/* Where the replay starts: after the client's last offset, or (it received nothing yet, which
 * the reference cannot recover) from the session's start, `dflt` (none: `has_dflt` false).
 * False if what it missed is no longer all in the log. */
static bool replay_start(const recovery_log *log, const json_t *auth, bool has_dflt,
                         uint64_t dflt, uint64_t *from) {
  uint64_t next = log ? log->next_seq : 0, oldest = log ? next - log->count : 0;
  const json_t *offset = json_object_get(auth, "offset");
  if (offset && !json_is_null(offset)) {
    const char *key = json_string_value(offset);
    const log_entry *e = log && key ? strmap_get(&log->by_offset, key) : NULL;
    if (!e) {
      LOG_D("sio", "recovery: offset %s is not in the log", key ? key : "(not a string)");
      return false;
    }
    *from = e->seq + 1;
  } else if (has_dflt) {
    *from = dflt;
  } else {
    return false;
  }
  return *from >= oldest && *from <= next;
}

/* The socket becomes the session's (which it now owns): rooms and packets come at connect. */
static void take_over(sio_socket *s, recovery_session *sess, uint64_t from) {
  sess->from_seq = from;
  memcpy(s->id, sess->sid, sizeof s->id);
  memcpy(s->pid, sess->pid, sizeof s->pid);
  json_decref(s->json);
  s->json = sess->data;
  sess->data = NULL;
  s->restored = sess;
  s->recovered = true;
}

bool recovery_restore(sio_socket *s, const json_t *auth) {
  recovery_store *st = s->srv->recovery;
  const char *pid = st ? json_string_value(json_object_get(auth, "pid")) : NULL;
  if (!pid) return false;
  recovery_session *sess = strmap_get(&st->sessions, pid);
  if (!sess || sess->nsp != s->nsp || strmap_get(&s->nsp->sockets, sess->sid)) return false;
  if (fifo_timer_overdue(&sess->expiry)) {
    session_drop(st, sess);
    return false;
  }
  uint64_t from;
  if (!replay_start(s->nsp->log, auth, true, sess->from_seq, &from)) return false;
  session_take(st, sess);
  take_over(s, sess, from);
  return true;
}

/* A session as the cluster kept it (session_json), for socket `s`; NULL if it does not fit. */
static recovery_session *session_from_json(const sio_socket *s, const char *pid,
                                           const json_t *j, uint64_t *from, const json_t *auth) {
  const char *sid = json_string_value(json_object_get(j, "sid"));
  const char *nsp = json_string_value(json_object_get(j, "nsp"));
  const char *start = json_string_value(json_object_get(j, "from"));
  const json_t *rooms = json_object_get(j, "rooms");
  if (!sid || strlen(sid) != RANDOM_ID_LEN || strlen(pid) != RANDOM_ID_LEN || !nsp ||
      strcmp(nsp, s->nsp->name) != 0 || !start || !json_is_array(rooms) ||
      strmap_get(&s->nsp->sockets, sid)) {
    LOG_D("sio", "recovery: a session from the cluster does not fit");
    return NULL;
  }
  /* Its start, as an offset of this server's log ("": unknown, the client needs its own). */
  const recovery_log *log = s->nsp->log;
  const log_entry *e = *start && log ? strmap_get(&log->by_offset, start) : NULL;
  if (!replay_start(log, auth, e != NULL, e ? e->seq + 1 : 0, from)) {
    LOG_D("sio", "recovery: the missed packets of sid=%s are not all in this server's log", sid);
    return NULL;
  }
  size_t text = 0, n = json_array_size(rooms), i;
  json_t *v;
  json_array_foreach(rooms, i, v) {
    if (!json_is_string(v)) return NULL;
    text += json_string_length(v) + 1;
  }
  recovery_session *sess = malloc(sizeof *sess + n * sizeof(char *) + text);
  if (!sess) return NULL;
  memset(sess, 0, sizeof *sess);
  sess->nsp = s->nsp;
  memcpy(sess->pid, pid, sizeof sess->pid);
  memcpy(sess->sid, sid, sizeof sess->sid);
  const json_t *data = json_object_get(j, "data");
  sess->data = data && !json_is_null(data) ? json_incref((json_t *)data) : NULL;
  char *out = (char *)&sess->rooms[n];
  json_array_foreach(rooms, i, v) {
    size_t len = strlen(json_string_value(v)) + 1;
    sess->rooms[sess->nrooms++] = memcpy(out, json_string_value(v), len);
    out += len;
  }
  return sess;
}

typedef struct {
  sio_socket *s;
  json_t *auth;
} cluster_lookup;

static void cluster_answered(void *arg, json_t *session) {
  cluster_lookup *l = arg;
  sio_socket *s = l->s;
  const char *pid = json_string_value(json_object_get(l->auth, "pid"));
  uint64_t from;
  recovery_session *sess = NULL;
  if (session && s->state == SOCK_PENDING && s->srv->recovery && pid &&
      (sess = session_from_json(s, pid, session, &from, l->auth)))
    take_over(s, sess, from);
  if (s->state == SOCK_PENDING) {
    bool open = s->client && s->client->open;
    if (s->recovered && open && !s->srv->opts.recovery.run_middlewares) socket_connect(s);
    else namespace_run_middleware(s);
  }
  socket_release(s);
  json_decref(l->auth);
  free(l);
}

bool recovery_restore_cluster(sio_socket *s, const json_t *auth) {
  recovery_store *st = s->srv->recovery;
  const char *pid = st && st->cluster ? json_string_value(json_object_get(auth, "pid")) : NULL;
  if (!pid || strlen(pid) != RANDOM_ID_LEN) return false;
  cluster_lookup *l = malloc(sizeof *l);
  if (!l) return false;
  l->s = sio_socket_ref(s);
  l->auth = json_incref((json_t *)auth);
  st->cluster->take(st->cluster_ctx, pid, cluster_answered, l);
  return true;
}

/* The reference's shouldIncludePacket: the session is in one of the target rooms (or there
 * are none) and in none of the exceptions. */
static bool session_wants(const recovery_session *sess, const log_entry *e) {
  bool included = e->nrooms == 0;
  for (unsigned r = 0; r < sess->nrooms; r++) {
    for (unsigned i = 0; i < e->nrooms + e->nexcept; i++) {
      if (strcmp(sess->rooms[r], e->names[i]) != 0) continue;
      if (i >= e->nrooms) return false;
      included = true;
    }
  }
  return included;
}

void recovery_on_connect(sio_socket *s) {
  if (!s->srv->recovery) return;
  if (!s->pid[0] && !random_id(s->pid)) s->pid[0] = '\0';
  recovery_log *log = s->nsp->log;
  recovery_session *sess = s->restored;
  if (sess) {
    s->restored = NULL;
    for (unsigned i = 0; i < sess->nrooms; i++) adapter_join(s->nsp, s, sess->rooms[i]);
    size_t replayed = 0;
    if (log) {
      uint64_t oldest = log->next_seq - log->count;
      if (sess->from_seq < oldest) /* dropped while a middleware held the socket */
        LOG_W("sio", "recovery: %llu packets for sid=%s were dropped from the log meanwhile",
              (unsigned long long)(oldest - sess->from_seq), s->id);
      for (uint64_t seq = sess->from_seq > oldest ? sess->from_seq : oldest;
           seq < log->next_seq && s->client && s->client->open; seq++) {
        const log_entry *e = log_at(log, seq);
        if (session_wants(sess, e) && frames_send(s->client, &e->frames, false)) replayed++;
      }
    }
    metrics.sio_recovery_restored++;
    metrics.sio_recovery_replayed += replayed;
    LOG_D("sio", "recovery: sid=%s restored, %zu packets replayed", s->id, replayed);
    session_free(sess);
  }
  s->start_seq = log ? log->next_seq : 0;
  cluster_save(s, true);
}

void recovery_socket_free(sio_socket *s) {
  session_free(s->restored);
  s->restored = NULL;
}

bool sio_socket_recovered(const sio_socket *s) { return s && s->recovered; }

void recovery_stats(const sio_server *srv, size_t *sessions, size_t *session_bytes) {
  const recovery_store *st = srv->recovery;
  *sessions = st ? st->sessions.count : 0;
  *session_bytes = st ? st->session_bytes : 0;
}

size_t recovery_log_bytes(const sio_namespace *nsp) { return nsp->log ? nsp->log->bytes : 0; }
