/* cmd_stubs.c - TEMPORARY weak placeholders while the subcommands are written in parallel;
 * each real definition overrides its stub. Removed once all exist. */
#include <stdio.h>

#include "cmd.h"

#define STUB(fn) \
    __attribute__((weak)) int fn(int argc, char **argv) { (void)argc; fprintf(stderr, "crashlab %s: not built yet\n", argv[0]); return 2; }

STUB(cl_cmd_run)
STUB(cl_cmd_validate)
STUB(cl_cmd_faults)
STUB(cl_cmd_inspect)
