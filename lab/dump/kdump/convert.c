#include "dump/kdump/convert.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump/kdump/format.h"
#include "dump/linux/ldump.h"
#include "dump/linux/vmcoreinfo.h"
#include "util/fileio.h"

#define COPY_CHUNK (1u << 20)
#define UTS_LEN 65
#define UTS_SYSNAME 0
#define UTS_NODENAME 1
#define UTS_VERSION 3
#define UTS_DOMAINNAME 5

/* Guest text into a header field: at most 64 bytes, printable ASCII, NUL-terminated. */
static void uts_clean(char *dst, const char *src, size_t srclen)
{
    size_t i = 0;
    for (; i < UTS_LEN - 1 && i < srclen && src[i]; i++)
        dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
    memset(dst + i, 0, UTS_LEN - i);
}

/* struct new_utsname in the kernel: six char[65], the same layout as the header's. The
 * offset of `name` in struct uts_namespace is in VMCOREINFO since 5.6; before it was 4
 * (after a kref) and since 5.11 it is 0, so without the key both are tried, and only a
 * copy that names itself Linux with the dump's release is believed. */
static bool read_init_uts(cl_ldump *d, const char *release, char uts[6][UTS_LEN])
{
    uint64_t va, off;
    if (!d->vmci || !cl_vmci_symbol(d->vmci, "init_uts_ns", &va))
        return false;
    uint64_t cands[2] = { 0, 4 };
    size_t ncand = 2;
    if (cl_vmci_offset(d->vmci, "uts_namespace.name", &off) && off < 4096) {
        cands[0] = off;
        ncand = 1;
    }
    for (size_t i = 0; i < ncand; i++) {
        char raw[6][UTS_LEN];
        cl_error *err = NULL;
        if (!cl_kmem_read(&d->kmem, va + cands[i], raw, sizeof(raw), &err)) {
            cl_error_free(err);
            continue;
        }
        if (strncmp(raw[UTS_SYSNAME], "Linux", UTS_LEN) || strncmp(raw[UTS_RELEASE], release, UTS_LEN))
            continue;
        for (int f = 0; f < 6; f++)
            uts_clean(uts[f], raw[f], UTS_LEN);
        return true;
    }
    return false;
}

/* Fills the empty utsname fields of the header bytes h (kdump_header64). */
static void fill_utsname(cl_ldump *d, unsigned char *h, cl_kdump_convert_info *info)
{
    char cur[6][UTS_LEN];
    for (int f = 0; f < 6; f++)
        uts_clean(cur[f], (const char *)h + offsetof(kdump_header64, utsname) + UTS_LEN * f, UTS_LEN);
    bool had_version = cur[UTS_VERSION][0] != '\0';
    char osrelease[UTS_LEN] = "";
    char rel[256];
    if (d->vmci && cl_vmci_get(d->vmci, "OSRELEASE", rel, sizeof(rel)))
        uts_clean(osrelease, rel, sizeof(rel));
    if (osrelease[0]) {
        if (!cur[UTS_SYSNAME][0])
            memcpy(cur[UTS_SYSNAME], "Linux", 6);
        if (!cur[UTS_RELEASE][0])
            memcpy(cur[UTS_RELEASE], osrelease, UTS_LEN);
        char kern[6][UTS_LEN];
        if (read_init_uts(d, osrelease, kern)) {
            for (int f = 0; f < 6; f++)
                if (!cur[f][0])
                    memcpy(cur[f], kern[f], UTS_LEN);
            info->version_from = had_version ? "header" : "init_uts_ns";
        }
    }
    if (!info->version_from)
        info->version_from = had_version ? "header" : "none";
    for (int f = 0; f < 6; f++)
        memcpy(h + offsetof(kdump_header64, utsname) + UTS_LEN * f, cur[f], UTS_LEN);
    memcpy(info->sysname, cur[UTS_SYSNAME], UTS_LEN);
    memcpy(info->nodename, cur[UTS_NODENAME], UTS_LEN);
    memcpy(info->release, cur[UTS_RELEASE], UTS_LEN);
    memcpy(info->version, cur[UTS_VERSION], UTS_LEN);
    memcpy(info->machine, cur[UTS_MACHINE], UTS_LEN);
    memcpy(info->domainname, cur[UTS_DOMAINNAME], UTS_LEN);
}

/* QEMU (dump.c vmcoreinfo_update_phys_base, 7.2) reads the guest's NUMBER(phys_base) as
 * hex, but the kernel writes NUMBER() in decimal: phys_base 2097152 (0x200000) lands in the
 * sub-header as 0x2097152. makedumpfile trusts the sub-header and then walks page tables at
 * the wrong address ("check_release: Can't get the address of system_utsname"). Returns 1
 * with the right value in pb (little-endian) when the sub-header needs it, else 0. */
static size_t fix_phys_base(cl_ldump *d, unsigned char pb[8], cl_kdump_convert_info *info)
{
    int64_t v;
    info->phys_base_header = d->kdump->phys_base;
    info->phys_base = d->kdump->phys_base;
    if (d->vmci_from_memory || !cl_vmci_number(d->vmci, "phys_base", &v) || (uint64_t)v == d->kdump->phys_base ||
        d->kdump->header_version < 1 || d->kdump->block_size != CL_PAGE_SIZE)
        return 0;
    info->phys_base = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        pb[i] = (unsigned char)((uint64_t)v >> (8 * i));
    return 1;
}

