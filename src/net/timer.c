/* One-shot timers for applications (sio_timer_start), on the listener's loop: an lws timer
 * each. The pending ones of a listener are kept in a list so that freeing the listener runs
 * them at once (an application's timer never outlives its loop, and its context is freed). */
#include <libwebsockets.h>
#include <stdlib.h>

#include "net/listener.h"
#include "sio.h"

typedef struct timer_set timer_set;

struct sio_timer {
  lws_sorted_usec_list_t sul;
  timer_set *set;
  sio_timer *prev, *next;
  void (*fn)(void *ctx);
  void *ctx;
};

/* A listener's pending timers. */
struct timer_set {
  sio_listener *listener;
  sio_timer *pending;
  timer_set *next;
};

static timer_set *sets; /* one per listener that has used timers */

static void unlink_timer(sio_timer *t) {
  if (t->prev) t->prev->next = t->next;
  else t->set->pending = t->next;
  if (t->next) t->next->prev = t->prev;
}

static void fire(lws_sorted_usec_list_t *sul) {
  sio_timer *t = lws_container_of(sul, sio_timer, sul);
  unlink_timer(t);
  void (*fn)(void *) = t->fn;
  void *ctx = t->ctx;
  free(t);
  fn(ctx);
}

static void set_free(void *ctx) {
  timer_set *set = ctx;
  while (set->pending) {
    sio_timer *t = set->pending;
    lws_sul_cancel(&t->sul);
    fire(&t->sul);
  }
  for (timer_set **p = &sets; *p; p = &(*p)->next) {
    if (*p == set) {
      *p = set->next;
      break;
    }
  }
  free(set);
}

static timer_set *set_of(sio_listener *l) {
  for (timer_set *s = sets; s; s = s->next)
    if (s->listener == l) return s;
  timer_set *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->listener = l;
  if (listener_on_shutdown(l, set_free, s)) {
    free(s);
    return NULL;
  }
  s->next = sets;
  sets = s;
  return s;
}

sio_timer *sio_timer_start(sio_listener *l, unsigned ms, void (*fn)(void *ctx), void *ctx) {
  timer_set *set = l && fn ? set_of(l) : NULL;
  sio_timer *t = set ? calloc(1, sizeof *t) : NULL;
  if (!t) return NULL;
  t->set = set;
  t->fn = fn;
  t->ctx = ctx;
  t->next = set->pending;
  if (t->next) t->next->prev = t;
  set->pending = t;
  lws_sul_schedule(listener_context(l), 0, &t->sul, fire, (lws_usec_t)ms * 1000);
  return t;
}

void sio_timer_cancel(sio_timer *t) {
  if (!t) return;
  lws_sul_cancel(&t->sul);
  unlink_timer(t);
  free(t);
}
