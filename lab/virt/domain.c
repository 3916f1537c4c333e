#include <errno.h>
#include <libvirt/libvirt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt-qemu.h>

#include "domain.h"
#include "domxml.h"

virDomainPtr cl_domain_start(cl_virt *v, const char *xml, cl_error **errp)
{
    /* Autodestroy ties the domain to this connection (a daemon destroys it if we die);
     * the embedded driver does not offer it, there cl_virt_cleanup_stale does the job. */
    unsigned flags = cl_virt_is_embedded(v) ? 0 : VIR_DOMAIN_START_AUTODESTROY;
    virDomainPtr dom = virDomainCreateXML(cl_virt_conn(v), xml, flags);
    if (!dom)
        cl_virt_error(errp, "cannot start the domain");
    return dom;
}

virDomainPtr cl_domain_start_paused(cl_virt *v, const char *xml, cl_error **errp)
{
    unsigned flags = VIR_DOMAIN_START_PAUSED | (cl_virt_is_embedded(v) ? 0 : VIR_DOMAIN_START_AUTODESTROY);
    virDomainPtr dom = virDomainCreateXML(cl_virt_conn(v), xml, flags);
    if (!dom)
        cl_virt_error(errp, "cannot start the domain");
    return dom;
}

bool cl_domain_resume(virDomainPtr dom, cl_error **errp)
{
    if (virDomainResume(dom) < 0)
        return cl_virt_error(errp, "cannot resume the domain");
    return true;
}

void cl_domain_destroy(virDomainPtr dom)
{
    if (!dom)
        return;
    int state = 0, reason = 0;
    if (virDomainGetState(dom, &state, &reason, 0) == 0 && state != VIR_DOMAIN_SHUTOFF)
        virDomainDestroy(dom);
    virDomainFree(dom);
}

static const char *state_name(int s)
{
    switch (s) {
    case VIR_DOMAIN_NOSTATE: return "nostate";
    case VIR_DOMAIN_RUNNING: return "running";
    case VIR_DOMAIN_BLOCKED: return "blocked";
    case VIR_DOMAIN_PAUSED: return "paused";
    case VIR_DOMAIN_SHUTDOWN: return "shutdown";
    case VIR_DOMAIN_SHUTOFF: return "shutoff";
    case VIR_DOMAIN_CRASHED: return "crashed";
    case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
    }
    return "unknown";
}

void cl_domain_state(virDomainPtr dom, char state[32], char reason[32])
{
    int s = 0, r = 0;
    if (virDomainGetState(dom, &s, &r, 0) < 0) {
        snprintf(state, 32, "gone");
        snprintf(reason, 32, "unknown");
        return;
    }
    snprintf(state, 32, "%s", state_name(s));
    const char *rs = "unknown";
    if (s == VIR_DOMAIN_CRASHED)
        rs = r == VIR_DOMAIN_CRASHED_PANICKED ? "panicked" : "crashed";
    else if (s == VIR_DOMAIN_PAUSED)
        rs = r == VIR_DOMAIN_PAUSED_CRASHED ? "crashed" : r == VIR_DOMAIN_PAUSED_USER ? "user" :
             r == VIR_DOMAIN_PAUSED_IOERROR ? "ioerror" : r == VIR_DOMAIN_PAUSED_DUMP ? "dump" : "paused";
    else if (s == VIR_DOMAIN_SHUTOFF)
        rs = r == VIR_DOMAIN_SHUTOFF_CRASHED ? "crashed" : r == VIR_DOMAIN_SHUTOFF_DESTROYED ? "destroyed" :
             r == VIR_DOMAIN_SHUTOFF_FAILED ? "failed" : r == VIR_DOMAIN_SHUTOFF_SHUTDOWN ? "shutdown" : "shutoff";
    else if (s == VIR_DOMAIN_RUNNING)
        rs = r == VIR_DOMAIN_RUNNING_BOOTED ? "booted" : r == VIR_DOMAIN_RUNNING_UNPAUSED ? "unpaused" : "running";
    snprintf(reason, 32, "%s", rs);
}

