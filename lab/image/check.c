/* check.c - the image rules: facts -> findings (pure, unit-tested in image_test.c), the
 * report's JSON and text, and what a scenario needs of its image. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "image/image.h"

#define MIB ((uint64_t)1 << 20)
/* Windows deletes a kernel or complete MEMORY.DMP at the next boot when the volume has
 * less than this free, unless AlwaysKeepMemoryDump is 1 (client editions). */
#define KEEP_THRESHOLD ((uint64_t)25 * 1000 * 1000 * 1000)

const char *cl_image_svc_to_string(cl_image_svc s)
{
    static const char *names[CL_SVC_LAST] = { "QEMU-GA", "vioser", "pvpanic", "fwcfg", "crashlab-firstboot" };
    return s < CL_SVC_LAST ? names[s] : "?";
}

const char *cl_image_fb_to_string(cl_image_fb s)
{
    static const char *names[CL_FB_LAST] = { "qemu-ga", "vioserial", "pvpanic", "fwcfg", "cert" };
    return s < CL_FB_LAST ? names[s] : "?";
}

const char *cl_find_status_to_string(cl_find_status s)
{
    static const char *names[CL_FIND_LAST] = { "ok", "info", "first-boot", "warn", "FAIL" };
    return s < CL_FIND_LAST ? names[s] : "?";
}

void cl_image_facts_init(cl_image_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->crash_dump_enabled = f->filter_pages = f->auto_reboot = f->always_keep = CL_IMAGE_ABSENT;
    f->nmi_crash_dump = f->overwrite = f->dump_file_size_mb = CL_IMAGE_ABSENT;
    f->verify_level = f->pool_tag = f->testsigning = CL_IMAGE_ABSENT;
    for (int i = 0; i < CL_SVC_LAST; i++)
        f->svc_start[i] = CL_IMAGE_ABSENT;
}

static cl_finding *add(cl_image_report *r, const char *id, cl_find_status st, unsigned needs, const char *breaks)
{
    if (r->n >= CL_IMAGE_MAX_FINDINGS)
        return NULL;
    cl_finding *f = &r->f[r->n++];
    memset(f, 0, sizeof(*f));
    f->id = id;
    f->status = st;
    f->needs = needs;
    f->breaks = breaks;
    return f;
}

static void what(cl_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void what(cl_finding *f, const char *fmt, ...)
{
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->what, sizeof(f->what), fmt, ap);
    va_end(ap);
}

static void fix(cl_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fix(cl_finding *f, const char *fmt, ...)
{
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->fix, sizeof(f->fix), fmt, ap);
    va_end(ap);
}

static const char *dump_type_name(const cl_image_facts *f)
{
    switch (f->crash_dump_enabled) {
    case 1: return f->filter_pages == 1 ? "active" : "complete";
    case 2: return "kernel";
    case 3: return "small";
    case 7: return "automatic";
    default: return "none";
    }
}

/* Bytes a dump of this type may need for a guest of memory_mb: complete and active
 * dumps are all of memory plus the header; kernel and automatic ones up to about a third
 * (Microsoft's sizing guidance); small ones about 1 MiB. */
static uint64_t dump_need(const cl_image_facts *f, uint32_t memory_mb)
{
    uint64_t mem = (uint64_t)memory_mb * MIB;
    switch (f->crash_dump_enabled) {
    case 1: return mem + MIB;
    case 2:
    case 7: return mem / 3 + MIB;
    case 3: return 2 * MIB;
    default: return 0;
    }
}

/* The PagingFiles line for the Windows volume (C: or "?:" for all volumes): sets min and
 * max in MiB (0 0: system-managed). false: no page file there. */
