/* domain.h - the lifecycle of one run's domain, and cleaning up after runs that died. */
#ifndef CL_VIRT_DOMAIN_H
#define CL_VIRT_DOMAIN_H

#include <stdbool.h>

#include "scenario/scenario.h"
#include "virt.h"

/* Starts a transient domain. It is destroyed automatically if the connection closes
 * (a daemon URI) and by cl_virt_cleanup_stale otherwise (the embedded driver). */
cl_domain *cl_domain_start(cl_virt *v, const char *xml, cl_error **errp);

/* The same, paused before the first guest instruction (to attach to its console first). */
cl_domain *cl_domain_start_paused(cl_virt *v, const char *xml, cl_error **errp);
bool cl_domain_resume(cl_domain *dom, cl_error **errp);

/* Destroys (if running) and frees; NULL-safe; never fails loudly (teardown path). */
void cl_domain_destroy(cl_domain *dom);

/* "running", "paused", "crashed", "shutoff", ... and the reason ("panicked", ...). */
void cl_domain_state(cl_domain *dom, char state[32], char reason[32]);

/* Memory-only dump of a domain (usually crashed) to path, written to a temporary name
 * and renamed. CL_DUMPFMT_NONE is an error. */
bool cl_domain_dump(cl_domain *dom, cl_dump_format fmt, const char *path, cl_error **errp);

bool cl_domain_inject_nmi(cl_domain *dom, cl_error **errp);

/* Frees the handle and leaves the domain as it is (a kept spare); NULL-safe. */
void cl_domain_free(cl_domain *dom);

/* Suspends and resumes: libvirt marks a domain whose guest panicked under panic action
 * none as crashed and refuses agent commands, though QEMU never stopped the guest; this
 * makes libvirt's state running again. Best effort. */
void cl_domain_unmark_crashed(cl_domain *dom);

/* One QMP command to the domain's QEMU (libvirt-qemu's passthrough: the recorder's
 * query-replay); *reply is malloc'd. */
bool cl_domain_qmp(cl_domain *dom, const char *cmd, char **reply, cl_error **errp);

/* Finds domains that carry crashlab metadata, belong to this host and whose owning
 * process is gone, and destroys them. Returns how many were removed (-1 on error);
 * each one is described on stderr unless quiet. */
int cl_virt_cleanup_stale(cl_virt *v, bool quiet, cl_error **errp);

/* Destroys the live domains whose crashlab metadata id is run_id (serve's recovery of a
 * run whose process is gone or not ours). Returns how many (-1 when the list fails);
 * each is described on stderr as "WHO: destroying domain ..." unless who is NULL. */
int cl_virt_destroy_run(cl_virt *v, const char *run_id, const char *who, cl_error **errp);

/* One field ("id", "pid", "host") of the crashlab metadata of a live domain; false when
 * the domain has none or the field does not fit. */
bool cl_domain_meta(cl_domain *dom, const char *tag, char *out, size_t outlen);

#endif