static bool write_all(int fd, const unsigned char *p, size_t len, const char *tmp, cl_error **errp)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "kdump: cannot write '%s'", tmp);
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Bytes of the output that differ from the input: the header's utsname, the sub-header's
 * phys_base. */
typedef struct {
    uint64_t off;
    const unsigned char *bytes;
    size_t len;
} patch;

/* The view of the input (the reassembled file when flattened), patched, into fd. */
static bool copy_view(cl_kdump *k, const patch *patches, size_t npatches, int fd, const char *tmp, cl_error **errp)
{
    unsigned char *buf = malloc(COPY_CHUNK);
    if (!buf)
        return cl_error_set(errp, CL_ERR_NOMEM, "kdump: cannot allocate a copy buffer");
    uint64_t size = cl_reader_size(k->r);
    bool ok = true;
    for (uint64_t off = 0; ok && off < size;) {
        size_t n = size - off < COPY_CHUNK ? (size_t)(size - off) : COPY_CHUNK;
        ok = cl_reader_read(k->r, off, n, buf, errp);
        for (size_t i = 0; ok && i < npatches; i++) {
            const patch *p = &patches[i];
            uint64_t a = p->off > off ? p->off : off;
            uint64_t b = p->off + p->len < off + n ? p->off + p->len : off + n;
            if (a < b)
                memcpy(buf + (a - off), p->bytes + (a - p->off), (size_t)(b - a));
        }
        ok = ok && write_all(fd, buf, n, tmp, errp);
        off += n;
    }
    free(buf);
    return ok;
}

/* What was written must read back as a plain kdump file holding the same pages. */
static bool verify(const char *tmp, uint64_t pages, cl_error **errp)
{
    CL_AUTOPTR(cl_reader) r = cl_reader_open_file(tmp, errp);
    if (!r)
        return false;
    CL_AUTOPTR(cl_kdump) k = cl_kdump_open(r, errp);
    if (!k)
        return false;
    if (k->flattened || k->notes.truncated || k->dumped_pages != pages)
        return cl_error_set(errp, CL_ERR_CORRUPT, "kdump: the converted file '%s' reads back as %s with %llu pages "
                            "(expected a plain file with %llu)", tmp, k->flattened ? "flattened" : "plain",
                            (unsigned long long)k->dumped_pages, (unsigned long long)pages);
    return true;
}

bool cl_kdump_convert(const char *in, const char *out, cl_kdump_convert_info *info, cl_error **errp)
{
    cl_kdump_convert_info local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof(*info));
    double t0 = cl_now();
    CL_AUTOPTR(cl_reader) r = cl_reader_open_file(in, errp);
    if (!r)
        return false;
    CL_AUTOPTR(cl_ldump) d = cl_ldump_open(r, errp);
    if (!d)
        return false;
    if (!d->kdump)
        return cl_error_set(errp, CL_ERR_FORMAT, "kdump: '%s' is not a kdump file", in);
    cl_kdump *k = d->kdump;
    info->was_flattened = k->flattened;
    info->bytes_in = cl_reader_size(r);
    const char *why = k->notes.n ? k->notes.items[0] : "";
    if (k->flattened && !k->flat_faithful)
        return cl_error_set(errp, CL_ERR_CORRUPT, "kdump: the flattened records of '%s' do not reassemble exactly: %s",
                            in, why);
    if (k->notes.truncated)
        return cl_error_set(errp, CL_ERR_TRUNCATED, "kdump: '%s' is cut short: %s", in, why);
    unsigned char hdr[sizeof(kdump_header64)];
    if (!cl_reader_read(k->r, 0, sizeof(hdr), hdr, errp))
        return false;
    if (memcmp(hdr, KDUMP_SIGNATURE, KDUMP_SIG_LEN))
        return cl_error_set(errp, CL_ERR_FORMAT, "kdump: '%s' holds no KDUMP header%s", in,
                            k->flattened ? " inside its flattened records" : "");
    fill_utsname(d, hdr, info);
    info->pages = k->dumped_pages;
    unsigned char pb[8];
    size_t npatches = 1 + fix_phys_base(d, pb, info);
    patch patches[2] = { { 0, hdr, sizeof(hdr) }, { k->block_size, pb, sizeof(pb) } };

    struct stat st;
    if (stat(in, &st) < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "kdump: cannot stat '%s'", in);
    char tmp[PATH_MAX];
    CL_AUTOCLOSE fd = cl_file_create_temp(out, st.st_mode & 0777, tmp, sizeof(tmp), errp);
    if (fd < 0)
        return false;
    bool ok = copy_view(k, patches, npatches, fd, tmp, errp);
    if (ok && fchmod(fd, st.st_mode & 0777) < 0) /* the umask narrowed it; the lab's policy set the input's */
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "kdump: cannot set the mode of '%s'", tmp);
    if (ok && fdatasync(fd) < 0)
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "kdump: cannot sync '%s'", tmp);
    ok = ok && verify(tmp, k->dumped_pages, errp);
    if (ok && rename(tmp, out) < 0)
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "kdump: cannot rename '%s' to '%s'", tmp, out);
    if (!ok) {
        unlink(tmp);
        return false;
    }
    info->bytes_out = cl_reader_size(k->r);
    info->seconds = cl_now() - t0;
    return true;
}
