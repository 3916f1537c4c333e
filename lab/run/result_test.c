#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "run/result.h"
#include "util/fileio.h"

static void test_junit(void)
{
    json_object *r = json_tokener_parse("{\"run_id\":\"r1\",\"scenario\":{\"name\":\"a<b\"},\"verdict\":\"fail\","
                                        "\"expected_verdict\":\"expected-crash\",\"reason\":\"no \\\"crash\\\"\","
                                        "\"timings\":{\"total\":1.5}}");
    char *x = cl_result_junit(r, NULL);
    CHECK(x && strstr(x, "failures=\"1\" errors=\"0\""));
    CHECK(x && strstr(x, "classname=\"crashlab.a&lt;b\""));
    CHECK(x && strstr(x, "<failure type=\"fail\" message=\"no &quot;crash&quot;\"/>"));
    free(x);
    json_object_object_add(r, "verdict", json_object_new_string("infra-error"));
    x = cl_result_junit(r, NULL);
    CHECK(x && strstr(x, "failures=\"0\" errors=\"1\"") && strstr(x, "<error type=\"infra-error\""));
    free(x);
    json_object_object_add(r, "verdict", json_object_new_string("expected-crash"));
    x = cl_result_junit(r, NULL);
    CHECK(x && strstr(x, "failures=\"0\" errors=\"0\"") && !strstr(x, "<failure"));
    free(x);
    json_object_put(r);
}

static void test_write_rename(void)
{
    char dir[] = "/tmp/cl-result-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char partial[300], final[300], path[400];
    snprintf(partial, sizeof(partial), "%s/.r1.partial", dir);
    snprintf(final, sizeof(final), "%s/r1", dir);
    mkdir(partial, 0755);
    json_object *r = json_tokener_parse("{\"run_id\":\"r1\",\"verdict\":\"pass\",\"expected_verdict\":\"pass\"}");
    cl_error *err = NULL;
    CHECK(cl_result_write(partial, final, r, &err));
    snprintf(path, sizeof(path), "%s/result.json", final);
    CHECK(access(path, R_OK) == 0);
    snprintf(path, sizeof(path), "%s/junit.xml", final);
    CHECK(access(path, R_OK) == 0);
    CHECK(access(partial, F_OK) != 0);
    /* A second run with the same id never overwrites the first. */
    mkdir(partial, 0755);
    CHECK(!cl_result_write(partial, final, r, &err));
    CHECK(err && strstr(err->msg, "already exists"));
    cl_error_free(err);
    json_object_put(r);
    cl_rm_rf(dir, NULL);
}

int main(void)
{
    RUN_TEST(test_junit);
    RUN_TEST(test_write_rename);
    TEST_EXIT();
}
