/* json_write: JSON.stringify's exact output. Every expected string below was produced by
 * Node.js (JSON.stringify) and is hard-coded here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "util/json_write.h"

/* The text json_write gives for v (asserting success); the caller frees it. */
static char *write_ok(const json_t *v, unsigned max_depth) {
  sbuf b;
  sbuf_init(&b, 0);
  assert_true(json_write(&b, v, max_depth));
  sbuf_append_byte(&b, '\0');
  return (char *)sbuf_steal(&b, NULL);
}

/* Asserts that v (consumed) is written as expected. */
static void assert_writes(json_t *v, const char *expected) {
  assert_non_null(v);
  char *s = write_ok(v, 64);
  assert_string_equal(s, expected);
  free(s);
  json_decref(v);
}

static void assert_double(double d, const char *expected) {
  sbuf b;
  sbuf_init(&b, 0);
  assert_true(json_write_double(&b, d));
  sbuf_append_byte(&b, '\0');
  assert_string_equal((char *)b.data, expected);
  sbuf_free(&b);
  /* The same through a jansson real, where one can exist. */
  if (isfinite(d)) assert_writes(json_real(d), expected);
}

/* JSON text parsed by jansson (as the decoder does), written back. */
static void assert_rewrites(const char *json, const char *expected) {
  json_error_t err;
  json_t *v = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
  assert_non_null(v);
  assert_writes(v, expected);
}

/* ---- numbers ---- */

static void zero_and_negative_zero_are_0(void **state) {
  assert_double(0.0, "0");
  assert_double(-0.0, "0");
}

static void reals_take_the_shortest_digits_that_round_trip(void **state) {
  assert_double(0.1, "0.1");
  assert_double(-0.1, "-0.1");
  assert_double(0.1 + 0.2, "0.30000000000000004");
  assert_double(1.0 / 3, "0.3333333333333333");
  assert_double(123.456, "123.456");
  assert_double(4.35, "4.35");
  assert_double(12345678.9, "12345678.9");
}

static void whole_reals_have_no_fraction(void **state) {
  assert_double(1.0, "1");
  assert_double(-1.0, "-1");
  assert_double(100.0, "100");
  assert_double(1e20, "100000000000000000000");
  assert_double(9007199254740992.0, "9007199254740992");
  assert_double(9223372036854775807.0, "9223372036854776000");
}

static void large_numbers_use_exponents_from_1e21(void **state) {
  assert_double(123456789012345680000.0, "123456789012345680000");
  assert_double(999999999999999900000.0, "999999999999999900000");
  assert_double(1e21, "1e+21");
  assert_double(1e23, "1e+23");
  assert_double(1e100, "1e+100");
  assert_double(6.189700196426902e+26, "6.189700196426902e+26");
}

static void small_numbers_use_exponents_below_1e_6(void **state) {
  assert_double(1e-6, "0.000001");
  assert_double(1.2e-6, "0.0000012");
  assert_double(0.000001234, "0.000001234");
  assert_double(1e-7, "1e-7");
  assert_double(-1e-7, "-1e-7");
  assert_double(5e-7, "5e-7");
  assert_double(1.5e-10, "1.5e-10");
}

static void extreme_doubles(void **state) {
  assert_double(5e-324, "5e-324");
  assert_double(1e-323, "1e-323");
  assert_double(1.5e-323, "1.5e-323");
  assert_double(2.2250738585072014e-308, "2.2250738585072014e-308");
  assert_double(1.7976931348623157e308, "1.7976931348623157e+308");
}

/* Powers of two whose rounding interval is lopsided: the closest 16-digit decimal does not
 * read back, the one on the other side does. */
static void powers_of_two_with_lopsided_intervals(void **state) {
  assert_double(ldexp(1, -24), "5.960464477539063e-8");
  assert_double(ldexp(1, -44), "5.684341886080802e-14");
  assert_double(ldexp(1, 89), "6.189700196426902e+26");
}

