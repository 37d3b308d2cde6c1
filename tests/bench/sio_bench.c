/* sio-bench: a load generator for Socket.IO servers that serve the bench contract
 * (sio-server --app bench, or the Node reference tests/e2e/ref/bench-server.mjs).
 *
 * It is written in C on one epoll loop so that the client side costs a fraction of what the
 * server does: it speaks the client side of WebSocket (RFC 6455: handshake, masked frames,
 * pings and closes), Engine.IO v4 (open, ping/pong, long-polling payloads separated by 0x1e)
 * and Socket.IO v5 (CONNECT to "/", EVENT, ACK) itself.
 *
 * Scenarios (namespace "/"):
 *   conn     N idle WebSocket clients are connected (C handshakes at a time) and held: the
 *            connect rate, and the server's RSS per connection once they are at rest.
 *   bcast    N WebSocket clients; one of them (in turn) emits "bcast"(payload), the server
 *            emits "msg"(payload) to all N. W broadcasts in flight. Deliveries/s, and the
 *            latency from the send to the last receipt of each broadcast.
 *   room     N clients joined to R rooms ("r0".."r{R-1}", client i in room i % R); a member of
 *            the target room emits "room-bcast"(room, payload), rooms in turn, W in flight.
 *   echo     N WebSocket clients, each with K "echo"(payload) acknowledgements in flight:
 *            acks/s and the round trip (p50/p99/p999).
 *   polling  the same echo over HTTP long-polling only (a keep-alive connection for the held
 *            GET and one for the POSTs, per client).
 *
 * With --pid, the server's CPU time (utime + stime of /proc/PID/stat) and RSS (VmRSS of
 * /proc/PID/status) are read at the edges of the measurement window, so that the server's CPU
 * per delivery/ack is reported: on a shared machine it is steadier than any rate.
 *
 * Every run is bounded (--duration, --timeout) and loopback-only. The last line of output is
 * "result key=value ...", which scripts/bench reads. Exit status: 0 when every client connected
 * and nothing went wrong, 1 otherwise, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* ------------------------------------------------------------------------------------------ */
/* small helpers                                                                               */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) { /* xorshift64*: masks and keys, not secrets */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "sio-bench: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (!p && n) die("out of memory");
  return p;
}

/* ------------------------------------------------------------------------------------------ */
/* SHA-1 and base64, for Sec-WebSocket-Key / Sec-WebSocket-Accept                              */

