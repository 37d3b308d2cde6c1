#include "net/fifo_timer.h"

#include <stddef.h>
#include <time.h>

int64_t fifo_timer_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void reschedule(fifo_timer *q);

static void on_sul(lws_sorted_usec_list_t *sul) {
  fifo_timer *q = lws_container_of(sul, fifo_timer, sul);
  int64_t now = fifo_timer_now_us();
  /* Bounded by the entries that were due when we started: re-armed ones go to the tail with a
   * deadline in the future and stop the loop. */
  while (q->head && q->head->deadline_us <= now) {
    fifo_timer_entry *e = q->head;
    fifo_timer_disarm(e);
    q->expired(q, e);
  }
  reschedule(q);
}

static void reschedule(fifo_timer *q) {
  if (!q->head) {
    lws_sul_cancel(&q->sul);
    return;
  }
  int64_t wait = q->head->deadline_us - fifo_timer_now_us();
  if (wait < 1) wait = 1;
  lws_sul_schedule(q->context, 0, &q->sul, on_sul, wait);
}

void fifo_timer_init(fifo_timer *q, struct lws_context *context, int64_t delay_us,
                     void (*expired)(fifo_timer *, fifo_timer_entry *), void *user) {
  *q = (fifo_timer){.delay_us = delay_us, .context = context, .expired = expired, .user = user};
}

void fifo_timer_destroy(fifo_timer *q) {
  lws_sul_cancel(&q->sul);
  while (q->head) fifo_timer_disarm(q->head);
}

void fifo_timer_disarm(fifo_timer_entry *e) {
  fifo_timer *q = e->queue;
  if (!q) return;
  bool was_head = q->head == e;
  if (e->prev) e->prev->next = e->next; else q->head = e->next;
  if (e->next) e->next->prev = e->prev; else q->tail = e->prev;
  e->prev = e->next = NULL;
  e->queue = NULL;
  /* Leaving the lws timer armed for a later head is harmless (it re-checks), but an empty queue
   * should not wake the loop. */
  if (was_head && !q->head) lws_sul_cancel(&q->sul);
}

void fifo_timer_arm(fifo_timer *q, fifo_timer_entry *e) {
  fifo_timer_disarm(e);
  e->deadline_us = fifo_timer_now_us() + q->delay_us;
  e->queue = q;
  e->next = NULL;
  e->prev = q->tail;
  if (q->tail) q->tail->next = e; else q->head = e;
  q->tail = e;
  if (q->head == e) reschedule(q);
}

bool fifo_timer_overdue(const fifo_timer_entry *e) {
  return e->queue && e->deadline_us <= fifo_timer_now_us();
}
