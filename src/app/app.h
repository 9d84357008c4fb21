/*
 * app.h - starts and stops every module of the server in the right order.
 *
 * Startup: state (SQLite, key file, default account and domain), then the
 * hub and workers, then the listeners. Shutdown runs the other way round:
 * listeners stop accepting, publishers and players are told and closed,
 * recordings are finished, workers drain, the database is checkpointed.
 */
#ifndef OA_APP_APP_H
#define OA_APP_APP_H

#include "core/common.h"

/* Opens the data dir and the database; needed by both the server and `account create`. */
int app_open_state(void);
void app_close_state(void);

/* Starts everything and prints where to push and play. */
int app_start(void);
/* Runs the loop until a signal asks to stop. */
int app_run(void);
void app_stop(void);

#endif