static uint32_t rol(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

static void sha1(const uint8_t *msg, size_t len, uint8_t out[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  uint8_t block[64];
  size_t total = ((len + 8) / 64 + 1) * 64;
  for (size_t off = 0; off < total; off += 64) {
    for (size_t i = 0; i < 64; i++) {
      size_t k = off + i;
      if (k < len) block[i] = msg[k];
      else if (k == len) block[i] = 0x80;
      else if (k >= total - 8) block[i] = (uint8_t)(((uint64_t)len * 8) >> (8 * (total - 1 - k)));
      else block[i] = 0;
    }
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
      w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 |
             (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
      uint32_t f, k;
      if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
      else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
      else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
      else f = b ^ c ^ d, k = 0xCA62C1D6;
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d, d = c, c = rol(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

static size_t base64(char *out, const uint8_t *in, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    out[o++] = tab[v >> 18 & 63];
    out[o++] = tab[v >> 12 & 63];
    out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? tab[v & 63] : '=';
  }
  out[o] = 0;
  return o;
}

/* ------------------------------------------------------------------------------------------ */
/* latency histogram: 64 linear sub-buckets per power of two (< 1.6% error), in nanoseconds    */

#define H_SUB_BITS 6
#define H_SUB (1 << H_SUB_BITS)
typedef struct {
  uint64_t b[64 * H_SUB];
  uint64_t count;
  int64_t max;
} hist;

static void hist_add(hist *h, int64_t v) {
  if (v < 0) v = 0;
  uint64_t u = (uint64_t)v;
  int idx;
  if (u < H_SUB) {
    idx = (int)u;
  } else {
    int shift = 63 - __builtin_clzll(u) - H_SUB_BITS;
    idx = (shift + 1) * H_SUB + (int)((u >> shift) & (H_SUB - 1));
  }
  h->b[idx]++;
  h->count++;
  if (v > h->max) h->max = v;
}

/* The value at quantile q (0..1), in microseconds (bucket middle). */
static double hist_q_us(const hist *h, double q) {
  if (!h->count) return 0;
  uint64_t want = (uint64_t)(q * (double)h->count + 0.999999), seen = 0;
  if (want < 1) want = 1;
  for (int i = 0; i < 64 * H_SUB; i++) {
    seen += h->b[i];
    if (seen >= want) {
      if (i < H_SUB) return i / 1000.0;
      int shift = i / H_SUB - 1;
      uint64_t lo = (uint64_t)(H_SUB + i % H_SUB) << shift;
      return ((double)lo + (double)(1ull << shift) / 2) / 1000.0;
    }
  }
  return h->max / 1000.0;
}

/* ------------------------------------------------------------------------------------------ */
/* options                                                                                     */

enum scenario { SC_CONN, SC_BCAST, SC_ROOM, SC_ECHO, SC_POLLING };
static const char *const scenario_names[] = {"conn", "bcast", "room", "echo", "polling"};

static struct {
  enum scenario sc;
  const char *host;
  int port;
  const char *path;
  unsigned clients, rooms, inflight, payload, concurrency, sources;
  double duration, warmup, hold, timeout;
  pid_t pid;
  bool verbose;
} opt = {
    .sc = SC_ECHO, .host = "127.0.0.1", .port = 3000, .path = "/socket.io/",
    .clients = 100, .rooms = 10, .inflight = 0, .payload = 32, .concurrency = 128,
    .sources = 0, .duration = 5, .warmup = 1, .hold = 3, .timeout = 0, .pid = 0,
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: sio-bench SCENARIO [options]\n"
          "scenarios: conn, bcast, room, echo, polling (see the top of tests/bench/sio_bench.c)\n"
          "  --host ADDR        server address, loopback only (127.0.0.1)\n"
          "  --port N           server port (3000)\n"
          "  --path PATH        Socket.IO path (/socket.io/)\n"
          "  --clients N        clients (100)\n"
          "  --rooms R          rooms, room scenario (10)\n"
          "  --inflight K       echo/polling: acks in flight per client (1);\n"
          "                     bcast/room: broadcasts in flight (bcast 1, room 8)\n"
          "  --payload S        payload string length in bytes (32)\n"
          "  --concurrency C    handshakes in progress at once (128)\n"
          "  --sources K        local addresses 127.0.0.1..K to connect from (auto)\n"
          "  --warmup SEC       load before the measurement window (1)\n"
          "  --duration SEC     measurement window (5)\n"
          "  --hold SEC         conn: time the connections are held before RSS is read (3)\n"
          "  --timeout SEC      the whole run's limit (auto)\n"
          "  --pid PID          the server process: its CPU time and RSS are reported\n"
          "  --verbose          progress on stderr\n");
}

static double parse_num(const char *name, const char *v, double min, double max) {
  char *end;
  double d = strtod(v ? v : "", &end);
  if (!v || !*v || *end || d < min || d > max) die("invalid value for --%s: %s", name, v ? v : "");
  return d;
}

static void parse_options(int argc, char **argv) {
  static const struct option longs[] = {
      {"host", 1, 0, 'H'},    {"port", 1, 0, 'p'},     {"path", 1, 0, 'P'},
      {"clients", 1, 0, 'n'}, {"rooms", 1, 0, 'r'},    {"inflight", 1, 0, 'k'},
      {"payload", 1, 0, 's'}, {"concurrency", 1, 0, 'c'}, {"sources", 1, 0, 'S'},
      {"warmup", 1, 0, 'w'},  {"duration", 1, 0, 'd'}, {"hold", 1, 0, 'o'},
      {"timeout", 1, 0, 't'}, {"pid", 1, 0, 'i'},      {"verbose", 0, 0, 'v'},
      {"help", 0, 0, 'h'},    {0, 0, 0, 0},
  };
  int ch;
  while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
    const char *name = NULL;
    for (const struct option *o = longs; o->name; o++)
      if (o->val == ch) name = o->name;
    switch (ch) {
    case 'H': opt.host = optarg; break;
    case 'p': opt.port = (int)parse_num(name, optarg, 1, 65535); break;
    case 'P': opt.path = optarg; break;
    case 'n': opt.clients = (unsigned)parse_num(name, optarg, 1, 1000000); break;
    case 'r': opt.rooms = (unsigned)parse_num(name, optarg, 1, 100000); break;
    case 'k': opt.inflight = (unsigned)parse_num(name, optarg, 1, 256); break;
    case 's': opt.payload = (unsigned)parse_num(name, optarg, 0, 1 << 20); break;
    case 'c': opt.concurrency = (unsigned)parse_num(name, optarg, 1, 100000); break;
    case 'S': opt.sources = (unsigned)parse_num(name, optarg, 1, 250); break;
    case 'w': opt.warmup = parse_num(name, optarg, 0, 3600); break;
    case 'd': opt.duration = parse_num(name, optarg, 0.1, 3600); break;
    case 'o': opt.hold = parse_num(name, optarg, 0, 3600); break;
    case 't': opt.timeout = parse_num(name, optarg, 1, 36000); break;
    case 'i': opt.pid = (pid_t)parse_num(name, optarg, 1, 1 << 30); break;
    case 'v': opt.verbose = true; break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); exit(2);
    }
  }
  if (optind != argc - 1) {
    usage(stderr);
    exit(2);
  }
  bool found = false;
  for (int i = 0; i < 5; i++)
    if (strcmp(argv[optind], scenario_names[i]) == 0) opt.sc = (enum scenario)i, found = true;
  if (!found) die("unknown scenario: %s", argv[optind]);
  if (strncmp(opt.host, "127.", 4) != 0) die("loopback only: --host must be 127.x.x.x");
  if (!opt.inflight) opt.inflight = opt.sc == SC_ROOM ? 8 : 1;
  if (opt.sc == SC_ROOM && opt.rooms > opt.clients) die("--rooms exceeds --clients");
  if (!opt.sources) opt.sources = opt.clients > 4000 || opt.sc == SC_POLLING ? 4 : 1;
  if (!opt.timeout) opt.timeout = 60 + opt.clients / 200.0 + opt.warmup + opt.duration + opt.hold;
}

/* ------------------------------------------------------------------------------------------ */
/* the server's CPU time and RSS                                                               */

typedef struct {
  bool ok;
  double user_s, sys_s;
  long rss_kb;
  int64_t t;
} proc_stats;

static proc_stats read_proc(void) {
  proc_stats st = {.t = now_ns()};
  if (!opt.pid) return st;
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)opt.pid);
  FILE *f = fopen(path, "r");
  if (!f) return st;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  if (!p) return st;
  unsigned long ut = 0, stm = 0;
  /* fields 3..13, then utime (14) and stime (15) */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stm) != 2)
    return st;
  double tck = (double)sysconf(_SC_CLK_TCK);
  st.user_s = ut / tck;
  st.sys_s = stm / tck;
  snprintf(path, sizeof path, "/proc/%d/status", (int)opt.pid);
  f = fopen(path, "r");
  if (!f) return st;
  while (fgets(buf, sizeof buf, f))
    if (strncmp(buf, "VmRSS:", 6) == 0) st.rss_kb = strtol(buf + 6, NULL, 10);
  fclose(f);
  st.ok = true;
  return st;
}

static double self_cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

/* ------------------------------------------------------------------------------------------ */
/* connections and clients                                                                     */

enum conn_type { T_WS, T_GET, T_POST };
enum conn_state { ST_CLOSED, ST_CONNECTING, ST_HTTP, ST_WS };
enum client_state { CL_NEW, CL_CONNECTING, CL_READY, CL_FAILED };

typedef struct client client;

typedef struct conn {
  int fd;
  uint8_t type, st;
  bool want_out;     /* EPOLLOUT is registered */
  bool dirty;        /* on the flush list */
  bool busy;         /* polling: a request is waiting for its response */
  client *cl;
  uint8_t *in;       /* bytes of an incomplete frame/response */
  uint32_t in_len, in_cap;
  uint8_t *out;      /* bytes not yet written */
  uint32_t out_off, out_len, out_cap;
  struct conn *next_dirty;
  uint8_t *frag;     /* a fragmented WebSocket message */
  uint32_t frag_len;
} conn;

