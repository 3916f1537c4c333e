#include "dump/windows/windump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/le.h"
#include "dump/windows/format.h"

#define F64(f) offsetof(win_header64, f)
#define F32(f) offsetof(win_header32, f)

bool cl_windump_probe(const unsigned char *head, size_t len)
{
    if (len < 8 || cl_le32(head) != WIN_SIG_PAGE)
        return false;
    uint32_t v = cl_le32(head + 4);
    return v == WIN_SIG_DU64 || v == WIN_SIG_DUMP;
}

const char *cl_windump_type_name(uint32_t type)
{
    switch (type) {
    case 1: return "full";
    case 2: return "kernel";
    case 3: return "header-only";
    case 4: return "triage";
    case 5: return "bitmap-full";
    case 6: return "bitmap-kernel";
    case 7: return "automatic";
    case 8: return "kernel-memory";
    case 9: return "kernel-and-user-memory";
    case 10: return "complete-memory";
    default: return NULL;
    }
}

const char *cl_windump_machine_name(uint32_t machine)
{
    switch (machine) {
    case CL_WIN_MACHINE_I386: return "x86";
    case CL_WIN_MACHINE_AMD64: return "x64";
    case CL_WIN_MACHINE_ARM64: return "arm64";
    case 0x01c4: return "arm";
    default: return NULL;
    }
}

void cl_windump_free(cl_windump *d)
{
    if (!d)
        return;
    free(d->runs);
    cl_pagemap_free(&d->map);
    free(d->modules);
    cl_dump_notes_clear(&d->notes);
    free(d);
}

/* The header as far as the file holds it; fields past `avail` read as zero. */
typedef struct {
    unsigned char b[0x2000];
    size_t avail;
} header_buf;

static bool hdr_has(const header_buf *h, size_t off, size_t len)
{
    return off + len <= h->avail;
}

static void decode_header64(cl_windump *d, const header_buf *h)
{
    const unsigned char *b = h->b;
    d->major = cl_le32(b + F64(major_version));
    d->minor = cl_le32(b + F64(minor_version));
    d->directory_table_base = cl_le64(b + F64(directory_table_base));
    d->pfn_database = cl_le64(b + F64(pfn_database));
    d->ps_loaded_module_list = cl_le64(b + F64(ps_loaded_module_list));
    d->ps_active_process_head = cl_le64(b + F64(ps_active_process_head));
    d->machine = cl_le32(b + F64(machine_image_type));
    d->processors = cl_le32(b + F64(number_processors));
    d->bugcheck = cl_le32(b + F64(bugcheck_code));
    for (int i = 0; i < 4; i++)
        d->params[i] = cl_le64(b + F64(bugcheck_param) + 8 * i);
    d->kd_debugger_data_block = cl_le64(b + F64(kd_debugger_data_block));
    d->dump_type = cl_le32(b + F64(dump_type));
    d->required_dump_space = cl_le64(b + F64(required_dump_space));
    d->system_time = cl_le64(b + F64(system_time));
    d->system_up_time = cl_le64(b + F64(system_up_time));
    d->product_type = cl_le32(b + F64(product_type));
    d->suite_mask = cl_le32(b + F64(suite_mask));
    memcpy(d->comment, b + F64(comment), 128);
    if (hdr_has(h, F64(exception), 0x18)) {
        d->have_exception = true;
        d->exception_code = cl_le32(b + F64(exception) + WIN_EXC64_CODE);
        d->exception_address = cl_le64(b + F64(exception) + WIN_EXC64_ADDRESS);
    }
}

static void decode_header32(cl_windump *d, const header_buf *h)
{
    const unsigned char *b = h->b;
    d->major = cl_le32(b + F32(major_version));
    d->minor = cl_le32(b + F32(minor_version));
    d->directory_table_base = cl_le32(b + F32(directory_table_base));
    d->pfn_database = cl_le32(b + F32(pfn_database));
    d->ps_loaded_module_list = cl_le32(b + F32(ps_loaded_module_list));
    d->ps_active_process_head = cl_le32(b + F32(ps_active_process_head));
    d->machine = cl_le32(b + F32(machine_image_type));
    d->processors = cl_le32(b + F32(number_processors));
    d->bugcheck = cl_le32(b + F32(bugcheck_code));
    for (int i = 0; i < 4; i++)
        d->params[i] = cl_le32(b + F32(bugcheck_param) + 4 * i);
    d->kd_debugger_data_block = cl_le32(b + F32(kd_debugger_data_block));
    d->dump_type = cl_le32(b + F32(dump_type));
    d->required_dump_space = cl_le64(b + F32(required_dump_space));
    d->system_time = cl_le64(b + F32(system_time));
    d->system_up_time = cl_le64(b + F32(system_up_time));
    d->product_type = cl_le32(b + F32(product_type));
    d->suite_mask = cl_le32(b + F32(suite_mask));
    memcpy(d->comment, b + F32(comment), 128);
    if (hdr_has(h, F32(exception), 0x10)) {
        d->have_exception = true;
        d->exception_code = cl_le32(b + F32(exception) + WIN_EXC32_CODE);
        d->exception_address = cl_le32(b + F32(exception) + WIN_EXC32_ADDRESS);
    }
}

