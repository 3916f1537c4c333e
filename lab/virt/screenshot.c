#include <ctype.h>
#include <libvirt/libvirt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "screenshot.h"
#include "util/fileio.h"

static bool ppm_int(const unsigned char *p, size_t len, size_t *off, unsigned long *v)
{
    while (*off < len && (isspace(p[*off]) || p[*off] == '#')) {
        if (p[*off] == '#')
            while (*off < len && p[*off] != '\n')
                (*off)++;
        else
            (*off)++;
    }
    if (*off >= len || !isdigit(p[*off]))
        return false;
    unsigned long n = 0;
    while (*off < len && isdigit(p[*off])) {
        n = n * 10 + (unsigned long)(p[*off] - '0');
        if (n > 1000000)
            return false;
        (*off)++;
    }
    *v = n;
    return true;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void chunk(unsigned char *out, size_t *o, const char *type, const unsigned char *data, uint32_t len)
{
    put32(out + *o, len);
    memcpy(out + *o + 4, type, 4);
    if (len)
        memcpy(out + *o + 8, data, len);
    uint32_t crc = (uint32_t)crc32(0, out + *o + 4, len + 4);
    put32(out + *o + 8 + len, crc);
    *o += 12 + len;
}

bool cl_ppm_to_png(const unsigned char *ppm, size_t len, unsigned char **png, size_t *pnglen, cl_error **errp)
{
    size_t off = 2;
    unsigned long w, h, maxval;
    if (len < 2 || ppm[0] != 'P' || ppm[1] != '6' || !ppm_int(ppm, len, &off, &w) || !ppm_int(ppm, len, &off, &h) ||
        !ppm_int(ppm, len, &off, &maxval) || maxval != 255 || off >= len || !w || !h)
        return cl_error_set(errp, CL_ERR_FORMAT, "screenshot: not a binary PPM with maxval 255");
    off++; /* the single whitespace after maxval */
    uint64_t row = (uint64_t)w * 3, need = row * h;
    if (need > len - off)
        return cl_error_set(errp, CL_ERR_TRUNCATED, "screenshot: %lux%lu PPM needs %llu bytes, has %zu", w, h,
                            (unsigned long long)need, len - off);
    /* PNG scanlines: a filter byte (0) then the RGB row. */
    uint64_t rawlen = (row + 1) * h;
    unsigned char *raw = malloc(rawlen);
    uLongf zlen = compressBound((uLong)rawlen);
    unsigned char *z = malloc(zlen);
    unsigned char *out = malloc(zlen + 64);
    if (!raw || !z || !out) {
        free(raw), free(z), free(out);
        return cl_error_set(errp, CL_ERR_NOMEM, "screenshot: out of memory");
    }
    for (uint64_t y = 0; y < h; y++) {
        raw[y * (row + 1)] = 0;
        memcpy(raw + y * (row + 1) + 1, ppm + off + y * row, row);
    }
    int zr = compress2(z, &zlen, raw, (uLong)rawlen, 6);
    free(raw);
    if (zr != Z_OK) {
        free(z), free(out);
        return cl_error_set(errp, CL_ERR_NOMEM, "screenshot: compression failed");
    }
    size_t o = 0;
    memcpy(out, "\x89PNG\r\n\x1a\n", 8);
    o = 8;
    unsigned char ihdr[13];
    put32(ihdr, (uint32_t)w);
    put32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 2;  /* truecolour */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    chunk(out, &o, "IHDR", ihdr, 13);
    chunk(out, &o, "IDAT", z, (uint32_t)zlen);
    chunk(out, &o, "IEND", NULL, 0);
    free(z);
    *png = out;
    *pnglen = o;
    return true;
}

bool cl_domain_screenshot(cl_virt *v, virDomainPtr dom, const char *png_path, cl_error **errp)
{
    virStreamPtr st = virStreamNew(cl_virt_conn(v), 0);
    if (!st)
        return cl_virt_error(errp, "screenshot: cannot create a stream");
    char *mime = virDomainScreenshot(dom, st, 0, 0);
    if (!mime) {
        virStreamFree(st);
        return cl_virt_error(errp, "screenshot: the hypervisor cannot take one");
    }
    size_t cap = 1 << 20, len = 0;
    unsigned char *buf = malloc(cap);
    bool ok = buf != NULL;
    while (ok) {
        if (len == cap) {
            if (cap >= CL_SCREENSHOT_MAX) {
                ok = cl_error_set(errp, CL_ERR_INVAL, "screenshot: larger than %u bytes", CL_SCREENSHOT_MAX);
                break;
            }
            unsigned char *n = realloc(buf, cap * 2);
            if (!n) {
                ok = cl_error_set(errp, CL_ERR_NOMEM, "screenshot: out of memory");
                break;
            }
            buf = n;
            cap *= 2;
        }
        int r = virStreamRecv(st, (char *)buf + len, cap - len);
        if (r < 0)
            ok = cl_virt_error(errp, "screenshot: stream failed");
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    if (ok)
        virStreamFinish(st);
    else
        virStreamAbort(st);
    virStreamFree(st);
    unsigned char *png = NULL;
    size_t pnglen = 0;
    if (ok && !strcmp(mime, "image/png")) {
        png = buf;
        pnglen = len;
        buf = NULL;
    } else if (ok) {
        ok = cl_ppm_to_png(buf, len, &png, &pnglen, errp);
    }
    free(mime);
    free(buf);
    if (ok)
        ok = cl_file_write_atomic(png_path, png, pnglen, errp);
    free(png);
    return ok;
}
