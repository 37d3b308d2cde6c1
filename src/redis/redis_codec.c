#include "redis/redis_codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sio/sio_packet.h"

/* ------------------------------------------------------------------------------------------ */
/* the size guard                                                                              */

/* Big-endian unsigned of `n` bytes at p[*i], if they are there. */
static bool read_be(const uint8_t *p, size_t len, size_t *i, unsigned n, uint64_t *out) {
  if (len - *i < n) return false;
  uint64_t v = 0;
  for (unsigned k = 0; k < n; k++) v = v << 8 | p[(*i)++];
  *out = v;
  return true;
}

/* Walks the headers only: for each value, how many bytes follow its first byte (`skip`, read
 * from a length field of `lenbytes` bytes plus `extra`) or how many values it contains. Each
 * contained value takes at least one byte, so a count larger than the bytes left is a lie. */
bool rcodec_check(const uint8_t *p, size_t len, unsigned max_depth) {
  size_t pending[RCODEC_MAX_DEPTH + 1];
  unsigned depth = 0;
  size_t i = 0;
  if (!p || !len) return false;
  if (max_depth > RCODEC_MAX_DEPTH) max_depth = RCODEC_MAX_DEPTH;
  pending[0] = 1; /* the root: one value */
  for (;;) {
    while (pending[depth] == 0) {
      if (depth == 0) return i == len;
      depth--;
    }
    pending[depth]--;
    if (i >= len) return false;
    uint8_t b = p[i++];
    uint64_t skip = 0, count = 0, field = 0;
    unsigned lenbytes = 0, extra = 0, per_item = 1;
    bool container = false;
    if (b <= 0x7f || b >= 0xe0) {
      /* fixint */
    } else if (b <= 0x8f) {
      container = true, count = b & 0x0f, per_item = 2;
    } else if (b <= 0x9f) {
      container = true, count = b & 0x0f;
    } else if (b <= 0xbf) {
      skip = b & 0x1f;
    } else {
      switch (b) {
      case 0xc0: case 0xc2: case 0xc3: break;
      case 0xc4: lenbytes = 1; break;                 /* bin 8/16/32 */
      case 0xc5: lenbytes = 2; break;
      case 0xc6: lenbytes = 4; break;
      case 0xc7: lenbytes = 1, extra = 1; break;      /* ext 8/16/32: + type byte */
      case 0xc8: lenbytes = 2, extra = 1; break;
      case 0xc9: lenbytes = 4, extra = 1; break;
      case 0xca: skip = 4; break;
      case 0xcb: skip = 8; break;
      case 0xcc: case 0xd0: skip = 1; break;
      case 0xcd: case 0xd1: skip = 2; break;
      case 0xce: case 0xd2: skip = 4; break;
      case 0xcf: case 0xd3: skip = 8; break;
      case 0xd4: skip = 2; break;                     /* fixext: type + 1/2/4/8/16 */
      case 0xd5: skip = 3; break;
      case 0xd6: skip = 5; break;
      case 0xd7: skip = 9; break;
      case 0xd8: skip = 17; break;
      case 0xd9: lenbytes = 1; break;                 /* str 8/16/32 */
      case 0xda: lenbytes = 2; break;
      case 0xdb: lenbytes = 4; break;
      case 0xdc: container = true, lenbytes = 2; break;
      case 0xdd: container = true, lenbytes = 4; break;
      case 0xde: container = true, lenbytes = 2, per_item = 2; break;
      case 0xdf: container = true, lenbytes = 4, per_item = 2; break;
      default: return false;                          /* 0xc1: never used */
      }
    }
    if (lenbytes && !read_be(p, len, &i, lenbytes, &field)) return false;
    if (container) {
      if (lenbytes) count = field;
      count *= per_item;
      if (count > len - i || depth + 1 > max_depth) return false;
      pending[++depth] = (size_t)count;
      continue;
    }
    if (lenbytes) skip = field + extra;
    if (skip > len - i) return false;
    i += (size_t)skip;
  }
}

