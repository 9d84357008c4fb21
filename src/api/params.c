/*
 * params.c - form decoding of request parameters and the dotted-name
 * flattener that turns them into a jansson tree.
 *
 * Parsing decodes each "name=value" pair into the flat list, then finds
 * duplicate names by sorting an array of pointers to the items, so the cost
 * stays O(n log n) even at the count limit; a failed parse leaves the list as
 * it was. The tree is built in one pass: every name is checked first (UTF-8,
 * components, indices), then walked from the root, creating objects and
 * arrays on the way. A node's JSON type is its kind (string = leaf, array,
 * object, null = a gap not yet filled), so clashes between names need no
 * bookkeeping beyond the tree itself.
 */
#include "api/params.h"
#include "core/alloc.h"
#include "core/util.h"

#include <string.h>

/* What *bad may hold: enough to name the culprit in an error message. */
#define BAD_MAX 128

void api_params_init(struct api_params *ps)
{
    ps->items = NULL;
    ps->count = 0;
    ps->cap = 0;
}

static void truncate_items(struct api_params *ps, size_t count)
{
    for (size_t i = count; i < ps->count; i++) {
        oa_free(ps->items[i].name);
        oa_free(ps->items[i].value);
    }
    ps->count = count;
}

void api_params_free(struct api_params *ps)
{
    truncate_items(ps, 0);
    oa_free(ps->items);
    api_params_init(ps);
}

static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;
    while (i < n) {
        size_t l = oa_utf8_decode(p + i, n - i, &cp);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

/*
 * The copy handed back in *bad goes straight into error messages (JSON or
 * XML), so it is cut to BAD_MAX bytes on a character boundary and any byte
 * that is not printable UTF-8 becomes '?'.
 */
static char *bad_copy(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    char *out = oa_malloc(BAD_MAX + 1);
    size_t i = 0, o = 0;
    uint32_t cp;

    while (i < n) {
        size_t l = oa_utf8_decode(p + i, n - i, &cp);
        if (l == 0 || (l == 1 && (p[i] < 0x20 || p[i] == 0x7F))) {
            if (o + 1 > BAD_MAX)
                break;
            out[o++] = '?';
            i++;
            continue;
        }
        if (o + l > BAD_MAX)
            break;
        memcpy(out + o, p + i, l);
        o += l;
        i += l;
    }
    out[o] = '\0';
    return out;
}

static void set_bad(char **bad, const char *s, size_t n)
{
    if (bad)
        *bad = bad_copy(s, n);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int api_form_decode(const char *s, size_t len, char **out, size_t *outlen)
{
    char *d = oa_malloc(len + 1);
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (len - i < 3)
                goto bad;
            int hi = hexval((unsigned char)s[i + 1]);
            int lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                goto bad;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        /* A NUL would silently cut the C string every consumer sees. */
        if (c == '\0')
            goto bad;
        d[o++] = (char)c;
    }
    d[o] = '\0';
    *out = d;
    if (outlen)
        *outlen = o;
    return 0;
bad:
    oa_free(d);
    *out = NULL;
    if (outlen)
        *outlen = 0;
    return -1;
}

static int cmp_param_ptr(const void *a, const void *b)
{
    const struct api_param *pa = *(const struct api_param *const *)a;
    const struct api_param *pb = *(const struct api_param *const *)b;
    int r = strcmp(pa->name, pb->name);
    if (r)
        return r;
    /* Same array, so address order is arrival order: the later one is the duplicate. */
    return pa < pb ? -1 : (pa > pb ? 1 : 0);
}

/* The first name that occurs twice (its second occurrence), or NULL. */
static const struct api_param *find_duplicate(const struct api_params *ps)
{
    if (ps->count < 2)
        return NULL;
    const struct api_param **v = oa_malloc(ps->count * sizeof(*v));
    const struct api_param *dup = NULL;
    for (size_t i = 0; i < ps->count; i++)
        v[i] = &ps->items[i];
    qsort(v, ps->count, sizeof(*v), cmp_param_ptr);
    for (size_t i = 1; i < ps->count; i++) {
        if (strcmp(v[i - 1]->name, v[i]->name) == 0) {
            if (!dup || v[i] < dup)
                dup = v[i];
        }
    }
    oa_free(v);
    return dup;
}

static void push(struct api_params *ps, char *name, char *value)
{
    if (ps->count == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 16;
        ps->items = oa_realloc(ps->items, cap * sizeof(*ps->items));
        ps->cap = cap;
    }
    ps->items[ps->count].name = name;
    ps->items[ps->count].value = value;
    ps->count++;
}

/* Decodes one "name[=value]" pair and appends it; an enum api_params_error. */
static int parse_pair(struct api_params *ps, const char *p, size_t n,
                      const struct api_param_limits *lim, char **bad)
{
    const char *eq = memchr(p, '=', n);
    size_t nlen = eq ? (size_t)(eq - p) : n;
    const char *v = eq ? eq + 1 : p + n;
    size_t vlen = eq ? n - nlen - 1 : 0;
    char *name, *value;
    size_t name_len, value_len;

    if (api_form_decode(p, nlen, &name, &name_len) < 0) {
        set_bad(bad, p, nlen);
        return API_PARAMS_BAD_ENCODING;
    }
    if (name_len > lim->max_name_len) {
        set_bad(bad, name, name_len);
        oa_free(name);
        return API_PARAMS_TOO_LONG;
    }
    if (name_len == 0) {
        set_bad(bad, p, n);
        oa_free(name);
        return API_PARAMS_BAD_NAME;
    }
    if (api_form_decode(v, vlen, &value, &value_len) < 0) {
        set_bad(bad, name, name_len);
        oa_free(name);
        return API_PARAMS_BAD_ENCODING;
    }
    if (value_len > lim->max_value_len) {
        set_bad(bad, name, name_len);
        oa_free(name);
        oa_free(value);
        return API_PARAMS_TOO_LONG;
    }
    if (ps->count >= lim->max_count) {
        set_bad(bad, name, name_len);
        oa_free(name);
        oa_free(value);
        return API_PARAMS_TOO_MANY;
    }
    push(ps, name, value);
    return API_PARAMS_OK;
}

int api_params_parse(struct api_params *ps, const char *s, size_t len,
                     const struct api_param_limits *lim, char **bad)
{
    size_t start_count = ps->count;
    size_t i = 0;
    int r = API_PARAMS_OK;

    if (bad)
        *bad = NULL;
    while (i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - s) : len;
        if (end > i) {
            r = parse_pair(ps, s + i, end - i, lim, bad);
            if (r != API_PARAMS_OK)
                goto fail;
        }
        i = end + 1;
    }
    if (ps->count > start_count) {
        const struct api_param *dup = find_duplicate(ps);
        if (dup) {
            set_bad(bad, dup->name, strlen(dup->name));
            r = API_PARAMS_DUPLICATE;
            goto fail;
        }
    }
    return API_PARAMS_OK;
fail:
    truncate_items(ps, start_count);
    return r;
}

