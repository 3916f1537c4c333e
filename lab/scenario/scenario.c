/* scenario.c - a scenario file from bytes to a complete, validated cl_scenario.
 * Syntax and structure are checked by ytree.c, value types by yget.c, steps by steps.c;
 * this file knows the top level, guest, expect, timeouts and capture, and the defaults. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario_priv.h"
#include "util/ere.h"
#include "util/fileio.h"

const yt_node *cl_scenario_opt(const yt_node *map, const char *key, const yt_node **keyp)
{
    const yt_node *v = y_map_get(map, key, keyp);
    return v && !y_is_null(v) ? v : NULL;
}

static bool opt_string(const yctx *c, const yt_node *map, const char *key, const char *path, size_t maxlen,
                       unsigned flags, char **out)
{
    const yt_node *v = cl_scenario_opt(map, key, NULL);
    return !v || y_string(c, v, path, maxlen, flags, out);
}

static bool opt_uint(const yctx *c, const yt_node *map, const char *key, const char *path, uint64_t min,
                     uint64_t max, unsigned *out)
{
    const yt_node *v = cl_scenario_opt(map, key, NULL);
    uint64_t x;
    if (!v)
        return true;
    if (!y_uint(c, v, path, min, max, &x))
        return false;
    *out = (unsigned)x;
    return true;
}

static bool opt_seconds(const yctx *c, const yt_node *map, const char *key, const char *path, double *out)
{
    const yt_node *v = cl_scenario_opt(map, key, NULL);
    return !v || y_seconds(c, v, path, out);
}

static bool opt_bool(const yctx *c, const yt_node *map, const char *key, const char *path, bool *out)
{
    const yt_node *v = cl_scenario_opt(map, key, NULL);
    return !v || y_bool(c, v, path, out);
}

/* A field that only means something for the other profile is an error rather than
 * silently ignored: the scenario would not do what its author thinks. */
static bool profile_only(const yctx *c, const yt_node *map, const char *section, const char *key, cl_profile want,
                         cl_profile have)
{
    const yt_node *k = NULL;
    if (want == have || !y_map_get(map, key, &k))
        return true;
    char path[64];
    snprintf(path, sizeof(path), "%s.%s", section, key);
    return y_fail(c, k, path, "only for profile %s (this scenario's profile is %s)", cl_profile_to_string(want),
                  cl_profile_to_string(have));
}

/* Names become parts of result directories and domain names. */
static bool name_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-' || *s == '+'))
            return false;
    return true;
}

static char *name_from_path(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".yaml"))
        n -= 5;
    else if (n > 4 && !strcmp(base + n - 4, ".yml"))
        n -= 4;
    if (n > 64)
        n = 64;
    char *name = n ? strndup(base, n) : strdup("scenario");
    for (char *p = name; p && *p; p++)
        if (!name_ok((char[]){ *p, 0 }))
            *p = '-';
    return name;
}

static bool parse_smbios(const yctx *c, const yt_node *v, cl_smbios *sm)
{
    if (!y_expect_map(c, v, "guest.smbios"))
        return false;
    static const char *const known[] = { "manufacturer", "product", "version", "serial", "family",
                                         "sku", "bios_vendor", "bios_version", NULL };
    char **fields[] = { &sm->manufacturer, &sm->product, &sm->version, &sm->serial, &sm->family,
                        &sm->sku, &sm->bios_vendor, &sm->bios_version };
    if (!y_check_keys(c, v, "guest.smbios", known))
        return false;
    for (size_t i = 0; known[i]; i++) {
        char path[64];
        snprintf(path, sizeof(path), "guest.smbios.%s", known[i]);
        if (!opt_string(c, v, known[i], path, 128, Y_ASCII, fields[i]))
            return false;
    }
    return true;
}

/* guest.hyperv: {relaxed: false, stimer: true, ...}: each key an enlightenment, each value
 * whether the domain asks for it. */
static bool parse_hyperv(const yctx *c, const yt_node *v, cl_scenario *s)
{
    const char *known[CL_HV_LAST + 1];
    for (int f = 0; f < CL_HV_LAST; f++)
        known[f] = cl_hv_feature_to_string((cl_hv_feature)f);
    known[CL_HV_LAST] = NULL;
    if (!y_expect_map(c, v, "guest.hyperv") || !y_check_keys(c, v, "guest.hyperv", known))
        return false;
    for (int f = 0; f < CL_HV_LAST; f++) {
        char path[64];
        snprintf(path, sizeof(path), "guest.hyperv.%s", known[f]);
        const yt_node *b = cl_scenario_opt(v, known[f], NULL);
        bool on;
        if (!b)
            continue;
        if (!y_bool(c, b, path, &on))
            return false;
        s->hv_set |= 1u << f;
        if (on)
            s->hv_on |= 1u << f;
    }
    return true;
}

