/* Engine.IO v4 sessions and transports over libwebsockets.
 *
 * A session outlives the HTTP requests and WebSocket connections that carry it, and a request
 * can outlive its session (a POST still arriving when the session times out). Both sides hold
 * counted references: a request's state (eio_conn) keeps its session alive until the request
 * ends, and a closed session only forgets its requests. Nothing is freed under a caller's feet.
 *
 * Outgoing frames wait in one queue per session, whatever the transport: WebSocket writes
 * them one per frame when the socket is writable; long-polling sends all of them in the body of
 * the next GET. */
#include "eio/eio_server.h"

#include <errno.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "http/query.h"
#include "net/http.h"
#include "net/fifo_timer.h"
#include "net/ws_codec.h"
#include "util/base64.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/random_id.h"
#include "util/sbuf.h"
#include "util/strmap.h"

enum session_state { S_OPEN, S_CLOSING, S_CLOSED };
enum conn_kind { C_NONE, C_GET, C_POST, C_WS, C_CANDIDATE, C_REPLY };


struct eio_server {
  struct lws_context *context;
  eio_options opts;
  char *path;
  char **cors_origins;
  eio_handlers handlers;
  void *ctx;
  strmap sessions;       /* sid -> eio_session */
  fifo_timer ping_wait;  /* armed for pingInterval: then a ping is sent */
  fifo_timer pong_wait;  /* armed for pingTimeout after a ping: then the session dies */
  fifo_timer upgrade_wait;
  bool draining;         /* shutting down: no new sessions */
};

struct eio_session {
  char sid[RANDOM_ID_LEN + 1];
  uint8_t state;
  uint8_t transport;        /* EIO_TRANSPORT_* */
  bool pong_grace_used;     /* a non-pong packet extended the pong deadline once this cycle */
  bool probed;              /* the upgrade candidate answered 2probe */
  bool client_closed;       /* the client sent a close packet */
  const char *close_reason; /* what a graceful close (S_CLOSING) reports when it ends */
  uint32_t refs;
  eio_server *srv;
  eio_ws *ws;               /* the WebSocket carrying the session */
  struct lws *get;          /* the held long-polling GET */
  struct lws *post;         /* the POST being received */
  eio_ws *candidate;        /* a WebSocket that is upgrading the session */
  fifo_timer_entry heartbeat;
  fifo_timer_entry upgrade_timer;
  eio_frame **queue;        /* ring buffer */
  uint32_t q_head, q_len, q_cap;
  size_t q_bytes;
  void *user;
  eio_handshake hs;
  char *hs_store;           /* the strings of `hs` */
};

struct eio_conn {
  eio_session *s;           /* HTTP: counted reference, or NULL */
  uint8_t kind;
  bool reply_ready;         /* `reply` holds a complete response to write */
  bool rx_binary;
  bool closes;              /* the request asked for "Connection: close" */
  uint16_t reply_status;
  const char *reply_type;   /* Content-Type, static string, or NULL */
  sbuf *reply;              /* the response body */
  sbuf *rx;                 /* POST body, or a fragmented WebSocket message */
  char *origin;             /* the request's Origin when CORS is on */
  char *acr_headers;        /* Access-Control-Request-Headers of a preflight */
  struct lws *wsi;
  eio_ws ws;                /* a WebSocket's Engine.IO state */
};

size_t eio_conn_size(void) { return sizeof(struct eio_conn); }

static const char *const error_messages[] = {
    "Transport unknown", "Session ID unknown", "Bad handshake method",
    "Bad request",       "Forbidden",          "Unsupported protocol version",
};
enum { E_TRANSPORT = 0, E_SID = 1, E_METHOD = 2, E_BAD = 3, E_FORBIDDEN = 4, E_VERSION = 5 };

/* ------------------------------------------------------------------------------------------ */
/* sessions                                                                                    */

static void session_release(eio_session *s);
static void session_close_now(eio_session *s, const char *reason);
static void session_flush(eio_session *s);
static void conn_reply(eio_conn *c, int status, const char *type, const void *body, size_t len);
static void conn_reply_buf(eio_conn *c, int status, const char *type, sbuf *body);
static void reply_init(sbuf *b);

static eio_session *session_ref(eio_session *s) {
  s->refs++;
  return s;
}

static void conn_set_session(eio_conn *c, eio_session *s) {
  if (c->s == s) return;
  eio_session *old = c->s;
  c->s = s ? session_ref(s) : NULL;
  if (old) session_release(old);
}

static void queue_clear(eio_session *s) {
  for (uint32_t i = 0; i < s->q_len; i++) eio_frame_unref(s->queue[(s->q_head + i) % s->q_cap]);
  s->q_head = s->q_len = 0;
  s->q_bytes = 0;
}

static void session_release(eio_session *s) {
  if (--s->refs) return;
  queue_clear(s);
  free(s->queue);
  free(s->hs_store);
  free(s);
}

static eio_frame *queue_pop(eio_session *s) {
  if (!s->q_len) return NULL;
  eio_frame *f = s->queue[s->q_head];
  s->q_head = (s->q_head + 1) % s->q_cap;
  s->q_len--;
  s->q_bytes -= eio_frame_len(f);
  return f;
}

static bool queue_push(eio_session *s, eio_frame *f) {
  if (s->q_len == s->q_cap) {
    uint32_t cap = s->q_cap ? s->q_cap * 2 : 4;
    eio_frame **q = malloc(cap * sizeof *q);
    if (!q) return false;
    for (uint32_t i = 0; i < s->q_len; i++) q[i] = s->queue[(s->q_head + i) % s->q_cap];
    free(s->queue);
    s->queue = q;
    s->q_cap = cap;
    s->q_head = 0;
  }
  s->queue[(s->q_head + s->q_len) % s->q_cap] = eio_frame_ref(f);
  s->q_len++;
  metrics.eio_packets_out++;
  metrics.eio_bytes_out += eio_frame_len(f);
  s->q_bytes += eio_frame_len(f);
  return true;
}

static void wake(eio_ws *ws) {
  if (ws) ws->ops->want_write(ws);
}

/* Ends a WebSocket from outside its carrier's events: it closes at its next write turn. */
static void ws_close_async(eio_ws *ws) {
  if (!ws) return;
  ws->close_asked = true;
  ws->ops->want_write(ws);
}

