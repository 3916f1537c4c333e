/* replay.c - `crashlab replay RUN_DIR` (issue 17). A record log replays only with the very
 * inputs it was recorded with, so every input result.json "replay" names (the log,
 * domain.xml, kernel, initrd) is hashed again and a changed one is refused by name. Then
 * the recorded domain runs again under rr=replay: the same guest-visible XML (uuid and
 * SMBIOS serial included), another name, console and a copy of the log. QEMU pauses it at
 * the same panic (-action panic=pause); the instruction count there must be the recorded
 * one, and the dump, written again in the recorded format, must have the recorded sha256. */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "record.h"
#include "replay_gdb.h"
#include "run.h"
#include "util/buf.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/reaper.h"
#include "virt/domain.h"
#include "virt/virt.h"

static bool check_input(json_object *r, const char *key, const char *path, cl_error **errp)
{
    json_object *f = NULL, *want = NULL;
    if (!json_object_object_get_ex(r, key, &f) || !json_object_object_get_ex(f, "sha256", &want) ||
        !json_object_is_type(want, json_type_string))
        return cl_error_set(errp, CL_ERR_FORMAT, "replay: result.json replay.%s has no sha256", key);
    char hex[65];
    uint64_t size = 0;
    if (!cl_sha256_file(path, hex, &size, errp)) {
        cl_error_prefix(errp, "replay: input %s", key);
        return false;
    }
    if (strcmp(hex, json_object_get_string(want)))
        return cl_error_set(errp, CL_ERR_CORRUPT, "replay: input %s (%s) changed since the record: sha256 %s, recorded %.64s",
                            key, path, hex, json_object_get_string(want));
    return true;
}

/* The recorded path of kernel or initrd into out: absolute as a run records it, or relative
 * to the run directory (a corpus entry carries its own copies). Bounded, and free of what
 * the domain XML could not hold as text. */
static bool input_path(json_object *r, const char *key, const char *dir, char *out, size_t outlen)
{
    json_object *f = NULL, *p = NULL;
    if (!json_object_object_get_ex(r, key, &f) || !json_object_object_get_ex(f, "path", &p) ||
        !json_object_is_type(p, json_type_string) || json_object_get_string_len(p) >= PATH_MAX)
        return false;
    const char *s = json_object_get_string(p);
    if (!*s || strpbrk(s, "<>&'\"\n"))
        return false;
    char rel[PATH_MAX + 8], abs[PATH_MAX];
    int n = s[0] == '/' ? snprintf(out, outlen, "%s", s) : snprintf(rel, sizeof(rel), "%s/%s", dir, s);
    if (s[0] == '/' || n <= 0 || (size_t)n >= sizeof(rel))
        return n > 0 && (size_t)n < outlen;
    /* libvirt wants the kernel's path absolute. */
    if (!realpath(rel, abs) || strpbrk(abs, "<>&'\"\n"))
        return snprintf(out, outlen, "%s", rel) < (int)outlen;   /* check_input then names it */
    return snprintf(out, outlen, "%s", abs) < (int)outlen;
}

/* QEMU's record log format follows its version: a log replays only under the QEMU that
 * wrote it (QEMU itself checks only the log format's version number). */
static bool check_qemu(json_object *res, cl_error **errp)
{
    json_object *h = NULL, *v = NULL;
    if (!json_object_object_get_ex(res, "host", &h) || !json_object_object_get_ex(h, "qemu_version", &v) ||
        !json_object_is_type(v, json_type_string))
        return cl_error_set(errp, CL_ERR_FORMAT, "replay: result.json host.qemu_version is missing");
    FILE *f = popen("qemu-system-x86_64 --version 2>/dev/null", "r");
    char line[256] = "", have[64] = "";
    if (f) {
        if (!fgets(line, sizeof(line), f))
            line[0] = 0;
        pclose(f);
    }
    if (sscanf(line, "QEMU emulator version %63[0-9.]", have) != 1)
        return cl_error_set(errp, CL_ERR_VIRT, "replay: cannot tell this host's QEMU version (qemu-system-x86_64 --version)");
    if (strcmp(have, json_object_get_string(v)))
        return cl_error_set(errp, CL_ERR_INVAL, "replay: recorded under QEMU %.63s, this host has QEMU %s",
                            json_object_get_string(v), have);
    return true;
}

