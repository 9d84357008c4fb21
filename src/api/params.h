/*
 * params.h - request parameters of the RPC-style API, parsed once for every
 * handler.
 *
 * Parameters arrive as application/x-www-form-urlencoded text in the query
 * string and (for POST) the body; both are appended to one struct api_params.
 * The flat list keeps every (name, value) pair in arrival order: it is what
 * the signature schemes canonicalize. The tree is what handlers read: dotted
 * names with 1-based numeric parts become lists and objects, e.g.
 *
 *     BlendList.1=RV01&BlendList.2=RV02        -> {"BlendList": ["RV01", "RV02"]}
 *     VideoLayer.1.PositionNormalized.2=0.2    -> {"VideoLayer": [{"PositionNormalized": [null, "0.2"]}]}
 *     Tag.1.Key=k&Tag.1.Value=v                -> {"Tag": [{"Key": "k", "Value": "v"}]}
 *
 * List positions follow the index (index N is element N-1), missing indices
 * are JSON null; every leaf is a JSON string. Handlers convert types.
 *
 * All input is hostile: limits bound the count and sizes, and malformed
 * percent-encoding, duplicate names, index 0 or > max_index, and a name used
 * both as a leaf and as a container are errors that name the culprit.
 */
#ifndef OA_API_PARAMS_H
#define OA_API_PARAMS_H

#include "core/common.h"

#include <jansson.h>

struct api_param {
    char *name;  /* decoded, owned */
    char *value; /* decoded, owned; may contain any byte but NUL */
};

struct api_param_limits {
    size_t max_count;      /* parameters in the whole request */
    size_t max_name_len;   /* decoded bytes */
    size_t max_value_len;  /* decoded bytes */
    unsigned max_index;    /* largest list index accepted */
    unsigned max_depth;    /* dotted components in one name */
};

#define API_PARAM_LIMITS_DEFAULT {1000, 128, 65536, 1000, 8}

struct api_params {
    struct api_param *items;
    size_t count;
    size_t cap;
};

enum api_params_error {
    API_PARAMS_OK = 0,
    API_PARAMS_BAD_ENCODING = -1, /* malformed %XX, or a NUL byte */
    API_PARAMS_TOO_MANY = -2,
    API_PARAMS_TOO_LONG = -3,    /* a name or value over its limit */
    API_PARAMS_DUPLICATE = -4,   /* the same name twice */
    API_PARAMS_BAD_NAME = -5,    /* empty component, bad index, leaf/container clash */
};

void api_params_init(struct api_params *ps);
void api_params_free(struct api_params *ps);

/*
 * Decodes "a=1&b=2" form text (+ is a space, %XX a byte) and appends the
 * pairs. A pair without '=' has an empty value; empty pairs ("&&") are
 * skipped. On error returns an enum api_params_error and sets *bad (if not
 * NULL) to a malloc'ed copy of the offending name (or raw text), which the
 * caller frees.
 */
int api_params_parse(struct api_params *ps, const char *s, size_t len,
                     const struct api_param_limits *lim, char **bad);

/* The value of a flat parameter, or NULL. */
const char *api_params_get(const struct api_params *ps, const char *name);

/*
 * Builds the nested tree described above. Returns a new reference in *tree,
 * or an enum api_params_error with *bad set as for api_params_parse.
 */
int api_params_tree(const struct api_params *ps, const struct api_param_limits *lim,
                    json_t **tree, char **bad);

/* Decodes form-encoded text into out (NUL-terminated); -1 on bad encoding. */
int api_form_decode(const char *s, size_t len, char **out, size_t *outlen);

#endif
