/* sio-server: the ready-to-run server. Parses the configuration, binds the listener, sets up the
 * chosen built-in app, prints a banner and runs the loop until SIGINT/SIGTERM. */
#include <stdio.h>
#include <string.h>

#include "app/apps.h"
#include "net/listener.h"
#include "util/log.h"
#include "util/metrics.h"

static const app apps[] = {
    {"chat", "a rooms chat, its page at /", app_chat_setup, true},
    {"bench", "echo, broadcast and rooms for load tests", app_bench_setup, true},
    {"conformance", "the official protocol test suites' server", app_conformance_setup, true},
};

void app_engine_options(const config *c, sio_engine_options *o) {
  if (c->ping_interval_ms) o->ping_interval_ms = c->ping_interval_ms;
  if (c->ping_timeout_ms) o->ping_timeout_ms = c->ping_timeout_ms;
  if (c->max_payload) o->max_payload = c->max_payload;
  if (c->max_buffered) o->max_buffered = c->max_buffered;
  if (c->transports) o->transports = c->transports;
  if (c->no_upgrades) o->allow_upgrades = false;
  if (c->cors_origins[0]) o->cors_origins = c->cors_origins;
  o->cors_credentials = c->cors_credentials;
}

void app_recovery_options(const config *c, sio_server_options *o) {
  o->recovery.enabled = c->recovery;
  if (c->recovery_timeout_ms) o->recovery.max_disconnection_ms = c->recovery_timeout_ms;
}

/* Operations endpoints, the same for every app. */
static int serve_metrics(void *ctx, sbuf *body, const char **type) {
  metrics_write(body);
  *type = "text/plain; version=0.0.4; charset=utf-8";
  return 200;
}

static int serve_health(void *ctx, sbuf *body, const char **type) {
  sbuf_append_str(body, "ok\n");
  return 200;
}

/* The servers that joined a Redis cluster: /readyz reports their link. */
#define MAX_CLUSTERED 8
static sio_server *clustered[MAX_CLUSTERED];
static size_t n_clustered;

int app_attach_cluster(sio_server *io, const config *c) {
  if (!c->redis_url) return 0;
  if (n_clustered == MAX_CLUSTERED || sio_redis_attach(io, c->redis_url, c->redis_prefix))
    return -1;
  clustered[n_clustered++] = io;
  return 0;
}

/* Ready: accepting connections (not draining), and the Redis link up when there is one. */
static int serve_ready(void *ctx, sbuf *body, const char **type) {
  if (sio_listener_draining(ctx)) {
    sbuf_append_str(body, "draining\n");
    return 503;
  }
  for (size_t i = 0; i < n_clustered; i++) {
    if (sio_redis_status(clustered[i]) == 0) {
      sbuf_append_str(body, "redis link down\n");
      return 503;
    }
  }
  sbuf_append_str(body, "ok\n");
  return 200;
}

int main(int argc, char **argv) {
  config c;
  int r = config_parse(&c, argc, argv);
  if (r) {
    config_free(&c);
    return r > 0 ? 0 : 2;
  }
  if (c.log_level) {
    log_level level;
    if (!log_level_parse(c.log_level, &level)) {
      fprintf(stderr, "sio-server: unknown log level: %s\n", c.log_level);
      return 2;
    }
    log_set_level(level);
  }
  const app *chosen = NULL;
  for (size_t i = 0; i < sizeof apps / sizeof apps[0]; i++)
    if (strcmp(apps[i].name, c.app) == 0) chosen = &apps[i];
  if (!chosen) {
    fprintf(stderr, "sio-server: unknown app: %s\n", c.app);
    return 2;
  }

  sio_listener_options lo;
  sio_listener_options_default(&lo);
  lo.host = c.host;
  lo.port = c.port;
  lo.tls_cert = c.tls_cert;
  lo.tls_key = c.tls_key;
  lo.max_connections = c.max_connections;
  if (c.drain_timeout_set) lo.drain_timeout_ms = c.drain_timeout_ms;
  if (c.http_idle_timeout_ms) lo.http_idle_timeout_ms = c.http_idle_timeout_ms;
  sio_listener *l = sio_listener_new(&lo);
  if (!l) return 1;
  listener_mount_handler(l, "/metrics", serve_metrics, NULL);
  listener_mount_handler(l, "/healthz", serve_health, NULL);
  listener_mount_handler(l, "/readyz", serve_ready, l);
  if (chosen->setup(l, &c) ||
      (chosen->socket_io && app_serve_client(l, &c, c.path ? c.path : "/socket.io/"))) {
    LOG_E("main", "app setup failed app=%s", chosen->name);
    sio_listener_free(l);
    return 1;
  }
  LOG_I("main", "sio-server listening on %s://%s:%d app=%s (%s)",
        c.tls_cert ? "https" : "http", c.host ? c.host : "0.0.0.0", c.port, chosen->name,
        chosen->summary);
  sio_listener_run(l);
  LOG_I("main", "shutting down");
  sio_listener_free(l);
  config_free(&c);
  return 0;
}
