/* cmd_args.h - the command line `crashlab inspect` and `crashlab fingerprint` share:
 * one dump path and --json. */
#ifndef CL_DUMP_CMD_ARGS_H
#define CL_DUMP_CMD_ARGS_H

#include <stdbool.h>
#include <stdio.h>

/* Returns -1 with *path and *json set when the command should go on; otherwise the exit
 * code, after usage(stdout) for --help (0) or usage(stderr) for bad arguments (2). */
int cl_dump_cmd_args(int argc, char **argv, void (*usage)(FILE *), const char **path, bool *json);

#endif
