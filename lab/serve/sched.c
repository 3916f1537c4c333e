/* sched.c - slots, child processes and retries.
 *
 * Each attempt is a child `crashlab run` (its own process: a crash of QEMU, libvirt or the
 * run code takes one job down, never the daemon). The child dies with the daemon
 * (PR_SET_PDEATHSIG), which makes it tear its domain down and record "interrupted".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_priv.h"
#include "job_files.h"
#include "proto.h"
#include "scenario/scenario.h"
#include "util/fileio.h"
#include "util/proc.h"
#include "virt/virt.h"

void cl_sched_slot_dir(const cl_daemon *d, const char *host, int slot, char *out, size_t outlen)
{
    /* The state directory's length is checked when the daemon starts (serve's setup). */
    if (!cl_path_fmt(out, outlen, NULL, "%s/slots/%s-%d", d->state, host, slot))
        out[0] = '\0';
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A failed write (a full disk, an I/O error) is never taken as done: the caller keeps the
 * row's old state in mind, and no new attempt starts for a few seconds. */
static bool save(cl_daemon *d, cl_job *j)
{
    CL_AUTOPTR(cl_error) err = NULL;
    if (cl_queue_update(d->q, j, &err))
        return true;
    cl_daemon_log(d, "job %lld: the queue could not be written (%s); retrying in 5 s", (long long)j->id, err->msg);
    d->queue_retry_at = cl_now() + 5;
    return false;
}

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = v && v[0] ? strdup(v) : NULL;
}

static bool publish(cl_daemon *d, cl_job *j);
static bool apply(cl_daemon *d, cl_job *j, const cl_settle_in *in);

/* The one way a job ends: its state, verdict and reason, a run directory with a verdict
 * in results/ (the run's, or one the daemon records for it), then the row. The log says
 * it ended only once the row says so. */
bool cl_sched_close(cl_daemon *d, cl_job *j, cl_job_state state, const char *verdict, const char *reason)
{
    j->state = state;
    set_str(&j->verdict, verdict);
    set_str(&j->reason, reason);
    j->finished = wall_now();
    j->pid = 0;
    j->pid_start = 0;
    if (!publish(d, j)) {
        /* No run directory with a verdict yet (a full disk): the row keeps its state and
         * the job is closed again later (cl_sched_tick), never without one. */
        d->queue_retry_at = cl_now() + 5;
        return false;
    }
    if (!save(d, j))
        return false;
    cl_daemon_log(d, "job %lld: %s, verdict %s after %d attempt(s)%s%s", (long long)j->id, cl_job_state_to_string(state),
                  verdict && verdict[0] ? verdict : "none", j->attempts, reason && reason[0] ? ": " : "", reason ? reason : "");
    return true;
}

static cl_daemon_child *kid_by_pid(cl_daemon *d, pid_t pid)
{
    for (int i = 0; i < d->nkids; i++)
        if (d->kids[i].pid == pid)
            return &d->kids[i];
    return NULL;
}

static void release(cl_daemon *d, cl_daemon_child *k)
{
    if (k->host) {
        if (k->slot >= 0 && k->slot < CL_HOST_MAX_SLOTS)
            k->host->busy[k->slot] = false;
        k->host->used--;
        k->host->mem_used -= k->mem;
        k->host->vcpu_used -= k->vcpus;
    }
    *k = d->kids[--d->nkids];
}

static void append_arg(char **argv, int *argc, const char *a)
{
    argv[(*argc)++] = (char *)a;
    argv[*argc] = NULL;
}

/* The attempt's run id, host and slot on the job row (before anything is started). */
static void claim(cl_job *j, const char *rid, const cl_host *h, int slot)
{
    free(j->run_id);
    j->run_id = strdup(rid);
    free(j->host);
    j->host = strdup(h->name);
    j->slot = slot;
    j->started = wall_now();
}

/* `crashlab run` for this attempt; the strings in argv live as long as d, h, opts and the
 * caller's buffers. */
