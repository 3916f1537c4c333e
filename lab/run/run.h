/* run.h - one scenario run, from define to teardown, and its result.
 *
 * Phases: define -> boot -> agent-up -> install/steps -> observe -> capture -> teardown.
 * Every phase is timed; the result lands in <results>/<run-id>/ (built in a hidden
 * ".<run-id>.partial" directory and renamed when complete), documented in
 * results/README.md. Only this module knows every other module.
 */
#ifndef CL_RUN_H
#define CL_RUN_H

#include <json-c/json.h>
#include <stdbool.h>

#include "scenario/scenario.h"
#include "util/error.h"

typedef struct {
    const char *scenario_path;
    const char *results_dir;     /* default "results" */
    const char *uri;             /* NULL: the embedded driver under state_dir */
    const char *state_dir;       /* NULL: $CRASHLAB_STATE, else /var/lib/crashlab as root, else ~/.cache/crashlab */
    const char *guest_dir;       /* NULL: $CRASHLAB_GUEST, else build/guest */
    const char *accel;           /* auto | kvm | tcg */
    const char *run_id;          /* NULL: made up */
    const char *dump_format;     /* NULL: the scenario's */
    const char *image;           /* windows: base image, overriding the scenario's guest.image */
    const char *dump_pool;       /* remote host: the storage pool there that dumps are written into */
    bool print_xml;              /* print the domain XML and stop */
    bool warm;                   /* start from a saved, agent-ready guest (lab/run/warm.h) */
    bool spare;                  /* warm: leave the next run's guest restored and paused */
    bool quiet;                  /* no progress lines */
    bool json;                   /* print result.json on stdout */
    bool no_check;               /* windows: skip the image pre-check (lab/run/precheck.h) */
    bool record;                 /* record under QEMU record/replay (lab/run/record.h), as capture.record */
} cl_run_opts;

/* The state directory to use (opts, environment, default); caller frees. */
char *cl_run_state_dir(const char *given);

/* Checks every option before anything is read or started: --accel, --dump-format, --run-id
 * (lab/util/names.h), empty paths. A false return is exit 2. */
bool cl_run_opts_check(const cl_run_opts *opts, cl_error **errp);

/* Runs one scenario. Returns the process exit code: 0 when the verdict is what the
 * scenario expected, 1 when it is not, 2 for bad input (nothing run, nothing written),
 * 3 when the run could not be recorded at all. *result (optional) gets result.json. */
int cl_run_execute(const cl_run_opts *opts, json_object **result);

/* Pure verdict rule, unit-tested: given what was observed, what the scenario expects. */
typedef struct {
    bool infra;                  /* the host side failed */
    bool crashed;
    bool hung;                   /* the guest stopped answering and did not crash */
    bool step_failed;
    const char *crash_kind;      /* linux kind or NULL */
    const char *crash_text;      /* title + panic message + report, matched by pattern */
    uint32_t bugcheck;           /* windows, 0 if unknown */
    bool bugcheck_known;
    uint64_t params[4];
    bool hv_known;               /* the hypervisor logged Hyper-V crash parameters */
    uint64_t hv[5];              /* that record: code, p1..p4 */
    const char *run_reason;      /* the run's own reason (a host failure, an interrupt, a lost dump), or NULL */
} cl_observation;

cl_verdict cl_run_decide(const cl_scenario *s, const cl_observation *o, char *reason, size_t reasonlen);

#define CL_JUDGE_MISMATCH_MAX 5

/* The whole decision: the hypervisor record cross-checked against the dump's bug check,
 * then cl_run_decide, then what overrides it. */
typedef struct {
    cl_verdict verdict;
    char reason[1024];
    bool crosschecked;           /* there was a hypervisor record (or a disagreement) to report */
    int nmismatch;
    char mismatch[CL_JUDGE_MISMATCH_MAX][160];
} cl_judgement;

/* Pure, unit-tested. Rules, in this order:
 *  1. With a hypervisor record, every difference from the dump's bug check code and
 *     parameters is a mismatch; a dump without a bug check takes the record's (o is
 *     updated, so that the expectation is matched against it).
 *  2. The verdict is cl_run_decide's.
 *  3. The run's own reason, when it set one, replaces the rule's text (not the verdict).
 *  4. A mismatch fails a run that is not an infrastructure error, and becomes the reason. */
void cl_run_judge(const cl_scenario *s, cl_observation *o, cl_judgement *j);

#endif
