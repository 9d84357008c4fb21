/*
 * flv.h - HTTP-FLV live playback: GET /<app>/<stream>.flv streams the live
 * stream as one endless chunked FLV file. The connection is a hub sink with
 * a bounded output queue (hub/outq.h); queued packets are handed to evhttp
 * by reference (no copy) once the previous batch has been written. When the
 * publisher goes away the response ends, which players see as end of file.
 */
#ifndef OA_HTTP_FLV_H
#define OA_HTTP_FLV_H

/* Registers the HTTP-FLV route. */
void http_flv_init(void);
/* Ends every HTTP-FLV response (shutdown). */
void http_flv_stop(void);

#endif
