/* dump_windows_test.c - the Windows reader against real dumps (../shared/testdata, values
 * from its README) and SYNTHETIC ones for the layouts with no real sample. */
#include "dump/dump_test_util.h"
#include "dump/reader.h"
#include "dump/windows/bugcheck.h"
#include "dump/windows/windump.h"

static void test_triage_x64_real(void)
{
    json_object *o = NULL;
    cl_error *err = NULL;
    int rc = cl_dump_inspect(REAL_DUMPS "/triage_x64.dmp", &o, &err);
    CHECK(rc == CL_DUMP_OK);
    CHECK(err == NULL);
    CHECK_STR(tu_str(o, "format"), "windows-pagedu64");
    CHECK(tu_int(o, "dump_type.number") == 4);
    CHECK_STR(tu_str(o, "dump_type.name"), "triage");
    CHECK(tu_int(o, "machine.number") == 0x8664);
    CHECK_STR(tu_str(o, "machine.name"), "x64");
    CHECK(tu_int(o, "processors") == 16);
    CHECK(tu_int(o, "os.build") == 19041);
    CHECK(tu_int(o, "os.major") == 15);
    CHECK_STR(tu_str(o, "system_time"), "2021-02-21T01:38:22Z");
    CHECK_STR(tu_str(o, "bugcheck.code"), "0x1000007e");
    CHECK_STR(tu_str(o, "bugcheck.name"), "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M");
    CHECK_STR(tu_str(o, "bugcheck.params.0"), "0xffffffffc0000005");
    CHECK_STR(tu_str(o, "bugcheck.params.1"), "0xfffff8048b58334c");
    CHECK_STR(tu_str(o, "bugcheck.params.2"), "0xffff850429891ee8");
    CHECK_STR(tu_str(o, "bugcheck.params.3"), "0xffff850429891720");
    CHECK(tu_int(o, "module_count") == 151);
    CHECK(json_object_array_length(tu_get(o, "modules")) == 151);
    CHECK_STR(tu_str(o, "modules.0.name"), "ntoskrnl.exe");
    CHECK_STR(tu_str(o, "faulting_module.name"), "amdppm.sys");
    CHECK_STR(tu_str(o, "faulting_module.base"), "0xfffff8048b580000");
    CHECK_STR(tu_str(o, "faulting_module.size"), "0x3b000");
    CHECK_STR(tu_str(o, "faulting_module.source"), "bugcheck parameter 2");
    CHECK_STR(tu_str(o, "title"), "0x1000007E SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M (STATUS_ACCESS_VIOLATION) in amdppm.sys");
    /* RequiredDumpSpace (1,669,397) exceeds the file: normal for triage */
    CHECK(!tu_bool(o, "truncated"));
    CHECK(json_object_array_length(tu_get(o, "warnings")) == 0);
    CHECK(tu_int(o, "windows.required_dump_space") == 1669397);
    json_object_put(o);
    cl_error_free(err);

    /* The same crash typed, as lab/run matches it against the scenario. */
    cl_dump_crash c;
    o = NULL;
    CHECK(cl_dump_inspect_crash(REAL_DUMPS "/triage_x64.dmp", &o, &c, NULL) == CL_DUMP_OK);
    CHECK(c.bugcheck_known && c.bugcheck == 0x1000007e);
    CHECK(c.params[0] == 0xffffffffc0000005ull && c.params[3] == 0xffff850429891720ull);
    CHECK_STR(c.title, "0x1000007E SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M (STATUS_ACCESS_VIOLATION) in amdppm.sys");
    CHECK(!c.panic_message[0]);
    CHECK(tu_crash_matches(&c, o));
    json_object_put(o);
    /* Not a dump: nothing typed is left from an earlier call. */
    CHECK(cl_dump_inspect_crash("/dev/null", &o, &c, NULL) == CL_DUMP_NOT_A_DUMP);
    CHECK(!c.bugcheck_known && !c.title[0]);
}

static void test_triage_arm64_real(void)
{
    json_object *o = NULL;
    cl_error *err = NULL;
    CHECK(cl_dump_inspect(REAL_DUMPS "/triage_arm64.dmp", &o, &err) == CL_DUMP_OK);
    CHECK(tu_int(o, "machine.number") == 0xaa64);
    CHECK_STR(tu_str(o, "machine.name"), "arm64");
    CHECK(tu_int(o, "processors") == 8);
    CHECK(tu_int(o, "os.build") == 22000);
    CHECK_STR(tu_str(o, "bugcheck.code"), "0x1c8");
    CHECK_STR(tu_str(o, "bugcheck.name"), "MANUALLY_INITIATED_POWER_BUTTON_HOLD");
    CHECK(tu_int(o, "module_count") == 245);
    CHECK(!tu_bool(o, "truncated"));
    /* a person held the button: no driver is blamed */
    CHECK(json_object_is_type(tu_get(o, "faulting_module"), json_type_null));
    CHECK_STR(tu_str(o, "title"), "0x1C8 MANUALLY_INITIATED_POWER_BUTTON_HOLD");
    json_object_put(o);
    cl_error_free(err);
}

