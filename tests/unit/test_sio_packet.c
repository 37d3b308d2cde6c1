/* sio_packet: the Socket.IO v5 packet codec, held to socket.io-parser 4.2's behaviour.
 * Text form: <type>[<attachments>-][<nsp>,][<ack id>][<JSON>]. Expected results of odd inputs
 * were checked against the reference decoder (Node.js) and are hard-coded here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sio/sio_packet.h"
#include "util/json_write.h"

/* ---- helpers ---- */

static sio_packet decode_lim_ok(const char *text, size_t len, const sio_codec_limits *lim) {
  sio_packet p;
  if (sio_packet_decode(text, len, lim, &p) != 0) fail_msg("refused: \"%.*s\"", (int)len, text);
  return p;
}

static sio_packet decode_ok(const char *text) {
  return decode_lim_ok(text, strlen(text), NULL);
}

static void assert_refused_lim(const char *text, size_t len, const sio_codec_limits *lim) {
  sio_packet p;
  if (sio_packet_decode(text, len, lim, &p) != -1)
    fail_msg("accepted: \"%.*s\"", (int)len, text);
  /* Nothing to free after an error. */
  assert_null(p.nsp);
  assert_null(p.data);
}

static void assert_refused(const char *text) { assert_refused_lim(text, strlen(text), NULL); }

/* Asserts every field of a decoded packet; data_json NULL means no data. Clears p. */
static void assert_packet(sio_packet *p, sio_packet_type type, unsigned attachments,
                          const char *nsp, int64_t id, const char *data_json) {
  assert_int_equal(p->type, type);
  assert_int_equal(p->attachments, attachments);
  assert_string_equal(p->nsp, nsp);
  assert_int_equal(p->id, id);
  if (!data_json) {
    assert_null(p->data);
  } else {
    sbuf b;
    sbuf_init(&b, 0);
    assert_true(json_write(&b, p->data, 64));
    sbuf_append_byte(&b, '\0');
    assert_string_equal((char *)b.data, data_json);
    sbuf_free(&b);
  }
  sio_packet_clear(p);
  assert_null(p->nsp);
  assert_null(p->data);
}

static void assert_decodes(const char *text, sio_packet_type type, unsigned attachments,
                           const char *nsp, int64_t id, const char *data_json) {
  sio_packet p = decode_ok(text);
  assert_packet(&p, type, attachments, nsp, id, data_json);
}

/* Encodes and compares with the expected text. `data_json` is parsed first (NULL: none). */
static void assert_encodes(sio_packet_type type, const char *nsp, int64_t id,
                           const char *data_json, unsigned attachments, const char *expected) {
  json_t *data = NULL;
  if (data_json) {
    json_error_t err;
    data = json_loads(data_json, JSON_DECODE_ANY, &err);
    assert_non_null(data);
  }
  sbuf b;
  sbuf_init(&b, 0);
  assert_true(sio_packet_encode(&b, type, nsp, id, data, attachments, 32));
  sbuf_append_byte(&b, '\0');
  assert_string_equal((char *)b.data, expected);
  sbuf_free(&b);
  json_decref(data);
}

/* Decoding then encoding gives `expected` back. */
static void assert_reencodes(const char *text, const char *expected) {
  sio_packet p = decode_ok(text);
  sbuf b;
  sbuf_init(&b, 0);
  assert_true(sio_packet_encode(&b, p.type, p.nsp, p.id, p.data, p.attachments, 32));
  sbuf_append_byte(&b, '\0');
  assert_string_equal((char *)b.data, expected);
  sbuf_free(&b);
  sio_packet_clear(&p);
}

/* "[[[ ... ]]]" with `depth` levels, wrapped as an EVENT: 2["e",[[...]]] (depth counts the
 * outer array). */
static char *event_with_depth(unsigned depth) {
  size_t inner = depth - 1, len = 6 + 2 * inner + 1;
  char *s = malloc(len + 1);
  memcpy(s, "2[\"e\",", 6);
  memset(s + 6, '[', inner);
  memset(s + 6 + inner, ']', inner);
  s[6 + 2 * inner] = ']';
  s[len] = '\0';
  return s;
}

/* ---- CONNECT (0) ---- */

static void connect_to_main_namespace(void **state) {
  assert_decodes("0", SIO_PACKET_CONNECT, 0, "/", -1, NULL);
}

static void connect_to_custom_namespace(void **state) {
  assert_decodes("0/admin,", SIO_PACKET_CONNECT, 0, "/admin", -1, NULL);
  assert_decodes("0/admin", SIO_PACKET_CONNECT, 0, "/admin", -1, NULL); /* comma optional */
}