static bool system_pagefile(const char *lines, uint64_t *min, uint64_t *max)
{
    const char *p = lines;
    while (p && *p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char line[256];
        snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if ((tolower((unsigned char)s[0]) == 'c' || s[0] == '?') && s[1] == ':') {
            char path[200] = "";
            unsigned long long a = 0, b = 0;
            int k = sscanf(s, "%199s %llu %llu", path, &a, &b);
            *min = k >= 2 ? a : 0;
            *max = k >= 3 ? b : 0;
            return true;
        }
        p = e ? e + 1 : NULL;
    }
    return false;
}

static void svc_finding(cl_image_report *r, const cl_image_facts *f, cl_image_svc s, cl_image_fb fb, const char *id,
                        unsigned needs, const char *breaks, const char *fixtext, bool service)
{
    int64_t st = f->svc_start[s];
    const char *name = cl_image_svc_to_string(s);
    cl_finding *x;
    if (st == CL_IMAGE_ABSENT) {
        if (f->firstboot & (1u << fb) && f->svc_start[CL_SVC_FIRSTBOOT] != CL_IMAGE_ABSENT) {
            x = add(r, id, CL_FIND_BOOT, needs, breaks);
            what(x, "%s is not installed yet; the first-boot step installs it", name);
            fix(x, "boot the image once and check C:\\crashlab\\firstboot.log");
            return;
        }
        x = add(r, id, CL_FIND_FAIL, needs, breaks);
        what(x, "%s %s is not installed (no Services\\%s)", service ? "service" : "driver", name, name);
        fix(x, "%s", fixtext);
        return;
    }
    if (st == 4 || (service && st != 2)) {
        x = add(r, id, CL_FIND_FAIL, needs, breaks);
        what(x, "%s %s is installed but its start type is %" PRId64 " (%s)", service ? "service" : "driver", name, st,
             st == 4 ? "disabled" : st == 3 ? "manual" : "not automatic");
        fix(x, "crashlab image prepare sets Start=%d offline, or in the guest: sc config %s start= %s", service ? 2 : 3, name,
            service ? "auto" : "demand");
        return;
    }
    x = add(r, id, CL_FIND_OK, needs, breaks);
    what(x, "%s %s installed (start type %" PRId64 ")", service ? "service" : "driver", name, st);
}

