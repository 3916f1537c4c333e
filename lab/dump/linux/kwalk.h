/* kwalk.h - kernel objects read with field offsets from the kernel's own BTF: the task
 * current on each CPU (per-CPU current_task, or pcpu_hot.current_task on 6.2+) and the
 * symbols of loaded modules (the modules list and each module's mod_kallsyms). */
#ifndef CL_DUMP_KWALK_H
#define CL_DUMP_KWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dump/linux/kallsyms.h"

#define CL_KWALK_MAX_MODULES 1024
#define CL_KWALK_MAX_MODSYMS (1u << 17)
#define CL_KWALK_MAX_CPUS 8192

typedef struct cl_kwalk cl_kwalk;

/* Finds the BTF blob (__start_BTF..__stop_BTF) and the offsets; NULL (errp says why) when
 * the kernel has no BTF or lacks a field, so callers leave pid/comm out rather than guess. */
cl_kwalk *cl_kwalk_load(cl_kmem *k, cl_kallsyms *ks, cl_error **errp);
void cl_kwalk_free(cl_kwalk *w);
CL_DEFINE_AUTOPTR_FUNC(cl_kwalk, cl_kwalk_free)

/* pid and comm (NUL-terminated, printable) of the task current on Linux CPU cpu. */
bool cl_kwalk_current(cl_kwalk *w, unsigned cpu, int64_t *pid, char comm[17], cl_error **errp);

/* "func+0xoff [module]" for an address inside a loaded module's core. */
bool cl_kwalk_module_symbol(cl_kwalk *w, uint64_t addr, char *out, size_t len, cl_error **errp);

#endif
