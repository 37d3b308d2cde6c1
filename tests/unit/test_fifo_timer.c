/* fifo_timer: fixed-delay timers on a real libwebsockets loop (no listening socket). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <libwebsockets.h>

#include "net/fifo_timer.h"

typedef struct {
  fifo_timer_entry entry;
  int id;
  int64_t fired_at;
} item;

static int order[8];
static int fired;

static void on_expired(fifo_timer *q, fifo_timer_entry *e) {
  item *it = lws_container_of(e, item, entry);
  it->fired_at = fifo_timer_now_us();
  order[fired++] = it->id;
}

static struct lws_context *make_context(void) {
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  lws_set_log_level(LLL_ERR, NULL);
  return lws_create_context(&info);
}

static void run_until(struct lws_context *ctx, int want, int64_t limit_us) {
  int64_t end = fifo_timer_now_us() + limit_us;
  /* Not blocking in poll(): a context with no descriptor may otherwise sleep past the timer. */
  while (fired < want && fifo_timer_now_us() < end) lws_service(ctx, -1);
}

static void entries_expire_in_arming_order_after_the_delay(void **state) {
  struct lws_context *ctx = make_context();
  assert_non_null(ctx);
  fifo_timer q;
  fifo_timer_init(&q, ctx, 30000, on_expired, NULL);
  item a = {.id = 1}, b = {.id = 2}, c = {.id = 3};
  fired = 0;
  int64_t start = fifo_timer_now_us();
  fifo_timer_arm(&q, &a.entry);
  fifo_timer_arm(&q, &b.entry);
  fifo_timer_arm(&q, &c.entry);
  fifo_timer_disarm(&b.entry); /* cancelled: never fires */
  assert_false(fifo_timer_armed(&b.entry));
  run_until(ctx, 2, 2000000);
  run_until(ctx, 3, 100000); /* give the cancelled one time to (wrongly) fire */
  assert_int_equal(fired, 2);
  assert_int_equal(order[0], 1);
  assert_int_equal(order[1], 3);
  assert_true(a.fired_at - start >= 30000);
  assert_true(a.fired_at - start < 500000);
  fifo_timer_destroy(&q);
  lws_context_destroy(ctx);
}

static void rearming_moves_an_entry_to_the_back(void **state) {
  struct lws_context *ctx = make_context();
  fifo_timer q;
  fifo_timer_init(&q, ctx, 20000, on_expired, NULL);
  item a = {.id = 1}, b = {.id = 2};
  fired = 0;
  fifo_timer_arm(&q, &a.entry);
  fifo_timer_arm(&q, &b.entry);
  fifo_timer_arm(&q, &a.entry); /* a is now due after b */
  assert_false(fifo_timer_overdue(&a.entry));
  run_until(ctx, 2, 2000000);
  assert_int_equal(fired, 2);
  assert_int_equal(order[0], 2);
  assert_int_equal(order[1], 1);
  fifo_timer_destroy(&q);
  lws_context_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(entries_expire_in_arming_order_after_the_delay),
      cmocka_unit_test(rearming_moves_an_entry_to_the_back),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
