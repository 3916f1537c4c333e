/* image_test.c - the image rules (facts -> findings), what scenarios need, and the hive
 * reader on a real hive (tests/data/image/test.hive, made by mkhive.py + hivexregedit)
 * and on damaged copies of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "image/image_priv.h"
#include "util/fileio.h"

#define HIVE "tests/data/image/test.hive"

/* A Windows image as image prepare leaves it, after its first boot. */
static cl_image_facts good(void)
{
    cl_image_facts f;
    cl_image_facts_init(&f);
    f.windows = true;
    snprintf(f.windows_fs, sizeof(f.windows_fs), "/dev/sda2");
    snprintf(f.product, sizeof(f.product), "Windows 10 Pro");
    f.build = 19045;
    snprintf(f.control_set, sizeof(f.control_set), "ControlSet001");
    f.crash_dump_enabled = 2;
    f.auto_reboot = f.always_keep = f.nmi_crash_dump = f.overwrite = 1;
    snprintf(f.dump_file, sizeof(f.dump_file), "%%SystemRoot%%\\MEMORY.DMP");
    f.paging_files_set = true;
    snprintf(f.paging_files, sizeof(f.paging_files), "C:\\pagefile.sys 0 0");
    snprintf(f.verify_drivers, sizeof(f.verify_drivers), "labfault.sys");
    f.verify_level = 1;
    f.svc_start[CL_SVC_QEMU_GA] = 2;
    f.svc_start[CL_SVC_VIOSERIAL] = f.svc_start[CL_SVC_PVPANIC] = f.svc_start[CL_SVC_FWCFG] = 3;
    f.bcd_found = true;
    f.testsigning = 1;
    f.labagent = true;
    f.labagent_bytes = 300000;
    f.cert_checked = f.cert_root = f.cert_trusted = true;
    f.free_known = true;
    f.free_bytes = 40ull << 30;
    return f;
}

static const cl_finding *find(const cl_image_report *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->f[i].id, id))
            return &r->f[i];
    return NULL;
}

static cl_find_status status_of(const cl_image_facts *f, uint32_t mb, const char *id)
{
    cl_image_report r;
    cl_image_evaluate(f, mb, &r);
    const cl_finding *x = find(&r, id);
    return x ? x->status : CL_FIND_LAST;
}

static void test_good_image_is_ready(void)
{
    cl_image_facts f = good();
    cl_image_report r;
    cl_image_evaluate(&f, 2048, &r);
    CHECK(cl_image_report_ready(&r));
    for (size_t i = 0; i < r.n; i++)
        CHECK(r.f[i].status == CL_FIND_OK || r.f[i].status == CL_FIND_INFO);
    CHECK(find(&r, "windows.build") && strstr(find(&r, "windows.build")->what, "19045"));
    CHECK(r.n >= 17);
}

