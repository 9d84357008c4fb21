/*
 * hls.h - live HLS on the HTTP listener.
 *
 *   GET /<app>/<stream>.m3u8       the live media playlist
 *   GET /<app>/<stream>/<seq>.ts   its MPEG-TS segments
 *
 * On demand: the first authorized playlist request for a stream key creates
 * its segmenter (hls/segmenter.h), a hub sink that starts from the cached
 * GOP, so from a keyframe. It lives until oa_cfg.hls_idle_ms pass without
 * any HLS request for that key, across unpublish and republish: a
 * publisher that comes back continues the same playlist after an
 * EXT-X-DISCONTINUITY, and the ENDLIST written when it left goes away.
 *
 * A playlist request that finds no finished segment yet is held, not
 * failed, until the first segment is done or hls_segment_ms * 3 + 10 s have
 * passed (then 404); that covers a player that asks just before or just
 * after the publisher starts, and a key that never publishes ends in a 404
 * rather than a request held forever. A held request takes one of
 * max_connections (core/loop.h) and is exempt from the HTTP idle timeout.
 *
 * Segments stay in memory (nothing touches the disk) and are sent by
 * reference: a response holds its segment until the bytes are written, even
 * if the segment has meanwhile left the window.
 *
 * Authorization: the playlist is checked like any play (access_check with
 * ACCESS_PLAY and uri = the request path). Segment URIs in the playlist are
 * relative ("<stream>/<seq>.ts") and carry the playlist request's query
 * string unchanged (vhost=, auth_key=). A segment request is checked with
 * uri = "/<app>/<stream>.m3u8", the playlist's URI: players cannot sign each
 * segment URL, so the auth_key signed for the playlist is what authorizes
 * its segments, with the same expiry. A segment of a stream without HLS, or
 * one that has left memory, is a 404.
 *
 * Everything runs on the event-loop thread.
 */
#ifndef OA_HLS_HLS_H
#define OA_HLS_HLS_H

/* Registers the HLS route (HTTP_ROUTE_HLS). Call after the loop and the hub exist. */
void hls_init(void);
/* Ends every held request, detaches every segmenter from the hub and frees it (shutdown). */
void hls_stop(void);

#endif
