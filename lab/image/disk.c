/* disk.c - a Windows disk through libguestfs (see disk.h). */
#include <errno.h>
#include <fcntl.h>
#include <guestfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/disk.h"
#include "util/fileio.h"

#define MAX_FILESYSTEMS 64

struct cl_disk {
    guestfs_h *g;
    bool write;
    bool windows;
    char windows_fs[64];
    char bcd_fs[64];
    char bcd[128];
    char extra_root[8];
    double launch_s;
};

/* The format from the image's own header: qcow2's magic, else raw. Never let libguestfs
 * probe: a raw guest disk that looks like qcow2 could name a host file as its backing. */
static bool image_format(const char *path, const char **fmt, cl_error **errp)
{
    CL_AUTOCLOSE fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cl_error_set_errno(errp, CL_ERR_INVAL, errno, "image: cannot open '%s'", path);
    unsigned char m[4] = { 0 };
    ssize_t n = read(fd, m, sizeof(m));
    *fmt = n == 4 && !memcmp(m, "QFI\xfb", 4) ? "qcow2" : "raw";
    return true;
}

static bool gerr(cl_disk *d, cl_error **errp, const char *what)
{
    const char *e = guestfs_last_error(d->g);
    return cl_error_set(errp, CL_ERR_IO, "image: %s: %s", what, e ? e : "libguestfs failed");
}

/* Mounts dev at mp (read-only unless the disk is writable), false if it will not mount. */
static bool try_mount(cl_disk *d, const char *dev, const char *mp, bool rw)
{
    return (rw ? guestfs_mount(d->g, dev, mp) : guestfs_mount_ro(d->g, dev, mp)) == 0;
}

static bool exists_ci(cl_disk *d, const char *root, const char *winpath)
{
    char p[512];
    return cl_disk_resolve(d, root, winpath, p, sizeof(p)) && guestfs_is_file(d->g, p) > 0;
}

cl_disk *cl_disk_open(const char *image, const char *extra, bool write, cl_error **errp)
{
    const char *fmt = NULL, *xfmt = NULL;
    if (!image_format(image, &fmt, errp) || (extra && !image_format(extra, &xfmt, errp)))
        return NULL;
    cl_disk *d = calloc(1, sizeof(*d));
    if (!d) {
        cl_error_set(errp, CL_ERR_NOMEM, "image: out of memory");
        return NULL;
    }
    d->write = write;
    d->g = guestfs_create();
    if (!d->g) {
        free(d);
        cl_error_set(errp, CL_ERR_IO, "image: cannot create a libguestfs handle");
        return NULL;
    }
    guestfs_set_error_handler(d->g, NULL, NULL);
    /* The lab needs no libvirt daemon; libguestfs's default backend is libvirt's. */
    if (!getenv("LIBGUESTFS_BACKEND"))
        guestfs_set_backend(d->g, "direct");
    if (guestfs_add_drive_opts(d->g, image, GUESTFS_ADD_DRIVE_OPTS_FORMAT, fmt, GUESTFS_ADD_DRIVE_OPTS_READONLY,
                               write ? 0 : 1, -1) < 0) {
        gerr(d, errp, image);
        cl_disk_free(d);
        return NULL;
    }
    if (extra && guestfs_add_drive_opts(d->g, extra, GUESTFS_ADD_DRIVE_OPTS_FORMAT, xfmt,
                                        GUESTFS_ADD_DRIVE_OPTS_READONLY, 1, -1) < 0) {
        gerr(d, errp, extra);
        cl_disk_free(d);
        return NULL;
    }
    double t = cl_now();
    if (guestfs_launch(d->g) < 0) {
        gerr(d, errp, "cannot launch the libguestfs appliance");
        cl_disk_free(d);
        return NULL;
    }
    d->launch_s = cl_now() - t;
    if (guestfs_mkmountpoint(d->g, "/c") < 0 || guestfs_mkmountpoint(d->g, "/b") < 0 ||
        guestfs_mkmountpoint(d->g, "/x") < 0 || guestfs_mkmountpoint(d->g, "/p") < 0) {
        gerr(d, errp, "mkmountpoint");
        cl_disk_free(d);
        return NULL;
    }
    char **fs = guestfs_list_filesystems(d->g);
    if (!fs) {
        gerr(d, errp, "cannot list file systems");
        cl_disk_free(d);
        return NULL;
    }
    /* The image's disk is the first (sda), the extra one the second. */
    char extra_dev[64] = "";
    for (size_t i = 0; fs[i] && fs[i + 1] && i < 2 * MAX_FILESYSTEMS; i += 2) {
        const char *dev = fs[i], *type = fs[i + 1];
        if (!strcmp(type, "unknown") || !strcmp(type, "swap"))
            continue;
        if (!strncmp(dev, "/dev/sdb", 8)) {
            if (!extra_dev[0])
                snprintf(extra_dev, sizeof(extra_dev), "%s", dev);
            continue;
        }
        if (!try_mount(d, dev, "/p", false))
            continue;
        if (!d->windows && exists_ci(d, "/p", "Windows\\System32\\config\\SYSTEM")) {
            d->windows = true;
            snprintf(d->windows_fs, sizeof(d->windows_fs), "%s", dev);
        }
        if (!d->bcd_fs[0] && (exists_ci(d, "/p", "EFI\\Microsoft\\Boot\\BCD") || exists_ci(d, "/p", "Boot\\BCD")))
            snprintf(d->bcd_fs, sizeof(d->bcd_fs), "%s", dev);
        guestfs_umount(d->g, "/p");
    }
    for (size_t i = 0; fs[i]; i++)
        free(fs[i]);
    free(fs);
    if (d->windows && !try_mount(d, d->windows_fs, "/c", write)) {
        gerr(d, errp, write ? "cannot mount the Windows volume read-write (hibernated, or Fast Startup left it dirty?)"
                            : "cannot mount the Windows volume");
        cl_disk_free(d);
        return NULL;
    }
    if (d->bcd_fs[0]) {
        const char *root = "/b";
        if (d->windows && !strcmp(d->bcd_fs, d->windows_fs))
            root = "/c";
        else if (!try_mount(d, d->bcd_fs, "/b", write))
            root = NULL;
        char p[128];
        if (root && (cl_disk_resolve(d, root, "EFI\\Microsoft\\Boot\\BCD", p, sizeof(p)) ||
                     cl_disk_resolve(d, root, "Boot\\BCD", p, sizeof(p))))
            snprintf(d->bcd, sizeof(d->bcd), "%s", p);
    }
    if (extra_dev[0] && try_mount(d, extra_dev, "/x", false))
        snprintf(d->extra_root, sizeof(d->extra_root), "/x");
    return d;
}