/* Answers the held GET with what is queued (or `control` if nothing is, when given). */
static void answer_get(eio_session *s, eio_frame *control) {
  struct lws *wsi = s->get;
  if (!wsi) return;
  eio_conn *c = lws_wsi_user(wsi);
  s->get = NULL;
  sbuf body;
  reply_init(&body);
  if (!s->q_len && control) {
    sbuf_append(&body, eio_frame_data(control), eio_frame_len(control));
  }
  size_t total = s->q_len ? s->q_len - 1 : 0;
  for (uint32_t i = 0; i < s->q_len; i++) {
    eio_frame *f = s->queue[(s->q_head + i) % s->q_cap];
    total += eio_payload_segment_len(eio_frame_binary(f), eio_frame_len(f));
  }
  if (s->q_len && sbuf_reserve(&body, total)) {
    for (bool first = true; s->q_len; first = false) {
      eio_frame *f = queue_pop(s);
      uint8_t *p = body.data + body.len;
      if (!first) *p++ = EIO_RECORD_SEPARATOR;
      p = eio_payload_write_segment(p, eio_frame_binary(f), eio_frame_data(f), eio_frame_len(f));
      body.len = (size_t)(p - body.data);
      eio_frame_unref(f);
    }
  }
  conn_reply_buf(c, 200, "text/plain; charset=UTF-8", &body);
}

static int ws_send_some(eio_session *s, eio_ws *ws);

/* Moves queued frames towards the client if its transport can take them now. A lone frame on
 * a carrier that may write at any time leaves at once (a broadcast touches each recipient
 * once, not again in a later write pass); a failed send is left to the carrier, which hears of
 * the dead socket from its own events. */
static void session_flush(eio_session *s) {
  if (s->transport == EIO_TRANSPORT_WEBSOCKET) {
    eio_ws *ws = s->ws;
    if (s->q_len == 1 && ws && ws->ops->send_anytime && !ws->ops->choked(ws) &&
        s->state == S_OPEN) {
      ws_send_some(s, ws);
      return;
    }
    if (s->q_len) wake(ws);
  } else if (s->get && s->q_len) {
    answer_get(s, NULL);
  }
}

static void heartbeat_arm_ping(eio_session *s) { fifo_timer_arm(&s->srv->ping_wait, &s->heartbeat); }

static void on_ping_due(fifo_timer *q, fifo_timer_entry *e) {
  eio_session *s = lws_container_of(e, eio_session, heartbeat);
  if (s->state == S_CLOSING) { /* the client never came back for its close packet */
    session_close_now(s, s->close_reason);
    return;
  }
  s->pong_grace_used = false;
  eio_session_send(s, eio_frame_control(EIO_PING));
  fifo_timer_arm(&s->srv->pong_wait, &s->heartbeat);
}

static void on_pong_overdue(fifo_timer *q, fifo_timer_entry *e) {
  eio_session *s = lws_container_of(e, eio_session, heartbeat);
  session_close_now(s, s->state == S_CLOSING ? s->close_reason : "ping timeout");
}

static void on_upgrade_overdue(fifo_timer *q, fifo_timer_entry *e) {
  eio_session *s = lws_container_of(e, eio_session, upgrade_timer);
  LOG_D("eio", "upgrade timed out sid=%s", s->sid);
  ws_close_async(s->candidate);
  s->candidate = NULL;
  s->probed = false;
}

/* The session is over: it leaves the table, its transports are told, the layer above is told. */
static void session_close_now(eio_session *s, const char *reason) {
  if (s->state == S_CLOSED) return;
  eio_server *srv = s->srv;
  s->state = S_CLOSED;
  fifo_timer_disarm(&s->heartbeat);
  fifo_timer_disarm(&s->upgrade_timer);
  strmap_remove(&srv->sessions, s->sid);
  metrics.eio_sessions_closed++;
  if (strcmp(reason, "parse error") == 0) metrics.eio_parse_errors++;
  LOG_D("eio", "session closed sid=%s reason=\"%s\"", s->sid, reason);
  queue_clear(s);
  if (s->get) answer_get(s, eio_frame_control(s->client_closed ? EIO_NOOP : EIO_CLOSE));
  if (s->post) {
    eio_conn *c = lws_wsi_user(s->post);
    if (!c->reply_ready) conn_reply(c, 400, NULL, NULL, 0);
    s->post = NULL;
  }
  ws_close_async(s->ws);
  ws_close_async(s->candidate);
  s->ws = s->candidate = NULL;
  if (srv->handlers.on_close) srv->handlers.on_close(s, reason, srv->ctx);
  s->user = NULL;
  session_release(s); /* the table's reference */
}

/* Closes after flushing, the way the reference's socket.close() waits for its buffer to drain.
 * Over long-polling the close packet travels alone, in the response after the last data: a
 * client that read it beside the data would act on the close first. */
static void session_close_gracefully(eio_session *s, const char *reason) {
  if (s->state != S_OPEN) return;
  s->state = S_CLOSING;
  s->close_reason = reason;
  if (s->transport == EIO_TRANSPORT_WEBSOCKET) {
    if (!s->q_len) session_close_now(s, reason);
    else wake(s->ws); /* closes once drained */
    return;
  }
  if (s->get) { /* a held GET means nothing is queued */
    answer_get(s, eio_frame_control(EIO_CLOSE));
    session_close_now(s, reason);
  }
}

void eio_session_close(eio_session *s) { session_close_gracefully(s, "forced close"); }

int eio_session_send(eio_session *s, eio_frame *f) {
  if (s->state != S_OPEN) return -1;
  if (s->q_bytes + eio_frame_len(f) > s->srv->opts.max_buffered) {
    LOG_W("eio", "slow consumer cut off sid=%s buffered=%zu", s->sid, s->q_bytes);
    metrics.eio_slow_consumer_disconnects++;
    session_close_now(s, "transport error");
    return -1;
  }
  if (!queue_push(s, f)) {
    session_close_now(s, "transport error");
    return -1;
  }
  session_flush(s);
  return 0;
}

int eio_session_send_message(eio_session *s, const void *data, size_t len, bool binary) {
  eio_frame *f = binary ? eio_frame_new(true, len) : eio_frame_text(EIO_MESSAGE, data, len);
  if (!f) return -1;
  if (binary && len) memcpy(eio_frame_data(f), data, len);
  int r = eio_session_send(s, f);
  eio_frame_unref(f);
  return r;
}

bool eio_session_writable_now(const eio_session *s) {
  if (s->state != S_OPEN || s->q_len) return false;
  if (s->transport == EIO_TRANSPORT_WEBSOCKET) return s->ws && !s->ws->ops->choked(s->ws);
  return s->get != NULL;
}

const char *eio_session_id(const eio_session *s) { return s->sid; }
void *eio_session_user(const eio_session *s) { return s->user; }
void eio_session_set_user(eio_session *s, void *user) { s->user = user; }
bool eio_session_is_websocket(const eio_session *s) { return s->transport == EIO_TRANSPORT_WEBSOCKET; }
size_t eio_session_buffered(const eio_session *s) { return s->q_bytes; }
const eio_handshake *eio_session_handshake(const eio_session *s) { return &s->hs; }

