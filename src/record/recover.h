/*
 * recover.h - finishing, at startup, the recordings a crash (SIGKILL, power
 * loss) left behind.
 *
 * Every index row still "recording" names a file that was being written.
 * For each one a worker-thread job cuts the file back to its last complete
 * unit (repair.h), reads it back with libavformat for the real duration and
 * picture size, gives it its final name (the template with the real end
 * time) and, for m3u8, repairs the open TS slice and writes the VOD
 * playlist. Back on the loop the row becomes "done" and the file-created
 * callback is sent - the same end state as a file finished normally. A file
 * with nothing playable left is removed along with its row.
 */
#ifndef OA_RECORD_RECOVER_H
#define OA_RECORD_RECOVER_H

#include "core/common.h"

/* Queues a repair job per interrupted file (loop thread, workers running). */
int rec_recover_start(void);

struct rec_probe {
    double duration; /* seconds, 0 if nothing decodable */
    int width, height;
    uint64_t video_packets, audio_packets;
};

/* Reads a local file with libavformat (any thread). 0 or OA_ECODEC. */
int rec_probe_file(const char *path, struct rec_probe *out);

#endif
