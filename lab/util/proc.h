/* proc.h - what /proc/PID/stat says of a process: its state, parent and start time. */
#ifndef CL_UTIL_PROC_H
#define CL_UTIL_PROC_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    char state;                    /* 'R', 'S', 'Z', ... */
    long ppid;
    unsigned long long start_time; /* clock ticks after boot: with the pid, names one process */
} cl_proc_stat;

/* False when the process does not exist (any more) or its stat line is not understood. */
bool cl_proc_stat_read(pid_t pid, cl_proc_stat *out);

/* The start time, 0 when the process is gone. */
unsigned long long cl_proc_start_time(pid_t pid);

#endif
