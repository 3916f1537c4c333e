/* flat.h - makedumpfile's flattened format: its record stream, read and checked once for
 * both the kdump reader (a view of the reassembled file) and the converter (which writes it).
 *
 *   0x0000  makedumpfile_header: "makedumpfile\0\0\0\0", be64 type (1), be64 version (1),
 *           zeros to 4096
 *   0x1000  record: be64 offset, be64 size, then size bytes that belong at offset of the
 *           reassembled file; records come in any order
 *   ...     end marker: offset = size = -1
 *
 * `makedumpfile -R` replays the records with lseek+write and trusts every one of them. Here
 * a record is rejected (a warning, and the map is no longer `faithful`) when it
 *   - is empty: QEMU may flush an empty cache once, so up to CL_FLAT_MAX_EMPTY are skipped;
 *     more stop the scan (a header followed by zeros is nothing but empty records),
 *   - has a negative offset or size, or places bytes past the file's own size plus
 *     CL_FLAT_MAX_HOLES (the reassembled file can only be larger than the flattened one by
 *     the padding its layout leaves unwritten, a few blocks),
 *   - overlaps bytes an earlier record placed (no writer of kdump files rewrites a range),
 *   - is one more than CL_FLAT_MAX_RECORDS.
 * So the work and the memory are bounded by the file's real content: every record costs at
 * least 17 bytes of file, record headers are read through a 64 KiB window, and the map holds
 * one extent per kept record. */
#ifndef CL_DUMP_KDUMP_FLAT_H
#define CL_DUMP_KDUMP_FLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dump/notes.h"
#include "dump/reader.h"

#define CL_FLAT_MAX_RECORDS (1u << 22)   /* 4 Mi records: QEMU's 16 KiB records of a 64 GiB dump */
#define CL_FLAT_MAX_EMPTY 64u
#define CL_FLAT_MAX_HOLES (1u << 20)

typedef struct {
    cl_reader_extent *ext;  /* sorted by off, non-overlapping; src is the data's offset in the file */
    size_t n;
    uint64_t size;          /* of the reassembled file: the end of the last extent */
    uint64_t data;          /* bytes the extents hold */
    uint64_t records;       /* records met, empty ones included */
    uint64_t rejected;      /* records dropped */
    bool ended;             /* the end marker was met */
    bool faithful;          /* ended, nothing rejected, nothing cut: the reassembly is exact */
} cl_flat_map;

/* Reads the records of the flattened file f. Damage is noted in notes and the map keeps
 * what could be trusted; false only when memory runs out or the header cannot be read. */
bool cl_flat_map_read(cl_reader *f, cl_flat_map *m, cl_dump_notes *notes, cl_error **errp);
/* Frees the extents (NULL-safe, idempotent). */
void cl_flat_map_clear(cl_flat_map *m);

#endif