static bool parse_guest(const yctx *c, const yt_node *key, const yt_node *g, cl_scenario *s)
{
    if (!y_expect_map(c, g, "guest"))
        return false;
    static const char *const known[] = { "profile", "memory_mb", "vcpus", "kernel_args", "image",
                                         "virtio_iso", "firmware", "tpm", "smbios", "hyperv", NULL };
    const yt_node *v;
    int e;
    if (!y_check_keys(c, g, "guest", known) || !y_require(c, g, key, "guest", "profile", &v) ||
        !y_enum(c, v, "guest.profile", cl_profile_names, CL_PROFILE_LAST, &e))
        return false;
    s->profile = (cl_profile)e;
    bool win = s->profile == CL_PROFILE_WINDOWS;

    if (!profile_only(c, g, "guest", "kernel_args", CL_PROFILE_LINUX, s->profile) ||
        !profile_only(c, g, "guest", "image", CL_PROFILE_WINDOWS, s->profile) ||
        !profile_only(c, g, "guest", "virtio_iso", CL_PROFILE_WINDOWS, s->profile) ||
        !profile_only(c, g, "guest", "firmware", CL_PROFILE_WINDOWS, s->profile) ||
        !profile_only(c, g, "guest", "hyperv", CL_PROFILE_WINDOWS, s->profile))
        return false;

    s->memory_mb = win ? 2048 : 256;
    s->vcpus = 1;
    s->firmware = win ? CL_FIRMWARE_UEFI : CL_FIRMWARE_BIOS;   /* Linux boots its kernel directly */
    if (!opt_uint(c, g, "memory_mb", "guest.memory_mb", 64, 65536, &s->memory_mb) ||
        !opt_uint(c, g, "vcpus", "guest.vcpus", 1, 64, &s->vcpus) ||
        !opt_string(c, g, "kernel_args", "guest.kernel_args", 2048, Y_ASCII, &s->kernel_args) ||
        !opt_string(c, g, "virtio_iso", "guest.virtio_iso", CL_SCENARIO_MAX_PATH, Y_NONEMPTY, &s->virtio_iso) ||
        !opt_bool(c, g, "tpm", "guest.tpm", &s->tpm))
        return false;
    if (win) {
        if (!y_require(c, g, key, "guest", "image", &v) ||
            !y_string(c, v, "guest.image", CL_SCENARIO_MAX_PATH, Y_NONEMPTY, &s->image))
            return false;
    }
    if ((v = cl_scenario_opt(g, "firmware", NULL))) {
        if (!y_enum(c, v, "guest.firmware", cl_firmware_names, CL_FIRMWARE_LAST, &e))
            return false;
        s->firmware = (cl_firmware)e;
    }
    if ((v = cl_scenario_opt(g, "smbios", NULL)) && !parse_smbios(c, v, &s->smbios))
        return false;
    if ((v = cl_scenario_opt(g, "hyperv", NULL)) && !parse_hyperv(c, v, s))
        return false;
    return true;
}

static bool parse_timeouts(const yctx *c, const yt_node *t, cl_scenario *s)
{
    s->t_boot = 120;
    s->t_step = 60;
    s->t_observe = 60;
    s->t_run = 600;
    s->t_guest_dump = 600;
    if (!t)
        return true;
    static const char *const known[] = { "boot", "step", "observe", "run", "guest_dump", NULL };
    return y_expect_map(c, t, "timeouts") && y_check_keys(c, t, "timeouts", known) &&
           opt_seconds(c, t, "boot", "timeouts.boot", &s->t_boot) &&
           opt_seconds(c, t, "step", "timeouts.step", &s->t_step) &&
           opt_seconds(c, t, "observe", "timeouts.observe", &s->t_observe) &&
           opt_seconds(c, t, "run", "timeouts.run", &s->t_run) &&
           opt_seconds(c, t, "guest_dump", "timeouts.guest_dump", &s->t_guest_dump);
}

