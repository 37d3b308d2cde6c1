/* Process-wide counters for Prometheus (/metrics). Like the log level, metrics are one piece of
 * process state: the layers bump plain integers (the loop is single-threaded), and collectors
 * registered by each layer add the gauges they can compute at scrape time (sessions per
 * transport, sockets per namespace, rooms, ...). */
#ifndef SIO_UTIL_METRICS_H
#define SIO_UTIL_METRICS_H

#include <stdint.h>

#include "util/sbuf.h"

typedef struct {
  uint64_t eio_sessions_opened;
  uint64_t eio_sessions_closed;
  uint64_t eio_packets_in;
  uint64_t eio_packets_out;
  uint64_t eio_bytes_in;
  uint64_t eio_bytes_out;
  uint64_t eio_upgrades;
  uint64_t eio_parse_errors;
  uint64_t eio_slow_consumer_disconnects;
  uint64_t http_requests;
  uint64_t connections_refused;
  uint64_t sio_broadcasts;
  uint64_t sio_volatile_dropped;
  uint64_t sio_acks_pending;
  uint64_t sio_recovery_sessions_kept;
  uint64_t sio_recovery_restored;
  uint64_t sio_recovery_replayed;
  uint64_t redis_messages_in;
  uint64_t redis_messages_out;
  uint64_t redis_messages_dropped;
  int64_t loop_lag_us;          /* the last measured event-loop lag */
} metrics_counters;

extern metrics_counters metrics;

/* A collector appends Prometheus text (with # HELP / # TYPE lines) for its gauges. */
typedef void (*metrics_collector)(void *ctx, sbuf *out);
int metrics_add_collector(metrics_collector fn, void *ctx);
void metrics_remove_collector(metrics_collector fn, void *ctx);

/* Writes every counter and every collector's output in Prometheus text format 0.0.4. */
void metrics_write(sbuf *out);

/* Helpers for collectors. */
void metrics_write_gauge(sbuf *out, const char *name, const char *help, const char *labels,
                         double value);

#endif
