/* kdump_write.h - the lab's own kdump-compressed writer: guest-physical memory in,
 * a standard (not flattened) kdump file out, each page compressed with zstd on every core.
 *
 * The layout is the one crash, drgn/libkdumpfile, makedumpfile and QEMU share (see
 * lab/dump/kdump/format.h): header, sub-header with the ELF notes (one NT_PRSTATUS and one
 * QEMU note per vCPU, then VMCOREINFO), two page bitmaps, one descriptor per page, page
 * data. Like QEMU's own writer (dump level 1, "exclude zero pages"), a page of zeros is
 * never compressed or stored: its descriptor points at one shared zero page, so every
 * reader reads it back as zeros without a zero_excluded setting.
 *
 * The memory comes through a source callback (the QEMU process in lab/virt/memdump.c, a
 * buffer in the unit test); pages are read and compressed in 1 MiB chunks by worker
 * threads and written in order, so memory use is a few chunks per thread.
 */
#ifndef CL_DUMP_WRITER_KDUMP_WRITE_H
#define CL_DUMP_WRITER_KDUMP_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define CL_KW_PAGE 4096u
#define CL_KW_MAX_RANGES 64

/* A run of guest-physical memory that the dump holds: page-aligned start and length. */
typedef struct {
    uint64_t gpa;
    uint64_t len;
} cl_kw_range;

typedef struct {
    void *ctx;
    /* Reads len bytes of guest-physical memory at gpa, inside one range. Called from
     * several threads at once. */
    bool (*read)(void *ctx, uint64_t gpa, void *buf, size_t len, cl_error **errp);
    /* Optional: sets map[i] to 0 for each of npages pages from gpa known to be all zeros
     * without reading (never touched), 1 otherwise; false when it cannot tell. Such pages
     * are neither read nor scanned. */
    bool (*present)(void *ctx, uint64_t gpa, size_t npages, unsigned char *map);
} cl_kw_source;

/* The page codec. zstd is the fastest here; lzo is what Debian's makedumpfile 1.7.2 also
 * reads (it is built without zstd), so `makedumpfile --dump-dmesg` and `-d 31` work. */
typedef enum { CL_KW_ZSTD, CL_KW_LZO } cl_kw_codec;

typedef struct {
    const cl_kw_range *ranges;  /* sorted by gpa, not overlapping */
    size_t nranges;
    const unsigned char *notes; /* ELF note area: PRSTATUS, QEMU notes, VMCOREINFO */
    size_t notes_len;
    uint32_t nr_cpus;
    uint64_t phys_base;
    char utsname[6][65];        /* sysname nodename release version machine domainname */
    int64_t timestamp;          /* Unix seconds */
    int threads;                /* 0: one per online CPU */
    int level;                  /* zstd level; 0 means 1 */
    cl_kw_codec codec;          /* 0: zstd */
} cl_kw_params;

typedef struct {
    uint64_t pages;        /* pages in the dump */
    uint64_t zero_pages;   /* of which all zero (not stored) */
    uint64_t raw_pages;    /* stored uncompressed (the codec would not shrink them) */
    uint64_t file_bytes;
    int threads;
} cl_kw_stats;

/* Writes the dump to path (through path.partial, renamed when complete). */
bool cl_kdump_write(const char *path, const cl_kw_params *p, const cl_kw_source *src, cl_kw_stats *st,
                    cl_error **errp);

/* Finds the PT_NOTE segment of an ELF64 core (as QEMU's dump-guest-memory writes it) in
 * buf and sets *off and *nlen to it, bounded by len. */
bool cl_kw_elf_notes(const unsigned char *buf, size_t len, size_t *off, size_t *nlen, cl_error **errp);

/* Walks a note area: counts NT_PRSTATUS notes and finds the VMCOREINFO note's text
 * (*vmci_off and *vmci_len inside notes, 0 and 0 when absent). */
bool cl_kw_notes_scan(const unsigned char *notes, size_t len, uint32_t *nr_prstatus, size_t *vmci_off,
                      size_t *vmci_len, cl_error **errp);

#endif