static void connect_with_auth_payload(void **state) {
  assert_decodes("0{\"token\":\"x\"}", SIO_PACKET_CONNECT, 0, "/", -1, "{\"token\":\"x\"}");
  assert_decodes("0/admin,{\"token\":\"x\"}", SIO_PACKET_CONNECT, 0, "/admin", -1,
                 "{\"token\":\"x\"}");
}

static void connect_payload_must_be_an_object(void **state) {
  assert_refused("0[]");
  assert_refused("0\"x\"");
  assert_refused("0null");
  assert_refused("0/admin,true");
}

/* Number("") and Number(" ") are 0: the reference reads an empty or whitespace-led packet as
 * a CONNECT. */
static void empty_or_whitespace_led_packet_is_connect(void **state) {
  sio_packet p = decode_lim_ok("", 0, NULL);
  assert_packet(&p, SIO_PACKET_CONNECT, 0, "/", -1, NULL);
  assert_decodes(" ", SIO_PACKET_CONNECT, 0, "/", -1, NULL);
  assert_decodes(" {}", SIO_PACKET_CONNECT, 0, "/", -1, "{}");
  assert_decodes("\t/admin,{}", SIO_PACKET_CONNECT, 0, "/admin", -1, "{}");
  assert_decodes("\xC2\xA0{}", SIO_PACKET_CONNECT, 0, "/", -1, "{}");     /* U+00A0 */
  assert_decodes("\xEF\xBB\xBF{}", SIO_PACKET_CONNECT, 0, "/", -1, "{}"); /* U+FEFF */
  assert_refused("\xE1\xA0\x8E{}"); /* U+180E is no longer whitespace: NaN */
}

/* ---- DISCONNECT (1) ---- */

static void disconnect(void **state) {
  assert_decodes("1", SIO_PACKET_DISCONNECT, 0, "/", -1, NULL);
  assert_decodes("1/admin,", SIO_PACKET_DISCONNECT, 0, "/admin", -1, NULL);
}

static void disconnect_with_payload_is_refused(void **state) {
  assert_refused("1{}");
  assert_refused("1/admin,[]");
  assert_refused("1null");
}

/* ---- EVENT (2) ---- */

static void event_with_string_name(void **state) {
  assert_decodes("2[\"hello\",1]", SIO_PACKET_EVENT, 0, "/", -1, "[\"hello\",1]");
  assert_decodes("2/admin,[\"hello\"]", SIO_PACKET_EVENT, 0, "/admin", -1, "[\"hello\"]");
}

static void event_with_numeric_name(void **state) {
  assert_decodes("2[1,2]", SIO_PACKET_EVENT, 0, "/", -1, "[1,2]");
  assert_decodes("2[1.5]", SIO_PACKET_EVENT, 0, "/", -1, "[1.5]");
}

static void event_with_ack_id(void **state) {
  assert_decodes("21[\"ask\"]", SIO_PACKET_EVENT, 0, "/", 1, "[\"ask\"]");
  assert_decodes("2/admin,456[\"ask\"]", SIO_PACKET_EVENT, 0, "/admin", 456, "[\"ask\"]");
  assert_decodes("20[\"ask\"]", SIO_PACKET_EVENT, 0, "/", 0, "[\"ask\"]");
  assert_decodes("2007[\"ask\"]", SIO_PACKET_EVENT, 0, "/", 7, "[\"ask\"]");
}

/* The reference checks the payload only when there is one. */
static void event_without_payload_is_accepted(void **state) {
  assert_decodes("2", SIO_PACKET_EVENT, 0, "/", -1, NULL);
  assert_decodes("21", SIO_PACKET_EVENT, 0, "/", 1, NULL);
  assert_decodes("2/admin,", SIO_PACKET_EVENT, 0, "/admin", -1, NULL);
}

static void event_name_must_be_string_or_number(void **state) {
  assert_refused("2[]");
  assert_refused("2[null]");
  assert_refused("2[true]");
  assert_refused("2[{}]");
  assert_refused("2[[\"a\"]]");
}

static void event_payload_must_be_an_array(void **state) {
  assert_refused("2{}");
  assert_refused("2\"hello\"");
  assert_refused("2true");
  assert_refused("2null");
}

