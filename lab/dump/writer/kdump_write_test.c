/* kdump_write_test.c - the writer against the lab's own kdump reader: every page back,
 * zero pages shared, notes and header fields, failures that leave no file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dump/kdump/format.h"
#include "dump/kdump/kdump.h"
#include "dump/writer/kdump_write.h"

#define MEM_PAGES 1000u /* 640 KiB at 0 and the rest at 1 MiB: two ranges, like a PC's low RAM */
#define HOLE_GPA (0x100000 + 512 * (uint64_t)CL_KW_PAGE) /* one chunk of 256 pages never touched */

static unsigned char *mem;
static const cl_kw_range ranges[2] = { { 0, 160 * CL_KW_PAGE }, { 0x100000, (MEM_PAGES - 160) * (uint64_t)CL_KW_PAGE } };

static uint64_t mem_off(uint64_t gpa) { return gpa < 0x100000 ? gpa : gpa - 0x100000 + 160 * CL_KW_PAGE; }

static bool hole_read; /* the never-touched chunk was read although present() said so */

/* Says which pages are "never touched": the hole chunk. */
static bool src_present(void *ctx, uint64_t gpa, size_t npages, unsigned char *map)
{
    (void)ctx;
    for (size_t i = 0; i < npages; i++) {
        uint64_t a = gpa + i * CL_KW_PAGE;
        map[i] = !(a >= HOLE_GPA && a < HOLE_GPA + 256 * (uint64_t)CL_KW_PAGE);
    }
    return true;
}

static bool src_read(void *ctx, uint64_t gpa, void *buf, size_t len, cl_error **errp)
{
    const uint64_t *fail_at = ctx;
    if (gpa == HOLE_GPA)
        hole_read = true;
    if (fail_at && gpa <= *fail_at && *fail_at < gpa + len)
        return cl_error_set(errp, CL_ERR_VIRT, "test: read fails at 0x%llx", (unsigned long long)*fail_at);
    memcpy(buf, mem + mem_off(gpa), len);
    return true;
}

/* Pages: every third zero, every fifth random (incompressible), the rest text-like. */
static void fill_mem(void)
{
    mem = calloc(MEM_PAGES, CL_KW_PAGE);
    unsigned x = 12345;
    for (unsigned p = 0; p < MEM_PAGES; p++) {
        unsigned char *pg = mem + (size_t)p * CL_KW_PAGE;
        if (p % 3 == 0 || (p >= 160 + 512 && p < 160 + 768))
            continue;
        for (unsigned i = 0; i < CL_KW_PAGE; i++) {
            x = x * 1103515245u + 12345u;
            pg[i] = p % 5 == 0 ? (unsigned char)(x >> 16) : (unsigned char)("crashlab "[i % 9] + p % 7);
        }
    }
}

static size_t note(unsigned char *b, const char *name, uint32_t type, const void *desc, uint32_t dlen)
{
    uint32_t nl = (uint32_t)strlen(name) + 1;
    memcpy(b, &nl, 4);
    memcpy(b + 4, &dlen, 4);
    memcpy(b + 8, &type, 4);
    memset(b + 12, 0, (nl + 3) / 4 * 4 + (dlen + 3) / 4 * 4);
    memcpy(b + 12, name, nl);
    memcpy(b + 12 + (nl + 3) / 4 * 4, desc, dlen);
    return 12 + (nl + 3) / 4 * 4 + (dlen + 3) / 4 * 4;
}

static size_t make_notes(unsigned char *b)
{
    unsigned char prs[336] = { 0 };
    size_t n = 0;
    for (uint32_t cpu = 0; cpu < 2; cpu++) {
        uint32_t pid = cpu + 1;
        memcpy(prs + 32, &pid, 4);
        uint64_t rip = 0xffffffff81000000ull + cpu;
        memcpy(prs + 112 + 16 * 8, &rip, 8); /* pr_reg.rip */
        n += note(b + n, "CORE", 1, prs, sizeof(prs));
    }
    const char *vmci = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nNUMBER(phys_base)=0\n";
    n += note(b + n, "VMCOREINFO", 0, vmci, (uint32_t)strlen(vmci));
    return n;
}

