/*
 * db.h - the SQLite database that holds all of onair's state.
 *
 * One connection, used by the event-loop thread, in WAL mode with
 * synchronous=NORMAL: a commit appends to the WAL without fsync, so small
 * writes do not block the loop. Automatic checkpoints are off on this
 * connection; a worker thread with its own connection checkpoints
 * periodically, which is where the fsyncs happen (db_start_checkpointer).
 *
 * Each module owns its tables: it calls db_migrate() with its own ordered
 * list of SQL scripts at startup, and the schema_versions table records how
 * many of each module's scripts have run.
 * Helpers below wrap the prepare/bind/step boilerplate; they log SQLite's
 * message once and return OA_EDB on failure.
 */
#ifndef OA_STORE_DB_H
#define OA_STORE_DB_H

#include "core/common.h"

#include <sqlite3.h>

/* Opens (creating) data_dir/onair.db and migrates the core tables. */
int db_open(const char *data_dir);
/* Runs the scripts of `module` that have not run yet, each in a transaction. */
int db_migrate(const char *module, const char *const *scripts, size_t n);
void db_close(void);
sqlite3 *db_handle(void);
/* Checkpoints the WAL every interval_ms on a worker-owned connection. */
void db_start_checkpointer(int interval_ms);

/* Prepares sql; logs and returns NULL on error. */
sqlite3_stmt *db_prepare(const char *sql);
/*
 * The same for a statement that is run often: sql must be a string literal
 * (the cache keys on its address), and the statement is handed back with
 * db_release() - never finalized or passed to db_step_done(). A statement
 * still in use (nested calls) is prepared afresh. Loop thread only.
 */
sqlite3_stmt *db_prepare_cached(const char *sql);
/* Resets a db_prepare_cached() statement for reuse (finalizes any other). */
void db_release(sqlite3_stmt *st);
/* Runs one statement with no result rows; 0 or OA_EDB. */
int db_exec(const char *sql);
/* Steps a statement that returns no rows, then finalizes it; 0 or OA_EDB. */
int db_step_done(sqlite3_stmt *st);
int64_t db_last_insert_id(void);
int db_changes(void);

/*
 * Transactions. They nest: inside another, db_begin() is a savepoint that
 * db_commit() releases into the outer transaction and db_rollback() undoes
 * alone; only the outermost commit makes anything durable. Every
 * successful db_begin() is ended by exactly one db_commit() that succeeds
 * or one db_rollback() (also after a failed commit).
 */
int db_begin(void);
int db_commit(void);
void db_rollback(void);

/* Column text as a C string ("" for NULL); borrowed until the next step. */
const char *db_col_text(sqlite3_stmt *st, int col);

#endif
