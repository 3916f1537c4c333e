/* record.c - recording a run under QEMU record/replay (-icount rr=record). QEMU writes
 * every non-deterministic input (timers, interrupts, recorded chardevs) to replay.bin;
 * with the same command line, kernel and initrd, rr=replay runs the guest through the
 * same instructions. What a replay needs to refuse a changed input is kept here with a
 * sha256 each. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "util/fileio.h"
#include "util/json.h"

static bool wanted(const cl_run_ctx *c)
{
    return c->opts->record || c->s->record;
}

static json_object *replay_obj(cl_run_ctx *c)
{
    return cl_json_child(c->res, "replay");
}

static void warn(cl_run_ctx *c, const char *fmt, const char *detail)
{
    char w[1200];
    snprintf(w, sizeof(w), fmt, detail);
    json_object_array_add(c->warnings, json_object_new_string(w));
}

/* {"path": ..., "sha256": ..., "bytes": ...} of one input, or a warning when it cannot be read. */
static void add_file(cl_run_ctx *c, json_object *r, const char *key, const char *path)
{
    char hex[65];
    uint64_t size = 0;
    cl_error *err = NULL;
    if (!cl_sha256_file(path, hex, &size, &err)) {
        warn(c, "record: %s", err->msg);
        cl_error_free(err);
        return;
    }
    json_object *f = json_object_new_object();
    json_object_object_add(f, "path", json_object_new_string(path));
    json_object_object_add(f, "sha256", json_object_new_string(hex));
    json_object_object_add(f, "bytes", json_object_new_int64((int64_t)size));
    json_object_object_add(r, key, f);
}

bool cl_run_record_prepare(cl_run_ctx *c, cl_domxml_opts *dx, char *path, size_t pathlen, cl_error **errp)
{
    if (!wanted(c))
        return true;
    if (c->opts->warm)
        return cl_error_set(errp, CL_ERR_INVAL, "record: a replay starts at power-on; --warm restores a saved guest (use --cold)");
    if (c->remote)
        return cl_error_set(errp, CL_ERR_INVAL, "record: the replay log would be on the remote host; record on this machine");
    json_object *r = replay_obj(c);
    if (strcmp(dx->domain_type, "qemu")) {
        /* icount (and so record/replay) exists only under TCG. */
        json_object_object_add(r, "recorded", json_object_new_boolean(0));
        json_object_object_add(r, "reason", json_object_new_string("KVM: QEMU record/replay needs TCG (--accel tcg); recorded normally"));
        warn(c, "record: %s", "not recorded under KVM (QEMU record/replay needs TCG)");
        return true;
    }
    if ((size_t)snprintf(path, pathlen, "%s/" CL_RECORD_LOG, c->partial_dir) >= pathlen)
        return cl_error_set(errp, CL_ERR_INVAL, "record: run directory path too long");
    if (!c->opts->print_xml) {
        /* QEMU may run as its own user: the file exists before it opens it, like the console. */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, CL_FILE_MODE);
        if (fd < 0)
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "record: cannot create %s", path);
        /* As root, the embedded driver runs QEMU as libvirt-qemu, and libvirt chowns only
         * the files its XML names, not a <qemu:arg> path: hand this one over ourselves. */
        struct passwd *pw = geteuid() == 0 ? getpwnam("libvirt-qemu") : NULL;
        if (pw && fchown(fd, pw->pw_uid, pw->pw_gid) < 0) {
            int e = errno;
            close(fd);
            return cl_error_set_errno(errp, CL_ERR_IO, e, "record: cannot give %s to libvirt-qemu", path);
        }
        close(fd);
    }
    dx->rr_file = path;
    json_object_object_add(r, "recorded", json_object_new_boolean(1));
    json_object_object_add(r, "mode", json_object_new_string("record"));
    json_object_object_add(r, "icount_shift", json_object_new_string("auto"));
    if (dx->kernel && *dx->kernel && !c->opts->print_xml) {
        add_file(c, r, "kernel", dx->kernel);
        add_file(c, r, "initrd", dx->initrd);
    }
    return true;
}

void cl_run_record_icount(cl_run_ctx *c)
{
    json_object *r = NULL, *rec = NULL;
    if (!json_object_object_get_ex(c->res, "replay", &r) || !json_object_object_get_ex(r, "recorded", &rec) ||
        !json_object_get_boolean(rec) || !c->dom)
        return;
    char *out = NULL;
    if (virDomainQemuMonitorCommand(c->dom, "{\"execute\":\"query-replay\"}", &out, 0) < 0 || !out) {
        warn(c, "record: query-replay failed: %s", virGetLastErrorMessage());
        free(out);
        return;
    }
    /* QEMU's answer: {"return": {"mode": "record", "filename": ..., "icount": N}}. */
    json_object *j = strlen(out) < 4096 ? json_tokener_parse(out) : NULL, *ret = NULL, *ic = NULL, *mode = NULL;
    if (j && json_object_object_get_ex(j, "return", &ret) && json_object_object_get_ex(ret, "icount", &ic) &&
        json_object_is_type(ic, json_type_int) && json_object_object_get_ex(ret, "mode", &mode) &&
        !strcmp(json_object_get_string(mode), "record"))
        json_object_object_add(r, "icount", json_object_new_int64(json_object_get_int64(ic)));
    else
        warn(c, "record: unexpected query-replay answer '%.200s'", out);
    json_object_put(j);
    free(out);
}

void cl_run_record_finish(cl_run_ctx *c)
{
    json_object *r = NULL, *rec = NULL;
    if (!json_object_object_get_ex(c->res, "replay", &r) || !json_object_object_get_ex(r, "recorded", &rec) ||
        !json_object_get_boolean(rec))
        return;
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/" CL_RECORD_LOG, c->partial_dir);
    /* QEMU is gone: the log belongs to the run directory's owner again, like the console. */
    if (geteuid() == 0 && chown(p, 0, 0) < 0)
        warn(c, "record: cannot chown the log back: %s", strerror(errno));
    add_file(c, r, "log", p);
    snprintf(p, sizeof(p), "%s/domain.xml", c->partial_dir);
    add_file(c, r, "domain_xml", p);
    /* Paths inside the run directory move with it: keep the names only. */
    json_object *f = NULL;
    if (json_object_object_get_ex(r, "log", &f))
        json_object_object_add(f, "path", json_object_new_string(CL_RECORD_LOG));
    if (json_object_object_get_ex(r, "domain_xml", &f))
        json_object_object_add(f, "path", json_object_new_string("domain.xml"));
}
