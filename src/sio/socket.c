/* Sockets: one client in one namespace. Joining (after the middleware), events in, emits out,
 * rooms, the handshake, and leaving with a reason.
 *
 * A socket is counted: the client's list holds one reference until the socket leaves, and
 * whoever runs code that may end it (dispatch, middleware, broadcasts, the application through
 * sio_socket_ref) holds another, so that its memory outlives every caller. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "http/query.h"
#include "sio/sio_internal.h"
#include "util/json_write.h"
#include "util/log.h"
#include "util/random_id.h"

/* ------------------------------------------------------------------------------------------ */
/* ids and time                                                                                */

int64_t sio_wall_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ------------------------------------------------------------------------------------------ */
/* life cycle                                                                                  */

typedef struct {
  sio_handshake pub;
  json_t *headers, *query;
  char time[96];
  char strings[];              /* address, then url */
} handshake_box;

sio_socket *socket_new(sio_namespace *nsp, sio_client *c, json_t *auth) {
  sio_socket *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (!random_id(s->id)) {
    free(s);
    return NULL;
  }
  s->refs = 1; /* the client's list */
  s->state = SOCK_PENDING;
  s->srv = nsp->srv;
  s->nsp = nsp;
  s->client = client_ref(c);
  s->auth = json_incref(auth ? auth : nsp->srv->empty_auth);
  s->created_ms = sio_wall_ms();
  ptrset_init(&s->rooms);
  s->cnext = c->sockets;
  if (c->sockets) c->sockets->cprev = s;
  c->sockets = s;
  return s;
}

sio_socket *sio_socket_ref(sio_socket *s) {
  s->refs++;
  return s;
}

/* A remote socket's description. */
struct remote_info {
  json_t *handshake;
  char **rooms;
  size_t nrooms;
};

static void remote_free(struct remote_info *r) {
  if (!r) return;
  json_decref(r->handshake);
  for (size_t i = 0; i < r->nrooms; i++) free(r->rooms[i]);
  free(r->rooms);
  free(r);
}

sio_socket *socket_new_remote(sio_namespace *nsp, const char *id, const char *const *rooms,
                              size_t nrooms, json_t *handshake, json_t *data) {
  size_t idlen = strlen(id);
  if (idlen > RANDOM_ID_LEN) idlen = RANDOM_ID_LEN; /* ids of the reference are 20 too */
  sio_socket *s = calloc(1, sizeof *s);
  struct remote_info *r = calloc(1, sizeof *r);
  char **copies = nrooms ? calloc(nrooms, sizeof *copies) : NULL;
  if (!s || !r || (nrooms && !copies)) goto fail;
  r->rooms = copies;
  for (size_t i = 0; i < nrooms; i++) {
    if (!(copies[i] = strdup(rooms[i]))) goto fail;
    r->nrooms++;
  }
  memcpy(s->id, id, idlen);
  s->id[idlen] = 0;
  s->refs = 1;
  s->state = SOCK_CLOSED;
  s->srv = nsp->srv;
  s->nsp = nsp;
  r->handshake = json_is_object(handshake) ? json_incref(handshake) : json_object();
  json_t *auth = json_object_get(r->handshake, "auth");
  s->auth = json_incref(json_is_object(auth) ? auth : nsp->srv->empty_auth);
  s->json = data ? json_incref(data) : NULL;
  json_t *issued = json_object_get(r->handshake, "issued");
  s->created_ms = json_is_integer(issued) ? (int64_t)json_integer_value(issued) : 0;
  ptrset_init(&s->rooms);
  s->remote = r;
  return s;
fail:
  if (!r || !r->rooms) free(copies);
  remote_free(r);
  free(s);
  return NULL;
}

bool sio_socket_is_remote(const sio_socket *s) { return s && s->remote; }

int sio_socket_set_json(sio_socket *s, json_t *data) {
  if (!s || s->remote) return -1;
  json_t *old = s->json;
  s->json = data ? json_incref(data) : NULL;
  json_decref(old);
  recovery_touch(s);
  return 0;
}

const json_t *sio_socket_json(const sio_socket *s) { return s ? s->json : NULL; }

void socket_release(sio_socket *s) {
  if (--s->refs) return;
  json_decref(s->auth);
  json_decref(s->json);
  remote_free(s->remote);
  if (s->hs) {
    handshake_box *box = (handshake_box *)s->hs;
    json_decref(box->headers);
    json_decref(box->query);
    free(box);
  }
  ptrset_free(&s->rooms);
  recovery_socket_free(s);
  free(s);
}

