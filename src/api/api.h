/*
 * api.h - the control API as handlers see it.
 *
 * The dispatcher (api.c) turns an HTTP request into a struct api_req: it
 * verifies the signature (v1 or v3), the timestamp, the nonce and the
 * per-account rate limit, parses parameters once into a tree (params.h),
 * checks the action's declared parameters (required ones present, typed
 * ones well-formed), and calls the handler. The handler reads parameters
 * with the accessors below, adds its fields to r->resp (a jansson object;
 * lists through api_list() from render.h), and returns 0 - or returns
 * api_error(), which records the documented status, code and message. The
 * dispatcher adds RequestId and renders JSON or XML in one place.
 *
 * Tenancy: r->account_id is the caller's account; a handler must treat a
 * resource of another account exactly as if it did not exist.
 *
 * Every action is registered in one table (api_actions.c) with its handler,
 * its parameters and its rate limit. Handlers run on the event-loop thread
 * and must not block. r->resp already holds RequestId when the handler runs;
 * on error whatever the handler added is discarded. Helpers for handlers
 * that take a DomainName (ownership, the stream-key domain) are in
 * api/domain.h; the HTTP-independent entry point (for tests) in
 * api/dispatch.h.
 */
#ifndef OA_API_API_H
#define OA_API_API_H

#include "core/common.h"

#include <jansson.h>

enum api_param_type {
    API_STR,   /* any string */
    API_INT,   /* decimal integer (Integer/Long) */
    API_FLOAT, /* decimal number */
    API_BOOL,  /* "true"/"false" (case-insensitive) */
    API_JSON,  /* a string holding JSON */
    API_LIST,  /* a repeated parameter Name.N (any element type) */
};

struct api_param_spec {
    const char *name;
    enum api_param_type type;
    bool required;
};

struct api_req {
    /* request */
    int64_t account_id;
    const char *action;
    json_t *params; /* nested parameter tree (borrowed) */
    char host[256]; /* the Host the client used, with port: for URLs we return */
    char client_ip[64];
    char request_id[37];
    /* response */
    json_t *resp; /* the handler's fields (owned by the dispatcher) */
    int status;   /* 200, or the error's HTTP status */
    char code[128];
    char message[1024];
};

typedef int api_handler_fn(struct api_req *r);

struct api_action {
    const char *name;
    api_handler_fn *handler;
    int limit;                           /* requests allowed per window, per account */
    int window_s;                        /* 1 for a QPS limit, 60 for a per-minute one */
    const struct api_param_spec *params; /* terminated by {NULL} */
};

/*
 * Records an error for the response and returns -1, so handlers write
 * `return api_error(r, 404, "InvalidCaster.NotFound", "The caster does not exist.");`.
 */
int api_error(struct api_req *r, int status, const char *code, const char *fmt, ...)
    OA_PRINTF(4, 5);
/* The documented Missing<Name> error (400, "<Name> is mandatory for this action."). */
int api_error_missing(struct api_req *r, const char *name);
/* Invalid<Name>.Malformed (400), the usual answer to a value of the wrong form. */
int api_error_malformed(struct api_req *r, const char *name);
/* InternalError (500), for store failures (which the store has already logged). */
int api_error_internal(struct api_req *r);

/*
 * Accessors: NULL/false when absent. Values were type-checked if declared.
 * An empty value ("Name=") counts as absent everywhere except api_str(),
 * which returns "" for it; a required parameter must be non-empty.
 */
const char *api_str(struct api_req *r, const char *name);
/* The string, or fallback when absent or empty. */
const char *api_str_or(struct api_req *r, const char *name, const char *fallback);
bool api_has(struct api_req *r, const char *name);
/*
 * Integer in [min, max]: 0 and *out set; 1 when absent (*out = def); -1 with
 * the Invalid<Name>.Malformed error recorded when malformed or out of range.
 */
int api_int(struct api_req *r, const char *name, long long min, long long max, long long def,
            long long *out);
int api_float(struct api_req *r, const char *name, double min, double max, double def, double *out);
int api_bool(struct api_req *r, const char *name, bool def, bool *out);
/* A list parameter (Name.N) as a JSON array (borrowed), or NULL. */
json_t *api_list_param(struct api_req *r, const char *name);
/*
 * A JSON-string parameter parsed (new reference); NULL with the Malformed
 * error recorded when it is not JSON, and NULL with nothing recorded when it
 * is absent (check api_has() first, or r->status after a NULL).
 */
json_t *api_json(struct api_req *r, const char *name);

/* The action table, and lookup by name. */
extern const struct api_action api_actions[];
extern const size_t api_action_count;
const struct api_action *api_action_find(const char *name);

/* Registers the "/" route. */
void api_init(void);
void api_stop(void);

#endif
