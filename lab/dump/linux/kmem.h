/* kmem.h - reading x86-64 kernel virtual memory out of a dump's physical memory, by
 * walking the kernel's own page tables (init_top_pgt from VMCOREINFO, or a CPU's CR3). */
#ifndef CL_DUMP_KMEM_H
#define CL_DUMP_KMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dump/physmem.h"

#define CL_X86_START_KERNEL_MAP 0xffffffff80000000ull

typedef struct {
    cl_physmem *mem;
    uint64_t phys_base;
    uint64_t pgd;          /* physical address of the top-level page table, 0 when unknown */
    bool l5;               /* 5-level paging */
    uint64_t sme_mask;
} cl_kmem;

/* Sets up from VMCOREINFO (may be NULL) and a CR3 seen in the CPU notes (0 when none). */
void cl_kmem_init(cl_kmem *k, cl_physmem *mem, const char *vmci, uint64_t cr3);
bool cl_kmem_vtop(cl_kmem *k, uint64_t va, uint64_t *pa, cl_error **errp);
bool cl_kmem_read(cl_kmem *k, uint64_t va, void *buf, size_t len, cl_error **errp);
bool cl_kmem_read_u64(cl_kmem *k, uint64_t va, uint64_t *out, cl_error **errp);
bool cl_kmem_read_u32(cl_kmem *k, uint64_t va, uint32_t *out, cl_error **errp);

#endif
