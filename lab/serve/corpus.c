/* corpus.c - corpus build and verify. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "corpus.h"
#include "dump/dump.h"
#include "dump/fingerprint.h"
#include "proto.h"
#include "scenario/scenario.h"
#include "util/fileio.h"
#include "util/names.h"

static json_object *jstr(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static json_object *jcopy(json_object *o)
{
    return o ? json_object_get(o) : NULL;
}

/* The first trigger step of the run (the fault that made the dump). */
static json_object *trigger_step(json_object *res)
{
    json_object *steps = cl_json_get(res, "steps");
    for (size_t i = 0; steps && json_object_is_type(steps, json_type_array) && i < json_object_array_length(steps); i++) {
        json_object *s = json_object_array_get_idx(steps, i);
        if (!strcmp(cl_json_str(s, "kind", ""), "trigger"))
            return s;
    }
    return NULL;
}

json_object *cl_corpus_split_params(const char *text)
{
    json_object *p = json_object_new_object();
    char key[128], val[4096];
    for (const char *s = text ? text : ""; *s;) {
        while (*s == ' ')
            s++;
        size_t k = 0;
        while (*s && *s != '=' && *s != ' ' && k < sizeof(key) - 1)
            key[k++] = *s++;
        key[k] = '\0';
        if (*s != '=')
            break;
        s++;
        size_t v = 0;
        if (*s == '"') {
            for (s++; *s && *s != '"'; s++) {
                if (*s == '\\' && s[1])
                    s++;
                if (v < sizeof(val) - 1)
                    val[v++] = *s;
            }
            if (*s == '"')
                s++;
        } else {
            while (*s && *s != ' ')
                if (v < sizeof(val) - 1)
                    val[v++] = *s++;
                else
                    s++;
        }
        val[v] = '\0';
        if (k)
            json_object_object_add(p, key, json_object_new_string(val));
    }
    return p;
}

/* The scenario as it ran: loaded again only if its sha256 still matches the run's, so
 * labels taken from it (fault parameters, expectations) are never a guess. */
static cl_scenario *scenario_as_run(json_object *res)
{
    json_object *sc = cl_json_get(res, "scenario");
    const char *path = cl_json_str(sc, "abs_path", cl_json_str(sc, "path", NULL));
    const char *sha = cl_json_str(sc, "sha256", "");
    if (!path)
        return NULL;
    cl_scenario *s = cl_scenario_load(path, NULL);
    if (s && strcmp(s->sha256, sha)) {
        cl_scenario_free(s);
        return NULL;
    }
    return s;
}

static json_object *fault_params(const cl_scenario *s, const char *fault)
{
    for (size_t i = 0; s && fault && i < s->nsteps; i++) {
        const cl_step *st = &s->steps[i];
        if (st->kind == CL_STEP_TRIGGER && st->fault && !strcmp(st->fault->id, fault))
            return cl_corpus_split_params(st->params_text);
    }
    return NULL;
}

