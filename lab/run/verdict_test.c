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

/* cl_run_judge: the hypervisor's record against the dump's bug check, then the rule, then
 * what overrides it; one row per rule of run.h. */
static cl_observation judged(uint32_t code, uint64_t p1, uint32_t hvcode, uint64_t hvp1)
{
    cl_observation o = { .crashed = true, .bugcheck_known = true, .bugcheck = code, .params = { p1, 0x501, 0x500, 0 },
                         .hv_known = true, .hv = { hvcode, hvp1, 0x501, 0x500, 0 } };
    return o;
}

static void test_judge(void)
{
    cl_scenario s = scen(CL_VERDICT_EXPECTED_CRASH);
    s.expect_bugcheck = 0x133;
    cl_judgement j;

    /* Both records agree: the rule's verdict, a cross-check with no mismatch. */
    cl_observation o = judged(0x133, 0, 0x133, 0);
    cl_run_judge(&s, &o, &j);
    CHECK(j.verdict == CL_VERDICT_EXPECTED_CRASH);
    CHECK(j.crosschecked && j.nmismatch == 0);

    /* The code differs: the run fails, naming both codes, though the dump's code is the one expected. */
    o = judged(0x133, 0, 0xd1, 0);
    cl_run_judge(&s, &o, &j);
    CHECK(j.verdict == CL_VERDICT_FAIL);
    CHECK(j.nmismatch == 1);
    CHECK(strstr(j.reason, "disagree") && strstr(j.reason, "0x133") && strstr(j.reason, "0xd1"));

    /* One parameter differs: named by its number. */
    o = judged(0x133, 0, 0x133, 1);
    cl_run_judge(&s, &o, &j);
    CHECK(j.verdict == CL_VERDICT_FAIL);
    CHECK(j.nmismatch == 1 && strstr(j.mismatch[0], "parameter 1"));

    /* Code and every parameter differ: at most CL_JUDGE_MISMATCH_MAX, all reported. */
    o = judged(0x133, 0, 0xd1, 7);
    o.hv[2] = o.hv[3] = o.hv[4] = 9;
    cl_run_judge(&s, &o, &j);
    CHECK(j.nmismatch == CL_JUDGE_MISMATCH_MAX);
    CHECK(strstr(j.mismatch[4], "parameter 4"));

    /* An infrastructure error stays one (the run is retried, not failed), with the run's reason. */
    o = judged(0x133, 0, 0xd1, 0);
    o.infra = true;
    o.run_reason = "the QEMU process went away while observing";
    cl_run_judge(&s, &o, &j);
    CHECK(j.verdict == CL_VERDICT_INFRA_ERROR);
    CHECK(j.nmismatch == 1);
    CHECK(strcmp(j.reason, o.run_reason) == 0);

    /* A dump without a bug check takes the record's, which is matched against the expectation. */
    o = judged(0, 0, 0x133, 0);
    o.bugcheck_known = false;
    cl_run_judge(&s, &o, &j);
    CHECK(j.verdict == CL_VERDICT_EXPECTED_CRASH && j.nmismatch == 0);
    CHECK(o.bugcheck_known && o.bugcheck == 0x133 && o.params[1] == 0x501);
    o = judged(0, 0, 0xd1, 0);
    o.bugcheck_known = false;
    cl_run_judge(&s, &o, &j);
    CHECK(j.verdict == CL_VERDICT_UNEXPECTED_CRASH && j.nmismatch == 0);

    /* The run's own reason replaces the rule's text, never its verdict. */
    o = judged(0x133, 0, 0x133, 0);
    o.run_reason = "the dump was lost: disk full";
    cl_run_judge(&s, &o, &j);
    CHECK(j.verdict == CL_VERDICT_EXPECTED_CRASH);
    CHECK(strcmp(j.reason, "the dump was lost: disk full") == 0);
    o.run_reason = "";
    cl_run_judge(&s, &o, &j);
    CHECK(strcmp(j.reason, "the dump was lost: disk full") != 0 && j.reason[0]);

    /* No hypervisor record: no cross-check at all, and the rule alone decides. */
    o = judged(0xd1, 0, 0, 0);
    o.hv_known = false;
    cl_run_judge(&s, &o, &j);
    CHECK(!j.crosschecked && j.nmismatch == 0);
    CHECK(j.verdict == CL_VERDICT_UNEXPECTED_CRASH);
}

int main(void)
{
    RUN_TEST(test_crash_expected);
    RUN_TEST(test_bugcheck);
    RUN_TEST(test_other_outcomes);
    RUN_TEST(test_judge);
    TEST_EXIT();
}
