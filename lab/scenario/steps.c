/* steps.c - the "steps:" list of a scenario: install, remove, trigger, wait, exec, nmi. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario_priv.h"
#include "util/buf.h"

typedef struct {
    const yctx *c;
    cl_scenario *s;
    cl_step *st;
    char path[32];   /* "steps[3]" */
} step_ctx;

static bool step_timeout(step_ctx *x, const yt_node *map, const char *sub)
{
    const yt_node *v = cl_scenario_opt(map, "timeout", NULL);
    if (!v)
        return true;
    char path[128];
    snprintf(path, sizeof(path), "%s.%s.timeout", x->path, sub);
    return y_seconds(x->c, v, path, &x->st->timeout);
}

static bool parse_install(step_ctx *x, const yt_node *v)
{
    char path[128];
    snprintf(path, sizeof(path), "%s.install", x->path);
    const yt_node *p = v;
    if (v->type == YT_MAP) {
        static const char *const known[] = { "path", "timeout", NULL };
        if (!y_check_keys(x->c, v, path, known) || !y_require(x->c, v, v, path, "path", &p) ||
            !step_timeout(x, v, "install"))
            return false;
        snprintf(path, sizeof(path), "%s.install.path", x->path);
    }
    return y_string(x->c, p, path, CL_SCENARIO_MAX_PATH, Y_NONEMPTY, &x->st->path);
}

static bool parse_remove(step_ctx *x, const yt_node *v)
{
    char path[128];
    snprintf(path, sizeof(path), "%s.remove", x->path);
    if (v->type == YT_SEQ)
        return y_expect_map(x->c, v, path);
    if (v->type != YT_MAP)
        return true;   /* "remove: labfault": the name is for the reader */
    static const char *const known[] = { "timeout", NULL };
    return y_check_keys(x->c, v, path, known) && step_timeout(x, v, "remove");
}

static bool unknown_fault(step_ctx *x, const yt_node *n, const char *path)
{
    size_t nf;
    const cl_fault *all = cl_fault_all(&nf);
    const char *ids[LABFAULT_LAST] = { NULL };
    char list[600];
    size_t o = 0;
    list[0] = '\0';
    for (size_t i = 0; i < nf && i + 1 < LABFAULT_LAST; i++) {
        ids[i] = all[i].id;
        ids[i + 1] = NULL;
        int w = snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", all[i].id);
        if (w < 0 || (size_t)w >= sizeof(list) - o)
            break;
        o += (size_t)w;
    }
    char got[96];
    y_describe(n, got, sizeof(got));
    const char *hint = n->type == YT_SCALAR ? y_suggest(n->text, ids) : NULL;
    if (hint)
        return y_fail(x->c, n, path, "unknown fault %s (did you mean '%s'? known: %s)", got, hint, list);
    return y_fail(x->c, n, path, "unknown fault %s (known: %s)", got, list);
}

/* "k=v k=v" in the order written. A value with blanks, quotes, '=' or a backslash (or an
 * empty one) is double-quoted with \" and \\ escaped, so the text splits back unambiguously. */
static void params_text_add(cl_buf *b, const char *k, const char *v)
{
    if (b->len)
        cl_buf_add(b, " ", 1);
    cl_buf_addf(b, "%s=", k);
    bool quote = !*v || strpbrk(v, " \t\"'\\=") != NULL;
    if (!quote) {
        cl_buf_adds(b, v);
        return;
    }
    cl_buf_add(b, "\"", 1);
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            cl_buf_add(b, "\\", 1);
        cl_buf_add(b, p, 1);
    }
    cl_buf_add(b, "\"", 1);
}

/* The limits only a real Windows has (the DPC time limit, special pool's page); reported at
 * the parameter when the scenario wrote it, else at the fault id (a default is at fault). */
static bool windows_limits(step_ctx *x, const yt_node *v, const yt_node *id)
{
    const char *param = NULL;
    char why[512], path[128];
    if (x->s->profile != CL_PROFILE_WINDOWS ||
        cl_fault_windows_check(x->st->fault, &x->st->request, &param, why, sizeof(why)))
        return true;
    const yt_node *at = v->type == YT_MAP ? y_map_get(v, param, NULL) : NULL;
    snprintf(path, sizeof(path), "%s.trigger.%s", x->path, param);
    return y_fail(x->c, at ? at : id, path, "%s", why);
}

