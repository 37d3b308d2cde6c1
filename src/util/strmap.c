#include "util/strmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t strmap_hash(const char *s) {
  /* FNV-1a, then a final mix so that low bits (the slot index) depend on every byte. */
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h ? h : 1; /* 0 marks an empty slot */
}

void strmap_init(strmap *m) { memset(m, 0, sizeof *m); }

void strmap_free(strmap *m) {
  free(m->slots);
  memset(m, 0, sizeof *m);
}

static strmap_slot *find(const strmap *m, const char *key, uint64_t h) {
  if (!m->cap) return NULL;
  size_t mask = m->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    strmap_slot *s = &m->slots[i];
    if (!s->hash) return NULL;
    if (s->hash == h && strcmp(s->key, key) == 0) return s;
  }
}

void *strmap_get(const strmap *m, const char *key) {
  strmap_slot *s = find(m, key, strmap_hash(key));
  return s ? s->value : NULL;
}

static void insert_slot(strmap_slot *slots, size_t cap, strmap_slot item) {
  size_t mask = cap - 1;
  size_t i = item.hash & mask;
  while (slots[i].hash) i = (i + 1) & mask;
  slots[i] = item;
}

static bool grow(strmap *m) {
  size_t cap = m->cap ? m->cap * 2 : 16;
  strmap_slot *slots = calloc(cap, sizeof *slots);
  if (!slots) return false;
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].hash) insert_slot(slots, cap, m->slots[i]);
  free(m->slots);
  m->slots = slots;
  m->cap = cap;
  return true;
}

bool strmap_put(strmap *m, const char *key, void *value) {
  uint64_t h = strmap_hash(key);
  strmap_slot *s = find(m, key, h);
  if (s) {
    s->key = key;
    s->value = value;
    return true;
  }
  /* Keep the load factor under 3/4. */
  if ((m->count + 1) * 4 > m->cap * 3 && !grow(m)) return false;
  insert_slot(m->slots, m->cap, (strmap_slot){key, value, h});
  m->count++;
  return true;
}

void *strmap_remove(strmap *m, const char *key) {
  strmap_slot *s = find(m, key, strmap_hash(key));
  if (!s) return NULL;
  void *value = s->value;
  size_t mask = m->cap - 1;
  size_t hole = (size_t)(s - m->slots);
  /* Backward-shift: pull later entries of the probe run into the hole when their home slot
   * allows it, so that no tombstone is needed. */
  for (size_t i = (hole + 1) & mask; m->slots[i].hash; i = (i + 1) & mask) {
    size_t home = m->slots[i].hash & mask;
    if (((i - home) & mask) >= ((i - hole) & mask)) {
      m->slots[hole] = m->slots[i];
      hole = i;
    }
  }
  m->slots[hole] = (strmap_slot){0};
  m->count--;
  return value;
}

bool strmap_next(const strmap *m, size_t *pos, const char **key, void **value) {
  for (; *pos < m->cap; (*pos)++) {
    strmap_slot *s = &m->slots[*pos];
    if (s->hash) {
      if (key) *key = s->key;
      if (value) *value = s->value;
      (*pos)++;
      return true;
    }
  }
  return false;
}
