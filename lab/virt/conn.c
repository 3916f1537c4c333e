/* conn.c - opening the connection, the event loop thread, the event queue. */
#include <errno.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libvirt/virterror.h>

#include "util/fileio.h"
#include "virt.h"

#define EVQ_MAX 256

struct cl_virt {
    virConnectPtr conn;
    char *uri;
    bool embedded;
    bool local;
    pthread_t loop;
    bool loop_running;
    volatile int quit;
    int cb_lifecycle, cb_agent;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct {
        char domain[64];
        cl_virt_event ev;
    } q[EVQ_MAX];
    size_t qlen;
    volatile int interrupted;
};

static void silence_errors(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

bool cl_virt_error(cl_error **errp, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    virErrorPtr e = virGetLastError();
    return cl_error_set(errp, CL_ERR_VIRT, "%s: %s", what,
                        e && e->message ? e->message : "unknown libvirt error");
}

/* The lab owns this file: rewritten when it differs from what this version needs. */
static bool write_if_missing(const char *path, const char *text, cl_error **errp)
{
    char *old = NULL;
    size_t len = 0;
    bool same = cl_file_read_all(path, 65536, &old, &len, NULL) && !strcmp(old, text);
    free(old);
    return same || cl_file_write_atomic(path, text, strlen(text), errp);
}

char *cl_virt_default_uri(const char *state_dir, cl_error **errp)
{
    char root[PATH_MAX], etc[PATH_MAX + 8], conf[PATH_MAX + 24];
    if (snprintf(root, sizeof(root), "%s/embed", state_dir) >= (int)sizeof(root))
        return cl_error_set(errp, CL_ERR_INVAL, "state directory path too long: '%s'", state_dir), NULL;
    snprintf(etc, sizeof(etc), "%s/etc", root);
    snprintf(conf, sizeof(conf), "%s/qemu.conf", etc);
    if (!cl_mkdir_p(etc, 0755, errp))
        return NULL;
    /* The embedded driver's QEMU log handler must be "file": without virtlogd running,
     * the default handler leaves QEMU without a working stdout/stderr. */
    /* remember_owner = 0: the DAC driver would otherwise record owners in extended
     * attributes of the guest files, which concurrent runs in other roots share. */
    if (!write_if_missing(conf,
                          "# written by crashlab for its embedded libvirt QEMU driver\n"
                          "stdio_handler = \"file\"\n"
                          "remember_owner = 0\n",
                          errp))
        return NULL;
    char *uri = NULL;
    if (asprintf(&uri, "qemu:///embed?root=%s", root) < 0)
        return cl_error_set(errp, CL_ERR_NOMEM, "out of memory"), NULL;
    return uri;
}

/* libvirt keeps an embedded root's driver.pid locked (fcntl) until the process that
 * opened it exits: virConnectClose does not release it. A process that has just ended its
 * run may still be exiting (tearing down a large address space first), so the next
 * opener waits for the lock to go instead of failing on it. Returns the holder's pid if
 * it is still held at the deadline, 0 once free. */
static long embedded_root_busy(const char *uri, double wait_s)
{
    const char *r = strstr(uri, "root=");
    if (!r)
        return 0;
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%.*s/run/qemu/driver.pid", (int)strcspn(r + 5, "&"), r + 5);
    if (n < 0 || n >= (int)sizeof(path))
        return 0;
    struct timespec nap = { 0, 50 * 1000 * 1000 };
    for (double waited = 0;; waited += 0.05) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return 0;
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
        int rc = fcntl(fd, F_GETLK, &fl);
        close(fd);
        if (rc < 0 || fl.l_type == F_UNLCK)
            return 0;
        if (waited >= wait_s)
            return (long)fl.l_pid;
        nanosleep(&nap, NULL);
    }
}

static void *event_loop(void *opaque)
{
    cl_virt *v = opaque;
    while (!v->quit) {
        if (virEventRunDefaultImpl() < 0)
            break;
    }
    return NULL;
}

