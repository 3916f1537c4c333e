#include <stdio.h>
#include <string.h>

#include "check.h"
#include "run/truth.h"
#include "util/json.h"

/* A hung-task console: ARM's line never exists (only FIRE prints), but a leftover
 * line of another state and a truncated last line must not win. */
static void test_fired_line(void)
{
    const char *log = "[ 1.0] labfault: ground-truth {\"fault\":\"hang-irp\",\"state\":\"armed\",\"pid\":\"0x70\"}\n"
                      "[ 2.0] labfault: ground-truth {\"fault\":\"hang-irp\",\"state\":\"fired\",\"task\":\"0xffff888001\","
                      "\"pid\":\"0x75\",\"cpu\":\"0x1\",\"stack\":\"0xffffc90000\",\"wait_object\":\"0xffffffffc0\","
                      "\"comm\":\"labagent\"}\r\n"
                      "[ 3.0] INFO: task labagent:117 blocked for more than 5 seconds.\n"
                      "[ 3.1] labfault: ground-truth {\"state\":\"fired\",\"pid\":\"0x1\"";
    char line[CL_TRUTH_LINE_MAX];
    CHECK(cl_truth_fired_line(log, strlen(log), line, sizeof(line)));
    char why[160] = "";
    json_object *gt = cl_truth_parse(line, "dump-log", why, sizeof(why));
    CHECK(gt != NULL);
    CHECK(cl_json_int(gt, "pid", -1) == 0x75);
    CHECK(json_object_is_type(cl_json_get(gt, "pid"), json_type_int));
    CHECK(cl_json_int(gt, "cpu", -1) == 1);
    CHECK_STR(cl_json_str(gt, "task", NULL), "0xffff888001");
    CHECK_STR(cl_json_str(gt, "comm", NULL), "labagent");
    CHECK_STR(cl_json_str(gt, "source", NULL), "dump-log");
    CHECK_STR(cl_json_str(gt, "wait_object", NULL), "0xffffffffc0");
    json_object_put(gt);
    CHECK(!cl_truth_fired_line(log, 40, line, sizeof(line)));
    CHECK(!cl_truth_fired_line("", 0, line, sizeof(line)));
}

static void test_spinlock_pids(void)
{
    char why[160];
    json_object *gt = cl_truth_parse("{\"fault\":\"spinlock-deadlock\",\"state\":\"fired\",\"pid_a\":\"0x2f\",\"pid_b\":\"0x30\","
                                     "\"thread_a\":\"0xffff1\"}",
                                     "console", why, sizeof(why));
    CHECK(gt && cl_json_int(gt, "pid_a", -1) == 47 && cl_json_int(gt, "pid_b", -1) == 48);
    CHECK_STR(cl_json_str(gt, "thread_a", NULL), "0xffff1");
    json_object_put(gt);
}

static void test_hostile(void)
{
    char why[160];
    const char *bad[] = {
        "{\"pid\":\"-1\",\"state\":\"fired\"}",           /* negative pid */
        "{\"pid\":\"0xffffffffffffffffff\"}",             /* past 64 bits */
        "{\"pid\":\"12abc\"}",                            /* junk after the number */
        "{\"task\":{\"nested\":\"x\"}}",                  /* not a flat object */
        "{\"task\":1}",                                   /* not a string */
        "[\"state\",\"fired\"]",                          /* not an object */
        "{\"task\":\"0x1\"} trailing",                    /* more than one value */
        "{\"comm\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
        "{\"task\":\"0x1\"",                              /* cut short */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        json_object *gt = cl_truth_parse(bad[i], "console", why, sizeof(why));
        if (gt)
            printf("# accepted: %s\n", bad[i]);
        CHECK(gt == NULL && why[0]);
        json_object_put(gt);
    }
    /* a line longer than the cap is never copied */
    static char big[4096];
    memset(big, 'x', sizeof(big) - 1);
    memcpy(big, "labfault: ground-truth {\"state\":\"fired\",\"a\":\"", 46);
    char line[CL_TRUTH_LINE_MAX];
    CHECK(!cl_truth_fired_line(big, strlen(big), line, sizeof(line)));
}

/* ARM's answer: the arming task's identity is dropped, the objects are kept. */
static void test_from_arm(void)
{
    json_object *arm = json_tokener_parse("{\"task\":\"0xffff1\",\"pid\":\"0x70\",\"cpu\":\"0x1\",\"stack\":\"0xffffc9\","
                                          "\"lock_a\":\"0xffffffffc1\",\"pid_a\":\"0x2f\"}");
    json_object *gt = cl_truth_from_arm(arm, false);
    CHECK(gt && !cl_json_get(gt, "task") && !cl_json_get(gt, "pid") && !cl_json_get(gt, "cpu") && !cl_json_get(gt, "stack"));
    CHECK_STR(cl_json_str(gt, "lock_a", NULL), "0xffffffffc1");
    CHECK(cl_json_int(gt, "pid_a", -1) == 47);
    CHECK_STR(cl_json_str(gt, "source", NULL), "agent-arm");
    json_object_put(gt);
    json_object_put(arm);
    CHECK(cl_truth_from_arm(NULL, false) == NULL);
}

int main(void)
{
    RUN_TEST(test_fired_line);
    RUN_TEST(test_spinlock_pids);
    RUN_TEST(test_hostile);
    RUN_TEST(test_from_arm);
    TEST_EXIT();
}
