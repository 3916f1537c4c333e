/* requests.c - what the daemon answers on its control socket (protocol in proto.h). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon_priv.h"
#include "proto.h"
#include "scenario/scenario.h"
#include "util/names.h"

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

json_object *cl_daemon_reply_error(const char *code, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_object *r = json_object_new_object();
    json_object_object_add(r, "ok", json_object_new_boolean(0));
    json_object_object_add(r, "error", json_object_new_string(msg));
    json_object_object_add(r, "code", json_object_new_string(code));
    return r;
}

static json_object *reply_ok(void)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "ok", json_object_new_boolean(1));
    return r;
}

static bool one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(v, *set))
            return true;
    return false;
}

/* Checks one submitted job and fills j; the options are normalised (absolute paths). */
static bool check_spec(json_object *spec, cl_error **errp);

static bool check_job(json_object *spec, cl_job *j, cl_error **errp)
{
    if (!check_spec(spec, errp))
        return false;
    const char *path = cl_json_str(spec, "scenario", NULL);
    if (!path || path[0] != '/')
        return cl_error_set(errp, CL_ERR_INVAL, "submit: each job needs an absolute \"scenario\" path");
    CL_AUTOPTR(cl_scenario) s = cl_scenario_load(path, errp);
    if (!s)
        return false;
    json_object *opts = cl_json_get(spec, "options");
    if (opts && !json_object_is_type(opts, json_type_object))
        return cl_error_set(errp, CL_ERR_INVAL, "submit: \"options\" must be an object");
    json_object *norm = json_object_new_object();
    static const char *const accels[] = { "auto", "kvm", "tcg", NULL };
    static const char *const dumps[] = { "kdump-zlib", "elf", "win-dmp", "kdump-zstd", "none", "kdump-lzo", NULL };
    bool ok = true;
    json_object_object_foreach(opts, key, val) {
        const char *sv = json_object_is_type(val, json_type_string) ? json_object_get_string(val) : NULL;
        if (!strcmp(key, "accel") && sv && one_of(sv, accels)) {
            json_object_object_add(norm, key, json_object_new_string(sv));
        } else if (!strcmp(key, "dump_format") && sv && one_of(sv, dumps)) {
            json_object_object_add(norm, key, json_object_new_string(sv));
        } else if ((!strcmp(key, "driver") || !strcmp(key, "guest")) && sv) {
            char abs[PATH_MAX];
            if (!realpath(sv, abs)) {
                ok = cl_error_set_errno(errp, CL_ERR_INVAL, errno, "submit: %s '%s'", key, sv);
                break;
            }
            json_object_object_add(norm, key, json_object_new_string(abs));
        } else if (!strcmp(key, "warm") && json_object_is_type(val, json_type_boolean)) {
            json_object_object_add(norm, key, json_object_get(val));
        } else if (!strcmp(key, "labels") && json_object_is_type(val, json_type_object)) {
            /* Labels name report rows and land in job.json and file names: the name grammar. */
            json_object_object_foreach(val, lk, lv) {
                if (!cl_name_check("label", lk, errp) ||
                    !cl_name_check("label value", json_object_is_type(lv, json_type_string) ? json_object_get_string(lv) : "", errp)) {
                    ok = false;
                    break;
                }
            }
            if (!ok)
                break;
            json_object_object_add(norm, key, json_object_get(val));
        } else if (!strcmp(key, "key") && sv) {
            json_object_object_add(norm, key, json_object_new_string(sv));
        } else {
            ok = cl_error_set(errp, CL_ERR_INVAL, "submit: option '%s' is unknown or has a wrong value", key);
            break;
        }
    }
    if (ok && cl_json_get(norm, "driver")) {
        bool has_install = false;
        for (size_t i = 0; i < s->nsteps; i++)
            has_install |= s->steps[i].kind == CL_STEP_INSTALL;
        if (!has_install)
            ok = cl_error_set(errp, CL_ERR_INVAL, "submit: '%s' installs no driver, so a driver build cannot apply", path);
    }
    if (!ok) {
        json_object_put(norm);
        return false;
    }
    j->scenario = strdup(path);
    j->name = strdup(s->name);
    j->options = strdup(json_object_to_json_string_ext(norm, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(norm);
    j->batch = strdup(cl_json_str(spec, "batch", ""));
    j->priority = (int)cl_json_int(spec, "priority", 0);
    j->memory_mb = s->memory_mb;
    j->vcpus = s->vcpus;
    j->submitted = wall_now();
    return true;
}

/* The fields of a job spec besides the scenario and its options: checked before the
 * scenario is even read, so that nothing is stored half-checked. */
static bool check_spec(json_object *spec, cl_error **errp)
{
    if (!json_object_is_type(spec, json_type_object))
        return cl_error_set(errp, CL_ERR_INVAL, "submit: each job must be an object");
    json_object *p = cl_json_get(spec, "priority");
    if (p && (!json_object_is_type(p, json_type_int) || json_object_get_int64(p) < -CL_SERVE_MAX_PRIORITY ||
              json_object_get_int64(p) > CL_SERVE_MAX_PRIORITY))
        return cl_error_set(errp, CL_ERR_INVAL, "submit: \"priority\" must be an integer in -%d..%d", CL_SERVE_MAX_PRIORITY,
                            CL_SERVE_MAX_PRIORITY);
    json_object *b = cl_json_get(spec, "batch");
    if (b && !json_object_is_type(b, json_type_string))
        return cl_error_set(errp, CL_ERR_INVAL, "submit: \"batch\" must be a string");
    const char *batch = cl_json_str(spec, "batch", "");
    return !batch[0] || cl_name_check("batch name", batch, errp);
}

static json_object *op_submit(cl_daemon *d, json_object *req)
{
    json_object *specs = cl_json_get(req, "jobs");
    if (!specs || !json_object_is_type(specs, json_type_array) || !json_object_array_length(specs))
        return cl_daemon_reply_error(CL_REPLY_BAD_INPUT, "submit: \"jobs\" must be a non-empty array");
    size_t n = json_object_array_length(specs);
    if (n > 10000)
        return cl_daemon_reply_error(CL_REPLY_BAD_INPUT, "submit: %zu jobs in one request; at most 10000", n);
    int64_t max_attempts64 = cl_json_int(req, "max_attempts", d->max_attempts);
    int max_attempts = max_attempts64 >= 1 && max_attempts64 <= 20 ? (int)max_attempts64 : 0;
    if (max_attempts < 1 || max_attempts > 20)
        return cl_daemon_reply_error(CL_REPLY_BAD_INPUT, "submit: max_attempts must be 1..20");
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_queue_begin(d->q, &err))
        return cl_daemon_reply_error(CL_REPLY_FAILED, "%s", err->msg);
    json_object *ids = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        cl_job j = { .max_attempts = max_attempts, .slot = -1, .exit_code = -1 };
        bool valid = check_job(json_object_array_get_idx(specs, i), &j, &err);
        bool ok = valid && cl_queue_add(d->q, &j, &err);
        int64_t id = j.id;
        free(j.scenario);
        free(j.name);
        free(j.options);
        free(j.batch);
        if (!ok) {
            cl_queue_rollback(d->q);
            json_object_put(ids);
            return cl_daemon_reply_error(valid ? CL_REPLY_FAILED : CL_REPLY_BAD_INPUT, "job %zu: %s", i + 1, err->msg);
        }
        json_object_array_add(ids, json_object_new_int64(id));
    }
    if (!cl_queue_commit(d->q, &err)) {
        cl_queue_rollback(d->q);
        json_object_put(ids);
        return cl_daemon_reply_error(CL_REPLY_FAILED, "%s", err->msg);
    }
    cl_daemon_log(d, "queued %zu job(s)", n);
    json_object *r = reply_ok();
    json_object_object_add(r, "ids", ids);
    return r;
}