static void push_event(cl_virt *v, const char *domain, cl_virt_event_kind kind, int detail, const char *dstr)
{
    pthread_mutex_lock(&v->lock);
    if (v->qlen == EVQ_MAX) {
        /* A flood of events from one domain must not lose the others' crash: drop the oldest. */
        memmove(&v->q[0], &v->q[1], sizeof(v->q[0]) * (EVQ_MAX - 1));
        v->qlen--;
    }
    snprintf(v->q[v->qlen].domain, sizeof(v->q[0].domain), "%s", domain);
    cl_virt_event *ev = &v->q[v->qlen].ev;
    ev->kind = kind;
    ev->detail = detail;
    snprintf(ev->detail_str, sizeof(ev->detail_str), "%s", dstr);
    ev->when = cl_now();
    v->qlen++;
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&v->lock);
}

static const char *stopped_detail(int d)
{
    switch (d) {
    case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN: return "shutdown";
    case VIR_DOMAIN_EVENT_STOPPED_DESTROYED: return "destroyed";
    case VIR_DOMAIN_EVENT_STOPPED_CRASHED: return "crashed";
    case VIR_DOMAIN_EVENT_STOPPED_MIGRATED: return "migrated";
    case VIR_DOMAIN_EVENT_STOPPED_SAVED: return "saved";
    case VIR_DOMAIN_EVENT_STOPPED_FAILED: return "failed";
    case VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT: return "from-snapshot";
    }
    return "unknown";
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    (void)conn;
    cl_virt *v = opaque;
    const char *name = virDomainGetName(dom);
    if (!name)
        return 0;
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
        push_event(v, name, CL_VEV_STARTED, detail, "booted");
        break;
    case VIR_DOMAIN_EVENT_CRASHED:
        push_event(v, name, CL_VEV_CRASHED, detail,
                   detail == VIR_DOMAIN_EVENT_CRASHED_PANICKED ? "panicked"
#ifdef VIR_DOMAIN_EVENT_CRASHED_CRASHLOADED
                   : detail == VIR_DOMAIN_EVENT_CRASHED_CRASHLOADED ? "crashloaded"
#endif
                   : "crashed");
        break;
    case VIR_DOMAIN_EVENT_STOPPED:
        push_event(v, name, CL_VEV_STOPPED, detail, stopped_detail(detail));
        break;
    case VIR_DOMAIN_EVENT_SUSPENDED:
        push_event(v, name, CL_VEV_SUSPENDED, detail,
                   detail == VIR_DOMAIN_EVENT_SUSPENDED_PAUSED ? "paused"
                   : detail == VIR_DOMAIN_EVENT_SUSPENDED_IOERROR ? "ioerror"
                   : "suspended");
        break;
    case VIR_DOMAIN_EVENT_RESUMED:
        push_event(v, name, CL_VEV_RESUMED, detail, "resumed");
        break;
    default:
        break;
    }
    return 0;
}

static void on_agent(virConnectPtr conn, virDomainPtr dom, int state, int reason, void *opaque)
{
    (void)conn;
    cl_virt *v = opaque;
    const char *name = virDomainGetName(dom);
    if (!name)
        return;
    if (state == VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED)
        push_event(v, name, CL_VEV_AGENT_CONNECTED, reason, "connected");
    else
        push_event(v, name, CL_VEV_AGENT_DISCONNECTED, reason, "disconnected");
}

/* Set from a signal handler (cl_virt_interrupt_opens): a connect in progress gives up. */
static volatile sig_atomic_t opens_interrupted;

void cl_virt_interrupt_opens(void)
{
    opens_interrupted = 1;
}

/* virConnectOpen in a thread of its own, so that the caller can give up on a libvirt that
 * accepts the connection and never answers (virConnectOpen has no timeout of its own and
 * blocks signals' effect: measured 953 s). The thread owns the struct once abandoned:
 * whoever finishes last frees it, and a connection that arrives too late is closed. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char *uri;
    bool pin;            /* start the embedded driver on one CPU (see cl_virt_open_by) */
    bool done, abandoned;
    virConnectPtr conn;
    char err[512];
} opener;

