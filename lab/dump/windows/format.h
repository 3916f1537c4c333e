/* format.h - the on-disk layout of Windows kernel crash dumps (MEMORY.DMP, minidumps).
 *
 *   0x0000  DUMP_HEADER64 "PAGE" "DU64"   (0x2000 bytes; DUMP_HEADER32 "PAGE" "DUMP": 0x1000)
 *           ... bug check, PhysicalMemoryBlock, context, exception, DumpType ...
 *   0x2000  full (1):        pages of every PhysicalMemoryBlock run, in run order
 *           bitmap (2,5,6,8-10): BMP_HEADER64 "SDMP"/"FDMP" "DUMP", bitmap, then the
 *                            present pages from FirstPage, one per set bit
 *           triage (4):      TRIAGE_DUMP64; every *Offset in it is a file offset
 *
 * These structs are never overlaid on file bytes: fields are decoded with cl_le32/64 at
 * offsetof(), so the asserts below pin the offsets the decoder uses. */
#ifndef CL_DUMP_WINDOWS_FORMAT_H
#define CL_DUMP_WINDOWS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define WIN_SIG_PAGE 0x45474150u /* "PAGE" */
#define WIN_SIG_DU64 0x34365544u /* "DU64" */
#define WIN_SIG_DUMP 0x504d5544u /* "DUMP" */
#define WIN_SIG_SDMP 0x504d4453u /* "SDMP" */
#define WIN_SIG_FDMP 0x504d4446u /* "FDMP" */
#define WIN_SIG_TRGD 0x44475254u /* "TRGD": triage ValidOffset marker */

#define WIN_PAGE_SIZE 4096u

typedef struct __attribute__((packed)) {
    uint32_t signature;              /* 0x000 */
    uint32_t valid_dump;             /* 0x004 */
    uint32_t major_version;          /* 0x008 */
    uint32_t minor_version;          /* 0x00c: the build number */
    uint64_t directory_table_base;   /* 0x010 */
    uint64_t pfn_database;           /* 0x018 */
    uint64_t ps_loaded_module_list;  /* 0x020 */
    uint64_t ps_active_process_head; /* 0x028 */
    uint32_t machine_image_type;     /* 0x030 */
    uint32_t number_processors;      /* 0x034 */
    uint32_t bugcheck_code;          /* 0x038 */
    uint32_t pad0;                   /* 0x03c */
    uint64_t bugcheck_param[4];      /* 0x040 */
    uint8_t version_user[32];        /* 0x060 */
    uint64_t kd_debugger_data_block; /* 0x080 */
    uint8_t physical_memory_block[0x2c0]; /* 0x088: PHYSICAL_MEMORY_DESCRIPTOR64 */
    uint8_t context_record[3000];    /* 0x348 */
    uint8_t exception[0x98];         /* 0xf00: EXCEPTION_RECORD64 */
    uint32_t dump_type;              /* 0xf98 */
    uint32_t pad1;                   /* 0xf9c */
    uint64_t required_dump_space;    /* 0xfa0 */
    uint64_t system_time;            /* 0xfa8: FILETIME, UTC */
    uint8_t comment[128];            /* 0xfb0 */
    uint64_t system_up_time;         /* 0x1030 */
    uint32_t minidump_fields;        /* 0x1038 */
    uint32_t secondary_data_state;   /* 0x103c */
    uint32_t product_type;           /* 0x1040 */
    uint32_t suite_mask;             /* 0x1044 */
    uint32_t writer_status;          /* 0x1048 */
    uint8_t unused1;                 /* 0x104c */
    uint8_t kd_secondary_version;    /* 0x104d */
    uint8_t unused[2];               /* 0x104e */
    uint32_t attributes;             /* 0x1050 */
    uint32_t boot_id;                /* 0x1054 */
    uint8_t reserved[0xfa8];         /* 0x1058 */
} win_header64;

