/* storage.c - a dump written into a storage pool on the domain's host, brought home over
 * the libvirt connection (storage.h says why it goes this way). */
#include <errno.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage.h"
#include "util/fileio.h"

#define SPOT_LEN (1u << 20)
#define DOWNLOAD_CHUNK (1u << 20)

/* The text of <tag>...</tag> after the first <after> in xml (libvirt's own XML: no
 * attributes on these elements, no nesting of the same tag). */
static bool xml_text_after(const char *xml, const char *after, const char *tag, char *out, size_t outlen)
{
    const char *p = strstr(xml, after);
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    p = p ? strstr(p, open) : NULL;
    if (!p)
        return false;
    p += strlen(open);
    const char *e = strstr(p, close);
    if (!e || (size_t)(e - p) >= outlen)
        return false;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return true;
}

bool cl_pool_check(cl_virt *v, const char *pool, cl_pool_info *out, cl_error **errp)
{
    memset(out, 0, sizeof(*out));
    virStoragePoolPtr p = virStoragePoolLookupByName(cl_virt_conn(v), pool);
    if (!p)
        return cl_virt_error(errp, "pool: the host of '%s' has no storage pool '%s'", cl_virt_uri(v), pool);
    bool ok = false;
    char *xml = NULL;
    int active = virStoragePoolIsActive(p);
    if (active == 0 && virStoragePoolCreate(p, 0) < 0) {
        cl_virt_error(errp, "pool: storage pool '%s' on '%s' is not active and cannot be started", pool, cl_virt_uri(v));
        goto out;
    }
    virStoragePoolInfo info;
    if (virStoragePoolGetInfo(p, &info) < 0 || !(xml = virStoragePoolGetXMLDesc(p, 0))) {
        cl_virt_error(errp, "pool: cannot read storage pool '%s' on '%s'", pool, cl_virt_uri(v));
        goto out;
    }
    if (!strstr(xml, "<pool type='dir'") && !strstr(xml, "<pool type=\"dir\"")) {
        cl_error_set(errp, CL_ERR_VIRT, "pool: storage pool '%s' on '%s' is not a 'dir' pool: dumps are written there as files",
                     pool, cl_virt_uri(v));
        goto out;
    }
    if (!xml_text_after(xml, "<target>", "path", out->target, sizeof(out->target)) || out->target[0] != '/' ||
        strchr(out->target, '&')) {
        cl_error_set(errp, CL_ERR_VIRT, "pool: storage pool '%s' on '%s' has no usable target directory", pool, cl_virt_uri(v));
        goto out;
    }
    out->capacity = info.capacity;
    out->available = info.available;
    ok = true;
out:
    free(xml);
    virStoragePoolFree(p);
    return ok;
}

typedef struct {
    int fd;
    EVP_MD_CTX *md;
    uint64_t got, max;
    bool too_big, write_failed;
    int write_errno;
} sink_ctx;

static int sink_file(virStreamPtr st, const char *data, size_t n, void *opaque)
{
    (void)st;
    sink_ctx *s = opaque;
    if (n > s->max - s->got) {
        s->too_big = true;
        return -1;
    }
    for (size_t off = 0; off < n;) {
        ssize_t w = write(s->fd, data + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->write_failed = true;
            s->write_errno = w < 0 ? errno : ENOSPC;
            return -1;
        }
        off += (size_t)w;
    }
    s->got += n;
    return EVP_DigestUpdate(s->md, data, n) == 1 ? (int)n : -1;
}