static bool parse_capture(const yctx *c, const yt_node *cap, cl_scenario *s)
{
    bool win = s->profile == CL_PROFILE_WINDOWS;
    s->dump_format = win ? CL_DUMPFMT_WIN_DMP : CL_DUMPFMT_KDUMP_LZO;
    s->screenshot = win;
    s->nmi_on_hang = true;
    s->guest_dump = win;
    s->guest_dump_auto = win;
    if (!cap)
        return true;
    static const char *const known[] = { "dump_format", "screenshot", "nmi_on_hang", "guest_dump", "record", NULL };
    if (!y_expect_map(c, cap, "capture") || !y_check_keys(c, cap, "capture", known) ||
        !opt_bool(c, cap, "screenshot", "capture.screenshot", &s->screenshot) ||
        !opt_bool(c, cap, "nmi_on_hang", "capture.nmi_on_hang", &s->nmi_on_hang) ||
        !opt_bool(c, cap, "record", "capture.record", &s->record))
        return false;
    const yt_node *v = cl_scenario_opt(cap, "guest_dump", NULL);
    if (v && v->type == YT_SCALAR && v->plain && !strcmp(v->text, "auto")) {
        if (!win)
            return y_fail(c, v, "capture.guest_dump", "auto needs profile windows (it follows the image's AutoReboot)");
        s->guest_dump = s->guest_dump_auto = true;
    } else if (v) {
        if (!y_bool(c, v, "capture.guest_dump", &s->guest_dump))
            return false;
        s->guest_dump_auto = false;
    }
    v = cl_scenario_opt(cap, "dump_format", NULL);
    int e;
    if (!v)
        return true;
    if (!y_enum(c, v, "capture.dump_format", cl_dump_format_names, CL_DUMPFMT_LAST, &e))
        return false;
    if (e == CL_DUMPFMT_WIN_DMP && !win)
        return y_fail(c, v, "capture.dump_format", "win-dmp needs profile windows (use kdump-zlib or elf)");
    /* The lab's writer reads a Linux guest's VMCOREINFO and writes kdump, which WinDbg does not read. */
    if (cl_dump_format_is_lab((cl_dump_format)e) && win)
        return y_fail(c, v, "capture.dump_format", "%s needs profile linux (use win-dmp or elf)",
                      cl_dump_format_to_string((cl_dump_format)e));
    s->dump_format = (cl_dump_format)e;
    return true;
}

/* The crash kinds the catalogue can produce on Linux ("none" is not a crash). */
static bool kind_known(const char *kind, char *list, size_t listlen)
{
    size_t n, o = 0;
    const cl_fault *all = cl_fault_all(&n);
    bool found = false;
    list[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *k = all[i].linux_.kind;
        if (!k || !strcmp(k, "none"))
            continue;
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = all[j].linux_.kind && !strcmp(all[j].linux_.kind, k);
        if (dup)
            continue;
        found |= !strcmp(k, kind);
        int w = snprintf(list + o, listlen - o, "%s%s", o ? ", " : "", k);
        if (w > 0 && (size_t)w < listlen - o)
            o += (size_t)w;
    }
    return found;
}