static void opener_free(opener *o)
{
    pthread_mutex_destroy(&o->lock);
    pthread_cond_destroy(&o->cond);
    free(o->uri);
    free(o);
}

static void *open_thread(void *arg)
{
    opener *o = arg;
    if (o->pin) {
        /* The embedded driver probes QEMU's capabilities unless its cache is valid, and
         * the cache is keyed on the host CPUID, which differs between this machine's CPUs
         * (measured: 8 s of re-probing on about half of all runs). The probe runs in this
         * thread and what it starts inherits its CPU set. */
        cpu_set_t all, one;
        if (sched_getaffinity(0, sizeof(all), &all) == 0) {
            for (int i = 0; i < CPU_SETSIZE; i++) {
                if (CPU_ISSET(i, &all)) {
                    CPU_ZERO(&one);
                    CPU_SET(i, &one);
                    sched_setaffinity(0, sizeof(one), &one);
                    break;
                }
            }
        }
    }
    virConnectPtr conn = virConnectOpen(o->uri);
    char err[512] = "";
    if (!conn) {
        virErrorPtr e = virGetLastError();   /* thread-local: copied here */
        snprintf(err, sizeof(err), "%s", e && e->message ? e->message : "unknown libvirt error");
    }
    pthread_mutex_lock(&o->lock);
    bool abandoned = o->abandoned;
    o->conn = conn;
    o->done = true;
    snprintf(o->err, sizeof(o->err), "%s", err);
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
    if (abandoned) {
        if (conn)
            virConnectClose(conn);
        opener_free(o);
    }
    return NULL;
}

/* Opens uri by the deadline (cl_now() based; 0: none); NULL with the error set when libvirt
 * refuses, does not answer in time, or a signal asked us to stop. */
static virConnectPtr open_by(const char *uri, bool pin, double deadline, cl_error **errp)
{
    opener *o = calloc(1, sizeof(*o));
    if (!o || !(o->uri = strdup(uri))) {
        free(o);
        return cl_error_set(errp, CL_ERR_NOMEM, "out of memory"), NULL;
    }
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->cond, NULL);
    o->pin = pin;
    pthread_t t;
    if (pthread_create(&t, NULL, open_thread, o) != 0) {
        opener_free(o);
        return cl_error_set(errp, CL_ERR_VIRT, "cannot start a thread to connect to '%s'", uri), NULL;
    }
    pthread_detach(t);
    double t0 = cl_now();
    pthread_mutex_lock(&o->lock);
    while (!o->done && !opens_interrupted && (!deadline || cl_now() < deadline)) {
        /* Wake every 100 ms: the signal handler cannot signal a condition variable. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&o->cond, &o->lock, &ts);
    }
    if (!o->done) {
        o->abandoned = true;   /* the thread frees it, and closes a late connection */
        pthread_mutex_unlock(&o->lock);
        if (opens_interrupted)
            return cl_error_set(errp, CL_ERR_INTERRUPTED, "interrupted"), NULL;
        return cl_error_set(errp, CL_ERR_TIMEOUT, "libvirt at '%s' did not answer within %.0f s (the run's deadline)", uri,
                            cl_now() - t0), NULL;
    }
    virConnectPtr conn = o->conn;
    if (!conn)
        cl_error_set(errp, CL_ERR_VIRT, "cannot connect to '%s': %s", uri, o->err);
    pthread_mutex_unlock(&o->lock);
    opener_free(o);
    return conn;
}

static pthread_once_t event_impl_once = PTHREAD_ONCE_INIT;
static int event_impl_rc;
static void event_impl_init(void)
{
    virSetErrorFunc(NULL, silence_errors);
    event_impl_rc = virEventRegisterDefaultImpl();
}

