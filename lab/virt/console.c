/* console.c - the serial console over a non-blocking libvirt stream, read on the event
 * loop thread (console.h says why). */
#include <errno.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libvirt/virterror.h>

#include "console.h"
#include "util/fileio.h"

struct cl_console_stream {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    virStreamPtr st;
    int fd;
    uint64_t max, bytes, dropped;
    bool done;          /* the stream ended: eof or error */
    bool eof;
    bool closing;       /* the owner is tearing down: callbacks do nothing */
    char error[256];
    int refs;           /* the owner, and libvirt while the callback is registered */
};

static void unref(cl_console_stream *c)
{
    if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c);
}

static void release(void *opaque)
{
    unref(opaque);
}

static void write_out(cl_console_stream *c, const char *buf, size_t n)
{
    size_t keep = n;
    if (c->bytes >= c->max)
        keep = 0;
    else if (n > c->max - c->bytes)
        keep = (size_t)(c->max - c->bytes);
    for (size_t off = 0; off < keep;) {
        ssize_t w = write(c->fd, buf + off, keep - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            /* A full disk loses console bytes, not the run. */
            if (!c->error[0])
                snprintf(c->error, sizeof(c->error), "console: cannot write the log: %s", strerror(w < 0 ? errno : ENOSPC));
            c->dropped += keep - off;
            keep = off;
            break;
        }
        off += (size_t)w;
    }
    c->bytes += keep;
    c->dropped += n - keep;
}

static void on_event(virStreamPtr st, int events, void *opaque)
{
    cl_console_stream *c = opaque;
    pthread_mutex_lock(&c->lock);
    if (c->closing || c->done) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    char buf[65536];
    /* Drain what is there; a flooding guest is bounded by the stream's own chunks. */
    for (int rounds = 0; rounds < 64; rounds++) {
        int r = virStreamRecv(st, buf, sizeof(buf));
        if (r == -2)
            break;
        if (r == 0) {
            c->eof = c->done = true;
            break;
        }
        if (r < 0) {
            virErrorPtr e = virGetLastError();
            snprintf(c->error, sizeof(c->error), "console: stream failed: %s", e && e->message ? e->message : "unknown error");
            c->done = true;
            break;
        }
        write_out(c, buf, (size_t)r);
    }
    if (!c->done && (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP))) {
        c->done = true;
        c->eof = !(events & VIR_STREAM_EVENT_ERROR);
        if (!c->eof && !c->error[0])
            snprintf(c->error, sizeof(c->error), "console: the host reported a stream error");
    }
    bool done = c->done;
    if (done)
        pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (done)
        virStreamEventRemoveCallback(st);
}

cl_console_stream *cl_console_open(cl_virt *v, virDomainPtr dom, const char *path, uint64_t max_bytes, cl_error **errp)
{
    cl_console_stream *c = calloc(1, sizeof(*c));
    if (!c)
        return cl_error_set(errp, CL_ERR_NOMEM, "console: out of memory"), NULL;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->refs = 1;
    c->max = max_bytes;
    c->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, CL_FILE_MODE);
    if (c->fd < 0) {
        cl_error_set_errno(errp, CL_ERR_IO, errno, "console: cannot open '%s'", path);
        unref(c);
        return NULL;
    }
    c->st = virStreamNew(cl_virt_conn(v), VIR_STREAM_NONBLOCK);
    if (!c->st) {
        cl_virt_error(errp, "console: cannot create a stream");
        goto fail;
    }
    /* FORCE: a console left open by someone else (virsh console) must not cost the run
     * its console. */
    if (virDomainOpenConsole(dom, NULL, c->st, VIR_DOMAIN_CONSOLE_FORCE) < 0) {
        cl_virt_error(errp, "console: cannot open the domain's serial console");
        goto fail;
    }
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
    if (virStreamEventAddCallback(c->st, VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP,
                                  on_event, c, release) < 0) {
        __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
        cl_virt_error(errp, "console: cannot watch the console stream");
        virStreamAbort(c->st);
        goto fail;
    }
    return c;
fail:
    if (c->st)
        virStreamFree(c->st);
    close(c->fd);
    unref(c);
    return NULL;
}

void cl_console_close(cl_console_stream *c, double wait_s, cl_console_stats *st)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    double until = cl_now() + wait_s;
    while (!c->done && cl_now() < until) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->cond, &c->lock, &ts);
    }
    c->closing = true;
    bool done = c->done, eof = c->eof;
    pthread_mutex_unlock(&c->lock);
    if (!done)
        virStreamEventRemoveCallback(c->st);
    if (eof)
        virStreamFinish(c->st);
    else
        virStreamAbort(c->st);
    virStreamFree(c->st);
    close(c->fd);
    if (st) {
        memset(st, 0, sizeof(*st));
        st->bytes = c->bytes;
        st->dropped = c->dropped;
        st->eof = eof;
        snprintf(st->error, sizeof(st->error), "%s", c->error);
    }
    unref(c);
}
