/* A set of pointers: open addressing with linear probing and backward-shift deletion (no
 * tombstones), so add/remove/has stay O(1) however many members come and go. Rooms hold their
 * sockets in one, sockets hold their rooms in another: membership is O(1) both ways.
 * An empty set owns no memory; the table grows at 3/4 load and shrinks at 1/8. */
#ifndef SIO_SIO_PTRSET_H
#define SIO_SIO_PTRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  void **slots;   /* NULL marks an empty slot */
  uint32_t cap;   /* a power of two, or 0 */
  uint32_t count;
} ptrset;

static inline void ptrset_init(ptrset *s) { s->slots = NULL, s->cap = s->count = 0; }
void ptrset_free(ptrset *s);
/* Returns 1 if added, 0 if already there, -1 if memory is exhausted. `p` must not be NULL. */
int ptrset_add(ptrset *s, void *p);
/* Returns true if `p` was there. */
bool ptrset_remove(ptrset *s, void *p);
bool ptrset_has(const ptrset *s, const void *p);

/* Iteration: for (size_t i = 0; ptrset_next(s, &i, &p);) ...  Do not modify while iterating. */
static inline bool ptrset_next(const ptrset *s, size_t *pos, void **out) {
  while (*pos < s->cap) {
    void *p = s->slots[(*pos)++];
    if (p) {
      *out = p;
      return true;
    }
  }
  return false;
}

#endif
