/* inspect_priv.h - pieces of the inspect object shared by the per-format builders. */
#ifndef CL_DUMP_INSPECT_PRIV_H
#define CL_DUMP_INSPECT_PRIV_H

#include <json-c/json.h>
#include <stdint.h>

#include "dump/dump.h"
#include "dump/notes.h"
#include "dump/reader.h"

json_object *cl_json_hex(uint64_t v);
/* Adds "truncated" and "warnings" from notes. */
void cl_json_add_notes(json_object *o, const cl_dump_notes *notes);
/* "2021-02-21T01:38:22Z" from Unix seconds. */
json_object *cl_json_time(int64_t unix_seconds);

/* cl_dump_inspect on an open reader (fuzz targets and tests use memory readers); name is
 * only used in messages. */
int cl_dump_inspect_reader(cl_reader *r, const char *name, json_object **out, cl_dump_crash *crash, cl_error **errp);

/* The per-format builders: fill *crash, then *out from it and the rest of the dump, and
 * return CL_DUMP_OK or CL_DUMP_TRUNCATED, or return CL_DUMP_NOT_A_DUMP with errp set when
 * the signature was wrong after all. */
int cl_inspect_windows(cl_reader *r, json_object **out, cl_dump_crash *crash, cl_error **errp);
int cl_inspect_linux(cl_reader *r, json_object **out, cl_dump_crash *crash, cl_error **errp);

#endif
