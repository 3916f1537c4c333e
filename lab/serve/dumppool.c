/* dumppool.c - at daemon start, every host whose files are not this machine's must have a
 * storage pool its dumps can be written into and brought home from (lab/run/remote.h);
 * a host without one would run every crash scenario and lose the dump, so it takes no
 * jobs and says why. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_priv.h"
#include "proto.h"
#include "util/fileio.h"
#include "virt/storage.h"

/* In a forked helper (the daemon keeps no libvirt connection of its own): writes "ok
 * TARGET" or the reason to out_fd. */
static int check_in_child(const cl_host *h, const char *pool, int out_fd)
{
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_virt) v = cl_virt_open(h->uri, NULL, &err);
    cl_pool_info pi;
    char msg[1200];
    if (v && cl_pool_check(v, pool, &pi, &err)) {
        snprintf(msg, sizeof(msg), "ok %s (%llu MiB free)", pi.target, (unsigned long long)(pi.available >> 20));
        cl_serve_write_all(out_fd, msg, strlen(msg));
        return 0;
    }
    snprintf(msg, sizeof(msg), "%s", err ? err->msg : "unknown error");
    cl_serve_write_all(out_fd, msg, strlen(msg));
    return 1;
}

static void disable(cl_daemon *d, cl_host *h, const char *why)
{
    free(h->disabled);
    h->disabled = NULL;
    if (asprintf(&h->disabled, "no storage pool for its dumps: %s", why) < 0)
        h->disabled = strdup("no storage pool for its dumps");
    cl_daemon_log(d, "host %s takes no jobs: %s", h->name, h->disabled ? h->disabled : "no dump pool");
}

bool cl_dump_pool_check_hosts(cl_daemon *d, cl_error **errp)
{
    for (size_t i = 0; i < d->hosts.n; i++) {
        cl_host *h = &d->hosts.v[i];
        if (!h->uri || cl_virt_uri_is_local(h->uri) || h->disabled)
            continue;
        const char *pool = h->dump_pool ? h->dump_pool : h->guest_pool;
        if (!pool) {
            disable(d, h, "it is a remote host and names neither dump_pool nor guest_pool in the hosts file");
            continue;
        }
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "dump pool: pipe");
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            _exit(check_in_child(h, pool, fds[1]));
        }
        close(fds[1]);
        if (pid < 0) {
            close(fds[0]);
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "dump pool: fork");
        }
        char msg[1200];
        size_t len = 0;
        ssize_t r;
        while (len < sizeof(msg) - 1 && (r = read(fds[0], msg + len, sizeof(msg) - 1 - len)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                break;
            len += (size_t)r;
        }
        msg[len] = '\0';
        close(fds[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || strncmp(msg, "ok ", 3)) {
            disable(d, h, len ? msg : "the check did not finish");
            continue;
        }
        cl_daemon_log(d, "dumps of host %s go through its pool %s: %s", h->name, pool, msg + 3);
    }
    return true;
}