static bool parse_expect(const yctx *c, const yt_node *key, const yt_node *e, cl_scenario *s)
{
    if (!y_expect_map(c, e, "expect"))
        return false;
    static const char *const known[] = { "verdict", "kind", "pattern", "bugcheck", "params", NULL };
    const yt_node *v;
    int idx;
    if (!y_check_keys(c, e, "expect", known) || !y_require(c, e, key, "expect", "verdict", &v) ||
        !y_enum(c, v, "expect.verdict", cl_verdict_names, CL_VERDICT_LAST, &idx))
        return false;
    s->expect_verdict = (cl_verdict)idx;
    if (!profile_only(c, e, "expect", "kind", CL_PROFILE_LINUX, s->profile) ||
        !profile_only(c, e, "expect", "bugcheck", CL_PROFILE_WINDOWS, s->profile) ||
        !profile_only(c, e, "expect", "params", CL_PROFILE_WINDOWS, s->profile))
        return false;

    if ((v = cl_scenario_opt(e, "kind", NULL))) {
        char list[300];
        if (!y_string(c, v, "expect.kind", 64, Y_NONEMPTY | Y_ASCII, &s->expect_kind))
            return false;
        if (!kind_known(s->expect_kind, list, sizeof(list)))
            return y_fail(c, v, "expect.kind", "unknown crash kind '%s' (known: %s)", s->expect_kind, list);
    }
    if ((v = cl_scenario_opt(e, "pattern", NULL))) {
        if (!y_string(c, v, "expect.pattern", CL_ERE_MAX_LEN, Y_NONEMPTY, &s->expect_pattern))
            return false;
        /* Bounded before regcomp: a counted repeat can make it take minutes and gigabytes. */
        char bound[200];
        if (!cl_ere_check(s->expect_pattern, bound, sizeof(bound)))
            return y_fail(c, v, "expect.pattern", "too costly a regular expression: %s", bound);
        regex_t re;
        int rc = regcomp(&re, s->expect_pattern, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char why[200];
            regerror(rc, &re, why, sizeof(why));
            return y_fail(c, v, "expect.pattern", "not a valid POSIX extended regular expression: %s", why);
        }
        regfree(&re);
    }
    if ((v = cl_scenario_opt(e, "bugcheck", NULL))) {
        uint64_t code;
        if (!y_uint(c, v, "expect.bugcheck", 0, 0xffffffffu, &code))
            return false;
        s->expect_bugcheck = (uint32_t)code;
    }
    if ((v = cl_scenario_opt(e, "params", NULL))) {
        if (!y_expect_seq(c, v, "expect.params"))
            return false;
        if (v->n != 4)
            return y_fail(c, v, "expect.params", "expected exactly 4 entries (null for any), got %zu", v->n);
        for (size_t i = 0; i < 4; i++) {
            char path[32];
            snprintf(path, sizeof(path), "expect.params[%zu]", i);
            if (y_is_null(v->items[i]))
                continue;
            if (!y_uint(c, v->items[i], path, 0, UINT64_MAX, &s->expect_params[i]))
                return false;
            s->expect_param_set[i] = true;
        }
    }
    return true;
}

/* What a Windows trigger needs from the rest of the scenario. */
static bool windows_trigger_ok(const yctx *c, const yt_node *root, cl_scenario *s, size_t i)
{
    const cl_step *st = &s->steps[i];
    char path[64];
    snprintf(path, sizeof(path), "steps[%zu].trigger", i);
    if (st->fault->windows.needs & CL_WINNEED_WATCHDOG) {
        const unsigned relaxed = 1u << CL_HV_RELAXED;
        if (s->hv_set & s->hv_on & relaxed) {
            const yt_node *g = y_map_get(root, "guest", NULL), *h = g ? cl_scenario_opt(g, "hyperv", NULL) : NULL;
            const yt_node *r = h ? y_map_get(h, "relaxed", NULL) : NULL;
            return y_fail(c, r ? r : root, "guest.hyperv.relaxed",
                          "%s needs the DPC watchdog, and relaxed timing tells Windows to disable watchdog timeouts: "
                          "leave relaxed off", st->fault->id);
        }
        s->hv_set |= relaxed;
        s->hv_on &= ~relaxed;
    }
    /* A killed hang-irp caller stays a zombie only until the I/O manager gives up on its IRP. */
    if (st->fault->number == LABFAULT_HANG_IRP && st->timeout + s->t_observe >= CL_WIN_IRP_ZOMBIE_SECONDS)
        return yt_error_at(c->errp, c->file, st->line, st->column,
                           "%s: hang-irp: its timeout (%.0f s) and timeouts.observe (%.0f s) add up to %.0f s, but the "
                           "zombie lasts only about %d s (the I/O manager then detaches the IRP and the caller exits): "
                           "keep the sum under %d s",
                           path, st->timeout, s->t_observe, st->timeout + s->t_observe, CL_WIN_IRP_ZOMBIE_SECONDS,
                           CL_WIN_IRP_ZOMBIE_SECONDS);
    return true;
}

