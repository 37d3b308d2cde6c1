/* The listener: one libwebsockets context on lws's own event loop (measured 2-3x cheaper per
 * message than the libuv plugin here), one protocol that receives both the HTTP and the
 * WebSocket callbacks, and a routing table by path. Over plain TCP, sio's front
 * (net/ws_conn.c) accepts the connections, keeps the Engine.IO WebSockets and hands the rest to
 * this context; over TLS, lws listens and carries everything itself. */
#include "net/listener.h"

#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "net/fifo_timer.h"
#include "net/http.h"
#include "net/ws_conn.h"
#include "util/log.h"
#include "util/metrics.h"

enum route_kind { R_ENGINE, R_STATIC, R_HANDLER };

typedef struct {
  enum route_kind kind;
  char *path;
  eio_server *engine;        /* R_ENGINE: prefix match on its path */
  uint8_t *body;             /* R_STATIC */
  size_t body_len;
  char *content_type;
  listener_handler handler;  /* R_HANDLER */
  void *handler_ctx;
} route;

typedef struct {
  void (*fn)(void *ctx);
  void *ctx;
} hook;

struct sio_listener {
  struct lws_context *context;
  ws_front *front;           /* plain TCP: sio accepts, keeps WebSockets, hands the rest to lws */
  route *routes;
  size_t route_count;
  hook *shutdown_hooks;
  size_t hook_count;
  unsigned max_connections;
  unsigned connections;
  volatile sig_atomic_t stopping; /* 1: drain, 2: stop now */
  bool draining;
  unsigned drain_timeout_ms;
  int64_t drain_deadline_us;
  lws_sorted_usec_list_t drain_timer;
  lws_sorted_usec_list_t lag_timer;
  int64_t lag_expected_us;
  fifo_timer idle_wait;      /* keep-alive connections between requests */
};

#define LAG_PERIOD_US 1000000
#define HTTP_IDLE_TIMEOUT_MS 30000 /* between keep-alive requests, by default */

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Event-loop lag: how late a timer due every second actually runs. */
static void on_lag_timer(lws_sorted_usec_list_t *sul) {
  sio_listener *l = lws_container_of(sul, sio_listener, lag_timer);
  int64_t now = now_us();
  metrics.loop_lag_us = now > l->lag_expected_us ? now - l->lag_expected_us : 0;
  l->lag_expected_us = now + LAG_PERIOD_US;
  lws_sul_schedule(l->context, 0, &l->lag_timer, on_lag_timer, LAG_PERIOD_US);
}

/* Per-connection state, in the wsi's user area: the Engine.IO connection state comes first (the
 * Engine.IO layer finds it with lws_wsi_user()), the listener's part after it. */
typedef struct {
  route *route;
  bool reply_ready;          /* static/handler routes: a response is waiting for writeable */
  uint16_t status;
  const char *content_type;
  sbuf *body;                /* handler responses */
  fifo_timer_entry idle;     /* armed between keep-alive requests */
  struct lws *wsi;           /* for the idle timer */
} conn;

static size_t eio_area(void) { return (eio_conn_size() + 15) & ~(size_t)15; }
static conn *conn_of(void *user) { return user ? (conn *)((uint8_t *)user + eio_area()) : NULL; }
static eio_conn *conn_eio(conn *c) { return c ? (eio_conn *)((uint8_t *)c - eio_area()) : NULL; }

static eio_server *conn_engine(const conn *c) {
  return c && c->route && c->route->kind == R_ENGINE ? c->route->engine : NULL;
}

static sio_listener *listener_of(struct lws *wsi) {
  return lws_context_user(lws_get_context(wsi));
}

/* Exact routes (static files, handlers) win over the Engine.IO prefixes, so that the client
 * bundle can live at /socket.io/socket.io.js beside the endpoint. */
static route *find_route(sio_listener *l, const char *path) {
  route *prefix = NULL;
  for (size_t i = 0; i < l->route_count; i++) {
    route *r = &l->routes[i];
    if (r->kind != R_ENGINE) {
      if (strcmp(path, r->path) == 0) return r;
    } else if (!prefix && strncmp(path, r->path, strlen(r->path)) == 0) {
      prefix = r;
    }
  }
  return prefix;
}

