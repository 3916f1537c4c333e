/* jsonout.c - see jsonout.h. */
#include "jsonout.h"

#include <inttypes.h>
#include <string.h>

static void put_escaped(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    for (size_t i = 0; i < len && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void key(lj_writer *w, const char *k)
{
    if (w->need_comma[w->depth])
        fputc(',', w->out);
    w->need_comma[w->depth] = true;
    if (k) {
        put_escaped(w->out, k, strlen(k));
        fputc(':', w->out);
    }
}

void lj_begin(lj_writer *w, FILE *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    fputc('{', out);
}

void lj_str(lj_writer *w, const char *k, const char *value)
{
    lj_strn(w, k, value, strlen(value));
}

void lj_strn(lj_writer *w, const char *k, const char *value, size_t len)
{
    key(w, k);
    put_escaped(w->out, value, len);
}

void lj_bool(lj_writer *w, const char *k, bool value)
{
    key(w, k);
    fputs(value ? "true" : "false", w->out);
}

void lj_int(lj_writer *w, const char *k, long long value)
{
    key(w, k);
    fprintf(w->out, "%lld", value);
}

void lj_hex(lj_writer *w, const char *k, uint64_t value)
{
    key(w, k);
    fprintf(w->out, "\"0x%" PRIx64 "\"", value);
}

static void open_nested(lj_writer *w, const char *k, char c)
{
    key(w, k);
    fputc(c, w->out);
    /* Deeper than the writer tracks is a programming error; stay valid JSON anyway. */
    if (w->depth + 1 < (int)(sizeof(w->need_comma) / sizeof(w->need_comma[0])))
        w->depth++;
    w->need_comma[w->depth] = false;
}

void lj_object_begin(lj_writer *w, const char *k)
{
    open_nested(w, k, '{');
}

void lj_array_begin(lj_writer *w, const char *k)
{
    open_nested(w, k, '[');
}

void lj_close_object(lj_writer *w)
{
    fputc('}', w->out);
    if (w->depth > 0)
        w->depth--;
}

void lj_close_array(lj_writer *w)
{
    fputc(']', w->out);
    if (w->depth > 0)
        w->depth--;
}

void lj_end(lj_writer *w)
{
    fputs("}\n", w->out);
    fflush(w->out);
}