static bool parse_root(const yctx *c, const yt_node *root, cl_scenario *s)
{
    if (root->type != YT_MAP) {
        char got[96];
        y_describe(root, got, sizeof(got));
        return y_fail(c, root, NULL, "a scenario is a mapping with guest, steps and expect, got %s", got);
    }
    static const char *const known[] = { "name", "description", "guest", "steps", "expect",
                                         "timeouts", "capture", NULL };
    const yt_node *guest, *kguest = NULL, *ksteps = NULL, *kexpect = NULL, *v;
    if (!y_check_keys(c, root, "the scenario", known) || !y_require(c, root, root, NULL, "guest", &guest))
        return false;
    y_map_get(root, "guest", &kguest);
    /* Missing steps/expect are reported after what is there, so errors come roughly in
     * the order a reader meets them; guest comes first because everything depends on it. */
    const yt_node *steps = y_map_get(root, "steps", &ksteps), *expect = y_map_get(root, "expect", &kexpect);

    if ((v = cl_scenario_opt(root, "name", NULL))) {
        if (!y_string(c, v, "name", 64, Y_NONEMPTY, &s->name))
            return false;
        if (!name_ok(s->name))
            return y_fail(c, v, "name", "only letters, digits and . _ + - are allowed (it names result directories)");
    }
    if (!opt_string(c, root, "description", "description", CL_SCENARIO_MAX_TEXT, Y_MULTILINE, &s->description) ||
        !parse_guest(c, kguest, guest, s) || !parse_timeouts(c, cl_scenario_opt(root, "timeouts", NULL), s) ||
        !parse_capture(c, cl_scenario_opt(root, "capture", NULL), s) ||
        (steps && !cl_scenario_parse_steps(c, ksteps, steps, s)) || (expect && !parse_expect(c, kexpect, expect, s)))
        return false;
    if (!steps || !expect)
        return y_fail(c, root, NULL, "missing required field '%s'", steps ? "expect" : "steps");

    for (size_t i = 0; i < s->nsteps; i++) {
        cl_step *st = &s->steps[i];
        if (st->timeout <= 0)
            st->timeout = s->t_step;
        if (s->profile == CL_PROFILE_LINUX && st->kind == CL_STEP_TRIGGER && st->fault->linux_.min_vcpus > s->vcpus)
            s->vcpus = st->fault->linux_.min_vcpus;
        if (s->profile == CL_PROFILE_WINDOWS && st->kind == CL_STEP_TRIGGER && !windows_trigger_ok(c, root, s, i))
            return false;
    }
    return true;
}

cl_scenario *cl_scenario_parse(const char *name, const char *data, size_t len, cl_error **errp)
{
    if (len > CL_SCENARIO_MAX_BYTES) {
        yt_error_at(errp, name, 1, 1, "file is larger than %u bytes, the limit for a scenario",
                    (unsigned)CL_SCENARIO_MAX_BYTES);
        return NULL;
    }
    CL_AUTOPTR(cl_scenario) s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(name))) {
        cl_error_set(errp, CL_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    cl_sha256_buf(data, len, s->sha256);
    CL_AUTOPTR(yt_node) root = yt_parse(name, data, len, errp);
    if (!root)
        return NULL;
    yctx c = { .file = name, .errp = errp };
    if (!parse_root(&c, root, s))
        return NULL;
    if (!s->name && !(s->name = name_from_path(name))) {
        cl_error_set(errp, CL_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    return cl_steal_pointer(&s);
}

cl_scenario *cl_scenario_load(const char *path, cl_error **errp)
{
    char *data = NULL;
    size_t len = 0;
    cl_error *err = NULL;
    if (!cl_file_read_all(path, CL_SCENARIO_MAX_BYTES, &data, &len, &err)) {
        if (!err)
            cl_error_set(errp, CL_ERR_NOMEM, "%s: out of memory", path);
        else if (err->code == CL_ERR_INVAL)   /* too large, not a regular file: the file is at fault */
            cl_error_set(errp, CL_ERR_INVAL, "%s:1:1: %s", path, err->msg);
        else
            cl_error_set(errp, err->code, "%s", err->msg);
        cl_error_free(err);
        return NULL;
    }
    cl_scenario *s = cl_scenario_parse(path, data, len, errp);
    free(data);
    return s;
}

void cl_scenario_free(cl_scenario *s)
{
    if (!s)
        return;
    free(s->path);
    free(s->name);
    free(s->description);
    free(s->kernel_args);
    free(s->image);
    free(s->virtio_iso);
    char **sm[] = { &s->smbios.manufacturer, &s->smbios.product, &s->smbios.version, &s->smbios.serial,
                    &s->smbios.family, &s->smbios.sku, &s->smbios.bios_vendor, &s->smbios.bios_version };
    for (size_t i = 0; i < sizeof(sm) / sizeof(sm[0]); i++)
        free(*sm[i]);
    for (size_t i = 0; i < s->nsteps && i < CL_SCENARIO_MAX_STEPS; i++) {
        free(s->steps[i].path);
        free(s->steps[i].params_text);
        for (size_t a = 0; a <= CL_SCENARIO_MAX_ARGS; a++)
            free(s->steps[i].argv[a]);
    }
    free(s->expect_kind);
    free(s->expect_pattern);
    free(s);
}
