/* reaper.c - a process split in three: the original waits for the status, the reaper reaps
 * and forwards signals, the worker works. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
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
static bool kept(const long *keep, size_t nkeep, long pid)
{
    for (size_t i = 0; i < nkeep; i++)
        if (keep[i] == pid)
            return true;
    return false;
}

static void kill_leftovers(const long *keep, size_t nkeep)
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
            if (*end || pid <= 0 || !cl_proc_stat_read((pid_t)pid, &st) || st.ppid != (long)self ||
                (st.state != 'Z' && kept(keep, nkeep, pid)))
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

static int keep_fd = -1; /* in the worker: where cl_reaper_keep writes */

void cl_reaper_keep(long pid)
{
    if (keep_fd >= 0 && pid > 0 && write(keep_fd, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
        return;
}

/* The reaper after its worker: kept processes (a spare guest for the next run) stay, and
 * it stays with them, out of the way, so that they are reaped the moment they exit; a
 * QEMU left to a slow init makes libvirt's destroy wait for the reaping. Bounded: a spare
 * nobody took in CL_REAPER_KEEP_MAX seconds is killed. */
#define CL_REAPER_KEEP_MAX (30 * 60)
static void linger(const long *keep, size_t nkeep)
{
    bool any = false;
    for (size_t i = 0; i < nkeep; i++)
        any = any || kill((pid_t)keep[i], 0) == 0;
    if (!any)
        return;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3 && null >= 0; fd++)
        dup2(null, fd);
    setsid();
    time_t until = time(NULL) + CL_REAPER_KEEP_MAX;
    for (;;) {
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p < 0 && errno == ECHILD)
            return;
        if (p > 0)
            continue;
        if (time(NULL) > until) {
            kill_leftovers(NULL, 0);
            return;
        }
        struct timespec t = { 0, 20 * 1000000L };
        nanosleep(&t, NULL);
    }
}

/* The reaper: a child subreaper that forks the worker, reaps, forwards signals, and hands
 * the worker's status to the original process through st_fd. Returns only in the worker. */
static void reaper_main(pid_t origin, int st_fd, const sigset_t *set, const sigset_t *old)
{
    /* Told when the original process dies (even of SIGKILL), and passes it on. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != origin)
        raise(SIGTERM);
    int kp[2];
    if (pipe2(kp, O_CLOEXEC) < 0)
        kp[0] = kp[1] = -1;
    /* Without it (an old kernel) orphans go to init: slower teardowns, nothing worse. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    pid_t reaper = getpid();
    pid_t worker = fork();
    if (worker == 0) {
        reaper_pid = reaper;
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        close(st_fd);
        if (kp[0] >= 0)
            close(kp[0]);
        keep_fd = kp[1];
        sigprocmask(SIG_SETMASK, old, NULL);
        if (getppid() != reaper)
            raise(SIGKILL);
        return;
    }
    if (kp[1] >= 0)
        close(kp[1]);
    int status = 1;
    for (;;) {
        if (worker < 0)
            break;
        siginfo_t si;
        int sig = sigwaitinfo(set, &si);
        if (sig < 0)
            continue;
        if (sig == SIGCHLD) {
            if (reap(worker, &status))
                break;
            continue;
        }
        if (si.si_code != SI_KERNEL)
            kill(worker, sig);
    }
    long keep[16];
    size_t nkeep = 0;
    if (kp[0] >= 0) {
        fcntl(kp[0], F_SETFL, O_NONBLOCK);
        while (nkeep < sizeof(keep) / sizeof(keep[0]) && read(kp[0], &keep[nkeep], sizeof(long)) == (ssize_t)sizeof(long))
            nkeep++;
        close(kp[0]);
    }
    kill_leftovers(keep, nkeep);
    /* The original process exits once it has the status: that is not a reason to stop. */
    prctl(PR_SET_PDEATHSIG, 0);
    if (write(st_fd, &status, sizeof(status)) != (ssize_t)sizeof(status))
        status = 1;
    close(st_fd);
    linger(keep, nkeep);
    _exit(0);
}

bool cl_reaper_fork(int *status)
{
    sigset_t set, old;
    reaper_set(&set);
    int st[2];
    if (pipe2(st, O_CLOEXEC) < 0)
        return true;
    /* Blocked before the fork so that nothing sent in between is lost. */
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t origin = getpid();
    fflush(NULL);
    pid_t r = fork();
    if (r < 0) {
        close(st[0]);
        close(st[1]);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return true;
    }
    if (r == 0) {
        close(st[0]);
        reaper_main(origin, st[1], &set, &old);
        /* Only the worker comes back here. */
        return true;
    }
    close(st[1]);
    /* The original process: waits for the status, passes signals sent to it on. */
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    *status = 1;
    for (;;) {
        struct pollfd pf[2] = { { st[0], POLLIN, 0 }, { sfd, POLLIN, 0 } };
        if (poll(pf, sfd >= 0 ? 2 : 1, -1) < 0)
            continue;
        if (pf[0].revents) {
            int v;
            ssize_t n = read(st[0], &v, sizeof(v));
            if (n == (ssize_t)sizeof(v)) {
                *status = v;
                break;
            }
            if (n == 0) {
                /* The reaper died without a word: its own end is the status. */
                int ws = 0;
                if (waitpid(r, &ws, 0) == r)
                    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 1;
                break;
            }
        }
        if (sfd >= 0 && pf[1].revents) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && si.ssi_signo != SIGCHLD &&
                si.ssi_code != SI_KERNEL)
                kill(r, (int)si.ssi_signo);
        }
    }
    /* Reaps the reaper if it has ended; one that lingers with a spare is left to init. */
    waitpid(r, NULL, WNOHANG);
    if (sfd >= 0)
        close(sfd);
    close(st[0]);
    return false;
}
