/* report.h - what a kernel log says crashed: the first primary report (oops, lockup, hung
 * task, BUG, WARNING), the function it names, the panic message, and a stable syzkaller-style
 * title ("BUG: soft lockup in labfault_spin"). The one classifier of Linux crash text: the
 * log recovered from a dump and the guest's serial console (lab/run/console.c) both go
 * through it, so a crash has one title and one kind whichever of the two saw it. */
#ifndef CL_DUMP_REPORT_H
#define CL_DUMP_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "dump/title.h"

typedef struct {
    char title[CL_TITLE_MAX + 1];
    char report_line[256];    /* the line the title was made from, as printed */
    char panic_message[256];  /* after "Kernel panic - not syncing: ", "" when none */
    char function[128];       /* crashing function, "" when unknown */
    char module[64];          /* the module it is in ("labfault"), "" for the kernel proper */
    const char *type;         /* "oops", "lockup", "hang", "bug", "warning", "panic" */
    const char *kind;         /* finer, what scenarios expect: "oops", "soft-lockup", "hard-lockup",
                                 "rcu-stall", "hung-task", "bug", "slab-corruption",
                                 "stack-overflow", "warning", "panic" */
} cl_linux_report;

/* False when the log holds no report at all. */
bool cl_linux_report_parse(const char *log, cl_linux_report *out);

/* The same over len bytes that may hold NULs and CRs (a serial console). */
bool cl_linux_report_parse_n(const char *log, size_t len, cl_linux_report *out);

#endif