/* Each bad setting gives its own failing finding, with a fix, and the image is not ready. */
static void test_each_bad_setting(void)
{
    struct { const char *id; cl_image_facts f; } bad[20];
    size_t n = 0;
#define BAD(ID, STMT) do { bad[n].id = ID; bad[n].f = good(); { cl_image_facts *f = &bad[n].f; STMT; } n++; } while (0)
    BAD("crashcontrol.enabled", f->crash_dump_enabled = 0);
    BAD("crashcontrol.enabled", f->crash_dump_enabled = CL_IMAGE_ABSENT);
    BAD("crashcontrol.dumpfile", snprintf(f->dump_file, sizeof(f->dump_file), "D:\\MEMORY.DMP"));
    BAD("crashcontrol.autoreboot", f->auto_reboot = 0);
    BAD("crashcontrol.overwrite", f->overwrite = 0);
    BAD("crashcontrol.alwayskeep", (f->always_keep = 0, f->free_bytes = 10ull << 30));
    BAD("crashcontrol.nmi", f->nmi_crash_dump = CL_IMAGE_ABSENT);
    BAD("pagefile.size", snprintf(f->paging_files, sizeof(f->paging_files), "C:\\pagefile.sys 64 64"));
    BAD("pagefile.size", f->paging_files_set = false);
    BAD("pagefile.size", snprintf(f->paging_files, sizeof(f->paging_files), "D:\\pagefile.sys 0 0"));
    BAD("disk.free", f->free_bytes = 100ull << 20);
    BAD("bcd.testsigning", f->testsigning = 0);
    BAD("bcd.testsigning", f->bcd_found = false);
    BAD("service.qemu-ga", f->svc_start[CL_SVC_QEMU_GA] = 3);
    BAD("service.qemu-ga", f->svc_start[CL_SVC_QEMU_GA] = CL_IMAGE_ABSENT);
    BAD("driver.vioserial", f->svc_start[CL_SVC_VIOSERIAL] = 4);
    BAD("driver.pvpanic", f->svc_start[CL_SVC_PVPANIC] = CL_IMAGE_ABSENT);
    BAD("driver.fwcfg", f->svc_start[CL_SVC_FWCFG] = CL_IMAGE_ABSENT);
    BAD("labagent", f->labagent = false);
    BAD("verifier.special-pool", f->verify_level = 0x8);
#undef BAD
    for (size_t i = 0; i < n; i++) {
        cl_image_report r;
        cl_image_evaluate(&bad[i].f, 2048, &r);
        const cl_finding *x = find(&r, bad[i].id);
        CHECK(x && x->status == CL_FIND_FAIL);
        CHECK(x && x->fix[0] && x->breaks && x->breaks[0]);
        CHECK(!cl_image_report_ready(&r));
        /* Only that finding fails. */
        for (size_t k = 0; k < r.n; k++)
            if (r.f[k].status == CL_FIND_FAIL && strcmp(r.f[k].id, bad[i].id)) {
                printf("# case %zu (%s): also %s fails\n", i, bad[i].id, r.f[k].id);
                CHECK(0);
            }
    }
}

static void test_dump_sizes(void)
{
    cl_image_facts f = good();
    snprintf(f.paging_files, sizeof(f.paging_files), "C:\\pagefile.sys 1024 4096");
    /* A kernel dump of 2 GiB needs up to ~683 MiB: fits; of 4 GiB (1366 MiB): does not. */
    CHECK(status_of(&f, 2048, "pagefile.size") == CL_FIND_OK);
    CHECK(status_of(&f, 4096, "pagefile.size") == CL_FIND_FAIL);
    f.crash_dump_enabled = 1;   /* complete: all of memory */
    CHECK(status_of(&f, 1023, "pagefile.size") == CL_FIND_OK);
    CHECK(status_of(&f, 1024, "pagefile.size") == CL_FIND_FAIL);
    snprintf(f.paging_files, sizeof(f.paging_files), "?:\\pagefile.sys");
    CHECK(status_of(&f, 2048, "pagefile.size") == CL_FIND_WARN);   /* only a boot settles it */
    f.crash_dump_enabled = 3;   /* small */
    snprintf(f.paging_files, sizeof(f.paging_files), "C:\\pagefile.sys 2 2");
    CHECK(status_of(&f, 65536, "pagefile.size") == CL_FIND_OK);
    /* A dedicated dump file replaces the page file. */
    f = good();
    f.paging_files_set = false;
    snprintf(f.dedicated_dump_file, sizeof(f.dedicated_dump_file), "C:\\dd.sys");
    f.dump_file_size_mb = 100;
    CHECK(status_of(&f, 2048, "pagefile.size") == CL_FIND_FAIL);
    f.dump_file_size_mb = 0;
    CHECK(status_of(&f, 2048, "pagefile.size") == CL_FIND_OK);
    /* Free space: the kernel dump of 8 GiB (~2.7 GiB) on 2 GiB free. */
    f = good();
    f.free_bytes = 2ull << 30;
    CHECK(status_of(&f, 2048, "disk.free") == CL_FIND_OK);
    CHECK(status_of(&f, 8192, "disk.free") == CL_FIND_FAIL);
    /* Without CrashDumpEnabled the sizes are judged for the kernel dump prepare sets. */
    f.crash_dump_enabled = 0;
    CHECK(status_of(&f, 8192, "disk.free") == CL_FIND_FAIL);
    /* AlwaysKeepMemoryDump matters below 25 GB free. */
    f = good();
    f.always_keep = CL_IMAGE_ABSENT;
    CHECK(status_of(&f, 2048, "crashcontrol.alwayskeep") == CL_FIND_WARN);
    f.free_bytes = 24ull * 1000 * 1000 * 1000;
    CHECK(status_of(&f, 2048, "crashcontrol.alwayskeep") == CL_FIND_FAIL);
}

