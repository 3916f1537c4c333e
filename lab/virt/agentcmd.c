/* agentcmd.c - one qemu-ga command through virDomainQemuAgentCommand, and whether its
 * failure is worth another try (the retry loop is lab/agent/client.c's). */
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "agentcmd.h"
#include "util/fileio.h"

/* Errors worth another try: the agent is starting, restarting or was busy. A domain
 * that stopped running is not one of them. */
static bool transient(const virError *e)
{
    if (!e)
        return false;
    /* A command that timed out may have run: sending it again could run a guest-exec or
     * write a file chunk twice. Only an agent that was not there to receive it is retried. */
    if (e->message && (strstr(e->message, "timed out") || strstr(e->message, "timeout")))
        return false;
    switch (e->code) {
    case VIR_ERR_AGENT_UNRESPONSIVE:
    case VIR_ERR_AGENT_UNSYNCED:
        return true;
    case VIR_ERR_OPERATION_INVALID:
        return e->message && strstr(e->message, "agent") && !strstr(e->message, "not running");
    default:
        return false;
    }
}

bool cl_virt_domain_running(struct _virDomain *dom)
{
    int state = 0, reason = 0;
    return virDomainGetState(dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_RUNNING;
}

bool cl_virt_agent_command(struct _virDomain *dom, const char *cmd, int timeout, double retry_until, char **reply,
                           bool *retry, cl_error **errp)
{
    *retry = false;
    *reply = virDomainQemuAgentCommand(dom, cmd, timeout, 0);
    if (*reply)
        return true;
    /* Copy it: any later libvirt call (the state check) resets the last error. */
    virErrorPtr e = virSaveLastError();
    *retry = transient(e) && cl_virt_domain_running(dom) && cl_now() < retry_until;
    if (!*retry)
        cl_error_set(errp, e && e->code == VIR_ERR_AGENT_UNRESPONSIVE ? CL_ERR_TIMEOUT : CL_ERR_AGENT, "agent: %s",
                     e && e->message ? e->message : "command failed");
    virFreeError(e);
    return false;
}