/* Keep-alive idle time is ours, not lws's. lws keeps every connection's pending timeout in one
 * list sorted by deadline and inserts by walking it from the head; the idle timeout it arms at
 * the end of each request has the latest deadline of all, so each request walked every
 * connection parked there (2000 with 1000 polling clients: 24% of the server's CPU). It is
 * cancelled as soon as lws arms it, which keeps lws's list down to the requests in progress
 * (header and body timeouts stay lws's), and a FIFO timer with one delay does the same job in
 * O(1). */
static void on_idle_expired(fifo_timer *q, fifo_timer_entry *e) {
  conn *c = lws_container_of(e, conn, idle);
  lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, LWS_TO_KILL_ASYNC);
}

/* Ends a request whose response is written: lws readies the connection for the next one (or
 * closes it: -1), with a fresh user area (it re-binds the protocol), where the idle timer goes. */
static int transaction_done(sio_listener *l, struct lws *wsi) {
  if (lws_http_transaction_completed(wsi)) return -1;
  lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
  conn *c = conn_of(lws_wsi_user(wsi));
  if (c) {
    c->wsi = wsi;
    fifo_timer_arm(&l->idle_wait, &c->idle);
  }
  return 0;
}

static void conn_clear(conn *c) {
  if (c->body) {
    sbuf_free(c->body);
    free(c->body);
    c->body = NULL;
  }
}

static int write_simple(sio_listener *l, struct lws *wsi, conn *c) {
  uint8_t headers[LWS_PRE + 2048];
  uint8_t *start = headers + LWS_PRE, *p = start, *end = headers + sizeof headers - 1;
  const uint8_t *body = NULL;
  size_t len = 0;
  if (c->route && c->route->kind == R_STATIC && c->status == 200) {
    body = c->route->body + LWS_PRE;
    len = c->route->body_len;
  } else if (c->body && c->body->len > LWS_PRE) {
    body = c->body->data + LWS_PRE;
    len = c->body->len - LWS_PRE;
  }
  c->reply_ready = false;
  if (lws_add_http_common_headers(wsi, c->status, c->content_type, len, &p, end) ||
      http_add_connection_close(wsi, http_request_closes(wsi), &p, end))
    return -1;
  int r = http_write_response(wsi, start, &p, end, body, len);
  conn_clear(c); /* lws keeps what the kernel did not take */
  return r ? -1 : transaction_done(l, wsi);
}

static void simple_reply(struct lws *wsi, conn *c, int status, const char *type) {
  c->status = (uint16_t)status;
  c->content_type = type;
  c->reply_ready = true;
  lws_callback_on_writable(wsi);
}

