/* job_files.c - a job's files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_files.h"
#include "proto.h"
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
