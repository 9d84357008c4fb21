/*
 * dispatch.h - the API dispatcher without the HTTP server around it.
 *
 * api.c's evhttp callback copies what it needs out of the request into a
 * struct api_http_in, calls api_process(), and sends what comes back. Unit
 * tests and benchmarks call api_process() directly with requests they build
 * themselves (the store must be open: db_open + account_open_keyfile).
 *
 * Validation order (docs/api.md, spec 1.5): body size -> parameters parse -> Format ->
 * method -> Action present and known -> Version -> common parameters
 * present and well-formed (signature method/version, v3 Authorization and
 * headers) -> timestamp format and window -> AccessKeyId -> signature ->
 * nonce unused -> rate limit -> the action's declared parameters ->
 * handler.
 */
#ifndef OA_API_DISPATCH_H
#define OA_API_DISPATCH_H

#include "api/sign.h"
#include "core/buf.h"
#include "core/common.h"

#include <time.h>

struct api_http_in {
    const char *method;  /* "GET", "POST", ... */
    const char *query;   /* the raw query string, or NULL */
    const uint8_t *body; /* may be NULL when body_len is 0 */
    size_t body_len;
    const struct api_header *headers; /* every request header (v3 signs some of them) */
    size_t nheaders;
    const char *client_ip;
    time_t now;     /* the wall clock (seconds) to judge timestamps by; 0 = time(NULL) */
    int64_t now_us; /* the monotonic clock for rate limits; 0 = oa_mono_us() */
};

struct api_http_out {
    int status;
    const char *content_type; /* static */
    struct oa_buf body;       /* owned: api_http_out_free() */
    char request_id[37];
    /* for the log line */
    char action[64];
    char key_id[65];
    char code[128]; /* "" on success */
};

/* Creates the nonce cache and the rate limiter (api_init does it; idempotent). */
void api_state_init(void);
/* Frees them. */
void api_state_free(void);

/* Runs one request through the whole pipeline; never fails (errors are responses). */
void api_process(const struct api_http_in *in, struct api_http_out *out);
void api_http_out_free(struct api_http_out *out);

#endif
