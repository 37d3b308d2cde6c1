/* ws_codec and sha1: the HTTP request head a WebSocket client opens with, the handshake's
 * accept key, frame headers both ways, unmasking and UTF-8 checking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/ws_codec.h"
#include "util/sha1.h"

/* ---- SHA-1 ---- */

static void hex(const uint8_t d[20], char out[41]) {
  for (int i = 0; i < 20; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void assert_sha1(const void *data, size_t len, const char *want_hex) {
  uint8_t d[20];
  char got[41];
  sha1(data, len, d);
  hex(d, got);
  assert_string_equal(got, want_hex);
}

/* RFC 3174, section 7.3, plus the empty message. */
static void sha1_rfc3174_vectors(void **state) {
  assert_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  assert_sha1(two, strlen(two), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  assert_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  assert_sha1(NULL, 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");

  char *million = malloc(1000000);
  assert_non_null(million);
  memset(million, 'a', 1000000);
  assert_sha1(million, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  free(million);

  char eighty[641];
  for (int i = 0; i < 80; i++) memcpy(eighty + 8 * i, "01234567", 8);
  assert_sha1(eighty, 640, "dea356a2cddd90c7a7ecedc5ebb563934f460452");
}

/* Lengths around the padding boundary: 55 bytes leave room for the length in the last block,
 * 56 do not. */
static void sha1_padding_boundaries(void **state) {
  char a[119];
  memset(a, 'a', sizeof a);
  assert_sha1(a, 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
  assert_sha1(a, 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699");
  assert_sha1(a, 63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5");
  assert_sha1(a, 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
  assert_sha1(a, 119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56");
}

static void sha1_incremental_matches_one_shot(void **state) {
  uint8_t msg[300], want[20], got[20];
  for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 131 + 7);
  sha1(msg, sizeof msg, want);

  for (size_t cut = 0; cut <= sizeof msg; cut++) { /* two pieces, cut anywhere */
    sha1_ctx c;
    sha1_init(&c);
    sha1_update(&c, msg, cut);
    sha1_update(&c, msg + cut, sizeof msg - cut);
    sha1_final(&c, got);
    assert_memory_equal(got, want, 20);
  }
  sha1_ctx c; /* one byte at a time */
  sha1_init(&c);
  for (size_t i = 0; i < sizeof msg; i++) sha1_update(&c, msg + i, 1);
  sha1_final(&c, got);
  assert_memory_equal(got, want, 20);
}

/* ---- Sec-WebSocket-Accept ---- */

static void accept_key_rfc6455_example(void **state) {
  char out[29];
  const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
  assert_int_equal(ws_accept_key(key, strlen(key), out), 0);
  assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

  key = "u5hx7dUhT/dNNOYD0+rcGA=="; /* from the captured engine.io-client request below */
  assert_int_equal(ws_accept_key(key, strlen(key), out), 0);
  assert_string_equal(out, "Py+/xEufrsA42M8leoRcDKnBM4k=");
}

static void assert_key_refused(const char *key, size_t len) {
  char out[29];
  memset(out, '#', sizeof out);
  if (ws_accept_key(key, len, out) != -1) fail_msg("accepted key \"%.*s\"", (int)len, key);
  for (size_t i = 0; i < sizeof out; i++) assert_int_equal(out[i], '#'); /* left untouched */
}

static void accept_key_refuses_bad_keys(void **state) {
  assert_key_refused("", 0);
  assert_key_refused("dGhlIHNhbXBsZSBub25jZQ=", 23);    /* one short */
  assert_key_refused("dGhlIHNhbXBsZSBub25jZQ===", 25);  /* one long */
  assert_key_refused("dGhlIHNhbXBsZSBub25jZQ", 22);     /* unpadded 16 bytes */
  assert_key_refused("dGhlIHNhbXBsZSBub25j!Q==", 24);   /* not base64 */
  assert_key_refused("dGhlIHNhbXBsZSBub25j ZQ=", 24);
  assert_key_refused("dGhlIHNhbXBsZSBub25jZQ-_", 24);   /* URL-safe alphabet */
  assert_key_refused("AAAAAAAAAAAAAAAAAAAAAAAA", 24);   /* 18 bytes */
  assert_key_refused("AAAAAAAAAAAAAAAAAAAAAAA=", 24);   /* 17 bytes */
  assert_key_refused("dGhlIHNhbXBsZSBub25jZQ=\0", 24);  /* embedded NUL */
}

/* ---- HTTP request head ---- */

/* What engine.io-client (Node, over the ws package) sends to open a WebSocket, byte for byte. */
static const char eio_client_head[] =
    "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: u5hx7dUhT/dNNOYD0+rcGA==\r\n"
    "Connection: Upgrade\r\n"
    "Upgrade: websocket\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "Host: 127.0.0.1:42883\r\n"
    "\r\n";

/* Fields are not NUL-terminated: compare them as slices. */
#define assert_slice(ptr, len, want)                                                              \
  do {                                                                                            \
    assert_non_null(ptr);                                                                         \
    assert_int_equal((len), strlen(want));                                                        \
    assert_memory_equal((ptr), (want), strlen(want));                                             \
  } while (0)

static int parse_str(const char *s, http_head *h) { return http_head_parse(s, strlen(s), h); }

static void head_parses_engine_io_client_upgrade(void **state) {
  http_head h;
  assert_int_equal(parse_str(eio_client_head, &h), 1);
  assert_int_equal(h.head_len, strlen(eio_client_head));
  assert_slice(h.method, h.method_len, "GET");
  assert_slice(h.target, h.target_len, "/engine.io/?EIO=4&transport=websocket");
  assert_slice(h.path, h.path_len, "/engine.io/");
  assert_slice(h.query, h.query_len, "EIO=4&transport=websocket");
  assert_int_equal(h.minor_version, 1);
  assert_int_equal(h.header_count, 6);
  assert_slice(h.headers[0].name, h.headers[0].name_len, "Sec-WebSocket-Version");
  assert_slice(h.headers[0].value, h.headers[0].value_len, "13");
  assert_slice(h.headers[4].name, h.headers[4].name_len, "Sec-WebSocket-Extensions");
  assert_slice(h.headers[4].value, h.headers[4].value_len,
               "permessage-deflate; client_max_window_bits");
  assert_slice(h.headers[5].value, h.headers[5].value_len, "127.0.0.1:42883");

  const http_header *key = http_head_find(&h, "sec-websocket-key");
  assert_non_null(key);
  char accept[29];
  assert_int_equal(ws_accept_key(key->value, key->value_len, accept), 0);
  assert_string_equal(accept, "Py+/xEufrsA42M8leoRcDKnBM4k=");
}

/* Bytes trickle in: every strict prefix asks for more, the whole head completes. */
static void head_every_prefix_needs_more(void **state) {
  size_t len = strlen(eio_client_head);
  http_head h;
  for (size_t n = 0; n < len; n++)
    if (http_head_parse(eio_client_head, n, &h) != 0) fail_msg("prefix of %zu bytes", n);
  assert_int_equal(http_head_parse(eio_client_head, len, &h), 1);
  assert_int_equal(h.head_len, len);
}

/* What follows the head (here bytes that would be refused inside it) is not looked at. */
static void head_ignores_bytes_after_it(void **state) {
  char buf[sizeof eio_client_head + 16];
  size_t len = strlen(eio_client_head);
  memcpy(buf, eio_client_head, len);
  memcpy(buf + len, "\0\x01 \r\r garbage", 14);
  http_head h;
  assert_int_equal(http_head_parse(buf, len + 14, &h), 1);
  assert_int_equal(h.head_len, len);
}

static void head_finds_headers_case_insensitively(void **state) {
  http_head h;
  assert_int_equal(parse_str("GET / HTTP/1.1\r\n"
                             "Host: a\r\n"
                             "X-Twice: first\r\n"
                             "x-twice: second\r\n"
                             "\r\n",
                             &h),
                   1);
  const http_header *host = http_head_find(&h, "HOST");
  assert_ptr_equal(host, &h.headers[0]);
  assert_slice(host->name, host->name_len, "Host"); /* case as sent */
  assert_ptr_equal(http_head_find(&h, "host"), host);
  assert_ptr_equal(http_head_find(&h, "x-TWICE"), &h.headers[1]); /* the first one */
  assert_null(http_head_find(&h, "Hos"));
  assert_null(http_head_find(&h, "Hostx"));
  assert_null(http_head_find(&h, "Upgrade"));
}

static void head_trims_values(void **state) {
  http_head h;
  assert_int_equal(parse_str("GET / HTTP/1.1\r\n"
                             "A: \t  spaced out \t \r\n"
                             "B:tight\r\n"
                             "C:\r\n"
                             "D:   \r\n"
                             "E: caf\xc3\xa9\r\n" /* obs-text passes through */
                             "\r\n",
                             &h),
                   1);
  assert_int_equal(h.header_count, 5);
  assert_slice(h.headers[0].value, h.headers[0].value_len, "spaced out");
  assert_slice(h.headers[1].value, h.headers[1].value_len, "tight");
  assert_slice(h.headers[2].value, h.headers[2].value_len, "");
  assert_slice(h.headers[3].value, h.headers[3].value_len, "");
  assert_slice(h.headers[4].value, h.headers[4].value_len, "caf\xc3\xa9");
}

static bool has_token(const char *value, const char *token) {
  http_header hd = {"Connection", 10, value, strlen(value)};
  return http_header_has_token(&hd, token);
}

static void header_token_lists(void **state) {
  assert_true(has_token("Upgrade", "upgrade"));
  assert_true(has_token("keep-alive, Upgrade", "upgrade")); /* what Firefox sends */
  assert_true(has_token("keep-alive, Upgrade", "KEEP-ALIVE"));
  assert_true(has_token(" keep-alive ,\t upgrade \t", "upgrade"));
  assert_true(has_token(",,upgrade,,", "upgrade"));
  assert_false(has_token("upgraded", "upgrade"));
  assert_false(has_token("upgrade-insecure-requests", "upgrade"));
  assert_false(has_token("keep-alive", "upgrade"));
  assert_false(has_token("up grade", "upgrade"));
  assert_false(has_token("", "upgrade"));
  assert_false(has_token(", ,", "upgrade"));
  assert_false(has_token("upgrade", ""));
  assert_false(http_header_has_token(NULL, "upgrade"));

  http_head h;
  assert_int_equal(parse_str(eio_client_head, &h), 1);
  assert_true(http_header_has_token(http_head_find(&h, "connection"), "upgrade"));
  assert_true(http_header_has_token(http_head_find(&h, "upgrade"), "WebSocket"));
  assert_false(http_header_has_token(http_head_find(&h, "origin"), "x"));
}

static void head_splits_path_and_query(void **state) {
  http_head h;
  assert_int_equal(parse_str("GET /socket.io/ HTTP/1.1\r\n\r\n", &h), 1);
  assert_slice(h.path, h.path_len, "/socket.io/");
  assert_null(h.query);
  assert_int_equal(h.query_len, 0);
  assert_int_equal(h.header_count, 0);

  assert_int_equal(parse_str("GET /x? HTTP/1.1\r\n\r\n", &h), 1);
  assert_slice(h.path, h.path_len, "/x");
  assert_slice(h.query, h.query_len, ""); /* a '?' with nothing after: empty, not NULL */

  assert_int_equal(parse_str("GET /?a=1?b=2 HTTP/1.1\r\n\r\n", &h), 1);
  assert_slice(h.path, h.path_len, "/");
  assert_slice(h.query, h.query_len, "a=1?b=2"); /* split at the first '?' */

  assert_int_equal(parse_str("POST /p%20q?x=%41 HTTP/1.0\r\n\r\n", &h), 1);
  assert_slice(h.method, h.method_len, "POST");
  assert_slice(h.path, h.path_len, "/p%20q"); /* as sent: decoding is the query codec's job */
  assert_slice(h.query, h.query_len, "x=%41");
  assert_int_equal(h.minor_version, 0);
}

static void head_accepts_bare_lf_line_ends(void **state) {
  http_head h;
  const char *lf = "GET /a?b HTTP/1.1\nHost: x\nConnection: Upgrade \n\n";
  assert_int_equal(parse_str(lf, &h), 1);
  assert_int_equal(h.head_len, strlen(lf));
  assert_int_equal(h.header_count, 2);
  assert_slice(h.headers[1].value, h.headers[1].value_len, "Upgrade");
  for (size_t n = 0; n < strlen(lf); n++) assert_int_equal(http_head_parse(lf, n, &h), 0);

  const char *mixed = "GET / HTTP/1.1\r\nHost: x\n\r\n";
  assert_int_equal(parse_str(mixed, &h), 1);
  assert_int_equal(h.head_len, strlen(mixed));
  assert_slice(h.headers[0].value, h.headers[0].value_len, "x");
}

static void assert_head_refused(const char *s, size_t len) {
  http_head h;
  if (http_head_parse(s, len, &h) != -1) fail_msg("accepted \"%.*s\"", (int)len, s);
}
#define REFUSED(lit) assert_head_refused(lit, sizeof(lit) - 1)

static void head_refuses_malformed_request_lines(void **state) {
  REFUSED("G@T / HTTP/1.1\r\n\r\n");       /* not a token */
  REFUSED("GE T / HTTP/1.1\r\n\r\n");
  REFUSED(" GET / HTTP/1.1\r\n\r\n");
  REFUSED("\r\nGET / HTTP/1.1\r\n\r\n");   /* no empty line before the request line */
  REFUSED("GET / \r\n\r\n");               /* missing version */
  REFUSED("GET /\r\n\r\n");
  REFUSED("GET\r\n\r\n");
  REFUSED("\r\n\r\n");
  REFUSED("GET  / HTTP/1.1\r\n\r\n");      /* two spaces */
  REFUSED("GET / HTTP/1.1 \r\n\r\n");      /* trailing space */
  REFUSED("GET index.html HTTP/1.1\r\n\r\n"); /* target not starting with '/' */
  REFUSED("GET * HTTP/1.1\r\n\r\n");
  REFUSED("GET http://a/ HTTP/1.1\r\n\r\n");
  REFUSED("GET /a\tb HTTP/1.1\r\n\r\n");    /* control char in the target */
  REFUSED("GET /a\x7f HTTP/1.1\r\n\r\n");
  REFUSED("GET / HTTP/1.2\r\n\r\n");
  REFUSED("GET / HTTP/2.0\r\n\r\n");
  REFUSED("GET / http/1.1\r\n\r\n");
  REFUSED("GET / HTTP/1.10\r\n\r\n");
  REFUSED("GET / HTTP/1.1\rX\r\n\r\n");     /* CR not ending the line */
  REFUSED("GET / HTTP/1.1\r\r\n\r\n");
}

static void head_refuses_malformed_header_lines(void **state) {
  REFUSED("GET / HTTP/1.1\r\nHost : x\r\n\r\n");   /* space in the name, before the colon */
  REFUSED("GET / HTTP/1.1\r\nX Y: x\r\n\r\n");
  REFUSED("GET / HTTP/1.1\r\nNoColon\r\n\r\n");
  REFUSED("GET / HTTP/1.1\r\n: empty name\r\n\r\n");
  REFUSED("GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n"); /* obs-fold */
  REFUSED("GET / HTTP/1.1\r\nA: 1\r\n\tfolded\r\n\r\n");
  REFUSED("GET / HTTP/1.1\r\n Host: x\r\n\r\n");
  REFUSED("GET / HTTP/1.1\r\nA: x\x01y\r\n\r\n"); /* control char in a value */
  REFUSED("GET / HTTP/1.1\r\nA: x\x7fy\r\n\r\n");
  REFUSED("GET / HTTP/1.1\r\nA: x\ry\r\n\r\n");
  REFUSED("GET / HTTP/1.1\r\nA\x80: x\r\n\r\n");  /* non-ASCII name */
  REFUSED("GET / HTTP/1.1\r\nA: x\r\r\n\r\n");
  REFUSED("GET / HTTP/1.1\r\n\r\r\n");            /* a CR line that is not blank */
}

static void head_refuses_nul_anywhere(void **state) {
  const char good[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  size_t len = sizeof good - 1;
  char buf[sizeof good];
  for (size_t i = 0; i + 2 < len; i++) { /* every byte but the final blank line's */
    memcpy(buf, good, len);
    buf[i] = '\0';
    http_head h;
    if (http_head_parse(buf, len, &h) != -1) fail_msg("NUL at %zu accepted", i);
  }
}

/* Hostile input is refused without waiting for the rest of the head. */
static void head_refuses_early(void **state) {
  http_head h;
  REFUSED("\x16\x03\x01"); /* a TLS ClientHello */
  REFUSED("GET /\0");
  REFUSED("GET / HTTP/1.1\r\nA: 1\r\n ");
  REFUSED("GET / HTTP/1.1\r\nA: 1\r\nB ");
  REFUSED("GET / HTTP/1.1\r\nA: \x01");
  REFUSED("GET / HTTP/1.2");
  REFUSED("GET / HTTP/1.1\r\r");
  const char ok[] = "GET / HTTP/1.1\r\nA: 1\r";
  assert_int_equal(http_head_parse(ok, sizeof ok - 1, &h), 0);
}

/* Appends "X<i>: v\r\n" for i in [0, count) after a request line; returns the length. */
static size_t head_with_headers(char *buf, unsigned count) {
  size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
  for (unsigned i = 0; i < count; i++) n += (size_t)sprintf(buf + n, "X%u: v\r\n", i);
  return n;
}

static void head_limits_header_count(void **state) {
  char buf[2048];
  http_head h;
  size_t n = head_with_headers(buf, HTTP_HEAD_MAX_HEADERS);
  memcpy(buf + n, "\r\n", 2);
  assert_int_equal(http_head_parse(buf, n + 2, &h), 1);
  assert_int_equal(h.header_count, HTTP_HEAD_MAX_HEADERS);
  assert_slice(h.headers[63].name, h.headers[63].name_len, "X63");
  assert_int_equal(http_head_parse(buf, n + 1, &h), 0); /* the blank line may still come */

  n = head_with_headers(buf, HTTP_HEAD_MAX_HEADERS + 1);
  memcpy(buf + n, "\r\n", 2);
  assert_int_equal(http_head_parse(buf, n + 2, &h), -1);
  assert_int_equal(http_head_parse(buf, n - 5, &h), -1); /* known from the 65th's first byte */
}

/* A head of exactly `total` bytes: request line, one header padded to fit, blank line. */
static size_t head_of_size(char *buf, size_t total) {
  size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nPad: ");
  size_t pad = total - n - 4;
  memset(buf + n, 'p', pad);
  memcpy(buf + n + pad, "\r\n\r\n", 4);
  return total;
}

static void head_limits_size(void **state) {
  static char buf[HTTP_HEAD_MAX_BYTES + 64];
  http_head h;
  size_t n = head_of_size(buf, HTTP_HEAD_MAX_BYTES);
  assert_int_equal(http_head_parse(buf, n, &h), 1);
  assert_int_equal(h.head_len, HTTP_HEAD_MAX_BYTES);
  assert_int_equal(http_head_parse(buf, n - 1, &h), 0);

  n = head_of_size(buf, HTTP_HEAD_MAX_BYTES + 1);
  assert_int_equal(http_head_parse(buf, n, &h), -1);
  assert_int_equal(http_head_parse(buf, HTTP_HEAD_MAX_BYTES, &h), -1); /* no end in sight */
  assert_int_equal(http_head_parse(buf, HTTP_HEAD_MAX_BYTES - 1, &h), 0);
}

/* ---- frame headers ---- */

static void frame_header_7bit_length(void **state) {
  /* RFC 6455, section 5.7: a masked "Hello" from a client. */
  uint8_t f[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  ws_frame_header h;
  assert_int_equal(ws_frame_header_parse(f, sizeof f, &h), 1);
  assert_int_equal(h.opcode, WS_OP_TEXT);
  assert_true(h.fin);
  assert_true(h.masked);
  assert_int_equal(h.payload_len, 5);
  assert_int_equal(h.header_len, 6);
  assert_memory_equal(h.mask, f + 2, 4);
  ws_unmask(f + h.header_len, 5, h.mask, 0);
  assert_memory_equal(f + 6, "Hello", 5);

  const uint8_t frag[] = {0x01, 0x80, 1, 2, 3, 4}; /* first fragment, empty */
  assert_int_equal(ws_frame_header_parse(frag, sizeof frag, &h), 1);
  assert_false(h.fin);
  assert_int_equal(h.payload_len, 0);
  const uint8_t cont[] = {0x80, 0xfd, 1, 2, 3, 4}; /* last fragment, 125 bytes */
  assert_int_equal(ws_frame_header_parse(cont, sizeof cont, &h), 1);
  assert_int_equal(h.opcode, WS_OP_CONT);
  assert_true(h.fin);
  assert_int_equal(h.payload_len, 125);
  const uint8_t ping[] = {0x89, 0xfd, 1, 2, 3, 4}; /* a control frame of the largest size */
  assert_int_equal(ws_frame_header_parse(ping, sizeof ping, &h), 1);
  assert_int_equal(h.opcode, WS_OP_PING);
}

static void frame_header_16bit_length(void **state) {
  const uint8_t f[] = {0x82, 0xfe, 0x01, 0x00, 0xa, 0xb, 0xc, 0xd};
  ws_frame_header h;
  assert_int_equal(ws_frame_header_parse(f, sizeof f, &h), 1);
  assert_int_equal(h.opcode, WS_OP_BINARY);
  assert_int_equal(h.payload_len, 256);
  assert_int_equal(h.header_len, 8);
  const uint8_t m[] = {0xa, 0xb, 0xc, 0xd};
  assert_memory_equal(h.mask, m, 4);

  const uint8_t lo[] = {0x82, 0xfe, 0x00, 126, 1, 2, 3, 4}; /* the smallest 16-bit length */
  assert_int_equal(ws_frame_header_parse(lo, sizeof lo, &h), 1);
  assert_int_equal(h.payload_len, 126);
  const uint8_t hi[] = {0x82, 0xfe, 0xff, 0xff, 1, 2, 3, 4};
  assert_int_equal(ws_frame_header_parse(hi, sizeof hi, &h), 1);
  assert_int_equal(h.payload_len, 65535);
}

static void frame_header_64bit_length(void **state) {
  const uint8_t f[] = {0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 9, 8, 7, 6};
  ws_frame_header h;
  assert_int_equal(ws_frame_header_parse(f, sizeof f, &h), 1);
  assert_int_equal(h.payload_len, 65536);
  assert_int_equal(h.header_len, 14);
  const uint8_t m[] = {9, 8, 7, 6};
  assert_memory_equal(h.mask, m, 4);

  const uint8_t max[] = {0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4};
  assert_int_equal(ws_frame_header_parse(max, sizeof max, &h), 1);
  assert_true(h.payload_len == UINT64_C(0x7fffffffffffffff));
  const uint8_t mid[] = {0x81, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 1, 2, 3, 4};
  assert_int_equal(ws_frame_header_parse(mid, sizeof mid, &h), 1);
  assert_true(h.payload_len == UINT64_C(0x0102030405060708));
}

static void assert_frame_refused(const uint8_t *f, size_t len) {
  ws_frame_header h;
  if (ws_frame_header_parse(f, len, &h) != -1) fail_msg("accepted %02x %02x", f[0], f[1]);
}
#define FRAME_REFUSED(...)                                                                        \
  do {                                                                                            \
    const uint8_t f_[] = {__VA_ARGS__};                                                           \
    assert_frame_refused(f_, sizeof f_);                                                          \
  } while (0)

static void frame_header_protocol_errors(void **state) {
  FRAME_REFUSED(0xc1, 0x80, 1, 2, 3, 4); /* RSV1 */
  FRAME_REFUSED(0xa1, 0x80, 1, 2, 3, 4); /* RSV2 */
  FRAME_REFUSED(0x91, 0x80, 1, 2, 3, 4); /* RSV3 */
  for (uint8_t op = 0; op < 16; op++) {
    const uint8_t f[] = {(uint8_t)(0x80 | op), 0x80, 1, 2, 3, 4};
    ws_frame_header h;
    bool known = op <= 2 || (op >= 8 && op <= 10);
    assert_int_equal(ws_frame_header_parse(f, sizeof f, &h), known ? 1 : -1);
  }
  FRAME_REFUSED(0x81, 0x05, 'H', 'e', 'l', 'l', 'o');   /* not masked */
  FRAME_REFUSED(0x89, 0xfe, 0x00, 0x7e, 1, 2, 3, 4);    /* ping of 126 bytes */
  FRAME_REFUSED(0x88, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4);
  FRAME_REFUSED(0x09, 0x80, 1, 2, 3, 4);                /* fragmented ping */
  FRAME_REFUSED(0x08, 0x80, 1, 2, 3, 4);                /* fragmented close */
  FRAME_REFUSED(0x0a, 0x80, 1, 2, 3, 4);                /* fragmented pong */
  FRAME_REFUSED(0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4); /* top bit of 64 */
  FRAME_REFUSED(0x82, 0xfe, 0x00, 0x7d, 1, 2, 3, 4);    /* 125 in the 16-bit form */
  FRAME_REFUSED(0x82, 0xfe, 0x00, 0x00, 1, 2, 3, 4);
  FRAME_REFUSED(0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4); /* 65535 in 64 bits */
  FRAME_REFUSED(0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4);
}

/* Errors show from the bytes that carry them, before the rest of the header is in. */
static void frame_header_refuses_early(void **state) {
  ws_frame_header h;
  assert_int_equal(ws_frame_header_parse((const uint8_t *)"\xc1", 1, &h), -1);
  assert_int_equal(ws_frame_header_parse((const uint8_t *)"\x83", 1, &h), -1);
  assert_int_equal(ws_frame_header_parse((const uint8_t *)"\x09", 1, &h), -1);
  assert_int_equal(ws_frame_header_parse((const uint8_t *)"\x81\x05", 2, &h), -1);
  assert_int_equal(ws_frame_header_parse((const uint8_t *)"\x82\xff\x80", 3, &h), -1);
  const uint8_t six_zero[] = {0x82, 0xff, 0, 0, 0, 0, 0, 0};
  assert_int_equal(ws_frame_header_parse(six_zero, sizeof six_zero, &h), -1);
  assert_int_equal(ws_frame_header_parse(six_zero, sizeof six_zero - 1, &h), 0);
}

static void frame_header_every_prefix_needs_more(void **state) {
  static const uint8_t frames[][14] = {
      {0x81, 0x85, 1, 2, 3, 4},
      {0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4},
      {0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4},
      {0x88, 0x82, 1, 2, 3, 4},
  };
  static const size_t lens[] = {6, 8, 14, 6};
  for (size_t i = 0; i < 4; i++) {
    ws_frame_header h;
    for (size_t n = 0; n < lens[i]; n++)
      if (ws_frame_header_parse(frames[i], n, &h) != 0) fail_msg("frame %zu prefix %zu", i, n);
    assert_int_equal(ws_frame_header_parse(frames[i], lens[i], &h), 1);
    assert_int_equal(h.header_len, lens[i]);
  }
}

static void unmask_in_pieces_equals_at_once(void **state) {
  uint8_t plain[100], whole[100], pieces[100];
  const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  for (size_t i = 0; i < sizeof plain; i++) plain[i] = (uint8_t)(i * 7 + 3);
  memcpy(whole, plain, sizeof plain);
  ws_unmask(whole, sizeof whole, mask, 0);
  for (size_t i = 0; i < sizeof plain; i++) assert_int_equal(whole[i], plain[i] ^ mask[i % 4]);

  /* Three pieces, cut at every pair of points: odd offsets, pieces shorter and longer than
   * the 8-byte stride. */
  for (size_t a = 0; a <= sizeof plain; a++)
    for (size_t b = a; b <= sizeof plain; b++) {
      memcpy(pieces, plain, sizeof plain);
      ws_unmask(pieces, a, mask, 0);
      ws_unmask(pieces + a, b - a, mask, a);
      ws_unmask(pieces + b, sizeof plain - b, mask, b);
      if (memcmp(pieces, whole, sizeof whole) != 0) fail_msg("cut at %zu and %zu", a, b);
    }

  /* An offset past 4 GiB: only its position modulo 4 counts. */
  memcpy(pieces, plain, sizeof plain);
  ws_unmask(pieces + 3, sizeof plain - 3, mask, UINT64_C(0x100000003));
  ws_unmask(pieces, 3, mask, 0);
  assert_memory_equal(pieces, whole, sizeof whole);

  ws_unmask(NULL, 0, mask, 0); /* nothing to do */
}

static void unmask_twice_restores(void **state) {
  uint8_t buf[37], orig[37];
  const uint8_t mask[4] = {0xff, 0x00, 0xa5, 0x5a};
  for (size_t i = 0; i < sizeof buf; i++) orig[i] = buf[i] = (uint8_t)(i * 13);
  ws_unmask(buf + 1, sizeof buf - 1, mask, 5);
  assert_memory_not_equal(buf, orig, sizeof buf);
  ws_unmask(buf + 1, sizeof buf - 1, mask, 5);
  assert_memory_equal(buf, orig, sizeof buf);
}

/* Written as a server frame, read back as if a client had sent it (mask bit and key added). */
static void assert_header_round_trip(uint8_t opcode, uint64_t len, size_t want_hl) {
  uint8_t out[16];
  memset(out, 0xee, sizeof out);
  size_t n = ws_frame_header_write(out, opcode, len);
  assert_int_equal(n, want_hl);
  assert_int_equal(out[n], 0xee); /* nothing past the header */
  assert_int_equal(out[0], 0x80 | opcode);
  assert_int_equal(out[1] & 0x80, 0); /* servers do not mask */

  const uint8_t mask[4] = {0xde, 0xad, 0xbe, 0xef};
  out[1] |= 0x80;
  memcpy(out + n, mask, 4);
  ws_frame_header h;
  assert_int_equal(ws_frame_header_parse(out, n + 4, &h), 1);
  assert_int_equal(h.opcode, opcode);
  assert_true(h.fin);
  assert_true(h.payload_len == len);
  assert_int_equal(h.header_len, n + 4);
  assert_memory_equal(h.mask, mask, 4);
}

static void frame_header_write_round_trips(void **state) {
  assert_header_round_trip(WS_OP_TEXT, 0, 2);
  assert_header_round_trip(WS_OP_TEXT, 125, 2);
  assert_header_round_trip(WS_OP_BINARY, 126, 4);
  assert_header_round_trip(WS_OP_BINARY, 65535, 4);
  assert_header_round_trip(WS_OP_TEXT, 65536, 10);
  assert_header_round_trip(WS_OP_BINARY, UINT64_C(0x123456789a), 10);
  assert_header_round_trip(WS_OP_BINARY, UINT64_C(0x7fffffffffffffff), 10);
  assert_header_round_trip(WS_OP_CLOSE, 2, 2);
  assert_header_round_trip(WS_OP_PING, 125, 2);
  assert_header_round_trip(WS_OP_PONG, 0, 2);

  uint8_t out[10];
  assert_int_equal(ws_frame_header_write(out, WS_OP_TEXT, 300), 4);
  const uint8_t want[] = {0x81, 126, 0x01, 0x2c};
  assert_memory_equal(out, want, 4);
  assert_int_equal(ws_frame_header_write(out, WS_OP_BINARY, UINT64_C(0x0102030405060708)), 10);
  const uint8_t want64[] = {0x82, 127, 1, 2, 3, 4, 5, 6, 7, 8};
  assert_memory_equal(out, want64, 10);
}

/* ---- UTF-8 ---- */

static bool utf8(const char *s, size_t len) { return ws_utf8_valid((const uint8_t *)s, len); }
#define UTF8_OK(lit) assert_true(utf8(lit, sizeof(lit) - 1))
#define UTF8_BAD(lit) assert_false(utf8(lit, sizeof(lit) - 1))

static void utf8_accepts_valid_text(void **state) {
  assert_true(ws_utf8_valid(NULL, 0));
  UTF8_OK("plain ASCII, long enough to take the 8-byte path");
  UTF8_OK("\x00\x7f");
  UTF8_OK("caf\xc3\xa9");                  /* U+00E9 */
  UTF8_OK("\xc2\x80\xdf\xbf");             /* U+0080, U+07FF */
  UTF8_OK("\xe0\xa0\x80");                 /* U+0800 */
  UTF8_OK("\xe2\x82\xac 5");               /* U+20AC */
  UTF8_OK("\xed\x9f\xbf\xee\x80\x80");     /* U+D7FF, U+E000: either side of the surrogates */
  UTF8_OK("\xef\xbf\xbf");                 /* U+FFFF */
  UTF8_OK("\xf0\x90\x80\x80");             /* U+10000 */
  UTF8_OK("\xf0\x9d\x84\x9e");             /* U+1D11E */
  UTF8_OK("\xf4\x8f\xbf\xbf");             /* U+10FFFF */
  UTF8_OK("0123456789abc\xf0\x9f\x98\x80xyz0123456789"); /* one inside a run of ASCII */
}

static void utf8_refuses_invalid_text(void **state) {
  UTF8_BAD("\xc0\x80");                    /* overlong NUL */
  UTF8_BAD("\xc1\xbf");                    /* overlong U+007F */
  UTF8_BAD("\xe0\x80\x80");                /* overlong 3-byte */
  UTF8_BAD("\xe0\x9f\xbf");
  UTF8_BAD("\xf0\x80\x80\x80");            /* overlong 4-byte */
  UTF8_BAD("\xf0\x8f\xbf\xbf");
  UTF8_BAD("\xed\xa0\x80");                /* U+D800 */
  UTF8_BAD("\xed\xbf\xbf");                /* U+DFFF */
  UTF8_BAD("\xed\xa0\xbd\xed\xb8\x80");    /* a surrogate pair, CESU-8 style */
  UTF8_BAD("\xf4\x90\x80\x80");            /* U+110000 */
  UTF8_BAD("\xf5\x80\x80\x80");
  UTF8_BAD("\xf8\x88\x80\x80\x80");        /* 5-byte form */
  UTF8_BAD("\xff");
  UTF8_BAD("\xfe");
  UTF8_BAD("\x80");                        /* lone continuation */
  UTF8_BAD("a\xbf");
  UTF8_BAD("\xc3");                        /* truncated */
  UTF8_BAD("\xe2\x82");
  UTF8_BAD("\xf0\x9d\x84");
  UTF8_BAD("0123456789abcdef\xe2\x82");    /* truncated after a run of ASCII */
  UTF8_BAD("\xc3(");                       /* bad continuation */
  UTF8_BAD("\xe2(\xa1");
  UTF8_BAD("\xe2\x82(");
  UTF8_BAD("\xf0\x9d\x84(");
  UTF8_BAD("01234567\x80""01234567");
}

/* Every code point, encoded: valid unless a surrogate. */
static void utf8_every_code_point(void **state) {
  for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
      b[0] = (uint8_t)cp;
      n = 1;
    } else if (cp < 0x800) {
      b[0] = (uint8_t)(0xc0 | cp >> 6);
      b[1] = (uint8_t)(0x80 | (cp & 0x3f));
      n = 2;
    } else if (cp < 0x10000) {
      b[0] = (uint8_t)(0xe0 | cp >> 12);
      b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
      b[2] = (uint8_t)(0x80 | (cp & 0x3f));
      n = 3;
    } else {
      b[0] = (uint8_t)(0xf0 | cp >> 18);
      b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
      b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
      b[3] = (uint8_t)(0x80 | (cp & 0x3f));
      n = 4;
    }
    bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
    if (ws_utf8_valid(b, n) == surrogate) fail_msg("U+%04X", (unsigned)cp);
    if (n > 1 && ws_utf8_valid(b, n - 1)) fail_msg("U+%04X cut short", (unsigned)cp);
  }
}

/* Every two-byte input: valid as two ASCII bytes or one C2..DF lead with its continuation. */
static void utf8_every_two_bytes(void **state) {
  for (unsigned x = 0; x < 0x10000; x++) {
    uint8_t b[2] = {(uint8_t)(x >> 8), (uint8_t)x};
    bool want = (b[0] < 0x80 && b[1] < 0x80) ||
                (b[0] >= 0xc2 && b[0] <= 0xdf && b[1] >= 0x80 && b[1] <= 0xbf);
    if (ws_utf8_valid(b, 2) != want) fail_msg("%02x %02x", b[0], b[1]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sha1_rfc3174_vectors),
      cmocka_unit_test(sha1_padding_boundaries),
      cmocka_unit_test(sha1_incremental_matches_one_shot),
      cmocka_unit_test(accept_key_rfc6455_example),
      cmocka_unit_test(accept_key_refuses_bad_keys),
      cmocka_unit_test(head_parses_engine_io_client_upgrade),
      cmocka_unit_test(head_every_prefix_needs_more),
      cmocka_unit_test(head_ignores_bytes_after_it),
      cmocka_unit_test(head_finds_headers_case_insensitively),
      cmocka_unit_test(head_trims_values),
      cmocka_unit_test(header_token_lists),
      cmocka_unit_test(head_splits_path_and_query),
      cmocka_unit_test(head_accepts_bare_lf_line_ends),
      cmocka_unit_test(head_refuses_malformed_request_lines),
      cmocka_unit_test(head_refuses_malformed_header_lines),
      cmocka_unit_test(head_refuses_nul_anywhere),
      cmocka_unit_test(head_refuses_early),
      cmocka_unit_test(head_limits_header_count),
      cmocka_unit_test(head_limits_size),
      cmocka_unit_test(frame_header_7bit_length),
      cmocka_unit_test(frame_header_16bit_length),
      cmocka_unit_test(frame_header_64bit_length),
      cmocka_unit_test(frame_header_protocol_errors),
      cmocka_unit_test(frame_header_refuses_early),
      cmocka_unit_test(frame_header_every_prefix_needs_more),
      cmocka_unit_test(unmask_in_pieces_equals_at_once),
      cmocka_unit_test(unmask_twice_restores),
      cmocka_unit_test(frame_header_write_round_trips),
      cmocka_unit_test(utf8_accepts_valid_text),
      cmocka_unit_test(utf8_refuses_invalid_text),
      cmocka_unit_test(utf8_every_code_point),
      cmocka_unit_test(utf8_every_two_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
