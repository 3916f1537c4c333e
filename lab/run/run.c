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
            /* Cut on purpose: the detail is a short libvirt reason word. */
            snprintf(c->crash_detail, sizeof(c->crash_detail), "stopped:%.23s", ev.detail_str);
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

bool cl_run_input_sha256(cl_run_ctx *c, const char *path, char hex[65], cl_error **errp)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot stat '%s'", path);
    char dir[PATH_MAX], memo[PATH_MAX];
    /* Not ctime: libvirt chowns the kernel and initrd to QEMU's user and back on every run. */
    if (!cl_path_fmt(dir, sizeof(dir), errp, "%s/guest-cache/sums", c->state_dir) ||
        !cl_path_fmt(memo, sizeof(memo), errp, "%s/%llx-%llx-%llx-%lld.%09ld", dir, (unsigned long long)st.st_dev,
                     (unsigned long long)st.st_ino, (unsigned long long)st.st_size, (long long)st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec))
        return false;
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
    char dir[PATH_MAX], dst[PATH_MAX];
    if (!cl_path_fmt(dir, sizeof(dir), errp, "%s/guest-cache", c->state_dir) || !cl_mkdir_p(dir, CL_DIR_MODE_PASS, errp) ||
        !cl_path_fmt(dst, sizeof(dst), errp, "%s/%.32s-%s", dir, hex, strrchr(path, '/') + 1))
        return false;
    if (access(dst, R_OK) != 0) {
        CL_AUTOFREE char *data = NULL;
        size_t len = 0;
        if (!cl_file_read_all(path, 1u << 30, &data, &len, errp) || !cl_file_write_atomic(dst, data, len, errp))
            return false;
        chmod(dst, 0444);
    }
    return cl_path_fmt(path, PATH_MAX, errp, "%s", dst);
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
        char png[PATH_MAX];
        cl_path_fmt(png, sizeof(png), NULL, "%s/screenshot.png", c->partial_dir); /* fits: cl_run_open_dirs */
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
    cl_path_fmt(c->dump_path, sizeof(c->dump_path), NULL, "%s/dump.%s", c->partial_dir, ext); /* fits: cl_run_open_dirs */
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
        /* The reason has room for a cut error message, not for a whole one. */
        snprintf(c->reason, sizeof(c->reason), "the crash was seen but its dump was lost%s: %.900s",
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

/* The crash's title and panic message: the dump's, else the console's. */
static const char *crash_title(const cl_run_ctx *c, const cl_console_report *cr)
{
    return c->dump_crash.title[0] ? c->dump_crash.title : cr->found ? cr->title : "lost connection to guest";
}

static const char *crash_panic(const cl_run_ctx *c, const cl_console_report *cr)
{
    return c->dump_crash.panic_message[0] ? c->dump_crash.panic_message : cr->panic_message;
}

/* Fills result.crash from the dump (when there is one) and the console. */
static void describe_crash(cl_run_ctx *c, const cl_console_report *cr)
{
    json_object *crash = NULL;
    c->described = true;
    if (c->dump_path[0]) {
        CL_AUTOPTR(cl_error) err = NULL;
        int rc = cl_dump_inspect_crash(c->dump_path, &crash, &c->dump_crash, &err);
        if (rc == CL_DUMP_NOT_A_DUMP || !crash) {
            crash = json_object_new_object();
            json_object_object_add(crash, "dump_error", json_object_new_string(err ? err->msg : "unreadable"));
        }
    }
    if (!crash)
        crash = json_object_new_object();
    json_object_object_add(crash, "detected_by", json_object_new_string(c->crash_detail[0] ? c->crash_detail : "none"));
    if (cr->found) {
        json_object_object_add(crash, "kind", json_object_new_string(cr->kind));
        json_object_object_add(crash, "console_title", json_object_new_string(cr->title));
        json_object_object_add(crash, "console_report", json_object_new_string(cr->report));
    }
    json_object_object_add(crash, "panic_message", json_object_new_string(crash_panic(c, cr)));
    if (!c->dump_crash.title[0])   /* else the inspect object already holds the dump's */
        json_object_object_add(crash, "title", json_object_new_string(crash_title(c, cr)));
    json_object_object_add(c->res, "crash", crash);
}

/* What the scenario's pattern is matched against: the title, panic message and console
 * report that result.crash shows, in that order; the dump's bug check goes into the
 * observation. */
static void crash_text(cl_run_ctx *c, const cl_console_report *cr, char *text, size_t len)
{
    const cl_dump_crash *d = &c->dump_crash;
    int n = snprintf(text, len, "%s\n%s\n", crash_title(c, cr), crash_panic(c, cr));
    if (cr->found && n >= 0 && (size_t)n < len)
        snprintf(text + n, len - (size_t)n, "%s\n%s\n", cr->title, cr->report);
    if (d->bugcheck_known) {
        c->obs.bugcheck = d->bugcheck;
        c->obs.bugcheck_known = true;
        memcpy(c->obs.params, d->params, sizeof(c->obs.params));
    }
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

    /* What the verdict is matched against: the typed crash, not result.json read back. */
    char text[8192] = "";
    if (c->described)
        crash_text(c, &cr, text, sizeof(text));
    /* The hypervisor's record, the dump's header and the expectation must tell the same
     * story; the rules and their order are cl_run_judge's (verdict.c). */
    c->obs.run_reason = c->reason;
    c->obs.crash_kind = cr.found ? cr.kind : NULL;
    c->obs.crash_text = text;
    cl_judgement j;
    cl_run_judge(c->s, &c->obs, &j);
    cl_verdict verdict = j.verdict;
    const char *reason = j.reason;
    if (j.crosschecked || j.nmismatch > 0) {
        json_object *x = json_object_new_object(), *mism = json_object_new_array();
        for (int i = 0; i < j.nmismatch; i++)
            json_object_array_add(mism, json_object_new_string(j.mismatch[i]));
        json_object_object_add(x, "agree", json_object_new_boolean(j.nmismatch == 0));
        json_object_object_add(x, "mismatches", mism);
        json_object_object_add(c->res, "crosscheck", x);
    }
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


/* What the domain is built from: the XML options and the buffers they point into. */
typedef struct {
    cl_domxml_opts dx;
    cl_accel_choice acc;
    char host[256];
    char overlay[PATH_MAX + 16], nvram[PATH_MAX + 16], rr_path[PATH_MAX + 16];
    char *cmdline;
    char *xml;
} run_domain;

/* The release the guest files were built for, from make guest's manifest. */
static void record_guest_release(cl_run_ctx *c)
{
    char mpath[PATH_MAX];
    CL_AUTOFREE char *mtext = NULL;
    json_object *m = NULL, *rel = NULL, *g = NULL;
    if (cl_path_fmt(mpath, sizeof(mpath), NULL, "%s/manifest.json", c->guest_dir) &&
        cl_file_read_all(mpath, 1u << 20, &mtext, NULL, NULL) && (m = json_tokener_parse(mtext)) &&
        json_object_object_get_ex(m, "kernel_release", &rel) && json_object_is_type(rel, json_type_string) &&
        json_object_object_get_ex(c->res, "guest", &g))
        json_object_object_add(g, "kernel_release", json_object_get(rel));
    json_object_put(m);
}

/* Takes the state directory, opens the host and chooses the accelerator. */
static bool connect_host(cl_run_ctx *c, run_domain *d, int *lock, cl_error **errp)
{
    char sdir[PATH_MAX];
    if (!cl_path_fmt(sdir, sizeof(sdir), errp, "%s/s", c->state_dir) || !cl_mkdir_p(sdir, CL_DIR_MODE_PASS, errp))
        return false;
    if (c->kernel[0] && !c->remote && (!stage_guest_file(c, c->kernel, errp) || !stage_guest_file(c, c->initrd, errp)))
        return false;
    /* A signal that came before the handlers could act on it (while the scenario loaded,
     * while the lock was taken, while libvirt opened) ends the run here, recorded. */
    if (interrupted(errp) || !lock_state_dir(c, lock, errp) || interrupted(errp))
        return false;
    /* Bounded by the run's deadline and by SIGTERM: a libvirt that never answers ends the run. */
    c->v = cl_virt_open_by(c->opts->uri, c->state_dir, c->deadline, errp);
    if (!c->v || interrupted(errp))
        return false;
    cl_run_current_virt = c->v;
    if (cl_virt_cleanup_stale(c->v, c->opts->quiet, NULL) > 0)
        cl_run_progress(c, "define", "cleaned up domains left behind by earlier runs");
    /* The probe boots a Linux kernel; a Windows run on this host probes with the Linux
     * guest's kernel when it is built. */
    char probe[PATH_MAX];
    const char *pk = c->kernel[0] ? c->kernel
                     : cl_path_fmt(probe, sizeof(probe), NULL, "%s/vmlinuz", c->guest_dir) && access(probe, R_OK) == 0 ? probe
                                                                                                                      : NULL;
    if (!cl_accel_choose(c->v, c->opts->accel, pk, c->state_dir, 6, &d->acc, errp))
        return false;
    cl_run_progress(c, "define", "accelerator %s (%s%s)", d->acc.accel, d->acc.why, d->acc.cached ? ", cached" : "");
    json_object *h = host_json(c, &d->acc);
    json_object_object_add(c->res, "host", h);
    cl_run_remote_host_json(c, h);
    return !c->remote || cl_run_remote_check(c, c->kernel, c->initrd, errp);
}

/* The domain XML for this run (also what --print-xml prints). */
static bool build_xml(cl_run_ctx *c, run_domain *d, cl_error **errp)
{
    if (c->s->profile == CL_PROFILE_LINUX && !(d->cmdline = linux_cmdline(c)))
        return cl_error_set(errp, CL_ERR_NOMEM, "out of memory");
    gethostname(d->host, sizeof(d->host) - 1);
    d->dx = (cl_domxml_opts){
        .name = c->domname, .run_id = c->run_id, .owner_pid = (long)getpid(), .owner_host = d->host,
        .profile = c->s->profile, .memory_mb = c->s->memory_mb, .vcpus = c->s->vcpus,
        .domain_type = d->acc.domain_type, .kernel = c->kernel, .initrd = c->initrd, .cmdline = d->cmdline,
        .console_log = c->console, .agent_socket = c->sock, .smbios = &c->s->smbios,
        .firmware = c->s->firmware, .tpm = c->s->tpm, .hv_mask = cl_domxml_hv_all(),
        .disk = c->s->image, .cdrom = c->s->virtio_iso,
        .ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd", .nvram = "/dev/null",
        .panic_continue = c->s->guest_dump, .remote = c->remote,
    };
    if (c->s->profile == CL_PROFILE_WINDOWS) {
        if (!cl_windows_prepare(c->s, c->partial_dir, !c->opts->print_xml, d->overlay, sizeof(d->overlay), d->nvram,
                                sizeof(d->nvram), errp))
            return false;
        d->dx.disk = d->overlay;
        d->dx.nvram = d->nvram;
        d->dx.ovmf_code = CL_OVMF_CODE;
        d->dx.hv_mask = cl_scenario_hv_mask(c->s, cl_windows_hv_mask(d->acc.domain_type, c->warnings));
        d->dx.cpu_model = cl_domxml_cpu_model(d->acc.domain_type);
        json_object *h = NULL;
        if (json_object_object_get_ex(c->res, "host", &h))
            json_object_object_add(h, "cpu_model", json_object_new_string(d->dx.cpu_model));
    }
    return cl_run_record_prepare(c, &d->dx, d->rr_path, sizeof(d->rr_path), errp) &&
           (d->xml = cl_domxml_build(&d->dx, errp)) != NULL;
}

/* The XML kept with the result, and the console file QEMU (its own user) appends to. */
static bool define(cl_run_ctx *c, run_domain *d, cl_error **errp)
{
    char xmlpath[PATH_MAX];
    if (!cl_path_fmt(xmlpath, sizeof(xmlpath), errp, "%s/domain.xml", c->partial_dir) ||
        !cl_file_write_atomic(xmlpath, d->xml, strlen(d->xml), errp))
        return false;
    int cfd = open(c->console, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, CL_FILE_MODE);
    if (cfd >= 0)
        close(cfd);
    cl_run_phase_end(c, "define");
    unlink(c->sock);
    return !interrupted(errp);
}

enum boot_outcome { BOOT_FAILED, BOOT_AGENT_UP, BOOT_RECORDED };

/* Warm (restored from a saved guest) or cold, until the agent answers; a recorded run
 * has no agent and is watched for its crash instead. */
static enum boot_outcome boot(cl_run_ctx *c, run_domain *d, cl_error **errp)
{
    const cl_run_opts *opts = c->opts;
    if (opts->warm && c->remote)
        json_object_array_add(c->warnings, json_object_new_string(
            "warm: a remote host boots cold (its QEMU would need the save file on that host)"));
    if (opts->warm && c->s->profile == CL_PROFILE_LINUX && !c->remote) {
        CL_AUTOFREE char *fc = cl_scenario_fault_cmdline(c->s);
        cl_run_progress(c, "boot", "restoring %s from a warm image (%s)", c->domname, d->acc.accel);
        if (!cl_run_warm_start(c, &d->dx, fc, opts->spare, errp)) {
            if (c->dom && cl_run_wait_crash(c, cl_now() + 1) == 1) {
                cl_error_free(*errp);
                *errp = NULL;
                cl_error_set(errp, CL_ERR_GUEST, "the guest crashed right after its restore");
            }
            return BOOT_FAILED;
        }
        cl_run_phase_end(c, "boot");
        return BOOT_AGENT_UP;
    }
    cl_run_progress(c, "boot", "starting %s (%s, %u MiB, %u vCPU)", c->domname, d->acc.accel, c->s->memory_mb, c->s->vcpus);
    c->dom = c->remote ? cl_run_remote_start(c, d->xml, errp) : cl_domain_start(c->v, d->xml, errp);
    /* QEMU may refuse an enlightenment this host cannot give: leave it out, say so, retry. */
    for (int tries = 0; !c->dom && c->s->profile == CL_PROFILE_WINDOWS && tries < CL_HV_LAST &&
                        cl_windows_hv_refused((*errp)->msg, &d->dx.hv_mask, c->warnings); tries++) {
        cl_error_free(*errp);
        *errp = NULL;
        free(d->xml);
        if (!(d->xml = cl_domxml_build(&d->dx, errp)))
            return BOOT_FAILED;
        c->dom = cl_domain_start(c->v, d->xml, errp);
    }
    if (!c->dom)
        return BOOT_FAILED;
    cl_run_phase_end(c, "boot");
    if (cl_run_record_agentless(c)) {
        /* Recorded: not even a ping, the guest must hear nothing it did not record. */
        cl_run_progress(c, "record", "no agent: the guest's init fires the fault; watching for the crash");
        c->triggered = true;
        for (size_t i = 0; i < c->s->nsteps; i++)
            if (c->s->steps[i].kind == CL_STEP_TRIGGER)
                c->fired = c->s->steps[i].fault;
        return BOOT_RECORDED;
    }
    double dl = cl_now() + c->s->t_boot;
    if (!cl_agent_wait_ping(c->dom, dl < c->deadline ? dl : c->deadline, errp)) {
        if (cl_run_wait_crash(c, cl_now() + 1) == 1) {
            cl_error_free(*errp);
            *errp = NULL;
            cl_error_set(errp, CL_ERR_GUEST, "the guest crashed while booting, before its agent answered");
        }
        return BOOT_FAILED;
    }
    return BOOT_AGENT_UP;
}

/* After the steps and the watch: the hypervisor's record, the dumps (the guest's own
 * when the scenario asks for them, else the hypervisor's), the fingerprint. */
static void gather(cl_run_ctx *c, run_domain *d)
{
    if (cl_run_interrupted && !c->obs.crashed) {
        c->obs.infra = true;
        snprintf(c->reason, sizeof(c->reason), "interrupted");
    }
    if (c->obs.crashed && !c->crash_method[0])
        snprintf(c->crash_method, sizeof(c->crash_method), "%s", c->s->profile == CL_PROFILE_WINDOWS ? "hyperv" : "pvpanic");
    if (c->obs.crashed) {
        if ((c->obs.hv_known = cl_run_hv_record(c, c->obs.hv))) {
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
            /* fits: cl_run_open_dirs */
            cl_path_fmt(c->dump_path, sizeof(c->dump_path), NULL, "%s/guest-dump-0.%s", c->partial_dir,
                        c->s->profile == CL_PROFILE_WINDOWS ? "dmp" : "bin");
        }
    } else if (c->obs.crashed || c->obs.hung) {
        capture(c);
    }
    cl_run_record_icount(c);
    if (c->dump_path[0])
        record_fingerprint(c, &d->dx, &d->acc);
    if (c->dump_path[0] && c->s->profile == CL_PROFILE_WINDOWS)
        cl_run_windows_dump_truth(c);
    cl_run_phase_end(c, "capture");
}

/* A run that could not go on: the host's failure (or the signal that stopped it),
 * recorded with its reason like any other result. */
static int fail_infra(cl_run_ctx *c, const cl_error *err, json_object **result)
{
    c->obs.infra = true;
    snprintf(c->reason, sizeof(c->reason), "%s", err ? err->msg : "host failure");
    /* A signal makes whatever was waiting fail (the agent ping, the connect): the run was
     * interrupted, and that is its reason; what failed is kept as a warning. */
    if (cl_run_interrupted && strcmp(c->reason, "interrupted")) {
        CL_AUTOFREE char *w = NULL;
        if (asprintf(&w, "interrupted while: %s", c->reason) >= 0)
            json_object_array_add(c->warnings, json_object_new_string(w));
        snprintf(c->reason, sizeof(c->reason), "interrupted");
    }
    return finish(c, result);
}

/* --print-xml: the plan's XML, nothing started and nothing connected; the accelerator is
 * the one asked for (KVM only when asked). */
static int print_xml(cl_run_ctx *c, run_domain *d)
{
    CL_AUTOPTR(cl_error) err = NULL;
    bool kvm = c->opts->accel && !strcmp(c->opts->accel, "kvm");
    snprintf(d->acc.domain_type, sizeof(d->acc.domain_type), "%s", kvm ? "kvm" : "qemu");
    snprintf(d->acc.accel, sizeof(d->acc.accel), "%s", kvm ? "kvm" : "tcg");
    if (!build_xml(c, d, &err)) {
        fprintf(stderr, "crashlab run: %s\n", err ? err->msg : "cannot build the domain XML");
        return 2;
    }
    fputs(d->xml, stdout);
    return 0;
}

static void run_free(cl_run_ctx *c, run_domain *d)
{
    cl_run_current_virt = NULL;
    cl_virt_close(c->v);
    json_object_put(c->res);
    json_object_put(c->timings);
    json_object_put(c->steps);
    json_object_put(c->ladder);
    json_object_put(c->warnings);
    json_object_put(c->ground_truth);
    cl_scenario_free(c->s);
    free(d->cmdline);
    free(d->xml);
}

/* plan -> (print the XML) -> directories -> connect -> define -> boot -> steps -> observe
 * -> gather -> finish; each phase that fails makes the run an infrastructure error with
 * that phase's reason. */
int cl_run_execute(const cl_run_opts *opts, json_object **result)
{
    cl_run_ctx ctx = { .opts = opts };
    cl_run_ctx *c = &ctx;
    run_domain dom = { 0 };
    run_domain *d = &dom;
    c->t0 = c->phase_t0 = cl_now();
    CL_AUTOPTR(cl_error) err = NULL;

    int rc = cl_run_plan(c, &err);
    if (rc == 0 && !opts->print_xml)
        rc = cl_run_open_dirs(c, &err);
    if (rc != 0) {
        fprintf(stderr, "%s\n", err ? err->msg : "crashlab run: cannot plan the run");
        cl_scenario_free(c->s);
        return rc;
    }
    c->res = json_object_new_object();
    c->timings = json_object_new_object();
    c->steps = json_object_new_array();
    c->ladder = json_object_new_array();
    c->warnings = json_object_new_array();
    c->deadline = c->t0 + c->s->t_run;
    cl_result_begin(c->res, c->run_id, c->s);
    if (c->kernel[0] && !c->remote)
        record_guest_release(c);
    if (opts->print_xml) {
        rc = print_xml(c, d);
        run_free(c, d);
        return rc;
    }

    CL_AUTOCLOSE state_lock = -1;
    enum boot_outcome booted = BOOT_FAILED;
    if (!connect_host(c, d, &state_lock, &err) || !build_xml(c, d, &err) || !define(c, d, &err) ||
        (booted = boot(c, d, &err)) == BOOT_FAILED) {
        rc = fail_infra(c, err, result);
        run_free(c, d);
        return rc;
    }
    if (booted == BOOT_RECORDED) {
        observe(c);
        cl_run_phase_end(c, "observe");
    } else {
        cl_run_progress(c, "agent-up", "guest agent answered");
        cl_run_phase_end(c, "agent-up");
        /* What the image has decides the capture rung and whether the faults can give their
         * expected bug checks (special pool); nothing is installed in an image that cannot. */
        if (c->s->profile == CL_PROFILE_WINDOWS && !cl_run_windows_check(c)) {
            rc = finish(c, result);
            run_free(c, d);
            return rc;
        }
        if (cl_run_steps(c))
            observe(c);
        cl_run_phase_end(c, c->triggered ? "observe" : "steps");
    }
    gather(c, d);
    rc = finish(c, result);
    run_free(c, d);
    return rc;
}
