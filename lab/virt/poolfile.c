/* poolfile.c - small files kept in a storage pool of a libvirt host: their sha256 read
 * back through the connection, an upload that replaces a volume, the directory a volume is
 * a file in. lab/serve's guest sync decides what to send; only this file knows libvirt. */
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage.h"
#include "util/fileio.h"

static virStoragePoolPtr pool_open(cl_virt *v, const char *pool, cl_error **errp)
{
    virStoragePoolPtr p = virStoragePoolLookupByName(cl_virt_conn(v), pool);
    if (!p)
        cl_virt_error(errp, "no storage pool '%s'", pool);
    return p;
}

bool cl_pool_refresh(cl_virt *v, const char *pool, cl_error **errp)
{
    virStoragePoolPtr p = pool_open(v, pool, errp);
    if (!p)
        return false;
    /* Volumes written on the host behind libvirt's back are seen only after a refresh. */
    virStoragePoolRefresh(p, 0);
    virStoragePoolFree(p);
    return true;
}

static int sink_hash(virStreamPtr st, const char *data, size_t n, void *opaque)
{
    (void)st;
    return EVP_DigestUpdate(opaque, data, n) == 1 ? (int)n : -1;
}

static bool vol_sha256(virStorageVolPtr vol, char hex[65], cl_error **errp)
{
    virStreamPtr st = virStreamNew(virStorageVolGetConnect(vol), 0);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = st && md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 && virStorageVolDownload(vol, st, 0, 0, 0) == 0 &&
              virStreamRecvAll(st, sink_hash, md) == 0 && virStreamFinish(st) == 0;
    unsigned char dg[32];
    unsigned dlen = 0;
    if (ok && EVP_DigestFinal_ex(md, dg, &dlen) == 1 && dlen == 32) {
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", dg[i]);
    } else {
        ok = false;
        if (st)
            virStreamAbort(st);
        cl_virt_error(errp, "cannot read volume '%s' back", virStorageVolGetName(vol));
    }
    EVP_MD_CTX_free(md);
    if (st)
        virStreamFree(st);
    return ok;
}

static virStorageVolPtr vol_open(cl_virt *v, const char *pool, const char *name, cl_error **errp)
{
    virStoragePoolPtr p = pool_open(v, pool, errp);
    if (!p)
        return NULL;
    virStorageVolPtr vol = virStorageVolLookupByName(p, name);
    virStoragePoolFree(p);
    if (!vol)
        cl_virt_error(errp, "pool '%s' has no volume '%s'", pool, name);
    return vol;
}

bool cl_pool_file_sha256(cl_virt *v, const char *pool, const char *name, char hex[65], cl_error **errp)
{
    virStorageVolPtr vol = vol_open(v, pool, name, errp);
    if (!vol)
        return false;
    bool ok = vol_sha256(vol, hex, errp);
    virStorageVolFree(vol);
    return ok;
}

static int source_file(virStreamPtr st, char *data, size_t n, void *opaque)
{
    (void)st;
    ssize_t r = read(*(int *)opaque, data, n);
    return r < 0 ? -1 : (int)r;
}

bool cl_pool_file_upload(cl_virt *v, const char *pool, const char *name, const char *path, uint64_t size,
                         cl_error **errp)
{
    virStoragePoolPtr p = pool_open(v, pool, errp);
    if (!p)
        return false;
    virStorageVolPtr old = virStorageVolLookupByName(p, name);
    if (old) {
        virStorageVolDelete(old, 0);
        virStorageVolFree(old);
    }
    char xml[512];
    /* The name is one of the caller's fixed file names, never guest data; still refused
     * rather than cut. */
    int n = snprintf(xml, sizeof(xml),
                     "<volume><name>%s</name><capacity unit='bytes'>%llu</capacity>"
                     "<target><format type='raw'/><permissions><mode>0644</mode></permissions></target></volume>",
                     name, (unsigned long long)size);
    if (n < 0 || (size_t)n >= sizeof(xml)) {
        virStoragePoolFree(p);
        return cl_error_set(errp, CL_ERR_INVAL, "volume name '%.64s...' is too long", name);
    }
    virStorageVolPtr vol = virStorageVolCreateXML(p, xml, 0);
    if (!vol) {
        virStoragePoolFree(p);
        return cl_virt_error(errp, "cannot create volume '%s'", name);
    }
    CL_AUTOCLOSE fd = open(path, O_RDONLY | O_CLOEXEC);
    virStreamPtr st = virStreamNew(virStoragePoolGetConnect(p), 0);
    bool ok = fd >= 0 && st && virStorageVolUpload(vol, st, 0, size, 0) == 0 && virStreamSendAll(st, source_file, &fd) == 0 &&
              virStreamFinish(st) == 0;
    if (!ok) {
        if (st)
            virStreamAbort(st);
        cl_virt_error(errp, "cannot upload '%s' as volume '%s'", path, name);
    }
    if (st)
        virStreamFree(st);
    virStorageVolFree(vol);
    virStoragePoolFree(p);
    return ok;
}

bool cl_pool_file_dir(cl_virt *v, const char *pool, const char *name, char *dir, size_t dirlen, cl_error **errp)
{
    virStorageVolPtr vol = vol_open(v, pool, name, errp);
    if (!vol)
        return false;
    CL_AUTOFREE char *vp = virStorageVolGetPath(vol);
    virStorageVolFree(vol);
    char *slash = vp ? strrchr(vp, '/') : NULL;
    if (!slash)
        return cl_error_set(errp, CL_ERR_VIRT, "volume '%s' has no path", name);
    *slash = '\0';
    return cl_path_fmt(dir, dirlen, errp, "%s", vp);
}
