/* matrix.c - matrix expansion. The YAML is read with lab/scenario's bounded tree reader
 * (no aliases, capped depth and node count), since a matrix file is user input too. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matrix.h"
#include "scenario/scenario.h"
#include "scenario/ytree.h"
#include "util/fileio.h"

typedef struct {
    const char *name;     /* label; NULL: the scenario's own */
    const char *value;    /* path or format; NULL: not set */
} axis_item;

typedef struct {
    axis_item v[CL_MATRIX_MAX_AXIS];
    size_t n;
} axis;

static const yt_node *map_get(const yt_node *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->items[2 * i]->text, key))
            return m->items[2 * i + 1];
    return NULL;
}

static bool fail(cl_error **errp, const char *file, const yt_node *n, const char *msg)
{
    return yt_error_at(errp, file, n->line, n->col, "%s", msg);
}

/* A sequence of scalars (scenarios, dump_formats, accels). */
static bool read_list(const char *file, const yt_node *n, const char *what, axis *a, cl_error **errp)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "%s: expected a list of strings", what);
    if (n->type != YT_SEQ || !n->n)
        return fail(errp, file, n, msg);
    if (n->n > CL_MATRIX_MAX_AXIS)
        return fail(errp, file, n, "too many entries (at most 256)");
    for (size_t i = 0; i < n->n; i++) {
        const yt_node *it = n->items[i];
        if (it->type != YT_SCALAR || !it->len)
            return fail(errp, file, it, msg);
        a->v[a->n++] = (axis_item){ it->text, it->text };
    }
    return true;
}

/* A sequence of {name, KEY} mappings (profiles: guest, drivers: path). */
static bool read_named(const char *file, const yt_node *n, const char *what, const char *key, axis *a, cl_error **errp)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "%s: expected a list of {name: ..., %s: ...}", what, key);
    if (n->type != YT_SEQ || !n->n)
        return fail(errp, file, n, msg);
    if (n->n > CL_MATRIX_MAX_AXIS)
        return fail(errp, file, n, "too many entries (at most 256)");
    for (size_t i = 0; i < n->n; i++) {
        const yt_node *it = n->items[i];
        if (it->type != YT_MAP)
            return fail(errp, file, it, msg);
        const yt_node *nm = map_get(it, "name"), *val = map_get(it, key);
        if (!nm || nm->type != YT_SCALAR || !nm->len || !val || val->type != YT_SCALAR || !val->len || it->n != 2)
            return fail(errp, file, it, msg);
        for (size_t k = 0; k < a->n; k++)
            if (!strcmp(a->v[k].name, nm->text))
                return fail(errp, file, nm, "this name is used twice");
        a->v[a->n++] = (axis_item){ nm->text, val->text };
    }
    return true;
}

static void add_label(json_object *labels, const char *k, const char *v)
{
    json_object_object_add(labels, k, json_object_new_string(v ? v : "default"));
}

static bool check_keys(const char *name, const yt_node *root, cl_error **errp)
{
    if (root->type != YT_MAP)
        return fail(errp, name, root, "a matrix is a mapping (name, scenarios, profiles, drivers, dump_formats, accels)");
    static const char *const known[] = { "name", "priority", "scenarios", "profiles", "drivers", "dump_formats", "accels", "starts", NULL };
    for (size_t i = 0; i < root->n; i++) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = !strcmp(root->items[2 * i]->text, *k);
        if (!ok) {
            char msg[160];
            snprintf(msg, sizeof(msg), "unknown key '%.60s' (name, priority, scenarios, profiles, drivers, dump_formats, accels, starts)",
                     root->items[2 * i]->text);
            return fail(errp, name, root->items[2 * i], msg);
        }
    }
    return true;
}

/* The axes of a matrix; an axis that is not given has one unnamed item (the default). */
typedef struct {
    axis scen, prof, drv, dump, acc, start;
    bool with_start;          /* only a given `starts` grows the key a sixth part */
} axes;