/* Handles one decoded packet from the client, on whichever transport. */
static void session_packet(eio_session *s, const eio_packet *p) {
  if (s->state == S_CLOSED) return;
  metrics.eio_packets_in++;
  metrics.eio_bytes_in += p->len;
  eio_server *srv = s->srv;
  if (p->type != EIO_PONG && s->heartbeat.queue == &srv->pong_wait && !s->pong_grace_used) {
    /* Any traffic proves the client alive: extend the pong deadline once per ping. */
    s->pong_grace_used = true;
    fifo_timer_arm(&srv->pong_wait, &s->heartbeat);
  }
  switch (p->type) {
  case EIO_PONG:
    if (s->state == S_OPEN) heartbeat_arm_ping(s);
    break;
  case EIO_PING: /* in v4 only the server pings */
    session_close_now(s, "transport error");
    break;
  case EIO_CLOSE:
    s->client_closed = true;
    session_close_now(s, "transport close");
    break;
  case EIO_MESSAGE:
    if (s->state == S_OPEN && srv->handlers.on_message)
      srv->handlers.on_message(s, p->data, p->len, p->binary, srv->ctx);
    break;
  default: /* open, upgrade and noop mean nothing here */
    break;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* HTTP responses                                                                              */

static void conn_reset(eio_conn *c) {
  conn_set_session(c, NULL);
  if (c->reply) sbuf_free(c->reply);
  free(c->reply);
  if (c->rx) sbuf_free(c->rx);
  free(c->rx);
  free(c->origin);
  free(c->acr_headers);
  eio_ws_gone(&c->ws);
  struct lws *wsi = c->wsi;
  memset(c, 0, sizeof *c);
  c->wsi = wsi;
}

/* Response bodies keep LWS_PRE bytes of headroom in front: lws writes frame headers there
 * (HTTP/2 over TLS, where a body is framed). */
static void reply_init(sbuf *b) {
  static const uint8_t headroom[LWS_PRE];
  sbuf_init(b, 0);
  sbuf_append(b, headroom, sizeof headroom);
}

/* Prepares a complete response from `body` (built with reply_init; taken over); it is written
 * at the connection's next writeable event. */
static void conn_reply_buf(eio_conn *c, int status, const char *type, sbuf *body) {
  if (c->reply) {
    sbuf_free(c->reply);
  } else if (!(c->reply = malloc(sizeof *c->reply))) {
    sbuf_free(body);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
    return;
  }
  *c->reply = *body;
  c->reply_status = (uint16_t)status;
  c->reply_type = type;
  c->reply_ready = !body->failed;
  if (body->failed) lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
  else lws_callback_on_writable(c->wsi);
}

static void conn_reply(eio_conn *c, int status, const char *type, const void *body, size_t len) {
  sbuf b;
  reply_init(&b);
  sbuf_append(&b, body, len);
  conn_reply_buf(c, status, type, &b);
}

static void conn_error(eio_conn *c, int code) {
  char body[96];
  int n = snprintf(body, sizeof body, "{\"code\":%d,\"message\":\"%s\"}", code, error_messages[code]);
  conn_reply(c, code == E_FORBIDDEN ? 403 : 400, "application/json", body, (size_t)n);
}

static const char *cors_allowed_origin(const eio_server *srv, const char *origin, bool *vary) {
  *vary = false;
  if (!srv->cors_origins) return NULL;
  for (char **o = srv->cors_origins; *o; o++) {
    if (strcmp(*o, "*") == 0) return "*";
  }
  *vary = true;
  if (!origin) return NULL;
  for (char **o = srv->cors_origins; *o; o++) {
    if (strcmp(*o, origin) == 0) return origin;
  }
  return NULL;
}

static int write_reply(eio_server *srv, struct lws *wsi, eio_conn *c) {
  /* Room for the headers and a typical poll response, sent together (http_write_response). */
  uint8_t headers[LWS_PRE + 4096];
  uint8_t *start = headers + LWS_PRE, *p = start, *end = headers + sizeof headers - 1;
  size_t len = c->reply ? c->reply->len - LWS_PRE : 0;
  bool preflight = c->kind == C_REPLY && c->reply_status == 204;
  if (lws_add_http_common_headers(wsi, c->reply_status, c->reply_type, len, &p, end) ||
      http_add_header(wsi, "cache-control", "no-store", &p, end) ||
      http_add_connection_close(wsi, c->closes, &p, end))
    return -1;
  bool vary;
  const char *allow = cors_allowed_origin(srv, c->origin, &vary);
  if (allow && http_add_header(wsi, "access-control-allow-origin", allow, &p, end)) return -1;
  if (allow && srv->opts.cors_credentials &&
      http_add_header(wsi, "access-control-allow-credentials", "true", &p, end))
    return -1;
  if (preflight) {
    if (http_add_header(wsi, "access-control-allow-methods", "GET,HEAD,PUT,PATCH,POST,DELETE", &p, end))
      return -1;
    if (c->acr_headers && http_add_header(wsi, "access-control-allow-headers", c->acr_headers, &p, end))
      return -1;
  }
  if (vary || preflight) {
    const char *v = vary && preflight ? "Origin, Access-Control-Request-Headers"
                    : vary            ? "Origin"
                                      : "Access-Control-Request-Headers";
    if (http_add_header(wsi, "vary", v, &p, end)) return -1;
  }
  int r = http_write_response(wsi, start, &p, end, len ? c->reply->data + LWS_PRE : NULL, len);
  /* lws keeps what the kernel did not take; an idle keep-alive connection keeps no buffer. */
  sbuf_free(c->reply);
  free(c->reply);
  c->reply = NULL;
  free(c->origin);
  free(c->acr_headers);
  c->origin = c->acr_headers = NULL;
  if (r) return -1;
  c->reply_ready = false;
  if (c->s && c->s->post == wsi) c->s->post = NULL;
  conn_set_session(c, NULL);
  return EIO_HTTP_DONE;
}

/* ------------------------------------------------------------------------------------------ */
/* requests                                                                                    */

typedef struct {
  const query *q;
  const char *transport;
  const char *sid;
  bool eio4;
} request_args;

static void args_read(request_args *a, const query *q) {
  a->q = q;
  a->transport = query_get(q, "transport");
  a->sid = query_get(q, "sid");
  if (a->sid && !*a->sid) a->sid = NULL;
  const char *eio = query_get(q, "EIO");
  a->eio4 = eio && strcmp(eio, "4") == 0;
}

static int parse_args(struct lws *wsi, query *q) {
  query_init(q);
  char frag[QUERY_MAX_BYTES];
  /* lws hands out the arguments already split at '&' and percent-decoded, one per fragment;
   * empty pairs ("a=1&&b=2") are empty fragments, and the total counts one separator between
   * fragments, which tells where the list ends. */
  int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS), seen = 0;
  for (int i = 0; seen + i < total; i++) {
    if (i >= 4 * QUERY_MAX_PARAMS) return -1;
    int n = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
    seen += n;
    if (n == 0) continue;
    if (n >= (int)sizeof frag) return -1;
    n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0 || query_add_pair(q, frag, (size_t)n)) return -1;
  }
  return 0;
}

