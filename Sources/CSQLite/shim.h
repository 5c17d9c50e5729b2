#ifndef TUNWARDEN_CSQLITE_SHIM_H
#define TUNWARDEN_CSQLITE_SHIM_H

#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast macro Swift cannot import: text and blobs bound through these
/// are copied by SQLite before the call returns, so Swift's buffers need not outlive it.
static inline int tw_sqlite3_bind_text(sqlite3_stmt *statement, int index, const char *text, int length) {
    return sqlite3_bind_text(statement, index, text, length, SQLITE_TRANSIENT);
}

static inline int tw_sqlite3_bind_blob(sqlite3_stmt *statement, int index, const void *bytes, int length) {
    return sqlite3_bind_blob(statement, index, bytes, length, SQLITE_TRANSIENT);
}

/// sqlite3_db_config is variadic, which Swift cannot call: a connection that closes leaves its
/// write-ahead log as it is, unfolded (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, SQLite 3.16+).
static inline int tw_sqlite3_no_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}

#endif