static void run_argv(const cl_daemon *d, const cl_host *h, json_object *opts, const char *scen, const char *slotdir,
                     const char *rid, char **argv, int *argc)
{
    append_arg(argv, argc, d->self);
    append_arg(argv, argc, "run");
    append_arg(argv, argc, scen);
    append_arg(argv, argc, "--results");
    append_arg(argv, argc, d->attempts_dir);
    append_arg(argv, argc, "--state");
    append_arg(argv, argc, slotdir);
    append_arg(argv, argc, "--run-id");
    append_arg(argv, argc, rid);
    if (h->uri) {
        append_arg(argv, argc, "--connect");
        append_arg(argv, argc, h->uri);
    }
    /* A remote host's dumps come home through its pool (lab/run/remote.h). */
    const char *dpool = h->dump_pool ? h->dump_pool : h->guest_pool;
    if (dpool && h->uri && !cl_virt_uri_is_local(h->uri)) {
        append_arg(argv, argc, "--dump-pool");
        append_arg(argv, argc, dpool);
    }
    const char *guest = h->guest_dir ? h->guest_dir : cl_json_str(opts, "guest", NULL);
    if (guest) {
        append_arg(argv, argc, "--guest");
        append_arg(argv, argc, guest);
    }
    const char *v;
    if ((v = cl_json_str(opts, "accel", NULL))) {
        append_arg(argv, argc, "--accel");
        append_arg(argv, argc, v);
    }
    if ((v = cl_json_str(opts, "dump_format", NULL))) {
        append_arg(argv, argc, "--dump-format");
        append_arg(argv, argc, v);
    }
    /* Restore from a saved guest is the daemon's default on embedded hosts: measured at
     * 0.06x of a cold boot, and each slot's own state directory holds its own warm image.
     * A daemon URI boots cold unless asked (its QEMU reads the save file under its own
     * user). Windows runs boot cold whatever is asked (no warm path for them yet). */
    json_object *warm = cl_json_get(opts, "warm");
    bool embedded = !h->uri || strstr(h->uri, "/embed");
    bool use_warm = warm ? json_object_get_boolean(warm) : embedded;
    /* A spare is only kept where the run's reaper can keep its QEMU: the embedded driver. */
    append_arg(argv, argc, !use_warm ? "--cold" : d->spare && embedded ? "--spare" : "--warm");
}

/* The job's log, opened for appending, with the attempt's header line; -1 if it cannot be. */
static int open_job_log(const cl_daemon *d, const cl_job *j, const cl_host *h, int slot, const char *rid)
{
    char logpath[PATH_MAX];
    cl_job_log_path(d->state, j->id, logpath, sizeof(logpath));
    int logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd < 0)
        return -1;
    char hdr[512];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = snprintf(hdr, sizeof(hdr), "=== %04d-%02d-%02dT%02d:%02d:%02dZ attempt %d of job %lld on %s slot %d: run id %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, j->attempts,
                     (long long)j->id, h->name, slot, rid);
    if (n > 0)
        cl_serve_write_all(logfd, hdr, (size_t)n < sizeof(hdr) ? (size_t)n : sizeof(hdr) - 1);
    return logfd;
}

/* The run's process: dies with the daemon, no blocked signals, stdin from /dev/null and
 * its output in the job's log. Returns the pid, or -1 (errno set). */
static pid_t fork_run(const cl_daemon *d, char **argv, int logfd)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(3);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        if (logfd >= 0) {
            dup2(logfd, 1);
            dup2(logfd, 2);
        }
        execv(d->self, argv);
        _exit(3);
    }
    return pid;
}

/* Starts one attempt of j on host/slot. The row says "running" (with the run id) before
 * the fork: a daemon that dies in between leaves a job that recovery finds by its run id. */
