/*
 * config.c - the settings table and its parsers. Each row names a key, where
 * it lives in struct oa_config, its default and its range; defaults, file
 * parsing, command-line overrides and `--help-config` all walk this table.
 */
#include "config.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>

struct oa_config oa_cfg;

enum kind { K_STR, K_INT };

struct setting {
    const char *key;
    enum kind kind;
    size_t offset;
    size_t size; /* string capacity */
    const char *def;
    long long min, max;
    const char *help;
};

#define S(k, def, help)                                                                            \
    {                                                                                              \
#k, K_STR, offsetof(struct oa_config, k), sizeof(((struct oa_config *)0)->k), def, 0, 0,   \
            help                                                                                   \
    }
#define I(k, def, lo, hi, help)                                                                    \
    {                                                                                              \
#k, K_INT, offsetof(struct oa_config, k), 0, #def, lo, hi, help                            \
    }

/* One row per setting; kept one line each so the table reads as a table. */
/* clang-format off */
static const struct setting settings[] = {
    S(rtmp_listen, "0.0.0.0:1935", "RTMP listener address:port"),
    S(http_listen, "0.0.0.0:8080", "HTTP listener (API, HTTP-FLV, HLS, recordings)"),
    S(data_dir, "./data", "directory for the SQLite state, key file and local object storage"),
    S(domain, "live.onair.local", "default domain: owns pushes/plays whose host matches no domain"),
    S(access_key, "", "ID:SECRET of the default account (created if missing)"),
    S(public_host, "", "host put in URLs the API returns (default: the API request's Host)"),
    S(log_level, "info", "error, warn, info or debug"),
    I(rtmp_chunk_size, 4096, 128, 65536, "outgoing RTMP chunk size"),
    I(rtmp_max_message, 8388608, 65536, 16777215, "largest RTMP message accepted (bytes); a bigger one closes its connection"),
    I(rtmp_partial_max_bytes, 268435456, 65536, 2147483647, "bytes of incomplete RTMP messages all connections may hold together"),
    I(rtmp_ack_window, 2500000, 4096, 100000000, "acknowledgement window announced to peers"),
    I(rtmp_handshake_timeout_ms, 10000, 100, 600000, "time allowed to finish handshake and connect"),
    I(rtmp_idle_timeout_ms, 30000, 1000, 3600000, "a publisher sending nothing this long is closed"),
    I(max_connections, 20000, 1, 1000000, "RTMP connections, HTTP-FLV players and held HLS requests at once"),
    I(gop_cache, 1, 0, 1, "keep the current GOP so new players start at once"),
    I(gop_cache_max_ms, 15000, 0, 600000, "longest GOP kept (longer GOPs are not cached)"),
    I(gop_cache_max_bytes, 33554432, 0, 1073741824, "largest GOP kept in bytes"),
    I(player_queue_max_ms, 3000, 100, 600000, "media a player may lag before it skips to a keyframe"),
    I(player_queue_max_bytes, 8388608, 65536, 1073741824, "bytes a player may have queued"),
    I(player_stall_timeout_ms, 10000, 500, 600000, "a player whose socket takes nothing this long is closed"),
    I(player_max_skips, 5, 1, 1000, "keyframe skips within a minute before a player is closed"),
    I(flush_ms, 0, 0, 1000, "batch writes to players for this long (0: once per loop turn)"),
    I(audio_flush_ms, 50, 0, 1000, "audio may wait this long for the next video frame (0: never)"),
    I(hls_segment_ms, 2000, 500, 60000, "target HLS segment duration (cut on the next keyframe)"),
    I(hls_window, 6, 2, 100, "HLS segments in the live playlist"),
    I(hls_idle_ms, 60000, 1000, 3600000, "an unpublished stream's HLS is kept this long"),
    I(http_timeout_ms, 60000, 100, 3600000, "an HTTP connection sending nothing this long is closed (not while a reply streams)"),
    I(api_max_body, 1048576, 1024, 67108864, "largest API request body (bytes)"),
    I(api_time_window_s, 900, 1, 86400, "allowed clock skew of signed requests (seconds)"),
    I(api_nonce_max, 200000, 1, 100000000, "SignatureNonce values remembered per account at most"),
    I(shutdown_drain_ms, 2000, 0, 600000, "at shutdown, what is queued for players may take this long to go out"),
    I(worker_threads, 2, 1, 64, "threads for blocking work (checkpoints, file finishing)"),
    I(record_threads, 2, 1, 64, "recorder writer threads"),
    I(record_queue_ms, 60000, 1000, 3600000, "media a recording may queue before it reports falling behind"),
    I(record_queue_bytes, 67108864, 1048576, 1073741824, "bytes one recording may queue"),
    I(record_thread_queue_bytes, 536870912, 1048576, 2147483647, "bytes all recordings of one writer thread may queue"),
    I(record_fault_write_delay_ms, 0, 0, 10000, "testing: delay each recorded packet's write (a slow disk)"),
    I(record_fsync_ms, 2000, 0, 600000, "recordings are fsync'ed this often (0: only when finished)"),
    S(record_fault_abort, "", "testing: SIGKILL the process at this recording step (point[:n], docs/api.md)"),
    I(studio_black_after_ms, 3000, 100, 600000, "a stalled studio input holds its last frame this long, then shows black"),
    I(studio_x264_threads, 0, 0, 64, "x264 threads per studio scene (0: automatic)"),
    S(studio_x264_preset, "veryfast", "x264 preset for studio scenes"),
};
/* clang-format on */

static int apply(struct oa_config *c, const struct setting *s, const char *value, char *err,
                 size_t errlen)
{
    char *field = (char *)c + s->offset;
    if (s->kind == K_STR) {
        if (strlen(value) >= s->size) {
            oa_snprintf(err, errlen, "%s: value too long", s->key);
            return -1;
        }
        oa_strlcpy(field, value, s->size);
        return 0;
    }
    long long v;
    if (oa_parse_int(value, s->min, s->max, &v) != 0) {
        oa_snprintf(err, errlen, "%s: expected an integer from %lld to %lld, got \"%s\"", s->key,
                    s->min, s->max, value);
        return -1;
    }
    *(int *)field = (int)v;
    return 0;
}

void oa_config_defaults(struct oa_config *c)
{
    char err[256];
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < OA_ARRAY_SIZE(settings); i++) {
        int r = apply(c, &settings[i], settings[i].def, err, sizeof(err));
        OA_ASSERT(r == 0);
    }
}

int oa_config_set(struct oa_config *c, const char *key, const char *value, char *err, size_t errlen)
{
    for (size_t i = 0; i < OA_ARRAY_SIZE(settings); i++) {
        if (strcmp(settings[i].key, key) == 0)
            return apply(c, &settings[i], value, err, errlen);
    }
    oa_snprintf(err, errlen, "unknown setting \"%s\"", key);
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int oa_config_load_file(struct oa_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[2048], why[512];
    int lineno = 0, rc = 0;

    if (!f) {
        oa_snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            oa_snprintf(err, errlen, "%s:%d: expected \"key = value\"", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = '\0';
            value++;
        }
        if (oa_config_set(c, key, value, why, sizeof(why)) != 0) {
            oa_snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

void oa_config_print_help(FILE *out)
{
    for (size_t i = 0; i < OA_ARRAY_SIZE(settings); i++) {
        const struct setting *s = &settings[i];
        fprintf(out, "%-28s default %-18s %s\n", s->key, *s->def ? s->def : "\"\"", s->help);
    }
}