void cl_image_evaluate(const cl_image_facts *f, uint32_t memory_mb, cl_image_report *r)
{
    memset(r, 0, sizeof(*r));
    r->memory_mb = memory_mb;
    const unsigned all = CL_NEED_AGENT | CL_NEED_DRIVER | CL_NEED_GUEST_DUMP | CL_NEED_NMI | CL_NEED_WINDMP |
                         CL_NEED_SPECIAL_POOL | CL_NEED_PANIC_EVENT;
    cl_finding *x;
    if (!f->windows) {
        x = add(r, "windows.install", CL_FIND_FAIL, all, "everything: this is not an installed Windows disk");
        what(x, "no file system holds Windows\\System32\\config\\SYSTEM");
        fix(x, "install Windows on the image first (crashlab does not install Windows)");
        return;
    }
    x = add(r, "windows.build", CL_FIND_INFO, 0, "");
    what(x, "%s%s%s, build %u on %s (%s)", f->product[0] ? f->product : "Windows (product name not recorded)",
         f->display_version[0] ? " " : "", f->display_version, f->build, f->windows_fs, f->control_set);
    if (f->build >= 26100)
        fix(x, "Windows 24H2 and later need SSE4.2 and POPCNT in the guest CPU model");

    const char *gd = "guest-dump and offline-rescue rungs: no MEMORY.DMP from the guest";
    const char *type = dump_type_name(f);
    if (f->crash_dump_enabled <= 0 || (f->crash_dump_enabled > 3 && f->crash_dump_enabled != 7)) {
        x = add(r, "crashcontrol.enabled", CL_FIND_FAIL, CL_NEED_GUEST_DUMP, gd);
        if (f->crash_dump_enabled == CL_IMAGE_ABSENT)
            what(x, "CrashControl\\CrashDumpEnabled is not set");
        else
            what(x, "CrashControl\\CrashDumpEnabled is %" PRId64 " (%s)", f->crash_dump_enabled,
                 f->crash_dump_enabled == 0 ? "no dump" : "not a dump type");
        fix(x, "crashlab image prepare (kernel dump), or in the guest: labagent.exe configure-dump kernel");
    } else {
        x = add(r, "crashcontrol.enabled", CL_FIND_OK, CL_NEED_GUEST_DUMP, gd);
        what(x, "CrashDumpEnabled=%" PRId64 ": %s memory dump", f->crash_dump_enabled, type);
    }

    const char *df = f->dump_file[0] ? f->dump_file : "%SystemRoot%\\MEMORY.DMP";
    if (!strncasecmp(df, "%SystemRoot%", 12) || !strncasecmp(df, "C:\\", 3)) {
        x = add(r, "crashcontrol.dumpfile", CL_FIND_OK, CL_NEED_GUEST_DUMP, gd);
        what(x, "DumpFile %s%s", df, f->dump_file[0] ? "" : " (the default)");
    } else {
        x = add(r, "crashcontrol.dumpfile", CL_FIND_FAIL, CL_NEED_GUEST_DUMP,
                "offline-rescue rung: the dump is not on the Windows volume");
        what(x, "DumpFile is '%s', not on the Windows volume", df);
        fix(x, "crashlab image prepare sets DumpFile=%%SystemRoot%%\\MEMORY.DMP");
    }

    if (f->auto_reboot == 0) {
        x = add(r, "crashcontrol.autoreboot", CL_FIND_FAIL, CL_NEED_GUEST_DUMP,
                "guest-dump rung: the guest stays on the blue screen, MEMORY.DMP is only made from the page file at the next boot");
        what(x, "AutoReboot=0");
        fix(x, "crashlab image prepare sets AutoReboot=1");
    } else {
        x = add(r, "crashcontrol.autoreboot", CL_FIND_OK, CL_NEED_GUEST_DUMP, gd);
        what(x, "AutoReboot=%s", f->auto_reboot == CL_IMAGE_ABSENT ? "absent (reboots: the default)" : "1");
    }

    if (f->overwrite == 0) {
        x = add(r, "crashcontrol.overwrite", CL_FIND_FAIL, CL_NEED_GUEST_DUMP,
                "guest-dump and rescue rungs: a new crash does not replace an old MEMORY.DMP, the lab would read a stale dump");
        what(x, "Overwrite=0");
        fix(x, "crashlab image prepare sets Overwrite=1");
    } else {
        x = add(r, "crashcontrol.overwrite", CL_FIND_OK, CL_NEED_GUEST_DUMP, gd);
        what(x, "Overwrite=%s", f->overwrite == CL_IMAGE_ABSENT ? "absent (overwrites: the default)" : "1");
    }

    uint64_t need = dump_need(f, memory_mb);
    if (f->always_keep == 1) {
        x = add(r, "crashcontrol.alwayskeep", CL_FIND_OK, CL_NEED_GUEST_DUMP, gd);
        what(x, "AlwaysKeepMemoryDump=1");
    } else {
        bool tight = f->free_known && f->free_bytes < KEEP_THRESHOLD;
        x = add(r, "crashcontrol.alwayskeep", tight ? CL_FIND_FAIL : CL_FIND_WARN, CL_NEED_GUEST_DUMP,
                "guest-dump rung: Windows deletes MEMORY.DMP at the next boot on a volume with less than 25 GB free");
        what(x, "AlwaysKeepMemoryDump is %s%s", f->always_keep == CL_IMAGE_ABSENT ? "not set" : "0",
             tight ? " and the volume has less than 25 GB free" : "");
        fix(x, "crashlab image prepare sets AlwaysKeepMemoryDump=1");
    }

    if (f->nmi_crash_dump == 1) {
        x = add(r, "crashcontrol.nmi", CL_FIND_OK, CL_NEED_NMI, "NMI rung");
        what(x, "NMICrashDump=1: an NMI bug-checks the guest (0x80)");
    } else {
        x = add(r, "crashcontrol.nmi", CL_FIND_FAIL, CL_NEED_NMI,
                "NMI rung: a hung guest ignores the lab's NMI (no 0x80, hang scenarios end without a dump)");
        what(x, "NMICrashDump is %s", f->nmi_crash_dump == CL_IMAGE_ABSENT ? "not set" : "0");
        fix(x, "crashlab image prepare sets NMICrashDump=1");
    }

    /* Where the dump lands at the crash: a dedicated dump file, else the page file on the
     * Windows volume; it must hold the dump. */
    /* Judged for the dump type set, or for the kernel dump image prepare would set. */
    cl_image_facts eff = *f;
    if (f->crash_dump_enabled <= 0) {
        eff.crash_dump_enabled = 2;
        type = "kernel";
        need = dump_need(&eff, memory_mb);
    }
    {
        const char *pb = "guest-dump and rescue rungs: the dump does not fit where Windows writes it at the crash";
        uint64_t min = 0, max = 0;
        if (f->dedicated_dump_file[0]) {
            bool ok = f->dump_file_size_mb <= 0 || (uint64_t)f->dump_file_size_mb * MIB >= need;
            x = add(r, "pagefile.size", ok ? CL_FIND_OK : CL_FIND_FAIL, CL_NEED_GUEST_DUMP, pb);
            what(x, "dedicated dump file %s, DumpFileSize %" PRId64 " MiB; a %s dump of %u MiB needs up to %" PRIu64 " MiB",
                 f->dedicated_dump_file, f->dump_file_size_mb > 0 ? f->dump_file_size_mb : 0, type, memory_mb,
                 need / MIB);
            if (!ok)
                fix(x, "set DumpFileSize to 0 (Windows sizes it) or at least %" PRIu64, need / MIB);
        } else if (!f->paging_files_set || !system_pagefile(f->paging_files, &min, &max)) {
            x = add(r, "pagefile.size", CL_FIND_FAIL, CL_NEED_GUEST_DUMP, pb);
            what(x, "no page file on the Windows volume (PagingFiles: %s)",
                 f->paging_files_set ? (f->paging_files[0] ? f->paging_files : "empty") : "not set");
            fix(x, "crashlab image prepare sets a system-managed C:\\pagefile.sys");
        } else if (min == 0 && max == 0) {
            bool whole = f->crash_dump_enabled == 1;
            x = add(r, "pagefile.size", whole ? CL_FIND_WARN : CL_FIND_OK, CL_NEED_GUEST_DUMP, pb);
            what(x, "system-managed page file on the Windows volume%s", whole
                 ? ": Windows grows it for a complete dump only at boot, so only a real boot settles whether it fits" : "");
            if (whole)
                fix(x, "for certainty set PagingFiles to \"C:\\pagefile.sys %" PRIu64 " %" PRIu64 "\"", need / MIB + 1,
                    need / MIB + 1);
        } else {
            bool ok = min * MIB >= need;
            x = add(r, "pagefile.size", ok ? CL_FIND_OK : CL_FIND_FAIL, CL_NEED_GUEST_DUMP, pb);
            what(x, "page file %" PRIu64 "-%" PRIu64 " MiB; a %s dump of a %u MiB guest needs up to %" PRIu64 " MiB", min,
                 max, type, memory_mb, need / MIB);
            if (!ok)
                fix(x, "crashlab image prepare makes it system-managed, or set an initial size of at least %" PRIu64 " MiB",
                    need / MIB + 1);
        }
        /* At the next boot the dump is copied out of the page file into MEMORY.DMP. */
        if (f->free_known) {
            bool ok = f->free_bytes >= need + 64 * MIB;
            x = add(r, "disk.free", ok ? CL_FIND_OK : CL_FIND_FAIL, CL_NEED_GUEST_DUMP,
                    "guest-dump and rescue rungs: no room for MEMORY.DMP at the next boot");
            what(x, "%" PRIu64 " MiB free on the Windows volume; a %s dump of a %u MiB guest needs up to %" PRIu64 " MiB",
                 f->free_bytes / MIB, type, memory_mb, need / MIB);
            if (!ok)
                fix(x, "grow the disk and the partition (virt-resize), or give the guest less memory (--memory-mb)");
        }
    }

    if (!f->bcd_found) {
        x = add(r, "bcd.testsigning", CL_FIND_FAIL, CL_NEED_DRIVER, "installing labfault.sys: Windows refuses a test-signed driver");
        what(x, "no BCD store (EFI\\Microsoft\\Boot\\BCD or Boot\\BCD) on any file system");
        fix(x, "repair the boot files (bcdboot C:\\Windows), then crashlab image prepare");
    } else if (f->testsigning == 1) {
        x = add(r, "bcd.testsigning", CL_FIND_OK, CL_NEED_DRIVER, "");
        what(x, "test signing on in the default boot entry (%s)", f->bcd_path);
    } else {
        x = add(r, "bcd.testsigning", CL_FIND_FAIL, CL_NEED_DRIVER,
                "installing labfault.sys: Windows refuses the test-signed driver (every fault scenario)");
        what(x, "test signing is %s in the default boot entry (%s)", f->testsigning == CL_IMAGE_ABSENT ? "not set" : "off",
             f->bcd_path);
        fix(x, "crashlab image prepare sets it in the BCD store, or in the guest: bcdedit /set testsigning on");
    }

    svc_finding(r, f, CL_SVC_QEMU_GA, CL_FB_QEMU_GA, "service.qemu-ga", CL_NEED_AGENT,
                "every run: the lab drives the guest through qemu-guest-agent (agent-up times out)",
                "crashlab image prepare --virtio-win ISO (installs the MSI at first boot)", true);
    svc_finding(r, f, CL_SVC_VIOSERIAL, CL_FB_VIOSERIAL, "driver.vioserial", CL_NEED_AGENT,
                "every run: qemu-ga has no virtio-serial port to talk over",
                "crashlab image prepare --virtio-win ISO (installs vioserial at first boot)", false);
    svc_finding(r, f, CL_SVC_PVPANIC, CL_FB_PVPANIC, "driver.pvpanic", CL_NEED_PANIC_EVENT,
                "hypervisor record: no pvpanic crashed/crash-loaded event (the Hyper-V crash MSRs still report the bug check)",
                "crashlab image prepare --virtio-win ISO (installs pvpanic at first boot)", false);
    svc_finding(r, f, CL_SVC_FWCFG, CL_FB_FWCFG, "driver.fwcfg", CL_NEED_WINDMP,
                "hypervisor-side win-dmp dump: vmcoreinfo stays empty, QEMU cannot write a WinDbg-readable dump",
                "crashlab image prepare --virtio-win ISO (installs fwcfg at first boot)", false);

    if (f->labagent && f->labagent_bytes > 0) {
        x = add(r, "labagent", CL_FIND_OK, CL_NEED_AGENT, "");
        what(x, "C:\\crashlab\\labagent.exe (%" PRIu64 " bytes)", f->labagent_bytes);
    } else {
        x = add(r, "labagent", CL_FIND_FAIL, CL_NEED_AGENT,
                "every fault scenario: no labagent.exe to install the driver, fire faults and collect dumps");
        what(x, "C:\\crashlab\\labagent.exe is %s", f->labagent ? "empty" : "missing");
        fix(x, "crashlab image prepare copies build/windows/labagent.exe");
    }

    if (!f->cert_checked) {
        x = add(r, "labagent.certificate", CL_FIND_WARN, CL_NEED_DRIVER, "installing labfault.sys");
        what(x, "the lab's certificate is not known here (no build/windows/labfault-test.cer), so the stores were not checked");
        fix(x, "run make (builds the certificate), or pass --cert FILE");
    } else if (f->cert_root && f->cert_trusted) {
        x = add(r, "labagent.certificate", CL_FIND_OK, CL_NEED_DRIVER, "");
        what(x, "the lab's test certificate is in the machine's Root and TrustedPublisher stores");
    } else if (f->firstboot & (1u << CL_FB_CERT) && f->svc_start[CL_SVC_FIRSTBOOT] != CL_IMAGE_ABSENT) {
        x = add(r, "labagent.certificate", CL_FIND_BOOT, CL_NEED_DRIVER, "installing labfault.sys");
        what(x, "the lab's certificate is not in the stores yet; the first-boot step runs labagent install-cert");
        fix(x, "boot the image once and check C:\\crashlab\\firstboot.log");
    } else {
        x = add(r, "labagent.certificate", CL_FIND_FAIL, CL_NEED_DRIVER,
                "installing labfault.sys: its test signature does not chain to a trusted certificate");
        what(x, "the lab's test certificate is missing from %s%s%s", f->cert_root ? "" : "Root",
             !f->cert_root && !f->cert_trusted ? " and " : "", f->cert_trusted ? "" : "TrustedPublisher");
        fix(x, "crashlab image prepare (schedules labagent install-cert at first boot), or in the guest: labagent.exe install-cert");
    }

    bool verified = false;
    for (const char *p = f->verify_drivers; *p;) {
        while (*p == ' ' || *p == '\n')
            p++;
        size_t n = strcspn(p, " \n");
        if ((n == 12 && !strncasecmp(p, "labfault.sys", 12)) || (n == 1 && *p == '*'))
            verified = true;
        p += n;
    }
    if (verified && f->verify_level >= 0 && (f->verify_level & 1)) {
        x = add(r, "verifier.special-pool", CL_FIND_OK, CL_NEED_SPECIAL_POOL, "");
        what(x, "Driver Verifier special pool on labfault.sys (VerifyDriverLevel 0x%" PRIx64 ")", f->verify_level);
    } else {
        x = add(r, "verifier.special-pool", CL_FIND_FAIL, CL_NEED_SPECIAL_POOL,
                "pool-overrun, double-free, use-after-free: without special pool the segment heap hides them (no 0xD6/0xD5/0xC2)");
        if (!verified)
            what(x, "Driver Verifier does not verify labfault.sys (VerifyDrivers: %s)",
                 f->verify_drivers[0] ? f->verify_drivers : "not set");
        else
            what(x, "VerifyDriverLevel %s has no special pool (0x1)",
                 f->verify_level == CL_IMAGE_ABSENT ? "is not set and" : "");
        fix(x, "crashlab image prepare sets VerifyDrivers=labfault.sys VerifyDriverLevel=0x1");
    }

    if (f->firstboot) {
        char steps[128] = "";
        for (int i = 0; i < CL_FB_LAST; i++)
            if (f->firstboot & (1u << i))
                snprintf(steps + strlen(steps), sizeof(steps) - strlen(steps), "%s%s", steps[0] ? ", " : "",
                         cl_image_fb_to_string((cl_image_fb)i));
        bool svc = f->svc_start[CL_SVC_FIRSTBOOT] != CL_IMAGE_ABSENT;
        x = add(r, "firstboot", svc ? CL_FIND_BOOT : CL_FIND_FAIL, CL_NEED_AGENT,
                "the first-boot steps never run: what they install stays missing");
        what(x, "first-boot steps scheduled (%s)%s", steps, svc ? "" : " but their service crashlab-firstboot is missing");
        fix(x, svc ? "only a real Windows boot runs them; C:\\crashlab\\firstboot.log says how they went"
                   : "run crashlab image prepare again");
    }
}

