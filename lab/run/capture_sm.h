/* capture_sm.h - the guest-dump rung as a pure state machine: observations in (the time,
 * whether the agent answered, what `labagent collect` listed), the next state out. The
 * run (collect.c) does the I/O; the tests drive it with a fake agent that comes back late,
 * never, or with a dump that keeps growing.
 *
 * Windows writes MEMORY.DMP out of the page file *during* the next boot, after the agent
 * may already answer: the dump is fetched only once it exists and its size has held for
 * `stable` seconds. A guest that does not come back, or never shows a stable dump, within
 * the rung's time goes to the offline rescue rung (the dump read off the overlay with
 * libguestfs, lab/image/rescue.c); when that finds nothing, the hypervisor-side dump.
 *
 *   WAIT_AGENT --agent answers--> POLL_DUMP --size stable--> FETCH --ok--> DONE
 *        |                            |                        |
 *        +------- deadline -----------+------ deadline --------+--fetch failed--> OFFLINE_RESCUE
 *                                                                   --found--> DONE
 *                                                                   --none---> HYPERVISOR_DUMP
 */
#ifndef CL_RUN_CAPTURE_SM_H
#define CL_RUN_CAPTURE_SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    CL_CAP_WAIT_AGENT,
    CL_CAP_POLL_DUMP,
    CL_CAP_FETCH,
    CL_CAP_OFFLINE_RESCUE,
    CL_CAP_HYPERVISOR_DUMP,
    CL_CAP_DONE,
    CL_CAP_LAST
} cl_cap_state;

const char *cl_cap_state_to_string(cl_cap_state s);

typedef struct {
    double now;
    bool agent_answers;      /* the agent answered at now */
    bool listed;             /* a `collect` listing was taken at now */
    bool dump_present;       /* ... and it names the memory dump */
    uint64_t dump_size;
} cl_cap_obs;

typedef struct {
    cl_cap_state state;
    double deadline;         /* the rung's end (timeouts.guest_dump, capped by the run) */
    double stable;           /* seconds the size must hold */
    bool have_size;
    uint64_t size;
    double size_since;
    double agent_at;         /* when the agent first answered, -1 before */
    unsigned listings;
} cl_cap_sm;

void cl_cap_init(cl_cap_sm *m, double now, double timeout, double stable);

/* Feeds one observation in WAIT_AGENT or POLL_DUMP; returns the new state and, when it
 * changed, a one-line reason in why (for the ladder). */
cl_cap_state cl_cap_step(cl_cap_sm *m, const cl_cap_obs *o, char *why, size_t whylen);

/* The outcome of FETCH (ok: DONE, else OFFLINE_RESCUE) and of OFFLINE_RESCUE (found: DONE,
 * else HYPERVISOR_DUMP). */
cl_cap_state cl_cap_fetched(cl_cap_sm *m, bool ok);
cl_cap_state cl_cap_rescued(cl_cap_sm *m, bool found);

#endif
