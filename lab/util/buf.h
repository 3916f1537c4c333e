/* buf.h - a growable string buffer with a sticky error, after libvirt's virBuffer:
 * appends after a failure do nothing and the caller checks once at the end. */
#ifndef CL_UTIL_BUF_H
#define CL_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    size_t max;   /* 0: no cap */
    bool failed;
} cl_buf;

void cl_buf_add(cl_buf *b, const char *s, size_t len);
void cl_buf_addf(cl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cl_buf_adds(cl_buf *b, const char *s);
/* Appends s escaped for XML text and attribute values; what XML 1.0 cannot hold at all
 * (C0 controls but tab/LF/CR, invalid UTF-8) becomes U+FFFD, so the result is always
 * well-formed whatever the guest wrote. */
void cl_buf_add_xml(cl_buf *b, const char *s);
/* Returns the NUL-terminated content and resets b; NULL (with errp set) if any append failed. */
char *cl_buf_finish(cl_buf *b, cl_error **errp);
void cl_buf_reset(cl_buf *b);

#endif
