#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/json.h"
#include "util/reaper.h"
#include "virt/domain.h"
#include "virt/saved.h"
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
    cl_domain *dom = cl_domain_start(c->v, xml, errp);
    if (!dom)
        return false;
    bool ok = cl_agent_wait_ping(dom, cl_now() + c->s->t_boot, errp);
    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof(tmp), "%s.partial", image);
    if (ok)
        ok = cl_saved_write(dom, tmp, errp);
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

/* One of the two saved guests of an image key. Two, with their own name and uuid, because
 * libvirt restores a save file only under the name and uuid it was saved with: the spare for
 * the next run can then be restored while this run's guest still exists. */
typedef struct {
    char name[64], uuid[40], image[PATH_MAX], console[PATH_MAX], sock[PATH_MAX];
} warm_variant;

/* The spare restored by this run for the next one: a run is one process, and the thread
 * must end before the process does (libvirt kills a domain it was still restoring). */
static struct {
    pthread_t thread;
    bool started;
    cl_virt *v;
    const warm_variant *var;
    char *xml;
    char id[48], host[256];
    cl_error *err;
    double seconds;
    char spare_console[PATH_MAX]; /* the adopted spare's console, copied at the end */
    bool copy_console;
} spare;

static warm_variant variants[2];

static bool variant_init(warm_variant *w, const cl_run_ctx *c, const char *dir, const char *key, int i, cl_error **errp)
{
    char k[65];
    if (i == 0) {
        memcpy(k, key, 65);
    } else {
        char t[80];
        snprintf(t, sizeof(t), "%s|b", key);
        cl_sha256_buf(t, strlen(t), k);
    }
    char name[sizeof(w->name)];
    snprintf(name, sizeof(name), "cl-w-%.16s%s", key, i ? "-b" : "");
    memcpy(w->name, name, sizeof(name));
    snprintf(w->uuid, sizeof(w->uuid), "%.8s-%.4s-4%.3s-8%.3s-%.12s", k, k + 8, k + 12, k + 15, k + 18);
    return cl_path_fmt(w->image, sizeof(w->image), errp, "%s/%.24s%s.save", dir, key, i ? "-b" : "") &&
           cl_path_fmt(w->console, sizeof(w->console), errp, "%s/%s.console", dir, name) &&
           cl_path_fmt(w->sock, sizeof(w->sock), errp, "%s/s/%s.qga", c->state_dir, name);
}

static void *spare_main(void *arg)
{
    (void)arg;
    double t = cl_now();
    /* A new file, never a truncation: the last run of this variant kept the old one as its
     * console.log (a second name for it). */
    unlink(spare.var->console);
    int fd = open(spare.var->console, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, CL_FILE_MODE);
    if (fd >= 0)
        close(fd);
    unlink(spare.var->sock);
    cl_domain *dom = cl_saved_restore(spare.v, spare.var->image, spare.xml, true, &spare.err);
    /* Only a finished restore is marked usable: the next run takes nothing half-made. */
    if (dom && !cl_saved_claim(dom, spare.id, 0, spare.host, &spare.err))
        cl_domain_destroy(dom);
    else if (dom) {
        /* Outlives this command: the reaper stays to reap it when the next run ends it. */
        cl_reaper_keep(cl_saved_qemu_pid(spare.v, spare.var->name));
        cl_domain_free(dom);
    }
    spare.seconds = cl_now() - t;
    return NULL;
}

static void spare_start(cl_run_ctx *c, const cl_domxml_opts *o, const warm_variant *w, const char *spare_id)
{
    cl_domxml_opts so = *o;
    so.name = w->name;
    so.uuid = w->uuid;
    so.run_id = "spare-pending";
    so.owner_pid = 0;
    snprintf(spare.id, sizeof(spare.id), "%s", spare_id);
    gethostname(spare.host, sizeof(spare.host) - 1);
    so.console_log = w->console;
    so.agent_socket = w->sock;
    cl_error *err = NULL;
    spare.xml = cl_domxml_build(&so, &err);
    if (!spare.xml) {
        cl_run_progress(c, "warm", "no spare for the next run: %s", err->msg);
        cl_error_free(err);
        return;
    }
    spare.v = c->v;
    spare.var = w;
    spare.started = pthread_create(&spare.thread, NULL, spare_main, NULL) == 0;
    if (!spare.started) {
        free(spare.xml);
        spare.xml = NULL;
    }
}

void cl_run_warm_finish(cl_run_ctx *c)
{
    if (spare.copy_console) {
        /* The adopted spare wrote its console outside the run directory (another file
         * system than the results): the run keeps a copy. */
        CL_AUTOFREE char *text = NULL;
        size_t len = 0;
        if (cl_file_read_tail(spare.spare_console, 4u << 20, &text, &len, NULL))
            cl_file_write_atomic(c->console, text, len, NULL);
        spare.copy_console = false;
    }
    if (!spare.started)
        return;
    pthread_join(spare.thread, NULL);
    spare.started = false;
    free(spare.xml);
    spare.xml = NULL;
    json_object *w = NULL;
    if (json_object_object_get_ex(c->res, "warm", &w)) {
        json_object *sp = cl_json_child(w, "spare");
        json_object_object_add(sp, "prepared", json_object_new_boolean(!spare.err));
        json_object_object_add(sp, "prepare_seconds", json_object_new_double(spare.seconds));
        if (spare.err)
            json_object_object_add(sp, "error", json_object_new_string(spare.err->msg));
    }
    if (spare.err)
        json_object_array_add(c->warnings, json_object_new_string("warm: the spare for the next run was not made"));
    cl_error_free(spare.err);
    spare.err = NULL;
}

