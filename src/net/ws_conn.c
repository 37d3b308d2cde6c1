/* The front door for plain TCP and sio's own WebSocket connections (see ws_conn.h).
 *
 * A connection lives in one of four states: HEAD (its first request is being read), OPEN (a
 * WebSocket carrying an Engine.IO session or upgrade candidate), CLOSING (our close frame is
 * out, waiting for the peer's FIN, bounded by a timer) and DEAD (waiting to be freed at the end
 * of the current loop step, so that no pointer to it, in an epoll batch or in the write list,
 * ever dangles).
 *
 * Writes go straight to the socket with send(): when the kernel takes everything (nearly
 * always) no event and no syscall other than send() is involved. What it does not take waits in
 * `out`, EPOLLOUT is asked for, and nothing else is sent before it; Engine.IO stops handing
 * frames while a connection is choked, so `out` holds at most one write's worth. */
#include "net/ws_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/query.h"
#include "net/fifo_timer.h"
#include "net/listener.h"
#include "net/ws_codec.h"
#include "util/log.h"
#include "util/metrics.h"

enum conn_state { HEAD, OPEN, CLOSING, DEAD };

#define HEAD_TIMEOUT_US (20 * 1000000)   /* a first request must arrive whole within this */
#define CLOSE_LINGER_US (5 * 1000000)    /* after our close frame, the peer has this to hang up */
#define READ_CHUNK 65536
#define EVENTS_PER_WAKE 256

typedef struct ws_conn {
  union {
    eio_ws ws;               /* OPEN */
    fifo_timer_entry timer;  /* HEAD, CLOSING */
  } u;
  ws_front *front;
  eio_server *engine;
  uint8_t *in;               /* an incomplete frame read so far (heads are only peeked) */
  uint8_t *out;              /* bytes the kernel has not taken yet */
  sbuf *msg;                 /* a fragmented message being put together */
  struct ws_conn *next_write;
  uint32_t in_len, out_len, out_off;
  int fd;
  uint8_t state;
  uint8_t msg_opcode;        /* of the fragmented message */
  bool write_listed;         /* in the front's write list */
  bool out_armed;            /* EPOLLOUT is asked for */
  bool shut_after_out;       /* CLOSING: shut down writing once `out` is sent */
  bool head_edge;            /* HEAD: watched edge-triggered (an incomplete head) */
} ws_conn;

struct ws_front {
  sio_listener *listener;
  ws_front_hooks hooks;
  int epfd;
  int listen_fd;
  listener_watch *watch;
  struct lws_context *context;
  ws_conn **by_fd;           /* every connection, by descriptor (for shutdown) */
  unsigned by_fd_len;
  unsigned count;
  ws_conn *write_head;       /* connections whose Engine.IO side wants to write */
  ws_conn *graveyard;        /* DEAD connections, freed at the end of the loop step */
  bool dispatching;          /* inside an epoll batch: the batch flushes at its end */
  bool flush_scheduled;
  lws_sorted_usec_list_t flush_sul;
  lws_sorted_usec_list_t accept_pause;
  fifo_timer head_wait;
  fifo_timer close_wait;
};

static uint8_t read_buf[READ_CHUNK];
static const char listen_marker; /* epoll data of the listening socket */

static void conn_close(ws_conn *c, uint16_t code);
static void on_flush(lws_sorted_usec_list_t *sul);

/* Work queued outside an epoll batch (timers, lws requests, Redis) is done at the next loop
 * step. */
