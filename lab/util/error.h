/* error.h - one error style for the host side.
 *
 * A failing function sets exactly one error where the problem is detected, with a
 * module prefix ("kdump: bitmap offset 0x... past EOF"), and returns false/NULL/-1.
 * Callers pass errp on without re-reporting. cl_error **errp is always the last
 * argument and may be NULL when the caller does not care.
 */
#ifndef CL_UTIL_ERROR_H
#define CL_UTIL_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#include "autoptr.h"

typedef enum {
    CL_ERR_OK = 0,
    CL_ERR_INVAL,     /* bad input from the user: scenario, option, path */
    CL_ERR_IO,        /* host file system */
    CL_ERR_NOMEM,
    CL_ERR_FORMAT,    /* a file is not of the expected format at all */
    CL_ERR_TRUNCATED, /* a file is cut short; partial results may be valid */
    CL_ERR_CORRUPT,   /* a file is of the format but inconsistent */
    CL_ERR_VIRT,      /* libvirt / QEMU / host: infrastructure */
    CL_ERR_AGENT,     /* guest agent missing, late or malformed */
    CL_ERR_TIMEOUT,
    CL_ERR_GUEST,     /* the guest did something the scenario did not allow */
    CL_ERR_INTERRUPTED,
    CL_ERR_LAST
} cl_error_code;

typedef struct cl_error {
    cl_error_code code;
    char msg[1024];
} cl_error;

/* Sets *errp (if errp is not NULL and *errp is still NULL) and returns false,
 * so that `return cl_error_set(errp, ...)` reads naturally. */
bool cl_error_set(cl_error **errp, cl_error_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like cl_error_set, appending ": strerror(errnum)". */
bool cl_error_set_errno(cl_error **errp, cl_error_code code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prepends "prefix: " to an already set error (no-op when none is set). */
void cl_error_prefix(cl_error **errp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void cl_error_free(cl_error *err);
const char *cl_error_code_to_string(cl_error_code code);

CL_DEFINE_AUTOPTR_FUNC(cl_error, cl_error_free)

#endif