/* {"id":N}, {"ids":[...]}, {"unfinished":true} (queued and running only), or every job. */
static json_object *op_status(cl_daemon *d, json_object *req)
{
    CL_AUTOPTR(cl_error) err = NULL;
    json_object *arr = json_object_new_array();
    json_object *ids = cl_json_get(req, "ids");
    int64_t id = cl_json_int(req, "id", 0);
    if (id > 0 || (ids && json_object_is_type(ids, json_type_array))) {
        size_t n = id > 0 ? 1 : json_object_array_length(ids);
        for (size_t i = 0; i < n; i++) {
            int64_t want = id > 0 ? id : json_object_get_int64(json_object_array_get_idx(ids, i));
            CL_AUTOPTR(cl_job) j = cl_queue_get(d->q, want, &err);
            if (!j) {
                json_object_put(arr);
                return cl_daemon_reply_error(err->code == CL_ERR_INVAL ? CL_REPLY_NO_SUCH_JOB : CL_REPLY_FAILED, "%s", err->msg);
            }
            json_object_array_add(arr, cl_job_to_json(j));
        }
    } else {
        json_object *uf = cl_json_get(req, "unfinished");
        bool unfinished = uf && json_object_get_boolean(uf);
        cl_job_state states[2] = { CL_JOB_QUEUED, CL_JOB_RUNNING };
        for (int k = 0; k < (unfinished ? 2 : 1); k++) {
            cl_job **jobs = NULL;
            size_t n = 0;
            if (!cl_queue_list(d->q, unfinished ? states[k] : CL_JOB_STATE_LAST, &jobs, &n, &err)) {
                json_object_put(arr);
                return cl_daemon_reply_error(CL_REPLY_FAILED, "%s", err->msg);
            }
            for (size_t i = 0; i < n; i++)
                json_object_array_add(arr, cl_job_to_json(jobs[i]));
            cl_job_list_free(jobs, n);
        }
    }
    json_object *r = reply_ok();
    json_object_object_add(r, "jobs", arr);
    return r;
}

