/* fuzz_inspect.h - the step every dump fuzz target shares: build the inspect object (and,
 * where the format carries memory, the fingerprint) from a reader, and drop the results.
 * For *_fuzz.c only. */
#ifndef CL_DUMP_FUZZ_INSPECT_H
#define CL_DUMP_FUZZ_INSPECT_H

#include <stdbool.h>

#include "dump/fingerprint.h"
#include "dump/inspect_priv.h"

static inline void cl_fuzz_inspect(cl_reader *r,
                                   int (*inspect)(cl_reader *, json_object **, cl_dump_crash *, cl_error **),
                                   bool fingerprint)
{
    json_object *o = NULL;
    cl_error *err = NULL;
    cl_dump_crash crash;
    inspect(r, &o, &crash, &err);
    json_object_put(o);
    cl_error_free(err);
    if (!fingerprint)
        return;
    o = NULL;
    err = NULL;
    if (cl_dump_fingerprint_reader(r, &o, &err))
        json_object_put(o);
    cl_error_free(err);
}

#endif
