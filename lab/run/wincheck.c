/* wincheck.c - the Windows image check, STATUS before the NMI, and the dump's own ground
 * truth (wincheck.h). Agent replies are guest data: only known keys of known types are
 * read. */
#include <stdio.h>
#include <string.h>

#include "dump/reader.h"
#include "dump/windows/gtblock.h"
#include "dump/windows/windump.h"
#include "util/fileio.h"
#include "util/json.h"
#include "wincheck.h"

#define LABAGENT_WIN "C:\\crashlab\\labagent.exe"

static json_object *capture_obj(cl_run_ctx *c)
{
    return cl_json_child(c->res, "capture");
}

static bool get_bool(json_object *o, const char *a, const char *b, bool *out)
{
    json_object *x = NULL, *y = NULL;
    if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b, &y) ||
        !json_object_is_type(y, json_type_boolean))
        return false;
    *out = json_object_get_boolean(y);
    return true;
}

static bool rung_available(json_object *check, const char *rung, const char **why)
{
    json_object *rungs = NULL, *r = NULL, *w = NULL;
    bool avail = false;
    *why = "not reported";
    if (json_object_object_get_ex(check, "rungs", &rungs) && json_object_object_get_ex(rungs, rung, &r)) {
        get_bool(rungs, rung, "available", &avail);
        if (json_object_object_get_ex(r, "why", &w) && json_object_is_type(w, json_type_string))
            *why = json_object_get_string(w);
    }
    return avail;
}

bool cl_wincheck_apply(const cl_scenario *s, json_object *check, bool *guest_dump, json_object *warnings, char *why,
                       size_t whylen)
{
    char w[400];
    const char *rwhy;
    bool special_pool = false;
    get_bool(check, "verifier", "special_pool", &special_pool);
    for (size_t i = 0; i < s->nsteps; i++) {
        const cl_step *st = &s->steps[i];
        if (st->kind != CL_STEP_TRIGGER)
            continue;
        if ((st->fault->windows.needs & CL_WINNEED_SPECIAL_POOL) && !special_pool) {
            snprintf(why, whylen,
                     "image precondition: %s needs Driver Verifier special pool for labfault.sys (VerifyDrivers "
                     "labfault.sys and VerifyDriverLevel bit 0x1, or PoolTag 'LabF'); without it the bug check is "
                     "not 0x%X (labagent configure-dump kernel special_pool_tag=LabF, then reboot the image)",
                     st->fault->id, st->fault->windows.bugcheck[0]);
            return false;
        }
        if ((st->fault->windows.needs & CL_WINNEED_NMI_DUMP) && s->nmi_on_hang &&
            !rung_available(check, "nmi", &rwhy) && warnings) {
            snprintf(w, sizeof(w), "image: the NMI on a hang will not give a dump: %s", rwhy);
            json_object_array_add(warnings, json_object_new_string(w));
        }
    }
    bool gd = rung_available(check, "guest-dump", &rwhy);
    if (s->guest_dump_auto)
        *guest_dump = gd;
    else
        *guest_dump = s->guest_dump;
    if (s->guest_dump && !gd && warnings) {
        snprintf(w, sizeof(w), "image: guest-dump rung %s: %s", s->guest_dump_auto ? "not used" : "will wait in vain",
                 rwhy);
        json_object_array_add(warnings, json_object_new_string(w));
    }
    if (s->dump_format == CL_DUMPFMT_WIN_DMP && !rung_available(check, "win-dmp", &rwhy) && warnings) {
        snprintf(w, sizeof(w), "image: win-dmp unavailable: %s", rwhy);
        json_object_array_add(warnings, json_object_new_string(w));
    }
    return true;
}

static json_object *agent_json(cl_run_ctx *c, const char *cmd, double seconds)
{
    char *argv[] = { LABAGENT_WIN, (char *)cmd, NULL };
    cl_agent_exec_status st = { 0 };
    CL_AUTOPTR(cl_error) err = NULL;
    double d = cl_now() + seconds;
    if (!cl_agent_exec(c->dom, argv, d < c->deadline ? d : c->deadline, &st, &err))
        return NULL;
    json_object *o = NULL, *ok = NULL;
    if (st.out && st.outlen && st.exitcode == 0) {
        json_tokener *tok = json_tokener_new_ex(16);
        o = json_tokener_parse_ex(tok, st.out, (int)st.outlen);
        json_tokener_free(tok);
    }
    cl_agent_exec_status_clear(&st);
    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "ok", &ok) ||
        !json_object_get_boolean(ok)) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

bool cl_run_windows_check(cl_run_ctx *c)
{
    json_object *check = agent_json(c, "check", c->s->t_step);
    if (!check) {
        json_object_array_add(c->warnings, json_object_new_string(
            "image: labagent check gave no answer (an older labagent.exe?): the guest-dump rung is not used"));
        if (c->s->guest_dump_auto)
            c->s->guest_dump = false;
        return true;
    }
    json_object_object_add(c->res, "image_check", check);
    bool gd = c->s->guest_dump;
    if (!cl_wincheck_apply(c->s, check, &gd, c->warnings, c->reason, sizeof(c->reason))) {
        c->obs.infra = true;
        return false;
    }
    if (gd != c->s->guest_dump || c->s->guest_dump_auto)
        cl_run_ladder(c, "rung-choice", gd ? "guest-dump: the image reboots after a crash (AutoReboot=1)"
                                          : "hypervisor dump: the image does not reboot after a crash (AutoReboot=0)");
    c->s->guest_dump = gd;
    return true;
}

void cl_run_windows_status(cl_run_ctx *c)
{
    json_object *st = agent_json(c, "status", 10);
    json_object *gt = NULL;
    if (!st || !json_object_object_get_ex(st, "ground_truth", &gt) || !json_object_is_type(gt, json_type_object)) {
        cl_run_ladder(c, "status", "no answer from STATUS");
        json_object_put(st);
        return;
    }
    json_object_object_add(capture_obj(c), "status", json_object_get(gt));
    cl_run_ladder(c, "status", "the driver's ground truth at FIRE, asked before the NMI");
    json_object_put(st);
}

void cl_run_windows_dump_truth(cl_run_ctx *c)
{
    CL_AUTOPTR(cl_reader) r = cl_reader_open_file(c->dump_path, NULL);
    if (!r)
        return;
    CL_AUTOPTR(cl_windump) d = cl_windump_open(r, NULL);
    cl_gtblock g;
    if (!d || d->dump_type == 4 || !cl_gtblock_find(d, &g)) {
        cl_run_ladder(c, "dump-ground-truth", "no labfault ground-truth block in the dump");
        return;
    }
    json_object_object_add(capture_obj(c), "dump_ground_truth", cl_gtblock_json(&g));
    cl_run_ladder(c, "dump-ground-truth", "labfault's ground-truth block found in the dump");
}
