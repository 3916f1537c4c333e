/* hive.c - bounded registry reads and writes over hivex (see hive.h). */
#include <errno.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/hive.h"

struct cl_hive {
    hive_h *h;
    char path[256];
};

cl_hive *cl_hive_open(const char *path, bool write, cl_error **errp)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        cl_error_set_errno(errp, CL_ERR_IO, errno, "hive: cannot stat '%s'", path);
        return NULL;
    }
    /* hivex reads the whole file into memory: cap it first. */
    if (!S_ISREG(st.st_mode) || (unsigned long long)st.st_size > CL_HIVE_MAX_BYTES || st.st_size < 4096) {
        cl_error_set(errp, CL_ERR_FORMAT, "hive: '%s' is %lld bytes: not a hive (4 KiB to %llu MiB)", path,
                     (long long)st.st_size, CL_HIVE_MAX_BYTES >> 20);
        return NULL;
    }
    hive_h *hh = hivex_open(path, write ? HIVEX_OPEN_WRITE : 0);
    if (!hh) {
        cl_error_set_errno(errp, CL_ERR_FORMAT, errno, "hive: '%s' is not a registry hive", path);
        return NULL;
    }
    cl_hive *h = calloc(1, sizeof(*h));
    if (!h) {
        hivex_close(hh);
        cl_error_set(errp, CL_ERR_NOMEM, "hive: out of memory");
        return NULL;
    }
    h->h = hh;
    snprintf(h->path, sizeof(h->path), "%s", path);
    return h;
}

void cl_hive_free(cl_hive *h)
{
    if (!h)
        return;
    hivex_close(h->h);
    free(h);
}

bool cl_hive_commit(cl_hive *h, const char *path, cl_error **errp)
{
    if (hivex_commit(h->h, path, 0) < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "hive: cannot write '%s'", path);
    return true;
}

/* Walks "A\B\C" from the root; create: adds missing keys. 0 when absent. */
static hive_node_h walk(cl_hive *h, const char *key, bool create)
{
    hive_node_h node = hivex_root(h->h);
    if (!node)
        return 0;
    char buf[512];
    if (snprintf(buf, sizeof(buf), "%s", key) >= (int)sizeof(buf))
        return 0;
    int depth = 0;
    for (char *save = NULL, *part = strtok_r(buf, "\\", &save); part; part = strtok_r(NULL, "\\", &save)) {
        if (++depth > CL_HIVE_MAX_DEPTH)
            return 0;
        hive_node_h child = hivex_node_get_child(h->h, node, part);
        if (!child && create)
            child = hivex_node_add_child(h->h, node, part);
        if (!child)
            return 0;
        node = child;
    }
    return node;
}

bool cl_hive_key_exists(cl_hive *h, const char *key)
{
    return walk(h, key, false) != 0;
}

/* The value's bytes, when it exists, has one of the wanted types (0: any) and is small. */
static char *value_bytes(cl_hive *h, const char *key, const char *name, hive_type *t, size_t *len)
{
    hive_node_h node = walk(h, key, false);
    if (!node)
        return NULL;
    hive_value_h v = hivex_node_get_value(h->h, node, name);
    if (!v)
        return NULL;
    size_t l = 0;
    if (hivex_value_type(h->h, v, t, &l) < 0 || l > CL_HIVE_MAX_VALUE)
        return NULL;
    size_t got = 0;
    char *data = hivex_value_value(h->h, v, t, &got);
    if (!data)
        return NULL;
    if (got > CL_HIVE_MAX_VALUE) {
        free(data);
        return NULL;
    }
    *len = got;
    return data;
}

bool cl_hive_dword(cl_hive *h, const char *key, const char *name, uint32_t *out)
{
    hive_type t;
    size_t len = 0;
    CL_AUTOFREE char *d = value_bytes(h, key, name, &t, &len);
    if (!d || len != 4 || (t != hive_t_REG_DWORD && t != hive_t_REG_BINARY))
        return false;
    const uint8_t *b = (const uint8_t *)d;
    *out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

bool cl_hive_string(cl_hive *h, const char *key, const char *name, char *out, size_t outlen)
{
    hive_type t;
    size_t len = 0;
    CL_AUTOFREE char *d = value_bytes(h, key, name, &t, &len);
    if (!d || outlen == 0 || (t != hive_t_REG_SZ && t != hive_t_REG_EXPAND_SZ && t != hive_t_REG_MULTI_SZ))
        return false;
    out[0] = '\0';
    if (t != hive_t_REG_MULTI_SZ) {
        cl_utf16le_to_utf8((const uint8_t *)d, len, out, outlen);
        return true;
    }
    /* MULTI_SZ: NUL-separated, ends with an empty string. */
    size_t used = 0;
    for (size_t off = 0; off + 1 < len;) {
        size_t end = off;
        while (end + 1 < len && (d[end] || d[end + 1]))
            end += 2;
        if (end == off)
            break;
        if (used && used + 1 < outlen)
            out[used++] = '\n';
        if (used + 1 < outlen)
            used += cl_utf16le_to_utf8((const uint8_t *)d + off, end - off, out + used, outlen - used);
        off = end + 2;
    }
    out[used < outlen ? used : outlen - 1] = '\0';
    return true;
}

bool cl_hive_binary(cl_hive *h, const char *key, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    hive_type t;
    size_t l = 0;
    CL_AUTOFREE char *d = value_bytes(h, key, name, &t, &l);
    if (!d)
        return false;
    memcpy(out, d, l < cap ? l : cap);
    *len = l;
    return true;
}

bool cl_hive_set_binary(cl_hive *h, const char *key, const char *name, int type, const void *data, size_t len,
                        cl_error **errp)
{
    hive_node_h node = walk(h, key, true);
    if (!node)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "hive: cannot create key '%s' in '%s'", key, h->path);
    hive_set_value v = { .key = (char *)name, .t = (hive_type)type, .len = len, .value = (char *)data };
    if (hivex_node_set_value(h->h, node, &v, 0) < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "hive: cannot set '%s\\%s' in '%s'", key, name, h->path);
    return true;
}