static bool spawn(cl_daemon *d, cl_job *j, cl_host *h, int slot)
{
    CL_AUTOPTR(cl_error) err = NULL;
    char rid[128], slotdir[PATH_MAX], scen[PATH_MAX];
    j->attempts++;
    snprintf(rid, sizeof(rid), "job-%06lld-a%d-%s", (long long)j->id, j->attempts, d->tag);
    cl_sched_slot_dir(d, h->name, slot, slotdir, sizeof(slotdir));
    if (!cl_mkdir_p(slotdir, 0711, &err) || !cl_job_scenario_path(d->state, j, scen, sizeof(scen), &err)) {
        /* Nothing started: an infrastructure error of this attempt (a full disk is retried
         * like any other), settled by the same rule as a failed run. */
        claim(j, rid, h, slot);
        cl_settle_in in = { .exit_code = 3, .verdict = "", .run_reason = err->msg, .job_id = j->id,
                            .attempt = j->attempts, .max_attempts = j->max_attempts,
                            .cancel_requested = j->cancel_requested, .backoff = d->backoff };
        apply(d, j, &in);
        return false;
    }
    /* The run enforces the scenario's timeouts itself; the daemon only catches a run that
     * is wedged beyond them (margin for preparing a warm guest and writing the dump). */
    double limit = 3600;
    {
        CL_AUTOPTR(cl_scenario) s = cl_scenario_load(scen, NULL);
        if (s)
            limit = s->t_run + d->margin;
    }
    claim(j, rid, h, slot);
    j->state = CL_JOB_RUNNING;
    j->pid = 0;
    j->pid_start = 0;
    /* Never start an attempt the queue does not know about: the same run id would start
     * again on the next tick. */
    if (!save(d, j))
        return false;

    json_object *opts = json_tokener_parse(j->options);
    char *argv[32];
    int argc = 0;
    run_argv(d, h, opts, scen, slotdir, rid, argv, &argc);
    int logfd = open_job_log(d, j, h, slot, rid);
    pid_t pid = fork_run(d, argv, logfd);
    int fork_errno = errno;
    if (logfd >= 0)
        close(logfd);
    json_object_put(opts);
    if (pid < 0) {
        cl_daemon_log(d, "job %lld: fork: %s", (long long)j->id, strerror(fork_errno));
        j->state = CL_JOB_QUEUED;
        j->attempts--;
        j->not_before = wall_now() + d->backoff;
        save(d, j);
        return false;
    }
    j->pid = pid;
    j->pid_start = cl_proc_start_time(pid);
    save(d, j);   /* if this fails, recovery finds the attempt by its run id */
    cl_daemon_child *k = &d->kids[d->nkids++];
    *k = (cl_daemon_child){ .job = j->id, .pid = pid, .host = h, .slot = slot, .mem = j->memory_mb, .vcpus = j->vcpus,
                            .deadline = cl_now() + limit };
    h->busy[slot] = true;
    h->used++;
    h->mem_used += j->memory_mb;
    h->vcpu_used += j->vcpus;
    cl_daemon_log(d, "job %lld (%s): attempt %d started on %s slot %d as %s, pid %ld", (long long)j->id, j->name,
                  j->attempts, h->name, slot, rid, (long)pid);
    return true;
}

/* The host with room for the job and the most of it left, so that work spreads out. */
static cl_host *pick_host(cl_daemon *d, const cl_job *j, bool *ever)
{
    cl_host *best = NULL;
    double best_free = -1;
    *ever = false;
    for (size_t i = 0; i < d->hosts.n; i++) {
        cl_host *h = &d->hosts.v[i];
        if (cl_host_fits_ever(h, j->memory_mb, j->vcpus))
            *ever = true;
        if (!cl_host_fits_now(h, j->memory_mb, j->vcpus))
            continue;
        double free_frac = 1.0 - (double)h->used / h->slots;
        if (free_frac > best_free) {
            best = h;
            best_free = free_frac;
        }
    }
    return best;
}

/* Rows the queue says are running but no child of ours runs: their settle could not be
 * written (a full disk), or their child was lost. Settled again from what they recorded,
 * so that no job stays "running" with a dead pid once the queue can be written again. */
static void reconcile(cl_daemon *d)
{
    cl_job **jobs = NULL;
    size_t n = 0;
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_queue_list(d->q, CL_JOB_RUNNING, &jobs, &n, &err)) {
        cl_daemon_log(d, "%s", err->msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        cl_job *j = jobs[i];
        bool ours = false;
        for (int k = 0; k < d->nkids && !ours; k++)
            ours = d->kids[k].job == j->id;
        if (ours)
            continue;
        if (j->pid > 0 && j->pid_start && cl_proc_start_time((pid_t)j->pid) == j->pid_start)
            continue;   /* alive and not ours: recovery's business at the next start */
        cl_daemon_log(d, "job %lld: the queue still said running (run %s); settling it from its result", (long long)j->id,
                      j->run_id ? j->run_id : "none");
        cl_sched_settle(d, j, CL_SCHED_EXIT_UNKNOWN);
    }
    cl_job_list_free(jobs, n);
}

