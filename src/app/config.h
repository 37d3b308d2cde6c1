/* The server binary's configuration: command-line flags and SIO_* environment variables
 * (flags win). Zero/NULL means "not given": each app applies its own defaults. */
#ifndef SIO_APP_CONFIG_H
#define SIO_APP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_MAX_ORIGINS 16

typedef struct {
  const char *app;              /* chat (default), conformance, bench */
  const char *host;
  int port;
  const char *path;             /* Socket.IO path, "/socket.io/" */
  unsigned ping_interval_ms;
  unsigned ping_timeout_ms;
  size_t max_payload;
  size_t max_buffered;
  unsigned connect_timeout_ms;
  unsigned transports;          /* SIO_TRANSPORT_* mask; 0: both */
  bool no_upgrades;
  const char *cors_origins[CONFIG_MAX_ORIGINS + 1];
  bool cors_credentials;
  const char *tls_cert;
  const char *tls_key;
  unsigned max_connections;
  unsigned drain_timeout_ms;
  unsigned http_idle_timeout_ms;
  bool drain_timeout_set;       /* 0 is a valid drain time: stop at once */
  const char *log_level;
  const char *client_js;        /* path of socket.io.min.js to serve; NULL: search */
  const char *redis_url;        /* scale-out through Redis; NULL: none */
  const char *redis_prefix;     /* its channel prefix; NULL: "socket.io" */
  bool recovery;                /* connection state recovery (not in the conformance app) */
  unsigned recovery_timeout_ms; /* maxDisconnectionDuration; 0: 120000 */
  char *owned;                  /* storage behind values split from the environment */
} config;

/* Fills `c` from the environment then argv. Returns 0, 1 after printing help, -1 on error. */
int config_parse(config *c, int argc, char **argv);
void config_free(config *c);

#endif
