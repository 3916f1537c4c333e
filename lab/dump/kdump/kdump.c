#include "dump/kdump/kdump.h"

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "dump/kdump/flat.h"
#include "dump/kdump/format.h"
#include "dump/le.h"

bool cl_kdump_probe(const unsigned char *head, size_t len)
{
    return (len >= KDUMP_SIG_LEN && !memcmp(head, KDUMP_SIGNATURE, KDUMP_SIG_LEN)) ||
           (len >= sizeof(FLAT_SIGNATURE) && !memcmp(head, FLAT_SIGNATURE, sizeof(FLAT_SIGNATURE)));
}

void cl_kdump_free(cl_kdump *k)
{
    if (!k)
        return;
    cl_reader_free(k->flat);
    cl_pagemap_free(&k->map);
    free(k->cbuf);
    cl_linux_notes_clear(&k->lnotes);
    cl_dump_notes_clear(&k->notes);
    free(k);
}

/* Builds the reassembled view of a flattened file: what `makedumpfile -R` would write, from
 * the records flat.c kept. */
static bool open_flattened(cl_kdump *k, cl_error **errp)
{
    cl_flat_map m;
    if (!cl_flat_map_read(k->file, &m, &k->notes, errp))
        return false;
    k->flat_faithful = m.faithful;
    k->flat = cl_reader_open_extents(k->file, m.size, m.ext, m.n, errp); /* takes m.ext */
    if (!k->flat)
        return false;
    k->r = k->flat;
    return true;
}

static bool desc_read(cl_kdump *k, uint64_t pfn, kdump_page_desc *d, cl_error **errp)
{
    if (!cl_pagemap_test(&k->map, pfn))
        return cl_error_set(errp, CL_ERR_INVAL, "kdump: page 0x%llx is not in the dump", (unsigned long long)pfn);
    uint64_t rank = cl_pagemap_rank(&k->map, pfn);
    unsigned char b[sizeof(kdump_page_desc)];
    if (!cl_reader_read(k->r, k->desc_offset + rank * sizeof(b), sizeof(b), b, errp))
        return false;
    d->offset = cl_le64(b + offsetof(kdump_page_desc, offset));
    d->size = cl_le32(b + offsetof(kdump_page_desc, size));
    d->flags = cl_le32(b + offsetof(kdump_page_desc, flags));
    return true;
}