/* PhysicalMemoryBlock: a run count, then (BasePage, PageCount) pairs stored one after the
 * other from the end of the header. */
static void parse_runs(cl_windump *d, const header_buf *h)
{
    size_t pmd = d->is64 ? F64(physical_memory_block) : F32(physical_memory_block);
    size_t area = d->is64 ? sizeof(((win_header64 *)0)->physical_memory_block)
                          : sizeof(((win_header32 *)0)->physical_memory_block);
    size_t first = d->is64 ? WIN_PMD64_RUNS : WIN_PMD32_RUNS;
    size_t esize = d->is64 ? 16 : 8;
    uint32_t n = cl_le32(h->b + pmd);
    d->number_of_pages = d->is64 ? cl_le64(h->b + pmd + 8) : cl_le32(h->b + pmd + 4);
    if (n == 0) {
        cl_dump_warn(&d->notes, "windows: full dump with no physical memory runs");
        return;
    }
    size_t fit = (area - first) / esize;
    if (n > fit || n > CL_WIN_MAX_RUNS) {
        cl_dump_warn(&d->notes, "windows: NumberOfRuns %u exceeds the %zu the header can hold", n, fit);
        return;
    }
    d->runs = calloc(n, sizeof(*d->runs));
    if (!d->runs) {
        cl_dump_warn(&d->notes, "windows: cannot allocate %u runs", n);
        return;
    }
    uint64_t off = d->header_size;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = h->b + pmd + first + esize * i;
        cl_win_run *run = &d->runs[d->nruns];
        run->base_page = d->is64 ? cl_le64(e) : cl_le32(e);
        run->page_count = d->is64 ? cl_le64(e + 8) : cl_le32(e + 4);
        /* A run must neither wrap the page-number space nor the file offset arithmetic. */
        if (run->page_count > (UINT64_MAX >> 12) - (off >> 12) - 1 ||
            run->base_page > UINT64_MAX / WIN_PAGE_SIZE - run->page_count) {
            cl_dump_warn(&d->notes, "windows: physical memory run %u (base page 0x%llx, %llu pages) overflows", i,
                         (unsigned long long)run->base_page, (unsigned long long)run->page_count);
            break;
        }
        run->file_offset = off;
        off += run->page_count * WIN_PAGE_SIZE;
        total += run->page_count;
        d->nruns++;
    }
    if (d->nruns == n && total != d->number_of_pages)
        cl_dump_warn(&d->notes, "windows: runs hold %llu pages but NumberOfPages says %llu",
                     (unsigned long long)total, (unsigned long long)d->number_of_pages);
    if (off > cl_reader_size(d->r))
        cl_dump_truncated(&d->notes,
                          "windows: the physical memory runs end at offset 0x%llx but the file has 0x%llx bytes",
                          (unsigned long long)off, (unsigned long long)cl_reader_size(d->r));
}

