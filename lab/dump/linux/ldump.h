/* ldump.h - a Linux dump opened whatever its container (ELF vmcore or kdump-compressed):
 * physical memory, notes, VMCOREINFO, kernel virtual memory. */
#ifndef CL_DUMP_LDUMP_H
#define CL_DUMP_LDUMP_H

#include "dump/elf/elfcore.h"
#include "dump/kdump/kdump.h"
#include "dump/linux/kmem.h"

typedef struct {
    cl_elfcore *elf;        /* one of these two */
    cl_kdump *kdump;
    cl_physmem *mem;
    cl_linux_notes *lnotes;
    cl_dump_notes *notes;
    const char *vmci;       /* VMCOREINFO text, or NULL */
    bool vmci_from_memory;  /* found by scanning RAM rather than in a note */
    char *vmci_owned;
    cl_kmem kmem;
} cl_ldump;

/* NULL when r is neither an ELF core nor a kdump file. */
cl_ldump *cl_ldump_open(cl_reader *r, cl_error **errp);
void cl_ldump_free(cl_ldump *d);
CL_DEFINE_AUTOPTR_FUNC(cl_ldump, cl_ldump_free)

#endif