json_object *cl_corpus_labels(const cl_run_entry *e, char *why, size_t whylen)
{
    json_object *res = e->result, *dump = cl_json_get(res, "dump"), *crash = cl_json_get(res, "crash");
    const char *file = cl_json_str(dump, "path", NULL);
    if (!file || strchr(file, '/') || !strcmp(file, "..")) {
        snprintf(why, whylen, "no dump");
        return NULL;
    }
    json_object *trig = trigger_step(res);
    CL_AUTOPTR(cl_scenario) s = scenario_as_run(res);
    const char *fault = cl_json_str(trig, "fault", NULL);
    /* A recorded run sends no step: its guest fires the scenario's trigger at boot. */
    for (size_t i = 0; !fault && s && json_object_get_boolean(cl_json_get(cl_json_get(res, "replay"), "recorded")) && i < s->nsteps; i++)
        if (s->steps[i].kind == CL_STEP_TRIGGER && s->steps[i].fault)
            fault = s->steps[i].fault->id;
    /* The fault names the corpus file (dumps/FAULT-SHA.EXT); result.json is only as
     * trustworthy as whoever could write the results directory. */
    CL_AUTOPTR(cl_error) nerr = NULL;
    if (fault && !cl_name_check("fault", fault, &nerr)) {
        snprintf(why, whylen, "%s", nerr->msg);
        return NULL;
    }
    json_object *l = json_object_new_object();
    json_object_object_add(l, "run_id", jstr(cl_run_id(e)));
    json_object_object_add(l, "scenario", jstr(cl_json_str(cl_json_get(res, "scenario"), "name", NULL)));
    json_object_object_add(l, "source_dump", jstr(file));
    json_object_object_add(l, "fault", jstr(fault));
    json_object_object_add(l, "params", fault_params(s, fault));
    json_object_object_add(l, "expected_verdict", jstr(cl_run_expected(e)));
    json_object_object_add(l, "expected_kind", jstr(s ? s->expect_kind : NULL));
    json_object_object_add(l, "expected_pattern", jstr(s ? s->expect_pattern : NULL));
    char bc[16];
    snprintf(bc, sizeof(bc), "0x%x", s ? s->expect_bugcheck : 0);
    json_object_object_add(l, "expected_bugcheck", jstr(s && s->expect_bugcheck ? bc : NULL));
    json_object_object_add(l, "verdict", jstr(cl_run_verdict(e)));
    json_object_object_add(l, "crash_title", jstr(cl_run_title(e)));
    json_object_object_add(l, "kind", jstr(cl_json_str(crash, "kind", NULL)));
    json_object_object_add(l, "dump_kind", jstr(cl_json_str(cl_json_get(crash, "linux"), "report_type", NULL)));
    json_object_object_add(l, "bugcheck", jcopy(cl_json_get(crash, "bugcheck")));
    json_object_object_add(l, "os_release", jstr(cl_json_str(cl_json_get(crash, "os"), "release", NULL)));
    json_object_object_add(l, "panic_message", jstr(cl_json_str(crash, "panic_message", NULL)));
    json_object_object_add(l, "crash_function", jstr(cl_json_str(cl_json_get(crash, "linux"), "crash_function", NULL)));
    json_object_object_add(l, "faulting_module", jstr(cl_json_str(cl_json_get(crash, "faulting_module"), "name", NULL)));
    json_object_object_add(l, "ground_truth", jcopy(cl_json_get(res, "ground_truth")));
    json_object_object_add(l, "oracle_expect", cl_corpus_oracle_expect(fault, cl_json_get(res, "ground_truth")));
    json_object *fp = cl_json_get(res, "fingerprint");
    json_object_object_add(l, "fingerprint", jcopy(fp ? fp : cl_json_get(crash, "fingerprint")));
    json_object_object_add(l, "capture_method", jstr(cl_json_str(cl_json_get(res, "capture"), "method", NULL)));
    json_object_object_add(l, "dump_format", jstr(cl_json_str(dump, "format", NULL)));
    json_object_object_add(l, "sha256", jstr(cl_json_str(dump, "sha256", NULL)));
    json_object_object_add(l, "size", json_object_new_int64(cl_json_int(dump, "bytes", -1)));
    return l;
}

bool cl_corpus_copy_file(const char *from, const char *to, cl_error **errp)
{
    struct stat st;
    CL_AUTOCLOSE in = cl_file_open_regular(from, &st, errp);
    if (in < 0) {
        cl_error_prefix(errp, "corpus");
        return false;
    }
    CL_AUTOCLOSE out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, CL_FILE_MODE);
    if (out < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "corpus: cannot create '%s'", to);
    static char buf[1 << 20];
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "corpus: cannot read '%s'", from);
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return cl_error_set_errno(errp, CL_ERR_IO, errno, "corpus: cannot write '%s'", to);
            off += w;
        }
    }
    if (fsync(out) < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "corpus: cannot sync '%s'", to);
    return true;
}

/* The driver binaries the run installed (its install steps), copied once each into
 * DIR/modules/ when they still match the sha256 the run recorded: a debugger needs the
 * module's symbols to read its objects. */