static void test_first_boot(void)
{
    cl_image_facts f = good();
    f.svc_start[CL_SVC_QEMU_GA] = f.svc_start[CL_SVC_VIOSERIAL] = CL_IMAGE_ABSENT;
    f.cert_root = f.cert_trusted = false;
    f.firstboot = 1u << CL_FB_QEMU_GA | 1u << CL_FB_VIOSERIAL | 1u << CL_FB_CERT;
    /* Scheduled, but the service that runs the steps is missing: nothing will run them. */
    CHECK(status_of(&f, 2048, "service.qemu-ga") == CL_FIND_FAIL);
    CHECK(status_of(&f, 2048, "firstboot") == CL_FIND_FAIL);
    f.svc_start[CL_SVC_FIRSTBOOT] = 2;
    cl_image_report r;
    cl_image_evaluate(&f, 2048, &r);
    CHECK(find(&r, "service.qemu-ga")->status == CL_FIND_BOOT);
    CHECK(find(&r, "driver.vioserial")->status == CL_FIND_BOOT);
    CHECK(find(&r, "labagent.certificate")->status == CL_FIND_BOOT);
    CHECK(find(&r, "firstboot")->status == CL_FIND_BOOT);
    CHECK(strstr(find(&r, "firstboot")->what, "qemu-ga, vioserial, cert"));
    CHECK(cl_image_report_ready(&r));   /* everything offline is settled */
    /* fwcfg was not scheduled: still missing. */
    f.svc_start[CL_SVC_FWCFG] = CL_IMAGE_ABSENT;
    CHECK(status_of(&f, 2048, "driver.fwcfg") == CL_FIND_FAIL);
}

static void test_not_windows(void)
{
    cl_image_facts f;
    cl_image_facts_init(&f);
    cl_image_report r;
    cl_image_evaluate(&f, 2048, &r);
    CHECK(r.n == 1 && !strcmp(r.f[0].id, "windows.install") && r.f[0].status == CL_FIND_FAIL);
    CHECK(cl_image_report_blocker(&r, CL_NEED_AGENT) == &r.f[0]);
}

static void test_scenario_needs(void)
{
    static const char pool[] = "name: p\nguest: {profile: windows, image: x.qcow2}\nsteps:\n"
                               "  - install: build/windows/labfault.sys\n  - trigger: {fault: pool-overrun}\n"
                               "expect: {verdict: expected-crash}\ncapture: {dump_format: win-dmp}\n";
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_scenario) s = cl_scenario_parse("pool.yaml", pool, sizeof(pool) - 1, &err);
    CHECK(s != NULL);
    if (!s) {
        printf("# %s\n", err->msg);
        return;
    }
    unsigned n = cl_image_scenario_needs(s);
    CHECK(n & CL_NEED_AGENT);
    CHECK(n & CL_NEED_DRIVER);
    CHECK(n & CL_NEED_SPECIAL_POOL);
    CHECK(n & CL_NEED_WINDMP);
    CHECK(n & CL_NEED_GUEST_DUMP);   /* the Windows default */
    /* The run refuses on what the scenario needs, not on everything. */
    cl_image_facts f = good();
    f.verify_drivers[0] = '\0';
    cl_image_report r;
    cl_image_evaluate(&f, 2048, &r);
    const cl_finding *b = cl_image_report_blocker(&r, n);
    CHECK(b && !strcmp(b->id, "verifier.special-pool"));
    CHECK(cl_image_report_blocker(&r, CL_NEED_AGENT | CL_NEED_DRIVER | CL_NEED_GUEST_DUMP) == NULL);
    f = good();
    f.svc_start[CL_SVC_PVPANIC] = CL_IMAGE_ABSENT;   /* the Hyper-V MSRs still report the crash */
    cl_image_evaluate(&f, 2048, &r);
    CHECK(!cl_image_report_ready(&r));
    CHECK(cl_image_report_blocker(&r, n) == NULL);
}

