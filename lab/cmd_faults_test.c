/* cmd_faults_test.c - `crashlab faults`: the JSON holds the whole catalogue exactly, the
 * text names every fault, filters and usage errors behave. */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalogue.h"
#include "check.h"
#include "cmd.h"
#include "util/fileio.h"

static char out_path[64];

/* Runs cl_cmd_faults with stdout and stderr in a file; returns the exit code, *text the output. */
static int run_faults(int argc, char **argv, char **text)
{
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    int rc = cl_cmd_faults(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    *text = NULL;
    cl_file_read_all(out_path, 1 << 20, text, NULL, NULL);
    return rc;
}

static void test_json_is_the_catalogue(void)
{
    char *argv[] = { "faults", "--json", NULL };
    char *text = NULL;
    CHECK(run_faults(2, argv, &text) == 0);
    json_object *root = text ? json_tokener_parse(text) : NULL;
    free(text);
    CHECK(root != NULL);
    if (!root)
        return;
    json_object *arr = NULL, *abi = NULL;
    CHECK(json_object_object_get_ex(root, "faults", &arr) && json_object_is_type(arr, json_type_array));
    CHECK(json_object_object_get_ex(root, "abi_version", &abi) && json_object_get_int(abi) == LABFAULT_ABI_VERSION);
    size_t n;
    const cl_fault *all = cl_fault_all(&n);
    CHECK(arr && json_object_array_length(arr) == n);
    for (size_t i = 0; arr && i < n && i < json_object_array_length(arr); i++) {
        json_object *f = json_object_array_get_idx(arr, i), *v = NULL, *params = NULL, *w = NULL, *l = NULL;
        CHECK(json_object_object_get_ex(f, "id", &v) && !strcmp(json_object_get_string(v), all[i].id));
        CHECK(json_object_object_get_ex(f, "number", &v) && json_object_get_int(v) == (int)all[i].number);
        CHECK(json_object_object_get_ex(f, "description", &v) &&
              !strcmp(json_object_get_string(v), all[i].description));
        CHECK(json_object_object_get_ex(f, "params", &params));
        size_t np = 0;
        for (const cl_fparam *p = all[i].params; p->name; p++, np++) {
            json_object *pj = json_object_array_get_idx(params, np), *x = NULL;
            CHECK(pj && json_object_object_get_ex(pj, "name", &x) && !strcmp(json_object_get_string(x), p->name));
            if (p->type == CL_FPARAM_UINT) {
                CHECK(json_object_object_get_ex(pj, "min", &x) && json_object_get_uint64(x) == p->min);
                CHECK(json_object_object_get_ex(pj, "max", &x) && json_object_get_uint64(x) == p->max);
                CHECK(json_object_object_get_ex(pj, "default", &x) && json_object_get_uint64(x) == p->def);
            }
        }
        CHECK(json_object_array_length(params) == np);
        CHECK(json_object_object_get_ex(f, "windows", &w) && json_object_object_get_ex(w, "outcome", &v) &&
              !strcmp(json_object_get_string(v), cl_outcome_to_string(all[i].windows.outcome)));
        CHECK(json_object_object_get_ex(w, "bugchecks", &v));
        for (size_t k = 0; k < 3 && all[i].windows.bugcheck[k]; k++)
            CHECK(json_object_get_int64(json_object_array_get_idx(v, k)) == all[i].windows.bugcheck[k]);
        CHECK(json_object_object_get_ex(f, "linux", &l) && json_object_object_get_ex(l, "kind", &v) &&
              !strcmp(json_object_get_string(v), all[i].linux_.kind));
        CHECK(json_object_object_get_ex(l, "cmdline", &v) && !strcmp(json_object_get_string(v), all[i].linux_.cmdline));
    }
    json_object_put(root);
}

static void test_text_and_filters(void)
{
    char *all_argv[] = { "faults", NULL };
    char *text = NULL;
    CHECK(run_faults(1, all_argv, &text) == 0);
    size_t n;
    const cl_fault *all = cl_fault_all(&n);
    for (size_t i = 0; text && i < n; i++) {
        char head[64];
        snprintf(head, sizeof(head), "%2u  %s\n", (unsigned)all[i].number, all[i].id);
        CHECK(strstr(text, head) != NULL);
    }
    CHECK(text && strstr(text, "bug check 0x133"));
    CHECK(text && strstr(text, "needs 2 vcpus"));
    free(text);

    char *one[] = { "faults", "--json", "pool-overrun", NULL };
    CHECK(run_faults(3, one, &text) == 0);
    json_object *root = text ? json_tokener_parse(text) : NULL, *arr = NULL;
    free(text);
    CHECK(root && json_object_object_get_ex(root, "faults", &arr) && json_object_array_length(arr) == 1);
    json_object_put(root);

    char *unknown[] = { "faults", "panik", NULL };
    CHECK(run_faults(2, unknown, &text) == 2);
    CHECK(text && strstr(text, "unknown fault 'panik'"));
    free(text);
    char *badopt[] = { "faults", "--yaml", NULL };
    CHECK(run_faults(2, badopt, &text) == 2);
    free(text);
}

static bool has_code(const uint32_t codes[3], uint32_t c)
{
    for (size_t i = 0; i < 3 && codes[i]; i++)
        if (codes[i] == c)
            return true;
    return false;
}

/* Issue 18: what a real Windows does, not what Wine lets through. */
static void test_windows_corrections(void)
{
    const cl_fault *po = cl_fault_lookup("pool-overrun"), *df = cl_fault_lookup("double-free"),
                   *uaf = cl_fault_lookup("use-after-free"), *st = cl_fault_lookup("stack-trash"),
                   *dpc = cl_fault_lookup("dpc-watchdog-single"), *cum = cl_fault_lookup("dpc-watchdog-cumulative"),
                   *hang = cl_fault_lookup("hang-irp");
    /* Under special pool the three pool faults give exactly one code each. */
    CHECK(po->windows.bugcheck[0] == 0xD6 && po->windows.bugcheck[1] == 0);
    CHECK(uaf->windows.bugcheck[0] == 0xD5 && uaf->windows.bugcheck[1] == 0);
    CHECK(df->windows.bugcheck[0] == 0xC2 && df->windows.bugcheck[1] == 0);
    for (const cl_fault *f = po; f; f = f == po ? df : f == df ? uaf : NULL) {
        CHECK(f->windows.needs & CL_WINNEED_SPECIAL_POOL);
        CHECK(has_code(f->windows.without, 0x13A));
        CHECK(!has_code(f->windows.bugcheck, 0x13A) && !has_code(f->windows.bugcheck, 0xC5));
    }
    CHECK(!has_code(st->windows.bugcheck, 0xBE) && has_code(st->windows.bugcheck, 0x139));
    CHECK(dpc->windows.needs & CL_WINNEED_WATCHDOG && cum->windows.needs & CL_WINNEED_WATCHDOG);
    CHECK(strstr(hang->windows.detail, "5 minutes") != NULL);
    CHECK(!strcmp(cl_winneed_to_string(CL_WINNEED_SPECIAL_POOL), "special-pool"));

    struct labfault_request r;
    const char *param = NULL;
    char why[300];
    cl_fault_request_init(dpc, &r);
    CHECK(cl_fault_windows_check(dpc, &r, &param, why, sizeof(why)));   /* 0: until it fires */
    r.arg[0] = 5000;
    CHECK(!cl_fault_windows_check(dpc, &r, &param, why, sizeof(why)));
    CHECK(!strcmp(param, "stall_ms") && strstr(why, "DPC time limit"));
    r.arg[0] = CL_WIN_DPC_TIME_LIMIT_MS;
    CHECK(!cl_fault_windows_check(dpc, &r, &param, why, sizeof(why)));
    r.arg[0] = CL_WIN_DPC_TIME_LIMIT_MS + 1;
    CHECK(cl_fault_windows_check(dpc, &r, &param, why, sizeof(why)));

    cl_fault_request_init(po, &r);
    CHECK(cl_fault_windows_check(po, &r, &param, why, sizeof(why)));    /* 64: the guard page follows */
    r.arg[0] = 72;
    param = NULL;
    CHECK(!cl_fault_windows_check(po, &r, &param, why, sizeof(why)) && !strcmp(param, "size") && strstr(why, "16"));
    r.arg[0] = 4096;
    CHECK(!cl_fault_windows_check(po, &r, &param, why, sizeof(why)) && strstr(why, "4080"));
    r.arg[0] = 4080;
    CHECK(cl_fault_windows_check(po, &r, &param, why, sizeof(why)));
    cl_fault_request_init(uaf, &r);
    r.arg[0] = 8000;
    CHECK(!cl_fault_windows_check(uaf, &r, &param, why, sizeof(why)));

    /* Issue 18.7: every IOCTL needs a handle opened for writing (access bits 14-15 = 2). */
    for (uint32_t f = 1; f < LABFAULT_LAST; f++)
        CHECK((LABFAULT_WIN_IOCTL_ARM(f) >> 14 & 3) == 2);
    CHECK((LABFAULT_WIN_IOCTL_FIRE >> 14 & 3) == 2 && (LABFAULT_WIN_IOCTL_STATUS >> 14 & 3) == 2);
    CHECK(LABFAULT_WIN_IOCTL_STATUS == 0x0022A404u);
}

int main(void)
{
    snprintf(out_path, sizeof(out_path), "/tmp/cl-faults-test.%ld", (long)getpid());
    RUN_TEST(test_json_is_the_catalogue);
    RUN_TEST(test_text_and_filters);
    RUN_TEST(test_windows_corrections);
    unlink(out_path);
    TEST_EXIT();
}