static void schedule_flush(ws_front *f) {
  if (f->dispatching || f->flush_scheduled) return;
  f->flush_scheduled = true;
  lws_sul_schedule(f->context, 0, &f->flush_sul, on_flush, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* lifecycle                                                                                   */

static void conn_set_events(ws_conn *c, bool out) {
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(c->front->epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->out_armed = out;
}

/* Forgets the connection now; its memory goes at the end of the loop step. */
static void conn_kill(ws_conn *c) {
  if (c->state == DEAD) return;
  ws_front *f = c->front;
  if (c->state == OPEN) eio_ws_gone(&c->u.ws);
  else fifo_timer_disarm(&c->u.timer);
  c->state = DEAD;
  if (c->fd >= 0) {
    if ((unsigned)c->fd < f->by_fd_len) f->by_fd[c->fd] = NULL;
    close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
  }
  f->count--;
  if (!c->write_listed) { /* a listed one is freed when the flush reaches it */
    c->next_write = f->graveyard;
    f->graveyard = c;
  }
  schedule_flush(f);
}

static void conn_free(ws_conn *c) {
  free(c->in);
  free(c->out);
  if (c->msg) sbuf_free(c->msg);
  free(c->msg);
  free(c);
}

static void free_graveyard(ws_front *f) {
  while (f->graveyard) {
    ws_conn *c = f->graveyard;
    f->graveyard = c->next_write;
    conn_free(c);
  }
}

static void on_head_timeout(fifo_timer *q, fifo_timer_entry *e) {
  conn_kill(lws_container_of(e, ws_conn, u.timer));
}

/* ------------------------------------------------------------------------------------------ */
/* writing                                                                                     */

static int keep_out(ws_conn *c, const uint8_t *data, size_t len) {
  size_t have = c->out_len - c->out_off;
  uint8_t *p = malloc(have + len);
  if (!p) return -1;
  if (have) memcpy(p, c->out + c->out_off, have);
  memcpy(p + have, data, len);
  free(c->out);
  c->out = p;
  c->out_len = (uint32_t)(have + len);
  c->out_off = 0;
  if (!c->out_armed) conn_set_events(c, true);
  return 0;
}

/* Sends now what the kernel takes, keeps the rest in order. -1: the connection is dead. */
static int conn_send(ws_conn *c, const uint8_t *data, size_t len) {
  if (c->state == DEAD) return -1;
  if (c->out_len > c->out_off) return keep_out(c, data, len);
  ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n == (ssize_t)len) return 0;
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
    n = 0;
  }
  return keep_out(c, data + n, len - (size_t)n);
}

/* EPOLLOUT: what was kept goes out; then Engine.IO may go on. */
static void conn_writable(ws_conn *c) {
  if (c->out_len > c->out_off) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      conn_kill(c);
      return;
    }
    if (n > 0) c->out_off += (uint32_t)n;
    if (c->out_off < c->out_len) return;
  }
  free(c->out);
  c->out = NULL;
  c->out_len = c->out_off = 0;
  conn_set_events(c, false);
  if (c->state == CLOSING && c->shut_after_out) {
    c->shut_after_out = false;
    shutdown(c->fd, SHUT_WR);
  } else if (c->state == OPEN && eio_ws_write(&c->u.ws) < 0) {
    conn_close(c, c->u.ws.close_code);
  }
}

static void list_for_write(ws_conn *c) {
  ws_front *f = c->front;
  if (c->write_listed || c->state != OPEN) return;
  c->write_listed = true;
  c->next_write = f->write_head;
  f->write_head = c;
  schedule_flush(f);
}

static void ops_want_write(eio_ws *ws) { list_for_write(lws_container_of(ws, ws_conn, u.ws)); }

static int ops_send(eio_ws *ws, const uint8_t *data, size_t len) {
  return conn_send(lws_container_of(ws, ws_conn, u.ws), data, len);
}

static bool ops_choked(const eio_ws *ws) {
  const ws_conn *c = lws_container_of(ws, ws_conn, u.ws);
  return c->out_len > c->out_off;
}

static const eio_ws_ops conn_ops = {ops_want_write, ops_send, ops_choked, true};

/* Our close frame, then the peer's FIN (or the linger timer) ends it. The Engine.IO side is
 * told at once. */
