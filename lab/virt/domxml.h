/* domxml.h - the libvirt domain XML for one run. Pure: options in, XML text out. */
#ifndef CL_VIRT_DOMXML_H
#define CL_VIRT_DOMXML_H

#include <stdbool.h>

#include "scenario/scenario.h"
#include "util/error.h"

#define CL_DOMXML_NS "https://crashlab.invalid/xmlns/run/1"

/* Hyper-V enlightenments (cl_hv_feature) are named in scenario.h: a scenario may choose them. */

typedef struct {
    const char *name;            /* domain name, unique per run */
    const char *run_id;          /* also the default SMBIOS serial number */
    long owner_pid;              /* metadata: who may clean the domain up if it is left behind */
    const char *owner_host;
    cl_profile profile;
    unsigned memory_mb, vcpus;
    const char *domain_type;     /* "kvm" or "qemu" (TCG) */

    /* linux: direct kernel boot */
    const char *kernel, *initrd, *cmdline;

    /* windows */
    const char *disk;            /* the run's qcow2 overlay (the base image stays read-only) */
    const char *cdrom;           /* optional virtio-win ISO */
    cl_firmware firmware;
    const char *ovmf_code;       /* firmware code image, for uefi */
    const char *nvram;           /* per-run UEFI variable store */
    bool tpm;
    unsigned hv_mask;            /* enlightenments to emit: bits (1u << cl_hv_feature) */
    const char *cpu_model;       /* windows: NULL = cl_domxml_cpu_model(domain_type) */

    const char *console_log;     /* serial console captured to this file */
    const char *agent_socket;    /* qemu-ga channel, bound by QEMU here */
    bool remote;                 /* the host's files are not this machine's: the serial port is
                                    a pty (read through virDomainOpenConsole) and libvirt picks
                                    the agent socket's path there; console_log and
                                    agent_socket are not used */
    const cl_smbios *smbios;     /* NULL fields get the lab's own strings */
    const char *uuid;            /* NULL: libvirt picks one; fixed for saved (warm) guests */
    bool panic_continue;         /* QEMU reports the panic but does not stop the guest, so the
                                    guest can write its own dump (-action panic=none) */
    const char *rr_file;         /* record/replay log (issue 17): NULL = none. QEMU runs with
                                    -icount shift=auto,rr=record|replay,rrfile=PATH and pauses
                                    at a panic; TCG only (icount does not exist under KVM) */
    bool rr_replay;              /* with rr_file: replay the log instead of recording it */
    bool no_agent;               /* no qemu-ga channel (agent_socket not used): a recorded
                                    guest, since QEMU 7.2 does not record the virtio-serial
                                    port's host side and a replay stalls where qemu-ga opens it */
} cl_domxml_opts;

/* The SMBIOS strings the XML gives the guest: the scenario's, else the lab's defaults
 * (the serial number defaults to the run id). Pointers into o->smbios or static text. */
void cl_domxml_smbios_effective(const cl_domxml_opts *o, cl_smbios *out);

/* The guest CPU of the windows profile: "host-passthrough" under KVM; under TCG a named
 * model with SSE4.2 and POPCNT (Windows 11 24H2 reboots in a loop without them; QEMU's
 * default qemu64 has neither) that QEMU 7.2's TCG implements completely (checked with
 * -cpu MODEL,enforce). */
#define CL_DOMXML_TCG_CPU "Westmere"
const char *cl_domxml_cpu_model(const char *domain_type);

/* All enlightenments the windows profile asks for. */
unsigned cl_domxml_hv_all(void);

/* Builds the XML; fails (CL_ERR_INVAL) on a missing required option or a socket path
 * longer than a UNIX socket can hold. */
char *cl_domxml_build(const cl_domxml_opts *o, cl_error **errp);

#endif
