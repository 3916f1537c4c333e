/* report.h - the nightly report of a batch of runs: report.html (static, no network),
 * junit.xml, summary.json (what the next night compares against) and compare.json.
 * Documented in lab/serve/README.md. */
#ifndef CL_SERVE_REPORT_H
#define CL_SERVE_REPORT_H

#include <json-c/json.h>
#include <stdbool.h>

#include "runs.h"
#include "util/error.h"

#define CL_REPORT_SCHEMA_VERSION 1

/* The summary of a batch (pure): title, generated, runs[{key, run_id, verdict, ...}], titles[]. */
json_object *cl_report_summary(const cl_runs *runs, const char *title);

/* What changed between two summaries (pure): new_titles, fixed_titles, changed (key, before,
 * after), added_keys, removed_keys. */
json_object *cl_report_compare(json_object *previous, json_object *current);

/* report.html text (pure); out_dir is where it will live, for relative links. Caller frees. */
char *cl_report_html(const cl_runs *runs, json_object *summary, json_object *compare, const char *out_dir, cl_error **errp);

/* junit.xml text (pure). Caller frees. */
char *cl_report_junit(const cl_runs *runs, const char *title, cl_error **errp);

/* Writes everything into out_dir (created). previous_dir may be NULL. */
bool cl_report_write(const cl_runs *runs, const char *out_dir, const char *previous_dir, const char *title, cl_error **errp);

#endif