static void non_finite_numbers_are_null(void **state) {
  assert_double(NAN, "null");
  assert_double(INFINITY, "null");
  assert_double(-INFINITY, "null");
}

static void integers_print_whole(void **state) {
  assert_writes(json_integer(0), "0");
  assert_writes(json_integer(-1), "-1");
  assert_writes(json_integer(9007199254740991LL), "9007199254740991");
  /* Exact digits beyond 2^53 (a JS number would print ...992; a JS client reads both the
   * same). */
  assert_writes(json_integer(9007199254740993LL), "9007199254740993");
  assert_writes(json_integer(INT64_MAX), "9223372036854775807");
  assert_writes(json_integer(INT64_MIN), "-9223372036854775808");
}

static void literals(void **state) {
  assert_writes(json_true(), "true");
  assert_writes(json_false(), "false");
  assert_writes(json_null(), "null");
}

/* ---- strings ---- */

static void strings_escape_quote_and_backslash_only(void **state) {
  assert_writes(json_string("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
  assert_writes(json_string(""), "\"\"");
}

static void control_characters_use_short_escapes_or_lower_case_hex(void **state) {
  assert_writes(json_string("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
  assert_writes(json_string("\x01\x1f\x0b"), "\"\\u0001\\u001f\\u000b\"");
  assert_writes(json_stringn("a\0b", 3), "\"a\\u0000b\"");
  assert_writes(json_string("\x7f"), "\"\x7f\""); /* DEL is not escaped */
}

static void unicode_is_written_as_is(void **state) {
  assert_writes(json_string("é ✓ 😀 \u2028\u2029"), "\"é ✓ 😀 \u2028\u2029\"");
  assert_rewrites("\"\\u00e9\\ud83d\\ude00\"", "\"é😀\"");
}

/* Only a *_nocheck string can hold bad UTF-8; a JS string cannot, so it never reaches a
 * client: each bad byte becomes U+FFFD. */
static void invalid_utf8_becomes_replacement_characters(void **state) {
  assert_writes(json_string_nocheck("a\xff" "b"), "\"a\xEF\xBF\xBD" "b\"");
  assert_writes(json_string_nocheck("\xC3"), "\"\xEF\xBF\xBD\"");                  /* cut */
  assert_writes(json_string_nocheck("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\""); /* overlong */
  assert_writes(json_string_nocheck("\xED\xA0\x80"), /* an encoded surrogate */
                "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

/* ---- containers ---- */

static void containers_are_compact(void **state) {
  assert_rewrites("[ 1 , [ ] , { } , { \"a\" : [ true , null ] } ]",
                  "[1,[],{},{\"a\":[true,null]}]");
  assert_rewrites("{\"k\":\"v\",\"n\":{\"m\":[0.5,-2]}}", "{\"k\":\"v\",\"n\":{\"m\":[0.5,-2]}}");
}

static void object_keys_keep_insertion_order(void **state) {
  assert_rewrites("{\"b\":1,\"a\":2,\"_\":3}", "{\"b\":1,\"a\":2,\"_\":3}");
}

/* A JS object lists array-index keys first, in numeric order: JSON.stringify(JSON.parse(
 * '{"b":1,"10":2,"a":3,"2":4}')) is '{"2":4,"10":2,"b":1,"a":3}'. */
static void array_index_keys_come_first_in_numeric_order(void **state) {
  assert_rewrites("{\"b\":1,\"10\":2,\"a\":3,\"2\":4}", "{\"2\":4,\"10\":2,\"b\":1,\"a\":3}");
  assert_rewrites("{\"x\":0,\"4294967294\":1,\"0\":2}", "{\"0\":2,\"4294967294\":1,\"x\":0}");
}

static void keys_that_are_not_array_indices_keep_their_place(void **state) {
  assert_rewrites("{\"b\":1,\"01\":2,\"-1\":3,\"4294967295\":4,\"1.5\":5,\"1\":6}",
                  "{\"1\":6,\"b\":1,\"01\":2,\"-1\":3,\"4294967295\":4,\"1.5\":5}");
}

static void keys_are_escaped_like_strings(void **state) {
  assert_rewrites("{\"a\\\"\\n\\u0001\":1}", "{\"a\\\"\\n\\u0001\":1}");
}

/* ---- limits and failures ---- */

static json_t *nested_arrays(size_t depth) {
  json_t *v = json_array();
  for (size_t i = 1; i < depth; i++) {
    json_t *outer = json_array();
    json_array_append_new(outer, v);
    v = outer;
  }
  return v;
}

static void depth_limit_counts_containers(void **state) {
  json_t *v = nested_arrays(32);
  char *s = write_ok(v, 32);
  assert_int_equal(strlen(s), 64);
  free(s);
  sbuf b;
  sbuf_init(&b, 0);
  assert_false(json_write(&b, v, 31));
  assert_int_equal(b.len, 0);
  sbuf_free(&b);
  json_decref(v);
}

static void depth_zero_allows_scalars_only(void **state) {
  json_t *n = json_integer(7), *a = json_array();
  sbuf b;
  sbuf_init(&b, 0);
  assert_true(json_write(&b, n, 0));
  assert_false(json_write(&b, a, 0));
  assert_int_equal(b.len, 1);
  sbuf_free(&b);
  json_decref(n);
  json_decref(a);
}

/* 10000 levels: far beyond what a recursive writer's stack would like, fine for an explicit
 * one. */
static void deep_values_are_written_without_recursion(void **state) {
  json_t *v = nested_arrays(10000);
  char *s = write_ok(v, 10000);
  assert_int_equal(strlen(s), 20000);
  assert_int_equal(s[9999], '[');
  assert_int_equal(s[10000], ']');
  free(s);
  json_decref(v);
}

static void a_full_buffer_fails_and_keeps_its_content(void **state) {
  sbuf b;
  sbuf_init(&b, 8);
  sbuf_append_str(&b, "42");
  json_t *v = json_string("more than six bytes");
  assert_false(json_write(&b, v, 4));
  assert_true(b.failed);
  assert_int_equal(b.len, 2);
  assert_memory_equal(b.data, "42", 2);
  sbuf_free(&b);
  json_decref(v);
}

static void null_value_is_refused(void **state) {
  sbuf b;
  sbuf_init(&b, 0);
  assert_false(json_write(&b, NULL, 4));
  assert_int_equal(b.len, 0);
  sbuf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(zero_and_negative_zero_are_0),
      cmocka_unit_test(reals_take_the_shortest_digits_that_round_trip),
      cmocka_unit_test(whole_reals_have_no_fraction),
      cmocka_unit_test(large_numbers_use_exponents_from_1e21),
      cmocka_unit_test(small_numbers_use_exponents_below_1e_6),
      cmocka_unit_test(extreme_doubles),
      cmocka_unit_test(powers_of_two_with_lopsided_intervals),
      cmocka_unit_test(non_finite_numbers_are_null),
      cmocka_unit_test(integers_print_whole),
      cmocka_unit_test(literals),
      cmocka_unit_test(strings_escape_quote_and_backslash_only),
      cmocka_unit_test(control_characters_use_short_escapes_or_lower_case_hex),
      cmocka_unit_test(unicode_is_written_as_is),
      cmocka_unit_test(invalid_utf8_becomes_replacement_characters),
      cmocka_unit_test(containers_are_compact),
      cmocka_unit_test(object_keys_keep_insertion_order),
      cmocka_unit_test(array_index_keys_come_first_in_numeric_order),
      cmocka_unit_test(keys_that_are_not_array_indices_keep_their_place),
      cmocka_unit_test(keys_are_escaped_like_strings),
      cmocka_unit_test(depth_limit_counts_containers),
      cmocka_unit_test(depth_zero_allows_scalars_only),
      cmocka_unit_test(deep_values_are_written_without_recursion),
      cmocka_unit_test(a_full_buffer_fails_and_keeps_its_content),
      cmocka_unit_test(null_value_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
