/* oracle.c - comparing an oracle's reading with a corpus entry's labels (oracle.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "util/buf.h"
#include "util/fileio.h"
#include "util/json.h"

const char *cl_oracle_status_to_string(cl_oracle_status s)
{
    switch (s) {
    case CL_ORACLE_PASS: return "ok";
    case CL_ORACLE_FAIL: return "MISMATCH";
    case CL_ORACLE_SKIP: return "skip";
    case CL_ORACLE_STATUS_LAST: break;
    }
    return "?";
}

void cl_oracle_cases_clear(cl_oracle_cases *c)
{
    free(c->v);
    memset(c, 0, sizeof(*c));
}

bool cl_oracle_case_add(cl_oracle_cases *c, const char *entry, const char *label, cl_oracle_status st,
                        const char *fmt, ...)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        cl_oracle_case *v = realloc(c->v, cap * sizeof(*v));
        if (!v)
            return false;
        c->v = v;
        c->cap = cap;
    }
    cl_oracle_case *k = &c->v[c->n++];
    snprintf(k->entry, sizeof(k->entry), "%s", entry);
    snprintf(k->label, sizeof(k->label), "%s", label);
    k->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->message, sizeof(k->message), fmt, ap);
    va_end(ap);
    return true;
}

/* A label value as an unsigned number: 31, "31", "0x1f". */
static bool as_number(json_object *v, uint64_t *out)
{
    if (json_object_is_type(v, json_type_int)) {
        int64_t i = json_object_get_int64(v);
        if (i < 0)
            return false;
        *out = (uint64_t)i;
        return true;
    }
    if (!json_object_is_type(v, json_type_string))
        return false;
    const char *s = json_object_get_string(v);
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long u = strtoull(s, &end, 0);
    if (errno || *end)
        return false;
    *out = u;
    return true;
}

bool cl_oracle_same(json_object *want, json_object *have)
{
    uint64_t a, b;
    if (as_number(want, &a) && as_number(have, &b))
        return a == b;
    if (json_object_is_type(want, json_type_string) && json_object_is_type(have, json_type_string))
        return !strcmp(json_object_get_string(want), json_object_get_string(have));
    return json_object_equal(want, have);
}

void cl_oracle_function_name(const char *in, char *out, size_t outlen)
{
    size_t n = strcspn(in ? in : "", ".+ ");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, in ? in : "", n);
    out[n] = '\0';
}

static const char *text_of(json_object *v)
{
    const char *s = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "null";
    return s;
}

/* Keys of ground_truth that say where the label came from, not what it labels. */
static bool meta_label(const char *k)
{
    return !strcmp(k, "fault") || !strcmp(k, "state") || !strcmp(k, "source");
}

static int compare_label(json_object *labels, const char *entry, const char *k, json_object *want, cl_oracle_cases *out)
{
    json_object *r = cl_json_get(labels, k);
    if (!r || !json_object_is_type(r, json_type_object)) {
        cl_oracle_case_add(out, entry, k, CL_ORACLE_SKIP, "not checked by the oracle (label %s)", text_of(want));
        return 0;
    }
    const char *skipped = cl_json_str(r, "skipped", NULL);
    if (skipped) {
        cl_oracle_case_add(out, entry, k, CL_ORACLE_SKIP, "%s", skipped);
        return 0;
    }
    json_object *have = NULL;
    bool has = json_object_object_get_ex(r, "value", &have);
    const char *detail = cl_json_str(r, "detail", "");
    if (has && have && cl_oracle_same(want, have)) {
        cl_oracle_case_add(out, entry, k, CL_ORACLE_PASS, "%s%s%s", text_of(have), *detail ? ": " : "", detail);
        return 0;
    }
    /* Copy the text first: json-c reuses one print buffer per object. */
    char h[160];
    snprintf(h, sizeof(h), "%s", has ? text_of(have) : "(no value)");
    cl_oracle_case_add(out, entry, k, CL_ORACLE_FAIL, "the oracle found %s, label says %s%s%s", h, text_of(want),
                       *detail ? ": " : "", detail);
    return 1;
}

