/* reaper.c - the reaper half of a split process: reap everything, forward signals. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "reaper.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static void reaper_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
        sigaddset(set, forwarded[i]);
}

/* Reaps every exited child; true once the worker is among them. */
static bool reap(pid_t worker, int *status)
{
    bool done = false;
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p <= 0)
            return done || (p < 0 && errno == ECHILD);
        if (p == worker) {
            done = true;
            *status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
        }
    }
}

static pid_t reaper_pid;

bool cl_reaper_orphaned(void)
{
    return reaper_pid && getppid() != reaper_pid;
}

/* After the worker: every process still adopted here is something the worker started and
 * could not stop (a QEMU whose domain was never destroyed because the worker was killed).
 * Nothing of the run may outlive it, so they are killed and reaped, for at most 5 s. */
static void kill_leftovers(void)
{
    pid_t self = getpid();
    for (int round = 0; round < 50; round++) {
        bool any = false;
        DIR *d = opendir("/proc");
        struct dirent *de;
        while (d && (de = readdir(d))) {
            char *end;
            long pid = strtol(de->d_name, &end, 10);
            cl_proc_stat st;
            if (*end || pid <= 0 || !cl_proc_stat_read((pid_t)pid, &st) || st.ppid != (long)self)
                continue;
            any = true;
            if (st.state != 'Z')
                kill((pid_t)pid, SIGKILL);
        }
        if (d)
            closedir(d);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (!any)
            return;
        struct timespec t = { 0, 100 * 1000000L };
        nanosleep(&t, NULL);
    }
}

bool cl_reaper_fork(int *status)
{
    sigset_t set, old;
    reaper_set(&set);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        return true;
    /* Blocked before the fork so that nothing sent in between is lost. */
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t reaper = getpid();
    fflush(NULL);
    pid_t worker = fork();
    if (worker < 0) {
        prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return true;
    }
    if (worker == 0) {
        /* Told when the reaper dies (even of SIGKILL): SIGTERM, so that the worker destroys
         * its domain and records the run as interrupted instead of leaving QEMU running. */
        reaper_pid = reaper;
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (getppid() != reaper)
            raise(SIGKILL);
        return true;
    }
    *status = 1;
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0)
            continue;
        if (sig == SIGCHLD) {
            if (reap(worker, status))
                break;
            continue;
        }
        /* A terminal's signal went to the whole process group, the worker included; one
         * sent with kill(2) to this pid is passed on. */
        if (si.si_code != SI_KERNEL)
            kill(worker, sig);
    }
    kill_leftovers();
    return false;
}
