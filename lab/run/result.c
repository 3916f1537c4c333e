#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "result.h"
#include "util/json.h"
#include "util/buf.h"
#include "util/fileio.h"
#include "util/text.h"

void cl_result_begin(json_object *res, const char *run_id, const cl_scenario *s)
{
    json_object_object_add(res, "schema_version", json_object_new_int(CL_RESULT_SCHEMA_VERSION));
    json_object_object_add(res, "run_id", json_object_new_string(run_id));
    time_t now = time(NULL);
    char iso[32];
    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_object_object_add(res, "started", json_object_new_string(iso));
    json_object *sc = json_object_new_object();
    char abs[PATH_MAX];
    json_object_object_add(sc, "path", json_object_new_string(s->path));
    if (realpath(s->path, abs))
        json_object_object_add(sc, "abs_path", json_object_new_string(abs));
    json_object_object_add(sc, "name", json_object_new_string(s->name));
    json_object_object_add(sc, "sha256", json_object_new_string(s->sha256));
    json_object_object_add(res, "scenario", sc);
    json_object *g = json_object_new_object();
    json_object_object_add(g, "profile", json_object_new_string(cl_profile_to_string(s->profile)));
    json_object_object_add(g, "memory_mb", json_object_new_int((int)s->memory_mb));
    json_object_object_add(g, "vcpus", json_object_new_int((int)s->vcpus));
    json_object_object_add(res, "guest", g);
}

char *cl_result_junit(json_object *res, cl_error **errp)
{
    json_object *sc = NULL, *tm = NULL, *tot = NULL;
    json_object_object_get_ex(res, "scenario", &sc);
    double secs = json_object_object_get_ex(res, "timings", &tm) && json_object_object_get_ex(tm, "total", &tot)
                      ? json_object_get_double(tot) : 0;
    const char *verdict = cl_json_str(res, "verdict", "infra-error");
    const char *expected = cl_json_str(res, "expected_verdict", "pass");
    bool ok = !strcmp(verdict, expected);
    bool infra = !strcmp(verdict, "infra-error");
    cl_buf b = { .max = 1u << 20 };
    cl_buf_addf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"crashlab\" tests=\"1\" failures=\"%d\" errors=\"%d\" time=\"%.3f\">\n",
                ok || infra ? 0 : 1, !ok && infra ? 1 : 0, secs);
    cl_buf_adds(&b, "  <testcase classname=\"crashlab.");
    cl_buf_add_xml(&b, sc ? cl_json_str(sc, "name", "scenario") : "scenario");
    cl_buf_adds(&b, "\" name=\"");
    cl_buf_add_xml(&b, cl_json_str(res, "run_id", "run"));
    cl_buf_addf(&b, "\" time=\"%.3f\">\n", secs);
    if (!ok) {
        cl_buf_addf(&b, "    <%s type=\"", infra ? "error" : "failure");
        cl_buf_add_xml(&b, verdict);
        cl_buf_adds(&b, "\" message=\"");
        cl_buf_add_xml(&b, cl_json_str(res, "reason", ""));
        cl_buf_addf(&b, "\"/>\n");
    }
    cl_buf_adds(&b, "    <system-out>verdict: ");
    cl_buf_add_xml(&b, verdict);
    cl_buf_adds(&b, " (expected ");
    cl_buf_add_xml(&b, expected);
    cl_buf_adds(&b, "): ");
    cl_buf_add_xml(&b, cl_json_str(res, "reason", ""));
    cl_buf_adds(&b, "</system-out>\n  </testcase>\n</testsuite>\n");
    return cl_buf_finish(&b, errp);
}

bool cl_result_write(const char *partial_dir, const char *final_dir, json_object *res, cl_error **errp)
{
    char path[PATH_MAX + 32];
    /* Guest text went into many fields; whatever it was, the file is valid UTF-8 JSON. */
    cl_text_json_clean(res);
    const char *text = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    snprintf(path, sizeof(path), "%s/result.json", partial_dir);
    if (!cl_file_write_atomic(path, text, strlen(text), errp))
        return false;
    CL_AUTOFREE char *junit = cl_result_junit(res, errp);
    if (!junit)
        return false;
    snprintf(path, sizeof(path), "%s/junit.xml", partial_dir);
    if (!cl_file_write_atomic(path, junit, strlen(junit), errp))
        return false;
    if (access(final_dir, F_OK) == 0)
        return cl_error_set(errp, CL_ERR_IO, "result: '%s' already exists; the run stays in '%s'", final_dir, partial_dir);
    if (rename(partial_dir, final_dir) < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "result: cannot rename '%s' to '%s'", partial_dir, final_dir);
    return true;
}