bool cl_hive_set_dword(cl_hive *h, const char *key, const char *name, uint32_t v, cl_error **errp)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    return cl_hive_set_binary(h, key, name, CL_REG_DWORD, b, sizeof(b), errp);
}

bool cl_hive_set_string(cl_hive *h, const char *key, const char *name, int type, const char *utf8, cl_error **errp)
{
    uint8_t buf[4096];
    size_t n = cl_utf8_to_utf16le(utf8, buf, sizeof(buf) - 2);
    if (!n)
        return cl_error_set(errp, CL_ERR_INVAL, "hive: value '%s' for '%s\\%s' is too long or not UTF-8", utf8, key, name);
    if (type == CL_REG_MULTI_SZ) {
        /* One string: add the empty string that ends the list. */
        buf[n] = buf[n + 1] = 0;
        n += 2;
    }
    return cl_hive_set_binary(h, key, name, type, buf, n, errp);
}

static size_t put_utf8(uint32_t c, char *out, size_t room)
{
    char tmp[4];
    size_t n;
    if (c < 0x80) {
        tmp[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        tmp[0] = (char)(0xC0 | c >> 6);
        tmp[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        tmp[0] = (char)(0xE0 | c >> 12);
        tmp[1] = (char)(0x80 | (c >> 6 & 0x3F));
        tmp[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        tmp[0] = (char)(0xF0 | c >> 18);
        tmp[1] = (char)(0x80 | (c >> 12 & 0x3F));
        tmp[2] = (char)(0x80 | (c >> 6 & 0x3F));
        tmp[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    if (n > room)
        return 0;
    memcpy(out, tmp, n);
    return n;
}

size_t cl_utf16le_to_utf8(const uint8_t *in, size_t len, char *out, size_t outlen)
{
    if (!outlen)
        return 0;
    size_t o = 0;
    for (size_t i = 0; i + 1 < len;) {
        uint32_t c = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8;
        i += 2;
        if (c == 0)
            break;
        if (c >= 0xD800 && c <= 0xDBFF) {
            uint32_t lo = i + 1 < len ? ((uint32_t)in[i] | (uint32_t)in[i + 1] << 8) : 0;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            } else {
                c = 0xFFFD;
            }
        } else if (c >= 0xDC00 && c <= 0xDFFF) {
            c = 0xFFFD;
        }
        size_t n = put_utf8(c, out + o, outlen - 1 - o);
        if (!n)
            break;
        o += n;
    }
    out[o] = '\0';
    return o;
}

size_t cl_utf8_to_utf16le(const char *in, uint8_t *out, size_t outlen)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)in;
    while (*p) {
        uint32_t c;
        int extra;
        if (*p < 0x80) {
            c = *p;
            extra = 0;
        } else if ((*p & 0xE0) == 0xC0) {
            c = *p & 0x1F;
            extra = 1;
        } else if ((*p & 0xF0) == 0xE0) {
            c = *p & 0x0F;
            extra = 2;
        } else if ((*p & 0xF8) == 0xF0) {
            c = *p & 0x07;
            extra = 3;
        } else {
            return 0;
        }
        p++;
        for (int k = 0; k < extra; k++, p++) {
            if ((*p & 0xC0) != 0x80)
                return 0;
            c = c << 6 | (*p & 0x3F);
        }
        if (c >= 0x10000) {
            if (o + 4 > outlen)
                return 0;
            uint32_t v = c - 0x10000, hi = 0xD800 | v >> 10, lo = 0xDC00 | (v & 0x3FF);
            out[o++] = (uint8_t)hi;
            out[o++] = (uint8_t)(hi >> 8);
            out[o++] = (uint8_t)lo;
            out[o++] = (uint8_t)(lo >> 8);
        } else {
            if (o + 2 > outlen)
                return 0;
            out[o++] = (uint8_t)c;
            out[o++] = (uint8_t)(c >> 8);
        }
    }
    if (o + 2 > outlen)
        return 0;
    out[o++] = 0;
    out[o++] = 0;
    return o;
}
