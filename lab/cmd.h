/* cmd.h - the crashlab subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit code; only main() exits. */
#ifndef CL_CMD_H
#define CL_CMD_H

int cl_cmd_run(int argc, char **argv);         /* lab/run/cmd_run.c */
int cl_cmd_validate(int argc, char **argv);    /* lab/scenario/cmd_validate.c */
int cl_cmd_faults(int argc, char **argv);      /* lab/cmd_faults.c */
int cl_cmd_inspect(int argc, char **argv);     /* lab/dump/cmd_inspect.c */
int cl_cmd_fingerprint(int argc, char **argv); /* lab/dump/cmd_fingerprint.c */
int cl_cmd_serve(int argc, char **argv);       /* lab/serve/daemon.c */
int cl_cmd_submit(int argc, char **argv);      /* lab/serve/client.c */
int cl_cmd_status(int argc, char **argv);      /* lab/serve/client.c */
int cl_cmd_wait(int argc, char **argv);        /* lab/serve/client.c */
int cl_cmd_cancel(int argc, char **argv);      /* lab/serve/client.c */
int cl_cmd_logs(int argc, char **argv);        /* lab/serve/client.c */
int cl_cmd_corpus(int argc, char **argv);      /* lab/serve/cmd_corpus.c */
int cl_cmd_report(int argc, char **argv);      /* lab/serve/cmd_report.c */
int cl_cmd_image(int argc, char **argv);       /* lab/image/cmd_image.c */
int cl_cmd_rescue(int argc, char **argv);      /* lab/image/cmd_rescue.c */
int cl_cmd_replay(int argc, char **argv);      /* lab/run/replay.c */
int cl_cmd_spare(int argc, char **argv);       /* lab/run/cmd_spare.c */

#endif
