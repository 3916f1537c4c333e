/* serve_test.c - the daemon's pure parts: hosts file, job store, matrix expansion, the
 * driver-build rewrite, report comparison, relative links, parameter splitting, bounded
 * socket lines. Runs from the repository root (tests/run.sh cds there). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "corpus.h"
#include "hosts.h"
#include "job_files.h"
#include "matrix.h"
#include "proto.h"
#include "settle.h"
#include "queue.h"
#include "report.h"
#include "runs.h"
#include "scenario/scenario.h"
#include "util/fileio.h"

static void test_hosts_parse(void)
{
    cl_hosts h = { 0 };
    CL_AUTOPTR(cl_error) err = NULL;
    const char *text = "# fleet\n\n[a]\nuri = embedded\nslots = 2\n[b-2]\n  uri = qemu+ssh://lab2/system \nslots=3\n"
                       "memory_mb = 4096\nvcpus = 4\nguest_pool = cl\ndump_pool = cl-dumps\n";
    CHECK(cl_hosts_parse("h.conf", text, &h, &err));
    CHECK(h.n == 2);
    if (h.n == 2) {
        CHECK_STR(h.v[0].name, "a");
        CHECK(h.v[0].uri == NULL && h.v[0].slots == 2);
        CHECK_STR(h.v[1].uri, "qemu+ssh://lab2/system");
        CHECK(h.v[1].slots == 3 && h.v[1].memory_mb == 4096 && h.v[1].vcpus == 4);
        CHECK_STR(h.v[1].guest_pool, "cl");
        CHECK_STR(h.v[1].dump_pool, "cl-dumps");
        CHECK(h.v[0].dump_pool == NULL);
        CHECK(cl_hosts_find(&h, "b-2") == &h.v[1] && !cl_hosts_find(&h, "c"));
        CHECK(cl_host_fits_ever(&h.v[1], 4096, 4) && !cl_host_fits_ever(&h.v[1], 4097, 1));
        h.v[1].used = 1;
        h.v[1].mem_used = 4000;
        CHECK(!cl_host_fits_now(&h.v[1], 256, 1) && cl_host_fits_now(&h.v[1], 96, 1));
    }
    cl_hosts_clear(&h);
}

static void test_hosts_errors(void)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        { "slots = 1\n", "h:1: 'slots' before the first [host] section" },
        { "[a]\n\nslots = 0\n", "h:3: slots must be" },
        { "[a]\nspeed = 9\n", "h:2: unknown key 'speed'" },
        { "[a]\n[a]\n", "h:2: host 'a' is defined twice" },
        { "[a b]\n", "h:1: host name 'a b'" },
        { "[a]\nslots\n", "h:2: expected 'key = value'" },
        { "# nothing\n", "h: no [host] section" },
        { "[a]\nvcpus = -1\n", "h:2: vcpus must be a positive number" },
        { "[e]\nuri = qemu:///embed?root=/x\nslots = 2\n", "h: host 'e': an explicit embedded root" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cl_hosts h = { 0 };
        CL_AUTOPTR(cl_error) err = NULL;
        CHECK(!cl_hosts_parse("h", bad[i].text, &h, &err));
        CHECK(err && !strncmp(err->msg, bad[i].msg, strlen(bad[i].msg)));
        CHECK(h.n == 0 && h.v == NULL);
    }
}

static void test_queue(void)
{
    char dir[] = "/tmp/cl-queue-test.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof(path), "%s/jobs.db", dir);
    CL_AUTOPTR(cl_error) err = NULL;
    cl_queue *q = cl_queue_open(path, &err);
    CHECK(q != NULL);
    if (!q)
        return;
    cl_job a = { .scenario = "/s/a.yaml", .name = "a", .options = "{\"accel\":\"tcg\"}", .priority = 0, .memory_mb = 256, .vcpus = 1 };
    cl_job b = { .scenario = "/s/b.yaml", .name = "b", .options = "{}", .priority = 5 };
    cl_job c = { .scenario = "/s/c.yaml", .name = "c", .options = "{}", .priority = 5 };
    CHECK(cl_queue_add(q, &a, &err) && cl_queue_add(q, &b, &err) && cl_queue_add(q, &c, &err));
    CHECK(a.id == 1 && b.id == 2 && c.id == 3);
    cl_job **jobs = NULL;
    size_t n = 0;
    /* Priority first, then submission order. */
    CHECK(cl_queue_list(q, CL_JOB_QUEUED, &jobs, &n, &err) && n == 3);
    if (n == 3)
        CHECK(jobs[0]->id == 2 && jobs[1]->id == 3 && jobs[2]->id == 1);
    cl_job_list_free(jobs, n);
    cl_job *j = cl_queue_get(q, 1, &err);
    CHECK(j && j->state == CL_JOB_QUEUED && j->attempts == 0 && j->max_attempts == 3 && j->memory_mb == 256);
    if (j) {
        j->state = CL_JOB_RUNNING;
        j->attempts = 1;
        j->run_id = strdup("job-000001-a1");
        j->pid = 4242;
        j->pid_start = 99;
        CHECK(cl_queue_update(q, j, &err));
        cl_job_free(j);
    }
    cl_queue_close(q);
    /* A new process sees exactly what was committed. */
    q = cl_queue_open(path, &err);
    CHECK(q != NULL);
    if (!q)
        return;
    j = cl_queue_get(q, 1, &err);
    CHECK(j && j->state == CL_JOB_RUNNING && j->attempts == 1 && j->pid == 4242 && j->pid_start == 99);
    CHECK(j && !strcmp(j->run_id, "job-000001-a1"));
    if (j) {
        json_object *o = cl_job_to_json(j);
        CHECK_STR(cl_json_str(cl_json_get(o, "options"), "accel", NULL), "tcg");
        CHECK_STR(cl_json_str(o, "state", NULL), "running");
        json_object_put(o);
        cl_job_free(j);
    }
    CL_AUTOPTR(cl_error) e2 = NULL;
    CHECK(cl_queue_get(q, 99, &e2) == NULL && e2 && e2->code == CL_ERR_INVAL);
    /* A rolled-back batch leaves nothing. */
    CHECK(cl_queue_begin(q, &err));
    cl_job d = { .scenario = "/s/d.yaml", .name = "d", .options = "{}" };
    CHECK(cl_queue_add(q, &d, &err));
    cl_queue_rollback(q);
    CHECK(cl_queue_list(q, CL_JOB_STATE_LAST, &jobs, &n, &err) && n == 3);
    cl_job_list_free(jobs, n);
    cl_queue_close(q);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