const char *api_params_get(const struct api_params *ps, const char *name)
{
    for (size_t i = 0; i < ps->count; i++) {
        if (strcmp(ps->items[i].name, name) == 0)
            return ps->items[i].value;
    }
    return NULL;
}

/* ---- the tree ---- */

/*
 * A component in index position: starts with a digit, all digits, no leading
 * zero, 1..max_index. Returns the index, 0 when it is a plain object key, or
 * -1 when it starts with a digit but is not a valid index ("01", "0", "1a",
 * too large).
 */
static long component_index(const char *c, unsigned max_index)
{
    if (c[0] < '0' || c[0] > '9')
        return 0;
    if (c[0] == '0')
        return -1;
    unsigned long v = 0;
    for (const char *p = c; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > max_index)
            return -1;
    }
    return (long)v;
}

struct walk {
    const struct api_param_limits *lim;
    size_t pad_budget; /* gap slots (nulls) still allowed in the whole tree */
    char **comp;       /* component pointers into the scratch name */
    long *idx;         /* per component: index, or 0 for an object key */
};

/*
 * Splits the scratch copy of a name in place into NUL-terminated components
 * and classifies them; returns the component count or an error.
 */
static int split_name(struct walk *w, char *name, size_t *ncomp)
{
    size_t n = 0;
    char *p = name;

    for (;;) {
        char *dot = strchr(p, '.');
        if (dot)
            *dot = '\0';
        if (*p == '\0' || n >= w->lim->max_depth)
            return API_PARAMS_BAD_NAME;
        w->comp[n] = p;
        /* The root is always an object, so the first component is a key. */
        w->idx[n] = n == 0 ? 0 : component_index(p, w->lim->max_index);
        if (w->idx[n] < 0)
            return API_PARAMS_BAD_NAME;
        n++;
        if (!dot)
            break;
        p = dot + 1;
    }
    *ncomp = n;
    return API_PARAMS_OK;
}