static unsigned transport_bit(const char *name) {
  if (!name) return 0;
  if (strcmp(name, "polling") == 0) return EIO_TRANSPORT_POLLING;
  if (strcmp(name, "websocket") == 0) return EIO_TRANSPORT_WEBSOCKET;
  return 0;
}

static char *copy_header(struct lws *wsi, enum lws_token_indexes t) {
  int n = lws_hdr_total_length(wsi, t);
  if (n <= 0 || n > 4096) return NULL;
  char *v = malloc((size_t)n + 1);
  if (v && lws_hdr_copy(wsi, v, n + 1, t) < 0) {
    free(v);
    v = NULL;
  }
  return v;
}

/* The headers lws knows by name (it cannot list the others). */
static void lws_write_headers(const void *ctx, sbuf *b) {
  struct lws *wsi = (struct lws *)ctx;
  char value[4096];
  for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
    if (t == WSI_TOKEN_GET_URI || t == WSI_TOKEN_POST_URI || t == WSI_TOKEN_OPTIONS_URI ||
        t == WSI_TOKEN_HTTP_URI_ARGS ||
        (t >= WSI_TOKEN_HTTP_COLON_METHOD && t <= WSI_TOKEN_HTTP_COLON_SCHEME))
      continue;
    const char *name = (const char *)lws_token_to_string((enum lws_token_indexes)t);
    if (!name || !*name || name[0] == ':' || name[strlen(name) - 1] != ':') continue;
    int n = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
    if (n <= 0 || n >= (int)sizeof value) continue;
    if (lws_hdr_copy(wsi, value, sizeof value, (enum lws_token_indexes)t) < 0) continue;
    sbuf_printf(b, "%.*s: %s\r\n", (int)strlen(name) - 1, name, value);
  }
}

static void lws_write_address(const void *ctx, sbuf *b) {
  char peer[64] = "";
  lws_get_peer_simple((struct lws *)ctx, peer, sizeof peer);
  sbuf_append_str(b, peer);
}

/* A request held by lws, seen as a carrier-neutral request. */
typedef struct {
  eio_ws_request r;
  char origin[1024];
} lws_request;

static void lws_request_init(lws_request *lr, struct lws *wsi, const query *q) {
  int n = lws_hdr_copy(wsi, lr->origin, sizeof lr->origin, WSI_TOKEN_ORIGIN);
  lr->r = (eio_ws_request){.q = q,
                           .origin = n >= 0 && lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0
                                         ? lr->origin
                                         : NULL,
                           .secure = lws_is_ssl(wsi),
                           .write_address = lws_write_address,
                           .write_headers = lws_write_headers,
                           .ctx = wsi};
}

/* Keeps what the upper layer may want to know of the handshake request, in one allocation. */
static void capture_handshake(eio_session *s, const eio_ws_request *r) {
  sbuf b;
  sbuf_init(&b, 16384);
  /* url */
  sbuf_append_str(&b, s->srv->path);
  for (unsigned i = 0; i < r->q->count; i++) {
    sbuf_append_byte(&b, i ? '&' : '?');
    query_append_component(&b, r->q->params[i].key);
    sbuf_append_byte(&b, '=');
    query_append_component(&b, r->q->params[i].value);
  }
  sbuf_append_byte(&b, 0);
  size_t remote_at = b.len;
  r->write_address(r->ctx, &b);
  sbuf_append_byte(&b, 0);
  size_t headers_at = b.len;
  r->write_headers(r->ctx, &b);
  sbuf_append_byte(&b, 0);
  if (b.failed) {
    sbuf_free(&b);
    return;
  }
  /* Kept for the session's life: give back the buffer's growth slack. */
  char *fit = realloc(b.data, b.len);
  s->hs_store = fit ? fit : (char *)b.data;
  s->hs.url = s->hs_store;
  s->hs.remote_address = s->hs_store + remote_at;
  s->hs.headers = s->hs_store + headers_at;
  s->hs.secure = r->secure;
  struct timeval tv;
  gettimeofday(&tv, NULL);
  s->hs.issued_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static eio_session *session_new(eio_server *srv, unsigned transport) {
  eio_session *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (!random_id(s->sid) || !strmap_put(&srv->sessions, s->sid, s)) {
    free(s);
    return NULL;
  }
  s->srv = srv;
  s->refs = 1; /* the table's */
  s->transport = (uint8_t)transport;
  return s;
}

static void session_open(eio_session *s) {
  eio_server *srv = s->srv;
  char open[256];
  bool can_upgrade = s->transport == EIO_TRANSPORT_POLLING && srv->opts.allow_upgrades &&
                     (srv->opts.transports & EIO_TRANSPORT_WEBSOCKET);
  int n = eio_open_frame(open, sizeof open, s->sid, can_upgrade, srv->opts.ping_interval_ms,
                         srv->opts.ping_timeout_ms, srv->opts.max_payload);
  eio_frame *f = n > 1 ? eio_frame_text(EIO_OPEN, open + 1, (size_t)n - 1) : NULL;
  if (!f || queue_push(s, f) == false) {
    eio_frame_unref(f);
    session_close_now(s, "transport error");
    return;
  }
  eio_frame_unref(f);
  heartbeat_arm_ping(s);
  metrics.eio_sessions_opened++;
  LOG_D("eio", "session opened sid=%s transport=%s", s->sid,
        s->transport == EIO_TRANSPORT_POLLING ? "polling" : "websocket");
  if (srv->handlers.on_open) srv->handlers.on_open(s, srv->ctx);
}

/* A session whose pong deadline has passed is dead even if its timer has not fired yet: a
 * request must not bring it back. */
static eio_session *find_session(eio_server *srv, const char *sid) {
  eio_session *s = strmap_get(&srv->sessions, sid);
  if (s && s->heartbeat.queue == &srv->pong_wait && fifo_timer_overdue(&s->heartbeat)) {
    session_close_now(s, "ping timeout");
    s = NULL;
  }
  return s;
}

/* Reads the Origin (and preflight header) a CORS response will need. */
static void capture_cors(eio_server *srv, struct lws *wsi, eio_conn *c) {
  if (!srv->cors_origins) return;
  c->origin = copy_header(wsi, WSI_TOKEN_ORIGIN);
}

static bool origin_is_valid(const char *origin) {
  for (const char *p = origin; p && *p; p++) {
    unsigned char ch = (unsigned char)*p;
    if ((ch < 32 && ch != '\t') || ch == 127) return false;
  }
  return true;
}

/* A request received whole gives back its header table at once: what its response needs was
 * copied (eio_conn: Origin, Connection: close, preflight headers), and lws keeps all tables in
 * one list that it walks to free one (O(tables)): with every held GET and every POST awaiting
 * its turn to be answered holding one, that walk cost ~12% of the server's CPU. HTTP/2 streams
 * keep theirs (they belong to the stream machinery). */
static void request_received(struct lws *wsi) {
  if (lws_get_network_wsi(wsi) == wsi) lws_http_headers_detach(wsi);
}

static int http_request(eio_server *srv, struct lws *wsi, eio_conn *c);

int eio_http_request(eio_server *srv, struct lws *wsi, eio_conn *c) {
  int r = http_request(srv, wsi, c);
  /* A POST's body is still to come (its table goes when it is complete). */
  if (!r && lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) <= 0) request_received(wsi);
  return r;
}

