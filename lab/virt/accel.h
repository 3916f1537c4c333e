/* accel.h - choosing KVM or TCG. KVM is tried, not assumed: /dev/kvm can exist while
 * nested virtualization is broken (guests hang at kernel entry). The probe boots the
 * guest kernel with no root file system under KVM: a working KVM panics ("VFS: unable to
 * mount root") within a second or two, which the panic device reports; a broken one says
 * nothing. The answer is cached per URI in the state directory. */
#ifndef CL_VIRT_ACCEL_H
#define CL_VIRT_ACCEL_H

#include <stdbool.h>

#include "virt.h"

typedef struct {
    char domain_type[8];     /* "kvm" or "qemu" */
    char accel[8];           /* "kvm" or "tcg" */
    char why[256];
    bool cached;
} cl_accel_choice;

/* want: "auto", "kvm" or "tcg". kernel: a bootable kernel on the host of the connection,
 * or NULL to decide without booting anything (a cached probe, else the capabilities). */
bool cl_accel_choose(cl_virt *v, const char *want, const char *kernel, const char *state_dir,
                     double probe_timeout, cl_accel_choice *out, cl_error **errp);

#endif