void sio_socket_unref(sio_socket *s) {
  if (s) socket_release(s);
}

static bool client_open(const sio_socket *s) { return s->client && s->client->open; }

/* Writes a control packet (CONNECT, CONNECT_ERROR, DISCONNECT) of this socket's namespace. */
static void send_control(sio_socket *s, sio_packet_type type, const json_t *data) {
  sio_frames f;
  if (!client_open(s) || frames_build(s->srv, type, s->nsp->name, -1, data, NULL, 0, &f)) return;
  frames_send(s->client, &f, false);
  frames_clear(&f);
}

void socket_connect(sio_socket *s) {
  sio_namespace *nsp = s->nsp;
  if (!strmap_put(&nsp->sockets, s->id, s) || adapter_join(nsp, s, s->id)) {
    strmap_remove(&nsp->sockets, s->id);
    socket_refuse(s, "Internal error", NULL);
    return;
  }
  s->state = SOCK_CONNECTED;
  client_socket_connected(s->client);
  recovery_on_connect(s); /* a recovered socket's rooms and missed packets first */
  json_t *hello = s->pid[0] ? json_pack("{ssss}", "sid", s->id, "pid", s->pid)
                            : json_pack("{ss}", "sid", s->id);
  send_control(s, SIO_PACKET_CONNECT, hello);
  json_decref(hello);
  LOG_D("sio", "socket connected nsp=%s id=%s", nsp->name, s->id);
  sio_socket_ref(s);
  hook_chain chain = NSP_CHAIN(nsp, on_connection);
  CHAIN_FOREACH(chain, h) {
    if (s->state != SOCK_CONNECTED) break;
    ((sio_socket_fn)h->fn)(s, h->ctx);
  }
  socket_release(s);
}

void socket_refuse(sio_socket *s, const char *message, json_t *data) {
  json_t *err = json_pack("{ss}", "message", message);
  if (err && data) json_object_set(err, "data", data);
  send_control(s, SIO_PACKET_CONNECT_ERROR, err);
  json_decref(err);
  LOG_D("sio", "connection refused nsp=%s message=\"%s\"", s->nsp->name, message);
  socket_close(s, "server namespace disconnect");
}

static void run_reason_hooks(sio_socket *s, hook_chain chain, const char *reason) {
  CHAIN_FOREACH(chain, h) ((sio_reason_fn)h->fn)(s, reason, h->ctx);
}

void socket_close(sio_socket *s, const char *reason) {
  if (s->state == SOCK_CLOSED) return;
  bool was_connected = s->state == SOCK_CONNECTED;
  sio_client *c = s->client;
  sio_socket_ref(s);
  /* Out of the client's list at once, so that loops over it always progress; the client
   * itself stays referenced until the end (the handshake may be read by the handlers). */
  client_detach_socket(c, s);
  if (was_connected) run_reason_hooks(s, NSP_CHAIN(s->nsp, on_disconnecting), reason);
  if (was_connected) recovery_on_close(s, reason); /* with its rooms, before it leaves them */
  s->state = SOCK_CLOSED;
  adapter_leave_all(s->nsp, s);
  if (strmap_get(&s->nsp->sockets, s->id) == s) strmap_remove(&s->nsp->sockets, s->id);
  /* Pending emits with ack end before the disconnect handlers free what their contexts use. */
  ack_socket_closed(s);
  if (was_connected) {
    LOG_D("sio", "socket disconnected nsp=%s id=%s reason=\"%s\"", s->nsp->name, s->id, reason);
    run_reason_hooks(s, NSP_CHAIN(s->nsp, on_disconnect), reason);
  }
  s->client = NULL;
  if (c) client_release(c);
  socket_release(s); /* the list's */
  socket_release(s);
}

/* ------------------------------------------------------------------------------------------ */
/* incoming                                                                                    */

