/* runs.h - finished run directories, for reports and corpora: a run directory holds
 * result.json (and job.json when the daemon ran it); a results directory holds run
 * directories (hidden ones, such as .attempts and .partial, are not runs). */
#ifndef CL_SERVE_RUNS_H
#define CL_SERVE_RUNS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

typedef struct {
    char *dir;            /* absolute */
    json_object *result;  /* result.json */
    json_object *job;     /* job.json or NULL */
    double started;       /* Unix time from result.started, 0 unknown */
} cl_run_entry;

typedef struct {
    cl_run_entry *v;
    size_t n;
} cl_runs;

/* Collects the runs under each path (a run directory or a directory of them), sorted by
 * start time then run id. Unreadable result.json files are skipped with a warning on
 * stderr; a path that does not exist is an error. */
bool cl_runs_collect(char *const *paths, size_t npaths, cl_runs *out, cl_error **errp);
void cl_runs_clear(cl_runs *r);

/* Fields used everywhere. */
const char *cl_run_id(const cl_run_entry *e);
const char *cl_run_verdict(const cl_run_entry *e);
const char *cl_run_expected(const cl_run_entry *e);
const char *cl_run_title(const cl_run_entry *e);   /* crash.title or NULL */
/* The comparison key: job.json options.key, else "scenario/dump_format/accelerator". */
void cl_run_key(const cl_run_entry *e, char *out, size_t outlen);

/* Path of to relative to the directory from (both absolute), for links. */
void cl_relpath(const char *from_dir, const char *to, char *out, size_t outlen);

#endif
