/* domxml.c - writes the domain XML. Everything a guest needs to be observed is here:
 * the panic device (the hypervisor's record of the crash), <vmcoreinfo/> (so a memory
 * dump carries the guest's own description), the qemu-ga channel, the serial console
 * in a file, SMBIOS strings that name the run, and on_crash=preserve so the crashed
 * guest stays for the dump. */
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "domxml.h"
#include "util/buf.h"


unsigned cl_domxml_hv_all(void)
{
    return (1u << CL_HV_LAST) - 1;
}

static void entry(cl_buf *b, const char *name, const char *value)
{
    if (!value || !*value)
        return;
    cl_buf_addf(b, "      <entry name='%s'>", name);
    cl_buf_add_xml(b, value);
    cl_buf_adds(b, "</entry>\n");
}

static const char *or_default(const char *v, const char *def)
{
    return v && *v ? v : def;
}

void cl_domxml_smbios_effective(const cl_domxml_opts *o, cl_smbios *out)
{
    cl_smbios none = { 0 };
    const cl_smbios *s = o->smbios ? o->smbios : &none;
    out->bios_vendor = (char *)or_default(s->bios_vendor, "crashlab");
    out->bios_version = (char *)or_default(s->bios_version, "crashlab-1");
    out->manufacturer = (char *)or_default(s->manufacturer, "crashlab");
    out->product = (char *)or_default(s->product, "crashlab virtual test machine");
    out->version = (char *)or_default(s->version, "1");
    /* The run id in the serial number: any dump found later leads back to its run. */
    out->serial = (char *)or_default(s->serial, o->run_id);
    out->family = (char *)or_default(s->family, "crashlab");
    out->sku = s->sku;
}

static void sysinfo(cl_buf *b, const cl_domxml_opts *o)
{
    cl_smbios e;
    cl_domxml_smbios_effective(o, &e);
    cl_buf_adds(b, "  <sysinfo type='smbios'>\n    <bios>\n");
    entry(b, "vendor", e.bios_vendor);
    entry(b, "version", e.bios_version);
    cl_buf_adds(b, "    </bios>\n    <system>\n");
    entry(b, "manufacturer", e.manufacturer);
    entry(b, "product", e.product);
    entry(b, "version", e.version);
    entry(b, "serial", e.serial);
    entry(b, "family", e.family);
    entry(b, "sku", e.sku);
    cl_buf_adds(b, "    </system>\n  </sysinfo>\n");
}

static void hyperv(cl_buf *b, unsigned mask)
{
    cl_buf_adds(b, "    <hyperv mode='custom'>\n");
    for (int f = 0; f < CL_HV_LAST; f++) {
        if (!(mask & (1u << f)))
            continue;
        if (f == CL_HV_SPINLOCKS)
            cl_buf_adds(b, "      <spinlocks state='on' retries='8191'/>\n");
        else if (f == CL_HV_VENDOR_ID)
            cl_buf_adds(b, "      <vendor_id state='on' value='crashlab'/>\n");
        else
            cl_buf_addf(b, "      <%s state='on'/>\n", cl_hv_feature_to_string((cl_hv_feature)f));
    }
    cl_buf_adds(b, "    </hyperv>\n");
}

const char *cl_domxml_cpu_model(const char *domain_type)
{
    return domain_type && !strcmp(domain_type, "kvm") ? "host-passthrough" : CL_DOMXML_TCG_CPU;
}

static void cpu(cl_buf *b, const cl_domxml_opts *o)
{
    const char *model = o->cpu_model ? o->cpu_model : cl_domxml_cpu_model(o->domain_type);
    if (!strcmp(model, "host-passthrough")) {
        cl_buf_adds(b, "  <cpu mode='host-passthrough' check='none' migratable='off'/>\n");
        return;
    }
    /* require: the guest sees both features or QEMU refuses to start; never silently qemu64. */
    cl_buf_adds(b, "  <cpu mode='custom' match='exact' check='none'>\n    <model fallback='forbid'>");
    cl_buf_add_xml(b, model);
    cl_buf_adds(b, "</model>\n    <feature policy='require' name='sse4.2'/>\n"
                   "    <feature policy='require' name='popcnt'/>\n  </cpu>\n");
}

static bool check_socket(const char *path, cl_error **errp)
{
    struct sockaddr_un sun;
    if (strlen(path) >= sizeof(sun.sun_path))
        return cl_error_set(errp, CL_ERR_INVAL,
                            "domxml: agent socket path '%s' is %zu bytes, a UNIX socket holds at most %zu: use a shorter --state directory",
                            path, strlen(path), sizeof(sun.sun_path) - 1);
    return true;
}