static void test_matrix(void)
{
    const char *text = "name: n1\npriority: 3\n"
                       "scenarios: [scenarios/linux/panic.yaml, scenarios/linux/oops.yaml]\n"
                       "profiles:\n  - {name: deb, guest: build/guest}\n  - {name: deb2, guest: build/guest}\n"
                       "drivers:\n  - {name: dev, path: scenarios/linux/panic.yaml}\n"
                       "dump_formats: [kdump-zlib, elf, none]\naccels: [tcg]\n";
    json_object *jobs = json_object_new_array();
    CL_AUTOPTR(cl_error) err = NULL;
    CHECK(cl_matrix_expand_text("m.yaml", text, strlen(text), jobs, &err));
    CHECK(json_object_array_length(jobs) == 2 * 2 * 1 * 3 * 1);
    json_object *first = json_object_array_get_idx(jobs, 0);
    json_object *o = cl_json_get(first, "options");
    CHECK_STR(cl_json_str(o, "key", NULL), "panic/deb/dev/kdump-zlib/tcg");
    CHECK_STR(cl_json_str(o, "dump_format", NULL), "kdump-zlib");
    CHECK_STR(cl_json_str(first, "batch", NULL), "n1");
    CHECK(cl_json_int(first, "priority", 0) == 3);
    CHECK(cl_json_str(o, "guest", "")[0] == '/');
    CHECK_STR(cl_json_str(cl_json_get(o, "labels"), "profile", NULL), "deb");
    json_object *last = json_object_array_get_idx(jobs, json_object_array_length(jobs) - 1);
    CHECK_STR(cl_json_str(cl_json_get(last, "options"), "key", NULL), "oops/deb2/dev/none/tcg");
    json_object_put(jobs);

    /* An absent axis is one "default" element, with no option set. */
    jobs = json_object_new_array();
    const char *min = "scenarios: [scenarios/linux/clean.yaml]\n";
    CHECK(cl_matrix_expand_text("dir/min.yaml", min, strlen(min), jobs, &err));
    CHECK(json_object_array_length(jobs) == 1);
    o = cl_json_get(json_object_array_get_idx(jobs, 0), "options");
    CHECK_STR(cl_json_str(o, "key", NULL), "clean/default/default/default/default");
    CHECK(!cl_json_get(o, "accel") && !cl_json_get(o, "driver"));
    CHECK_STR(cl_json_str(json_object_array_get_idx(jobs, 0), "batch", NULL), "min");
    json_object_put(jobs);

    /* The start axis sets warm/cold and extends the key. */
    jobs = json_object_new_array();
    const char *ws = "scenarios: [scenarios/linux/clean.yaml]\nstarts: [cold, warm]\n";
    CHECK(cl_matrix_expand_text("w.yaml", ws, strlen(ws), jobs, &err));
    CHECK(json_object_array_length(jobs) == 2);
    o = cl_json_get(json_object_array_get_idx(jobs, 1), "options");
    CHECK_STR(cl_json_str(o, "key", NULL), "clean/default/default/default/default/warm");
    CHECK(cl_json_get(o, "warm") && json_object_get_boolean(cl_json_get(o, "warm")));
    o = cl_json_get(json_object_array_get_idx(jobs, 0), "options");
    CHECK(cl_json_get(o, "warm") && !json_object_get_boolean(cl_json_get(o, "warm")));
    json_object_put(jobs);

    static const struct {
        const char *text, *msg;
    } bad[] = {
        { "name: x\n", "m:1:1: a matrix needs 'scenarios'" },
        { "scenarios: [scenarios/linux/clean.yaml]\nfoo: 1\n", "m:2:1: unknown key 'foo'" },
        { "scenarios: []\n", "m:1:12: scenarios: expected a list of strings" },
        { "scenarios: [scenarios/linux/clean.yaml]\naccels: [warp]\n", "m: accelerator 'warp'" },
        { "scenarios: [scenarios/linux/clean.yaml]\ndump_formats: [png]\n", "m: dump format 'png'" },
        { "scenarios: [nope.yaml]\n", "m: scenario 'nope.yaml'" },
        { "scenarios: [scenarios/linux/clean.yaml]\nprofiles: [{name: a, guest: g}, {name: a, guest: h}]\n", "m:2:" },
        { "scenarios: [scenarios/linux/clean.yaml]\ndrivers: [{name: a}]\n", "m:2:" },
        { "scenarios: [scenarios/linux/clean.yaml]\npriority: high\n", "m:2:11: priority" },
        { "a: &x [1]\nscenarios: *x\n", "m:1:" },
        { "scenarios: [scenarios/linux/clean.yaml]\nstarts: [lukewarm]\n", "m: start 'lukewarm'" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        jobs = json_object_new_array();
        CL_AUTOPTR(cl_error) e = NULL;
        CHECK(!cl_matrix_expand_text("m", bad[i].text, strlen(bad[i].text), jobs, &e));
        CHECK(e && !strncmp(e->msg, bad[i].msg, strlen(bad[i].msg)));
        if (e && strncmp(e->msg, bad[i].msg, strlen(bad[i].msg)))
            printf("# got: %s\n", e->msg);
        CHECK(json_object_array_length(jobs) == 0);
        json_object_put(jobs);
    }
}

static void test_rewrite_install(void)
{
    CL_AUTOPTR(cl_error) err = NULL;
    const char *text = "name: x\nsteps:\n  - install: build/linux/labfault.ko\n  - trigger: {fault: bugcheck}\n";
    CL_AUTOFREE char *out = cl_job_rewrite_install(text, "/b/dev \"2\".ko", &err);
    CHECK_STR(out, "name: x\nsteps:\n  - install: \"/b/dev \\\"2\\\".ko\"\n  - trigger: {fault: bugcheck}\n");
    /* The rewritten scenario still loads and names the new path. */
    CL_AUTOFREE char *good = cl_job_rewrite_install("guest: {profile: linux}\nsteps:\n  - install: x.ko\n"
                                                    "  - trigger: {fault: bugcheck}\nexpect: {verdict: expected-crash}\n",
                                                    "build/linux/labfault.ko", &err);
    CL_AUTOPTR(cl_scenario) s = good ? cl_scenario_parse("d.yaml", good, strlen(good), &err) : NULL;
    CHECK(s && s->nsteps == 2 && s->steps[0].kind == CL_STEP_INSTALL && !strcmp(s->steps[0].path, "build/linux/labfault.ko"));
    CL_AUTOPTR(cl_error) e2 = NULL;
    CHECK(!cl_job_rewrite_install("steps:\n  - wait: 1\n", "/x.ko", &e2) && e2);
}

static void test_relpath(void)
{
    char out[256];
    cl_relpath("/a/b/out", "/a/b/res/run/x", out, sizeof(out));
    CHECK_STR(out, "../res/run/x");
    cl_relpath("/a/b", "/a/bc/x", out, sizeof(out));
    CHECK_STR(out, "../bc/x");
    cl_relpath("/a/b", "/a/b/x", out, sizeof(out));
    CHECK_STR(out, "x");
    cl_relpath("/r/o/p", "/x/y", out, sizeof(out));
    CHECK_STR(out, "../../../x/y");
}

static json_object *summary_of(const char *const *rows, size_t n)
{
    /* rows: key, verdict, title (or NULL) triples */
    json_object *s = json_object_new_object(), *runs = json_object_new_array(), *titles = json_object_new_array();
    json_object_object_add(s, "schema_version", json_object_new_int(CL_REPORT_SCHEMA_VERSION));
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_new_object();
        json_object_object_add(r, "key", json_object_new_string(rows[3 * i]));
        json_object_object_add(r, "verdict", json_object_new_string(rows[3 * i + 1]));
        json_object_array_add(runs, r);
        if (rows[3 * i + 2]) {
            json_object *t = json_object_new_object();
            json_object_object_add(t, "title", json_object_new_string(rows[3 * i + 2]));
            json_object_array_add(titles, t);
        }
    }
    json_object_object_add(s, "runs", runs);
    json_object_object_add(s, "titles", titles);
    return s;
}

