/*
 * nonce.c - the replay cache: per account, a min-heap of (expiry, hash) and
 * a linear-probing set of the hashes. Both grow by doubling up to the
 * configured maximum and shrink again as entries expire, so an idle account
 * holds nothing and a busy one only what its recent requests need. Removal
 * from the set uses backward-shift deletion, so there are no tombstones and
 * lookups stay short however long the server runs. The sets are found
 * through an oa_map keyed by the account id, and listed in an array that
 * the sweep walks round-robin.
 */
#include "api/nonce.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/map.h"
#include "core/util.h"

#define MIN_CAP 16

struct item {
    int64_t expires;
    uint64_t hash;
};

struct nset {
    int64_t account_id;
    size_t idx;        /* position in cache->all */
    struct item *heap; /* min-heap on expires */
    size_t count, cap;
    uint64_t *slots; /* hashes, 0 = empty; mask + 1 >= 2 * cap */
    size_t mask;
};

struct api_nonce_cache {
    size_t max;
    struct oa_map by_account; /* "<id>" -> struct nset * */
    struct nset **all;
    size_t nall, allcap, sweep;
    size_t total;
    uint64_t k0, k1; /* SipHash key */
    /* What the last successful api_nonce_check approved, for api_nonce_add. */
    bool pending;
    int64_t pending_account;
    uint64_t pending_hash;
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
    uint64_t h = sip_final(&s);
    return h ? h : 1; /* 0 marks an empty slot */
}

/* ===== one account's set ===== */

static size_t home(const struct nset *n, uint64_t h)
{
    /* The low bits index the set; mix the high ones in for small tables. */
    return (size_t)(h ^ (h >> 32)) & n->mask;
}

/* The slot holding h, or the empty slot where it would go. */
static size_t find_slot(const struct nset *n, uint64_t h, bool *found)
{
    size_t i = home(n, h);
    while (n->slots[i]) {
        if (n->slots[i] == h) {
            *found = true;
            return i;
        }
        i = (i + 1) & n->mask;
    }
    *found = false;
    return i;
}

static void slot_remove(struct nset *n, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & n->mask;
        if (!n->slots[j])
            break;
        size_t k = home(n, n->slots[j]);
        /* Move j back into the hole at i unless its home lies cyclically in (i, j]. */
        bool in_range = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!in_range) {
            n->slots[i] = n->slots[j];
            i = j;
        }
    }
    n->slots[i] = 0;
}

/* Resizes the heap to newcap (>= count) and rebuilds the set for it. */
static void resize(struct nset *n, size_t newcap)
{
    OA_ASSERT(newcap >= n->count);
    n->heap = oa_realloc(n->heap, newcap * sizeof(*n->heap));
    n->cap = newcap;
    size_t nslots = 4;
    while (nslots < 2 * newcap)
        nslots *= 2;
    oa_free(n->slots);
    n->slots = oa_calloc(nslots, sizeof(*n->slots));
    n->mask = nslots - 1;
    for (size_t k = 0; k < n->count; k++) {
        bool found;
        n->slots[find_slot(n, n->heap[k].hash, &found)] = n->heap[k].hash;
    }
}

static void heap_push(struct nset *n, struct item it)
{
    size_t i = n->count++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (n->heap[parent].expires <= it.expires)
            break;
        n->heap[i] = n->heap[parent];
        i = parent;
    }
    n->heap[i] = it;
}

static void heap_pop(struct nset *n)
{
    struct item last = n->heap[--n->count];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n->count)
            break;
        if (child + 1 < n->count && n->heap[child + 1].expires < n->heap[child].expires)
            child++;
        if (last.expires <= n->heap[child].expires)
            break;
        n->heap[i] = n->heap[child];
        i = child;
    }
    if (n->count)
        n->heap[i] = last;
}

/* Drops the entries with expires < now; returns how many. */
static size_t expire(struct nset *n, int64_t now)
{
    size_t dropped = 0;
    while (n->count && n->heap[0].expires < now) {
        bool found;
        size_t i = find_slot(n, n->heap[0].hash, &found);
        OA_ASSERT(found);
        slot_remove(n, i);
        heap_pop(n);
        dropped++;
    }
    /* Give memory back once a burst has passed (never below the starting size). */
    if (n->cap > MIN_CAP && n->count < n->cap / 4)
        resize(n, OA_MAX(n->cap / 2, (size_t)MIN_CAP));
    return dropped;
}

