/* files.c - the host files a scenario names are regular files of a bounded size. */
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "scenario/scenario.h"

bool cl_scenario_check_files(const cl_scenario *s, uint64_t max_upload, cl_error **errp)
{
    /* stat, never open: opening a FIFO would block before anything could be said. */
    struct stat st;
    for (size_t i = 0; i < s->nsteps; i++) {
        const cl_step *step = &s->steps[i];
        if (step->kind != CL_STEP_INSTALL || !step->path || stat(step->path, &st) < 0)
            continue;
        if (!S_ISREG(st.st_mode))
            return cl_error_set(errp, CL_ERR_INVAL, "%s:%d: install: '%s' is not a regular file", s->path, step->line,
                                step->path);
        if ((uint64_t)st.st_size > max_upload)
            return cl_error_set(errp, CL_ERR_INVAL, "%s:%d: install: '%s' is larger than %llu bytes", s->path,
                                step->line, step->path, (unsigned long long)max_upload);
    }
    const char *imgs[] = { s->image, s->virtio_iso };
    for (size_t i = 0; i < 2; i++)
        if (imgs[i] && stat(imgs[i], &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
            return cl_error_set(errp, CL_ERR_INVAL, "%s: guest: '%s' is not a regular file or a block device", s->path,
                                imgs[i]);
    return true;
}