/* The node at key/index of container, or NULL when absent or a gap. */
static json_t *slot_get(json_t *container, const char *key, long idx)
{
    json_t *v;
    if (idx > 0)
        v = json_array_get(container, (size_t)idx - 1);
    else
        v = json_object_get(container, key);
    return v && !json_is_null(v) ? v : NULL;
}

/* Stores v (stealing the reference) at key/index of container. */
static int slot_set(struct walk *w, json_t *container, const char *key, long idx, json_t *v)
{
    if (idx == 0) {
        OA_ASSERT(json_object_set_new_nocheck(container, key, v) == 0);
        return API_PARAMS_OK;
    }
    size_t pos = (size_t)idx - 1;
    size_t size = json_array_size(container);
    if (pos < size) {
        OA_ASSERT(json_array_set_new(container, pos, v) == 0);
        return API_PARAMS_OK;
    }
    /* Every index is <= max_index, but many far-apart indices in many lists
     * would still make a small request allocate a lot of nulls. */
    if (pos - size > w->pad_budget) {
        json_decref(v);
        return API_PARAMS_TOO_MANY;
    }
    w->pad_budget -= pos - size;
    while (json_array_size(container) < pos)
        OA_ASSERT(json_array_append_new(container, json_null()) == 0);
    OA_ASSERT(json_array_append_new(container, v) == 0);
    return API_PARAMS_OK;
}

static int insert(struct walk *w, json_t *root, const struct api_param *p, char *scratch)
{
    size_t nlen = strlen(p->name);
    size_t vlen = strlen(p->value);
    size_t ncomp;
    json_t *cur = root;
    int r;

    if (!utf8_valid(p->name, nlen) || !utf8_valid(p->value, vlen))
        return API_PARAMS_BAD_ENCODING;
    memcpy(scratch, p->name, nlen + 1);
    r = split_name(w, scratch, &ncomp);
    if (r != API_PARAMS_OK)
        return r;

    for (size_t i = 0; i < ncomp; i++) {
        json_t *slot = slot_get(cur, w->comp[i], w->idx[i]);
        if (i + 1 == ncomp) {
            if (slot)
                return json_is_string(slot) ? API_PARAMS_DUPLICATE : API_PARAMS_BAD_NAME;
            return slot_set(w, cur, w->comp[i], w->idx[i], json_stringn_nocheck(p->value, vlen));
        }
        bool want_array = w->idx[i + 1] > 0;
        if (slot) {
            if (want_array ? !json_is_array(slot) : !json_is_object(slot))
                return API_PARAMS_BAD_NAME;
            cur = slot;
            continue;
        }
        json_t *c = want_array ? json_array() : json_object();
        OA_ASSERT(c);
        r = slot_set(w, cur, w->comp[i], w->idx[i], c);
        if (r != API_PARAMS_OK)
            return r;
        cur = c;
    }
    return API_PARAMS_OK;
}

int api_params_tree(const struct api_params *ps, const struct api_param_limits *lim, json_t **tree,
                    char **bad)
{
    struct walk w;
    size_t maxlen = 0;
    json_t *root = json_object();
    int r = API_PARAMS_OK;

    OA_ASSERT(root);
    *tree = NULL;
    if (bad)
        *bad = NULL;
    w.lim = lim;
    w.pad_budget = lim->max_count + lim->max_index;
    w.comp = oa_malloc((lim->max_depth ? lim->max_depth : 1) * sizeof(*w.comp));
    w.idx = oa_malloc((lim->max_depth ? lim->max_depth : 1) * sizeof(*w.idx));
    for (size_t i = 0; i < ps->count; i++)
        maxlen = OA_MAX(maxlen, strlen(ps->items[i].name));
    char *scratch = oa_malloc(maxlen + 1);

    for (size_t i = 0; i < ps->count; i++) {
        r = insert(&w, root, &ps->items[i], scratch);
        if (r != API_PARAMS_OK) {
            set_bad(bad, ps->items[i].name, strlen(ps->items[i].name));
            break;
        }
    }
    oa_free(scratch);
    oa_free(w.comp);
    oa_free(w.idx);
    if (r != API_PARAMS_OK) {
        json_decref(root);
        return r;
    }
    *tree = root;
    return API_PARAMS_OK;
}
