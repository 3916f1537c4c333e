/* settle.c - the retry and back-off rule (settle.h). */
#include <stdio.h>
#include <string.h>

#include "settle.h"

#define MAX_DELAY 86400.0

void cl_settle_decide(const cl_settle_in *in, cl_settle_out *out)
{
    memset(out, 0, sizeof(*out));
    const char *v = in->verdict ? in->verdict : "";
    const char *exp = in->expected ? in->expected : "";
    const char *why = in->run_reason ? in->run_reason : "";
    int code = in->exit_code;
    bool unknown = code == CL_SETTLE_EXIT_UNKNOWN;
    if (unknown)
        code = !v[0] ? CL_SETTLE_EXIT_SIGNAL : !strcmp(v, "infra-error") ? 3 : !strcmp(v, exp) ? 0 : 1;
    out->exit_code = code;
    out->count_attempt = true;
    bool infra = !v[0] || !strcmp(v, "infra-error") || code == 3 || code < 0;
    bool refused = code == 2 && !v[0];
    if (refused)
        infra = false;   /* bad input: another attempt would be refused the same way */
    out->infra = infra;
    char last[900];
    if (refused)
        snprintf(last, sizeof(last), "crashlab run refused the job (exit 2): see `crashlab logs %lld`", in->job_id);
    else if (why[0])
        snprintf(last, sizeof(last), "%s", why);
    else
        snprintf(last, sizeof(last), "%s", unknown || code < 0 ? "the attempt's process was lost" : "no result was recorded");
    snprintf(out->why, sizeof(out->why), "%s", last);

    if (in->stopping && !in->cancel_requested && infra) {
        /* Our own shutdown interrupted it: not the job's fault, it keeps its attempt. */
        out->next = CL_JOB_QUEUED;
        out->count_attempt = false;
        snprintf(out->reason, sizeof(out->reason), "interrupted by a daemon shutdown; queued again");
        return;
    }
    if (in->cancel_requested) {
        /* A cancelled job still has a verdict: the run's, or infra-error (it was stopped). */
        out->next = CL_JOB_CANCELLED;
        snprintf(out->verdict, sizeof(out->verdict), "%s", v[0] && !infra ? v : "infra-error");
        snprintf(out->reason, sizeof(out->reason), "cancelled while running (attempt %d: %s)", in->attempt, last);
        return;
    }
    if (infra && in->attempt < in->max_attempts) {
        double wait = in->backoff;
        for (int k = 1; k < in->attempt && wait < MAX_DELAY; k++)
            wait *= 2;
        out->next = CL_JOB_QUEUED;
        snprintf(out->verdict, sizeof(out->verdict), "%s", v);
        out->delay = wait < MAX_DELAY ? wait : MAX_DELAY;
        snprintf(out->reason, sizeof(out->reason), "attempt %d: %s; retry in %.0f s", in->attempt, last, out->delay);
        return;
    }
    out->next = CL_JOB_DONE;
    if (infra || refused) {
        snprintf(out->verdict, sizeof(out->verdict), "infra-error");
        if (refused)
            snprintf(out->reason, sizeof(out->reason), "%s", last);
        else
            snprintf(out->reason, sizeof(out->reason), "%d attempt(s); last: %s", in->attempt, last);
    } else {
        snprintf(out->verdict, sizeof(out->verdict), "%s", v);
        snprintf(out->reason, sizeof(out->reason), "%s", why);
    }
}
