/* convert.h - QEMU's kdump output made into the file every kdump reader opens.
 *
 * QEMU (7.2 here; before 8.2 always) writes `dump-guest-memory -z/-l/-s` and libvirt's
 * kdump-* formats in makedumpfile's *flattened* layout (flat.h), which crash reads but
 * libkdumpfile (drgn) and makedumpfile's filters do not; and it fills only `machine` in the
 * disk_dump_header's utsname, while libkdumpfile takes the OS and architecture from
 * sysname/release and refuses the file without them ("KDUMP_ATTR_ARCH_NAME: Key has no
 * value"). cl_kdump_convert() writes what `makedumpfile -R` would (the records replayed
 * into a regular file, format.h's layout) with the utsname filled from the guest:
 *
 *   sysname     "Linux" (when the dump holds VMCOREINFO)
 *   release     VMCOREINFO OSRELEASE
 *   version,    the kernel's own init_uts_ns (SYMBOL(init_uts_ns) + OFFSET(uts_namespace.name)),
 *   nodename,   taken only when its sysname reads "Linux" and its release equals OSRELEASE
 *   domainname
 *   machine     kept (QEMU writes it)
 *
 * and the sub-header's phys_base set to VMCOREINFO's NUMBER(phys_base) where QEMU got it
 * wrong (it parses that decimal number as hex: 2097152 becomes 0x2097152, and makedumpfile,
 * which trusts the sub-header, cannot translate a single kernel address).
 *
 * A utsname field that is already filled is kept. Every string is cut at 64 bytes and anything but
 * printable ASCII becomes '?': they are guest data. The flattened records must be exact
 * (flat.h: ended, none rejected, none cut short) or nothing is written. The result goes to
 * a temporary file beside out (exclusive, no symlink followed), is read back as a plain
 * kdump file with as many pages as the input, and is renamed over out; in and out may be
 * the same path. */
#ifndef CL_DUMP_KDUMP_CONVERT_H
#define CL_DUMP_KDUMP_CONVERT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

typedef struct {
    bool was_flattened;
    char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
    const char *version_from;   /* "init_uts_ns", "header" (already there) or "none" */
    uint64_t bytes_in, bytes_out;
    uint64_t pages;             /* dumped pages, the same before and after */
    uint64_t phys_base_header;  /* the sub-header's phys_base as found */
    uint64_t phys_base;         /* as written: VMCOREINFO NUMBER(phys_base) when it differs */
    double seconds;
} cl_kdump_convert_info;

/* Converts the kdump file in (flattened or not) into a standard one at out. info may be
 * NULL. On failure nothing is left at out's temporary name and out is untouched. */
bool cl_kdump_convert(const char *in, const char *out, cl_kdump_convert_info *info, cl_error **errp);

#endif
