/* precheck.h - the run's pre-check of a Windows image (lab/image): a run that the image
 * cannot serve is refused before anything is started or written. */
#ifndef CL_RUN_PRECHECK_H
#define CL_RUN_PRECHECK_H

#include <stdbool.h>

#include "scenario/scenario.h"
#include "util/error.h"

/* image check on the scenario's image (read-only, libguestfs), judged against what the
 * scenario needs (cl_image_scenario_needs). false: the image cannot serve it; errp names
 * the finding, what it breaks and the fix, or why the image could not be read. */
bool cl_run_image_precheck(const cl_scenario *s, bool quiet, cl_error **errp);

#endif
