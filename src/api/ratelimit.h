/*
 * ratelimit.h - per-account, per-action request limits (token buckets).
 *
 * Each (account, action) pair has a bucket of `limit` tokens that refills
 * at limit/window_s tokens per second; a request takes one token or is
 * refused. A full burst of `limit` is allowed at once, after which requests
 * pass at the documented rate, so "QPS 3" admits 3 simultaneous requests and
 * then 3 per second.
 *
 * Memory is bounded: at most max_entries buckets exist. A bucket that has
 * refilled completely is indistinguishable from a missing one, so when the
 * table is full such buckets are dropped; if none can be (more than
 * max_entries pairs busy within one window) the request is refused, because
 * admitting it would mean forgetting another caller's limit.
 *
 * Owned by one thread (the event loop); no locking.
 */
#ifndef OA_API_RATELIMIT_H
#define OA_API_RATELIMIT_H

#include "core/common.h"

struct api_ratelimit;

struct api_ratelimit *api_ratelimit_new(size_t max_entries);
void api_ratelimit_free(struct api_ratelimit *rl);

/*
 * Takes a token for (account_id, action) at now_us (a monotonic clock).
 * Returns 0, or OA_EBUSY with *retry_ms (if not NULL) set to the wait until
 * a token is available.
 */
int api_ratelimit_take(struct api_ratelimit *rl, int64_t account_id, int action, int limit,
                       int window_s, int64_t now_us, int64_t *retry_ms);

/* Buckets currently held. */
size_t api_ratelimit_count(const struct api_ratelimit *rl);

#endif
