/*
 * client.c - asynchronous HTTP client (see client.h).
 *
 * Every attempt makes its own evhttp_connection marked free-on-completion,
 * so libevent frees it after the request callback returns; a cancelled
 * request frees its connection itself (no callback then). Retries wait on a
 * per-request timer. All requests in flight are on one list for shutdown.
 */
#include "client.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct http_client_req {
    struct http_client_req *prev, *next;
    enum evhttp_cmd_type cmd;
    char host[256];
    char host_header[300];
    int port;
    bool https;
    char *path; /* path and query */
    int timeout_ms, retries, retry_delay_ms;
    size_t max_body;
    char *content_type;
    uint8_t *body;
    size_t body_len;
    char **headers; /* name, value, ..., NULL */
    http_client_done_fn *done;
    void *arg;
    int attempts;
    struct evhttp_connection *conn; /* in flight */
    struct event *timer;
    struct event *deadline; /* ends an attempt that takes longer than timeout_ms in all */
    int last_status;
    const char *last_error;
    struct oa_buf resp;
};

static struct {
    struct evdns_base *dns;
    SSL_CTX *ssl;
    struct http_client_req *reqs;
    bool ready;
} C;

int http_client_init(void)
{
    if (C.ready)
        return 0;
    C.dns = evdns_base_new(oa_loop_base(),
                           EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (!C.dns) {
        /* No resolv.conf: numeric hosts and /etc/hosts still work. */
        C.dns = evdns_base_new(oa_loop_base(), EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (C.dns)
            evdns_base_load_hosts(C.dns, NULL);
    }
    if (!C.dns) {
        oa_log(OA_LOG_ERROR, "http client: cannot create the DNS resolver");
        return OA_EINVAL;
    }
    C.ssl = SSL_CTX_new(TLS_client_method());
    if (C.ssl) {
        SSL_CTX_set_verify(C.ssl, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_default_verify_paths(C.ssl);
        SSL_CTX_set_min_proto_version(C.ssl, TLS1_2_VERSION);
    } else {
        oa_log(OA_LOG_WARN, "http client: no TLS context; https callbacks will fail");
    }
    C.ready = true;
    return 0;
}

static void req_free(struct http_client_req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else if (C.reqs == r)
        C.reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    if (r->conn)
        evhttp_connection_free(r->conn);
    if (r->timer)
        event_free(r->timer);
    if (r->deadline)
        event_free(r->deadline);
    for (char **h = r->headers; h && *h; h++)
        oa_free(*h);
    oa_free(r->headers);
    oa_free(r->path);
    oa_free(r->content_type);
    oa_free(r->body);
    oa_buf_free(&r->resp);
    oa_free(r);
}

void http_client_stop(void)
{
    while (C.reqs)
        req_free(C.reqs);
    if (C.dns)
        evdns_base_free(C.dns, 1);
    if (C.ssl)
        SSL_CTX_free(C.ssl);
    memset(&C, 0, sizeof(C));
}

static void complete(struct http_client_req *r)
{
    struct http_client_response res = {r->last_status, r->last_status ? NULL : r->last_error,
                                       r->resp.data, r->resp.len, r->attempts};
    r->done(r->arg, &res);
    req_free(r);
}

static void attempt(struct http_client_req *r);

static void retry_or_complete(struct http_client_req *r)
{
    if (r->attempts <= r->retries) {
        struct timeval tv = {r->retry_delay_ms / 1000, (r->retry_delay_ms % 1000) * 1000};
        event_add(r->timer, &tv);
        return;
    }
    complete(r);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    attempt(arg);
}

/*
 * The attempt's deadline: libevent's connection timeout only bounds each
 * read and write, so a peer that trickles bytes would hold a request open
 * forever. Freeing the connection drops its request without calling it back.
 */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct http_client_req *r = arg;
    if (!r->conn)
        return;
    evhttp_connection_free(r->conn);
    r->conn = NULL;
    r->last_status = 0;
    r->last_error = "timed out";
    retry_or_complete(r);
}

static void on_response(struct evhttp_request *req, void *arg)
{
    struct http_client_req *r = arg;
    event_del(r->deadline);
    /* libevent frees the connection after this callback (free-on-completion). */
    r->conn = NULL;
    r->last_status = req ? evhttp_request_get_response_code(req) : 0;
    oa_buf_reset(&r->resp);
    if (r->last_status > 0) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t n = OA_MIN(evbuffer_get_length(in), r->max_body);
        if (n && oa_buf_reserve(&r->resp, n) == 0) {
            evbuffer_copyout(in, r->resp.data, n);
            r->resp.len = n;
        }
    } else {
        r->last_error = "no response (connection failed or timed out)";
    }
    if (r->last_status >= 200 && r->last_status < 300)
        complete(r);
    else
        retry_or_complete(r);
}

static void attempt(struct http_client_req *r)
{
    r->attempts++;
    struct event_base *base = oa_loop_base();
    struct bufferevent *bev = NULL;
    if (r->https) {
        SSL *ssl = C.ssl ? SSL_new(C.ssl) : NULL;
        if (!ssl) {
            r->last_error = "TLS is not available";
            retry_or_complete(r);
            return;
        }
        SSL_set_tlsext_host_name(ssl, r->host);
        X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), r->host, 0);
        bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                             BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        if (!bev) {
            SSL_free(ssl);
            r->last_error = "cannot create a TLS connection";
            retry_or_complete(r);
            return;
        }
    }
    r->conn = evhttp_connection_base_bufferevent_new(base, C.dns, bev, r->host, (uint16_t)r->port);
    if (!r->conn) {
        r->last_error = "cannot create a connection";
        retry_or_complete(r);
        return;
    }
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    evhttp_connection_set_timeout_tv(r->conn, &tv);
    evhttp_connection_set_retries(r->conn, 0);
    evhttp_connection_set_max_body_size(r->conn, (ev_ssize_t)r->max_body);
    struct evhttp_request *req = evhttp_request_new(on_response, r);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", r->host_header);
    evhttp_add_header(h, "User-Agent", "onair");
    evhttp_add_header(h, "Connection", "close");
    for (char **p = r->headers; p && p[0] && p[1]; p += 2)
        evhttp_add_header(h, p[0], p[1]);
    if (r->cmd == EVHTTP_REQ_POST) {
        if (r->content_type)
            evhttp_add_header(h, "Content-Type", r->content_type);
        evbuffer_add(evhttp_request_get_output_buffer(req), r->body, r->body_len);
    }
    if (evhttp_make_request(r->conn, req, r->cmd, r->path) != 0) {
        /* libevent has freed req; the connection is ours to free. */
        evhttp_connection_free(r->conn);
        r->conn = NULL;
        r->last_error = "cannot send the request";
        retry_or_complete(r);
        return;
    }
    evhttp_connection_free_on_completion(r->conn);
    event_add(r->deadline, &tv);
}

