/* verdict.c - what the run's outcome means against the scenario's expectation. The kind
 * of failure decides the verdict (STYLE.md 8): the host failing is never a finding. */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "run.h"

static bool crash_matches(const cl_scenario *s, const cl_observation *o, char *why, size_t whylen)
{
    if (s->expect_kind && (!o->crash_kind || strcmp(s->expect_kind, o->crash_kind))) {
        snprintf(why, whylen, "crash kind is '%s', expected '%s'", o->crash_kind ? o->crash_kind : "unknown",
                 s->expect_kind);
        return false;
    }
    if (s->expect_pattern && *s->expect_pattern) {
        regex_t re;
        if (regcomp(&re, s->expect_pattern, REG_EXTENDED | REG_NOSUB) != 0) {
            snprintf(why, whylen, "expect.pattern does not compile");
            return false;
        }
        bool m = o->crash_text && regexec(&re, o->crash_text, 0, NULL, 0) == 0;
        regfree(&re);
        if (!m) {
            snprintf(why, whylen, "crash report does not match /%s/", s->expect_pattern);
            return false;
        }
    }
    if (s->expect_bugcheck) {
        if (!o->bugcheck_known) {
            snprintf(why, whylen, "no bug check code was recorded, expected 0x%" PRIx32, s->expect_bugcheck);
            return false;
        }
        if (o->bugcheck != s->expect_bugcheck) {
            snprintf(why, whylen, "bug check 0x%" PRIx32 ", expected 0x%" PRIx32, o->bugcheck, s->expect_bugcheck);
            return false;
        }
        for (int i = 0; i < 4; i++) {
            if (s->expect_param_set[i] && o->params[i] != s->expect_params[i]) {
                snprintf(why, whylen, "bug check parameter %d is 0x%" PRIx64 ", expected 0x%" PRIx64, i + 1,
                         o->params[i], s->expect_params[i]);
                return false;
            }
        }
    }
    return true;
}

cl_verdict cl_run_decide(const cl_scenario *s, const cl_observation *o, char *reason, size_t reasonlen)
{
    if (o->infra)
        return CL_VERDICT_INFRA_ERROR;
    if (o->crashed) {
        char why[300] = "";
        if (s->expect_verdict == CL_VERDICT_EXPECTED_CRASH) {
            if (crash_matches(s, o, why, sizeof(why))) {
                snprintf(reason, reasonlen, "the guest crashed as expected (%s)", o->crash_kind ? o->crash_kind : "crash");
                return CL_VERDICT_EXPECTED_CRASH;
            }
            snprintf(reason, reasonlen, "the guest crashed, but not as expected: %s", why);
            return CL_VERDICT_UNEXPECTED_CRASH;
        }
        if (s->expect_verdict == CL_VERDICT_HANG && o->hung) {
            /* The hang was escalated with an NMI, which is what made it crash. */
            snprintf(reason, reasonlen, "the guest hung and was crashed with an NMI for the dump");
            return CL_VERDICT_HANG;
        }
        if (o->hung) {
            snprintf(reason, reasonlen, "the guest hung (crashed only by the lab's NMI)");
            return CL_VERDICT_HANG;
        }
        snprintf(reason, reasonlen, "the guest crashed (%s) where the scenario expected %s",
                 o->crash_kind ? o->crash_kind : "crash", cl_verdict_to_string(s->expect_verdict));
        return CL_VERDICT_UNEXPECTED_CRASH;
    }
    if (o->hung) {
        snprintf(reason, reasonlen, "the guest stopped answering and did not crash");
        return CL_VERDICT_HANG;
    }
    if (o->step_failed)
        return CL_VERDICT_FAIL;
    if (s->expect_verdict == CL_VERDICT_EXPECTED_CRASH) {
        snprintf(reason, reasonlen, "expected a crash, but none came within the observe time (%.0f s)", s->t_observe);
        return CL_VERDICT_FAIL;
    }
    if (s->expect_verdict == CL_VERDICT_HANG) {
        snprintf(reason, reasonlen, "expected a hang, but the guest kept answering");
        return CL_VERDICT_FAIL;
    }
    snprintf(reason, reasonlen, "every step succeeded and the guest did not crash");
    return CL_VERDICT_PASS;
}

static void crosscheck(cl_observation *o, cl_judgement *j)
{
    if (!o->hv_known)
        return;
    j->crosschecked = true;
    if (!o->bugcheck_known) {
        o->bugcheck = (uint32_t)o->hv[0];
        o->bugcheck_known = true;
        memcpy(o->params, o->hv + 1, sizeof(o->params));
        return;
    }
    if (o->bugcheck != (uint32_t)o->hv[0] && j->nmismatch < CL_JUDGE_MISMATCH_MAX)
        snprintf(j->mismatch[j->nmismatch++], sizeof(j->mismatch[0]),
                 "bug check 0x%" PRIx32 " in the dump, 0x%" PRIx64 " in the hypervisor record", o->bugcheck, o->hv[0]);
    for (int i = 0; i < 4 && j->nmismatch < CL_JUDGE_MISMATCH_MAX; i++)
        if (o->params[i] != o->hv[i + 1])
            snprintf(j->mismatch[j->nmismatch++], sizeof(j->mismatch[0]),
                     "parameter %d is 0x%" PRIx64 " in the dump, 0x%" PRIx64 " in the hypervisor record", i + 1,
                     o->params[i], o->hv[i + 1]);
}

void cl_run_judge(const cl_scenario *s, cl_observation *o, cl_judgement *j)
{
    memset(j, 0, sizeof(*j));
    crosscheck(o, j);
    j->verdict = cl_run_decide(s, o, j->reason, sizeof(j->reason));
    if (o->run_reason && *o->run_reason)
        snprintf(j->reason, sizeof(j->reason), "%s", o->run_reason);
    if (j->nmismatch > 0 && j->verdict != CL_VERDICT_INFRA_ERROR) {
        j->verdict = CL_VERDICT_FAIL;
        snprintf(j->reason, sizeof(j->reason), "the hypervisor record and the dump disagree: %s", j->mismatch[0]);
    }
}
