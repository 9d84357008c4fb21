/*
 * flv.h - HTTP-FLV live playback: GET /<app>/<stream>.flv streams the live
 * stream as one endless chunked FLV file. The connection is a hub sink with
 * a bounded output queue (hub/outq.h); queued packets are handed to evhttp
 * by reference (no copy) once the previous batch has been written. When the
 * publisher goes away the response ends, which players see as end of file.
 * The header's audio/video flags follow the stream when it is live (see
 * hub_stream_tracks). Each player takes one of max_connections.
 */
#ifndef OA_HTTP_FLV_H
#define OA_HTTP_FLV_H

#include "core/common.h"

/* Registers the HTTP-FLV route. */
void http_flv_init(void);
/* Players whose reply has not finished (streaming, or its end still being written). */
size_t http_flv_players(void);
/*
 * Shutdown, first step: every player stops taking media and its reply ends
 * once what is queued has been written. The loop must run for that.
 */
void http_flv_quiesce(void);
/* Shutdown, last step: drops every player whose reply has not finished. */
void http_flv_stop(void);

#endif