static int compare_function(json_object *entry, json_object *reading, const char *name, cl_oracle_cases *out)
{
    const char *want_raw = cl_json_str(entry, "crash_function", NULL);
    if (!want_raw || !*want_raw)
        return 0;
    char want[128], have[128];
    cl_oracle_function_name(want_raw, want, sizeof(want));
    const char *pick = cl_json_str(reading, "crash_function", NULL);
    json_object *stack = cl_json_get(reading, "stack_functions");
    if (!pick && !stack) {
        cl_oracle_case_add(out, name, "crash_function", CL_ORACLE_SKIP, "not checked by the oracle (label %s)", want);
        return 0;
    }
    cl_oracle_function_name(pick, have, sizeof(have));
    if (pick && !strcmp(have, want)) {
        cl_oracle_case_add(out, name, "crash_function", CL_ORACLE_PASS, "%s", want);
        return 0;
    }
    size_t n = stack && json_object_is_type(stack, json_type_array) ? json_object_array_length(stack) : 0;
    for (size_t i = 0; i < n; i++) {
        char f[128];
        cl_oracle_function_name(json_object_get_string(json_object_array_get_idx(stack, i)), f, sizeof(f));
        if (!strcmp(f, want)) {
            cl_oracle_case_add(out, name, "crash_function", CL_ORACLE_PASS, "%s (frame %zu of the crash's stacks)", want, i);
            return 0;
        }
    }
    cl_oracle_case_add(out, name, "crash_function", CL_ORACLE_FAIL,
                       "the oracle found %s and %zu stack frames without %s, label says %s", pick ? pick : "no function", n,
                       want, want);
    return 1;
}

/* A top-level string the oracle reads (panic message, release): absent is skipped. */
static int compare_text(json_object *entry, const char *ekey, json_object *reading, const char *rkey, const char *name,
                        const char *label, cl_oracle_cases *out)
{
    const char *want = cl_json_str(entry, ekey, NULL);
    if (!want || !*want)
        return 0;
    json_object *have = NULL;
    if (!json_object_object_get_ex(reading, rkey, &have)) {
        cl_oracle_case_add(out, name, label, CL_ORACLE_SKIP, "not checked by the oracle (label '%s')", want);
        return 0;
    }
    const char *h = json_object_is_type(have, json_type_string) ? json_object_get_string(have) : NULL;
    /* Trailing blanks are how a log line ends, not what it says. */
    size_t wl = strlen(want), hl = h ? strlen(h) : 0;
    while (wl && (want[wl - 1] == ' ' || want[wl - 1] == '\n'))
        wl--;
    while (hl && (h[hl - 1] == ' ' || h[hl - 1] == '\n'))
        hl--;
    if (h && wl == hl && !memcmp(want, h, wl)) {
        cl_oracle_case_add(out, name, label, CL_ORACLE_PASS, "'%s'", want);
        return 0;
    }
    cl_oracle_case_add(out, name, label, CL_ORACLE_FAIL, "the oracle found '%s', label says '%s'", h ? h : "nothing", want);
    return 1;
}

static int compare_bugcheck(json_object *entry, json_object *reading, const char *name, cl_oracle_cases *out)
{
    json_object *want = cl_json_get(entry, "bugcheck");
    if (!want || !json_object_is_type(want, json_type_object))
        return 0;
    json_object *have = NULL;
    if (!json_object_object_get_ex(reading, "bugcheck", &have)) {
        cl_oracle_case_add(out, name, "bugcheck", CL_ORACLE_SKIP, "not checked by the oracle");
        return 0;
    }
    bool same = have && cl_oracle_same(cl_json_get(want, "code"), cl_json_get(have, "code"));
    json_object *wp = cl_json_get(want, "params"), *hp = cl_json_get(have, "params");
    size_t n = wp && json_object_is_type(wp, json_type_array) ? json_object_array_length(wp) : 0;
    same = same && hp && json_object_is_type(hp, json_type_array) && json_object_array_length(hp) == n;
    for (size_t i = 0; same && i < n; i++)
        same = cl_oracle_same(json_object_array_get_idx(wp, i), json_object_array_get_idx(hp, i));
    char h[256];
    snprintf(h, sizeof(h), "%s", text_of(have));
    cl_oracle_case_add(out, name, "bugcheck", same ? CL_ORACLE_PASS : CL_ORACLE_FAIL, same ? "%s" : "the oracle found %s, label says %s",
                       h, text_of(want));
    return same ? 0 : 1;
}