typedef struct {
  uint32_t id;       /* UINT32_MAX: free */
  int64_t sent;
} ack_slot;

struct client {
  conn c;            /* the WebSocket, or the polling GET connection */
  conn p;            /* the polling POST connection */
  uint32_t idx;
  uint8_t st;
  bool open;         /* Engine.IO open packet seen */
  bool post_wanted;  /* on the post list */
  char key[32];      /* Sec-WebSocket-Key */
  char sid[48];      /* Engine.IO sid (polling) */
  uint32_t next_id;
  uint32_t inflight;
  ack_slot *slots;   /* echo: inflight slots */
  uint8_t *pend;     /* polling: packets waiting for the next POST */
  uint32_t pend_len, pend_cap;
  client *next_post;
  int64_t t_start;
};

static int epfd = -1;
static client *clients;
static uint32_t *ready_list;          /* indexes of ready clients, in order of readiness */
static unsigned n_started, n_connecting, n_ready, n_failed;
static conn *dirty_head;
static client *post_head;
static uint8_t rbuf[1 << 18];
static char host_hdr[128];
static char *pad;                     /* opt.payload bytes of 'x' */
static unsigned errors;
static char first_error[256];

enum phase { P_CONNECT, P_SETUP, P_WARMUP, P_MEASURE, P_DRAIN, P_HOLD, P_DONE };
static enum phase phase = P_CONNECT;
static bool issuing;                  /* load is generated (warmup and measure) */
static int64_t t_now;

static void note_error(const char *fmt, ...) {
  errors++;
  if (first_error[0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(first_error, sizeof first_error, fmt, ap);
  va_end(ap);
}

static void conn_reset_buffers(conn *c) {
  free(c->in);
  free(c->out);
  free(c->frag);
  c->in = c->out = c->frag = NULL;
  c->in_len = c->in_cap = c->out_off = c->out_len = c->out_cap = c->frag_len = 0;
}

/* Closes with a reset (SO_LINGER 0): no TIME_WAIT left behind on the client side. */
static void conn_close(conn *c) {
  if (c->fd >= 0) {
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c->fd);
  }
  c->fd = -1;
  c->st = ST_CLOSED;
  c->want_out = false;
  c->busy = false;
  conn_reset_buffers(c);
}

static void client_fail(client *cl, const char *fmt, ...) {
  if (cl->st == CL_FAILED) return;
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (phase != P_DONE) note_error("client %u: %s", cl->idx, msg);
  if (cl->st == CL_CONNECTING) n_connecting--;
  if (cl->st == CL_READY) n_ready--;
  n_failed++;
  cl->st = CL_FAILED;
  conn_close(&cl->c);
  conn_close(&cl->p);
  if (opt.verbose) fprintf(stderr, "client %u failed: %s\n", cl->idx, msg);
}

static uint8_t *out_reserve(conn *c, size_t n) {
  if (c->out_off && c->out_off == c->out_len) c->out_off = c->out_len = 0;
  if (c->out_len + n > c->out_cap) {
    if (c->out_off) { /* compact first */
      memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
      c->out_len -= c->out_off;
      c->out_off = 0;
    }
    if (c->out_len + n > c->out_cap) {
      size_t cap = c->out_cap ? c->out_cap : 256;
      while (cap < c->out_len + n) cap *= 2;
      c->out = xrealloc(c->out, cap);
      c->out_cap = (uint32_t)cap;
    }
  }
  return c->out + c->out_len;
}

static void mark_dirty(conn *c) {
  if (c->dirty) return;
  c->dirty = true;
  c->next_dirty = dirty_head;
  dirty_head = c;
}

static void set_events(conn *c, bool out) {
  if (c->want_out == out || c->fd < 0) return;
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->want_out = out;
}

static void conn_flush(conn *c) {
  if (c->fd < 0 || c->st == ST_CONNECTING) return;
  while (c->out_off < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        set_events(c, true);
        return;
      }
      if (errno == EINTR) continue;
      client_fail(c->cl, "write: %s", strerror(errno));
      return;
    }
    c->out_off += (uint32_t)n;
  }
  c->out_off = c->out_len = 0;
  if (c->out_cap > 65536) {
    free(c->out);
    c->out = NULL;
    c->out_cap = 0;
  }
  set_events(c, false);
}

static void flush_all(void) {
  while (dirty_head) {
    conn *c = dirty_head;
    dirty_head = c->next_dirty;
    c->dirty = false;
    conn_flush(c);
  }
}

