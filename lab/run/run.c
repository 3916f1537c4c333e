/* run.c - one run from define to teardown. Only this file knows every module. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "dump/dump.h"
#include "result.h"
#include "record.h"
#include "run_priv.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/names.h"
#include "util/text.h"
#include "virt/accel.h"
#include "virt/domain.h"
#include "virt/domxml.h"
#include "warm.h"
#include "collect.h"
#include "fingerprint.h"
#include "dump/fingerprint.h"
#include "windows.h"
#include "precheck.h"
#include "wincheck.h"
#include "virt/screenshot.h"
#include "remote.h"
#include "labdump.h"

#define CONSOLE_MAX (4u << 20)   /* console bytes read back for the report */

volatile int cl_run_interrupted;
cl_virt *volatile cl_run_current_virt;

char *cl_run_state_dir(const char *given)
{
    if (given && *given)
        return strdup(given);
    const char *env = getenv("CRASHLAB_STATE");
    if (env && *env)
        return strdup(env);
    char *p = NULL;
    /* As root, QEMU runs as libvirt-qemu and must reach the embedded root: not under /root. */
    if (geteuid() == 0)
        return strdup("/var/lib/crashlab");
    const char *home = getenv("HOME");
    if (home && *home && asprintf(&p, "%s/.cache/crashlab", home) >= 0)
        return p;
    if (asprintf(&p, "/tmp/crashlab-%ld", (long)getuid()) >= 0)
        return p;
    return NULL;
}

void cl_run_progress(cl_run_ctx *c, const char *phase, const char *fmt, ...)
{
    if (c->opts->quiet)
        return;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Progress lines carry guest text (reasons, titles, agent errors): no escape sequence
     * of the guest's ever reaches the user's terminal. */
    char shown[sizeof(msg) * 2];
    cl_text_terminal(msg, shown, sizeof(shown));
    fprintf(stderr, "[%6.1fs] %-9s %s\n", cl_now() - c->t0, phase, shown);
}

void cl_run_phase_end(cl_run_ctx *c, const char *phase)
{
    double now = cl_now();
    json_object *old = NULL;
    double prev = json_object_object_get_ex(c->timings, phase, &old) ? json_object_get_double(old) : 0;
    json_object_object_add(c->timings, phase, json_object_new_double(prev + (now - c->phase_t0)));
    c->phase_t0 = now;
}

void cl_run_ladder(cl_run_ctx *c, const char *step, const char *outcome)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "step", json_object_new_string(step));
    json_object_object_add(o, "at", json_object_new_double(cl_now() - c->t0));
    json_object_object_add(o, "outcome", json_object_new_string(outcome));
    json_object_array_add(c->ladder, o);
    cl_run_progress(c, "ladder", "%s: %s", step, outcome);
}

int cl_run_wait_crash(cl_run_ctx *c, double deadline)
{
    double last_note = cl_now();
    for (;;) {
        cl_virt_event ev;
        double now = cl_now();
        double d = deadline;
        /* Long waits say that they are alive every 15 s. */
        if (d - now > 15)
            d = now + 15;
        if (cl_virt_wait_event(c->v, c->domname, 1u << CL_VEV_CRASHED | 1u << CL_VEV_STOPPED, d, &ev)) {
            if (ev.kind == CL_VEV_CRASHED) {
                snprintf(c->crash_detail, sizeof(c->crash_detail), "%s", ev.detail_str);
                return 1;
            }
            snprintf(c->crash_detail, sizeof(c->crash_detail), "stopped:%s", ev.detail_str);
            return 2;
        }
        if (cl_run_interrupted || cl_now() >= deadline)
            return 0;
        if (cl_now() - last_note >= 14) {
            cl_run_progress(c, "observe", "still waiting (%.0f s left)", deadline - cl_now());
            last_note = cl_now();
        }
    }
}

static void make_run_id(cl_run_ctx *c)
{
    if (c->opts->run_id) {
        snprintf(c->run_id, sizeof(c->run_id), "%s", c->opts->run_id);
    } else {
        unsigned char r[3] = { 0 };
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (read(fd, r, sizeof(r)) != (ssize_t)sizeof(r))
                r[0] = (unsigned char)getpid();
            close(fd);
        }
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        char name[48];
        snprintf(name, sizeof(name), "%s", c->s->name);
        for (char *p = name; *p; p++)
            if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') && *p != '-')
                *p = '_';
        snprintf(c->run_id, sizeof(c->run_id), "%04d%02d%02d-%02d%02d%02d-%s-%02x%02x%02x", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, name, r[0], r[1], r[2]);
    }
    /* Domain names stay short and unique: the socket path has a hard limit. */
    char hex[65];
    cl_sha256_buf(c->run_id, strlen(c->run_id), hex);
    snprintf(c->domname, sizeof(c->domname), "cl-%.12s", hex);
}

bool cl_run_input_sha256(cl_run_ctx *c, const char *path, char hex[65], cl_error **errp)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot stat '%s'", path);
    char dir[PATH_MAX], memo[PATH_MAX + 128];
    snprintf(dir, sizeof(dir), "%s/guest-cache/sums", c->state_dir);
    /* Not ctime: libvirt chowns the kernel and initrd to QEMU's user and back on every run. */
    snprintf(memo, sizeof(memo), "%s/%llx-%llx-%llx-%lld.%09ld", dir, (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino, (unsigned long long)st.st_size, (long long)st.st_mtim.tv_sec,
             st.st_mtim.tv_nsec);
    CL_AUTOFREE char *text = NULL;
    size_t len = 0;
    if (cl_file_read_all(memo, 64, &text, &len, NULL) && len == 64 && strspn(text, "0123456789abcdef") == 64) {
        memcpy(hex, text, 65);
        return true;
    }
    if (!cl_sha256_file(path, hex, NULL, errp))
        return false;
    /* Only a cache: a state directory it cannot be written to costs the hash next time. */
    if (cl_mkdir_p(dir, CL_DIR_MODE_PASS, NULL))
        cl_file_write_atomic(memo, hex, 64, NULL);
    return true;
}

/* QEMU opens the kernel and initrd itself, as an unprivileged user when we are root. A
 * guest file it cannot reach (a checkout under a private directory) is copied, read-only
 * and content-addressed, into the state directory; the original is never written. */