static bool parse_bitmap(cl_windump *d)
{
    cl_error *err = NULL;
    unsigned char b[sizeof(win_bmp_header64)];
    uint64_t at = d->header_size;
    if (!cl_reader_read(d->r, at, sizeof(b), b, &err)) {
        cl_dump_note_error(&d->notes, &err, "windows: bitmap header");
        return false;
    }
    uint32_t sig = cl_le32(b + offsetof(win_bmp_header64, signature));
    if ((sig != WIN_SIG_SDMP && sig != WIN_SIG_FDMP) ||
        cl_le32(b + offsetof(win_bmp_header64, valid_dump)) != WIN_SIG_DUMP)
        return false;
    d->bitmap_signature = sig;
    d->bmp_first_page = cl_le64(b + offsetof(win_bmp_header64, first_page));
    d->bmp_present_pages = cl_le64(b + offsetof(win_bmp_header64, total_present_pages));
    d->bmp_pages = cl_le64(b + offsetof(win_bmp_header64, pages));
    uint64_t bytes = d->bmp_pages / 8 + (d->bmp_pages % 8 != 0);
    uint64_t bitmap_off = at + sizeof(b);
    /* The bitmap itself is in the file, so its size is bounded by the file's. */
    if (!cl_reader_has(d->r, bitmap_off, bytes)) {
        cl_dump_truncated(&d->notes, "windows: bitmap of %llu bits runs past the end of the file",
                          (unsigned long long)d->bmp_pages);
        return false;
    }
    if (d->bmp_first_page < bitmap_off + bytes) {
        cl_dump_warn(&d->notes, "windows: bitmap FirstPage 0x%llx overlaps the bitmap",
                     (unsigned long long)d->bmp_first_page);
        return false;
    }
    if (!cl_pagemap_init(&d->map, d->bmp_pages, bytes, NULL)) {
        cl_dump_warn(&d->notes, "windows: cannot allocate the page bitmap (%llu bytes)", (unsigned long long)bytes);
        return false;
    }
    if (!cl_reader_read(d->r, bitmap_off, bytes, d->map.bits, &err)) {
        cl_dump_note_error(&d->notes, &err, "windows: bitmap");
        return false;
    }
    uint64_t set = cl_pagemap_seal(&d->map);
    if (set != d->bmp_present_pages)
        cl_dump_warn(&d->notes, "windows: bitmap has %llu pages set but TotalPresentPages says %llu",
                     (unsigned long long)set, (unsigned long long)d->bmp_present_pages);
    uint64_t size = cl_reader_size(d->r);
    if (set > (size - d->bmp_first_page) / WIN_PAGE_SIZE || d->bmp_first_page > size)
        cl_dump_truncated(&d->notes, "windows: %llu present pages from offset 0x%llx run past the end of the file",
                          (unsigned long long)set, (unsigned long long)d->bmp_first_page);
    d->have_bitmap = true;
    return true;
}

