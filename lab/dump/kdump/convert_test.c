/* convert_test.c - the flattened-record rules (flat.h) and the conversion to a standard
 * kdump file (convert.h), on SYNTHETIC dumps (tests/data/dumps/synth.h) and crafted
 * flattened streams. Real QEMU dumps are converted and judged by crash, drgn and
 * makedumpfile in tests/integration/oracle-open.sh. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "dump/dump_test_util.h"
#include "dump/kdump/convert.h"
#include "dump/kdump/flat.h"
#include "dump/kdump/kdump.h"
#include "util/fileio.h"

#define UTS_AT 0x0c
#define SY_UTS 0x9100 /* init_uts_ns in the synthetic kernel: free space after kallsyms_num_syms */

/* The synthetic kernel with an init_uts_ns the converter can find. */
static void build_with_uts(synth_linux *s, const char *sysname, const char *release, const char *version)
{
    synth_linux_build(s, synth_soft_lockup_log, true);
    unsigned char *u = s->mem + SY_UTS;
    memset(u, 0, 6 * 65);
    memcpy(u, sysname, strlen(sysname));
    memcpy(u + 65, "synth-node", 10);
    memcpy(u + 130, release, strlen(release));
    memcpy(u + 195, version, strlen(version));
    memcpy(u + 260, "x86_64", 6);
    memcpy(u + 325, "(none)", 6);
    size_t n = strlen(s->vmci);
    snprintf(s->vmci + n, sizeof(s->vmci) - n, "SYMBOL(init_uts_ns)=%llx\nOFFSET(uts_namespace.name)=0\n",
             (unsigned long long)SY_KTEXT(SY_UTS));
}

