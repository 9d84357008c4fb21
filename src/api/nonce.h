/*
 * nonce.h - the SignatureNonce replay cache.
 *
 * A signed request may be replayed verbatim for as long as its timestamp is
 * acceptable, so each accepted (AccessKeyId, nonce) is remembered until
 * then: the entry records a keyed 64-bit hash (SipHash-2-4 with a random
 * key, so nobody can aim collisions at another account's nonces) and the
 * second after which a replay would be refused as expired anyway.
 *
 * Every account has its own set, bounded by max entries (api_nonce_max),
 * so one account that fills its set is refused (OA_EBUSY) without touching
 * any other account's requests. A full set refuses new nonces rather than
 * forgetting old ones early, so replay protection never weakens. Entries
 * leave a set exactly when they expire (a min-heap on the expiry, beside a
 * hash set for lookups), and a set that empties is freed, so an account
 * costs memory only while it has recent requests: at most accounts x max
 * entries in all. Each check also expires one other account's set in
 * turn, so an account that stops sending requests gives its memory back.
 *
 * Checking and recording are separate steps, so that a request refused
 * after the check (rate limits) leaves nothing behind: the dispatcher calls
 * api_nonce_check, then api_nonce_add only for a request it accepts.
 *
 * Owned by one thread (the event loop); no locking.
 */
#ifndef OA_API_NONCE_H
#define OA_API_NONCE_H

#include "core/common.h"

struct api_nonce_cache;

/* A cache that holds at most max live entries per account (1 <= max < 2^31). */
struct api_nonce_cache *api_nonce_new(size_t max);
void api_nonce_free(struct api_nonce_cache *c);

/*
 * Drops the account's entries with expires < now (and those of one other
 * account, in turn), then looks (key_id, nonce) up in the account's set.
 * Returns 0 when it is new and there is room to record it, OA_EEXIST when it
 * is recorded already (checked first: a replay is a replay even when the set
 * is full), OA_EBUSY when the account's set holds max live entries.
 * Records nothing.
 */
int api_nonce_check(struct api_nonce_cache *c, int64_t account_id, const char *key_id,
                    const char *nonce, int64_t now);

/*
 * Records (key_id, nonce) for the account until expires (Unix seconds,
 * inclusive). Only right after api_nonce_check returned 0 for the same
 * arguments, with no other call on c in between (asserted).
 */
void api_nonce_add(struct api_nonce_cache *c, int64_t account_id, const char *key_id,
                   const char *nonce, int64_t expires);

/* Live entries of one account, and of all accounts (after the last expiry passes). */
size_t api_nonce_count(const struct api_nonce_cache *c, int64_t account_id);
size_t api_nonce_total(const struct api_nonce_cache *c);
/* Accounts that have a set (at least one entry, or checked since it emptied). */
size_t api_nonce_accounts(const struct api_nonce_cache *c);

#endif
