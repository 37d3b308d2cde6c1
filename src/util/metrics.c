#include "util/metrics.h"

#include <stdlib.h>

metrics_counters metrics;

typedef struct {
  metrics_collector fn;
  void *ctx;
} collector;

static collector *collectors;
static size_t collector_count;

int metrics_add_collector(metrics_collector fn, void *ctx) {
  collector *c = realloc(collectors, (collector_count + 1) * sizeof *c);
  if (!c) return -1;
  collectors = c;
  collectors[collector_count++] = (collector){fn, ctx};
  return 0;
}

void metrics_remove_collector(metrics_collector fn, void *ctx) {
  for (size_t i = 0; i < collector_count; i++) {
    if (collectors[i].fn == fn && collectors[i].ctx == ctx) {
      collectors[i] = collectors[--collector_count];
      break;
    }
  }
  if (!collector_count) {
    free(collectors);
    collectors = NULL;
  }
}

static void counter(sbuf *out, const char *name, const char *help, uint64_t v) {
  sbuf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
              (unsigned long long)v);
}

void metrics_write_gauge(sbuf *out, const char *name, const char *help, const char *labels,
                         double value) {
  if (help) sbuf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
  sbuf_printf(out, "%s%s%s%s %.17g\n", name, labels ? "{" : "", labels ? labels : "",
              labels ? "}" : "", value);
}

void metrics_write(sbuf *out) {
  const metrics_counters *m = &metrics;
  counter(out, "sio_eio_sessions_opened_total", "Engine.IO sessions opened", m->eio_sessions_opened);
  counter(out, "sio_eio_sessions_closed_total", "Engine.IO sessions closed", m->eio_sessions_closed);
  counter(out, "sio_eio_packets_in_total", "Engine.IO packets received", m->eio_packets_in);
  counter(out, "sio_eio_packets_out_total", "Engine.IO packets queued for sending", m->eio_packets_out);
  counter(out, "sio_eio_bytes_in_total", "Engine.IO payload bytes received", m->eio_bytes_in);
  counter(out, "sio_eio_bytes_out_total", "Engine.IO payload bytes queued for sending", m->eio_bytes_out);
  counter(out, "sio_eio_upgrades_total", "polling sessions upgraded to WebSocket", m->eio_upgrades);
  counter(out, "sio_eio_parse_errors_total", "sessions closed for malformed input", m->eio_parse_errors);
  counter(out, "sio_slow_consumer_disconnects_total",
          "clients cut off for exceeding the buffered-bytes limit", m->eio_slow_consumer_disconnects);
  counter(out, "sio_http_requests_total", "HTTP requests", m->http_requests);
  counter(out, "sio_connections_refused_total", "connections refused at the limit", m->connections_refused);
  counter(out, "sio_broadcasts_total", "Socket.IO broadcasts", m->sio_broadcasts);
  counter(out, "sio_volatile_dropped_total", "volatile packets dropped", m->sio_volatile_dropped);
  counter(out, "sio_recovery_sessions_kept_total",
          "disconnected sessions kept for connection state recovery", m->sio_recovery_sessions_kept);
  counter(out, "sio_recovery_restored_total", "sessions recovered", m->sio_recovery_restored);
  counter(out, "sio_recovery_replayed_total", "missed packets replayed on recovery",
          m->sio_recovery_replayed);
  counter(out, "sio_redis_messages_in_total", "messages received from Redis", m->redis_messages_in);
  counter(out, "sio_redis_messages_out_total", "messages published to Redis", m->redis_messages_out);
  counter(out, "sio_redis_messages_dropped_total", "malformed messages from Redis dropped",
          m->redis_messages_dropped);
  metrics_write_gauge(out, "sio_acks_pending", "acknowledgements awaited", NULL, (double)m->sio_acks_pending);
  metrics_write_gauge(out, "sio_event_loop_lag_seconds", "last measured event-loop lag", NULL,
                      (double)m->loop_lag_us / 1e6);
  for (size_t i = 0; i < collector_count; i++) collectors[i].fn(collectors[i].ctx, out);
}
