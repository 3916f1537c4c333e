/* dump_hostile_test.c - damaged and hostile input: every reader on files cut at many lengths,
 * with header bytes overwritten, with counts and offsets set to extremes; plus the inputs in
 * tests/data/dumps/regress/ (crashes fuzzing once found). Under ASan/UBSan the test is that
 * nothing reads out of bounds, and that each result is a valid exit code with a JSON object. */
#include <dirent.h>

#include "dump/dump_test_util.h"
#include "dump/inspect_priv.h"
#include "util/fileio.h"

static int run_mem(const unsigned char *p, size_t len, json_object **out)
{
    cl_reader *r = cl_reader_open_mem(p, len, NULL);
    cl_error *err = NULL;
    *out = NULL;
    cl_dump_crash crash;
    int rc = cl_dump_inspect_reader(r, "mem", out, &crash, &err);
    cl_reader_free(r);
    if (rc == CL_DUMP_NOT_A_DUMP) {
        if (!err || *out || crash.title[0] || crash.bugcheck_known)
            rc = -1;
    } else if (!*out || !tu_str(*out, "title") || !tu_get(*out, "truncated") || !tu_crash_matches(&crash, *out)) {
        rc = -1;
    }
    cl_error_free(err);
    return rc;
}

/* Cuts p at many lengths and overwrites bytes of its first `hot` bytes; every run must give
 * 0, 2 or 3 with the object. Returns the number of runs. */
static int mutate(const unsigned char *p, size_t len, size_t hot)
{
    int runs = 0;
    unsigned char *m = malloc(len);
    memcpy(m, p, len);
    size_t step = len / 97 + 1;
    for (size_t cut = 0; cut < len; cut += cut < 64 ? 1 : step) {
        json_object *o;
        int rc = run_mem(m, cut, &o);
        CHECK(rc == 0 || rc == 2 || rc == 3);
        json_object_put(o);
        runs++;
    }
    static const uint64_t vals[] = { 0, 1, 0x7f, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 0x8000000000000000ull,
                                     UINT64_MAX };
    if (hot > len)
        hot = len;
    for (size_t at = 0; at + 8 <= hot; at += at < 0x100 ? 8 : 40) {
        for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v += (at % 64 == 0 ? 1 : 4)) {
            memcpy(m, p, hot);
            sy_put64(m, at, vals[v]);
            json_object *o;
            int rc = run_mem(m, len, &o);
            CHECK(rc == 0 || rc == 2 || rc == 3);
            json_object_put(o);
            runs++;
        }
    }
    free(m);
    return runs;
}

static void test_mutate_real_windows(void)
{
    const char *files[] = { "triage_x64.dmp", "triage_arm64.dmp", "imhex_dmp64.hexpat.bin" };
    for (size_t i = 0; i < 3; i++) {
        char path[256], *data = NULL;
        size_t len = 0;
        snprintf(path, sizeof(path), REAL_DUMPS "/%s", files[i]);
        CHECK(cl_file_read_all(path, 4u << 20, &data, &len, NULL));
        if (!data)
            continue;
        /* the triage block and the start of the driver list */
        CHECK(mutate((unsigned char *)data, len < 0x20000 ? len : 0x20000, 0x2100) > 100);
        free(data);
    }
}

static void test_mutate_synthetic(void)
{
    synth_buf w[4] = { synth_win64_full(), synth_win64_bitmap(5), synth_win32_full(), { 0 } };
    const uint64_t p[4] = { 0, 0x501, 0x500, 0 };
    w[3] = synth_win64_triage(0x133, p);
    /* Each builder must have produced an input the mutator really exercised: a synthetic
     * builder that returns nothing would otherwise pass with zero runs (issue 14.6). */
    for (int i = 0; i < 4; i++) {
        CHECK(w[i].p && w[i].len > 0x2000);
        CHECK(mutate(w[i].p, w[i].len, i == 3 ? 0x2200 : 0x2100) > 100);
        free(w[i].p);
    }
    synth_linux s;
    synth_linux_build(&s, synth_soft_lockup_log, true);
    synth_buf e = synth_linux_elf(&s, false);
    CHECK(e.p && mutate(e.p, e.len, 0x400) > 100);
    free(e.p);
    for (int flat = 0; flat <= 1; flat++) {
        synth_buf k = synth_linux_kdump(&s, 1, flat);
        CHECK(k.p && mutate(k.p, k.len, flat ? 0x1100 : 0x2100) > 100);
        free(k.p);
    }
    free(s.mem);
}

