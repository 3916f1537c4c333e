/* collect.h - the rungs of the capture ladder that need the guest or the hypervisor's
 * record after a crash: the Hyper-V crash parameters from the domain log, and the guest's
 * own dump fetched through the agent once the guest is back. */
#ifndef CL_RUN_COLLECT_H
#define CL_RUN_COLLECT_H

#include <stdbool.h>
#include <stdint.h>

#include "run_priv.h"

#define CL_COLLECT_MAX_FILES 16
/* The guest-dump rung (capture_sm.h): how long MEMORY.DMP's size must hold before it is
 * fetched, and how often the agent is asked. Windows copies the dump out of the page file
 * during the next boot, while the agent may already answer; the Linux guest writes its
 * file before its agent starts. */
#define CL_COLLECT_STABLE_SECONDS(win) ((win) ? 10.0 : 0.0)
#define CL_COLLECT_POLL_USEC(win) ((win) ? 5000000u : 1000000u)

/* The last "panic hyper-v: arg1=... arg5=..." line the hypervisor side logged for the
 * domain: arg1 is the bug check code, arg2..arg5 its parameters. Pure: text in. */
bool cl_hv_record_parse(const char *log, size_t len, uint64_t args[5]);

/* Reads the domain log (embedded root or the local system daemon's) and, when a Hyper-V
 * record is there, adds it to result.capture.hypervisor_record. */
bool cl_run_hv_record(cl_run_ctx *c, uint64_t args[5]);

/* After a crash in guest-dump mode: lets the guest run on (libvirt marks it crashed and
 * refuses agent commands; a suspend/resume cycle makes it running again), waits for the
 * agent to come back, asks labagent collect and fetches every dump it lists, bounded and
 * verified, under names the lab chooses, once the dump file exists and its size is
 * stable (capture_sm.h). When the guest does not come back, or shows no stable dump in
 * time, the offline rescue rung reads the dump off the overlay (Windows) and sets
 * c->dump_path. Returns how many files were collected (-1: nothing, from either rung). */
int cl_run_collect_guest_dumps(cl_run_ctx *c);

#endif
