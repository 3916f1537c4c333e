#include "dump/notes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void vwarn(cl_dump_notes *n, const char *fmt, va_list ap)
{
    if (n->n >= CL_DUMP_MAX_WARNINGS) {
        n->dropped++;
        return;
    }
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (!strcmp(n->items[i], s)) { /* the same problem repeats page after page */
            free(s);
            return;
        }
    }
    n->items[n->n++] = s;
}

void cl_dump_warn(cl_dump_notes *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(n, fmt, ap);
    va_end(ap);
}

void cl_dump_truncated(cl_dump_notes *n, const char *fmt, ...)
{
    n->truncated = true;
    va_list ap;
    va_start(ap, fmt);
    vwarn(n, fmt, ap);
    va_end(ap);
}

void cl_dump_note_error(cl_dump_notes *n, cl_error **err, const char *context)
{
    if (!err || !*err)
        return;
    if ((*err)->code == CL_ERR_TRUNCATED)
        cl_dump_truncated(n, "%s: %s", context, (*err)->msg);
    else
        cl_dump_warn(n, "%s: %s", context, (*err)->msg);
    cl_error_free(*err);
    *err = NULL;
}

void cl_dump_notes_clear(cl_dump_notes *n)
{
    for (size_t i = 0; i < n->n; i++)
        free(n->items[i]);
    memset(n, 0, sizeof(*n));
}
