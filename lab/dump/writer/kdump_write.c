/* kdump_write.c - see kdump_write.h. The file is laid out as QEMU's create_kdump_vmcore
 * lays it out, only written directly (not flattened) and in parallel:
 *
 *   block 0        disk_dump_header, version 6, status DUMP_DH_COMPRESSED_ZSTD or _LZO
 *   block 1        kdump_sub_header, then the ELF notes (sub_hdr_size blocks in all)
 *   next           bitmap 1 | bitmap 2 (identical: every page of every range is dumped)
 *   next           page descriptors, one per page in pfn order (24 bytes each)
 *   next           the shared zero page (raw), then the chunks' page data in pfn order
 *
 * The descriptor count is known before any page is read, so the data offset is too: each
 * worker reads and compresses a 1 MiB chunk, then takes the next file offset in chunk order
 * and writes at it (pwrite), while the others go on compressing.
 */
#include "dump/writer/kdump_write.h"
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lzo/lzo1x.h>
#include <zstd.h>

#include "dump/kdump/format.h"
#include "dump/le.h"
#include "dump/pagemap.h"
#include "util/autoptr.h"

#define CHUNK_PAGES 256u
#define MAX_THREADS 64

typedef struct {
    uint64_t gpa;
    uint32_t npages;
    uint64_t first; /* index of its first page among all pages */
} chunk;

typedef struct {
    const cl_kw_params *p;
    const cl_kw_source *src;
    int fd;
    chunk *chunks;
    size_t nchunks;
    unsigned char *desc;     /* 24 bytes per page, little-endian, written at the end */
    uint64_t zero_off;       /* file offset of the shared zero page */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next_take;        /* next chunk to compress */
    size_t next_place;       /* next chunk to get a file offset */
    uint64_t data_off;       /* where the next placed chunk goes */
    uint64_t zero_pages, raw_pages;
    cl_error *err;           /* first failure; every worker stops */
} job;

static void put_desc(unsigned char *d, uint64_t off, uint32_t size, uint32_t flags)
{
    for (int i = 0; i < 8; i++)
        d[i] = (unsigned char)(off >> (8 * i));
    for (int i = 0; i < 4; i++) {
        d[8 + i] = (unsigned char)(size >> (8 * i));
        d[12 + i] = (unsigned char)(flags >> (8 * i));
    }
    memset(d + 16, 0, 8);
}

static bool page_is_zero(const unsigned char *p)
{
    const uint64_t *w = (const uint64_t *)(const void *)p;
    uint64_t acc = 0;
    for (size_t i = 0; i < CL_KW_PAGE / 8; i += 8)
        acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7];
    return acc == 0;
}

