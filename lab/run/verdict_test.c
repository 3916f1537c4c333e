#include <string.h>

#include "check.h"
#include "run/run.h"

static cl_scenario scen(cl_verdict v)
{
    cl_scenario s = { 0 };
    s.expect_verdict = v;
    s.t_observe = 30;
    return s;
}

static void test_crash_expected(void)
{
    cl_scenario s = scen(CL_VERDICT_EXPECTED_CRASH);
    s.expect_kind = "panic";
    s.expect_pattern = "not syncing: demo [0-9]+";
    char why[300];
    cl_observation o = { .crashed = true, .crash_kind = "panic", .crash_text = "Kernel panic - not syncing: demo 42\n" };
    CHECK(cl_run_decide(&s, &o, why, sizeof(why)) == CL_VERDICT_EXPECTED_CRASH);
    o.crash_text = "Kernel panic - not syncing: other\n";
    CHECK(cl_run_decide(&s, &o, why, sizeof(why)) == CL_VERDICT_UNEXPECTED_CRASH);
    CHECK(strstr(why, "does not match"));
    o.crash_text = "Kernel panic - not syncing: demo 42\n";
    o.crash_kind = "oops";
    CHECK(cl_run_decide(&s, &o, why, sizeof(why)) == CL_VERDICT_UNEXPECTED_CRASH);
    CHECK(strstr(why, "kind is 'oops'"));
}

static void test_bugcheck(void)
{
    cl_scenario s = scen(CL_VERDICT_EXPECTED_CRASH);
    s.expect_bugcheck = 0x133;
    s.expect_param_set[0] = true;
    s.expect_params[0] = 0;
    char why[300];
    cl_observation o = { .crashed = true, .bugcheck_known = true, .bugcheck = 0x133, .params = { 0, 0x501, 0x500, 0 } };
    CHECK(cl_run_decide(&s, &o, why, sizeof(why)) == CL_VERDICT_EXPECTED_CRASH);
    o.params[0] = 1;
    CHECK(cl_run_decide(&s, &o, why, sizeof(why)) == CL_VERDICT_UNEXPECTED_CRASH);
    CHECK(strstr(why, "parameter 1"));
    o.bugcheck = 0xd1;
    CHECK(cl_run_decide(&s, &o, why, sizeof(why)) == CL_VERDICT_UNEXPECTED_CRASH);
    o.bugcheck_known = false;
    CHECK(cl_run_decide(&s, &o, why, sizeof(why)) == CL_VERDICT_UNEXPECTED_CRASH);
    CHECK(strstr(why, "no bug check"));
}

static void test_other_outcomes(void)
{
    char why[300];
    cl_scenario pass = scen(CL_VERDICT_PASS);
    cl_observation none = { 0 };
    CHECK(cl_run_decide(&pass, &none, why, sizeof(why)) == CL_VERDICT_PASS);
    cl_observation crash = { .crashed = true, .crash_kind = "oops" };
    CHECK(cl_run_decide(&pass, &crash, why, sizeof(why)) == CL_VERDICT_UNEXPECTED_CRASH);
    cl_observation infra = { .infra = true, .crashed = true };
    CHECK(cl_run_decide(&pass, &infra, why, sizeof(why)) == CL_VERDICT_INFRA_ERROR);
    cl_observation failed = { .step_failed = true };
    CHECK(cl_run_decide(&pass, &failed, why, sizeof(why)) == CL_VERDICT_FAIL);
    cl_scenario want_crash = scen(CL_VERDICT_EXPECTED_CRASH);
    CHECK(cl_run_decide(&want_crash, &none, why, sizeof(why)) == CL_VERDICT_FAIL);
    CHECK(strstr(why, "expected a crash"));
    cl_scenario want_hang = scen(CL_VERDICT_HANG);
    cl_observation hung = { .hung = true };
    CHECK(cl_run_decide(&want_hang, &hung, why, sizeof(why)) == CL_VERDICT_HANG);
    cl_observation hung_nmi = { .hung = true, .crashed = true, .crash_kind = "panic" };
    CHECK(cl_run_decide(&want_hang, &hung_nmi, why, sizeof(why)) == CL_VERDICT_HANG);
    CHECK(cl_run_decide(&want_hang, &none, why, sizeof(why)) == CL_VERDICT_FAIL);
    CHECK(cl_run_decide(&pass, &hung, why, sizeof(why)) == CL_VERDICT_HANG);
}

int main(void)
{
    RUN_TEST(test_crash_expected);
    RUN_TEST(test_bugcheck);
    RUN_TEST(test_other_outcomes);
    TEST_EXIT();
}
