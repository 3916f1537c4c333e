/* text.c - per-sink cleaning of guest text (text.h). */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t cl_text_utf8_seq(const unsigned char *s, size_t len, unsigned *cp)
{
    if (len == 0)
        return 0;
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2, min = 0x80, c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, min = 0x800, c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

size_t cl_text_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    const unsigned char *u = (const unsigned char *)s;
    /* s[n] is the first byte left out: if it continues a character, the cut is inside
     * that character, so back up to where it starts (at most 3 bytes). */
    size_t n = max;
    for (int i = 0; i < 3 && n > 0 && (u[n] & 0xc0) == 0x80; i++)
        n--;
    return (u[n] & 0xc0) == 0x80 ? max : n;
}

char *cl_text_utf8_clean(const char *s, size_t len)
{
    if (len > ((size_t)-1 - 1) / 3)
        return NULL;
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t l = u[i] ? cl_text_utf8_seq(u + i, len - i, &cp) : 0;
        if (l) {
            memcpy(out + o, u + i, l);
            o += l;
            i += l;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

static bool utf8_ok(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t l = u[i] ? cl_text_utf8_seq(u + i, len - i, &cp) : 0;
        if (!l)
            return false;
        i += l;
    }
    return true;
}

size_t cl_text_json_clean(json_object *o)
{
    size_t n = 0;
    if (json_object_is_type(o, json_type_string)) {
        const char *s = json_object_get_string(o);
        size_t len = (size_t)json_object_get_string_len(o);
        if (!utf8_ok(s, len)) {
            char *c = cl_text_utf8_clean(s, len);
            if (c) {
                json_object_set_string(o, c);
                free(c);
                n++;
            }
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            n += cl_text_json_clean(json_object_array_get_idx(o, i));
    } else if (json_object_is_type(o, json_type_object)) {
        /* Keys first: a bad key is re-added under its cleaned name (which moves it last). */
        for (bool again = true; again;) {
            again = false;
            json_object_object_foreach(o, key, val) {
                if (!utf8_ok(key, strlen(key))) {
                    char *c = cl_text_utf8_clean(key, strlen(key));
                    if (!c)
                        break;
                    json_object *keep = json_object_get(val);
                    json_object_object_del(o, key);
                    json_object_object_add(o, c, keep);
                    free(c);
                    n++;
                    again = true;
                    break;
                }
            }
        }
        json_object_object_foreach(o, k2, v2) {
            (void)k2;
            n += cl_text_json_clean(v2);
        }
    }
    return n;
}

void cl_text_terminal(const char *s, char *out, size_t outlen)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s), o = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp = 0;
        size_t l = cl_text_utf8_seq(u + i, len - i, &cp);
        bool keep = l && ((cp >= 0x20 && cp < 0x7f) || cp == '\t' || cp > 0x9f);
        size_t need = keep ? l : 4;
        if (o + need + 4 > outlen) {
            snprintf(out + o, outlen - o, "...");
            return;
        }
        if (keep) {
            memcpy(out + o, u + i, l);
            o += l;
            i += l;
        } else {
            /* One byte at a time: a C1 control's two bytes show as two escapes. */
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", u[i]);
            i++;
        }
    }
    out[o] = '\0';
}

void cl_text_put_lines(FILE *f, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned cp = 0;
        size_t l = cl_text_utf8_seq(u + i, len - i, &cp);
        if (l && ((cp >= 0x20 && cp < 0x7f) || cp == '\t' || cp == '\n' || cp > 0x9f)) {
            fwrite(u + i, 1, l, f);
            i += l;
        } else {
            fprintf(f, "\\x%02x", u[i]);
            i++;
        }
    }
}
