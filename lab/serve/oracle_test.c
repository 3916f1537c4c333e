/* oracle_test.c - the comparison of an oracle's reading with a corpus entry (oracle.h):
 * what passes, what fails and names its label, what is skipped; value normalization,
 * template expansion, and a real oracle process (sh) with a timeout and bad output. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "oracle.h"
#include "util/fileio.h"
#include "util/json.h"

static json_object *J(const char *s)
{
    json_object *o = json_tokener_parse(s);
    if (!o)
        printf("# bad test JSON: %s\n", s);
    return o;
}

static const cl_oracle_case *find(const cl_oracle_cases *c, const char *label)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->v[i].label, label))
            return &c->v[i];
    return NULL;
}

static const char *ENTRY =
    "{\"file\":\"dumps/hang-irp-1.kdump\",\"fault\":\"hang-irp\",\"os_release\":\"6.1.0-57-amd64\","
    "\"panic_message\":\"hung_task: blocked tasks\",\"crash_function\":\"lf_fire\","
    "\"ground_truth\":{\"fault\":\"hang-irp\",\"state\":\"fired\",\"source\":\"dump-log\",\"task\":\"0xffff8ce941b58000\","
    "\"pid\":119,\"cpu\":0,\"comm\":\"labagent\",\"wait_object\":\"0xffffffffc055d080\",\"timeout_ms\":\"0x0\"},"
    "\"oracle_expect\":{\"task_state\":\"D\",\"wait_object_waiter\":\"0xffff8ce941b58000\"}}";

static void test_agree(void)
{
    json_object *e = J(ENTRY);
    json_object *r = J("{\"oracle\":\"t\",\"opened\":true,\"os_release\":\"6.1.0-57-amd64\",\"panic\":\"hung_task: blocked tasks\\n\","
                       "\"stack_functions\":[\"schedule\",\"lf_fire.cold+0x1/0x2\"],"
                       "\"labels\":{\"task\":{\"value\":\"0xFFFF8CE941B58000\"},\"pid\":{\"value\":\"0x77\"},\"cpu\":{\"value\":0},"
                       "\"comm\":{\"value\":\"labagent\"},\"wait_object\":{\"value\":\"0xffffffffc055d080\"},"
                       "\"task_state\":{\"value\":\"D\"},\"wait_object_waiter\":{\"value\":\"0xffff8ce941b58000\",\"detail\":\"d\"}}}");
    cl_oracle_cases c = { 0 };
    CHECK(cl_oracle_compare(e, r, "dumps/hang-irp-1.kdump", &c) == 0);
    const char *pass[] = { "open", "os_release", "panic", "crash_function", "task", "pid", "cpu", "comm", "wait_object",
                           "task_state", "wait_object_waiter" };
    for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
        const cl_oracle_case *k = find(&c, pass[i]);
        if (!k || k->status != CL_ORACLE_PASS)
            printf("# %s: %s\n", pass[i], k ? k->message : "missing");
        CHECK(k && k->status == CL_ORACLE_PASS);
    }
    /* not reported by the oracle: skipped, not passed; fault/state/source are not labels */
    CHECK(find(&c, "timeout_ms") && find(&c, "timeout_ms")->status == CL_ORACLE_SKIP);
    CHECK(!find(&c, "fault") && !find(&c, "state") && !find(&c, "source"));
    cl_oracle_cases_clear(&c);
    json_object_put(e);
    json_object_put(r);
}

static void test_disagree(void)
{
    json_object *e = J(ENTRY);
    /* pid off by one, comm different, the waiter not found (null), the function nowhere */
    json_object *r = J("{\"opened\":true,\"panic\":\"something else\",\"stack_functions\":[\"schedule\"],"
                       "\"labels\":{\"pid\":{\"value\":120},\"comm\":{\"value\":\"init\"},"
                       "\"wait_object_waiter\":{\"value\":null,\"detail\":\"no waiter\"},\"cpu\":{\"skipped\":\"exited\"}}}");
    cl_oracle_cases c = { 0 };
    CHECK(cl_oracle_compare(e, r, "dumps/hang-irp-1.kdump", &c) == 5);
    const char *fail[] = { "panic", "crash_function", "pid", "comm", "wait_object_waiter" };
    for (size_t i = 0; i < sizeof(fail) / sizeof(fail[0]); i++)
        CHECK(find(&c, fail[i]) && find(&c, fail[i])->status == CL_ORACLE_FAIL);
    CHECK(strstr(find(&c, "pid")->message, "found 120, label says 119") != NULL);
    CHECK(strstr(find(&c, "wait_object_waiter")->message, "found null") != NULL);
    CHECK(find(&c, "cpu")->status == CL_ORACLE_SKIP && !strcmp(find(&c, "cpu")->message, "exited"));
    cl_oracle_cases_clear(&c);
    json_object_put(r);

    /* a dump that does not open: one failed case, nothing else claimed */
    r = J("{\"opened\":false,\"error\":\"not an ELF core file\"}");
    CHECK(cl_oracle_compare(e, r, "d", &c) == 1);
    CHECK(c.n == 1 && c.v[0].status == CL_ORACLE_FAIL && strstr(c.v[0].message, "not an ELF core file"));
    cl_oracle_cases_clear(&c);
    json_object_put(r);
    CHECK(cl_oracle_compare(e, NULL, "d", &c) == 1);
    cl_oracle_cases_clear(&c);
    json_object_put(e);
}

