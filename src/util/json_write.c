/* JSON.stringify's exact output for jansson values (see json_write.h).
 *
 * Three things differ from jansson's own dumper and are the reason this file exists:
 *  - numbers: ECMAScript Number::toString (shortest round-trip digits, JS layout);
 *  - strings: JSON.stringify's escapes (lower-case \u00xx, '/' and non-ASCII kept as is);
 *  - key order: a JS object lists its array-index keys ("0", "1", ... in ascending numeric
 *    order) before its other keys (in insertion order), whatever order they were added in, so
 *    JSON.stringify(JSON.parse('{"b":1,"1":2}')) is '{"1":2,"b":1}'. Other keys keep jansson's
 *    insertion order, which is the order JSON.parse would have created them in. */
#include "util/json_write.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Numbers                                                                                  */

/* m x 10^e10 as strtod reads it (correctly rounded). The text carries no decimal point, so
 * this does not depend on the locale. */
static double decimal_value(uint64_t m, int e10) {
  char buf[48];
  snprintf(buf, sizeof buf, "%" PRIu64 "e%d", m, e10);
  return strtod(buf, NULL);
}

/* The shortest decimal m x 10^e10 that reads back as d (d finite, > 0), choosing the one
 * closest to d among those with that many digits, as ECMAScript's Number::toString asks.
 * For each precision p, printf gives the closest p-digit decimal. If that one does not round
 * trip, the p-digit decimal on the other side of d still may: the rounding interval of a power
 * of two is lopsided (its lower half is narrower), so nearest is not always inside.
 *
 * The search starts at 15 digits for normal numbers: half an ulp (at most 2^-53 relative) is
 * below half a unit in the 15th digit, so if some decimal of 15 digits or fewer reads back as
 * d, it is d rounded to 15 digits (padded with zeros, which the caller strips), and one printf
 * decides it. Subnormals have fewer bits, so their search starts at 1 digit (5e-324). */
static void shortest_decimal(double d, uint64_t *m_out, int *e10_out) {
  int p = d >= DBL_MIN ? 15 : 1;
  uint64_t pow10 = 1; /* 10^(p-1) */
  for (int i = 1; i < p; i++) pow10 *= 10;
  for (; p <= 17; p++, pow10 *= 10) {
    char buf[48];
    snprintf(buf, sizeof buf, "%.*e", p - 1, d);
    /* Digits up to 'e' (skipping the decimal point, whatever the locale makes it), then the
     * exponent of the first digit. */
    uint64_t m = 0;
    const char *s = buf;
    for (; *s && *s != 'e'; s++)
      if (*s >= '0' && *s <= '9') m = m * 10 + (uint64_t)(*s - '0');
    int e10 = (*s == 'e' ? atoi(s + 1) : 0) - (p - 1);
    double back = decimal_value(m, e10);
    if (back == d) {
      *m_out = m;
      *e10_out = e10;
      return;
    }
    /* The neighbour on the other side of d, still with p digits. */
    uint64_t m2 = m;
    int e2 = e10;
    if (back < d) {
      if (++m2 == pow10 * 10) { /* 99..9 + 1: 10..0, one digit longer: renormalise */
        m2 = pow10;
        e2++;
      }
    } else if (m2-- == pow10) { /* 10..0 - 1: 99..9 with p digits, one exponent down */
      m2 = pow10 * 10 - 1;
      e2--;
    }
    if (decimal_value(m2, e2) == d) {
      *m_out = m2;
      *e10_out = e2;
      return;
    }
  }
  /* Unreachable: 17 significant digits always round-trip a double. */
  *m_out = 0;
  *e10_out = 0;
}