_Static_assert(offsetof(win_header64, bugcheck_param) == 0x40, "DUMP_HEADER64 layout");
_Static_assert(offsetof(win_header64, kd_debugger_data_block) == 0x80, "DUMP_HEADER64 layout");
_Static_assert(offsetof(win_header64, context_record) == 0x348, "DUMP_HEADER64 layout");
_Static_assert(offsetof(win_header64, exception) == 0xf00, "DUMP_HEADER64 layout");
_Static_assert(offsetof(win_header64, dump_type) == 0xf98, "DUMP_HEADER64 layout");
_Static_assert(offsetof(win_header64, system_time) == 0xfa8, "DUMP_HEADER64 layout");
_Static_assert(offsetof(win_header64, system_up_time) == 0x1030, "DUMP_HEADER64 layout");
_Static_assert(offsetof(win_header64, product_type) == 0x1040, "DUMP_HEADER64 layout");
_Static_assert(sizeof(win_header64) == 0x2000, "DUMP_HEADER64 size");

typedef struct __attribute__((packed)) {
    uint32_t signature;              /* 0x000 */
    uint32_t valid_dump;             /* 0x004 */
    uint32_t major_version;          /* 0x008 */
    uint32_t minor_version;          /* 0x00c */
    uint32_t directory_table_base;   /* 0x010 */
    uint32_t pfn_database;           /* 0x014 */
    uint32_t ps_loaded_module_list;  /* 0x018 */
    uint32_t ps_active_process_head; /* 0x01c */
    uint32_t machine_image_type;     /* 0x020 */
    uint32_t number_processors;      /* 0x024 */
    uint32_t bugcheck_code;          /* 0x028 */
    uint32_t bugcheck_param[4];      /* 0x02c */
    uint8_t version_user[32];        /* 0x03c */
    uint8_t pae_enabled;             /* 0x05c */
    uint8_t kd_secondary_version;    /* 0x05d */
    uint8_t spare[2];                /* 0x05e */
    uint32_t kd_debugger_data_block; /* 0x060 */
    uint8_t physical_memory_block[700]; /* 0x064: PHYSICAL_MEMORY_DESCRIPTOR32 */
    uint8_t context_record[1200];    /* 0x320 */
    uint8_t exception[0x50];         /* 0x7d0: EXCEPTION_RECORD32 */
    uint8_t comment[128];            /* 0x820 */
    uint8_t reserved0[0x6e8];        /* 0x8a0 */
    uint32_t dump_type;              /* 0xf88 */
    uint32_t minidump_fields;        /* 0xf8c */
    uint32_t secondary_data_state;   /* 0xf90 */
    uint32_t product_type;           /* 0xf94 */
    uint32_t suite_mask;             /* 0xf98 */
    uint32_t writer_status;          /* 0xf9c */
    uint64_t required_dump_space;    /* 0xfa0 */
    uint8_t reserved2[16];           /* 0xfa8 */
    uint64_t system_up_time;         /* 0xfb8 */
    uint64_t system_time;            /* 0xfc0 */
    uint8_t reserved3[56];           /* 0xfc8 */
} win_header32;

_Static_assert(offsetof(win_header32, kd_debugger_data_block) == 0x60, "DUMP_HEADER32 layout");
_Static_assert(offsetof(win_header32, context_record) == 0x320, "DUMP_HEADER32 layout");
_Static_assert(offsetof(win_header32, exception) == 0x7d0, "DUMP_HEADER32 layout");
_Static_assert(offsetof(win_header32, dump_type) == 0xf88, "DUMP_HEADER32 layout");
_Static_assert(offsetof(win_header32, required_dump_space) == 0xfa0, "DUMP_HEADER32 layout");
_Static_assert(offsetof(win_header32, system_time) == 0xfc0, "DUMP_HEADER32 layout");
_Static_assert(sizeof(win_header32) == 0x1000, "DUMP_HEADER32 size");

/* PHYSICAL_MEMORY_DESCRIPTOR64 { u32 NumberOfRuns; u32 pad; u64 NumberOfPages;
 * { u64 BasePage; u64 PageCount } Run[] }; the 32-bit one uses u32 throughout. */
#define WIN_PMD64_RUNS 0x10
#define WIN_PMD32_RUNS 0x08

/* EXCEPTION_RECORD64 / 32 */
#define WIN_EXC64_CODE 0x00
#define WIN_EXC64_ADDRESS 0x10
#define WIN_EXC32_CODE 0x00
#define WIN_EXC32_ADDRESS 0x0c

