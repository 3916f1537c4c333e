/* cmd_args.h - what `crashlab inspect` and `crashlab fingerprint` share: the command line
 * (one dump path and --json) and the terminal output of a dump's strings. */
#ifndef CL_DUMP_CMD_ARGS_H
#define CL_DUMP_CMD_ARGS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

/* Returns -1 with *path and *json set when the command should go on; otherwise the exit
 * code, after usage(stdout) for --help (0) or usage(stderr) for bad arguments (2). */
int cl_dump_cmd_args(int argc, char **argv, void (*usage)(FILE *), const char **path, bool *json);

/* Runs print(m, o) into memory and writes the text to stdout with controls shown as \xNN:
 * a dump's strings are the guest's and must not drive the user's terminal. */
void cl_dump_print_terminal(void (*print)(FILE *, json_object *), json_object *o);

#endif