static void conn_close(ws_conn *c, uint16_t code) {
  if (c->state != OPEN) {
    if (c->state == HEAD) conn_kill(c);
    return;
  }
  eio_ws_gone(&c->u.ws);
  c->state = CLOSING;
  memset(&c->u.timer, 0, sizeof c->u.timer);
  fifo_timer_arm(&c->front->close_wait, &c->u.timer);
  uint8_t frame[4];
  ws_frame_header_write(frame, WS_OP_CLOSE, 2);
  frame[2] = (uint8_t)(code >> 8);
  frame[3] = (uint8_t)code;
  if (conn_send(c, frame, sizeof frame) < 0) {
    conn_kill(c);
  } else if (c->out_len > c->out_off) {
    c->shut_after_out = true;
  } else {
    shutdown(c->fd, SHUT_WR);
  }
}

static void on_close_linger(fifo_timer *q, fifo_timer_entry *e) {
  conn_kill(lws_container_of(e, ws_conn, u.timer));
}

/* The end of a loop step: listed connections write, the dead are freed. */
static void flush(ws_front *f) {
  while (f->write_head) {
    ws_conn *list = f->write_head;
    f->write_head = NULL;
    while (list) {
      ws_conn *c = list;
      list = c->next_write;
      c->write_listed = false;
      if (c->state == DEAD) {
        conn_free(c);
        continue;
      }
      if (c->state != OPEN || c->out_len > c->out_off) continue; /* EPOLLOUT resumes it */
      if (eio_ws_write(&c->u.ws) < 0) conn_close(c, c->u.ws.close_code);
    }
  }
  free_graveyard(f);
}

static void on_flush(lws_sorted_usec_list_t *sul) {
  ws_front *f = lws_container_of(sul, ws_front, flush_sul);
  f->flush_scheduled = false;
  flush(f);
}

/* ------------------------------------------------------------------------------------------ */
/* the first request                                                                           */

/* A refused upgrade: the reason as text/html, as the reference answers it. */
static void respond_and_close(ws_conn *c, const char *status, const char *body, const char *extra) {
  char buf[512];
  int n = snprintf(buf, sizeof buf,
                   "HTTP/1.1 %s\r\nConnection: close\r\n%sContent-Type: text/html\r\n"
                   "Content-Length: %zu\r\n\r\n%s",
                   status, extra ? extra : "", strlen(body), body);
  if (n > 0 && (size_t)n < sizeof buf) send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
  shutdown(c->fd, SHUT_WR);
  conn_kill(c);
}

/* What eio_ws_request's callbacks read: the parsed head and the connection. */
typedef struct {
  const http_head *head;
  int fd;
} request_ctx;

static void head_write_headers(const void *ctx, sbuf *out) {
  const http_head *h = ((const request_ctx *)ctx)->head;
  for (unsigned i = 0; i < h->header_count; i++) {
    const http_header *hd = &h->headers[i];
    size_t at = out->len;
    sbuf_append(out, hd->name, hd->name_len);
    if (out->failed) return;
    for (size_t k = at; k < out->len; k++)
      if (out->data[k] >= 'A' && out->data[k] <= 'Z') out->data[k] = (uint8_t)(out->data[k] + 32);
    sbuf_append(out, ": ", 2);
    sbuf_append(out, hd->value, hd->value_len);
    sbuf_append(out, "\r\n", 2);
  }
}

static void peer_address(const void *ctx, sbuf *out) {
  struct sockaddr_storage sa;
  socklen_t sl = sizeof sa;
  char text[INET6_ADDRSTRLEN] = "";
  if (getpeername(((const request_ctx *)ctx)->fd, (struct sockaddr *)&sa, &sl) == 0) {
    if (sa.ss_family == AF_INET6)
      inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, text, sizeof text);
    else if (sa.ss_family == AF_INET)
      inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, text, sizeof text);
  }
  sbuf_append_str(out, text);
}

static bool header_is(const http_header *h, const char *value) {
  return h && h->value_len == strlen(value) && strncasecmp(h->value, value, h->value_len) == 0;
}

