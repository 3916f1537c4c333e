#include "dump/smbios.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/le.h"

static bool checksum_ok(const unsigned char *p, size_t len)
{
    unsigned char sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (unsigned char)(sum + p[i]);
    return sum == 0;
}

/* Checks an entry point at p (room bytes readable); fills the table location. */
static bool entry_point(const unsigned char *p, size_t room, cl_smbios *s)
{
    if (room >= 0x18 && !memcmp(p, "_SM3_", 5)) {
        uint8_t len = p[6];
        if (len < 0x18 || len > room || !checksum_ok(p, len))
            return false;
        snprintf(s->anchor, sizeof(s->anchor), "_SM3_");
        s->major = p[7];
        s->minor = p[8];
        s->table_length = cl_le32(p + 0x0c);
        s->table_address = cl_le64(p + 0x10);
        return true;
    }
    if (room >= 0x1f && !memcmp(p, "_SM_", 4)) {
        uint8_t len = p[5];
        if (len < 0x1f || len > room || !checksum_ok(p, len) || memcmp(p + 0x10, "_DMI_", 5) ||
            !checksum_ok(p + 0x10, 0x0f))
            return false;
        snprintf(s->anchor, sizeof(s->anchor), "_SM_");
        s->major = p[6];
        s->minor = p[7];
        s->table_length = cl_le16(p + 0x16);
        s->table_address = cl_le32(p + 0x18);
        return true;
    }
    return false;
}

/* String number n (1-based) of the structure whose strings start at str (end bounds them). */
static void string_at(const unsigned char *str, const unsigned char *end, unsigned n, char *out, size_t len)
{
    out[0] = '\0';
    if (n == 0)
        return;
    const unsigned char *p = str;
    for (unsigned i = 1; p < end && *p; i++) {
        const unsigned char *z = memchr(p, 0, (size_t)(end - p));
        if (!z)
            return;
        if (i == n) {
            size_t k = 0;
            for (; p < z && k + 1 < len; p++)
                out[k++] = (*p >= 0x20 && *p < 0x7f) ? (char)*p : '?';
            out[k] = '\0';
            return;
        }
        p = z + 1;
    }
}

void cl_smbios_parse_table(const unsigned char *t, size_t len, cl_smbios *s)
{
    size_t off = 0;
    for (int count = 0; off + 4 <= len && count < 4096; count++) {
        uint8_t type = t[off], slen = t[off + 1];
        if (slen < 4 || off + slen > len)
            return;
        const unsigned char *f = t + off, *str = t + off + slen, *end = t + len;
        if (type == 0 && !s->have_bios) {
            s->have_bios = true;
            if (slen > 0x05) {
                string_at(str, end, f[0x04], s->bios_vendor, sizeof(s->bios_vendor));
                string_at(str, end, f[0x05], s->bios_version, sizeof(s->bios_version));
            }
            if (slen > 0x08)
                string_at(str, end, f[0x08], s->bios_date, sizeof(s->bios_date));
        } else if (type == 1 && !s->have_system) {
            s->have_system = true;
            if (slen > 0x07) {
                string_at(str, end, f[0x04], s->manufacturer, sizeof(s->manufacturer));
                string_at(str, end, f[0x05], s->product, sizeof(s->product));
                string_at(str, end, f[0x06], s->version, sizeof(s->version));
                string_at(str, end, f[0x07], s->serial, sizeof(s->serial));
            }
            if (slen >= 0x18) {
                const unsigned char *u = f + 0x08;
                /* SMBIOS 2.6+: the first three fields are little-endian */
                snprintf(s->uuid, sizeof(s->uuid), "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", cl_le32(u),
                         cl_le16(u + 4), cl_le16(u + 6), u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
            }
            if (slen > 0x1a) {
                string_at(str, end, f[0x19], s->sku, sizeof(s->sku));
                string_at(str, end, f[0x1a], s->family, sizeof(s->family));
            }
        } else if (type == 127) {
            return;
        }
        /* the strings end with a double NUL */
        size_t p = off + slen;
        while (p + 1 < len && !(t[p] == 0 && t[p + 1] == 0))
            p++;
        off = p + 2;
    }
}

static bool read_table(cl_physmem *m, cl_smbios *s, cl_error **errp)
{
    uint32_t len = s->table_length;
    if (len == 0 || len > CL_SMBIOS_MAX_TABLE)
        return cl_error_set(errp, CL_ERR_CORRUPT, "smbios: structure table of %u bytes", len);
    unsigned char *t = malloc(len);
    if (!t)
        return cl_error_set(errp, CL_ERR_NOMEM, "smbios: cannot allocate %u bytes", len);
    bool ok = cl_physmem_read(m, s->table_address, t, len, errp);
    if (ok)
        cl_smbios_parse_table(t, len, s);
    free(t);
    return ok;
}

static bool scan_page(cl_physmem *m, uint64_t pfn, const unsigned char *page, cl_smbios *s, cl_error **errp)
{
    for (size_t at = 0; at + 0x18 <= CL_PAGE_SIZE; at += 16) {
        if (page[at] != '_' || page[at + 1] != 'S' || page[at + 2] != 'M')
            continue;
        cl_smbios cand = { 0 };
        if (!entry_point(page + at, CL_PAGE_SIZE - at, &cand))
            continue;
        cand.entry_address = pfn * CL_PAGE_SIZE + at;
        cl_error *err = NULL;
        if (read_table(m, &cand, &err) && (cand.have_bios || cand.have_system)) {
            *s = cand;
            return true;
        }
        cl_error_free(err);
    }
    (void)errp;
    return false;
}

bool cl_smbios_find(cl_physmem *m, cl_smbios *s, cl_error **errp)
{
    unsigned char page[CL_PAGE_SIZE];
    memset(s, 0, sizeof(*s));
    for (uint64_t pfn = 0xf0; pfn < 0x100; pfn++) {
        cl_error *err = NULL;
        if (m->read_page(m->ctx, pfn, page, &err) && scan_page(m, pfn, page, s, errp))
            return true;
        cl_error_free(err);
    }
    uint64_t pfn = 0, next;
    for (unsigned n = 0; n < CL_SMBIOS_SCAN_MAX_PAGES && m->next_page(m->ctx, pfn, &next); n++) {
        cl_error *err = NULL;
        if ((next < 0xf0 || next >= 0x100) && m->read_page(m->ctx, next, page, &err) && memmem(page, sizeof(page), "_SM", 3) &&
            scan_page(m, next, page, s, errp))
            return true;
        cl_error_free(err);
        pfn = next + 1;
    }
    return cl_error_set(errp, CL_ERR_INVAL, "smbios: no valid _SM_ or _SM3_ entry point in the dump's memory");
}
