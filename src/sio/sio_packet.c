/* Socket.IO packet codec (see sio_packet.h).
 *
 * The decoder follows socket.io-parser 4.2's decodeString step by step, quirks included,
 * because what it accepts is what a Node server accepts. The quirks come from JavaScript's
 * Number(): the reference tests "is this a digit" with Number(c) == c, which is also true for
 * a whitespace character (Number(" ") is 0), and it converts with Number(), which trims
 * whitespace and reads "" as 0. Hence:
 *   ""  and " {}"       are CONNECT packets (type Number("") / Number(" ") is 0);
 *   2 ["a"]             is an EVENT with ack id 0 (the id run is " ", Number(" ") is 0);
 *   50x2-[...]          announces 2 attachments (Number("0x2") is 2).
 * Where the reference is lax in a way that could hurt a C server, the header's limits apply:
 * ids beyond 2^53-1, more than max_attachments, JSON deeper than max_depth, long namespaces.
 * Two packets it would carry on with are refused because C cannot represent them: an id that
 * Number() reads as NaN ("2 1 2[...]" has the id run " 1 2") and a namespace holding a NUL.
 *
 * JSON goes to jansson, which differs from JSON.parse on:
 *  - integers beyond 64 bits: JSON.parse rounds them to doubles; jansson refuses them, so the
 *    text is parsed again with every number as a real (the same rounding);
 *  - integers beyond 2^53: JSON.parse rounds them, jansson keeps them exact (json_write then
 *    prints the exact digits; a JS client reads both texts as the same number);
 *  - 1e400: JSON.parse gives Infinity (stringified as null); jansson refuses it;
 *  - lone surrogate escapes ("\ud800") and NUL in object keys: JSON.parse accepts, jansson
 *    refuses;
 *  - invalid UTF-8: jansson refuses it; JS never sees it (Node decodes the transport first,
 *    replacing bad bytes, and ws closes a connection that sends them in a text frame);
 *  - nesting: JSON.parse (V8, Node 20) has no depth limit; jansson stops at 2048 levels;
 *    max_depth, checked first, is the limit here.
 * Both agree on the rest: syntax, whitespace, duplicate keys (the last value wins, at the
 * first key's position), \u0000 in strings (with JSON_ALLOW_NUL), -0 (printed as 0 anyway). */
#include "sio/sio_packet.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_write.h"

const sio_codec_limits sio_codec_default_limits = {
    .max_attachments = 10,
    .max_depth = 32,
    .max_nsp_len = 256,
};

#define MAX_SAFE_INTEGER 9007199254740991.0 /* 2^53 - 1: ids above it lose precision in JS */

/* ---------------------------------------------------------------------------------------- */
/* JavaScript's Number() on a string                                                        */

/* Length of the JS whitespace character (StrWhiteSpaceChar: WhiteSpace or LineTerminator) that
 * starts s, or 0. In UTF-8: TAB LF VT FF CR SP, U+00A0, U+1680, U+2000..U+200A, U+2028,
 * U+2029, U+202F, U+205F, U+3000, U+FEFF. */
static size_t js_space_len(const char *str, size_t avail) {
  const unsigned char *s = (const unsigned char *)str;
  if (avail == 0) return 0;
  if (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')) return 1;
  if (avail >= 2 && s[0] == 0xC2 && s[1] == 0xA0) return 2;
  if (avail < 3) return 0;
  unsigned cp = (unsigned)(s[0] & 0x0F) << 12 | (unsigned)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
  if ((s[0] & 0xF0) != 0xE0 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
  bool space = cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
               cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
  return space ? 3 : 0;
}

/* Length of the JS whitespace character that ends s, or 0. */
static size_t js_space_len_back(const char *s, size_t len) {
  for (size_t k = 1; k <= 3 && k <= len; k++)
    if (js_space_len(s + len - k, k) == k) return k;
  return 0;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Number(s) (ECMAScript StringToNumber): whitespace trimmed, "" is 0, decimal literals with
 * optional sign, fraction and exponent, [+-]Infinity, 0x/0o/0b integers; anything else NaN. */
static double js_number(const char *s, size_t len) {
  size_t k;
  while ((k = js_space_len(s, len))) s += k, len -= k;
  while ((k = js_space_len_back(s, len))) len -= k;
  if (len == 0) return 0;

  int base = 0;
  if (len > 2 && s[0] == '0') {
    int c = s[1] | 0x20;
    base = c == 'x' ? 16 : c == 'o' ? 8 : c == 'b' ? 2 : 0;
  }
  if (base) {
    double v = 0; /* only ever compared with small limits: precision beyond 2^53 is moot */
    for (size_t i = 2; i < len; i++) {
      int c = s[i] | 0x20; /* letters in lower case */
      int d = is_digit(s[i]) ? s[i] - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : base;
      if (d >= base) return NAN;
      v = v * base + d;
    }
    return v;
  }

  size_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') neg = s[i++] == '-';
  if (len - i == 8 && memcmp(s + i, "Infinity", 8) == 0) return neg ? -INFINITY : INFINITY;
  /* Check the grammar ourselves (strtod would also take "inf", "nan", hex floats). */
  size_t mant_digits = 0;
  while (i < len && is_digit(s[i])) i++, mant_digits++;
  if (i < len && s[i] == '.') {
    i++;
    while (i < len && is_digit(s[i])) i++, mant_digits++;
  }
  if (mant_digits == 0) return NAN;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    size_t exp_digits = 0;
    while (i < len && is_digit(s[i])) i++, exp_digits++;
    if (exp_digits == 0) return NAN;
  }
  if (i != len) return NAN;
  /* strtod needs a terminator and the text has none (memcpy: not even strndup may look past
   * `len`). */
  char *copy = malloc(len + 1);
  if (!copy) return NAN;
  memcpy(copy, s, len);
  copy[len] = 0;
  double v = strtod(copy, NULL); /* correctly rounded, as JS */
  free(copy);
  return v;
}

/* ---------------------------------------------------------------------------------------- */
/* Decoding                                                                                 */

/* Rejects JSON text nested deeper than max_depth before jansson (which recurses) sees it.
 * Brackets inside strings do not count; a backslash escapes the next byte. Unbalanced text is
 * left for the parser to refuse. */
static bool depth_ok(const char *s, size_t len, unsigned max_depth) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  return true;
}

static json_t *parse_json(const char *s, size_t len) {
  json_error_t err;
  json_t *v = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
  /* An integer beyond 64 bits: JSON.parse reads every number as a double, so do the same
   * rather than refuse it. (1e400, also an overflow, stays refused: jansson has no Infinity.) */
  if (!v && json_error_code(&err) == json_error_numeric_overflow)
    v = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &err);
  return v;
}

