/* query: the parameters of an Engine.IO request URL ("EIO=4&transport=polling&sid=..."). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/query.h"

/* A query is ~4.5 KiB: tests keep one per test in static storage rather than on the stack. */
static query q;

static int parse(const char *raw) {
  query_init(&q);
  return query_parse(&q, raw, strlen(raw));
}

static void assert_rejected(const char *raw) {
  if (parse(raw) != -1) fail_msg("accepted \"%s\"", raw);
}

static void parses_the_engineio_handshake_query(void **state) {
  assert_int_equal(parse("EIO=4&transport=polling&t=OaB3x2k"), 0);
  assert_int_equal(q.count, 3);
  assert_string_equal(query_get(&q, "EIO"), "4");
  assert_string_equal(query_get(&q, "transport"), "polling");
  assert_string_equal(query_get(&q, "t"), "OaB3x2k");
  assert_null(query_get(&q, "sid"));
}

static void parses_an_empty_query_as_no_parameters(void **state) {
  assert_int_equal(parse(""), 0);
  assert_int_equal(q.count, 0);
  assert_null(query_get(&q, ""));
}

static void keeps_parameters_in_order(void **state) {
  assert_int_equal(parse("b=2&a=1"), 0);
  assert_int_equal(q.count, 2);
  assert_string_equal(q.params[0].key, "b");
  assert_string_equal(q.params[0].value, "2");
  assert_string_equal(q.params[1].key, "a");
  assert_string_equal(q.params[1].value, "1");
}

static void decodes_percent_escapes_in_either_case(void **state) {
  assert_int_equal(parse("p=%2f%2F%3a&%6B%65%79=v"), 0);
  assert_string_equal(query_get(&q, "p"), "//:");
  assert_string_equal(query_get(&q, "key"), "v");
}

static void decodes_utf8_escapes_bytewise(void **state) {
  assert_int_equal(parse("name=%C3%A9t%C3%A9"), 0);
  assert_string_equal(query_get(&q, "name"), "\xc3\xa9t\xc3\xa9");
}

static void decodes_plus_as_space_in_keys_and_values(void **state) {
  assert_int_equal(parse("a+b=c+d%2B"), 0);
  assert_string_equal(query_get(&q, "a b"), "c d+");
}

static void splits_at_the_first_raw_equals_sign(void **state) {
  assert_int_equal(parse("a=b=c"), 0);
  assert_string_equal(query_get(&q, "a"), "b=c");
}

static void escaped_separators_are_data(void **state) {
  assert_int_equal(parse("%3D=%26&x=1"), 0);
  assert_int_equal(q.count, 2);
  assert_string_equal(query_get(&q, "="), "&");
  assert_string_equal(query_get(&q, "x"), "1");
}

static void key_without_equals_has_empty_value(void **state) {
  assert_int_equal(parse("flag&k=&j=1"), 0);
  assert_int_equal(q.count, 3);
  assert_string_equal(query_get(&q, "flag"), "");
  assert_string_equal(query_get(&q, "k"), "");
  assert_string_equal(query_get(&q, "j"), "1");
}

static void empty_pairs_are_skipped(void **state) {
  assert_int_equal(parse("&a=1&&b=2&"), 0);
  assert_int_equal(q.count, 2);
  assert_string_equal(query_get(&q, "a"), "1");
  assert_string_equal(query_get(&q, "b"), "2");
}

/* As URLSearchParams: "=" is a pair with an empty key, not an empty pair. */
static void lone_equals_is_an_empty_key(void **state) {
  assert_int_equal(parse("=&=v"), 0);
  assert_int_equal(q.count, 2);
  assert_string_equal(q.params[0].key, "");
  assert_string_equal(q.params[0].value, "");
  assert_string_equal(query_get(&q, ""), "v"); /* the last one wins */
  assert_string_equal(q.params[1].value, "v");
}

static void get_returns_the_last_match(void **state) {
  assert_int_equal(parse("sid=one&sid=two"), 0);
  assert_int_equal(q.count, 2);
  assert_string_equal(query_get(&q, "sid"), "two");
}

static void get_is_exact_and_case_sensitive(void **state) {
  assert_int_equal(parse("EIO=4"), 0);
  assert_null(query_get(&q, "eio"));
  assert_null(query_get(&q, "EI"));
  assert_null(query_get(&q, "EIO4"));
  assert_null(query_get(&q, NULL));
}

