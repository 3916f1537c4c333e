/* title.h - stable crash titles, the key the corpus deduplicates on (STYLE.md 10):
 * at most 120 printable ASCII characters, no addresses, no run-to-run numbers. */
#ifndef CL_DUMP_TITLE_H
#define CL_DUMP_TITLE_H

#include <stddef.h>

#define CL_TITLE_MAX 120

/* Copies raw into out keeping printable ASCII, folding runs of white space into one space,
 * trimming, and cutting at CL_TITLE_MAX characters. */
void cl_dump_title_sanitize(const char *raw, char *out, size_t len);

/* Like cl_dump_title_sanitize, and first replaces what changes from run to run:
 * "func+0x12/0x40" -> "func", hex numbers -> ADDR, other numbers standing alone -> NUM. */
void cl_dump_title_from_text(const char *raw, char *out, size_t len);

#endif
