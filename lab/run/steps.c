/* steps.c - carrying out scenario steps through the guest agent. */
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_priv.h"
#include "util/fileio.h"
#include "util/text.h"
#include "virt/domain.h"

static const char *agent_path(const cl_run_ctx *c)
{
    return c->s->profile == CL_PROFILE_WINDOWS ? "C:\\crashlab\\labagent.exe" : "/usr/bin/labagent";
}

static double step_deadline(const cl_run_ctx *c, const cl_step *st)
{
    double d = cl_now() + (st->timeout > 0 ? st->timeout : c->s->t_step);
    return d < c->deadline ? d : c->deadline;
}

/* The agent prints exactly one JSON object; anything else is a malformed reply. */
static json_object *agent_json(const cl_agent_exec_status *st, char *why, size_t whylen)
{
    if (!st->out || !st->outlen) {
        snprintf(why, whylen, "labagent printed nothing (exit %d%s%.200s)", st->exitcode,
                 st->errlen ? ", stderr: " : "", st->err ? st->err : "");
        return NULL;
    }
    json_tokener *tok = json_tokener_new_ex(32);
    json_object *o = json_tokener_parse_ex(tok, st->out, (int)st->outlen);
    bool good = o && json_tokener_get_error(tok) == json_tokener_success && json_object_is_type(o, json_type_object);
    json_tokener_free(tok);
    if (!good) {
        json_object_put(o);
        snprintf(why, whylen, "labagent output is not one JSON object: %.200s", st->out);
        return NULL;
    }
    json_object *ok = NULL;
    if (!json_object_object_get_ex(o, "ok", &ok) || !json_object_get_boolean(ok) || st->exitcode != 0) {
        json_object *err = NULL;
        json_object_object_get_ex(o, "error", &err);
        snprintf(why, whylen, "labagent failed (exit %d): %.300s", st->exitcode,
                 err ? json_object_get_string(err) : st->out);
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* An agent call failed: decide whether that is the guest crashing, hanging or the host. */
static bool agent_failed(cl_run_ctx *c, const char *what, cl_error *err)
{
    int w = cl_run_wait_crash(c, cl_now() + 1.5);
    if (w == 1) {
        c->obs.crashed = true;
        return false;
    }
    if (w == 2) {
        c->obs.infra = true;
        snprintf(c->reason, sizeof(c->reason), "%s: the QEMU process went away (%.900s)", what, err ? err->msg : "");
        return false;
    }
    if (c->triggered && err && (err->code == CL_ERR_TIMEOUT || err->code == CL_ERR_AGENT)) {
        /* After a fault fired, a silent agent is the fault at work: observe decides. */
        cl_run_progress(c, "steps", "%s: agent silent after the fault fired (%s)", what, err->msg);
        return true;
    }
    c->obs.infra = true;
    snprintf(c->reason, sizeof(c->reason), "%s: %.900s", what, err ? err->msg : "agent failure");
    return false;
}

static json_object *step_json(const cl_step *st, double t)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "kind", json_object_new_string(cl_step_kind_to_string(st->kind)));
    json_object_object_add(o, "line", json_object_new_int(st->line));
    json_object_object_add(o, "started", json_object_new_double(t));
    return o;
}

static bool run_agent(cl_run_ctx *c, const cl_step *st, char **argv, json_object *sj, json_object **out)
{
    cl_agent_exec_status es = { 0 };
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_agent_exec(c->dom, argv, step_deadline(c, st), &es, &err))
        return agent_failed(c, argv[1], err);
    char why[512];
    json_object *o = agent_json(&es, why, sizeof(why));
    cl_agent_exec_status_clear(&es);
    if (!o) {
        c->obs.step_failed = true;
        snprintf(c->reason, sizeof(c->reason), "step at line %d (%s): %s", st->line, argv[1], why);
        json_object_object_add(sj, "error", json_object_new_string(why));
        return false;
    }
    json_object_object_add(sj, "agent", json_object_get(o));
    if (out)
        *out = o;
    else
        json_object_put(o);
    return true;
}

