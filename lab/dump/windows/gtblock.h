/* gtblock.h - the Windows driver's ground truth as a dump holds it: labfault.sys keeps a
 * copy in a tagged non-paged block (struct labfault_gt_block, labfault_abi.h) rewritten on
 * every change and in the fire path, so labels come from the dump itself, as on Linux
 * (where the module prints them on the console). Pure parsing plus a page scan. */
#ifndef CL_DUMP_GTBLOCK_H
#define CL_DUMP_GTBLOCK_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dump/windows/windump.h"
#include "labfault_abi.h"

typedef struct {
    struct labfault_gt_block block;   /* validated copy */
    uint64_t pfn;                     /* where it was found */
    uint32_t offset;                  /* byte offset in that page */
} cl_gtblock;

/* Checks one candidate at buf (len bytes available): magic, size, checksum, a count within
 * LABFAULT_MAX_ITEMS, NUL-terminated names, nframes within bounds. Copies it on success. */
bool cl_gtblock_parse(const unsigned char *buf, size_t len, struct labfault_gt_block *out);

/* Scans every page the dump holds for a valid block (8-byte aligned, not crossing a page;
 * the driver's 568-byte pool block never does); the one with the highest sequence wins,
 * since a freed older copy may still sit in memory. False when there is none. */
bool cl_gtblock_find(cl_windump *d, cl_gtblock *out);

/* {"fault":..., "state":..., "items":{name: "0x..."}, "frames":[...], "address", "sequence"}. */
json_object *cl_gtblock_json(const cl_gtblock *g);

#endif
