/* strmap: the open-addressing string map behind the session table and rooms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/strmap.h"

static void get_on_empty_map_is_null(void **state) {
  strmap m;
  strmap_init(&m);
  assert_null(strmap_get(&m, "a"));
  assert_null(strmap_remove(&m, "a"));
  strmap_free(&m);
}

static void put_get_replace_remove(void **state) {
  strmap m;
  strmap_init(&m);
  int a = 1, b = 2;
  assert_true(strmap_put(&m, "k", &a));
  assert_ptr_equal(strmap_get(&m, "k"), &a);
  assert_true(strmap_put(&m, "k", &b));
  assert_int_equal(m.count, 1);
  assert_ptr_equal(strmap_get(&m, "k"), &b);
  assert_ptr_equal(strmap_remove(&m, "k"), &b);
  assert_null(strmap_get(&m, "k"));
  assert_int_equal(m.count, 0);
  strmap_free(&m);
}

/* Many keys, removed in an order that breaks probe runs: every remaining key must stay
 * reachable (backward-shift deletion must not orphan entries). */
static void survives_heavy_churn(void **state) {
  enum { N = 5000 };
  static char keys[N][16];
  strmap m;
  strmap_init(&m);
  for (int i = 0; i < N; i++) {
    snprintf(keys[i], sizeof keys[i], "key-%d", i);
    assert_true(strmap_put(&m, keys[i], keys[i]));
  }
  assert_int_equal(m.count, N);
  for (int i = 0; i < N; i += 3) assert_ptr_equal(strmap_remove(&m, keys[i]), keys[i]);
  for (int i = 0; i < N; i++) {
    if (i % 3 == 0) assert_null(strmap_get(&m, keys[i]));
    else assert_ptr_equal(strmap_get(&m, keys[i]), keys[i]);
  }
  size_t pos = 0, seen = 0;
  const char *k;
  void *v;
  while (strmap_next(&m, &pos, &k, &v)) {
    assert_ptr_equal(k, v);
    seen++;
  }
  assert_int_equal(seen, m.count);
  strmap_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(get_on_empty_map_is_null),
      cmocka_unit_test(put_get_replace_remove),
      cmocka_unit_test(survives_heavy_churn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