static bool add_modules(const cl_run_entry *e, const char *partial, json_object *l, cl_error **errp)
{
    json_object *mods = json_object_new_array(), *steps = cl_json_get(e->result, "steps");
    json_object_object_add(l, "modules", mods);
    for (size_t i = 0; steps && json_object_is_type(steps, json_type_array) && i < json_object_array_length(steps); i++) {
        json_object *st = json_object_array_get_idx(steps, i);
        const char *host = cl_json_str(st, "host_path", NULL), *want = cl_json_str(st, "sha256", NULL);
        if (strcmp(cl_json_str(st, "kind", ""), "install") || !host || !want)
            continue;
        const char *base = strrchr(host, '/') ? strrchr(host, '/') + 1 : host;
        json_object *m = json_object_new_object();
        json_object_array_add(mods, m);
        json_object_object_add(m, "name", json_object_new_string(base));
        json_object_object_add(m, "sha256", json_object_new_string(want));
        char sha[65], name[300], dst[PATH_MAX + 320];
        uint64_t size = 0;
        if (!cl_sha256_file(host, sha, &size, NULL) || strcmp(sha, want)) {
            json_object_object_add(m, "file", NULL);
            json_object_object_add(m, "why", json_object_new_string("the installed file is gone or changed since the run"));
            continue;
        }
        snprintf(name, sizeof(name), "modules/%.16s-%.200s", sha, base);
        snprintf(dst, sizeof(dst), "%s/%s", partial, name);
        struct stat st_dst;
        if (stat(dst, &st_dst) != 0) {
            char dir[PATH_MAX + 16];
            snprintf(dir, sizeof(dir), "%s/modules", partial);
            if (!cl_mkdir_p(dir, CL_DIR_MODE, errp) || !cl_corpus_copy_file(host, dst, errp))
                return false;
        }
        json_object_object_add(m, "file", json_object_new_string(name));
    }
    return true;
}

static const char *ext_of(const char *file)
{
    const char *dot = strrchr(file, '.');
    return dot ? dot + 1 : "dump";
}

