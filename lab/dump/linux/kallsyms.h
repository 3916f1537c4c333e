/* kallsyms.h - symbolizing kernel addresses with the kernel's own compressed symbol table,
 * found through VMCOREINFO (SYMBOL(kallsyms_names), _offsets, _token_table, _token_index,
 * _relative_base, _num_syms), so no debug package is needed. */
#ifndef CL_DUMP_KALLSYMS_H
#define CL_DUMP_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dump/linux/kmem.h"

#define CL_KALLSYMS_MAX_SYMS (1u << 21)

typedef struct cl_kallsyms cl_kallsyms;

/* Loads the address table; NULL (errp set) when VMCOREINFO lacks the symbols. */
cl_kallsyms *cl_kallsyms_load(cl_kmem *k, const char *vmci, cl_error **errp);
void cl_kallsyms_free(cl_kallsyms *ks);
CL_DEFINE_AUTOPTR_FUNC(cl_kallsyms, cl_kallsyms_free)

/* Names the symbol containing addr: "name" and the offset into it. */
bool cl_kallsyms_lookup(cl_kallsyms *ks, uint64_t addr, char *name, size_t len, uint64_t *offset, cl_error **errp);

/* Addresses of the named symbols, in one pass over the names: addrs[i] = 0 for a name not
 * found. Per-CPU symbols (current_task) come back as their offset in the per-CPU area. */
bool cl_kallsyms_find(cl_kallsyms *ks, const char *const *names, size_t n, uint64_t *addrs, cl_error **errp);

#endif
