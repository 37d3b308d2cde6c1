/* Sessions for connection state recovery, in Redis: one key per session,
 * "<prefix>#recovery#<pid>", holding the JSON that src/sio/recovery.c gives (sid, nsp, rooms,
 * data, from) with an expiry of the longest recoverable disconnection. A server writes the key
 * when a socket connects, when its rooms or data change, again twice per expiry period while it
 * stays connected, and a last time when it leaves: so a server that is killed leaves sessions
 * that the others can still recover. The server the client comes back to reads and deletes
 * the key (GET then DEL on one link: nobody recovers a session twice). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis/redis_recovery.h"
#include "sio/sio_internal.h"
#include "util/log.h"

#define MAX_SESSION_BYTES (1u << 20)

struct redis_recovery {
  sio_server *srv;
  redis_adapter *adapter;
  char *prefix;
};

typedef struct {
  void (*done)(void *arg, json_t *session);
  void *arg;
} lookup;

static int key_of(const redis_recovery *rr, const char *pid, char *out, size_t cap) {
  int n = snprintf(out, cap, "%s#recovery#%s", rr->prefix, pid);
  return n > 0 && (size_t)n < cap ? n : -1;
}

static void save(void *ctx, const char *pid, json_t *session, unsigned ttl_ms) {
  redis_recovery *rr = ctx;
  char key[512], ttl[24];
  int klen = key_of(rr, pid, key, sizeof key);
  if (klen < 0) return;
  if (!session) {
    const char *argv[] = {"DEL", key};
    size_t lens[] = {3, (size_t)klen};
    redis_adapter_send(rr->adapter, NULL, NULL, 2, argv, lens);
    return;
  }
  char *text = json_dumps(session, JSON_COMPACT);
  if (!text) return;
  int tlen = snprintf(ttl, sizeof ttl, "%u", ttl_ms ? ttl_ms : 1);
  const char *argv[] = {"SET", key, text, "PX", ttl};
  size_t lens[] = {3, (size_t)klen, strlen(text), 2, (size_t)tlen};
  if (lens[2] <= MAX_SESSION_BYTES) redis_adapter_send(rr->adapter, NULL, NULL, 5, argv, lens);
  free(text);
}

/* The GET's reply (NULL when the link went or the adapter was freed). */
static void on_get(redisAsyncContext *ac, void *reply, void *priv) {
  lookup *l = priv;
  const redisReply *rep = reply;
  json_t *session = NULL;
  if (rep && rep->type == REDIS_REPLY_STRING && rep->len <= MAX_SESSION_BYTES) {
    session = json_loadb(rep->str, rep->len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(session)) {
      LOG_D("redis", "recovery: a malformed session was ignored");
      json_decref(session);
      session = NULL;
    }
  }
  LOG_D("redis", "recovery: session %s", session ? "found" : "not found");
  l->done(l->arg, session);
  json_decref(session);
  free(l);
}

static void take(void *ctx, const char *pid, void (*done)(void *arg, json_t *session),
                 void *arg) {
  redis_recovery *rr = ctx;
  char key[512];
  int klen = key_of(rr, pid, key, sizeof key);
  lookup *l = klen < 0 ? NULL : malloc(sizeof *l);
  if (!l) {
    done(arg, NULL);
    return;
  }
  *l = (lookup){done, arg};
  LOG_D("redis", "recovery: looking up session pid=%s", pid);
  const char *get[] = {"GET", key}, *del[] = {"DEL", key};
  size_t glen[] = {3, (size_t)klen}, dlen[] = {3, (size_t)klen};
  if (!redis_adapter_send(rr->adapter, on_get, l, 2, get, glen)) {
    free(l);
    done(arg, NULL); /* Redis is away: a new session, as for an unknown pid */
    return;
  }
  redis_adapter_send(rr->adapter, NULL, NULL, 2, del, dlen);
}

static const recovery_cluster_ops ops = {.save = save, .take = take};

redis_recovery *redis_recovery_attach(sio_server *srv, redis_adapter *r, const char *prefix) {
  redis_recovery *rr = calloc(1, sizeof *rr);
  if (!rr || !(rr->prefix = strdup(prefix))) {
    free(rr);
    return NULL;
  }
  rr->srv = srv;
  rr->adapter = r;
  recovery_cluster_attach(srv, &ops, rr);
  return rr;
}

void redis_recovery_free(redis_recovery *rr) {
  if (!rr) return;
  recovery_cluster_detach(rr->srv);
  free(rr->prefix);
  free(rr);
}
