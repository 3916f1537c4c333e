/* precheck.c - image check before a Windows run (see precheck.h). */
#include <stdio.h>

#include "image/image.h"
#include "precheck.h"
#include "util/fileio.h"

bool cl_run_image_precheck(const cl_scenario *s, bool quiet, cl_error **errp)
{
    double t = cl_now();
    cl_image_facts f;
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_image_read_facts(s->image, NULL, &f, &err))
        return cl_error_set(errp, CL_ERR_INVAL, "image check: cannot read '%s': %s", s->image, err->msg);
    cl_image_report r;
    cl_image_evaluate(&f, s->memory_mb, &r);
    const cl_finding *b = cl_image_report_blocker(&r, cl_image_scenario_needs(s));
    if (!quiet)
        fprintf(stderr, "[precheck] image check of %s: %s in %.1f s (appliance %.1f s; --no-check skips it)\n", s->image,
                b ? "refused" : "fine for this scenario", cl_now() - t, f.launch_seconds);
    if (!b)
        return true;
    return cl_error_set(errp, CL_ERR_INVAL, "image check: '%s' cannot run this scenario: %s: %s (breaks: %s; fix: %s)",
                        s->image, b->id, b->what, b->breaks, b->fix);
}
