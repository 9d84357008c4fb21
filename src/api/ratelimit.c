/*
 * ratelimit.c - token buckets in an oa_map keyed by "account/action".
 * Tokens are counted in microtokens (1e6 per request) as integers, so the
 * refill arithmetic is exact and never drifts. A sweep for refilled buckets
 * runs only when the table is full, at most once per second.
 */
#include "api/ratelimit.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/map.h"
#include "core/util.h"

#define UNIT 1000000LL /* microtokens per token */

struct bucket {
    int64_t tokens; /* microtokens */
    int64_t last_us;
    int64_t capacity; /* microtokens */
    int64_t rate;     /* microtokens per second */
};

struct api_ratelimit {
    struct oa_map map;
    size_t max;
    int64_t last_sweep_us;
    bool swept_ever;
};

struct api_ratelimit *api_ratelimit_new(size_t max_entries)
{
    struct api_ratelimit *rl = oa_calloc(1, sizeof(*rl));
    oa_map_init(&rl->map);
    rl->max = max_entries ? max_entries : 1;
    return rl;
}

void api_ratelimit_free(struct api_ratelimit *rl)
{
    if (!rl)
        return;
    struct oa_map_iter it;
    oa_map_iter_init(&it, &rl->map);
    while (oa_map_iter_next(&it))
        oa_free(it.entry->value);
    oa_map_free(&rl->map);
    oa_free(rl);
}

size_t api_ratelimit_count(const struct api_ratelimit *rl)
{
    return rl->map.count;
}

static void refill(struct bucket *b, int64_t now_us)
{
    if (now_us <= b->last_us)
        return;
    int64_t dt = now_us - b->last_us;
    /* Past the time to fill up the bucket is simply full (and dt * rate stays small). */
    if (dt >= (b->capacity - b->tokens) * 1000000 / b->rate) {
        b->tokens = b->capacity;
        b->last_us = now_us;
        return;
    }
    int64_t add = dt * b->rate / 1000000;
    if (add > 0) {
        b->tokens += add;
        /* Advance only by the time that paid for add; the rest counts next time. */
        b->last_us += add * 1000000 / b->rate;
    }
}

/* Drops buckets that have refilled completely: they mean the same as no bucket. */
static void sweep(struct api_ratelimit *rl, int64_t now_us)
{
    struct oa_map_iter it;
    oa_map_iter_init(&it, &rl->map);
    while (oa_map_iter_next(&it)) {
        struct bucket *b = it.entry->value;
        refill(b, now_us);
        if (b->tokens >= b->capacity) {
            oa_free(b);
            oa_map_iter_remove(&it);
        }
    }
    rl->last_sweep_us = now_us;
    rl->swept_ever = true;
}

int api_ratelimit_take(struct api_ratelimit *rl, int64_t account_id, int action, int limit,
                       int window_s, int64_t now_us, int64_t *retry_ms)
{
    char key[48];
    if (limit <= 0 || window_s <= 0)
        return 0; /* unlimited */
    oa_snprintf(key, sizeof(key), "%lld/%d", (long long)account_id, action);
    struct bucket *b = oa_map_get(&rl->map, key);
    if (!b) {
        if (rl->map.count >= rl->max) {
            if (!rl->swept_ever || now_us - rl->last_sweep_us >= 1000000)
                sweep(rl, now_us);
            if (rl->map.count >= rl->max) {
                if (retry_ms)
                    *retry_ms = 1000;
                return OA_EBUSY;
            }
        }
        b = oa_malloc(sizeof(*b));
        b->capacity = (int64_t)limit * UNIT;
        b->rate = (int64_t)limit * UNIT / window_s;
        b->tokens = b->capacity;
        b->last_us = now_us;
        oa_map_put(&rl->map, key, b);
    }
    refill(b, now_us);
    if (b->tokens >= UNIT) {
        b->tokens -= UNIT;
        return 0;
    }
    if (retry_ms) {
        int64_t need = UNIT - b->tokens;
        *retry_ms = b->rate ? (need * 1000 + b->rate - 1) / b->rate : 1000;
    }
    return OA_EBUSY;
}
