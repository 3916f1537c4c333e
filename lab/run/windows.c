#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/proc.h"
#include "windows.h"

bool cl_windows_prepare(const cl_scenario *s, const char *run_dir, bool create, char *overlay, size_t olen,
                        char *nvram, size_t nlen, cl_error **errp)
{
    snprintf(overlay, olen, "%s/disk.qcow2", run_dir);
    snprintf(nvram, nlen, "%s/nvram.fd", run_dir);
    if (!create)
        return true;
    char base[PATH_MAX];
    if (!s->image || !realpath(s->image, base))
        return cl_error_set(errp, CL_ERR_INVAL, "windows: base image '%s' not found", s->image ? s->image : "(none)");
    if (access(base, R_OK) < 0)
        return cl_error_set_errno(errp, CL_ERR_INVAL, errno, "windows: cannot read base image '%s'", base);
    /* The base is named only as a backing file: QEMU opens it read-only, every write of
     * the run lands in the overlay, which goes with the run. */
    char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, overlay, NULL };
    if (!cl_proc_run_quiet(argv, errp)) {
        cl_error_prefix(errp, "windows");
        return false;
    }
    if (s->firmware == CL_FIRMWARE_UEFI) {
        CL_AUTOFREE char *vars = NULL;
        size_t len = 0;
        if (!cl_file_read_all(CL_OVMF_VARS, 16u << 20, &vars, &len, errp) ||
            !cl_file_write_atomic(nvram, vars, len, errp))
            return false;
    }
    return true;
}

static void warn(json_object *warnings, const char *text)
{
    if (warnings)
        json_object_array_add(warnings, json_object_new_string(text));
}

unsigned cl_windows_hv_mask(const char *domain_type, json_object *warnings)
{
    unsigned mask = cl_domxml_hv_all();
    if (!strcmp(domain_type, "kvm"))
        return mask;
    /* Measured with QEMU 7.2 under TCG: "kernel doesn't allow setting HyperV VP_INDEX". */
    mask &= ~(1u << CL_HV_VPINDEX) & ~(1u << CL_HV_STIMER);
    warn(warnings, "hyperv: vpindex and stimer left out under TCG (QEMU refuses them without KVM)");
    return mask;
}

bool cl_windows_hv_refused(const char *error, unsigned *mask, json_object *warnings)
{
    static const struct {
        const char *needle;
        cl_hv_feature f;
    } known[] = {
        { "VP_INDEX", CL_HV_VPINDEX }, { "vpindex", CL_HV_VPINDEX }, { "stimer", CL_HV_STIMER },
        { "STIMER", CL_HV_STIMER },    { "synic", CL_HV_SYNIC },     { "SYNIC", CL_HV_SYNIC },
        { "tlbflush", CL_HV_TLBFLUSH }, { "ipi", CL_HV_IPI },        { "runtime", CL_HV_RUNTIME },
        { "frequencies", CL_HV_FREQUENCIES }, { "reset", CL_HV_RESET }, { "vapic", CL_HV_VAPIC },
    };
    if (!error || (!strstr(error, "yper") && !strstr(error, "hv-")))
        return false;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strstr(error, known[i].needle) && (*mask & (1u << known[i].f))) {
            *mask &= ~(1u << known[i].f);
            char w[256];
            snprintf(w, sizeof(w), "hyperv: %s left out: QEMU refused it (%.150s)", cl_hv_feature_to_string(known[i].f), error);
            warn(warnings, w);
            return true;
        }
    }
    return false;
}