static int on_http(sio_listener *l, struct lws *wsi, conn *c, const char *path) {
  fifo_timer_disarm(&c->idle);
  conn_clear(c);
  c->route = find_route(l, path);
  if (!c->route) {
    simple_reply(wsi, c, 404, "text/plain");
    return 0;
  }
  switch (c->route->kind) {
  case R_ENGINE:
    return eio_http_request(c->route->engine, wsi, conn_eio(c));
  case R_STATIC:
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
      simple_reply(wsi, c, 405, "text/plain");
      return 0;
    }
    simple_reply(wsi, c, 200, c->route->content_type);
    return 0;
  case R_HANDLER: {
    c->body = malloc(sizeof *c->body);
    if (!c->body) return -1;
    sbuf_init(c->body, 0);
    static const uint8_t headroom[LWS_PRE];
    sbuf_append(c->body, headroom, sizeof headroom);
    const char *type = "text/plain";
    int status = c->route->handler(c->route->handler_ctx, c->body, &type);
    simple_reply(wsi, c, status, type);
    return 0;
  }
  }
  return -1;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  /* `user` is the connection's area only for connection callbacks (for some others it is, say,
   * a file descriptor), so it is read only in the cases below that own it. */
  conn *c = conn_of(user);
  sio_listener *l = lws_get_context(wsi) ? listener_of(wsi) : NULL;

  switch (reason) {
  case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
    /* Refuse beyond the limit instead of letting accept() fail on EMFILE in a loop. */
    if (l && (l->draining || l->connections >= l->max_connections)) {
      metrics.connections_refused++;
      LOG_W("net", "connection refused: limit reached max_connections=%u", l->max_connections);
      return 1;
    }
    return 0;
  case LWS_CALLBACK_WSI_CREATE:
    if (l) l->connections++;
    return 0;
  case LWS_CALLBACK_WSI_DESTROY:
    if (l && l->connections) l->connections--;
    if (c) {
      fifo_timer_disarm(&c->idle);
      conn_clear(c);
      eio_conn_destroyed(wsi, conn_eio(c));
    }
    return 0;

  case LWS_CALLBACK_HTTP:
    metrics.http_requests++;
    return on_http(l, wsi, c, in ? (const char *)in : "/");
  case LWS_CALLBACK_HTTP_BODY:
    return conn_engine(c) ? eio_http_body(conn_engine(c), wsi, conn_eio(c), in, len) : 0;
  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    return conn_engine(c) ? eio_http_body_done(conn_engine(c), wsi, conn_eio(c)) : 0;
  case LWS_CALLBACK_HTTP_WRITEABLE: {
    if (c && c->reply_ready) return write_simple(l, wsi, c);
    int r = conn_engine(c) ? eio_http_writeable(conn_engine(c), wsi, conn_eio(c)) : 0;
    return r == EIO_HTTP_DONE ? transaction_done(l, wsi) : r;
  }
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL: /* lws frees the area after this (keep-alive re-bind) */
    if (c) fifo_timer_disarm(&c->idle);
    break;
  case LWS_CALLBACK_CLOSED_HTTP:
    if (conn_engine(c)) eio_http_closed(conn_engine(c), wsi, conn_eio(c));
    if (c) conn_clear(c);
    return 0;

  case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
    if (c) fifo_timer_disarm(&c->idle);
    char path[256];
    if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0) return 1;
    route *r = find_route(l, path);
    if (!r || r->kind != R_ENGINE) return 1;
    return eio_lws_confirm(r->engine, wsi, conn_eio(c));
  }
  case LWS_CALLBACK_ESTABLISHED: {
    char path[256];
    if (!c || lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0) return -1;
    conn_clear(c);
    c->route = find_route(l, path);
    if (!c->route || c->route->kind != R_ENGINE) return -1;
    return eio_lws_established(c->route->engine, wsi, conn_eio(c));
  }
  case LWS_CALLBACK_RECEIVE:
    return conn_engine(c) ? eio_lws_receive(conn_engine(c), wsi, conn_eio(c), in, len) : -1;
  case LWS_CALLBACK_SERVER_WRITEABLE:
    return conn_engine(c) ? eio_lws_writeable(conn_engine(c), wsi, conn_eio(c)) : 0;
  case LWS_CALLBACK_CLOSED:
    if (conn_engine(c)) eio_lws_closed(conn_engine(c), wsi, conn_eio(c));
    return 0;

  default:
    break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

struct listener_watch {
  struct lws *wsi;
  const listener_watch_ops *ops;
  void *ctx;
  bool closed;
};

/* Callbacks of adopted foreign descriptors (protocol "sio-fd"). */
static int watch_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len) {
  listener_watch *w = lws_get_opaque_user_data(wsi);
  switch (reason) {
  case LWS_CALLBACK_RAW_RX_FILE:
    if (w && !w->closed) w->ops->readable(w->ctx);
    return 0;
  case LWS_CALLBACK_RAW_WRITEABLE_FILE:
    if (w && !w->closed) w->ops->writable(w->ctx);
    return 0;
  case LWS_CALLBACK_RAW_CLOSE_FILE:
    if (!w) return 0;
    lws_set_opaque_user_data(wsi, NULL);
    w->wsi = NULL;
    if (w->closed) free(w);
    else w->ops->readable(w->ctx); /* let the owner read the hang-up */
    return 0;
  default:
    return 0;
  }
}