static void test_utf16(void)
{
    const uint8_t in[] = { 'A', 0, 0xE4, 0, 0xAC, 0x20, 0x3D, 0xD8, 0x00, 0xDE, 0x00, 0xDC, 0, 0, 'X', 0 };
    char out[64];
    size_t n = cl_utf16le_to_utf8(in, sizeof(in), out, sizeof(out));
    CHECK_STR(out, "A\xC3\xA4\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBD");
    CHECK(n == strlen(out));
    /* Cut at a whole character, always terminated. */
    char small[4];
    cl_utf16le_to_utf8(in, sizeof(in), small, sizeof(small));
    CHECK_STR(small, "A\xC3\xA4");
    cl_utf16le_to_utf8(in, 3, out, sizeof(out));   /* odd length */
    CHECK_STR(out, "A");
    uint8_t w[64];
    CHECK(cl_utf8_to_utf16le("A\xC3\xA4\xF0\x9F\x98\x80", w, sizeof(w)) == 10);
    CHECK(w[0] == 'A' && w[2] == 0xE4 && w[4] == 0x3D && w[5] == 0xD8 && w[8] == 0 && w[9] == 0);
    CHECK(cl_utf8_to_utf16le("\xC3", w, sizeof(w)) == 0);
    CHECK(cl_utf8_to_utf16le("ABCD", w, 8) == 0);   /* no room for the NUL */
}

static void test_firstboot_parse(void)
{
    const char t[] = "@echo off\r\nrem crashlab-step: vioserial\r\nx\r\nrem crashlab-step: qemu-ga\r\n"
                     "rem crashlab-step: certificate\r\nrem crashlab-step: cert";
    CHECK(cl_image_firstboot_parse(t, sizeof(t) - 1) == (1u << CL_FB_VIOSERIAL | 1u << CL_FB_QEMU_GA | 1u << CL_FB_CERT));
    CHECK(cl_image_firstboot_parse(t, 20) == 0);
}

static void test_volume_relative(void)
{
    char out[64];
    CHECK(cl_image_volume_relative("%systemroot%\\MEMORY.DMP", out, sizeof(out)));
    CHECK_STR(out, "Windows\\MEMORY.DMP");
    CHECK(cl_image_volume_relative("c:\\dumps\\x.dmp", out, sizeof(out)));
    CHECK_STR(out, "dumps\\x.dmp");
    CHECK(!cl_image_volume_relative("D:\\MEMORY.DMP", out, sizeof(out)));
    CHECK(!cl_image_volume_relative("C:\\..\\..\\etc\\passwd", out, sizeof(out)));
    CHECK(!cl_image_volume_relative("%SystemRoot%\\../x", out, sizeof(out)));
    CHECK(!cl_image_volume_relative("C:\\a/b", out, sizeof(out)));
    CHECK(!cl_image_volume_relative("C:\\0123456789012345678901234567890123456789012345678901234567890123", out, sizeof(out)));
}