static void on_event(sio_socket *s, sio_packet *p, const sio_bytes *bins, size_t nbins) {
  /* The codec guarantees a non-empty array whose first element is a string or a number. */
  json_t *first = json_incref(json_array_get(p->data, 0));
  char numbuf[64];
  const char *event = json_string_value(first);
  if (!event) { /* a number: its JS string, which is what an EventEmitter key becomes */
    sbuf b;
    sbuf_init(&b, sizeof numbuf - 1);
    if (json_is_integer(first)) sbuf_printf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(first));
    else json_write_double(&b, json_number_value(first));
    snprintf(numbuf, sizeof numbuf, "%.*s", (int)b.len, b.data ? (char *)b.data : "");
    sbuf_free(&b);
    event = numbuf;
  }
  json_array_remove(p->data, 0);
  sio_message msg = {event, p->data, bins, nbins};
  sio_ack ack = {s, p->id, false, false, false};
  sio_ack *a = p->id >= 0 ? &ack : NULL;
  hook_chain any = NSP_CHAIN(s->nsp, on_any);
  CHAIN_FOREACH(any, h) {
    if (s->state != SOCK_CONNECTED) break;
    ((sio_any_fn)h->fn)(s, &msg, h->ctx);
  }
  hook_chain handlers = namespace_event_chain(s->nsp, event);
  CHAIN_FOREACH(handlers, h) {
    if (s->state != SOCK_CONNECTED) break; /* "ignore packet received after disconnection" */
    ((sio_event_fn)h->fn)(s, &msg, a, h->ctx);
  }
  json_decref(first);
}

void socket_on_packet(sio_socket *s, sio_packet *p, const sio_bytes *bins, size_t nbins) {
  sio_socket_ref(s);
  switch (p->type) {
  case SIO_PACKET_EVENT:
  case SIO_PACKET_BINARY_EVENT:
    on_event(s, p, bins, nbins);
    break;
  case SIO_PACKET_ACK:
  case SIO_PACKET_BINARY_ACK:
    ack_on_reply(s, p->id, p->data, bins, nbins);
    break;
  case SIO_PACKET_DISCONNECT:
    socket_close(s, "client namespace disconnect");
    break;
  default:
    break;
  }
  socket_release(s);
}

/* ------------------------------------------------------------------------------------------ */
/* outgoing                                                                                    */

void socket_notify_outgoing(sio_socket *s, const char *event, json_t *args,
                            const sio_bytes *bins, size_t nbins) {
  hook_chain chain = NSP_CHAIN(s->nsp, on_any_out);
  json_t *empty = args ? NULL : json_array();
  sio_message msg = {event, args ? args : empty, bins, nbins};
  CHAIN_FOREACH(chain, h)((sio_any_fn)h->fn)(s, &msg, h->ctx);
  json_decref(empty);
}

/* socket.emit(): the packet goes to this socket alone (encoded for it, with its ack id). With
 * connection state recovery it is replayable (no ack, not volatile) and logged as sent to the
 * socket's own room, its offset last, as the reference's adapter does. */
static int emit(sio_socket *s, const char *event, json_t *args, const sio_bytes *bins,
                size_t nbins, bool is_volatile, int64_t id) {
  bool logged = s->srv->recovery && id < 0 && !is_volatile && s->state == SOCK_CONNECTED;
  if (logged && s->srv->cluster) {
    /* In a cluster every server logs it, so that the client can recover on any of them: a
     * broadcast to the socket's own room, as the reference's emit does with recovery. */
    sio_broadcast b = sio_broadcast_of(s->nsp);
    sio_bc_to(&b, s->id);
    return sio_bc_emit(&b, event, args, bins, nbins) < 0 ? -1 : 0;
  }
  json_t *data = event_data(event, args);
  if (!data) return -1;
  char offset[RECOVERY_OFFSET_MAX];
  if (logged) {
    recovery_next_offset(s->srv, offset);
    if (json_array_append_new(data, json_string(offset))) logged = false;
  }
  sio_frames f;
  int r = frames_build(s->srv, SIO_PACKET_EVENT, s->nsp->name, id, data, bins, nbins, &f);
  json_decref(data);
  if (r) return -1;
  if (logged) {
    const char *own = s->id;
    adapter_opts to_self = {.rooms = &own, .nrooms = 1};
    recovery_log_add(s->nsp, offset, &to_self, &f);
  }
  sio_socket_ref(s);
  socket_notify_outgoing(s, event, args, bins, nbins);
  if (s->state != SOCK_CLOSED) frames_send(s->client, &f, is_volatile);
  socket_release(s);
  frames_clear(&f);
  return 0;
}

static bool can_emit(const sio_socket *s, const char *event) {
  /* A socket in its middleware may already emit, as in the reference. */
  return s && event && !event_name_reserved(event) && s->state != SOCK_CLOSED && client_open(s);
}

/* A remote socket is reached through the cluster, by its own room (the reference's
 * RemoteSocket: a broadcast operator to its id). */
static sio_broadcast remote_operator(sio_socket *s) {
  sio_broadcast b = sio_broadcast_of(s->nsp);
  sio_bc_to(&b, s->id);
  return b;
}

