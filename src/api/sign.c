/*
 * sign.c - string-to-sign construction and HMACs for signature v1 and v3.
 *
 * Both schemes canonicalize the parameters the same way: sort them by their
 * decoded name, byte-wise and stably (an array of pointers into the caller's
 * params, so nothing is copied), and percent-encode per RFC 3986. Where the
 * official SDKs differ from the written spec they win, because theirs is
 * what reaches us: in the v3 canonical query they put names in unencoded
 * (only values are encoded), and both schemes sort on the unencoded names.
 * Hashes are one-shot OpenSSL 3 calls (EVP_Digest, HMAC).
 */
#include "api/sign.h"
#include "core/alloc.h"
#include "core/err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

static const char HEX_UPPER[] = "0123456789ABCDEF";
static const char HEX_LOWER[] = "0123456789abcdef";

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

int api_percent_encode(struct oa_buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t need = 0;

    for (size_t i = 0; i < len; i++)
        need += unreserved(p[i]) ? 1 : 3;
    if (need == 0)
        return 0; /* out->data may still be NULL */
    int r = oa_buf_reserve(out, need);
    if (r < 0)
        return r;
    uint8_t *d = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        if (unreserved(p[i])) {
            *d++ = p[i];
        } else {
            *d++ = '%';
            *d++ = (uint8_t)HEX_UPPER[p[i] >> 4];
            *d++ = (uint8_t)HEX_UPPER[p[i] & 0x0F];
        }
    }
    out->len += need;
    return 0;
}

static int cmp_param_ptr(const void *a, const void *b)
{
    const struct api_param *pa = *(const struct api_param *const *)a;
    const struct api_param *pb = *(const struct api_param *const *)b;
    int r = strcmp(pa->name, pb->name); /* compares as unsigned char: byte-wise */
    if (r)
        return r;
    /* qsort is not stable; the caller's array order breaks ties. */
    return pa < pb ? -1 : (pa > pb ? 1 : 0);
}

/*
 * Appends "name=value" pairs joined by '&', sorted by name, leaving out the
 * parameter named skip (if not NULL). Values are always encoded; names only
 * when encode_names, which v1 does and the v3 SDKs do not.
 */
static int canonical_query(struct oa_buf *out, const struct api_param *params, size_t count,
                           const char *skip, bool encode_names)
{
    const struct api_param **v = oa_malloc((count ? count : 1) * sizeof(*v));
    size_t n = 0;
    int r = 0;

    for (size_t i = 0; i < count; i++) {
        if (skip && strcmp(params[i].name, skip) == 0)
            continue;
        v[n++] = &params[i];
    }
    qsort(v, n, sizeof(*v), cmp_param_ptr);
    for (size_t i = 0; i < n && r == 0; i++) {
        if (i)
            r = oa_buf_append_u8(out, '&');
        if (r == 0 && encode_names)
            r = api_percent_encode(out, v[i]->name, strlen(v[i]->name));
        else if (r == 0)
            r = oa_buf_append_str(out, v[i]->name);
        if (r == 0)
            r = oa_buf_append_u8(out, '=');
        if (r == 0)
            r = api_percent_encode(out, v[i]->value, strlen(v[i]->value));
    }
    oa_free(v);
    return r;
}

int api_sign_v1_string(struct oa_buf *out, const char *method, const struct api_param *params,
                       size_t count)
{
    /* The canonical string is never longer than its encoded form in out. */
    struct oa_buf canon = OA_BUF_INIT(out->max);
    int r = canonical_query(&canon, params, count, "Signature", true);

    if (r == 0)
        r = oa_buf_append_str(out, method);
    if (r == 0)
        r = oa_buf_append_str(out, "&%2F&");
    if (r == 0)
        r = api_percent_encode(out, (const char *)canon.data, canon.len);
    oa_buf_free(&canon);
    return r;
}

void api_sign_v1(const char *secret, const char *sts, size_t sts_len, char out[29])
{
    size_t slen = strlen(secret);
    char *key = oa_malloc(slen + 2);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    memcpy(key, secret, slen);
    key[slen] = '&';
    key[slen + 1] = '\0';
    OA_ASSERT(HMAC(EVP_sha1(), key, (int)(slen + 1), (const unsigned char *)sts, sts_len, mac,
                   &maclen) != NULL);
    OA_ASSERT(maclen == 20);
    OPENSSL_cleanse(key, slen + 1);
    oa_free(key);
    /* 20 bytes -> 28 base64 characters plus the NUL EVP_EncodeBlock writes. */
    OA_ASSERT(EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen) == 28);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Copies [s, s+n) into dst[cap] if it fits (and is not empty); false otherwise. */
static bool copy_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n == 0 || n >= cap)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

