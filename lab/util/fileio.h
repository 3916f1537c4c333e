/* fileio.h - bounded reads and never-half-written files. */
#ifndef CL_UTIL_FILEIO_H
#define CL_UTIL_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Reads a whole file of at most maxlen bytes into a NUL-terminated buffer.
 * A larger file is an error (CL_ERR_INVAL, "larger than N bytes"), never truncated. */
bool cl_file_read_all(const char *path, size_t maxlen, char **out, size_t *outlen, cl_error **errp);

/* Reads at most maxlen bytes of the tail of a file (for console logs, which are guest data). */
bool cl_file_read_tail(const char *path, size_t maxlen, char **out, size_t *outlen, cl_error **errp);

/* Writes data to "<path>.tmp.<pid>", fsyncs it and renames it over path: a reader sees the
 * old file or the whole new one, never a part. */
bool cl_file_write_atomic(const char *path, const void *data, size_t len, cl_error **errp);

/* mkdir -p with mode for every created component. */
bool cl_mkdir_p(const char *path, unsigned mode, cl_error **errp);

/* Removes a directory tree (no symlink is followed). Missing is not an error. */
bool cl_rm_rf(const char *path, cl_error **errp);

/* sha256 of a file or buffer as 64 lowercase hex digits plus NUL. */
bool cl_sha256_file(const char *path, char hex[65], uint64_t *size, cl_error **errp);
void cl_sha256_buf(const void *data, size_t len, char hex[65]);

/* Monotonic seconds, for phase timings and timeouts. */
double cl_now(void);



/* True when every directory on the way to path is searchable by others and the file
 * itself (if want_read) readable by others: what an unprivileged QEMU process needs.
 * On false, *blocker names the first component that stops it. */
bool cl_path_world_reachable(const char *path, bool want_read, char *blocker, size_t blockerlen);
#endif