static bool parse_trigger(step_ctx *x, const yt_node *v)
{
    char path[128];
    snprintf(path, sizeof(path), "%s.trigger", x->path);
    const yt_node *id = v;
    if (v->type == YT_MAP && !y_require(x->c, v, v, path, "fault", &id))
        return false;
    if (id != v)
        snprintf(path, sizeof(path), "%s.trigger.fault", x->path);
    if (id->type != YT_SCALAR || y_is_null(id)) {
        char got[96];
        y_describe(id, got, sizeof(got));
        return y_fail(x->c, id, path, "expected a fault id, got %s", got);
    }
    const cl_fault *f = cl_fault_lookup(id->text);
    if (!f)
        return unknown_fault(x, id, path);
    x->st->fault = f;
    cl_fault_request_init(f, &x->st->request);
    if (v->type != YT_MAP)
        return windows_limits(x, v, id);

    cl_buf text = { 0 };
    for (size_t i = 0; i < v->n; i++) {
        const yt_node *k = v->items[2 * i], *val = v->items[2 * i + 1];
        if (!strcmp(k->text, "fault"))
            continue;
        if (!strcmp(k->text, "timeout")) {
            snprintf(path, sizeof(path), "%s.trigger.timeout", x->path);
            if (!y_seconds(x->c, val, path, &x->st->timeout))
                goto fail;
            continue;
        }
        char why[512];
        snprintf(path, sizeof(path), "%s.trigger", x->path);
        if (!cl_fault_param(f, k->text)) {
            cl_fault_param_set(f, k->text, "", &x->st->request, why, sizeof(why));
            y_fail(x->c, k, path, "%s; besides parameters a trigger takes fault and timeout", why);
            goto fail;
        }
        snprintf(path, sizeof(path), "%s.trigger.%.40s", x->path, k->text);
        const char *s = y_scalar_text(x->c, val, path);
        if (!s)
            goto fail;
        char num[24];
        uint64_t u;
        if (cl_fault_param(f, k->text)->type == CL_FPARAM_UINT && val->plain && y_parse_uint(s, &u) == 0 &&
            strncmp(s, "0x", 2) && strncmp(s, "0X", 2) && !(s[0] >= '1' && s[0] <= '9') && strcmp(s, "0")) {
            /* 0o17, 010 and +5 mean what YAML says (15, 10, 5), not what strtoull would. */
            snprintf(num, sizeof(num), "%llu", (unsigned long long)u);
            s = num;
        }
        if (cl_fault_param(f, k->text)->type == CL_FPARAM_BOOL && val->plain) {
            /* True/TRUE are YAML booleans too; the catalogue only knows true/false/1/0. */
            if (!strcmp(s, "True") || !strcmp(s, "TRUE"))
                s = "true";
            else if (!strcmp(s, "False") || !strcmp(s, "FALSE"))
                s = "false";
        }
        if (!cl_fault_param_set(f, k->text, s, &x->st->request, why, sizeof(why))) {
            y_fail(x->c, val, path, "%s", why);
            goto fail;
        }
        params_text_add(&text, k->text, s);
    }
    if (text.len) {
        x->st->params_text = cl_buf_finish(&text, x->c->errp);
        if (!x->st->params_text)
            return false;
        return windows_limits(x, v, id);
    }
    cl_buf_reset(&text);
    return windows_limits(x, v, id);
fail:
    cl_buf_reset(&text);
    return false;
}

static bool parse_wait(step_ctx *x, const yt_node *v)
{
    char path[128];
    snprintf(path, sizeof(path), "%s.wait", x->path);
    const yt_node *sec = v;
    if (v->type == YT_MAP) {
        static const char *const known[] = { "seconds", NULL };
        if (!y_check_keys(x->c, v, path, known) || !y_require(x->c, v, v, path, "seconds", &sec))
            return false;
        snprintf(path, sizeof(path), "%s.wait.seconds", x->path);
    }
    return y_seconds(x->c, sec, path, &x->st->seconds);
}

static bool set_shell(step_ctx *x, const yt_node *cmd, const char *path)
{
    char *text = NULL;
    if (!y_string(x->c, cmd, path, CL_SCENARIO_MAX_TEXT, Y_NONEMPTY | Y_MULTILINE, &text))
        return false;
    bool win = x->s->profile == CL_PROFILE_WINDOWS;
    x->st->argv[0] = strdup(win ? "cmd.exe" : "/bin/sh");
    x->st->argv[1] = strdup(win ? "/c" : "-c");
    x->st->argv[2] = text;
    if (!x->st->argv[0] || !x->st->argv[1])
        return cl_error_set(x->c->errp, CL_ERR_NOMEM, "%s: out of memory", x->c->file);
    return true;
}

