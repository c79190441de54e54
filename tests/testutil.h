/* testutil.h — shared helpers for the Check programs. */
#pragma once

#include <stddef.h>

/* Path of a file under tests/data ($FW_TEST_DATA); returns a static buffer. */
const char *tu_data_path(const char *rel);
/* Reads a whole file; aborts the test on failure. Caller frees. */
char *tu_read_file(const char *path, size_t *ret_len);
/* Makes a fresh temporary directory; caller frees the string (and may
 * remove the tree with tu_rmtree()). */
char *tu_tmpdir(void);
void tu_rmtree(const char *path);
/* Writes data to dir/name and returns the full path (caller frees). */
char *tu_write_file(const char *dir, const char *name, const char *data);
/* Where a test's state goes: tmp/state.db, or with FW_TEST_PG set (the
 * PostgreSQL runs, tests/pg/pgserver.py) that database, emptied first.
 * Caller frees. */
char *tu_state_target(const char *tmp);