static void test_extreme_fields(void)
{
    json_object *o;
    /* Windows: run count, driver count and list offset, bitmap size */
    synth_buf b = synth_win64_full();
    sy_put32(b.p, 0x88, 0xffffffff);
    CHECK(run_mem(b.p, b.len, &o) == CL_DUMP_OK && json_object_array_length(tu_get(o, "warnings")) == 1);
    json_object_put(o);
    free(b.p);
    const uint64_t p[4] = { 0, 0x501, 0x500, 0 };
    b = synth_win64_triage(0x133, p);
    sy_put32(b.p, 0x2034, 0xffffffff);
    CHECK(run_mem(b.p, b.len, &o) == CL_DUMP_TRUNCATED && tu_bool(o, "truncated"));
    json_object_put(o);
    sy_put32(b.p, 0x2034, 3);
    sy_put32(b.p, 0x2030, 0xfffffff0);
    CHECK(run_mem(b.p, b.len, &o) == CL_DUMP_TRUNCATED && tu_int(o, "module_count") == 0);
    json_object_put(o);
    free(b.p);
    b = synth_win64_bitmap(5);
    sy_put64(b.p, 0x2030, 0x8000000000000000ull);
    CHECK(run_mem(b.p, b.len, &o) == CL_DUMP_TRUNCATED);
    json_object_put(o);
    free(b.p);

    /* ELF: no program headers, wrapping PT_LOAD, oversized note */
    synth_linux s;
    synth_linux_build(&s, synth_soft_lockup_log, true);
    b = synth_linux_elf(&s, false);
    unsigned char *e = malloc(b.len);
    memcpy(e, b.p, b.len);
    sy_put16(e, 56, 0);
    CHECK(run_mem(e, b.len, &o) == CL_DUMP_OK && json_object_array_length(tu_get(o, "warnings")) >= 1);
    json_object_put(o);
    memcpy(e, b.p, b.len);
    sy_put64(e, 64 + 56 + 8, UINT64_MAX - 100);  /* first PT_LOAD's p_offset */
    CHECK(run_mem(e, b.len, &o) == CL_DUMP_TRUNCATED);
    json_object_put(o);
    memcpy(e, b.p, b.len);
    sy_put32(e, (size_t)(e[64 + 8] | e[64 + 9] << 8), 0xffffffff); /* first note's namesz */
    CHECK(run_mem(e, b.len, &o) == CL_DUMP_OK);
    json_object_put(o);
    free(e);
    free(b.p);

    /* kdump: block size 0, bitmap blocks huge; flattened: negative and huge record sizes */
    b = synth_linux_kdump(&s, 1, false);
    sy_put32(b.p, 0x1ac, 0);
    CHECK(run_mem(b.p, b.len, &o) == CL_DUMP_OK && json_object_array_length(tu_get(o, "warnings")) >= 1);
    json_object_put(o);
    sy_put32(b.p, 0x1ac, 4096);
    sy_put32(b.p, 0x1b4, 0xffffffff);
    CHECK(run_mem(b.p, b.len, &o) == CL_DUMP_TRUNCATED);
    json_object_put(o);
    free(b.p);
    b = synth_linux_kdump(&s, 1, true);
    sy_putbe64(b.p, 4096 + 8, UINT64_MAX); /* size -1: the stream is unusable from its first record */
    CHECK(run_mem(b.p, b.len, &o) == CL_DUMP_TRUNCATED);
    json_object_put(o);
    sy_putbe64(b.p, 4096 + 8, 0x7fffffffffffffffull);
    CHECK(run_mem(b.p, b.len, &o) == CL_DUMP_TRUNCATED);
    json_object_put(o);
    free(b.p);
    free(s.mem);
}

static void test_not_a_dump(void)
{
    json_object *o = NULL;
    cl_error *err = NULL;
    char *path = tu_write_tmp("hello, world\n", 13);
    CHECK(cl_dump_inspect(path, &o, &err) == CL_DUMP_NOT_A_DUMP);
    CHECK(o == NULL);
    CHECK(err && strstr(err->msg, "PAGEDU64") && strstr(err->msg, "KDUMP") && strstr(err->msg, "ELF"));
    cl_error_free(err);
    unlink(path);
    free(path);
    err = NULL;
    CHECK(cl_dump_inspect("/nonexistent/dump", &o, &err) == CL_DUMP_NOT_A_DUMP && err && err->code == CL_ERR_IO);
    cl_error_free(err);
    CHECK(run_mem((const unsigned char *)"", 0, &o) == CL_DUMP_NOT_A_DUMP);
    CHECK(run_mem((const unsigned char *)"PAGE", 4, &o) == CL_DUMP_NOT_A_DUMP);
}

static void test_regressions(void)
{
    const char *dir = "tests/data/dumps/regress";
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strstr(de->d_name, ".md"))
            continue;
        char path[512], *data = NULL;
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        /* An input that cannot be read is a failure, not a skip. */
        CHECK(cl_file_read_all(path, 16u << 20, &data, &len, NULL));
        if (!data)
            continue;
        json_object *o;
        int rc = run_mem((unsigned char *)data, len, &o);
        if (!(rc == 0 || rc == 2 || rc == 3))
            printf("# regression input %s gave %d\n", de->d_name, rc);
        CHECK(rc == 0 || rc == 2 || rc == 3);
        json_object_put(o);
        free(data);
        n++;
    }
    closedir(d);
    printf("# %d regression inputs replayed\n", n);
    /* The directory ships inputs: replaying none means the test looked in the wrong place. */
    CHECK(n > 0);
}

int main(void)
{
    RUN_TEST(test_not_a_dump);
    RUN_TEST(test_extreme_fields);
    RUN_TEST(test_mutate_synthetic);
    RUN_TEST(test_mutate_real_windows);
    RUN_TEST(test_regressions);
    TEST_EXIT();
}