int rcodec_unpack(const uint8_t *p, size_t len, msgpack_unpacked *out) {
  if (!rcodec_check(p, len, RCODEC_MAX_DEPTH)) return -1;
  msgpack_unpacked_init(out);
  size_t off = 0;
  if (msgpack_unpack_next(out, (const char *)p, len, &off) != MSGPACK_UNPACK_SUCCESS ||
      off != len) {
    msgpack_unpacked_destroy(out);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* msgpack -> JSON                                                                             */

void rcodec_bins_free(rcodec_bins *b) {
  free(b->v);
  b->v = NULL;
  b->n = b->cap = 0;
}

static json_t *add_bin(rcodec_bins *b, const char *data, size_t len) {
  if (b->max && b->n >= b->max) return NULL;
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 4;
    sio_bytes *v = realloc(b->v, cap * sizeof *v);
    if (!v) return NULL;
    b->v = v;
    b->cap = cap;
  }
  json_t *ph = sio_placeholder_new((unsigned)b->n);
  if (ph) b->v[b->n++] = (sio_bytes){(const uint8_t *)data, len};
  return ph;
}

/* Date.prototype.toJSON of seconds + nanoseconds since the epoch; null out of its range. */
static json_t *iso_date(int64_t sec, uint32_t nsec) {
  /* JavaScript dates span +-8.64e15 ms. */
  if (nsec >= 1000000000u || sec > 8640000000000LL || sec < -8640000000000LL) return json_null();
  time_t t = (time_t)sec;
  struct tm tm;
  if (!gmtime_r(&t, &tm)) return json_null();
  long long year = (long long)tm.tm_year + 1900;
  char buf[64];
  char ybuf[16];
  if (year >= 0 && year <= 9999) snprintf(ybuf, sizeof ybuf, "%04lld", year);
  else snprintf(ybuf, sizeof ybuf, "%c%06lld", year < 0 ? '-' : '+', year < 0 ? -year : year);
  snprintf(buf, sizeof buf, "%s-%02d-%02dT%02d:%02d:%02d.%03uZ", ybuf, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(nsec / 1000000u));
  return json_string(buf);
}

static uint64_t be(const char *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned k = 0; k < n; k++) v = v << 8 | (uint8_t)p[k];
  return v;
}

/* The msgpack timestamp extension (type -1) of 4, 8 or 12 bytes. */
static json_t *timestamp(const msgpack_object_ext *e) {
  if (e->size == 4) return iso_date((int64_t)be(e->ptr, 4), 0);
  if (e->size == 8) {
    uint64_t v = be(e->ptr, 8);
    return iso_date((int64_t)(v & 0x3ffffffffULL), (uint32_t)(v >> 34));
  }
  if (e->size == 12) return iso_date((int64_t)be(e->ptr + 4, 8), (uint32_t)be(e->ptr, 4));
  return NULL;
}

/* The bytes of a str/bin/ext: msgpack-c leaves the pointer NULL for an empty one. */
static const char *bytes_of(const char *ptr, uint32_t size) { return size ? ptr : ""; }

char *rcodec_string(const msgpack_object *o) {
  char buf[32];
  if (!o) return NULL;
  switch (o->type) {
  case MSGPACK_OBJECT_STR:
    if (memchr(bytes_of(o->via.str.ptr, o->via.str.size), 0, o->via.str.size)) return NULL;
    return strndup(bytes_of(o->via.str.ptr, o->via.str.size), o->via.str.size);
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)o->via.u64);
    return strdup(buf);
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    snprintf(buf, sizeof buf, "%lld", (long long)o->via.i64);
    return strdup(buf);
  default:
    return NULL;
  }
}

/* `*undefined` is set for notepack's undefined (fixext 1, type 0). */
static json_t *convert(const msgpack_object *o, rcodec_bins *b, unsigned depth, bool *undefined) {
  *undefined = false;
  switch (o->type) {
  case MSGPACK_OBJECT_NIL:
    return json_null();
  case MSGPACK_OBJECT_BOOLEAN:
    return json_boolean(o->via.boolean);
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    if (o->via.u64 > (uint64_t)INT64_MAX) return json_real((double)o->via.u64);
    return json_integer((json_int_t)o->via.u64);
  case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    return json_integer((json_int_t)o->via.i64);
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64:
    return isfinite(o->via.f64) ? json_real(o->via.f64) : json_null();
  case MSGPACK_OBJECT_STR: /* NULL if not UTF-8 */
    return json_stringn(bytes_of(o->via.str.ptr, o->via.str.size), o->via.str.size);
  case MSGPACK_OBJECT_BIN:
    return add_bin(b, bytes_of(o->via.bin.ptr, o->via.bin.size), o->via.bin.size);
  case MSGPACK_OBJECT_EXT: {
    const msgpack_object_ext *e = &o->via.ext;
    if (e->type == 0 && e->size == 1) {
      *undefined = true;
      return json_null();
    }
    if (e->type == 0) return add_bin(b, bytes_of(e->ptr, e->size), e->size);
    if (e->type == -1) return timestamp(e);
    json_t *pair = json_array();
    if (!pair || json_array_append_new(pair, json_integer(e->type)) ||
        json_array_append_new(pair, add_bin(b, bytes_of(e->ptr, e->size), e->size))) {
      json_decref(pair);
      return NULL;
    }
    return pair;
  }
  case MSGPACK_OBJECT_ARRAY: {
    if (depth >= RCODEC_MAX_DEPTH) return NULL;
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < o->via.array.size; i++) {
      bool undef;
      json_t *v = convert(&o->via.array.ptr[i], b, depth + 1, &undef);
      if (!v || json_array_append_new(a, v)) {
        json_decref(a);
        return NULL;
      }
    }
    return a;
  }
  case MSGPACK_OBJECT_MAP: {
    if (depth >= RCODEC_MAX_DEPTH) return NULL;
    json_t *m = json_object();
    for (uint32_t i = 0; m && i < o->via.map.size; i++) {
      const msgpack_object_kv *kv = &o->via.map.ptr[i];
      char *key = rcodec_string(&kv->key);
      bool undef;
      json_t *v = key ? convert(&kv->val, b, depth + 1, &undef) : NULL;
      if (!v) {
        json_decref(m);
        m = NULL;
      } else if (undef) {
        json_decref(v); /* an undefined property is no property */
      } else if (json_object_set_new(m, key, v)) { /* checks UTF-8; takes `v` either way */
        json_decref(m);
        m = NULL;
      }
      free(key);
    }
    return m;
  }
  }
  return NULL;
}