/* A WebSocket upgrade under an Engine.IO path becomes ours; -1: refused and closed. */
static int upgrade(ws_conn *c, const http_head *h) {
  query q;
  query_init(&q);
  if (h->query && query_parse(&q, h->query, h->query_len)) {
    respond_and_close(c, "400 Bad Request", eio_error_message(3), NULL);
    return -1;
  }
  char origin[1024] = "";
  request_ctx rc = {h, c->fd};
  const http_header *oh = http_head_find(h, "origin");
  bool has_origin = oh && oh->value_len < sizeof origin;
  if (has_origin) {
    memcpy(origin, oh->value, oh->value_len);
    origin[oh->value_len] = 0;
  }
  eio_ws_request req = {.q = &q,
                        .origin = has_origin ? origin : NULL,
                        .secure = false,
                        .write_address = peer_address,
                        .write_headers = head_write_headers,
                        .ctx = &rc};
  /* Engine.IO's checks come first, then the WebSocket handshake's, as in the reference. */
  int err = eio_ws_check(c->engine, &req);
  if (err >= 0) {
    respond_and_close(c, "400 Bad Request", eio_error_message(err), NULL);
    return -1;
  }
  if (!header_is(http_head_find(h, "sec-websocket-version"), "13")) {
    respond_and_close(c, "400 Bad Request", "Missing or invalid Sec-WebSocket-Version header",
                      "Sec-WebSocket-Version: 13\r\n");
    return -1;
  }
  const http_header *key = http_head_find(h, "sec-websocket-key");
  char accept[29];
  if (!key || ws_accept_key(key->value, key->value_len, accept)) {
    respond_and_close(c, "400 Bad Request", "Missing or invalid Sec-WebSocket-Key header", NULL);
    return -1;
  }
  char reply[160];
  int n = snprintf(reply, sizeof reply,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                   accept);
  fifo_timer_disarm(&c->u.timer);
  memset(&c->u.ws, 0, sizeof c->u.ws);
  c->u.ws.ops = &conn_ops;
  c->state = OPEN;
  /* MSG_MORE: the 101 leaves in one segment with the open packet that Engine.IO queues next
   * (written when this loop step flushes), one wake-up of the client instead of two. */
  ssize_t sent = send(c->fd, reply, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT | MSG_MORE);
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    conn_kill(c);
    return -1;
  }
  if (sent < n && keep_out(c, (const uint8_t *)reply + (sent > 0 ? sent : 0),
                           (size_t)(n - (sent > 0 ? sent : 0)))) {
    conn_kill(c);
    return -1;
  }
  if (eio_ws_open(c->engine, &c->u.ws, &req) < 0) {
    conn_close(c, 1000);
    return -1;
  }
  return 0;
}

static void handover(ws_conn *c) {
  ws_front *f = c->front;
  int fd = c->fd;
  epoll_ctl(f->epfd, EPOLL_CTL_DEL, fd, NULL);
  if ((unsigned)fd < f->by_fd_len) f->by_fd[fd] = NULL;
  c->fd = -1;
  conn_kill(c);
  f->hooks.adopt(f->hooks.ctx, fd);
}

/* The first request is only peeked at: a connection handed to lws is handed over untouched,
 * its bytes still in the kernel for lws to read. A head that is not complete yet is watched
 * edge-triggered until more arrives (level-triggered, unread bytes would wake the loop on every
 * turn). */
