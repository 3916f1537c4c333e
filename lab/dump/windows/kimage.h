/* kimage.h - the Windows kernel image a dump was taken of: ntoskrnl's base, size and
 * TimeDateStamp (the symbol server's key for the binary) and its CodeView record (PDB name,
 * GUID, age: the key for its symbols), read from the dump itself. */
#ifndef CL_DUMP_WIN_KIMAGE_H
#define CL_DUMP_WIN_KIMAGE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "dump/windows/windump.h"

typedef struct {
    bool have_image;          /* base/size/timestamp known */
    char name[96];            /* "ntoskrnl.exe" */
    char source[32];          /* "PsLoadedModuleList" or "triage driver list" */
    uint64_t base;
    uint32_t size_of_image;
    uint32_t timestamp;
    bool have_pdb;            /* the CodeView RSDS record was read */
    char pdb_name[256];
    unsigned char guid[16];   /* as stored: Data1..3 little-endian, Data4 bytes */
    uint32_t age;
    char why[200];            /* when !have_pdb (or !have_image): why not */
} cl_win_kimage;

/* Fills k from d: for full and bitmap 64-bit x64 dumps through the kernel's page tables
 * (the header's DirectoryTableBase), the first PsLoadedModuleList entry and its PE image;
 * for triage dumps from the driver list (no image pages there). Never fails: what could not
 * be read is left out and k->why says why. Every read is bounded; the dump is hostile. */
void cl_win_kimage_read(cl_windump *d, cl_win_kimage *k);

/* {"name", "source", "base", "size_of_image", "timestamp", "image_key", "pdb": {"name", "guid",
 * "age", "symbol_key"} | null, "pdb_why"} */
json_object *cl_win_kimage_json(const cl_win_kimage *k);

#endif