/* Opens the TCP connection (non-blocking); queued output goes once it is connected. */
static int conn_open(conn *c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (opt.sources > 1) {
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000001u + c->cl->idx % opt.sources);
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&src, sizeof src)) {
      close(fd);
      return -1;
    }
  }
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
  inet_pton(AF_INET, opt.host, &dst.sin_addr);
  if (connect(fd, (struct sockaddr *)&dst, sizeof dst) && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  c->fd = fd;
  c->st = ST_CONNECTING;
  c->want_out = true;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
    close(fd);
    c->fd = -1;
    c->st = ST_CLOSED;
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* WebSocket (client side)                                                                     */

static void ws_frame(conn *c, uint8_t opcode, const void *data, size_t len) {
  uint8_t *p = out_reserve(c, len + 14), *start = p;
  *p++ = (uint8_t)(0x80 | opcode);
  if (len < 126) {
    *p++ = (uint8_t)(0x80 | len);
  } else if (len < 65536) {
    *p++ = 0x80 | 126;
    *p++ = (uint8_t)(len >> 8);
    *p++ = (uint8_t)len;
  } else {
    *p++ = 0x80 | 127;
    for (int i = 7; i >= 0; i--) *p++ = (uint8_t)((uint64_t)len >> (8 * i));
  }
  uint32_t m = (uint32_t)rng();
  uint8_t mk[4];
  memcpy(mk, &m, 4);
  memcpy(p, mk, 4);
  p += 4;
  const uint8_t *d = data;
  for (size_t i = 0; i < len; i++) p[i] = d[i] ^ mk[i & 3];
  c->out_len += (uint32_t)(p + len - start);
  mark_dirty(c);
}

static void ws_start(client *cl) {
  uint8_t raw[16];
  for (int i = 0; i < 16; i += 8) {
    uint64_t r = rng();
    memcpy(raw + i, &r, 8);
  }
  base64(cl->key, raw, 16);
  conn *c = &cl->c;
  uint8_t *p = out_reserve(c, 512);
  int n = snprintf((char *)p, 512,
                   "GET %s?EIO=4&transport=websocket HTTP/1.1\r\n"
                   "Host: %s\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   opt.path, host_hdr, cl->key);
  c->out_len += (uint32_t)n;
  mark_dirty(c);
}

/* ------------------------------------------------------------------------------------------ */
/* the scenarios' state                                                                        */

static uint64_t deliveries, acks_total, completed;
static unsigned joined;
static hist lat;
static uint32_t *room_size;

#define BC_RING 1024
static struct {
  uint64_t seq;
  int64_t sent;
  uint32_t expected, got;
  bool live;
} bc_ring[BC_RING];
static uint64_t bc_next;
static unsigned bc_inflight;

static void client_send(client *cl, const char *pkt, size_t len);

static void client_ready(client *cl) {
  cl->st = CL_READY;
  n_connecting--;
  ready_list[n_ready++] = cl->idx;
  if (opt.verbose && n_ready % 1000 == 0) fprintf(stderr, "%u ready\n", n_ready);
}

/* ["msg","<seq>:xxx..."] */
static size_t build_payload(char *out, uint64_t seq) {
  int n = sprintf(out, "%" PRIu64 ":", seq);
  size_t want = opt.payload > (unsigned)n ? opt.payload : (size_t)n;
  memcpy(out + n, pad, want - (size_t)n);
  return want;
}

static void bcast_issue(void) {
  static char buf[128 + (1 << 20)];
  while (issuing && bc_inflight < opt.inflight && n_ready) {
    uint64_t seq = bc_next++;
    uint32_t expected, sender;
    size_t n;
    if (opt.sc == SC_BCAST) {
      expected = n_ready;
      sender = ready_list[seq % n_ready];
      n = (size_t)sprintf(buf, "42[\"bcast\",\"");
    } else {
      uint32_t room = (uint32_t)(seq % opt.rooms);
      expected = room_size[room];
      uint32_t member = (uint32_t)((seq / opt.rooms) % room_size[room]);
      sender = room + member * opt.rooms;
      n = (size_t)sprintf(buf, "42[\"room-bcast\",\"r%u\",\"", room);
    }
    n += build_payload(buf + n, seq);
    buf[n++] = '"';
    buf[n++] = ']';
    typeof(bc_ring[0]) *slot = &bc_ring[seq % BC_RING];
    if (slot->live) { /* a broadcast a whole ring ago never completed */
      note_error("broadcast %" PRIu64 " incomplete: %u of %u", slot->seq, slot->got, slot->expected);
      bc_inflight--;
    }
    slot->seq = seq;
    slot->sent = t_now;
    slot->expected = expected;
    slot->got = 0;
    slot->live = true;
    bc_inflight++;
    client_send(&clients[sender], buf, n);
  }
}

static void on_delivery(client *cl, const uint8_t *p, size_t n) {
  deliveries++;
  uint64_t seq = 0;
  size_t i = 0;
  while (i < n && p[i] >= '0' && p[i] <= '9') seq = seq * 10 + (p[i++] - '0');
  if (i == 0 || i >= n || p[i] != ':') {
    note_error("unexpected msg payload");
    return;
  }
  typeof(bc_ring[0]) *slot = &bc_ring[seq % BC_RING];
  if (!slot->live || slot->seq != seq) return;
  if (++slot->got < slot->expected) return;
  slot->live = false;
  bc_inflight--;
  completed++;
  if (phase == P_MEASURE) hist_add(&lat, t_now - slot->sent);
  bcast_issue();
}

static void echo_issue(client *cl) {
  static char buf[64 + (1 << 20)];
  while (issuing && cl->st == CL_READY && cl->inflight < opt.inflight) {
    ack_slot *s = NULL;
    for (unsigned i = 0; i < opt.inflight; i++)
      if (cl->slots[i].id == UINT32_MAX) {
        s = &cl->slots[i];
        break;
      }
    if (!s) return;
    s->id = cl->next_id++;
    s->sent = t_now;
    cl->inflight++;
    size_t n = (size_t)sprintf(buf, "42%u[\"echo\",\"", s->id);
    memcpy(buf + n, pad, opt.payload);
    n += opt.payload;
    buf[n++] = '"';
    buf[n++] = ']';
    client_send(cl, buf, n);
  }
}

static void on_ack(client *cl, const uint8_t *p, size_t n) {
  uint64_t id = 0;
  size_t i = 0;
  while (i < n && p[i] >= '0' && p[i] <= '9') id = id * 10 + (p[i++] - '0');
  if (i == 0) {
    note_error("ack without id");
    return;
  }
  if (phase == P_SETUP) { /* join acks */
    joined++;
    return;
  }
  /* the echo comes back with its arguments: ["xxx..."] */
  if (n - i != opt.payload + 4 || p[i] != '[' || p[i + 1] != '"' ||
      memcmp(p + i + 2, pad, opt.payload) != 0) {
    note_error("unexpected ack payload (%zu bytes)", n - i);
  }
  for (unsigned k = 0; k < opt.inflight; k++) {
    ack_slot *s = &cl->slots[k];
    if (s->id != id) continue;
    s->id = UINT32_MAX;
    cl->inflight--;
    acks_total++;
    if (phase == P_MEASURE) hist_add(&lat, t_now - s->sent);
    echo_issue(cl);
    return;
  }
  note_error("ack for unknown id %" PRIu64, id);
}

/* A Socket.IO packet (after the Engine.IO "4"). Namespace "/": no namespace prefix. */
static void on_sio(client *cl, const uint8_t *p, size_t n) {
  if (!n) goto bad;
  switch (p[0]) {
  case '0': /* CONNECT {"sid":...} */
    if (cl->st == CL_CONNECTING) client_ready(cl);
    return;
  case '2': { /* EVENT */
    static const char prefix[] = "[\"msg\",\"";
    if (n > sizeof prefix && memcmp(p + 1, prefix, sizeof prefix - 1) == 0) {
      on_delivery(cl, p + sizeof prefix, n - sizeof prefix);
      return;
    }
    note_error("unexpected event: %.40s", (const char *)p);
    return;
  }
  case '3': /* ACK */
    on_ack(cl, p + 1, n - 1);
    return;
  case '4':
    client_fail(cl, "CONNECT_ERROR %.80s", (const char *)p + 1);
    return;
  case '1':
    client_fail(cl, "DISCONNECT from the server");
    return;
  }
bad:
  client_fail(cl, "unexpected Socket.IO packet %.40s", (const char *)p);
}

/* An Engine.IO text packet. */
static void on_eio(client *cl, const uint8_t *p, size_t n) {
  if (!n) {
    client_fail(cl, "empty Engine.IO packet");
    return;
  }
  switch (p[0]) {
  case '0': /* open */
    if (cl->open) goto bad;
    cl->open = true;
    if (opt.sc != SC_POLLING) client_send(cl, "40", 2); /* polling: after the sid is known */
    return;
  case '2': /* ping */
    client_send(cl, "3", 1);
    return;
  case '4':
    on_sio(cl, p + 1, n - 1);
    return;
  case '6': /* noop */
    return;
  case '1':
    client_fail(cl, "Engine.IO close from the server");
    return;
  }
bad:
  client_fail(cl, "unexpected Engine.IO packet %.40s", (const char *)p);
}

/* ------------------------------------------------------------------------------------------ */
/* reading                                                                                     */

/* Parses frames from p[0..n); returns the bytes consumed (whole frames only). */
static size_t ws_consume(conn *c, const uint8_t *p, size_t n) {
  client *cl = c->cl;
  size_t used = 0;
  while (n - used >= 2 && c->fd >= 0) {
    const uint8_t *f = p + used;
    size_t avail = n - used, hl = 2;
    uint64_t len = f[1] & 0x7f;
    bool masked = f[1] & 0x80;
    if (len == 126) {
      if (avail < 4) break;
      len = (uint64_t)f[2] << 8 | f[3];
      hl = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; i++) len = len << 8 | f[2 + i];
      hl = 10;
    }
    if (masked) hl += 4;
    if (len > (1u << 30)) {
      client_fail(cl, "frame too large");
      break;
    }
    if (avail < hl + len) break;
    uint8_t *data = (uint8_t *)f + hl; /* our own buffer */
    if (masked)
      for (uint64_t i = 0; i < len; i++) data[i] ^= f[hl - 4 + (i & 3)];
    used += hl + (size_t)len;
    bool fin = f[0] & 0x80;
    uint8_t op = f[0] & 0x0f;
    switch (op) {
    case 0x0: /* continuation */
    case 0x1:
    case 0x2:
      if (op == 0x2) note_error("unexpected binary frame");
      if (fin && !c->frag_len && op != 0) {
        if (op == 0x1) on_eio(cl, data, (size_t)len);
        break;
      }
      c->frag = xrealloc(c->frag, c->frag_len + len + 1);
      memcpy(c->frag + c->frag_len, data, (size_t)len);
      c->frag_len += (uint32_t)len;
      if (fin) {
        uint8_t *m = c->frag;
        uint32_t ml = c->frag_len;
        c->frag = NULL;
        c->frag_len = 0;
        on_eio(cl, m, ml);
        free(m);
      }
      break;
    case 0x8: /* close: answer, then drop */
      if (c->fd >= 0) {
        ws_frame(c, 0x8, data, len >= 2 ? 2 : 0);
        conn_flush(c);
      }
      client_fail(cl, "WebSocket closed by the server (%u)", len >= 2 ? data[0] << 8 | data[1] : 0);
      break;
    case 0x9: /* ping */
      ws_frame(c, 0xA, data, (size_t)len);
      break;
    case 0xA: /* pong */
      break;
    default:
      client_fail(cl, "bad opcode %u", op);
    }
  }
  return used;
}

typedef struct {
  int status;
  long content_length;
  bool close, chunked;
  const char *accept;
  size_t accept_len;
} http_head;

/* Parses a response head. Returns its length, 0 if incomplete, -1 if malformed. */
static long http_parse_head(const uint8_t *p, size_t n, http_head *h) {
  const uint8_t *end = memmem(p, n, "\r\n\r\n", 4);
  if (!end) return n > 16384 ? -1 : 0;
  memset(h, 0, sizeof *h);
  h->content_length = -1;
  if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0) return -1;
  h->status = atoi((const char *)p + 9);
  const uint8_t *line = memchr(p, '\n', (size_t)(end - p)) + 1;
  while (line < end + 2) {
    const uint8_t *eol = memchr(line, '\r', (size_t)(end + 2 - line));
    if (!eol) break;
    size_t ll = (size_t)(eol - line);
    const uint8_t *colon = memchr(line, ':', ll);
    if (colon) {
      size_t nl = (size_t)(colon - line);
      const char *v = (const char *)colon + 1;
      while (*v == ' ') v++;
      size_t vl = (size_t)((const char *)eol - v);
      if (nl == 14 && strncasecmp((const char *)line, "content-length", 14) == 0)
        h->content_length = strtol(v, NULL, 10);
      else if (nl == 10 && strncasecmp((const char *)line, "connection", 10) == 0)
        h->close = vl >= 5 && strncasecmp(v, "close", 5) == 0;
      else if (nl == 17 && strncasecmp((const char *)line, "transfer-encoding", 17) == 0)
        h->chunked = true;
      else if (nl == 20 && strncasecmp((const char *)line, "sec-websocket-accept", 20) == 0)
        h->accept = v, h->accept_len = vl;
    }
    line = eol + 2;
  }
  return (long)(end + 4 - p);
}

