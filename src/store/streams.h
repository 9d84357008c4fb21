/*
 * streams.h - what is remembered about streams beyond their life: publish
 * history (DescribeLiveStreamsPublishList), the block list (ForbidLiveStream
 * with Oneshot=no) and the control history (DescribeLiveStreamsControlHistory).
 */
#ifndef OA_STORE_STREAMS_H
#define OA_STORE_STREAMS_H

#include "core/common.h"

/* Records a publish start; *id identifies it for streams_history_stop. */
int streams_history_start(int64_t account_id, const char *domain, const char *app,
                          const char *stream, const char *publish_domain, const char *client,
                          const char *url, int64_t start_ms, int64_t *id);
int streams_history_stop(int64_t id, int64_t stop_ms);
/* Closes publishes left open by a crash (stop = start). */
int streams_history_close_open(void);

/*
 * 0 with *resume_at (Unix seconds) when domain/app/stream is blocked now,
 * OA_ENOTFOUND when it is not.
 */
int streams_block_get(const char *domain, const char *app, const char *stream, int64_t *resume_at);
int streams_block_set(const char *domain, const char *app, const char *stream, int64_t resume_at);
/* app may be "*" (every app). Sets *removed to the number of rows removed. */
int streams_block_clear(const char *domain, const char *app, const char *stream, int *removed);

int streams_control_add(const char *domain, const char *app, const char *stream,
                        const char *client_ip, const char *action);

/* ===== queries for the API (all strings borrowed for the callback's duration) ===== */

/* One publish_history row; stop_ms is 0 while the publish is still live. */
struct streams_publish {
    const char *domain, *app, *stream, *publish_domain, *client, *url;
    int64_t start_ms, stop_ms;
};

enum streams_order {
    STREAMS_ORDER_TIME_ASC,
    STREAMS_ORDER_TIME_DESC,
    STREAMS_ORDER_NAME_ASC,
    STREAMS_ORDER_NAME_DESC,
};

struct streams_history_filter {
    int64_t account_id;
    const char *domain;       /* the play domain or the ingest domain a publish used */
    const char *app, *stream; /* NULL or "": any */
    bool strict;              /* app/stream equal; otherwise contained in the name */
    int64_t from_ms, to_ms;   /* publishes that overlap [from_ms, to_ms] */
    enum streams_order order;
    int64_t offset, limit;
};

typedef void streams_publish_fn(const struct streams_publish *p, void *arg);

/* Calls fn for one page of matching publishes; *total counts every match. */
int streams_history_list(const struct streams_history_filter *f, streams_publish_fn *fn, void *arg,
                         int64_t *total);

typedef void streams_block_fn(const char *app, const char *stream, int64_t resume_at, void *arg);

/*
 * One page of domain's blocks in force now, by app and stream; *total counts
 * them all. fn may be NULL to count only.
 */
int streams_block_list(const char *domain, int64_t offset, int64_t limit, streams_block_fn *fn,
                       void *arg, int64_t *total);

struct streams_control {
    const char *app, *stream, *client_ip, *action;
    int64_t at; /* Unix seconds */
};

typedef void streams_control_fn(const struct streams_control *c, void *arg);

/* Control history of domain (and app, unless NULL) in [from, to], oldest first, at most limit. */
int streams_control_list(const char *domain, const char *app, int64_t from, int64_t to,
                         int64_t limit, streams_control_fn *fn, void *arg);

#endif