void cl_sched_tick(cl_daemon *d, double mono_now)
{
    if (mono_now < d->queue_retry_at)
        return;
    if (mono_now >= d->next_reconcile) {
        d->next_reconcile = mono_now + 5;
        reconcile(d);
        if (mono_now < d->queue_retry_at)
            return;
    }
    if (d->stopping || d->nkids >= d->max_running)
        return;
    cl_job **jobs = NULL;
    size_t n = 0;
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_queue_list(d->q, CL_JOB_QUEUED, &jobs, &n, &err)) {
        cl_daemon_log(d, "%s", err->msg);
        return;
    }
    double now = wall_now();
    for (size_t i = 0; i < n && d->nkids < d->max_running && d->nkids < CL_DAEMON_MAX_RUNNING; i++) {
        cl_job *j = jobs[i];
        if (j->not_before > now || cl_now() < d->queue_retry_at)
            continue;
        bool ever = false;
        cl_host *h = pick_host(d, j, &ever);
        if (!h) {
            if (!ever) {
                char why[160];
                snprintf(why, sizeof(why), "no host can hold a guest of %u MiB and %u vCPUs", j->memory_mb, j->vcpus);
                cl_sched_close(d, j, CL_JOB_DONE, "infra-error", why);
            }
            continue;
        }
        int slot = 0;
        while (slot < h->slots && h->busy[slot])
            slot++;
        spawn(d, j, h, slot);
    }
    cl_job_list_free(jobs, n);
}

/* Moves a finished attempt's run directory to its final place, with job.json beside it.
 * An attempt that recorded nothing gets a run directory the daemon writes for it (the
 * job's verdict and reason), so that every job that ran has one. */
static bool publish(cl_daemon *d, cl_job *j)
{
    if (!j->run_id)
        return true;   /* never started (cancelled while queued, too big for every host) */
    char from[PATH_MAX], to[PATH_MAX];
    CL_AUTOPTR(cl_error) perr = NULL;
    if (!cl_path_fmt(from, sizeof(from), &perr, "%s/%s", d->attempts_dir, j->run_id) ||
        !cl_path_fmt(to, sizeof(to), &perr, "%s/%s", d->results, j->run_id)) {
        cl_daemon_log(d, "job %lld: %s", (long long)j->id, perr->msg);
        return false;
    }
    struct stat st;
    if (stat(to, &st) == 0 && S_ISDIR(st.st_mode) && stat(from, &st) < 0) {
        /* Published by an earlier settle whose queue write failed. */
        set_str(&j->result_dir, to);
        return true;
    }
    CL_AUTOPTR(cl_error) err = NULL;
    if (stat(from, &st) < 0 || !S_ISDIR(st.st_mode)) {
        if (!cl_job_write_stand_in(d->attempts_dir, j, j->verdict ? j->verdict : "infra-error",
                                   j->reason ? j->reason : "no result was recorded", &err)) {
            cl_daemon_log(d, "job %lld: cannot record a result for run %s: %s", (long long)j->id, j->run_id, err->msg);
            return false;
        }
    }
    set_str(&j->result_dir, to);
    if (!cl_job_write_json(from, j, &err)) {
        cl_daemon_log(d, "job %lld: %s", (long long)j->id, err->msg);
        return false;
    }
    if (rename(from, to) < 0) {
        cl_daemon_log(d, "job %lld: cannot move '%s' to '%s': %s", (long long)j->id, from, to, strerror(errno));
        set_str(&j->result_dir, from);
    }
    return true;
}

/* Carries out the settle decision for j. */
static bool apply(cl_daemon *d, cl_job *j, const cl_settle_in *in)
{
    cl_settle_out out;
    cl_settle_decide(in, &out);
    j->exit_code = out.exit_code;
    j->pid = 0;
    j->pid_start = 0;
    if (out.next != CL_JOB_QUEUED)
        return cl_sched_close(d, j, out.next, out.verdict, out.reason);
    if (!out.count_attempt)
        j->attempts--;
    j->state = CL_JOB_QUEUED;
    j->not_before = out.count_attempt ? wall_now() + out.delay : 0;
    set_str(&j->verdict, out.verdict);
    set_str(&j->reason, out.reason);
    if (!save(d, j))
        return false;
    if (out.count_attempt)
        cl_daemon_log(d, "job %lld: attempt %d was an infrastructure error (%s); retry in %.0f s", (long long)j->id,
                      j->attempts, out.why, out.delay);
    return true;
}