typedef struct __attribute__((packed)) {
    uint32_t signature;   /* 0x00: "SDMP" or "FDMP" */
    uint32_t valid_dump;  /* 0x04: "DUMP" */
    uint8_t pad[0x18];    /* 0x08 */
    uint64_t first_page;  /* 0x20: file offset of the first present page */
    uint64_t total_present_pages; /* 0x28 */
    uint64_t pages;       /* 0x30: bits in the bitmap */
    /* 0x38: uint8_t bitmap[(pages + 7) / 8] */
} win_bmp_header64;

_Static_assert(offsetof(win_bmp_header64, first_page) == 0x20, "BMP_HEADER64 layout");
_Static_assert(sizeof(win_bmp_header64) == 0x38, "BMP_HEADER64 size");

typedef struct __attribute__((packed)) {
    uint32_t service_pack_build;      /* 0x00 */
    uint32_t size_of_dump;            /* 0x04 */
    uint32_t valid_offset;            /* 0x08 */
    uint32_t context_offset;          /* 0x0c */
    uint32_t exception_offset;        /* 0x10 */
    uint32_t mm_offset;               /* 0x14 */
    uint32_t unloaded_drivers_offset; /* 0x18 */
    uint32_t prcb_offset;             /* 0x1c */
    uint32_t process_offset;          /* 0x20 */
    uint32_t thread_offset;           /* 0x24 */
    uint32_t call_stack_offset;       /* 0x28 */
    uint32_t size_of_call_stack;      /* 0x2c */
    uint32_t driver_list_offset;      /* 0x30 */
    uint32_t driver_count;            /* 0x34 */
    uint32_t string_pool_offset;      /* 0x38 */
    uint32_t string_pool_size;        /* 0x3c */
    uint32_t broken_driver_offset;    /* 0x40 */
    uint32_t triage_options;          /* 0x44 */
    uint64_t top_of_stack;            /* 0x48 */
    uint8_t arch_specific[8];         /* 0x50 */
    uint64_t data_page_address;       /* 0x58 */
    uint32_t data_page_offset;        /* 0x60 */
    uint32_t data_page_size;          /* 0x64 */
    uint32_t debugger_data_offset;    /* 0x68 */
    uint32_t debugger_data_size;      /* 0x6c */
    uint32_t data_blocks_offset;      /* 0x70 */
    uint32_t data_blocks_count;       /* 0x74 */
} win_triage64;

_Static_assert(offsetof(win_triage64, driver_list_offset) == 0x30, "TRIAGE_DUMP64 layout");
_Static_assert(offsetof(win_triage64, top_of_stack) == 0x48, "TRIAGE_DUMP64 layout");
_Static_assert(sizeof(win_triage64) == 0x78, "TRIAGE_DUMP64 size");

/* TRIAGE_DUMP32 has the same u32 fields up to TriageOptions; TopOfStack is u32 there. */
#define WIN_TRIAGE32_SIZE 0x48
#define WIN_TRIAGE32_TOP_OF_STACK 0x44

/* DUMP_DRIVER_ENTRY64 { u32 DriverNameOffset; u32 pad; KLDR_DATA_TABLE_ENTRY64 LdrEntry; } */
#define WIN_DRV64_SIZE 0x90
#define WIN_DRV64_NAME 0x00
#define WIN_DRV64_DLLBASE 0x38   /* 0x08 + LdrEntry.DllBase (0x30) */
#define WIN_DRV64_SIZEOFIMAGE 0x48
#define WIN_DRV64_TIMESTAMP 0x88
/* DUMP_DRIVER_ENTRY32 { u32 DriverNameOffset; KLDR_DATA_TABLE_ENTRY32 LdrEntry; } */
#define WIN_DRV32_SIZE 0x4c
#define WIN_DRV32_NAME 0x00
#define WIN_DRV32_DLLBASE 0x1c
#define WIN_DRV32_SIZEOFIMAGE 0x24

/* DUMP_STRING { u32 Length (UTF-16 units); WCHAR Buffer[Length]; WCHAR NUL; } */

#endif
