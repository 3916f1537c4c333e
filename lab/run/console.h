/* console.h - finding the crash report in a Linux guest's serial console.
 * The console is guest output: bounded, and never trusted to be well formed. What crashed
 * (kind, title, panic message) comes from the one Linux crash classifier,
 * lab/dump/linux/report.h; this adds the excerpt and the fault module's ground truth. */
#ifndef CL_RUN_CONSOLE_H
#define CL_RUN_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    bool found;
    char kind[32];          /* panic, oops, hung-task, soft-lockup, hard-lockup, bug, slab-corruption, stack-overflow, rcu-stall, warning */
    char title[128];        /* the classifier's title: "BUG: soft lockup in lf_spin_timer" */
    char panic_message[256];/* the text after "Kernel panic - not syncing: " */
    char report[4096];      /* the lines from the first report line on, cut to fit */
    char ground_truth[1024];/* the last "labfault: ground-truth {...}" JSON, if any */
} cl_console_report;

void cl_console_parse(const char *text, size_t len, cl_console_report *r);

#endif