static void test_hive_read(void)
{
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_hive) h = cl_hive_open(HIVE, false, &err);
    CHECK(h != NULL);
    if (!h)
        return;
    char cs[16];
    cl_image_control_set(h, cs, sizeof(cs));
    CHECK_STR(cs, "ControlSet002");
    uint32_t v = 0;
    CHECK(cl_hive_dword(h, "controlset002\\CONTROL\\crashcontrol", "crashdumpenabled", &v) && v == 7);
    CHECK(!cl_hive_dword(h, "ControlSet002\\Control\\CrashControl", "Missing", &v));
    CHECK(!cl_hive_dword(h, "ControlSet002\\Control\\CrashControl", "DumpFile", &v));   /* not a DWORD */
    char s[256];
    CHECK(cl_hive_string(h, "ControlSet002\\Control\\CrashControl", "DumpFile", s, sizeof(s)));
    CHECK_STR(s, "%SystemRoot%\\MEMORY.DMP");
    CHECK(cl_hive_string(h, "ControlSet002\\Control\\Session Manager\\Memory Management", "PagingFiles", s, sizeof(s)));
    CHECK_STR(s, "C:\\pagefile.sys 0 0\nD:\\pagefile.sys 16 32");
    CHECK(cl_hive_string(h, "ControlSet002\\Services\\QEMU-GA", "DisplayName", s, sizeof(s)));
    CHECK_STR(s, "QEMU Guest Agent \xC3\xA4\xE2\x82\xAC\xF0\x9F\x98\x80");
    char tiny[8];
    CHECK(cl_hive_string(h, "ControlSet002\\Services\\QEMU-GA", "DisplayName", tiny, sizeof(tiny)));
    CHECK_STR(tiny, "QEMU Gu");
    uint8_t b[2];
    size_t len = 0;
    CHECK(cl_hive_binary(h, "ControlSet002\\Services\\QEMU-GA", "Blob", b, sizeof(b), &len) && len == 3 && b[1] == 2);
    CHECK(cl_hive_key_exists(h, "ControlSet002\\Services"));
    CHECK(!cl_hive_key_exists(h, "ControlSet002\\Services\\vioser"));
    CHECK(!cl_hive_key_exists(h, "A\\B\\C\\D\\E\\F\\G\\H\\I\\J\\K\\L\\M\\N\\O\\P\\Q"));
}

static void test_hive_write(void)
{
    char dir[PATH_MAX], out[PATH_MAX + 16];
    CL_AUTOPTR(cl_error) err = NULL;
    CHECK(cl_image_tmpdir(dir, sizeof(dir), &err));
    snprintf(out, sizeof(out), "%s/new", dir);
    {
        CL_AUTOPTR(cl_hive) h = cl_hive_open(HIVE, true, &err);
        CHECK(h != NULL);
        if (!h)
            return;
        CHECK(cl_hive_set_dword(h, "ControlSet002\\Control\\CrashControl", "CrashDumpEnabled", 2, &err));
        CHECK(cl_hive_set_dword(h, "ControlSet002\\Services\\crashlab-firstboot", "Start", 2, &err));
        CHECK(cl_hive_set_string(h, "ControlSet002\\Services\\crashlab-firstboot", "ImagePath", CL_REG_EXPAND_SZ,
                                 "%SystemRoot%\\System32\\cmd.exe \xC3\xA4", &err));
        CHECK(cl_hive_set_string(h, "X", "Multi", CL_REG_MULTI_SZ, "C:\\pagefile.sys 0 0", &err));
        CHECK(cl_hive_commit(h, out, &err));
    }
    CL_AUTOPTR(cl_hive) h = cl_hive_open(out, false, &err);
    CHECK(h != NULL);
    if (h) {
        uint32_t v = 0;
        char s[128];
        CHECK(cl_hive_dword(h, "ControlSet002\\Control\\CrashControl", "CrashDumpEnabled", &v) && v == 2);
        CHECK(cl_hive_dword(h, "ControlSet002\\Services\\crashlab-firstboot", "Start", &v) && v == 2);
        CHECK(cl_hive_string(h, "ControlSet002\\Services\\crashlab-firstboot", "ImagePath", s, sizeof(s)));
        CHECK_STR(s, "%SystemRoot%\\System32\\cmd.exe \xC3\xA4");
        CHECK(cl_hive_string(h, "X", "Multi", s, sizeof(s)));
        CHECK_STR(s, "C:\\pagefile.sys 0 0");
        /* Untouched values survive. */
        CHECK(cl_hive_string(h, "ControlSet002\\Control\\CrashControl", "DumpFile", s, sizeof(s)));
    }
    /* The input hive is unchanged. */
    CL_AUTOPTR(cl_hive) orig = cl_hive_open(HIVE, false, &err);
    uint32_t v = 0;
    CHECK(orig && cl_hive_dword(orig, "ControlSet002\\Control\\CrashControl", "CrashDumpEnabled", &v) && v == 7);
    cl_rm_rf(dir, NULL);
}

