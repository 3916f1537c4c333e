/* wincheck_test.c - what a `labagent check` answer means for a scenario: the special-pool
 * precondition refuses the pool faults, AutoReboot picks the capture rung (auto), and each
 * unavailable rung becomes a warning. Replies are the agent's real JSON shape. */
#include <string.h>

#include "check.h"
#include "run/wincheck.h"
#include "scenario/scenario.h"

static const char *reply(bool special_pool, bool guest_dump, bool windmp, bool nmi)
{
    static char buf[1024];
    snprintf(buf, sizeof(buf),
             "{\"ok\":true,\"command\":\"check\",\"verifier\":{\"special_pool\":%s},"
             "\"rungs\":{\"hypervisor-record\":{\"available\":true},"
             "\"guest-dump\":{\"available\":%s%s},\"win-dmp\":{\"available\":%s%s},\"nmi\":{\"available\":%s%s}}}",
             special_pool ? "true" : "false", guest_dump ? "true" : "false",
             guest_dump ? "" : ",\"why\":\"AutoReboot=0: stays at the blue screen\"", windmp ? "true" : "false",
             windmp ? "" : ",\"why\":\"the virtio-win fwcfg driver is not installed\"", nmi ? "true" : "false",
             nmi ? "" : ",\"why\":\"NMICrashDump is not 1\"");
    return buf;
}

static cl_scenario *load(const char *steps, const char *capture)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "guest: {profile: windows, image: w.qcow2}\nsteps:\n  - install: build/windows/labfault.sys\n%s"
             "expect: {verdict: expected-crash}\n%s",
             steps, capture);
    cl_error *err = NULL;
    cl_scenario *s = cl_scenario_parse("t.yaml", text, strlen(text), &err);
    cl_error_free(err);
    return s;
}

static void test_special_pool_precondition(void)
{
    cl_scenario *s = load("  - trigger: pool-overrun\n", "");
    json_object *w = json_object_new_array(), *r = json_tokener_parse(reply(false, true, true, true));
    char why[600] = "";
    bool gd = false;
    CHECK(s && !cl_wincheck_apply(s, r, &gd, w, why, sizeof(why)));
    CHECK(strstr(why, "pool-overrun needs Driver Verifier special pool") && strstr(why, "0xD6"));
    json_object_put(r);
    r = json_tokener_parse(reply(true, true, true, true));
    CHECK(cl_wincheck_apply(s, r, &gd, w, why, sizeof(why)) && gd);
    CHECK(json_object_array_length(w) == 0);
    json_object_put(r);
    json_object_put(w);
    cl_scenario_free(s);
}

static void test_rung_from_autoreboot(void)
{
    cl_scenario *s = load("  - trigger: null-deref\n", "");
    json_object *w = json_object_new_array(), *r = json_tokener_parse(reply(false, false, false, false));
    char why[600];
    bool gd = true;
    CHECK(s && cl_wincheck_apply(s, r, &gd, w, why, sizeof(why)) && !gd);   /* auto: AutoReboot=0 */
    /* two warnings: guest-dump not used, win-dmp unavailable (the default format) */
    CHECK(json_object_array_length(w) == 2);
    CHECK(strstr(json_object_get_string(json_object_array_get_idx(w, 0)), "not used: AutoReboot=0"));
    CHECK(strstr(json_object_get_string(json_object_array_get_idx(w, 1)), "fwcfg"));
    json_object_put(w);
    cl_scenario_free(s);
    /* Forced on by the scenario: kept, with the warning that it waits in vain. */
    s = load("  - trigger: null-deref\n", "capture: {guest_dump: true, dump_format: elf}\n");
    w = json_object_new_array();
    CHECK(s && cl_wincheck_apply(s, r, &gd, w, why, sizeof(why)) && gd);
    CHECK(json_object_array_length(w) == 1 && strstr(json_object_get_string(json_object_array_get_idx(w, 0)), "in vain"));
    json_object_put(w);
    cl_scenario_free(s);
    /* A hang whose NMI cannot give a dump says so. */
    s = load("  - trigger: {fault: hang-irp, timeout: 30}\n", "timeouts: {observe: 30}\ncapture: {guest_dump: false, dump_format: elf}\n");
    w = json_object_new_array();
    CHECK(s && cl_wincheck_apply(s, r, &gd, w, why, sizeof(why)) && !gd);
    CHECK(json_object_array_length(w) == 1 && strstr(json_object_get_string(json_object_array_get_idx(w, 0)), "NMICrashDump"));
    json_object_put(w);
    json_object_put(r);
    cl_scenario_free(s);
}

int main(void)
{
    RUN_TEST(test_special_pool_precondition);
    RUN_TEST(test_rung_from_autoreboot);
    TEST_EXIT();
}
