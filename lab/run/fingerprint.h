/* fingerprint.h - the hypervisor fingerprint of a run: what the host configured (versions,
 * machine, accelerator, Hyper-V features, SMBIOS strings, firmware) against what the guest's
 * own memory says (lab/dump/fingerprint.h), and whether the two agree. */
#ifndef CL_RUN_FINGERPRINT_H
#define CL_RUN_FINGERPRINT_H

#include <json-c/json.h>

#include "virt/domxml.h"

/* The host side, from the options the domain XML was built with. */
json_object *cl_fp_host(const cl_domxml_opts *dx, const cl_smbios *effective, const char *accel,
                        const char *libvirt_version, const char *qemu_version);

/* Compares the SMBIOS strings (and, under KVM, the hypervisor the guest detected) and
 * returns {host, guest, agree, mismatches[]}; takes references to host and guest. Pure. */
json_object *cl_fp_compare(json_object *host, json_object *guest);

#endif
