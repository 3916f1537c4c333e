/* saved.h - libvirt save files: save a running guest, restore one (running or paused), and
 * the paused "spare" a warm run leaves behind for the next one.
 *
 * A spare is a domain restored paused from a warm image and owned by nobody: its metadata
 * run id is "spare-<key>" and its owner pid 0, so the stale-domain sweep (pid gone) leaves
 * it alone. The next run claims it (writes its own run id and pid into the live metadata,
 * so a crash of that run is swept as before) and resumes it: with the embedded driver the
 * QEMU process outlives the process that restored it and is reconnected by the next
 * opener. This exists because libvirt 9.0 spends ~0.7 s of every start on ~400 qom-get
 * round trips for the guest CPU's features; a spare pays that while the previous run works.
 */
#ifndef CL_VIRT_SAVED_H
#define CL_VIRT_SAVED_H

#include <stdbool.h>
#include <stdio.h>

#include "util/error.h"
#include "virt.h"

/* Saves the running domain to path (the guest keeps running state in the file). */
bool cl_saved_write(cl_domain *dom, const char *path, cl_error **errp);

/* Restores the save file with xml (same name and uuid as saved; paths may differ) and
 * returns the domain, running or paused. */
cl_domain *cl_saved_restore(cl_virt *v, const char *path, const char *xml, bool paused, cl_error **errp);

/* The domain called name when it is a usable spare with this id: active, paused (a restore
 * leaves it paused with reason "migration"), its metadata run id equal to spare_id, which
 * the maker writes only once the restore has finished. Any other active domain of that name (a spare of
 * other content, a claimed one whose run died) is destroyed, so the name is free for a
 * restore. NULL when there is none. */
cl_domain *cl_saved_take_spare(cl_virt *v, const char *name, const char *spare_id);

/* Rewrites the live metadata of dom to a run's id, pid and host. */
bool cl_saved_claim(cl_domain *dom, const char *run_id, long pid, const char *host, cl_error **errp);

/* Destroys every active domain whose metadata run id starts with "spare-" and is not keep
 * (NULL: all): spares of another warm image only hold memory. Returns how many. */
int cl_saved_drop_spares(cl_virt *v, const char *keep);

/* Writes "name<TAB>spare id<TAB>state" per spare to out; returns how many (-1: cannot list). */
int cl_saved_list_spares(cl_virt *v, FILE *out);

/* The pid of the QEMU of domain name under the embedded driver (from its pid file), 0
 * for a daemon's URI, where QEMU is the daemon's child and not this process's concern. */
long cl_saved_qemu_pid(cl_virt *v, const char *name);

#endif