static void head_readable(ws_conn *c) {
  ssize_t n = recv(c->fd, read_buf, HTTP_HEAD_MAX_BYTES, MSG_PEEK);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    conn_kill(c);
    return;
  }
  http_head h;
  int r = http_head_parse((const char *)read_buf, (size_t)n, &h);
  if (r == 0 && n < HTTP_HEAD_MAX_BYTES) {
    if (!c->head_edge) {
      c->head_edge = true;
      struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = c};
      epoll_ctl(c->front->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    }
    return;
  }
  /* Ours: a GET upgrading to WebSocket under an Engine.IO path. Anything else, malformed
   * requests included, is lws's to answer. */
  if (r == 1 && h.method_len == 3 && memcmp(h.method, "GET", 3) == 0 &&
      http_header_has_token(http_head_find(&h, "upgrade"), "websocket") &&
      http_header_has_token(http_head_find(&h, "connection"), "upgrade")) {
    char path[512];
    if (h.path_len < sizeof path) {
      memcpy(path, h.path, h.path_len);
      path[h.path_len] = 0;
      c->engine = c->front->hooks.engine_for(c->front->hooks.ctx, path);
    }
    if (c->engine) {
      if (c->head_edge) conn_set_events(c, false);
      /* The head is consumed; frames behind it stay in the kernel. The parsed head points into
       * read_buf, which this read leaves as it is (same bytes). */
      if (recv(c->fd, read_buf, h.head_len, 0) != (ssize_t)h.head_len) {
        conn_kill(c);
        return;
      }
      upgrade(c, &h);
      return;
    }
  }
  handover(c);
}

/* ------------------------------------------------------------------------------------------ */
/* WebSocket frames                                                                            */

/* One complete message, text or binary. -1: the connection is closing. */
static int deliver(ws_conn *c, uint8_t opcode, const uint8_t *data, size_t len) {
  if (opcode == WS_OP_TEXT && !ws_utf8_valid(data, len)) {
    conn_close(c, 1007);
    return -1;
  }
  if (eio_ws_message(&c->u.ws, data, len, opcode == WS_OP_BINARY) < 0) {
    conn_close(c, c->u.ws.close_code);
    return -1;
  }
  return c->state == OPEN ? 0 : -1;
}

/* Handles one whole frame (payload unmasked). -1: stop reading. */
static int frame(ws_conn *c, const ws_frame_header *fh, uint8_t *payload) {
  size_t len = (size_t)fh->payload_len;
  size_t max = eio_server_options(c->engine)->max_payload;
  switch (fh->opcode) {
  case WS_OP_CLOSE: {
    uint16_t code = 1000;
    if (len >= 2) code = (uint16_t)(payload[0] << 8 | payload[1]);
    if (len == 1 || (len >= 2 && (code < 1000 || code == 1004 || code == 1005 || code == 1006 ||
                                  (code > 1014 && code < 3000) || code >= 5000))) code = 1002;
    conn_close(c, code);
    return -1;
  }
  case WS_OP_PING: {
    /* A peer that does not read gets no pong: what it does not read must not pile up here. */
    if (c->out_len > c->out_off) return 0;
    uint8_t pong[2 + 125];
    ws_frame_header_write(pong, WS_OP_PONG, len);
    memcpy(pong + 2, payload, len);
    if (conn_send(c, pong, 2 + len) < 0) {
      conn_kill(c);
      return -1;
    }
    return 0;
  }
  case WS_OP_PONG:
    return 0;
  case WS_OP_CONT:
    if (!c->msg) {
      conn_close(c, 1002);
      return -1;
    }
    if (!sbuf_append(c->msg, payload, len)) {
      eio_ws_oversize(&c->u.ws);
      conn_close(c, 1009);
      return -1;
    }
    if (!fh->fin) return 0;
    {
      sbuf *m = c->msg;
      c->msg = NULL;
      int r = deliver(c, c->msg_opcode, m->data, m->len);
      sbuf_free(m);
      free(m);
      return r;
    }
  default: /* text, binary */
    if (c->msg) {
      conn_close(c, 1002);
      return -1;
    }
    if (fh->fin) return deliver(c, fh->opcode, payload, len);
    c->msg = malloc(sizeof *c->msg);
    if (!c->msg) {
      conn_close(c, 1011);
      return -1;
    }
    sbuf_init(c->msg, max);
    c->msg_opcode = fh->opcode;
    if (!sbuf_append(c->msg, payload, len)) {
      eio_ws_oversize(&c->u.ws);
      conn_close(c, 1009);
      return -1;
    }
    return 0;
  }
}

