/* notes.h - the warnings and truncation flag every reader keeps beside its partial result
 * (STYLE.md 7: inconsistent input is noted and the reader goes on). */
#ifndef CL_DUMP_NOTES_H
#define CL_DUMP_NOTES_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define CL_DUMP_MAX_WARNINGS 16

typedef struct {
    char *items[CL_DUMP_MAX_WARNINGS];
    size_t n;
    size_t dropped;     /* warnings past the cap, counted only */
    bool truncated;     /* the file ends before data its headers promise */
} cl_dump_notes;

void cl_dump_warn(cl_dump_notes *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records a truncation: sets n->truncated and adds the warning. */
void cl_dump_truncated(cl_dump_notes *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes over *err as a warning (a truncation when its code is CL_ERR_TRUNCATED) and frees it. */
void cl_dump_note_error(cl_dump_notes *n, cl_error **err, const char *context);
void cl_dump_notes_clear(cl_dump_notes *n);

#endif
