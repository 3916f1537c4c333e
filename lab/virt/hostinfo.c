/* hostinfo.c - the host record of a connection (hostinfo.h). */
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostinfo.h"

/* The text of the first <tag>...</tag> (or <tag attr...>...</tag>) inside the first
 * <scope>...</scope> of libvirt's capabilities XML. */
static void cap_text(const char *xml, const char *scope, const char *tag, char *out, size_t outlen)
{
    out[0] = '\0';
    char so[64], sc[64], to[64], tc[64];
    snprintf(so, sizeof(so), "<%s>", scope);
    snprintf(sc, sizeof(sc), "</%s>", scope);
    const char *s = strstr(xml, so);
    const char *e = s ? strstr(s, sc) : NULL;
    if (!s || !e)
        return;
    snprintf(to, sizeof(to), "<%s", tag);
    snprintf(tc, sizeof(tc), "</%s>", tag);
    for (const char *p = s; (p = strstr(p, to)) && p < e; p++) {
        char after = p[strlen(to)];
        if (after != '>' && after != ' ')
            continue;
        const char *v = strchr(p, '>');
        const char *ve = v ? strstr(v, tc) : NULL;
        if (!v || !ve || ve > e || v[-1] == '/')
            return;
        v++;
        size_t n = (size_t)(ve - v);
        if (n >= outlen)
            n = outlen - 1;
        memcpy(out, v, n);
        out[n] = '\0';
        return;
    }
}

bool cl_virt_host_info(cl_virt *v, cl_host_info *out, cl_error **errp)
{
    memset(out, 0, sizeof(*out));
    char *hn = virConnectGetHostname(cl_virt_conn(v));
    if (!hn)
        return cl_virt_error(errp, "cannot get the host name of '%s'", cl_virt_uri(v));
    snprintf(out->hostname, sizeof(out->hostname), "%s", hn);
    free(hn);
    virNodeInfo ni;
    if (virNodeGetInfo(cl_virt_conn(v), &ni) < 0)
        return cl_virt_error(errp, "cannot get the node info of '%s'", cl_virt_uri(v));
    out->cpus = ni.cpus;
    out->mhz = ni.mhz;
    out->nodes = ni.nodes;
    out->sockets = ni.sockets;
    out->cores = ni.cores;
    out->threads = ni.threads;
    out->memory_mb = ni.memory / 1024;
    char *caps = virConnectGetCapabilities(cl_virt_conn(v));
    if (!caps)
        return cl_virt_error(errp, "cannot get the capabilities of '%s'", cl_virt_uri(v));
    cap_text(caps, "host", "uuid", out->host_uuid, sizeof(out->host_uuid));
    cap_text(caps, "cpu", "arch", out->arch, sizeof(out->arch));
    cap_text(caps, "cpu", "model", out->cpu_model, sizeof(out->cpu_model));
    cap_text(caps, "cpu", "vendor", out->cpu_vendor, sizeof(out->cpu_vendor));
    free(caps);
    return true;
}
