#include "sio/ptrset.h"

#include <stdlib.h>

#define MIN_CAP 4u

/* Pointers are aligned, so their low bits carry nothing: mix before masking. */
static inline uint32_t slot_of(const void *p, uint32_t cap) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return (uint32_t)x & (cap - 1);
}

void ptrset_free(ptrset *s) {
  free(s->slots);
  ptrset_init(s);
}

static bool rehash(ptrset *s, uint32_t cap) {
  void **slots = NULL;
  if (cap) {
    slots = calloc(cap, sizeof *slots);
    if (!slots) return false;
    for (uint32_t i = 0; i < s->cap; i++) {
      void *p = s->slots[i];
      if (!p) continue;
      uint32_t j = slot_of(p, cap);
      while (slots[j]) j = (j + 1) & (cap - 1);
      slots[j] = p;
    }
  }
  free(s->slots);
  s->slots = slots;
  s->cap = cap;
  return true;
}

static int64_t find(const ptrset *s, const void *p) {
  if (!s->cap) return -1;
  for (uint32_t i = slot_of(p, s->cap);; i = (i + 1) & (s->cap - 1)) {
    if (s->slots[i] == p) return i;
    if (!s->slots[i]) return -1;
  }
}

bool ptrset_has(const ptrset *s, const void *p) { return find(s, p) >= 0; }

int ptrset_add(ptrset *s, void *p) {
  if (find(s, p) >= 0) return 0;
  if ((s->count + 1) * 4 > s->cap * 3 && !rehash(s, s->cap ? s->cap * 2 : MIN_CAP)) return -1;
  uint32_t i = slot_of(p, s->cap);
  while (s->slots[i]) i = (i + 1) & (s->cap - 1);
  s->slots[i] = p;
  s->count++;
  return 1;
}

bool ptrset_remove(ptrset *s, void *p) {
  int64_t at = find(s, p);
  if (at < 0) return false;
  uint32_t mask = s->cap - 1, hole = (uint32_t)at;
  /* Backward shift: move later members of the probe run into the hole when their home slot
   * allows it, so that no lookup ever stops early at an empty slot. */
  for (uint32_t j = (hole + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
    uint32_t home = slot_of(s->slots[j], s->cap);
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      s->slots[hole] = s->slots[j];
      hole = j;
    }
  }
  s->slots[hole] = NULL;
  s->count--;
  if (!s->count) {
    ptrset_free(s);
  } else if (s->cap > MIN_CAP * 2 && s->count * 8 < s->cap) {
    rehash(s, s->cap / 2); /* on failure the larger table simply stays */
  }
  return true;
}