static json_object *op_cancel(cl_daemon *d, json_object *req)
{
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_job) j = cl_queue_get(d->q, cl_json_int(req, "id", 0), &err);
    if (!j)
        return cl_daemon_reply_error(err->code == CL_ERR_INVAL ? CL_REPLY_NO_SUCH_JOB : CL_REPLY_FAILED, "%s", err->msg);
    if (j->state == CL_JOB_QUEUED) {
        /* A job waiting for a retry has run before: its last attempt's directory is
         * published with the job's verdict, like any job that ends. */
        j->cancel_requested = true;
        if (!cl_sched_close(d, j, CL_JOB_CANCELLED, j->attempts ? "infra-error" : NULL,
                            j->attempts ? "cancelled while waiting for a retry" : "cancelled before it ran"))
            return cl_daemon_reply_error(CL_REPLY_FAILED, "job %lld: the queue could not be written", (long long)j->id);
    } else if (j->state == CL_JOB_RUNNING) {
        /* The run tears its domain down and records "interrupted"; the reaper closes the job. */
        j->cancel_requested = true;
        if (!cl_queue_update(d->q, j, &err))
            return cl_daemon_reply_error(CL_REPLY_FAILED, "%s", err->msg);
        cl_sched_signal(d, j->id, SIGTERM);
    } else {
        return cl_daemon_reply_error(CL_REPLY_REFUSED, "job %lld is already %s", (long long)j->id, cl_job_state_to_string(j->state));
    }
    cl_daemon_log(d, "job %lld: cancel requested", (long long)j->id);
    json_object *r = reply_ok();
    json_object_object_add(r, "job", cl_job_to_json(j));
    return r;
}

static json_object *op_hosts(cl_daemon *d)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < d->hosts.n; i++) {
        cl_host *h = &d->hosts.v[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(h->name));
        json_object_object_add(o, "uri", json_object_new_string(h->uri ? h->uri : "embedded"));
        json_object_object_add(o, "slots", json_object_new_int(h->slots));
        json_object_object_add(o, "used", json_object_new_int(h->used));
        json_object_object_add(o, "memory_mb", json_object_new_int((int)h->memory_mb));
        json_object_object_add(o, "memory_used_mb", json_object_new_int((int)h->mem_used));
        json_object_object_add(o, "vcpus", json_object_new_int((int)h->vcpus));
        json_object_object_add(o, "vcpus_used", json_object_new_int((int)h->vcpu_used));
        if (h->guest_dir)
            json_object_object_add(o, "guest_dir", json_object_new_string(h->guest_dir));
        if (h->disabled)
            json_object_object_add(o, "disabled", json_object_new_string(h->disabled));
        json_object_array_add(arr, o);
    }
    json_object *r = reply_ok();
    json_object_object_add(r, "hosts", arr);
    return r;
}

json_object *cl_daemon_handle(cl_daemon *d, const char *line)
{
    json_object *req = json_tokener_parse(line);
    if (!req || !json_object_is_type(req, json_type_object)) {
        json_object_put(req);
        return cl_daemon_reply_error(CL_REPLY_BAD_INPUT, "the request is not a JSON object");
    }
    const char *op = cl_json_str(req, "op", "");
    json_object *r;
    if (!strcmp(op, "ping")) {
        r = reply_ok();
        json_object_object_add(r, "pid", json_object_new_int64(getpid()));
        json_object_object_add(r, "running", json_object_new_int(d->nkids));
        json_object_object_add(r, "results", json_object_new_string(d->results));
    } else if (!strcmp(op, "submit")) {
        r = op_submit(d, req);
    } else if (!strcmp(op, "status")) {
        r = op_status(d, req);
    } else if (!strcmp(op, "cancel")) {
        r = op_cancel(d, req);
    } else if (!strcmp(op, "hosts")) {
        r = op_hosts(d);
    } else {
        r = cl_daemon_reply_error(CL_REPLY_BAD_INPUT, "unknown op '%s' (ping, submit, status, cancel, hosts)", op);
    }
    json_object_put(req);
    return r;
}

