/* job_files.c - a job's files. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "job_files.h"
#include "proto.h"
#include "run/result.h"
#include "scenario/scenario.h"
#include "util/buf.h"
#include "util/fileio.h"

void cl_job_log_path(const char *state, int64_t id, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/logs/job-%06lld.log", state, (long long)id);
}

char *cl_job_rewrite_install(const char *text, const char *driver, cl_error **errp)
{
    cl_buf b = { .max = 2 * CL_SCENARIO_MAX_BYTES };
    int n = 0;
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line + 1) : strlen(line);
        /* "  - install: PATH" (block step); flow-style steps are not rewritten. */
        const char *p = line;
        while (p < line + len && (*p == ' ' || *p == '\t'))
            p++;
        if (p < line + len && *p == '-') {
            p++;
            while (p < line + len && (*p == ' ' || *p == '\t'))
                p++;
        }
        if ((size_t)(line + len - p) > 8 && !strncmp(p, "install:", 8)) {
            cl_buf_add(&b, line, (size_t)(p - line));
            cl_buf_adds(&b, "install: \"");
            for (const char *c = driver; *c; c++) {
                if (*c == '"' || *c == '\\')
                    cl_buf_add(&b, "\\", 1);
                cl_buf_add(&b, c, 1);
            }
            cl_buf_adds(&b, "\"\n");
            n++;
        } else {
            cl_buf_add(&b, line, len);
        }
        line += len;
    }
    char *out = cl_buf_finish(&b, errp);
    if (out && !n) {
        free(out);
        return cl_error_set(errp, CL_ERR_INVAL, "driver build: the scenario has no 'install:' step to point at '%s'", driver), NULL;
    }
    return out;
}

bool cl_job_scenario_path(const char *state, const cl_job *j, char *out, size_t outlen, cl_error **errp)
{
    json_object *opts = json_tokener_parse(j->options);
    const char *driver = cl_json_str(opts, "driver", NULL);
    if (!driver) {
        json_object_put(opts);
        snprintf(out, outlen, "%s", j->scenario);
        return true;
    }
    CL_AUTOFREE char *text = NULL;
    CL_AUTOFREE char *derived = NULL;
    size_t len = 0;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/scenarios", state);
    bool ok = cl_file_read_all(j->scenario, CL_SCENARIO_MAX_BYTES, &text, &len, errp) &&
              (derived = cl_job_rewrite_install(text, driver, errp)) && cl_mkdir_p(dir, 0700, errp);
    json_object_put(opts);
    if (!ok)
        return false;
    /* Same base name: the scenario's name defaults to it. */
    const char *base = strrchr(j->scenario, '/');
    snprintf(out, outlen, "%s/job-%06lld-%s", dir, (long long)j->id, base ? base + 1 : j->scenario);
    return cl_file_write_atomic(out, derived, strlen(derived), errp);
}

bool cl_job_write_json(const char *dir, const cl_job *j, cl_error **errp)
{
    json_object *o = cl_job_to_json(j);
    char path[4096];
    snprintf(path, sizeof(path), "%s/job.json", dir);
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    bool ok = cl_file_write_atomic(path, text, strlen(text), errp);
    json_object_put(o);
    return ok;
}

void cl_job_read_result(const char *dir, char *verdict, size_t vlen, char *expected, size_t elen, char *reason, size_t rlen)
{
    verdict[0] = expected[0] = reason[0] = '\0';
    char path[4096];
    snprintf(path, sizeof(path), "%s/result.json", dir);
    CL_AUTOFREE char *text = NULL;
    size_t len = 0;
    if (!cl_file_read_all(path, CL_RESULT_MAX_BYTES, &text, &len, NULL))
        return;
    json_object *r = json_tokener_parse(text);
    const char *v = cl_json_str(r, "verdict", NULL);
    cl_verdict dummy;
    if (v && cl_verdict_from_string(v, &dummy))
        snprintf(verdict, vlen, "%s", v);
    snprintf(expected, elen, "%s", cl_json_str(r, "expected_verdict", ""));
    snprintf(reason, rlen, "%s", cl_json_str(r, "reason", ""));
    json_object_put(r);
}

static void iso_time(double t, char out[32])
{
    time_t tt = t > 0 ? (time_t)t : time(NULL);
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool cl_job_write_stand_in(const char *attempts_dir, const cl_job *j, const char *verdict, const char *reason,
                           cl_error **errp)
{
    if (!j->run_id)
        return cl_error_set(errp, CL_ERR_INVAL, "job %lld: no run id to record a result under", (long long)j->id);
    char partial[PATH_MAX], final[PATH_MAX], started[32], finished[32];
    snprintf(partial, sizeof(partial), "%s/.%s.partial", attempts_dir, j->run_id);
    snprintf(final, sizeof(final), "%s/%s", attempts_dir, j->run_id);
    iso_time(j->started, started);
    iso_time(0, finished);
    json_object *res = json_object_new_object();
    /* The scenario as it is now (it may be gone or changed: then what the job row knows). */
    CL_AUTOPTR(cl_scenario) s = cl_scenario_load(j->scenario, NULL);
    const char *expected = "pass";
    if (s) {
        cl_result_begin(res, j->run_id, s);
        expected = cl_verdict_to_string(s->expect_verdict);
    } else {
        json_object_object_add(res, "schema_version", json_object_new_int(CL_RESULT_SCHEMA_VERSION));
        json_object_object_add(res, "run_id", json_object_new_string(j->run_id));
        json_object *sc = json_object_new_object();
        json_object_object_add(sc, "path", json_object_new_string(j->scenario));
        json_object_object_add(sc, "name", json_object_new_string(j->name ? j->name : "?"));
        /* unknown: the file cannot be read any more */
        json_object_object_add(sc, "sha256", json_object_new_string("0000000000000000000000000000000000000000000000000000000000000000"));
        json_object_object_add(res, "scenario", sc);
        json_object *g = json_object_new_object();
        json_object_object_add(g, "profile", json_object_new_string("linux"));
        json_object_object_add(g, "memory_mb", json_object_new_int(j->memory_mb ? (int)j->memory_mb : 1));
        json_object_object_add(g, "vcpus", json_object_new_int(j->vcpus ? (int)j->vcpus : 1));
        json_object_object_add(res, "guest", g);
    }
    json_object_object_add(res, "started", json_object_new_string(started));
    json_object_object_add(res, "finished", json_object_new_string(finished));
    json_object_object_add(res, "verdict", json_object_new_string(verdict));
    json_object_object_add(res, "expected_verdict", json_object_new_string(expected));
    json_object_object_add(res, "reason", json_object_new_string(reason));
    json_object *tm = json_object_new_object();
    json_object_object_add(tm, "total", json_object_new_double(0));
    json_object_object_add(res, "timings", tm);
    json_object_object_add(res, "steps", json_object_new_array());
    json_object *cap = json_object_new_object();
    json_object_object_add(cap, "ladder", json_object_new_array());
    json_object_object_add(cap, "method", json_object_new_string("none"));
    json_object_object_add(res, "capture", cap);
    json_object_object_add(res, "recorded_by", json_object_new_string("crashlab serve"));
    bool ok = true;
    if (mkdir(partial, CL_DIR_MODE_PASS) < 0 && errno != EEXIST)
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot create '%s'", partial);
    ok = ok && cl_result_write(partial, final, res, errp);
    json_object_put(res);
    return ok;
}
