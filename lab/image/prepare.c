/* prepare.c - `crashlab image prepare`: a lab-ready copy of an installed Windows image.
 *
 * The base is only ever read (qemu-img convert reads it; or, with --overlay, it becomes
 * a read-only backing file). Everything the registry and files settle is done offline
 * on the copy, as virt-customize does: CrashControl, page file, Driver Verifier special
 * pool for labfault.sys, BCD test signing, C:\crashlab\labagent.exe and the certificate.
 * What needs Windows running (qemu-ga's MSI, the virtio drivers, the certificate store)
 * becomes C:\crashlab\firstboot.cmd, run once at the next boot by a service that
 * removes itself. The copy is built under OUT.partial and renamed when complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_priv.h"
#include "util/fileio.h"
#include "util/proc.h"

#define FIRSTBOOT_SVC "crashlab-firstboot"

typedef struct {
    cl_disk *d;
    const cl_image_prepare_opts *o;
    json_object *changes;
    char tmp[PATH_MAX];
    unsigned steps;          /* CL_FB_* scheduled */
    char virtio_dir[16];     /* w10, w11, 2k22 ... chosen on the ISO */
} prep;

static void note(prep *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(prep *p, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_object_array_add(p->changes, json_object_new_string(buf));
    if (!p->o->quiet)
        fprintf(stderr, "prepare: %s\n", buf);
}

static const char *dump_types[][3] = {
    /* name, CrashDumpEnabled, FilterPages */
    { "kernel", "2", "0" }, { "full", "1", "0" }, { "complete", "1", "0" }, { "small", "3", "0" },
    { "automatic", "7", "0" }, { "active", "1", "1" },
};

/* Upload a changed hive: committed to a local file, then written over the original. */
static bool put_hive(prep *p, cl_hive *h, const char *remote, const char *name, cl_error **errp)
{
    char local[PATH_MAX + 32];
    snprintf(local, sizeof(local), "%s/%s.new", p->tmp, name);
    return cl_hive_commit(h, local, errp) && cl_disk_upload(p->d, local, remote, errp);
}

static bool prepare_system(prep *p, const cl_image_facts *before, uint32_t memory_mb, cl_error **errp)
{
    char local[PATH_MAX + 16], remote[512];
    snprintf(local, sizeof(local), "%s/SYSTEM", p->tmp);
    if (!cl_disk_resolve(p->d, "/c", "Windows\\System32\\config\\SYSTEM", remote, sizeof(remote)))
        return cl_error_set(errp, CL_ERR_FORMAT, "prepare: no SYSTEM hive");
    if (!cl_disk_download(p->d, remote, local, CL_HIVE_MAX_BYTES, false, NULL, errp))
        return false;
    CL_AUTOPTR(cl_hive) h = cl_hive_open(local, true, errp);
    if (!h)
        return false;
    char cs[16], k[200];
    cl_image_control_set(h, cs, sizeof(cs));
    const char *type = p->o->dump_type ? p->o->dump_type : "kernel";
    int t = -1;
    for (size_t i = 0; i < sizeof(dump_types) / sizeof(dump_types[0]); i++)
        if (!strcmp(type, dump_types[i][0]))
            t = (int)i;
    if (t < 0)
        return cl_error_set(errp, CL_ERR_INVAL, "prepare: --dump-type '%s' is not kernel, full, small, automatic or active", type);
    snprintf(k, sizeof(k), "%s\\Control\\CrashControl", cs);
    static const struct { const char *name; uint32_t v; } cc[] = {
        { "AutoReboot", 1 }, { "AlwaysKeepMemoryDump", 1 }, { "NMICrashDump", 1 }, { "Overwrite", 1 },
    };
    if (!cl_hive_set_dword(h, k, "CrashDumpEnabled", (uint32_t)atoi(dump_types[t][1]), errp) ||
        !cl_hive_set_dword(h, k, "FilterPages", (uint32_t)atoi(dump_types[t][2]), errp))
        return false;
    for (size_t i = 0; i < sizeof(cc) / sizeof(cc[0]); i++)
        if (!cl_hive_set_dword(h, k, cc[i].name, cc[i].v, errp))
            return false;
    if (!cl_hive_set_string(h, k, "DumpFile", CL_REG_EXPAND_SZ, "%SystemRoot%\\MEMORY.DMP", errp))
        return false;
    note(p, "CrashControl: %s dump (CrashDumpEnabled=%s), AutoReboot=1, AlwaysKeepMemoryDump=1, NMICrashDump=1, "
            "Overwrite=1, DumpFile=%%SystemRoot%%\\MEMORY.DMP", type, dump_types[t][1]);

    /* The page file: keep a fixed one that holds the dump, else let Windows manage it. */
    cl_image_facts after = *before;
    after.crash_dump_enabled = atoi(dump_types[t][1]);
    after.filter_pages = atoi(dump_types[t][2]);
    cl_image_report r;
    cl_image_evaluate(&after, memory_mb, &r);
    for (size_t i = 0; i < r.n; i++)
        if (!strcmp(r.f[i].id, "pagefile.size") && r.f[i].status == CL_FIND_FAIL && !before->dedicated_dump_file[0]) {
            snprintf(k, sizeof(k), "%s\\Control\\Session Manager\\Memory Management", cs);
            if (!cl_hive_set_string(h, k, "PagingFiles", CL_REG_MULTI_SZ, "C:\\pagefile.sys 0 0", errp))
                return false;
            note(p, "PagingFiles: system-managed C:\\pagefile.sys (was: %s)",
                 before->paging_files_set ? before->paging_files : "not set");
        }

    /* Driver Verifier: special pool for labfault.sys (issue 18: the pool faults need it). */
    snprintf(k, sizeof(k), "%s\\Control\\Session Manager\\Memory Management", cs);
    char drivers[300];
    if (!before->verify_drivers[0] || strcasestr(before->verify_drivers, "labfault.sys") ||
        !strcmp(before->verify_drivers, "*"))
        snprintf(drivers, sizeof(drivers), "%s", before->verify_drivers[0] ? before->verify_drivers : "labfault.sys");
    else
        snprintf(drivers, sizeof(drivers), "%s labfault.sys", before->verify_drivers);
    uint32_t level = (uint32_t)(before->verify_level > 0 ? before->verify_level : 0) | 0x1;
    if (!cl_hive_set_string(h, k, "VerifyDrivers", CL_REG_SZ, drivers, errp) ||
        !cl_hive_set_dword(h, k, "VerifyDriverLevel", level, errp))
        return false;
    note(p, "Driver Verifier: VerifyDrivers=%s VerifyDriverLevel=0x%x (special pool)", drivers, level);

    /* Installed but not starting: fixable offline. */
    for (int s = 0; s < CL_SVC_FIRSTBOOT; s++) {
        int64_t st = before->svc_start[s];
        uint32_t want = s == CL_SVC_QEMU_GA ? 2 : 3;
        if (st == CL_IMAGE_ABSENT || (s == CL_SVC_QEMU_GA ? st == 2 : st != 4))
            continue;
        snprintf(k, sizeof(k), "%s\\Services\\%s", cs, cl_image_svc_to_string((cl_image_svc)s));
        if (!cl_hive_set_dword(h, k, "Start", want, errp))
            return false;
        note(p, "Services\\%s: Start=%u (was %lld)", cl_image_svc_to_string((cl_image_svc)s), want, (long long)st);
    }

    if (p->steps) {
        /* cmd.exe is no service: `start` hands the script to a process of its own, which
         * runs on when the service manager gives up waiting for cmd to report. */
        snprintf(k, sizeof(k), "%s\\Services\\%s", cs, FIRSTBOOT_SVC);
        if (!cl_hive_set_dword(h, k, "Type", 0x10, errp) || !cl_hive_set_dword(h, k, "Start", 2, errp) ||
            !cl_hive_set_dword(h, k, "ErrorControl", 0, errp) ||
            !cl_hive_set_string(h, k, "ImagePath", CL_REG_EXPAND_SZ,
                                "%SystemRoot%\\System32\\cmd.exe /c start \"crashlab\" /b %SystemRoot%\\System32\\cmd.exe /c C:\\crashlab\\firstboot.cmd",
                                errp) ||
            !cl_hive_set_string(h, k, "ObjectName", CL_REG_SZ, "LocalSystem", errp) ||
            !cl_hive_set_string(h, k, "DisplayName", CL_REG_SZ, "crashlab first boot (removes itself)", errp))
            return false;
        note(p, "Services\\%s: runs C:\\crashlab\\firstboot.cmd once at the next boot", FIRSTBOOT_SVC);
    }
    return put_hive(p, h, remote, "SYSTEM", errp);
}

static bool prepare_bcd(prep *p, cl_error **errp)
{
    const char *remote = cl_disk_bcd(p->d);
    if (!remote) {
        note(p, "BCD: no store found (EFI\\Microsoft\\Boot\\BCD, Boot\\BCD): test signing NOT set");
        return true;
    }
    char local[PATH_MAX + 16], guid[64], k[200];
    snprintf(local, sizeof(local), "%s/BCD", p->tmp);
    if (!cl_disk_download(p->d, remote, local, CL_HIVE_MAX_BYTES, false, NULL, errp))
        return false;
    CL_AUTOPTR(cl_hive) h = cl_hive_open(local, true, errp);
    if (!h)
        return false;
    if (!cl_image_bcd_default(h, guid, sizeof(guid))) {
        note(p, "BCD: no default boot entry in %s: test signing NOT set", remote);
        return true;
    }
    snprintf(k, sizeof(k), "Objects\\%s\\Elements\\16000049", guid);
    const uint8_t on = 1;
    if (!cl_hive_set_binary(h, k, "Element", CL_REG_BINARY, &on, 1, errp))
        return false;
    note(p, "BCD: testsigning on for the default loader %s", guid);
    return put_hive(p, h, remote, "BCD", errp);
}

static bool write_local(prep *p, const char *name, const char *text, char *path, size_t len, cl_error **errp)
{
    snprintf(path, len, "%s/%s", p->tmp, name);
    return cl_file_write_atomic(path, text, strlen(text), errp);
}

/* The virtio-win directory for this Windows: its layout is DRIVER\OS\ARCH. */
static void pick_virtio_dir(prep *p, const cl_image_facts *f)
{
    bool server = strcasestr(f->product, "Server") != NULL;
    const char *cands[4] = { 0 };
    if (server)
        cands[0] = f->build >= 26100 ? "2k25" : f->build >= 20348 ? "2k22" : f->build >= 17763 ? "2k19" : "2k16";
    else
        cands[0] = f->build >= 22000 ? "w11" : "w10";
    cands[1] = server ? "2k22" : "w10";
    char probe[512], path[512];
    for (int i = 0; i < 2 && cands[i]; i++) {
        snprintf(probe, sizeof(probe), "vioserial\\%s\\amd64", cands[i]);
        if (cl_disk_resolve(p->d, cl_disk_extra_root(p->d), probe, path, sizeof(path))) {
            snprintf(p->virtio_dir, sizeof(p->virtio_dir), "%s", cands[i]);
            return;
        }
    }
}

static bool copy_virtio(prep *p, const cl_image_facts *f, cl_error **errp)
{
    if (!p->o->virtio_iso)
        return true;
    if (!cl_disk_extra_root(p->d))
        return cl_error_set(errp, CL_ERR_INVAL, "prepare: '%s' holds no file system", p->o->virtio_iso);
    pick_virtio_dir(p, f);
    if (!cl_disk_mkdir_p(p->d, "/c/crashlab/virtio", errp))
        return false;
    static const struct { const char *dir; cl_image_fb step; cl_image_svc svc; } drv[] = {
        { "vioserial", CL_FB_VIOSERIAL, CL_SVC_VIOSERIAL },
        { "pvpanic", CL_FB_PVPANIC, CL_SVC_PVPANIC },
        { "fwcfg", CL_FB_FWCFG, CL_SVC_FWCFG },
    };
    char src[512], dst[512], rel[128];
    for (size_t i = 0; i < sizeof(drv) / sizeof(drv[0]); i++) {
        if (f->svc_start[drv[i].svc] != CL_IMAGE_ABSENT)
            continue;
        snprintf(rel, sizeof(rel), "%s\\%s\\amd64", drv[i].dir, p->virtio_dir);
        if (!p->virtio_dir[0] || !cl_disk_resolve(p->d, cl_disk_extra_root(p->d), rel, src, sizeof(src))) {
            note(p, "virtio-win: no %s on the ISO: %s stays missing", rel, drv[i].dir);
            continue;
        }
        snprintf(dst, sizeof(dst), "/c/crashlab/virtio/%s", drv[i].dir);
        if (!cl_disk_copy(p->d, src, dst, errp))
            return false;
        p->steps |= 1u << drv[i].step;
        note(p, "virtio-win: %s copied to C:\\crashlab\\virtio\\%s, installed at first boot", rel, drv[i].dir);
    }
    if (f->svc_start[CL_SVC_QEMU_GA] == CL_IMAGE_ABSENT) {
        if (!cl_disk_resolve(p->d, cl_disk_extra_root(p->d), "guest-agent\\qemu-ga-x86_64.msi", src, sizeof(src))) {
            note(p, "virtio-win: no guest-agent\\qemu-ga-x86_64.msi on the ISO: qemu-ga stays missing");
        } else {
            if (!cl_disk_copy(p->d, src, "/c/crashlab/virtio/qemu-ga-x86_64.msi", errp))
                return false;
            p->steps |= 1u << CL_FB_QEMU_GA;
            note(p, "virtio-win: qemu-ga-x86_64.msi copied, installed at first boot");
        }
    }
    return true;
}

static bool copy_lab_files(prep *p, const cl_image_facts *f, cl_error **errp)
{
    if (!cl_disk_mkdir_p(p->d, "/c/crashlab", errp))
        return false;
    char dst[512];
    const char *agent = p->o->labagent ? p->o->labagent : CL_IMAGE_DEFAULT_AGENT;
    const char *cert = p->o->cert ? p->o->cert : CL_IMAGE_DEFAULT_CERT;
    if (access(agent, R_OK) == 0) {
        snprintf(dst, sizeof(dst), "/c/crashlab/labagent.exe");
        if (!cl_disk_upload(p->d, agent, dst, errp))
            return false;
        note(p, "C:\\crashlab\\labagent.exe from %s", agent);
    } else if (p->o->labagent) {
        return cl_error_set_errno(errp, CL_ERR_INVAL, errno, "prepare: --labagent '%s'", agent);
    } else {
        note(p, "no %s (run make): labagent.exe NOT copied", agent);
    }
    if (access(cert, R_OK) == 0) {
        if (!cl_disk_upload(p->d, cert, "/c/crashlab/labfault.cer", errp))
            return false;
        if (!(f->cert_root && f->cert_trusted))
            p->steps |= 1u << CL_FB_CERT;
        note(p, "C:\\crashlab\\labfault.cer from %s%s", cert,
             f->cert_root && f->cert_trusted ? " (already trusted)" : ", added to the machine's stores at first boot");
    } else if (p->o->cert) {
        return cl_error_set_errno(errp, CL_ERR_INVAL, errno, "prepare: --cert '%s'", cert);
    }
    return true;
}

static bool write_firstboot(prep *p, cl_error **errp)
{
    if (!p->steps)
        return true;
    char text[4096];
    size_t n = 0;
#define EMIT(...) (n += (size_t)snprintf(text + n, n < sizeof(text) ? sizeof(text) - n : 0, __VA_ARGS__))
    EMIT("@echo off\r\nrem crashlab first boot, written by crashlab image prepare: installs what needs Windows\r\n"
         "rem running, logs to C:\\crashlab\\firstboot.log, then removes its own service.\r\n"
         "set LOG=C:\\crashlab\\firstboot.log\r\necho %%DATE%% %%TIME%% firstboot start>> %%LOG%%\r\n");
    static const struct { cl_image_fb step; const char *dir; } drv[] = {
        { CL_FB_VIOSERIAL, "vioserial" }, { CL_FB_PVPANIC, "pvpanic" }, { CL_FB_FWCFG, "fwcfg" },
    };
    for (size_t i = 0; i < sizeof(drv) / sizeof(drv[0]); i++)
        if (p->steps & (1u << drv[i].step))
            EMIT("rem crashlab-step: %s\r\npnputil /add-driver C:\\crashlab\\virtio\\%s\\*.inf /install >> %%LOG%% 2>&1\r\n"
                 "echo %s pnputil exit %%ERRORLEVEL%%>> %%LOG%%\r\n",
                 cl_image_fb_to_string(drv[i].step), drv[i].dir, drv[i].dir);
    if (p->steps & (1u << CL_FB_QEMU_GA))
        EMIT("rem crashlab-step: qemu-ga\r\nmsiexec /i C:\\crashlab\\virtio\\qemu-ga-x86_64.msi /qn /norestart "
             "/l*v C:\\crashlab\\qemu-ga-msi.log\r\necho qemu-ga msiexec exit %%ERRORLEVEL%%>> %%LOG%%\r\n"
             "sc config QEMU-GA start= auto >> %%LOG%% 2>&1\r\nsc start QEMU-GA >> %%LOG%% 2>&1\r\n");
    if (p->steps & (1u << CL_FB_CERT))
        EMIT("rem crashlab-step: cert\r\nC:\\crashlab\\labagent.exe install-cert C:\\crashlab\\labfault.cer >> %%LOG%% 2>&1\r\n"
             "echo install-cert exit %%ERRORLEVEL%%>> %%LOG%%\r\n");
    EMIT("echo %%DATE%% %%TIME%% firstboot done>> %%LOG%%\r\nsc delete " FIRSTBOOT_SVC " >> %%LOG%% 2>&1\r\n");
#undef EMIT
    if (n >= sizeof(text))
        return cl_error_set(errp, CL_ERR_NOMEM, "prepare: firstboot.cmd too long");
    char local[PATH_MAX + 32];
    if (!write_local(p, "firstboot.cmd", text, local, sizeof(local), errp) ||
        !cl_disk_upload(p->d, local, "/c/crashlab/firstboot.cmd", errp))
        return false;
    note(p, "C:\\crashlab\\firstboot.cmd: steps for the first boot");
    return true;
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

bool cl_image_prepare(const cl_image_prepare_opts *o, json_object **changes, cl_error **errp)
{
    if (access(o->base, R_OK) < 0)
        return cl_error_set_errno(errp, CL_ERR_INVAL, errno, "prepare: cannot read base image '%s'", o->base);
    if (same_file(o->base, o->out))
        return cl_error_set(errp, CL_ERR_INVAL, "prepare: --out '%s' is the base image; the base is never written", o->out);
    if (o->virtio_iso && access(o->virtio_iso, R_OK) < 0)
        return cl_error_set_errno(errp, CL_ERR_INVAL, errno, "prepare: --virtio-win '%s'", o->virtio_iso);
    char base[PATH_MAX], partial[PATH_MAX + 16];
    if (!realpath(o->base, base))
        return cl_error_set_errno(errp, CL_ERR_INVAL, errno, "prepare: '%s'", o->base);
    snprintf(partial, sizeof(partial), "%s.partial", o->out);
    unlink(partial);
    const char *fmt = "raw";
    {
        CL_AUTOCLOSE fd = open(base, O_RDONLY | O_CLOEXEC);
        unsigned char m[4] = { 0 };
        if (fd >= 0 && read(fd, m, 4) == 4 && !memcmp(m, "QFI\xfb", 4))
            fmt = "qcow2";
    }
    char *conv[] = { "qemu-img", "convert", "-q", "-f", (char *)fmt, "-O", "qcow2", base, partial, NULL };
    char *ovl[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", (char *)fmt, "-b", base, partial, NULL };
    if (!cl_proc_run_quiet(o->overlay ? ovl : conv, errp)) {
        cl_error_prefix(errp, "prepare");
        return false;
    }
    prep p = { .o = o, .changes = json_object_new_array() };
    bool ok = false;
    p.tmp[0] = '\0';
    cl_image_facts f;
    char thumb[41];
    const char *cert = o->cert ? o->cert : CL_IMAGE_DEFAULT_CERT;
    bool have_thumb = access(cert, R_OK) == 0 && cl_image_cert_thumbprint(cert, thumb, NULL);
    p.d = cl_disk_open(partial, o->virtio_iso, true, errp);
    if (!p.d)
        goto out;
    if (!cl_disk_has_windows(p.d)) {
        cl_error_set(errp, CL_ERR_FORMAT, "prepare: '%s' holds no Windows installation (Windows\\System32\\config\\SYSTEM)", o->base);
        goto out;
    }
    if (!cl_image_tmpdir(p.tmp, sizeof(p.tmp), errp) || !cl_image_facts_from_disk(p.d, have_thumb ? thumb : NULL, &f, errp))
        goto out;
    if (!copy_lab_files(&p, &f, errp) || !copy_virtio(&p, &f, errp) || !prepare_system(&p, &f, o->memory_mb ? o->memory_mb : 2048, errp) ||
        !prepare_bcd(&p, errp) || !write_firstboot(&p, errp))
        goto out;
    /* Read back through the same appliance: a second launch costs tens of seconds under TCG. */
    if (o->after && !cl_image_facts_from_disk(p.d, have_thumb ? thumb : NULL, o->after, errp))
        goto out;
    ok = cl_disk_close(p.d, errp);
    p.d = NULL;
    if (ok && rename(partial, o->out) < 0)
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "prepare: cannot rename '%s' to '%s'", partial, o->out);
out:
    cl_disk_free(p.d);
    if (p.tmp[0])
        cl_rm_rf(p.tmp, NULL);
    if (!ok) {
        unlink(partial);
        json_object_put(p.changes);
        return false;
    }
    if (changes)
        *changes = p.changes;
    else
        json_object_put(p.changes);
    return true;
}