int cl_oracle_compare(json_object *entry, json_object *reading, const char *name, cl_oracle_cases *out)
{
    if (!reading || !json_object_is_type(reading, json_type_object)) {
        cl_oracle_case_add(out, name, "open", CL_ORACLE_FAIL, "the oracle gave no reading");
        return 1;
    }
    json_object *opened = cl_json_get(reading, "opened");
    if (!opened || !json_object_get_boolean(opened)) {
        cl_oracle_case_add(out, name, "open", CL_ORACLE_FAIL, "the oracle could not open the dump: %s",
                           cl_json_str(reading, "error", "(no error given)"));
        return 1;
    }
    cl_oracle_case_add(out, name, "open", CL_ORACLE_PASS, "%s", cl_json_str(reading, "oracle", "oracle"));
    int bad = 0;
    bad += compare_text(entry, "os_release", reading, "os_release", name, "os_release", out);
    bad += compare_text(entry, "panic_message", reading, "panic", name, "panic", out);
    bad += compare_bugcheck(entry, reading, name, out);
    bad += compare_function(entry, reading, name, out);
    json_object *labels = cl_json_get(reading, "labels");
    const char *sections[] = { "ground_truth", "oracle_expect" };
    for (size_t s = 0; s < 2; s++) {
        json_object *gt = cl_json_get(entry, sections[s]);
        if (!gt || !json_object_is_type(gt, json_type_object))
            continue;
        json_object_object_foreach(gt, k, want)
        {
            if (s == 0 && meta_label(k))
                continue;
            bad += compare_label(labels, name, k, want, out);
        }
    }
    return bad;
}

bool cl_oracle_expand(const char *tmpl, const cl_oracle_vars *v, char *out, size_t outlen, char *why, size_t whylen)
{
    cl_buf b = { .max = outlen };
    for (const char *p = tmpl; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            cl_buf_add(&b, p++, 1);
            continue;
        }
        if (*p != '{') {
            cl_buf_add(&b, p, 1);
            continue;
        }
        const char *e = strchr(p, '}');
        size_t n = e ? (size_t)(e - p - 1) : 0;
        const char *val = NULL;
        if (e && n == 4 && !strncmp(p + 1, "dump", 4))
            val = v->dump;
        else if (e && n == 7 && !strncmp(p + 1, "vmlinux", 7))
            val = v->vmlinux;
        else if (e && n == 5 && !strncmp(p + 1, "entry", 5))
            val = v->entry;
        else if (e && n == 6 && !strncmp(p + 1, "corpus", 6))
            val = v->corpus;
        if (!e || !val) {
            snprintf(why, whylen, "unknown placeholder '%.*s' in the oracle command (known: {dump} {vmlinux} {entry} {corpus}, {{ and }})",
                     e ? (int)(n + 2) : 20, p);
            cl_buf_reset(&b);
            return false;
        }
        /* Single-quoted for sh: ' becomes '\'' */
        cl_buf_add(&b, "'", 1);
        for (const char *q = val; *q; q++)
            if (*q == '\'')
                cl_buf_adds(&b, "'\\''");
            else
                cl_buf_add(&b, q, 1);
        cl_buf_add(&b, "'", 1);
        p = e;
    }
    char *s = cl_buf_finish(&b, NULL);
    if (!s || strlen(s) >= outlen) {
        free(s);
        snprintf(why, whylen, "the oracle command is longer than %zu bytes", outlen - 1);
        return false;
    }
    memcpy(out, s, strlen(s) + 1);
    free(s);
    return true;
}

bool cl_oracle_junit_write(const cl_oracle_cases *c, const char *suite, const char *path, cl_error **errp)
{
    size_t fails = 0, skips = 0;
    for (size_t i = 0; i < c->n; i++) {
        fails += c->v[i].status == CL_ORACLE_FAIL;
        skips += c->v[i].status == CL_ORACLE_SKIP;
    }
    cl_buf b = { 0 };
    cl_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n<testsuite name=\"");
    cl_buf_add_xml(&b, suite);
    cl_buf_addf(&b, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\">\n", c->n, fails, skips);
    for (size_t i = 0; i < c->n; i++) {
        const cl_oracle_case *k = &c->v[i];
        cl_buf_adds(&b, "  <testcase classname=\"");
        cl_buf_add_xml(&b, k->entry);
        cl_buf_adds(&b, "\" name=\"");
        cl_buf_add_xml(&b, k->label);
        cl_buf_adds(&b, "\"");
        if (k->status == CL_ORACLE_PASS) {
            cl_buf_adds(&b, "/>\n");
            continue;
        }
        cl_buf_adds(&b, k->status == CL_ORACLE_FAIL ? "><failure message=\"" : "><skipped message=\"");
        cl_buf_add_xml(&b, k->message);
        cl_buf_adds(&b, "\"/></testcase>\n");
    }
    cl_buf_adds(&b, "</testsuite>\n</testsuites>\n");
    CL_AUTOFREE char *text = cl_buf_finish(&b, errp);
    return text && cl_file_write_atomic(path, text, strlen(text), errp);
}