static bool check_run(const char *dir, json_object **resp, cl_error **errp)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/result.json", dir);
    CL_AUTOFREE char *text = NULL;
    if (!cl_file_read_all(p, 16u << 20, &text, NULL, errp))
        return false;
    json_object *res = json_tokener_parse(text), *r = NULL, *rec = NULL, *ic = NULL;
    bool ok = false;
    if (!res || !json_object_object_get_ex(res, "replay", &r) || !json_object_object_get_ex(r, "recorded", &rec) ||
        !json_object_get_boolean(rec)) {
        cl_error_set(errp, CL_ERR_INVAL, "replay: %s was not recorded (run it with --record under TCG)", dir);
        goto out;
    }
    if (!json_object_object_get_ex(r, "icount", &ic) || !json_object_is_type(ic, json_type_int)) {
        cl_error_set(errp, CL_ERR_FORMAT, "replay: %s has no icount at the dump (the run took none)", dir);
        goto out;
    }
    if (!check_qemu(res, errp))
        goto out;
    snprintf(p, sizeof(p), "%s/" CL_RECORD_LOG, dir);
    if (!check_input(r, "log", p, errp))
        goto out;
    snprintf(p, sizeof(p), "%s/domain.xml", dir);
    if (!check_input(r, "domain_xml", p, errp))
        goto out;
    for (const char *const *k = (const char *const[]){ "kernel", "initrd", NULL }; *k; k++) {
        char ip[PATH_MAX + 8];
        if (!input_path(r, *k, dir, ip, sizeof(ip))) {
            cl_error_set(errp, CL_ERR_FORMAT, "replay: result.json replay.%s has no usable path", *k);
            goto out;
        }
        if (!check_input(r, *k, ip, errp))
            goto out;
    }
    printf("replay: %s: QEMU %s and inputs unchanged (log, domain.xml, kernel, initrd), dump at icount %" PRId64 "\n", dir,
           json_object_get_string(json_object_object_get(json_object_object_get(res, "host"), "qemu_version")),
           json_object_get_int64(ic));
    ok = true;
out:
    if (ok && resp)
        *resp = json_object_get(res);
    json_object_put(res);
    return ok;
}


/* Replaces the one occurrence of the text between open and close (exclusive) by with. */
static bool swap_between(char **xml, const char *open, const char *close, const char *with, cl_error **errp)
{
    char *a = strstr(*xml, open);
    char *b = a ? strstr(a + strlen(open), close) : NULL;
    if (!a || !b)
        return cl_error_set(errp, CL_ERR_FORMAT, "replay: domain.xml has no %s...%s", open, close);
    cl_buf o = { 0 };
    cl_buf_add(&o, *xml, (size_t)(a - *xml) + strlen(open));
    cl_buf_adds(&o, with);
    cl_buf_adds(&o, b);
    char *n = cl_buf_finish(&o, errp);
    if (!n)
        return false;
    free(*xml);
    *xml = n;
    return true;
}

static bool copy_file(const char *from, const char *to, cl_error **errp)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "replay: cannot open '%s'", from);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, CL_FILE_MODE);
    if (out < 0) {
        close(in);
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "replay: cannot create '%s'", to);
    }
    static char buf[1 << 16];
    ssize_t n;
    bool ok = true;
    while (ok && (n = read(in, buf, sizeof(buf))) > 0)
        ok = write(out, buf, (size_t)n) == n;
    ok = ok && n == 0;
    close(in);
    if (close(out) < 0 || !ok)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "replay: cannot copy '%s'", from);
    return true;
}

