/*
 * index.h - the recording index in SQLite: one row per recorded file (and
 * per index playlist made by CreateLiveStreamRecordIndexFiles), one row per
 * TS slice of an m3u8 recording.
 *
 * A file's row is written before its object is created, in state
 * "recording", under the temporary object name. When the file is complete
 * the row becomes "finishing" with its measurements and the final name it
 * is about to get (final_object), and once the object has that name the
 * row is "done" (oss_object = the final name). So at every moment the row
 * names what is on disk, or what recovery needs to finish the job: rows
 * not "done" at startup are the files a crash interrupted (see recover.h).
 * Slices are rows before their objects exist ("open"), so an interrupted
 * slice can be repaired too.
 *
 * Event-loop thread only.
 */
#ifndef OA_RECORD_INDEX_H
#define OA_RECORD_INDEX_H

#include "core/common.h"
#include "record/tmpl.h"

struct rec_file {
    char record_id[37];
    char kind[8];   /* "file" or "index" */
    char state[12]; /* "recording", "finishing" or "done" */
    int64_t account_id;
    char domain[256], app[256], stream[256];
    char format[8];
    char endpoint[256], bucket[64];
    char object[REC_OBJECT_MAX];       /* where the object is now */
    char final_object[REC_OBJECT_MAX]; /* "finishing": the name it is getting */
    char object_prefix[REC_TMPL_MAX];  /* the template, to name a recovered file */
    int64_t seq;
    int64_t start_ms, end_ms; /* wall clock */
    double duration;          /* seconds */
    int width, height;
    int64_t size;
    char push_args[1024]; /* JSON object of the publish URL's callback_* parameters */
    int64_t created;      /* Unix seconds */
};

struct rec_slice {
    int64_t id;
    char file_record_id[37];
    int64_t account_id;
    char domain[256], app[256], stream[256];
    char endpoint[256], bucket[64];
    char object[REC_OBJECT_MAX];
    int64_t seq;
    int64_t start_ms;
    double duration;
    bool discontinuity;
    char state[8]; /* "open" or "done" */
};

int rec_index_insert(const struct rec_file *f);
/* Marks a file "finishing": its final_object and measurements. */
int rec_index_finishing(const struct rec_file *f);
/* Marks a file done with its final name (f->object) and measurements. */
int rec_index_finish(const struct rec_file *f);
/* 0, OA_ENOTFOUND or OA_EDB. */
int rec_index_get(const char *record_id, struct rec_file *out);
int rec_index_delete(const char *record_id);

/*
 * Finished files (and index playlists) of a stream that overlap
 * [start_ms, end_ms), by start time, paged; *total counts all matches.
 * format: NULL for any.
 */
int rec_index_list(const char *domain, const char *app, const char *stream, const char *format,
                   int64_t start_ms, int64_t end_ms, bool desc, int offset, int limit,
                   void (*fn)(const struct rec_file *f, void *arg), void *arg, int *total);
/* The row (any kind) that names bucket/object; 0, OA_ENOTFOUND or OA_EDB. */
int rec_index_find_object(const char *bucket, const char *object, struct rec_file *out);
/* Calls fn for every file still "recording" or "finishing" (crash recovery). */
int rec_index_foreach_recording(void (*fn)(const struct rec_file *f, void *arg), void *arg);
/* The largest file sequence number of a stream and format; -1 if none. */
int64_t rec_index_max_seq(const char *domain, const char *app, const char *stream,
                          const char *format);

int rec_slice_insert(const struct rec_slice *s);
int rec_slice_finish(const char *file_record_id, const char *object, double duration);
/* Removes one slice row (an empty slice found by recovery). */
int rec_slice_delete(const char *file_record_id, const char *object);
/* Slices of one file, by sequence. */
int rec_slice_list_file(const char *file_record_id,
                        void (*fn)(const struct rec_slice *s, void *arg), void *arg);
/* Finished slices of a stream in one bucket starting in [start_ms, end_ms], by start. */
int rec_slice_list_range(const char *domain, const char *app, const char *stream,
                         const char *bucket, int64_t start_ms, int64_t end_ms,
                         void (*fn)(const struct rec_slice *s, void *arg), void *arg);
int rec_slice_delete_file(const char *file_record_id);
/* The largest slice sequence number of a stream; -1 if none. */
int64_t rec_slice_max_seq(const char *domain, const char *app, const char *stream);

#endif