listener_watch *listener_watch_fd(sio_listener *l, int fd, const listener_watch_ops *ops, void *ctx) {
  listener_watch *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  int copy = dup(fd);
  if (copy < 0) {
    free(w);
    return NULL;
  }
  w->ops = ops;
  w->ctx = ctx;
  lws_sock_file_fd_type desc = {.filefd = copy};
  w->wsi = lws_adopt_descriptor_vhost(lws_get_vhost_by_name(l->context, "default"),
                                      LWS_ADOPT_RAW_FILE_DESC, desc, "sio-fd", NULL);
  if (!w->wsi) {
    close(copy);
    free(w);
    return NULL;
  }
  lws_set_opaque_user_data(w->wsi, w);
  return w;
}

void listener_watch_want_write(listener_watch *w) {
  if (w && w->wsi && !w->closed) lws_callback_on_writable(w->wsi);
}

void listener_watch_close(listener_watch *w) {
  if (!w) return;
  w->closed = true;
  if (!w->wsi) {
    free(w);
    return;
  }
  lws_set_timeout(w->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
}

static struct lws_protocols protocols[] = {
    /* per_session_data_size is set at run time: it depends on eio_conn_size(). */
    {"sio", callback, 0, 0, 0, NULL, 0},
    {"sio-fd", watch_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* No lws "validity" pings: Engine.IO's heartbeat already proves each client alive, and lws
 * keeps its validity timers in one sorted list (lws_dll2_add_sorted walks it from the head), so
 * re-arming one (at every WebSocket open) cost O(connections): 28% of the server's CPU while
 * 10k clients connected. A zero hang-up time turns them off. */
static const lws_retry_bo_t no_validity_checks = {.secs_since_valid_ping = 0,
                                                  .secs_since_valid_hangup = 0};

static void lws_log_emit(int level, const char *line) {
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
  if (level & LLL_ERR) LOG_E("lws", "%.*s", (int)n, line);
  else LOG_W("lws", "%.*s", (int)n, line);
}

void sio_listener_options_default(sio_listener_options *o) {
  *o = (sio_listener_options){
      .port = 3000, .drain_timeout_ms = 5000, .http_idle_timeout_ms = HTTP_IDLE_TIMEOUT_MS};
}

/* The front's questions: which engine serves a path, may one more connection come in, and
 * lws takes over a connection that is not a WebSocket of ours. */
static eio_server *front_engine_for(void *ctx, const char *path) {
  route *r = find_route(ctx, path);
  return r && r->kind == R_ENGINE ? r->engine : NULL;
}

static bool front_admit(void *ctx) {
  sio_listener *l = ctx;
  return !l->draining && l->connections + ws_front_connections(l->front) < l->max_connections;
}

static void front_adopt(void *ctx, int fd) {
  sio_listener *l = ctx;
  /* On failure lws closes the descriptor itself. */
  lws_adopt_socket_vhost(lws_get_vhost_by_name(l->context, "default"), fd);
}

/* Uses the hard fd limit, and keeps connections below it with room for files and Redis. */
static unsigned connection_budget(unsigned wanted) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    if (rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
      getrlimit(RLIMIT_NOFILE, &rl);
    }
    unsigned cap = rl.rlim_cur > 128 ? (unsigned)(rl.rlim_cur - 64) : 64;
    if (!wanted || wanted > cap) return cap;
  }
  return wanted ? wanted : 1024;
}

sio_listener *sio_listener_new(const sio_listener_options *o) {
  sio_listener *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->max_connections = connection_budget(o->max_connections);
  l->drain_timeout_ms = o->drain_timeout_ms;
  lws_set_log_level(log_enabled(LOG_DEBUG) ? LLL_ERR | LLL_WARN : LLL_ERR, lws_log_emit);

  protocols[0].per_session_data_size = eio_area() + sizeof(conn);
  /* A small receive buffer is the main memory lever per connection (~4 KB by default, kept for
   * the WebSocket's whole life); larger messages arrive in fragments that the Engine.IO layer
   * reassembles. 256 bytes hold a typical small event whole (docs/PERFORMANCE.md). */
  protocols[0].rx_buffer_size = 256;

  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  bool tls = o->tls_cert && o->tls_key;
  /* Plain TCP is accepted by sio's front (net/ws_conn.c); lws listens only for TLS. */
  info.port = tls ? o->port : CONTEXT_PORT_NO_LISTEN_SERVER;
  info.iface = tls ? o->host : NULL;
  info.protocols = protocols;
  info.user = l;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
  info.fd_limit_per_thread = l->max_connections + 64;
  info.timeout_secs = 20;
  info.keepalive_timeout = 30; /* armed by lws, then replaced by ours (transaction_done) */
  info.max_http_header_data = 4096;
  /* Header tables are allocated on demand, and Engine.IO gives one back as soon as its request
   * is received whole (a held long-polling GET once kept its own: at a pool of 256 the 257th
   * polling client waited for a table and was reset). A pool as large as the connection budget
   * still means no client ever waits for one in a burst. */
  info.max_http_header_pool = (unsigned short)(l->max_connections < 65535 ? l->max_connections : 65535);
  info.pt_serv_buf_size = 4096;
  info.retry_and_idle_policy = &no_validity_checks;
  if (o->tls_cert && o->tls_key) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = o->tls_cert;
    info.ssl_private_key_filepath = o->tls_key;
  }
  l->context = lws_create_context(&info);
  if (!l->context) {
    LOG_E("net", "cannot listen host=%s port=%d", o->host ? o->host : "*", o->port);
    free(l);
    return NULL;
  }
  if (!tls) {
    ws_front_hooks hooks = {front_engine_for, front_admit, front_adopt, l};
    l->front = ws_front_new(l, l->context, o->host, o->port, &hooks);
    if (!l->front) {
      lws_context_destroy(l->context);
      free(l);
      return NULL;
    }
  }
  unsigned idle_ms = o->http_idle_timeout_ms ? o->http_idle_timeout_ms : HTTP_IDLE_TIMEOUT_MS;
  fifo_timer_init(&l->idle_wait, l->context, (int64_t)idle_ms * 1000, on_idle_expired, l);
  return l;
}

