/* eio_packet: Engine.IO v4 text frames, long-polling payloads and the open packet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eio/eio_packet.h"

#define RS "\x1e"

static int decode(const char *frame, eio_packet *p) {
  return eio_decode_text((const uint8_t *)frame, strlen(frame), p);
}

static void assert_packet(const eio_packet *p, eio_type type, bool binary, const char *data,
                          size_t len) {
  assert_int_equal(p->type, type);
  assert_int_equal(p->binary, binary);
  assert_int_equal(p->len, len);
  assert_memory_equal(p->data, data, len);
}

/* A payload reader over a private, writable copy of `body` (the reader decodes in place).
 * The copy is exactly `len` bytes long, so that ASan catches any read past the body. */
typedef struct {
  uint8_t *buf;
  eio_payload_reader r;
} payload;

static void payload_open(payload *pl, const char *body, size_t len) {
  pl->buf = malloc(len ? len : 1);
  assert_non_null(pl->buf);
  memcpy(pl->buf, body, len);
  eio_payload_reader_init(&pl->r, pl->buf, len);
}

#define PAYLOAD(pl, literal) payload_open((pl), (literal), sizeof(literal) - 1)

/* ---- text frames ---- */

static void decodes_every_packet_type(void **state) {
  static const char *frames[] = {"0{\"sid\":\"x\"}", "1", "2", "3", "4hello", "5", "6"};
  for (int t = EIO_OPEN; t <= EIO_NOOP; t++) {
    eio_packet p;
    assert_int_equal(decode(frames[t], &p), 0);
    assert_packet(&p, (eio_type)t, false, frames[t] + 1, strlen(frames[t]) - 1);
  }
}

static void message_with_empty_data(void **state) {
  eio_packet p;
  assert_int_equal(decode("4", &p), 0);
  assert_packet(&p, EIO_MESSAGE, false, "", 0);
}

static void ping_probe_carries_its_data(void **state) {
  eio_packet p;
  assert_int_equal(decode("2probe", &p), 0);
  assert_packet(&p, EIO_PING, false, "probe", 5);
  assert_int_equal(decode("3probe", &p), 0);
  assert_packet(&p, EIO_PONG, false, "probe", 5);
}

static void data_points_into_the_frame(void **state) {
  const uint8_t frame[] = "4abc";
  eio_packet p;
  assert_int_equal(eio_decode_text(frame, 4, &p), 0);
  assert_ptr_equal(p.data, frame + 1);
  assert_int_equal(p.len, 3);
}

static void data_is_opaque_bytes(void **state) {
  const uint8_t frame[] = {'4', 0x00, 0x1e, 0xff, '2'};
  eio_packet p;
  assert_int_equal(eio_decode_text(frame, sizeof frame, &p), 0);
  assert_packet(&p, EIO_MESSAGE, false, (const char *)frame + 1, 4);
}

static void rejects_an_empty_frame(void **state) {
  eio_packet p;
  assert_int_equal(eio_decode_text((const uint8_t *)"", 0, &p), -1);
  assert_int_equal(eio_decode_text(NULL, 0, &p), -1);
}

static void rejects_unknown_types(void **state) {
  eio_packet p;
  assert_int_equal(decode("7", &p), -1);
  assert_int_equal(decode("9hello", &p), -1);
  assert_int_equal(decode("/", &p), -1); /* just below '0' */
  assert_int_equal(decode("a", &p), -1);
  assert_int_equal(decode(" 4", &p), -1);
  assert_int_equal(decode("{\"a\":1}", &p), -1);
}

/* "b..." is a binary message only inside a polling payload; as a text frame it is an error. */
static void rejects_base64_binary_in_a_text_frame(void **state) {
  eio_packet p;
  assert_int_equal(decode("bAQID", &p), -1);
  assert_int_equal(decode("b", &p), -1);
}

/* ---- long-polling payloads ---- */

static void payload_with_one_text_packet(void **state) {
  payload pl;
  eio_packet p;
  PAYLOAD(&pl, "4hello");
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, false, "hello", 5);
  assert_int_equal(eio_payload_next(&pl.r, &p), 0);
  free(pl.buf);
}

