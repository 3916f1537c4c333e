/* record.c - recording a run under QEMU record/replay (-icount rr=record). QEMU writes
 * every non-deterministic input (timers, interrupts, recorded chardevs) to replay.bin;
 * with the same command line, kernel and initrd, rr=replay runs the guest through the
 * same instructions. What a replay needs to refuse a changed input is kept here with a
 * sha256 each. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "util/buf.h"
#include "util/fileio.h"
#include "util/json.h"
#include "virt/domain.h"

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

/* QEMU 7.2 records only chardevs made with qemu_chr_new (-serial), not the agent's
 * virtio-serial port: a guest that hears from qemu-ga does not replay. So a recorded run
 * says nothing to its guest: the guest's init loads labfault.ko from the image and fires
 * the scenario's one trigger (crashlab.selftest=FAULT:k=v,..., guest-agent/linux/init). */
static char agentless_cmdline[4096];
static bool agentless;

bool cl_run_record_agentless(const cl_run_ctx *c)
{
    (void)c;
    return agentless;
}

static bool selftest_word(const cl_run_ctx *c, cl_buf *b, cl_error **errp)
{
    const cl_step *trig = NULL;
    for (size_t i = 0; i < c->s->nsteps; i++) {
        const cl_step *st = &c->s->steps[i];
        if (st->kind == CL_STEP_INSTALL) {
            const char *base = strrchr(st->path, '/');
            if (strcmp(base ? base + 1 : st->path, "labfault.ko"))
                return cl_error_set(errp, CL_ERR_INVAL,
                                    "record: step %zu (line %d) installs '%s': a recorded run cannot talk to its guest, "
                                    "only the image's own labfault.ko can be loaded (from the guest's init)",
                                    i + 1, st->line, st->path);
            continue;
        }
        if (st->kind != CL_STEP_TRIGGER || trig)
            return cl_error_set(errp, CL_ERR_INVAL,
                                "record: step %zu (line %d) needs the guest agent; a recorded run fires one trigger "
                                "from the guest's init and sends the guest nothing",
                                i + 1, st->line);
        trig = st;
    }
    if (!trig)
        return cl_error_set(errp, CL_ERR_INVAL, "record: the scenario has no trigger step to fire");
    char *argv[CL_SCENARIO_MAX_ARGS + 1];
    char bufs[CL_SCENARIO_MAX_ARGS][160];
    int n = cl_run_trigger_args(trig, argv, CL_SCENARIO_MAX_ARGS, bufs);
    cl_buf_addf(b, " crashlab.selftest=%s", trig->fault->id);
    for (int i = 0; i < n; i++) {
        cl_buf_adds(b, i ? "," : ":");
        for (const char *p = argv[i]; *p; p++) {
            unsigned char ch = (unsigned char)*p;
            if (ch == ' ' || ch == ',' || ch == '%')
                cl_buf_addf(b, "%%%02X", ch);
            else if (ch < 0x21 || ch == '"' || ch == '\\' || ch >= 0x7f)
                return cl_error_set(errp, CL_ERR_INVAL,
                                    "record: trigger parameter '%.60s' (line %d) holds a character the kernel command "
                                    "line cannot carry", argv[i], trig->line);
            else
                cl_buf_add(b, p, 1);
        }
    }
    return true;
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
        close(fd);
        if (!cl_record_give_to_qemu(path, errp))
            return cl_error_prefix(errp, "record"), false;
    }
    if (c->s->profile == CL_PROFILE_LINUX) {
        cl_buf b = { 0 };
        cl_buf_adds(&b, dx->cmdline ? dx->cmdline : "");
        if (!selftest_word(c, &b, errp)) {
            cl_buf_reset(&b);
            return false;
        }
        CL_AUTOFREE char *line = cl_buf_finish(&b, errp);
        if (!line || strlen(line) >= 2048)
            return line ? cl_error_set(errp, CL_ERR_INVAL, "record: the kernel command line would pass 2047 bytes") : false;
        snprintf(agentless_cmdline, sizeof(agentless_cmdline), "%s", line);
        /* The uuid is in the guest's SMBIOS tables: fixed (from the run id) so that a
         * replay's guest sees the same bytes; libvirt would pick a random one. */
        static char uuid[40];
        char k[65];
        cl_sha256_buf(c->run_id, strlen(c->run_id), k);
        snprintf(uuid, sizeof(uuid), "%.8s-%.4s-4%.3s-8%.3s-%.12s", k, k + 8, k + 12, k + 15, k + 18);
        if (!dx->uuid)
            dx->uuid = uuid;
        dx->cmdline = agentless_cmdline;
        /* Not even the channel: its host side is not in the log (domxml.h, no_agent). */
        dx->no_agent = true;
        agentless = true;
        /* ELF is what QEMU writes byte for byte the same from the same state: a replay's
         * dump is then compared by sha256. */
        if (!c->opts->dump_format)
            c->s->dump_format = CL_DUMPFMT_ELF;
        json_object_object_add(r, "fired_from", json_object_new_string("kernel command line (crashlab.selftest)"));
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

bool cl_record_give_to_qemu(const char *path, cl_error **errp)
{
    struct passwd *pw = geteuid() == 0 ? getpwnam("libvirt-qemu") : NULL;
    if (pw && chown(path, pw->pw_uid, pw->pw_gid) < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot give %s to libvirt-qemu", path);
    return true;
}

bool cl_record_query_icount(cl_domain *dom, const char *want_mode, int64_t *icount, cl_error **errp)
{
    CL_AUTOFREE char *out = NULL;
    if (!cl_domain_qmp(dom, "{\"execute\":\"query-replay\"}", &out, errp))
        return cl_error_prefix(errp, "query-replay"), false;
    /* QEMU's answer: {"return": {"mode": "record", "filename": ..., "icount": N}}. */
    json_object *j = strlen(out) < 4096 ? json_tokener_parse(out) : NULL, *ret = NULL, *ic = NULL, *mode = NULL;
    bool ok = j && json_object_object_get_ex(j, "return", &ret) && json_object_object_get_ex(ret, "icount", &ic) &&
              json_object_is_type(ic, json_type_int) && json_object_object_get_ex(ret, "mode", &mode) &&
              !strcmp(json_object_get_string(mode), want_mode);
    if (ok)
        *icount = json_object_get_int64(ic);
    else
        cl_error_set(errp, CL_ERR_VIRT, "unexpected query-replay answer '%.200s'", out);
    json_object_put(j);
    return ok;
}

void cl_run_record_icount(cl_run_ctx *c)
{
    json_object *r = NULL, *rec = NULL;
    if (!json_object_object_get_ex(c->res, "replay", &r) || !json_object_object_get_ex(r, "recorded", &rec) ||
        !json_object_get_boolean(rec) || !c->dom)
        return;
    int64_t ic = 0;
    cl_error *err = NULL;
    if (cl_record_query_icount(c->dom, "record", &ic, &err))
        json_object_object_add(r, "icount", json_object_new_int64(ic));
    else
        warn(c, "record: %s", err->msg);
    cl_error_free(err);
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
