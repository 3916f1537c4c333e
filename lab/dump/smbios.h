/* smbios.h - finding and decoding the SMBIOS tables in a dump's physical memory: the entry
 * point (_SM_ 2.x or _SM3_ 3.x), then the BIOS (type 0) and System (type 1) strings. What
 * the firmware told the guest, and so what the guest believes it runs on. */
#ifndef CL_DUMP_SMBIOS_H
#define CL_DUMP_SMBIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dump/physmem.h"

#define CL_SMBIOS_STR 128
#define CL_SMBIOS_MAX_TABLE (256u << 10)
#define CL_SMBIOS_SCAN_MAX_PAGES (1u << 21)

typedef struct {
    char anchor[8];          /* "_SM_" or "_SM3_" */
    uint64_t entry_address;
    uint8_t major, minor;
    uint64_t table_address;
    uint32_t table_length;
    char bios_vendor[CL_SMBIOS_STR], bios_version[CL_SMBIOS_STR], bios_date[CL_SMBIOS_STR];
    char manufacturer[CL_SMBIOS_STR], product[CL_SMBIOS_STR], version[CL_SMBIOS_STR];
    char serial[CL_SMBIOS_STR], sku[CL_SMBIOS_STR], family[CL_SMBIOS_STR];
    char uuid[37];
    bool have_bios, have_system;
} cl_smbios;

/* Looks in the BIOS F-segment first (SeaBIOS), then at every page of RAM (UEFI puts the
 * entry point anywhere). Entry points must pass their checksum. False when none is found. */
bool cl_smbios_find(cl_physmem *m, cl_smbios *out, cl_error **errp);

/* Decodes a structure table already in memory (exposed for tests and fuzzing). */
void cl_smbios_parse_table(const unsigned char *t, size_t len, cl_smbios *out);

#endif
