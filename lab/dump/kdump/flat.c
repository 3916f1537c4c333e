#include "dump/kdump/flat.h"

#include <stdlib.h>
#include <string.h>

#include "dump/kdump/format.h"
#include "dump/le.h"

#define WINDOW 65536u

typedef struct {
    cl_reader_extent e;
    uint64_t hdr;           /* file offset of the record's header, for messages */
} flat_rec;

static int rec_cmp(const void *a, const void *b)
{
    const flat_rec *x = a, *y = b;
    if (x->e.off != y->e.off)
        return x->e.off < y->e.off ? -1 : 1;
    return x->hdr < y->hdr ? -1 : x->hdr > y->hdr; /* file order: the earlier record wins */
}

/* Record headers are read through a window so that a stream of small records costs one
 * read per 64 KiB, not one per record. */
typedef struct {
    cl_reader *f;
    uint64_t start;
    size_t len;
    unsigned char buf[WINDOW];
} window;

static bool window_get(window *w, uint64_t off, bool small, unsigned char out[16], cl_error **errp)
{
    if (off < w->start || off - w->start > w->len || w->len - (off - w->start) < 16) {
        uint64_t size = cl_reader_size(w->f);
        size_t want = small ? WINDOW : 16; /* after a large record, reading ahead would read its successor's data */
        size_t n = size - off < want ? (size_t)(size - off) : want;
        if (n < 16)
            return cl_error_set(errp, CL_ERR_TRUNCATED, "kdump: flattened record header at 0x%llx is cut short",
                                (unsigned long long)off);
        if (!cl_reader_read(w->f, off, n, w->buf, errp))
            return false;
        w->start = off;
        w->len = n;
    }
    memcpy(out, w->buf + (off - w->start), 16);
    return true;
}

void cl_flat_map_clear(cl_flat_map *m)
{
    free(m->ext);
    memset(m, 0, sizeof(*m));
}

static bool grow(flat_rec **recs, size_t *cap, size_t n, cl_error **errp)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 256;
    flat_rec *p = realloc(*recs, ncap * sizeof(**recs));
    if (!p)
        return cl_error_set(errp, CL_ERR_NOMEM, "kdump: cannot allocate %zu flattened records", ncap);
    *recs = p;
    *cap = ncap;
    return true;
}

/* Sorts the kept records and drops any that overlap an earlier one. */
static bool build_extents(cl_flat_map *m, flat_rec *recs, size_t n, cl_dump_notes *notes, cl_error **errp)
{
    if (n)
        qsort(recs, n, sizeof(*recs), rec_cmp);
    m->ext = calloc(n ? n : 1, sizeof(*m->ext));
    if (!m->ext)
        return cl_error_set(errp, CL_ERR_NOMEM, "kdump: cannot allocate %zu extents", n);
    uint64_t overlapping = 0, first_bad = 0;
    for (size_t i = 0; i < n; i++) {
        cl_reader_extent e = recs[i].e;
        if (m->n && m->ext[m->n - 1].off + m->ext[m->n - 1].len > e.off) {
            if (!overlapping++)
                first_bad = recs[i].hdr;
            continue;
        }
        m->ext[m->n++] = e;
        m->data += e.len;
        m->size = e.off + e.len;
    }
    if (overlapping) {
        cl_dump_warn(notes, "kdump: %llu flattened records overlap bytes an earlier record placed (first at 0x%llx); "
                     "dropped", (unsigned long long)overlapping, (unsigned long long)first_bad);
        m->rejected += overlapping;
    }
    return true;
}

bool cl_flat_map_read(cl_reader *f, cl_flat_map *m, cl_dump_notes *notes, cl_error **errp)
{
    memset(m, 0, sizeof(*m));
    uint64_t size = cl_reader_size(f);
    unsigned char h[32];
    if (!cl_reader_read(f, 0, sizeof(h), h, errp))
        return false;
    if (cl_be64(h + 16) != 1 || cl_be64(h + 24) != 1)
        cl_dump_warn(notes, "kdump: flattened header type %llu version %llu (expected 1, 1)",
                     (unsigned long long)cl_be64(h + 16), (unsigned long long)cl_be64(h + 24));
    /* Nothing may land past this: the layout's unwritten padding is the only growth. */
    uint64_t limit = size + CL_FLAT_MAX_HOLES;
    window *w = malloc(sizeof(*w));
    if (!w)
        return cl_error_set(errp, CL_ERR_NOMEM, "kdump: cannot allocate a read window");
    w->f = f;
    w->start = w->len = 0;
    flat_rec *recs = NULL;
    size_t cap = 0, n = 0;
    uint64_t off = FLAT_HEADER_SIZE, empty = 0, last = 0;
    bool stopped = false, ok = true;
    while (off < size) {
        unsigned char dh[16];
        cl_error *err = NULL;
        if (!window_get(w, off, last < 4096, dh, &err)) {
            cl_dump_note_error(notes, &err, "kdump: flattened record header");
            stopped = true;
            break;
        }
        int64_t roff = (int64_t)cl_be64(dh), rsize = (int64_t)cl_be64(dh + 8);
        if (roff == -1) {
            m->ended = true;
            break;
        }
        m->records++;
        if (roff < 0 || rsize < 0 || (uint64_t)roff > limit || (uint64_t)rsize > limit - (uint64_t)roff) {
            cl_dump_warn(notes, "kdump: flattened record at 0x%llx places %lld bytes at offset %lld, outside the "
                         "0x%llx bytes the file can describe", (unsigned long long)off, (long long)rsize,
                         (long long)roff, (unsigned long long)limit);
            m->rejected++;
            stopped = true;
            break;
        }
        if (rsize == 0 && ++empty > CL_FLAT_MAX_EMPTY) {
            cl_dump_warn(notes, "kdump: more than %u empty flattened records (the last at 0x%llx): not a dump's "
                         "content", CL_FLAT_MAX_EMPTY, (unsigned long long)off);
            m->rejected++;
            stopped = true;
            break;
        }
        if (m->records > CL_FLAT_MAX_RECORDS) {
            cl_dump_warn(notes, "kdump: more than %u flattened records", CL_FLAT_MAX_RECORDS);
            m->rejected++;
            stopped = true;
            break;
        }
        uint64_t data = off + 16;
        if (!cl_reader_has(f, data, (uint64_t)rsize)) {
            cl_dump_truncated(notes, "kdump: flattened record of %lld bytes at 0x%llx runs past the end of the file",
                              (long long)rsize, (unsigned long long)data);
            rsize = (int64_t)(size - data);
            stopped = true;
        }
        if (rsize > 0) {
            if (!grow(&recs, &cap, n, errp)) {
                ok = false;
                break;
            }
            recs[n].e = (cl_reader_extent){ (uint64_t)roff, (uint64_t)rsize, data };
            recs[n].hdr = off;
            n++;
        }
        off = data + (uint64_t)rsize;
        last = (uint64_t)rsize;
    }
    free(w);
    if (ok && !m->ended && !stopped)
        cl_dump_truncated(notes, "kdump: flattened file has no end marker (cut short?)");
    if (ok)
        ok = build_extents(m, recs, n, notes, errp);
    free(recs);
    if (!ok) {
        cl_flat_map_clear(m);
        return false;
    }
    m->faithful = m->ended && !m->rejected && !notes->truncated;
    return true;
}