static void test_compare(void)
{
    static const char *const before[] = { "a", "expected-crash", "panic A", "b", "pass", NULL, "gone", "pass", NULL };
    static const char *const after[] = { "a", "unexpected-crash", "panic B", "b", "pass", NULL, "new", "hang", "hung task" };
    json_object *p = summary_of(before, 3), *c = summary_of(after, 3);
    json_object *d = cl_report_compare(p, c);
    json_object *nt = cl_json_get(d, "new_titles"), *ft = cl_json_get(d, "fixed_titles"), *ch = cl_json_get(d, "changed");
    CHECK(json_object_array_length(nt) == 2);
    CHECK_STR(json_object_get_string(json_object_array_get_idx(nt, 0)), "panic B");
    CHECK(json_object_array_length(ft) == 1);
    CHECK_STR(json_object_get_string(json_object_array_get_idx(ft, 0)), "panic A");
    CHECK(json_object_array_length(ch) == 1);
    CHECK_STR(cl_json_str(json_object_array_get_idx(ch, 0), "after", NULL), "unexpected-crash");
    CHECK_STR(json_object_get_string(json_object_array_get_idx(cl_json_get(d, "added_keys"), 0)), "new");
    CHECK_STR(json_object_get_string(json_object_array_get_idx(cl_json_get(d, "removed_keys"), 0)), "gone");
    json_object_put(d);
    /* Against itself: nothing changed. */
    d = cl_report_compare(c, c);
    CHECK(!json_object_array_length(cl_json_get(d, "new_titles")) && !json_object_array_length(cl_json_get(d, "changed")));
    json_object_put(d);
    json_object_put(p);
    json_object_put(c);
}