bool cl_disk_close(cl_disk *d, cl_error **errp)
{
    if (!d)
        return true;
    bool ok = true;
    if (guestfs_umount_all(d->g) < 0 || guestfs_shutdown(d->g) < 0)
        ok = gerr(d, errp, "cannot write the changes back and shut the appliance down");
    guestfs_close(d->g);
    free(d);
    return ok;
}

void cl_disk_free(cl_disk *d)
{
    cl_disk_close(d, NULL);
}

bool cl_disk_has_windows(cl_disk *d) { return d->windows; }
const char *cl_disk_windows_fs(cl_disk *d) { return d->windows_fs; }
const char *cl_disk_bcd(cl_disk *d) { return d->bcd[0] ? d->bcd : NULL; }
const char *cl_disk_bcd_fs(cl_disk *d) { return d->bcd_fs; }
const char *cl_disk_extra_root(cl_disk *d) { return d->extra_root[0] ? d->extra_root : NULL; }
double cl_disk_launch_seconds(cl_disk *d) { return d->launch_s; }

bool cl_disk_resolve(cl_disk *d, const char *root, const char *winpath, char *out, size_t outlen)
{
    char p[512];
    size_t n = (size_t)snprintf(p, sizeof(p), "%s/%s", root, winpath);
    if (n >= sizeof(p))
        return false;
    for (char *c = p; *c; c++)
        if (*c == '\\')
            *c = '/';
    /* case_sensitive_path fails when a directory on the way is missing; the last
     * component may be missing (it is then returned as given). */
    char *real = guestfs_case_sensitive_path(d->g, p);
    if (!real)
        return false;
    bool ok = guestfs_exists(d->g, real) > 0 && strlen(real) < outlen;
    if (ok)
        snprintf(out, outlen, "%s", real);
    free(real);
    return ok;
}

int64_t cl_disk_file_size(cl_disk *d, const char *path)
{
    if (guestfs_is_file(d->g, path) <= 0)
        return -1;
    return guestfs_filesize(d->g, path);
}

bool cl_disk_download(cl_disk *d, const char *path, const char *local, uint64_t max, bool allow_cut, uint64_t *copied,
                      cl_error **errp)
{
    int64_t size = cl_disk_file_size(d, path);
    if (size < 0)
        return cl_error_set(errp, CL_ERR_IO, "image: '%s' is not a regular file", path);
    uint64_t n = (uint64_t)size;
    if (n > max) {
        if (!allow_cut)
            return cl_error_set(errp, CL_ERR_FORMAT, "image: '%s' is %lld bytes, more than the %llu allowed", path,
                                (long long)size, (unsigned long long)max);
        n = max;
    }
    /* Exactly n bytes, whatever the file system says later. */
    if (n == 0) {
        if (!cl_file_write_atomic(local, "", 0, errp))
            return false;
    } else if (guestfs_download_offset(d->g, path, local, 0, (int64_t)n) < 0) {
        return gerr(d, errp, path);
    }
    if (copied)
        *copied = n;
    return true;
}

int64_t cl_disk_read_head(cl_disk *d, const char *path, void *buf, size_t n)
{
    if (n > (64u << 10))
        return -1;
    size_t got = 0;
    char *data = guestfs_pread(d->g, path, (int)n, 0, &got);
    if (!data)
        return -1;
    if (got > n)
        got = n;
    memcpy(buf, data, got);
    free(data);
    return (int64_t)got;
}

bool cl_disk_upload(cl_disk *d, const char *local, const char *path, cl_error **errp)
{
    if (guestfs_upload(d->g, local, path) < 0)
        return gerr(d, errp, path);
    return true;
}

bool cl_disk_mkdir_p(cl_disk *d, const char *path, cl_error **errp)
{
    if (guestfs_mkdir_p(d->g, path) < 0)
        return gerr(d, errp, path);
    return true;
}

bool cl_disk_copy(cl_disk *d, const char *src, const char *dst, cl_error **errp)
{
    if (guestfs_cp_r(d->g, src, dst) < 0)
        return gerr(d, errp, src);
    return true;
}

char **cl_disk_ls(cl_disk *d, const char *dir, size_t max)
{
    char **names = guestfs_ls(d->g, dir);
    if (!names)
        return NULL;
    size_t n = 0;
    while (names[n])
        n++;
    for (size_t i = max; i < n; i++) {
        free(names[i]);
        names[i] = NULL;
    }
    return names;
}

void cl_disk_names_free(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

bool cl_disk_free_bytes(cl_disk *d, const char *root, uint64_t *out)
{
    struct guestfs_statvfs *s = guestfs_statvfs(d->g, root);
    if (!s)
        return false;
    *out = (uint64_t)s->bavail * (uint64_t)(s->frsize ? s->frsize : s->bsize);
    guestfs_free_statvfs(s);
    return true;
}