static void event_rejects_reserved_name_connect(void **state) {
  assert_refused("2[\"connect\"]");
}
static void event_rejects_reserved_name_connect_error(void **state) {
  assert_refused("2[\"connect_error\",{}]");
}
static void event_rejects_reserved_name_disconnect(void **state) {
  assert_refused("2/admin,[\"disconnect\"]");
}
static void event_rejects_reserved_name_disconnecting(void **state) {
  assert_refused("21[\"disconnecting\"]");
}
static void event_rejects_reserved_name_newListener(void **state) {
  assert_refused("2[\"newListener\"]");
}
static void event_rejects_reserved_name_removeListener(void **state) {
  assert_refused("51-[\"removeListener\",{\"_placeholder\":true,\"num\":0}]");
}

static void names_close_to_reserved_ones_are_events(void **state) {
  assert_decodes("2[\"Connect\"]", SIO_PACKET_EVENT, 0, "/", -1, "[\"Connect\"]");
  assert_decodes("2[\"connect \"]", SIO_PACKET_EVENT, 0, "/", -1, "[\"connect \"]");
  assert_decodes("2[\"connect\\u0000\"]", SIO_PACKET_EVENT, 0, "/", -1, "[\"connect\\u0000\"]");
}

/* ---- ACK (3) ---- */

static void ack_with_id_and_array(void **state) {
  assert_decodes("3/admin,21[true]", SIO_PACKET_ACK, 0, "/admin", 21, "[true]");
  assert_decodes("31[]", SIO_PACKET_ACK, 0, "/", 1, "[]");
  assert_decodes("3", SIO_PACKET_ACK, 0, "/", -1, NULL);
}

static void ack_payload_must_be_an_array(void **state) {
  assert_refused("31{}");
  assert_refused("31\"x\"");
  assert_refused("3/admin,true");
}

/* ---- CONNECT_ERROR (4) ---- */

static void connect_error_with_object_or_string(void **state) {
  assert_decodes("4{\"message\":\"x\"}", SIO_PACKET_CONNECT_ERROR, 0, "/", -1,
                 "{\"message\":\"x\"}");
  assert_decodes("4/random,\"err\"", SIO_PACKET_CONNECT_ERROR, 0, "/random", -1, "\"err\"");
  assert_decodes("4", SIO_PACKET_CONNECT_ERROR, 0, "/", -1, NULL);
}

static void connect_error_payload_must_be_object_or_string(void **state) {
  assert_refused("4[]");
  assert_refused("4null");
  assert_refused("4true");
}

/* ---- BINARY_EVENT (5) and BINARY_ACK (6) ---- */

static void binary_event_with_attachments_header(void **state) {
  assert_decodes("51-[\"f\",{\"_placeholder\":true,\"num\":0}]", SIO_PACKET_BINARY_EVENT, 1, "/",
                 -1, "[\"f\",{\"_placeholder\":true,\"num\":0}]");
  assert_decodes("52-/admin,7[\"f\",{\"_placeholder\":true,\"num\":1}]", SIO_PACKET_BINARY_EVENT,
                 2, "/admin", 7, "[\"f\",{\"_placeholder\":true,\"num\":1}]");
  assert_decodes("510-[1]", SIO_PACKET_BINARY_EVENT, 10, "/", -1, "[1]");
}

static void binary_ack_with_attachments_header(void **state) {
  assert_decodes("61-/admin,3[{\"_placeholder\":true,\"num\":0}]", SIO_PACKET_BINARY_ACK, 1,
                 "/admin", 3, "[{\"_placeholder\":true,\"num\":0}]");
  assert_decodes("61-3[\"x\"]", SIO_PACKET_BINARY_ACK, 1, "/", 3, "[\"x\"]");
}

static void binary_event_follows_event_payload_rules(void **state) {
  assert_refused("51-{}");
  assert_refused("51-[]");
  assert_refused("61-{}");
}

static void attachments_count_must_be_1_to_max(void **state) {
  assert_refused("50-[1]");
  assert_refused("5-[1]");   /* Number("") is 0 */
  assert_refused("511-[1]"); /* default max 10 */
  assert_refused("51.5-[1]");
  assert_refused("5a-[1]");
  assert_refused("5Infinity-[1]");
  assert_refused("5-1-[1]");
  assert_refused("599999999999999999999999-[1]");
  sio_codec_limits lim = sio_codec_default_limits;
  lim.max_attachments = 2;
  sio_packet p = decode_lim_ok("62-[1]", 6, &lim);
  assert_packet(&p, SIO_PACKET_BINARY_ACK, 2, "/", -1, "[1]");
  assert_refused_lim("63-[1]", 6, &lim);
}