bool json_write_double(sbuf *out, double d) {
  if (!isfinite(d)) return sbuf_append_str(out, "null"); /* JSON.stringify(NaN) */
  if (d == 0) return sbuf_append_byte(out, '0');          /* -0 too: (-0).toString() is "0" */

  char buf[40]; /* longest: "-0.00000" and 17 digits (25 bytes) */
  size_t len = 0;
  if (d < 0) {
    buf[len++] = '-';
    d = -d;
  }

  /* digits (k of them) and n: the value is 0.digits x 10^n (ECMAScript's n, k, s). */
  char digits[24];
  int k, n;
  if (d < 9007199254740992.0 && d == floor(d)) {
    /* An integer below 2^53 is exact and no shorter decimal lies within half a unit of it:
     * its own digits are the answer, without the search. */
    k = snprintf(digits, sizeof digits, "%" PRIu64, (uint64_t)d);
    n = k;
  } else {
    uint64_t m;
    int e10;
    shortest_decimal(d, &m, &e10);
    while (m % 10 == 0) { /* the zeros padding a decimal shorter than 15 digits */
      m /= 10;
      e10++;
    }
    k = snprintf(digits, sizeof digits, "%" PRIu64, m);
    n = e10 + k;
  }

  if (k <= n && n <= 21) { /* integer: digits then n-k zeros (1e21 and up use exponents) */
    memcpy(buf + len, digits, (size_t)k);
    len += (size_t)k;
    for (int i = k; i < n; i++) buf[len++] = '0';
  } else if (0 < n && n <= 21) { /* point inside the digits */
    memcpy(buf + len, digits, (size_t)n);
    len += (size_t)n;
    buf[len++] = '.';
    memcpy(buf + len, digits + n, (size_t)(k - n));
    len += (size_t)(k - n);
  } else if (-6 < n && n <= 0) { /* small: 0.000ddd down to 1e-7 exclusive */
    buf[len++] = '0';
    buf[len++] = '.';
    for (int i = n; i < 0; i++) buf[len++] = '0';
    memcpy(buf + len, digits, (size_t)k);
    len += (size_t)k;
  } else { /* exponent form: d[.ddd]e+X / e-X */
    buf[len++] = digits[0];
    if (k > 1) {
      buf[len++] = '.';
      memcpy(buf + len, digits + 1, (size_t)(k - 1));
      len += (size_t)(k - 1);
    }
    len += (size_t)snprintf(buf + len, sizeof buf - len, "e%c%d", n - 1 < 0 ? '-' : '+',
                            abs(n - 1));
  }
  return sbuf_append(out, buf, len);
}

/* ---------------------------------------------------------------------------------------- */
/* Strings                                                                                  */

/* Length (2..4) of a well-formed UTF-8 sequence at s, or 0. Encoded surrogates and overlong
 * forms are not well-formed. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail) {
  unsigned c = s[0];
  size_t n;
  uint32_t v, min;
  if (c >= 0xC2 && c <= 0xDF) n = 2, v = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, v = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, v = c & 0x07, min = 0x10000;
  else return 0;
  if (avail < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    v = v << 6 | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  return n;
}

/* JSON.stringify's QuoteJSONString. Strings that came through jansson's checked constructors
 * or its parser are valid UTF-8; one built with a *_nocheck constructor may not be, and a JS
 * string cannot hold such bytes at all, so each invalid byte becomes U+FFFD (what Node does
 * when it decodes bytes into a string) rather than reaching a client as broken UTF-8. */
static bool write_string(sbuf *out, const char *str, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)str;
  sbuf_append_byte(out, '"');
  size_t run = 0; /* start of the pending run of bytes copied as they are */
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      i++;
      continue;
    }
    size_t seq = c >= 0x80 ? utf8_seq_len(s + i, len - i) : 0;
    if (seq) {
      i += seq;
      continue;
    }
    sbuf_append(out, s + run, i - run);
    char esc[6] = {'\\', 0};
    size_t esc_len = 2;
    switch (c) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      default:
        if (c < 0x20) {
          memcpy(esc, "\\u00", 4);
          esc[4] = hex[c >> 4];
          esc[5] = hex[c & 15];
          esc_len = 6;
        } else { /* an invalid UTF-8 byte */
          memcpy(esc, "\xEF\xBF\xBD", 3);
          esc_len = 3;
        }
    }
    sbuf_append(out, esc, esc_len);
    run = ++i;
  }
  sbuf_append(out, s + run, len - run);
  return sbuf_append_byte(out, '"');
}

/* ---------------------------------------------------------------------------------------- */
/* Objects in JS property order                                                             */

typedef struct {
  const char *key;
  size_t key_len;
  json_t *value;
  uint32_t index; /* the array index, when is_index */
  bool is_index;
  size_t pos; /* insertion position, to keep the order of the other keys */
} member;

/* An ECMAScript array index: the canonical decimal form of an integer in [0, 2^32 - 2]
 * ("0", "7", "42"; not "01", "-1", "4294967295"). */
static bool array_index(const char *k, size_t len, uint32_t *index) {
  if (len == 0 || len > 10 || (len > 1 && k[0] == '0')) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (k[i] < '0' || k[i] > '9') return false;
    v = v * 10 + (uint64_t)(k[i] - '0');
  }
  if (v > 4294967294u) return false;
  *index = (uint32_t)v;
  return true;
}

