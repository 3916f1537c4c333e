/* settle.h - what happens to a job when one of its attempts ends: the daemon's retry and
 * back-off rule as one pure function (no database, no files, no clock), so that every rule
 * has a table-driven test (serve_test.c) and sched.c only carries the decision out.
 *
 *   in:  how the attempt ended (exit status of `crashlab run`, the verdict it recorded),
 *        which attempt it was, whether the job was cancelled or the daemon is stopping;
 *   out: the job's next state, whether the attempt counts, the delay before the next one,
 *        the job's verdict and reason.
 */
#ifndef CL_SERVE_SETTLE_H
#define CL_SERVE_SETTLE_H

#include <stdbool.h>
#include <stddef.h>

#include "queue.h"

/* exit_code values besides 0..255 */
#define CL_SETTLE_EXIT_SIGNAL (-1)   /* the child was killed by a signal */
#define CL_SETTLE_EXIT_UNKNOWN (-2)  /* the daemon was not its parent (recovery): only the result tells */

typedef struct {
    int exit_code;            /* of `crashlab run`, or CL_SETTLE_EXIT_* */
    const char *verdict;      /* result.json verdict, "" or NULL when none was recorded */
    const char *expected;     /* result.json expected_verdict, "" when unknown */
    const char *run_reason;   /* result.json reason, or what the daemon knows ("" when nothing) */
    long long job_id;         /* for the reason texts */
    int attempt;              /* this attempt's number (1 = the first) */
    int max_attempts;
    bool cancel_requested;
    bool stopping;            /* the daemon is shutting down */
    double backoff;           /* seconds before the first retry; doubles each retry */
} cl_settle_in;

typedef struct {
    cl_job_state next;        /* CL_JOB_QUEUED, CL_JOB_DONE or CL_JOB_CANCELLED */
    bool count_attempt;       /* false: the attempt is given back (our own shutdown) */
    double delay;             /* queued: seconds before the next attempt may start */
    int exit_code;            /* the exit code recorded for the job (derived when unknown) */
    bool infra;               /* the attempt was an infrastructure error */
    char verdict[32];         /* the job's verdict: the run's, or "infra-error"; "" while queued without one */
    char reason[1200];
    char why[900];            /* what ended the attempt, for the log */
} cl_settle_out;

/* The decision; pure. */
void cl_settle_decide(const cl_settle_in *in, cl_settle_out *out);

#endif