struct lws_context *listener_context(sio_listener *l) { return l->context; }

static route *add_route(sio_listener *l, enum route_kind kind, const char *path) {
  route *r = realloc(l->routes, (l->route_count + 1) * sizeof *r);
  if (!r) return NULL;
  l->routes = r;
  r = &l->routes[l->route_count++];
  memset(r, 0, sizeof *r);
  r->kind = kind;
  r->path = strdup(path);
  return r;
}

int listener_mount_engine(sio_listener *l, eio_server *srv) {
  route *r = add_route(l, R_ENGINE, eio_server_options(srv)->path);
  if (!r) return -1;
  r->engine = srv;
  return 0;
}

int sio_listener_serve_static(sio_listener *l, const char *path, const char *content_type,
                              const void *body, size_t len) {
  route *r = add_route(l, R_STATIC, path);
  if (!r) return -1;
  r->body = malloc(LWS_PRE + len);
  if (!r->body) return -1;
  if (len) memcpy(r->body + LWS_PRE, body, len);
  r->body_len = len;
  r->content_type = strdup(content_type);
  return 0;
}

int listener_mount_handler(sio_listener *l, const char *path, listener_handler fn, void *ctx) {
  route *r = add_route(l, R_HANDLER, path);
  if (!r) return -1;
  r->handler = fn;
  r->handler_ctx = ctx;
  return 0;
}

int listener_on_shutdown(sio_listener *l, void (*fn)(void *ctx), void *ctx) {
  hook *h = realloc(l->shutdown_hooks, (l->hook_count + 1) * sizeof *h);
  if (!h) return -1;
  l->shutdown_hooks = h;
  h[l->hook_count++] = (hook){fn, ctx};
  return 0;
}

/* Signals stop the one running listener. */
static sio_listener *running;

static void on_signal(int sig) {
  (void)sig;
  if (running) sio_listener_stop(running);
}