static int member_cmp(const void *a, const void *b) {
  const member *x = a, *y = b;
  if (x->is_index != y->is_index) return x->is_index ? -1 : 1;
  if (x->is_index) return x->index < y->index ? -1 : x->index > y->index;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* ---------------------------------------------------------------------------------------- */
/* The walk: an explicit stack of open containers, never recursion                        */

typedef struct {
  json_t *v;        /* the open array or object */
  size_t i;         /* children written so far */
  void *iter;       /* object in insertion order: the next member */
  member *members;  /* object with array-index keys: all members in JS order (owned) */
  size_t n_members;
} frame;

/* Opens an object frame. Returns false only on allocation failure. */
static bool open_object(frame *f) {
  void *it = json_object_iter(f->v);
  bool has_index = false;
  uint32_t idx;
  for (void *j = it; j && !has_index; j = json_object_iter_next(f->v, j))
    has_index = array_index(json_object_iter_key(j), json_object_iter_key_len(j), &idx);
  if (!has_index) {
    f->iter = it; /* the common case: jansson's insertion order is JS order */
    return true;
  }
  size_t n = json_object_size(f->v);
  member *ms = malloc(n * sizeof *ms);
  if (!ms) return false;
  size_t pos = 0;
  for (void *j = it; j && pos < n; j = json_object_iter_next(f->v, j), pos++) {
    member *m = &ms[pos];
    m->key = json_object_iter_key(j);
    m->key_len = json_object_iter_key_len(j);
    m->value = json_object_iter_value(j);
    m->is_index = array_index(m->key, m->key_len, &m->index);
    m->pos = pos;
  }
  qsort(ms, pos, sizeof *ms, member_cmp);
  f->members = ms;
  f->n_members = pos;
  return true;
}

/* The next child of an open container (writing the separator and, for objects, the key), or
 * NULL when the container is done. */
static json_t *next_child(sbuf *out, frame *f) {
  const char *key = NULL;
  size_t key_len = 0;
  json_t *child;
  if (json_is_array(f->v)) {
    if (f->i >= json_array_size(f->v)) return NULL;
    child = json_array_get(f->v, f->i);
  } else if (f->members) {
    if (f->i >= f->n_members) return NULL;
    key = f->members[f->i].key;
    key_len = f->members[f->i].key_len;
    child = f->members[f->i].value;
  } else {
    if (!f->iter) return NULL;
    key = json_object_iter_key(f->iter);
    key_len = json_object_iter_key_len(f->iter);
    child = json_object_iter_value(f->iter);
    f->iter = json_object_iter_next(f->v, f->iter);
  }
  if (f->i++ > 0) sbuf_append_byte(out, ',');
  if (key) {
    write_string(out, key, key_len);
    sbuf_append_byte(out, ':');
  }
  return child;
}

bool json_write(sbuf *out, const json_t *value, unsigned max_depth) {
  frame small[16];
  frame *stack = small;
  size_t cap = sizeof small / sizeof small[0], depth = 0;
  bool ok = true;
  /* jansson's accessors take non-const pointers; nothing here modifies the value. */
  json_t *v = (json_t *)value;
  size_t start = out->len;

  while (ok) {
    /* Write v: a scalar whole, or a container's opening bracket (then its children). */
    if (!v) {
      ok = false;
      break;
    }
    switch (json_typeof(v)) {
      case JSON_OBJECT:
      case JSON_ARRAY: {
        if (depth >= max_depth) { /* also what stops a cyclic value */
          ok = false;
          break;
        }
        if (depth == cap) {
          size_t ncap = cap * 2;
          frame *ns = stack == small ? malloc(ncap * sizeof *ns)
                                     : realloc(stack, ncap * sizeof *ns);
          if (!ns) {
            ok = false;
            out->failed = true;
            break;
          }
          if (stack == small) memcpy(ns, small, sizeof small);
          stack = ns;
          cap = ncap;
        }
        frame *f = &stack[depth];
        *f = (frame){.v = v};
        if (json_is_object(v) && !open_object(f)) {
          ok = false;
          out->failed = true;
          break;
        }
        depth++;
        sbuf_append_byte(out, json_is_object(v) ? '{' : '[');
        break;
      }
      case JSON_STRING:
        write_string(out, json_string_value(v), json_string_length(v));
        break;
      case JSON_INTEGER:
        /* Printed whole. Above 2^53 a JS number would have been rounded (9007199254740993
         * prints as ...992); the decimal is kept because a JS client parses both texts to the
         * same number, and a C caller gets its exact integer through other JSON readers. */
        sbuf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
      case JSON_REAL:
        json_write_double(out, json_real_value(v));
        break;
      case JSON_TRUE: sbuf_append_str(out, "true"); break;
      case JSON_FALSE: sbuf_append_str(out, "false"); break;
      case JSON_NULL: sbuf_append_str(out, "null"); break;
    }
    if (!ok || out->failed) break;

    /* Find the next value: the next child of the innermost open container, closing those
     * that are done. */
    v = NULL;
    while (depth > 0 && !v) {
      frame *f = &stack[depth - 1];
      v = next_child(out, f);
      if (!v) {
        sbuf_append_byte(out, json_is_object(f->v) ? '}' : ']');
        free(f->members);
        depth--;
      }
    }
    if (!v) break; /* everything written (or, if out failed, given up) */
  }

  while (depth > 0) free(stack[--depth].members);
  if (stack != small) free(stack);
  if (!ok || out->failed) {
    if (out->len > start) out->len = start; /* no half-written value left behind */
    return false;
  }
  return true;
}