static void reads_only_the_given_length(void **state) {
  query_init(&q);
  assert_int_equal(query_parse(&q, "a=1&b=2", 3), 0);
  assert_int_equal(q.count, 1);
  assert_string_equal(query_get(&q, "a"), "1");
  assert_null(query_get(&q, "b"));
  /* Cut through an escape: "%4" is then truncated, hence malformed. */
  query_init(&q);
  assert_int_equal(query_parse(&q, "a=%41", 4), -1);
}

static void rejects_malformed_escapes(void **state) {
  assert_rejected("a=%G1");
  assert_rejected("a=%4G");
  assert_rejected("a=%zz");
  assert_rejected("%zz=1");
  assert_rejected("a=% 1");
  assert_rejected("a=%4");  /* truncated at the end */
  assert_rejected("a=%");
  assert_rejected("a=%4&b=1"); /* truncated by the separator */
}

static void rejects_a_decoded_nul(void **state) {
  assert_rejected("a=%00");
  assert_rejected("%00=1");
  query_init(&q);
  assert_int_equal(query_parse(&q, "a=x\0y", 5), -1); /* a raw NUL too */
}

static void keeps_parameters_before_a_fault(void **state) {
  assert_int_equal(parse("a=1&b=%G1&c=3"), -1);
  assert_int_equal(q.count, 1);
  assert_string_equal(query_get(&q, "a"), "1");
  assert_null(query_get(&q, "b"));
  assert_null(query_get(&q, "c"));
  assert_int_equal(q.used, 4); /* "a\0" "1\0": nothing of the failed pair is kept */
}

static void accepts_max_params_and_rejects_one_more(void **state) {
  char raw[QUERY_MAX_PARAMS * 8 + 16];
  size_t n = 0;
  for (int i = 0; i < QUERY_MAX_PARAMS; i++)
    n += (size_t)sprintf(raw + n, "%sk%d=%d", i ? "&" : "", i, i);
  assert_int_equal(parse(raw), 0);
  assert_int_equal(q.count, QUERY_MAX_PARAMS);
  assert_string_equal(query_get(&q, "k31"), "31");
  strcpy(raw + n, "&extra=1");
  assert_int_equal(parse(raw), -1);
  assert_int_equal(q.count, QUERY_MAX_PARAMS);
  assert_null(query_get(&q, "extra"));
}

/* The store holds every decoded key and value with its terminator: "k\0" + value + "\0". */
static void accepts_max_bytes_and_rejects_one_more(void **state) {
  static char raw[QUERY_MAX_BYTES + 16];
  size_t value_len = QUERY_MAX_BYTES - 3;
  strcpy(raw, "k=");
  memset(raw + 2, 'v', value_len);
  raw[2 + value_len] = '\0';
  assert_int_equal(parse(raw), 0);
  assert_int_equal(q.used, QUERY_MAX_BYTES);
  assert_int_equal(strlen(query_get(&q, "k")), value_len);

  raw[2 + value_len] = 'v';
  raw[3 + value_len] = '\0';
  assert_rejected(raw);
  assert_int_equal(q.count, 0);

  /* The bound applies to the decoded size, so escapes may make a longer raw query fit. */
  static char esc[3 * QUERY_MAX_BYTES];
  strcpy(esc, "k=");
  for (size_t i = 0; i < value_len; i++) memcpy(esc + 2 + 3 * i, "%41", 4);
  assert_int_equal(parse(esc), 0);
  assert_int_equal(strlen(query_get(&q, "k")), value_len);
}

static void bytes_are_shared_by_all_parameters(void **state) {
  static char raw[QUERY_MAX_BYTES + 16];
  /* "a=<2000 x>&b=<2000 y>" needs 2 + 2001 + 2 + 2001 = 4006 bytes: fits. A third pair of
   * 100 more does not. */
  memset(raw, 0, sizeof raw); /* each memset below extends a string that stays terminated */
  strcpy(raw, "a=");
  memset(raw + strlen(raw), 'x', 2000);
  strcat(raw, "&b=");
  memset(raw + strlen(raw), 'y', 2000);
  assert_int_equal(parse(raw), 0);
  assert_int_equal(q.used, 4006);
  strcat(raw, "&c=");
  memset(raw + strlen(raw), 'z', 100);
  assert_int_equal(parse(raw), -1);
  assert_int_equal(q.count, 2);
  assert_null(query_get(&q, "c"));
}

