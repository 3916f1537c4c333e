/* hosts.h - the libvirt hosts the daemon schedules over, from a small key=value file.
 *
 *   # comment
 *   [name]                  one section per host
 *   uri = embedded          or any libvirt URI (qemu:///system, qemu+ssh://h/system, ...)
 *   slots = 2               parallel runs on this host
 *   memory_mb = 8192        guest memory the host may hold at once (default: half its RAM)
 *   vcpus = 2               guest vCPUs at once (default: its CPU count)
 *   guest_pool = NAME       copy the guest files into this libvirt storage pool (remote hosts)
 *   dump_pool = NAME        the pool dumps are written into there and brought home from
 *                           (remote hosts; default: guest_pool)
 *
 * The format is documented in lab/serve/README.md.
 */
#ifndef CL_SERVE_HOSTS_H
#define CL_SERVE_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define CL_HOSTS_MAX 64
#define CL_HOST_MAX_SLOTS 64

typedef struct {
    char name[64];
    char *uri;              /* NULL: the embedded driver, one root per slot */
    int slots;
    unsigned memory_mb, vcpus;
    char *guest_pool;
    char *dump_pool;        /* remote hosts: where dumps are written there (default guest_pool) */
    /* scheduler bookkeeping */
    bool busy[CL_HOST_MAX_SLOTS];
    int used;
    unsigned mem_used, vcpu_used;
    char *guest_dir;        /* where the guest files are on that host, once synced */
    char *disabled;         /* why the host takes no jobs (its guest files could not be put there) */
} cl_host;

typedef struct {
    cl_host *v;
    size_t n;
} cl_hosts;

/* Parses a hosts file; errors are "FILE:LINE: message". */
bool cl_hosts_load(const char *path, cl_hosts *out, cl_error **errp);
bool cl_hosts_parse(const char *name, const char *text, cl_hosts *out, cl_error **errp);

/* One embedded host named "local" with the given slots and this machine's capacity. */
bool cl_hosts_default(int slots, cl_hosts *out, cl_error **errp);

void cl_hosts_clear(cl_hosts *h);
cl_host *cl_hosts_find(cl_hosts *h, const char *name);

/* Whether a guest of mem/vcpus fits the host now (free slot, free capacity), and whether it
 * could ever fit (total capacity). */
bool cl_host_fits_now(const cl_host *h, unsigned mem, unsigned vcpus);
bool cl_host_fits_ever(const cl_host *h, unsigned mem, unsigned vcpus);

#endif
