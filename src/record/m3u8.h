/*
 * m3u8.h - the media playlist of an m3u8 recording or index file.
 *
 * Segment URIs are relative references from the playlist's own object to
 * each slice (storage_ref), percent-encoded, so the playlist plays from its
 * RecordUrl on any host. A playlist being written is an EVENT playlist; a
 * finished one is a VOD playlist with #EXT-X-ENDLIST. Pure; any thread.
 */
#ifndef OA_RECORD_M3U8_H
#define OA_RECORD_M3U8_H

#include "core/buf.h"
#include "core/common.h"

struct rec_m3u8_entry {
    const char *object; /* the slice's object name, same bucket */
    double duration;    /* seconds */
    bool discontinuity; /* EXT-X-DISCONTINUITY before it */
};

/* Appends the playlist text to out; 0, OA_ETOOBIG or OA_EINVAL (a bad name). */
int rec_m3u8_build(const char *playlist_object, const struct rec_m3u8_entry *e, size_t n,
                   bool ended, struct oa_buf *out);

#endif
