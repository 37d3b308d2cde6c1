/* For the fuzz targets: JSON equality as JavaScript sees it. */
#ifndef SIO_FUZZ_SAME_JSON_H
#define SIO_FUZZ_SAME_JSON_H

#include <jansson.h>
#include <stdbool.h>

/* json_equal, except that numbers compare by value: JS has one number type, so the real 1.0
 * is written "1" and reads back as an integer. Recursive, which is fine here: the decoder
 * has already bounded the depth (max_depth). */
static inline bool same_json(json_t *a, json_t *b) {
  if (json_is_number(a) && json_is_number(b)) {
    if (json_is_integer(a) && json_is_integer(b))
      return json_integer_value(a) == json_integer_value(b);
    return json_number_value(a) == json_number_value(b);
  }
  if (json_typeof(a) != json_typeof(b)) return false;
  if (json_is_array(a)) {
    if (json_array_size(a) != json_array_size(b)) return false;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!same_json(json_array_get(a, i), json_array_get(b, i))) return false;
    return true;
  }
  if (json_is_object(a)) {
    if (json_object_size(a) != json_object_size(b)) return false;
    const char *key;
    size_t key_len;
    json_t *v;
    json_object_keylen_foreach(a, key, key_len, v) {
      json_t *w = json_object_getn(b, key, key_len);
      if (!w || !same_json(v, w)) return false;
    }
    return true;
  }
  return json_equal(a, b); /* strings and literals */
}

#endif
