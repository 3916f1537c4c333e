/* storage.h - bringing a hypervisor dump home from a libvirt host through a storage pool.
 *
 * libvirt (9.0) has no API that streams a domain's memory dump to the caller:
 * virDomainCoreDumpWithFormat writes a file on the host that runs the domain. On a host
 * whose files are not this machine's, the dump is therefore written as a volume of a
 * storage pool there (a "dir" pool the fleet admin defines once), streamed back with
 * virStorageVolDownload, checked, and the volume deleted: only the libvirt connection is
 * used, no ssh and no shared file system.
 */
#ifndef CL_VIRT_STORAGE_H
#define CL_VIRT_STORAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario/scenario.h"
#include "virt.h"

typedef struct {
    char target[1024];        /* the pool's directory on its host */
    uint64_t capacity;        /* bytes, as the host reports them */
    uint64_t available;
} cl_pool_info;

/* Checks that the pool exists on the connection's host, is active (started if it is only
 * defined) and has a target directory that volumes are files in. */
bool cl_pool_check(cl_virt *v, const char *pool, cl_pool_info *out, cl_error **errp);

typedef struct {
    char volume[160];         /* the volume's name in the pool (deleted when done) */
    char host_path[1024];     /* where the host wrote it */
    uint64_t bytes;           /* as downloaded, equal to the host's size of the volume */
    char sha256[65];          /* of the bytes as they arrived, equal to the local file's */
    double dump_seconds;      /* QEMU writing the dump on the host */
    double download_seconds;  /* virStorageVolDownload to the local file */
    int spot_checks;          /* ranges read back from the host's copy and compared */
    bool deleted;             /* the host's copy is gone */
} cl_remote_dump;

/* Writes a memory-only dump of dom as volume `volume` of `pool` on the domain's host,
 * downloads it to local_path (through "<local_path>.partial", renamed when verified),
 * bounded by max_bytes, hashes it while it arrives, compares the size with the host's
 * volume and the local file's sha256 with the streamed one, reads spot_checks ranges of the
 * host's copy back and compares them with the local file, and deletes the volume (also
 * when any step fails). *out is filled as far as the steps went, also on failure. */
bool cl_domain_dump_to_pool(cl_virt *v, cl_domain *dom, cl_dump_format fmt, const char *pool, const char *volume,
                            const char *local_path, uint64_t max_bytes, cl_remote_dump *out, cl_error **errp);

/* Downloads a volume to local_path (atomically), at most max_bytes, hashing it on the way.
 * Used for dumps and for small files (the guest manifest). */
struct _virStorageVol;
bool cl_vol_download(struct _virStorageVol *vol, const char *local_path, uint64_t max_bytes, char sha256[65], uint64_t *bytes,
                     cl_error **errp);

/* Whether path names a volume of some pool on the connection's host (the guest kernel and
 * initrd of a remote host are checked this way, never with this machine's access()). */
bool cl_vol_exists_at(cl_virt *v, const char *path, cl_error **errp);

/* Small files kept as volumes of a pool (poolfile.c: the guest kernel and initrd of a host
 * that shares no file system with this machine). */
/* Looks the pool up (an error names it when it is missing) and refreshes its volume list. */
bool cl_pool_refresh(cl_virt *v, const char *pool, cl_error **errp);
/* The sha256 of volume `name`, read back whole through the connection; false when it is
 * missing or unreadable. */
bool cl_pool_file_sha256(cl_virt *v, const char *pool, const char *name, char hex[65], cl_error **errp);
/* Replaces volume `name` with the size bytes of the local file path. */
bool cl_pool_file_upload(cl_virt *v, const char *pool, const char *name, const char *path, uint64_t size,
                         cl_error **errp);
/* The directory on the host that volume `name` is a file in. */
bool cl_pool_file_dir(cl_virt *v, const char *pool, const char *name, char *dir, size_t dirlen, cl_error **errp);

#endif