static void test_truncated_full_header_real(void)
{
    json_object *o = NULL;
    cl_error *err = NULL;
    CHECK(cl_dump_inspect(REAL_DUMPS "/imhex_dmp64.hexpat.bin", &o, &err) == CL_DUMP_TRUNCATED);
    CHECK(o != NULL);
    CHECK(tu_bool(o, "truncated"));
    CHECK(tu_int(o, "dump_type.number") == 1);
    CHECK_STR(tu_str(o, "dump_type.name"), "full");
    CHECK(tu_int(o, "os.build") == 19045);
    CHECK(tu_int(o, "processors") == 4);
    /* the live-capture tool's tags, reported as they are */
    CHECK_STR(tu_str(o, "bugcheck.code"), "0x5454414d");
    CHECK(json_object_array_length(tu_get(o, "warnings")) >= 1);
    CHECK(json_object_array_length(tu_get(o, "windows.physical_memory.runs")) == 5);
    json_object_put(o);
    cl_error_free(err);
}

static void test_full64_synthetic(void)
{
    synth_buf b = synth_win64_full();
    CL_AUTOPTR(cl_reader) r = cl_reader_open_mem(b.p, b.len, NULL);
    CL_AUTOPTR(cl_windump) d = cl_windump_open(r, NULL);
    CHECK(d != NULL);
    if (d) {
        CHECK(d->nruns == 2);
        CHECK(!d->notes.truncated);
        unsigned char page[4096];
        CHECK(cl_windump_read_page(d, 0x10, page, NULL) && page[0] == 0x10 && page[4095] == 0x10);
        CHECK(cl_windump_read_page(d, 2, page, NULL) && page[100] == 2);
        cl_error *err = NULL;
        CHECK(!cl_windump_read_page(d, 3, page, &err) && err && err->code == CL_ERR_INVAL);
        cl_error_free(err);
    }
    json_object *o = NULL;
    CHECK(tu_inspect_buf(b.p, b.len, &o) == CL_DUMP_OK);
    CHECK_STR(tu_str(o, "title"), "0x133 DPC_WATCHDOG_VIOLATION (single DPC)");
    CHECK_STR(tu_str(o, "bugcheck.subkind"), "single DPC");
    CHECK_STR(tu_str(o, "windows.physical_memory.layout"), "runs");
    json_object_put(o);
    free(b.p);
}

static void test_bitmap_synthetic(void)
{
    for (uint32_t type = 5; type <= 6; type++) {
        synth_buf b = synth_win64_bitmap(type);
        CL_AUTOPTR(cl_reader) r = cl_reader_open_mem(b.p, b.len, NULL);
        CL_AUTOPTR(cl_windump) d = cl_windump_open(r, NULL);
        CHECK(d && d->have_bitmap && d->bmp_present_pages == 3);
        unsigned char page[4096];
        CHECK(d && cl_windump_read_page(d, 0x10, page, NULL) && page[7] == 0x10);
        CHECK(d && cl_windump_read_page(d, 1, page, NULL) && page[7] == 1);
        CHECK(d && !cl_windump_read_page(d, 0, page, NULL));
        json_object *o = NULL;
        CHECK(tu_inspect_buf(b.p, b.len, &o) == CL_DUMP_OK);
        CHECK_STR(tu_str(o, "dump_type.name"), type == 5 ? "bitmap-full" : "bitmap-kernel");
        CHECK_STR(tu_str(o, "windows.physical_memory.signature"), type == 5 ? "FDMP" : "SDMP");
        CHECK_STR(tu_str(o, "bugcheck.subkind"), "write");
        CHECK_STR(tu_str(o, "title"), "0xD1 DRIVER_IRQL_NOT_LESS_OR_EQUAL (write)");
        json_object_put(o);
        free(b.p);
    }
}

static void test_full32_synthetic(void)
{
    synth_buf b = synth_win32_full();
    json_object *o = NULL;
    CHECK(tu_inspect_buf(b.p, b.len, &o) == CL_DUMP_OK);
    CHECK_STR(tu_str(o, "format"), "windows-pagedump");
    CHECK_STR(tu_str(o, "machine.name"), "x86");
    CHECK(tu_int(o, "os.build") == 2600);
    CHECK_STR(tu_str(o, "bugcheck.code"), "0x1e");
    CHECK_STR(tu_str(o, "bugcheck.params.0"), "0xc0000005");
    CHECK_STR(tu_str(o, "bugcheck.meaning.2"), "1: write");
    CHECK_STR(tu_str(o, "title"), "0x1E KMODE_EXCEPTION_NOT_HANDLED (STATUS_ACCESS_VIOLATION)");
    json_object_put(o);
    CL_AUTOPTR(cl_reader) r = cl_reader_open_mem(b.p, b.len, NULL);
    CL_AUTOPTR(cl_windump) d = cl_windump_open(r, NULL);
    unsigned char page[4096];
    CHECK(d && cl_windump_read_page(d, 5, page, NULL) && page[0] == 0x55);
    CHECK(d && cl_windump_read_page(d, 0, page, NULL) && page[0] == 0xaa);
    free(b.p);
}

