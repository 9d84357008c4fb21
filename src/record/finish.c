/* finish.c - final names for recorded files, crash-safe (see finish.h). */
#include "finish.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "core/worker.h"
#include "record/fault.h"
#include "record/notify.h"
#include "record/storage.h"
#include "record/writer.h"
#include "store/db.h"

enum fin_result { FIN_DONE, FIN_GONE, FIN_AGAIN, FIN_FAILED };

struct fin_job {
    struct rec_file f;
    uint8_t *playlist;
    size_t playlist_len;
    uint64_t vframes, aframes;
    bool recovered;
    enum fin_result result;
    int err;
    char next[REC_OBJECT_MAX]; /* FIN_AGAIN: the next free name */
};

static bool exists(const char *bucket, const char *object)
{
    uint64_t size;
    return storage()->size(bucket, object, &size) == 0;
}

/* Worker thread: the storage part. */
static void fin_run(void *arg)
{
    struct fin_job *j = arg;
    struct rec_file *f = &j->f;
    const char *b = f->bucket, *from = f->object, *to = f->final_object;
    j->result = FIN_FAILED;
    if (strcmp(f->format, "m3u8") == 0) {
        if (!j->playlist) {
            /* No slice made it: nothing to play, and no live playlist was ever written. */
            storage()->remove(b, from);
            j->result = FIN_GONE;
            return;
        }
        /* The name was free when chosen and is ours since: a repeated put replaces our own. */
        if ((j->err = storage()->put(b, to, j->playlist, j->playlist_len)) != 0)
            return;
        rec_fault("renamed");
        if (strcmp(from, to) != 0) {
            int r = storage()->remove(b, from);
            if (r && r != OA_ENOTFOUND)
                oa_log(OA_LOG_WARN, "record: cannot remove the live playlist %s/%s: %s", b, from,
                       oa_strerror(r));
        }
        j->result = FIN_DONE;
        return;
    }
    if (strcmp(from, to) == 0) {
        j->result = exists(b, to) ? FIN_DONE : FIN_GONE;
        return;
    }
    int r = storage()->rename(b, from, to);
    if (r == 0) {
        rec_fault("renamed");
        j->result = FIN_DONE;
    } else if (r == OA_ENOTFOUND) {
        /* Renamed before a crash, or never created. */
        j->result = exists(b, to) ? FIN_DONE : FIN_GONE;
    } else if (r == OA_EEXIST) {
        j->err = rec_free_name(b, to, f->format, j->next, sizeof(j->next));
        j->result = j->err ? FIN_FAILED : FIN_AGAIN;
    } else {
        j->err = r;
    }
}

static void fin_done(void *arg);

static void fin_submit(struct fin_job *j)
{
    if (oa_worker_submit(fin_run, fin_done, j) != 0) {
        oa_log(OA_LOG_WARN,
               "record: cannot queue the final naming of %s/%s; the next start does it",
               j->f.bucket, j->f.object);
        oa_free(j->playlist);
        oa_free(j);
    }
}

/* Loop thread: the index part. */
static void fin_done(void *arg)
{
    struct fin_job *j = arg;
    struct rec_file *f = &j->f;
    switch (j->result) {
    case FIN_DONE:
        oa_strlcpy(f->object, f->final_object, sizeof(f->object));
        f->final_object[0] = '\0';
        oa_strlcpy(f->state, "done", sizeof(f->state));
        /* One transaction: a file is never done without its callback queued. */
        if (db_begin() != 0 || rec_index_finish(f) != 0) {
            db_rollback();
            oa_log(OA_LOG_ERROR, "record: cannot index %s/%s", f->bucket, f->object);
            break;
        }
        rec_notify_file(f);
        if (db_commit() != 0) {
            db_rollback();
            oa_log(OA_LOG_ERROR, "record: cannot index %s/%s", f->bucket, f->object);
            break;
        }
        if (j->recovered)
            oa_log(OA_LOG_INFO, "record: %s/%s/%s: recovered interrupted %s file %s (%.3f s)",
                   f->domain, f->app, f->stream, f->format, f->object, f->duration);
        else
            oa_log(OA_LOG_INFO,
                   "record: %s/%s/%s: %s file %s/%s done: %.3f s, %llu video + %llu audio frames",
                   f->domain, f->app, f->stream, f->format, f->bucket, f->object, f->duration,
                   (unsigned long long)j->vframes, (unsigned long long)j->aframes);
        break;
    case FIN_GONE:
        rec_slice_delete_file(f->record_id);
        rec_index_delete(f->record_id);
        oa_log(OA_LOG_INFO, "record: %s/%s/%s: %s file %s had nothing on disk; its row is removed",
               f->domain, f->app, f->stream, f->format, f->object);
        break;
    case FIN_AGAIN:
        /* The row names the new target before the rename is tried again. */
        oa_strlcpy(f->final_object, j->next, sizeof(f->final_object));
        if (rec_index_finishing(f) != 0)
            break;
        fin_submit(j);
        return;
    case FIN_FAILED:
        oa_log(OA_LOG_WARN, "record: cannot give %s/%s its final name %s: %s; the next start tries",
               f->bucket, f->object, f->final_object, oa_strerror(j->err));
        break;
    }
    oa_free(j->playlist);
    oa_free(j);
}

void rec_finish_begin(const struct rec_file *f, uint8_t *playlist, size_t playlist_len,
                      uint64_t vframes, uint64_t aframes, bool recovered)
{
    struct fin_job *j = oa_calloc(1, sizeof(*j));
    j->f = *f;
    oa_strlcpy(j->f.state, "finishing", sizeof(j->f.state));
    j->playlist = playlist;
    j->playlist_len = playlist_len;
    j->vframes = vframes;
    j->aframes = aframes;
    j->recovered = recovered;
    if (rec_index_finishing(&j->f) != 0) {
        oa_log(OA_LOG_ERROR, "record: cannot record the final name of %s/%s", f->bucket, f->object);
        oa_free(j->playlist);
        oa_free(j);
        return;
    }
    rec_fault("finishing");
    fin_submit(j);
}
