/* The Socket.IO server: an Engine.IO endpoint at the Socket.IO path whose sessions become
 * clients (client.c), the namespaces by name, and the shutdown that io.close() performs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/listener.h"
#include "sio/sio_internal.h"
#include "util/log.h"
#include "util/metrics.h"

void sio_server_options_default(sio_server_options *o) {
  memset(o, 0, sizeof *o);
  sio_engine_options_default(&o->engine);
  o->engine.path = "/socket.io/";
  o->connect_timeout_ms = 45000;
  o->max_attachments = sio_codec_default_limits.max_attachments;
  o->max_depth = sio_codec_default_limits.max_depth;
}

/* Gauges computed at scrape time. */
static void collect(void *ctx, sbuf *out) {
  sio_server *srv = ctx;
  char labels[320];
  bool first = true;
  size_t pos = 0;
  void *v;
  while (strmap_next(&srv->nsps, &pos, NULL, &v)) {
    sio_namespace *nsp = v;
    snprintf(labels, sizeof labels, "path=\"%s\",nsp=\"%.200s\"", srv->path, nsp->name);
    metrics_write_gauge(out, "sio_sockets", first ? "connected Socket.IO sockets" : NULL, labels,
                        (double)nsp->sockets.count);
    first = false;
  }
  pos = 0;
  first = true;
  while (strmap_next(&srv->nsps, &pos, NULL, &v)) {
    sio_namespace *nsp = v;
    snprintf(labels, sizeof labels, "path=\"%s\",nsp=\"%.200s\"", srv->path, nsp->name);
    metrics_write_gauge(out, "sio_rooms", first ? "rooms, including each socket's own" : NULL,
                        labels, (double)adapter_room_count(&nsp->adapter));
    first = false;
  }
  if (!srv->recovery) return;
  pos = 0;
  first = true;
  while (strmap_next(&srv->nsps, &pos, NULL, &v)) {
    sio_namespace *nsp = v;
    snprintf(labels, sizeof labels, "path=\"%s\",nsp=\"%.200s\"", srv->path, nsp->name);
    metrics_write_gauge(out, "sio_recovery_log_bytes",
                        first ? "packets kept for connection state recovery, bytes" : NULL, labels,
                        (double)recovery_log_bytes(nsp));
    first = false;
  }
  size_t sessions, bytes;
  recovery_stats(srv, &sessions, &bytes);
  snprintf(labels, sizeof labels, "path=\"%s\"", srv->path);
  metrics_write_gauge(out, "sio_recovery_sessions", "disconnected sessions kept for recovery",
                      labels, (double)sessions);
  metrics_write_gauge(out, "sio_recovery_session_bytes", "memory of those sessions, bytes",
                      labels, (double)bytes);
}

/* Every socket of the namespace leaves: held in an array first, since leaving changes the
 * table (and handlers may do anything). */
static void close_all(sio_namespace *nsp) {
  size_t n = nsp->sockets.count, i = 0, pos = 0;
  sio_socket **all = n ? malloc(n * sizeof *all) : NULL;
  void *v;
  while (all && i < n && strmap_next(&nsp->sockets, &pos, NULL, &v)) all[i++] = sio_socket_ref(v);
  for (size_t k = 0; k < i; k++) {
    socket_close(all[k], "server shutting down");
    socket_release(all[k]);
  }
  free(all);
}

/* io.close() when the listener goes: every socket leaves ("server shutting down"), then every
 * session; the Engine.IO server is stopped afterwards by the listener and finds none left. */
static void server_shutdown(void *ctx) {
  sio_server *srv = ctx;
  srv->closing = true;
  /* The cluster goes first: from here everything is local (the disconnections below are not
   * published), and what waited on other servers ends now. */
  if (srv->cluster) {
    const adapter_cluster_ops *cl = srv->cluster;
    srv->cluster = NULL;
    cl->detach(srv->cluster_ctx);
    srv->cluster_ctx = NULL;
  }
  size_t pos = 0, n = srv->nsps.count, i = 0;
  void *v;
  sio_namespace **nsps = malloc(n * sizeof *nsps); /* handlers might create namespaces */
  while (nsps && i < n && strmap_next(&srv->nsps, &pos, NULL, &v)) nsps[i++] = v;
  for (size_t k = 0; k < i; k++) close_all(nsps[k]);
  free(nsps);
  eio_server_close_all(srv->eio, "server shutting down");
  ack_server_shutdown(srv);
  recovery_server_free(srv);
  fifo_timer_destroy(&srv->connect_wait);
  metrics_remove_collector(collect, srv);
  pos = 0;
  while (strmap_next(&srv->nsps, &pos, NULL, &v)) namespace_free(v);
  strmap_free(&srv->nsps);
  while (srv->parents) {
    sio_namespace *p = srv->parents;
    srv->parents = p->next_parent;
    namespace_free(p);
  }
  sbuf_free(&srv->scratch);
  json_decref(srv->empty_auth);
  free(srv->path);
  free(srv);
}

sio_server *sio_server_attach(sio_listener *l, const sio_server_options *o) {
  sio_server_options defaults;
  if (!o) {
    sio_server_options_default(&defaults);
    o = &defaults;
  }
  sio_server *srv = calloc(1, sizeof *srv);
  if (!srv) return NULL;
  srv->listener = l;
  srv->context = listener_context(l);
  srv->opts = *o;
  /* The Engine.IO endpoint wants "/path/": "/socket.io" is accepted as the reference does. */
  const char *path = o->engine.path ? o->engine.path : "/socket.io/";
  size_t plen = strlen(path);
  if ((srv->path = malloc(plen + 2))) {
    memcpy(srv->path, path, plen + 1);
    if (!plen || path[plen - 1] != '/') strcpy(srv->path + plen, "/");
  }
  srv->opts.engine.path = srv->path;
  srv->limits = sio_codec_default_limits;
  if (o->max_attachments) srv->limits.max_attachments = o->max_attachments;
  if (o->max_depth) srv->limits.max_depth = o->max_depth;
  strmap_init(&srv->nsps);
  sbuf_init(&srv->scratch, 0);
  srv->empty_auth = json_object();
  unsigned timeout = o->connect_timeout_ms ? o->connect_timeout_ms : 45000;
  fifo_timer_init(&srv->connect_wait, srv->context, (int64_t)timeout * 1000,
                  client_connect_timeout, srv);
  static const sio_engine_handlers handlers = {
      .on_open = client_on_open,
      .on_message = client_on_message,
      .on_close = client_on_close,
  };
  if (!srv->path || !srv->empty_auth ||
      (o->recovery.enabled && recovery_server_init(srv)) || !sio_of(srv, "/") ||
      !(srv->eio = sio_engine_attach(l, &srv->opts.engine, &handlers, srv)) ||
      listener_on_shutdown(l, server_shutdown, srv)) {
    /* Attached but not registered for shutdown: the engine keeps a pointer to us, so the
     * memory stays (a failure at start-up, before any session). */
    if (srv->eio) return NULL;
    size_t pos = 0;
    void *v;
    while (strmap_next(&srv->nsps, &pos, NULL, &v)) namespace_free(v);
    strmap_free(&srv->nsps);
    recovery_server_free(srv);
    json_decref(srv->empty_auth);
    free(srv->path);
    free(srv);
    LOG_E("sio", "cannot attach the Socket.IO server");
    return NULL;
  }
  metrics_add_collector(collect, srv);
  LOG_D("sio", "Socket.IO server attached path=%s", srv->path);
  return srv;
}

sio_engine *sio_server_engine(sio_server *srv) { return srv->eio; }
