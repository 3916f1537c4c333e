#include "dump/reader.h"
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { READER_FILE, READER_MEM, READER_EXTENTS } reader_kind;

struct cl_reader {
    reader_kind kind;
    uint64_t size;
    int fd;
    const unsigned char *mem;
    cl_reader *parent;
    cl_reader_extent *ext;
    size_t next;
    uint64_t backed;
};

cl_reader *cl_reader_open_file(const char *path, cl_error **errp)
{
    /* Never blocks on a FIFO; only a regular file, judged on the descriptor. */
    struct stat st;
    CL_AUTOCLOSE fd = cl_file_open_regular(path, &st, errp);
    if (fd < 0)
        return NULL;
    cl_reader *r = calloc(1, sizeof(*r));
    if (!r) {
        cl_error_set(errp, CL_ERR_NOMEM, "cannot allocate a reader for '%s'", path);
        return NULL;
    }
    r->kind = READER_FILE;
    r->size = (uint64_t)st.st_size;
    r->fd = fd;
    fd = -1;
    return r;
}

cl_reader *cl_reader_open_mem(const void *data, size_t len, cl_error **errp)
{
    cl_reader *r = calloc(1, sizeof(*r));
    if (!r) {
        cl_error_set(errp, CL_ERR_NOMEM, "cannot allocate a reader");
        return NULL;
    }
    r->kind = READER_MEM;
    r->size = len;
    r->fd = -1;
    r->mem = data;
    return r;
}

cl_reader *cl_reader_open_extents(cl_reader *parent, uint64_t size, cl_reader_extent *ext, size_t n,
                                  cl_error **errp)
{
    cl_reader *r = calloc(1, sizeof(*r));
    if (!r) {
        free(ext);
        cl_error_set(errp, CL_ERR_NOMEM, "cannot allocate a reader");
        return NULL;
    }
    r->kind = READER_EXTENTS;
    r->size = size;
    r->fd = -1;
    r->parent = parent;
    r->ext = ext;
    r->next = n;
    for (size_t i = 0; i < n; i++)
        r->backed += ext[i].len;
    return r;
}

void cl_reader_free(cl_reader *r)
{
    if (!r)
        return;
    cl_force_close(&r->fd);
    free(r->ext);
    free(r);
}

uint64_t cl_reader_size(const cl_reader *r)
{
    return r->size;
}

uint64_t cl_reader_backed(const cl_reader *r)
{
    return r->kind == READER_EXTENTS ? r->backed : r->size;
}

bool cl_reader_has(const cl_reader *r, uint64_t off, uint64_t len)
{
    return off <= r->size && len <= r->size - off;
}

static bool read_file(cl_reader *r, uint64_t off, size_t len, unsigned char *buf, cl_error **errp)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(r->fd, buf + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "dump: read of %zu bytes at 0x%llx failed",
                                      len, (unsigned long long)off);
        if (n == 0) /* the file shrank under us */
            return cl_error_set(errp, CL_ERR_TRUNCATED, "dump: file ends before offset 0x%llx",
                                (unsigned long long)(off + got));
        got += (size_t)n;
    }
    return true;
}

/* Binary search for the last extent starting at or before off. */
static size_t extent_find(const cl_reader *r, uint64_t off)
{
    size_t lo = 0, hi = r->next;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->ext[mid].off <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo; /* index one past the candidate */
}

static bool read_extents(cl_reader *r, uint64_t off, size_t len, unsigned char *buf, cl_error **errp)
{
    memset(buf, 0, len);
    size_t i = extent_find(r, off);
    if (i > 0)
        i--;
    uint64_t end = off + len;
    for (; i < r->next && r->ext[i].off < end; i++) {
        const cl_reader_extent *e = &r->ext[i];
        uint64_t eend = e->off + e->len;
        if (eend <= off)
            continue;
        uint64_t a = e->off > off ? e->off : off;
        uint64_t b = eend < end ? eend : end;
        if (!cl_reader_read(r->parent, e->src + (a - e->off), (size_t)(b - a), buf + (a - off), errp))
            return false;
    }
    return true;
}

bool cl_reader_read(cl_reader *r, uint64_t off, size_t len, void *buf, cl_error **errp)
{
    if (!cl_reader_has(r, off, len))
        return cl_error_set(errp, CL_ERR_TRUNCATED,
                            "dump: %zu bytes at offset 0x%llx lie past the end of the file (0x%llx bytes)",
                            len, (unsigned long long)off, (unsigned long long)r->size);
    if (len == 0)
        return true;
    switch (r->kind) {
    case READER_FILE:
        return read_file(r, off, len, buf, errp);
    case READER_MEM:
        memcpy(buf, r->mem + off, len);
        return true;
    case READER_EXTENTS:
        return read_extents(r, off, len, buf, errp);
    }
    return cl_error_set(errp, CL_ERR_INVAL, "dump: bad reader");
}
