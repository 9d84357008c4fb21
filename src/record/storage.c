/*
 * storage.c - the object-store interface and its local-disk backend: files
 * under <data_dir>/oss, URLs of this server, and the HTTP handler that
 * serves them with Range support through evbuffer_add_file (sendfile from
 * the page cache).
 */
#include "storage.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "http/server.h"
#include "store/bucket.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[1100];
static const struct storage_ops *backend;

struct storage_writer {
    int fd;
    char path[2200];
};

bool storage_bucket_valid(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!islower((unsigned char)b[i]) && !isdigit((unsigned char)b[i]) && b[i] != '-')
            return false;
    }
    return true;
}

bool storage_object_valid(const char *o)
{
    size_t n = strlen(o);
    if (n == 0 || n > 1023 || o[0] == '/' || o[n - 1] == '/')
        return false;
    const char *seg = o;
    for (size_t i = 0; i <= n; i++) {
        if (o[i] == '/' || o[i] == '\0') {
            size_t len = (size_t)(o + i - seg);
            if (len == 0 || (len == 1 && seg[0] == '.') ||
                (len == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;
            seg = o + i + 1;
        } else if ((unsigned char)o[i] < 0x20 || o[i] == '\\' || o[i] == 0x7f) {
            return false;
        }
    }
    return true;
}

static int object_path(const char *bucket, const char *object, char *out, size_t outlen)
{
    if (!storage_bucket_valid(bucket) || !storage_object_valid(object))
        return OA_EINVAL;
    return oa_snprintf(out, outlen, "%s/%s/%s", root, bucket, object) ? OA_ETOOBIG : 0;
}

/* mkdir -p for the directories above path. */
static int make_parents(const char *path)
{
    char dir[2200];
    oa_strlcpy(dir, path, sizeof(dir));
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    return oa_mkdirs(dir, 0755);
}

static int local_open_flags(const char *bucket, const char *object, int flags, uint64_t keep,
                            struct storage_writer **out)
{
    struct storage_writer *w = oa_calloc(1, sizeof(*w));
    int r = object_path(bucket, object, w->path, sizeof(w->path));
    if (!r)
        r = make_parents(w->path);
    if (r) {
        oa_free(w);
        return r;
    }
    w->fd = open(w->path, flags | O_WRONLY | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        r = -errno;
        oa_free(w);
        return r;
    }
    if (flags & O_APPEND) {
        if (ftruncate(w->fd, (off_t)keep) != 0) {
            r = -errno;
            close(w->fd);
            oa_free(w);
            return r;
        }
    }
    *out = w;
    return 0;
}

static int local_open(const char *bucket, const char *object, struct storage_writer **out)
{
    return local_open_flags(bucket, object, O_CREAT | O_TRUNC, 0, out);
}

static int local_reopen(const char *bucket, const char *object, uint64_t keep,
                        struct storage_writer **out)
{
    return local_open_flags(bucket, object, O_APPEND, keep, out);
}

static int local_write(struct storage_writer *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = write(w->fd, b, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static int local_sync(struct storage_writer *w)
{
    return fdatasync(w->fd) == 0 ? 0 : -errno;
}

static int local_finish(struct storage_writer *w)
{
    int r = fsync(w->fd) == 0 ? 0 : -errno;
    if (close(w->fd) != 0 && !r)
        r = -errno;
    oa_free(w);
    return r;
}

static int local_put(const char *bucket, const char *object, const void *p, size_t n)
{
    char path[2200], tmp[2300];
    int r = object_path(bucket, object, path, sizeof(path));
    if (!r)
        r = make_parents(path);
    if (r)
        return r;
    oa_snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)gettid());
    int fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    struct storage_writer w = {fd, ""};
    r = local_write(&w, p, n);
    if (!r && fsync(fd) != 0)
        r = -errno;
    close(fd);
    if (!r && rename(tmp, path) != 0)
        r = -errno;
    if (r)
        unlink(tmp);
    return r;
}

static int local_get(const char *bucket, const char *object, size_t max, uint8_t **out, size_t *len)
{
    char path[2200];
    int r = object_path(bucket, object, path, sizeof(path));
    if (r)
        return r;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? OA_ENOTFOUND : -errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size > max) {
        close(fd);
        return OA_ETOOBIG;
    }
    uint8_t *b = oa_malloc((size_t)st.st_size + 1);
    ssize_t k = read(fd, b, (size_t)st.st_size);
    close(fd);
    if (k != st.st_size) {
        oa_free(b);
        return OA_EINVAL;
    }
    b[k] = 0;
    *out = b;
    *len = (size_t)k;
    return 0;
}

static int local_remove(const char *bucket, const char *object)
{
    char path[2200];
    int r = object_path(bucket, object, path, sizeof(path));
    if (r)
        return r;
    if (unlink(path) != 0)
        return errno == ENOENT ? OA_ENOTFOUND : -errno;
    return 0;
}

static int local_size(const char *bucket, const char *object, uint64_t *size)
{
    char path[2200];
    struct stat st;
    int r = object_path(bucket, object, path, sizeof(path));
    if (r)
        return r;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return OA_ENOTFOUND;
    *size = (uint64_t)st.st_size;
    return 0;
}

static int local_read(const char *bucket, const char *object, uint64_t offset, void *buf, size_t n,
                      size_t *got)
{
    char path[2200];
    int r = object_path(bucket, object, path, sizeof(path));
    if (r)
        return r;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? OA_ENOTFOUND : -errno;
    size_t done = 0;
    while (done < n) {
        ssize_t k = pread(fd, (uint8_t *)buf + done, n - done, (off_t)(offset + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            r = -errno;
            break;
        }
        if (k == 0)
            break;
        done += (size_t)k;
    }
    close(fd);
    *got = done;
    return r;
}

static int local_rename(const char *bucket, const char *from, const char *to)
{
    char a[2200], b[2200];
    int r = object_path(bucket, from, a, sizeof(a));
    if (!r)
        r = object_path(bucket, to, b, sizeof(b));
    if (!r)
        r = make_parents(b);
    if (r)
        return r;
    /* NOREPLACE: a finished recording is never overwritten by another one. */
    if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST)
            return OA_EEXIST;
        return errno == ENOENT ? OA_ENOTFOUND : -errno;
    }
    return 0;
}

