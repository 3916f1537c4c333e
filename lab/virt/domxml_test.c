#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "virt/domxml.h"

static cl_domxml_opts linux_opts(void)
{
    cl_domxml_opts o = {
        .name = "cl-abc", .run_id = "20260101-000000-panic-abcdef", .owner_pid = 42, .owner_host = "h",
        .profile = CL_PROFILE_LINUX, .memory_mb = 256, .vcpus = 2, .domain_type = "qemu",
        .kernel = "/g/vmlinuz", .initrd = "/g/initrd.img", .cmdline = "console=ttyS0 a=<b>&c",
        .console_log = "/r/console.log", .agent_socket = "/s/cl-abc.qga",
    };
    return o;
}

static void test_linux_xml(void)
{
    cl_domxml_opts o = linux_opts();
    char *x = cl_domxml_build(&o, NULL);
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK(strstr(x, "<domain type='qemu'>"));
    CHECK(strstr(x, "<kernel>/g/vmlinuz</kernel>"));
    CHECK(strstr(x, "<initrd>/g/initrd.img</initrd>"));
    CHECK(strstr(x, "<cmdline>console=ttyS0 a=&lt;b&gt;&amp;c</cmdline>"));
    CHECK(strstr(x, "<on_crash>preserve</on_crash>"));
    CHECK(strstr(x, "<vmcoreinfo state='on'/>"));
    CHECK(strstr(x, "<panic model='isa'>"));
    CHECK(!strstr(x, "model='hyperv'"));
    CHECK(strstr(x, "<source mode='bind' path='/s/cl-abc.qga'/>"));
    CHECK(strstr(x, "name='org.qemu.guest_agent.0'"));
    CHECK(strstr(x, "<serial type='file'>"));
    CHECK(strstr(x, "<source path='/r/console.log'/>"));
    CHECK(strstr(x, "<entry name='serial'>20260101-000000-panic-abcdef</entry>"));
    CHECK(strstr(x, "<smbios mode='sysinfo'/>"));
    CHECK(strstr(x, "<crashlab:pid>42</crashlab:pid>"));
    CHECK(strstr(x, "<vcpu>2</vcpu>"));
    CHECK(strstr(x, "machine='pc'"));
    free(x);
}

static void test_smbios_override(void)
{
    cl_domxml_opts o = linux_opts();
    cl_smbios s = { .manufacturer = "Xen", .product = "HVM domU", .serial = "S'1" };
    o.smbios = &s;
    char *x = cl_domxml_build(&o, NULL);
    CHECK(x && strstr(x, "<entry name='manufacturer'>Xen</entry>"));
    CHECK(x && strstr(x, "<entry name='product'>HVM domU</entry>"));
    CHECK(x && strstr(x, "<entry name='serial'>S&apos;1</entry>"));
    free(x);
}

static void test_windows_xml(void)
{
    cl_domxml_opts o = linux_opts();
    o.profile = CL_PROFILE_WINDOWS;
    o.kernel = o.initrd = o.cmdline = NULL;
    o.disk = "/r/overlay.qcow2";
    o.firmware = CL_FIRMWARE_UEFI;
    o.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd";
    o.nvram = "/r/vars.fd";
    o.hv_mask = cl_domxml_hv_all() & ~(1u << CL_HV_VPINDEX) & ~(1u << CL_HV_STIMER);
    o.tpm = true;
    char *x = cl_domxml_build(&o, NULL);
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK(strstr(x, "machine='q35'"));
    CHECK(strstr(x, "<panic model='hyperv'/>"));
    CHECK(strstr(x, "<relaxed state='on'/>"));
    CHECK(strstr(x, "<spinlocks state='on' retries='8191'/>"));
    CHECK(!strstr(x, "<vpindex"));
    CHECK(!strstr(x, "<stimer"));
    CHECK(strstr(x, "<synic state='on'/>"));
    CHECK(strstr(x, "<source file='/r/overlay.qcow2'/>"));
    CHECK(strstr(x, "<nvram>/r/vars.fd</nvram>"));
    CHECK(strstr(x, "<tpm model='tpm-crb'>"));
    CHECK(!strstr(x, "<kernel>"));
    /* Issue 18.2: never QEMU's qemu64 (no SSE4.2/POPCNT) for Windows. */
    CHECK(strstr(x, "<cpu mode='custom' match='exact' check='none'>"));
    CHECK(strstr(x, "<model fallback='forbid'>" CL_DOMXML_TCG_CPU "</model>"));
    CHECK(strstr(x, "<feature policy='require' name='sse4.2'/>"));
    CHECK(strstr(x, "<feature policy='require' name='popcnt'/>"));
    free(x);

    o.domain_type = "kvm";
    o.hv_mask = cl_domxml_hv_all() & ~(1u << CL_HV_RELAXED);
    x = cl_domxml_build(&o, NULL);
    CHECK(x && strstr(x, "<cpu mode='host-passthrough' check='none' migratable='off'/>"));
    CHECK(x && !strstr(x, "<model fallback"));
    /* Issue 18.5: a scenario that needs the DPC watchdog gets no relaxed timing. */
    CHECK(x && !strstr(x, "<relaxed") && strstr(x, "<vapic state='on'/>"));
    free(x);
    CHECK_STR(cl_domxml_cpu_model("kvm"), "host-passthrough");
    CHECK_STR(cl_domxml_cpu_model("qemu"), CL_DOMXML_TCG_CPU);

    /* The Linux guest keeps QEMU's default CPU: its pipeline is measured with it. */
    cl_domxml_opts l = linux_opts();
    x = cl_domxml_build(&l, NULL);
    CHECK(x && !strstr(x, "<cpu"));
    free(x);
}