cl_virt *cl_virt_open(const char *uri, const char *state_dir, cl_error **errp)
{
    return cl_virt_open_by(uri, state_dir, 0, errp);
}

cl_virt *cl_virt_open_by(const char *uri, const char *state_dir, double deadline, cl_error **errp)
{
    CL_AUTOFREE char *def = NULL;
    if (!uri) {
        if (!(def = cl_virt_default_uri(state_dir, errp)))
            return NULL;
        uri = def;
    }
    /* libvirt logs warnings (such as the taint of every agent command) to stderr; they
     * belong in a file in the state directory, unless the user chose otherwise. */
    if (state_dir && !getenv("LIBVIRT_LOG_OUTPUTS")) {
        char out[PATH_MAX + 32];
        snprintf(out, sizeof(out), "3:file:%s/libvirt.log", state_dir);
        setenv("LIBVIRT_LOG_OUTPUTS", out, 0);
    }
    /* The embedded driver refuses to open without an event loop implementation. */
    pthread_once(&event_impl_once, event_impl_init);
    if (event_impl_rc < 0)
        return cl_virt_error(errp, "cannot register libvirt's event loop"), NULL;

    cl_virt *v = calloc(1, sizeof(*v));
    if (!v)
        return cl_error_set(errp, CL_ERR_NOMEM, "out of memory"), NULL;
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->cond, NULL);
    v->cb_lifecycle = v->cb_agent = -1;
    if (pthread_create(&v->loop, NULL, event_loop, v) != 0) {
        cl_error_set(errp, CL_ERR_VIRT, "cannot start the event loop thread");
        free(v);
        return NULL;
    }
    v->loop_running = true;

    bool embedded = strstr(uri, "/embed") != NULL;
    double busy_wait = 30;
    if (deadline && deadline - cl_now() < busy_wait)
        busy_wait = deadline - cl_now() > 0 ? deadline - cl_now() : 0;
    long holder = embedded ? embedded_root_busy(uri, busy_wait) : 0;
    if (holder) {
        cl_error_set(errp, CL_ERR_VIRT, "the embedded libvirt root of '%s' stayed in use by process %ld for %.0f s",
                     uri, holder, busy_wait);
        cl_virt_close(v);
        return NULL;
    }
    v->conn = open_by(uri, embedded, deadline, errp);
    if (!v->conn) {
        cl_virt_close(v);
        return NULL;
    }
    /* Every later call on a remote connection is bounded too: libvirt's keepalive closes
     * a connection whose daemon stops answering (5 s interval, 3 missed: ~20 s), and the
     * call in progress fails instead of waiting for ever. Not supported by the embedded
     * driver, which has no peer to lose. */
    if (!embedded)
        virConnectSetKeepAlive(v->conn, 5, 3);
    char *canon = virConnectGetURI(v->conn);
    v->uri = canon ? canon : strdup(uri);
    v->embedded = strstr(uri, "/embed") != NULL;
    v->local = cl_virt_uri_is_local(uri);

    v->cb_lifecycle = virConnectDomainEventRegisterAny(v->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                       VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), v, NULL);
    v->cb_agent = virConnectDomainEventRegisterAny(v->conn, NULL, VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
                                                   VIR_DOMAIN_EVENT_CALLBACK(on_agent), v, NULL);
    if (v->cb_lifecycle < 0) {
        cl_virt_error(errp, "cannot register for domain events on '%s'", uri);
        cl_virt_close(v);
        return NULL;
    }
    return v;
}

static void noop_timer(int timer, void *opaque)
{
    (void)opaque;
    virEventRemoveTimeout(timer);
}

void cl_virt_close(cl_virt *v)
{
    if (!v)
        return;
    if (v->conn) {
        if (v->cb_lifecycle >= 0)
            virConnectDomainEventDeregisterAny(v->conn, v->cb_lifecycle);
        if (v->cb_agent >= 0)
            virConnectDomainEventDeregisterAny(v->conn, v->cb_agent);
        virConnectClose(v->conn);
    }
    if (v->loop_running) {
        v->quit = 1;
        /* The loop blocks in poll(); a zero-timeout timer makes it return and see quit. */
        virEventAddTimeout(0, noop_timer, NULL, NULL);
        pthread_join(v->loop, NULL);
    }
    pthread_mutex_destroy(&v->lock);
    pthread_cond_destroy(&v->cond);
    free(v->uri);
    free(v);
}

