/*
 * map.h - a string-keyed hash map with chaining.
 *
 * Keys are copied; values are borrowed pointers the caller manages. Used for
 * the stream registry, rate-limit counters and the like. Not thread-safe: a
 * map belongs to the thread that uses it (the event loop, normally).
 * Iteration order is unspecified; do not insert or delete while iterating
 * except through oa_map_iter_remove().
 */
#ifndef OA_CORE_MAP_H
#define OA_CORE_MAP_H

#include "common.h"

struct oa_map_entry {
    struct oa_map_entry *next;
    uint64_t hash;
    void *value;
    size_t key_len;
    char key[];
};

struct oa_map {
    struct oa_map_entry **buckets;
    size_t nbuckets;
    size_t count;
};

struct oa_map_iter {
    struct oa_map *map;
    size_t bucket;
    struct oa_map_entry *entry;
    struct oa_map_entry **link;
};

void oa_map_init(struct oa_map *m);
/* Frees the entries (not the values). */
void oa_map_free(struct oa_map *m);
void *oa_map_get(const struct oa_map *m, const char *key);
/* Inserts or replaces; returns the previous value or NULL. */
void *oa_map_put(struct oa_map *m, const char *key, void *value);
/* Removes key; returns its value or NULL. */
void *oa_map_remove(struct oa_map *m, const char *key);

void oa_map_iter_init(struct oa_map_iter *it, struct oa_map *m);
/* Advances; returns false at the end. it->entry is the current entry. */
bool oa_map_iter_next(struct oa_map_iter *it);
/* Removes the current entry; the next oa_map_iter_next() continues correctly. */
void oa_map_iter_remove(struct oa_map_iter *it);

uint64_t oa_hash(const void *p, size_t n);

#endif
