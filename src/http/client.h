/*
 * client.h - outgoing HTTP requests on the event loop: callbacks to users'
 * servers (recording notifications, OnDemandUrl).
 *
 * libevent's evhttp client with evdns for names (never a blocking
 * getaddrinfo on the loop) and libevent_openssl for https:// (peer and host
 * name verified against the system's CA store). Each attempt uses a fresh
 * connection with a timeout; a transport failure or a non-2xx status is
 * retried `retries` times, `retry_delay_ms` apart. The done callback runs
 * exactly once, on the loop thread, never from inside http_client_request()
 * - unless the request is cancelled first, in which case it never runs.
 *
 * Loop thread only.
 */
#ifndef OA_HTTP_CLIENT_H
#define OA_HTTP_CLIENT_H

#include "core/common.h"

struct http_client_req;

struct http_client_response {
    int status;        /* HTTP status of the last attempt; 0 when none arrived */
    const char *error; /* why there was no response (status 0), else NULL */
    const uint8_t *body;
    size_t body_len;
    int attempts;
};

typedef void http_client_done_fn(void *arg, const struct http_client_response *res);

struct http_client_opts {
    int timeout_ms;     /* per attempt, all of it; 0 = 5000 */
    int retries;        /* attempts after the first */
    int retry_delay_ms; /* 0 = 1000 */
    const char *content_type;
    const void *body; /* copied */
    size_t body_len;
    const char *const *headers; /* name, value, name, value, ..., NULL; copied */
    size_t max_body;            /* largest response body kept; 0 = 1 MiB */
};

/* Creates the DNS resolver and TLS context; 0 or a negative code. */
int http_client_init(void);
/* Cancels every request in flight (their callbacks do not run) and frees the client. */
void http_client_stop(void);

/*
 * Starts method (GET or POST) on an http:// or https:// url. Returns a handle
 * valid until the done callback has returned or http_client_cancel(), or
 * NULL with *err (OA_EINVAL: a bad URL or scheme; OA_EBUSY: stopped).
 */
struct http_client_req *http_client_request(const char *method, const char *url,
                                            const struct http_client_opts *o,
                                            http_client_done_fn *done, void *arg, int *err);
/* Stops a request; done will not be called. Not from inside its own done callback. */
void http_client_cancel(struct http_client_req *r);

/* The host part of an http(s) URL, for signatures that name it; 0 or OA_EINVAL. */
int http_client_url_host(const char *url, char *out, size_t outlen);

#endif
