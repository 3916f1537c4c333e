/* labdump.h - the capture rung's choice of writer for dump_format kdump-lzo and kdump-zstd:
 * the lab's own (lab/virt/memdump.h) when QEMU runs on this machine, else QEMU's kdump-zlib. */
#ifndef CL_RUN_LABDUMP_H
#define CL_RUN_LABDUMP_H

#include <json-c/json.h>
#include <stdbool.h>

#include "run_priv.h"

/* Tries the lab's writer for path, pages in fmt's codec (CL_DUMPFMT_KDUMP_LZO or _ZSTD).
 * Returns true when it wrote the dump. Either way *writer is set to result.json's dump.writer
 * object: {"name": "crashlab", codec, threads, pages, ...} or {"name": "qemu", "why": ...}
 * (the caller then dumps kdump-zlib through QEMU). */
bool cl_run_lab_dump(cl_run_ctx *c, const char *path, cl_dump_format fmt, json_object **writer);

#endif
