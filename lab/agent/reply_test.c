#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "check.h"

static bool parse(const char *s, json_object **ret, cl_error **err)
{
    return cl_agent_parse_reply(s, strlen(s), ret, err);
}

static void test_return(void)
{
    json_object *r = NULL;
    CHECK(parse("{\"return\": {\"pid\": 12}}\n", &r, NULL));
    CHECK(r && json_object_is_type(r, json_type_object));
    json_object_put(r);
    r = NULL;
    CHECK(parse("{\"return\": {}}", &r, NULL));
    json_object_put(r);
}

static void expect_error(const char *text, const char *needle)
{
    json_object *r = NULL;
    cl_error *err = NULL;
    CHECK(!parse(text, &r, &err));
    CHECK(r == NULL);
    CHECK(err && err->code == CL_ERR_AGENT);
    if (err && !strstr(err->msg, needle))
        CHECK_STR(err->msg, needle);
    cl_error_free(err);
}

static void test_errors(void)
{
    expect_error("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no such file\"}}", "no such file");
    expect_error("{\"error\": 5}", "neither");
    expect_error("[1,2]", "not a JSON object");
    expect_error("{\"return\": 1", "cut short");
    expect_error("{\"return\": 1} {\"return\": 2}", "trailing data");
    expect_error("not json", "not valid JSON");
    expect_error("{\"id\": 1}", "neither");
    cl_error *err = NULL;
    json_object *r = NULL;
    CHECK(!cl_agent_parse_reply(NULL, 0, &r, &err));
    cl_error_free(err);
}

static void test_oversized(void)
{
    size_t n = CL_AGENT_MAX_REPLY + 16;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "{\"return\":1}", 12);
    big[n] = '\0';
    json_object *r = NULL;
    cl_error *err = NULL;
    CHECK(!cl_agent_parse_reply(big, n, &r, &err));
    CHECK(err && strstr(err->msg, "larger than"));
    cl_error_free(err);
    free(big);
}

static void test_deep_nesting(void)
{
    /* json-c's depth limit (64 here) refuses a nesting bomb instead of recursing. */
    size_t n = 100000;
    char *s = malloc(2 * n + 20);
    strcpy(s, "{\"return\":");
    size_t o = strlen(s);
    for (size_t i = 0; i < n; i++)
        s[o++] = '[';
    for (size_t i = 0; i < n; i++)
        s[o++] = ']';
    s[o++] = '}';
    s[o] = '\0';
    json_object *r = NULL;
    cl_error *err = NULL;
    CHECK(!cl_agent_parse_reply(s, o, &r, &err));
    cl_error_free(err);
    free(s);
}

static void test_base64(void)
{
    const char *samples[] = { "", "a", "ab", "abc", "abcd", "hello world\n" };
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        char *e = cl_base64_encode(samples[i], strlen(samples[i]));
        char *d = NULL;
        size_t dl = 0;
        bool cut = true;
        CHECK(cl_base64_decode(e, strlen(e), 1000, &d, &dl, &cut, NULL));
        CHECK(d && dl == strlen(samples[i]) && !memcmp(d, samples[i], dl));
        CHECK(!cut);
        free(e);
        free(d);
    }
    char *d = NULL;
    size_t dl = 0;
    bool cut = false;
    CHECK(cl_base64_decode("aGVsbG8gd29ybGQ=", 16, 5, &d, &dl, &cut, NULL));
    CHECK(dl == 5 && cut && !memcmp(d, "hello", 5));
    free(d);
    cl_error *err = NULL;
    CHECK(!cl_base64_decode("aGV*bG8=", 8, 100, &d, &dl, &cut, &err));
    CHECK(err && strstr(err->msg, "invalid base64"));
    cl_error_free(err);
    err = NULL;
    CHECK(!cl_base64_decode("aG==Vs", 6, 100, &d, &dl, &cut, &err));
    cl_error_free(err);
}

static void test_exec_status(void)
{
    json_object *r = json_tokener_parse("{\"exited\":true,\"exitcode\":3,\"out-data\":\"aGk=\",\"err-data\":\"\"}");
    cl_agent_exec_status st;
    CHECK(cl_agent_parse_exec_status(r, 100, &st, NULL));
    CHECK(st.exited && st.exitcode == 3 && !st.signaled);
    CHECK(st.outlen == 2 && !strcmp(st.out, "hi"));
    cl_agent_exec_status_clear(&st);
    json_object_put(r);

    r = json_tokener_parse("{\"exited\":false}");
    CHECK(cl_agent_parse_exec_status(r, 100, &st, NULL) && !st.exited);
    json_object_put(r);

    r = json_tokener_parse("{\"exited\":true,\"signal\":9}");
    CHECK(cl_agent_parse_exec_status(r, 100, &st, NULL) && st.signaled && st.signal == 9);
    cl_agent_exec_status_clear(&st);
    json_object_put(r);

    const char *bad[] = {
        "{\"exited\":\"yes\"}",
        "{}",
        "{\"exited\":true}",
        "{\"exited\":true,\"exitcode\":99999999999}",
        "{\"exited\":true,\"exitcode\":\"0\"}",
        "{\"exited\":true,\"exitcode\":0,\"out-data\":5}",
        "{\"exited\":true,\"exitcode\":0,\"out-data\":\"!!!\"}",
        "[]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = json_tokener_parse(bad[i]);
        cl_error *err = NULL;
        CHECK(!cl_agent_parse_exec_status(r, 100, &st, &err));
        CHECK(err && err->code == CL_ERR_AGENT);
        cl_error_free(err);
        json_object_put(r);
    }
    /* Endless output from the guest is cut at the bound and marked. */
    char *big = malloc(200001);
    memset(big, 'A', 200000);
    big[200000] = '\0';
    json_object *o = json_object_new_object();
    json_object_object_add(o, "exited", json_object_new_boolean(1));
    json_object_object_add(o, "exitcode", json_object_new_int(0));
    json_object_object_add(o, "out-data", json_object_new_string(big));
    CHECK(cl_agent_parse_exec_status(o, 1000, &st, NULL));
    CHECK(st.outlen == 1000 && st.out_truncated);
    cl_agent_exec_status_clear(&st);
    json_object_put(o);
    free(big);
}

int main(void)
{
    RUN_TEST(test_return);
    RUN_TEST(test_errors);
    RUN_TEST(test_oversized);
    RUN_TEST(test_deep_nesting);
    RUN_TEST(test_base64);
    RUN_TEST(test_exec_status);
    TEST_EXIT();
}
