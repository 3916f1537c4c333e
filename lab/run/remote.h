/* remote.h - a run on a libvirt host whose files are not this machine's.
 *
 * Everything a local run keeps comes back through the libvirt connection alone: the
 * serial console over virDomainOpenConsole (live, into console.log), the hypervisor dump
 * as a storage pool volume on that host brought home with virStorageVolDownload
 * (lab/virt/storage.h), screenshots over virDomainScreenshot's stream, the agent over
 * virDomainQemuAgentCommand as everywhere. Nothing of this machine's file system is named
 * in the domain XML, and nothing of that host's is opened here.
 */
#ifndef CL_RUN_REMOTE_H
#define CL_RUN_REMOTE_H

#include <stdbool.h>

#include "run_priv.h"

/* After connecting: the guest kernel and initrd are volumes on that host, and the dump
 * pool (when the run wants a dump) exists, is active and is a directory pool. */
bool cl_run_remote_check(cl_run_ctx *c, const char *kernel, const char *initrd, cl_error **errp);

/* Starts the domain paused, opens its console stream into c->console, then lets it run:
 * the console misses nothing from the first instruction on. */
cl_domain *cl_run_remote_start(cl_run_ctx *c, const char *xml, cl_error **errp);

/* After teardown: drains and closes the console stream, records capture.console. */
void cl_run_remote_console_close(cl_run_ctx *c);

/* The host record a remote run adds to result.json "host": the host's own libvirt host
 * name, node info and CPU (hostinfo.h), and the lab machine's name beside it. */
void cl_run_remote_host_json(cl_run_ctx *c, json_object *host);

/* The hypervisor dump, written by QEMU into the dump pool on that host, downloaded to
 * path, checked, deleted there. *info gets what result.json "dump" adds: "writer" ({name:
 * "qemu", why}, as labdump.c records it) and "remote" (pool, volume, host path, seconds and
 * MB/s of the download, spot checks, deleted). */
bool cl_run_remote_dump(cl_run_ctx *c, cl_dump_format fmt, const char *path, json_object **info, cl_error **errp);

#endif