static bool stage_guest_file(cl_run_ctx *c, char *path, cl_error **errp)
{
    char blocker[PATH_MAX];
    if (geteuid() != 0 || cl_path_world_reachable(path, true, blocker, sizeof(blocker)))
        return true;
    char hex[65];
    if (!cl_run_input_sha256(c, path, hex, errp))
        return false;
    char dir[PATH_MAX], dst[PATH_MAX + 80];
    snprintf(dir, sizeof(dir), "%s/guest-cache", c->state_dir);
    if (!cl_mkdir_p(dir, CL_DIR_MODE_PASS, errp))
        return false;
    snprintf(dst, sizeof(dst), "%s/%.32s-%s", dir, hex, strrchr(path, '/') + 1);
    if (access(dst, R_OK) != 0) {
        CL_AUTOFREE char *data = NULL;
        size_t len = 0;
        if (!cl_file_read_all(path, 1u << 30, &data, &len, errp) || !cl_file_write_atomic(dst, data, len, errp))
            return false;
        chmod(dst, 0444);
    }
    snprintf(path, PATH_MAX, "%s", dst);
    return true;
}

static bool guest_files(cl_run_ctx *c, char *kernel, char *initrd, cl_error **errp)
{
    snprintf(kernel, PATH_MAX, "%s/vmlinuz", c->guest_dir);
    snprintf(initrd, PATH_MAX, "%s/initrd.img", c->guest_dir);
    /* On a remote host these are that host's paths: libvirt checks them (remote.h). */
    if (!c->remote && (access(kernel, R_OK) < 0 || access(initrd, R_OK) < 0))
        return cl_error_set(errp, CL_ERR_INVAL, "the Linux guest is not built: no '%s' or '%s' (run `make guest`)",
                            kernel, initrd);
    return true;
}

/* One process per embedded libvirt root: two would fight over its driver.pid. A second
 * run on the same state directory waits its turn instead of failing, for as long as its
 * own run timeout; the wait is queueing, not running, so the run's clock restarts. */
