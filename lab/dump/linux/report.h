/* report.h - what the recovered kernel log says crashed: the first primary report (oops,
 * lockup, hung task, BUG, WARNING), the function it names, the panic message, and a stable
 * syzkaller-style title ("BUG: soft lockup in labfault_spin"). */
#ifndef CL_DUMP_REPORT_H
#define CL_DUMP_REPORT_H

#include <stdbool.h>

#include "dump/title.h"

typedef struct {
    char title[CL_TITLE_MAX + 1];
    char report_line[256];    /* the line the title was made from, as printed */
    char panic_message[256];  /* after "Kernel panic - not syncing: ", "" when none */
    char function[128];       /* crashing function, "" when unknown */
    char module[64];          /* the module it is in ("labfault"), "" for the kernel proper */
    const char *type;         /* "oops", "lockup", "hang", "bug", "warning", "panic" */
} cl_linux_report;

/* False when the log holds no report at all. */
bool cl_linux_report_parse(const char *log, cl_linux_report *out);

#endif