static void polling_get(client *cl);
static void polling_body(client *cl, conn *c, const uint8_t *body, size_t len);

static size_t conn_consume(conn *c, uint8_t *p, size_t n) {
  size_t used = 0;
  while (used < n && c->fd >= 0) {
    if (c->st == ST_WS) return used + ws_consume(c, p + used, n - used);
    http_head h;
    long hl = http_parse_head(p + used, n - used, &h);
    if (hl == 0) break;
    if (hl < 0 || h.chunked || (h.status != 101 && h.content_length < 0)) {
      client_fail(c->cl, "unsupported HTTP response: %.60s", (const char *)p + used);
      break;
    }
    client *cl = c->cl;
    if (c->type == T_WS) {
      char want[64], src[96];
      uint8_t digest[20];
      if (h.status != 101) {
        client_fail(cl, "upgrade refused: HTTP %d", h.status);
        break;
      }
      size_t kl = (size_t)snprintf(src, sizeof src, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", cl->key);
      sha1((const uint8_t *)src, kl, digest);
      size_t wl = base64(want, digest, 20);
      if (h.accept_len != wl || memcmp(h.accept, want, wl) != 0) {
        client_fail(cl, "bad Sec-WebSocket-Accept");
        break;
      }
      used += (size_t)hl;
      c->st = ST_WS;
      continue;
    }
    if ((size_t)hl + (size_t)h.content_length > n - used) break; /* body incomplete */
    const uint8_t *body = p + used + hl;
    used += (size_t)hl + (size_t)h.content_length;
    c->busy = false;
    if (h.status != 200) {
      client_fail(cl, "%s answered HTTP %d: %.*s", c->type == T_GET ? "GET" : "POST", h.status,
                  (int)(h.content_length < 80 ? h.content_length : 80), (const char *)body);
      break;
    }
    polling_body(cl, c, body, (size_t)h.content_length);
    if (h.close && c->fd >= 0) { /* reopened on the next request */
      epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
      conn_close(c);
      return n;
    }
  }
  return used;
}

static void on_readable(conn *c) {
  uint8_t *buf;
  size_t have, cap;
  if (c->in_len) {
    if (c->in_cap < c->in_len + 65536) {
      c->in_cap = c->in_len + 65536;
      c->in = xrealloc(c->in, c->in_cap);
    }
    buf = c->in;
    have = c->in_len;
    cap = c->in_cap;
  } else {
    buf = rbuf;
    have = 0;
    cap = sizeof rbuf;
  }
  ssize_t n = read(c->fd, buf + have, cap - have);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n == 0 && (c->type == T_GET || c->type == T_POST) && !c->busy && !c->out_len) {
      /* an idle keep-alive connection closed by the server: reopened when needed */
      conn_close(c);
      return;
    }
    client_fail(c->cl, n == 0 ? "connection closed by the server" : "read: %s", strerror(errno));
    return;
  }
  have += (size_t)n;
  size_t used = conn_consume(c, buf, have);
  if (c->fd < 0) return; /* closed meanwhile: its buffers are gone */
  size_t left = have - used;
  if (buf == c->in) {
    memmove(c->in, c->in + used, left);
    c->in_len = (uint32_t)left;
    if (!left && c->in_cap > 65536 * 2) {
      free(c->in);
      c->in = NULL;
      c->in_cap = 0;
    }
  } else if (left) {
    if (c->in_cap < left) {
      c->in_cap = (uint32_t)(left < 256 ? 256 : left);
      c->in = xrealloc(c->in, c->in_cap);
    }
    memcpy(c->in, buf + used, left);
    c->in_len = (uint32_t)left;
  }
}

