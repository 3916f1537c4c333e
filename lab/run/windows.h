/* windows.h - what a Windows run needs before its domain starts: a throw-away qcow2
 * overlay on the user's base image (the base is only ever a read-only backing file), a
 * per-run UEFI variable store, and the Hyper-V enlightenments the accelerator accepts. */
#ifndef CL_RUN_WINDOWS_H
#define CL_RUN_WINDOWS_H

#include <json-c/json.h>
#include <stdbool.h>

#include "scenario/scenario.h"
#include "util/error.h"
#include "virt/domxml.h"

#define CL_OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define CL_OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"

/* Creates run_dir/disk.qcow2 over s->image and (uefi) run_dir/nvram.fd; fills the paths.
 * With create false only the paths are filled (for --print-xml). */
bool cl_windows_prepare(const cl_scenario *s, const char *run_dir, bool create, char *overlay, size_t olen,
                        char *nvram, size_t nlen, cl_error **errp);

/* The enlightenments to ask for under this domain type. QEMU under TCG refuses vpindex
 * (and stimer, which needs it): they are left out and each is named in warnings. */
unsigned cl_windows_hv_mask(const char *domain_type, json_object *warnings);

/* If a start error names an enlightenment QEMU refused, clears it from *mask and returns
 * true (the caller retries, recording the warning). */
bool cl_windows_hv_refused(const char *error, unsigned *mask, json_object *warnings);

#endif