static bool check_values(const char *name, const axes *x, cl_error **errp)
{
    for (size_t i = 0; i < x->start.n; i++)
        if (strcmp(x->start.v[i].value, "cold") && strcmp(x->start.v[i].value, "warm"))
            return cl_error_set(errp, CL_ERR_INVAL, "%s: start '%s' is not one of cold, warm", name, x->start.v[i].value);
    for (size_t i = 0; i < x->dump.n; i++) {
        bool ok = false;
        for (int f = 0; f < CL_DUMPFMT_LAST && !ok; f++)
            ok = !strcmp(x->dump.v[i].value, cl_dump_format_to_string((cl_dump_format)f));
        char names[128];
        if (!ok)
            return cl_error_set(errp, CL_ERR_INVAL, "%s: dump format '%s' is not one of %s", name, x->dump.v[i].value,
                                cl_dump_format_list(names, sizeof(names)));
    }
    static const char *const accels[] = { "auto", "kvm", "tcg", NULL };
    for (size_t i = 0; i < x->acc.n; i++) {
        bool ok = false;
        for (const char *const *k = accels; *k && !ok; k++)
            ok = !strcmp(x->acc.v[i].value, *k);
        if (!ok)
            return cl_error_set(errp, CL_ERR_INVAL, "%s: accelerator '%s' is not one of auto, kvm, tcg", name, x->acc.v[i].value);
    }
    return true;
}

static bool read_axes(const char *name, const yt_node *root, axes *x, cl_error **errp)
{
    memset(x, 0, sizeof(*x));
    const yt_node *n;
    if (!(n = map_get(root, "scenarios")))
        return fail(errp, name, root, "a matrix needs 'scenarios'");
    if (!read_list(name, n, "scenarios", &x->scen, errp))
        return false;
    if ((n = map_get(root, "profiles")) && !read_named(name, n, "profiles", "guest", &x->prof, errp))
        return false;
    if ((n = map_get(root, "drivers")) && !read_named(name, n, "drivers", "path", &x->drv, errp))
        return false;
    if ((n = map_get(root, "dump_formats")) && !read_list(name, n, "dump_formats", &x->dump, errp))
        return false;
    if ((n = map_get(root, "accels")) && !read_list(name, n, "accels", &x->acc, errp))
        return false;
    /* Optional: cold boot against restore from a saved guest (crashlab run --cold/--warm). */
    if ((n = map_get(root, "starts"))) {
        if (!read_list(name, n, "starts", &x->start, errp))
            return false;
        x->with_start = true;
    }
    if (!check_values(name, x, errp))
        return false;
    axis *ax[] = { &x->prof, &x->drv, &x->dump, &x->acc, &x->start };
    for (size_t i = 0; i < 5; i++)
        if (!ax[i]->n)
            ax[i]->v[ax[i]->n++] = (axis_item){ NULL, NULL };
    return true;
}

/* The batch: the matrix's `name`, else its file name without directory and extension. */
static void batch_name(const char *name, const yt_node *root, char *batch, size_t len)
{
    const yt_node *bn = map_get(root, "name");
    if (bn && bn->type == YT_SCALAR && bn->len) {
        snprintf(batch, len, "%s", bn->text);
        return;
    }
    const char *b = strrchr(name, '/');
    snprintf(batch, len, "%s", b ? b + 1 : name);
    char *dot = strrchr(batch, '.');
    if (dot)
        *dot = '\0';
}