static bool lock_state_dir(cl_run_ctx *c, int *fd, cl_error **errp)
{
    char path[PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/lock", c->state_dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, CL_FILE_MODE);
    if (*fd < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot open '%s'", path);
    if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
        return true;
    cl_run_progress(c, "define", "waiting for another crashlab run that uses %s", c->state_dir);
    double until = cl_now() + c->s->t_run;
    while (!cl_run_interrupted && cl_now() < until) {
        if (flock(*fd, LOCK_EX | LOCK_NB) == 0) {
            c->deadline = cl_now() + c->s->t_run;
            return true;
        }
        usleep(200 * 1000);
    }
    if (cl_run_interrupted)
        return cl_error_set(errp, CL_ERR_INTERRUPTED, "interrupted");
    return cl_error_set(errp, CL_ERR_VIRT, "state directory '%s' stayed in use by another crashlab run", c->state_dir);
}

/* The embedded driver keeps QEMU's per-domain files under the state directory. */
static bool check_state_dir(cl_run_ctx *c, cl_error **errp)
{
    if (!cl_mkdir_p(c->state_dir, CL_DIR_MODE_PASS, errp))
        return false;
    char blocker[PATH_MAX];
    bool embedded = !c->opts->uri || strstr(c->opts->uri, "/embed");
    if (geteuid() == 0 && embedded && !cl_path_world_reachable(c->state_dir, false, blocker, sizeof(blocker)))
        return cl_error_set(errp, CL_ERR_INVAL,
                            "state directory '%s': QEMU runs as libvirt-qemu and cannot enter '%s' (chmod o+x it, or choose --state elsewhere)",
                            c->state_dir, blocker);
    return true;
}

static char *linux_cmdline(cl_run_ctx *c)
{
    CL_AUTOFREE char *faults = cl_scenario_fault_cmdline(c->s);
    char *out = NULL;
    /* panic=0: stay in the panic for the dump (the panic device has already told the
     * hypervisor); the run id on the command line ties the guest's log to its run. */
    if (asprintf(&out, "console=ttyS0,115200 loglevel=7 panic=0 crashlab.run=%s %s", c->run_id,
                 faults ? faults : "") < 0)
        return NULL;
    return out;
}

static json_object *host_json(cl_run_ctx *c, const cl_accel_choice *acc)
{
    json_object *h = json_object_new_object();
    json_object_object_add(h, "uri", json_object_new_string(c->v ? cl_virt_uri(c->v) : (c->opts->uri ? c->opts->uri : "")));
    if (acc) {
        json_object_object_add(h, "accelerator", json_object_new_string(acc->accel));
        json_object_object_add(h, "accelerator_why", json_object_new_string(acc->why));
    }
    char lib[32], hv[32];
    if (c->v && cl_virt_versions(c->v, lib, hv, NULL)) {
        json_object_object_add(h, "libvirt_version", json_object_new_string(lib));
        json_object_object_add(h, "qemu_version", json_object_new_string(hv));
    }
    struct utsname u;
    if (uname(&u) == 0) {
        json_object_object_add(h, "hostname", json_object_new_string(u.nodename));
        json_object_object_add(h, "kernel", json_object_new_string(u.release));
    }
    return h;
}

static void capture(cl_run_ctx *c)
{
    char state[32], reason[32];
    cl_domain_state(c->dom, state, reason);
    cl_run_progress(c, "capture", "domain %s (%s)", state, reason);
    json_object *cap = cl_json_child(c->res, "capture");
    json_object_object_add(cap, "domain_state", json_object_new_string(state));
    json_object_object_add(cap, "domain_reason", json_object_new_string(reason));

    /* virDomainScreenshot streams the picture: the same on every host. */
    if (c->s->screenshot && strcmp(state, "gone") && strcmp(state, "shutoff")) {
        char png[PATH_MAX + 32];
        snprintf(png, sizeof(png), "%s/screenshot.png", c->partial_dir);
        CL_AUTOPTR(cl_error) serr = NULL;
        if (cl_domain_screenshot(c->v, c->dom, png, &serr))
            json_object_object_add(cap, "screenshot", json_object_new_string("screenshot.png"));
        else
            json_object_object_add(cap, "screenshot_error", json_object_new_string(serr->msg));
    }
    cl_dump_format fmt = c->s->dump_format;
    if (fmt == CL_DUMPFMT_NONE || !strcmp(state, "gone") || !strcmp(state, "shutoff"))
        return;
    const char *ext = fmt == CL_DUMPFMT_ELF ? "elf" : fmt == CL_DUMPFMT_WIN_DMP ? "dmp" : "kdump";
    snprintf(c->dump_path, sizeof(c->dump_path), "%s/dump.%s", c->partial_dir, ext);
    double t = cl_now();
    cl_run_progress(c, "capture", "writing a %s memory dump", cl_dump_format_to_string(fmt));
    CL_AUTOPTR(cl_error) err = NULL;
    /* A remote host writes it into its pool and it comes home (remote.h); either way the
     * dump is then a local file at c->dump_path. */
    json_object *remote = NULL, *writer = NULL;
    bool lab = cl_dump_format_is_lab(fmt);
    bool dumped = lab && cl_run_lab_dump(c, c->dump_path, fmt, &writer);
    if (!dumped && lab)
        fmt = CL_DUMPFMT_KDUMP_ZLIB; /* the lab's writer cannot: QEMU's, and dump.writer says why */
    if (!dumped)
        dumped = c->remote ? cl_run_remote_dump(c, fmt, c->dump_path, &remote, &err)
                           : cl_domain_dump(c->dom, fmt, c->dump_path, &err);
    if (!dumped) {
        json_object_put(writer);
        if (remote)
            json_object_object_add(cap, "dump_remote", remote);
        cl_run_ladder(c, "hypervisor-dump", err->msg);
        json_object_object_add(cap, "dump_error", json_object_new_string(err->msg));
        c->dump_path[0] = '\0';
        /* The crash was seen but its dump is lost: that is the host's failure (disk full,
         * QEMU gone), never a pass; the daemon retries it. */
        char st2[32], rs2[32];
        cl_domain_state(c->dom, st2, rs2);
        c->obs.infra = true;
        snprintf(c->reason, sizeof(c->reason), "the crash was seen but its dump was lost%s: %s",
                 !strcmp(st2, "gone") || !strcmp(st2, "shutoff") ? " (the QEMU process went away)" : "", err->msg);
        return;
    }
    /* From here on the dump is a local file wherever it was written (a remote host's has
     * been downloaded and checked against that host's copy): whatever is done to a dump
     * after it is written (the kdump conversion) belongs here, once for both. */
    const char *format = cl_dump_format_to_string(fmt);
    json_object *conv = NULL;
    if (fmt == CL_DUMPFMT_KDUMP_ZLIB)
        format = cl_run_kdump_standard(c, &conv);
    char sha[65];
    uint64_t size = 0;
    cl_sha256_file(c->dump_path, sha, &size, NULL);
    json_object *d = json_object_new_object();
    json_object_object_add(d, "path", json_object_new_string(strrchr(c->dump_path, '/') + 1));
    json_object_object_add(d, "format", json_object_new_string(format));
    json_object_object_add(d, "bytes", json_object_new_int64((int64_t)size));
    json_object_object_add(d, "sha256", json_object_new_string(sha));
    json_object_object_add(d, "seconds", json_object_new_double(cl_now() - t));
    if (conv)
        json_object_object_add(d, "converted", conv);
    if (writer)
        json_object_object_add(d, "writer", writer);
    if (remote) {
        json_object_object_foreach(remote, rk, rv)
            json_object_object_add(d, rk, json_object_get(rv));
        json_object_put(remote);
    }
    json_object_object_add(c->res, "dump", d);
    cl_run_ladder(c, "hypervisor-dump", "written");
    cl_run_progress(c, "capture", "dump: %" PRIu64 " bytes in %.1fs", size, cl_now() - t);
}

/* Fills result.crash from the dump (when there is one) and the console. */
static void describe_crash(cl_run_ctx *c, const cl_console_report *cr)
{
    json_object *crash = NULL;
    if (c->dump_path[0]) {
        CL_AUTOPTR(cl_error) err = NULL;
        int rc = cl_dump_inspect(c->dump_path, &crash, &err);
        if (rc == CL_DUMP_NOT_A_DUMP || !crash) {
            crash = json_object_new_object();
            json_object_object_add(crash, "dump_error", json_object_new_string(err ? err->msg : "unreadable"));
        }
    }
    if (!crash)
        crash = json_object_new_object();
    json_object *t = NULL;
    const char *dump_title = json_object_object_get_ex(crash, "title", &t) ? json_object_get_string(t) : NULL;
    json_object *lx = NULL, *pm = NULL;
    const char *dump_panic = json_object_object_get_ex(crash, "linux", &lx) && json_object_object_get_ex(lx, "panic_message", &pm)
                                 ? json_object_get_string(pm) : NULL;
    json_object_object_add(crash, "detected_by", json_object_new_string(c->crash_detail[0] ? c->crash_detail : "none"));
    if (cr->found) {
        json_object_object_add(crash, "kind", json_object_new_string(cr->kind));
        json_object_object_add(crash, "console_title", json_object_new_string(cr->title));
        json_object_object_add(crash, "console_report", json_object_new_string(cr->report));
    }
    const char *panic = dump_panic && *dump_panic ? dump_panic : cr->panic_message;
    json_object_object_add(crash, "panic_message", json_object_new_string(panic));
    if (!dump_title || !*dump_title)
        json_object_object_add(crash, "title", json_object_new_string(cr->found ? cr->title : "lost connection to guest"));
    json_object_object_add(c->res, "crash", crash);
}

/* Host side as configured against the guest side as the dump's memory shows it. */
static void record_fingerprint(cl_run_ctx *c, const cl_domxml_opts *dx, const cl_accel_choice *acc)
{
    json_object *guest = NULL;
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_dump_fingerprint(c->dump_path, &guest, &err)) {
        json_object_array_add(c->warnings, json_object_new_string("fingerprint: the dump could not be read for it"));
        return;
    }
    cl_smbios e;
    cl_domxml_smbios_effective(dx, &e);
    json_object *w = NULL, *ser = NULL;
    if (json_object_object_get_ex(c->res, "warm", &w) && json_object_object_get_ex(w, "smbios_serial", &ser))
        e.serial = (char *)json_object_get_string(ser);
    char lib[32] = "", hv[32] = "";
    cl_virt_versions(c->v, lib, hv, NULL);
    json_object *host = cl_fp_host(dx, &e, acc->accel, lib, hv);
    json_object *fp = cl_fp_compare(host, guest);
    json_object_put(host);
    json_object_put(guest);
    json_object *agree = NULL;
    if (json_object_object_get_ex(fp, "agree", &agree) && !json_object_get_boolean(agree))
        json_object_array_add(c->warnings, json_object_new_string("fingerprint: host and guest sides disagree (see fingerprint.mismatches)"));
    json_object_object_add(c->res, "fingerprint", fp);
}

static void observe(cl_run_ctx *c)
{
    double d = cl_now() + c->s->t_observe;
    if (d > c->deadline)
        d = c->deadline;
    cl_run_progress(c, "observe", "watching for a crash for up to %.0f s", d - cl_now());
    int w = cl_run_wait_crash(c, d);
    if (w == 1) {
        c->obs.crashed = true;
        return;
    }
    if (w == 2) {
        c->obs.infra = true;
        snprintf(c->reason, sizeof(c->reason), "the QEMU process went away while observing (%s)", c->crash_detail);
        return;
    }
    if (cl_run_interrupted)
        return;
    /* Heartbeat: a guest that still answers its agent is alive and did not crash; but
     * the task that fired the fault may be stuck in the driver for good (a hung IRP, a
     * task in D state): that is a hang too, of the workload rather than the guest. */
    CL_AUTOPTR(cl_error) err = NULL;
    if (cl_agent_wait_ping(c->dom, cl_now() + 10, &err)) {
        cl_run_ladder(c, "agent-ping", "answered: the guest is alive");
        if (!c->fire_pid)
            return;
        cl_agent_exec_status st = { 0 };
        CL_AUTOPTR(cl_error) serr = NULL;
        bool done = cl_agent_exec_wait(c->dom, c->fire_pid, cl_now() + 2, &st, &serr);
        cl_agent_exec_status_clear(&st);
        if (done) {
            cl_run_ladder(c, "fault-task", "exited");
            return;
        }
        if (!serr || serr->code != CL_ERR_TIMEOUT) {
            cl_run_ladder(c, "fault-task", serr ? serr->msg : "unknown state");
            return;
        }
        char what[160];
        snprintf(what, sizeof(what), "guest process %ld that fired '%s' is still blocked after %.0f s", c->fire_pid,
                 c->fired ? c->fired->id : "?", c->s->t_observe);
        cl_run_ladder(c, "fault-task", what);
        /* FIRE's own answer never comes (qemu-ga returns output only when the process
         * exits): what the driver set at FIRE is asked now, before the NMI ends the guest. */
        if (c->s->profile == CL_PROFILE_WINDOWS)
            cl_run_windows_status(c);
    } else {
        cl_run_ladder(c, "agent-ping", err->msg);
    }
    if (cl_run_wait_crash(c, cl_now() + 0.5) == 1) {
        c->obs.crashed = true;
        return;
    }
    c->obs.hung = true;
    if (!c->s->nmi_on_hang)
        return;
    CL_AUTOPTR(cl_error) nerr = NULL;
    if (!cl_domain_inject_nmi(c->dom, &nerr)) {
        cl_run_ladder(c, "nmi", nerr->msg);
        return;
    }
    cl_run_ladder(c, "nmi", "injected");
    snprintf(c->crash_method, sizeof(c->crash_method), "nmi");
    w = cl_run_wait_crash(c, cl_now() + 30);
    if (w == 1) {
        c->obs.crashed = true;
        cl_run_ladder(c, "nmi-panic", c->crash_detail);
    } else {
        cl_run_ladder(c, "nmi-panic", "no panic after the NMI within 30 s");
    }
}

static int finish(cl_run_ctx *c, json_object **result)
{
    /* Teardown first: nothing may outlive the run. */
    double t = cl_now();
    if (c->dom) {
        cl_domain_destroy(c->dom);
        c->dom = NULL;
        cl_virt_forget(c->v, c->domname);
    }
    cl_run_remote_console_close(c);
    if (c->sock[0])
        unlink(c->sock);
    c->phase_t0 = t;
    cl_run_warm_finish(c);
    cl_run_phase_end(c, "teardown");
    cl_run_record_finish(c);

    cl_console_report cr;
    {
        CL_AUTOFREE char *text = NULL;
        size_t len = 0;
        if (cl_file_read_tail(c->console, CONSOLE_MAX, &text, &len, NULL))
            cl_console_parse(text, len, &cr);
        else
            memset(&cr, 0, sizeof(cr));
    }
    if (c->obs.crashed || c->obs.hung)
        describe_crash(c, &cr);
    cl_run_truth(c);

    /* What the verdict is matched against. */
    char text[8192] = "";
    json_object *crash = NULL, *v = NULL;
    if (json_object_object_get_ex(c->res, "crash", &crash)) {
        const char *keys[] = { "title", "panic_message", "console_title", "console_report" };
        for (size_t i = 0; i < 4; i++)
            if (json_object_object_get_ex(crash, keys[i], &v))
                snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s\n", json_object_get_string(v));
        if (json_object_object_get_ex(crash, "bugcheck", &v)) {
            json_object *code = NULL, *params = NULL;
            if (json_object_object_get_ex(v, "code", &code)) {
                c->obs.bugcheck = (uint32_t)strtoul(json_object_get_string(code), NULL, 16);
                c->obs.bugcheck_known = true;
            }
            if (json_object_object_get_ex(v, "params", &params))
                for (size_t i = 0; i < 4 && i < json_object_array_length(params); i++)
                    c->obs.params[i] = strtoull(json_object_get_string(json_object_array_get_idx(params, i)), NULL, 16);
        }
    }
    /* Cross-check: the hypervisor's record, the dump's header and the expectation must
     * tell the same story; any disagreement is named and fails the run. */
    json_object *mism = json_object_new_array();
    if (c->hv_known) {
        char m[160];
        if (c->obs.bugcheck_known && c->obs.bugcheck != (uint32_t)c->hv[0]) {
            snprintf(m, sizeof(m), "bug check 0x%x in the dump, 0x%" PRIx64 " in the hypervisor record", c->obs.bugcheck, c->hv[0]);
            json_object_array_add(mism, json_object_new_string(m));
        }
        for (int i = 0; c->obs.bugcheck_known && i < 4; i++)
            if (c->obs.params[i] != c->hv[i + 1]) {
                snprintf(m, sizeof(m), "parameter %d is 0x%" PRIx64 " in the dump, 0x%" PRIx64 " in the hypervisor record",
                         i + 1, c->obs.params[i], c->hv[i + 1]);
                json_object_array_add(mism, json_object_new_string(m));
            }
        if (!c->obs.bugcheck_known) {
            c->obs.bugcheck = (uint32_t)c->hv[0];
            c->obs.bugcheck_known = true;
            memcpy(c->obs.params, c->hv + 1, sizeof(c->obs.params));
        }
    }
    c->obs.crash_kind = cr.found ? cr.kind : NULL;
    c->obs.crash_text = text;
    char reason[1024] = "";
    cl_verdict verdict = cl_run_decide(c->s, &c->obs, reason, sizeof(reason));
    if (c->reason[0])
        snprintf(reason, sizeof(reason), "%s", c->reason);
    if (json_object_array_length(mism) > 0 && verdict != CL_VERDICT_INFRA_ERROR) {
        verdict = CL_VERDICT_FAIL;
        snprintf(reason, sizeof(reason), "the hypervisor record and the dump disagree: %s",
                 json_object_get_string(json_object_array_get_idx(mism, 0)));
    }
    if (c->hv_known || json_object_array_length(mism) > 0) {
        json_object *x = json_object_new_object();
        json_object_object_add(x, "agree", json_object_new_boolean(json_object_array_length(mism) == 0));
        json_object_object_add(x, "mismatches", json_object_get(mism));
        json_object_object_add(c->res, "crosscheck", x);
    }
    json_object_put(mism);
    json_object_object_add(c->res, "verdict", json_object_new_string(cl_verdict_to_string(verdict)));
    json_object_object_add(c->res, "expected_verdict", json_object_new_string(cl_verdict_to_string(c->s->expect_verdict)));
    json_object_object_add(c->res, "reason", json_object_new_string(reason));
    json_object_object_add(c->res, "timings", json_object_get(c->timings));
    json_object_object_add(c->timings, "total", json_object_new_double(cl_now() - c->t0));
    json_object_object_add(c->res, "steps", json_object_get(c->steps));
    json_object_object_add(c->res, "warnings", json_object_get(c->warnings));
    {
        json_object *cap = cl_json_child(c->res, "capture");
        json_object_object_add(cap, "ladder", json_object_get(c->ladder));
        json_object_object_add(cap, "method", json_object_new_string(c->crash_method[0] ? c->crash_method : "none"));
    }
    time_t now = time(NULL);
    char iso[32];
    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_object_object_add(c->res, "finished", json_object_new_string(iso));

    CL_AUTOPTR(cl_error) err = NULL;
    int rc = verdict == c->s->expect_verdict ? 0 : 1;
    if (!cl_result_write(c->partial_dir, c->final_dir, c->res, &err)) {
        fprintf(stderr, "crashlab: cannot record the run: %s\n", err->msg);
        rc = 3;
    }
    cl_run_progress(c, "result", "%s: %s (%s) -> %s", cl_verdict_to_string(verdict), reason,
                    rc == 0 ? "as expected" : "NOT as expected", c->final_dir);
    if (result)
        *result = json_object_get(c->res);
    return rc;
}

/* True (with the error the result records) once a signal asked the run to stop. */
static bool interrupted(cl_error **errp)
{
    return cl_run_interrupted && !cl_error_set(errp, CL_ERR_INTERRUPTED, "interrupted");
}

bool cl_run_opts_check(const cl_run_opts *opts, cl_error **errp)
{
    if (opts->accel && strcmp(opts->accel, "auto") && strcmp(opts->accel, "kvm") && strcmp(opts->accel, "tcg"))
        return cl_error_set(errp, CL_ERR_INVAL, "--accel '%s' is not one of auto, kvm, tcg", opts->accel);
    if (opts->dump_format) {
        bool known = false;
        for (int i = 0; i < CL_DUMPFMT_LAST; i++)
            known |= !strcmp(opts->dump_format, cl_dump_format_to_string((cl_dump_format)i));
        char names[128];
        if (!known)
            return cl_error_set(errp, CL_ERR_INVAL, "--dump-format '%s' is not one of %s", opts->dump_format,
                                cl_dump_format_list(names, sizeof(names)));
    }
    /* The run id becomes a directory name, the domain's metadata and a kernel parameter. */
    if (opts->run_id && !cl_name_check("--run-id", opts->run_id, errp))
        return false;
    if (opts->results_dir && !*opts->results_dir)
        return cl_error_set(errp, CL_ERR_INVAL, "--results is empty");
    if (opts->state_dir && !*opts->state_dir)
        return cl_error_set(errp, CL_ERR_INVAL, "--state is empty");
    return true;
}

int cl_run_execute(const cl_run_opts *opts, json_object **result)
{
    cl_run_ctx ctx = { .opts = opts };
    cl_run_ctx *c = &ctx;
    c->t0 = c->phase_t0 = cl_now();
    CL_AUTOPTR(cl_error) err = NULL;

    /* Validate everything before the first libvirt call, and the options before the scenario. */
    if (!cl_run_opts_check(opts, &err)) {
        fprintf(stderr, "crashlab run: %s\n", err->msg);
        return 2;
    }
    c->s = cl_scenario_load(opts->scenario_path, &err);
    if (!c->s) {
        fprintf(stderr, "%s\n", err->msg);
        return 2;
    }
    if (opts->dump_format) {
        for (int i = 0; i < CL_DUMPFMT_LAST; i++)
            if (!strcmp(opts->dump_format, cl_dump_format_to_string((cl_dump_format)i)))
                c->s->dump_format = (cl_dump_format)i;
    }
    if (opts->image) {
        free(c->s->image);
        c->s->image = strdup(opts->image);
    }
    if (!cl_scenario_check_files(c->s, CL_AGENT_MAX_UPLOAD, &err)) {
        fprintf(stderr, "crashlab run: %s\n", err->msg);
        cl_scenario_free(c->s);
        return 2;
    }
    CL_AUTOFREE char *state = cl_run_state_dir(opts->state_dir);
    snprintf(c->state_dir, sizeof(c->state_dir), "%s", state ? state : "/tmp/crashlab");
    if (c->state_dir[0] != '/') {
        /* libvirt's embedded root must be an absolute path. */
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof(cwd))) {
            char abs[PATH_MAX * 2 + 2];
            snprintf(abs, sizeof(abs), "%s/%s", cwd, c->state_dir);
            snprintf(c->state_dir, sizeof(c->state_dir), "%s", abs);
        }
    }
    c->remote = !cl_virt_uri_is_local(opts->uri);
    if (c->remote && c->s->dump_format != CL_DUMPFMT_NONE && !opts->print_xml && (!opts->dump_pool || !*opts->dump_pool)) {
        fprintf(stderr, "crashlab run: '%s' is a remote host: its dump is written into a storage pool there and brought home; name it with --dump-pool (or use --dump-format none)\n",
                opts->uri);
        cl_scenario_free(c->s);
        return 2;
    }
    const char *gd = opts->guest_dir ? opts->guest_dir : getenv("CRASHLAB_GUEST");
    /* A remote host's guest directory is a path there: never resolved here. */
    if (c->remote && gd)
        snprintf(c->guest_dir, sizeof(c->guest_dir), "%s", gd);
    else if (!realpath(gd ? gd : "build/guest", c->guest_dir))
        snprintf(c->guest_dir, sizeof(c->guest_dir), "%s", gd ? gd : "build/guest");
    make_run_id(c);
    char kernel[PATH_MAX] = "", initrd[PATH_MAX] = "";
    if (!opts->print_xml && !check_state_dir(c, &err)) {
        fprintf(stderr, "crashlab run: %s\n", err->msg);
        cl_scenario_free(c->s);
        return 2;
    }
    if (c->s->profile == CL_PROFILE_LINUX && !guest_files(c, kernel, initrd, &err)) {
        fprintf(stderr, "crashlab run: %s\n", err->msg);
        cl_scenario_free(c->s);
        return 2;
    }
    if (c->s->profile == CL_PROFILE_WINDOWS && !opts->print_xml && (!c->s->image || access(c->s->image, R_OK) != 0)) {
        fprintf(stderr, "crashlab run: %s: the windows profile needs a readable base image (guest.image or --image), not '%s'\n",
                opts->scenario_path, c->s->image ? c->s->image : "(none)");
        cl_scenario_free(c->s);
        return 2;
    }
    /* An image that cannot give what the scenario expects is refused before anything starts. */
    if (c->s->profile == CL_PROFILE_WINDOWS && !opts->print_xml && !opts->no_check &&
        !cl_run_image_precheck(c->s, opts->quiet, &err)) {
        fprintf(stderr, "crashlab run: %s: %s\n", opts->scenario_path, err->msg);
        cl_scenario_free(c->s);
        return 2;
    }

    const char *rdir = opts->results_dir ? opts->results_dir : "results";
    if (!opts->print_xml) {
        if (!cl_mkdir_p(rdir, CL_DIR_MODE_PASS, &err) || !realpath(rdir, c->results_dir)) {
            fprintf(stderr, "crashlab run: results directory '%s': %s\n", rdir, err ? err->msg : strerror(errno));
            cl_scenario_free(c->s);
            return 2;
        }
        snprintf(c->partial_dir, sizeof(c->partial_dir), "%s/.%s.partial", c->results_dir, c->run_id);
        snprintf(c->final_dir, sizeof(c->final_dir), "%s/%s", c->results_dir, c->run_id);
        if (mkdir(c->partial_dir, CL_DIR_MODE_PASS) < 0) {
            int e = errno;
            fprintf(stderr, "crashlab run: cannot create '%s': %s\n", c->partial_dir, strerror(e));
            cl_scenario_free(c->s);
            /* A full or failing disk is the host's problem (exit 3: the daemon retries it),
             * not bad input (exit 2: closed for good). */
            return e == ENOSPC || e == EDQUOT || e == EIO || e == ENOMEM ? 3 : 2;
        }
    } else {
        /* Paths in domain XML must be absolute, also when only printed. */
        char cwd[PATH_MAX];
        if (rdir[0] == '/' || !getcwd(cwd, sizeof(cwd)))
            snprintf(c->partial_dir, sizeof(c->partial_dir), "%s/%s", rdir, c->run_id);
        else
            snprintf(c->partial_dir, sizeof(c->partial_dir), "%s/%s/%s", cwd, rdir, c->run_id);
    }
    snprintf(c->console, sizeof(c->console), "%s/console.log", c->partial_dir);
    snprintf(c->sock, sizeof(c->sock), "%s/s/%s.qga", c->state_dir, c->domname);

    c->res = json_object_new_object();
    c->timings = json_object_new_object();
    c->steps = json_object_new_array();
    c->ladder = json_object_new_array();
    c->warnings = json_object_new_array();
    c->deadline = c->t0 + c->s->t_run;
    cl_result_begin(c->res, c->run_id, c->s);

    int rc;
    CL_AUTOCLOSE state_lock = -1;
    CL_AUTOFREE char *cmdline = NULL;
    CL_AUTOFREE char *xml = NULL;
    cl_accel_choice acc = { 0 };
    char sdir[PATH_MAX + 4];
    snprintf(sdir, sizeof(sdir), "%s/s", c->state_dir);
    if (!opts->print_xml && !cl_mkdir_p(sdir, CL_DIR_MODE_PASS, &err))
        goto infra;

    if (kernel[0] && !c->remote) {
        /* The release the guest files were built for, from make guest's manifest. */
        char mpath[PATH_MAX + 16];
        snprintf(mpath, sizeof(mpath), "%s/manifest.json", c->guest_dir);
        CL_AUTOFREE char *mtext = NULL;
        json_object *m = NULL, *rel = NULL, *g = NULL;
        if (cl_file_read_all(mpath, 1u << 20, &mtext, NULL, NULL) && (m = json_tokener_parse(mtext)) &&
            json_object_object_get_ex(m, "kernel_release", &rel) && json_object_is_type(rel, json_type_string) &&
            json_object_object_get_ex(c->res, "guest", &g))
            json_object_object_add(g, "kernel_release", json_object_get(rel));
        json_object_put(m);
    }
    if (kernel[0] && !opts->print_xml && !c->remote && (!stage_guest_file(c, kernel, &err) || !stage_guest_file(c, initrd, &err)))
        goto infra;
    if (opts->print_xml) {
        /* Nothing is started, nothing is connected: the accelerator is the one asked for,
         * else KVM only if an earlier probe found it working. */
        bool kvm = opts->accel && !strcmp(opts->accel, "kvm");
        snprintf(acc.domain_type, sizeof(acc.domain_type), "%s", kvm ? "kvm" : "qemu");
        snprintf(acc.accel, sizeof(acc.accel), "%s", kvm ? "kvm" : "tcg");
        goto build_xml;
    }
    /* A signal that came before the handlers could act on it (while the scenario loaded,
     * while the lock was taken, while libvirt opened) ends the run here, recorded. */
    if (interrupted(&err) || !lock_state_dir(c, &state_lock, &err) || interrupted(&err))
        goto infra;
    /* Bounded by the run's deadline and by SIGTERM: a libvirt that never answers ends the run. */
    c->v = cl_virt_open_by(opts->uri, c->state_dir, c->deadline, &err);
    if (!c->v || interrupted(&err))
        goto infra;
    cl_run_current_virt = c->v;
    if (cl_virt_cleanup_stale(c->v, opts->quiet, NULL) > 0)
        cl_run_progress(c, "define", "cleaned up domains left behind by earlier runs");
    {
        /* The probe boots a Linux kernel; a Windows run on this host probes with the Linux
         * guest's kernel when it is built. */
        char probe[PATH_MAX];
        snprintf(probe, sizeof(probe), "%s/vmlinuz", c->guest_dir);
        const char *pk = opts->print_xml ? NULL : kernel[0] ? kernel : access(probe, R_OK) == 0 ? probe : NULL;
        if (!cl_accel_choose(c->v, opts->accel, pk, c->state_dir, 6, &acc, &err))
            goto infra;
    }
    cl_run_progress(c, "define", "accelerator %s (%s%s)", acc.accel, acc.why, acc.cached ? ", cached" : "");
    json_object_object_add(c->res, "host", host_json(c, &acc));
    {
        json_object *h = NULL;
        if (json_object_object_get_ex(c->res, "host", &h))
            cl_run_remote_host_json(c, h);
    }
    if (c->remote && !cl_run_remote_check(c, kernel, initrd, &err))
        goto infra;

