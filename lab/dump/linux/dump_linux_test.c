/* dump_linux_test.c - the Linux readers on SYNTHETIC dumps (tests/data/dumps/synth.h): ELF
 * with and without a VMCOREINFO note, kdump raw/zlib/lzo/snappy, plain and flattened, both
 * kallsyms encodings; page tables, printk ring (with a wrapped record and a reserved one). */
#include "dump/dump_test_util.h"
#include "dump/linux/kallsyms.h"
#include "dump/linux/ldump.h"
#include "dump/linux/printk.h"

static const char *expect_log_end = "Kernel panic - not syncing: softlockup: hung tasks\n";

static void check_soft_lockup(json_object *o, const char *format)
{
    CHECK_STR(tu_str(o, "format"), format);
    CHECK_STR(tu_str(o, "os.release"), "6.1.0-synthetic");
    CHECK_STR(tu_str(o, "machine.name"), "x86_64");
    CHECK(tu_int(o, "processors") == 2);
    CHECK_STR(tu_str(o, "title"), "BUG: soft lockup in lf_timer_fn");
    CHECK_STR(tu_str(o, "linux.panic_message"), "softlockup: hung tasks");
    CHECK_STR(tu_str(o, "linux.crash_function"), "lf_timer_fn");
    CHECK_STR(tu_str(o, "faulting_module.name"), "labfault");
    CHECK_STR(tu_str(o, "linux.cpus.0.symbol"), "native_safe_halt+0x4");
    CHECK(tu_get(o, "linux.cpus.1.symbol") == NULL);
    const char *tail = tu_str(o, "linux.log_tail");
    CHECK(tail && strstr(tail, "[    1.000000] Linux version 6.1.0-synthetic"));
    CHECK(tail && strlen(tail) > strlen(expect_log_end) &&
          !strcmp(tail + strlen(tail) - strlen(expect_log_end), expect_log_end));
    CHECK(!tu_bool(o, "truncated"));
}

/* Per-CPU data from the kernel's objects (synth_linux_build_objects): the task from BTF
 * offsets, a module rip named from the module's own symbols; then the same objects damaged. */
static json_object *inspect_objects(synth_linux *s, bool kdump)
{
    synth_buf b = kdump ? synth_linux_kdump(s, 1, false) : synth_linux_elf(s, false);
    json_object *o = NULL;
    CHECK(tu_inspect_buf(b.p, b.len, &o) == CL_DUMP_OK);
    free(b.p);
    return o;
}

static void test_cpus_objects(void)
{
    for (int kd = 0; kd <= 1; kd++) {
        synth_linux s;
        synth_linux_build_objects(&s, synth_soft_lockup_log);
        json_object *o = inspect_objects(&s, kd);
        CHECK(tu_int(o, "linux.cpus.0.pid") == 42);
        CHECK_STR(tu_str(o, "linux.cpus.0.comm"), "kworker/0:1");
        CHECK_STR(tu_str(o, "linux.cpus.0.symbol"), "native_safe_halt+0x4");
        CHECK(tu_int(o, "linux.cpus.1.pid") == 0 && tu_get(o, "linux.cpus.1.pid"));
        CHECK_STR(tu_str(o, "linux.cpus.1.comm"), "swapper/1");
        CHECK_STR(tu_str(o, "linux.cpus.1.symbol"), "lf_timer_fn+0x100 [labfault]");
        CHECK(tu_get(o, "linux.cpus.1.prstatus_pid") != NULL);
        CHECK(tu_get(o, "linux.cpus.0.task_unknown") == NULL);
        json_object_put(o);
        free(s.mem);
    }
    /* no BTF in kallsyms: no pid, no comm, and why */
    synth_linux s;
    synth_linux_build(&s, synth_soft_lockup_log, true);
    json_object *o = inspect_objects(&s, false);
    CHECK(tu_get(o, "linux.cpus.0.pid") == NULL && tu_get(o, "linux.cpus.0.comm") == NULL);
    const char *why = tu_str(o, "linux.cpus.0.task_unknown");
    CHECK(why && strstr(why, "BTF"));
    json_object_put(o);
    free(s.mem);
}

