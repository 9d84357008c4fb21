/*
 * fuzz_render.c - libFuzzer driver for the JSON and XML renderers.
 *
 * The input is read as JSON by jansson (any object it accepts is a tree a
 * handler could build), then rendered both ways. The XML is checked with a
 * small well-formedness scanner: balanced, matching tags with legal names,
 * no bare '<' or '&' in text, only known entity references, valid UTF-8 and
 * no character XML 1.0 forbids. The JSON must read back.
 */
#include "api/render.h"
#include "core/common.h"
#include "core/err.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STACK 512

static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
    OA_ASSERT(s[0] >= 0xC2 && s[0] <= 0xF4 && n >= len);
    uint32_t v = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        OA_ASSERT((s[i] & 0xC0) == 0x80);
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

static bool name_char(unsigned char c, bool first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')
        return true;
    return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

static void check_xml(const char *s, size_t n)
{
    static const char decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    const char *stack[MAX_STACK];
    size_t stack_len[MAX_STACK];
    size_t depth = 0, i = sizeof(decl) - 1;
    bool root_done = false;

    OA_ASSERT(n >= i && memcmp(s, decl, i) == 0);
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '<') {
            OA_ASSERT(!root_done);
            bool close = i + 1 < n && s[i + 1] == '/';
            size_t start = i + 1 + close, j = start;
            while (j < n && name_char((unsigned char)s[j], j == start))
                j++;
            OA_ASSERT(j > start && j < n && s[j] == '>');
            if (close) {
                OA_ASSERT(depth > 0);
                depth--;
                OA_ASSERT(stack_len[depth] == j - start &&
                          memcmp(stack[depth], s + start, j - start) == 0);
                root_done = depth == 0;
            } else {
                OA_ASSERT(depth < MAX_STACK);
                stack[depth] = s + start;
                stack_len[depth] = j - start;
                depth++;
            }
            i = j + 1;
        } else if (c == '&') {
            static const char *ent[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#xD;"};
            size_t k;
            for (k = 0; k < OA_ARRAY_SIZE(ent); k++) {
                size_t l = strlen(ent[k]);
                if (n - i >= l && memcmp(s + i, ent[k], l) == 0) {
                    i += l;
                    break;
                }
            }
            OA_ASSERT(k < OA_ARRAY_SIZE(ent));
        } else {
            uint32_t cp;
            OA_ASSERT(depth > 0);
            OA_ASSERT(c != '>');
            i += utf8_len((const unsigned char *)s + i, n - i, &cp);
            OA_ASSERT(cp == '\t' || cp == '\n' || (cp >= 0x20 && cp != 0xFFFE && cp != 0xFFFF));
            OA_ASSERT(cp < 0xD800 || cp > 0xDFFF);
        }
    }
    OA_ASSERT(root_done && depth == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *tree = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
    if (!tree)
        return 0;
    if (!json_is_object(tree)) {
        json_decref(tree);
        return 0;
    }
    struct oa_buf out = OA_BUF_INIT(1 << 24);
    int r = api_render_xml(tree, "Resp", &out);
    if (r == 0)
        check_xml((const char *)out.data, out.len);
    else
        OA_ASSERT(r == OA_EINVAL); /* deeper than any response */
    oa_buf_reset(&out);
    OA_ASSERT(api_render_json(tree, &out) == 0);
    json_t *back = json_loadb((const char *)out.data, out.len, JSON_ALLOW_NUL, NULL);
    OA_ASSERT(back);
    json_decref(back);
    oa_buf_free(&out);
    json_decref(tree);
    return 0;
}
