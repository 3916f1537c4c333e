/* report.c - report.html, junit.xml, summary.json, compare.json. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "report.h"
#include "util/buf.h"
#include "util/fileio.h"

static double run_seconds(const cl_run_entry *e)
{
    return cl_json_double(cl_json_get(e->result, "timings"), "total", 0);
}

static bool run_ok(const cl_run_entry *e)
{
    return !strcmp(cl_run_verdict(e), cl_run_expected(e));
}

static bool run_infra(const cl_run_entry *e)
{
    return !strcmp(cl_run_verdict(e), "infra-error");
}

static void iso_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_object *cl_report_summary(const cl_runs *runs, const char *title)
{
    json_object *s = json_object_new_object(), *arr = json_object_new_array(), *titles = json_object_new_object();
    char iso[32];
    iso_now(iso);
    json_object_object_add(s, "schema_version", json_object_new_int(CL_REPORT_SCHEMA_VERSION));
    json_object_object_add(s, "title", json_object_new_string(title));
    json_object_object_add(s, "generated", json_object_new_string(iso));
    for (size_t i = 0; i < runs->n; i++) {
        const cl_run_entry *e = &runs->v[i];
        char key[1024];
        cl_run_key(e, key, sizeof(key));
        json_object *r = json_object_new_object();
        json_object_object_add(r, "key", json_object_new_string(key));
        json_object_object_add(r, "run_id", json_object_new_string(cl_run_id(e)));
        json_object_object_add(r, "verdict", json_object_new_string(cl_run_verdict(e)));
        json_object_object_add(r, "expected_verdict", json_object_new_string(cl_run_expected(e)));
        const char *t = cl_run_title(e);
        json_object_object_add(r, "title", t ? json_object_new_string(t) : NULL);
        json_object_object_add(r, "started", json_object_new_string(cl_json_str(e->result, "started", "")));
        json_object_object_add(r, "seconds", json_object_new_double(run_seconds(e)));
        json_object_array_add(arr, r);
        if (t)
            json_object_object_add(titles, t, json_object_new_int((int)cl_json_int(titles, t, 0) + 1));
    }
    json_object *tl = json_object_new_array();
    json_object_object_foreach(titles, k, v) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "title", json_object_new_string(k));
        json_object_object_add(o, "runs", json_object_get(v));
        json_object_array_add(tl, o);
    }
    json_object_put(titles);
    json_object_object_add(s, "runs", arr);
    json_object_object_add(s, "titles", tl);
    return s;
}

static bool has_title(json_object *summary, const char *t)
{
    json_object *tl = cl_json_get(summary, "titles");
    for (size_t i = 0; tl && i < json_object_array_length(tl); i++)
        if (!strcmp(cl_json_str(json_object_array_get_idx(tl, i), "title", ""), t))
            return true;
    return false;
}

/* The last run of a key in a summary (a key may run more than once in a batch). */
static json_object *run_of_key(json_object *summary, const char *key)
{
    json_object *runs = cl_json_get(summary, "runs"), *found = NULL;
    for (size_t i = 0; runs && i < json_object_array_length(runs); i++) {
        json_object *r = json_object_array_get_idx(runs, i);
        if (!strcmp(cl_json_str(r, "key", ""), key))
            found = r;
    }
    return found;
}

static void titles_missing(json_object *from, json_object *in, json_object *out)
{
    json_object *tl = cl_json_get(from, "titles");
    for (size_t i = 0; tl && i < json_object_array_length(tl); i++) {
        const char *t = cl_json_str(json_object_array_get_idx(tl, i), "title", "");
        if (!has_title(in, t))
            json_object_array_add(out, json_object_new_string(t));
    }
}

static void keys_missing(json_object *from, json_object *in, json_object *out)
{
    json_object *runs = cl_json_get(from, "runs");
    for (size_t i = 0; runs && i < json_object_array_length(runs); i++) {
        const char *k = cl_json_str(json_object_array_get_idx(runs, i), "key", "");
        if (!run_of_key(in, k) && run_of_key(from, k) == json_object_array_get_idx(runs, i))
            json_object_array_add(out, json_object_new_string(k));
    }
}