static bool kdump_read_page(void *ctx, uint64_t pfn, void *page, cl_error **errp)
{
    cl_kdump *k = ctx;
    kdump_page_desc d = { 0 };
    if (!desc_read(k, pfn, &d, errp))
        return false;
    if (d.size == 0 || d.size > k->block_size)
        return cl_error_set(errp, CL_ERR_CORRUPT, "kdump: page 0x%llx has a stored size of %u bytes",
                            (unsigned long long)pfn, d.size);
    if (!cl_reader_read(k->r, d.offset, d.size, k->cbuf, errp))
        return false;
    uint32_t comp = d.flags & (DUMP_DH_COMPRESSED_ZLIB | DUMP_DH_COMPRESSED_LZO | DUMP_DH_COMPRESSED_SNAPPY |
                               DUMP_DH_COMPRESSED_ZSTD);
    k->compressions_seen |= comp;
    if (!comp) {
        if (d.size != k->block_size)
            return cl_error_set(errp, CL_ERR_CORRUPT, "kdump: raw page 0x%llx has %u bytes", (unsigned long long)pfn,
                                d.size);
        memcpy(page, k->cbuf, d.size);
        return true;
    }
    if (comp == DUMP_DH_COMPRESSED_ZLIB) {
        uLongf out = k->block_size;
        if (uncompress(page, &out, k->cbuf, d.size) != Z_OK || out != k->block_size)
            return cl_error_set(errp, CL_ERR_CORRUPT, "kdump: page 0x%llx does not inflate to a page (zlib)",
                                (unsigned long long)pfn);
        return true;
    }
    if (comp == DUMP_DH_COMPRESSED_LZO) {
        lzo_uint out = k->block_size;
        if (lzo1x_decompress_safe(k->cbuf, d.size, page, &out, NULL) != LZO_E_OK || out != k->block_size)
            return cl_error_set(errp, CL_ERR_CORRUPT, "kdump: page 0x%llx does not decompress to a page (lzo)",
                                (unsigned long long)pfn);
        return true;
    }
    if (comp == DUMP_DH_COMPRESSED_SNAPPY) {
        size_t out = 0;
        if (snappy_uncompressed_length((const char *)k->cbuf, d.size, &out) != SNAPPY_OK || out != k->block_size ||
            snappy_uncompress((const char *)k->cbuf, d.size, page, &out) != SNAPPY_OK)
            return cl_error_set(errp, CL_ERR_CORRUPT, "kdump: page 0x%llx does not decompress to a page (snappy)",
                                (unsigned long long)pfn);
        return true;
    }
    if (comp == DUMP_DH_COMPRESSED_ZSTD) { /* the lab's own writer (lab/dump/writer) and makedumpfile -z */
        size_t out = ZSTD_decompress(page, k->block_size, k->cbuf, d.size);
        if (ZSTD_isError(out) || out != k->block_size)
            return cl_error_set(errp, CL_ERR_CORRUPT, "kdump: page 0x%llx does not decompress to a page (zstd)",
                                (unsigned long long)pfn);
        return true;
    }
    return cl_error_set(errp, CL_ERR_FORMAT, "kdump: page 0x%llx uses mixed compression flags 0x%x",
                        (unsigned long long)pfn, d.flags);
}

/* Pages count as held only while their descriptors are in the file (a cut-short dump ends
 * there), so that scans stop instead of failing page by page. */
static bool kdump_next_page(void *ctx, uint64_t pfn, uint64_t *next)
{
    cl_kdump *k = ctx;
    uint64_t size = cl_reader_size(k->r);
    uint64_t descs = k->desc_offset < size ? (size - k->desc_offset) / sizeof(kdump_page_desc) : 0;
    return cl_pagemap_next_held(&k->map, pfn, descs, next);
}

static void read_sub_header(cl_kdump *k)
{
    cl_error *err = NULL;
    unsigned char s[sizeof(kdump_sub_header64)] = { 0 };
    if (!cl_reader_read(k->r, k->block_size, sizeof(s), s, &err)) {
        cl_dump_note_error(&k->notes, &err, "kdump: sub-header");
        return;
    }
    k->phys_base = cl_le64(s + offsetof(kdump_sub_header64, phys_base));
    if (k->header_version >= 6)
        k->max_mapnr = cl_le64(s + offsetof(kdump_sub_header64, max_mapnr_64));
    if (k->header_version >= 4) {
        uint64_t off = cl_le64(s + offsetof(kdump_sub_header64, offset_note));
        uint64_t size = cl_le64(s + offsetof(kdump_sub_header64, size_note));
        if (size > (16u << 20) || size > cl_reader_backed(k->r)) {
            cl_dump_warn(&k->notes, "kdump: note area of %llu bytes is implausible", (unsigned long long)size);
        } else if (size) {
            unsigned char *buf = malloc(size);
            if (buf && cl_reader_read(k->r, off, size, buf, &err))
                cl_linux_notes_collect(buf, size, &k->lnotes, &k->notes);
            else
                cl_dump_note_error(&k->notes, &err, "kdump: note area");
            free(buf);
        }
    }
    if (k->header_version >= 3 && !k->lnotes.vmcoreinfo) {
        uint64_t off = cl_le64(s + offsetof(kdump_sub_header64, offset_vmcoreinfo));
        uint64_t size = cl_le64(s + offsetof(kdump_sub_header64, size_vmcoreinfo));
        if (size > CL_VMCOREINFO_MAX) {
            cl_dump_warn(&k->notes, "kdump: VMCOREINFO of %llu bytes capped", (unsigned long long)size);
            size = CL_VMCOREINFO_MAX;
        }
        if (size) {
            char *buf = malloc(size);
            if (buf && cl_reader_read(k->r, off, size, buf, &err))
                cl_linux_notes_set_vmcoreinfo(&k->lnotes, buf, size);
            else
                cl_dump_note_error(&k->notes, &err, "kdump: VMCOREINFO");
            free(buf);
        }
    }
}

