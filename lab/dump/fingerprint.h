/* fingerprint.h - the guest side of the hypervisor fingerprint (issue 6), read from a dump
 * alone: the SMBIOS strings the firmware gave the guest, the hypervisor the kernel detected,
 * and the virtualization drivers it had loaded (Xen, Hyper-V, KVM/virtio, VMware, VirtualBox). */
#ifndef CL_DUMP_FINGERPRINT_H
#define CL_DUMP_FINGERPRINT_H

#include <json-c/json.h>
#include <stdbool.h>

#include "dump/reader.h"
#include "util/error.h"

/* Fills *out with {"format", "smbios", "hypervisor", "virtualization_drivers", "platforms",
 * "truncated", "warnings"}; parts the dump does not hold are null or empty. False (errp set)
 * only when path is not a dump at all. */
bool cl_dump_fingerprint(const char *path, json_object **out, cl_error **errp);
bool cl_dump_fingerprint_reader(cl_reader *r, json_object **out, cl_error **errp);

/* The platform a driver or module name belongs to ("Xen", "Hyper-V", "KVM/virtio", "VMware",
 * "VirtualBox"), or NULL. Case-insensitive; ".sys"/".ko" and a "dump_" prefix are ignored. */
const char *cl_fingerprint_driver_platform(const char *name);

#endif