static void on_writable(conn *c) {
  if (c->st == ST_CONNECTING) {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
      client_fail(c->cl, "connect: %s", strerror(err));
      return;
    }
    c->st = ST_HTTP; /* the request (upgrade or polling) is queued */
  }
  conn_flush(c);
}

/* ------------------------------------------------------------------------------------------ */
/* long-polling                                                                                */

static void polling_request(client *cl, conn *c, bool post, const uint8_t *body, size_t len) {
  if (c->fd < 0 && conn_open(c)) {
    client_fail(cl, "connect: %s", strerror(errno));
    return;
  }
  uint8_t *p = out_reserve(c, 512 + len);
  int n;
  if (!cl->sid[0])
    n = snprintf((char *)p, 512, "GET %s?EIO=4&transport=polling HTTP/1.1\r\nHost: %s\r\n\r\n",
                 opt.path, host_hdr);
  else if (!post)
    n = snprintf((char *)p, 512,
                 "GET %s?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: %s\r\n\r\n", opt.path,
                 cl->sid, host_hdr);
  else
    n = snprintf((char *)p, 512,
                 "POST %s?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: %s\r\n"
                 "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: %zu\r\n\r\n",
                 opt.path, cl->sid, host_hdr, len);
  if (len) memcpy(p + n, body, len);
  c->out_len += (uint32_t)n + (uint32_t)len;
  c->busy = true;
  mark_dirty(c);
}

static void polling_get(client *cl) {
  if (cl->st != CL_FAILED && phase != P_DONE) polling_request(cl, &cl->c, false, NULL, 0);
}

/* Sends what is pending in one POST, if none is in flight. */
static void polling_post(client *cl) {
  if (cl->st == CL_FAILED || cl->p.busy || !cl->pend_len) return;
  polling_request(cl, &cl->p, true, cl->pend, cl->pend_len);
  cl->pend_len = 0;
}

static void polling_body(client *cl, conn *c, const uint8_t *body, size_t len) {
  if (c->type == T_POST) {
    if (len != 2 || memcmp(body, "ok", 2) != 0) note_error("POST answered %.*s", (int)len, body);
    polling_post(cl);
    return;
  }
  if (!cl->sid[0]) { /* the handshake: 0{"sid":"...",...} */
    const uint8_t *k = len > 1 && body[0] == '0' ? memmem(body, len, "\"sid\":\"", 7) : NULL;
    const uint8_t *e = k ? memchr(k + 7, '"', len - (size_t)(k + 7 - body)) : NULL;
    if (!e || e - (k + 7) >= (long)sizeof cl->sid) {
      client_fail(cl, "bad handshake: %.60s", (const char *)body);
      return;
    }
    memcpy(cl->sid, k + 7, (size_t)(e - (k + 7)));
    cl->sid[e - (k + 7)] = 0;
    cl->open = true;
    client_send(cl, "40", 2);
    const uint8_t *sep = memchr(body, 0x1e, len); /* anything after the open packet */
    if (!sep) {
      polling_get(cl);
      return;
    }
    len -= (size_t)(sep + 1 - body);
    body = sep + 1;
  }
  /* packets separated by 0x1e; 'b' + base64 would be binary (not used here) */
  const uint8_t *p = body, *end = body + len;
  while (p <= end && cl->st != CL_FAILED) {
    const uint8_t *sep = memchr(p, 0x1e, (size_t)(end - p));
    const uint8_t *stop = sep ? sep : end;
    on_eio(cl, p, (size_t)(stop - p));
    if (!sep) break;
    p = sep + 1;
  }
  polling_get(cl);
}

