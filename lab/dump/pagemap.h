/* pagemap.h - a bounded bitmap of page frames 0..npages-1, bit pfn % 8 of byte pfn / 8 (the
 * layout of kdump's bitmaps and of Windows bitmap dumps), with the rank of a pfn (pages set
 * before it: where its descriptor or data sits in the file) in bounded time, and a walk over
 * the set pages. One module for the kdump reader, the Windows reader and the kdump writer. */
#ifndef CL_DUMP_PAGEMAP_H
#define CL_DUMP_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

typedef struct {
    unsigned char *bits; /* cl_pagemap_bytes() bytes, filled by the caller or by set */
    uint64_t npages;
    uint64_t *rank;      /* set pages before each block of CL_PAGEMAP_BLOCK pages */
    uint64_t set;        /* pages set, after cl_pagemap_seal */
} cl_pagemap;

/* Pages a rank entry covers (512 bytes of bitmap): a rank adds at most 64 words to it. */
#define CL_PAGEMAP_BLOCK 4096u

/* An empty map of npages pages. The bitmap's size comes from a header the dump claims, so it
 * is refused (CL_ERR_CORRUPT, nothing allocated) when it needs more than max_bytes bytes: the
 * caller passes what can back it (the bytes the file holds there). */
bool cl_pagemap_init(cl_pagemap *m, uint64_t npages, uint64_t max_bytes, cl_error **errp);
/* init, then the bitmap copied from buf of len bytes and sealed; refused when buf is shorter
 * than npages bits. */
bool cl_pagemap_load(cl_pagemap *m, const void *buf, uint64_t len, uint64_t npages, cl_error **errp);
/* Frees the map; it is then empty (npages 0), as after a failed init. */
void cl_pagemap_free(cl_pagemap *m);

static inline uint64_t cl_pagemap_bytes(const cl_pagemap *m)
{
    return m->npages / 8 + (m->npages % 8 != 0);
}

/* False for a pfn past the end. */
bool cl_pagemap_set(cl_pagemap *m, uint64_t pfn);
bool cl_pagemap_test(const cl_pagemap *m, uint64_t pfn);

/* After the bits are filled in: clears the bits past npages in the last byte, counts the set
 * pages per block and returns the total (also m->set). rank and next_held need it. */
uint64_t cl_pagemap_seal(cl_pagemap *m);

/* Pages set before pfn (the total for a pfn past the end). */
uint64_t cl_pagemap_rank(const cl_pagemap *m, uint64_t pfn);

/* The first set page at or after pfn. */
bool cl_pagemap_next(const cl_pagemap *m, uint64_t pfn, uint64_t *next);
/* The same, only if fewer than held pages come before it: a dump cut short holds the data of
 * its first `held` set pages only, so a scan ends where the file does. */
bool cl_pagemap_next_held(const cl_pagemap *m, uint64_t pfn, uint64_t held, uint64_t *next);
/* The run of set pages that starts at or after pfn: its first page and length. */
bool cl_pagemap_next_run(const cl_pagemap *m, uint64_t pfn, uint64_t *start, uint64_t *count);

#endif
