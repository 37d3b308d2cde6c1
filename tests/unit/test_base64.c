/* base64: the encoding of binary packets in long-polling payloads ('b' + base64). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/base64.h"

/* RFC 4648, section 10. */
static const struct {
  const char *plain, *encoded;
} rfc_vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};
#define N_RFC (sizeof rfc_vectors / sizeof rfc_vectors[0])

/* Decodes a C string into a fresh buffer; returns the result of base64_decode. */
static long decode_str(const char *s, uint8_t *out) {
  return base64_decode(out, (const uint8_t *)s, strlen(s));
}

static void assert_rejected(const char *s) {
  uint8_t out[64];
  if (decode_str(s, out) != -1) fail_msg("accepted \"%s\"", s);
}

static void encoded_len_rounds_up_to_quanta(void **state) {
  assert_int_equal(base64_encoded_len(0), 0);
  assert_int_equal(base64_encoded_len(1), 4);
  assert_int_equal(base64_encoded_len(2), 4);
  assert_int_equal(base64_encoded_len(3), 4);
  assert_int_equal(base64_encoded_len(4), 8);
  assert_int_equal(base64_encoded_len(1000), 1336);
}

static void encodes_rfc4648_vectors_with_padding(void **state) {
  for (size_t i = 0; i < N_RFC; i++) {
    const char *plain = rfc_vectors[i].plain, *want = rfc_vectors[i].encoded;
    uint8_t out[16];
    memset(out, '#', sizeof out);
    size_t n = base64_encode(out, (const uint8_t *)plain, strlen(plain));
    assert_int_equal(n, strlen(want));
    assert_int_equal(n, base64_encoded_len(strlen(plain)));
    assert_memory_equal(out, want, n);
    assert_int_equal(out[n], '#'); /* nothing written past the end */
  }
}

static void encodes_with_standard_alphabet_plus_and_slash(void **state) {
  const uint8_t in[] = {0xfb, 0xff, 0xbf, 0x00};
  uint8_t out[8];
  assert_int_equal(base64_encode(out, in, sizeof in), 8);
  assert_memory_equal(out, "+/+/AA==", 8);
}

static void decodes_rfc4648_vectors_padded(void **state) {
  for (size_t i = 0; i < N_RFC; i++) {
    uint8_t out[16];
    long n = decode_str(rfc_vectors[i].encoded, out);
    assert_int_equal(n, strlen(rfc_vectors[i].plain));
    assert_memory_equal(out, rfc_vectors[i].plain, (size_t)n);
  }
}

static void decodes_unpadded_input(void **state) {
  uint8_t out[16];
  assert_int_equal(decode_str("Zg", out), 1);
  assert_memory_equal(out, "f", 1);
  assert_int_equal(decode_str("Zm8", out), 2);
  assert_memory_equal(out, "fo", 2);
  assert_int_equal(decode_str("Zm9vYmE", out), 5);
  assert_memory_equal(out, "fooba", 5);
}

static void decodes_empty_input_to_nothing(void **state) {
  uint8_t out[1] = {'#'};
  assert_int_equal(base64_decode(out, (const uint8_t *)"", 0), 0);
  assert_int_equal(out[0], '#');
}

static void decodes_in_place(void **state) {
  char buf[] = "Zm9vYmFyIGJheg=="; /* "foobar baz" */
  long n = base64_decode((uint8_t *)buf, (const uint8_t *)buf, strlen(buf));
  assert_int_equal(n, 10);
  assert_memory_equal(buf, "foobar baz", 10);
}

static void decodes_in_place_every_byte_value(void **state) {
  uint8_t plain[256], buf[344];
  for (int i = 0; i < 256; i++) plain[i] = (uint8_t)(255 - i);
  size_t n = base64_encode(buf, plain, sizeof plain);
  assert_int_equal(n, sizeof buf);
  assert_int_equal(base64_decode(buf, buf, n), 256);
  assert_memory_equal(buf, plain, 256);
}

static void round_trips_every_length_up_to_64(void **state) {
  uint8_t plain[64], enc[88], dec[64];
  for (size_t i = 0; i < sizeof plain; i++) plain[i] = (uint8_t)(i * 37 + 11);
  for (size_t len = 0; len <= sizeof plain; len++) {
    size_t n = base64_encode(enc, plain, len);
    assert_int_equal(base64_decode(dec, enc, n), len);
    assert_memory_equal(dec, plain, len);
  }
}

static void decode_writes_only_the_decoded_bytes(void **state) {
  uint8_t out[8];
  memset(out, '#', sizeof out);
  assert_int_equal(decode_str("Zm8=", out), 2);
  assert_int_equal(out[2], '#');
}

/* Node's Buffer.from(s, "base64") ignores the unused bits of the last quantum; so do we. */
static void ignores_nonzero_trailing_bits(void **state) {
  uint8_t out[4];
  assert_int_equal(decode_str("Zh==", out), 1);
  assert_int_equal(out[0], 'f');
}

static void rejects_characters_outside_the_alphabet(void **state) {
  assert_rejected("Zm9v!A==");
  assert_rejected("Zm9v YmFy"); /* whitespace */
  assert_rejected("Zm9v\nYmFy");
  assert_rejected("Zm9-");      /* URL-safe alphabet */
  assert_rejected("Zm9_");
  assert_rejected("Zm9\x80");
  uint8_t out[4];
  assert_int_equal(base64_decode(out, (const uint8_t *)"Zm\0v", 4), -1); /* embedded NUL */
}

static void rejects_misplaced_padding(void **state) {
  assert_rejected("=");
  assert_rejected("====");
  assert_rejected("=Zg=");
  assert_rejected("Z=g=");
  assert_rejected("Zg==Zg==");
  assert_rejected("Zg=a");
}

static void rejects_incomplete_or_excess_padding(void **state) {
  assert_rejected("Zg=");   /* padded, but not to a full quantum */
  assert_rejected("Zm9vYg=");
  assert_rejected("Zg===");
  assert_rejected("Zm8==");
  assert_rejected("Z===");  /* padding cannot complete a lone character */
}

static void rejects_a_dangling_single_character(void **state) {
  assert_rejected("Z");
  assert_rejected("Zm9vY");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(encoded_len_rounds_up_to_quanta),
      cmocka_unit_test(encodes_rfc4648_vectors_with_padding),
      cmocka_unit_test(encodes_with_standard_alphabet_plus_and_slash),
      cmocka_unit_test(decodes_rfc4648_vectors_padded),
      cmocka_unit_test(decodes_unpadded_input),
      cmocka_unit_test(decodes_empty_input_to_nothing),
      cmocka_unit_test(decodes_in_place),
      cmocka_unit_test(decodes_in_place_every_byte_value),
      cmocka_unit_test(round_trips_every_length_up_to_64),
      cmocka_unit_test(decode_writes_only_the_decoded_bytes),
      cmocka_unit_test(ignores_nonzero_trailing_bits),
      cmocka_unit_test(rejects_characters_outside_the_alphabet),
      cmocka_unit_test(rejects_misplaced_padding),
      cmocka_unit_test(rejects_incomplete_or_excess_padding),
      cmocka_unit_test(rejects_a_dangling_single_character),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