/* Narrows a DUMP_STRING at off to ASCII. */
static bool read_dump_string(cl_windump *d, uint64_t off, char *out, size_t outlen, cl_error **errp)
{
    unsigned char len4[4];
    if (!cl_reader_read(d->r, off, 4, len4, errp))
        return false;
    uint32_t n = cl_le32(len4);
    if (n > 1024)
        return cl_error_set(errp, CL_ERR_CORRUPT, "windows: module name of %u characters at 0x%llx", n,
                            (unsigned long long)off);
    unsigned char w[2048];
    if (!cl_reader_read(d->r, off + 4, (size_t)n * 2, w, errp))
        return false;
    size_t k = 0;
    for (uint32_t i = 0; i < n && k + 1 < outlen; i++) {
        uint16_t c = cl_le16(w + 2 * i);
        out[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[k] = '\0';
    return true;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '\\');
    return s ? s + 1 : path;
}

static void parse_triage(cl_windump *d)
{
    cl_error *err = NULL;
    win_triage64 t64 = { 0 };
    unsigned char b[sizeof(win_triage64)] = { 0 };
    size_t tsize = d->is64 ? sizeof(win_triage64) : WIN_TRIAGE32_SIZE;
    if (!cl_reader_read(d->r, d->header_size, tsize, b, &err)) {
        cl_dump_note_error(&d->notes, &err, "windows: triage header");
        return;
    }
    d->have_triage = true;
#define T(f) cl_le32(b + offsetof(win_triage64, f))
    t64.valid_offset = T(valid_offset);
    t64.driver_list_offset = T(driver_list_offset);
    t64.driver_count = T(driver_count);
    d->triage_stack_offset = T(call_stack_offset);
    d->triage_stack_size = T(size_of_call_stack);
#undef T
    d->triage_top_of_stack = d->is64 ? cl_le64(b + offsetof(win_triage64, top_of_stack))
                                     : cl_le32(b + WIN_TRIAGE32_TOP_OF_STACK);
    unsigned char marker[4];
    if (!cl_reader_read(d->r, t64.valid_offset, 4, marker, &err))
        cl_dump_note_error(&d->notes, &err, "windows: triage ValidOffset");
    else if (cl_le32(marker) != WIN_SIG_TRGD)
        cl_dump_warn(&d->notes, "windows: triage ValidOffset 0x%x does not hold 'TRGD'", t64.valid_offset);

    d->driver_count = t64.driver_count;
    uint32_t n = t64.driver_count;
    if (n > CL_WIN_MAX_MODULES) {
        cl_dump_warn(&d->notes, "windows: DriverCount %u capped at %u", n, CL_WIN_MAX_MODULES);
        n = CL_WIN_MAX_MODULES;
    }
    size_t esize = d->is64 ? WIN_DRV64_SIZE : WIN_DRV32_SIZE;
    if (n == 0)
        return;
    d->modules = calloc(n, sizeof(*d->modules));
    if (!d->modules) {
        cl_dump_warn(&d->notes, "windows: cannot allocate %u modules", n);
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        unsigned char e[WIN_DRV64_SIZE];
        uint64_t at = (uint64_t)t64.driver_list_offset + (uint64_t)i * esize;
        if (!cl_reader_read(d->r, at, esize, e, &err)) {
            cl_dump_note_error(&d->notes, &err, "windows: triage driver list");
            break;
        }
        cl_win_module *m = &d->modules[d->nmodules];
        char full[sizeof(m->name)];
        if (!read_dump_string(d, cl_le32(e + (d->is64 ? WIN_DRV64_NAME : WIN_DRV32_NAME)), full, sizeof(full), &err)) {
            cl_dump_note_error(&d->notes, &err, "windows: triage driver name");
            snprintf(full, sizeof(full), "?");
        }
        snprintf(m->name, sizeof(m->name), "%s", base_name(full));
        if (d->is64) {
            m->base = cl_le64(e + WIN_DRV64_DLLBASE);
            m->size = cl_le32(e + WIN_DRV64_SIZEOFIMAGE);
            m->timestamp = cl_le32(e + WIN_DRV64_TIMESTAMP);
        } else {
            m->base = cl_le32(e + WIN_DRV32_DLLBASE);
            m->size = cl_le32(e + WIN_DRV32_SIZEOFIMAGE);
        }
        d->nmodules++;
    }
}

cl_windump *cl_windump_open(cl_reader *r, cl_error **errp)
{
    unsigned char sig[8];
    if (!cl_reader_read(r, 0, sizeof(sig), sig, errp))
        return NULL;
    if (!cl_windump_probe(sig, sizeof(sig))) {
        cl_error_set(errp, CL_ERR_FORMAT, "windows: no PAGEDUMP/PAGEDU64 signature");
        return NULL;
    }
    CL_AUTOPTR(cl_windump) d = calloc(1, sizeof(*d));
    header_buf *h = calloc(1, sizeof(*h));
    if (!d || !h) {
        free(h);
        cl_error_set(errp, CL_ERR_NOMEM, "windows: cannot allocate the header");
        return NULL;
    }
    d->r = r;
    d->is64 = cl_le32(sig + 4) == WIN_SIG_DU64;
    d->header_size = d->is64 ? sizeof(win_header64) : sizeof(win_header32);
    uint64_t size = cl_reader_size(r);
    h->avail = size < d->header_size ? (size_t)size : d->header_size;
    if (!cl_reader_read(r, 0, h->avail, h->b, errp)) {
        free(h);
        return NULL;
    }
    if (h->avail < d->header_size)
        cl_dump_truncated(&d->notes, "windows: the file ends at 0x%zx, inside the 0x%x-byte dump header", h->avail,
                          d->header_size);
    if (d->is64)
        decode_header64(d, h);
    else
        decode_header32(d, h);
    size_t type_off = d->is64 ? F64(dump_type) : F32(dump_type);
    if (!hdr_has(h, type_off, 4)) {
        free(h);
        return cl_steal_pointer(&d);
    }
    if (d->machine != CL_WIN_MACHINE_I386 && d->machine != CL_WIN_MACHINE_AMD64 && d->machine != CL_WIN_MACHINE_ARM64)
        cl_dump_warn(&d->notes, "windows: unknown machine type 0x%x", d->machine);
    switch (d->dump_type) {
    case 4:
        parse_triage(d);
        /* Windows sizes RequiredDumpSpace for the full triage set; the file may well be smaller. */
        break;
    case 1:
        parse_runs(d, h);
        break;
    case 2: case 5: case 6: case 8: case 9: case 10:
        if (!parse_bitmap(d) && !d->notes.truncated && d->dump_type == 2)
            parse_runs(d, h);
        break;
    default:
        if (!cl_windump_type_name(d->dump_type))
            cl_dump_warn(&d->notes, "windows: unknown dump type %u: header fields only", d->dump_type);
        break;
    }
    if (d->dump_type != 4 && d->required_dump_space > size && !d->notes.truncated)
        cl_dump_truncated(&d->notes, "windows: RequiredDumpSpace is %llu bytes but the file has %llu",
                          (unsigned long long)d->required_dump_space, (unsigned long long)size);
    free(h);
    return cl_steal_pointer(&d);
}

bool cl_windump_read_page(cl_windump *d, uint64_t pfn, void *page, cl_error **errp)
{
    if (d->have_bitmap) {
        if (!cl_pagemap_test(&d->map, pfn))
            return cl_error_set(errp, CL_ERR_INVAL, "windows: page 0x%llx is not in the dump", (unsigned long long)pfn);
        uint64_t rank = cl_pagemap_rank(&d->map, pfn);
        if (rank > (UINT64_MAX - d->bmp_first_page) / WIN_PAGE_SIZE)
            return cl_error_set(errp, CL_ERR_CORRUPT, "windows: page 0x%llx offset overflows", (unsigned long long)pfn);
        return cl_reader_read(d->r, d->bmp_first_page + rank * WIN_PAGE_SIZE, WIN_PAGE_SIZE, page, errp);
    }
    for (size_t i = 0; i < d->nruns; i++) {
        const cl_win_run *run = &d->runs[i];
        if (pfn >= run->base_page && pfn - run->base_page < run->page_count)
            return cl_reader_read(d->r, run->file_offset + (pfn - run->base_page) * WIN_PAGE_SIZE, WIN_PAGE_SIZE,
                                  page, errp);
    }
    return cl_error_set(errp, CL_ERR_INVAL, "windows: page 0x%llx is not in the dump", (unsigned long long)pfn);
}

void cl_windump_each_page(cl_windump *d, bool (*fn)(void *ctx, uint64_t pfn), void *ctx)
{
    if (d->have_bitmap) {
        for (uint64_t p = 0; cl_pagemap_next(&d->map, p, &p); p++)
            if (!fn(ctx, p))
                return;
        return;
    }
    for (size_t i = 0; i < d->nruns; i++)
        for (uint64_t p = 0; p < d->runs[i].page_count; p++)
            if (!fn(ctx, d->runs[i].base_page + p))
                return;
}

const cl_win_module *cl_windump_module_at(const cl_windump *d, uint64_t addr)
{
    for (size_t i = 0; i < d->nmodules; i++) {
        const cl_win_module *m = &d->modules[i];
        if (m->size && addr >= m->base && addr - m->base < m->size)
            return m;
    }
    return NULL;
}

static bool win_read_page(void *ctx, uint64_t pfn, void *page, cl_error **errp)
{
    return cl_windump_read_page(ctx, pfn, page, errp);
}

/* Pages count as held only when their bytes are in the file, so that scans over a cut-short
 * dump end where the file does instead of failing page by page. */
static bool win_next_page(void *ctx, uint64_t pfn, uint64_t *next)
{
    cl_windump *d = ctx;
    uint64_t size = cl_reader_size(d->r);
    if (d->have_bitmap) {
        uint64_t in_file = d->bmp_first_page < size ? (size - d->bmp_first_page) / WIN_PAGE_SIZE : 0;
        return cl_pagemap_next_held(&d->map, pfn, in_file, next);
    }
    bool found = false;
    for (size_t i = 0; i < d->nruns; i++) {
        const cl_win_run *run = &d->runs[i];
        uint64_t count = run->page_count;
        if (run->file_offset >= size)
            continue;
        if (count > (size - run->file_offset) / WIN_PAGE_SIZE)
            count = (size - run->file_offset) / WIN_PAGE_SIZE;
        if (!count || run->base_page + count - 1 < pfn)
            continue;
        uint64_t cand = run->base_page > pfn ? run->base_page : pfn;
        if (!found || cand < *next)
            *next = cand;
        found = true;
    }
    return found;
}

void cl_windump_physmem(cl_windump *d, cl_physmem *m)
{
    memset(m, 0, sizeof(*m));
    m->ctx = d;
    m->read_page = win_read_page;
    m->next_page = win_next_page;
}
