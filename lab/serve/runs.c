/* runs.c - collecting run directories. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "job_files.h"
#include "proto.h"
#include "runs.h"
#include "util/fileio.h"

#define CL_RUNS_MAX 100000

static json_object *read_json(const char *dir, const char *name, size_t max)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    CL_AUTOFREE char *text = NULL;
    size_t len = 0;
    if (!cl_file_read_all(path, max, &text, &len, NULL))
        return NULL;
    json_object *o = json_tokener_parse(text);
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

static double parse_iso(const char *s)
{
    struct tm tm = { 0 };
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return 0;
    return (double)timegm(&tm);
}

static bool add_run(cl_runs *r, const char *dir, cl_error **errp)
{
    if (r->n >= CL_RUNS_MAX)
        return cl_error_set(errp, CL_ERR_INVAL, "runs: more than %d runs", CL_RUNS_MAX);
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->v[i].dir, dir))
            return true;   /* named twice */
    json_object *res = read_json(dir, "result.json", CL_RESULT_MAX_BYTES);
    if (!res || !cl_json_str(res, "run_id", NULL)) {
        fprintf(stderr, "crashlab: skipping '%s': no readable result.json\n", dir);
        json_object_put(res);
        return true;
    }
    cl_run_entry *nv = realloc(r->v, (r->n + 1) * sizeof(*nv));
    if (!nv) {
        json_object_put(res);
        return cl_error_set(errp, CL_ERR_NOMEM, "runs: out of memory");
    }
    r->v = nv;
    cl_run_entry *e = &r->v[r->n++];
    e->dir = strdup(dir);
    e->result = res;
    e->job = read_json(dir, "job.json", 1 << 20);
    e->started = parse_iso(cl_json_str(res, "started", NULL));
    return true;
}

static int cmp_run(const void *a, const void *b)
{
    const cl_run_entry *x = a, *y = b;
    if (x->started != y->started)
        return x->started < y->started ? -1 : 1;
    return strcmp(cl_run_id(x), cl_run_id(y));
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool cl_runs_collect(char *const *paths, size_t npaths, cl_runs *out, cl_error **errp)
{
    cl_runs r = { 0 };
    for (size_t i = 0; i < npaths; i++) {
        char abs[PATH_MAX], probe[PATH_MAX + 16];
        if (!realpath(paths[i], abs)) {
            cl_runs_clear(&r);
            return cl_error_set_errno(errp, CL_ERR_INVAL, errno, "runs: '%s'", paths[i]);
        }
        snprintf(probe, sizeof(probe), "%s/result.json", abs);
        if (access(probe, F_OK) == 0) {
            if (!add_run(&r, abs, errp)) {
                cl_runs_clear(&r);
                return false;
            }
            continue;
        }
        DIR *d = opendir(abs);
        if (!d) {
            cl_runs_clear(&r);
            return cl_error_set_errno(errp, CL_ERR_INVAL, errno, "runs: '%s' is neither a run nor a directory of runs", paths[i]);
        }
        char **names = NULL;
        size_t nn = 0;
        struct dirent *de;
        while ((de = readdir(d)) && nn < CL_RUNS_MAX) {
            if (de->d_name[0] == '.')
                continue;
            char **nv = realloc(names, (nn + 1) * sizeof(*nv));
            if (!nv)
                break;
            names = nv;
            names[nn++] = strdup(de->d_name);
        }
        closedir(d);
        if (nn)   /* qsort of NULL is undefined even for 0 items (UBSan) */
            qsort(names, nn, sizeof(*names), cmp_name);
        bool ok = true;
        for (size_t k = 0; k < nn; k++) {
            char sub[PATH_MAX + 256];
            struct stat st;
            /* A name too long for a path is no run directory of ours: skipped. */
            bool fits = names[k] && cl_path_fmt(sub, sizeof(sub), NULL, "%s/%s", abs, names[k]) &&
                        cl_path_fmt(probe, sizeof(probe), NULL, "%s/result.json", sub);
            if (ok && fits && stat(sub, &st) == 0 && S_ISDIR(st.st_mode) && access(probe, F_OK) == 0)
                ok = add_run(&r, sub, errp);
            free(names[k]);
        }
        free(names);
        if (!ok) {
            cl_runs_clear(&r);
            return false;
        }
    }
    if (r.n)
        qsort(r.v, r.n, sizeof(*r.v), cmp_run);
    *out = r;
    return true;
}

void cl_runs_clear(cl_runs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].dir);
        json_object_put(r->v[i].result);
        json_object_put(r->v[i].job);
    }
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

const char *cl_run_id(const cl_run_entry *e) { return cl_json_str(e->result, "run_id", "?"); }
const char *cl_run_verdict(const cl_run_entry *e) { return cl_json_str(e->result, "verdict", "infra-error"); }
const char *cl_run_expected(const cl_run_entry *e) { return cl_json_str(e->result, "expected_verdict", "pass"); }

const char *cl_run_title(const cl_run_entry *e)
{
    const char *t = cl_json_str(cl_json_get(e->result, "crash"), "title", NULL);
    return t && *t ? t : NULL;
}

void cl_run_key(const cl_run_entry *e, char *out, size_t outlen)
{
    const char *k = cl_json_str(cl_json_get(e->job, "options"), "key", NULL);
    if (k) {
        snprintf(out, outlen, "%s", k);
        return;
    }
    json_object *dump = cl_json_get(e->result, "dump");
    snprintf(out, outlen, "%s/%s/%s", cl_json_str(cl_json_get(e->result, "scenario"), "name", "?"),
             cl_json_str(dump, "format", "no-dump"), cl_json_str(cl_json_get(e->result, "host"), "accelerator", "?"));
}

void cl_relpath(const char *from_dir, const char *to, char *out, size_t outlen)
{
    /* Common directory prefix, then one ".." per remaining component of from_dir. */
    size_t i = 0, last = 0;
    while (from_dir[i] && to[i] && from_dir[i] == to[i]) {
        if (from_dir[i] == '/')
            last = i;
        i++;
    }
    if (!from_dir[i] && (to[i] == '/' || !to[i]))
        last = i;
    size_t o = 0;
    out[0] = '\0';
    for (const char *p = from_dir + last; *p; p++)
        if (*p == '/' && o + 4 < outlen) {
            memcpy(out + o, "../", 3);
            o += 3;
        }
    const char *rest = to + last + (to[last] == '/' ? 1 : 0);
    snprintf(out + o, outlen - o, "%s", rest);
}