/* Parses the frames in data[0..len); keeps an incomplete tail in c->in. */
static void frames(ws_conn *c, uint8_t *data, size_t len) {
  size_t max = eio_server_options(c->engine)->max_payload;
  size_t at = 0;
  while (c->state == OPEN && at < len) {
    ws_frame_header fh;
    int r = ws_frame_header_parse(data + at, len - at, &fh);
    if (r < 0) {
      conn_close(c, 1002);
      return;
    }
    if (r == 0) break;
    if (fh.payload_len > max) {
      eio_ws_oversize(&c->u.ws);
      conn_close(c, 1009);
      return;
    }
    if (len - at - fh.header_len < fh.payload_len) break;
    uint8_t *payload = data + at + fh.header_len;
    ws_unmask(payload, (size_t)fh.payload_len, fh.mask, 0);
    at += fh.header_len + (size_t)fh.payload_len;
    if (frame(c, &fh, payload) < 0) return;
  }
  if (c->state != OPEN) return;
  size_t rest = len - at;
  if (!rest) {
    free(c->in);
    c->in = NULL;
    c->in_len = 0;
    return;
  }
  if (data == c->in) {
    memmove(c->in, c->in + at, rest);
  } else {
    uint8_t *keep = realloc(c->in, rest);
    if (!keep) {
      conn_close(c, 1011);
      return;
    }
    c->in = keep;
    memcpy(c->in, data + at, rest);
  }
  c->in_len = (uint32_t)rest;
}

static void open_readable(ws_conn *c) {
  ssize_t n = recv(c->fd, read_buf, sizeof read_buf, 0);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    conn_kill(c); /* the peer is gone without a close frame: "transport close" */
    return;
  }
  if (!c->in) {
    frames(c, read_buf, (size_t)n);
    return;
  }
  uint8_t *grown = realloc(c->in, c->in_len + (size_t)n);
  if (!grown) {
    conn_close(c, 1011);
    return;
  }
  c->in = grown;
  memcpy(c->in + c->in_len, read_buf, (size_t)n);
  c->in_len += (uint32_t)n;
  frames(c, c->in, c->in_len);
}

/* CLOSING: what the peer still sends is read and dropped until it hangs up. */
static void closing_readable(ws_conn *c) {
  ssize_t n = recv(c->fd, read_buf, sizeof read_buf, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) conn_kill(c);
}

/* ------------------------------------------------------------------------------------------ */
/* accepting and dispatching                                                                   */

static void on_accept_resume(lws_sorted_usec_list_t *sul) {
  ws_front *f = lws_container_of(sul, ws_front, accept_pause);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = (void *)&listen_marker};
  epoll_ctl(f->epfd, EPOLL_CTL_MOD, f->listen_fd, &ev);
}

static void accept_some(ws_front *f) {
  for (int i = 0; i < 64; i++) {
    int fd = accept4(f->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        /* Out of descriptors: stop listening a moment instead of spinning on accept(). */
        LOG_W("net", "accept failed, pausing: %s", strerror(errno));
        struct epoll_event ev = {.events = 0, .data.ptr = (void *)&listen_marker};
        epoll_ctl(f->epfd, EPOLL_CTL_MOD, f->listen_fd, &ev);
        lws_sul_schedule(f->context, 0, &f->accept_pause, on_accept_resume, 100000);
      }
      return;
    }
    ws_conn *c = (unsigned)fd < f->by_fd_len && f->hooks.admit(f->hooks.ctx)
                     ? calloc(1, sizeof *c)
                     : NULL;
    if (!c) {
      metrics.connections_refused++;
      LOG_W("net", "connection refused: limit reached");
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->front = f;
    c->fd = fd;
    c->state = HEAD;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev)) {
      close(fd);
      free(c);
      continue;
    }
    f->by_fd[fd] = c;
    f->count++;
    fifo_timer_arm(&f->head_wait, &c->u.timer);
  }
}