int http_client_url_host(const char *url, char *out, size_t outlen)
{
    struct evhttp_uri *u = evhttp_uri_parse(url);
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    int r = host && *host && strlen(host) < outlen ? 0 : OA_EINVAL;
    if (!r)
        oa_strlcpy(out, host, outlen);
    if (u)
        evhttp_uri_free(u);
    return r;
}

struct http_client_req *http_client_request(const char *method, const char *url,
                                            const struct http_client_opts *o,
                                            http_client_done_fn *done, void *arg, int *err)
{
    if (!C.ready) {
        *err = OA_EBUSY;
        return NULL;
    }
    struct evhttp_uri *u = evhttp_uri_parse(url);
    const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL;
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    bool https = scheme && oa_strcaseeq(scheme, "https");
    if (!u || !scheme || (!https && !oa_strcaseeq(scheme, "http")) || !host || !*host ||
        strlen(host) >= 256) {
        if (u)
            evhttp_uri_free(u);
        *err = OA_EINVAL;
        return NULL;
    }
    struct http_client_req *r = oa_calloc(1, sizeof(*r));
    r->cmd = strcmp(method, "POST") == 0 ? EVHTTP_REQ_POST : EVHTTP_REQ_GET;
    r->https = https;
    oa_strlcpy(r->host, host, sizeof(r->host));
    int port = evhttp_uri_get_port(u);
    r->port = port > 0 ? port : https ? 443 : 80;
    bool v6 = strchr(host, ':') != NULL;
    if (port > 0)
        oa_snprintf(r->host_header, sizeof(r->host_header), "%s%s%s:%d", v6 ? "[" : "", host,
                    v6 ? "]" : "", port);
    else
        oa_snprintf(r->host_header, sizeof(r->host_header), "%s%s%s", v6 ? "[" : "", host,
                    v6 ? "]" : "");
    const char *path = evhttp_uri_get_path(u), *query = evhttp_uri_get_query(u);
    struct oa_buf pq = OA_BUF_INIT(1 << 20);
    oa_buf_append_str(&pq, path && *path ? path : "/");
    if (query && *query)
        oa_buf_printf(&pq, "?%s", query);
    r->path = oa_strdup(oa_buf_cstr(&pq));
    oa_buf_free(&pq);
    evhttp_uri_free(u);

    r->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : 5000;
    r->retries = o ? OA_MAX(o->retries, 0) : 0;
    r->retry_delay_ms = o && o->retry_delay_ms > 0 ? o->retry_delay_ms : 1000;
    r->max_body = o && o->max_body ? o->max_body : (1u << 20);
    oa_buf_init(&r->resp, r->max_body);
    if (o && o->content_type)
        r->content_type = oa_strdup(o->content_type);
    if (o && o->body_len) {
        r->body = oa_memdup(o->body, o->body_len);
        r->body_len = o->body_len;
    }
    size_t nh = 0;
    while (o && o->headers && o->headers[nh])
        nh++;
    r->headers = oa_calloc(nh + 1, sizeof(*r->headers));
    for (size_t i = 0; i < nh; i++)
        r->headers[i] = oa_strdup(o->headers[i]);
    r->done = done;
    r->arg = arg;
    r->timer = evtimer_new(oa_loop_base(), on_timer, r);
    r->deadline = evtimer_new(oa_loop_base(), on_deadline, r);
    r->next = C.reqs;
    if (C.reqs)
        C.reqs->prev = r;
    C.reqs = r;
    /* The first attempt starts from the loop, so done never runs inside this call. */
    struct timeval now = {0, 0};
    event_add(r->timer, &now);
    return r;
}

void http_client_cancel(struct http_client_req *r)
{
    if (r)
        req_free(r);
}