static bool check_rr(const cl_domxml_opts *o, cl_error **errp)
{
    if (strcmp(o->domain_type, "qemu"))
        return cl_error_set(errp, CL_ERR_INVAL, "domxml: record/replay needs TCG (domain type qemu), not '%s'",
                            o->domain_type);
    /* A comma ends a QEMU option value; the path goes in unescaped, so refuse it. */
    if (!*o->rr_file || strchr(o->rr_file, ',') || strlen(o->rr_file) > 4096)
        return cl_error_set(errp, CL_ERR_INVAL, "domxml: replay log path '%s' is empty, holds a comma or is over 4096 bytes", o->rr_file);
    return true;
}

static void qemu_arg(cl_buf *b, const char *v)
{
    cl_buf_adds(b, "    <qemu:arg value='");
    cl_buf_add_xml(b, v);
    cl_buf_adds(b, "'/>\n");
}

char *cl_domxml_build(const cl_domxml_opts *o, cl_error **errp)
{
    if (!o->name || !o->run_id || !o->domain_type || (!o->remote && (!o->console_log || (!o->agent_socket && !o->no_agent))))
        return cl_error_set(errp, CL_ERR_INVAL, "domxml: name, run id, console, agent socket and domain type are required"), NULL;
    if (o->profile == CL_PROFILE_LINUX && (!o->kernel || !o->initrd))
        return cl_error_set(errp, CL_ERR_INVAL, "domxml: the linux profile needs a kernel and an initrd"), NULL;
    if (o->profile == CL_PROFILE_WINDOWS && !o->disk)
        return cl_error_set(errp, CL_ERR_INVAL, "domxml: the windows profile needs a disk overlay"), NULL;
    if (o->profile == CL_PROFILE_WINDOWS && o->firmware == CL_FIRMWARE_UEFI && (!o->ovmf_code || !o->nvram))
        return cl_error_set(errp, CL_ERR_INVAL, "domxml: uefi needs the OVMF code image and an nvram file"), NULL;
    if (!o->remote && !o->no_agent && !check_socket(o->agent_socket, errp))
        return NULL;
    if (o->rr_file && !check_rr(o, errp))
        return NULL;
    bool win = o->profile == CL_PROFILE_WINDOWS;
    bool qemu_args = o->panic_continue || o->rr_file;

    cl_buf b = { .max = 1u << 20 };
    cl_buf_addf(&b, "<domain type='%s'%s>\n  <name>", o->domain_type,
                qemu_args ? " xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'" : "");
    cl_buf_add_xml(&b, o->name);
    cl_buf_adds(&b, "</name>\n");
    if (o->uuid) {
        cl_buf_adds(&b, "  <uuid>");
        cl_buf_add_xml(&b, o->uuid);
        cl_buf_adds(&b, "</uuid>\n");
    }
    cl_buf_adds(&b, "  <title>crashlab run ");
    cl_buf_add_xml(&b, o->run_id);
    cl_buf_adds(&b, "</title>\n  <metadata>\n    <crashlab:run xmlns:crashlab='" CL_DOMXML_NS "'>\n      <crashlab:id>");
    cl_buf_add_xml(&b, o->run_id);
    cl_buf_addf(&b, "</crashlab:id>\n      <crashlab:pid>%ld</crashlab:pid>\n      <crashlab:host>", o->owner_pid);
    cl_buf_add_xml(&b, o->owner_host ? o->owner_host : "");
    cl_buf_adds(&b, "</crashlab:host>\n    </crashlab:run>\n  </metadata>\n");
    cl_buf_addf(&b, "  <memory unit='MiB'>%u</memory>\n  <vcpu>%u</vcpu>\n", o->memory_mb, o->vcpus);
    sysinfo(&b, o);
    if (win)
        cpu(&b, o);

    if (win && o->firmware == CL_FIRMWARE_UEFI) {
        cl_buf_adds(&b, "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n"
                        "    <loader readonly='yes' secure='no' type='pflash'>");
        cl_buf_add_xml(&b, o->ovmf_code);
        cl_buf_adds(&b, "</loader>\n    <nvram>");
        cl_buf_add_xml(&b, o->nvram);
        cl_buf_adds(&b, "</nvram>\n");
    } else {
        cl_buf_addf(&b, "  <os>\n    <type arch='x86_64' machine='%s'>hvm</type>\n", win ? "q35" : "pc");
    }
    if (!win) {
        cl_buf_adds(&b, "    <kernel>");
        cl_buf_add_xml(&b, o->kernel);
        cl_buf_adds(&b, "</kernel>\n    <initrd>");
        cl_buf_add_xml(&b, o->initrd);
        cl_buf_adds(&b, "</initrd>\n    <cmdline>");
        cl_buf_add_xml(&b, o->cmdline ? o->cmdline : "");
        cl_buf_adds(&b, "</cmdline>\n");
    } else {
        cl_buf_adds(&b, "    <boot dev='hd'/>\n");
    }
    cl_buf_adds(&b, "    <smbios mode='sysinfo'/>\n  </os>\n");

    cl_buf_adds(&b, "  <features>\n    <acpi/>\n    <apic/>\n");
    if (win && o->hv_mask)
        hyperv(&b, o->hv_mask);
    /* vmcoreinfo: the guest publishes where its structures are, and memory dumps carry it. */
    cl_buf_adds(&b, "    <vmcoreinfo state='on'/>\n  </features>\n");
    if (win)
        cl_buf_adds(&b, "  <clock offset='localtime'>\n    <timer name='hypervclock' present='yes'/>\n  </clock>\n");
    cl_buf_adds(&b, "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n"
                    "  <on_crash>preserve</on_crash>\n  <devices>\n");

    if (win) {
        cl_buf_adds(&b, "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n      <source file='");
        cl_buf_add_xml(&b, o->disk);
        cl_buf_adds(&b, "'/>\n      <target dev='sda' bus='sata'/>\n    </disk>\n");
        if (o->cdrom) {
            cl_buf_adds(&b, "    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n      <source file='");
            cl_buf_add_xml(&b, o->cdrom);
            cl_buf_adds(&b, "'/>\n      <target dev='sdb' bus='sata'/>\n      <readonly/>\n    </disk>\n");
        }
    }
    if (o->remote) {
        /* A path of this machine means nothing on that host: the console goes through a
         * pty there (streamed by libvirt) and libvirt names the agent socket itself. */
        cl_buf_adds(&b, "    <serial type='pty'>\n      <target port='0'/>\n    </serial>\n"
                        "    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n"
                        "    <channel type='unix'>\n      <source mode='bind'/>\n"
                        "      <target type='virtio' name='org.qemu.guest_agent.0'/>\n    </channel>\n");
    } else {
        cl_buf_adds(&b, "    <serial type='file'>\n      <source path='");
        cl_buf_add_xml(&b, o->console_log);
        cl_buf_adds(&b, "'/>\n      <target port='0'/>\n    </serial>\n");
        if (!o->no_agent) {
            cl_buf_adds(&b, "    <channel type='unix'>\n      <source mode='bind' path='");
            cl_buf_add_xml(&b, o->agent_socket);
            cl_buf_adds(&b, "'/>\n      <target type='virtio' name='org.qemu.guest_agent.0'/>\n    </channel>\n");
        }
    }
    /* The hypervisor's record of the crash: Hyper-V crash MSRs carry the bug check code and
     * parameters (Windows); the ISA pvpanic device reports panicked/crashloaded (both). */
    if (win)
        cl_buf_adds(&b, "    <panic model='hyperv'/>\n");
    cl_buf_adds(&b, "    <panic model='isa'>\n      <address type='isa' iobase='0x505'/>\n    </panic>\n");
    if (win) {
        cl_buf_adds(&b, "    <input type='tablet' bus='usb'/>\n"
                        "    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>\n"
                        "    <video>\n      <model type='vga'/>\n    </video>\n");
        if (o->tpm)
            cl_buf_adds(&b, "    <tpm model='tpm-crb'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>\n");
    } else {
        cl_buf_adds(&b, "    <video>\n      <model type='none'/>\n    </video>\n");
    }
    cl_buf_adds(&b, "    <memballoon model='none'/>\n  </devices>\n");
    /* libvirt has no element for QEMU's panic action; with "none" QEMU still emits
     * GUEST_PANICKED (libvirt's crashed/panicked event, the Hyper-V parameters in the domain
     * log) but the guest runs on: measured here, a Linux guest with panic=3 reboots and its
     * agent comes back, where the default action leaves it paused. */
    if (qemu_args) {
        cl_buf_adds(&b, "  <qemu:commandline>\n");
        if (o->panic_continue) {
            qemu_arg(&b, "-action");
            qemu_arg(&b, "panic=none");
        }
        if (o->rr_file) {
            /* Every instruction counted: the replay stops at the same icount. panic=pause
             * (not libvirt's implicit one) so a replay stops where the record did. */
            char v[4200];
            snprintf(v, sizeof(v), "shift=auto,rr=%s,rrfile=%s", o->rr_replay ? "replay" : "record", o->rr_file);
            qemu_arg(&b, "-icount");
            qemu_arg(&b, v);
            if (!o->panic_continue) {
                qemu_arg(&b, "-action");
                qemu_arg(&b, "panic=pause");
            }
            /* No TPR-patching vapic: loading a snapshot restores it with a synchronous
             * run_on_cpu while the replay lock is held, and QEMU 7.2 deadlocks there
             * (reverse debugging, replay --gdb). Seen here: the main thread in
             * vmstate_load_state -> do_run_on_cpu, the vCPU in replay_mutex_lock. */
            qemu_arg(&b, "-global");
            qemu_arg(&b, "apic.vapic=off");
        }
        cl_buf_adds(&b, "  </qemu:commandline>\n");
    }
    cl_buf_adds(&b, "</domain>\n");
    return cl_buf_finish(&b, errp);
}
