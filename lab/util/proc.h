/* proc.h - what /proc/PID/stat says of a process (its state, parent and start time), and
 * running a helper program to its end. */
#ifndef CL_UTIL_PROC_H
#define CL_UTIL_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

typedef struct {
    char state;                    /* 'R', 'S', 'Z', ... */
    long ppid;
    unsigned long long start_time; /* clock ticks after boot: with the pid, names one process */
} cl_proc_stat;

/* False when the process does not exist (any more) or its stat line is not understood. */
bool cl_proc_stat_read(pid_t pid, cl_proc_stat *out);

/* The start time, 0 when the process is gone. */
unsigned long long cl_proc_start_time(pid_t pid);

/* Runs argv[0] (looked up in PATH) with argv, its standard output to /dev/null, and waits
 * for it: true when it exited 0, else an error naming argv[0] and argv[1] and the status. */
bool cl_proc_run_quiet(char *const argv[], cl_error **errp);

#endif