json_object *cl_report_compare(json_object *previous, json_object *current)
{
    json_object *c = json_object_new_object(), *nt = json_object_new_array(), *ft = json_object_new_array(),
                *ch = json_object_new_array(), *added = json_object_new_array(), *removed = json_object_new_array();
    json_object_object_add(c, "previous_generated", json_object_new_string(cl_json_str(previous, "generated", "")));
    json_object_object_add(c, "previous_title", json_object_new_string(cl_json_str(previous, "title", "")));
    titles_missing(current, previous, nt);
    titles_missing(previous, current, ft);
    keys_missing(current, previous, added);
    keys_missing(previous, current, removed);
    json_object *runs = cl_json_get(current, "runs");
    for (size_t i = 0; runs && i < json_object_array_length(runs); i++) {
        json_object *r = json_object_array_get_idx(runs, i);
        const char *key = cl_json_str(r, "key", "");
        if (run_of_key(current, key) != r)
            continue;
        json_object *p = run_of_key(previous, key);
        if (!p || !strcmp(cl_json_str(p, "verdict", ""), cl_json_str(r, "verdict", "")))
            continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "key", json_object_new_string(key));
        json_object_object_add(o, "before", json_object_new_string(cl_json_str(p, "verdict", "")));
        json_object_object_add(o, "after", json_object_new_string(cl_json_str(r, "verdict", "")));
        json_object_object_add(o, "before_run", json_object_new_string(cl_json_str(p, "run_id", "")));
        json_object_object_add(o, "after_run", json_object_new_string(cl_json_str(r, "run_id", "")));
        json_object_array_add(ch, o);
    }
    json_object_object_add(c, "new_titles", nt);
    json_object_object_add(c, "fixed_titles", ft);
    json_object_object_add(c, "changed", ch);
    json_object_object_add(c, "added_keys", added);
    json_object_object_add(c, "removed_keys", removed);
    return c;
}

static void td(cl_buf *b, const char *cls, const char *text)
{
    if (cls) {
        cl_buf_adds(b, "<td class=\"");
        cl_buf_add_xml(b, cls);
        cl_buf_adds(b, "\">");
    } else {
        cl_buf_adds(b, "<td>");
    }
    cl_buf_add_xml(b, text ? text : "");
    cl_buf_adds(b, "</td>");
}

static void link_if(cl_buf *b, const cl_run_entry *e, const char *out_dir, const char *file, const char *label)
{
    char path[PATH_MAX + 256], rel[PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/%s", e->dir, file);
    if (access(path, R_OK) != 0)
        return;
    cl_relpath(out_dir, path, rel, sizeof(rel));
    cl_buf_adds(b, " <a href=\"");
    cl_buf_add_xml(b, rel);
    cl_buf_adds(b, "\">");
    cl_buf_add_xml(b, label);
    cl_buf_adds(b, "</a>");
}

static void list_section(cl_buf *b, const char *id, const char *heading, json_object *arr)
{
    cl_buf_addf(b, "<h3>%s (%zu)</h3>\n<ul id=\"%s\">\n", heading, arr ? json_object_array_length(arr) : 0, id);
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        cl_buf_adds(b, "<li>");
        cl_buf_add_xml(b, json_object_get_string(json_object_array_get_idx(arr, i)));
        cl_buf_adds(b, "</li>\n");
    }
    cl_buf_adds(b, "</ul>\n");
}

/* Runs over time: one bar per run at its start time, as tall as it took, coloured by
 * outcome. Plain SVG, no script. */