static void test_cpus_objects_hostile(void)
{
    /* each damage: where, the value, what must still hold */
    const struct { size_t at; uint64_t v; int width; bool task_ok, sym_ok; } cases[] = {
        { SY_MODULES, 0, 8, true, false },                       /* the modules list head: NULL */
        { SY_MOD + 0x50, 0, 8, true, false },                    /* base 0: the rip is in no module... */
        { SY_MOD + 8, SY_DM(SY_MOD) + 8, 8, true, false },       /* ... and the list loops: bounded */
        { SY_MODKS + 8, 0xffffffff, 4, true, false },            /* num_symtab huge */
        { SY_MODKS, 0xdead000000000000ull, 8, true, false },     /* symtab unmapped */
        { SY_MOD + 0x58, 0, 4, true, false },                    /* size 0: in no module */
        { SY_MODSTRTAB + 1, 0x4141414141414141ull, 8, true, true }, /* name bytes: still bounded */
        { SY_PCPU0 + SY_PCPU_CURRENT, 0, 8, false, true },       /* current_task NULL */
        { SY_PCPU0 + SY_PCPU_CURRENT, 0xffffffffffff0000ull, 8, false, true }, /* unmapped */
        { SY_BTF + 12, 0xffffffff, 4, false, false },            /* BTF type_len past the blob */
        { SY_BTF, 0, 2, false, false },                          /* BTF magic */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        synth_linux s;
        synth_linux_build_objects(&s, synth_soft_lockup_log);
        for (int k = 0; k < cases[i].width; k++)
            s.mem[cases[i].at + (size_t)k] = (unsigned char)(cases[i].v >> (8 * k));
        if (i == 2) /* the loop with the rip outside the module, so the walk goes on */
            memset(s.mem + SY_MOD + 0x50, 0, 8);
        json_object *o = inspect_objects(&s, false);
        bool task = tu_get(o, "linux.cpus.0.pid") != NULL, sym = tu_get(o, "linux.cpus.1.symbol") != NULL;
        if (task != cases[i].task_ok || sym != cases[i].sym_ok)
            printf("# damage case %zu: task %d symbol %d\n", i, task, sym);
        CHECK(task == cases[i].task_ok && sym == cases[i].sym_ok);
        CHECK(task || tu_str(o, "linux.cpus.0.task_unknown") != NULL);
        json_object_put(o);
        free(s.mem);
    }
}

static void test_elf_synthetic(void)
{
    for (int abs = 0; abs <= 1; abs++) {
        synth_linux s;
        synth_linux_build(&s, synth_soft_lockup_log, abs);
        synth_buf b = synth_linux_elf(&s, false);
        json_object *o = NULL;
        CHECK(tu_inspect_buf(b.p, b.len, &o) == CL_DUMP_OK);
        check_soft_lockup(o, "elf-vmcore");
        CHECK_STR(tu_str(o, "linux.vmcoreinfo"), "note");
        CHECK(json_object_array_length(tu_get(o, "warnings")) == 0);
        json_object_put(o);
        free(b.p);
        free(s.mem);
    }
}

static void test_elf_vmcoreinfo_from_memory(void)
{
    synth_linux s;
    synth_linux_build(&s, synth_soft_lockup_log, true);
    synth_buf b = synth_linux_elf(&s, true);
    json_object *o = NULL;
    CHECK(tu_inspect_buf(b.p, b.len, &o) == CL_DUMP_OK);
    check_soft_lockup(o, "elf-vmcore");
    CHECK_STR(tu_str(o, "linux.vmcoreinfo"), "memory");
    json_object_put(o);
    free(b.p);
    free(s.mem);
}

static void test_kdump_synthetic(void)
{
    const uint32_t comps[] = { 0, 1, 2, 4 };
    for (size_t c = 0; c < 4; c++) {
        for (int flat = 0; flat <= 1; flat++) {
            synth_linux s;
            synth_linux_build(&s, synth_soft_lockup_log, true);
            synth_buf b = synth_linux_kdump(&s, comps[c], flat);
            json_object *o = NULL;
            CHECK(tu_inspect_buf(b.p, b.len, &o) == CL_DUMP_OK);
            check_soft_lockup(o, flat ? "kdump-flattened" : "kdump-compressed");
            CHECK_STR(tu_str(o, "system_time"), "2024-10-04T00:00:00Z");
            if (cl_t_failed_here) {
                printf("# compression %u flattened %d\n", comps[c], flat);
                json_object_put(o);
                free(b.p);
                free(s.mem);
                return;
            }
            json_object_put(o);
            free(b.p);
            free(s.mem);
        }
    }
}

