/* cmd_validate.c - `crashlab validate [--quiet] FILE...`: load scenarios without running them. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "agent/agent.h"
#include "scenario/scenario.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: crashlab validate [--quiet] FILE...\n"
               "Checks scenario files without running them. Prints 'FILE: ok' for a good file and\n"
               "'FILE:LINE:COLUMN: what is wrong' on stderr for a bad one.\n"
               "Exit status: 0 all good, 1 a file is bad, 2 usage error.\n");
}

int cl_cmd_validate(int argc, char **argv)
{
    bool quiet = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
            quiet = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "crashlab validate: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "crashlab validate: no scenario file given\n");
        usage(stderr);
        return 2;
    }
    int rc = 0;
    for (; i < argc; i++) {
        CL_AUTOPTR(cl_error) err = NULL;
        CL_AUTOPTR(cl_scenario) s = cl_scenario_load(argv[i], &err);
        if (!s || !cl_scenario_check_files(s, CL_AGENT_MAX_UPLOAD, &err)) {
            fprintf(stderr, "%s\n", err ? err->msg : "out of memory");
            rc = 1;
        } else if (!quiet) {
            printf("%s: ok\n", argv[i]);
        }
    }
    fflush(stdout);
    return rc;
}
