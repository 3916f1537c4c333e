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
    snprintf(out, outlen, "%s/slots/%s-%d", d->state, host, slot);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void save(cl_daemon *d, cl_job *j)
{
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_queue_update(d->q, j, &err))
        cl_daemon_log(d, "job %lld: %s", (long long)j->id, err->msg);
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

/* Starts one attempt of j on host/slot. The row says "running" (with the run id) before
 * the fork: a daemon that dies in between leaves a job that recovery finds by its run id. */
static bool spawn(cl_daemon *d, cl_job *j, cl_host *h, int slot)
{
    CL_AUTOPTR(cl_error) err = NULL;
    char rid[128], slotdir[PATH_MAX], logpath[PATH_MAX], scen[PATH_MAX];
    j->attempts++;
    snprintf(rid, sizeof(rid), "job-%06lld-a%d-%s", (long long)j->id, j->attempts, d->tag);
    cl_sched_slot_dir(d, h->name, slot, slotdir, sizeof(slotdir));
    cl_job_log_path(d->state, j->id, logpath, sizeof(logpath));
    if (!cl_mkdir_p(slotdir, 0711, &err) || !cl_job_scenario_path(d->state, j, scen, sizeof(scen), &err)) {
        j->attempts--;
        j->state = CL_JOB_DONE;
        free(j->verdict);
        j->verdict = strdup("infra-error");
        free(j->reason);
        j->reason = strdup(err->msg);
        j->finished = wall_now();
        save(d, j);
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
    json_object *opts = json_tokener_parse(j->options);
    free(j->run_id);
    j->run_id = strdup(rid);
    free(j->host);
    j->host = strdup(h->name);
    j->slot = slot;
    j->state = CL_JOB_RUNNING;
    j->started = wall_now();
    j->pid = 0;
    j->pid_start = 0;
    save(d, j);

    char *argv[32];
    int argc = 0;
    append_arg(argv, &argc, d->self);
    append_arg(argv, &argc, "run");
    append_arg(argv, &argc, scen);
    append_arg(argv, &argc, "--results");
    append_arg(argv, &argc, d->attempts_dir);
    append_arg(argv, &argc, "--state");
    append_arg(argv, &argc, slotdir);
    append_arg(argv, &argc, "--run-id");
    append_arg(argv, &argc, rid);
    if (h->uri) {
        append_arg(argv, &argc, "--connect");
        append_arg(argv, &argc, h->uri);
    }
    const char *guest = h->guest_dir ? h->guest_dir : cl_json_str(opts, "guest", NULL);
    if (guest) {
        append_arg(argv, &argc, "--guest");
        append_arg(argv, &argc, guest);
    }
    const char *v;
    if ((v = cl_json_str(opts, "accel", NULL))) {
        append_arg(argv, &argc, "--accel");
        append_arg(argv, &argc, v);
    }
    if ((v = cl_json_str(opts, "dump_format", NULL))) {
        append_arg(argv, &argc, "--dump-format");
        append_arg(argv, &argc, v);
    }
    /* Restore from a saved guest is the daemon's default on embedded hosts: measured at
     * 0.06x of a cold boot, and each slot's own state directory holds its own warm image.
     * A daemon URI boots cold unless asked (its QEMU reads the save file under its own
     * user). Windows runs boot cold whatever is asked (no warm path for them yet). */
    json_object *warm = cl_json_get(opts, "warm");
    bool embedded = !h->uri || strstr(h->uri, "/embed");
    append_arg(argv, &argc, warm ? (json_object_get_boolean(warm) ? "--warm" : "--cold") : embedded ? "--warm" : "--cold");

    int logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd >= 0) {
        char hdr[512];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        int n = snprintf(hdr, sizeof(hdr), "=== %04d-%02d-%02dT%02d:%02d:%02dZ attempt %d of job %lld on %s slot %d: run id %s\n",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, j->attempts,
                         (long long)j->id, h->name, slot, rid);
        if (n > 0)
            cl_serve_write_all(logfd, hdr, (size_t)n < sizeof(hdr) ? (size_t)n : sizeof(hdr) - 1);
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(3);
        sigset_t none;
        sigemptyset(&none);
    /* A remote host's dumps come home through its pool (lab/run/remote.h). */
    const char *dpool = h->dump_pool ? h->dump_pool : h->guest_pool;
    if (dpool && h->uri && !cl_virt_uri_is_local(h->uri)) {
        append_arg(argv, &argc, "--dump-pool");
        append_arg(argv, &argc, dpool);
    }
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
    if (logfd >= 0)
        close(logfd);
    json_object_put(opts);
    if (pid < 0) {
        cl_daemon_log(d, "job %lld: fork: %s", (long long)j->id, strerror(errno));
        j->state = CL_JOB_QUEUED;
        j->attempts--;
        j->not_before = wall_now() + d->backoff;
        save(d, j);
        return false;
    }
    j->pid = pid;
    j->pid_start = cl_proc_start_time(pid);
    save(d, j);
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

void cl_sched_tick(cl_daemon *d, double mono_now)
{
    (void)mono_now;
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
        if (j->not_before > now)
            continue;
        bool ever = false;
        cl_host *h = pick_host(d, j, &ever);
        if (!h) {
            if (!ever) {
                j->state = CL_JOB_DONE;
                free(j->verdict);
                j->verdict = strdup("infra-error");
                free(j->reason);
                if (asprintf(&j->reason, "no host can hold a guest of %u MiB and %u vCPUs", j->memory_mb, j->vcpus) < 0)
                    j->reason = NULL;
                j->finished = now;
                save(d, j);
                cl_daemon_log(d, "job %lld: %s", (long long)j->id, j->reason ? j->reason : "too big");
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

/* Moves a finished attempt's run directory to its final place, with job.json beside it. */
static void publish(cl_daemon *d, cl_job *j)
{
    if (!j->run_id)
        return;
    char from[PATH_MAX], to[PATH_MAX];
    snprintf(from, sizeof(from), "%s/%s", d->attempts_dir, j->run_id);
    snprintf(to, sizeof(to), "%s/%s", d->results, j->run_id);
    struct stat st;
    if (stat(from, &st) < 0 || !S_ISDIR(st.st_mode))
        return;
    free(j->result_dir);
    j->result_dir = strdup(to);
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_job_write_json(from, j, &err))
        cl_daemon_log(d, "job %lld: %s", (long long)j->id, err->msg);
    if (rename(from, to) < 0) {
        cl_daemon_log(d, "job %lld: cannot move '%s' to '%s': %s", (long long)j->id, from, to, strerror(errno));
        free(j->result_dir);
        j->result_dir = strdup(from);
    }
}

void cl_sched_settle(cl_daemon *d, cl_job *j, int exit_code)
{
    double now = wall_now();
    char rdir[PATH_MAX];
    snprintf(rdir, sizeof(rdir), "%s/%s", d->attempts_dir, j->run_id ? j->run_id : "?");
    char verdict[32] = "", expected[32] = "", reason[1024] = "";
    cl_job_read_result(rdir, verdict, sizeof(verdict), expected, sizeof(expected), reason, sizeof(reason));
    bool unknown = exit_code == CL_SCHED_EXIT_UNKNOWN;
    if (unknown)
        exit_code = !verdict[0] ? -1 : !strcmp(verdict, "infra-error") ? 3 : !strcmp(verdict, expected) ? 0 : 1;
    j->pid = 0;
    j->pid_start = 0;
    j->exit_code = exit_code;
    free(j->verdict);
    j->verdict = verdict[0] ? strdup(verdict) : NULL;

    bool infra = !verdict[0] || !strcmp(verdict, "infra-error") || exit_code == 3 || exit_code < 0;
    if (exit_code == 2 && !verdict[0]) {
        /* Bad input: another attempt would be refused the same way. */
        infra = false;
        free(j->verdict);
        j->verdict = strdup("infra-error");
        snprintf(reason, sizeof(reason), "crashlab run refused the job (exit 2): see `crashlab logs %lld`", (long long)j->id);
    }
    if (!reason[0])
        snprintf(reason, sizeof(reason), "%s", unknown || exit_code < 0 ? "the attempt's process was lost" : "no result was recorded");

    if (d->stopping && !j->cancel_requested && infra) {
        /* Our own shutdown interrupted it: not the job's fault, it keeps its attempt. */
        j->attempts--;
        j->state = CL_JOB_QUEUED;
        j->not_before = 0;
        free(j->reason);
        j->reason = strdup("interrupted by a daemon shutdown; queued again");
        save(d, j);
        return;
    }
    free(j->reason);
    if (j->cancel_requested) {
        j->state = CL_JOB_CANCELLED;
        j->reason = strdup("cancelled while running");
    } else if (infra && j->attempts < j->max_attempts) {
        double wait = d->backoff;
        for (int k = 1; k < j->attempts && wait < 86400; k++)
            wait *= 2;
        j->state = CL_JOB_QUEUED;
        j->not_before = now + wait;
        if (asprintf(&j->reason, "attempt %d: %s; retry in %.0f s", j->attempts, reason, wait) < 0)
            j->reason = NULL;
        save(d, j);
        cl_daemon_log(d, "job %lld: attempt %d was an infrastructure error (%s); retry in %.0f s", (long long)j->id,
                      j->attempts, reason, wait);
        return;
    } else if (infra) {
        j->state = CL_JOB_DONE;
        free(j->verdict);
        j->verdict = strdup("infra-error");
        if (asprintf(&j->reason, "%d attempt(s); last: %s", j->attempts, reason) < 0)
            j->reason = NULL;
    } else {
        j->state = CL_JOB_DONE;
        j->reason = strdup(reason);
    }
    j->finished = now;
    publish(d, j);
    save(d, j);
    cl_daemon_log(d, "job %lld: %s, verdict %s after %d attempt(s)", (long long)j->id, cl_job_state_to_string(j->state),
                  j->verdict ? j->verdict : "none", j->attempts);
}

void cl_sched_reap(cl_daemon *d)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        cl_daemon_child *k = kid_by_pid(d, pid);
        if (!k)
            continue;   /* a helper (domain cleanup) reaped elsewhere */
        int64_t id = k->job;
        release(d, k);
        CL_AUTOPTR(cl_error) err = NULL;
        CL_AUTOPTR(cl_job) j = cl_queue_get(d->q, id, &err);
        if (!j) {
            cl_daemon_log(d, "job %lld: %s", (long long)id, err->msg);
            continue;
        }
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (code == -1 && j->run_id && j->host) {
            /* Killed: it tore nothing down. Its domain goes now, not at the slot's next run. */
            int n = cl_recover_destroy_domains(d, j->host, j->slot, j->run_id);
            cl_daemon_log(d, "job %lld: attempt killed by signal %d; %d domain(s) of %s destroyed", (long long)id,
                          WIFSIGNALED(status) ? WTERMSIG(status) : 0, n < 0 ? 0 : n, j->run_id);
        }
        cl_sched_settle(d, j, code);
    }
}

void cl_sched_watchdog(cl_daemon *d)
{
    double now = cl_now();
    for (int i = 0; i < d->nkids; i++) {
        cl_daemon_child *k = &d->kids[i];
        if (now < k->deadline)
            continue;
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
        if (d->kids[i].job == job)
            kill(d->kids[i].pid, sig);
}
