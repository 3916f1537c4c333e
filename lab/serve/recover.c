/* recover.c - what a daemon does on start about the jobs its predecessor left running.
 *
 * A job stays "running" in the database when the daemon died (SIGKILL, power cut). Its
 * attempt's process got SIGTERM from the kernel (PR_SET_PDEATHSIG) and is tearing down, or
 * is gone. Before the job may run again: that process must be gone (never two runs of one
 * job), and its domain must be destroyed (it may hold memory and a slot's root).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_priv.h"
#include "util/fileio.h"
#include "util/proc.h"
#include "virt/domain.h"
#include "virt/virt.h"

static bool has_arg_pair(const char *buf, size_t n, const char *opt, const char *val)
{
    for (size_t i = 0; i < n;) {
        size_t l = strlen(buf + i);
        if (!strcmp(buf + i, opt) && i + l + 1 < n && !strcmp(buf + i + l + 1, val))
            return true;
        i += l + 1;
    }
    return false;
}

/* A process whose command line carries "--run-id RID --state SLOTDIR": the attempt, even
 * when the row never got its pid (the daemon died between the fork and the update). */
static pid_t find_by_run_id(const char *rid, const char *slotdir)
{
    DIR *dir = opendir("/proc");
    if (!dir)
        return 0;
    pid_t found = 0;
    struct dirent *e;
    while (!found && (e = readdir(dir))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], buf[8192];
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (has_arg_pair(buf, n, "--run-id", rid) && has_arg_pair(buf, n, "--state", slotdir))
            found = (pid_t)atol(e->d_name);
    }
    closedir(dir);
    return found;
}

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
    nanosleep(&ts, NULL);
}

/* Waits for a process that is not our child to go; TERM, then KILL after grace seconds. */
static void await_gone(pid_t pid, unsigned long long start, double grace)
{
    kill(pid, SIGTERM);
    for (double t = 0; t < grace; t += 0.2) {
        unsigned long long now = cl_proc_start_time(pid);
        if (!now || (start && now != start))
            return;
        sleep_s(0.2);
    }
    kill(pid, SIGKILL);
    for (int i = 0; i < 50 && cl_proc_start_time(pid); i++)
        sleep_s(0.1);
}

/* In a forked helper: the daemon itself never holds a connection to a slot's embedded
 * root, which the slot's next run will open. */
static int destroy_in_child(const char *uri, const char *slotdir, const char *rid)
{
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_virt) v = cl_virt_open_by(uri, slotdir, cl_now() + 50, &err);   /* the daemon gives up at 60 s */
    if (!v) {
        fprintf(stderr, "crashlab serve: recovery: %s\n", err->msg);
        return 255;
    }
    int destroyed = cl_virt_destroy_run(v, rid, "crashlab serve: recovery", &err);
    if (destroyed < 0) {
        fprintf(stderr, "crashlab serve: recovery: %s\n", err->msg);
        destroyed = 0;
    }
    /* Anything else whose owner is gone (a run killed outside the daemon) goes too. */
    int stale = cl_virt_cleanup_stale(v, false, NULL);
    if (stale > 0)
        destroyed += stale;
    return destroyed > 200 ? 200 : destroyed;
}

pid_t cl_recover_start_cleanup(cl_daemon *d, const char *hostname, int slot, const char *run_id)
{
    cl_host *h = cl_hosts_find(&d->hosts, hostname);
    if (!h) {
        cl_daemon_log(d, "recovery: run %s was on host '%s', which is no longer configured: its domain is not checked",
                      run_id, hostname);
        return -1;
    }
    char slotdir[PATH_MAX];
    cl_sched_slot_dir(d, h->name, slot, slotdir, sizeof(slotdir));
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        _exit(destroy_in_child(h->uri, slotdir, run_id));
    }
    return pid < 0 ? -1 : pid;
}

int cl_recover_destroy_domains(cl_daemon *d, const char *hostname, int slot, const char *run_id)
{
    pid_t pid = cl_recover_start_cleanup(d, hostname, slot, run_id);
    if (pid < 0)
        return -1;
    int status = 0;
    for (int i = 0; i < 1200; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) && WEXITSTATUS(status) != 255 ? WEXITSTATUS(status) : -1;
        sleep_s(0.05);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    cl_daemon_log(d, "recovery: domain cleanup for run %s on %s timed out", run_id, hostname);
    return -1;
}

bool cl_recover(cl_daemon *d, cl_error **errp)
{
    cl_job **jobs = NULL;
    size_t n = 0;
    if (!cl_queue_list(d->q, CL_JOB_RUNNING, &jobs, &n, errp))
        return false;
    for (size_t i = 0; i < n; i++) {
        cl_job *j = jobs[i];
        const char *rid = j->run_id ? j->run_id : "";
        pid_t pid = 0;
        unsigned long long start = 0;
        if (j->pid > 0 && j->pid_start && cl_proc_start_time((pid_t)j->pid) == j->pid_start) {
            pid = (pid_t)j->pid;
            start = j->pid_start;
        } else if (*rid && j->host) {
            char slotdir[PATH_MAX];
            cl_sched_slot_dir(d, j->host, j->slot, slotdir, sizeof(slotdir));
            pid = find_by_run_id(rid, slotdir);
            start = pid ? cl_proc_start_time(pid) : 0;
        }
        if (pid) {
            cl_daemon_log(d, "recovery: job %lld: run %s (pid %ld) outlived the previous daemon; waiting for it to end",
                          (long long)j->id, rid, (long)pid);
            await_gone(pid, start, 120);
        }
        if (*rid && j->host) {
            int k = cl_recover_destroy_domains(d, j->host, j->slot, rid);
            cl_daemon_log(d, "recovery: job %lld: run %s: %d stale domain(s) destroyed", (long long)j->id, rid, k < 0 ? 0 : k);
        }
        cl_sched_settle(d, j, CL_SCHED_EXIT_UNKNOWN);
    }
    cl_job_list_free(jobs, n);
    return true;
}