static void payload_splits_at_record_separators(void **state) {
  payload pl;
  eio_packet p;
  PAYLOAD(&pl, "4hello" RS "2" RS "4" RS "6" RS "1");
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, false, "hello", 5);
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_PING, false, "", 0);
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, false, "", 0);
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_NOOP, false, "", 0);
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_CLOSE, false, "", 0);
  assert_int_equal(eio_payload_next(&pl.r, &p), 0);
  free(pl.buf);
}

static void payload_end_is_sticky(void **state) {
  payload pl;
  eio_packet p;
  PAYLOAD(&pl, "3");
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  for (int i = 0; i < 3; i++) assert_int_equal(eio_payload_next(&pl.r, &p), 0);
  free(pl.buf);
}

static void payload_binary_segment_is_decoded_in_place(void **state) {
  payload pl;
  eio_packet p;
  PAYLOAD(&pl, "bAQID");
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, true, "\x01\x02\x03", 3);
  assert_ptr_equal(p.data, pl.buf + 1);
  assert_int_equal(eio_payload_next(&pl.r, &p), 0);
  free(pl.buf);
}

static void payload_binary_segment_may_be_empty(void **state) {
  payload pl;
  eio_packet p;
  PAYLOAD(&pl, "b" RS "4x");
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_int_equal(p.type, EIO_MESSAGE);
  assert_true(p.binary);
  assert_int_equal(p.len, 0);
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, false, "x", 1);
  free(pl.buf);
}

static void payload_mixes_text_and_binary(void **state) {
  payload pl;
  eio_packet p;
  /* "AP8=" is {0x00, 0xff}; "HgA" (unpadded) is {0x1e, 0x00}: a separator byte inside binary
   * data is harmless, since it travels as base64. */
  PAYLOAD(&pl, "4a" RS "bAP8=" RS "bHgA" RS "4b");
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, false, "a", 1);
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, true, "\x00\xff", 2);
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, true, "\x1e\x00", 2);
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, false, "b", 1);
  assert_int_equal(eio_payload_next(&pl.r, &p), 0);
  free(pl.buf);
}

static void payload_reads_only_the_given_length(void **state) {
  uint8_t body[] = "4a" RS "4b";
  eio_payload_reader r;
  eio_packet p;
  eio_payload_reader_init(&r, body, 2);
  assert_int_equal(eio_payload_next(&r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, false, "a", 1);
  assert_int_equal(eio_payload_next(&r, &p), 0);
}

static void payload_empty_body_is_malformed(void **state) {
  uint8_t byte = 0;
  eio_payload_reader r;
  eio_packet p;
  eio_payload_reader_init(&r, &byte, 0);
  assert_int_equal(eio_payload_next(&r, &p), -1);
  eio_payload_reader_init(&r, NULL, 0);
  assert_int_equal(eio_payload_next(&r, &p), -1);
  assert_int_equal(eio_payload_next(&r, &p), -1);
}

static void payload_empty_segment_is_malformed(void **state) {
  payload pl;
  eio_packet p;
  PAYLOAD(&pl, "4a" RS RS "4b");
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, false, "a", 1);
  assert_int_equal(eio_payload_next(&pl.r, &p), -1);
  free(pl.buf);
}

static void payload_leading_separator_is_malformed(void **state) {
  payload pl;
  eio_packet p;
  PAYLOAD(&pl, RS "4a");
  assert_int_equal(eio_payload_next(&pl.r, &p), -1);
  free(pl.buf);
}

static void payload_trailing_separator_is_malformed(void **state) {
  payload pl;
  eio_packet p;
  PAYLOAD(&pl, "4a" RS);
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, false, "a", 1);
  assert_int_equal(eio_payload_next(&pl.r, &p), -1);
  free(pl.buf);
}

static void payload_unknown_type_is_malformed(void **state) {
  payload pl;
  eio_packet p;
  PAYLOAD(&pl, "2" RS "7x" RS "4a");
  assert_int_equal(eio_payload_next(&pl.r, &p), 1);
  assert_packet(&p, EIO_PING, false, "", 0);
  assert_int_equal(eio_payload_next(&pl.r, &p), -1);
  free(pl.buf);
}