static bool parse_exec(step_ctx *x, const yt_node *v)
{
    char path[128];
    snprintf(path, sizeof(path), "%s.exec", x->path);
    x->st->expect_exit = 0;
    if (v->type != YT_MAP)
        return set_shell(x, v, path);

    static const char *const known[] = { "argv", "cmd", "expect_exit", "timeout", NULL };
    if (!y_check_keys(x->c, v, path, known) || !step_timeout(x, v, "exec"))
        return false;
    const yt_node *kargv = NULL, *kcmd = NULL;
    const yt_node *argv = y_map_get(v, "argv", &kargv), *cmd = y_map_get(v, "cmd", &kcmd);
    if (argv && cmd)
        return y_fail(x->c, kargv->line > kcmd->line ? kargv : kcmd, path, "give either argv or cmd, not both");
    if (!argv && !cmd)
        return y_fail(x->c, v, path, "missing required field 'argv' or 'cmd'");

    const yt_node *ee = y_map_get(v, "expect_exit", NULL);
    if (ee && (y_is_null(ee) || (ee->type == YT_SCALAR && !strcmp(ee->text, "any")))) {
        x->st->expect_exit = -1;
    } else if (ee) {
        uint64_t code;
        snprintf(path, sizeof(path), "%s.exec.expect_exit", x->path);
        if (!y_uint(x->c, ee, path, 0, 255, &code))
            return false;
        x->st->expect_exit = (int)code;
    }

    if (cmd) {
        snprintf(path, sizeof(path), "%s.exec.cmd", x->path);
        return set_shell(x, cmd, path);
    }
    snprintf(path, sizeof(path), "%s.exec.argv", x->path);
    if (!y_expect_seq(x->c, argv, path))
        return false;
    if (argv->n == 0)
        return y_fail(x->c, argv, path, "must hold at least the program to run");
    if (argv->n > CL_SCENARIO_MAX_ARGS)
        return y_fail(x->c, argv->items[CL_SCENARIO_MAX_ARGS], path, "more than %d arguments", CL_SCENARIO_MAX_ARGS);
    for (size_t i = 0; i < argv->n; i++) {
        snprintf(path, sizeof(path), "%s.exec.argv[%zu]", x->path, i);
        if (!y_string(x->c, argv->items[i], path, CL_SCENARIO_MAX_TEXT, (i == 0 ? Y_NONEMPTY : 0u) | Y_MULTILINE,
                      &x->st->argv[i]))
            return false;
    }
    return true;
}

static bool parse_nmi(step_ctx *x, const yt_node *v)
{
    char path[128];
    snprintf(path, sizeof(path), "%s.nmi", x->path);
    bool on = false;
    if (!y_bool(x->c, v, path, &on))
        return false;
    if (!on)
        return y_fail(x->c, v, path, "must be true (leave the step out instead)");
    return true;
}

static bool parse_step(step_ctx *x, const yt_node *n)
{
    const yctx *c = x->c;
    if (!y_expect_map(c, n, x->path))
        return false;
    static const char *const kinds[] = { "install", "remove", "trigger", "wait", "exec", "nmi", NULL };
    if (n->n == 0)
        return y_fail(c, n, x->path, "empty step: expected one of install, remove, trigger, wait, exec, nmi");
    if (!y_check_keys(c, n, x->path, kinds))
        return false;
    if (n->n > 1)
        return y_fail(c, n->items[2], x->path, "a step does exactly one thing, got '%s' and '%s' (write two steps)",
                      n->items[0]->text, n->items[2]->text);
    const yt_node *k = n->items[0], *v = n->items[1];
    x->st->line = n->line;
    x->st->column = n->col;
    for (int i = 0; i < CL_STEP_LAST; i++)
        if (!strcmp(k->text, cl_step_kind_names[i]))
            x->st->kind = (cl_step_kind)i;
    if (y_is_null(v) && x->st->kind != CL_STEP_REMOVE) {
        char path[128];
        snprintf(path, sizeof(path), "%s.%s", x->path, k->text);
        return y_fail(c, k, path, "needs a value");
    }
    switch (x->st->kind) {
    case CL_STEP_INSTALL: return parse_install(x, v);
    case CL_STEP_REMOVE: return parse_remove(x, v);
    case CL_STEP_TRIGGER: return parse_trigger(x, v);
    case CL_STEP_WAIT: return parse_wait(x, v);
    case CL_STEP_EXEC: return parse_exec(x, v);
    case CL_STEP_NMI: return parse_nmi(x, v);
    case CL_STEP_LAST: break;
    }
    return false;
}

bool cl_scenario_parse_steps(const yctx *c, const yt_node *key, const yt_node *seq, cl_scenario *s)
{
    if (!y_expect_seq(c, seq, "steps"))
        return false;
    if (seq->n == 0)
        return y_fail(c, key, "steps", "needs at least one step");
    if (seq->n > CL_SCENARIO_MAX_STEPS)
        return y_fail(c, seq->items[CL_SCENARIO_MAX_STEPS], "steps", "more than %d steps", CL_SCENARIO_MAX_STEPS);
    for (size_t i = 0; i < seq->n; i++) {
        step_ctx x = { .c = c, .s = s, .st = &s->steps[i] };
        snprintf(x.path, sizeof(x.path), "steps[%zu]", i);
        s->nsteps = i + 1;   /* so that cl_scenario_free frees a half-parsed step */
        if (!parse_step(&x, seq->items[i]))
            return false;
    }
    return true;
}