/* The count is whatever Number() makes of the text before '-'. */
static void attachments_count_is_read_like_js_number(void **state) {
  assert_decodes("5 2 -[1]", SIO_PACKET_BINARY_EVENT, 2, "/", -1, "[1]");
  assert_decodes("50x2-[1]", SIO_PACKET_BINARY_EVENT, 2, "/", -1, "[1]");
  assert_decodes("51.0-[1]", SIO_PACKET_BINARY_EVENT, 1, "/", -1, "[1]");
  assert_decodes("5+3-[1]", SIO_PACKET_BINARY_EVENT, 3, "/", -1, "[1]");
  assert_decodes("5.3e1-[1]", SIO_PACKET_BINARY_EVENT, 3, "/", -1, "[1]");
}

static void truncated_packets(void **state) {
  assert_refused("5");  /* no '-' */
  assert_refused("51"); /* no '-' */
  assert_refused("6");
  assert_decodes("51-", SIO_PACKET_BINARY_EVENT, 1, "/", -1, NULL);
  assert_decodes("2/nsp", SIO_PACKET_EVENT, 0, "/nsp", -1, NULL);
  assert_decodes("2/", SIO_PACKET_EVENT, 0, "/", -1, NULL);
  assert_refused("2[\"a\"");
  assert_refused("2[\"a");
}

/* ---- framing ---- */

static void unknown_types_are_refused(void **state) {
  assert_refused("7");
  assert_refused("9[\"a\"]");
  assert_refused("x");
  assert_refused("-1");
  assert_refused("/admin,");
  assert_refused_lim("\0", 1, NULL);
}

static void namespace_is_read_only_right_after_the_type(void **state) {
  /* "x/y" after the type is not a namespace: it is (invalid) JSON. */
  assert_refused("2x/y,[\"a\"]");
  /* A namespace runs to the first comma. */
  assert_decodes("2/a/b,[\"x,y\"]", SIO_PACKET_EVENT, 0, "/a/b", -1, "[\"x,y\"]");
  assert_decodes("0/é,", SIO_PACKET_CONNECT, 0, "/é", -1, NULL);
}

static void namespace_length_is_limited(void **state) {
  char text[300] = "0/";
  memset(text + 2, 'n', 255); /* "/" + 255 bytes: 256, the default maximum */
  text[257] = ',';
  sio_packet p = decode_lim_ok(text, 258, NULL);
  assert_int_equal(strlen(p.nsp), 256);
  sio_packet_clear(&p);
  text[257] = 'n'; /* 257 bytes, no comma */
  assert_refused_lim(text, 258, NULL);
}

static void namespace_with_nul_is_refused(void **state) {
  assert_refused_lim("0/a\0b,", 6, NULL);
}

/* Number(c) == c holds for whitespace too, so the reference counts it in the id run. */
static void whitespace_is_part_of_the_ack_id_run(void **state) {
  assert_decodes("2 [\"a\"]", SIO_PACKET_EVENT, 0, "/", 0, "[\"a\"]");   /* Number(" ") */
  assert_decodes("2 1 [\"a\"]", SIO_PACKET_EVENT, 0, "/", 1, "[\"a\"]"); /* Number(" 1 ") */
  assert_decodes("2/a,\xE3\x80\x80[1]", SIO_PACKET_EVENT, 0, "/a", 0, "[1]"); /* U+3000 */
  assert_refused("2 1 2[\"a\"]"); /* Number(" 1 2") is NaN */
}

static void ack_id_must_fit_in_2_pow_53(void **state) {
  assert_decodes("29007199254740991[\"a\"]", SIO_PACKET_EVENT, 0, "/", 9007199254740991LL,
                 "[\"a\"]");
  assert_refused("29007199254740992[\"a\"]");
  assert_refused("2123456789012345678901234567890[\"a\"]");
  assert_decodes("20000000000000000000000000000000042[\"a\"]", SIO_PACKET_EVENT, 0, "/", 42,
                 "[\"a\"]");
}

static void invalid_json_is_refused(void **state) {
  assert_refused("2[\"a\",]");
  assert_refused("2[\"a\"]x");
  assert_refused("2['a']");
  assert_refused("2x");
  assert_refused("2[\"a\",NaN]");
  assert_refused("2[\"\\x\"]");
  assert_refused("2[\"tab\there\"]"); /* raw control character */
  assert_refused_lim("2[\"a\xff\"]", 7, NULL); /* invalid UTF-8 */
}