static int http_request(eio_server *srv, struct lws *wsi, eio_conn *c) {
  conn_reset(c);
  c->wsi = wsi;
  c->kind = C_REPLY;
  c->closes = http_request_closes(wsi);
  capture_cors(srv, wsi, c);
  bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
  bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
  bool options = lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI) > 0;

  query q;
  if (parse_args(wsi, &q)) {
    conn_error(c, E_BAD);
    return 0;
  }
  request_args a;
  args_read(&a, &q);
  if (options && srv->cors_origins) {
    c->acr_headers = copy_header(wsi, WSI_TOKEN_HTTP_AC_REQUEST_HEADERS);
    conn_reply(c, 204, NULL, NULL, 0);
    return 0;
  }
  unsigned t = transport_bit(a.transport);
  if (!(t & srv->opts.transports)) {
    conn_error(c, E_TRANSPORT);
    return 0;
  }
  lws_request lr;
  lws_request_init(&lr, wsi, &q);
  if (!origin_is_valid(lr.r.origin)) {
    conn_error(c, E_BAD);
    return 0;
  }
  if (!a.sid) {
    if (!get) {
      conn_error(c, E_METHOD);
      return 0;
    }
    if (t == EIO_TRANSPORT_WEBSOCKET) { /* a WebSocket handshake needs an upgrade */
      conn_error(c, E_BAD);
      return 0;
    }
    if (!a.eio4) {
      conn_error(c, E_VERSION);
      return 0;
    }
    eio_session *s = srv->draining ? NULL : session_new(srv, EIO_TRANSPORT_POLLING);
    if (!s) {
      conn_error(c, E_BAD);
      return 0;
    }
    capture_handshake(s, &lr.r);
    c->kind = C_GET;
    conn_set_session(c, s);
    s->get = wsi;
    session_open(s);
    session_flush(s);
    return 0;
  }

  eio_session *s = find_session(srv, a.sid);
  if (!s) {
    conn_error(c, E_SID);
    return 0;
  }
  if (t != s->transport || !a.eio4) {
    conn_error(c, E_BAD);
    return 0;
  }
  if (get) {
    if (s->get) { /* overlapping polls: the reference ends the session */
      conn_reply(c, 400, NULL, NULL, 0);
      session_close_now(s, "transport error");
      return 0;
    }
    c->kind = C_GET;
    conn_set_session(c, s);
    s->get = wsi;
    if (s->state == S_CLOSING) { /* data first; the close packet in a response of its own */
      bool drained = !s->q_len;
      answer_get(s, eio_frame_control(EIO_CLOSE));
      if (drained) session_close_now(s, s->close_reason);
    } else if (s->q_len) {
      answer_get(s, NULL);
    } else if (s->probed) {
      answer_get(s, eio_frame_control(EIO_NOOP)); /* let the client finish its upgrade */
    }
    /* A held GET is timed by the session's heartbeat, not by lws (it would end it after
     * timeout_secs). */
    if (s->get == wsi) lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    return 0;
  }
  if (post) {
    char ctype[64] = "";
    lws_hdr_copy(wsi, ctype, sizeof ctype, WSI_TOKEN_HTTP_CONTENT_TYPE);
    if (s->post || strcmp(ctype, "application/octet-stream") == 0) {
      conn_reply(c, 400, NULL, NULL, 0);
      session_close_now(s, "transport error");
      return 0;
    }
    char clen[32] = "";
    if (lws_hdr_copy(wsi, clen, sizeof clen, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
        strtoull(clen, NULL, 10) > srv->opts.max_payload) {
      conn_reply(c, 413, NULL, NULL, 0);
      session_close_now(s, "transport error");
      return 0;
    }
    c->kind = C_POST;
    conn_set_session(c, s);
    s->post = wsi;
    return 0;
  }
  conn_reply(c, 500, NULL, NULL, 0); /* any other method on a session, as the reference */
  return 0;
}

int eio_http_body(eio_server *srv, struct lws *wsi, eio_conn *c, const void *in, size_t len) {
  if (c->kind != C_POST || !c->s || c->reply_ready) return 0;
  if (!c->rx) {
    c->rx = malloc(sizeof *c->rx);
    if (!c->rx) return -1;
    sbuf_init(c->rx, srv->opts.max_payload);
  }
  if (!sbuf_append(c->rx, in, len)) {
    eio_session *s = c->s;
    conn_reply(c, 413, NULL, NULL, 0);
    s->post = NULL;
    session_close_now(s, "transport error");
  }
  return 0;
}

int eio_http_body_done(eio_server *srv, struct lws *wsi, eio_conn *c) {
  request_received(wsi);
  if (c->kind != C_POST || c->reply_ready) return 0;
  eio_session *s = c->s;
  if (!s || s->state == S_CLOSED) {
    conn_error(c, E_SID);
    return 0;
  }
  s->post = NULL;
  uint8_t empty = 0;
  eio_payload_reader r;
  eio_payload_reader_init(&r, c->rx ? c->rx->data : &empty, c->rx ? c->rx->len : 0);
  eio_packet p;
  int n = 0;
  session_ref(s); /* handlers may close the session */
  while (s->state != S_CLOSED && (n = eio_payload_next(&r, &p)) > 0) session_packet(s, &p);
  if (s->state != S_CLOSED && n < 0) session_close_now(s, "parse error");
  session_release(s);
  if (c->rx) {
    sbuf_free(c->rx);
    free(c->rx);
    c->rx = NULL;
  }
  /* Even a malformed payload (which ended the session) is answered "ok", as the reference
   * does: the client learns of the closed session on its next request. */
  conn_reply(c, 200, "text/html", "ok", 2);
  return 0;
}

