/* dumpcmp - compares two kdump-compressed dumps of the same paused guest (QEMU's own and the
 * lab's, tests/integration/dump-writer.sh): every page either holds, byte for byte, and every
 * register of every vCPU in the NT_PRSTATUS and QEMU notes, and the VMCOREINFO text.
 * Prints one line per difference (capped) and a summary; exit 0 when all agree, 1 when not,
 * 2 when a dump cannot be read. Not part of crashlab: a test tool over its readers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/kdump/format.h"
#include "dump/kdump/kdump.h"
#include "dump/le.h"

#define MAX_NOTES (16u << 20)

typedef struct {
    cl_reader *r;
    cl_kdump *k;
    unsigned char *notes;
    size_t nlen;
} dump;

static int open_dump(const char *path, dump *d)
{
    cl_error *err = NULL;
    d->r = cl_reader_open_file(path, &err);
    d->k = d->r ? cl_kdump_open(d->r, &err) : NULL;
    if (!d->k) {
        fprintf(stderr, "dumpcmp: %s: %s\n", path, err ? err->msg : "cannot open");
        return 2;
    }
    unsigned char s[sizeof(kdump_sub_header64)];
    if (!cl_reader_read(d->k->r, d->k->block_size, sizeof(s), s, &err)) {
        fprintf(stderr, "dumpcmp: %s: sub-header: %s\n", path, err->msg);
        return 2;
    }
    uint64_t off = cl_le64(s + offsetof(kdump_sub_header64, offset_note));
    uint64_t len = cl_le64(s + offsetof(kdump_sub_header64, size_note));
    if (len > MAX_NOTES || !(d->notes = malloc(len ? len : 1)) || !cl_reader_read(d->k->r, off, len, d->notes, &err)) {
        fprintf(stderr, "dumpcmp: %s: note area of %" PRIu64 " bytes unreadable\n", path, len);
        return 2;
    }
    d->nlen = (size_t)len;
    return 0;
}

/* The n-th note named name (type type): its desc and size, or NULL. */
static const unsigned char *find_note(const dump *d, const char *name, uint32_t type, int n, uint32_t *size)
{
    size_t pos = 0, nl = strlen(name) + 1;
    while (pos + 12 <= d->nlen) {
        uint64_t namesz = cl_le32(d->notes + pos), descsz = cl_le32(d->notes + pos + 4);
        uint64_t desc = pos + 12 + ((namesz + 3) & ~3ull), end = desc + ((descsz + 3) & ~3ull);
        if (end > d->nlen)
            return NULL;
        if (namesz == nl && !memcmp(d->notes + pos + 12, name, nl) && cl_le32(d->notes + pos + 8) == type && n-- == 0) {
            *size = (uint32_t)descsz;
            return d->notes + desc;
        }
        pos = (size_t)end;
    }
    return NULL;
}

static const char *const prs_regs[27] = { "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",
                                          "r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs",
                                          "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs" };

