#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool error_vset(cl_error **errp, cl_error_code code, int errnum, const char *fmt, va_list ap)
{
    if (!errp || *errp)
        return false;
    cl_error *e = calloc(1, sizeof(*e));
    if (!e)
        return false;
    e->code = code;
    int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    if (errnum && n >= 0 && (size_t)n < sizeof(e->msg))
        snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", strerror(errnum));
    *errp = e;
    return false;
}

bool cl_error_set(cl_error **errp, cl_error_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(errp, code, 0, fmt, ap);
    va_end(ap);
    return false;
}

bool cl_error_set_errno(cl_error **errp, cl_error_code code, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(errp, code, errnum, fmt, ap);
    va_end(ap);
    return false;
}

void cl_error_prefix(cl_error **errp, const char *fmt, ...)
{
    if (!errp || !*errp)
        return;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    char old[sizeof((*errp)->msg)];
    memcpy(old, (*errp)->msg, sizeof(old));
    size_t n = strlen(prefix);
    if (n > sizeof(old) - 3)
        n = sizeof(old) - 3;
    memcpy((*errp)->msg, prefix, n);
    memcpy((*errp)->msg + n, ": ", 2);
    size_t room = sizeof(old) - n - 3;
    size_t m = strnlen(old, room);
    memcpy((*errp)->msg + n + 2, old, m);
    (*errp)->msg[n + 2 + m] = '\0';
}

void cl_error_free(cl_error *err)
{
    free(err);
}

const char *cl_error_code_to_string(cl_error_code code)
{
    static const char *const names[CL_ERR_LAST] = {
        "ok", "invalid", "io", "nomem", "format", "truncated", "corrupt",
        "virt", "agent", "timeout", "guest", "interrupted",
    };
    return (unsigned)code < CL_ERR_LAST ? names[code] : "unknown";
}

void cl_force_close(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
        *fd = -1;
    }
}
