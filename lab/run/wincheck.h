/* wincheck.h - what a Windows run asks the guest and its dump beyond the steps:
 * `labagent check` once the agent answers (the image's CrashControl, Verifier, fwcfg and
 * pvpanic; which rungs are unavailable), STATUS while a hung guest still answers, and the
 * driver's ground-truth block found in the dump. */
#ifndef CL_RUN_WINCHECK_H
#define CL_RUN_WINCHECK_H

#include <json-c/json.h>
#include <stdbool.h>

#include "run_priv.h"

/* Pure: what a `labagent check` reply means for scenario s. Fills *guest_dump (the rung to
 * use, when s->guest_dump_auto) and returns false with why when a trigger fault needs what
 * the image lacks (special pool): the run cannot give the expected bug check. Warnings (a
 * rung unavailable) are appended to warnings. */
bool cl_wincheck_apply(const cl_scenario *s, json_object *check, bool *guest_dump, json_object *warnings, char *why,
                       size_t whylen);

/* Runs `labagent check`, records it as result.image_check, applies it (above). False: the
 * run stops as infra-error with c->reason set (the image lacks a precondition). An agent
 * without `check` is a warning, and the guest-dump rung is then not used (auto). */
bool cl_run_windows_check(cl_run_ctx *c);

/* Asks STATUS (labagent status) while the guest answers: the values set at FIRE (IRP, its
 * thread, ERESOURCE owner, spinning threads...) go to result.capture.status. */
void cl_run_windows_status(cl_run_ctx *c);

/* Scans the captured Windows dump for labfault.sys's ground-truth block and records it as
 * result.capture.dump_ground_truth. */
void cl_run_windows_dump_truth(cl_run_ctx *c);

#endif