static void hex32(const unsigned char *d, char hex[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

bool cl_vol_download(virStorageVolPtr vol, const char *local_path, uint64_t max_bytes, char sha256[65], uint64_t *bytes,
                     cl_error **errp)
{
    char tmp[4200];
    const char *name = virStorageVolGetName(vol);
    CL_AUTOFREE char *buf = NULL;
    /* A fresh name, O_EXCL|O_NOFOLLOW (lab/util/fileio.h), never an existing file. */
    sink_ctx s = { .fd = cl_file_create_temp(local_path, CL_FILE_MODE, tmp, sizeof(tmp), errp), .max = max_bytes };
    if (s.fd < 0) {
        cl_error_prefix(errp, "download");
        return false;
    }
    s.md = EVP_MD_CTX_new();
    virStreamPtr st = virStreamNew(virStorageVolGetConnect(vol), 0);
    bool ok = false;
    if (!s.md || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
        cl_error_set(errp, CL_ERR_NOMEM, "download: cannot start a sha256");
        goto out;
    }
    if (!st || virStorageVolDownload(vol, st, 0, 0, 0) < 0) {
        cl_virt_error(errp, "download: cannot start downloading volume '%s'", name);
        goto out;
    }
    /* Our own loop, not virStreamRecvAll: its 64 KiB buffer costs a call per 64 KiB, a
     * MiB at a time lets each call take what has arrived. */
    buf = malloc(DOWNLOAD_CHUNK);
    int r = -1;
    while (buf && (r = virStreamRecv(st, buf, DOWNLOAD_CHUNK)) > 0)
        if (sink_file(st, buf, (size_t)r, &s) < 0) {
            r = -1;
            break;
        }
    if (!buf) {
        cl_error_set(errp, CL_ERR_NOMEM, "download: out of memory");
        virStreamAbort(st);
        goto out;
    }
    if (r < 0) {
        if (s.too_big)
            cl_error_set(errp, CL_ERR_VIRT, "download: volume '%s' is larger than %llu bytes", name, (unsigned long long)max_bytes);
        else if (s.write_failed)
            cl_error_set_errno(errp, CL_ERR_IO, s.write_errno, "download: cannot write '%s'", tmp);
        else
            cl_virt_error(errp, "download: the stream of volume '%s' failed after %llu bytes", name, (unsigned long long)s.got);
        virStreamAbort(st);
        goto out;
    }
    if (virStreamFinish(st) < 0) {
        cl_virt_error(errp, "download: volume '%s' did not end cleanly", name);
        goto out;
    }
    if (fsync(s.fd) < 0) {
        cl_error_set_errno(errp, CL_ERR_IO, errno, "download: cannot sync '%s'", tmp);
        goto out;
    }
    unsigned char dg[32];
    unsigned dlen = 0;
    if (EVP_DigestFinal_ex(s.md, dg, &dlen) != 1 || dlen != 32) {
        cl_error_set(errp, CL_ERR_NOMEM, "download: sha256 failed");
        goto out;
    }
    hex32(dg, sha256);
    ok = true;
out:
    if (st)
        virStreamFree(st);
    EVP_MD_CTX_free(s.md);
    close(s.fd);
    if (ok && rename(tmp, local_path) < 0)
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "download: cannot rename '%s'", tmp);
    if (!ok)
        unlink(tmp);
    else if (bytes)
        *bytes = s.got;
    return ok;
}

/* Reads [off, off+len) of the host's volume and compares it with the local file. */
static bool spot_check(virStorageVolPtr vol, int fd, uint64_t off, uint64_t len, cl_error **errp)
{
    const char *name = virStorageVolGetName(vol);
    CL_AUTOFREE unsigned char *remote = malloc(len ? len : 1), *local = malloc(len ? len : 1);
    if (!remote || !local)
        return cl_error_set(errp, CL_ERR_NOMEM, "download: out of memory");
    virStreamPtr st = virStreamNew(virStorageVolGetConnect(vol), 0);
    if (!st || virStorageVolDownload(vol, st, off, len, 0) < 0) {
        if (st)
            virStreamFree(st);
        return cl_virt_error(errp, "download: cannot read back %llu bytes at %llu of volume '%s'", (unsigned long long)len,
                             (unsigned long long)off, name);
    }
    uint64_t got = 0;
    bool ok = true;
    while (got < len) {
        int r = virStreamRecv(st, (char *)remote + got, len - got);
        if (r < 0)
            ok = cl_virt_error(errp, "download: reading volume '%s' back failed", name);
        if (r <= 0)
            break;
        got += (uint64_t)r;
    }
    if (ok && got == len) {
        /* Whatever the host would send past the range is refused, not read. */
        char extra;
        if (virStreamRecv(st, &extra, 1) != 0)
            ok = cl_error_set(errp, CL_ERR_VIRT, "download: volume '%s' sent more than the %llu bytes asked for", name,
                              (unsigned long long)len);
    }
    if (ok)
        virStreamFinish(st);
    else
        virStreamAbort(st);
    virStreamFree(st);
    if (!ok)
        return false;
    if (got != len)
        return cl_error_set(errp, CL_ERR_VIRT, "download: volume '%s' gave %llu bytes at %llu, %llu asked for", name,
                            (unsigned long long)got, (unsigned long long)off, (unsigned long long)len);
    if (pread(fd, local, len, (off_t)off) != (ssize_t)len)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "download: cannot read the local copy back");
    if (memcmp(local, remote, len))
        return cl_error_set(errp, CL_ERR_VIRT, "download: the local copy of volume '%s' differs from the host's at %llu..%llu",
                            name, (unsigned long long)off, (unsigned long long)(off + len));
    return true;
}

static const char *vir_format(cl_dump_format fmt, unsigned *f)
{
    switch (fmt) {
    case CL_DUMPFMT_KDUMP_ZLIB: *f = VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_ZLIB; return "kdump-zlib";
    case CL_DUMPFMT_ELF: *f = VIR_DOMAIN_CORE_DUMP_FORMAT_RAW; return "elf";
    case CL_DUMPFMT_WIN_DMP: *f = VIR_DOMAIN_CORE_DUMP_FORMAT_WIN_DMP; return "win-dmp";
    default: return NULL;
    }
}

