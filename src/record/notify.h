/*
 * notify.h - recording callbacks (AddLiveRecordNotifyConfig) and the
 * OnDemandUrl question, over the asynchronous HTTP client.
 *
 * Events go to the domain's NotifyUrl as POST with a JSON body, 5 s timeout,
 * 5 retries 1 s apart, signed with ALI-LIVE-TIMESTAMP / ALI-LIVE-SIGNATURE
 * when NotifyReqAuth is on:
 *   file_created   {"domain","app","stream","uri","duration","start_time",
 *                   "stop_time","push_args":{callback_*...}}   (always)
 *   record_started / record_paused / record_resumed / record_error
 *                  {"domain","app","stream","event"[,"description"]}
 *                  (only with NeedStatusNotify)
 * Each event is a row of record_notify_records (DescribeLiveRecordNotifyRecords)
 * from the moment it is queued: "pending", then "success" or "failed". Rows
 * still pending at shutdown are sent again at the next start, so a file made
 * just before SIGTERM (or repaired after a crash) is still announced.
 * Nothing here blocks: the media path only queues.
 *
 * Loop thread only.
 */
#ifndef OA_RECORD_NOTIFY_H
#define OA_RECORD_NOTIFY_H

#include "core/common.h"
#include "record/config.h"
#include "record/index.h"

/* Resends pending rows. Call after http_client_init(). */
int rec_notify_init(void);
/* Stops sending: requests in flight stay pending for the next start. */
void rec_notify_stop(void);

/* A status event ("record_started"...); sent only with NeedStatusNotify. */
void rec_notify_status(int64_t account_id, const char *domain, const char *app, const char *stream,
                       const char *event, const char *description);
/* The file-generated callback for a finished file (f->state "done"). */
void rec_notify_file(const struct rec_file *f);

struct rec_notify_record {
    char domain[256], app[256], stream[256];
    char type[32];
    char url[1024];
    char content[4096];
    char header[512];
    char response[1024];
    char result[16]; /* success | failed | pending */
    char description[256];
    int64_t notify_ms;
};

/*
 * Records of a domain with notify time in [start_ms, end_ms], newest first,
 * filtered by app/stream/result (NULL = any), paged; *total before paging.
 */
int rec_notify_records_list(const char *domain, const char *app, const char *stream,
                            const char *result, int64_t start_ms, int64_t end_ms, int offset,
                            int limit, void (*fn)(const struct rec_notify_record *n, void *arg),
                            void *arg, int *total);

/* What an OnDemandUrl answered (OnDemand=1). */
struct rec_ondemand_reply {
    bool ok; /* a 2xx answer with a parsable body arrived (after the retries) */
    bool need_record;
    int interval_s[REC_NFMT]; /* 0 = not given */
    bool formats_given;
    bool format[REC_NFMT];
};

typedef void rec_ondemand_fn(void *arg, const struct rec_ondemand_reply *reply);
struct rec_ondemand;

/*
 * Asks the domain's OnDemandUrl whether to record:
 * GET <OnDemandUrl>?app=&domain=&stream=&vbitrate=&codec= (same timeout,
 * retries and signature as callbacks). Returns a handle valid until fn has
 * run or rec_ondemand_cancel(), or NULL when the domain has no OnDemandUrl
 * or the request cannot start (fn never runs then).
 */
struct rec_ondemand *rec_notify_ondemand(const char *domain, const char *app, const char *stream,
                                         int vbitrate_kbps, const char *codec, rec_ondemand_fn *fn,
                                         void *arg);
void rec_ondemand_cancel(struct rec_ondemand *od);

/* Parses an OnDemandUrl reply body (pure; for tests). */
void rec_ondemand_parse(const uint8_t *body, size_t len, struct rec_ondemand_reply *out);

/* md5("<host>|<ts>|<key>") as lowercase hex (out: 33 bytes). */
void rec_notify_signature(const char *host, int64_t ts, const char *key, char out[33]);

#endif