/* In-flight put() temporaries ("<object>.tmp<tid>") are not objects. */
static bool is_put_temp(const char *name)
{
    const char *t = strstr(name, ".tmp");
    if (!t)
        return false;
    for (t += 4; *t; t++) {
        if (!isdigit((unsigned char)*t))
            return false;
    }
    return true;
}

struct list_ctx {
    const char *prefix;
    bool (*fn)(const char *object, uint64_t size, void *arg);
    void *arg;
    bool stop;
};

/* Walks dir (path of bucket-relative `rel`, "" for the bucket root) depth first. */
static int list_dir(const char *bucket_root, const char *rel, struct list_ctx *c, int depth)
{
    char path[2200];
    if (depth > 64)
        return 0;
    oa_snprintf(path, sizeof(path), "%s%s%s", bucket_root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    struct dirent *e;
    int r = 0;
    while (!c->stop && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char name[1100], full[2200];
        if (oa_snprintf(name, sizeof(name), "%s%s%s", rel, *rel ? "/" : "", e->d_name))
            continue;
        /* Prune directories that cannot hold a match. */
        size_t nl = strlen(name), pl = strlen(c->prefix);
        if (strncmp(name, c->prefix, OA_MIN(nl, pl)) != 0)
            continue;
        oa_snprintf(full, sizeof(full), "%s/%s", bucket_root, name);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            r = list_dir(bucket_root, name, c, depth + 1);
            if (r)
                break;
        } else if (S_ISREG(st.st_mode) && nl >= pl && !is_put_temp(name)) {
            if (!c->fn(name, (uint64_t)st.st_size, c->arg))
                c->stop = true;
        }
    }
    closedir(d);
    return r;
}

static int local_list(const char *bucket, const char *prefix,
                      bool (*fn)(const char *object, uint64_t size, void *arg), void *arg)
{
    char broot[1200];
    if (!storage_bucket_valid(bucket))
        return OA_EINVAL;
    oa_snprintf(broot, sizeof(broot), "%s/%s", root, bucket);
    struct list_ctx c = {prefix, fn, arg, false};
    return list_dir(broot, "", &c, 0);
}

