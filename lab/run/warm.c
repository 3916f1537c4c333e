#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"
#include "virt/domain.h"
#include "warm.h"

/* Kernel parameters with a sysctl twin; the catalogue's Linux command lines use these. */
static const struct {
    const char *param;
    const char *sysctl;
} runtime_params[] = {
    { "hung_task_panic", "kernel/hung_task_panic" },
    { "hung_task_timeout_secs", "kernel/hung_task_timeout_secs" },
    { "softlockup_panic", "kernel/softlockup_panic" },
    { "softlockup_all_cpu_backtrace", "kernel/softlockup_all_cpu_backtrace" },
    { "watchdog_thresh", "kernel/watchdog_thresh" },
    { "panic_on_warn", "kernel/panic_on_warn" },
    { "unknown_nmi_panic", "kernel/unknown_nmi_panic" },
    { "nmi_watchdog", "kernel/nmi_watchdog" },
    { "sysctl.kernel.panic_on_oops", "kernel/panic_on_oops" },
    { "sysctl.kernel.hung_task_panic", "kernel/hung_task_panic" },
    { "sysctl.kernel.hung_task_timeout_secs", "kernel/hung_task_timeout_secs" },
    { "sysctl.kernel.softlockup_panic", "kernel/softlockup_panic" },
    { "sysctl.kernel.panic_on_rcu_stall", "kernel/panic_on_rcu_stall" },
    { "sysctl.kernel.hardlockup_panic", "kernel/hardlockup_panic" },
    { "hardlockup_panic", "kernel/hardlockup_panic" },
};

static void append(char *dst, size_t len, const char *word)
{
    size_t n = strlen(dst);
    snprintf(dst + n, len - n, "%s%s", n ? " " : "", word);
}

void cl_warm_split_cmdline(const char *cmdline, char *runtime, size_t rtlen, char *boot, size_t bootlen)
{
    runtime[0] = boot[0] = '\0';
    if (!cmdline)
        return;
    char buf[2048];
    snprintf(buf, sizeof(buf), "%s", cmdline);
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(w, '=');
        bool done = false;
        if (eq) {
            *eq = '\0';
            for (size_t i = 0; i < sizeof(runtime_params) / sizeof(runtime_params[0]); i++) {
                if (!strcmp(w, runtime_params[i].param)) {
                    char a[256];
                    snprintf(a, sizeof(a), "%s=%s", runtime_params[i].sysctl, eq + 1);
                    append(runtime, rtlen, a);
                    done = true;
                    break;
                }
            }
            *eq = '=';
        } else if (!strcmp(w, "oops=panic")) {
            append(runtime, rtlen, "kernel/panic_on_oops=1");
            done = true;
        }
        if (!done)
            append(boot, bootlen, w);
    }
}

static bool prepare_image(cl_run_ctx *c, const cl_domxml_opts *dx, const char *image, cl_error **errp)
{
    double t = cl_now();
    cl_run_progress(c, "warm", "preparing a warm image (one cold boot)");
    const char *name = dx->name;
    CL_AUTOFREE char *xml = cl_domxml_build(dx, errp);
    if (!xml)
        return false;
    virDomainPtr dom = cl_domain_start(c->v, xml, errp);
    if (!dom)
        return false;
    bool ok = cl_agent_wait_ping(dom, cl_now() + c->s->t_boot, errp);
    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof(tmp), "%s.partial", image);
    if (ok && virDomainSaveFlags(dom, tmp, NULL, VIR_DOMAIN_SAVE_RUNNING) < 0)
        ok = cl_virt_error(errp, "warm: cannot save the prepared guest");
    /* The saved domain's "stopped (saved)" event must not be taken for the restored one,
     * which has the same name: wait for it, then drop everything queued for the name. */
    cl_virt_event ev;
    if (ok)
        cl_virt_wait_event(c->v, name, 1u << CL_VEV_STOPPED, cl_now() + 10, &ev);
    cl_domain_destroy(dom);
    cl_virt_forget(c->v, name);
    if (ok && rename(tmp, image) < 0)
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "warm: cannot rename '%s'", tmp);
    if (!ok)
        unlink(tmp);
    else
        chmod(image, 0444);
    cl_run_progress(c, "warm", "warm image %s in %.1fs", ok ? "ready" : "failed", cl_now() - t);
    return ok;
}

static bool apply_runtime(cl_run_ctx *c, const char *runtime, cl_error **errp)
{
    if (!runtime[0])
        return true;
    char script[2048] = "";
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", runtime);
    char *save = NULL;
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(w, '=');
        if (!eq)
            continue;
        *eq = '\0';
        size_t n = strlen(script);
        snprintf(script + n, sizeof(script) - n, "echo '%s' > /proc/sys/%s && ", eq + 1, w);
    }
    size_t n = strlen(script);
    snprintf(script + n, sizeof(script) - n, "true");
    char *argv[] = { "/bin/sh", "-c", script, NULL };
    cl_agent_exec_status st = { 0 };
    if (!cl_agent_exec(c->dom, argv, cl_now() + c->s->t_step, &st, errp))
        return false;
    bool ok = st.exited && !st.signaled && st.exitcode == 0;
    if (!ok)
        cl_error_set(errp, CL_ERR_AGENT, "warm: setting kernel parameters failed: %.200s", st.err ? st.err : "");
    cl_agent_exec_status_clear(&st);
    return ok;
}