static void chart(cl_buf *b, const cl_runs *runs)
{
    const double W = 720, H = 160, pad = 30;
    double t0 = 0, t1 = 0, smax = 1;
    for (size_t i = 0; i < runs->n; i++) {
        double t = runs->v[i].started, s = run_seconds(&runs->v[i]);
        if (t > 0 && (t0 == 0 || t < t0))
            t0 = t;
        if (t + s > t1)
            t1 = t + s;
        if (s > smax)
            smax = s;
    }
    double span = t1 > t0 ? t1 - t0 : 1;
    cl_buf_addf(b, "<svg id=\"runs-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
                   "aria-label=\"runs over time\">\n", W, H);
    cl_buf_addf(b, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#888\"/>\n", pad, H - pad, W - 5, H - pad);
    cl_buf_addf(b, "<line x1=\"%.0f\" y1=\"5\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#888\"/>\n", pad, pad, H - pad);
    cl_buf_addf(b, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\">0 s</text><text x=\"2\" y=\"14\" font-size=\"10\">%.0f s</text>\n",
                pad - 25, H - pad, smax);
    cl_buf_addf(b, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\">%.0f min</text>\n", W - 60, H - 8, span / 60);
    double bw = (W - pad - 10) / (runs->n ? (double)runs->n : 1) * 0.6;
    if (bw > 14)
        bw = 14;
    if (bw < 2)
        bw = 2;
    double last_x = -1e9;
    for (size_t i = 0; i < runs->n; i++) {
        const cl_run_entry *e = &runs->v[i];
        double s = run_seconds(e), t = e->started > 0 ? e->started : t0;
        double x = pad + 2 + (t - t0) / span * (W - pad - 10 - bw), h = s / smax * (H - pad - 10);
        /* Runs that started together (parallel slots) stand side by side. */
        if (x < last_x + bw + 1)
            x = last_x + bw + 1;
        last_x = x;
        const char *cls = run_infra(e) ? "infra" : run_ok(e) ? "ok" : "bad";
        cl_buf_addf(b, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>", cls, x,
                    H - pad - h, bw, h < 1 ? 1 : h);
        cl_buf_add_xml(b, cl_run_id(e));
        cl_buf_addf(b, ": %s, %.1f s</title></rect>\n", cl_run_verdict(e), s);
    }
    cl_buf_adds(b, "</svg>\n");
}

char *cl_report_html(const cl_runs *runs, json_object *summary, json_object *compare, const char *out_dir, cl_error **errp)
{
    cl_buf b = { .max = 256u << 20 };
    const char *title = cl_json_str(summary, "title", "crashlab report");
    size_t ok = 0, bad = 0, infra = 0;
    for (size_t i = 0; i < runs->n; i++) {
        if (run_infra(&runs->v[i]))
            infra++;
        else if (run_ok(&runs->v[i]))
            ok++;
        else
            bad++;
    }
    cl_buf_adds(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<title>");
    cl_buf_add_xml(&b, title);
    cl_buf_adds(&b, "</title>\n<style>\n"
                    "body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;font-size:13px}\n"
                    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eee}\n"
                    "tr.ok td.verdict{background:#d8f5d8}tr.bad td.verdict{background:#f8d0d0}tr.infra td.verdict{background:#f5e6b8}\n"
                    "rect.ok{fill:#3a3}rect.bad{fill:#c33}rect.infra{fill:#c90}.num{text-align:right}\n"
                    "</style></head><body>\n<h1>");
    cl_buf_add_xml(&b, title);
    cl_buf_addf(&b, "</h1>\n<p id=\"summary\"><span id=\"count-runs\">%zu</span> runs: <span id=\"count-ok\">%zu</span> as expected, "
                    "<span id=\"count-bad\">%zu</span> not as expected, <span id=\"count-infra\">%zu</span> infrastructure errors. "
                    "Generated %s.</p>\n",
                runs->n, ok, bad, infra, cl_json_str(summary, "generated", ""));
    if (compare) {
        cl_buf_adds(&b, "<section id=\"changes\"><h2>Since the previous report</h2>\n<p>Previous: ");
        cl_buf_add_xml(&b, cl_json_str(compare, "previous_title", ""));
        cl_buf_adds(&b, ", generated ");
        cl_buf_add_xml(&b, cl_json_str(compare, "previous_generated", ""));
        cl_buf_adds(&b, ".</p>\n");
        list_section(&b, "new-titles", "New crash titles", cl_json_get(compare, "new_titles"));
        list_section(&b, "fixed-titles", "Crash titles gone (fixed)", cl_json_get(compare, "fixed_titles"));
        json_object *ch = cl_json_get(compare, "changed");
        cl_buf_addf(&b, "<h3>Changed verdicts (%zu)</h3>\n<table id=\"changed-verdicts\"><thead><tr><th>Key</th><th>Before</th>"
                        "<th>Now</th></tr></thead><tbody>\n", ch ? json_object_array_length(ch) : 0);
        for (size_t i = 0; ch && i < json_object_array_length(ch); i++) {
            json_object *o = json_object_array_get_idx(ch, i);
            cl_buf_adds(&b, "<tr>");
            td(&b, "key", cl_json_str(o, "key", ""));
            td(&b, "before", cl_json_str(o, "before", ""));
            td(&b, "after", cl_json_str(o, "after", ""));
            cl_buf_adds(&b, "</tr>\n");
        }
        cl_buf_adds(&b, "</tbody></table>\n");
        list_section(&b, "added-keys", "New jobs", cl_json_get(compare, "added_keys"));
        list_section(&b, "removed-keys", "Jobs no longer run", cl_json_get(compare, "removed_keys"));
        cl_buf_adds(&b, "</section>\n");
    }
    cl_buf_adds(&b, "<section id=\"chart\"><h2>Runs over time</h2>\n");
    chart(&b, runs);
    cl_buf_adds(&b, "</section>\n<section><h2>Runs</h2>\n<table id=\"runs\"><thead><tr><th>Run</th><th>Job key</th><th>Verdict</th>"
                    "<th>Expected</th><th>Crash title</th><th>Started</th><th>Seconds</th><th>Phases (s)</th><th>Host</th>"
                    "<th>Attempts</th><th>Files</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < runs->n; i++) {
        const cl_run_entry *e = &runs->v[i];
        char key[1024], secs[32], att[32] = "";
        cl_run_key(e, key, sizeof(key));
        snprintf(secs, sizeof(secs), "%.1f", run_seconds(e));
        if (e->job)
            snprintf(att, sizeof(att), "%lld", (long long)cl_json_int(e->job, "attempts", 0));
        const char *cls = run_infra(e) ? "infra" : run_ok(e) ? "ok" : "bad";
        cl_buf_addf(&b, "<tr class=\"run %s\" data-key=\"", cls);
        cl_buf_add_xml(&b, key);
        cl_buf_adds(&b, "\">");
        td(&b, "run-id", cl_run_id(e));
        td(&b, "key", key);
        td(&b, "verdict", cl_run_verdict(e));
        td(&b, "expected", cl_run_expected(e));
        td(&b, "title", cl_run_title(e) ? cl_run_title(e) : "");
        td(&b, "started", cl_json_str(e->result, "started", ""));
        td(&b, "num", secs);
        char phases[512] = "";
        size_t pl = 0;
        json_object *tm = cl_json_get(e->result, "timings");
        if (tm && json_object_is_type(tm, json_type_object)) {
            json_object_object_foreach(tm, ph, v) {
                if (!strcmp(ph, "total") || pl >= sizeof(phases) - 64)
                    continue;
                int w = snprintf(phases + pl, sizeof(phases) - pl, "%s%.40s %.1f", pl ? ", " : "", ph, json_object_get_double(v));
                if (w > 0)
                    pl += (size_t)w < sizeof(phases) - pl ? (size_t)w : sizeof(phases) - pl - 1;
            }
        }
        td(&b, "phases", phases);
        td(&b, "host", e->job ? cl_json_str(e->job, "host", "") : cl_json_str(cl_json_get(e->result, "host"), "hostname", ""));
        td(&b, "num", att);
        cl_buf_adds(&b, "<td class=\"files\">");
        link_if(&b, e, out_dir, "result.json", "result");
        link_if(&b, e, out_dir, "console.log", "console");
        link_if(&b, e, out_dir, "junit.xml", "junit");
        link_if(&b, e, out_dir, "domain.xml", "domain");
        const char *dump = cl_json_str(cl_json_get(e->result, "dump"), "path", NULL);
        if (dump && !strchr(dump, '/'))
            link_if(&b, e, out_dir, dump, "dump");
        cl_buf_adds(&b, "</td></tr>\n");
    }
    cl_buf_adds(&b, "</tbody></table></section>\n<section><h2>Crash titles</h2>\n<table id=\"titles\"><thead><tr><th>Title</th>"
                    "<th>Runs</th></tr></thead><tbody>\n");
    json_object *tl = cl_json_get(summary, "titles");
    for (size_t i = 0; tl && i < json_object_array_length(tl); i++) {
        json_object *o = json_object_array_get_idx(tl, i);
        char n[32];
        snprintf(n, sizeof(n), "%lld", (long long)cl_json_int(o, "runs", 0));
        cl_buf_adds(&b, "<tr>");
        td(&b, "title", cl_json_str(o, "title", ""));
        td(&b, "num", n);
        cl_buf_adds(&b, "</tr>\n");
    }
    cl_buf_adds(&b, "</tbody></table></section>\n</body></html>\n");
    return cl_buf_finish(&b, errp);
}

char *cl_report_junit(const cl_runs *runs, const char *title, cl_error **errp)
{
    cl_buf b = { .max = 256u << 20 };
    size_t failures = 0, errors = 0;
    double total = 0;
    for (size_t i = 0; i < runs->n; i++) {
        total += run_seconds(&runs->v[i]);
        if (run_infra(&runs->v[i]))
            errors++;
        else if (!run_ok(&runs->v[i]))
            failures++;
    }
    cl_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"");
    cl_buf_add_xml(&b, title);
    cl_buf_addf(&b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.3f\">\n", runs->n, failures, errors, total);
    for (size_t i = 0; i < runs->n; i++) {
        const cl_run_entry *e = &runs->v[i];
        char key[1024];
        cl_run_key(e, key, sizeof(key));
        cl_buf_adds(&b, "    <testcase classname=\"");
        cl_buf_add_xml(&b, key);
        cl_buf_adds(&b, "\" name=\"");
        cl_buf_add_xml(&b, cl_run_id(e));
        cl_buf_addf(&b, "\" time=\"%.3f\"", run_seconds(e));
        if (run_ok(e) && !run_infra(e)) {
            cl_buf_adds(&b, "/>\n");
            continue;
        }
        cl_buf_addf(&b, ">\n      <%s type=\"", run_infra(e) ? "error" : "failure");
        cl_buf_add_xml(&b, cl_run_verdict(e));
        cl_buf_adds(&b, "\" message=\"");
        char msg[512];
        snprintf(msg, sizeof(msg), "expected %s, got %s: %s", cl_run_expected(e), cl_run_verdict(e),
                 cl_json_str(e->result, "reason", ""));
        cl_buf_add_xml(&b, msg);
        cl_buf_addf(&b, "\"/>\n    </testcase>\n");
    }
    cl_buf_adds(&b, "  </testsuite>\n</testsuites>\n");
    return cl_buf_finish(&b, errp);
}