static int remote_emit(sio_socket *s, const char *event, json_t *args, const sio_bytes *bins,
                       size_t nbins, bool is_volatile) {
  sio_broadcast b = remote_operator(s);
  if (is_volatile) sio_bc_volatile(&b);
  return sio_bc_emit(&b, event, args, bins, nbins) < 0 ? -1 : 0;
}

int sio_emit(sio_socket *s, const char *event, json_t *args, const sio_bytes *bins,
             size_t nbins) {
  if (s && s->remote) return remote_emit(s, event, args, bins, nbins, false);
  return can_emit(s, event) ? emit(s, event, args, bins, nbins, false, -1) : -1;
}

int sio_emit_volatile(sio_socket *s, const char *event, json_t *args, const sio_bytes *bins,
                      size_t nbins) {
  if (s && s->remote) return remote_emit(s, event, args, bins, nbins, true);
  return can_emit(s, event) ? emit(s, event, args, bins, nbins, true, -1) : -1;
}

int sio_emit_with_ack(sio_socket *s, const char *event, json_t *args, const sio_bytes *bins,
                      size_t nbins, unsigned timeout_ms, sio_ack_fn cb, void *ctx) {
  if (!cb || !can_emit(s, event)) return -1;
  int64_t id = (int64_t)s->nsp->next_ack_id++;
  ack_wait *w = ack_wait_single(s, id, timeout_ms, cb, ctx);
  if (!w) return -1;
  if (emit(s, event, args, bins, nbins, false, id)) {
    ack_wait_cancel(w);
    return -1;
  }
  /* From here `cb` runs exactly once: reply, timeout or disconnect (even one caused by this
   * very send, when the client was cut off as a slow consumer). */
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* rooms and disconnection                                                                     */

int sio_join(sio_socket *s, const char *room) {
  if (s && room && s->remote) {
    sio_broadcast b = remote_operator(s);
    return sio_bc_sockets_join(&b, room) < 0 ? -1 : 0;
  }
  if (!s || !room || s->state == SOCK_CLOSED) return -1;
  int r = adapter_join(s->nsp, s, room);
  recovery_touch(s);
  return r;
}

void sio_leave(sio_socket *s, const char *room) {
  if (s && room && s->remote) {
    sio_broadcast b = remote_operator(s);
    sio_bc_sockets_leave(&b, room);
    return;
  }
  if (s && room && s->state != SOCK_CLOSED) {
    adapter_leave(s->nsp, s, room);
    recovery_touch(s);
  }
}

size_t sio_socket_rooms(const sio_socket *s, const char **out, size_t max) {
  if (s->remote) {
    for (size_t i = 0; i < s->remote->nrooms && i < max; i++) out[i] = s->remote->rooms[i];
    return s->remote->nrooms;
  }
  size_t pos = 0, n = 0;
  void *v;
  while (ptrset_next(&s->rooms, &pos, &v)) {
    if (n < max) out[n] = ((adapter_room *)v)->name;
    n++;
  }
  return n;
}

void sio_disconnect(sio_socket *s, bool close) {
  if (s && s->remote) {
    sio_broadcast b = remote_operator(s);
    sio_bc_disconnect_sockets(&b, close);
    return;
  }
  if (!s || s->state != SOCK_CONNECTED) return;
  if (close) {
    client_disconnect_all(s->client);
    return;
  }
  send_control(s, SIO_PACKET_DISCONNECT, NULL);
  socket_close(s, "server namespace disconnect");
}

/* ------------------------------------------------------------------------------------------ */
/* accessors                                                                                   */

const char *sio_socket_id(const sio_socket *s) { return s->id; }
const json_t *sio_socket_auth(const sio_socket *s) { return s->auth; }
sio_namespace *sio_socket_namespace(const sio_socket *s) { return s->nsp; }
bool sio_socket_connected(const sio_socket *s) { return s->remote || s->state == SOCK_CONNECTED; }
void sio_socket_set_data(sio_socket *s, void *data) { s->data = data; }
void *sio_socket_get_data(const sio_socket *s) { return s->data; }

sio_engine_session *sio_socket_engine_session(const sio_socket *s) {
  return client_open(s) ? s->client->eio : NULL;
}

/* "name: value\r\n" lines into an object. */
static json_t *parse_headers(const char *text) {
  json_t *o = json_object();
  for (const char *line = text; o && line && *line;) {
    const char *eol = strstr(line, "\r\n");
    size_t len = eol ? (size_t)(eol - line) : strlen(line);
    const char *colon = memchr(line, ':', len);
    if (colon) {
      const char *v = colon + 1;
      while (v < line + len && *v == ' ') v++;
      char *name = strndup(line, (size_t)(colon - line));
      json_t *value = json_stringn(v, (size_t)(line + len - v));
      if (name && value) json_object_set(o, name, value);
      json_decref(value);
      free(name);
    }
    line = eol ? eol + 2 : NULL;
  }
  return o;
}

/* The query of the handshake URL (which the Engine.IO layer rebuilt percent-encoded). */
static json_t *parse_query(const char *url) {
  json_t *o = json_object();
  const char *q = url ? strchr(url, '?') : NULL;
  query parsed;
  query_init(&parsed);
  if (q) query_parse(&parsed, q + 1, strlen(q + 1)); /* what fits: the URL was checked already */
  for (unsigned i = 0; o && i < parsed.count; i++)
    if (*parsed.params[i].key)
      json_object_set_new(o, parsed.params[i].key, json_string(parsed.params[i].value));
  return o;
}

/* Date.prototype.toString(): "Sun Nov 23 2025 08:05:00 GMT+0000 (UTC)". */
static void js_date_string(int64_t ms, char *out, size_t cap) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  size_t n = strftime(out, cap, "%a %b %d %Y %H:%M:%S GMT%z (%Z)", &tm);
  if (!n) out[0] = 0;
}