static bool do_install(cl_run_ctx *c, const cl_step *st, json_object *sj)
{
    char host[PATH_MAX];
    if (!realpath(st->path, host)) {
        c->obs.infra = true;
        snprintf(c->reason, sizeof(c->reason), "install at line %d: '%s' not found on the host (run `make`?)",
                 st->line, st->path);
        return false;
    }
    CL_AUTOFREE char *copy = strdup(host);
    const char *base = basename(copy);
    char guest[PATH_MAX];
    if (c->s->profile == CL_PROFILE_WINDOWS)
        snprintf(guest, sizeof(guest), "C:\\crashlab\\%s", base);
    else
        snprintf(guest, sizeof(guest), "/tmp/%s", base);
    char sha[65];
    uint64_t size = 0;
    if (cl_sha256_file(host, sha, &size, NULL)) {
        json_object_object_add(sj, "sha256", json_object_new_string(sha));
        json_object_object_add(sj, "bytes", json_object_new_int64((int64_t)size));
    }
    json_object_object_add(sj, "host_path", json_object_new_string(host));
    json_object_object_add(sj, "guest_path", json_object_new_string(guest));
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_agent_upload(c->dom, host, guest, step_deadline(c, st), &err))
        return agent_failed(c, "upload", err);
    cl_run_progress(c, "install", "uploaded %s (%" PRIu64 " bytes) to %s", base, size, guest);
    char *argv[] = { (char *)agent_path(c), "install-driver", guest, NULL };
    return run_agent(c, st, argv, sj, NULL);
}

/* Writes every parameter explicitly (defaults included): the agent parses k=v with the
 * same catalogue, so what it arms is exactly what the scenario loader validated. */
int cl_run_trigger_args(const cl_step *st, char **argv, size_t max, char bufs[][160])
{
    int n = 0;
    for (const cl_fparam *p = st->fault->params; p->name && (size_t)n < max; p++) {
        switch (p->type) {
        case CL_FPARAM_UINT:
        case CL_FPARAM_BOOL:
            snprintf(bufs[n], 160, "%s=%" PRIu64, p->name, (uint64_t)st->request.arg[p->slot]);
            break;
        case CL_FPARAM_TAG:
            snprintf(bufs[n], 160, "%s=%.4s", p->name, st->request.tag);
            break;
        case CL_FPARAM_STRING:
            snprintf(bufs[n], 160, "%s=%.127s", p->name, st->request.message);
            break;
        }
        argv[n] = bufs[n];
        n++;
    }
    argv[n] = NULL;
    return n;
}

static bool do_trigger(cl_run_ctx *c, const cl_step *st, json_object *sj)
{
    char *argv[CL_SCENARIO_MAX_ARGS + 8];
    char bufs[CL_SCENARIO_MAX_ARGS][160];
    argv[0] = (char *)agent_path(c);
    argv[1] = "arm";
    argv[2] = (char *)st->fault->id;
    cl_run_trigger_args(st, argv + 3, CL_SCENARIO_MAX_ARGS, bufs);
    json_object_object_add(sj, "fault", json_object_new_string(st->fault->id));
    json_object *armed = NULL;
    if (!run_agent(c, st, argv, sj, &armed))
        return false;
    json_object *gt = NULL;
    if (json_object_object_get_ex(armed, "ground_truth", &gt) && json_object_is_type(gt, json_type_object)) {
        json_object_put(c->ground_truth);
        c->ground_truth = json_object_get(gt);
    }
    json_object_put(armed);
    cl_run_progress(c, "trigger", "armed %s; firing", st->fault->id);

    char *fire[] = { (char *)agent_path(c), "fire", NULL };
    CL_AUTOPTR(cl_error) err = NULL;
    c->triggered = true;
    c->fired = st->fault;
    /* A fault that crashes the guest at once can take qemu-ga's answer with it, and libvirt
     * waits for that answer until the timeout even though the guest has panicked: do not
     * wait long; agent_failed() then finds the crash event. A fault meant to crash or hang
     * needs nothing from the answer (observe decides), so it waits 1 s (measured: 4 s of 6 in
     * one warm run in ten lost here with 5 s); one that must end by itself needs the pid. */
    cl_outcome out = c->s->profile == CL_PROFILE_WINDOWS ? st->fault->windows.outcome : st->fault->linux_.outcome;
    double fd = cl_now() + (out == CL_OUTCOME_PASS ? 5 : 1);
    if (fd > step_deadline(c, st))
        fd = step_deadline(c, st);
    if (!cl_agent_exec_start(c->dom, fire, fd, &c->fire_pid, &err))
        return agent_failed(c, "fire", err);
    if (out != CL_OUTCOME_PASS)
        return true;
    /* A fault that ends by itself (a leak for a while, a cancelable wait) must finish. */
    cl_agent_exec_status es = { 0 };
    cl_error_free(err);
    err = NULL;
    if (!cl_agent_exec_wait(c->dom, c->fire_pid, step_deadline(c, st), &es, &err)) {
        if (err && err->code == CL_ERR_TIMEOUT && cl_run_wait_crash(c, cl_now() + 0.5) == 0) {
            c->obs.step_failed = true;
            snprintf(c->reason, sizeof(c->reason), "trigger at line %d: '%s' should end by itself but still runs after %.0f s",
                     st->line, st->fault->id, st->timeout > 0 ? st->timeout : c->s->t_step);
            return false;
        }
        return agent_failed(c, "fire", err);
    }
    char why[512];
    json_object *o = agent_json(&es, why, sizeof(why));
    cl_agent_exec_status_clear(&es);
    if (!o) {
        c->obs.step_failed = true;
        snprintf(c->reason, sizeof(c->reason), "trigger at line %d: %s", st->line, why);
        return false;
    }
    json_object_object_add(sj, "fired", o);
    return true;
}

