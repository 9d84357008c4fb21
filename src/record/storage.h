/*
 * storage.h - where recordings go: an object store with buckets, behind one
 * small interface so an S3-compatible backend can be added later without
 * touching the recorder.
 *
 * The embedded backend keeps objects as files under <data_dir>/oss/<bucket>/
 * <object> and registers the HTTP route that serves them at
 * /oss/~<token>/<bucket>/<object> (with Range requests, so MP4 seeks work),
 * so every RecordUrl plays as-is; a bucket no account owns also at
 * /oss/<bucket>/<object>. The URL of an object is the backend's business
 * too (url op): a backend whose objects are served elsewhere (S3) forms its
 * own URLs and registers no route, and nothing above this interface changes.
 *
 * Names are hostile input (they come from API templates): buckets are
 * [a-z0-9-]{3,63}; objects are 1..1023 bytes of relative path segments
 * without "." or ".." segments, empty segments, NUL or backslashes.
 *
 * Thread-safety: every function may be called from any thread; a writer
 * belongs to the one thread that opened it. Writers and put() may block on
 * disk, so the event loop only calls url/ref/valid functions.
 *
 * What a backend must provide is exactly the ops below: append-only writers
 * (open/write/sync/finish, reopen to cut a damaged tail), whole-object
 * put/get, ranged read, rename (S3: copy + delete), remove, size, list, the
 * URL that plays an object and, optionally, the HTTP routes that serve it.
 */
#ifndef OA_RECORD_STORAGE_H
#define OA_RECORD_STORAGE_H

#include "core/common.h"

struct storage_writer;

struct storage_ops {
    /* Creates (truncating) an object for appending. */
    int (*open)(const char *bucket, const char *object, struct storage_writer **out);
    /* Opens an existing object for appending after its first `keep` bytes (repair). */
    int (*reopen)(const char *bucket, const char *object, uint64_t keep,
                  struct storage_writer **out);
    int (*write)(struct storage_writer *w, const void *p, size_t n);
    /* Makes what was written durable (fsync). */
    int (*sync)(struct storage_writer *w);
    /* Syncs and closes; the object is complete. Frees w. */
    int (*finish)(struct storage_writer *w);
    /* Writes a whole small object atomically (temp + rename): playlists. */
    int (*put)(const char *bucket, const char *object, const void *p, size_t n);
    /* Reads a whole object up to max bytes; *out is malloc'ed (oa_free). */
    int (*get)(const char *bucket, const char *object, size_t max, uint8_t **out, size_t *len);
    int (*remove)(const char *bucket, const char *object);
    /* Size of an object; OA_ENOTFOUND if absent. */
    int (*size)(const char *bucket, const char *object, uint64_t *size);
    /*
     * Reads up to n bytes at offset into buf; *got is the count (0 at the end).
     * OA_ENOTFOUND if the object is absent.
     */
    int (*read)(const char *bucket, const char *object, uint64_t offset, void *buf, size_t n,
                size_t *got);
    /*
     * Renames an object within a bucket without replacing: OA_EEXIST if `to`
     * exists, OA_ENOTFOUND if `from` does not.
     */
    int (*rename)(const char *bucket, const char *from, const char *to);
    /*
     * Calls fn(object, size, arg) for every object whose name starts with
     * prefix (any depth), in no particular order; fn returns false to stop.
     */
    int (*list)(const char *bucket, const char *prefix,
                bool (*fn)(const char *object, uint64_t size, void *arg), void *arg);
    /* A local path for libavformat to read (NULL if the backend has none). */
    int (*local_path)(const char *bucket, const char *object, char *out, size_t outlen);
    /*
     * The URL that plays an object, percent-encoded as needed. host is this
     * server's public host[:port], for a backend this server serves; a
     * backend with its own endpoint ignores it. Loop thread: no I/O.
     */
    int (*url)(const char *host, const char *bucket, const char *object, char *out, size_t outlen);
    /*
     * Registers the HTTP routes that serve the objects, for a backend this
     * server serves (local: /oss/<bucket>/<object>); NULL when its URLs point
     * elsewhere. Loop thread, once the HTTP listener exists.
     */
    void (*http_init)(void);
};

/* Selects the embedded local backend rooted at data_dir/oss. */
int storage_init_local(const char *data_dir);
const struct storage_ops *storage(void);

bool storage_bucket_valid(const char *bucket);
bool storage_object_valid(const char *object);

/*
 * The backend's URL of an object (storage_ops.url); host: this server's
 * public host[:port]. The local backend's is
 * http://<host>/oss/~<token>/<bucket>/<object>, with the object's characters
 * percent-encoded as needed and the bucket's URL token (store/bucket.h),
 * which the HTTP route wants for an owned bucket. Relative references
 * between objects of a bucket (storage_ref) keep the token.
 */
int storage_url(const char *host, const char *bucket, const char *object, char *out, size_t outlen);
/* A relative reference from object `from` to object `to` in one bucket ("../ts/1.ts"). */
int storage_ref(const char *from, const char *to, char *out, size_t outlen);

/* Registers the backend's HTTP routes, if it is served by this server (storage_ops.http_init). */
void storage_http_init(void);

#endif
