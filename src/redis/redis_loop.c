#include "redis/redis_loop.h"

#include <stdlib.h>

#include "net/listener.h"

typedef struct {
  redisAsyncContext *ac;
  listener_watch *watch;
} glue;

/* hiredis may free the context (and through cleanup this glue) inside these calls: nothing is
 * touched after them. */
static void on_readable(void *ctx) { redisAsyncHandleRead(((glue *)ctx)->ac); }
static void on_writable(void *ctx) { redisAsyncHandleWrite(((glue *)ctx)->ac); }

static const listener_watch_ops watch_ops = {on_readable, on_writable};

/* The loop always watches for reading (a Redis connection is never idle on purpose), so the
 * read hooks have nothing to do; writes are one-shot requests. */
static void add_read(void *p) { (void)p; }
static void del_read(void *p) { (void)p; }
static void add_write(void *p) { listener_watch_want_write(((glue *)p)->watch); }
static void del_write(void *p) { (void)p; }

static void cleanup(void *p) {
  glue *g = p;
  g->ac->ev.data = NULL;
  listener_watch_close(g->watch);
  free(g);
}

int redis_loop_attach(redisAsyncContext *ac, sio_listener *l) {
  if (ac->ev.data) return -1;
  glue *g = calloc(1, sizeof *g);
  if (!g) return -1;
  g->ac = ac;
  g->watch = listener_watch_fd(l, ac->c.fd, &watch_ops, g);
  if (!g->watch) {
    free(g);
    return -1;
  }
  ac->ev.data = g;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  return 0;
}
