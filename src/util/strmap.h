/* A hash map from NUL-terminated strings to pointers: open addressing with linear probing and
 * backward-shift deletion (no tombstones), so lookups stay short however many keys come and go.
 * Keys are borrowed: each key must live as long as its entry (typically it is inside the value). */
#ifndef SIO_UTIL_STRMAP_H
#define SIO_UTIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *key;
  void *value;
  uint64_t hash;
} strmap_slot;

typedef struct {
  strmap_slot *slots;
  size_t cap;   /* a power of two, or 0 */
  size_t count;
} strmap;

void strmap_init(strmap *m);
void strmap_free(strmap *m);   /* frees the table, not the keys or values */
void *strmap_get(const strmap *m, const char *key);
/* Inserts or replaces. Returns false only if memory is exhausted. */
bool strmap_put(strmap *m, const char *key, void *value);
/* Removes the key; returns its value, or NULL if absent. */
void *strmap_remove(strmap *m, const char *key);

/* Iteration: for (size_t i = 0; strmap_next(m, &i, &k, &v);) ...  Do not modify while iterating. */
bool strmap_next(const strmap *m, size_t *pos, const char **key, void **value);

uint64_t strmap_hash(const char *s);

#endif
