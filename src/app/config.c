#include "app/config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio.h"

typedef enum {
  O_APP = 'a', O_HOST = 'H', O_PORT = 'p', O_HELP = 'h',
  O_PATH = 256, O_PING_INTERVAL, O_PING_TIMEOUT, O_MAX_PAYLOAD, O_MAX_BUFFERED,
  O_CONNECT_TIMEOUT, O_TRANSPORTS, O_NO_UPGRADES, O_CORS_ORIGIN, O_CORS_CREDENTIALS,
  O_TLS_CERT, O_TLS_KEY, O_MAX_CONNECTIONS, O_DRAIN_TIMEOUT, O_LOG_LEVEL, O_CLIENT_JS,
  O_REDIS, O_REDIS_PREFIX, O_RECOVERY, O_RECOVERY_TIMEOUT, O_HTTP_IDLE_TIMEOUT,
} option_id;

/* One table drives getopt, the environment and --help. */
static const struct {
  option_id id;
  const char *flag;
  const char *env;
  const char *arg;
  const char *help;
} options[] = {
    {O_APP, "app", "SIO_APP", "NAME", "built-in app: chat (default), conformance, bench"},
    {O_HOST, "host", "SIO_HOST", "ADDR", "interface to listen on (default: all)"},
    {O_PORT, "port", "SIO_PORT", "N", "port (default 3000)"},
    {O_PATH, "path", "SIO_PATH", "PATH", "Socket.IO path (default /socket.io/)"},
    {O_PING_INTERVAL, "ping-interval", "SIO_PING_INTERVAL", "MS", "heartbeat interval (25000)"},
    {O_PING_TIMEOUT, "ping-timeout", "SIO_PING_TIMEOUT", "MS", "pong wait (20000)"},
    {O_MAX_PAYLOAD, "max-payload", "SIO_MAX_PAYLOAD", "BYTES", "maxHttpBufferSize (1000000)"},
    {O_MAX_BUFFERED, "max-buffered", "SIO_MAX_BUFFERED", "BYTES",
     "bytes queued per client before it is cut off (16777216)"},
    {O_CONNECT_TIMEOUT, "connect-timeout", "SIO_CONNECT_TIMEOUT", "MS",
     "time to join a namespace (45000)"},
    {O_TRANSPORTS, "transports", "SIO_TRANSPORTS", "LIST", "polling,websocket (default both)"},
    {O_NO_UPGRADES, "no-upgrades", "SIO_NO_UPGRADES", NULL, "disable polling->websocket upgrade"},
    {O_CORS_ORIGIN, "cors-origin", "SIO_CORS_ORIGIN", "ORIGIN",
     "allowed CORS origin, repeatable (env: comma-separated); * for any"},
    {O_CORS_CREDENTIALS, "cors-credentials", "SIO_CORS_CREDENTIALS", NULL,
     "send Access-Control-Allow-Credentials: true"},
    {O_TLS_CERT, "tls-cert", "SIO_TLS_CERT", "FILE", "PEM certificate: serve https/wss"},
    {O_TLS_KEY, "tls-key", "SIO_TLS_KEY", "FILE", "PEM private key"},
    {O_MAX_CONNECTIONS, "max-connections", "SIO_MAX_CONNECTIONS", "N",
     "connections accepted at once (default: fd limit - 64)"},
    {O_DRAIN_TIMEOUT, "drain-timeout", "SIO_DRAIN_TIMEOUT", "MS",
     "on SIGTERM, how long sessions get to flush and close (5000)"},
    {O_HTTP_IDLE_TIMEOUT, "http-idle-timeout", "SIO_HTTP_IDLE_TIMEOUT", "MS",
     "how long a keep-alive HTTP connection may wait between requests (30000)"},
    {O_LOG_LEVEL, "log-level", "SIO_LOG_LEVEL", "LEVEL", "error, warn, info (default), debug"},
    {O_CLIENT_JS, "client-js", "SIO_CLIENT_JS", "FILE", "socket.io client bundle to serve"},
    {O_REDIS, "redis", "SIO_REDIS_URL", "URL",
     "join a cluster through Redis: redis://[[user:]password@]host[:port][/db]"},
    {O_REDIS_PREFIX, "redis-prefix", "SIO_REDIS_PREFIX", "PREFIX",
     "the cluster's Redis channel prefix (socket.io)"},
    {O_RECOVERY, "recovery", "SIO_RECOVERY", NULL,
     "connection state recovery: reconnecting clients get their id, rooms, data and missed "
     "packets back"},
    {O_RECOVERY_TIMEOUT, "recovery-timeout", "SIO_RECOVERY_TIMEOUT", "MS",
     "how long a disconnected session can be recovered (120000)"},
    {O_HELP, "help", NULL, NULL, "this help"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

static void usage(FILE *out) {
  fprintf(out, "usage: sio-server [options]\n\nOptions (and environment variables):\n");
  for (size_t i = 0; i < N_OPTIONS; i++) {
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", options[i].flag, options[i].arg ? " " : "",
             options[i].arg ? options[i].arg : "");
    fprintf(out, "  %-28s %s%s%s%s\n", left, options[i].help, options[i].env ? " [" : "",
            options[i].env ? options[i].env : "", options[i].env ? "]" : "");
  }
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out) {
  char *end;
  if (!s || !*s || *s == '-') return false;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || v > max) return false;
  *out = v;
  return true;
}

/* Flag values live in argv for the whole run; an environment list is split in a copy that the
 * config owns. */
