/* hostinfo.h - which machine a connection's domains run on, as libvirt there describes it:
 * its host name (virConnectGetHostname), node info and the CPU from its capabilities. A run
 * on another host records this, since this machine's own uname says nothing about it. */
#ifndef CL_VIRT_HOSTINFO_H
#define CL_VIRT_HOSTINFO_H

#include <stdbool.h>

#include "virt.h"

typedef struct {
    char hostname[256];       /* the host's own name, from its libvirt */
    char arch[32];            /* capabilities: host/cpu/arch */
    char cpu_model[64];       /* host/cpu/model */
    char cpu_vendor[64];      /* host/cpu/vendor */
    char host_uuid[64];       /* host/uuid */
    unsigned cpus, mhz, nodes, sockets, cores, threads;
    unsigned long long memory_mb;
} cl_host_info;

bool cl_virt_host_info(cl_virt *v, cl_host_info *out, cl_error **errp);

#endif