/* ===== the accounts ===== */

static void account_key(int64_t account_id, char out[24])
{
    oa_snprintf(out, 24, "%lld", (long long)account_id);
}

static struct nset *set_get(const struct api_nonce_cache *c, int64_t account_id)
{
    char key[24];
    account_key(account_id, key);
    return oa_map_get(&c->by_account, key);
}

static struct nset *set_new(struct api_nonce_cache *c, int64_t account_id)
{
    char key[24];
    struct nset *n = oa_calloc(1, sizeof(*n));
    n->account_id = account_id;
    resize(n, OA_MIN(c->max, (size_t)MIN_CAP));
    if (c->nall == c->allcap) {
        c->allcap = c->allcap ? 2 * c->allcap : 16;
        c->all = oa_realloc(c->all, c->allcap * sizeof(*c->all));
    }
    n->idx = c->nall;
    c->all[c->nall++] = n;
    account_key(account_id, key);
    oa_map_put(&c->by_account, key, n);
    return n;
}

static void set_free(struct api_nonce_cache *c, struct nset *n)
{
    char key[24];
    account_key(n->account_id, key);
    oa_map_remove(&c->by_account, key);
    c->all[n->idx] = c->all[--c->nall];
    c->all[n->idx]->idx = n->idx;
    c->total -= n->count;
    oa_free(n->heap);
    oa_free(n->slots);
    oa_free(n);
}

/* Expires one other account's set, in turn, and frees it if that empties it. */
static void sweep_one(struct api_nonce_cache *c, int64_t skip_account, int64_t now)
{
    if (!c->nall)
        return;
    size_t i = c->sweep % c->nall;
    struct nset *n = c->all[i];
    if (n->account_id != skip_account) {
        c->total -= expire(n, now);
        if (!n->count) {
            /* The last set moved into slot i: it is the next one to sweep. */
            set_free(c, n);
            c->sweep = i;
            return;
        }
    }
    c->sweep = i + 1;
}

struct api_nonce_cache *api_nonce_new(size_t max)
{
    OA_ASSERT(max >= 1 && max < (1u << 31));
    struct api_nonce_cache *c = oa_calloc(1, sizeof(*c));
    c->max = max;
    oa_map_init(&c->by_account);
    oa_random_bytes(&c->k0, sizeof(c->k0));
    oa_random_bytes(&c->k1, sizeof(c->k1));
    return c;
}

void api_nonce_free(struct api_nonce_cache *c)
{
    if (!c)
        return;
    while (c->nall)
        set_free(c, c->all[c->nall - 1]);
    oa_free(c->all);
    oa_map_free(&c->by_account);
    oa_free(c);
}

size_t api_nonce_count(const struct api_nonce_cache *c, int64_t account_id)
{
    const struct nset *n = set_get(c, account_id);
    return n ? n->count : 0;
}

size_t api_nonce_total(const struct api_nonce_cache *c)
{
    return c->total;
}

size_t api_nonce_accounts(const struct api_nonce_cache *c)
{
    return c->nall;
}

int api_nonce_check(struct api_nonce_cache *c, int64_t account_id, const char *key_id,
                    const char *nonce, int64_t now)
{
    c->pending = false;
    sweep_one(c, account_id, now);
    uint64_t h = nonce_hash(c, key_id, nonce);
    struct nset *n = set_get(c, account_id);
    if (n) {
        c->total -= expire(n, now);
        bool found;
        find_slot(n, h, &found);
        if (found)
            return OA_EEXIST;
        if (n->count == c->max)
            return OA_EBUSY;
    }
    c->pending = true;
    c->pending_account = account_id;
    c->pending_hash = h;
    return 0;
}

void api_nonce_add(struct api_nonce_cache *c, int64_t account_id, const char *key_id,
                   const char *nonce, int64_t expires)
{
    uint64_t h = nonce_hash(c, key_id, nonce);
    OA_ASSERT(c->pending && c->pending_account == account_id && c->pending_hash == h);
    c->pending = false;
    struct nset *n = set_get(c, account_id);
    if (!n)
        n = set_new(c, account_id);
    OA_ASSERT(n->count < c->max);
    if (n->count == n->cap)
        resize(n, OA_MIN(n->cap * 2, c->max));
    bool found;
    size_t i = find_slot(n, h, &found);
    OA_ASSERT(!found);
    n->slots[i] = h;
    heap_push(n, (struct item){expires, h});
    c->total++;
}