static void json_whitespace_after_the_payload_is_allowed(void **state) {
  assert_decodes("2[\"a\"] \n", SIO_PACKET_EVENT, 0, "/", -1, "[\"a\"]");
}

static void depth_limit_applies_before_parsing(void **state) {
  char *ok = event_with_depth(32), *deep = event_with_depth(33);
  sio_packet p = decode_ok(ok);
  sio_packet_clear(&p);
  assert_refused(deep);
  sio_codec_limits lim = sio_codec_default_limits;
  lim.max_depth = 33;
  p = decode_lim_ok(deep, strlen(deep), &lim);
  sio_packet_clear(&p);
  free(ok);
  free(deep);
  /* 100000 levels: refused by the scan, never reaching a recursive parser. */
  char *huge = event_with_depth(100000);
  assert_refused(huge);
  free(huge);
}

static void brackets_inside_strings_do_not_count(void **state) {
  char text[200];
  snprintf(text, sizeof text, "2[\"%s\",\"\\\"[[\",{\"k[\":\"]]\"}]",
           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
  sio_packet p = decode_ok(text);
  assert_int_equal(json_array_size(p.data), 3);
  sio_packet_clear(&p);
}

/* JSON.parse reads every number as a double; jansson refuses integers beyond 64 bits unless
 * asked to read them as reals, which the decoder then does. */
static void huge_integers_are_read_as_doubles(void **state) {
  assert_decodes("2[\"n\",12345678901234567890]", SIO_PACKET_EVENT, 0, "/", -1,
                 "[\"n\",12345678901234567000]");
  /* Within 64 bits jansson keeps the exact integer, and json_write prints it whole: Node
   * would print 9223372036854776000, which a JS client reads as the same number. */
  assert_decodes("2[\"n\",9223372036854775807]", SIO_PACKET_EVENT, 0, "/", -1,
                 "[\"n\",9223372036854775807]");
}

/* The fallback is for the whole payload: next to a huge integer, small ones become reals
 * too (read them with json_number_value). */
static void next_to_a_huge_integer_all_numbers_are_reals(void **state) {
  sio_packet p = decode_ok("2[\"n\",5,12345678901234567890]");
  assert_true(json_is_real(json_array_get(p.data, 1)));
  assert_true(json_number_value(json_array_get(p.data, 1)) == 5.0);
  sio_packet_clear(&p);
  p = decode_ok("2[\"n\",5]");
  assert_true(json_is_integer(json_array_get(p.data, 1)));
  sio_packet_clear(&p);
}

/* Known differences with JSON.parse (which accepts these): see sio_packet.c. */
static void what_jansson_refuses_is_refused(void **state) {
  assert_refused("2[\"n\",1e400]");
  assert_refused("2[\"\\ud800\"]");
  assert_refused("2[\"o\",{\"a\\u0000b\":1}]");
}

static void nul_escapes_in_strings_are_kept(void **state) {
  sio_packet p = decode_ok("2[\"a\\u0000b\"]");
  const json_t *s = json_array_get(p.data, 0);
  assert_int_equal(json_string_length(s), 3);
  assert_memory_equal(json_string_value(s), "a\0b", 3);
  sio_packet_clear(&p);
}

static void default_limits(void **state) {
  assert_int_equal(sio_codec_default_limits.max_attachments, 10);
  assert_int_equal(sio_codec_default_limits.max_depth, 32);
  assert_int_equal(sio_codec_default_limits.max_nsp_len, 256);
}

/* ---- placeholders ---- */

static void placeholder_new_and_get(void **state) {
  json_t *ph = sio_placeholder_new(3);
  unsigned num = 99;
  assert_true(sio_placeholder_get(ph, &num));
  assert_int_equal(num, 3);
  sbuf b;
  sbuf_init(&b, 0);
  assert_true(json_write(&b, ph, 4));
  sbuf_append_byte(&b, '\0');
  assert_string_equal((char *)b.data, "{\"_placeholder\":true,\"num\":3}");
  sbuf_free(&b);
  json_decref(ph);
}

static void placeholder_get_needs_true_flag_and_integer_num(void **state) {
  const char *not_placeholders[] = {
      "{\"_placeholder\":false,\"num\":0}", "{\"num\":0}", "{\"_placeholder\":1,\"num\":0}",
      "{\"_placeholder\":true}", "{\"_placeholder\":true,\"num\":\"0\"}",
      "{\"_placeholder\":true,\"num\":-1}", "{\"_placeholder\":true,\"num\":1.5}",
      "[true,0]", "null",
  };
  for (size_t i = 0; i < sizeof not_placeholders / sizeof *not_placeholders; i++) {
    json_error_t err;
    json_t *v = json_loads(not_placeholders[i], JSON_DECODE_ANY, &err);
    assert_false(sio_placeholder_get(v, NULL));
    json_decref(v);
  }
}

static int check(const char *json, unsigned count) {
  json_error_t err;
  json_t *v = json_loads(json, JSON_DECODE_ANY, &err);
  assert_non_null(v);
  int rc = sio_packet_check_placeholders(v, count);
  json_decref(v);
  return rc;
}

static void placeholders_below_count_are_valid(void **state) {
  assert_int_equal(check("[\"f\",{\"_placeholder\":true,\"num\":0},"
                         "{\"a\":[{\"_placeholder\":true,\"num\":1}]}]", 2), 0);
  assert_int_equal(check("[\"f\",{\"_placeholder\":true,\"num\":1.0}]", 2), 0);
  assert_int_equal(check("[\"no placeholders\",{\"a\":[1,2]}]", 0), 0);
  assert_int_equal(sio_packet_check_placeholders(NULL, 0), 0);
}

static void placeholder_num_at_or_past_count_is_invalid(void **state) {
  assert_int_equal(check("[\"f\",{\"_placeholder\":true,\"num\":1}]", 1), -1);
  assert_int_equal(check("{\"deep\":[[{\"_placeholder\":true,\"num\":5}]]}", 2), -1);
}

static void placeholder_with_bad_num_is_invalid(void **state) {
  assert_int_equal(check("[{\"_placeholder\":true,\"num\":\"0\"}]", 1), -1);
  assert_int_equal(check("[{\"_placeholder\":true,\"num\":-1}]", 1), -1);
  assert_int_equal(check("[{\"_placeholder\":true,\"num\":0.5}]", 1), -1);
  assert_int_equal(check("[{\"_placeholder\":true}]", 1), -1);
}

/* Only `_placeholder: true` marks a placeholder, as in the reference. */
static void objects_without_true_flag_are_plain_data(void **state) {
  assert_int_equal(check("[{\"_placeholder\":1,\"num\":99},{\"_placeholder\":\"true\"}]", 0), 0);
}

static void placeholder_check_walks_deep_values_iteratively(void **state) {
  json_t *v = sio_placeholder_new(4);
  for (int i = 0; i < 10000; i++) {
    json_t *outer = json_array();
    json_array_append_new(outer, v);
    v = outer;
  }
  assert_int_equal(sio_packet_check_placeholders(v, 5), 0);
  assert_int_equal(sio_packet_check_placeholders(v, 4), -1);
  json_decref(v);
}

/* ---- encoding ---- */

static void encode_each_type_without_extras(void **state) {
  assert_encodes(SIO_PACKET_CONNECT, NULL, -1, NULL, 0, "0");
  assert_encodes(SIO_PACKET_DISCONNECT, NULL, -1, NULL, 0, "1");
  assert_encodes(SIO_PACKET_EVENT, "/", -1, "[\"a\"]", 0, "2[\"a\"]");
  assert_encodes(SIO_PACKET_ACK, "/", 5, "[]", 0, "35[]");
  assert_encodes(SIO_PACKET_CONNECT_ERROR, NULL, -1, "{\"message\":\"x\"}", 0,
                 "4{\"message\":\"x\"}");
  assert_encodes(SIO_PACKET_BINARY_EVENT, NULL, -1, "[\"a\",{\"_placeholder\":true,\"num\":0}]",
                 1, "51-[\"a\",{\"_placeholder\":true,\"num\":0}]");
  assert_encodes(SIO_PACKET_BINARY_ACK, NULL, 9, "[{\"_placeholder\":true,\"num\":0}]", 1,
                 "61-9[{\"_placeholder\":true,\"num\":0}]");
}

static void encode_connect_reply_with_namespace(void **state) {
  assert_encodes(SIO_PACKET_CONNECT, "/admin", -1, "{\"sid\":\"abc\"}", 0,
                 "0/admin,{\"sid\":\"abc\"}");
  assert_encodes(SIO_PACKET_CONNECT_ERROR, "/random", -1,
                 "{\"message\":\"Invalid namespace\"}", 0,
                 "4/random,{\"message\":\"Invalid namespace\"}");
}

static void encode_event_with_namespace_and_id(void **state) {
  assert_encodes(SIO_PACKET_EVENT, "/admin", 12, "[\"a\",0.1,1.0,1e21]", 0,
                 "2/admin,12[\"a\",0.1,1,1e+21]");
  assert_encodes(SIO_PACKET_EVENT, NULL, 0, "[\"a\"]", 0, "20[\"a\"]");
}

static void encode_binary_packets_with_namespace_and_id(void **state) {
  assert_encodes(SIO_PACKET_BINARY_EVENT, "/admin", 3,
                 "[\"f\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", 2,
                 "52-/admin,3[\"f\",{\"_placeholder\":true,\"num\":0},"
                 "{\"_placeholder\":true,\"num\":1}]");
}

static void encode_writes_attachments_only_for_binary_types(void **state) {
  assert_encodes(SIO_PACKET_EVENT, NULL, -1, "[\"a\"]", 3, "2[\"a\"]");
}

static void encode_omits_main_or_empty_namespace(void **state) {
  assert_encodes(SIO_PACKET_DISCONNECT, "/", -1, NULL, 0, "1");
  assert_encodes(SIO_PACKET_DISCONNECT, "", -1, NULL, 0, "1");
  assert_encodes(SIO_PACKET_DISCONNECT, "/chat", -1, NULL, 0, "1/chat,");
}

/* The reference writes data only when `null != data`. */
static void encode_omits_json_null_data(void **state) {
  assert_encodes(SIO_PACKET_CONNECT, NULL, -1, "null", 0, "0");
}

static void encode_escapes_strings_like_json_stringify(void **state) {
  assert_encodes(SIO_PACKET_EVENT, NULL, -1, "[\"m\",\"\\\"/\\n\\u0001é\"]", 0,
                 "2[\"m\",\"\\\"/\\n\\u0001é\"]");
}

static void encode_too_deep_fails_and_leaves_the_buffer(void **state) {
  sbuf b;
  sbuf_init(&b, 0);
  sbuf_append_str(&b, "prefix");
  json_t *v = json_pack("[s,[[[]]]]", "e");
  assert_false(sio_packet_encode(&b, SIO_PACKET_EVENT, "/a", 1, v, 0, 3));
  assert_int_equal(b.len, 6);
  assert_false(b.failed);
  assert_true(sio_packet_encode(&b, SIO_PACKET_EVENT, "/a", 1, v, 0, 4));
  sbuf_append_byte(&b, '\0');
  assert_string_equal((char *)b.data, "prefix2/a,1[\"e\",[[[]]]]");
  sbuf_free(&b);
  json_decref(v);
}

static void encode_into_a_full_buffer_fails(void **state) {
  sbuf b;
  sbuf_init(&b, 4);
  json_t *v = json_pack("[s]", "hello");
  assert_false(sio_packet_encode(&b, SIO_PACKET_EVENT, NULL, -1, v, 0, 4));
  assert_true(b.failed);
  assert_int_equal(b.len, 0);
  sbuf_free(&b);
  json_decref(v);
}

/* ---- round trips ---- */

static void canonical_packets_round_trip(void **state) {
  const char *texts[] = {
      "0",
      "0/admin,{\"token\":\"x\"}",
      "1/admin,",
      "2[\"hello\",1]",
      "21[\"ask\"]",
      "3/admin,21[true]",
      "4/random,{\"message\":\"Invalid namespace\"}",
      "4\"not authorized\"",
      "51-[\"f\",{\"_placeholder\":true,\"num\":0}]",
      "62-/admin,9[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]",
      "2[\"m\",1,\"2\",{\"3\":[true]}]",
      "2[\"n\",0.1,-2.5e-7,1e+21,123456789012345680000,-9007199254740991]",
      "2[\"s\",\"é😀\\u0000\\\"\\\\/\\n\\u001f\"]",
      "2[\"o\",{\"1\":1,\"10\":2,\"b\":3,\"a\":4}]",
  };
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) assert_reencodes(texts[i], texts[i]);
}