static bool is_reserved_event(const json_t *name) {
  static const char *const reserved[] = {"connect",       "connect_error", "disconnect",
                                         "disconnecting", "newListener",   "removeListener"};
  const char *s = json_string_value(name);
  size_t len = json_string_length(name);
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (strlen(reserved[i]) == len && memcmp(reserved[i], s, len) == 0) return true;
  return false;
}

/* The reference's isPayloadValid. */
static bool payload_valid(sio_packet_type type, const json_t *data) {
  switch (type) {
    case SIO_PACKET_CONNECT: return json_is_object(data);
    case SIO_PACKET_DISCONNECT: return false; /* any payload at all */
    case SIO_PACKET_CONNECT_ERROR: return json_is_string(data) || json_is_object(data);
    case SIO_PACKET_EVENT:
    case SIO_PACKET_BINARY_EVENT: {
      const json_t *name = json_array_get(data, 0); /* NULL if not an array or empty */
      return json_is_number(name) || (json_is_string(name) && !is_reserved_event(name));
    }
    case SIO_PACKET_ACK:
    case SIO_PACKET_BINARY_ACK: return json_is_array(data);
  }
  return false;
}

int sio_packet_decode(const char *text, size_t len, const sio_codec_limits *lim,
                      sio_packet *out) {
  memset(out, 0, sizeof *out);
  out->id = -1;
  if (!lim) lim = &sio_codec_default_limits;
  size_t pos; /* the next byte to read */

  /* Type: Number(first character), so "" and a leading whitespace character read as 0. */
  size_t ws;
  if (len == 0) {
    out->type = SIO_PACKET_CONNECT;
    pos = 0;
  } else if (text[0] >= '0' && text[0] <= '6') {
    out->type = (sio_packet_type)(text[0] - '0');
    pos = 1;
  } else if ((ws = js_space_len(text, len))) {
    out->type = SIO_PACKET_CONNECT;
    pos = ws;
  } else {
    return -1;
  }

  /* Attachments: everything up to the first '-' must be Number()-able to an integer. */
  if (out->type == SIO_PACKET_BINARY_EVENT || out->type == SIO_PACKET_BINARY_ACK) {
    const char *dash = memchr(text + pos, '-', len - pos);
    if (!dash) return -1;
    double n = js_number(text + pos, (size_t)(dash - text) - pos);
    if (!(n >= 1 && n <= lim->max_attachments && n == floor(n))) return -1;
    out->attachments = (unsigned)n;
    pos = (size_t)(dash - text) + 1;
  }

  /* Namespace: only if the next character is '/', up to ',' (consumed) or the end. */
  const char *nsp = "/";
  size_t nsp_len = 1;
  if (pos < len && text[pos] == '/') {
    const char *comma = memchr(text + pos, ',', len - pos);
    size_t end = comma ? (size_t)(comma - text) : len;
    nsp = text + pos;
    nsp_len = end - pos;
    /* A NUL would silently cut the name short in a C string: refuse instead. */
    if (nsp_len > lim->max_nsp_len || memchr(nsp, '\0', nsp_len)) return -1;
    pos = comma ? end + 1 : len;
  }

  /* Ack id: the run of characters for which Number(c) == c, i.e. digits and whitespace. */
  size_t id_start = pos;
  while (pos < len) {
    if (is_digit(text[pos])) pos++;
    else if ((ws = js_space_len(text + pos, len - pos))) pos += ws;
    else break;
  }
  if (pos > id_start) {
    /* The reference keeps Number(run) even when it is NaN ("1 2") or beyond 2^53; such an
     * id cannot be answered faithfully, so the packet is refused. */
    double id = js_number(text + id_start, pos - id_start);
    if (!(id >= 0 && id <= MAX_SAFE_INTEGER)) return -1;
    out->id = (int64_t)id;
  }

  /* JSON: whatever remains. With nothing left there is no payload, and the reference does not
   * check the type at all ("2" and "2/nsp" are EVENTs without data). */
  json_t *data = NULL;
  if (pos < len) {
    if (!depth_ok(text + pos, len - pos, lim->max_depth)) return -1;
    data = parse_json(text + pos, len - pos);
    if (!data || !payload_valid(out->type, data)) {
      json_decref(data);
      return -1;
    }
  }

  out->nsp = malloc(nsp_len + 1); /* not strndup: the text is not NUL-terminated */
  if (!out->nsp) {
    json_decref(data);
    return -1;
  }
  memcpy(out->nsp, nsp, nsp_len);
  out->nsp[nsp_len] = 0;
  out->data = data;
  return 0;
}