int eio_http_writeable(eio_server *srv, struct lws *wsi, eio_conn *c) {
  if (!c->reply_ready) return 0;
  return write_reply(srv, wsi, c);
}

void eio_http_closed(eio_server *srv, struct lws *wsi, eio_conn *c) {
  eio_session *s = c->s;
  if (s && s->state != S_CLOSED && (s->get == wsi || s->post == wsi)) {
    if (s->get == wsi) s->get = NULL;
    if (s->post == wsi) s->post = NULL;
    session_close_now(s, "transport error"); /* the request was abandoned */
  }
  conn_reset(c);
}

/* ------------------------------------------------------------------------------------------ */
/* WebSocket                                                                                   */

const char *eio_error_message(int code) {
  return code >= 0 && code < (int)(sizeof error_messages / sizeof *error_messages)
             ? error_messages[code]
             : "Bad request";
}

/* Rejects an upgrade the way the reference does: a bare 400 with the message as text/html. */
static int reject_upgrade(struct lws *wsi, int code) {
  uint8_t buf[LWS_PRE + 512];
  uint8_t *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  const char *msg = error_messages[code];
  size_t len = strlen(msg);
  if (lws_add_http_header_status(wsi, 400, &p, end) ||
      lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                  (const unsigned char *)"close", 5, &p, end) ||
      lws_add_http_header_content_length(wsi, len, &p, end) ||
      lws_add_http_header_by_name(wsi, (const unsigned char *)"content-type:",
                                  (const unsigned char *)"text/html", 9, &p, end) ||
      lws_finalize_http_header(wsi, &p, end))
    return 1;
  memcpy(p, msg, len);
  p += len;
  lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL);
  return 1;
}

/* Validation happens twice: where a refusal can still be an HTTP response, and again when the
 * connection is open (the session may have changed in between). */
static int ws_check(eio_server *srv, const eio_ws_request *r, eio_session **found) {
  *found = NULL;
  request_args a;
  args_read(&a, r->q);
  unsigned t = transport_bit(a.transport);
  if (t != EIO_TRANSPORT_WEBSOCKET || !(t & srv->opts.transports)) return E_TRANSPORT;
  if (!origin_is_valid(r->origin)) return E_BAD;
  if (!a.sid) return a.eio4 ? -1 : E_VERSION;
  eio_session *s = find_session(srv, a.sid);
  if (!s) return E_SID;
  if (!a.eio4) return E_BAD;
  *found = s;
  return -1;
}

int eio_ws_check(eio_server *srv, const eio_ws_request *r) {
  eio_session *s;
  return ws_check(srv, r, &s);
}

/* Only an open polling session that is not already upgrading can move to WebSocket; like the
 * reference, a WebSocket that cannot is accepted and then closed at once. */
static bool can_upgrade(const eio_server *srv, const eio_session *s) {
  return s->state == S_OPEN && s->transport == EIO_TRANSPORT_POLLING && !s->candidate &&
         srv->opts.allow_upgrades;
}

static void ws_set_session(eio_ws *ws, eio_session *s) {
  if (ws->s == s) return;
  eio_session *old = ws->s;
  ws->s = s ? session_ref(s) : NULL;
  if (old) session_release(old);
}

int eio_ws_open(eio_server *srv, eio_ws *ws, const eio_ws_request *r) {
  eio_session *s;
  ws->close_code = 1000;
  if (ws_check(srv, r, &s) >= 0) return -1;
  if (s) { /* an upgrade of a polling session */
    if (!can_upgrade(srv, s)) return -1;
    ws->kind = C_CANDIDATE;
    ws_set_session(ws, s);
    s->candidate = ws;
    fifo_timer_arm(&srv->upgrade_wait, &s->upgrade_timer);
    return 0;
  }
  s = srv->draining ? NULL : session_new(srv, EIO_TRANSPORT_WEBSOCKET);
  if (!s) return -1;
  capture_handshake(s, r);
  ws->kind = C_WS;
  ws_set_session(ws, s);
  s->ws = ws;
  session_open(s);
  session_flush(s);
  return 0;
}

/* The upgrade candidate speaks: "2probe" is answered "3probe", then "5" completes the move. */
static int candidate_message(eio_session *s, eio_ws *ws, const uint8_t *data, size_t len,
                             bool binary) {
  eio_packet p;
  if (binary || eio_decode_text(data, len, &p)) return -1;
  if (p.type == EIO_PING && p.len == 5 && memcmp(p.data, "probe", 5) == 0) {
    eio_frame_unref(ws->probe_reply);
    ws->probe_reply = eio_frame_text(EIO_PONG, "probe", 5);
    ws->ops->want_write(ws);
    s->probed = true;
    /* End the pending poll so that the client can send its upgrade packet. */
    if (s->get && !s->q_len) answer_get(s, eio_frame_control(EIO_NOOP));
    return 0;
  }
  if (p.type == EIO_UPGRADE && s->state != S_CLOSED) {
    fifo_timer_disarm(&s->upgrade_timer);
    if (s->get) answer_get(s, eio_frame_control(EIO_NOOP));
    s->candidate = NULL;
    s->probed = false;
    s->ws = ws;
    s->transport = EIO_TRANSPORT_WEBSOCKET;
    ws->kind = C_WS;
    LOG_D("eio", "session upgraded sid=%s", s->sid);
    metrics.eio_upgrades++;
    if (s->state == S_CLOSING && !s->q_len) session_close_now(s, s->close_reason);
    else session_flush(s);
    return 0;
  }
  return -1;
}

static int ws_message(eio_session *s, eio_ws *ws, const uint8_t *data, size_t len, bool binary) {
  if (ws->kind == C_CANDIDATE) return candidate_message(s, ws, data, len, binary);
  if (binary) {
    eio_packet p = {.type = EIO_MESSAGE, .binary = true, .data = data, .len = len};
    session_packet(s, &p);
    return 0;
  }
  if (len && data[0] == 'b') { /* a binary message as base64 text, as the reference accepts */
    uint8_t *raw = malloc(len);
    long n = raw ? base64_decode(raw, data + 1, len - 1) : -1;
    if (n >= 0) {
      eio_packet p = {.type = EIO_MESSAGE, .binary = true, .data = raw, .len = (size_t)n};
      session_packet(s, &p);
    }
    free(raw);
    if (n >= 0) return 0;
  } else {
    eio_packet p;
    if (eio_decode_text(data, len, &p) == 0) {
      session_packet(s, &p);
      return 0;
    }
  }
  session_close_now(s, "parse error");
  return -1;
}

