/*
 * nonce.c - the replay cache: a ring of (hash, expiry) in arrival order and
 * a linear-probing set of ring positions keyed by the hash. Both grow by
 * doubling up to the configured maximum, so an idle server holds little.
 * Removal from the set uses backward-shift deletion, so there are no
 * tombstones and lookups stay short however long the server runs.
 */
#include "api/nonce.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/util.h"

struct entry {
    uint64_t hash;
    int64_t expires;
};

struct api_nonce_cache {
    struct entry *ring;
    size_t cap, head, count, max;
    uint32_t *slots; /* ring position + 1, or 0 when empty */
    size_t mask;     /* slots has mask + 1 entries, a power of two >= 2 * cap */
    uint64_t k0, k1; /* SipHash key */
};

/* ===== SipHash-2-4 (Aumasson & Bernstein), over two strings joined by a NUL ===== */

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

struct sip {
    uint64_t v0, v1, v2, v3;
    uint64_t tail; /* pending bytes, little-endian */
    size_t len;    /* total bytes fed */
};

static void sip_init(struct sip *s, uint64_t k0, uint64_t k1)
{
    s->v0 = 0x736f6d6570736575ULL ^ k0;
    s->v1 = 0x646f72616e646f6dULL ^ k1;
    s->v2 = 0x6c7967656e657261ULL ^ k0;
    s->v3 = 0x7465646279746573ULL ^ k1;
    s->tail = 0;
    s->len = 0;
}

static void sip_block(struct sip *s, uint64_t m)
{
    uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;
    v3 ^= m;
    SIPROUND;
    SIPROUND;
    v0 ^= m;
    s->v0 = v0, s->v1 = v1, s->v2 = v2, s->v3 = v3;
}

static void sip_update(struct sip *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        s->tail |= (uint64_t)b[i] << (8 * (s->len & 7));
        s->len++;
        if ((s->len & 7) == 0) {
            sip_block(s, s->tail);
            s->tail = 0;
        }
    }
}

static uint64_t sip_final(struct sip *s)
{
    sip_block(s, s->tail | ((uint64_t)(s->len & 0xff) << 56));
    uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2 ^ 0xff, v3 = s->v3;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t nonce_hash(const struct api_nonce_cache *c, const char *key_id, const char *nonce)
{
    struct sip s;
    sip_init(&s, c->k0, c->k1);
    /* The NUL separates the two, so ("ab", "c") and ("a", "bc") differ. */
    sip_update(&s, key_id, strlen(key_id) + 1);
    sip_update(&s, nonce, strlen(nonce));
    return sip_final(&s);
}

/* ===== the set ===== */

static size_t home(const struct api_nonce_cache *c, uint64_t h)
{
    /* The low bits index the set; mix the high ones in for small tables. */
    return (size_t)(h ^ (h >> 32)) & c->mask;
}

/* The slot holding ring position pos + 1 for hash h, or of h itself when pos is SIZE_MAX. */
static size_t find_slot(const struct api_nonce_cache *c, uint64_t h, size_t pos, bool *found)
{
    size_t i = home(c, h);
    while (c->slots[i]) {
        size_t p = c->slots[i] - 1;
        if (pos == SIZE_MAX ? c->ring[p].hash == h : p == pos) {
            *found = true;
            return i;
        }
        i = (i + 1) & c->mask;
    }
    *found = false;
    return i;
}

static void slot_remove(struct api_nonce_cache *c, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & c->mask;
        if (!c->slots[j])
            break;
        size_t k = home(c, c->ring[c->slots[j] - 1].hash);
        /* Move j back into the hole at i unless its home lies cyclically in (i, j]. */
        bool in_range = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!in_range) {
            c->slots[i] = c->slots[j];
            i = j;
        }
    }
    c->slots[i] = 0;
}

static void rebuild(struct api_nonce_cache *c, size_t newcap)
{
    struct entry *ring = oa_malloc(newcap * sizeof(*ring));
    for (size_t n = 0; n < c->count; n++)
        ring[n] = c->ring[(c->head + n) % c->cap];
    oa_free(c->ring);
    c->ring = ring;
    c->cap = newcap;
    c->head = 0;

    size_t nslots = 4;
    while (nslots < 2 * newcap)
        nslots *= 2;
    oa_free(c->slots);
    c->slots = oa_calloc(nslots, sizeof(*c->slots));
    c->mask = nslots - 1;
    for (size_t n = 0; n < c->count; n++) {
        bool found;
        size_t i = find_slot(c, ring[n].hash, SIZE_MAX, &found);
        c->slots[i] = (uint32_t)(n + 1);
    }
}

struct api_nonce_cache *api_nonce_new(size_t max)
{
    OA_ASSERT(max >= 1 && max < UINT32_MAX);
    struct api_nonce_cache *c = oa_calloc(1, sizeof(*c));
    c->max = max;
    oa_random_bytes(&c->k0, sizeof(c->k0));
    oa_random_bytes(&c->k1, sizeof(c->k1));
    rebuild(c, OA_MIN(max, (size_t)1024));
    return c;
}

void api_nonce_free(struct api_nonce_cache *c)
{
    if (!c)
        return;
    oa_free(c->ring);
    oa_free(c->slots);
    oa_free(c);
}

size_t api_nonce_count(const struct api_nonce_cache *c)
{
    return c->count;
}

static void expire(struct api_nonce_cache *c, int64_t now)
{
    while (c->count && c->ring[c->head].expires < now) {
        bool found;
        size_t i = find_slot(c, c->ring[c->head].hash, c->head, &found);
        OA_ASSERT(found);
        slot_remove(c, i);
        c->head = (c->head + 1) % c->cap;
        c->count--;
    }
}

int api_nonce_check_add(struct api_nonce_cache *c, const char *key_id, const char *nonce,
                        int64_t expires, int64_t now)
{
    expire(c, now);
    uint64_t h = nonce_hash(c, key_id, nonce);
    bool found;
    size_t i = find_slot(c, h, SIZE_MAX, &found);
    if (found)
        return OA_EEXIST;
    if (c->count == c->max)
        return OA_EBUSY;
    if (c->count == c->cap) {
        rebuild(c, OA_MIN(c->cap * 2, c->max));
        i = find_slot(c, h, SIZE_MAX, &found);
    }
    size_t pos = (c->head + c->count) % c->cap;
    c->ring[pos].hash = h;
    c->ring[pos].expires = expires;
    c->slots[i] = (uint32_t)(pos + 1);
    c->count++;
    return 0;
}