bool cl_domain_dump(virDomainPtr dom, cl_dump_format fmt, const char *path, cl_error **errp)
{
    int f;
    switch (fmt) {
    case CL_DUMPFMT_KDUMP_ZLIB: f = VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_ZLIB; break;
    case CL_DUMPFMT_ELF: f = VIR_DOMAIN_CORE_DUMP_FORMAT_RAW; break;
    case CL_DUMPFMT_WIN_DMP: f = VIR_DOMAIN_CORE_DUMP_FORMAT_WIN_DMP; break;
    default:
        return cl_error_set(errp, CL_ERR_INVAL, "dump: no dump format chosen");
    }
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.partial", path) >= (int)sizeof(tmp))
        return cl_error_set(errp, CL_ERR_INVAL, "dump: path too long: '%s'", path);
    /* memory-only: the guest's RAM, not QEMU's device state; this is what crash and
     * WinDbg read. */
    if (virDomainCoreDumpWithFormat(dom, tmp, (unsigned)f, VIR_DUMP_MEMORY_ONLY) < 0) {
        cl_virt_error(errp, "dump: %s dump failed", cl_dump_format_to_string(fmt));
        unlink(tmp);
        return false;
    }
    if (rename(tmp, path) < 0) {
        cl_error_set_errno(errp, CL_ERR_IO, errno, "dump: cannot rename '%s' to '%s'", tmp, path);
        unlink(tmp);
        return false;
    }
    return true;
}

bool cl_domain_inject_nmi(virDomainPtr dom, cl_error **errp)
{
    if (virDomainInjectNMI(dom, 0) < 0)
        return cl_virt_error(errp, "cannot inject an NMI");
    return true;
}

void cl_domain_free(virDomainPtr dom)
{
    if (dom)
        virDomainFree(dom);
}

void cl_domain_unmark_crashed(virDomainPtr dom)
{
    if (virDomainSuspend(dom) == 0)
        virDomainResume(dom);
}

bool cl_domain_qmp(virDomainPtr dom, const char *cmd, char **reply, cl_error **errp)
{
    *reply = NULL;
    if (virDomainQemuMonitorCommand(dom, cmd, reply, 0) < 0 || !*reply) {
        free(*reply);
        *reply = NULL;
        return cl_virt_error(errp, "QMP command failed");
    }
    return true;
}

static bool meta_field(const char *xml, const char *tag, char *out, size_t outlen)
{
    char open[64];
    snprintf(open, sizeof(open), "<crashlab:%s>", tag);
    const char *p = strstr(xml, open);
    if (!p) {
        snprintf(open, sizeof(open), "<%s>", tag);
        p = strstr(xml, open);
    }
    if (!p)
        return false;
    p += strlen(open);
    const char *e = strchr(p, '<');
    if (!e || (size_t)(e - p) >= outlen)
        return false;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return true;
}

bool cl_domain_meta(virDomainPtr dom, const char *tag, char *out, size_t outlen)
{
    char *meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, CL_DOMXML_NS, 0);
    bool ok = meta && meta_field(meta, tag, out, outlen);
    free(meta);
    return ok;
}

int cl_virt_cleanup_stale(cl_virt *v, bool quiet, cl_error **errp)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(cl_virt_conn(v), &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0)
        return cl_virt_error(errp, "cannot list domains"), -1;
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    int removed = 0;
    for (int i = 0; i < n; i++) {
        char *meta = virDomainGetMetadata(doms[i], VIR_DOMAIN_METADATA_ELEMENT, CL_DOMXML_NS, 0);
        char pid[32], dhost[256], id[128];
        if (meta && meta_field(meta, "pid", pid, sizeof(pid)) && meta_field(meta, "host", dhost, sizeof(dhost)) &&
            !strcmp(dhost, host)) {
            long p = strtol(pid, NULL, 10);
            if (p > 0 && kill((pid_t)p, 0) < 0 && errno == ESRCH) {
                if (!meta_field(meta, "id", id, sizeof(id)))
                    snprintf(id, sizeof(id), "?");
                if (!quiet)
                    fprintf(stderr, "crashlab: destroying domain '%s' left behind by run %s (process %ld is gone)\n",
                            virDomainGetName(doms[i]), id, p);
                if (virDomainDestroy(doms[i]) == 0)
                    removed++;
            }
        }
        free(meta);
        virDomainFree(doms[i]);
    }
    free(doms);
    return removed;
}

int cl_virt_destroy_run(cl_virt *v, const char *run_id, const char *who, cl_error **errp)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(cl_virt_conn(v), &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0)
        return cl_virt_error(errp, "cannot list domains"), -1;
    int destroyed = 0;
    for (int i = 0; i < n; i++) {
        char id[128];
        /* The same parser as cleanup_stale: the whole <id> field must equal the run id. */
        if (cl_domain_meta(doms[i], "id", id, sizeof(id)) && !strcmp(id, run_id)) {
            if (who)
                fprintf(stderr, "%s: destroying domain '%s' of run %s\n", who, virDomainGetName(doms[i]), run_id);
            if (virDomainDestroy(doms[i]) == 0)
                destroyed++;
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return destroyed;
}
