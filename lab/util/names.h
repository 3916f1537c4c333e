/* names.h - the one grammar for names the user gives that the lab turns into a path, a
 * libvirt domain name or metadata, XML, a guest kernel command line:
 * run ids, batch names, label keys and values, corpus entries, matrix axes.
 *
 * A name is 1 to CL_NAME_MAX characters of A-Z a-z 0-9 '.' '_' '-', and starts with a
 * letter or a digit. So it has no '/', is never '.' or '..', has no leading '.' (hidden, or a .partial
 * directory), no spaces or '=' (a kernel command line), no '<' '&' quotes (XML), no
 * control characters or non-ASCII bytes (a terminal). Nothing is escaped or repaired:
 * a name that does not fit is refused with a message saying why, and the caller exits 2
 * before anything is written. */
#ifndef CL_UTIL_NAMES_H
#define CL_UTIL_NAMES_H

#include <stdbool.h>

#include "error.h"

#define CL_NAME_MAX 100

/* True when name fits the grammar; else sets CL_ERR_INVAL with a message that starts with
 * what ("run id", "batch name", "label", ...) and shows the name with unprintable bytes
 * as \xNN. */
bool cl_name_check(const char *what, const char *name, cl_error **errp);

/* The grammar in one line, for usage texts and error messages. */
#define CL_NAME_GRAMMAR "1-100 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit"

#endif