/* A file cut inside the page data still has all its descriptors: count the pages whose
 * data lies past the end, so that the truncation is reported up front. */
static void check_page_data(cl_kdump *k, uint64_t n)
{
    unsigned char buf[24 * 512];
    uint64_t missing = 0, bad = 0;
    for (uint64_t i = 0; i < n;) {
        size_t m = n - i < 512 ? (size_t)(n - i) : 512;
        cl_error *err = NULL;
        if (!cl_reader_read(k->r, k->desc_offset + i * 24, m * 24, buf, &err)) {
            cl_dump_note_error(&k->notes, &err, "kdump: page descriptors");
            return;
        }
        for (size_t j = 0; j < m; j++) {
            uint64_t off = cl_le64(buf + 24 * j);
            uint32_t size = cl_le32(buf + 24 * j + 8);
            if (size == 0 || size > k->block_size)
                bad++;
            else if (!cl_reader_has(k->r, off, size))
                missing++;
        }
        i += m;
    }
    if (missing)
        cl_dump_truncated(&k->notes, "kdump: the data of %llu of %llu pages lies past the end of the file",
                          (unsigned long long)missing, (unsigned long long)n);
    if (bad)
        cl_dump_warn(&k->notes, "kdump: %llu page descriptors have an impossible size", (unsigned long long)bad);
}

static void read_bitmap(cl_kdump *k, uint32_t sub_hdr_size, uint32_t bitmap_blocks)
{
    cl_error *err = NULL;
    uint64_t bitmap_off = (uint64_t)(1 + (uint64_t)sub_hdr_size) * k->block_size;
    uint64_t total = (uint64_t)bitmap_blocks * k->block_size;
    uint64_t bitmap_bytes = total / 2;
    /* In a flattened file the view may span holes no record fills: size by real data. */
    if (cl_reader_has(k->r, bitmap_off, total) && total > cl_reader_backed(k->r)) {
        cl_dump_warn(&k->notes, "kdump: bitmaps of %llu bytes are larger than the data the file holds",
                     (unsigned long long)total);
        return;
    }
    if (!cl_reader_has(k->r, bitmap_off, total) || total == 0) {
        if (total)
            cl_dump_truncated(&k->notes, "kdump: bitmaps (%llu bytes at 0x%llx) run past the end of the file",
                              (unsigned long long)total, (unsigned long long)bitmap_off);
        else
            cl_dump_warn(&k->notes, "kdump: no page bitmap");
        return;
    }
    /* Bounded above: the bitmaps are in the file. */
    if (!cl_pagemap_init(&k->map, bitmap_bytes * 8, bitmap_bytes, NULL)) {
        cl_dump_warn(&k->notes, "kdump: cannot allocate the %llu-byte bitmap", (unsigned long long)bitmap_bytes);
        return;
    }
    /* The second bitmap: the pages dumped. */
    if (!cl_reader_read(k->r, bitmap_off + bitmap_bytes, bitmap_bytes, k->map.bits, &err)) {
        cl_dump_note_error(&k->notes, &err, "kdump: bitmap");
        cl_pagemap_free(&k->map);
        return;
    }
    uint64_t set = cl_pagemap_seal(&k->map);
    k->dumped_pages = set;
    k->desc_offset = bitmap_off + total;
    if (set > (UINT64_MAX - k->desc_offset) / sizeof(kdump_page_desc) ||
        !cl_reader_has(k->r, k->desc_offset, set * sizeof(kdump_page_desc))) {
        cl_dump_truncated(&k->notes, "kdump: %llu page descriptors at 0x%llx run past the end of the file",
                          (unsigned long long)set, (unsigned long long)k->desc_offset);
        return;
    }
    check_page_data(k, set);
}