static bool do_exec(cl_run_ctx *c, const cl_step *st, json_object *sj)
{
    cl_agent_exec_status es = { 0 };
    CL_AUTOPTR(cl_error) err = NULL;
    json_object *a = json_object_new_array();
    for (int i = 0; st->argv[i]; i++)
        json_object_array_add(a, json_object_new_string(st->argv[i]));
    json_object_object_add(sj, "argv", a);
    if (!cl_agent_exec(c->dom, st->argv, step_deadline(c, st), &es, &err))
        return agent_failed(c, "exec", err);
    json_object_object_add(sj, "exit", json_object_new_int(es.signaled ? 128 + es.signal : es.exitcode));
    /* Capped at 4 KiB on a character boundary (the file is cleaned of the rest as a whole). */
    json_object_object_add(sj, "stdout", json_object_new_string_len(es.out, (int)cl_text_utf8_cut(es.out, es.outlen, 4096)));
    json_object_object_add(sj, "stderr", json_object_new_string_len(es.err, (int)cl_text_utf8_cut(es.err, es.errlen, 4096)));
    bool ok = st->expect_exit < 0 || (!es.signaled && es.exitcode == st->expect_exit);
    if (!ok) {
        c->obs.step_failed = true;
        snprintf(c->reason, sizeof(c->reason), "exec at line %d: '%s' exited %d%s, expected %d: %.300s", st->line,
                 st->argv[st->argv[1] && st->argv[2] ? 2 : 0], es.signaled ? es.signal : es.exitcode,
                 es.signaled ? " (signal)" : "", st->expect_exit, es.errlen ? es.err : es.out);
    }
    cl_agent_exec_status_clear(&es);
    return ok;
}

static bool do_wait(cl_run_ctx *c, const cl_step *st)
{
    double d = cl_now() + st->seconds;
    int w = cl_run_wait_crash(c, d < c->deadline ? d : c->deadline);
    if (w == 1)
        c->obs.crashed = true;
    else if (w == 2) {
        c->obs.infra = true;
        snprintf(c->reason, sizeof(c->reason), "wait at line %d: the QEMU process went away", st->line);
    }
    return w == 0;
}

bool cl_run_steps(cl_run_ctx *c)
{
    for (size_t i = 0; i < c->s->nsteps; i++) {
        const cl_step *st = &c->s->steps[i];
        double t = cl_now();
        json_object *sj = step_json(st, t - c->t0);
        json_object_array_add(c->steps, sj);
        bool ok = true;
        /* A crash may already have been reported between two steps. */
        int w = cl_run_wait_crash(c, t);
        if (w == 1) {
            c->obs.crashed = true;
            return false;
        }
        if (w == 2 || cl_run_interrupted) {
            c->obs.infra = true;
            snprintf(c->reason, sizeof(c->reason), "%s", cl_run_interrupted ? "interrupted" : "the QEMU process went away");
            return false;
        }
        switch (st->kind) {
        case CL_STEP_INSTALL:
            ok = do_install(c, st, sj);
            break;
        case CL_STEP_REMOVE: {
            char *argv[] = { (char *)agent_path(c), "remove-driver", NULL };
            ok = run_agent(c, st, argv, sj, NULL);
            break;
        }
        case CL_STEP_TRIGGER:
            ok = do_trigger(c, st, sj);
            break;
        case CL_STEP_WAIT:
            ok = do_wait(c, st);
            break;
        case CL_STEP_EXEC:
            ok = do_exec(c, st, sj);
            break;
        case CL_STEP_NMI: {
            CL_AUTOPTR(cl_error) err = NULL;
            ok = cl_domain_inject_nmi(c->dom, &err);
            if (ok) {
                cl_run_ladder(c, "nmi", "injected by the scenario");
                c->triggered = true;
                snprintf(c->crash_method, sizeof(c->crash_method), "nmi");
            } else {
                c->obs.infra = true;
                snprintf(c->reason, sizeof(c->reason), "%s", err->msg);
            }
            break;
        }
        default:
            break;
        }
        json_object_object_add(sj, "seconds", json_object_new_double(cl_now() - t));
        json_object_object_add(sj, "ok", json_object_new_boolean(ok));
        cl_run_progress(c, cl_step_kind_to_string(st->kind), "step %zu/%zu (line %d) %s in %.1fs", i + 1,
                        c->s->nsteps, st->line, ok ? "done" : "stopped the run", cl_now() - t);
        if (!ok)
            return false;
    }
    return true;
}