static const char *jstr(json_object *o, const char *a, const char *b)
{
    json_object *x = NULL, *y = NULL;
    if (!json_object_object_get_ex(o, a, &x) || (b && !json_object_object_get_ex(x, b, &y)))
        return NULL;
    json_object *v = b ? y : x;
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* The replay: returns 0 identical, 1 not identical or failed, 2 bad input. */
/* The recorded XML with only the host's names changed: domain name, title, run id, console
 * path, agent socket, the replay log, the owner's pid; and on_poweroff restart (below). */
static bool host_xml(char **xml, const char *name, const char *rid, const char *con, const char *sock, const char *rr,
                     const char *kernel, const char *initrd, cl_error **errp)
{
    char pid[32];
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    return swap_between(xml, "<name>", "</name>", name, errp) &&
           swap_between(xml, "<title>", "</title>", "crashlab replay", errp) &&
           swap_between(xml, "<crashlab:id>", "</crashlab:id>", rid, errp) &&
           swap_between(xml, "<serial type='file'>\n      <source path='", "'/>", con, errp) &&
           /* Recorded since 2026-12-04 without the agent channel; older records have one. */
           (!strstr(*xml, "<source mode='bind' path='") || swap_between(xml, "<source mode='bind' path='", "'/>", sock, errp)) &&
           swap_between(xml, "<qemu:arg value='-icount'/>\n    <qemu:arg value='", "'/>", rr, errp) &&
           /* The record ended with the run's teardown, which QEMU logged as a shutdown at the
            * paused icount: replayed under on_poweroff destroy, libvirt kills QEMU before the
            * dump; under restart it waits for our jobs (query, dump) before its reset. */
           swap_between(xml, "<on_poweroff>", "</on_poweroff>", "restart", errp) &&
           swap_between(xml, "<crashlab:pid>", "</crashlab:pid>", pid, errp) &&
           /* Where the inputs are now (checked by sha256 against the record): a corpus keeps
            * its own copies. The guest sees their content, never their path. */
           swap_between(xml, "<kernel>", "</kernel>", kernel, errp) && swap_between(xml, "<initrd>", "</initrd>", initrd, errp);
}

/* The dump again, under the recorded plain file name in part, and its sha256. */
static bool dump_again(cl_domain *dom, json_object *res, cl_dump_format fmt, const char *part, char *path, size_t pathlen,
                       char got[65], uint64_t *bytes, cl_error **errp)
{
    const char *name = jstr(res, "dump", "path") ? jstr(res, "dump", "path") : "dump";
    if (strchr(name, '/'))
        return cl_error_set(errp, CL_ERR_FORMAT, "replay: result.json dump.path is not a plain name");
    return cl_path_fmt(path, pathlen, errp, "%s/%s", part, name) && cl_domain_dump(dom, fmt, path, errp) &&
           cl_sha256_file(path, got, bytes, errp);
}

/* replay.json into the run directory, which then takes its final name. */
static void replay_write(json_object *out, const char *part, const char *final, const char *log)
{
    if (!part[0] || access(part, F_OK) != 0)
        return;
    if (geteuid() == 0 && log[0])
        if (chown(log, 0, 0) < 0) { /* the copy stays libvirt-qemu's: harmless */ }
    char p[PATH_MAX];
    const char *text = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (cl_path_fmt(p, sizeof(p), NULL, "%s/replay.json", part))
        cl_file_write_atomic(p, text, strlen(text), NULL);
    if (rename(part, final) < 0)
        fprintf(stderr, "crashlab replay: cannot rename '%s': %s\n", part, strerror(errno));
}

/* A --gdb replay waits for the developer: Ctrl-C (or SIGTERM) ends it. */
static volatile int stop_asked;
static cl_virt *current_virt;

static void on_signal(int sig)
{
    (void)sig;
    stop_asked = 1;
    if (current_virt)
        cl_virt_interrupt(current_virt);
}

/* --gdb: replay.gdb beside replay.json, then paused at the panic until QEMU goes away (gdb's
 * kill) or a signal comes. */
static void gdb_session(cl_virt *v, const char *name, cl_replay_gdb *g, json_object *res, const char *final,
                        const char *module)
{
    CL_AUTOPTR(cl_error) err = NULL;
    char script[PATH_MAX];
    /* The snapshot file moved with the directory; QEMU keeps it open. */
    snprintf(g->snapshots, sizeof(g->snapshots), "%.4000s/rr-snapshots.qcow2", final);
    if (!cl_replay_gdb_script(g, res, final, module, script, sizeof(script), &err)) {
        fprintf(stderr, "crashlab %s\n", err->msg);
        return;
    }
    printf("replay: paused at the panic, QEMU's gdbstub on 127.0.0.1:%d; in another terminal:\n"
           "  gdb -x %s\n(Ctrl-C here ends the replay)\n", g->port, script);
    fflush(stdout);
    cl_virt_event ev;
    while (!stop_asked && !cl_virt_interrupted(v))
        if (cl_virt_wait_event(v, name, 1u << CL_VEV_STOPPED, cl_now() + 3600, &ev))
            break;
}

/* One replay: the recorded run, where the new one goes, and what the host names. */
typedef struct {
    const char *dir;                  /* the recorded run */
    json_object *res;                 /* its result.json */
    json_object *out;                 /* replay.json */
    int64_t want_ic;
    const char *fmt_name, *want_sha, *run_id;
    cl_dump_format fmt;
    int gdb_port;
    cl_replay_gdb g;
    char name[64], rid[160];
    char part[PATH_MAX], final[PATH_MAX], con[PATH_MAX], log[PATH_MAX], sock[PATH_MAX], rr[PATH_MAX + 64];
    char *xml, *state;
} replay_ctx;

/* What the record says of its dump: 0, or 2 (bad input) with the reason printed. */
static int recorded_dump(replay_ctx *x)
{
    x->fmt_name = jstr(x->res, "dump", "format");
    x->want_sha = jstr(x->res, "dump", "sha256");
    x->run_id = jstr(x->res, "run_id", NULL);
    x->want_ic = json_object_get_int64(json_object_object_get(json_object_object_get(x->res, "replay"), "icount"));
    if (!x->run_id || !x->fmt_name || !x->want_sha) {
        fprintf(stderr, "crashlab replay: %s/result.json has no run_id or dump (format, sha256)\n", x->dir);
        return 2;
    }
    x->fmt = CL_DUMPFMT_NONE;
    for (int i = 0; i < CL_DUMPFMT_LAST; i++)
        if (!strcmp(x->fmt_name, cl_dump_format_to_string((cl_dump_format)i)))
            x->fmt = (cl_dump_format)i;
    if (x->fmt != CL_DUMPFMT_ELF && x->fmt != CL_DUMPFMT_KDUMP_ZLIB) {
        fprintf(stderr, "crashlab replay: the recorded dump is %s; a replay writes and compares QEMU's own formats "
                        "(elf, kdump-zlib): record with the default or --dump-format elf\n", x->fmt_name);
        return 2;
    }
    return 0;
}

/* The new run directory (a .partial name until replay.json is in), a copy of the log QEMU
 * may open, and the recorded XML with only the host's names changed. */
static bool prepare(replay_ctx *x, const char *results, const char *state_opt, cl_error **errp)
{
    char sha[65], p[PATH_MAX];
    cl_sha256_buf(x->run_id, strlen(x->run_id), sha);
    snprintf(x->name, sizeof(x->name), "cl-r-%.12s-%lx", sha, (long)getpid() & 0xfffff);
    snprintf(x->rid, sizeof(x->rid), "%.100s-replay-%ld", x->run_id, (long)time(NULL));
    if (!cl_path_fmt(x->part, sizeof(x->part), errp, "%s/.%s.partial", results, x->rid) ||
        !cl_path_fmt(x->final, sizeof(x->final), errp, "%s/%s", results, x->rid) ||
        !cl_mkdir_p(results, CL_DIR_MODE_PASS, errp) || !cl_mkdir_p(x->part, CL_DIR_MODE_PASS, errp))
        return false;
    if (!cl_path_fmt(p, sizeof(p), errp, "%s/domain.xml", x->dir) || !cl_file_read_all(p, 1u << 20, &x->xml, NULL, errp))
        return false;
    x->state = cl_run_state_dir(state_opt);
    if (!x->state || !cl_path_fmt(x->con, sizeof(x->con), errp, "%s/console.log", x->part) ||
        !cl_path_fmt(x->log, sizeof(x->log), errp, "%s/" CL_RECORD_LOG, x->part) ||
        !cl_path_fmt(x->sock, sizeof(x->sock), errp, "%s/s/%s.qga", x->state, x->name) ||
        !cl_path_fmt(p, sizeof(p), errp, "%s/" CL_RECORD_LOG, x->dir))
        return false;
    snprintf(x->rr, sizeof(x->rr), "shift=auto,rr=replay,rrfile=%s", x->log);
    if (!copy_file(p, x->log, errp) || !cl_record_give_to_qemu(x->log, errp))
        return false;
    int cfd = open(x->con, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, CL_FILE_MODE);
    if (cfd >= 0)
        close(cfd);
    if (x->gdb_port && !strstr(x->xml, "apic.vapic=off"))
        return cl_error_set(errp, CL_ERR_INVAL, "replay --gdb: %s was recorded with the vapic on, and QEMU 7.2 deadlocks "
                            "loading a snapshot of such a guest (reverse execution); record it again (since 2026-12-04 "
                            "records turn it off)", x->dir);
    if (x->gdb_port && !cl_replay_gdb_prepare(&x->g, x->gdb_port, x->part, errp))
        return false;
    char kernel[PATH_MAX + 8], initrd[PATH_MAX + 8];
    json_object *r = json_object_object_get(x->res, "replay");
    if (!input_path(r, "kernel", x->dir, kernel, sizeof(kernel)) || !input_path(r, "initrd", x->dir, initrd, sizeof(initrd)))
        return cl_error_set(errp, CL_ERR_FORMAT, "replay: result.json replay.kernel/initrd has no usable path");
    return host_xml(&x->xml, x->name, x->rid, x->con, x->sock, x->rr, kernel, initrd, errp) &&
           (!x->gdb_port || cl_replay_gdb_xml(&x->g, &x->xml, errp)) &&
           cl_path_fmt(p, sizeof(p), errp, "%s/domain.xml", x->part) && cl_file_write_atomic(p, x->xml, strlen(x->xml), errp);
}

/* Starts the recorded guest (with --gdb: paused, then through the snapshot points) and
 * waits until QEMU pauses it at the panic. */
static cl_domain *run_to_panic(replay_ctx *x, cl_virt *v, double deadline, double timeout, cl_error **errp)
{
    fprintf(stderr, "replay: %s: running the recorded guest again to icount %lld\n", x->dir, (long long)x->want_ic);
    cl_domain *dom = x->gdb_port ? cl_domain_start_paused(v, x->xml, errp) : cl_domain_start(v, x->xml, errp);
    if (!dom)
        return NULL;
    if (x->gdb_port) {
        json_object *snaps = json_object_new_array();
        json_object_object_add(x->out, "snapshots", snaps);
        if (!cl_replay_gdb_snapshots(v, dom, x->want_ic, deadline, snaps, errp))
            return dom;
    }
    cl_virt_event ev;
    if (!cl_virt_wait_event(v, x->name, 1u << CL_VEV_CRASHED | 1u << CL_VEV_STOPPED, deadline, &ev) ||
        ev.kind != CL_VEV_CRASHED) {
        if (stop_asked)
            cl_error_set(errp, CL_ERR_INTERRUPTED, "replay: interrupted before the panic");
        else
            cl_error_set(errp, CL_ERR_TIMEOUT, "replay: no panic within %.0f s (the log may not replay: %s)", timeout,
                         ev.kind == CL_VEV_STOPPED ? "QEMU stopped" : "still running");
    }
    return dom;
}

/* replay.json's verdict: the icount and the dump against the record's. Returns identical. */
static bool judge(replay_ctx *x, int64_t ic, const char *got, uint64_t bytes, double t_run)
{
    bool same = ic == x->want_ic && !strcmp(got, x->want_sha);
    json_object *out = x->out, *d = json_object_new_object();
    json_object_object_add(out, "of", json_object_new_string(x->dir));
    json_object_object_add(out, "icount", json_object_new_int64(ic));
    json_object_object_add(out, "recorded_icount", json_object_new_int64(x->want_ic));
    json_object_object_add(d, "path", json_object_new_string(jstr(x->res, "dump", "path")));
    json_object_object_add(d, "format", json_object_new_string(x->fmt_name));
    json_object_object_add(d, "sha256", json_object_new_string(got));
    json_object_object_add(d, "bytes", json_object_new_int64((int64_t)bytes));
    json_object_object_add(out, "dump", d);
    json_object_object_add(out, "recorded_dump_sha256", json_object_new_string(x->want_sha));
    json_object_object_add(out, "replay_seconds", json_object_new_double(t_run));
    json_object_object_add(out, "identical", json_object_new_boolean(same));
    if (!same)
        json_object_object_add(out, "difference", json_object_new_string(ic != x->want_ic ? "icount" : "dump sha256"));
    printf("replay: %s: icount %lld (recorded %lld), dump sha256 %.16s... (recorded %.16s...): %s, in %.1f s -> %s\n", x->dir,
           (long long)ic, (long long)x->want_ic, got, x->want_sha, same ? "identical" : "DIFFERENT", t_run, x->final);
    return same;
}

/* --gdb after an identical replay: replay.json in place first (the directory takes its
 * final name), then the session until Ctrl-C or QEMU's end. */
static void gdb_stay(replay_ctx *x, cl_virt *v, const char *module)
{
    char p[PATH_MAX];
    json_object *gj = json_object_new_object();
    json_object_object_add(gj, "port", json_object_new_int(x->gdb_port));
    if (cl_path_fmt(p, sizeof(p), NULL, "%s/replay.gdb", x->final))
        json_object_object_add(gj, "script", json_object_new_string(p));
    json_object_object_add(x->out, "gdb", gj);
    replay_write(x->out, x->part, x->final, x->log);
    x->part[0] = 0;
    gdb_session(v, x->name, &x->g, x->res, x->final, module);
}

static int replay(const char *dir, const char *results, const char *state_opt, double timeout, int gdb_port,
                  const char *module)
{
    CL_AUTOPTR(cl_error) err = NULL;
    replay_ctx x = { .dir = dir, .gdb_port = gdb_port };
    if (!check_run(dir, &x.res, &err)) {
        fprintf(stderr, "crashlab %s\n", err->msg);
        return 1;
    }
    x.out = json_object_new_object();
    cl_domain *dom = NULL;
    cl_virt *v = NULL;
    int rc = recorded_dump(&x);
    if (rc)
        goto done;
    rc = 1;
    double t0 = cl_now(), deadline = t0 + timeout;
    if (!prepare(&x, results, state_opt, &err) || !(v = cl_virt_open_by(NULL, x.state, deadline, &err)))
        goto fail;
    current_virt = v;
    cl_virt_cleanup_stale(v, true, NULL);
    if (!(dom = run_to_panic(&x, v, deadline, timeout, &err)) || err)
        goto fail;
    double t_run = cl_now() - t0;
    int64_t ic = 0;
    char dpath[PATH_MAX], got[65];
    uint64_t bytes = 0;
    if (!cl_record_query_icount(dom, "play", &ic, &err) ||
        !dump_again(dom, x.res, x.fmt, x.part, dpath, sizeof(dpath), got, &bytes, &err))
        goto fail;
    rc = judge(&x, ic, got, bytes, t_run) ? 0 : 1;
    if (gdb_port && rc == 0)
        gdb_stay(&x, v, module);
    goto teardown;
fail:
    json_object_object_add(x.out, "of", json_object_new_string(dir));
    json_object_object_add(x.out, "identical", json_object_new_boolean(0));
    json_object_object_add(x.out, "error", json_object_new_string(err ? err->msg : "replay failed"));
    fprintf(stderr, "crashlab %s\n", err ? err->msg : "replay failed");
    rc = 1;
teardown:
    cl_domain_destroy(dom);
    /* The snapshots belong to this session (hundreds of MB): a new --gdb makes its own. */
    if (gdb_port && x.g.snapshots[0])
        unlink(x.g.snapshots);
    replay_write(x.out, x.part, x.final, x.log);
done:
    if (v)
        cl_virt_close(v);
    free(x.xml);
    free(x.state);
    json_object_put(x.out);
    json_object_put(x.res);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: crashlab replay [--check] RUN_DIR [--results DIR] [--state DIR] [--timeout S] [--gdb PORT [--module KO]]\n"
               "  --check        only check that every input of a recorded run (--record) is unchanged: the log,\n"
               "                 domain.xml, kernel and initrd against the sha256 in result.json replay{}\n"
               "  (default)      check, then run the recorded guest again under QEMU rr=replay to its panic and\n"
               "                 write the dump again into DIR/<run>-replay-<time>/ (replay.json says identical:\n"
               "                 the same icount and dump sha256); exit 0 identical, 1 not (or failed), 2 bad input\n"
               "  --results DIR  where the replay lands (default: results)\n"
               "  --timeout S    seconds the replay may take to reach the panic (default 600)\n"
               "  --gdb PORT     stay paused at the panic with QEMU's gdbstub on 127.0.0.1:PORT and reverse execution\n"
               "                 (snapshots on the way); writes replay.gdb (gdb -x it); Ctrl-C ends the replay\n"
               "  --module KO    with --gdb: the labfault.ko whose symbols gdb loads (default build/linux/labfault.ko)\n");
}

