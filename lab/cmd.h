/* cmd.h - the crashlab subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit code; only main() exits. */
#ifndef CL_CMD_H
#define CL_CMD_H

int cl_cmd_run(int argc, char **argv);         /* lab/run/cmd_run.c */
int cl_cmd_validate(int argc, char **argv);    /* lab/scenario/cmd_validate.c */
int cl_cmd_faults(int argc, char **argv);      /* lab/cmd_faults.c */
int cl_cmd_inspect(int argc, char **argv);     /* lab/dump/cmd_inspect.c */

#endif
