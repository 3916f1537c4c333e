/* guestsync.c - puts the Linux guest files (vmlinuz, initrd.img) on hosts that do not share
 * this machine's file system, through a libvirt storage pool named in the hosts file.
 *
 * The pool (a "dir" pool the fleet admin defines once on each host) holds volumes named
 * vmlinuz and initrd.img; the pool's target directory then is the guest directory for runs
 * on that host. A volume is uploaded when missing or when its bytes differ, and every
 * volume is downloaded back and its sha256 compared with the local file: a host never runs
 * a guest it did not receive intact.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_priv.h"
#include "proto.h"
#include "util/fileio.h"
#include "virt/virt.h"

static int sink_hash(virStreamPtr st, const char *data, size_t n, void *opaque)
{
    (void)st;
    return EVP_DigestUpdate(opaque, data, n) == 1 ? (int)n : -1;
}

static bool vol_sha256(virStorageVolPtr vol, char hex[65], cl_error **errp)
{
    virConnectPtr conn = virStorageVolGetConnect(vol);
    virStreamPtr st = virStreamNew(conn, 0);
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
        cl_virt_error(errp, "guest sync: cannot read volume '%s' back", virStorageVolGetName(vol));
    }
    EVP_MD_CTX_free(md);
    if (st)
        virStreamFree(st);
    return ok;
}

static int source_file(virStreamPtr st, char *data, size_t n, void *opaque)
{
    (void)st;
    ssize_t r = read(*(int *)opaque, data, n);
    return r < 0 ? -1 : (int)r;
}

static bool upload(virStoragePoolPtr pool, const char *name, const char *path, uint64_t size, cl_error **errp)
{
    virStorageVolPtr old = virStorageVolLookupByName(pool, name);
    if (old) {
        virStorageVolDelete(old, 0);
        virStorageVolFree(old);
    }
    char xml[512];
    snprintf(xml, sizeof(xml),
             "<volume><name>%s</name><capacity unit='bytes'>%llu</capacity>"
             "<target><format type='raw'/><permissions><mode>0644</mode></permissions></target></volume>",
             name, (unsigned long long)size);
    virStorageVolPtr vol = virStorageVolCreateXML(pool, xml, 0);
    if (!vol)
        return cl_virt_error(errp, "guest sync: cannot create volume '%s'", name);
    CL_AUTOCLOSE fd = open(path, O_RDONLY | O_CLOEXEC);
    virStreamPtr st = virStreamNew(virStoragePoolGetConnect(pool), 0);
    bool ok = fd >= 0 && st && virStorageVolUpload(vol, st, 0, size, 0) == 0 && virStreamSendAll(st, source_file, &fd) == 0 &&
              virStreamFinish(st) == 0;
    if (!ok) {
        if (st)
            virStreamAbort(st);
        cl_virt_error(errp, "guest sync: cannot upload '%s' as volume '%s'", path, name);
    }
    if (st)
        virStreamFree(st);
    virStorageVolFree(vol);
    return ok;
}

/* In a forked helper (the daemon keeps no libvirt connection or thread of its own).
 * Writes the pool's target directory to out_fd. */