static unsigned compare_registers(const dump *a, const dump *b, unsigned *ncpu)
{
    unsigned diffs = 0;
    *ncpu = 0;
    for (int cpu = 0;; cpu++) {
        uint32_t sa = 0, sb = 0;
        const unsigned char *pa = find_note(a, "CORE", 1, cpu, &sa), *pb = find_note(b, "CORE", 1, cpu, &sb);
        if (!pa && !pb)
            break;
        if (!pa || !pb || sa != sb || sa < 112 + 27 * 8) {
            printf("cpu %d: NT_PRSTATUS only in %s or of different sizes\n", cpu, pa ? "the first" : "the second");
            diffs++;
            break;
        }
        (*ncpu)++;
        if (cl_le32(pa + 32) != cl_le32(pb + 32)) {
            printf("cpu %d: pr_pid %u != %u\n", cpu, cl_le32(pa + 32), cl_le32(pb + 32));
            diffs++;
        }
        for (int r = 0; r < 27; r++) {
            uint64_t x = cl_le64(pa + 112 + 8 * r), y = cl_le64(pb + 112 + 8 * r);
            if (x != y) {
                printf("cpu %d: PRSTATUS %s 0x%" PRIx64 " != 0x%" PRIx64 "\n", cpu, prs_regs[r], x, y);
                diffs++;
            }
        }
        printf("cpu %d: rip 0x%" PRIx64 " rsp 0x%" PRIx64 "\n", cpu, cl_le64(pa + 112 + 16 * 8), cl_le64(pa + 112 + 19 * 8));
        /* QEMUCPUState: compare the common length (kernel_gs_base is an optional tail). */
        const unsigned char *qa = find_note(a, "QEMU", 0, cpu, &sa), *qb = find_note(b, "QEMU", 0, cpu, &sb);
        if (!qa || !qb) {
            printf("cpu %d: QEMU note only in %s\n", cpu, qa ? "the first" : "the second");
            diffs++;
            continue;
        }
        uint32_t common = sa < sb ? sa : sb;
        for (uint32_t o = 8; o + 8 <= common && o < 432; o += 8)
            if (cl_le64(qa + o) != cl_le64(qb + o)) {
                printf("cpu %d: QEMU note bytes at 0x%x: 0x%" PRIx64 " != 0x%" PRIx64 "\n", cpu, o, cl_le64(qa + o),
                       cl_le64(qb + o));
                diffs++;
            }
    }
    uint32_t va = 0, vb = 0;
    const unsigned char *xa = find_note(a, "VMCOREINFO", 0, 0, &va), *xb = find_note(b, "VMCOREINFO", 0, 0, &vb);
    if (!xa || !xb || va != vb || memcmp(xa, xb, va)) {
        printf("VMCOREINFO differs (%u and %u bytes)\n", xa ? va : 0, xb ? vb : 0);
        diffs++;
    }
    return diffs;
}

/* Pages of x that y lacks or holds differently. */
static uint64_t compare_pages(dump *x, dump *y, bool count_diff, uint64_t *seen, uint64_t *missing)
{
    static unsigned char px[4096], py[4096];
    uint64_t diff = 0, pfn = 0;
    *seen = *missing = 0;
    while (x->k->mem.next_page(x->k->mem.ctx, pfn, &pfn)) {
        cl_error *ex = NULL, *ey = NULL;
        (*seen)++;
        bool okx = x->k->mem.read_page(x->k->mem.ctx, pfn, px, &ex);
        bool oky = y->k->mem.read_page(y->k->mem.ctx, pfn, py, &ey);
        if (!oky || !okx) {
            if (*missing + diff < 10)
                printf("pfn 0x%" PRIx64 ": %s\n", pfn, !okx ? ex->msg : ey->msg);
            (*missing)++;
        } else if (count_diff && memcmp(px, py, sizeof(px))) {
            if (*missing + diff < 10)
                printf("pfn 0x%" PRIx64 ": contents differ\n", pfn);
            diff++;
        }
        cl_error_free(ex);
        cl_error_free(ey);
        pfn++;
    }
    return diff;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: dumpcmp QEMU.kdump LAB.kdump\n");
        return 2;
    }
    dump a = { 0 }, b = { 0 };
    int rc = open_dump(argv[1], &a);
    if (!rc)
        rc = open_dump(argv[2], &b);
    if (rc)
        return rc;
    unsigned ncpu = 0;
    unsigned rdiff = compare_registers(&a, &b, &ncpu);
    uint64_t seen_a, miss_b, seen_b, miss_a;
    uint64_t pdiff = compare_pages(&a, &b, true, &seen_a, &miss_b);
    compare_pages(&b, &a, false, &seen_b, &miss_a);
    printf("pages: %" PRIu64 " and %" PRIu64 " held, %" PRIu64 " differ, %" PRIu64 " only in the first, %" PRIu64
           " only in the second\n", seen_a, seen_b, pdiff, miss_b, miss_a);
    printf("registers: %u vCPUs, %u differences\n", ncpu, rdiff);
    bool same = !rdiff && !pdiff && !miss_a && !miss_b && ncpu > 0 && seen_a > 0;
    printf("%s\n", same ? "same" : "DIFFERENT");
    return same ? 0 : 1;
}