static int local_local_path(const char *bucket, const char *object, char *out, size_t outlen)
{
    return object_path(bucket, object, out, outlen);
}

static int local_url(const char *host, const char *bucket, const char *object, char *out,
                     size_t outlen);
static void local_http_init(void);

static const struct storage_ops local_ops = {
    .open = local_open,
    .reopen = local_reopen,
    .write = local_write,
    .sync = local_sync,
    .finish = local_finish,
    .put = local_put,
    .get = local_get,
    .remove = local_remove,
    .size = local_size,
    .read = local_read,
    .rename = local_rename,
    .list = local_list,
    .local_path = local_local_path,
    .url = local_url,
    .http_init = local_http_init,
};

int storage_init_local(const char *data_dir)
{
    if (oa_snprintf(root, sizeof(root), "%s/oss", data_dir))
        return OA_ETOOBIG;
    if (mkdir(root, 0755) != 0 && errno != EEXIST)
        return -errno;
    backend = &local_ops;
    return 0;
}

const struct storage_ops *storage(void)
{
    return backend;
}

static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/';
}

/* http://<host>/oss/~<token>/<bucket>/<object>: served by this server (local_http_init). */
static int local_url(const char *host, const char *bucket, const char *object, char *out,
                     size_t outlen)
{
    size_t o = 0;
    char token[BUCKET_TOKEN_LEN + 1];
    if (bucket_url_token(bucket, token) != 0)
        return OA_EINVAL;
    int r = oa_snprintf(out, outlen, "http://%s/oss/~%s/%s/", host, token, bucket);
    if (r)
        return OA_ETOOBIG;
    o = strlen(out);
    for (const unsigned char *p = (const unsigned char *)object; *p; p++) {
        if (o + 4 > outlen)
            return OA_ETOOBIG;
        if (unreserved(*p)) {
            out[o++] = (char)*p;
        } else {
            static const char hx[] = "0123456789ABCDEF";
            out[o++] = '%';
            out[o++] = hx[*p >> 4];
            out[o++] = hx[*p & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

int storage_url(const char *host, const char *bucket, const char *object, char *out, size_t outlen)
{
    return backend->url(host, bucket, object, out, outlen);
}

int storage_ref(const char *from, const char *to, char *out, size_t outlen)
{
    /* Skip the directories both share, then climb out of the rest of from's. */
    size_t common = 0;
    for (size_t i = 0; from[i] && to[i] && from[i] == to[i]; i++) {
        if (from[i] == '/')
            common = i + 1;
    }
    size_t o = 0;
    for (const char *p = from + common; *p; p++) {
        if (*p == '/') {
            if (o + 3 >= outlen)
                return OA_ETOOBIG;
            memcpy(out + o, "../", 3);
            o += 3;
        }
    }
    size_t n = strlen(to + common);
    if (o + n + 1 > outlen)
        return OA_ETOOBIG;
    memcpy(out + o, to + common, n + 1);
    return 0;
}

/* ===== HTTP ===== */

static const char *content_type(const char *object)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".m3u8", "application/vnd.apple.mpegurl"},
        {".ts", "video/mp2t"},
        {".flv", "video/x-flv"},
        {".mp4", "video/mp4"},
        {".m4s", "video/iso.segment"},
        {".jpg", "image/jpeg"},
        {".png", "image/png"},
    };
    for (size_t i = 0; i < OA_ARRAY_SIZE(types); i++) {
        if (oa_str_has_suffix(object, types[i].ext))
            return types[i].type;
    }
    return "application/octet-stream";
}

/* Parses a single "bytes=a-b" range against size; 0 ok, 1 none, -1 unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *end)
{
    if (!h)
        return 1;
    if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 1; /* other units or multiple ranges: send the whole object */
    const char *p = h + 6, *dash = strchr(p, '-');
    if (!dash)
        return 1;
    char a[32] = "", b[32] = "";
    size_t la = (size_t)(dash - p);
    if (la >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
        return -1;
    memcpy(a, p, la);
    oa_strlcpy(b, dash + 1, sizeof(b));
    long long va, vb;
    if (!*a) {
        if (oa_parse_int(b, 1, INT64_MAX, &vb) || size == 0)
            return -1;
        *start = (uint64_t)vb >= size ? 0 : size - (uint64_t)vb;
        *end = size - 1;
        return 0;
    }
    if (oa_parse_int(a, 0, INT64_MAX, &va) || (uint64_t)va >= size)
        return -1;
    *start = (uint64_t)va;
    if (!*b) {
        *end = size - 1;
    } else {
        if (oa_parse_int(b, 0, INT64_MAX, &vb) || vb < va)
            return -1;
        *end = OA_MIN((uint64_t)vb, size - 1);
    }
    return 0;
}

static void serve(struct evhttp_request *req, void *arg)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        http_send_error(req, 405, "Method Not Allowed");
        return;
    }
    const char *raw = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    char *path = evhttp_uridecode(raw, 0, NULL);
    char bucket[64], file[2200], token[BUCKET_TOKEN_LEN + 2] = "";
    const char *rest = path ? path + 5 : NULL; /* after "/oss/" */
    if (rest && rest[0] == '~') {
        /* /oss/~<token>/<bucket>/<object>: the bucket's URL token (bucket.h) */
        size_t n = strcspn(rest + 1, "/");
        if (n < sizeof(token) && rest[1 + n] == '/') {
            memcpy(token, rest + 1, n);
            token[n] = '\0';
            rest += 2 + n;
        } else {
            rest = NULL;
        }
    }
    const char *slash = rest ? strchr(rest, '/') : NULL;
    if (!slash || (size_t)(slash - rest) >= sizeof(bucket)) {
        free(path);
        http_send_error(req, 404, "Not Found");
        return;
    }
    memcpy(bucket, rest, (size_t)(slash - rest));
    bucket[slash - rest] = '\0';
    const char *object = slash + 1;
    /* An owned bucket opens with its token only; an unowned one holds the operator's files. */
    int64_t owner;
    int orc = bucket_owner(bucket, &owner);
    if (orc == OA_EDB || (token[0] && !bucket_url_token_ok(bucket, token)) ||
        (orc == 0 && !token[0])) {
        oa_log(OA_LOG_WARN, "oss %s %.200s: refused: %s", http_client_ip(req), raw,
               orc == OA_EDB ? "database error" : "URL token missing or wrong");
        free(path);
        http_send_error(req, 403, "Forbidden");
        return;
    }
    struct stat st;
    int fd = -1;
    if (object_path(bucket, object, file, sizeof(file)) != 0 ||
        (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0 ||
        !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        free(path);
        http_send_error(req, 404, "Not Found");
        return;
    }
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", content_type(object));
    evhttp_add_header(out, "Accept-Ranges", "bytes");
    evhttp_add_header(out, "Access-Control-Allow-Origin", "*");
    free(path);
    uint64_t size = (uint64_t)st.st_size, start = 0, end = size ? size - 1 : 0;
    int rr = parse_range(evhttp_find_header(evhttp_request_get_input_headers(req), "Range"), size,
                         &start, &end);
    if (rr < 0) {
        char cr[64];
        oa_snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
        evhttp_add_header(out, "Content-Range", cr);
        close(fd);
        http_send_error(req, 416, "Range Not Satisfiable");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (size > 0 && cmd == EVHTTP_REQ_GET) {
        /* evbuffer takes the fd and closes it when the bytes are sent. */
        evbuffer_add_file(b, fd, (ev_off_t)start, (ev_off_t)(end - start + 1));
        fd = -1;
    }
    if (fd >= 0)
        close(fd);
    if (rr == 0) {
        char cr[96];
        oa_snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)start,
                    (unsigned long long)end, (unsigned long long)size);
        evhttp_add_header(out, "Content-Range", cr);
        evhttp_send_reply(req, 206, "Partial Content", b);
    } else {
        evhttp_send_reply(req, 200, "OK", b);
    }
    evbuffer_free(b);
}

static void local_http_init(void)
{
    http_server_route(HTTP_ROUTE_STORAGE, serve, NULL);
}

void storage_http_init(void)
{
    if (backend && backend->http_init)
        backend->http_init();
}