void sio_packet_clear(sio_packet *p) {
  free(p->nsp);
  json_decref(p->data);
  memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------------------------------- */
/* Placeholders                                                                             */

json_t *sio_placeholder_new(unsigned num) {
  return json_pack("{s:b,s:I}", "_placeholder", 1, "num", (json_int_t)num);
}

/* A placeholder, for the reference, is any object whose _placeholder is true. */
static bool is_placeholder(const json_t *v) {
  return json_is_true(json_object_get(v, "_placeholder"));
}

bool sio_placeholder_get(const json_t *v, unsigned *num) {
  if (!is_placeholder(v)) return false;
  const json_t *n = json_object_get(v, "num");
  double d = json_number_value(n);
  if (!json_is_number(n) || !(d >= 0 && d <= UINT_MAX && d == floor(d))) return false;
  if (num) *num = (unsigned)d;
  return true;
}

/* The reference reconstruction replaces each placeholder by buffers[num] and throws if num is
 * not a number in [0, count). A fractional num (1.5) passes its test but picks no buffer
 * (undefined); it is refused here. Placeholders are not searched inside placeholders, as
 * there. The walk keeps its own stack, bounded by the nesting of the value. */
int sio_packet_check_placeholders(const json_t *data, unsigned count) {
  if (!data) return 0;
  size_t cap = 16, n = 0;
  const json_t **stack = malloc(cap * sizeof *stack);
  if (!stack) return -1;
  stack[n++] = data;
  int rc = 0;
  while (n > 0 && rc == 0) {
    json_t *v = (json_t *)stack[--n]; /* jansson's accessors take non-const pointers */
    if (is_placeholder(v)) {
      unsigned num;
      if (!sio_placeholder_get(v, &num) || num >= count) rc = -1;
      continue;
    }
    /* Scalars have none: json_array_size and json_object_size give 0 for other types. */
    size_t children = json_is_array(v) ? json_array_size(v) : json_object_size(v);
    if (children == 0) continue;
    if (n + children > cap) {
      size_t ncap = cap;
      while (ncap < n + children) ncap *= 2;
      const json_t **ns = realloc(stack, ncap * sizeof *ns);
      if (!ns) {
        rc = -1;
        break;
      }
      stack = ns;
      cap = ncap;
    }
    if (json_is_array(v)) {
      for (size_t i = 0; i < children; i++) stack[n++] = json_array_get(v, i);
    } else {
      const char *key;
      json_t *child;
      json_object_foreach(v, key, child) stack[n++] = child;
    }
  }
  free(stack);
  return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Encoding                                                                                 */

bool sio_packet_encode(sbuf *out, sio_packet_type type, const char *nsp, int64_t id,
                       const json_t *data, unsigned attachments, unsigned max_depth) {
  size_t start = out->len;
  sbuf_printf(out, "%d", (int)type);
  if (type == SIO_PACKET_BINARY_EVENT || type == SIO_PACKET_BINARY_ACK)
    sbuf_printf(out, "%u-", attachments);
  /* As the reference: a namespace other than "/" (and not empty) is written with its comma. */
  if (nsp && *nsp && strcmp(nsp, "/") != 0) {
    sbuf_append_str(out, nsp);
    sbuf_append_byte(out, ',');
  }
  if (id >= 0) sbuf_printf(out, "%lld", (long long)id);
  /* The reference writes data only if `null != data`: JSON null is left out too. */
  bool ok = !out->failed;
  if (ok && data && !json_is_null(data)) ok = json_write(out, data, max_depth);
  if (!ok || out->failed) {
    if (out->len > start) out->len = start; /* leave no half packet behind */
    return false;
  }
  return true;
}
