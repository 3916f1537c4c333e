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
    parse("[ 30.0] INFO: task labagent:117 blocked for more than 5 seconds.\n"
          "[ 30.5] Kernel panic - not syncing: hung_task: blocked tasks\n", &r);
    CHECK_STR(r.kind, "hung-task");
    CHECK_STR(r.title, "INFO: task labagent blocked");
    parse("[ 3.0] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
          "[ 3.1] Oops: 0002 [#1] PREEMPT SMP NOPTI\n"
          "[ 3.5] Kernel panic - not syncing: Fatal exception\n", &r);
    CHECK_STR(r.kind, "oops");
    CHECK_STR(r.title, "BUG: kernel NULL pointer dereference, address: NUM");
    CHECK_STR(r.panic_message, "Fatal exception");
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

static void test_sanitize(void)
{
    char out[128];
    cl_title_sanitize("general protection fault in foo+0x12/0x40 at 0xffffffff81000000 [#3]", out, sizeof(out));
    CHECK_STR(out, "general protection fault in foo at ADDR [#NUM]");
    cl_title_sanitize("task kworker/0:1 blocked 120 s\x01\x7f", out, sizeof(out));
    CHECK_STR(out, "task kworker/NUM:NUM blocked NUM s");
    char longs[400];
    memset(longs, 'x', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    cl_title_sanitize(longs, out, sizeof(out));
    CHECK(strlen(out) == 120);
}

int main(void)
{
    RUN_TEST(test_panic);
    RUN_TEST(test_soft_lockup);
    RUN_TEST(test_hung_task_and_oops);
    RUN_TEST(test_ground_truth);
    RUN_TEST(test_hostile);
    RUN_TEST(test_sanitize);
    TEST_EXIT();
}
