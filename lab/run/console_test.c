#include <stdio.h>
#include <string.h>

#include "check.h"
#include "run/console.h"

static void parse(const char *text, cl_console_report *r)
{
    cl_console_parse(text, strlen(text), r);
}

static void test_panic(void)
{
    cl_console_report r;
    parse("[    1.0] Run /init\r\ncrashlab-guest: ready\n"
          "[    7.727792] Kernel panic - not syncing: crashlab demo panic 0x2a\r\n"
          "[    7.728270] CPU: 0 PID: 116 Comm: labagent\n", &r);
    CHECK(r.found);
    CHECK_STR(r.kind, "panic");
    CHECK_STR(r.panic_message, "crashlab demo panic 0x2a");
    CHECK_STR(r.title, "Kernel panic - not syncing: crashlab demo panic ADDR");
    CHECK(!strchr(r.report, '\r'));
}

static void test_soft_lockup(void)
{
    cl_console_report r;
    parse("[   12.1] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [swapper/0:0]\n"
          "[   12.2] Modules linked in: labfault(OE)\n"
          "[   12.3] RIP: 0010:lf_spin_timer+0x1c/0x40 [labfault]\n"
          "[   12.9] Kernel panic - not syncing: softlockup: hung tasks\n", &r);
    CHECK_STR(r.kind, "soft-lockup");
    CHECK_STR(r.title, "BUG: soft lockup in lf_spin_timer");
    CHECK_STR(r.panic_message, "softlockup: hung tasks");
}

static void test_hung_task_and_oops(void)
{
    cl_console_report r;
    parse("[ 30.0] INFO: task labagent:117 blocked for more than 5 seconds.\r\n"
          "[ 30.1] Call Trace:\r\n"
          "[ 30.1]  <TASK>\r\n"
          "[ 30.2]  __schedule+0x34d/0x9e0\r\n"
          "[ 30.2]  lf_hang_wait+0x52/0x90 [labfault]\r\n"
          "[ 30.5] Kernel panic - not syncing: hung_task: blocked tasks\r\n", &r);
    CHECK_STR(r.kind, "hung-task");
    CHECK_STR(r.title, "INFO: task hung in lf_hang_wait");
    CHECK(!strncmp(r.report, "[ 30.0] INFO: task labagent:117 blocked", 39));
    parse("[ 3.0] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
          "[ 3.1] Oops: 0002 [#1] PREEMPT SMP NOPTI\n"
          "[ 3.2] RIP: 0010:lf_null_deref+0x11/0x20 [labfault]\n"
          "[ 3.5] Kernel panic - not syncing: Fatal exception\n", &r);
    CHECK_STR(r.kind, "oops");
    CHECK_STR(r.title, "BUG: kernel NULL pointer dereference in lf_null_deref");
    CHECK_STR(r.panic_message, "Fatal exception");
}

/* The kinds scenarios expect, from the report lines the 6.1 guest prints. */
static void test_kinds(void)
{
    static const struct {
        const char *line, *kind;
    } cases[] = {
        { "BUG kmalloc-64 (Tainted: G           OE     ): Object already free", "slab-corruption" },
        { "BUG kmalloc-128 (Tainted: G           OE     ): Right Redzone overwritten", "slab-corruption" },
        { "BUG: TASK stack guard page was hit at 00000000a6f7b1c4 (stack is 0000000049c1ab5e..00000000f1b9f08c)", "stack-overflow" },
        { "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [labagent:117]", "soft-lockup" },
        { "NMI watchdog: Watchdog detected hard LOCKUP on cpu 1", "hard-lockup" },
        { "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", "rcu-stall" },
        { "BUG: scheduling while atomic: labagent/117/0x00000002", "bug" },
        { "kernel BUG at mm/slub.c:379!", "bug" },
        { "WARNING: CPU: 0 PID: 117 at drivers/labfault.c:40 lf_warn+0x10/0x20 [labfault]", "warning" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[300];
        snprintf(text, sizeof(text), "[ 5.0] %s\n[ 5.9] Kernel panic - not syncing: Fatal exception\n", cases[i].line);
        cl_console_report r;
        parse(text, &r);
        if (!r.found || strcmp(r.kind, cases[i].kind))
            printf("# %s -> %s\n", cases[i].line, r.kind);
        CHECK(r.found && !strcmp(r.kind, cases[i].kind));
    }
}

/* A NUL in the console (the guest wrote it) does not hide the report after it. */
static void test_nul(void)
{
    const char text[] = "[ 1.0] junk\0more junk\n[ 2.0] Kernel panic - not syncing: after a NUL\n";
    cl_console_report r;
    cl_console_parse(text, sizeof(text) - 1, &r);
    CHECK(r.found);
    CHECK_STR(r.panic_message, "after a NUL");
}

static void test_ground_truth(void)
{
    cl_console_report r;
    parse("[ 2.0] labfault: ground-truth {\"fault\":\"x\",\"task\":\"0xffff\"}\n"
          "[ 2.1] labfault: ground-truth {\"fault\":\"y\"}\n", &r);
    CHECK_STR(r.ground_truth, "{\"fault\":\"y\"}");
    CHECK(!r.found);
}

static void test_hostile(void)
{
    cl_console_report r;
    char junk[9000];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 131 + 7);
    cl_console_parse(junk, sizeof(junk), &r);
    CHECK(strlen(r.report) < sizeof(r.report));
    char big[10000];
    memset(big, 'A', sizeof(big));
    memcpy(big, "Kernel panic - not syncing: ", 28);
    cl_console_parse(big, sizeof(big), &r);
    CHECK(r.found && strlen(r.panic_message) < sizeof(r.panic_message));
    CHECK(strlen(r.title) <= 120);
    cl_console_parse(NULL, 0, &r);
    CHECK(!r.found);
}

int main(void)
{
    RUN_TEST(test_panic);
    RUN_TEST(test_soft_lockup);
    RUN_TEST(test_hung_task_and_oops);
    RUN_TEST(test_kinds);
    RUN_TEST(test_nul);
    RUN_TEST(test_ground_truth);
    RUN_TEST(test_hostile);
    TEST_EXIT();
}
