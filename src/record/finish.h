/*
 * finish.h - the last step of every recorded file, for files the writers
 * finished and for files crash recovery repaired alike: the row records
 * the final name, then a worker gives the object that name, then the row
 * is "done" and the file-created callback goes out.
 *
 *   loop    UPDATE ... state = 'finishing', final_object = <name>
 *   worker  rename <temporary> -> <name> (never replacing; m3u8: put the VOD
 *           playlist under <name>, remove the live one)
 *   loop    UPDATE ... state = 'done', oss_object = <name>; callback
 *
 * A kill between any two steps leaves a "finishing" row that names both
 * objects, and the next start (recover.h) runs the same steps again: a
 * missing temporary object with an existing final one means the rename
 * happened. A final name taken meanwhile by another object (rename says
 * EEXIST) sends the worker's next free name back through the loop, so the
 * row always names the target before the rename is tried. An object that
 * never reached the disk takes its row with it.
 *
 * Loop thread (the worker part runs on core/worker).
 */
#ifndef OA_RECORD_FINISH_H
#define OA_RECORD_FINISH_H

#include "core/common.h"
#include "record/index.h"

/*
 * Starts the steps for f (object: where it is now; final_object: its name;
 * measurements set). playlist: an m3u8 file's VOD playlist text for
 * final_object (taken, oa_free'd; NULL for other formats, or when no slice
 * was written). vframes/aframes go into the log line; recovered picks its
 * wording. If the row cannot be updated or the job cannot be queued, the
 * row stays as it was and the next start finishes the file.
 */
void rec_finish_begin(const struct rec_file *f, uint8_t *playlist, size_t playlist_len,
                      uint64_t vframes, uint64_t aframes, bool recovered);

#endif
