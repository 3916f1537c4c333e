/* capture_sm_test.c - the guest-dump rung against fake agents: one that comes back late
 * with a dump Windows is still writing, one that never comes back, one that comes back
 * without a dump, a size that shrinks and regrows, and a fetch that fails. */
#include <string.h>

#include "check.h"
#include "run/capture_sm.h"

/* A fake guest: the agent answers from `back` on (never when back < 0); the dump appears
 * at `dump_at` and grows by `grow` bytes per second until `full`. Polled every 5 s. */
typedef struct {
    double back, dump_at;
    uint64_t grow, full;
} fake;

static cl_cap_obs observe(const fake *f, double t)
{
    cl_cap_obs o = { .now = t };
    o.agent_answers = f->back >= 0 && t >= f->back;
    o.listed = o.agent_answers;
    if (o.listed && f->dump_at >= 0 && t >= f->dump_at) {
        uint64_t sz = (uint64_t)((t - f->dump_at) * (double)f->grow) + 4096;
        o.dump_present = true;
        o.dump_size = sz < f->full ? sz : f->full;
    }
    return o;
}

/* Runs until a state the caller acts on; returns it, the time in *at. */
static cl_cap_state run(const fake *f, double timeout, double *at)
{
    cl_cap_sm m;
    char why[200];
    cl_cap_init(&m, 0, timeout, 10);
    for (double t = 0; t <= timeout + 10; t += 5) {
        cl_cap_obs o = observe(f, t);
        cl_cap_state s = cl_cap_step(&m, &o, why, sizeof(why));
        if (s != CL_CAP_WAIT_AGENT && s != CL_CAP_POLL_DUMP) {
            *at = t;
            CHECK(why[0] != '\0');
            return s;
        }
    }
    *at = -1;
    return m.state;
}

static void test_late_agent_growing_dump(void)
{
    /* back at 100 s; MEMORY.DMP appears at 130 s and grows 50 MB/s to 2 GB (~170 s). */
    fake f = { 100, 130, 50u << 20, 2ull << 30 };
    double at;
    CHECK(run(&f, 600, &at) == CL_CAP_FETCH);
    /* full at 130 + 2048/50 = 171 s; two equal listings 10 s apart: 175 and 185. */
    CHECK(at >= 180 && at <= 190);
}

static void test_never_back(void)
{
    fake f = { -1, -1, 0, 0 };
    double at;
    CHECK(run(&f, 600, &at) == CL_CAP_OFFLINE_RESCUE);
    CHECK(at == 600);
    cl_cap_sm m;
    cl_cap_init(&m, 0, 600, 10);
    m.state = CL_CAP_OFFLINE_RESCUE;
    CHECK(cl_cap_rescued(&m, false) == CL_CAP_HYPERVISOR_DUMP);
    m.state = CL_CAP_OFFLINE_RESCUE;
    CHECK(cl_cap_rescued(&m, true) == CL_CAP_DONE);
}

static void test_back_without_dump(void)
{
    fake f = { 50, -1, 0, 0 };
    double at;
    CHECK(run(&f, 300, &at) == CL_CAP_OFFLINE_RESCUE);
    CHECK(at == 300);
}

static void test_still_growing_at_deadline(void)
{
    fake f = { 10, 20, 1u << 20, 1ull << 40 };   /* would take days */
    double at;
    CHECK(run(&f, 120, &at) == CL_CAP_OFFLINE_RESCUE && at == 120);
}

static void test_size_flaps_and_fetch_fails(void)
{
    cl_cap_sm m;
    char why[200];
    cl_cap_init(&m, 0, 600, 10);
    cl_cap_obs o = { .now = 1, .agent_answers = true };
    CHECK(cl_cap_step(&m, &o, why, sizeof(why)) == CL_CAP_POLL_DUMP && strstr(why, "agent"));
    uint64_t sizes[] = { 100, 100, 0, 100, 200, 200, 200 };
    double t = 1;
    cl_cap_state s = CL_CAP_POLL_DUMP;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && s == CL_CAP_POLL_DUMP; i++) {
        t += 6;
        o = (cl_cap_obs){ .now = t, .agent_answers = true, .listed = true, .dump_present = sizes[i] != 0,
                          .dump_size = sizes[i] };
        s = cl_cap_step(&m, &o, why, sizeof(why));
    }
    /* 100,100 held only 6 s; the vanished file reset it; 200 held from t=31 to t=43. */
    CHECK(s == CL_CAP_FETCH && t == 43 && m.size == 200);
    CHECK(strstr(why, "200 bytes"));
    CHECK(cl_cap_fetched(&m, false) == CL_CAP_OFFLINE_RESCUE);
    CHECK(!strcmp(cl_cap_state_to_string(CL_CAP_OFFLINE_RESCUE), "offline-rescue"));
}

int main(void)
{
    RUN_TEST(test_late_agent_growing_dump);
    RUN_TEST(test_never_back);
    RUN_TEST(test_back_without_dump);
    RUN_TEST(test_still_growing_at_deadline);
    RUN_TEST(test_size_flaps_and_fetch_fails);
    TEST_EXIT();
}
