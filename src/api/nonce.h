/*
 * nonce.h - the SignatureNonce replay cache.
 *
 * A signed request may be replayed verbatim for as long as its timestamp is
 * acceptable, so each (AccessKeyId, nonce) is remembered until then: the
 * entry records a keyed 64-bit hash (SipHash-2-4 with a random key, so
 * nobody can aim collisions at another account's nonces) and the second
 * after which a replay would be refused as expired anyway.
 *
 * Entries sit in a ring in arrival order, indexed by an open-addressing hash
 * set; expiry pops from the ring's head, so it costs O(1) per entry. An entry
 * whose expiry is later than a younger one's stays until it reaches the head
 * (expiry is never early, only sometimes late). Memory is bounded by max
 * entries: when that many are live, new nonces are refused (OA_EBUSY) rather
 * than old ones forgotten early, so replay protection never weakens.
 *
 * Owned by one thread (the event loop); no locking.
 */
#ifndef OA_API_NONCE_H
#define OA_API_NONCE_H

#include "core/common.h"

struct api_nonce_cache;

/* A cache that holds at most max live entries (max >= 1). */
struct api_nonce_cache *api_nonce_new(size_t max);
void api_nonce_free(struct api_nonce_cache *c);

/*
 * Drops the entries with expires < now, then records (key_id, nonce) until
 * expires (Unix seconds, inclusive). Returns 0 when recorded, OA_EEXIST when
 * it is already recorded, OA_EBUSY when the cache holds max live entries.
 */
int api_nonce_check_add(struct api_nonce_cache *c, const char *key_id, const char *nonce,
                        int64_t expires, int64_t now);

/* Live entries (after the last expiry pass). */
size_t api_nonce_count(const struct api_nonce_cache *c);

#endif
