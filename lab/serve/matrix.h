/* matrix.h - a matrix file: scenario x guest profile x driver build x dump type x
 * accelerator, expanded into jobs for `crashlab submit --matrix`.
 *
 *   name: nightly                       # batch name (default: the file name)
 *   priority: 0
 *   scenarios: [scenarios/linux/panic.yaml, ...]   # relative to the current directory
 *   profiles:                           # optional: guest file sets
 *     - {name: deb12, guest: build/guest}
 *   drivers:                            # optional: driver builds replacing the install path
 *     - {name: dev, path: build/linux/labfault.ko}
 *   dump_formats: [kdump-zlib, elf]     # optional
 *   accels: [tcg]                       # optional
 *   starts: [cold, warm]                # optional: boot, or restore a saved guest
 *
 * An absent axis has one element: "the scenario's own". Each job carries labels naming
 * its coordinates and a key "scenario/profile/driver/dump/accel[/start]" that reports use to match
 * tonight's runs with last night's. Documented in lab/serve/README.md.
 */
#ifndef CL_SERVE_MATRIX_H
#define CL_SERVE_MATRIX_H

#include <json-c/json.h>
#include <stdbool.h>

#include "util/error.h"

#define CL_MATRIX_MAX_JOBS 10000
#define CL_MATRIX_MAX_AXIS 256

/* Appends one job spec per combination to jobs (a JSON array of submit specs). */
bool cl_matrix_expand(const char *path, json_object *jobs, cl_error **errp);

/* Same from a buffer (name used in messages; relative paths are kept as written). */
bool cl_matrix_expand_text(const char *name, const char *text, size_t len, json_object *jobs, cl_error **errp);

#endif
