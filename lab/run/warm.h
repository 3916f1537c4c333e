/* warm.h - the fast path: start a run from a saved, booted, agent-ready guest.
 *
 * A warm image is a libvirt save file (virDomainSaveFlags) of the Linux guest booted to
 * an answering agent, keyed by everything that shapes that state: the guest files,
 * memory, vCPUs, accelerator, versions and the boot-only kernel parameters. Parameters
 * that have a sysctl (hung_task_panic, softlockup_panic, panic_on_oops, ...) are applied
 * through the agent after the restore, so one image serves most faults. Each run restores
 * into a fresh QEMU process: no guest state leaks from one run to the next, and the save
 * file is only ever read.
 */
#ifndef CL_RUN_WARM_H
#define CL_RUN_WARM_H

#include <stdbool.h>

#include "run_priv.h"
#include "virt/accel.h"
#include "virt/domxml.h"

/* Starts c->dom from the warm image, preparing the image first if it does not exist.
 * dx is the cold-boot XML options of this run; the restored domain keeps the saved
 * hardware (and so its SMBIOS serial is the image's, recorded in the result). */
bool cl_run_warm_start(cl_run_ctx *c, const cl_domxml_opts *dx, const char *fault_cmdline, bool keep_spare,
                       cl_error **errp);

/* With keep_spare, the run also restores the image's other variant, paused, for the next
 * run in this state directory (lab/virt/saved.h), and the next run resumes it instead of
 * restoring. Called at teardown: waits for that restore and records it in result.json
 * warm.spare; copies the console of an adopted spare when it could not be linked. */
void cl_run_warm_finish(cl_run_ctx *c);

/* Splits a kernel command line into the part that can be applied at run time (written
 * as "path=value" sysctl assignments, space separated) and the boot-only rest. */
void cl_warm_split_cmdline(const char *cmdline, char *runtime, size_t rtlen, char *boot, size_t bootlen);

#endif
