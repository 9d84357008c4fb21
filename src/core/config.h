/*
 * config.h - every setting, its type and its default, in one table.
 *
 * Settings come from the embedded defaults, then the config file
 * (--config FILE, "key = value" lines, '#' comments), then the command line.
 * The table in config.c is the only list; `onair --help-config` prints it and
 * README.md documents it. Read-only after startup: threads may read it freely.
 */
#ifndef OA_CORE_CONFIG_H
#define OA_CORE_CONFIG_H

#include "common.h"

struct oa_config {
    /* listeners and storage */
    char rtmp_listen[128];
    char http_listen[128];
    char data_dir[1024];
    char domain[256];
    char access_key[256]; /* "ID:SECRET" or empty */
    char public_host[256];
    char log_level[16];
    /* RTMP */
    int rtmp_chunk_size;
    int rtmp_max_message;
    int rtmp_partial_max_bytes;
    int rtmp_ack_window;
    int rtmp_handshake_timeout_ms;
    int rtmp_idle_timeout_ms;
    int max_connections;
    /* fan-out */
    int gop_cache;
    int gop_cache_max_ms;
    int gop_cache_max_bytes;
    int player_queue_max_ms;
    int player_queue_max_bytes;
    int player_stall_timeout_ms;
    int player_max_skips;
    int flush_ms;
    int audio_flush_ms;
    /* HLS */
    int hls_segment_ms;
    int hls_window;
    int hls_idle_ms;
    /* HTTP */
    int http_timeout_ms;
    /* API */
    int api_max_body;
    int api_time_window_s;
    int api_nonce_max;
    int shutdown_drain_ms;
    /* threads */
    int worker_threads;
    int record_threads;
    int record_queue_ms;
    int record_queue_bytes;
    int record_thread_queue_bytes;
    int record_fault_write_delay_ms;
    int record_fsync_ms;
    char record_fault_abort[64];
    /* studio */
    int studio_black_after_ms;
    int studio_x264_threads;
    char studio_x264_preset[32];
};

extern struct oa_config oa_cfg;

/* Fills oa_cfg with the embedded defaults. */
void oa_config_defaults(struct oa_config *c);
/* Applies key=value; returns 0, or -1 with a message in err. */
int oa_config_set(struct oa_config *c, const char *key, const char *value, char *err,
                  size_t errlen);
/* Reads a config file; returns 0, or -1 with "file:line: why" in err. */
int oa_config_load_file(struct oa_config *c, const char *path, char *err, size_t errlen);
/* Prints every key with its default and meaning. */
void oa_config_print_help(FILE *out);

#endif