static size_t session_count(const sio_listener *l) {
  size_t n = 0;
  for (size_t i = 0; i < l->route_count; i++)
    if (l->routes[i].kind == R_ENGINE) n += eio_server_session_count(l->routes[i].engine);
  return n;
}

/* While draining, the loop wakes up regularly to see whether it is done. */
static void on_drain_tick(lws_sorted_usec_list_t *sul) {
  sio_listener *l = lws_container_of(sul, sio_listener, drain_timer);
  lws_sul_schedule(l->context, 0, &l->drain_timer, on_drain_tick, 20000);
}

/* Graceful shutdown: new connections are refused, every session flushes and closes ("server
 * shutting down", so that clients reconnect elsewhere), and the loop ends when they are all
 * gone or the drain time is up. */
static void start_drain(sio_listener *l) {
  l->draining = true;
  l->drain_deadline_us = now_us() + (int64_t)l->drain_timeout_ms * 1000;
  LOG_I("net", "draining sessions=%zu timeout_ms=%u", session_count(l), l->drain_timeout_ms);
  for (size_t i = 0; i < l->route_count; i++)
    if (l->routes[i].kind == R_ENGINE) eio_server_drain(l->routes[i].engine);
  on_drain_tick(&l->drain_timer);
}

int sio_listener_run(sio_listener *l) {
  running = l;
  l->lag_expected_us = now_us() + LAG_PERIOD_US;
  lws_sul_schedule(l->context, 0, &l->lag_timer, on_lag_timer, LAG_PERIOD_US);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  while (l->stopping < 2) {
    if (lws_service(l->context, 0) < 0) break;
    if (l->stopping && !l->draining) start_drain(l);
    if (l->draining && (!session_count(l) || now_us() >= l->drain_deadline_us)) break;
  }
  if (l->draining) LOG_I("net", "drained sessions_left=%zu", session_count(l));
  running = NULL;
  lws_sul_cancel(&l->lag_timer);
  lws_sul_cancel(&l->drain_timer);
  return 0;
}

void sio_listener_stop(sio_listener *l) {
  if (l->stopping < 2) l->stopping++;
  lws_cancel_service(l->context);
}

bool sio_listener_draining(const sio_listener *l) { return l->draining; }

void sio_listener_free(sio_listener *l) {
  if (!l) return;
  for (size_t i = 0; i < l->hook_count; i++) l->shutdown_hooks[i].fn(l->shutdown_hooks[i].ctx);
  /* Sessions first (their layer above hears "server shutting down" and their timers stop), then
   * the connections, then the endpoints' memory. */
  for (size_t i = 0; i < l->route_count; i++)
    if (l->routes[i].kind == R_ENGINE) eio_server_stop(l->routes[i].engine);
  ws_front_free(l->front);
  fifo_timer_destroy(&l->idle_wait);
  lws_context_destroy(l->context);
  for (size_t i = 0; i < l->route_count; i++) {
    route *r = &l->routes[i];
    if (r->kind == R_ENGINE) eio_server_free(r->engine);
    free(r->path);
    free(r->body);
    free(r->content_type);
  }
  free(l->routes);
  free(l->shutdown_hooks);
  free(l);
}

/* ------------------------------------------------------------------------------------------ */
/* The public Engine.IO API is the internal one under public names.                           */

void sio_engine_options_default(sio_engine_options *o) { eio_options_default(o); }

sio_engine *sio_engine_attach(sio_listener *l, const sio_engine_options *o,
                              const sio_engine_handlers *h, void *ctx) {
  eio_server *srv = eio_server_new(l->context, o, h, ctx);
  if (srv && listener_mount_engine(l, srv)) {
    eio_server_free(srv);
    return NULL;
  }
  return srv;
}

const char *sio_engine_session_id(const sio_engine_session *s) { return eio_session_id(s); }

int sio_engine_send(sio_engine_session *s, const void *data, size_t len, bool binary) {
  return eio_session_send_message(s, data, len, binary);
}

void sio_engine_close(sio_engine_session *s) { eio_session_close(s); }