/* One job: the scenario at abs (named sname) with item p, d, f, a, w of the axes. */
static json_object *job_spec(const axes *x, const char *abs, const char *sname, const char *batch, long priority, size_t p,
                             size_t d, size_t f, size_t a, size_t w)
{
    json_object *spec = json_object_new_object(), *o = json_object_new_object(), *labels = json_object_new_object();
    json_object_object_add(spec, "scenario", json_object_new_string(abs));
    json_object_object_add(spec, "batch", json_object_new_string(batch));
    json_object_object_add(spec, "priority", json_object_new_int((int)priority));
    const axis_item *pi = &x->prof.v[p], *di = &x->drv.v[d], *fi = &x->dump.v[f], *ai = &x->acc.v[a], *wi = &x->start.v[w];
    char g[PATH_MAX];
    if (pi->value)
        json_object_object_add(o, "guest", json_object_new_string(realpath(pi->value, g) ? g : pi->value));
    if (di->value)
        json_object_object_add(o, "driver", json_object_new_string(realpath(di->value, g) ? g : di->value));
    if (fi->value)
        json_object_object_add(o, "dump_format", json_object_new_string(fi->value));
    if (ai->value)
        json_object_object_add(o, "accel", json_object_new_string(ai->value));
    add_label(labels, "matrix", batch);
    add_label(labels, "scenario", sname);
    add_label(labels, "profile", pi->name);
    add_label(labels, "driver", di->name);
    add_label(labels, "dump_format", fi->name);
    add_label(labels, "accel", ai->name);
    if (x->with_start) {
        add_label(labels, "start", wi->name);
        json_object_object_add(o, "warm", json_object_new_boolean(!strcmp(wi->value, "warm")));
    }
    char key[1024];
    snprintf(key, sizeof(key), "%s/%s/%s/%s/%s%s%s", sname, pi->name ? pi->name : "default", di->name ? di->name : "default",
             fi->name ? fi->name : "default", ai->name ? ai->name : "default", x->with_start ? "/" : "",
             x->with_start ? wi->name : "");
    json_object_object_add(o, "labels", labels);
    json_object_object_add(o, "key", json_object_new_string(key));
    json_object_object_add(spec, "options", o);
    return spec;
}

bool cl_matrix_expand_text(const char *name, const char *text, size_t len, json_object *jobs, cl_error **errp)
{
    CL_AUTOPTR(yt_node) root = yt_parse(name, text, len, errp);
    if (!root)
        return false;
    static axes x;
    if (!check_keys(name, root, errp) || !read_axes(name, root, &x, errp))
        return false;
    size_t total = x.scen.n * x.prof.n * x.drv.n * x.dump.n * x.acc.n * x.start.n;
    if (total + json_object_array_length(jobs) > CL_MATRIX_MAX_JOBS)
        return cl_error_set(errp, CL_ERR_INVAL, "%s: %zu jobs; at most %d", name, total, CL_MATRIX_MAX_JOBS);
    char batch[128];
    batch_name(name, root, batch, sizeof(batch));
    long priority = 0;
    const yt_node *pn = map_get(root, "priority");
    if (pn) {
        char *end;
        priority = pn->type == YT_SCALAR ? strtol(pn->text, &end, 10) : 0;
        if (pn->type != YT_SCALAR || *end || !pn->len || priority < -1000000 || priority > 1000000)
            return fail(errp, name, pn, "priority: expected an integer");
    }
    for (size_t s = 0; s < x.scen.n; s++) {
        char abs[PATH_MAX];
        if (!realpath(x.scen.v[s].value, abs))
            return cl_error_set_errno(errp, CL_ERR_INVAL, errno, "%s: scenario '%s'", name, x.scen.v[s].value);
        char sname[256];
        snprintf(sname, sizeof(sname), "%s", strrchr(abs, '/') + 1);
        char *dot = strrchr(sname, '.');
        if (dot)
            *dot = '\0';
        for (size_t p = 0; p < x.prof.n; p++)
            for (size_t d = 0; d < x.drv.n; d++)
                for (size_t f = 0; f < x.dump.n; f++)
                    for (size_t a = 0; a < x.acc.n; a++)
                        for (size_t w = 0; w < x.start.n; w++)
                            json_object_array_add(jobs, job_spec(&x, abs, sname, batch, priority, p, d, f, a, w));
    }
    return true;
}

bool cl_matrix_expand(const char *path, json_object *jobs, cl_error **errp)
{
    CL_AUTOFREE char *text = NULL;
    size_t len = 0;
    if (!cl_file_read_all(path, 1u << 20, &text, &len, errp))
        return false;
    return cl_matrix_expand_text(path, text, len, jobs, errp);
}
