/*
 * app.c - the order in which modules start and stop, the default account and
 * domain, the startup banner and the signal handling (first SIGTERM/SIGINT:
 * graceful stop; a second one: immediate exit).
 */
#include "app.h"
#include "api/api.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "core/worker.h"
#include "http/flv.h"
#include "http/server.h"
#include "hls/hls.h"
#include "hub/hub.h"
#include "hub/outq.h"
#include "record/recorder.h"
#include "record/storage.h"
#include "rtmp/server.h"
#include "store/account.h"
#include "store/db.h"
#include "store/domain.h"
#include "store/streams.h"
#include "studio/caster.h"

#include <event2/event.h>
#include <signal.h>
#include <unistd.h>

static struct {
    struct event *sigterm, *sigint;
    bool state_open;
    bool started;
    char key_id[ACCOUNT_KEY_ID_MAX + 1];
    char secret[ACCOUNT_SECRET_MAX + 1];
    bool show_secret;
} A;

int app_open_state(void)
{
    if (A.state_open)
        return 0;
    int r = oa_mkdirs(oa_cfg.data_dir, 0755);
    if (r) {
        oa_log(OA_LOG_ERROR, "cannot create data dir %s: %s", oa_cfg.data_dir, oa_strerror(r));
        return r;
    }
    if (db_open(oa_cfg.data_dir) || account_open_keyfile(oa_cfg.data_dir))
        return OA_EDB;
    A.state_open = true;
    return 0;
}

void app_close_state(void)
{
    if (A.state_open)
        db_close();
    A.state_open = false;
}