static char *read_file(const char *path, size_t *len)
{
    char *data = NULL;
    if (!cl_file_read_all(path, 64u << 20, &data, len, NULL))
        return NULL;
    return data;
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        n += de->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* A flattened stream from (offset, size, fill byte) records, then the end marker. */
typedef struct {
    int64_t off, size;
    unsigned char fill;
} rec;

static synth_buf flatten(const rec *r, size_t n, bool end)
{
    size_t len = 4096 + 16;
    for (size_t i = 0; i < n; i++)
        len += 16 + (r[i].size > 0 ? (size_t)r[i].size : 0);
    synth_buf f = { calloc(1, len), 0 };
    memcpy(f.p, "makedumpfile", 12);
    sy_putbe64(f.p, 16, 1);
    sy_putbe64(f.p, 24, 1);
    f.len = 4096;
    for (size_t i = 0; i < n; i++) {
        sy_putbe64(f.p, f.len, (uint64_t)r[i].off);
        sy_putbe64(f.p, f.len + 8, (uint64_t)r[i].size);
        f.len += 16;
        if (r[i].size > 0) {
            memset(f.p + f.len, r[i].fill, (size_t)r[i].size);
            f.len += (size_t)r[i].size;
        }
    }
    if (end) {
        sy_putbe64(f.p, f.len, UINT64_MAX);
        sy_putbe64(f.p, f.len + 8, UINT64_MAX);
        f.len += 16;
    }
    return f;
}

static bool map_of(const synth_buf *b, cl_flat_map *m, cl_dump_notes *notes)
{
    memset(notes, 0, sizeof(*notes));
    cl_reader *r = cl_reader_open_mem(b->p, b->len, NULL);
    bool ok = r && cl_flat_map_read(r, m, notes, NULL);
    cl_reader_free(r);
    return ok;
}

static bool notes_say(const cl_dump_notes *n, const char *what)
{
    for (size_t i = 0; i < n->n; i++)
        if (strstr(n->items[i], what))
            return true;
    return false;
}

static void test_flat_records(void)
{
    cl_flat_map m;
    cl_dump_notes notes;
    /* out of order, adjacent, with a hole and a few empty records: exact */
    rec ok[] = { { 4096, 100, 'b' }, { 0, 4096, 'a' }, { 5000, 0, 0 }, { 8192, 10, 'c' }, { 9000, 0, 0 } };
    synth_buf b = flatten(ok, 5, true);
    CHECK(map_of(&b, &m, &notes) && m.faithful && m.ended && m.n == 3 && m.records == 5 && !m.rejected);
    CHECK(m.size == 8202 && m.data == 4206 && m.ext[0].off == 0 && m.ext[0].src == 4096 + 16 + 100 + 16);
    CHECK(notes.n == 0);
    cl_flat_map_clear(&m);
    cl_dump_notes_clear(&notes);
    free(b.p);

    /* a record rewriting bytes placed before: dropped, the earlier one stays */
    rec over[] = { { 0, 4096, 'a' }, { 100, 50, 'x' }, { 4096, 10, 'b' } };
    b = flatten(over, 3, true);
    CHECK(map_of(&b, &m, &notes) && !m.faithful && m.rejected == 1 && m.n == 2 && m.size == 4106);
    CHECK(notes_say(&notes, "overlap"));
    cl_flat_map_clear(&m);
    cl_dump_notes_clear(&notes);
    free(b.p);

    /* far past what the file can describe, and a negative offset: the scan stops there */
    rec far[] = { { 0, 64, 'a' }, { 1ll << 40, 8, 'z' }, { 64, 64, 'b' } };
    b = flatten(far, 3, true);
    CHECK(map_of(&b, &m, &notes) && !m.faithful && m.rejected == 1 && m.n == 1 && m.size == 64);
    CHECK(notes_say(&notes, "outside"));
    cl_flat_map_clear(&m);
    cl_dump_notes_clear(&notes);
    free(b.p);
    rec neg[] = { { -5, 8, 'a' } };
    b = flatten(neg, 1, true);
    CHECK(map_of(&b, &m, &notes) && !m.faithful && m.rejected == 1 && m.n == 0);
    cl_flat_map_clear(&m);
    cl_dump_notes_clear(&notes);
    free(b.p);

    /* more empty records than any writer flushes */
    rec empties[CL_FLAT_MAX_EMPTY + 2];
    for (size_t i = 0; i < CL_FLAT_MAX_EMPTY + 2; i++)
        empties[i] = (rec){ (int64_t)i, 0, 0 };
    b = flatten(empties, CL_FLAT_MAX_EMPTY + 2, true);
    CHECK(map_of(&b, &m, &notes) && !m.faithful && m.records == CL_FLAT_MAX_EMPTY + 1 && m.n == 0);
    CHECK(notes_say(&notes, "empty"));
    cl_flat_map_clear(&m);
    cl_dump_notes_clear(&notes);
    free(b.p);

    /* no end marker: cut short */
    b = flatten(ok, 2, false);
    CHECK(map_of(&b, &m, &notes) && !m.faithful && notes.truncated && m.n == 2);
    cl_flat_map_clear(&m);
    cl_dump_notes_clear(&notes);
    free(b.p);
}

/* Issue 15 item 9: a flattened header followed by nothing but zeros (every 16 bytes an
 * empty record) took 24 s per 200 MB. The file here is sparse: 200 MB, and 100 GB where
 * the file system allows it; each must be given up on at once. */
static void test_flat_header_then_zeros(void)
{
    char path[] = "/tmp/crashlab-flatzeros.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    unsigned char h[32] = "makedumpfile";
    sy_putbe64(h, 16, 1);
    sy_putbe64(h, 24, 1);
    CHECK(write(fd, h, sizeof(h)) == (ssize_t)sizeof(h));
    const off_t sizes[2] = { 200ll << 20, 100ll << 30 };
    for (int i = 0; i < 2; i++) {
        if (ftruncate(fd, sizes[i]) < 0) {
            CHECK(i == 1); /* 200 MB must be possible */
            continue;
        }
        double t = cl_now();
        json_object *o = NULL;
        cl_error *err = NULL;
        int rc = cl_dump_inspect(path, &o, &err);
        double took = cl_now() - t;
        CHECK(rc != CL_DUMP_OK);
        CHECK(took < 1.0);
        const char *w = tu_str(o, "warnings.0");
        CHECK(w && strstr(w, "empty flattened records"));
        json_object_put(o);
        cl_error_free(err);
        err = NULL;
        t = cl_now();
        CHECK(!cl_kdump_convert(path, path, NULL, &err));
        CHECK(err && strstr(err->msg, "do not reassemble exactly"));
        CHECK(cl_now() - t < 1.0);
        cl_error_free(err);
        printf("# header then %lld zero bytes: inspect %.3f s\n", (long long)sizes[i], took);
    }
    close(fd);
    unlink(path);
}

/* The synthetic dump as QEMU would leave it (flattened or not, utsname holding only
 * machine), converted: the standard layout byte for byte, with the utsname filled. */
static void test_convert_synthetic(void)
{
    const uint32_t comps[] = { 0, 1, 2, 4 };
    for (size_t c = 0; c < 4; c++) {
        for (int flat = 0; flat <= 1; flat++) {
            synth_linux s;
            build_with_uts(&s, "Linux", "6.1.0-synthetic", "#1 SMP SYNTHETIC (2026-01-01)");
            synth_buf plain = synth_linux_kdump(&s, comps[c], false);
            synth_buf in = synth_linux_kdump(&s, comps[c], flat);
            /* QEMU fills only machine: blank the release the generator writes */
            size_t hdr = flat ? 4096 + 16 + 3000 + 16 : 0; /* the generator's second record holds offset 0 */
            memset(in.p + hdr + UTS_AT + 65 * 2, 0, 65);
            memset(plain.p + UTS_AT + 65 * 2, 0, 65);
            char *path = tu_write_tmp(in.p, in.len);
            char out[512];
            snprintf(out, sizeof(out), "%s.out", path);
            cl_kdump_convert_info ci;
            cl_error *err = NULL;
            CHECK(cl_kdump_convert(path, out, &ci, &err));
            if (err)
                printf("# %s\n", err->msg);
            cl_error_free(err);
            CHECK(ci.was_flattened == flat);
            CHECK_STR(ci.sysname, "Linux");
            CHECK_STR(ci.release, "6.1.0-synthetic");
            CHECK_STR(ci.version, "#1 SMP SYNTHETIC (2026-01-01)");
            CHECK_STR(ci.nodename, "synth-node");
            CHECK_STR(ci.machine, "x86_64");
            CHECK_STR(ci.version_from, "init_uts_ns");
            CHECK(ci.bytes_out == plain.len && ci.pages > 0);
            size_t len = 0;
            char *got = read_file(out, &len);
            CHECK(got && len == plain.len);
            if (got && len == plain.len) {
                CHECK(!memcmp(got, plain.p, UTS_AT));
                CHECK(!memcmp(got + UTS_AT + 6 * 65, plain.p + UTS_AT + 6 * 65, len - UTS_AT - 6 * 65));
                CHECK_STR(got + UTS_AT, "Linux");
                CHECK_STR(got + UTS_AT + 65, "synth-node");
                CHECK_STR(got + UTS_AT + 130, "6.1.0-synthetic");
                CHECK_STR(got + UTS_AT + 195, "#1 SMP SYNTHETIC (2026-01-01)");
            }
            json_object *o = NULL;
            cl_error *e2 = NULL;
            CHECK(cl_dump_inspect(out, &o, &e2) == CL_DUMP_OK);
            CHECK_STR(tu_str(o, "format"), "kdump-compressed");
            CHECK_STR(tu_str(o, "title"), "BUG: soft lockup in lf_timer_fn");
            json_object_put(o);
            cl_error_free(e2);
            free(got);
            unlink(out);
            unlink(path);
            free(path);
            free(plain.p);
            free(in.p);
            free(s.mem);
        }
    }
}

/* Converting in place: the path holds the old file or the new one, no temporary stays. */
static void test_convert_in_place(void)
{
    synth_linux s;
    build_with_uts(&s, "Linux", "6.1.0-synthetic", "#2 SMP");
    synth_buf in = synth_linux_kdump(&s, 1, true);
    char dir[] = "/tmp/crashlab-convert.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof(path), "%s/dump.kdump", dir);
    CHECK(cl_file_write_atomic(path, in.p, in.len, NULL));
    cl_kdump_convert_info ci;
    cl_error *err = NULL;
    CHECK(cl_kdump_convert(path, path, &ci, &err));
    cl_error_free(err);
    CHECK(ci.was_flattened && count_entries(dir) == 1);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == CL_FILE_MODE);
    /* a second pass finds a standard file and changes nothing */
    size_t l1 = 0, l2 = 0;
    char *a = read_file(path, &l1);
    CHECK(cl_kdump_convert(path, path, &ci, NULL) && !ci.was_flattened);
    char *b = read_file(path, &l2);
    CHECK(a && b && l1 == l2 && !memcmp(a, b, l1));
    free(a);
    free(b);
    unlink(path);
    rmdir(dir);
    free(in.p);
    free(s.mem);
}

