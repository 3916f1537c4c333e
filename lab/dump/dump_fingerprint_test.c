/* dump_fingerprint_test.c - the guest side of the hypervisor fingerprint: SMBIOS found in RAM
 * of a SYNTHETIC Linux dump (an _SM3_ entry point outside the F-segment, as UEFI places it),
 * the virtualization driver table, and the real triage dump's drivers. */
#include "dump/dump_test_util.h"
#include "dump/fingerprint.h"
#include "dump/smbios.h"

static void test_smbios_synthetic(void)
{
    synth_linux s;
    synth_linux_build(&s, synth_soft_lockup_log, true);
    synth_buf e = synth_linux_elf(&s, false);
    synth_buf k = synth_linux_kdump(&s, 1, true);
    synth_buf bufs[2] = { e, k };
    for (int i = 0; i < 2; i++) {
        CL_AUTOPTR(cl_reader) r = cl_reader_open_mem(bufs[i].p, bufs[i].len, NULL);
        json_object *o = NULL;
        CHECK(cl_dump_fingerprint_reader(r, &o, NULL));
        CHECK_STR(tu_str(o, "smbios.entry_point"), "_SM3_");
        CHECK_STR(tu_str(o, "smbios.version"), "3.0");
        CHECK_STR(tu_str(o, "smbios.bios.vendor"), "SynthBIOS");
        CHECK_STR(tu_str(o, "smbios.bios.version"), "1.2");
        CHECK_STR(tu_str(o, "smbios.bios.release_date"), "01/02/2026");
        CHECK_STR(tu_str(o, "smbios.system.manufacturer"), "Crashlab");
        CHECK_STR(tu_str(o, "smbios.system.product"), "SynthPC");
        CHECK_STR(tu_str(o, "smbios.system.version"), "v2");
        CHECK_STR(tu_str(o, "smbios.system.serial"), "SYN-001");
        CHECK_STR(tu_str(o, "smbios.system.uuid"), "12345678-9abc-def0-1234-56789abcdef0");
        /* the synthetic log names labfault only: no virtualization driver */
        CHECK(json_object_array_length(tu_get(o, "virtualization_drivers")) == 0);
        json_object_put(o);
    }
    /* a broken checksum hides the entry point */
    s.mem[SY_SMBIOS + 5] ^= 1;
    synth_buf bad = synth_linux_elf(&s, false);
    CL_AUTOPTR(cl_reader) r = cl_reader_open_mem(bad.p, bad.len, NULL);
    json_object *o = NULL;
    CHECK(cl_dump_fingerprint_reader(r, &o, NULL));
    CHECK(json_object_is_type(tu_get(o, "smbios"), json_type_null));
    json_object_put(o);
    free(bad.p);
    free(e.p);
    free(k.p);
    free(s.mem);
}

static void test_smbios_table_hostile(void)
{
    cl_smbios s;
    memset(&s, 0, sizeof(s));
    /* a structure whose length runs past the table, and strings with no terminator */
    const unsigned char t1[] = { 1, 0xff, 0, 0, 1, 2 };
    cl_smbios_parse_table(t1, sizeof(t1), &s);
    CHECK(!s.have_system);
    const unsigned char t2[] = { 0, 0x09, 0, 0, 1, 2, 0, 0, 3, 'a', 'b' };
    cl_smbios_parse_table(t2, sizeof(t2), &s);
    CHECK(s.have_bios && s.bios_vendor[0] == '\0');
}

static void test_driver_table(void)
{
    CHECK_STR(cl_fingerprint_driver_platform("xenvbd.sys"), "Xen");
    CHECK_STR(cl_fingerprint_driver_platform("dump_xenvbd.sys"), "Xen");
    CHECK_STR(cl_fingerprint_driver_platform("DUMP_VIOSTOR.SYS"), "KVM/virtio");
    CHECK_STR(cl_fingerprint_driver_platform("netkvm.sys"), "KVM/virtio");
    CHECK_STR(cl_fingerprint_driver_platform("virtio_blk"), "KVM/virtio");
    CHECK_STR(cl_fingerprint_driver_platform("storvsc.sys"), "Hyper-V");
    CHECK_STR(cl_fingerprint_driver_platform("hv_vmbus"), "Hyper-V");
    CHECK_STR(cl_fingerprint_driver_platform("vmbusr.sys"), "Hyper-V root");
    CHECK_STR(cl_fingerprint_driver_platform("vmxnet3.sys"), "VMware");
    CHECK_STR(cl_fingerprint_driver_platform("VBoxGuest.sys"), "VirtualBox");
    CHECK(cl_fingerprint_driver_platform("ntoskrnl.exe") == NULL);
    CHECK(cl_fingerprint_driver_platform("labfault") == NULL);
}

static void test_triage_drivers_real(void)
{
    json_object *o = NULL;
    CHECK(cl_dump_fingerprint(REAL_DUMPS "/triage_x64.dmp", &o, NULL));
    CHECK(json_object_is_type(tu_get(o, "smbios"), json_type_null));
    json_object *p = tu_get(o, "platforms");
    bool root = false;
    for (size_t i = 0; p && i < json_object_array_length(p); i++)
        root |= !strcmp(json_object_get_string(json_object_array_get_idx(p, i)), "Hyper-V root");
    CHECK(root);
    json_object_put(o);
    cl_error *err = NULL;
    CHECK(!cl_dump_fingerprint("/nonexistent", &o, &err) && err);
    cl_error_free(err);
}

int main(void)
{
    RUN_TEST(test_smbios_synthetic);
    RUN_TEST(test_smbios_table_hostile);
    RUN_TEST(test_driver_table);
    RUN_TEST(test_triage_drivers_real);
    TEST_EXIT();
}