bool cl_sched_settle(cl_daemon *d, cl_job *j, int exit_code)
{
    /* The attempt's result: still among the attempts, or already published by a settle
     * whose queue write failed. */
    char rdir[PATH_MAX];
    struct stat st;
    /* A path too long reads as no result: the settle records the exit status alone. */
    if (!cl_path_fmt(rdir, sizeof(rdir), NULL, "%s/%s", d->attempts_dir, j->run_id ? j->run_id : "?") ||
        (j->run_id && stat(rdir, &st) < 0 && !cl_path_fmt(rdir, sizeof(rdir), NULL, "%s/%s", d->results, j->run_id)))
        rdir[0] = '\0';
    char verdict[32] = "", expected[32] = "", reason[1024] = "";
    if (rdir[0])
        cl_job_read_result(rdir, verdict, sizeof(verdict), expected, sizeof(expected), reason, sizeof(reason));
    cl_settle_in in = { .exit_code = exit_code, .verdict = verdict, .expected = expected, .run_reason = reason,
                        .job_id = j->id, .attempt = j->attempts, .max_attempts = j->max_attempts,
                        .cancel_requested = j->cancel_requested, .stopping = d->stopping, .backoff = d->backoff };
    return apply(d, j, &in);
}

static void settle_child(cl_daemon *d, int64_t id, int code)
{
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_job) j = cl_queue_get(d->q, id, &err);
    if (!j) {
        cl_daemon_log(d, "job %lld: %s", (long long)id, err->msg);
        return;
    }
    cl_sched_settle(d, j, code);
}

void cl_sched_reap(cl_daemon *d)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        cl_daemon_child *k = kid_by_pid(d, pid);
        if (!k)
            continue;   /* a helper reaped elsewhere */
        int64_t id = k->job;
        if (k->cleaning) {
            int n = WIFEXITED(status) && WEXITSTATUS(status) != 255 ? WEXITSTATUS(status) : -1;
            int code = k->run_code;
            cl_daemon_log(d, "job %lld: %d domain(s) of the killed attempt destroyed", (long long)id, n < 0 ? 0 : n);
            release(d, k);
            settle_child(d, id, code);
            continue;
        }
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : CL_SETTLE_EXIT_SIGNAL;
        if (code == CL_SETTLE_EXIT_SIGNAL) {
            /* Killed: it tore nothing down. Its domain goes now, not at the slot's next run,
             * in a helper the loop does not wait for; the slot stays busy until it ends. */
            CL_AUTOPTR(cl_error) err = NULL;
            CL_AUTOPTR(cl_job) j = cl_queue_get(d->q, id, &err);
            pid_t helper = j && j->run_id && j->host ? cl_recover_start_cleanup(d, j->host, j->slot, j->run_id) : -1;
            cl_daemon_log(d, "job %lld: attempt killed by signal %d%s", (long long)id, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                          helper > 0 ? "; destroying its domain" : "");
            if (helper > 0) {
                k->pid = helper;
                k->cleaning = true;
                k->run_code = code;
                k->termed = false;
                k->deadline = cl_now() + 60;
                continue;
            }
        }
        release(d, k);
        settle_child(d, id, code);
    }
}

void cl_sched_watchdog(cl_daemon *d)
{
    double now = cl_now();
    for (int i = 0; i < d->nkids; i++) {
        cl_daemon_child *k = &d->kids[i];
        if (now < k->deadline)
            continue;
        if (k->cleaning) {
            cl_daemon_log(d, "job %lld: the domain cleanup helper (pid %ld) did not end within 60 s; killing it",
                          (long long)k->job, (long)k->pid);
            kill(k->pid, SIGKILL);
            k->deadline = now + 3600;   /* reaped like any child; settled then */
            continue;
        }
        cl_daemon_log(d, "job %lld: attempt (pid %ld) is past its run timeout; %s", (long long)k->job, (long)k->pid,
                      k->termed ? "killing it" : "stopping it");
        kill(k->pid, k->termed ? SIGKILL : SIGTERM);
        k->termed = true;
        k->deadline = now + (d->margin < 60 ? d->margin : 60);
    }
}

void cl_sched_signal(cl_daemon *d, int64_t job, int sig)
{
    for (int i = 0; i < d->nkids; i++)
        if (d->kids[i].job == job && !d->kids[i].cleaning)
            kill(d->kids[i].pid, sig);
}
