/* physmem.h - a dump's guest-physical memory, whatever the file format: the ELF PT_LOAD
 * map, the kdump bitmap + page descriptors, or a Windows run list / bitmap. Reads go
 * through a small page cache, so compressed formats decompress a page once. */
#ifndef CL_DUMP_PHYSMEM_H
#define CL_DUMP_PHYSMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define CL_PAGE_SIZE 4096u
#define CL_PHYSMEM_CACHE 32

typedef struct {
    void *ctx;
    /* Reads the 4 KiB page pfn. Fails with CL_ERR_INVAL when the dump does not hold it. */
    bool (*read_page)(void *ctx, uint64_t pfn, void *page, cl_error **errp);
    /* Sets *next to the first held pfn >= pfn; false when there is none. */
    bool (*next_page)(void *ctx, uint64_t pfn, uint64_t *next);
    struct {
        uint64_t pfn;
        bool valid;
        unsigned char data[CL_PAGE_SIZE];
    } cache[CL_PHYSMEM_CACHE];
} cl_physmem;

/* Reads len bytes at physical address pa, across pages. */
bool cl_physmem_read(cl_physmem *m, uint64_t pa, void *buf, size_t len, cl_error **errp);

#endif