bool cl_corpus_build(const cl_runs *runs, const char *out_dir, size_t *count, cl_error **errp)
{
    struct stat st;
    if (stat(out_dir, &st) == 0)
        return cl_error_set(errp, CL_ERR_INVAL, "corpus: '%s' already exists; a corpus is written once, into a new directory", out_dir);
    char partial[PATH_MAX], dumps[PATH_MAX + 16];
    snprintf(partial, sizeof(partial), "%s.partial-%ld", out_dir, (long)getpid());
    snprintf(dumps, sizeof(dumps), "%s/dumps", partial);
    cl_rm_rf(partial, NULL);
    if (!cl_mkdir_p(dumps, CL_DIR_MODE, errp))
        return false;
    json_object *list = json_object_new_array(), *skipped = json_object_new_array(), *seen = json_object_new_object();
    bool ok = true;
    for (size_t i = 0; ok && i < runs->n; i++) {
        const cl_run_entry *e = &runs->v[i];
        char why[256] = "";
        json_object *l = cl_corpus_labels(e, why, sizeof(why));
        char src[PATH_MAX + 256], sha[65];
        uint64_t size = 0;
        if (l) {
            snprintf(src, sizeof(src), "%s/%s", e->dir, cl_json_str(l, "source_dump", ""));
            CL_AUTOPTR(cl_error) herr = NULL;
            if (!cl_sha256_file(src, sha, &size, &herr)) {
                snprintf(why, sizeof(why), "%.*s", (int)sizeof(why) - 1, herr->msg);
            } else if (strcmp(sha, cl_json_str(l, "sha256", "")) || (int64_t)size != cl_json_int(l, "size", -1)) {
                snprintf(why, sizeof(why), "the dump no longer matches the sha256/size its run recorded");
            } else {
                /* One dump per (crash title, fault): more of the same teach a debugger nothing. */
                char key[2048];
                snprintf(key, sizeof(key), "%s\n%s", cl_json_str(l, "crash_title", "<no title>"), cl_json_str(l, "fault", "<no fault>"));
                json_object *dup = cl_json_get(seen, key);
                if (dup) {
                    snprintf(why, sizeof(why), "duplicate of %s (same crash title and fault)", json_object_get_string(dup));
                } else {
                    json_object_object_add(seen, key, json_object_new_string(cl_run_id(e)));
                    char name[256], dst[PATH_MAX + 300];
                    snprintf(name, sizeof(name), "dumps/%s-%.16s.%s", cl_json_str(l, "fault", "nofault"), sha, ext_of(src));
                    snprintf(dst, sizeof(dst), "%s/%s", partial, name);
                    char rname[200];
                    snprintf(rname, sizeof(rname), "%s-%.16s", cl_json_str(l, "fault", "nofault"), sha);
                    ok = cl_corpus_copy_file(src, dst, errp) && add_modules(e, partial, l, errp) &&
                         cl_corpus_add_replay(e->dir, e->result, partial, rname, l, errp);
                    json_object_object_add(l, "debug", cl_corpus_debuginfo(e->result));
                    json_object_object_add(l, "file", json_object_new_string(name));
                    json_object_object_del(l, "source_dump");
                    json_object_array_add(list, l);
                    l = NULL;
                    why[0] = '\0';
                }
            }
        }
        json_object_put(l);
        if (why[0]) {
            json_object *s = json_object_new_object();
            json_object_object_add(s, "run_id", json_object_new_string(cl_run_id(e)));
            json_object_object_add(s, "why", json_object_new_string(why));
            json_object_array_add(skipped, s);
        }
    }
    json_object_put(seen);
    if (ok) {
        json_object *m = json_object_new_object();
        char iso[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_object_object_add(m, "schema_version", json_object_new_int(CL_CORPUS_SCHEMA_VERSION));
        json_object_object_add(m, "created", json_object_new_string(iso));
        json_object_object_add(m, "count", json_object_new_int((int)json_object_array_length(list)));
        json_object_object_add(m, "dumps", json_object_get(list));
        json_object_object_add(m, "skipped", json_object_get(skipped));
        char mpath[PATH_MAX + 32];
        snprintf(mpath, sizeof(mpath), "%s/manifest.json", partial);
        const char *text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        ok = cl_file_write_atomic(mpath, text, strlen(text), errp);
        json_object_put(m);
    }
    *count = json_object_array_length(list);
    json_object_put(list);
    json_object_put(skipped);
    if (ok && rename(partial, out_dir) < 0)
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "corpus: cannot rename '%s' to '%s'", partial, out_dir);
    if (!ok)
        cl_rm_rf(partial, NULL);
    return ok;
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static int check_one(const char *dir, json_object *l, FILE *out)
{
    const char *file = cl_json_str(l, "file", NULL);
    if (!file || strstr(file, "..") || file[0] == '/') {
        fprintf(out, "MISMATCH %s: the entry names no file inside the corpus\n", file ? file : "?");
        return 1;
    }
    char path[PATH_MAX + 512], sha[65];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    uint64_t size = 0;
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_sha256_file(path, sha, &size, &err)) {
        fprintf(out, "MISMATCH %s: %s\n", file, err->msg);
        return 1;
    }
    int bad = 0;
    if ((int64_t)size != cl_json_int(l, "size", -1)) {
        fprintf(out, "MISMATCH %s: size %llu, label says %lld\n", file, (unsigned long long)size, (long long)cl_json_int(l, "size", -1));
        bad++;
    }
    if (strcmp(sha, cl_json_str(l, "sha256", ""))) {
        fprintf(out, "MISMATCH %s: sha256 %s, label says %s\n", file, sha, cl_json_str(l, "sha256", "?"));
        bad++;
    }
    json_object *ins = NULL;
    CL_AUTOPTR(cl_error) ierr = NULL;
    int rc = cl_dump_inspect(path, &ins, &ierr);
    if (rc == CL_DUMP_NOT_A_DUMP || !ins) {
        fprintf(out, "MISMATCH %s: not readable as a dump: %s\n", file, ierr ? ierr->msg : "?");
        json_object_put(ins);
        return bad + 1;
    }
    struct {
        const char *label, *field;
        const char *have;
    } checks[] = {
        { "crash_title", "title", cl_json_str(ins, "title", NULL) },
        { "dump_kind", "kind", cl_json_str(cl_json_get(ins, "linux"), "report_type", NULL) },
        { "os_release", "release", cl_json_str(cl_json_get(ins, "os"), "release", NULL) },
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        const char *want = cl_json_str(l, checks[i].label, NULL);
        if (!same_str(want, checks[i].have)) {
            fprintf(out, "MISMATCH %s: %s '%s', label says '%s'\n", file, checks[i].field, checks[i].have ? checks[i].have : "(none)",
                    want ? want : "(none)");
            bad++;
        }
    }
    const char *bc_want = json_object_to_json_string(cl_json_get(l, "bugcheck"));
    const char *bc_have = json_object_to_json_string(cl_json_get(ins, "bugcheck"));
    if (strcmp(bc_want ? bc_want : "null", bc_have ? bc_have : "null")) {
        fprintf(out, "MISMATCH %s: bug check %s, label says %s\n", file, bc_have, bc_want);
        bad++;
    }
    /* The guest side of the hypervisor fingerprint is read from the dump's memory: it must
     * read the same again. */
    json_object *fp_want = cl_json_get(cl_json_get(l, "fingerprint"), "guest");
    if (fp_want) {
        json_object *fp_have = NULL;
        CL_AUTOPTR(cl_error) ferr = NULL;
        if (!cl_dump_fingerprint(path, &fp_have, &ferr)) {
            fprintf(out, "MISMATCH %s: fingerprint unreadable: %s\n", file, ferr ? ferr->msg : "?");
            bad++;
        } else if (!json_object_equal(fp_want, fp_have)) {
            fprintf(out, "MISMATCH %s: fingerprint (guest side) differs from its label\n", file);
            bad++;
        }
        json_object_put(fp_have);
    }
    if (rc == CL_DUMP_TRUNCATED) {
        fprintf(out, "MISMATCH %s: the dump reads as truncated\n", file);
        bad++;
    }
    json_object_put(ins);
    if (!bad)
        fprintf(out, "ok %s: %s\n", file, cl_json_str(l, "crash_title", "(no title)"));
    return bad;
}

