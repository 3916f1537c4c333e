/* names_test.c - the name grammar: what passes, what is refused and what the message says. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "util/names.h"

static bool refused(const char *name, const char *needle)
{
    cl_error *err = NULL;
    bool ok = cl_name_check("run id", name, &err);
    bool good = !ok && err && err->code == CL_ERR_INVAL && strstr(err->msg, needle);
    if (!good && err)
        printf("# %s\n", err->msg);
    cl_error_free(err);
    return good;
}

static void test_names_accepted(void)
{
    CHECK(cl_name_check("run id", "20261126-121719-panic-d76f45", NULL));
    CHECK(cl_name_check("run id", "a", NULL));
    CHECK(cl_name_check("batch name", "nightly_2026.11.26", NULL));
    char max[CL_NAME_MAX + 1];
    memset(max, 'x', CL_NAME_MAX);
    max[CL_NAME_MAX] = '\0';
    CHECK(cl_name_check("run id", max, NULL));
}

static void test_names_refused(void)
{
    /* The two examples: a path that leaves --results, a kernel parameter. */
    CHECK(refused("/../escaped", "must start with a letter or digit"));
    CHECK(refused("x init=/bin/sh", "character 2 (\\x20)"));
    CHECK(refused("a/b", "character 2 (\\x2f)"));
    CHECK(refused("..", "must start"));
    CHECK(refused(".hidden", "must start"));
    CHECK(refused("-rf", "must start"));
    CHECK(refused("", "is empty"));
    CHECK(refused("a<b>", "\\x3c"));
    CHECK(refused("a&amp;", "\\x26"));
    CHECK(refused("q\"x", "\\x22"));
    CHECK(refused("esc\x1b[2J", "'esc\\x1b[2J'"));  /* shown escaped, never raw */
    CHECK(refused("caf\xc3\xa9", "\\xc3"));
    CHECK(refused("a\nb", "\\x0a"));
    char big[CL_NAME_MAX + 2];
    memset(big, 'x', CL_NAME_MAX + 1);
    big[CL_NAME_MAX + 1] = '\0';
    CHECK(refused(big, "longer than 100"));
    /* A huge name gives a bounded message. */
    char *huge = malloc(1 << 20);
    memset(huge, 'y', (1 << 20) - 1);
    huge[(1 << 20) - 1] = '\0';
    cl_error *err = NULL;
    CHECK(!cl_name_check("label", huge, &err) && err && strlen(err->msg) < 400 && strstr(err->msg, "..."));
    cl_error_free(err);
    free(huge);
    CHECK(!cl_name_check("label", NULL, NULL));
}

int main(void)
{
    RUN_TEST(test_names_accepted);
    RUN_TEST(test_names_refused);
    TEST_EXIT();
}
