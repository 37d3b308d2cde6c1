/* Fixed-delay timers in O(1): when every timer of a kind has the same delay (ping interval, ping
 * timeout, connect timeout), deadlines are armed in increasing order, so a FIFO list *is* the
 * sorted order. One libwebsockets timer (lws_sul) is armed for the head only; arming, re-arming
 * and cancelling an entry are list operations. Expiry is exact to the loop's resolution, unlike
 * a coarse shared tick. */
#ifndef SIO_NET_FIFO_TIMER_H
#define SIO_NET_FIFO_TIMER_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct fifo_timer_entry {
  struct fifo_timer_entry *prev, *next;
  int64_t deadline_us;
  struct fifo_timer *queue; /* the queue it is armed in, or NULL */
} fifo_timer_entry;

typedef struct fifo_timer {
  fifo_timer_entry *head, *tail;
  int64_t delay_us;
  struct lws_context *context;
  lws_sorted_usec_list_t sul;
  /* Called for each expired entry, after it has been disarmed; it may re-arm it anywhere. */
  void (*expired)(struct fifo_timer *q, fifo_timer_entry *e);
  void *user;
} fifo_timer;

void fifo_timer_init(fifo_timer *q, struct lws_context *context, int64_t delay_us,
                     void (*expired)(fifo_timer *, fifo_timer_entry *), void *user);
/* Cancels the lws timer; entries still armed are simply forgotten. */
void fifo_timer_destroy(fifo_timer *q);

/* Arms `e` to expire `delay_us` from now (disarming it first, from whichever queue). */
void fifo_timer_arm(fifo_timer *q, fifo_timer_entry *e);
void fifo_timer_disarm(fifo_timer_entry *e);
static inline bool fifo_timer_armed(const fifo_timer_entry *e) { return e->queue != NULL; }
/* True if `e` is armed and its deadline has passed (a request may arrive before the timer fires). */
bool fifo_timer_overdue(const fifo_timer_entry *e);

int64_t fifo_timer_now_us(void);

#endif
