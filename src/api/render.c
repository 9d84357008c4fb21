/*
 * render.c - renders one jansson response tree as compact JSON or as XML.
 *
 * JSON is jansson's own compact dump, written straight into the caller's
 * buffer (one sizing pass, one writing pass). XML is a recursive walk of the
 * same tree in insertion order; reals go through the very same jansson
 * formatter so both formats print numbers identically (15 significant
 * digits: 0.1 -> "0.1", 1.0 -> "1.0", 1e-7 -> "1e-7").
 *
 * XML 1.0 cannot carry most control characters at all, not even as
 * character references, so text is made safe rather than rejected: C0
 * controls other than tab, LF and CR, U+FFFE, U+FFFF and bytes that are not
 * UTF-8 each become U+FFFD; CR is written as "&#xD;" so parsers keep it.
 * Element names come from the tree's keys, which handlers pick; a byte that
 * may not appear in an XML name becomes '_' so a stray key cannot break the
 * document.
 */
#include "api/render.h"
#include "core/err.h"
#include "core/util.h"

#include <string.h>

#define REAL_FLAGS JSON_REAL_PRECISION(15)
/* Far deeper than any response; also stops a tree that contains itself. */
#define MAX_DEPTH 256

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

int api_render_json(const json_t *tree, struct oa_buf *out)
{
    size_t flags = JSON_COMPACT | REAL_FLAGS;
    size_t n = json_dumpb(tree, NULL, 0, flags);
    if (n == 0)
        return OA_EINVAL;
    int r = oa_buf_reserve(out, n);
    if (r < 0)
        return r;
    if (json_dumpb(tree, (char *)out->data + out->len, n, flags) != n)
        return OA_EINVAL;
    out->len += n;
    return 0;
}

static int xml_text(struct oa_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0; /* [run, i) is pending verbatim text */
    int r = 0;

    while (i < n && r == 0) {
        uint32_t cp = 0;
        size_t l = oa_utf8_decode(p + i, n - i, &cp);
        const char *rep = NULL;

        if (l == 0) {
            rep = REPLACEMENT;
            l = 1;
        } else if (cp == '&') {
            rep = "&amp;";
        } else if (cp == '<') {
            rep = "&lt;";
        } else if (cp == '>') {
            rep = "&gt;";
        } else if (cp == '"') {
            rep = "&quot;";
        } else if (cp == '\'') {
            rep = "&apos;";
        } else if (cp == '\r') {
            rep = "&#xD;";
        } else if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0xFFFE || cp == 0xFFFF) {
            rep = REPLACEMENT;
        }
        if (rep) {
            r = oa_buf_append(out, p + run, i - run);
            if (r == 0)
                r = oa_buf_append_str(out, rep);
            run = i + l;
        }
        i += l;
    }
    if (r == 0)
        r = oa_buf_append(out, p + run, n - run);
    return r;
}

static bool name_char(unsigned char c, bool first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')
        return true;
    return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

static int xml_name(struct oa_buf *out, const char *key)
{
    size_t n = strlen(key);
    if (n == 0)
        return oa_buf_append_u8(out, '_');
    int r = oa_buf_reserve(out, n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        out->data[out->len++] = name_char(c, i == 0) ? c : '_';
    }
    return 0;
}

static int xml_tag(struct oa_buf *out, const char *key, bool close)
{
    int r = oa_buf_append_str(out, close ? "</" : "<");
    if (r == 0)
        r = xml_name(out, key);
    if (r == 0)
        r = oa_buf_append_u8(out, '>');
    return r;
}

static int xml_scalar(struct oa_buf *out, const json_t *v)
{
    char num[64];

    switch (json_typeof(v)) {
    case JSON_STRING:
        return xml_text(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return oa_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL: {
        size_t n = json_dumpb(v, num, sizeof(num), JSON_ENCODE_ANY | REAL_FLAGS);
        if (n == 0 || n > sizeof(num))
            return OA_EINVAL;
        return oa_buf_append(out, num, n);
    }
    case JSON_TRUE:
        return oa_buf_append_str(out, "true");
    case JSON_FALSE:
        return oa_buf_append_str(out, "false");
    default:
        return 0; /* null: an empty element */
    }
}

static int xml_members(struct oa_buf *out, const json_t *obj, int depth);

/* One element per item, each named key; an item that is itself a list
 * becomes one element holding its own items, so nesting survives. */
static int xml_array(struct oa_buf *out, const char *key, const json_t *arr, int depth)
{
    size_t i;
    const json_t *item;
    int r = 0;

    if (depth > MAX_DEPTH)
        return OA_EINVAL;
    json_array_foreach(arr, i, item)
    {
        r = xml_tag(out, key, false);
        if (r == 0 && json_is_array(item))
            r = xml_array(out, key, item, depth + 1);
        else if (r == 0 && json_is_object(item))
            r = xml_members(out, item, depth + 1);
        else if (r == 0)
            r = xml_scalar(out, item);
        if (r == 0)
            r = xml_tag(out, key, true);
        if (r)
            return r;
    }
    return 0;
}

static int xml_members(struct oa_buf *out, const json_t *obj, int depth)
{
    const char *key;
    json_t *v;
    int r = 0;

    if (depth > MAX_DEPTH)
        return OA_EINVAL;
    /* jansson's iteration macros take a non-const object but do not modify it. */
    json_object_foreach((json_t *)obj, key, v)
    {
        if (json_is_array(v)) {
            r = xml_array(out, key, v, depth + 1);
        } else {
            r = xml_tag(out, key, false);
            if (r == 0 && json_is_object(v))
                r = xml_members(out, v, depth + 1);
            else if (r == 0)
                r = xml_scalar(out, v);
            if (r == 0)
                r = xml_tag(out, key, true);
        }
        if (r)
            return r;
    }
    return 0;
}

int api_render_xml(const json_t *tree, const char *root, struct oa_buf *out)
{
    if (!json_is_object(tree))
        return OA_EINVAL;
    int r = oa_buf_append_str(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    if (r == 0)
        r = xml_tag(out, root, false);
    if (r == 0)
        r = xml_members(out, tree, 0);
    if (r == 0)
        r = xml_tag(out, root, true);
    return r;
}

json_t *api_list(json_t *parent, const char *container, const char *item)
{
    json_t *wrap = json_object();
    json_t *arr = json_array();

    OA_ASSERT(wrap && arr);
    OA_ASSERT(json_object_set_new(wrap, item, arr) == 0);
    OA_ASSERT(json_object_set_new(parent, container, wrap) == 0);
    return arr;
}
