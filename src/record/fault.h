/*
 * fault.h - fault injection for the crash tests: the setting
 * record_fault_abort = "<point>[:<n>]" kills the process with SIGKILL the
 * n-th time (default 1) the recorder reaches <point>, so a test can stop
 * the server between any two steps that must survive a crash. The points:
 *
 *   file_row       loop: a file's index row was inserted
 *   file_create    writer: a file's object was created (nothing written yet)
 *   slice_row      loop: a TS slice's row was inserted
 *   slice_create   writer: a slice's object was created
 *   file_finished  writer: a file is complete under its temporary name
 *   finishing      loop: the row records the final name ("finishing")
 *   renamed        worker: the object has its final name, the row not yet
 *
 * Empty (the default) disables it. Any thread.
 */
#ifndef OA_RECORD_FAULT_H
#define OA_RECORD_FAULT_H

#include "core/common.h"

/* Parses the setting (once, before the threads start). */
void rec_fault_init(void);
/* Kills the process if point is the configured one and its count is reached. */
void rec_fault(const char *point);

#endif