/* init_uts_ns is guest memory: a copy that does not match VMCOREINFO is not believed, and
 * control characters never reach the header. */
static void test_convert_hostile_uts(void)
{
    struct {
        const char *sys, *rel, *ver, *want_ver, *from;
    } cases[] = {
        { "Linux", "6.1.0-other", "#1 SMP", "", "none" },
        { "Linuz", "6.1.0-synthetic", "#1 SMP", "", "none" },
        { "Linux", "6.1.0-synthetic", "#1 \x1b[31mSMP\n", "#1 ?[31mSMP?", "init_uts_ns" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        synth_linux s;
        build_with_uts(&s, cases[i].sys, cases[i].rel, cases[i].ver);
        synth_buf in = synth_linux_kdump(&s, 1, true);
        char *path = tu_write_tmp(in.p, in.len);
        cl_kdump_convert_info ci;
        CHECK(cl_kdump_convert(path, path, &ci, NULL));
        CHECK_STR(ci.version, cases[i].want_ver);
        CHECK_STR(ci.version_from, cases[i].from);
        CHECK_STR(ci.release, "6.1.0-synthetic"); /* the header's own, kept */
        unlink(path);
        free(path);
        free(in.p);
        free(s.mem);
    }
}

/* QEMU 7.2 parses the decimal NUMBER(phys_base) as hex. The synthetic kernel has phys_base
 * 0, so the sub-header gets what QEMU would write for a kernel whose VMCOREINFO said 16 and
 * the kernel's page walk must still work from VMCOREINFO; the output carries 16. */
static void test_convert_phys_base(void)
{
    synth_linux s;
    build_with_uts(&s, "Linux", "6.1.0-synthetic", "#1");
    synth_buf k = synth_linux_kdump(&s, 1, false);
    CHECK(!memcmp(k.p + 4096, "\0\0\0\0\0\0\0\0", 8)); /* the generator's phys_base */
    sy_put64(k.p, 4096, 0x16);
    char *path = tu_write_tmp(k.p, k.len);
    cl_kdump_convert_info ci;
    CHECK(cl_kdump_convert(path, path, &ci, NULL));
    CHECK(ci.phys_base_header == 0x16 && ci.phys_base == 0);
    size_t len = 0;
    char *got = read_file(path, &len);
    CHECK(got && len == k.len && !memcmp(got + 4096, "\0\0\0\0\0\0\0\0", 8));
    CHECK(got && !memcmp(got + 4104, k.p + 4104, len - 4104));
    free(got);
    /* right already: nothing to change */
    CHECK(cl_kdump_convert(path, path, &ci, NULL) && ci.phys_base_header == 0 && ci.phys_base == 0);
    unlink(path);
    free(path);
    free(k.p);
    free(s.mem);
}

/* What cannot be converted exactly is refused, and nothing is left behind. */
static void test_convert_refuses(void)
{
    synth_linux s;
    build_with_uts(&s, "Linux", "6.1.0-synthetic", "#1");
    synth_buf k = synth_linux_kdump(&s, 1, true);
    char dir[] = "/tmp/crashlab-convert.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], out[300];
    snprintf(path, sizeof(path), "%s/in", dir);
    snprintf(out, sizeof(out), "%s/out", dir);
    struct {
        size_t len;
        const char *msg;
    } cut[] = { { k.len - 100, "reassemble" }, { k.len - 16, "reassemble" } };
    for (size_t i = 0; i < 2; i++) {
        CHECK(cl_file_write_atomic(path, k.p, cut[i].len, NULL));
        cl_error *err = NULL;
        CHECK(!cl_kdump_convert(path, out, NULL, &err));
        CHECK(err && strstr(err->msg, cut[i].msg));
        cl_error_free(err);
        CHECK(count_entries(dir) == 1);
    }
    /* a record placed again over the header */
    unsigned char *dup = malloc(k.len + 32);
    memcpy(dup, k.p, k.len - 16);
    sy_putbe64(dup, k.len - 16, 0);
    sy_putbe64(dup, k.len - 8, 16);
    memset(dup + k.len, 'X', 16);
    sy_putbe64(dup, k.len + 16, UINT64_MAX);
    sy_putbe64(dup, k.len + 24, UINT64_MAX);
    CHECK(cl_file_write_atomic(path, dup, k.len + 32, NULL));
    cl_error *err = NULL;
    CHECK(!cl_kdump_convert(path, out, NULL, &err));
    CHECK(err && strstr(err->msg, "overlap"));
    cl_error_free(err);
    free(dup);
    /* not a kdump file */
    synth_buf e = synth_linux_elf(&s, false);
    CHECK(cl_file_write_atomic(path, e.p, e.len, NULL));
    err = NULL;
    CHECK(!cl_kdump_convert(path, out, NULL, &err));
    CHECK(err && strstr(err->msg, "not a kdump file"));
    cl_error_free(err);
    CHECK(count_entries(dir) == 1);
    unlink(path);
    rmdir(dir);
    free(e.p);
    free(k.p);
    free(s.mem);
}

int main(void)
{
    RUN_TEST(test_flat_records);
    RUN_TEST(test_flat_header_then_zeros);
    RUN_TEST(test_convert_synthetic);
    RUN_TEST(test_convert_in_place);
    RUN_TEST(test_convert_hostile_uts);
    RUN_TEST(test_convert_phys_base);
    RUN_TEST(test_convert_refuses);
    TEST_EXIT();
}
