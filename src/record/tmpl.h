/*
 * tmpl.h - object names of recordings: the OssObjectPrefix and
 * SliceOssObjectPrefix templates of a record config, expanded.
 *
 * Variables (case-sensitive, as the API documents them):
 *   {AppName} {StreamName}       the stream
 *   {Sequence}                   file or slice sequence number (decimal)
 *   {StartTime} {EndTime}        UTC "yyyy-MM-dd-HH:mm:ss"
 *   {EscapedStartTime} {EscapedEndTime}   UTC "yyyy-MM-dd-HH-mm-ss"
 *   {UnixTimestamp}              slice start, Unix seconds
 *   {Date} {Hour} {Minute} {Second}       parts of the start time ("yyyy-MM-dd",
 *                                "HH", "mm", "ss"; CreateLiveStreamRecordIndexFiles)
 * Anything else in braces is kept literally. An end time that is not known
 * yet (a file being written) expands to "recording".
 *
 * Pure functions, any thread.
 */
#ifndef OA_RECORD_TMPL_H
#define OA_RECORD_TMPL_H

#include "core/common.h"

#define REC_TMPL_MAX 256 /* templates are shorter than this (API limit) */
#define REC_OBJECT_MAX 1024

#define REC_DEFAULT_OBJECT_PREFIX                                                                  \
    "record/{AppName}/{StreamName}/{Sequence}_{EscapedStartTime}_{EscapedEndTime}"
#define REC_DEFAULT_SLICE_PREFIX "record/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}"

struct rec_tmpl_vars {
    const char *app, *stream;
    int64_t sequence;
    int64_t start_ms; /* wall clock, ms since the epoch */
    int64_t end_ms;   /* < 0: not known yet */
    int64_t unix_ts;  /* seconds */
};

/* Expands tmpl into out; 0 or OA_ETOOBIG. */
int rec_tmpl_expand(const char *tmpl, const struct rec_tmpl_vars *v, char *out, size_t outlen);

/*
 * The object name: the expansion plus "." ext unless it already ends so.
 * 0, OA_ETOOBIG, or OA_EINVAL when the result is not a valid object name.
 */
int rec_object_name(const char *tmpl, const struct rec_tmpl_vars *v, const char *ext, char *out,
                    size_t outlen);

/*
 * Template checks of AddLiveAppRecordConfig: shorter than REC_TMPL_MAX, the
 * start and end time (plain or escaped pair) in a file template,
 * {UnixTimestamp} and {Sequence} in a slice template, and an expansion that
 * is a valid object name.
 */
bool rec_tmpl_object_ok(const char *tmpl);
bool rec_tmpl_slice_ok(const char *tmpl);

#endif