/* Hostile hives: cut short, a bad header, every byte of the first hbin flipped in turn. */
static void test_hive_hostile(void)
{
    CL_AUTOFREE char *data = NULL;
    size_t len = 0;
    CL_AUTOPTR(cl_error) err = NULL;
    CHECK(cl_file_read_all(HIVE, 1u << 20, &data, &len, &err));
    if (!data)
        return;
    char dir[PATH_MAX], p[PATH_MAX + 16];
    CHECK(cl_image_tmpdir(dir, sizeof(dir), &err));
    snprintf(p, sizeof(p), "%s/h", dir);
    CHECK(cl_file_write_atomic(p, data, 100, &err));
    CL_AUTOPTR(cl_error) e1 = NULL;
    CHECK(cl_hive_open(p, false, &e1) == NULL && e1 && strstr(e1->msg, "not a hive"));
    CHECK(cl_file_write_atomic(p, data, len - 4096, &err));
    CL_AUTOPTR(cl_error) e2 = NULL;
    cl_hive *h = cl_hive_open(p, false, &e2);
    cl_hive_free(h);   /* may open (hivex tolerates a shorter hbin list) but must not crash */
    memcpy(data, "regx", 4);
    CHECK(cl_file_write_atomic(p, data, len, &err));
    CL_AUTOPTR(cl_error) e3 = NULL;
    CHECK(cl_hive_open(p, false, &e3) == NULL && e3);
    memcpy(data, "regf", 4);
    for (size_t off = 4096; off < len; off += 7) {
        data[off] ^= 0x5a;
        cl_file_write_atomic(p, data, len, NULL);
        cl_hive *x = cl_hive_open(p, false, NULL);
        if (x) {
            uint32_t v;
            char s[64];
            uint8_t b[8];
            size_t bl;
            cl_hive_dword(x, "ControlSet002\\Control\\CrashControl", "CrashDumpEnabled", &v);
            cl_hive_string(x, "ControlSet002\\Control\\Session Manager\\Memory Management", "PagingFiles", s, sizeof(s));
            cl_hive_string(x, "ControlSet002\\Services\\QEMU-GA", "DisplayName", s, sizeof(s));
            cl_hive_binary(x, "ControlSet002\\Services\\QEMU-GA", "Blob", b, sizeof(b), &bl);
            cl_hive_free(x);
        }
        data[off] ^= 0x5a;
    }
    cl_rm_rf(dir, NULL);
}

int main(void)
{
    RUN_TEST(test_good_image_is_ready);
    RUN_TEST(test_each_bad_setting);
    RUN_TEST(test_dump_sizes);
    RUN_TEST(test_first_boot);
    RUN_TEST(test_not_windows);
    RUN_TEST(test_scenario_needs);
    RUN_TEST(test_utf16);
    RUN_TEST(test_firstboot_parse);
    RUN_TEST(test_volume_relative);
    RUN_TEST(test_hive_read);
    RUN_TEST(test_hive_write);
    RUN_TEST(test_hive_hostile);
    TEST_EXIT();
}