bool cl_virt_uri_is_local(const char *uri)
{
    if (!uri)
        return true;
    /* Files named in the domain XML (kernel, console log, sockets) must be on this host:
     * a transport other than a UNIX socket, or a host name in the URI, says they are not
     * (qemu+tcp://127.0.0.1/ too: a daemon on this machine may still see other files). */
    if (strchr(uri, '+') && strncmp(uri, "qemu+unix", 9))
        return false;
    const char *s = strstr(uri, "://");
    return !s || !strncmp(s, ":///", 4);
}

virConnectPtr cl_virt_conn(cl_virt *v) { return v->conn; }
const char *cl_virt_uri(cl_virt *v) { return v->uri; }
bool cl_virt_is_embedded(cl_virt *v) { return v->embedded; }
bool cl_virt_is_local(cl_virt *v) { return v->local; }

bool cl_virt_wait_event(cl_virt *v, const char *domain, unsigned mask, double deadline, cl_virt_event *ev)
{
    pthread_mutex_lock(&v->lock);
    for (;;) {
        for (size_t i = 0; i < v->qlen; i++) {
            if (strcmp(v->q[i].domain, domain) || !(mask & (1u << v->q[i].ev.kind)))
                continue;
            *ev = v->q[i].ev;
            memmove(&v->q[i], &v->q[i + 1], sizeof(v->q[0]) * (v->qlen - i - 1));
            v->qlen--;
            pthread_mutex_unlock(&v->lock);
            return true;
        }
        double now = cl_now();
        if (now >= deadline || v->interrupted)
            break;
        /* Wake at least every 200 ms so an interrupt flag set from a signal handler is seen. */
        double wait = deadline - now < 0.2 ? deadline - now : 0.2;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long ns = ts.tv_nsec + (long)(wait * 1e9);
        ts.tv_sec += ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&v->cond, &v->lock, &ts);
    }
    pthread_mutex_unlock(&v->lock);
    return false;
}

void cl_virt_forget(cl_virt *v, const char *domain)
{
    pthread_mutex_lock(&v->lock);
    size_t j = 0;
    for (size_t i = 0; i < v->qlen; i++)
        if (strcmp(v->q[i].domain, domain))
            v->q[j++] = v->q[i];
    v->qlen = j;
    pthread_mutex_unlock(&v->lock);
}

static void fmt_version(unsigned long ver, char out[32])
{
    snprintf(out, 32, "%lu.%lu.%lu", ver / 1000000, (ver / 1000) % 1000, ver % 1000);
}

bool cl_virt_versions(cl_virt *v, char lib[32], char hv[32], cl_error **errp)
{
    unsigned long lv = 0, hvv = 0;
    if (virConnectGetLibVersion(v->conn, &lv) < 0)
        return cl_virt_error(errp, "cannot get the libvirt version");
    if (virConnectGetVersion(v->conn, &hvv) < 0)
        return cl_virt_error(errp, "cannot get the hypervisor version");
    fmt_version(lv, lib);
    fmt_version(hvv, hv);
    return true;
}

const char *cl_virt_event_kind_to_string(cl_virt_event_kind k)
{
    static const char *const names[CL_VEV_LAST] = {
        "none", "started", "crashed", "stopped", "suspended", "resumed",
        "agent-connected", "agent-disconnected",
    };
    return (unsigned)k < CL_VEV_LAST ? names[k] : "unknown";
}

void cl_virt_interrupt(cl_virt *v)
{
    v->interrupted = 1;
}

bool cl_virt_interrupted(cl_virt *v)
{
    return v->interrupted;
}