static void test_split_params(void)
{
    json_object *p = cl_corpus_split_params("message=\"a \\\"b\\\" c\" code=0x2a empty=\"\"");
    CHECK_STR(cl_json_str(p, "message", NULL), "a \"b\" c");
    CHECK_STR(cl_json_str(p, "code", NULL), "0x2a");
    CHECK_STR(cl_json_str(p, "empty", NULL), "");
    json_object_put(p);
    p = cl_corpus_split_params("garbage");
    CHECK(json_object_object_length(p) == 0);
    json_object_put(p);
    p = cl_corpus_split_params(NULL);
    CHECK(json_object_object_length(p) == 0);
    json_object_put(p);
}

static void test_read_line_bounded(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(write(sv[0], "{\"op\":\"ping\"}\nrest", 18) == 18);
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOFREE char *line = cl_serve_read_line(sv[1], 100, 0, &err);
    CHECK_STR(line, "{\"op\":\"ping\"}");
    /* A line longer than the cap is refused, never truncated into something else. */
    static char big[20000];
    memset(big, 'x', sizeof(big));
    CHECK(write(sv[0], big, sizeof(big)) == (ssize_t)sizeof(big));
    close(sv[0]);
    CL_AUTOPTR(cl_error) e2 = NULL;
    CHECK(cl_serve_read_line(sv[1], 8192, 0, &e2) == NULL && e2 && e2->code == CL_ERR_FORMAT);
    close(sv[1]);
    /* EOF before a newline. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(write(sv[0], "partial", 7) == 7);
    close(sv[0]);
    CL_AUTOPTR(cl_error) e3 = NULL;
    CHECK(cl_serve_read_line(sv[1], 100, 0, &e3) == NULL && e3 && e3->code == CL_ERR_IO);
    close(sv[1]);
    /* A peer that never answers: the read ends at its deadline, not later. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CL_AUTOPTR(cl_error) e4 = NULL;
    double t0 = cl_now();
    CHECK(cl_serve_read_line(sv[1], 100, t0 + 0.3, &e4) == NULL && e4 && e4->code == CL_ERR_TIMEOUT);
    CHECK(cl_now() - t0 >= 0.29 && cl_now() - t0 < 2);
    close(sv[0]);
    close(sv[1]);
}


/* The retry and back-off rule, one row per case (settle.h). */
static void test_settle_policy(void)
{
    static const struct {
        int exit_code;
        const char *verdict, *expected, *reason;
        int attempt, max;
        bool cancel, stopping;
        cl_job_state next;
        bool counts;
        double delay;
        const char *out_verdict, *reason_prefix;
        int out_exit;
    } rows[] = {
        /* a real verdict closes the job, expected or not; test failures are never retried */
        { 0, "expected-crash", "expected-crash", "panic as expected", 1, 3, false, false, CL_JOB_DONE, true, 0, "expected-crash", "panic as expected", 0 },
        { 1, "unexpected-crash", "pass", "oops", 1, 3, false, false, CL_JOB_DONE, true, 0, "unexpected-crash", "oops", 1 },
        /* infra-error: retried with back-off doubling per attempt, then closed with the count */
        { 3, "infra-error", "pass", "QEMU went away", 1, 3, false, false, CL_JOB_QUEUED, true, 10, "infra-error", "attempt 1: QEMU went away; retry in 10 s", 3 },
        { 3, "infra-error", "pass", "QEMU went away", 2, 3, false, false, CL_JOB_QUEUED, true, 20, "infra-error", "attempt 2: ", 3 },
        { 3, "infra-error", "pass", "QEMU went away", 3, 3, false, false, CL_JOB_DONE, true, 0, "infra-error", "3 attempt(s); last: QEMU went away", 3 },
        /* exit 3 without a result (the disk was full): infrastructure, retried */
        { 3, "", "", "", 1, 3, false, false, CL_JOB_QUEUED, true, 10, "", "attempt 1: no result was recorded", 3 },
        /* killed by a signal, nothing recorded */
        { CL_SETTLE_EXIT_SIGNAL, "", "", "", 1, 1, false, false, CL_JOB_DONE, true, 0, "infra-error", "1 attempt(s); last: the attempt's process was lost", -1 },
        /* exit 2 with nothing recorded: refused input, closed at once */
        { 2, "", "", "", 1, 3, false, false, CL_JOB_DONE, true, 0, "infra-error", "crashlab run refused the job (exit 2)", 2 },
        /* recovery: the exit code comes from the recorded result */
        { CL_SETTLE_EXIT_UNKNOWN, "pass", "pass", "ok", 1, 3, false, false, CL_JOB_DONE, true, 0, "pass", "ok", 0 },
        { CL_SETTLE_EXIT_UNKNOWN, "hang", "pass", "hung", 1, 3, false, false, CL_JOB_DONE, true, 0, "hang", "hung", 1 },
        { CL_SETTLE_EXIT_UNKNOWN, "", "", "", 2, 3, false, false, CL_JOB_QUEUED, true, 20, "", "attempt 2: the attempt's process was lost", -1 },
        /* our own shutdown: queued again, the attempt given back */
        { 3, "infra-error", "pass", "interrupted", 1, 3, false, true, CL_JOB_QUEUED, false, 0, "", "interrupted by a daemon shutdown", 3 },
        /* ... but a real verdict reached during shutdown still closes the job */
        { 0, "pass", "pass", "fine", 1, 3, false, true, CL_JOB_DONE, true, 0, "pass", "fine", 0 },
        /* cancelled while running: ends cancelled, always with a verdict */
        { 1, "infra-error", "pass", "interrupted", 1, 3, true, false, CL_JOB_CANCELLED, true, 0, "infra-error", "cancelled while running (attempt 1: interrupted)", 1 },
        { CL_SETTLE_EXIT_SIGNAL, "", "", "", 1, 3, true, true, CL_JOB_CANCELLED, true, 0, "infra-error", "cancelled while running", -1 },
        { 0, "expected-crash", "expected-crash", "crashed", 2, 3, true, false, CL_JOB_CANCELLED, true, 0, "expected-crash", "cancelled while running (attempt 2: crashed)", 0 },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        cl_settle_in in = { .exit_code = rows[i].exit_code, .verdict = rows[i].verdict, .expected = rows[i].expected,
                            .run_reason = rows[i].reason, .job_id = 7, .attempt = rows[i].attempt,
                            .max_attempts = rows[i].max, .cancel_requested = rows[i].cancel, .stopping = rows[i].stopping,
                            .backoff = 10 };
        cl_settle_out out;
        cl_settle_decide(&in, &out);
        if (out.next != rows[i].next || out.count_attempt != rows[i].counts || out.delay != rows[i].delay ||
            strcmp(out.verdict, rows[i].out_verdict) || strncmp(out.reason, rows[i].reason_prefix, strlen(rows[i].reason_prefix)) ||
            out.exit_code != rows[i].out_exit)
            printf("# settle row %zu: next %d counts %d delay %g verdict '%s' exit %d reason '%s'\n", i, out.next,
                   out.count_attempt, out.delay, out.verdict, out.exit_code, out.reason);
        CHECK(out.next == rows[i].next);
        CHECK(out.count_attempt == rows[i].counts);
        CHECK(out.delay == rows[i].delay);
        CHECK_STR(out.verdict, rows[i].out_verdict);
        CHECK(!strncmp(out.reason, rows[i].reason_prefix, strlen(rows[i].reason_prefix)));
        CHECK(out.exit_code == rows[i].out_exit);
    }
    /* what ended the attempt, for the daemon's log */
    cl_settle_in lost = { .exit_code = CL_SETTLE_EXIT_UNKNOWN, .verdict = "", .attempt = 1, .max_attempts = 3, .backoff = 1 };
    cl_settle_out lo;
    cl_settle_decide(&lost, &lo);
    CHECK_STR(lo.why, "the attempt's process was lost");
    /* the back-off never grows past a day, however many attempts */
    cl_settle_in in = { .exit_code = 3, .verdict = "infra-error", .attempt = 40, .max_attempts = 99, .backoff = 10 };
    cl_settle_out out;
    cl_settle_decide(&in, &out);
    CHECK(out.next == CL_JOB_QUEUED && out.delay == 86400);
}

int main(void)
{
    RUN_TEST(test_hosts_parse);
    RUN_TEST(test_hosts_errors);
    RUN_TEST(test_queue);
    RUN_TEST(test_matrix);
    RUN_TEST(test_rewrite_install);
    RUN_TEST(test_relpath);
    RUN_TEST(test_compare);
    RUN_TEST(test_split_params);
    RUN_TEST(test_read_line_bounded);
    RUN_TEST(test_settle_policy);
    TEST_EXIT();
}