static int add_origins(config *c, const char *list, bool split) {
  size_t n = 0;
  while (c->cors_origins[n]) n++;
  if (!split) {
    if (n >= CONFIG_MAX_ORIGINS) return -1;
    c->cors_origins[n] = list;
    return 0;
  }
  free(c->owned);
  c->owned = strdup(list);
  if (!c->owned) return -1;
  for (char *save = NULL, *tok = strtok_r(c->owned, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    if (n >= CONFIG_MAX_ORIGINS) return -1;
    c->cors_origins[n++] = tok;
  }
  return 0;
}

void config_free(config *c) {
  free(c->owned);
  c->owned = NULL;
}

static int apply(config *c, option_id id, const char *v, bool from_env) {
  unsigned long long n;
  switch (id) {
  case O_APP: c->app = v; return 0;
  case O_HOST: c->host = v; return 0;
  case O_PORT:
    if (!parse_uint(v, 65535, &n)) return -1;
    c->port = (int)n;
    return 0;
  case O_PATH:
    if (v[0] != '/') return -1;
    c->path = v;
    return 0;
  case O_PING_INTERVAL:
  case O_PING_TIMEOUT:
  case O_CONNECT_TIMEOUT:
    if (!parse_uint(v, 3600000, &n) || n == 0) return -1;
    *(id == O_PING_INTERVAL  ? &c->ping_interval_ms
      : id == O_PING_TIMEOUT ? &c->ping_timeout_ms
                             : &c->connect_timeout_ms) = (unsigned)n;
    return 0;
  case O_MAX_PAYLOAD:
  case O_MAX_BUFFERED:
    if (!parse_uint(v, 1ULL << 32, &n) || n == 0) return -1;
    *(id == O_MAX_PAYLOAD ? &c->max_payload : &c->max_buffered) = (size_t)n;
    return 0;
  case O_RECOVERY_TIMEOUT:
  case O_HTTP_IDLE_TIMEOUT:
    if (!parse_uint(v, 86400000, &n) || n == 0) return -1;
    *(id == O_RECOVERY_TIMEOUT ? &c->recovery_timeout_ms : &c->http_idle_timeout_ms) =
        (unsigned)n;
    return 0;
  case O_DRAIN_TIMEOUT:
    if (!parse_uint(v, 3600000, &n)) return -1;
    c->drain_timeout_ms = (unsigned)n;
    c->drain_timeout_set = true;
    return 0;
  case O_MAX_CONNECTIONS:
    if (!parse_uint(v, 1000000, &n)) return -1;
    c->max_connections = (unsigned)n;
    return 0;
  case O_TRANSPORTS: {
    unsigned mask = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      if (strcmp(t, "polling") == 0) mask |= SIO_TRANSPORT_POLLING;
      else if (strcmp(t, "websocket") == 0) mask |= SIO_TRANSPORT_WEBSOCKET;
      else return -1;
    }
    if (!mask) return -1;
    c->transports = mask;
    return 0;
  }
  case O_NO_UPGRADES: c->no_upgrades = !from_env || strcmp(v, "0") != 0; return 0;
  case O_RECOVERY: c->recovery = !from_env || strcmp(v, "0") != 0; return 0;
  case O_CORS_CREDENTIALS: c->cors_credentials = !from_env || strcmp(v, "0") != 0; return 0;
  case O_CORS_ORIGIN: return add_origins(c, v, from_env);
  case O_TLS_CERT: c->tls_cert = v; return 0;
  case O_TLS_KEY: c->tls_key = v; return 0;
  case O_LOG_LEVEL: c->log_level = v; return 0;
  case O_CLIENT_JS: c->client_js = v; return 0;
  case O_REDIS: c->redis_url = v; return 0;
  case O_REDIS_PREFIX:
    if (!*v) return -1;
    c->redis_prefix = v;
    return 0;
  case O_HELP: return 0;
  }
  return -1;
}

int config_parse(config *c, int argc, char **argv) {
  memset(c, 0, sizeof *c);
  for (size_t i = 0; i < N_OPTIONS; i++) {
    const char *v = options[i].env ? getenv(options[i].env) : NULL;
    if (v && *v && apply(c, options[i].id, v, true)) {
      fprintf(stderr, "sio-server: invalid %s=%s\n", options[i].env, v);
      return -1;
    }
  }
  /* Flags replace environment origins rather than adding to them. */
  bool origins_from_flags = false;
  struct option longopts[N_OPTIONS + 1];
  for (size_t i = 0; i < N_OPTIONS; i++)
    longopts[i] = (struct option){options[i].flag, options[i].arg ? required_argument : no_argument,
                                  NULL, options[i].id};
  longopts[N_OPTIONS] = (struct option){0};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "a:H:p:h", longopts, NULL)) != -1) {
    if (opt == '?') {
      usage(stderr);
      return -1;
    }
    if (opt == O_HELP) {
      usage(stdout);
      return 1;
    }
    if (opt == O_CORS_ORIGIN && !origins_from_flags) {
      origins_from_flags = true;
      memset(c->cors_origins, 0, sizeof c->cors_origins);
    }
    if (apply(c, (option_id)opt, optarg ? optarg : "1", false)) {
      fprintf(stderr, "sio-server: invalid value for --%s: %s\n",
              longopts[0].name ? argv[optind - 1] : "", optarg ? optarg : "");
      return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "sio-server: unexpected argument: %s\n", argv[optind]);
    return -1;
  }
  if (!c->app) c->app = "chat";
  if (!c->port) c->port = 3000;
  return 0;
}
