/* dump.h - what the dump readers offer the rest of the lab.
 *
 * Readers are pure parsers: bytes in (through cl_reader, which bounds every access),
 * struct/JSON out. The inspect object is documented in results/README.md.
 */
#ifndef CL_DUMP_H
#define CL_DUMP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Exit-code style results of cl_dump_inspect. */
#define CL_DUMP_OK 0
#define CL_DUMP_NOT_A_DUMP 2   /* unknown signature or unreadable: *out not set */
#define CL_DUMP_TRUNCATED 3    /* cut short or inconsistent: *out set, "truncated": true */

/* Identifies and reads any supported dump (Windows PAGEDUMP/PAGEDU64, ELF vmcore,
 * kdump-compressed) and returns the inspect object. For Linux dumps the object also
 * carries "linux": {"panic_message", "log_tail", ...} recovered from the printk buffer. */
int cl_dump_inspect(const char *path, struct json_object **out, cl_error **errp);

/* What a verdict is matched against, typed: the inspect object's "title", "bugcheck" and
 * "linux.panic_message" are written from these fields, never the other way round. */
typedef struct {
    char title[128];             /* the crash title (report.h / title.h), always set */
    char panic_message[256];     /* Linux: after "Kernel panic - not syncing: ", "" when none */
    bool bugcheck_known;         /* Windows: the header's bug check */
    uint32_t bugcheck;
    uint64_t params[4];
} cl_dump_crash;

/* cl_dump_inspect, with the crash also handed back typed (zeroed when the result is
 * CL_DUMP_NOT_A_DUMP). */
int cl_dump_inspect_crash(const char *path, struct json_object **out, cl_dump_crash *crash, cl_error **errp);

/* The whole kernel log recovered from a Linux dump's printk ring ("[s.us] text\n" lines,
 * oldest first, at most CL_PRINTK_MAX_LOG bytes), malloc'd and NUL-terminated in *log.
 * False (errp set) for a Windows dump, a dump without VMCOREINFO or an unreadable ring. */
bool cl_dump_linux_log(const char *path, char **log, size_t *len, cl_error **errp);

#endif