static void payload_bad_base64_is_malformed(void **state) {
  static const char *bodies[] = {"b!!!!", "bA", "bAQ=", "bAQ=ID", "bAQ-D", "b===="};
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    payload pl;
    eio_packet p;
    payload_open(&pl, bodies[i], strlen(bodies[i]));
    if (eio_payload_next(&pl.r, &p) != -1) fail_msg("accepted \"%s\"", bodies[i]);
    free(pl.buf);
  }
}

static void payload_error_is_sticky(void **state) {
  payload pl;
  eio_packet p;
  PAYLOAD(&pl, "x" RS "4a");
  assert_int_equal(eio_payload_next(&pl.r, &p), -1);
  for (int i = 0; i < 3; i++) assert_int_equal(eio_payload_next(&pl.r, &p), -1);
  free(pl.buf);
}

/* ---- writing payload segments ---- */

static void segment_len_of_text_is_the_frame(void **state) {
  assert_int_equal(eio_payload_segment_len(false, 0), 0);
  assert_int_equal(eio_payload_segment_len(false, 6), 6);
}

static void segment_len_of_binary_is_b_plus_base64(void **state) {
  assert_int_equal(eio_payload_segment_len(true, 0), 1);
  assert_int_equal(eio_payload_segment_len(true, 1), 5);
  assert_int_equal(eio_payload_segment_len(true, 3), 5);
  assert_int_equal(eio_payload_segment_len(true, 4), 9);
}

static void writes_a_text_segment_as_is(void **state) {
  uint8_t out[16];
  memset(out, '#', sizeof out);
  uint8_t *end = eio_payload_write_segment(out, false, (const uint8_t *)"4hello", 6);
  assert_ptr_equal(end, out + 6);
  assert_memory_equal(out, "4hello", 6);
  assert_int_equal(out[6], '#');
}

static void writes_a_binary_segment_as_b_and_base64(void **state) {
  const uint8_t data[] = {1, 2, 3, 4};
  uint8_t out[16];
  memset(out, '#', sizeof out);
  uint8_t *end = eio_payload_write_segment(out, true, data, sizeof data);
  assert_ptr_equal(end, out + eio_payload_segment_len(true, sizeof data));
  assert_memory_equal(out, "bAQIDBA==", 9);
  assert_int_equal(out[9], '#');
}

static void writes_an_empty_binary_segment_as_b(void **state) {
  uint8_t out[2] = {'#', '#'};
  assert_ptr_equal(eio_payload_write_segment(out, true, NULL, 0), out + 1);
  assert_int_equal(out[0], 'b');
  assert_int_equal(out[1], '#');
}

