/* disk.h - one Windows disk image opened through libguestfs.
 *
 * libguestfs boots a small appliance (a Linux kernel under QEMU; here under TCG, so
 * seconds, not milliseconds: see README "Running Windows guests") and gives file access
 * to the image's file systems. The appliance runs with LIBGUESTFS_BACKEND=direct unless
 * the environment says otherwise: the lab needs no libvirt daemon. Files come out of the
 * disk only through cl_disk_download(), which checks the size first.
 *
 * Paths inside the image are Windows-style relative to the volume ("Windows\\MEMORY.DMP")
 * and resolved without regard to case, as NTFS does.
 */
#ifndef CL_IMAGE_DISK_H
#define CL_IMAGE_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

typedef struct cl_disk cl_disk;

/* Opens image (format from its header: qcow2 or raw), extra (NULL or an ISO, read-only),
 * launches the appliance and mounts the Windows volume at /c (the file system holding
 * Windows\System32\config\SYSTEM) and, when found, the EFI/boot volume holding
 * the BCD store at /b. write: the image is opened read-write (image prepare, on a copy). */
cl_disk *cl_disk_open(const char *image, const char *extra, bool write, cl_error **errp);
void cl_disk_free(cl_disk *d);   /* unmounts, syncs and shuts the appliance down */
CL_DEFINE_AUTOPTR_FUNC(cl_disk, cl_disk_free)

/* Closes with a sync and reports a failed write-back (prepare must know). */
bool cl_disk_close(cl_disk *d, cl_error **errp);

bool cl_disk_has_windows(cl_disk *d);
const char *cl_disk_windows_fs(cl_disk *d);
/* The BCD store as an appliance path ("/b/EFI/Microsoft/Boot/BCD"), or NULL. */
const char *cl_disk_bcd(cl_disk *d);
const char *cl_disk_bcd_fs(cl_disk *d);
/* The extra image's mount point ("/x") or NULL if it had no file system. */
const char *cl_disk_extra_root(cl_disk *d);

/* Resolves a Windows path under root ("/c") to the appliance path with the real case.
 * false when it does not exist. */
bool cl_disk_resolve(cl_disk *d, const char *root, const char *winpath, char *out, size_t outlen);

/* Size of a regular file, -1 when absent or not a regular file. */
int64_t cl_disk_file_size(cl_disk *d, const char *path);

/* Copies a file out of the image: at most max bytes (a larger file is refused unless
 * allow_cut, then only the first max bytes are copied). *copied gets the byte count. */
bool cl_disk_download(cl_disk *d, const char *path, const char *local, uint64_t max, bool allow_cut, uint64_t *copied,
                      cl_error **errp);

/* Reads the first n bytes of a file (n <= 64 KiB). Returns bytes read, -1 on error. */
int64_t cl_disk_read_head(cl_disk *d, const char *path, void *buf, size_t n);

bool cl_disk_upload(cl_disk *d, const char *local, const char *path, cl_error **errp);
bool cl_disk_mkdir_p(cl_disk *d, const char *path, cl_error **errp);
bool cl_disk_copy(cl_disk *d, const char *src, const char *dst, cl_error **errp);

/* Names in a directory (caller frees with cl_disk_names_free), at most max. */
char **cl_disk_ls(cl_disk *d, const char *dir, size_t max);
void cl_disk_names_free(char **names);

/* Free bytes on the file system mounted at root. */
bool cl_disk_free_bytes(cl_disk *d, const char *root, uint64_t *out);

/* Seconds the appliance took to launch. */
double cl_disk_launch_seconds(cl_disk *d);

#endif