int eio_ws_message(eio_ws *ws, const uint8_t *data, size_t len, bool binary) {
  eio_session *s = ws->s;
  ws->close_code = 1000;
  if (!s || s->state == S_CLOSED || ws->close_asked) return -1;
  if (len > s->srv->opts.max_payload) return eio_ws_oversize(ws);
  session_ref(s); /* handlers may close the session */
  int r = ws_message(s, ws, data, len, binary);
  session_release(s);
  return r;
}

int eio_ws_oversize(eio_ws *ws) {
  ws->close_code = 1009;
  if (ws->s && ws->kind == C_WS) session_close_now(ws->s, "transport error");
  return -1;
}

/* Queued frames go out in as few writes as possible: several small ones framed together into
 * a scratch buffer (one syscall, often one TCP segment, for a client with broadcasts or acks
 * in flight), a lone or large one straight from its own bytes, its header written in the
 * frame's headroom (the same bytes for every recipient of a shared frame). Returns the frames
 * sent, or -1 when the connection is dead. */
#define WS_BATCH_BYTES 16384
static size_t ws_header(uint8_t *out, const eio_frame *f) {
  return ws_frame_header_write(out, eio_frame_binary(f) ? WS_OP_BINARY : WS_OP_TEXT,
                               eio_frame_len(f));
}

static int ws_send_some(eio_session *s, eio_ws *ws) {
  static uint8_t batch[WS_BATCH_BYTES];
  eio_frame *f = s->queue[s->q_head];
  size_t len = eio_frame_len(f);
  if (s->q_len == 1 || len + 10 > WS_BATCH_BYTES / 2) {
    uint8_t head[10];
    size_t h = ws_header(head, f);
    uint8_t *data = eio_frame_data(f);
    memcpy(data - h, head, h);
    int r = ws->ops->send(ws, data - h, len + h);
    eio_frame_unref(queue_pop(s));
    return r < 0 ? -1 : 1;
  }
  uint8_t *p = batch, *end = batch + sizeof batch;
  int n = 0;
  while (s->q_len) {
    f = s->queue[s->q_head];
    len = eio_frame_len(f);
    if ((size_t)(end - p) < len + 10) break;
    p += ws_header(p, f);
    memcpy(p, eio_frame_data(f), len);
    p += len;
    eio_frame_unref(queue_pop(s));
    n++;
  }
  return ws->ops->send(ws, batch, (size_t)(p - batch)) < 0 ? -1 : n;
}

#define WS_SENDS_PER_TURN 8
int eio_ws_write(eio_ws *ws) {
  ws->close_code = 1000;
  if (ws->close_asked) return -1;
  eio_session *s = ws->s;
  if (!s || s->state == S_CLOSED) return -1;
  if (ws->probe_reply) {
    eio_frame *f = ws->probe_reply;
    ws->probe_reply = NULL;
    uint8_t buf[16];
    size_t h = ws_header(buf, f);
    memcpy(buf + h, eio_frame_data(f), eio_frame_len(f));
    int r = ws->ops->send(ws, buf, h + eio_frame_len(f));
    eio_frame_unref(f);
    return r < 0 ? -1 : 0;
  }
  if (s->ws != ws) return 0;
  for (int i = 0; i < WS_SENDS_PER_TURN && s->q_len && !(i && ws->ops->choked(ws)); i++) {
    if (ws_send_some(s, ws) < 0) {
      session_close_now(s, "transport error");
      return -1;
    }
  }
  if (s->q_len) {
    ws->ops->want_write(ws);
  } else if (s->state == S_CLOSING) {
    session_close_now(s, s->close_reason);
    return -1;
  }
  return 0;
}

void eio_ws_gone(eio_ws *ws) {
  eio_session *s = ws->s;
  if (s) {
    if (s->candidate == ws) {
      s->candidate = NULL;
      s->probed = false;
      fifo_timer_disarm(&s->upgrade_timer);
    } else if (s->ws == ws) {
      s->ws = NULL;
      session_close_now(s, "transport close");
    }
  }
  ws_set_session(ws, NULL);
  eio_frame_unref(ws->probe_reply);
  ws->probe_reply = NULL;
  ws->kind = C_NONE;
}

/* ------------------------------------------------------------------------------------------ */
/* WebSockets carried by libwebsockets                                                         */

static void lws_ws_want_write(eio_ws *ws) {
  lws_callback_on_writable(lws_container_of(ws, eio_conn, ws)->wsi);
}

/* LWS_WRITE_HTTP makes lws send the bytes raw; what the kernel does not take, lws keeps. */
static int lws_ws_send(eio_ws *ws, const uint8_t *data, size_t len) {
  return lws_write(lws_container_of(ws, eio_conn, ws)->wsi, (uint8_t *)data, len, LWS_WRITE_HTTP) <
                 0
             ? -1
             : 0;
}

static bool lws_ws_choked(const eio_ws *ws) {
  return lws_send_pipe_choked(lws_container_of(ws, eio_conn, ws)->wsi);
}

static const eio_ws_ops lws_ws_ops = {lws_ws_want_write, lws_ws_send, lws_ws_choked, false};

int eio_lws_confirm(eio_server *srv, struct lws *wsi, eio_conn *c) {
  query q;
  if (parse_args(wsi, &q)) return reject_upgrade(wsi, E_BAD);
  lws_request lr;
  lws_request_init(&lr, wsi, &q);
  int err = eio_ws_check(srv, &lr.r);
  return err >= 0 ? reject_upgrade(wsi, err) : 0;
}

int eio_lws_established(eio_server *srv, struct lws *wsi, eio_conn *c) {
  conn_reset(c); /* the area may still hold an earlier HTTP request's state */
  c->wsi = wsi;
  c->ws.ops = &lws_ws_ops;
  query q;
  if (parse_args(wsi, &q)) return -1;
  lws_request lr;
  lws_request_init(&lr, wsi, &q);
  return eio_ws_open(srv, &c->ws, &lr.r);
}

