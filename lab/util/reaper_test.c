/* The reaper half of a split process: exit status passed through, orphans reaped at once,
 * signals passed on. Each case runs in its own process, so this test program does not
 * itself become a subreaper. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "util/proc.h"
#include "util/reaper.h"

static void nap_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

/* 'Z' while a zombie, 0 once gone. */
static char proc_state(pid_t pid)
{
    cl_proc_stat st;
    return cl_proc_stat_read(pid, &st) ? st.state : 0;
}

/* Runs worker() behind cl_reaper_fork in a fresh process; returns that process's status. */
static int split(int (*worker)(void), int signal_after_ms)
{
    pid_t p = fork();
    if (p == 0) {
        int status;
        if (!cl_reaper_fork(&status))
            _exit(status);
        _exit(worker());
    }
    if (signal_after_ms) {
        nap_ms(signal_after_ms);
        kill(p, SIGTERM);
    }
    int st = 0;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int exits_7(void) { return 7; }

static int aborts(void)
{
    signal(SIGABRT, SIG_DFL);
    raise(SIGABRT);
    return 0;
}

/* Makes an orphan that exits at once (as a daemonized QEMU does when destroyed) and
 * reports whether it stopped being a zombie, i.e. somebody reaped it, within 2 s. */
static int orphan_is_reaped(void)
{
    int fds[2];
    if (pipe(fds) < 0)
        return 10;
    pid_t mid = fork();
    if (mid == 0) {
        pid_t g = fork();
        if (g == 0) {
            nap_ms(100); /* exits after its parent: an orphan */
            _exit(0);
        }
        if (write(fds[1], &g, sizeof(g)) != (ssize_t)sizeof(g))
            _exit(1);
        _exit(0);
    }
    pid_t g = 0;
    if (read(fds[0], &g, sizeof(g)) != (ssize_t)sizeof(g))
        return 11;
    waitpid(mid, NULL, 0);
    if (getppid() == 1)
        return 12;
    /* The orphan's parent is now the reaper, this process's parent. */
    nap_ms(20);
    cl_proc_stat st;
    if (cl_proc_stat_read(g, &st) && st.state != 'Z' && st.ppid != (long)getppid())
        return 13;
    for (int i = 0; i < 200; i++) {
        if (!proc_state(g))
            return 0;
        nap_ms(10);
    }
    return 14;
}

static int waits_for_term(void)
{
    /* Default SIGTERM action: the worker dies of it. */
    for (int i = 0; i < 500; i++)
        nap_ms(10);
    return 0;
}

static void test_status(void)
{
    CHECK(split(exits_7, 0) == 7);
    CHECK(split(aborts, 0) == 128 + SIGABRT);
}

static void test_orphans_reaped(void)
{
    int rc = split(orphan_is_reaped, 0);
    if (rc)
        printf("# orphan_is_reaped returned %d\n", rc);
    CHECK(rc == 0);
}

static void test_signal_forwarded(void)
{
    CHECK(split(waits_for_term, 200) == 128 + SIGTERM);
}

/* A long-lived orphan (as a QEMU whose domain was never destroyed), its pid written to a
 * pipe, then the worker is SIGKILLed: nothing may keep it from tearing that orphan down
 * but the reaper. */
static int leftover_fd = -1;

static int leaves_orphan_and_dies(void)
{
    pid_t mid = fork();
    if (mid == 0) {
        pid_t g = fork();
        if (g == 0) {
            for (int i = 0; i < 3000; i++)
                nap_ms(10);
            _exit(0);
        }
        if (write(leftover_fd, &g, sizeof(g)) != (ssize_t)sizeof(g))
            _exit(1);
        _exit(0);
    }
    waitpid(mid, NULL, 0);
    raise(SIGKILL);
    return 0;
}

static void test_leftovers_killed(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    leftover_fd = fds[1];
    CHECK(split(leaves_orphan_and_dies, 0) == 128 + SIGKILL);
    pid_t g = 0;
    CHECK(read(fds[0], &g, sizeof(g)) == (ssize_t)sizeof(g) && g > 0);
    /* Gone (not even a zombie) by the time the split process has returned. */
    CHECK(g > 0 && !proc_state(g));
    if (g > 0 && proc_state(g))
        kill(g, SIGKILL);
    close(fds[0]);
    close(fds[1]);
}

/* A kept orphan (the spare guest of a warm run) outlives the command, stays the reaper's
 * child, and is reaped as soon as it exits; then the reaper ends too. */
static int kept_fd = -1;

static int keeps_orphan(void)
{
    int fds[2];
    if (pipe(fds) < 0)
        return 10;
    pid_t mid = fork();
    if (mid == 0) {
        pid_t g = fork();
        if (g == 0) {
            nap_ms(600);
            _exit(0);
        }
        if (write(fds[1], &g, sizeof(g)) != (ssize_t)sizeof(g))
            _exit(1);
        _exit(0);
    }
    pid_t g = 0;
    if (read(fds[0], &g, sizeof(g)) != (ssize_t)sizeof(g))
        return 11;
    waitpid(mid, NULL, 0);
    cl_reaper_keep(g);
    if (write(kept_fd, &g, sizeof(g)) != (ssize_t)sizeof(g))
        return 12;
    return 0;
}

static void test_kept_outlives(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    kept_fd = fds[1];
    CHECK(split(keeps_orphan, 0) == 0);
    pid_t g = 0;
    CHECK(read(fds[0], &g, sizeof(g)) == (ssize_t)sizeof(g) && g > 0);
    cl_proc_stat st = { 0 };
    bool alive = g > 0 && cl_proc_stat_read(g, &st) && st.state != 'Z';
    CHECK(alive);
    /* Its parent is the lingering reaper, not init and not this test. */
    CHECK(alive && st.ppid > 1 && st.ppid != (long)getpid());
    long reaper = st.ppid;
    /* It exits 600 ms after it started; reaped at once, not left a zombie. */
    bool gone = false;
    for (int i = 0; i < 150 && !gone; i++) {
        gone = g > 0 && !proc_state(g);
        nap_ms(10);
    }
    CHECK(gone);
    /* Then the reaper has nothing left to keep and ends (a zombie of init's at worst). */
    char rs = 'R';
    for (int i = 0; i < 200 && rs && rs != 'Z'; i++) {
        rs = reaper > 1 ? proc_state((pid_t)reaper) : 0;
        nap_ms(10);
    }
    CHECK(rs == 0 || rs == 'Z');
    close(fds[0]);
    close(fds[1]);
}

int main(void)
{
    RUN_TEST(test_status);
    RUN_TEST(test_orphans_reaped);
    RUN_TEST(test_signal_forwarded);
    RUN_TEST(test_leftovers_killed);
    RUN_TEST(test_kept_outlives);
    TEST_EXIT();
}
