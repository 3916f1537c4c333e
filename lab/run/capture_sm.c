/* capture_sm.c - the guest-dump rung's states (capture_sm.h). */
#include <inttypes.h>
#include <stdio.h>

#include "capture_sm.h"

const char *cl_cap_state_to_string(cl_cap_state s)
{
    static const char *const names[CL_CAP_LAST] = { "wait-agent", "poll-dump", "fetch", "offline-rescue",
                                                    "hypervisor-dump", "done" };
    return (unsigned)s < CL_CAP_LAST ? names[s] : "unknown";
}

void cl_cap_init(cl_cap_sm *m, double now, double timeout, double stable)
{
    *m = (cl_cap_sm){ .state = CL_CAP_WAIT_AGENT, .deadline = now + timeout, .stable = stable, .agent_at = -1 };
}

cl_cap_state cl_cap_step(cl_cap_sm *m, const cl_cap_obs *o, char *why, size_t whylen)
{
    if (whylen)
        why[0] = '\0';
    switch (m->state) {
    case CL_CAP_WAIT_AGENT:
        if (o->agent_answers) {
            m->agent_at = o->now;
            m->state = CL_CAP_POLL_DUMP;
            snprintf(why, whylen, "the agent answers again; waiting for the dump file and a stable size");
        } else if (o->now >= m->deadline) {
            m->state = CL_CAP_OFFLINE_RESCUE;
            snprintf(why, whylen, "the guest did not come back in time: reading the dump off its disk");
        }
        return m->state;
    case CL_CAP_POLL_DUMP:
        if (o->listed) {
            m->listings++;
            if (!o->dump_present || o->dump_size == 0) {
                m->have_size = false;
            } else if (!m->have_size || o->dump_size != m->size) {
                m->have_size = true;
                m->size = o->dump_size;
                m->size_since = o->now;
            } else if (o->now - m->size_since >= m->stable) {
                m->state = CL_CAP_FETCH;
                snprintf(why, whylen, "the dump is %" PRIu64 " bytes and has not grown for %.0f s", m->size,
                         o->now - m->size_since);
                return m->state;
            }
        }
        if (o->now >= m->deadline) {
            m->state = CL_CAP_OFFLINE_RESCUE;
            if (m->have_size)
                snprintf(why, whylen, "the dump was still growing (%" PRIu64 " bytes) when the time ran out: reading it off the disk",
                         m->size);
            else
                snprintf(why, whylen, "the guest came back but no dump file appeared in time: reading the disk");
        }
        return m->state;
    default:
        return m->state;
    }
}

cl_cap_state cl_cap_fetched(cl_cap_sm *m, bool ok)
{
    if (m->state == CL_CAP_FETCH)
        m->state = ok ? CL_CAP_DONE : CL_CAP_OFFLINE_RESCUE;
    return m->state;
}

cl_cap_state cl_cap_rescued(cl_cap_sm *m, bool found)
{
    if (m->state == CL_CAP_OFFLINE_RESCUE)
        m->state = found ? CL_CAP_DONE : CL_CAP_HYPERVISOR_DUMP;
    return m->state;
}
