#include "buf.h"
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool buf_grow(cl_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > (size_t)-1 / 2 - b->len || (b->max && b->len + extra > b->max)) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void cl_buf_add(cl_buf *b, const char *s, size_t len)
{
    if (!buf_grow(b, len))
        return;
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void cl_buf_adds(cl_buf *b, const char *s)
{
    cl_buf_add(b, s, strlen(s));
}

void cl_buf_addf(cl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (!buf_grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void cl_buf_add_xml(cl_buf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned cp = 0;
        size_t l = cl_text_utf8_seq(u + i, len - i, &cp);
        /* XML 1.0 has no way to write C0 controls (but tab, LF, CR), U+FFFE/U+FFFF or bytes
         * that are not UTF-8, not even as character references: they become U+FFFD. */
        if (!l || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xfffe || cp == 0xffff) {
            cl_buf_adds(b, "\xef\xbf\xbd");
            i++;
            continue;
        }
        switch (cp) {
        case '<': cl_buf_adds(b, "&lt;"); break;
        case '>': cl_buf_adds(b, "&gt;"); break;
        case '&': cl_buf_adds(b, "&amp;"); break;
        case '"': cl_buf_adds(b, "&quot;"); break;
        case '\'': cl_buf_adds(b, "&apos;"); break;
        default: cl_buf_add(b, s + i, l);
        }
        i += l;
    }
}

char *cl_buf_finish(cl_buf *b, cl_error **errp)
{
    if (b->failed) {
        cl_buf_reset(b);
        cl_error_set(errp, CL_ERR_NOMEM, "buffer: out of memory or over its limit");
        return NULL;
    }
    if (!b->data && !buf_grow(b, 0)) {
        cl_error_set(errp, CL_ERR_NOMEM, "buffer: out of memory");
        return NULL;
    }
    b->data[b->len] = '\0';
    char *p = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void cl_buf_reset(cl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}