/* ------------------------------------------------------------------------------------------ */
/* clients                                                                                     */

static void client_send(client *cl, const char *pkt, size_t len) {
  if (cl->st == CL_FAILED) return;
  if (opt.sc != SC_POLLING) {
    ws_frame(&cl->c, 0x1, pkt, len);
    return;
  }
  if (cl->pend_len + len + 1 > cl->pend_cap) {
    cl->pend_cap = (uint32_t)(cl->pend_len + len + 1) * 2;
    cl->pend = xrealloc(cl->pend, cl->pend_cap);
  }
  if (cl->pend_len) cl->pend[cl->pend_len++] = 0x1e;
  memcpy(cl->pend + cl->pend_len, pkt, len);
  cl->pend_len += (uint32_t)len;
  if (!cl->post_wanted) { /* POSTed at the end of this loop turn, with whatever else comes */
    cl->post_wanted = true;
    cl->next_post = post_head;
    post_head = cl;
  }
}

static void client_start(unsigned i) {
  client *cl = &clients[i];
  cl->st = CL_CONNECTING;
  cl->t_start = t_now;
  n_connecting++;
  if (conn_open(&cl->c)) {
    client_fail(cl, "connect: %s", strerror(errno));
    return;
  }
  if (opt.sc == SC_POLLING) polling_request(cl, &cl->c, false, NULL, 0);
  else ws_start(cl);
}

/* ------------------------------------------------------------------------------------------ */
/* the run                                                                                     */

static void start_load(void) {
  issuing = true;
  if (opt.sc == SC_BCAST || opt.sc == SC_ROOM) {
    bcast_issue();
  } else if (opt.sc == SC_ECHO || opt.sc == SC_POLLING) {
    for (unsigned i = 0; i < n_ready; i++) echo_issue(&clients[ready_list[i]]);
  }
}

static unsigned outstanding(void) {
  if (opt.sc == SC_BCAST || opt.sc == SC_ROOM) return bc_inflight;
  unsigned n = 0;
  for (unsigned i = 0; i < opt.clients; i++)
    if (clients[i].st == CL_READY) n += clients[i].inflight;
  return n;
}

static void print_result(const proc_stats *a, const proc_stats *b, double self_cpu,
                         const proc_stats *base, int64_t t_conn0, int64_t t_conn1,
                         const proc_stats *conn_end, uint64_t ops) {
  double win = (double)(b->t - a->t) / 1e9;
  printf("result scenario=%s clients=%u connected=%u failed=%u errors=%u", scenario_names[opt.sc],
         opt.clients, n_ready, n_failed, errors);
  double conn_s = (double)(t_conn1 - t_conn0) / 1e9;
  printf(" connect_s=%.3f connects_per_s=%.0f", conn_s, conn_s > 0 ? n_ready / conn_s : 0);
  if (base->ok && conn_end->ok && n_ready)
    printf(" cpu_us_per_connect=%.1f",
           (conn_end->user_s + conn_end->sys_s - base->user_s - base->sys_s) * 1e6 / n_ready);
  if (opt.sc == SC_CONN) {
    if (base->ok && b->ok && n_ready)
      printf(" rss_base_kb=%ld rss_kb=%ld rss_per_conn_bytes=%.0f", base->rss_kb, b->rss_kb,
             (double)(b->rss_kb - base->rss_kb) * 1024.0 / n_ready);
    printf("\n");
    return;
  }
  const char *unit = opt.sc == SC_BCAST || opt.sc == SC_ROOM ? "deliveries" : "acks";
  printf(" payload=%u inflight=%u", opt.payload, opt.inflight);
  if (opt.sc == SC_ROOM) printf(" rooms=%u", opt.rooms);
  printf(" window_s=%.3f %s=%" PRIu64 " %s_per_s=%.0f", win, unit, ops, unit,
         win > 0 ? ops / win : 0);
  if (opt.sc == SC_BCAST || opt.sc == SC_ROOM) printf(" broadcasts=%" PRIu64, lat.count);
  printf(" lat_p50_us=%.1f lat_p99_us=%.1f lat_p999_us=%.1f lat_max_us=%.1f", hist_q_us(&lat, 0.5),
         hist_q_us(&lat, 0.99), hist_q_us(&lat, 0.999), lat.max / 1000.0);
  if (a->ok && b->ok) {
    double cpu = b->user_s + b->sys_s - a->user_s - a->sys_s;
    printf(" server_cpu_s=%.2f server_cpu_util=%.2f server_sys_share=%.2f cpu_us_per_op=%.2f "
           "rss_kb=%ld",
           cpu, win > 0 ? cpu / win : 0, cpu > 0 ? (b->sys_s - a->sys_s) / cpu : 0,
           ops ? cpu * 1e6 / ops : 0, b->rss_kb);
  }
  printf(" client_cpu_util=%.2f\n", win > 0 ? self_cpu / win : 0);
}

