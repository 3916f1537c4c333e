/* virt.h - the lab's one libvirt connection and the domain events it receives.
 *
 * Only lab/virt calls libvirt's connection and event APIs; libvirt's last error is
 * turned into a cl_error exactly once, here (cl_virt_error). One long-lived connection
 * per process: short-lived connections to the same embedded root confuse each other.
 */
#ifndef CL_VIRT_H
#define CL_VIRT_H

#include <stdbool.h>

#include "util/error.h"

typedef struct cl_virt cl_virt;

/* A domain, as the rest of the lab holds it: opaque (libvirt's virDomainPtr inside
 * lab/virt, the same pointer), so no module outside lab/virt sees a libvirt type. */
typedef struct _virDomain cl_domain;

typedef enum {
    CL_VEV_NONE,
    CL_VEV_STARTED,
    CL_VEV_CRASHED,       /* guest panic: detail says panicked / crashloaded */
    CL_VEV_STOPPED,       /* QEMU went away: detail says why */
    CL_VEV_SUSPENDED,
    CL_VEV_RESUMED,
    CL_VEV_AGENT_CONNECTED,
    CL_VEV_AGENT_DISCONNECTED,
    CL_VEV_LAST
} cl_virt_event_kind;

typedef struct {
    cl_virt_event_kind kind;
    int detail;              /* libvirt's detail enum for the event */
    char detail_str[32];     /* "panicked", "crashloaded", "failed", "destroyed", ... */
    double when;             /* cl_now() */
} cl_virt_event;

/* The default URI: the embedded QEMU driver rooted in <state_dir>/embed (created, with an
 * etc/qemu.conf the lab needs). Caller frees. */
char *cl_virt_default_uri(const char *state_dir, cl_error **errp);

/* Opens uri (NULL: default under state_dir), starts the event loop thread and registers
 * for lifecycle and agent events of every domain. */
cl_virt *cl_virt_open(const char *uri, const char *state_dir, cl_error **errp);

/* The same, by an absolute deadline (cl_now() based; 0: none): a libvirt that accepts and
 * never answers, or a signal (cl_virt_interrupt_opens), ends the wait with CL_ERR_TIMEOUT or
 * CL_ERR_INTERRUPTED ("interrupted"); the connecting thread is abandoned, not waited for.
 * Remote connections get libvirt's keepalive, so later calls fail when the daemon stops
 * answering instead of blocking for ever. */
cl_virt *cl_virt_open_by(const char *uri, const char *state_dir, double deadline, cl_error **errp);

/* Async-signal-safe: every cl_virt_open* in progress gives up at once (a run's SIGTERM). */
void cl_virt_interrupt_opens(void);
void cl_virt_close(cl_virt *v);
CL_DEFINE_AUTOPTR_FUNC(cl_virt, cl_virt_close)

struct _virConnect *cl_virt_conn(cl_virt *v);
const char *cl_virt_uri(cl_virt *v);     /* the canonical URI libvirt reports */
bool cl_virt_is_embedded(cl_virt *v);
bool cl_virt_is_local(cl_virt *v);       /* files named in the XML are on this host */
/* The same, from the URI alone (NULL: the embedded driver, local), before connecting. */
bool cl_virt_uri_is_local(const char *uri);

/* Waits until an event for the named domain arrives (any kind in mask, a bit set
 * (1u << kind)), or until the absolute deadline (cl_now() based). Returns true with *ev
 * set, false on timeout (no error set). Events that do not match are kept for later. */
bool cl_virt_wait_event(cl_virt *v, const char *domain, unsigned mask, double deadline, cl_virt_event *ev);

/* Drops queued events of a domain (after it is gone). */
void cl_virt_forget(cl_virt *v, const char *domain);

/* Versions of libvirt (library), the driver and the hypervisor, as "9.0.0" etc. */
bool cl_virt_versions(cl_virt *v, char lib[32], char hv[32], cl_error **errp);

/* Converts libvirt's last error into *errp with a prefix and returns false. */
bool cl_virt_error(cl_error **errp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

const char *cl_virt_event_kind_to_string(cl_virt_event_kind k);

/* Interrupt support: a signal handler may call this to wake every waiter. */
void cl_virt_interrupt(cl_virt *v);
bool cl_virt_interrupted(cl_virt *v);

#endif
