/*
 * access.h - who may publish or play what, and under which domain.
 *
 * Every RTMP publish/play and every HTTP-FLV/HLS request asks access_check()
 * first. It resolves the host the client used to a domain (a `vhost` query
 * parameter overrides the host, for clients that reach the server by IP),
 * refuses stopped domains, refuses plays through an ingest domain that is
 * mapped to a play domain and publishes through a play domain that has an
 * ingest domain mapped (so the URL auth that applies is always that of the
 * ingest domain for publishing and of the play domain for playing), checks
 * URL authentication type A when that domain's `aliauth` config asks for
 * it, and refuses blocked publishes and publishes into names reserved for
 * the server's own outputs.
 */
#ifndef OA_ACCESS_ACCESS_H
#define OA_ACCESS_ACCESS_H

#include "core/common.h"

enum access_kind {
    ACCESS_PUBLISH,
    ACCESS_PLAY,
};

struct access_req {
    enum access_kind kind;
    const char *host; /* as the client sent it; may carry a port */
    const char *app;
    const char *stream; /* without query or extension */
    const char *query;  /* the URL's query string, may be NULL */
    const char *uri;    /* what auth_key signs: "/app/stream", "/app/stream.flv", ... */
    const char *client_ip;
};

struct access_grant {
    char domain[256];         /* play domain: the stream key's domain */
    char request_domain[256]; /* the domain the client addressed (ingest or play) */
    int64_t account_id;       /* owner of the domain */
};

/*
 * Returns 0 and fills *grant, or a negative code with *why set to a static
 * reason: OA_ENOTFOUND (no such domain), OA_EBUSY (domain stopped, stream
 * blocked, name reserved, database error), OA_EAUTH (auth_key missing,
 * expired or wrong; the wrong domain for the kind of access), OA_EINVAL (bad
 * app or stream name).
 */
int access_check(const struct access_req *req, struct access_grant *grant, const char **why);

/*
 * Names no client may publish into, because the server publishes there
 * itself (the studio's scenes): fn(play domain, app, stream) returns true
 * for them. Install once at startup (loop thread); NULL removes it.
 */
typedef bool access_reserved_fn(const char *domain, const char *app, const char *stream);
void access_set_publish_reserved(access_reserved_fn *fn);

/* Copies the first value of `name` in a query string into out (decoded); -1 if absent. */
int access_query_param(const char *query, const char *name, char *out, size_t outlen);

/* True for names usable as app or stream: 1-255 bytes of [A-Za-z0-9_.-~]. */
bool access_name_ok(const char *s);

#endif