/* Whatever a Node server would print after JSON.parse. */
static void other_packets_reencode_as_the_reference_would(void **state) {
  assert_reencodes("2[\"n\",1.0,1e2,1E-7,-0,0.10]", "2[\"n\",1,100,1e-7,0,0.1]");
  assert_reencodes("2[\"o\",{\"b\":1,\"1\":2,\"0\":3}]", "2[\"o\",{\"0\":3,\"1\":2,\"b\":1}]");
  assert_reencodes("2[\"u\",\"\\u00e9\\/\"]", "2[\"u\",\"é/\"]");
  assert_reencodes("2 [\"a\"]", "20[\"a\"]");
  assert_reencodes("0/admin", "0/admin,");
  assert_reencodes("2[ \"a\" , { \"k\" : [ ] } ]", "2[\"a\",{\"k\":[]}]");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(connect_to_main_namespace),
      cmocka_unit_test(connect_to_custom_namespace),
      cmocka_unit_test(connect_with_auth_payload),
      cmocka_unit_test(connect_payload_must_be_an_object),
      cmocka_unit_test(empty_or_whitespace_led_packet_is_connect),
      cmocka_unit_test(disconnect),
      cmocka_unit_test(disconnect_with_payload_is_refused),
      cmocka_unit_test(event_with_string_name),
      cmocka_unit_test(event_with_numeric_name),
      cmocka_unit_test(event_with_ack_id),
      cmocka_unit_test(event_without_payload_is_accepted),
      cmocka_unit_test(event_name_must_be_string_or_number),
      cmocka_unit_test(event_payload_must_be_an_array),
      cmocka_unit_test(event_rejects_reserved_name_connect),
      cmocka_unit_test(event_rejects_reserved_name_connect_error),
      cmocka_unit_test(event_rejects_reserved_name_disconnect),
      cmocka_unit_test(event_rejects_reserved_name_disconnecting),
      cmocka_unit_test(event_rejects_reserved_name_newListener),
      cmocka_unit_test(event_rejects_reserved_name_removeListener),
      cmocka_unit_test(names_close_to_reserved_ones_are_events),
      cmocka_unit_test(ack_with_id_and_array),
      cmocka_unit_test(ack_payload_must_be_an_array),
      cmocka_unit_test(connect_error_with_object_or_string),
      cmocka_unit_test(connect_error_payload_must_be_object_or_string),
      cmocka_unit_test(binary_event_with_attachments_header),
      cmocka_unit_test(binary_ack_with_attachments_header),
      cmocka_unit_test(binary_event_follows_event_payload_rules),
      cmocka_unit_test(attachments_count_must_be_1_to_max),
      cmocka_unit_test(attachments_count_is_read_like_js_number),
      cmocka_unit_test(truncated_packets),
      cmocka_unit_test(unknown_types_are_refused),
      cmocka_unit_test(namespace_is_read_only_right_after_the_type),
      cmocka_unit_test(namespace_length_is_limited),
      cmocka_unit_test(namespace_with_nul_is_refused),
      cmocka_unit_test(whitespace_is_part_of_the_ack_id_run),
      cmocka_unit_test(ack_id_must_fit_in_2_pow_53),
      cmocka_unit_test(invalid_json_is_refused),
      cmocka_unit_test(json_whitespace_after_the_payload_is_allowed),
      cmocka_unit_test(depth_limit_applies_before_parsing),
      cmocka_unit_test(brackets_inside_strings_do_not_count),
      cmocka_unit_test(huge_integers_are_read_as_doubles),
      cmocka_unit_test(next_to_a_huge_integer_all_numbers_are_reals),
      cmocka_unit_test(what_jansson_refuses_is_refused),
      cmocka_unit_test(nul_escapes_in_strings_are_kept),
      cmocka_unit_test(default_limits),
      cmocka_unit_test(placeholder_new_and_get),
      cmocka_unit_test(placeholder_get_needs_true_flag_and_integer_num),
      cmocka_unit_test(placeholders_below_count_are_valid),
      cmocka_unit_test(placeholder_num_at_or_past_count_is_invalid),
      cmocka_unit_test(placeholder_with_bad_num_is_invalid),
      cmocka_unit_test(objects_without_true_flag_are_plain_data),
      cmocka_unit_test(placeholder_check_walks_deep_values_iteratively),
      cmocka_unit_test(encode_each_type_without_extras),
      cmocka_unit_test(encode_connect_reply_with_namespace),
      cmocka_unit_test(encode_event_with_namespace_and_id),
      cmocka_unit_test(encode_binary_packets_with_namespace_and_id),
      cmocka_unit_test(encode_writes_attachments_only_for_binary_types),
      cmocka_unit_test(encode_omits_main_or_empty_namespace),
      cmocka_unit_test(encode_omits_json_null_data),
      cmocka_unit_test(encode_escapes_strings_like_json_stringify),
      cmocka_unit_test(encode_too_deep_fails_and_leaves_the_buffer),
      cmocka_unit_test(encode_into_a_full_buffer_fails),
      cmocka_unit_test(canonical_packets_round_trip),
      cmocka_unit_test(other_packets_reencode_as_the_reference_would),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