static int sync_in_child(const cl_host *h, const char *guest_dir, int out_fd)
{
    CL_AUTOPTR(cl_error) err = NULL;
    /* A host that accepts and never answers must not hold the daemon's start for ever. */
    CL_AUTOPTR(cl_virt) v = cl_virt_open_by(h->uri, NULL, cl_now() + 60, &err);
    if (!v)
        goto fail;
    virStoragePoolPtr pool = virStoragePoolLookupByName(cl_virt_conn(v), h->guest_pool);
    if (!pool) {
        cl_virt_error(&err, "guest sync: host '%s' has no storage pool '%s'", h->name, h->guest_pool);
        goto fail;
    }
    virStoragePoolRefresh(pool, 0);
    static const char *const files[] = { "vmlinuz", "initrd.img" };
    char target[4096] = "";
    for (size_t i = 0; i < 2; i++) {
        char path[4096], want[65], have[65] = "";
        uint64_t size = 0;
        snprintf(path, sizeof(path), "%s/%s", guest_dir, files[i]);
        if (!cl_sha256_file(path, want, &size, &err))
            break;
        virStorageVolPtr vol = virStorageVolLookupByName(pool, files[i]);
        bool same = vol && vol_sha256(vol, have, NULL) && !strcmp(have, want);
        if (vol)
            virStorageVolFree(vol);
        if (!same) {
            fprintf(stderr, "crashlab serve: guest sync: uploading %s (%llu bytes) to %s pool %s\n", files[i],
                    (unsigned long long)size, h->name, h->guest_pool);
            if (!upload(pool, files[i], path, size, &err))
                break;
        }
        vol = virStorageVolLookupByName(pool, files[i]);
        if (!vol || !vol_sha256(vol, have, &err)) {
            if (vol)
                virStorageVolFree(vol);
            if (!err)
                cl_virt_error(&err, "guest sync: volume '%s' vanished", files[i]);
            break;
        }
        if (strcmp(have, want)) {
            cl_error_set(&err, CL_ERR_VIRT, "guest sync: %s on host '%s' has sha256 %s, expected %s", files[i], h->name, have, want);
            virStorageVolFree(vol);
            break;
        }
        char *vp = virStorageVolGetPath(vol);
        virStorageVolFree(vol);
        char *slash = vp ? strrchr(vp, '/') : NULL;
        if (!slash) {
            free(vp);
            cl_error_set(&err, CL_ERR_VIRT, "guest sync: volume '%s' has no path", files[i]);
            break;
        }
        *slash = '\0';
        snprintf(target, sizeof(target), "%s", vp);
        free(vp);
    }
    virStoragePoolFree(pool);
    if (err)
        goto fail;
    cl_serve_write_all(out_fd, target, strlen(target));
    return 0;
fail:
    fprintf(stderr, "crashlab serve: %s\n", err ? err->msg : "guest sync failed");
    return 1;
}

bool cl_guest_sync_hosts(cl_daemon *d, cl_error **errp)
{
    const char *gd = getenv("CRASHLAB_GUEST");
    char guest_dir[PATH_MAX];
    if (!realpath(gd ? gd : "build/guest", guest_dir))
        snprintf(guest_dir, sizeof(guest_dir), "%s", gd ? gd : "build/guest");
    for (size_t i = 0; i < d->hosts.n; i++) {
        cl_host *h = &d->hosts.v[i];
        if (!h->guest_pool)
            continue;
        if (!h->uri)
            return cl_error_set(errp, CL_ERR_INVAL, "hosts: '%s' is the embedded driver; guest_pool is for other hosts", h->name);
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "guest sync: pipe");
        double t = cl_now();
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            _exit(sync_in_child(h, guest_dir, fds[1]));
        }
        close(fds[1]);
        if (pid < 0) {
            close(fds[0]);
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "guest sync: fork");
        }
        char target[4096];
        size_t len = 0;
        ssize_t r;
        while (len < sizeof(target) - 1 && (r = read(fds[0], target + len, sizeof(target) - 1 - len)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                break;
            len += (size_t)r;
        }
        target[len] = '\0';
        close(fds[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !len) {
            /* One unreachable host must not keep the fleet from working: it sits out
             * until the next start. */
            free(h->disabled);
            h->disabled = strdup("its guest files could not be put there (see the daemon's log)");
            cl_daemon_log(d, "host %s takes no jobs: the guest files could not be put there", h->name);
            continue;
        }
        free(h->guest_dir);
        h->guest_dir = strdup(target);
        cl_daemon_log(d, "guest files on host %s verified in %s (%.1f s)", h->name, target, cl_now() - t);
    }
    return true;
}