static void test_page_tables(void)
{
    synth_linux s;
    synth_linux_build(&s, synth_soft_lockup_log, true);
    synth_buf b = synth_linux_elf(&s, false);
    CL_AUTOPTR(cl_reader) r = cl_reader_open_mem(b.p, b.len, NULL);
    CL_AUTOPTR(cl_ldump) d = cl_ldump_open(r, NULL);
    CHECK(d != NULL);
    if (d) {
        uint64_t pa;
        CHECK(cl_kmem_vtop(&d->kmem, SY_DM(0x123456), &pa, NULL) && pa == SY_BASE_PA + 0x123456);
        CHECK(cl_kmem_vtop(&d->kmem, SY_VM(0x10), &pa, NULL) && pa == SY_BASE_PA + SY_TEXTRING + 0x10);
        CHECK(cl_kmem_vtop(&d->kmem, SY_KTEXT(0x42), &pa, NULL) && pa == SY_BASE_PA + 0x42);
        cl_error *err = NULL;
        CHECK(!cl_kmem_vtop(&d->kmem, SY_VM(0x1000), &pa, &err) && err);
        cl_error_free(err);
        CL_AUTOPTR(cl_kallsyms) ks = cl_kallsyms_load(&d->kmem, d->vmci, NULL);
        char name[64];
        uint64_t off;
        CHECK(ks && cl_kallsyms_lookup(ks, SY_KTEXT(0x300), name, sizeof(name), &off, NULL) && off == 0);
        CHECK_STR(name, "panic");
        CHECK(ks && cl_kallsyms_lookup(ks, SY_KTEXT(0x150), name, sizeof(name), &off, NULL) && off == 0x50);
        CHECK_STR(name, "startup_64");
    }
    free(b.p);
    free(s.mem);
}

static void test_truncated_elf(void)
{
    synth_linux s;
    synth_linux_build(&s, synth_soft_lockup_log, true);
    synth_buf b = synth_linux_elf(&s, false);
    /* cut inside the PT_LOAD data: the header and notes are whole, some memory is missing */
    json_object *o = NULL;
    CHECK(tu_inspect_buf(b.p, b.len - 4096 * 3, &o) == CL_DUMP_TRUNCATED);
    CHECK(tu_bool(o, "truncated"));
    CHECK_STR(tu_str(o, "os.release"), "6.1.0-synthetic");
    json_object_put(o);
    /* cut inside the notes */
    CHECK(tu_inspect_buf(b.p, 300, &o) == CL_DUMP_TRUNCATED);
    CHECK(tu_bool(o, "truncated"));
    json_object_put(o);
    free(b.p);
    free(s.mem);
}

static void test_truncated_kdump(void)
{
    synth_linux s;
    synth_linux_build(&s, synth_soft_lockup_log, true);
    for (int flat = 0; flat <= 1; flat++) {
        synth_buf b = synth_linux_kdump(&s, 1, flat);
        json_object *o = NULL;
        CHECK(tu_inspect_buf(b.p, b.len - 100, &o) == CL_DUMP_TRUNCATED);
        CHECK(tu_bool(o, "truncated"));
        CHECK_STR(tu_str(o, "os.release"), "6.1.0-synthetic");
        json_object_put(o);
        free(b.p);
    }
    free(s.mem);
}

int main(void)
{
    RUN_TEST(test_cpus_objects);
    RUN_TEST(test_cpus_objects_hostile);
    RUN_TEST(test_elf_synthetic);
    RUN_TEST(test_elf_vmcoreinfo_from_memory);
    RUN_TEST(test_kdump_synthetic);
    RUN_TEST(test_page_tables);
    RUN_TEST(test_truncated_elf);
    RUN_TEST(test_truncated_kdump);
    TEST_EXIT();
}
