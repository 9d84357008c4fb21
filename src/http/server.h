/*
 * server.h - the HTTP listener (libevent evhttp) and its routes.
 *
 * One listener serves four kinds of request, told apart by path alone, in
 * one place (http_classify):
 *
 *   /                         the control API (GET or POST)
 *   /oss/<bucket>/<object>    objects in onair's own storage (recordings)
 *   /<app>/<stream>.flv       HTTP-FLV live playback
 *   /<app>/<stream>.m3u8      HLS playlist, and its segments /<app>/<stream>/<n>.ts
 *
 * Modules register a handler per kind at startup; an unregistered kind or
 * any other path is a 404.
 */
#ifndef OA_HTTP_SERVER_H
#define OA_HTTP_SERVER_H

#include "core/common.h"

struct evhttp_connection;
struct evhttp_request;

/* The request line and headers together, at most (larger: a plain 413, closed). */
#define HTTP_MAX_HEADERS (128 * 1024)
/*
 * Bodies up to api_max_body + this are read whole, so that the API can
 * refuse the ones over api_max_body in its envelope; larger ones get a
 * plain 413 from evhttp.
 */
#define HTTP_BODY_SLACK (1024 * 1024)

enum http_route {
    HTTP_ROUTE_API,
    HTTP_ROUTE_STORAGE,
    HTTP_ROUTE_FLV,
    HTTP_ROUTE_HLS,
    HTTP_ROUTE_COUNT,
};

typedef void http_handler_fn(struct evhttp_request *req, void *arg);

int http_server_start(const char *addr);
void http_server_stop(void);
void http_server_route(enum http_route route, http_handler_fn *fn, void *arg);

/* The route a decoded path belongs to, or -1. */
int http_classify(const char *path);

/* Sends a small plain-text error response. */
void http_send_error(struct evhttp_request *req, int status, const char *reason);
/* The client's address ("ip"), for logs and access checks. */
const char *http_client_ip(struct evhttp_request *req);
/*
 * A reply that streams (HTTP-FLV) or is held (an HLS playlist waiting for
 * its first segment) sends nothing for long stretches and reads nothing at
 * all, and evhttp's idle timeout would cut it (libevent 2.1 re-arms the read
 * timeout after every chunk written). on=true lifts the timeout from conn;
 * the owner watches the reply itself (the output queue's stall timeout, the
 * hold deadline). on=false restores http_timeout_ms, for keep-alive.
 */
void http_set_streaming(struct evhttp_connection *conn, bool on);
/* The Host header without port, or "". */
void http_request_host(struct evhttp_request *req, char *out, size_t outlen);

/*
 * Splits "/<app>/<stream><ext>" into app and stream (ext is stripped, and
 * must match). Returns 0 or -1.
 */
int http_split_stream_path(const char *path, const char *ext, char *app, size_t applen,
                           char *stream, size_t streamlen);

#endif