/* The default account owns the default domain; see README "Accounts". */
static int ensure_default_account(void)
{
    struct domain d;
    int64_t account_id = 0;
    bool created = false;

    if (oa_cfg.access_key[0]) {
        char *colon = strchr(oa_cfg.access_key, ':');
        if (!colon || colon == oa_cfg.access_key || !colon[1]) {
            oa_log(OA_LOG_ERROR, "--access-key must be ID:SECRET");
            return OA_EINVAL;
        }
        *colon = '\0';
        oa_strlcpy(A.key_id, oa_cfg.access_key, sizeof(A.key_id));
        int r = account_ensure_key(oa_cfg.access_key, colon + 1, &account_id, &created);
        *colon = ':';
        if (r)
            return r;
    }
    int r = domain_get(oa_cfg.domain, &d);
    if (r == OA_ENOTFOUND) {
        if (!account_id) {
            int64_t n = account_count();
            if (n > 0) {
                /* An earlier start created accounts; the first one is the default. */
                sqlite3_stmt *st =
                    db_prepare("SELECT a.id, k.key_id FROM accounts a JOIN access_keys k ON "
                               "k.account_id = a.id ORDER BY a.id LIMIT 1");
                if (st && sqlite3_step(st) == SQLITE_ROW) {
                    account_id = sqlite3_column_int64(st, 0);
                    oa_strlcpy(A.key_id, db_col_text(st, 1), sizeof(A.key_id));
                }
                sqlite3_finalize(st);
            }
            if (!account_id) {
                if (account_create("default", A.key_id, A.secret, &account_id))
                    return OA_EDB;
                A.show_secret = true;
            }
        }
        memset(&d, 0, sizeof(d));
        oa_strlcpy(d.name, oa_cfg.domain, sizeof(d.name));
        d.account_id = account_id;
        oa_strlcpy(d.type, "liveVideo", sizeof(d.type));
        oa_strlcpy(d.status, "online", sizeof(d.status));
        oa_strlcpy(d.region, "cn-shanghai", sizeof(d.region));
        oa_strlcpy(d.scope, "domestic", sizeof(d.scope));
        return domain_add(&d);
    }
    if (r)
        return r;
    if (account_id && d.account_id != account_id)
        return domain_set_account(d.name, account_id);
    if (!A.key_id[0]) {
        sqlite3_stmt *st = db_prepare("SELECT key_id FROM access_keys WHERE account_id = ? "
                                      "ORDER BY created LIMIT 1");
        if (st) {
            sqlite3_bind_int64(st, 1, d.account_id);
            if (sqlite3_step(st) == SQLITE_ROW)
                oa_strlcpy(A.key_id, db_col_text(st, 0), sizeof(A.key_id));
            sqlite3_finalize(st);
        }
    }
    return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    oa_log(OA_LOG_INFO, "signal %d: shutting down (again to force)", (int)sig);
    /* From now on a second signal exits at once, whatever the loop is doing. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    event_del(A.sigterm);
    event_del(A.sigint);
    oa_loop_stop();
}

static void port_of(const char *addr, char *out, size_t n)
{
    const char *c = strrchr(addr, ':');
    oa_strlcpy(out, c ? c + 1 : addr, n);
}

static void banner(void)
{
    char rport[16], hport[16];
    port_of(oa_cfg.rtmp_listen, rport, sizeof(rport));
    port_of(oa_cfg.http_listen, hport, sizeof(hport));
    const char *host = oa_cfg.public_host[0] ? oa_cfg.public_host : "127.0.0.1";
    fprintf(stderr,
            "\nonair is running (default domain %s)\n"
            "  push:  rtmp://%s:%s/live/<stream>\n"
            "  play:  rtmp://%s:%s/live/<stream>\n"
            "         http://%s:%s/live/<stream>.flv\n"
            "         http://%s:%s/live/<stream>.m3u8\n"
            "  API:   http://%s:%s/  (AccessKeyId %s)\n",
            oa_cfg.domain, host, rport, host, rport, host, hport, host, hport, host, hport,
            A.key_id);
    if (A.show_secret)
        fprintf(stderr,
                "  AccessKeySecret %s\n"
                "  (shown once: this is the default account's secret; keep it)\n",
                A.secret);
    fprintf(stderr, "\n");
}

int app_start(void)
{
    signal(SIGPIPE, SIG_IGN);
    /* Before any jansson allocation: an allocation failure then aborts like every other. */
    json_set_alloc_funcs(oa_malloc, oa_free);
    oa_log_route_ffmpeg();
    if (oa_loop_init() != 0) {
        oa_log(OA_LOG_ERROR, "cannot create the event loop");
        return OA_EINVAL;
    }
    int r = app_open_state();
    if (!r)
        r = ensure_default_account();
    if (r) {
        oa_log(OA_LOG_ERROR, "cannot prepare the state in %s: %s", oa_cfg.data_dir, oa_strerror(r));
        return r;
    }
    if (storage_init_local(oa_cfg.data_dir) != 0) {
        oa_log(OA_LOG_ERROR, "cannot create the object storage under %s", oa_cfg.data_dir);
        return OA_EINVAL;
    }
    streams_history_close_open();
    db_start_checkpointer(1000);
    oa_worker_start(oa_cfg.worker_threads);
    hub_init();
    outq_global_init();
    if ((r = recorder_init()) != 0)
        return r;

    if ((r = rtmp_server_start(oa_cfg.rtmp_listen)) || (r = http_server_start(oa_cfg.http_listen)))
        return r;
    http_flv_init();
    api_init();
    hls_init();
    storage_http_init();
    /* Last: casters that were running start again, reading inputs through the hub. */
    if ((r = caster_init()) != 0)
        return r;

    A.sigterm = evsignal_new(oa_loop_base(), SIGTERM, on_signal, NULL);
    A.sigint = evsignal_new(oa_loop_base(), SIGINT, on_signal, NULL);
    event_add(A.sigterm, NULL);
    event_add(A.sigint, NULL);
    A.started = true;
    banner();
    return 0;
}

int app_run(void)
{
    return oa_loop_run();
}

static bool players_gone(void *arg)
{
    return rtmp_server_sessions() == 0 && http_flv_players() == 0;
}

void app_stop(void)
{
    if (A.started) {
        /* First: scenes unpublish while the hub and its sinks are intact. */
        caster_shutdown();
        /*
         * Tell every client and let the loop write that out - RTMP statuses,
         * the rest of each FLV reply and its last chunk - for a bounded time.
         * A second signal still kills the process meanwhile (on_signal).
         */
        rtmp_server_quiesce();
        http_flv_quiesce();
        if (!oa_loop_run_until(players_gone, NULL, oa_cfg.shutdown_drain_ms))
            oa_log(OA_LOG_WARN,
                   "shutdown: %zu RTMP sessions and %zu HTTP-FLV players did not "
                   "finish in %d ms; closing them",
                   rtmp_server_sessions(), http_flv_players(), oa_cfg.shutdown_drain_ms);
        rtmp_server_stop();
        http_flv_stop();
        hls_stop();
        hub_shutdown();
        recorder_stop();
        http_server_stop();
        api_stop();
        oa_loop_drain_posts();
        oa_worker_stop();
        oa_loop_drain_posts();
        outq_global_free();
        event_free(A.sigterm);
        event_free(A.sigint);
        A.started = false;
    }
    app_close_state();
    oa_loop_free();
    oa_log(OA_LOG_INFO, "stopped");
}
