/* windump.h - the Windows crash dump reader: PAGEDUMP (32-bit) and PAGEDU64 headers, full,
 * bitmap and triage layouts, the triage module list and physical page reads. */
#ifndef CL_DUMP_WINDUMP_H
#define CL_DUMP_WINDUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "dump/notes.h"
#include "dump/pagemap.h"
#include "dump/physmem.h"
#include "dump/reader.h"

#define CL_WIN_MACHINE_I386 0x014c
#define CL_WIN_MACHINE_AMD64 0x8664
#define CL_WIN_MACHINE_ARM64 0xaa64

/* Caps that keep a hostile header from sizing allocations: far above what Windows writes. */
#define CL_WIN_MAX_RUNS 256
#define CL_WIN_MAX_MODULES 4096

typedef struct {
    char name[96];   /* base name, UTF-16 narrowed to ASCII ('?' for the rest) */
    uint64_t base;
    uint32_t size;
    uint32_t timestamp;
} cl_win_module;

typedef struct {
    uint64_t base_page;
    uint64_t page_count;
    uint64_t file_offset; /* where the run's first page is stored */
} cl_win_run;

typedef struct cl_windump {
    cl_reader *r;           /* borrowed */
    bool is64;
    uint32_t header_size;
    uint32_t major, minor;
    uint32_t machine;
    uint32_t processors;
    uint32_t bugcheck;
    uint64_t params[4];
    uint64_t directory_table_base;
    uint64_t pfn_database;
    uint64_t ps_loaded_module_list;
    uint64_t ps_active_process_head;
    uint64_t kd_debugger_data_block;
    uint32_t dump_type;
    uint64_t required_dump_space;
    uint64_t system_time;    /* FILETIME */
    uint64_t system_up_time;
    uint32_t product_type;
    uint32_t suite_mask;
    char comment[129];
    bool have_exception;
    uint32_t exception_code;
    uint64_t exception_address;

    /* full dumps */
    cl_win_run *runs;
    size_t nruns;
    uint64_t number_of_pages;

    /* bitmap dumps */
    bool have_bitmap;
    uint32_t bitmap_signature;
    uint64_t bmp_first_page;
    uint64_t bmp_present_pages;
    uint64_t bmp_pages;
    cl_pagemap map;          /* bmp_pages pages */

    /* triage dumps */
    bool have_triage;
    uint64_t triage_top_of_stack;
    uint32_t triage_stack_offset, triage_stack_size;
    cl_win_module *modules;
    size_t nmodules;
    uint32_t driver_count;   /* as the header says; nmodules may be fewer */

    cl_dump_notes notes;
} cl_windump;

/* True when the first bytes carry a Windows dump signature. */
bool cl_windump_probe(const unsigned char *head, size_t len);

/* Reads what r holds. Returns NULL only when r is not a Windows dump at all (CL_ERR_FORMAT)
 * or its first header cannot be read; a cut-short or inconsistent dump is returned with
 * notes.truncated / warnings set. */
cl_windump *cl_windump_open(cl_reader *r, cl_error **errp);
void cl_windump_free(cl_windump *d);
CL_DEFINE_AUTOPTR_FUNC(cl_windump, cl_windump_free)

const char *cl_windump_type_name(uint32_t type);      /* NULL when unknown */
const char *cl_windump_machine_name(uint32_t machine); /* NULL when unknown */

/* Reads one 4 KiB physical page (full and bitmap dumps). False with CL_ERR_INVAL when the
 * dump does not hold that page. */
bool cl_windump_read_page(cl_windump *d, uint64_t pfn, void *page, cl_error **errp);

/* Calls fn for each physical page the dump holds, in address order, until fn returns false. */
void cl_windump_each_page(cl_windump *d, bool (*fn)(void *ctx, uint64_t pfn), void *ctx);

/* Presents the dump's physical memory (full and bitmap dumps) as a cl_physmem; d must outlive m. */
void cl_windump_physmem(cl_windump *d, cl_physmem *m);

/* The module whose [base, base+size) contains addr, or NULL. */
const cl_win_module *cl_windump_module_at(const cl_windump *d, uint64_t addr);

#endif
