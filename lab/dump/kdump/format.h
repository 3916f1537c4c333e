/* format.h - the kdump-compressed layout (makedumpfile, QEMU dump-guest-memory -z/-l/-s).
 *
 *   block 0                      disk_dump_header "KDUMP   " (block_size = page size)
 *   block 1                      kdump_sub_header (sub_hdr_size blocks): phys_base,
 *                                vmcoreinfo and ELF note offsets
 *   block 1+sub_hdr_size         bitmap 1 (RAM pages) | bitmap 2 (dumped pages),
 *                                bitmap_blocks blocks in all, half each
 *   next block                   page_desc[one per bit set in bitmap 2], 24 bytes each
 *   then                         page data, each page zlib/lzo/snappy-compressed or raw
 *
 * QEMU (before 8.2) writes this inside makedumpfile's *flattened* format: a 4 KiB header
 * "makedumpfile" (type 1, version 1, big-endian), then records {be64 offset; be64 size;
 * data[size]} that place pieces at offsets of the layout above, ended by offset -1. */
#ifndef CL_DUMP_KDUMP_FORMAT_H
#define CL_DUMP_KDUMP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define KDUMP_SIGNATURE "KDUMP   "
#define KDUMP_SIG_LEN 8
#define FLAT_SIGNATURE "makedumpfile"
#define FLAT_HEADER_SIZE 4096u

typedef struct __attribute__((packed)) {
    char signature[8];          /* 0x000 */
    uint32_t header_version;    /* 0x008 */
    char utsname[6][65];        /* 0x00c: sysname nodename release version machine domainname */
    char pad[6];                /* 0x192 */
    int64_t tv_sec;             /* 0x198: struct timeval (QEMU leaves it zero) */
    int64_t tv_usec;            /* 0x1a0 */
    uint32_t status;            /* 0x1a8 */
    uint32_t block_size;        /* 0x1ac */
    uint32_t sub_hdr_size;      /* 0x1b0: blocks */
    uint32_t bitmap_blocks;     /* 0x1b4 */
    uint32_t max_mapnr;         /* 0x1b8: obsolete since version 6 */
    uint32_t total_ram_blocks;  /* 0x1bc */
    uint32_t device_blocks;     /* 0x1c0 */
    uint32_t written_blocks;    /* 0x1c4 */
    uint32_t current_cpu;       /* 0x1c8 */
    uint32_t nr_cpus;           /* 0x1cc */
} kdump_header64;

_Static_assert(offsetof(kdump_header64, utsname) == 0x0c, "disk_dump_header layout");
_Static_assert(offsetof(kdump_header64, tv_sec) == 0x198, "disk_dump_header layout");
_Static_assert(offsetof(kdump_header64, block_size) == 0x1ac, "disk_dump_header layout");
_Static_assert(offsetof(kdump_header64, nr_cpus) == 0x1cc, "disk_dump_header layout");
_Static_assert(sizeof(kdump_header64) == 0x1d0, "disk_dump_header size");

#define UTS_RELEASE 2
#define UTS_MACHINE 4

typedef struct __attribute__((packed)) {
    uint64_t phys_base;         /* 0x00 */
    uint32_t dump_level;        /* 0x08 */
    uint32_t split;             /* 0x0c */
    uint64_t start_pfn;         /* 0x10 */
    uint64_t end_pfn;           /* 0x18 */
    uint64_t offset_vmcoreinfo; /* 0x20: version 3+ */
    uint64_t size_vmcoreinfo;   /* 0x28 */
    uint64_t offset_note;       /* 0x30: version 4+ */
    uint64_t size_note;         /* 0x38 */
    uint64_t offset_eraseinfo;  /* 0x40: version 5+ */
    uint64_t size_eraseinfo;    /* 0x48 */
    uint64_t start_pfn_64;      /* 0x50: version 6+ */
    uint64_t end_pfn_64;        /* 0x58 */
    uint64_t max_mapnr_64;      /* 0x60 */
} kdump_sub_header64;

_Static_assert(offsetof(kdump_sub_header64, offset_vmcoreinfo) == 0x20, "kdump_sub_header layout");
_Static_assert(offsetof(kdump_sub_header64, max_mapnr_64) == 0x60, "kdump_sub_header layout");
_Static_assert(sizeof(kdump_sub_header64) == 0x68, "kdump_sub_header size");

typedef struct __attribute__((packed)) {
    uint64_t offset;            /* 0x00: file offset of the page data */
    uint32_t size;              /* 0x08: stored bytes */
    uint32_t flags;             /* 0x0c: DUMP_DH_COMPRESSED_* */
    uint64_t page_flags;        /* 0x10 */
} kdump_page_desc;

_Static_assert(sizeof(kdump_page_desc) == 24, "page_desc size");

#define DUMP_DH_COMPRESSED_ZLIB 0x1
#define DUMP_DH_COMPRESSED_LZO 0x2
#define DUMP_DH_COMPRESSED_SNAPPY 0x4
#define DUMP_DH_COMPRESSED_ZSTD 0x20

/* Caps: pages up to 64 KiB, at most 2^40 pfns in a bitmap, flattened records bounded by the file. */
#define KDUMP_MAX_BLOCK_SIZE 65536u

#endif