static bool dump_download_verify(virStorageVolPtr vol, const char *local_path, uint64_t max_bytes, cl_remote_dump *out,
                                 cl_error **errp)
{
    /* The host's own size of the file QEMU wrote (a dir pool stats it for GetInfo). */
    virStorageVolInfo vi;
    if (virStorageVolGetInfo(vol, &vi) < 0)
        return cl_virt_error(errp, "dump: cannot read the size of volume '%s'", out->volume);
    if (vi.allocation == 0 && vi.capacity == 0)
        return cl_error_set(errp, CL_ERR_VIRT, "dump: QEMU wrote nothing into volume '%s'", out->volume);
    if (vi.capacity > max_bytes)
        return cl_error_set(errp, CL_ERR_VIRT, "dump: volume '%s' is %llu bytes, more than the %llu a dump of this guest can be",
                            out->volume, (unsigned long long)vi.capacity, (unsigned long long)max_bytes);
    double t = cl_now();
    if (!cl_vol_download(vol, local_path, max_bytes, out->sha256, &out->bytes, errp))
        return false;
    out->download_seconds = cl_now() - t;
    if (out->bytes != vi.capacity)
        return cl_error_set(errp, CL_ERR_VIRT, "dump: %llu bytes arrived, volume '%s' on the host has %llu",
                            (unsigned long long)out->bytes, out->volume, (unsigned long long)vi.capacity);
    char again[65];
    uint64_t size = 0;
    if (!cl_sha256_file(local_path, again, &size, errp))
        return false;
    if (size != out->bytes || strcmp(again, out->sha256))
        return cl_error_set(errp, CL_ERR_IO, "dump: '%s' on disk (sha256 %s) is not what arrived (sha256 %s)", local_path,
                            again, out->sha256);
    /* libvirt gives no checksum of a volume: the host's copy is read back at its head, its
     * middle and its tail and compared byte for byte with what we kept. */
    CL_AUTOCLOSE fd = open(local_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "dump: cannot open '%s'", local_path);
    uint64_t n = out->bytes, len = n < SPOT_LEN ? n : SPOT_LEN;
    uint64_t offs[3] = { 0, (n - len) / 2, n - len };
    for (int i = 0; i < 3; i++) {
        if (!spot_check(vol, fd, offs[i], len, errp))
            return false;
        out->spot_checks++;
    }
    return true;
}

bool cl_domain_dump_to_pool(cl_virt *v, virDomainPtr dom, cl_dump_format fmt, const char *pool, const char *volume,
                            const char *local_path, uint64_t max_bytes, cl_remote_dump *out, cl_error **errp)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->volume, sizeof(out->volume), "%s", volume);
    unsigned f = 0;
    const char *fname = vir_format(fmt, &f);
    if (!fname)
        return cl_error_set(errp, CL_ERR_INVAL, "dump: no dump format chosen");
    if (strchr(volume, '/') || !*volume || strlen(volume) >= sizeof(out->volume))
        return cl_error_set(errp, CL_ERR_INVAL, "dump: bad volume name '%s'", volume);
    cl_pool_info pi;
    if (!cl_pool_check(v, pool, &pi, errp))
        return false;
    virStoragePoolPtr p = virStoragePoolLookupByName(cl_virt_conn(v), pool);
    if (!p)
        return cl_virt_error(errp, "dump: storage pool '%s' went away", pool);
    /* A volume left by an earlier attempt with this run id would be overwritten anyway. */
    virStorageVolPtr old = virStorageVolLookupByName(p, volume);
    if (old) {
        virStorageVolDelete(old, 0);
        virStorageVolFree(old);
    }
    char xml[512];
    snprintf(xml, sizeof(xml),
             "<volume><name>%s</name><capacity unit='bytes'>0</capacity>"
             "<target><format type='raw'/><permissions><mode>0600</mode></permissions></target></volume>",
             volume);
    virStorageVolPtr vol = virStorageVolCreateXML(p, xml, 0);
    virStoragePoolFree(p);
    if (!vol)
        return cl_virt_error(errp, "dump: cannot create volume '%s' in pool '%s'", volume, pool);
    bool ok = false;
    char *hp = virStorageVolGetPath(vol);
    if (!hp) {
        cl_virt_error(errp, "dump: volume '%s' has no path", volume);
        goto out;
    }
    snprintf(out->host_path, sizeof(out->host_path), "%s", hp);
    free(hp);
    double t = cl_now();
    /* The path is the host's: libvirtd there opens it and hands QEMU the descriptor. */
    if (virDomainCoreDumpWithFormat(dom, out->host_path, f, VIR_DUMP_MEMORY_ONLY) < 0) {
        cl_virt_error(errp, "dump: %s dump into pool '%s' failed", fname, pool);
        goto out;
    }
    out->dump_seconds = cl_now() - t;
    ok = dump_download_verify(vol, local_path, max_bytes, out, errp);
    if (!ok)
        unlink(local_path);
out:
    /* Never leave a guest's memory on the host, whatever happened. */
    out->deleted = virStorageVolDelete(vol, 0) == 0;
    virStorageVolFree(vol);
    return ok;
}

bool cl_vol_exists_at(cl_virt *v, const char *path, cl_error **errp)
{
    virStorageVolPtr vol = virStorageVolLookupByPath(cl_virt_conn(v), path);
    if (!vol)
        return cl_virt_error(errp, "no storage volume '%s' on the host of '%s'", path, cl_virt_uri(v));
    virStorageVolFree(vol);
    return true;
}