json_object *cl_corpus_manifest_load(const char *dir, cl_error **errp)
{
    char mpath[PATH_MAX + 32];
    snprintf(mpath, sizeof(mpath), "%s/manifest.json", dir);
    CL_AUTOFREE char *text = NULL;
    size_t len = 0;
    if (!cl_file_read_all(mpath, CL_CORPUS_MANIFEST_MAX, &text, &len, errp))
        return NULL;
    json_object *m = json_tokener_parse(text);
    json_object *dumps = cl_json_get(m, "dumps");
    if (!dumps || !json_object_is_type(dumps, json_type_array) || cl_json_int(m, "schema_version", 0) != CL_CORPUS_SCHEMA_VERSION) {
        json_object_put(m);
        cl_error_set(errp, CL_ERR_FORMAT, "corpus: '%s' is not a version %d manifest", mpath, CL_CORPUS_SCHEMA_VERSION);
        return NULL;
    }
    for (size_t i = 0; i < json_object_array_length(dumps); i++)
        if (!json_object_is_type(json_object_array_get_idx(dumps, i), json_type_object)) {
            json_object_put(m);
            cl_error_set(errp, CL_ERR_FORMAT, "corpus: '%s': dumps[%zu] is not an object", mpath, i);
            return NULL;
        }
    return m;
}

int cl_corpus_verify(const char *dir, FILE *out, cl_error **errp)
{
    json_object *m = cl_corpus_manifest_load(dir, errp);
    if (!m)
        return -1;
    json_object *dumps = cl_json_get(m, "dumps");
    int bad = 0;
    size_t n = json_object_array_length(dumps);
    if ((int64_t)n != cl_json_int(m, "count", -1)) {
        fprintf(out, "MISMATCH manifest: count %lld, but %zu entries\n", (long long)cl_json_int(m, "count", -1), n);
        bad++;
    }
    for (size_t i = 0; i < n; i++)
        bad += check_one(dir, json_object_array_get_idx(dumps, i), out);
    json_object_put(m);
    return bad;
}