static char *tmp_path(void)
{
    char *p = strdup("/tmp/crashlab-kwtest.XXXXXX");
    int fd = mkstemp(p);
    close(fd);
    return p;
}

static void write_and_check(int threads, bool with_present, cl_kw_codec codec)
{
    unsigned char notes[2048];
    size_t nlen = make_notes(notes);
    cl_kw_params p = { .ranges = ranges, .nranges = 2, .notes = notes, .notes_len = nlen, .nr_cpus = 2,
                       .threads = threads, .timestamp = 1700000000, .codec = codec };
    strcpy(p.utsname[0], "Linux");
    strcpy(p.utsname[2], "6.1.0-test");
    strcpy(p.utsname[4], "x86_64");
    cl_kw_source src = { NULL, src_read, with_present ? src_present : NULL };
    hole_read = false;
    char *path = tmp_path();
    cl_error *err = NULL;
    cl_kw_stats st = { 0 };
    CHECK(cl_kdump_write(path, &p, &src, &st, &err));
    CHECK(!err);
    CHECK(st.pages == MEM_PAGES);
    CHECK(st.zero_pages == (MEM_PAGES + 2) / 3 + 256 - 256 / 3 - 1);
    CHECK(hole_read == !with_present);
    CHECK(st.raw_pages > 0);
    /* The header names the codec every compressed page is in (what makedumpfile checks). */
    kdump_header64 h;
    FILE *f = fopen(path, "rb");
    CHECK(f && fread(&h, sizeof(h), 1, f) == 1);
    if (f)
        fclose(f);
    CHECK(h.status == (codec == CL_KW_LZO ? DUMP_DH_COMPRESSED_LZO : DUMP_DH_COMPRESSED_ZSTD));
    cl_reader *r = cl_reader_open_file(path, &err);
    CHECK(r);
    cl_kdump *k = r ? cl_kdump_open(r, &err) : NULL;
    CHECK(k);
    if (k) {
        CHECK(!k->flattened && k->header_version == 6);
        CHECK_STR(k->release, "6.1.0-test");
        CHECK_STR(k->machine, "x86_64");
        CHECK(k->nr_cpus == 2 && k->lnotes.n_prstatus == 2);
        CHECK(k->lnotes.cpus[1].rip == 0xffffffff81000001ull);
        CHECK(k->lnotes.vmcoreinfo && strstr(k->lnotes.vmcoreinfo, "OSRELEASE=6.1.0-test"));
        CHECK(k->dumped_pages == MEM_PAGES);
        CHECK(k->notes.n == 0 && !k->notes.truncated);
        unsigned char page[CL_KW_PAGE];
        unsigned bad = 0;
        for (unsigned i = 0; i < 2; i++)
            for (uint64_t gpa = ranges[i].gpa; gpa < ranges[i].gpa + ranges[i].len; gpa += CL_KW_PAGE) {
                cl_error *e = NULL;
                if (!k->mem.read_page(k->mem.ctx, gpa / CL_KW_PAGE, page, &e) ||
                    memcmp(page, mem + mem_off(gpa), CL_KW_PAGE))
                    bad++;
                cl_error_free(e);
            }
        CHECK(bad == 0);
        cl_error *e = NULL;
        CHECK(!k->mem.read_page(k->mem.ctx, 0xa0000 / CL_KW_PAGE, page, &e)); /* the hole is not in the dump */
        cl_error_free(e);
        cl_kdump_free(k);
    }
    cl_reader_free(r);
    cl_error_free(err);
    unlink(path);
    free(path);
}

static void test_round_trip_one_thread(void) { write_and_check(1, false, CL_KW_ZSTD); }
static void test_round_trip_many_threads(void) { write_and_check(5, false, CL_KW_ZSTD); }
static void test_round_trip_known_zero_chunk_unread(void) { write_and_check(2, true, CL_KW_ZSTD); }
static void test_round_trip_lzo(void) { write_and_check(3, true, CL_KW_LZO); }
static void test_round_trip_lzo_one_thread(void) { write_and_check(1, false, CL_KW_LZO); }

