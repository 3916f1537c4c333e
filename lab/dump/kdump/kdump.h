/* kdump.h - the kdump-compressed reader, plain or in makedumpfile's flattened format. */
#ifndef CL_DUMP_KDUMP_H
#define CL_DUMP_KDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dump/linux/lnotes.h"
#include "dump/notes.h"
#include "dump/pagemap.h"
#include "dump/physmem.h"
#include "dump/reader.h"

typedef struct {
    cl_reader *file;        /* borrowed */
    cl_reader *r;           /* the kdump layout: file itself, or the reassembled flattened view */
    cl_reader *flat;        /* owned when flattened */
    bool flattened;
    bool flat_faithful;     /* flattened, and every record was kept (flat.h) */
    uint32_t header_version;
    char release[66];
    char machine[66];
    int64_t timestamp;      /* Unix seconds, 0 when the writer left it empty */
    uint32_t block_size;
    uint32_t nr_cpus;
    uint64_t phys_base;
    uint64_t max_mapnr;
    cl_pagemap map;         /* the second bitmap: dumped pages */
    uint64_t dumped_pages;
    uint64_t desc_offset;
    uint32_t compressions_seen; /* DUMP_DH_COMPRESSED_* flags met while reading */
    cl_linux_notes lnotes;
    cl_dump_notes notes;
    cl_physmem mem;
    unsigned char *cbuf;    /* one compressed page */
} cl_kdump;

/* True for "KDUMP   " or a flattened "makedumpfile" header. */
bool cl_kdump_probe(const unsigned char *head, size_t len);

cl_kdump *cl_kdump_open(cl_reader *r, cl_error **errp);
void cl_kdump_free(cl_kdump *k);
CL_DEFINE_AUTOPTR_FUNC(cl_kdump, cl_kdump_free)

#endif
