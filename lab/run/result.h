/* result.h - result.json and junit.xml of a run, written so that a reader never sees
 * half a result: everything goes into the hidden partial directory, which is renamed
 * to its final name last. The format is documented in results/README.md. */
#ifndef CL_RUN_RESULT_H
#define CL_RUN_RESULT_H

#include <json-c/json.h>
#include <stdbool.h>

#include "scenario/scenario.h"
#include "util/error.h"

#define CL_RESULT_SCHEMA_VERSION 1

/* Fills the fields known before the run starts: run_id, scenario, guest. */
void cl_result_begin(json_object *res, const char *run_id, const cl_scenario *s);

/* Writes result.json and junit.xml into partial_dir, then renames it to final_dir. */
bool cl_result_write(const char *partial_dir, const char *final_dir, json_object *res, cl_error **errp);

/* The junit.xml text for one result (pure). Caller frees. */
char *cl_result_junit(json_object *res, cl_error **errp);

#endif