static void test_same(void)
{
    json_object *a = json_object_new_string("0x1f"), *b = json_object_new_int(31), *c = json_object_new_string("31"),
                *d = json_object_new_string("0x20"), *s = json_object_new_string("kmalloc-64"), *t = json_object_new_boolean(1),
                *neg = json_object_new_int(-1), *big = json_object_new_string("0xffffffffffffffff");
    CHECK(cl_oracle_same(a, b) && cl_oracle_same(b, c) && cl_oracle_same(a, c));
    CHECK(!cl_oracle_same(a, d) && !cl_oracle_same(s, a) && !cl_oracle_same(t, b) && !cl_oracle_same(neg, big));
    CHECK(cl_oracle_same(big, big) && cl_oracle_same(t, t) && cl_oracle_same(s, s));
    json_object *objs[] = { a, b, c, d, s, t, neg, big };
    for (size_t i = 0; i < 8; i++)
        json_object_put(objs[i]);
    char f[64];
    cl_oracle_function_name("watchdog_timer_fn.cold+0x2a/0x40", f, sizeof(f));
    CHECK_STR(f, "watchdog_timer_fn");
    cl_oracle_function_name(NULL, f, sizeof(f));
    CHECK_STR(f, "");
}

static void test_expand(void)
{
    cl_oracle_vars v = { "/c/dumps/a b.kdump", "", "/tmp/e'1.json", "/c" };
    char out[256], why[256];
    CHECK(cl_oracle_expand("tool {dump} --v={vmlinux} {entry} {{x}} {corpus}", &v, out, sizeof(out), why, sizeof(why)));
    CHECK_STR(out, "tool '/c/dumps/a b.kdump' --v='' '/tmp/e'\\''1.json' {x} '/c'");
    CHECK(!cl_oracle_expand("tool {dumpfile}", &v, out, sizeof(out), why, sizeof(why)) && strstr(why, "{dumpfile}"));
    CHECK(!cl_oracle_expand("tool {dump", &v, out, sizeof(out), why, sizeof(why)));
    CHECK(!cl_oracle_expand("tool {dump} {dump} {dump}", &v, out, 20, why, sizeof(why)) && strstr(why, "longer"));
}

static void test_run(void)
{
    char why[1024];
    json_object *r = cl_oracle_run("echo '{\"opened\":true}'; echo noise >&2", 10, why, sizeof(why));
    CHECK(r && json_object_get_boolean(cl_json_get(r, "opened")));
    json_object_put(r);
    why[0] = '\0';
    CHECK(!cl_oracle_run("echo oops >&2; exit 3", 10, why, sizeof(why)) && strstr(why, "exit 3") && strstr(why, "oops"));
    CHECK(!cl_oracle_run("echo '[1,2]'", 10, why, sizeof(why)) && strstr(why, "no JSON object"));
    CHECK(!cl_oracle_run("echo '{\"a\":1} {'", 10, why, sizeof(why)));
    double t0 = cl_now();
    CHECK(!cl_oracle_run("sleep 30 & sleep 30", 0.5, why, sizeof(why)) && strstr(why, "did not finish"));
    CHECK(cl_now() - t0 < 5);
    /* more output than the cap: refused, not truncated into a reading */
    CHECK(!cl_oracle_run("head -c 2000000 /dev/zero | tr '\\0' ' '; echo '{}'", 20, why, sizeof(why)) && strstr(why, "more than"));
}

int main(void)
{
    RUN_TEST(test_agree);
    RUN_TEST(test_disagree);
    RUN_TEST(test_same);
    RUN_TEST(test_expand);
    RUN_TEST(test_run);
    TEST_EXIT();
}
