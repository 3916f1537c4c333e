/* reader.h - bounded access to a dump's bytes (STYLE.md 5).
 *
 * Every byte a dump reader looks at comes through cl_reader_read(), which checks
 * `off <= size && len <= size - off` before anything is read, so no field of the file
 * can make a reader look past its end. A reader is backed by a file (pread), by memory
 * (fuzz targets, tests) or by another reader through an extent map (the makedumpfile
 * flattened format). */
#ifndef CL_DUMP_READER_H
#define CL_DUMP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct cl_reader cl_reader;

/* Opens path read-only. */
cl_reader *cl_reader_open_file(const char *path, cl_error **errp);
/* Wraps len bytes at data; the memory must outlive the reader (it is not copied). */
cl_reader *cl_reader_open_mem(const void *data, size_t len, cl_error **errp);

/* One extent of a mapped view: logical [off, off+len) is stored at parent offset src. */
typedef struct {
    uint64_t off;
    uint64_t len;
    uint64_t src;
} cl_reader_extent;

/* A view of size bytes assembled from extents of parent (sorted by off, non-overlapping,
 * each already checked to lie inside parent). Bytes that no extent covers read as zero,
 * as makedumpfile's reassembly leaves them. The view borrows parent; it takes the extents. */
cl_reader *cl_reader_open_extents(cl_reader *parent, uint64_t size, cl_reader_extent *ext, size_t n,
                                  cl_error **errp);

void cl_reader_free(cl_reader *r);
CL_DEFINE_AUTOPTR_FUNC(cl_reader, cl_reader_free)

uint64_t cl_reader_size(const cl_reader *r);
/* Bytes that really come from a file or buffer: the size, except for an extent view, whose
 * size may span holes. Allocations sized by file fields are checked against this. */
uint64_t cl_reader_backed(const cl_reader *r);

/* Reads exactly len bytes at off. A range past the end fails with CL_ERR_TRUNCATED and
 * reads nothing; an I/O error is CL_ERR_IO. */
bool cl_reader_read(cl_reader *r, uint64_t off, size_t len, void *buf, cl_error **errp);

/* True when [off, off+len) lies inside the reader, without overflow. */
bool cl_reader_has(const cl_reader *r, uint64_t off, uint64_t len);

#endif