/* A remote host: no path of this machine may reach the XML. */
static void test_remote_xml(void)
{
    cl_domxml_opts o = linux_opts();
    o.remote = true;
    o.console_log = NULL;
    o.agent_socket = NULL;
    char *x = cl_domxml_build(&o, NULL);
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK(strstr(x, "<serial type='pty'>"));
    CHECK(strstr(x, "<console type='pty'>"));
    CHECK(strstr(x, "<source mode='bind'/>"));
    CHECK(strstr(x, "name='org.qemu.guest_agent.0'"));
    CHECK(!strstr(x, "type='file'"));
    CHECK(!strstr(x, "/r/"));
    CHECK(!strstr(x, "/s/"));
    free(x);
    /* A local host still needs both. */
    o.remote = false;
    cl_error *err = NULL;
    CHECK(cl_domxml_build(&o, &err) == NULL);
    CHECK(err && strstr(err->msg, "agent socket"));
    cl_error_free(err);
}

static void test_errors(void)
{
    cl_domxml_opts o = linux_opts();
    cl_error *err = NULL;
    char longp[200];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    o.agent_socket = longp;
    CHECK(cl_domxml_build(&o, &err) == NULL);
    CHECK(err && err->code == CL_ERR_INVAL && strstr(err->msg, "UNIX socket"));
    cl_error_free(err);
    err = NULL;
    o = linux_opts();
    o.kernel = NULL;
    CHECK(cl_domxml_build(&o, &err) == NULL);
    CHECK(err && strstr(err->msg, "kernel"));
    cl_error_free(err);
    err = NULL;
    o = linux_opts();
    o.profile = CL_PROFILE_WINDOWS;
    CHECK(cl_domxml_build(&o, &err) == NULL);
    CHECK(err && strstr(err->msg, "disk"));
    cl_error_free(err);
}

/* Whether the built XML has the qemu-ga channel. */
static bool x0_has_agent(const cl_domxml_opts *o)
{
    char *x = cl_domxml_build(o, NULL);
    bool has = x && strstr(x, "<target type='virtio' name='org.qemu.guest_agent.0'/>");
    free(x);
    return has;
}

/* Record/replay (issue 17): the qemu namespace and -icount only when asked, TCG only,
 * and a path QEMU's option parser would split is refused. */
static void test_record_replay(void)
{
    cl_domxml_opts o = linux_opts();
    char *x = cl_domxml_build(&o, NULL);
    CHECK(x && !strstr(x, "xmlns:qemu") && !strstr(x, "-icount"));
    free(x);

    o.rr_file = "/r/replay.bin";
    x = cl_domxml_build(&o, NULL);
    CHECK(x && strstr(x, "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"));
    CHECK(x && strstr(x, "<qemu:arg value='-icount'/>\n    <qemu:arg value='shift=auto,rr=record,rrfile=/r/replay.bin'/>"));
    CHECK(x && strstr(x, "<qemu:arg value='panic=pause'/>"));
    free(x);

    /* A recorded guest has no agent channel (its host side is not in the log); the
     * console stays. The agent socket is then not needed. */
    CHECK(x0_has_agent(&o));
    o.no_agent = true;
    o.agent_socket = NULL;
    x = cl_domxml_build(&o, NULL);
    CHECK(x && !strstr(x, "org.qemu.guest_agent.0") && strstr(x, "<serial type='file'>"));
    free(x);

    o.rr_replay = true;
    x = cl_domxml_build(&o, NULL);
    CHECK(x && strstr(x, "rr=replay,rrfile=/r/replay.bin"));
    free(x);

    /* with panic_continue: one commandline block, the guest's own action kept */
    o.panic_continue = true;
    x = cl_domxml_build(&o, NULL);
    CHECK(x && strstr(x, "panic=none") && !strstr(x, "panic=pause") && strstr(x, "rr=replay"));
    CHECK(x && strstr(x, "<qemu:commandline>") && !strstr(strstr(x, "<qemu:commandline>") + 1, "<qemu:commandline>"));
    free(x);

    cl_error *err = NULL;
    o.rr_file = "/r/a,b.bin";
    CHECK(!cl_domxml_build(&o, &err) && err && strstr(err->msg, "comma"));
    cl_error_free(err);
    err = NULL;
    o.rr_file = "/r/replay.bin";
    o.domain_type = "kvm";
    CHECK(!cl_domxml_build(&o, &err) && err && strstr(err->msg, "TCG"));
    cl_error_free(err);
}

int main(void)
{
    RUN_TEST(test_linux_xml);
    RUN_TEST(test_smbios_override);
    RUN_TEST(test_windows_xml);
    RUN_TEST(test_remote_xml);
    RUN_TEST(test_errors);
    RUN_TEST(test_record_replay);
    TEST_EXIT();
}