int main(int argc, char **argv) {
  parse_options(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  rng_state ^= (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  getrlimit(RLIMIT_NOFILE, &rl);
  unsigned fds = opt.clients * (opt.sc == SC_POLLING ? 2u : 1u);
  if ((rlim_t)fds + 32 > rl.rlim_cur)
    die("%u connections need more file descriptors than the limit (%lu)", fds,
        (unsigned long)rl.rlim_cur);

  snprintf(host_hdr, sizeof host_hdr, "%s:%d", opt.host, opt.port);
  pad = malloc(opt.payload + 1);
  memset(pad, 'x', opt.payload);
  pad[opt.payload] = 0;
  clients = calloc(opt.clients, sizeof *clients);
  ready_list = calloc(opt.clients, sizeof *ready_list);
  if (!clients || !ready_list || !pad) die("out of memory");
  for (unsigned i = 0; i < opt.clients; i++) {
    client *cl = &clients[i];
    cl->idx = i;
    cl->c = (conn){.fd = -1, .type = opt.sc == SC_POLLING ? T_GET : T_WS, .cl = cl};
    cl->p = (conn){.fd = -1, .type = T_POST, .cl = cl};
    if (opt.sc == SC_ECHO || opt.sc == SC_POLLING) {
      cl->slots = malloc(opt.inflight * sizeof *cl->slots);
      if (!cl->slots) die("out of memory");
      for (unsigned k = 0; k < opt.inflight; k++) cl->slots[k].id = UINT32_MAX;
    }
  }
  if (opt.sc == SC_ROOM) {
    room_size = calloc(opt.rooms, sizeof *room_size);
    for (unsigned i = 0; i < opt.clients; i++) room_size[i % opt.rooms]++;
  }
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1: %s", strerror(errno));

  t_now = now_ns();
  const int64_t t_begin = t_now, t_limit = t_begin + (int64_t)(opt.timeout * 1e9);
  proc_stats base = read_proc(), conn_end = {0}, w0 = {0}, w1 = {0};
  int64_t t_conn1 = 0, t_phase_end = 0;
  uint64_t ops0 = 0, ops1 = 0;
  double self0 = 0, self1 = 0;
  bool timed_out = false;
  if (opt.verbose) fprintf(stderr, "%s: %u clients\n", scenario_names[opt.sc], opt.clients);

  static struct epoll_event evs[4096];
  while (phase != P_DONE) {
    while (phase == P_CONNECT && n_connecting < opt.concurrency && n_started < opt.clients)
      client_start(n_started++);
    flush_all();
    int timeout_ms = 50;
    int n = epoll_wait(epfd, evs, 4096, timeout_ms);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
    t_now = now_ns();
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (c->fd < 0) continue;
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
      if (c->fd >= 0 && (evs[i].events & EPOLLOUT)) on_writable(c);
    }
    for (client *cl = post_head; cl; cl = cl->next_post) { /* one POST with what the turn made */
      cl->post_wanted = false;
      polling_post(cl);
    }
    post_head = NULL;
    flush_all();

    t_now = now_ns();
    if (t_now > t_limit) {
      timed_out = true;
      note_error("timed out in phase %d after %.1f s", (int)phase, opt.timeout);
      break;
    }
    switch (phase) {
    case P_CONNECT:
      if (n_started == opt.clients && !n_connecting) {
        t_conn1 = t_now;
        conn_end = read_proc();
        if (opt.verbose)
          fprintf(stderr, "%u connected, %u failed in %.2f s\n", n_ready, n_failed,
                  (t_conn1 - t_begin) / 1e9);
        if (!n_ready) {
          phase = P_DONE;
        } else if (opt.sc == SC_CONN) {
          phase = P_HOLD;
          t_phase_end = t_now + (int64_t)(opt.hold * 1e9);
        } else if (opt.sc == SC_ROOM) {
          phase = P_SETUP;
          for (unsigned i = 0; i < n_ready; i++) {
            client *cl = &clients[ready_list[i]];
            char buf[64];
            int len = snprintf(buf, sizeof buf, "42%u[\"join\",\"r%u\"]", cl->next_id++,
                               cl->idx % opt.rooms);
            client_send(cl, buf, (size_t)len);
          }
        } else {
          phase = P_WARMUP;
          t_phase_end = t_now + (int64_t)(opt.warmup * 1e9);
          start_load();
        }
      }
      break;
    case P_SETUP:
      if (joined >= n_ready) {
        if (n_failed) {
          /* rooms are counted from --clients: a missing member would stall every broadcast */
          note_error("%u clients missing: room broadcasts cannot complete", n_failed);
          phase = P_DONE;
          break;
        }
        phase = P_WARMUP;
        t_phase_end = t_now + (int64_t)(opt.warmup * 1e9);
        start_load();
      }
      break;
    case P_WARMUP:
      if (t_now >= t_phase_end) {
        phase = P_MEASURE;
        w0 = read_proc();
        self0 = self_cpu_s();
        ops0 = opt.sc == SC_BCAST || opt.sc == SC_ROOM ? deliveries : acks_total;
        t_phase_end = t_now + (int64_t)(opt.duration * 1e9);
      }
      break;
    case P_MEASURE:
      if (t_now >= t_phase_end) {
        w1 = read_proc();
        self1 = self_cpu_s();
        ops1 = opt.sc == SC_BCAST || opt.sc == SC_ROOM ? deliveries : acks_total;
        issuing = false;
        phase = P_DRAIN;
        t_phase_end = t_now + 10 * (int64_t)1000000000;
      }
      break;
    case P_DRAIN:
      if (!outstanding() || t_now >= t_phase_end) {
        if (outstanding()) note_error("%u requests unanswered after the window", outstanding());
        phase = P_DONE;
      }
      break;
    case P_HOLD:
      if (t_now >= t_phase_end) {
        w0 = conn_end;
        w1 = read_proc();
        phase = P_DONE;
      }
      break;
    case P_DONE:
      break;
    }
  }
  phase = P_DONE;
  if (opt.sc == SC_CONN || !w1.t) {
    w0.t = t_conn1 ? t_conn1 : t_now;
    w1.t = t_now;
  }
  if (n_failed) note_error("%u of %u clients failed", n_failed, opt.clients);
  if (first_error[0]) fprintf(stderr, "sio-bench: %u error(s); first: %s\n", errors, first_error);
  print_result(&w0, &w1, self1 - self0, &base, t_begin, t_conn1 ? t_conn1 : t_now, &conn_end,
               ops1 - ops0);
  for (unsigned i = 0; i < opt.clients; i++) {
    conn_close(&clients[i].c);
    conn_close(&clients[i].p);
  }
  bool ok = !timed_out && !errors && n_ready == opt.clients && (opt.sc == SC_CONN || ops1 > ops0);
  return ok ? 0 : 1;
}