build_xml:
    if (c->s->profile == CL_PROFILE_LINUX && !(cmdline = linux_cmdline(c))) {
        cl_error_set(&err, CL_ERR_NOMEM, "out of memory");
        goto infra;
    }
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    cl_domxml_opts dx = {
        .name = c->domname, .run_id = c->run_id, .owner_pid = (long)getpid(), .owner_host = host,
        .profile = c->s->profile, .memory_mb = c->s->memory_mb, .vcpus = c->s->vcpus,
        .domain_type = acc.domain_type, .kernel = kernel, .initrd = initrd, .cmdline = cmdline,
        .console_log = c->console, .agent_socket = c->sock, .smbios = &c->s->smbios,
        .firmware = c->s->firmware, .tpm = c->s->tpm, .hv_mask = cl_domxml_hv_all(),
        .disk = c->s->image, .cdrom = c->s->virtio_iso,
        .ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd", .nvram = "/dev/null",
        .panic_continue = c->s->guest_dump, .remote = c->remote,
    };
    char overlay[PATH_MAX + 16], nvram[PATH_MAX + 16];
    if (c->s->profile == CL_PROFILE_WINDOWS) {
        if (!cl_windows_prepare(c->s, c->partial_dir, !opts->print_xml, overlay, sizeof(overlay), nvram,
                                sizeof(nvram), &err))
            goto infra;
        dx.disk = overlay;
        dx.nvram = nvram;
        dx.ovmf_code = CL_OVMF_CODE;
        dx.hv_mask = cl_scenario_hv_mask(c->s, cl_windows_hv_mask(acc.domain_type, c->warnings));
        dx.cpu_model = cl_domxml_cpu_model(acc.domain_type);
        json_object *h = NULL;
        if (json_object_object_get_ex(c->res, "host", &h))
            json_object_object_add(h, "cpu_model", json_object_new_string(dx.cpu_model));
    }
    char rr_path[PATH_MAX + 16];
    if (!cl_run_record_prepare(c, &dx, rr_path, sizeof(rr_path), &err))
        goto infra;
    if (!(xml = cl_domxml_build(&dx, &err)))
        goto infra;
    if (opts->print_xml) {
        fputs(xml, stdout);
        rc = 0;
        goto out;
    }
    char xmlpath[PATH_MAX + 16];
    snprintf(xmlpath, sizeof(xmlpath), "%s/domain.xml", c->partial_dir);
    if (!cl_file_write_atomic(xmlpath, xml, strlen(xml), &err))
        goto infra;
    /* QEMU runs as its own user and writes the console into the run directory. */
    int cfd = open(c->console, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, CL_FILE_MODE);
    if (cfd >= 0)
        close(cfd);
    cl_run_phase_end(c, "define");

    unlink(c->sock);
    if (interrupted(&err))
        goto infra;
    if (opts->warm && c->remote)
        json_object_array_add(c->warnings, json_object_new_string(
            "warm: a remote host boots cold (its QEMU would need the save file on that host)"));
    if (opts->warm && c->s->profile == CL_PROFILE_LINUX && !c->remote) {
        CL_AUTOFREE char *fc = cl_scenario_fault_cmdline(c->s);
        cl_run_progress(c, "boot", "restoring %s from a warm image (%s)", c->domname, acc.accel);
        if (!cl_run_warm_start(c, &dx, fc, opts->spare, &err)) {
            if (c->dom && cl_run_wait_crash(c, cl_now() + 1) == 1) {
                cl_error_free(err);
                err = NULL;
                cl_error_set(&err, CL_ERR_GUEST, "the guest crashed right after its restore");
            }
            goto infra;
        }
        cl_run_phase_end(c, "boot");
    } else {
        cl_run_progress(c, "boot", "starting %s (%s, %u MiB, %u vCPU)", c->domname, acc.accel, c->s->memory_mb, c->s->vcpus);
        c->dom = c->remote ? cl_run_remote_start(c, xml, &err) : cl_domain_start(c->v, xml, &err);
        /* QEMU may refuse an enlightenment this host cannot give: leave it out, say so, retry. */
        for (int tries = 0; !c->dom && c->s->profile == CL_PROFILE_WINDOWS && tries < CL_HV_LAST &&
                            cl_windows_hv_refused(err->msg, &dx.hv_mask, c->warnings); tries++) {
            cl_error_free(err);
            err = NULL;
            free(xml);
            if (!(xml = cl_domxml_build(&dx, &err)))
                goto infra;
            c->dom = cl_domain_start(c->v, xml, &err);
        }
        if (!c->dom)
            goto infra;
        cl_run_phase_end(c, "boot");
        double d = cl_now() + c->s->t_boot;
        if (cl_run_record_agentless(c)) {
            /* Recorded: not even a ping, the guest must hear nothing it did not record. */
            cl_run_progress(c, "record", "no agent: the guest's init fires the fault; watching for the crash");
            c->triggered = true;
            for (size_t i = 0; i < c->s->nsteps; i++)
                if (c->s->steps[i].kind == CL_STEP_TRIGGER)
                    c->fired = c->s->steps[i].fault;
            observe(c);
            cl_run_phase_end(c, "observe");
            goto crashed;
        }
        if (!cl_agent_wait_ping(c->dom, d < c->deadline ? d : c->deadline, &err)) {
            int w = cl_run_wait_crash(c, cl_now() + 1);
            if (w == 1) {
                cl_error_free(err);
                err = NULL;
                cl_error_set(&err, CL_ERR_GUEST, "the guest crashed while booting, before its agent answered");
            }
            goto infra;
        }
    }
    cl_run_progress(c, "agent-up", "guest agent answered");
    cl_run_phase_end(c, "agent-up");

    /* What the image has decides the capture rung and whether the faults can give their
     * expected bug checks (special pool); nothing is installed in an image that cannot. */
    if (c->s->profile == CL_PROFILE_WINDOWS && !cl_run_windows_check(c)) {
        rc = finish(c, result);
        goto out;
    }
    if (cl_run_steps(c))
        observe(c);
    cl_run_phase_end(c, c->triggered ? "observe" : "steps");