static void on_events(void *ctx) {
  ws_front *f = ctx;
  struct epoll_event evs[EVENTS_PER_WAKE];
  f->dispatching = true;
  for (int round = 0; round < 4; round++) {
    int n = epoll_wait(f->epfd, evs, EVENTS_PER_WAKE, 0);
    for (int i = 0; i < n; i++) {
      if (evs[i].data.ptr == &listen_marker) {
        accept_some(f);
        continue;
      }
      ws_conn *c = evs[i].data.ptr;
      uint32_t e = evs[i].events;
      if ((e & EPOLLOUT) && c->state != DEAD) conn_writable(c);
      if (!(e & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      switch (c->state) {
      case HEAD: head_readable(c); break;
      case OPEN: open_readable(c); break;
      case CLOSING: closing_readable(c); break;
      default: break;
      }
    }
    if (n < EVENTS_PER_WAKE) break;
  }
  f->dispatching = false;
  flush(f);
}

static void on_events_writable(void *ctx) { (void)ctx; }

static const listener_watch_ops watch_ops = {on_events, on_events_writable};

/* ------------------------------------------------------------------------------------------ */

static int listen_addrinfo(const char *host, int family, int port) {
  struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
  struct addrinfo *res = NULL;
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  if (getaddrinfo(host, service, &hints, &res)) return -1;
  int fd = -1;
  for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, SOMAXCONN)) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

/* No host: every address, IPv6 and IPv4 on one socket, or IPv4 alone where IPv6 is off (some
 * containers). */
static int listen_on(const char *host, int port) {
  if (host) return listen_addrinfo(host, AF_UNSPEC, port);
  int fd = listen_addrinfo(NULL, AF_INET6, port);
  return fd >= 0 ? fd : listen_addrinfo(NULL, AF_INET, port);
}

ws_front *ws_front_new(sio_listener *l, struct lws_context *context, const char *host, int port,
                       const ws_front_hooks *hooks) {
  ws_front *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->listener = l;
  f->hooks = *hooks;
  f->context = context;
  f->epfd = -1;
  f->listen_fd = listen_on(host, port);
  if (f->listen_fd < 0) {
    LOG_E("net", "cannot listen host=%s port=%d: %s", host ? host : "*", port, strerror(errno));
    free(f);
    return NULL;
  }
  struct rlimit rl;
  f->by_fd_len = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 22)
                     ? (unsigned)rl.rlim_cur
                     : 65536;
  f->by_fd = calloc(f->by_fd_len, sizeof *f->by_fd);
  f->epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = (void *)&listen_marker};
  if (!f->by_fd || f->epfd < 0 || epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->listen_fd, &ev) ||
      !(f->watch = listener_watch_fd(l, f->epfd, &watch_ops, f))) {
    LOG_E("net", "cannot set up the event loop");
    ws_front_free(f);
    return NULL;
  }
  fifo_timer_init(&f->head_wait, context, HEAD_TIMEOUT_US, on_head_timeout, f);
  fifo_timer_init(&f->close_wait, context, CLOSE_LINGER_US, on_close_linger, f);
  return f;
}

unsigned ws_front_connections(const ws_front *f) { return f ? f->count : 0; }

void ws_front_free(ws_front *f) {
  if (!f) return;
  f->dispatching = true; /* no flush scheduled from here on */
  for (unsigned fd = 0; f->by_fd && fd < f->by_fd_len; fd++)
    if (f->by_fd[fd]) conn_kill(f->by_fd[fd]);
  for (ws_conn *c = f->write_head, *next; c; c = next) {
    next = c->next_write;
    c->write_listed = false;
    if (c->state == DEAD) conn_free(c);
  }
  f->write_head = NULL;
  free_graveyard(f);
  if (f->context) {
    lws_sul_cancel(&f->flush_sul);
    lws_sul_cancel(&f->accept_pause);
    fifo_timer_destroy(&f->head_wait);
    fifo_timer_destroy(&f->close_wait);
  }
  listener_watch_close(f->watch);
  if (f->listen_fd >= 0) close(f->listen_fd);
  if (f->epfd >= 0) close(f->epfd);
  free(f->by_fd);
  free(f);
}
