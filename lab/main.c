/* main.c - the crashlab command line: dispatches to a subcommand (lab/cmd.h). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    { "run", cl_cmd_run, "run a scenario on a guest and collect what it produced" },
    { "validate", cl_cmd_validate, "check scenario files without running them" },
    { "faults", cl_cmd_faults, "print the fault catalogue" },
    { "inspect", cl_cmd_inspect, "tell what crashed, from a Windows or Linux dump" },
    { "fingerprint", cl_cmd_fingerprint, "what the guest saw of its hypervisor, from a dump" },
    { "serve", cl_cmd_serve, "run the job daemon: a persistent queue over libvirt hosts" },
    { "submit", cl_cmd_submit, "queue scenarios (or a matrix) on the daemon" },
    { "status", cl_cmd_status, "list the daemon's jobs with state and verdict" },
    { "wait", cl_cmd_wait, "wait until jobs are finished" },
    { "cancel", cl_cmd_cancel, "cancel a queued or running job" },
    { "logs", cl_cmd_logs, "print a job's run output" },
    { "corpus", cl_cmd_corpus, "build or verify a labelled dump corpus from runs" },
    { "report", cl_cmd_report, "write report.html and junit.xml for a batch of runs" },
    { "image", cl_cmd_image, "check or prepare a Windows disk image offline (libguestfs, hivex)" },
    { "replay", cl_cmd_replay, "check a recorded run's inputs (--record) for a replay" },
    { "spare", cl_cmd_spare, "list or drop the paused guests that run --spare keeps for the next run" },
    { "rescue", cl_cmd_rescue, "copy and read the crash dump a Windows guest left on its disk" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: crashlab COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'crashlab COMMAND --help' describes one command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "crashlab: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