static bool write_json(const char *dir, const char *name, json_object *o, cl_error **errp)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    return cl_file_write_atomic(path, text, strlen(text), errp);
}

static bool write_text(const char *dir, const char *name, const char *text, cl_error **errp)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return cl_file_write_atomic(path, text, strlen(text), errp);
}

bool cl_report_write(const cl_runs *runs, const char *out_dir, const char *previous_dir, const char *title, cl_error **errp)
{
    json_object *prev = NULL;
    if (previous_dir) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof(path), "%s/summary.json", previous_dir);
        CL_AUTOFREE char *text = NULL;
        size_t len = 0;
        if (!cl_file_read_all(path, 64u << 20, &text, &len, errp))
            return false;
        prev = json_tokener_parse(text);
        if (!prev || cl_json_int(prev, "schema_version", 0) != CL_REPORT_SCHEMA_VERSION || !cl_json_get(prev, "runs")) {
            json_object_put(prev);
            return cl_error_set(errp, CL_ERR_FORMAT, "report: '%s' is not a crashlab report summary", path);
        }
    }
    char abs[PATH_MAX];
    if (!cl_mkdir_p(out_dir, CL_DIR_MODE, errp) || !realpath(out_dir, abs)) {
        json_object_put(prev);
        return cl_error_set(errp, CL_ERR_IO, "report: cannot use '%s'", out_dir);
    }
    json_object *sum = cl_report_summary(runs, title);
    json_object *cmp = prev ? cl_report_compare(prev, sum) : NULL;
    CL_AUTOFREE char *html = cl_report_html(runs, sum, cmp, abs, errp);
    CL_AUTOFREE char *junit = html ? cl_report_junit(runs, title, errp) : NULL;
    bool ok = html && junit && write_json(abs, "summary.json", sum, errp) && (!cmp || write_json(abs, "compare.json", cmp, errp)) &&
              write_text(abs, "junit.xml", junit, errp) && write_text(abs, "report.html", html, errp);
    json_object_put(sum);
    json_object_put(cmp);
    json_object_put(prev);
    return ok;
}
