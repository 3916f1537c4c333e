/* guestsync.c - puts the Linux guest files (vmlinuz, initrd.img) on hosts that do not share
 * this machine's file system, through a libvirt storage pool named in the hosts file.
 *
 * The pool (a "dir" pool the fleet admin defines once on each host) holds volumes named
 * vmlinuz and initrd.img; the pool's target directory then is the guest directory for runs
 * on that host. A volume is uploaded when missing or when its bytes differ, and every
 * volume is downloaded back and its sha256 compared with the local file: a host never runs
 * a guest it did not receive intact.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_priv.h"
#include "proto.h"
#include "util/fileio.h"
#include "virt/storage.h"

/* In a forked helper (the daemon keeps no libvirt connection or thread of its own).
 * Writes the pool's target directory to out_fd. */
static int sync_in_child(const cl_host *h, const char *guest_dir, int out_fd)
{
    CL_AUTOPTR(cl_error) err = NULL;
    /* A host that accepts and never answers must not hold the daemon's start for ever. */
    CL_AUTOPTR(cl_virt) v = cl_virt_open_by(h->uri, NULL, cl_now() + 60, &err);
    if (!v)
        goto fail;
    if (!cl_pool_refresh(v, h->guest_pool, &err)) {
        cl_error_prefix(&err, "guest sync: host '%s'", h->name);
        goto fail;
    }
    static const char *const files[] = { "vmlinuz", "initrd.img" };
    char target[4096] = "";
    for (size_t i = 0; i < 2 && !err; i++) {
        char path[4096], want[65], have[65] = "";
        uint64_t size = 0;
        if (!cl_path_fmt(path, sizeof(path), &err, "%s/%s", guest_dir, files[i]) || !cl_sha256_file(path, want, &size, &err))
            break;
        if (!cl_pool_file_sha256(v, h->guest_pool, files[i], have, NULL) || strcmp(have, want)) {
            fprintf(stderr, "crashlab serve: guest sync: uploading %s (%llu bytes) to %s pool %s\n", files[i],
                    (unsigned long long)size, h->name, h->guest_pool);
            if (!cl_pool_file_upload(v, h->guest_pool, files[i], path, size, &err))
                break;
        }
        /* Read back whatever is there now: a host never runs a guest it did not receive intact. */
        if (!cl_pool_file_sha256(v, h->guest_pool, files[i], have, &err))
            break;
        if (strcmp(have, want)) {
            cl_error_set(&err, CL_ERR_VIRT, "guest sync: %s on host '%s' has sha256 %s, expected %s", files[i], h->name, have, want);
            break;
        }
        cl_pool_file_dir(v, h->guest_pool, files[i], target, sizeof(target), &err);
    }
    if (err) {
        if (strncmp(err->msg, "guest sync:", 11))
            cl_error_prefix(&err, "guest sync");
        goto fail;
    }
    cl_serve_write_all(out_fd, target, strlen(target));
    return 0;
fail:
    fprintf(stderr, "crashlab serve: %s\n", err ? err->msg : "guest sync failed");
    return 1;
}

bool cl_guest_sync_hosts(cl_daemon *d, cl_error **errp)
{
    const char *gd = getenv("CRASHLAB_GUEST");
    char guest_dir[PATH_MAX];
    if (!realpath(gd ? gd : "build/guest", guest_dir))
        snprintf(guest_dir, sizeof(guest_dir), "%s", gd ? gd : "build/guest");
    for (size_t i = 0; i < d->hosts.n; i++) {
        cl_host *h = &d->hosts.v[i];
        if (!h->guest_pool)
            continue;
        if (!h->uri)
            return cl_error_set(errp, CL_ERR_INVAL, "hosts: '%s' is the embedded driver; guest_pool is for other hosts", h->name);
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "guest sync: pipe");
        double t = cl_now();
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            _exit(sync_in_child(h, guest_dir, fds[1]));
        }
        close(fds[1]);
        if (pid < 0) {
            close(fds[0]);
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "guest sync: fork");
        }
        char target[4096];
        size_t len = 0;
        ssize_t r;
        while (len < sizeof(target) - 1 && (r = read(fds[0], target + len, sizeof(target) - 1 - len)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                break;
            len += (size_t)r;
        }
        target[len] = '\0';
        close(fds[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !len) {
            /* One unreachable host must not keep the fleet from working: it sits out
             * until the next start. */
            free(h->disabled);
            h->disabled = strdup("its guest files could not be put there (see the daemon's log)");
            cl_daemon_log(d, "host %s takes no jobs: the guest files could not be put there", h->name);
            continue;
        }
        free(h->guest_dir);
        h->guest_dir = strdup(target);
        cl_daemon_log(d, "guest files on host %s verified in %s (%.1f s)", h->name, target, cl_now() - t);
    }
    return true;
}