int cl_cmd_replay(int argc, char **argv)
{
    static const struct option longopts[] = { { "check", no_argument, NULL, 'k' },   { "help", no_argument, NULL, 'h' },
                                              { "results", required_argument, NULL, 'r' }, { "state", required_argument, NULL, 's' },
                                              { "timeout", required_argument, NULL, 't' },
                                              { "gdb", required_argument, NULL, 'g' },     { "module", required_argument, NULL, 'm' },
                                              { 0 } };
    bool check = false;
    const char *results = "results", *state = NULL, *module = "build/linux/labfault.ko";
    double timeout = 600;
    long port = 0;
    char *end;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "khr:s:t:g:m:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'k': check = true; break;
        case 'r': results = optarg; break;
        case 's': state = optarg; break;
        case 't':
            timeout = strtod(optarg, &end);
            if (*end || !(timeout > 0 && timeout <= 86400)) {
                fprintf(stderr, "crashlab replay: --timeout must be 1..86400 seconds\n");
                return 2;
            }
            break;
        case 'g':
            port = strtol(optarg, &end, 10);
            if (*end || port < 1 || port > 65535) {
                fprintf(stderr, "crashlab replay: --gdb must be a TCP port, 1..65535\n");
                return 2;
            }
            break;
        case 'm': module = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    if (check && port) {
        fprintf(stderr, "crashlab replay: --check and --gdb do not go together\n");
        return 2;
    }
    if (port && access(module, R_OK) != 0) {
        fprintf(stderr, "crashlab replay: --module %s: %s (gdb needs the labfault.ko the image carried)\n", module, strerror(errno));
        return 2;
    }
    if (!check) {
        /* A signal ends a --gdb session; the reaper forwards it to the worker. */
        cl_interrupt_catch(on_signal, &stop_asked);
        /* The replay starts QEMU: reap it ourselves (lab/util/reaper.h). */
        int status;
        if (!cl_reaper_fork(&status))
            return status;
        return replay(argv[optind], results, state, timeout, (int)port, module);
    }
    CL_AUTOPTR(cl_error) err = NULL;
    if (!check_run(argv[optind], NULL, &err)) {
        fprintf(stderr, "crashlab %s\n", err->msg);
        return 1;
    }
    return 0;
}