int api_v3_parse_authorization(const char *value, struct api_v3_auth *out)
{
    const char *p = value;
    bool have_cred = false, have_sh = false, have_sig = false;

    memset(out, 0, sizeof(*out));
    while (is_space(*p))
        p++;
    const char *alg = p;
    while (*p && !is_space(*p) && *p != ',')
        p++;
    if (!copy_field(out->algorithm, sizeof(out->algorithm), alg, (size_t)(p - alg)))
        return -1;
    if (!is_space(*p))
        return -1;

    /* "Credential=..,SignedHeaders=..,Signature=..", in any order, each once. */
    for (;;) {
        while (is_space(*p))
            p++;
        const char *key = p;
        while (*p && *p != '=' && *p != ',' && !is_space(*p))
            p++;
        size_t klen = (size_t)(p - key);
        if (*p != '=')
            return -1;
        const char *val = ++p;
        while (*p && *p != ',' && !is_space(*p))
            p++;
        size_t vlen = (size_t)(p - val);
        while (is_space(*p))
            p++;

        if (klen == 10 && memcmp(key, "Credential", 10) == 0 && !have_cred) {
            if (!copy_field(out->credential, sizeof(out->credential), val, vlen))
                return -1;
            have_cred = true;
        } else if (klen == 13 && memcmp(key, "SignedHeaders", 13) == 0 && !have_sh) {
            if (!copy_field(out->signed_headers, sizeof(out->signed_headers), val, vlen))
                return -1;
            for (char *c = out->signed_headers; *c; c++)
                *c = lower(*c);
            have_sh = true;
        } else if (klen == 9 && memcmp(key, "Signature", 9) == 0 && !have_sig) {
            if (vlen != 64)
                return -1;
            for (size_t i = 0; i < 64; i++) {
                if (!is_hex(val[i]))
                    return -1;
                out->signature[i] = lower(val[i]);
            }
            out->signature[64] = '\0';
            have_sig = true;
        } else {
            return -1;
        }
        if (*p == '\0')
            break;
        if (*p != ',')
            return -1;
        p++;
    }
    return have_cred && have_sh && have_sig ? 0 : -1;
}

static bool is_trim_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

struct hval {
    const char *s;
    size_t n;
};

static int cmp_hval(const void *a, const void *b)
{
    const struct hval *x = a, *y = b;
    int r = memcmp(x->s, y->s, OA_MIN(x->n, y->n));
    if (r)
        return r;
    return x->n < y->n ? -1 : (x->n > y->n ? 1 : 0);
}

static bool name_eq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        if (lower(a[i]) != lower(b[i]))
            return false;
    }
    return true;
}

/*
 * Appends "name:value\n" for one signed header. Like the SDKs, a header that
 * occurs more than once contributes its trimmed values sorted and joined by
 * ','; one that is absent contributes an empty value (and so a mismatch).
 */
static int canonical_header(struct oa_buf *out, const char *name, size_t nlen,
                            const struct api_header *headers, size_t nheaders)
{
    struct hval *vals = oa_malloc((nheaders ? nheaders : 1) * sizeof(*vals));
    size_t nv = 0;
    int r = 0;

    for (size_t i = 0; i < nheaders; i++) {
        if (!name_eq(name, nlen, headers[i].name))
            continue;
        const char *s = headers[i].value ? headers[i].value : "";
        size_t n = strlen(s);
        while (n && is_trim_space((unsigned char)s[0])) {
            s++;
            n--;
        }
        while (n && is_trim_space((unsigned char)s[n - 1]))
            n--;
        vals[nv].s = s;
        vals[nv].n = n;
        nv++;
    }
    if (nv > 1)
        qsort(vals, nv, sizeof(*vals), cmp_hval);
    for (size_t i = 0; i < nlen && r == 0; i++)
        r = oa_buf_append_u8(out, (uint8_t)lower(name[i]));
    if (r == 0)
        r = oa_buf_append_u8(out, ':');
    for (size_t i = 0; i < nv && r == 0; i++) {
        if (i)
            r = oa_buf_append_u8(out, ',');
        if (r == 0)
            r = oa_buf_append(out, vals[i].s, vals[i].n);
    }
    if (r == 0)
        r = oa_buf_append_u8(out, '\n');
    oa_free(vals);
    return r;
}

int api_sign_v3_canonical(struct oa_buf *out, const char *method, const char *path,
                          const struct api_param *query, size_t nquery,
                          const struct api_header *headers, size_t nheaders,
                          const char *signed_headers, const char *payload_hash)
{
    int r = oa_buf_printf(out, "%s\n%s\n", method, path);
    if (r == 0)
        r = canonical_query(out, query, nquery, NULL, false);
    if (r == 0)
        r = oa_buf_append_u8(out, '\n');

    const char *p = signed_headers;
    while (r == 0 && *p) {
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        if (n == 0)
            return OA_EINVAL;
        r = canonical_header(out, p, n, headers, nheaders);
        p += n;
        if (*p == ';') {
            p++;
            if (*p == '\0')
                return OA_EINVAL;
        }
    }
    if (r == 0)
        r = oa_buf_append_u8(out, '\n');
    for (p = signed_headers; r == 0 && *p; p++)
        r = oa_buf_append_u8(out, (uint8_t)lower(*p));
    if (r == 0)
        r = oa_buf_printf(out, "\n%s", payload_hash);
    return r;
}

static void hex_lower(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX_LOWER[p[i] >> 4];
        out[2 * i + 1] = HEX_LOWER[p[i] & 0x0F];
    }
    out[2 * n] = '\0';
}

void api_sha256_hex(const void *p, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    OA_ASSERT(EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) == 1);
    OA_ASSERT(mdlen == 32);
    hex_lower(md, mdlen, out);
}

int api_sign_v3_string(struct oa_buf *sts, const char *canonical, size_t len)
{
    char hex[65];

    api_sha256_hex(canonical, len, hex);
    int r = oa_buf_append_str(sts, "ACS3-HMAC-SHA256\n");
    if (r == 0)
        r = oa_buf_append(sts, hex, 64);
    return r;
}

void api_sign_v3(const char *secret, const char *sts, size_t sts_len, char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    OA_ASSERT(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)sts, sts_len,
                   mac, &maclen) != NULL);
    OA_ASSERT(maclen == 32);
    hex_lower(mac, maclen, out);
}