crashed:
    if (cl_run_interrupted && !c->obs.crashed) {
        c->obs.infra = true;
        snprintf(c->reason, sizeof(c->reason), "interrupted");
    }
    if (c->obs.crashed && !c->crash_method[0])
        snprintf(c->crash_method, sizeof(c->crash_method), "%s", c->s->profile == CL_PROFILE_WINDOWS ? "hyperv" : "pvpanic");
    if (c->obs.crashed) {
        uint64_t hv[5];
        if (cl_run_hv_record(c, hv)) {
            c->hv_known = true;
            memcpy(c->hv, hv, sizeof(hv));
            cl_run_ladder(c, "hypervisor-record", "Hyper-V crash parameters logged with the panic");
        } else {
            cl_run_ladder(c, "hypervisor-record", c->crash_detail[0] ? c->crash_detail : "panic reported");
        }
    }
    if (c->obs.crashed && c->s->guest_dump && !c->obs.hung) {
        int got = cl_run_collect_guest_dumps(c);
        if (got < 0 && c->dom) {
            /* The guest never came back with its dump: the hypervisor's view is all there is. */
            capture(c);
        } else if (got < 0) {
            cl_run_ladder(c, "hypervisor-dump", "skipped: the domain was shut down for the offline rescue");
        } else if (got == 0) {
            cl_run_ladder(c, "hypervisor-dump", "skipped: the guest rebooted, its crash state is gone");
        } else if (!c->dump_path[0]) {
            snprintf(c->dump_path, sizeof(c->dump_path), "%s/guest-dump-0.%s", c->partial_dir,
                     c->s->profile == CL_PROFILE_WINDOWS ? "dmp" : "bin");
        }
    } else if (c->obs.crashed || c->obs.hung) {
        capture(c);
    }
    cl_run_record_icount(c);
    if (c->dump_path[0])
        record_fingerprint(c, &dx, &acc);
    if (c->dump_path[0] && c->s->profile == CL_PROFILE_WINDOWS)
        cl_run_windows_dump_truth(c);
    cl_run_phase_end(c, "capture");
    rc = finish(c, result);
    goto out;

infra:
    if (opts->print_xml) {
        fprintf(stderr, "crashlab run: %s\n", err ? err->msg : "cannot build the domain XML");
        rc = 2;
        goto out;
    }
    c->obs.infra = true;
    snprintf(c->reason, sizeof(c->reason), "%s", err ? err->msg : "host failure");
    /* A signal makes whatever was waiting fail (the agent ping, the connect): the run was
     * interrupted, and that is its reason; what failed is kept as a warning. */
    if (cl_run_interrupted && strcmp(c->reason, "interrupted")) {
        char w[sizeof(c->reason) + 32];
        snprintf(w, sizeof(w), "interrupted while: %s", c->reason);
        json_object_array_add(c->warnings, json_object_new_string(w));
        snprintf(c->reason, sizeof(c->reason), "interrupted");
    }
    rc = finish(c, result);
out:
    cl_run_current_virt = NULL;
    cl_virt_close(c->v);
    json_object_put(c->res);
    json_object_put(c->timings);
    json_object_put(c->steps);
    json_object_put(c->ladder);
    json_object_put(c->warnings);
    json_object_put(c->ground_truth);
    cl_scenario_free(c->s);
    return rc;
}
