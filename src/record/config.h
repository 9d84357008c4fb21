/*
 * config.h (record) - recording configs ("templates") and recording
 * callback configs, in SQLite.
 *
 * A record config is keyed by (DomainName, AppName, StreamName); AppName
 * "*" matches every app and an empty StreamName makes an app-level config.
 * For a stream, the effective config is the best match by this rank:
 *
 *     stream-level, exact app   >  stream-level, app "*"
 *   > app-level, exact app      >  app-level, app "*"
 *
 * Callback configs (AddLiveRecordNotifyConfig) are one per domain.
 * Everything here runs on the event-loop thread (the one SQLite connection).
 */
#ifndef OA_RECORD_CONFIG_H
#define OA_RECORD_CONFIG_H

#include "core/common.h"
#include "record/tmpl.h"

enum rec_fmt {
    REC_FLV,
    REC_MP4,
    REC_M3U8,
    REC_NFMT,
};

#define REC_DEFAULT_CYCLE_S 21600
#define REC_DEFAULT_SLICE_S 30
#define REC_DEFAULT_DELAY_S 180

struct rec_format {
    enum rec_fmt fmt;
    char object_prefix[REC_TMPL_MAX];
    char slice_prefix[REC_TMPL_MAX]; /* m3u8 only */
    int cycle_s;
    int slice_s; /* m3u8 only */
};

struct rec_config {
    int64_t id;
    int64_t account_id;
    char domain[256], app[256], stream[256];
    char endpoint[256], bucket[64];
    int on_demand; /* 0 always, 1 ask OnDemandUrl, 2 publish URL, 7 command only */
    int delay_s;
    int64_t start_time, end_time; /* Unix seconds, 0 = unset */
    int64_t created;
    struct rec_format formats[REC_NFMT];
    int nformats;
    /* Stored and echoed as the API received them (transcoded streams are not recorded). */
    char transcode_formats[4096];   /* JSON array */
    char transcode_templates[1024]; /* JSON array of strings */
};

/* "flv", "mp4", "m3u8"; and back (-1 if unknown). */
const char *rec_fmt_name(enum rec_fmt f);
int rec_fmt_parse(const char *s);

/* Creates the tables (module "record"); called by recorder_init. */
int rec_store_migrate(void);

/* 0, OA_EEXIST (same triple) or OA_EDB. Sets c->id and c->created. */
int rec_config_add(struct rec_config *c);
/* Replaces the stored fields of the config with c's triple; OA_ENOTFOUND. */
int rec_config_update(const struct rec_config *c);
/* Exact triple; 0, OA_ENOTFOUND or OA_EDB. */
int rec_config_get(const char *domain, const char *app, const char *stream, struct rec_config *out);
int rec_config_delete(const char *domain, const char *app, const char *stream);
/* Deletes every record config and the callback config of a domain (DeleteLiveDomain). */
int rec_configs_delete_domain(const char *domain);

/*
 * Configs of a domain filtered by app and stream (NULL = any), ordered by
 * creation (desc when `desc`), page `offset`/`limit`; fn is called for each
 * and *total is the count before paging.
 */
int rec_config_list(const char *domain, const char *app, const char *stream, bool desc, int offset,
                    int limit, void (*fn)(const struct rec_config *c, void *arg), void *arg,
                    int *total);

/* Rank of a config (cfg_app, cfg_stream) for a stream; -1 if it does not apply. */
int rec_config_rank(const char *cfg_app, const char *cfg_stream, const char *app,
                    const char *stream);
/* The effective config of a stream; 0, OA_ENOTFOUND or OA_EDB. */
int rec_config_match(const char *domain, const char *app, const char *stream,
                     struct rec_config *out);

struct rec_notify_config {
    char domain[256];
    int64_t account_id;
    char notify_url[1024];
    char on_demand_url[1024];
    bool need_status_notify;
    bool notify_req_auth;
    char auth_key[256];
};

/* insert: 0 or OA_EEXIST; update: 0 or OA_ENOTFOUND. */
int rec_notify_config_put(const struct rec_notify_config *c, bool insert);
int rec_notify_config_get(const char *domain, struct rec_notify_config *out);
int rec_notify_config_delete(const char *domain);

#endif