bool cl_run_warm_start(cl_run_ctx *c, const cl_domxml_opts *dx, const char *fault_cmdline, cl_error **errp)
{
    char runtime[1024], boot[1024];
    cl_warm_split_cmdline(fault_cmdline, runtime, sizeof(runtime), boot, sizeof(boot));
    char lib[32] = "", hv[32] = "";
    cl_virt_versions(c->v, lib, hv, NULL);
    char ksha[65], isha[65];
    if (!cl_run_input_sha256(c, dx->kernel, ksha, errp) || !cl_run_input_sha256(c, dx->initrd, isha, errp))
        return false;
    /* Everything that shapes the saved state is in the key. */
    char keytext[4096];
    snprintf(keytext, sizeof(keytext), "v1|%s|%s|%u|%u|%s|%s|%s|%s|%s|%s|%s|%s", ksha, isha, dx->memory_mb, dx->vcpus,
             dx->domain_type, lib, hv, boot, dx->smbios && dx->smbios->manufacturer ? dx->smbios->manufacturer : "",
             dx->smbios && dx->smbios->product ? dx->smbios->product : "",
             dx->smbios && dx->smbios->serial ? dx->smbios->serial : "", cl_virt_uri(c->v));
    char key[65];
    cl_sha256_buf(keytext, strlen(keytext), key);
    char dir[PATH_MAX], image[PATH_MAX + 64], lockp[PATH_MAX + 64], serial[40], uuid[40];
    snprintf(dir, sizeof(dir), "%s/warm", c->state_dir);
    if (!cl_mkdir_p(dir, CL_DIR_MODE_PASS, errp))
        return false;
    snprintf(image, sizeof(image), "%s/%.24s.save", dir, key);
    snprintf(lockp, sizeof(lockp), "%s/%.24s.lock", dir, key);
    snprintf(serial, sizeof(serial), "warm-%.16s", key);
    snprintf(uuid, sizeof(uuid), "%.8s-%.4s-4%.3s-8%.3s-%.12s", key, key + 8, key + 12, key + 15, key + 18);

    char cmdline[2048];
    snprintf(cmdline, sizeof(cmdline), "console=ttyS0,115200 loglevel=7 panic=0 crashlab.warm=%.16s%s%s", key,
             boot[0] ? " " : "", boot);
    cl_smbios sm = dx->smbios ? *dx->smbios : (cl_smbios){ 0 };
    if (!sm.serial)
        sm.serial = serial;
    /* libvirt restores a saved domain only under its saved name: the name comes from the
     * image, so runs in one libvirt instance share it one at a time. */
    snprintf(c->domname, sizeof(c->domname), "cl-w-%.16s", key);
    cl_domxml_opts o = *dx;
    o.name = c->domname;
    o.cmdline = cmdline;
    o.smbios = &sm;
    o.uuid = uuid;

    /* One preparer at a time per image; the others wait and then restore it. */
    int lfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, CL_FILE_MODE);
    if (lfd < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "warm: cannot open '%s'", lockp);
    flock(lfd, LOCK_EX);
    bool ok = access(image, R_OK) == 0 || prepare_image(c, &o, image, errp);
    flock(lfd, LOCK_UN);
    close(lfd);
    if (!ok)
        return false;

    CL_AUTOFREE char *xml = cl_domxml_build(&o, errp);
    if (!xml)
        return false;
    double t = cl_now();
    cl_virt_forget(c->v, c->domname);
    if (virDomainRestoreFlags(cl_virt_conn(c->v), image, xml, VIR_DOMAIN_SAVE_RUNNING) < 0) {
        cl_virt_error(errp, "warm: cannot restore '%s'", image);
        /* A save file from another QEMU or an incompatible change: rebuilt next time. */
        unlink(image);
        return false;
    }
    c->dom = virDomainLookupByName(cl_virt_conn(c->v), c->domname);
    if (!c->dom)
        return cl_virt_error(errp, "warm: the restored domain '%s' is not there", c->domname);
    json_object *w = json_object_new_object();
    json_object_object_add(w, "image", json_object_new_string(image));
    json_object_object_add(w, "restore_seconds", json_object_new_double(cl_now() - t));
    json_object_object_add(w, "smbios_serial", json_object_new_string(sm.serial));
    json_object_object_add(w, "runtime_params", json_object_new_string(runtime));
    json_object_object_add(w, "boot_params", json_object_new_string(boot));
    json_object_object_add(c->res, "warm", w);
    if (!cl_agent_wait_ping(c->dom, cl_now() + 30, errp))
        return false;
    cl_run_progress(c, "warm", "restored, agent answered %.2fs after the restore began", cl_now() - t);
    return apply_runtime(c, runtime, errp);
}