cl_kdump *cl_kdump_open(cl_reader *r, cl_error **errp)
{
    unsigned char head[16] = { 0 };
    size_t hn = cl_reader_size(r) < sizeof(head) ? (size_t)cl_reader_size(r) : sizeof(head);
    if (!cl_reader_read(r, 0, hn, head, errp))
        return NULL;
    if (!cl_kdump_probe(head, hn)) {
        cl_error_set(errp, CL_ERR_FORMAT, "kdump: no KDUMP or makedumpfile signature");
        return NULL;
    }
    CL_AUTOPTR(cl_kdump) k = calloc(1, sizeof(*k));
    if (!k) {
        cl_error_set(errp, CL_ERR_NOMEM, "kdump: cannot allocate");
        return NULL;
    }
    k->file = k->r = r;
    k->mem.ctx = k;
    k->mem.read_page = kdump_read_page;
    k->mem.next_page = kdump_next_page;
    if (!memcmp(head, FLAT_SIGNATURE, sizeof(FLAT_SIGNATURE))) {
        k->flattened = true;
        if (!open_flattened(k, errp))
            return NULL;
    }
    cl_error *err = NULL;
    unsigned char h[sizeof(kdump_header64)] = { 0 };
    if (!cl_reader_read(k->r, 0, sizeof(h), h, &err)) {
        cl_dump_note_error(&k->notes, &err, "kdump: header");
        return cl_steal_pointer(&k);
    }
    if (memcmp(h, KDUMP_SIGNATURE, KDUMP_SIG_LEN)) {
        if (k->flattened) {
            cl_dump_warn(&k->notes, "kdump: the flattened data does not start with a KDUMP header");
            return cl_steal_pointer(&k);
        }
    }
    k->header_version = cl_le32(h + offsetof(kdump_header64, header_version));
    memcpy(k->release, h + offsetof(kdump_header64, utsname) + 65 * UTS_RELEASE, 65);
    memcpy(k->machine, h + offsetof(kdump_header64, utsname) + 65 * UTS_MACHINE, 65);
    k->timestamp = (int64_t)cl_le64(h + offsetof(kdump_header64, tv_sec));
    k->block_size = cl_le32(h + offsetof(kdump_header64, block_size));
    k->nr_cpus = cl_le32(h + offsetof(kdump_header64, nr_cpus));
    k->max_mapnr = cl_le32(h + offsetof(kdump_header64, max_mapnr));
    uint32_t sub_hdr_size = cl_le32(h + offsetof(kdump_header64, sub_hdr_size));
    uint32_t bitmap_blocks = cl_le32(h + offsetof(kdump_header64, bitmap_blocks));
    if (k->block_size != CL_PAGE_SIZE) {
        cl_dump_warn(&k->notes, "kdump: block size %u: only 4096-byte pages can be read", k->block_size);
        if (k->block_size == 0 || k->block_size > KDUMP_MAX_BLOCK_SIZE || (k->block_size & (k->block_size - 1)))
            return cl_steal_pointer(&k);
    }
    read_sub_header(k);
    read_bitmap(k, sub_hdr_size, bitmap_blocks);
    if (k->block_size != CL_PAGE_SIZE)
        cl_pagemap_free(&k->map); /* header fields only */
    k->cbuf = malloc(k->block_size);
    if (!k->cbuf) {
        cl_error_set(errp, CL_ERR_NOMEM, "kdump: cannot allocate a page buffer");
        return NULL;
    }
    static bool lzo_ready;
    if (!lzo_ready && lzo_init() == LZO_E_OK)
        lzo_ready = true;
    return cl_steal_pointer(&k);
}
