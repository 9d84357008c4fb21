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

#endif