static bool pwrite_all(int fd, const void *buf, size_t len, uint64_t off, cl_error **errp)
{
    const unsigned char *b = buf;
    while (len) {
        ssize_t n = pwrite(fd, b, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return cl_error_set_errno(errp, CL_ERR_IO, n < 0 ? errno : ENOSPC, "kdump-write: cannot write %zu bytes at 0x%llx",
                                      len, (unsigned long long)off);
        b += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return true;
}

static void job_fail(job *j, cl_error *e)
{
    pthread_mutex_lock(&j->mu);
    if (!j->err)
        j->err = e;
    else
        cl_error_free(e);
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

/* One worker's codec state: a zstd context, or lzo1x_1's work memory. */
typedef struct {
    ZSTD_CCtx *zstd;
    void *lzo_work;
} codec_state;

/* Compresses one page into out (cap bytes); returns its size, or 0 when it does not shrink. */
static size_t compress_page(const job *j, codec_state *cs, const unsigned char *pg, unsigned char *out, size_t cap)
{
    if (j->p->codec == CL_KW_LZO) {
        lzo_uint n = cap;
        if (lzo1x_1_compress(pg, CL_KW_PAGE, out, &n, cs->lzo_work) != LZO_E_OK)
            return 0;
        return n < CL_KW_PAGE ? (size_t)n : 0;
    }
    size_t n = ZSTD_compressCCtx(cs->zstd, out, cap, pg, CL_KW_PAGE, j->p->level ? j->p->level : 1);
    return !ZSTD_isError(n) && n < CL_KW_PAGE ? n : 0;
}

/* Compresses one chunk into out (relative offsets in the descriptors); returns its bytes. */
static size_t compress_chunk(job *j, codec_state *cs, const chunk *c, const unsigned char *in, const unsigned char *map,
                             unsigned char *out, size_t outcap, uint64_t *zeros, uint64_t *raws)
{
    size_t pos = 0;
    uint32_t flag = j->p->codec == CL_KW_LZO ? DUMP_DH_COMPRESSED_LZO : DUMP_DH_COMPRESSED_ZSTD;
    for (uint32_t i = 0; i < c->npages; i++) {
        const unsigned char *pg = in + (size_t)i * CL_KW_PAGE;
        unsigned char *d = j->desc + (c->first + i) * sizeof(kdump_page_desc);
        if ((map && !map[i]) || page_is_zero(pg)) {
            put_desc(d, UINT64_MAX, CL_KW_PAGE, 0); /* placed below: the shared zero page */
            (*zeros)++;
            continue;
        }
        size_t n = compress_page(j, cs, pg, out + pos, outcap - pos);
        if (n) {
            put_desc(d, pos, (uint32_t)n, flag);
        } else {
            n = CL_KW_PAGE;
            memcpy(out + pos, pg, CL_KW_PAGE);
            put_desc(d, pos, CL_KW_PAGE, 0);
            (*raws)++;
        }
        pos += n;
    }
    return pos;
}

static void *worker(void *arg)
{
    job *j = arg;
    size_t incap = (size_t)CHUNK_PAGES * CL_KW_PAGE;
    /* lzo1x's worst case is the page plus page/16 + 64 + 3 bytes. */
    size_t bound = ZSTD_compressBound(CL_KW_PAGE);
    size_t lzo_bound = CL_KW_PAGE + CL_KW_PAGE / 16 + 64 + 3;
    if (lzo_bound > bound)
        bound = lzo_bound;
    size_t outcap = (size_t)CHUNK_PAGES * bound;
    unsigned char *in = malloc(incap), *out = malloc(outcap);
    codec_state cs = { 0 };
    if (j->p->codec == CL_KW_LZO)
        cs.lzo_work = malloc(LZO1X_1_MEM_COMPRESS);
    else
        cs.zstd = ZSTD_createCCtx();
    uint64_t zeros = 0, raws = 0;
    if (!in || !out || (!cs.zstd && !cs.lzo_work)) {
        cl_error *e = NULL;
        cl_error_set(&e, CL_ERR_NOMEM, "kdump-write: cannot allocate a worker's buffers");
        job_fail(j, e);
        goto done;
    }
    for (;;) {
        pthread_mutex_lock(&j->mu);
        size_t idx = j->next_take++;
        bool stop = j->err != NULL || idx >= j->nchunks;
        pthread_mutex_unlock(&j->mu);
        if (stop)
            break;
        const chunk *c = &j->chunks[idx];
        cl_error *e = NULL;
        unsigned char map[CHUNK_PAGES];
        bool have = j->src->present && j->src->present(j->src->ctx, c->gpa, c->npages, map);
        bool any = !have;
        for (uint32_t i = 0; have && !any && i < c->npages; i++)
            any = map[i] != 0;
        if (any && !j->src->read(j->src->ctx, c->gpa, in, (size_t)c->npages * CL_KW_PAGE, &e)) {
            job_fail(j, e);
            break;
        }
        size_t n = compress_chunk(j, &cs, c, in, have ? map : NULL, out, outcap, &zeros, &raws);
        /* Take the next offset in chunk order, then write outside the lock. */
        pthread_mutex_lock(&j->mu);
        while (j->next_place != idx && !j->err)
            pthread_cond_wait(&j->cv, &j->mu);
        if (j->err) {
            pthread_mutex_unlock(&j->mu);
            break;
        }
        uint64_t base = j->data_off;
        j->data_off += n;
        j->next_place++;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
        for (uint32_t i = 0; i < c->npages; i++) {
            unsigned char *d = j->desc + (c->first + i) * sizeof(kdump_page_desc);
            uint64_t rel = cl_le64(d);
            put_desc(d, rel == UINT64_MAX ? j->zero_off : base + rel, cl_le32(d + 8), cl_le32(d + 12));
        }
        if (n && !pwrite_all(j->fd, out, n, base, &e)) {
            job_fail(j, e);
            break;
        }
    }
done:
    pthread_mutex_lock(&j->mu);
    j->zero_pages += zeros;
    j->raw_pages += raws;
    pthread_mutex_unlock(&j->mu);
    ZSTD_freeCCtx(cs.zstd);
    free(cs.lzo_work);
    free(in);
    free(out);
    return NULL;
}

static bool check_params(const cl_kw_params *p, uint64_t *npages, uint64_t *max_mapnr, cl_error **errp)
{
    if (!p->nranges || p->nranges > CL_KW_MAX_RANGES)
        return cl_error_set(errp, CL_ERR_INVAL, "kdump-write: %zu memory ranges (1..%u)", p->nranges, CL_KW_MAX_RANGES);
    uint64_t total = 0, end = 0;
    for (size_t i = 0; i < p->nranges; i++) {
        const cl_kw_range *r = &p->ranges[i];
        if (r->gpa % CL_KW_PAGE || r->len % CL_KW_PAGE || !r->len || r->gpa < end || r->gpa + r->len < r->gpa ||
            r->gpa + r->len > (1ull << 52))
            return cl_error_set(errp, CL_ERR_INVAL, "kdump-write: range %zu (0x%llx+0x%llx) is unaligned, empty, "
                                "overlapping or out of order", i, (unsigned long long)r->gpa, (unsigned long long)r->len);
        end = r->gpa + r->len;
        total += r->len / CL_KW_PAGE;
    }
    if (p->notes_len > (16u << 20))
        return cl_error_set(errp, CL_ERR_INVAL, "kdump-write: %zu bytes of notes", p->notes_len);
    *npages = total;
    *max_mapnr = end / CL_KW_PAGE;
    return true;
}

/* Header, sub-header with notes, and the two bitmaps. */
static bool write_headers(int fd, const cl_kw_params *p, uint64_t max_mapnr, uint32_t sub_hdr_size,
                          uint64_t bitmap_len, cl_error **errp)
{
    kdump_header64 h;
    memset(&h, 0, sizeof(h));
    memcpy(h.signature, KDUMP_SIGNATURE, KDUMP_SIG_LEN);
    h.header_version = 6;
    memcpy(h.utsname, p->utsname, sizeof(h.utsname));
    h.tv_sec = p->timestamp;
    h.status = p->codec == CL_KW_LZO ? DUMP_DH_COMPRESSED_LZO : DUMP_DH_COMPRESSED_ZSTD;
    h.block_size = CL_KW_PAGE;
    h.sub_hdr_size = sub_hdr_size;
    h.bitmap_blocks = (uint32_t)(2 * bitmap_len / CL_KW_PAGE);
    h.max_mapnr = max_mapnr > UINT32_MAX ? UINT32_MAX : (uint32_t)max_mapnr;
    h.nr_cpus = p->nr_cpus;
    kdump_sub_header64 s;
    memset(&s, 0, sizeof(s));
    s.phys_base = p->phys_base;
    s.dump_level = 1; /* zero pages: not stored (they share one) */
    s.end_pfn = max_mapnr > UINT32_MAX ? UINT32_MAX : max_mapnr;
    s.offset_note = CL_KW_PAGE + sizeof(s);
    s.size_note = p->notes_len;
    size_t vo = 0, vl = 0;
    uint32_t ncpu = 0;
    if (p->notes_len && cl_kw_notes_scan(p->notes, p->notes_len, &ncpu, &vo, &vl, NULL) && vl) {
        s.offset_vmcoreinfo = s.offset_note + vo;
        s.size_vmcoreinfo = vl;
    }
    s.end_pfn_64 = max_mapnr;
    s.max_mapnr_64 = max_mapnr;
    /* Little-endian host (x86-64): the packed structs are the on-disk bytes. */
    if (!pwrite_all(fd, &h, sizeof(h), 0, errp) || !pwrite_all(fd, &s, sizeof(s), CL_KW_PAGE, errp) ||
        (p->notes_len && !pwrite_all(fd, p->notes, p->notes_len, CL_KW_PAGE + sizeof(s), errp)))
        return false;
    cl_pagemap bm;
    if (!cl_pagemap_init(&bm, bitmap_len * 8, bitmap_len, NULL))
        return cl_error_set(errp, CL_ERR_NOMEM, "kdump-write: cannot allocate a %llu-byte bitmap",
                            (unsigned long long)bitmap_len);
    /* The ranges end at max_mapnr (check_params), inside the map. */
    for (size_t i = 0; i < p->nranges; i++)
        for (uint64_t pfn = p->ranges[i].gpa / CL_KW_PAGE; pfn < (p->ranges[i].gpa + p->ranges[i].len) / CL_KW_PAGE; pfn++)
            cl_pagemap_set(&bm, pfn);
    uint64_t off = (uint64_t)(1 + sub_hdr_size) * CL_KW_PAGE;
    bool ok = pwrite_all(fd, bm.bits, bitmap_len, off, errp) && pwrite_all(fd, bm.bits, bitmap_len, off + bitmap_len, errp);
    cl_pagemap_free(&bm);
    return ok;
}

static chunk *make_chunks(const cl_kw_params *p, size_t *n)
{
    size_t cap = 0;
    for (size_t i = 0; i < p->nranges; i++)
        cap += (size_t)((p->ranges[i].len / CL_KW_PAGE + CHUNK_PAGES - 1) / CHUNK_PAGES);
    chunk *c = calloc(cap ? cap : 1, sizeof(*c));
    if (!c)
        return NULL;
    size_t k = 0;
    uint64_t first = 0;
    for (size_t i = 0; i < p->nranges; i++) {
        uint64_t pages = p->ranges[i].len / CL_KW_PAGE;
        for (uint64_t done = 0; done < pages; done += CHUNK_PAGES) {
            c[k].gpa = p->ranges[i].gpa + done * CL_KW_PAGE;
            c[k].npages = (uint32_t)(pages - done < CHUNK_PAGES ? pages - done : CHUNK_PAGES);
            c[k].first = first;
            first += c[k].npages;
            k++;
        }
    }
    *n = k;
    return c;
}

static int thread_count(const cl_kw_params *p)
{
    long n = p->threads > 0 ? p->threads : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

static bool run_workers(job *j, int nthreads, cl_error **errp)
{
    pthread_t t[MAX_THREADS];
    int started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&t[started], NULL, worker, j) != 0)
            break;
    if (!started)
        return cl_error_set(errp, CL_ERR_NOMEM, "kdump-write: cannot start a worker thread");
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    if (j->err) {
        *errp = j->err; /* hand the first failure over as is */
        j->err = NULL;
        return false;
    }
    return true;
}

bool cl_kdump_write(const char *path, const cl_kw_params *p, const cl_kw_source *src, cl_kw_stats *st,
                    cl_error **errp)
{
    uint64_t npages = 0, max_mapnr = 0;
    if (!check_params(p, &npages, &max_mapnr, errp))
        return false;
    if (p->codec != CL_KW_ZSTD && p->codec != CL_KW_LZO)
        return cl_error_set(errp, CL_ERR_INVAL, "kdump-write: unknown codec %d", (int)p->codec);
    if (p->codec == CL_KW_LZO && lzo_init() != LZO_E_OK)
        return cl_error_set(errp, CL_ERR_INVAL, "kdump-write: lzo_init failed (liblzo2 does not match its headers)");
    uint32_t sub_hdr_size = (uint32_t)((sizeof(kdump_sub_header64) + p->notes_len + CL_KW_PAGE - 1) / CL_KW_PAGE);
    uint64_t bitmap_len = ((max_mapnr + 7) / 8 + CL_KW_PAGE - 1) / CL_KW_PAGE * CL_KW_PAGE;
    uint64_t desc_off = (uint64_t)(1 + sub_hdr_size) * CL_KW_PAGE + 2 * bitmap_len;

    char tmp[PATH_MAX];
    job j;
    memset(&j, 0, sizeof(j));
    j.p = p;
    j.src = src;
    /* A fresh name, O_EXCL|O_NOFOLLOW: the output directory may be writable by others. */
    j.fd = cl_file_create_temp(path, CL_FILE_MODE, tmp, sizeof(tmp), errp);
    if (j.fd < 0) {
        cl_error_prefix(errp, "kdump-write");
        return false;
    }
    j.zero_off = desc_off + npages * sizeof(kdump_page_desc);
    j.data_off = j.zero_off + CL_KW_PAGE;
    j.desc = malloc(npages * sizeof(kdump_page_desc));
    j.chunks = make_chunks(p, &j.nchunks);
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    int nthreads = thread_count(p);
    static const unsigned char zero[CL_KW_PAGE];
    bool ok = (j.desc && j.chunks) || cl_error_set(errp, CL_ERR_NOMEM, "kdump-write: cannot allocate %llu page descriptors",
                                                  (unsigned long long)npages);
    ok = ok && write_headers(j.fd, p, max_mapnr, sub_hdr_size, bitmap_len, errp) &&
         pwrite_all(j.fd, zero, sizeof(zero), j.zero_off, errp) && run_workers(&j, nthreads, errp) &&
         pwrite_all(j.fd, j.desc, npages * sizeof(kdump_page_desc), desc_off, errp);
    if (ok && close(j.fd) < 0)
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "kdump-write: cannot close '%s'", tmp);
    else if (!ok)
        close(j.fd);
    if (ok && rename(tmp, path) < 0)
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "kdump-write: cannot rename '%s' to '%s'", tmp, path);
    if (!ok)
        unlink(tmp);
    if (ok && st) {
        st->pages = npages;
        st->zero_pages = j.zero_pages;
        st->raw_pages = j.raw_pages;
        st->file_bytes = j.data_off;
        st->threads = nthreads;
    }
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.cv);
    free(j.desc);
    free(j.chunks);
    return ok;
}
