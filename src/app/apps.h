/* The built-in apps of sio-server. Each is written against the public API (include/sio.h) only
 * and attaches what it serves to the listener. */
#ifndef SIO_APP_APPS_H
#define SIO_APP_APPS_H

#include "app/config.h"
#include "sio.h"

typedef struct {
  const char *name;
  const char *summary;
  int (*setup)(sio_listener *l, const config *c);
  bool socket_io;   /* has a Socket.IO server: the client bundle is served beside it */
} app;

int app_chat_setup(sio_listener *l, const config *c);
int app_bench_setup(sio_listener *l, const config *c);
int app_conformance_setup(sio_listener *l, const config *c);

/* Serves the socket.io client bundle at <sio_path>socket.io.js (and .min.js, .min.js.map),
 * or 404s there if there is none (src/app/client_js.c). */
int app_serve_client(sio_listener *l, const config *c, const char *sio_path);

/* Engine.IO options from the flags, over the given defaults. */
void app_engine_options(const config *c, sio_engine_options *o);
/* Connection state recovery from --recovery / --recovery-timeout. */
void app_recovery_options(const config *c, sio_server_options *o);
/* Joins the cluster given by --redis / --redis-prefix, if any (call right after
 * sio_server_attach). Returns 0, or -1. */
int app_attach_cluster(sio_server *io, const config *c);

#endif