/* Takes over a paused spare left by the previous run: it becomes this run's domain. */
static bool adopt_spare(cl_run_ctx *c, cl_domain *dom, const warm_variant *w, cl_error **errp)
{
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    c->dom = dom;
    snprintf(c->domname, sizeof(c->domname), "%s", w->name);
    memcpy(c->sock, w->sock, sizeof(c->sock));
    if (!cl_saved_claim(dom, c->run_id, (long)getpid(), host, errp))
        return false;
    /* The run directory's console.log becomes the spare's console file (a second name for
     * it), or a copy at the end when the two are on different file systems. */
    unlink(c->console);
    if (link(w->console, c->console) < 0) {
        int fd = open(c->console, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, CL_FILE_MODE);
        if (fd >= 0)
            close(fd);
        snprintf(spare.spare_console, sizeof(spare.spare_console), "%s", w->console);
        spare.copy_console = true;
    }
    cl_virt_forget(c->v, c->domname);
    return cl_domain_resume(dom, errp);
}

bool cl_run_warm_start(cl_run_ctx *c, const cl_domxml_opts *dx, const char *fault_cmdline, bool keep_spare,
                       cl_error **errp)
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
    char dir[PATH_MAX], lockp[PATH_MAX + 64], serial[40], spare_id[48];
    if (!cl_path_fmt(dir, sizeof(dir), errp, "%s/warm", c->state_dir) || !cl_mkdir_p(dir, CL_DIR_MODE_PASS, errp))
        return false;
    for (int i = 0; i < 2; i++)
        if (!variant_init(&variants[i], c, dir, key, i, errp))
            return false;
    if (!cl_path_fmt(lockp, sizeof(lockp), errp, "%s/%.24s.lock", dir, key))
        return false;
    snprintf(serial, sizeof(serial), "warm-%.16s", key);
    snprintf(spare_id, sizeof(spare_id), "spare-%.24s", key);

    char cmdline[2048];
    snprintf(cmdline, sizeof(cmdline), "console=ttyS0,115200 loglevel=7 panic=0 crashlab.warm=%.16s%s%s", key,
             boot[0] ? " " : "", boot);
    cl_smbios sm = dx->smbios ? *dx->smbios : (cl_smbios){ 0 };
    if (!sm.serial)
        sm.serial = serial;
    cl_domxml_opts o = *dx;
    o.cmdline = cmdline;
    o.smbios = &sm;

    /* Spares of another image (other kernel, memory, boot parameters) only hold memory. */
    cl_saved_drop_spares(c->v, keep_spare ? spare_id : NULL);
    const warm_variant *use = &variants[0], *next = &variants[1];
    cl_domain *found = NULL;
    for (int i = 0; i < 2 && !found; i++) {
        if ((found = cl_saved_take_spare(c->v, variants[i].name, spare_id))) {
            use = &variants[i];
            next = &variants[1 - i];
        }
    }

    /* One preparer at a time per image; the others wait and then restore it. The second
     * variant is made only for runs that keep a spare. */
    int lfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, CL_FILE_MODE);
    if (lfd < 0) {
        if (found)
            cl_domain_free(found);
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "warm: cannot open '%s'", lockp);
    }
    flock(lfd, LOCK_EX);
    bool ok = true;
    for (int i = 0; ok && i < (keep_spare ? 2 : 1); i++) {
        if (access(variants[i].image, R_OK) == 0)
            continue;
        cl_domxml_opts po = o;
        po.name = variants[i].name;
        po.uuid = variants[i].uuid;
        ok = prepare_image(c, &po, variants[i].image, errp);
    }
    flock(lfd, LOCK_UN);
    close(lfd);
    if (!ok) {
        if (found)
            cl_domain_free(found);
        return false;
    }

    double t = cl_now();
    json_object *w = json_object_new_object();
    json_object_object_add(c->res, "warm", w);
    if (found) {
        json_object_object_add(w, "image", json_object_new_string(use->image));
        json_object_object_add(w, "started_from", json_object_new_string("spare"));
        if (!adopt_spare(c, found, use, errp))
            return false;
    } else {
        snprintf(c->domname, sizeof(c->domname), "%s", use->name);
        cl_domxml_opts ro = o;
        ro.name = use->name;
        ro.uuid = use->uuid;
        CL_AUTOFREE char *xml = cl_domxml_build(&ro, errp);
        if (!xml)
            return false;
        cl_virt_forget(c->v, c->domname);
        json_object_object_add(w, "image", json_object_new_string(use->image));
        json_object_object_add(w, "started_from", json_object_new_string("save file"));
        c->dom = cl_saved_restore(c->v, use->image, xml, false, errp);
        if (!c->dom) {
            /* A save file from another QEMU or an incompatible change: rebuilt next time. */
            unlink(use->image);
            return false;
        }
    }
    json_object_object_add(w, "restore_seconds", json_object_new_double(cl_now() - t));
    json_object_object_add(w, "smbios_serial", json_object_new_string(sm.serial));
    json_object_object_add(w, "runtime_params", json_object_new_string(runtime));
    json_object_object_add(w, "boot_params", json_object_new_string(boot));
    /* The next run's guest is restored while this one works. */
    if (keep_spare)
        spare_start(c, &o, next, spare_id);
    if (!cl_agent_wait_ping(c->dom, cl_now() + 30, errp))
        return false;
    cl_run_progress(c, "warm", "%s, agent answered %.2fs after the %s began", found ? "resumed a spare" : "restored",
                    cl_now() - t, found ? "resume" : "restore");
    return apply_runtime(c, runtime, errp);
}
