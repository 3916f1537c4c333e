/* agentcmd.h - one qemu-guest-agent command through libvirt, for lab/agent's client, which
 * keeps the policy (deadline, retries, reply parsing) and includes no libvirt header: the
 * domain is passed as the opaque cl_domain (virt.h): libvirt's virDomainPtr. */
#ifndef CL_VIRT_AGENTCMD_H
#define CL_VIRT_AGENTCMD_H

#include <stdbool.h>

#include "util/error.h"

struct _virDomain;

/* Sends cmd with a timeout in seconds. True: *reply is the agent's raw answer (free it).
 * False: *retry says whether another try may succeed (before retry_until on cl_now()'s clock, the agent was not there to receive
 * it and the domain still runs; never after a timeout, which may have run it), and when
 * it is false errp holds why (CL_ERR_TIMEOUT for an unresponsive agent, else CL_ERR_AGENT). */
bool cl_virt_agent_command(struct _virDomain *dom, const char *cmd, int timeout, double retry_until, char **reply,
                           bool *retry, cl_error **errp);

/* Whether the domain is running (not paused, crashed or shut off). */
bool cl_virt_domain_running(struct _virDomain *dom);

#endif