bool cl_image_report_ready(const cl_image_report *r)
{
    return cl_image_report_blocker(r, ~0u) == NULL;
}

const cl_finding *cl_image_report_blocker(const cl_image_report *r, unsigned needs)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->f[i].status == CL_FIND_FAIL && (r->f[i].needs & needs))
            return &r->f[i];
    return NULL;
}

unsigned cl_image_scenario_needs(const cl_scenario *s)
{
    unsigned n = CL_NEED_AGENT;
    if (s->guest_dump)
        n |= CL_NEED_GUEST_DUMP;
    if (s->dump_format == CL_DUMPFMT_WIN_DMP)
        n |= CL_NEED_WINDMP;
    for (size_t i = 0; i < s->nsteps; i++) {
        const cl_step *st = &s->steps[i];
        if (st->kind == CL_STEP_INSTALL || st->kind == CL_STEP_TRIGGER)
            n |= CL_NEED_DRIVER;
        if (st->kind == CL_STEP_NMI)
            n |= CL_NEED_NMI;
        if (st->kind == CL_STEP_TRIGGER && st->fault &&
            (!strcmp(st->fault->id, "pool-overrun") || !strcmp(st->fault->id, "double-free") ||
             !strcmp(st->fault->id, "use-after-free")))
            n |= CL_NEED_SPECIAL_POOL;
    }
    /* A hang is escalated with an NMI before its dump. */
    if (s->nmi_on_hang && s->expect_verdict == CL_VERDICT_HANG)
        n |= CL_NEED_NMI;
    return n;
}