static void init_forgets_previous_parameters(void **state) {
  assert_int_equal(parse("a=1"), 0);
  query_init(&q);
  assert_int_equal(q.count, 0);
  assert_int_equal(q.used, 0);
  assert_null(query_get(&q, "a"));
}

static void add_pair_takes_decoded_text_as_is(void **state) {
  query_init(&q);
  assert_int_equal(query_add_pair(&q, "t=%41+b", 7), 0);
  assert_int_equal(query_add_pair(&q, "x=a=b", 5), 0);
  assert_string_equal(query_get(&q, "t"), "%41+b");
  assert_string_equal(query_get(&q, "x"), "a=b");
}

static void add_pair_without_equals_has_empty_value(void **state) {
  query_init(&q);
  assert_int_equal(query_add_pair(&q, "flag", 4), 0);
  assert_string_equal(query_get(&q, "flag"), "");
}

static void add_pair_respects_the_length(void **state) {
  query_init(&q);
  assert_int_equal(query_add_pair(&q, "sid=abcdef", 7), 0);
  assert_string_equal(query_get(&q, "sid"), "abc");
}

static void add_pair_rejects_nul(void **state) {
  query_init(&q);
  assert_int_equal(query_add_pair(&q, "a=b\0c", 5), -1);
  assert_int_equal(q.count, 0);
  assert_int_equal(q.used, 0);
}

static void add_pair_rejects_when_full(void **state) {
  query_init(&q);
  for (int i = 0; i < QUERY_MAX_PARAMS; i++) assert_int_equal(query_add_pair(&q, "k=v", 3), 0);
  assert_int_equal(query_add_pair(&q, "k=v", 3), -1);
  assert_int_equal(q.count, QUERY_MAX_PARAMS);

  static char big[QUERY_MAX_BYTES + 1];
  memset(big, 'x', sizeof big);
  query_init(&q);
  assert_int_equal(query_add_pair(&q, big, sizeof big), -1);
  assert_int_equal(query_add_pair(&q, big, QUERY_MAX_BYTES - 2), 0); /* "x..x\0" + "\0" */
  assert_int_equal(q.used, QUERY_MAX_BYTES);
  assert_int_equal(query_add_pair(&q, "", 0), -1);
}

static void components_are_encoded_as_encodeURIComponent(void **state) {
  (void)state;
  sbuf b;
  sbuf_init(&b, 0);
  query_append_component(&b, "a b&c=d/é-_.!~*'()%");
  sbuf_append_byte(&b, 0);
  assert_string_equal((char *)b.data, "a%20b%26c%3Dd%2F%C3%A9-_.!~*'()%25");
  sbuf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_the_engineio_handshake_query),
      cmocka_unit_test(parses_an_empty_query_as_no_parameters),
      cmocka_unit_test(keeps_parameters_in_order),
      cmocka_unit_test(decodes_percent_escapes_in_either_case),
      cmocka_unit_test(decodes_utf8_escapes_bytewise),
      cmocka_unit_test(decodes_plus_as_space_in_keys_and_values),
      cmocka_unit_test(splits_at_the_first_raw_equals_sign),
      cmocka_unit_test(escaped_separators_are_data),
      cmocka_unit_test(key_without_equals_has_empty_value),
      cmocka_unit_test(empty_pairs_are_skipped),
      cmocka_unit_test(lone_equals_is_an_empty_key),
      cmocka_unit_test(get_returns_the_last_match),
      cmocka_unit_test(get_is_exact_and_case_sensitive),
      cmocka_unit_test(reads_only_the_given_length),
      cmocka_unit_test(rejects_malformed_escapes),
      cmocka_unit_test(rejects_a_decoded_nul),
      cmocka_unit_test(keeps_parameters_before_a_fault),
      cmocka_unit_test(accepts_max_params_and_rejects_one_more),
      cmocka_unit_test(accepts_max_bytes_and_rejects_one_more),
      cmocka_unit_test(bytes_are_shared_by_all_parameters),
      cmocka_unit_test(init_forgets_previous_parameters),
      cmocka_unit_test(add_pair_takes_decoded_text_as_is),
      cmocka_unit_test(add_pair_without_equals_has_empty_value),
      cmocka_unit_test(add_pair_respects_the_length),
      cmocka_unit_test(add_pair_rejects_nul),
      cmocka_unit_test(add_pair_rejects_when_full),
      cmocka_unit_test(components_are_encoded_as_encodeURIComponent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
