/* fileio.h - bounded reads and never-half-written files. */
#ifndef CL_UTIL_FILEIO_H
#define CL_UTIL_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "error.h"

/* Opens a regular file for reading without ever blocking on it: a FIFO, a device, a socket
 * or a directory is refused (CL_ERR_INVAL, naming what it is), judged on the open
 * descriptor. Returns the descriptor (blocking again) with *st filled, or -1. */
int cl_file_open_regular(const char *path, struct stat *st, cl_error **errp);

/* Reads a whole file of at most maxlen bytes into a NUL-terminated buffer.
 * A larger file is an error (CL_ERR_INVAL, "larger than N bytes"), never truncated. */
bool cl_file_read_all(const char *path, size_t maxlen, char **out, size_t *outlen, cl_error **errp);

/* Reads at most maxlen bytes of the tail of a file (for console logs, which are guest data). */
bool cl_file_read_tail(const char *path, size_t maxlen, char **out, size_t *outlen, cl_error **errp);

/* The permission policy (README "Results and state: who can read them"): what the lab
 * writes is its owner's and the owner's group's, never everybody's. The mode given to
 * open/mkdir, so a stricter umask narrows it further. Directories QEMU must pass through
 * when the lab runs as root (state, results, a run's directory) get the search bit for
 * others and nothing else: they can be passed, not listed. */
#define CL_FILE_MODE 0640u
#define CL_DIR_MODE 0750u
#define CL_DIR_MODE_PASS 0751u

/* Creates a new temporary file "<path>.tmp.<pid>.<n>.<random>" for writing, exclusively
 * (O_CREAT|O_EXCL|O_NOFOLLOW: never an existing file, never through a symlink someone
 * else planted in a directory they can write), and puts its name in tmp. Returns the
 * descriptor, or -1 with an error. */
int cl_file_create_temp(const char *path, unsigned mode, char *tmp, size_t tmplen, cl_error **errp);

/* Writes data to a new temporary file (cl_file_create_temp, CL_FILE_MODE), fsyncs it and
 * renames it over path: a reader sees the old file or the whole new one, never a part,
 * and a symlink at path is replaced, never followed. */
bool cl_file_write_atomic(const char *path, const void *data, size_t len, cl_error **errp);

/* mkdir -p with mode for every created component. */
bool cl_mkdir_p(const char *path, unsigned mode, cl_error **errp);

/* Formats a path into buf; false (CL_ERR_INVAL, "path too long: ...") when it does not fit,
 * so that a long state or results directory is refused rather than silently cut. */
bool cl_path_fmt(char *buf, size_t len, cl_error **errp, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Removes a directory tree (no symlink is followed). Missing is not an error. */
bool cl_rm_rf(const char *path, cl_error **errp);

/* sha256 of a regular file (cl_file_open_regular) or a buffer, as 64 lowercase hex digits
 * plus NUL. Hashing a file stops with CL_ERR_INTERRUPTED once cl_interrupt_pending()
 * (lab/util/interrupt.h: a run's SIGTERM), between 1 MiB reads. */
bool cl_sha256_file(const char *path, char hex[65], uint64_t *size, cl_error **errp);
void cl_sha256_buf(const void *data, size_t len, char hex[65]);

/* Monotonic seconds, for phase timings and timeouts. */
double cl_now(void);



/* True when every directory on the way to path is searchable by others and the file
 * itself (if want_read) readable by others: what an unprivileged QEMU process needs.
 * On false, *blocker names the first component that stops it. */
bool cl_path_world_reachable(const char *path, bool want_read, char *blocker, size_t blockerlen);
#endif
