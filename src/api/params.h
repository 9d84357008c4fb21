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
 *     VideoLayer.1.PositionNormalized.2=0.2
 *                             -> {"VideoLayer": [{"PositionNormalized": [null, "0.2"]}]}
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
    size_t max_count;     /* parameters in the whole request */
    size_t max_name_len;  /* decoded bytes */
    size_t max_value_len; /* decoded bytes */
    unsigned max_index;   /* largest list index accepted */
    unsigned max_depth;   /* dotted components in one name */
};

/* clang-format off */
#define API_PARAM_LIMITS_DEFAULT {1000, 128, 65536, 1000, 8}
/* clang-format on */

struct api_params {
    struct api_param *items;
    size_t count;
    size_t cap;
};

enum api_params_error {
    API_PARAMS_OK = 0,
    API_PARAMS_BAD_ENCODING = -1, /* malformed %XX, or a NUL byte; in the tree, not UTF-8 */
    API_PARAMS_TOO_MANY = -2,     /* parameters, or list gaps in the tree */
    API_PARAMS_TOO_LONG = -3,     /* a name or value over its limit */
    API_PARAMS_DUPLICATE = -4,    /* the same name twice */
    API_PARAMS_BAD_NAME = -5,     /* empty component, bad index, leaf/container clash */
};

void api_params_init(struct api_params *ps);
void api_params_free(struct api_params *ps);

/*
 * Decodes "a=1&b=2" form text (+ is a space, %XX a byte, either hex case)
 * and appends the pairs. A pair without '=' has an empty value; empty pairs
 * ("&&") are skipped; an empty name ("=x") is API_PARAMS_BAD_NAME. Duplicates
 * are checked against everything in ps, so a name in both the query and the
 * body is API_PARAMS_DUPLICATE; max_count counts all of ps. On error nothing
 * is appended (ps is as before the call), and the function returns an enum
 * api_params_error and sets *bad (if not NULL) to an oa_malloc'ed copy of
 * the offending name (or raw text), which the caller frees with oa_free.
 * That copy is meant for error messages: at most 128 bytes, cut on a UTF-8
 * character boundary, with control characters and bytes that are not UTF-8
 * replaced by '?'.
 */
int api_params_parse(struct api_params *ps, const char *s, size_t len,
                     const struct api_param_limits *lim, char **bad);

/* The value of a flat parameter, or NULL. */
const char *api_params_get(const struct api_params *ps, const char *name);

/*
 * Builds the nested tree described above. Returns a new reference in *tree,
 * or an enum api_params_error with *bad set as for api_params_parse (and
 * *tree NULL). A component in index position that starts with a digit must
 * be a whole index ("01", "0", "1a" are bad names); other components are
 * object keys, and the first one always is. Names and values must be UTF-8
 * here (jansson strings are), else API_PARAMS_BAD_ENCODING. The gaps (nulls)
 * padded into all lists together are capped at max_count + max_index, so
 * many far-apart indices are API_PARAMS_TOO_MANY rather than megabytes of
 * nulls.
 */
int api_params_tree(const struct api_params *ps, const struct api_param_limits *lim, json_t **tree,
                    char **bad);

/*
 * Decodes form-encoded text into *out (oa_malloc'ed, NUL-terminated, length
 * in *outlen if not NULL); -1 on bad encoding (a '%' not followed by two
 * hex digits, or a NUL byte, raw or as %00), with *out set to NULL.
 */
int api_form_decode(const char *s, size_t len, char **out, size_t *outlen);

#endif