json_object *cl_image_report_json(const cl_image_report *r, const cl_image_facts *f)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "ready", json_object_new_boolean(cl_image_report_ready(r)));
    json_object_object_add(o, "memory_mb", json_object_new_int64(r->memory_mb));
    if (f)
        json_object_object_add(o, "launch_seconds", json_object_new_double(f->launch_seconds));
    if (f && f->windows) {
        json_object *w = json_object_new_object();
        json_object_object_add(w, "product", json_object_new_string(f->product));
        json_object_object_add(w, "display_version", json_object_new_string(f->display_version));
        json_object_object_add(w, "build", json_object_new_int64(f->build));
        json_object_object_add(w, "volume", json_object_new_string(f->windows_fs));
        json_object_object_add(w, "control_set", json_object_new_string(f->control_set));
        json_object_object_add(o, "windows", w);
    }
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < r->n; i++) {
        const cl_finding *x = &r->f[i];
        json_object *j = json_object_new_object();
        json_object_object_add(j, "id", json_object_new_string(x->id));
        json_object_object_add(j, "status", json_object_new_string(cl_find_status_to_string(x->status)));
        json_object_object_add(j, "what", json_object_new_string(x->what));
        json_object_object_add(j, "breaks", x->breaks && x->breaks[0] ? json_object_new_string(x->breaks) : NULL);
        json_object_object_add(j, "fix", x->fix[0] ? json_object_new_string(x->fix) : NULL);
        json_object_array_add(arr, j);
    }
    json_object_object_add(o, "findings", arr);
    return o;
}

void cl_image_report_print(const cl_image_report *r, const cl_image_facts *f, FILE *out)
{
    (void)f;
    for (size_t i = 0; i < r->n; i++) {
        const cl_finding *x = &r->f[i];
        fprintf(out, "%-10s %-24s %s", cl_find_status_to_string(x->status), x->id, x->what);
        if (x->status == CL_FIND_FAIL || x->status == CL_FIND_WARN || x->status == CL_FIND_BOOT) {
            if (x->breaks && x->breaks[0])
                fprintf(out, " | breaks: %s", x->breaks);
            if (x->fix[0])
                fprintf(out, " | fix: %s", x->fix);
        } else if (x->fix[0]) {
            fprintf(out, " | note: %s", x->fix);
        }
        fputc('\n', out);
    }
    fprintf(out, "%s (for a %u MiB guest)\n",
            cl_image_report_ready(r) ? "lab-ready: everything that can be settled offline is" : "NOT lab-ready", r->memory_mb);
}