/* What the server writes, its peer reads back: segments joined by the separator. */
static void written_payload_reads_back(void **state) {
  const uint8_t bin[] = {0x1e, 0x00, 0xff, 'b'};
  uint8_t body[64];
  uint8_t *w = body;
  w = eio_payload_write_segment(w, false, (const uint8_t *)"2", 1);
  *w++ = EIO_RECORD_SEPARATOR;
  w = eio_payload_write_segment(w, true, bin, sizeof bin);
  *w++ = EIO_RECORD_SEPARATOR;
  w = eio_payload_write_segment(w, false, (const uint8_t *)"4[\"ev\"]", 7);
  assert_int_equal(w - body, 1 + 1 + 9 + 1 + 7);

  eio_payload_reader r;
  eio_packet p;
  eio_payload_reader_init(&r, body, (size_t)(w - body));
  assert_int_equal(eio_payload_next(&r, &p), 1);
  assert_packet(&p, EIO_PING, false, "", 0);
  assert_int_equal(eio_payload_next(&r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, true, (const char *)bin, sizeof bin);
  assert_int_equal(eio_payload_next(&r, &p), 1);
  assert_packet(&p, EIO_MESSAGE, false, "[\"ev\"]", 6);
  assert_int_equal(eio_payload_next(&r, &p), 0);
}

/* ---- the open packet ---- */

static void open_frame_offers_the_websocket_upgrade(void **state) {
  char out[256];
  int n = eio_open_frame(out, sizeof out, "AbC-12_x", true, 25000, 20000, 1000000);
  const char *want = "0{\"sid\":\"AbC-12_x\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,"
                     "\"pingTimeout\":20000,\"maxPayload\":1000000}";
  assert_string_equal(out, want);
  assert_int_equal(n, strlen(want));
}

static void open_frame_without_upgrade_has_empty_upgrades(void **state) {
  char out[256];
  int n = eio_open_frame(out, sizeof out, "sid", false, 25000, 20000, 1000000);
  const char *want = "0{\"sid\":\"sid\",\"upgrades\":[],\"pingInterval\":25000,"
                     "\"pingTimeout\":20000,\"maxPayload\":1000000}";
  assert_string_equal(out, want);
  assert_int_equal(n, strlen(want));
}

static void open_frame_writes_the_configured_timings(void **state) {
  char out[256];
  assert_true(eio_open_frame(out, sizeof out, "s", false, 300, 200, 100000000) > 0);
  assert_string_equal(out, "0{\"sid\":\"s\",\"upgrades\":[],\"pingInterval\":300,"
                           "\"pingTimeout\":200,\"maxPayload\":100000000}");
}

static void open_frame_needs_room_for_the_terminator(void **state) {
  char out[128];
  int n = eio_open_frame(out, sizeof out, "sid", false, 25000, 20000, 1000000);
  assert_true(n > 0);
  assert_int_equal(eio_open_frame(out, (size_t)n, "sid", false, 25000, 20000, 1000000), -1);
  assert_int_equal(eio_open_frame(out, (size_t)n + 1, "sid", false, 25000, 20000, 1000000), n);
  assert_int_equal(eio_open_frame(NULL, 0, "sid", false, 25000, 20000, 1000000), -1);
}

static void open_frame_rejects_a_sid_needing_escapes(void **state) {
  static const char *bad[] = {"", "a\"b", "a\\b", "a b", "a/b", "a+b", "ab=", "\xc3\xa9",
                              "a\nb", "a}"};
  char out[128];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (eio_open_frame(out, sizeof out, bad[i], true, 25000, 20000, 1000000) != -1)
      fail_msg("accepted sid \"%s\"", bad[i]);
  assert_int_equal(eio_open_frame(out, sizeof out, NULL, true, 25000, 20000, 1000000), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(decodes_every_packet_type),
      cmocka_unit_test(message_with_empty_data),
      cmocka_unit_test(ping_probe_carries_its_data),
      cmocka_unit_test(data_points_into_the_frame),
      cmocka_unit_test(data_is_opaque_bytes),
      cmocka_unit_test(rejects_an_empty_frame),
      cmocka_unit_test(rejects_unknown_types),
      cmocka_unit_test(rejects_base64_binary_in_a_text_frame),
      cmocka_unit_test(payload_with_one_text_packet),
      cmocka_unit_test(payload_splits_at_record_separators),
      cmocka_unit_test(payload_end_is_sticky),
      cmocka_unit_test(payload_binary_segment_is_decoded_in_place),
      cmocka_unit_test(payload_binary_segment_may_be_empty),
      cmocka_unit_test(payload_mixes_text_and_binary),
      cmocka_unit_test(payload_reads_only_the_given_length),
      cmocka_unit_test(payload_empty_body_is_malformed),
      cmocka_unit_test(payload_empty_segment_is_malformed),
      cmocka_unit_test(payload_leading_separator_is_malformed),
      cmocka_unit_test(payload_trailing_separator_is_malformed),
      cmocka_unit_test(payload_unknown_type_is_malformed),
      cmocka_unit_test(payload_bad_base64_is_malformed),
      cmocka_unit_test(payload_error_is_sticky),
      cmocka_unit_test(segment_len_of_text_is_the_frame),
      cmocka_unit_test(segment_len_of_binary_is_b_plus_base64),
      cmocka_unit_test(writes_a_text_segment_as_is),
      cmocka_unit_test(writes_a_binary_segment_as_b_and_base64),
      cmocka_unit_test(writes_an_empty_binary_segment_as_b),
      cmocka_unit_test(written_payload_reads_back),
      cmocka_unit_test(open_frame_offers_the_websocket_upgrade),
      cmocka_unit_test(open_frame_without_upgrade_has_empty_upgrades),
      cmocka_unit_test(open_frame_writes_the_configured_timings),
      cmocka_unit_test(open_frame_needs_room_for_the_terminator),
      cmocka_unit_test(open_frame_rejects_a_sid_needing_escapes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
