/*
 * server.c - the evhttp listener: limits, the path classifier and dispatch
 * to the handler registered for each kind of request.
 */
#include "server.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

static struct {
    struct evhttp *http;
    struct {
        http_handler_fn *fn;
        void *arg;
    } routes[HTTP_ROUTE_COUNT];
} S;

int http_split_stream_path(const char *path, const char *ext, char *app, size_t applen,
                           char *stream, size_t streamlen)
{
    if (path[0] != '/')
        return -1;
    const char *slash = strchr(path + 1, '/');
    if (!slash || strchr(slash + 1, '/'))
        return -1;
    size_t alen = (size_t)(slash - path - 1);
    size_t rest = strlen(slash + 1), elen = strlen(ext);
    if (alen == 0 || alen >= applen || rest <= elen || strcmp(slash + 1 + rest - elen, ext) != 0 ||
        rest - elen >= streamlen)
        return -1;
    memcpy(app, path + 1, alen);
    app[alen] = '\0';
    memcpy(stream, slash + 1, rest - elen);
    stream[rest - elen] = '\0';
    return 0;
}

int http_classify(const char *path)
{
    if (strcmp(path, "/") == 0)
        return HTTP_ROUTE_API;
    if (strncmp(path, "/oss/", 5) == 0)
        return HTTP_ROUTE_STORAGE;
    if (oa_str_has_suffix(path, ".flv"))
        return HTTP_ROUTE_FLV;
    if (oa_str_has_suffix(path, ".m3u8") || oa_str_has_suffix(path, ".ts"))
        return HTTP_ROUTE_HLS;
    return -1;
}

void http_send_error(struct evhttp_request *req, int status, const char *reason)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "%d %s\n", status, reason);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    evhttp_send_reply(req, status, reason, b);
    evbuffer_free(b);
}

const char *http_client_ip(struct evhttp_request *req)
{
    struct evhttp_connection *c = evhttp_request_get_connection(req);
    const char *ip = NULL;
    uint16_t port;
    if (c)
        evhttp_connection_get_peer(c, (char **)&ip, &port);
    return ip ? ip : "?";
}

static struct timeval idle_timeout(void)
{
    return (struct timeval){oa_cfg.http_timeout_ms / 1000, (oa_cfg.http_timeout_ms % 1000) * 1000};
}

void http_set_streaming(struct evhttp_connection *conn, bool on)
{
    /* A zero timeval is "no timeout" to bufferevents; NULL would mean libevent's defaults. */
    struct timeval tv = on ? (struct timeval){0, 0} : idle_timeout();
    evhttp_connection_set_timeout_tv(conn, &tv);
}

void http_request_host(struct evhttp_request *req, char *out, size_t outlen)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
    oa_strlcpy(out, h ? h : "", outlen);
    out[strcspn(out, ":")] = '\0';
}

static void dispatch(struct evhttp_request *req, void *arg)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
    char *path = raw ? evhttp_uridecode(raw, 0, NULL) : NULL;
    if (!path) {
        http_send_error(req, 400, "Bad Request");
        return;
    }
    int route = http_classify(path);
    free(path);
    if (route < 0 || !S.routes[route].fn) {
        http_send_error(req, 404, "Not Found");
        return;
    }
    S.routes[route].fn(req, S.routes[route].arg);
}

void http_server_route(enum http_route route, http_handler_fn *fn, void *arg)
{
    S.routes[route].fn = fn;
    S.routes[route].arg = arg;
}

int http_server_start(const char *addr)
{
    char host[128];
    oa_strlcpy(host, addr, sizeof(host));
    char *colon = strrchr(host, ':');
    long long port;
    if (!colon || oa_parse_int(colon + 1, 0, 65535, &port) != 0) {
        oa_log(OA_LOG_ERROR, "http: bad listen address %s", addr);
        return OA_EINVAL;
    }
    *colon = '\0';
    S.http = evhttp_new(oa_loop_base());
    evhttp_set_gencb(S.http, dispatch, NULL);
    evhttp_set_allowed_methods(S.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                           EVHTTP_REQ_OPTIONS);
    /*
     * evhttp answers what it refuses itself in plain text (or not at all),
     * so it lets a little more through than the API takes, and the API
     * refuses that in its own error envelope (api.c). Past these, evhttp's
     * plain 413 it is; with lingering close an oversized body is read and
     * dropped first, so the client is there to receive the answer.
     */
    evhttp_set_max_headers_size(S.http, HTTP_MAX_HEADERS);
    evhttp_set_max_body_size(S.http, (ev_ssize_t)oa_cfg.api_max_body + HTTP_BODY_SLACK);
    evhttp_set_flags(S.http, EVHTTP_SERVER_LINGERING_CLOSE);
    struct timeval tv = idle_timeout();
    evhttp_set_timeout_tv(S.http, &tv);
    if (!evhttp_bind_socket_with_handle(S.http, host, (uint16_t)port)) {
        oa_log(OA_LOG_ERROR, "http: cannot listen on %s: %s", addr, strerror(errno));
        evhttp_free(S.http);
        S.http = NULL;
        return OA_EINVAL;
    }
    oa_log(OA_LOG_INFO, "http: listening on %s", addr);
    return 0;
}

void http_server_stop(void)
{
    if (S.http) {
        evhttp_free(S.http);
        S.http = NULL;
    }
}