static void test_triage_stack_module_synthetic(void)
{
    const uint64_t p[4] = { 0, 0x501, 0x500, 0xfffff80000c1c340ull };
    synth_buf b = synth_win64_triage(0x133, p);
    json_object *o = NULL;
    CHECK(tu_inspect_buf(b.p, b.len, &o) == CL_DUMP_OK);
    CHECK_STR(tu_str(o, "title"), "0x133 DPC_WATCHDOG_VIOLATION (single DPC) in labfault.sys");
    CHECK_STR(tu_str(o, "faulting_module.source"), "stack");
    CHECK_STR(tu_str(o, "faulting_module.offset"), "0x1010");
    CHECK(tu_int(o, "module_count") == 3);
    CHECK(!tu_bool(o, "truncated"));
    json_object_put(o);
    /* cumulative variant */
    const uint64_t q[4] = { 1, 0x1e00, 0xfffff80000c1c340ull, 0 };
    free(b.p);
    b = synth_win64_triage(0x133, q);
    CHECK(tu_inspect_buf(b.p, b.len, &o) == CL_DUMP_OK);
    CHECK_STR(tu_str(o, "title"), "0x133 DPC_WATCHDOG_VIOLATION (cumulative) in labfault.sys");
    json_object_put(o);
    free(b.p);
}

static void test_unknown_type_by_number(void)
{
    synth_buf b = synth_win64_full();
    sy_put32(b.p, 0xf98, 0x42);
    json_object *o = NULL;
    CHECK(tu_inspect_buf(b.p, b.len, &o) == CL_DUMP_OK);
    CHECK(tu_int(o, "dump_type.number") == 0x42);
    CHECK_STR(tu_str(o, "dump_type.name"), "unknown");
    CHECK(json_object_array_length(tu_get(o, "warnings")) == 1);
    json_object_put(o);
    free(b.p);
}

static void test_bugcheck_table(void)
{
    char n[96];
    CHECK_STR(cl_bugcheck_name(0x1000007E, n, sizeof(n)), "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M");
    CHECK_STR(cl_bugcheck_name(0x1000000A, n, sizeof(n)), "IRQL_NOT_LESS_OR_EQUAL_M");
    CHECK_STR(cl_bugcheck_name(0x10000050, n, sizeof(n)), "PAGE_FAULT_IN_NONPAGED_AREA_M");
    CHECK_STR(cl_bugcheck_name(0x133, n, sizeof(n)), "DPC_WATCHDOG_VIOLATION");
    CHECK(cl_bugcheck_name(0x0badc0de, n, sizeof(n)) == NULL);
    cl_bugcheck_info i;
    const uint64_t c2[4] = { 7, 0, 0x1234, 0xffffa00012345000ull };
    cl_bugcheck_describe(0xC2, c2, &i);
    CHECK_STR(i.subkind, "double free");
    CHECK_STR(i.param[3], "address of the block being freed");
    const uint64_t d19[4] = { 0x20, 1, 2, 0 };
    cl_bugcheck_describe(0x19, d19, &i);
    CHECK_STR(i.subkind, "block size corrupt");
    const uint64_t d7f[4] = { 8, 0, 0, 0 };
    cl_bugcheck_describe(0x1000007F, d7f, &i);
    CHECK_STR(i.subkind, "double fault");
    const uint64_t d9f[4] = { 3, 0, 0, 0xffffa000deadb000ull };
    cl_bugcheck_describe(0x9F, d9f, &i);
    CHECK_STR(i.param[3], "the blocked IRP");
    const uint64_t def[4] = { 0xffffa000deadb000ull, 1, 0, 0 };
    cl_bugcheck_describe(0xEF, def, &i);
    CHECK_STR(i.subkind, "thread terminated");
    const uint64_t dd6[4] = { 0xffffa000deadb000ull, 0, 0xfffff80000401000ull, 0 };
    cl_bugcheck_describe(0xD6, dd6, &i);
    CHECK(i.have_fault_address && i.fault_address == 0xfffff80000401000ull && i.fault_param == 2);
    const uint64_t dc5[4] = { 0x10, 2, 0, 0xfffff80000401000ull };
    cl_bugcheck_describe(0xC5, dc5, &i);
    CHECK_STR(i.subkind, "read");
    CHECK(i.have_fault_address && i.fault_param == 3);
    const uint64_t d80[4] = { 0, 0, 0, 0 };
    cl_bugcheck_describe(0x80, d80, &i);
    CHECK_STR(i.param[0], "vendor-specific");
}

int main(void)
{
    RUN_TEST(test_triage_x64_real);
    RUN_TEST(test_triage_arm64_real);
    RUN_TEST(test_truncated_full_header_real);
    RUN_TEST(test_full64_synthetic);
    RUN_TEST(test_bitmap_synthetic);
    RUN_TEST(test_full32_synthetic);
    RUN_TEST(test_triage_stack_module_synthetic);
    RUN_TEST(test_unknown_type_by_number);
    RUN_TEST(test_bugcheck_table);
    TEST_EXIT();
}