int eio_lws_receive(eio_server *srv, struct lws *wsi, eio_conn *c, const void *in, size_t len) {
  eio_ws *ws = &c->ws;
  if (!ws->s || ws->s->state == S_CLOSED || ws->close_asked) return -1;
  bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);
  size_t max = srv->opts.max_payload;
  int r;
  if (first) c->rx_binary = lws_frame_is_binary(wsi);
  if (first && final) { /* the common case: a whole message in one piece, no copy */
    r = eio_ws_message(ws, in, len, c->rx_binary);
  } else {
    if (!c->rx) {
      c->rx = malloc(sizeof *c->rx);
      if (!c->rx) return -1;
      sbuf_init(c->rx, max);
    }
    if (first) {
      c->rx->len = 0;
      c->rx->failed = false;
    }
    if (!sbuf_append(c->rx, in, len)) {
      r = eio_ws_oversize(ws);
    } else if (!final) {
      return 0;
    } else {
      r = eio_ws_message(ws, c->rx->data, c->rx->len, c->rx_binary);
      sbuf_free(c->rx); /* do not keep a large buffer on an idle connection */
      free(c->rx);
      c->rx = NULL;
    }
  }
  if (r < 0) lws_close_reason(wsi, (enum lws_close_status)ws->close_code, NULL, 0);
  return r;
}

int eio_lws_writeable(eio_server *srv, struct lws *wsi, eio_conn *c) {
  int r = eio_ws_write(&c->ws);
  if (r < 0) lws_close_reason(wsi, (enum lws_close_status)c->ws.close_code, NULL, 0);
  return r;
}

void eio_lws_closed(eio_server *srv, struct lws *wsi, eio_conn *c) { conn_reset(c); }

void eio_conn_destroyed(struct lws *wsi, eio_conn *c) {
  eio_session *s = c->s;
  if (s) {
    if (s->get == wsi) s->get = NULL;
    if (s->post == wsi) s->post = NULL;
  }
  conn_reset(c);
}

/* ------------------------------------------------------------------------------------------ */
/* the server                                                                                  */

void eio_options_default(eio_options *o) {
  *o = (eio_options){
      .path = "/engine.io/",
      .ping_interval_ms = 25000,
      .ping_timeout_ms = 20000,
      .upgrade_timeout_ms = 10000,
      .max_payload = 1000000,
      .max_buffered = 16u << 20,
      .transports = EIO_TRANSPORT_POLLING | EIO_TRANSPORT_WEBSOCKET,
      .allow_upgrades = true,
  };
}

/* Gauges computed at scrape time: a walk over the sessions costs nothing between scrapes. */
static void collect(void *ctx, sbuf *out) {
  eio_server *srv = ctx;
  size_t n[2] = {0, 0}, pos = 0, buffered = 0;
  void *v;
  while (strmap_next(&srv->sessions, &pos, NULL, &v)) {
    eio_session *s = v;
    n[s->transport == EIO_TRANSPORT_WEBSOCKET]++;
    buffered += s->q_bytes;
  }
  static const char *const help = "open Engine.IO sessions";
  char labels[160];
  snprintf(labels, sizeof labels, "path=\"%s\",transport=\"polling\"", srv->path);
  metrics_write_gauge(out, "sio_eio_sessions", help, labels, (double)n[0]);
  snprintf(labels, sizeof labels, "path=\"%s\",transport=\"websocket\"", srv->path);
  metrics_write_gauge(out, "sio_eio_sessions", NULL, labels, (double)n[1]);
  snprintf(labels, sizeof labels, "path=\"%s\"", srv->path);
  metrics_write_gauge(out, "sio_eio_buffered_bytes", "bytes queued for clients", labels,
                      (double)buffered);
}

eio_server *eio_server_new(struct lws_context *context, const eio_options *opts,
                           const eio_handlers *handlers, void *ctx) {
  eio_server *srv = calloc(1, sizeof *srv);
  if (!srv) return NULL;
  srv->context = context;
  srv->opts = *opts;
  srv->path = strdup(opts->path);
  srv->opts.path = srv->path;
  if (opts->cors_origins) {
    size_t n = 0;
    while (opts->cors_origins[n]) n++;
    srv->cors_origins = calloc(n + 1, sizeof *srv->cors_origins);
    for (size_t i = 0; srv->cors_origins && i < n; i++)
      srv->cors_origins[i] = strdup(opts->cors_origins[i]);
  }
  srv->opts.cors_origins = NULL;
  srv->handlers = *handlers;
  srv->ctx = ctx;
  strmap_init(&srv->sessions);
  fifo_timer_init(&srv->ping_wait, context, (int64_t)opts->ping_interval_ms * 1000, on_ping_due, srv);
  fifo_timer_init(&srv->pong_wait, context, (int64_t)opts->ping_timeout_ms * 1000, on_pong_overdue,
                  srv);
  fifo_timer_init(&srv->upgrade_wait, context, (int64_t)opts->upgrade_timeout_ms * 1000,
                  on_upgrade_overdue, srv);
  metrics_add_collector(collect, srv);
  return srv;
}

void eio_server_close_all(eio_server *srv, const char *reason) {
  /* Closing removes from the table: collect first. */
  size_t n = srv->sessions.count, i = 0, pos = 0;
  if (!n) return;
  eio_session **all = malloc(n * sizeof *all);
  if (!all) return;
  void *v;
  while (i < n && strmap_next(&srv->sessions, &pos, NULL, &v)) all[i++] = session_ref(v);
  for (size_t k = 0; k < i; k++) {
    if (reason) session_close_now(all[k], reason);
    else eio_session_close(all[k]);
    session_release(all[k]);
  }
  free(all);
}

void eio_server_drain(eio_server *srv) {
  srv->draining = true;
  size_t n = srv->sessions.count, i = 0, pos = 0;
  eio_session **all = n ? malloc(n * sizeof *all) : NULL;
  if (!all) return;
  void *v;
  while (i < n && strmap_next(&srv->sessions, &pos, NULL, &v)) all[i++] = session_ref(v);
  for (size_t k = 0; k < i; k++) {
    session_close_gracefully(all[k], "server shutting down");
    session_release(all[k]);
  }
  free(all);
}

void eio_server_stop(eio_server *srv) {
  eio_server_close_all(srv, "server shutting down");
  fifo_timer_destroy(&srv->ping_wait);
  fifo_timer_destroy(&srv->pong_wait);
  fifo_timer_destroy(&srv->upgrade_wait);
}

void eio_server_free(eio_server *srv) {
  if (!srv) return;
  metrics_remove_collector(collect, srv);
  strmap_free(&srv->sessions);
  for (char **o = srv->cors_origins; o && *o; o++) free(*o);
  free(srv->cors_origins);
  free(srv->path);
  free(srv);
}

const eio_options *eio_server_options(const eio_server *srv) { return &srv->opts; }
size_t eio_server_session_count(const eio_server *srv) { return srv->sessions.count; }
