/* job_files.h - the files a job owns: its log, its (possibly derived) scenario, the job.json
 * the daemon adds to its run directory, and what it reads back from result.json. */
#ifndef CL_SERVE_JOB_FILES_H
#define CL_SERVE_JOB_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "queue.h"
#include "util/error.h"

#define CL_RESULT_MAX_BYTES (16u << 20)

/* <state>/logs/job-<id>.log: every attempt's output, appended. */
void cl_job_log_path(const char *state, int64_t id, char *out, size_t outlen);

/* The scenario the run gets: the submitted file, or, when the job names a driver build
 * (options.driver), a copy under <state>/scenarios/ whose install steps load that build. */
bool cl_job_scenario_path(const char *state, const cl_job *j, char *out, size_t outlen, cl_error **errp);

/* Rewrites every "install: PATH" of a scenario text to driver (pure; caller frees). */
char *cl_job_rewrite_install(const char *text, const char *driver, cl_error **errp);

/* Writes <dir>/job.json: id, attempts, host, slot, batch, labels, key, options. */
bool cl_job_write_json(const char *dir, const cl_job *j, cl_error **errp);

/* verdict, expected verdict and reason of <dir>/result.json; empty strings when there is none. */
void cl_job_read_result(const char *dir, char *verdict, size_t vlen, char *expected, size_t elen, char *reason, size_t rlen);

/* When an attempt ended without recording a run (killed before it could, cancelled at
 * start, never started because the host failed), the daemon records one for it, so that
 * every job that ends has a run directory with a verdict: result.json (schema of
 * results/README.md, "recorded_by": "crashlab serve") and junit.xml, written in
 * <attempts>/.<run_id>.partial and renamed to <attempts>/<run_id>. */
bool cl_job_write_stand_in(const char *attempts_dir, const cl_job *j, const char *verdict, const char *reason,
                           cl_error **errp);

#endif
