/* map.c - chained hash map (FNV-1a) that doubles when the load exceeds 1. */
#include "map.h"
#include "alloc.h"

uint64_t oa_hash(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void oa_map_init(struct oa_map *m)
{
    m->nbuckets = 16;
    m->buckets = oa_calloc(m->nbuckets, sizeof(*m->buckets));
    m->count = 0;
}

void oa_map_free(struct oa_map *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct oa_map_entry *e = m->buckets[i];
        while (e) {
            struct oa_map_entry *next = e->next;
            oa_free(e);
            e = next;
        }
    }
    oa_free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->count = 0;
}

static struct oa_map_entry **find(const struct oa_map *m, const char *key, size_t len, uint64_t h)
{
    struct oa_map_entry **link = &m->buckets[h & (m->nbuckets - 1)];
    while (*link) {
        struct oa_map_entry *e = *link;
        if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0)
            return link;
        link = &e->next;
    }
    return link;
}

void *oa_map_get(const struct oa_map *m, const char *key)
{
    size_t len = strlen(key);
    struct oa_map_entry **link = find(m, key, len, oa_hash(key, len));
    return *link ? (*link)->value : NULL;
}

static void grow(struct oa_map *m)
{
    size_t n = m->nbuckets * 2;
    struct oa_map_entry **b = oa_calloc(n, sizeof(*b));
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct oa_map_entry *e = m->buckets[i];
        while (e) {
            struct oa_map_entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    oa_free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

void *oa_map_put(struct oa_map *m, const char *key, void *value)
{
    size_t len = strlen(key);
    uint64_t h = oa_hash(key, len);
    struct oa_map_entry **link = find(m, key, len, h);
    if (*link) {
        void *old = (*link)->value;
        (*link)->value = value;
        return old;
    }
    struct oa_map_entry *e = oa_malloc(sizeof(*e) + len + 1);
    e->next = NULL;
    e->hash = h;
    e->value = value;
    e->key_len = len;
    memcpy(e->key, key, len + 1);
    *link = e;
    if (++m->count > m->nbuckets)
        grow(m);
    return NULL;
}

void *oa_map_remove(struct oa_map *m, const char *key)
{
    size_t len = strlen(key);
    struct oa_map_entry **link = find(m, key, len, oa_hash(key, len));
    struct oa_map_entry *e = *link;
    if (!e)
        return NULL;
    void *v = e->value;
    *link = e->next;
    oa_free(e);
    m->count--;
    return v;
}

void oa_map_iter_init(struct oa_map_iter *it, struct oa_map *m)
{
    it->map = m;
    it->bucket = 0;
    it->entry = NULL;
    it->link = NULL;
}

bool oa_map_iter_next(struct oa_map_iter *it)
{
    struct oa_map *m = it->map;
    if (it->entry) {
        it->link = &it->entry->next;
    } else if (it->link == NULL) {
        it->link = &m->buckets[0];
    }
    /* After a removal it->entry is NULL and it->link already points at the successor. */
    for (;;) {
        if (*it->link) {
            it->entry = *it->link;
            return true;
        }
        if (++it->bucket >= m->nbuckets) {
            it->entry = NULL;
            return false;
        }
        it->link = &m->buckets[it->bucket];
    }
}

void oa_map_iter_remove(struct oa_map_iter *it)
{
    struct oa_map_entry *e = it->entry;
    *it->link = e->next;
    oa_free(e);
    it->map->count--;
    it->entry = NULL;
}
