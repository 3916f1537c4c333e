/* run_priv.h - the state of one run, shared by the files of lab/run. */
#ifndef CL_RUN_PRIV_H
#define CL_RUN_PRIV_H

#include <limits.h>

#include "agent/agent.h"
#include "dump/dump.h"
#include "run.h"
#include "virt/virt.h"

typedef struct {
    const cl_run_opts *opts;
    cl_scenario *s;
    char run_id[128];
    char domname[64];
    char results_dir[PATH_MAX];
    char partial_dir[PATH_MAX];
    char final_dir[PATH_MAX];
    char state_dir[PATH_MAX];
    char guest_dir[PATH_MAX];
    char sock[PATH_MAX];
    char console[PATH_MAX];
    char dump_path[PATH_MAX];
    char kernel[PATH_MAX];   /* the Linux guest's, empty for Windows (staged when QEMU cannot reach it) */
    char initrd[PATH_MAX];
    cl_virt *v;
    cl_domain *dom;
    json_object *res;        /* result.json being built */
    json_object *timings;
    json_object *steps;
    json_object *ladder;
    json_object *ground_truth;
    json_object *warnings;   /* things the run had to change or leave out, said once each */
    double t0, phase_t0;
    double deadline;         /* whole run */
    cl_observation obs;
    char reason[1024];
    char crash_method[32];   /* pvpanic, nmi, hyperv, none */
    char crash_detail[32];
    bool described;          /* the crash was described (result.crash): a crash or a hang */
    cl_dump_crash dump_crash;/* the dump's crash, typed (zero without a readable dump) */
    bool triggered;          /* a fault has fired: an agent that goes quiet is now a hang */
    long fire_pid;
    const cl_fault *fired;
    bool remote;             /* the host's files are not this machine's (lab/run/remote.h) */
    struct cl_console_stream *console_stream; /* remote: the console, streamed into console */
} cl_run_ctx;

/* The plan (plan.c): options and scenario checked, run id, paths, guest files; nothing
 * started and no directory made. 0, or the exit code (2) with *errp the message to print. */
int cl_run_plan(cl_run_ctx *c, cl_error **errp);

/* The state directory and the run's .partial directory made (a real run, after the plan).
 * 0, or the exit code: 2 bad input, 3 a full or failing disk. */
int cl_run_open_dirs(cl_run_ctx *c, cl_error **errp);

/* Prints "[  12.3s] phase: message" unless quiet. */
void cl_run_progress(cl_run_ctx *c, const char *phase, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cl_run_phase_end(cl_run_ctx *c, const char *phase);

/* Waits for the domain to crash or stop, until the deadline. 1 crashed, 2 QEMU gone /
 * domain stopped, 0 nothing (or interrupted). */
int cl_run_wait_crash(cl_run_ctx *c, double deadline);

/* Runs every scenario step. false: the run cannot go on (c->obs and c->reason say why). */
bool cl_run_steps(cl_run_ctx *c);

/* The k=v words of a trigger step, every parameter written out (argv NULL-terminated). */
int cl_run_trigger_args(const cl_step *st, char **argv, size_t max, char bufs[][160]);

/* Adds result.json "ground_truth": the driver's fired line from the dump's kernel log,
 * else from the console, else ARM's object labels (truth.h). */
void cl_run_truth(cl_run_ctx *c);

/* A kdump file QEMU just wrote at c->dump_path made standard in place (capture_kdump.c):
 * returns the dump.format to record ("kdump-zlib", or "kdump-zlib-flattened" when the file
 * had to be kept as QEMU wrote it, with a run warning) and sets *conv to the
 * result.json dump.converted object (NULL when nothing was converted). */
const char *cl_run_kdump_standard(cl_run_ctx *c, json_object **conv);

/* Records one rung of the capture ladder. */
void cl_run_ladder(cl_run_ctx *c, const char *step, const char *outcome);

/* The sha256 of a host input file (the guest's kernel and initrd), remembered in the state
 * directory by device, inode, size and mtime: hashed once, not on every run. */
bool cl_run_input_sha256(cl_run_ctx *c, const char *path, char hex[65], cl_error **errp);

/* Set by a signal handler (cmd_run.c): every wait returns, the run tears down. */
extern volatile int cl_run_interrupted;
extern cl_virt *volatile cl_run_current_virt;

#endif