json_t *rcodec_to_json(const msgpack_object *o, rcodec_bins *bins, unsigned max_depth) {
  (void)max_depth; /* the guard and msgpack-c bound it to RCODEC_MAX_DEPTH already */
  bool undef;
  return o ? convert(o, bins, 0, &undef) : NULL;
}

const msgpack_object *rcodec_map_get(const msgpack_object *map, const char *key) {
  if (!map || map->type != MSGPACK_OBJECT_MAP) return NULL;
  size_t klen = strlen(key);
  for (uint32_t i = 0; i < map->via.map.size; i++) {
    const msgpack_object *k = &map->via.map.ptr[i].key;
    if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
        memcmp(k->via.str.ptr, key, klen) == 0)
      return &map->via.map.ptr[i].val;
  }
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* JSON -> msgpack                                                                             */

int rcodec_pack_str(msgpack_packer *pk, const char *s) {
  size_t len = strlen(s);
  return msgpack_pack_str(pk, len) || msgpack_pack_str_body(pk, s, len) ? -1 : 0;
}

static int pack(msgpack_packer *pk, const json_t *v, const sio_bytes *bins, size_t nbins,
                unsigned depth, unsigned max_depth) {
  switch (json_typeof(v)) {
  case JSON_NULL: return msgpack_pack_nil(pk);
  case JSON_TRUE: return msgpack_pack_true(pk);
  case JSON_FALSE: return msgpack_pack_false(pk);
  case JSON_INTEGER: return msgpack_pack_int64(pk, (int64_t)json_integer_value(v));
  case JSON_REAL: {
    /* As notepack.io: an integral number is an integer. */
    double d = json_real_value(v);
    if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
      return msgpack_pack_int64(pk, (int64_t)d);
    return msgpack_pack_double(pk, d);
  }
  case JSON_STRING: {
    size_t len = json_string_length(v);
    return msgpack_pack_str(pk, len) || msgpack_pack_str_body(pk, json_string_value(v), len)
               ? -1 : 0;
  }
  case JSON_ARRAY: {
    if (depth >= max_depth) return -1;
    size_t n = json_array_size(v);
    if (n > UINT32_MAX || msgpack_pack_array(pk, n)) return -1;
    for (size_t i = 0; i < n; i++)
      if (pack(pk, json_array_get(v, i), bins, nbins, depth + 1, max_depth)) return -1;
    return 0;
  }
  case JSON_OBJECT: {
    unsigned num;
    if (sio_placeholder_get(v, &num)) {
      if (num >= nbins) return -1;
      const sio_bytes *bb = &bins[num];
      return msgpack_pack_bin(pk, bb->len) ||
                     (bb->len && msgpack_pack_bin_body(pk, bb->data, bb->len))
                 ? -1 : 0;
    }
    if (depth >= max_depth) return -1;
    size_t n = json_object_size(v);
    if (n > UINT32_MAX || msgpack_pack_map(pk, n)) return -1;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val) {
      if (rcodec_pack_str(pk, key) || pack(pk, val, bins, nbins, depth + 1, max_depth)) return -1;
    }
    return 0;
  }
  }
  return -1;
}

int rcodec_pack_json(msgpack_packer *pk, const json_t *v, const sio_bytes *bins, size_t nbins,
                     unsigned max_depth) {
  return v ? pack(pk, v, bins, nbins, 0, max_depth) : msgpack_pack_nil(pk);
}