static void test_failures_leave_nothing(void)
{
    char *path = tmp_path();
    unlink(path);
    char partial[300];
    snprintf(partial, sizeof(partial), "%s.partial", path);
    cl_error *err = NULL;
    uint64_t fail_at = 0x100000 + 500 * (uint64_t)CL_KW_PAGE;
    cl_kw_params p = { .ranges = ranges, .nranges = 2, .threads = 3 };
    cl_kw_source src = { &fail_at, src_read };
    CHECK(!cl_kdump_write(path, &p, &src, NULL, &err));
    CHECK(err && strstr(err->msg, "read fails at"));
    CHECK(access(path, F_OK) != 0 && access(partial, F_OK) != 0);
    cl_error_free(err);
    err = NULL;
    cl_kw_range bad[2] = { { 0x100000, CL_KW_PAGE }, { 0x1000, CL_KW_PAGE } }; /* out of order */
    cl_kw_params q = { .ranges = bad, .nranges = 2 };
    CHECK(!cl_kdump_write(path, &q, &src, NULL, &err) && err && strstr(err->msg, "out of order"));
    cl_error_free(err);
    err = NULL;
    cl_kw_range odd[1] = { { 0x800, CL_KW_PAGE } };
    q.ranges = odd;
    q.nranges = 1;
    CHECK(!cl_kdump_write(path, &q, &src, NULL, &err) && err && strstr(err->msg, "unaligned"));
    cl_error_free(err);
    CHECK(access(path, F_OK) != 0);
    free(path);
}

static void test_notes_hostile(void)
{
    unsigned char notes[2048];
    size_t n = make_notes(notes);
    uint32_t cpus = 0;
    size_t vo = 0, vl = 0;
    CHECK(cl_kw_notes_scan(notes, n, &cpus, &vo, &vl, NULL) && cpus == 2 && vl > 0 &&
          !memcmp(notes + vo, "OSRELEASE=", 10));
    cl_error *err = NULL;
    CHECK(!cl_kw_notes_scan(notes, n - 4, &cpus, &vo, &vl, &err)); /* last note cut short */
    cl_error_free(err);
    uint32_t huge = 0xfffffff0u;
    memcpy(notes + 4, &huge, 4); /* descsz past everything */
    err = NULL;
    CHECK(!cl_kw_notes_scan(notes, n, &cpus, &vo, &vl, &err));
    cl_error_free(err);

    unsigned char elf[256] = { 0x7f, 'E', 'L', 'F', 2, 1 };
    size_t off = 0, len = 0;
    err = NULL;
    CHECK(!cl_kw_elf_notes(elf, sizeof(elf), &off, &len, &err)); /* no program headers */
    cl_error_free(err);
    uint64_t phoff = 64;
    uint16_t phentsize = 56, phnum = 1;
    memcpy(elf + 0x20, &phoff, 8);
    memcpy(elf + 0x36, &phentsize, 2);
    memcpy(elf + 0x38, &phnum, 2);
    uint32_t pt_note = 4;
    uint64_t o = 120, sz = 200; /* runs past the 256 bytes */
    memcpy(elf + 64, &pt_note, 4);
    memcpy(elf + 64 + 8, &o, 8);
    memcpy(elf + 64 + 0x20, &sz, 8);
    err = NULL;
    CHECK(!cl_kw_elf_notes(elf, sizeof(elf), &off, &len, &err) && err && strstr(err->msg, "past"));
    cl_error_free(err);
    sz = 136;
    memcpy(elf + 64 + 0x20, &sz, 8);
    CHECK(cl_kw_elf_notes(elf, sizeof(elf), &off, &len, NULL) && off == 120 && len == 136);
}

int main(void)
{
    fill_mem();
    RUN_TEST(test_round_trip_one_thread);
    RUN_TEST(test_round_trip_many_threads);
    RUN_TEST(test_round_trip_known_zero_chunk_unread);
    RUN_TEST(test_round_trip_lzo);
    RUN_TEST(test_round_trip_lzo_one_thread);
    RUN_TEST(test_failures_leave_nothing);
    RUN_TEST(test_notes_hostile);
    free(mem);
    TEST_EXIT();
}