/* A remote socket's handshake, from what its server reported. */
/* socket.handshake in its box: address and url copied in, headers and query `params` taken
 * over (NULL: an empty object). Sets s->hs; NULL if memory is exhausted. */
static const sio_handshake *handshake_box_new(sio_socket *s, const char *address,
                                              const char *url, json_t *headers, json_t *params,
                                              bool xdomain, bool secure) {
  size_t alen = strlen(address), ulen = strlen(url);
  handshake_box *box = calloc(1, sizeof *box + alen + ulen + 2);
  if (!box) {
    json_decref(headers);
    json_decref(params);
    return NULL;
  }
  memcpy(box->strings, address, alen + 1);
  memcpy(box->strings + alen + 1, url, ulen + 1);
  box->headers = headers ? headers : json_object();
  box->query = params ? params : json_object();
  box->pub = (sio_handshake){
      .headers = box->headers,
      .time = box->time,
      .address = box->strings,
      .xdomain = xdomain,
      .secure = secure,
      .issued = s->created_ms,
      .url = box->strings + alen + 1,
      .query = box->query,
      .auth = s->auth,
  };
  s->hs = &box->pub;
  return s->hs;
}

static const sio_handshake *remote_handshake(sio_socket *s) {
  json_t *h = s->remote->handshake;
  const char *address = json_string_value(json_object_get(h, "address"));
  const char *url = json_string_value(json_object_get(h, "url"));
  const char *time = json_string_value(json_object_get(h, "time"));
  json_t *headers = json_object_get(h, "headers"), *params = json_object_get(h, "query");
  if (!handshake_box_new(s, address ? address : "", url ? url : "",
                         json_is_object(headers) ? json_incref(headers) : NULL,
                         json_is_object(params) ? json_incref(params) : NULL,
                         json_is_true(json_object_get(h, "xdomain")),
                         json_is_true(json_object_get(h, "secure"))))
    return NULL;
  handshake_box *box = (handshake_box *)s->hs; /* `pub` is its first member */
  snprintf(box->time, sizeof box->time, "%s", time ? time : "");
  return s->hs;
}

json_t *socket_handshake_json(sio_socket *s) {
  const sio_handshake *h = sio_socket_handshake(s);
  if (!h) return NULL;
  return json_pack("{sOsssssbsbsIsssOsO}", "headers", h->headers, "time", h->time, "address",
                   h->address, "xdomain", h->xdomain, "secure", h->secure, "issued",
                   (json_int_t)h->issued, "url", h->url, "query", h->query, "auth", h->auth);
}

const sio_handshake *sio_socket_handshake(sio_socket *s) {
  if (s->hs) return s->hs;
  if (s->remote) return remote_handshake(s);
  const eio_handshake *eh = s->client && s->client->eio ? eio_session_handshake(s->client->eio)
                                                         : NULL;
  const char *url = eh && eh->url ? eh->url : "";
  json_t *headers = parse_headers(eh ? eh->headers : NULL);
  if (!handshake_box_new(s, eh && eh->remote_address ? eh->remote_address : "", url, headers,
                         parse_query(url), headers && json_object_get(headers, "origin"),
                         eh && eh->secure))
    return NULL;
  handshake_box *box = (handshake_box *)s->hs; /* `pub` is its first member */
  js_date_string(s->created_ms, box->time, sizeof box->time);
  return s->hs;
}
