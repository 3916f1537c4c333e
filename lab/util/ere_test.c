/* ere_test.c - the ERE bounds: the bombs are refused at once, the worst patterns
 * that pass compile and match in milliseconds, ordinary patterns pass. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "util/ere.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool refused(const char *p, const char *needle)
{
    char why[256] = "";
    bool ok = cl_ere_check(p, why, sizeof(why));
    if (ok || !strstr(why, needle))
        printf("# '%.60s': %s\n", p, ok ? "accepted" : why);
    return !ok && strstr(why, needle);
}

static void test_ere_ordinary(void)
{
    const char *good[] = {
        "Kernel panic - not syncing: crashlab demo panic 0x2a",
        "BUG: soft lockup.*lf_spin_timer",
        "^(general protection fault|BUG: kernel NULL pointer dereference)",
        "[[:xdigit:]]{16}",
        "a{1,255}",
        "x[]a-z]+y",
        "\\(literal\\)",
        "(ab|cd){2,8}e?",
    };
    char why[256];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        bool ok = cl_ere_check(good[i], why, sizeof(why));
        if (!ok)
            printf("# '%s': %s\n", good[i], why);
        CHECK(ok);
    }
}

static void test_ere_bombs(void)
{
    CHECK(refused("a{1,32767}", "larger than 255"));
    CHECK(refused("(a{1,100}){1,100}", "expand it past 512"));
    CHECK(refused("(a{1,255}){1,7}b", "expand it past 512"));
    CHECK(refused("((a{2}){2}){2}((b{10}){10}){10}((c{10}){10}){10}", "expand it past"));
    CHECK(refused("(a*)*\\1", "back-reference"));
    char deep[200] = "";
    for (int i = 0; i < 20; i++)
        strcat(deep, "(");
    strcat(deep, "a");
    for (int i = 0; i < 20; i++)
        strcat(deep, ")");
    CHECK(refused(deep, "nested deeper than 16"));
    char *long_p = malloc(2000);
    memset(long_p, 'a', 1999);
    long_p[1999] = '\0';
    CHECK(refused(long_p, "longer than 1024"));
    free(long_p);
    /* A bound with a huge number is refused, not overflowed. */
    CHECK(refused("a{99999999999999999999}", "larger than 255"));
}

/* The worst patterns the bounds let through, compiled and matched against a crash report's
 * worth of text that almost matches. */
static void test_ere_worst_is_fast(void)
{
    const char *worst[] = {
        "(a{1,255}){1,2}b",
        "(.*a.*){1,120}z",
        "((a|b|c|d|e|f|g){1,8}){1,8}q",
        "([[:alnum:]]*x){1,200}$",
        "(a?){1,255}a{1,255}",
    };
    static char text[8192];
    memset(text, 'a', sizeof(text) - 1);
    double worst_s = 0;
    for (size_t i = 0; i < sizeof(worst) / sizeof(worst[0]); i++) {
        char why[256];
        bool ok = cl_ere_check(worst[i], why, sizeof(why));
        if (!ok)
            printf("# '%s': %s\n", worst[i], why);
        CHECK(ok);
        double t = now();
        regex_t re;
        if (regcomp(&re, worst[i], REG_EXTENDED | REG_NOSUB) == 0) {
            regexec(&re, text, 0, NULL, 0);
            regfree(&re);
        }
        double dt = now() - t;
        printf("# %-40s %.3f s\n", worst[i], dt);
        if (dt > worst_s)
            worst_s = dt;
    }
    CHECK(worst_s < 2.0);
}

int main(void)
{
    RUN_TEST(test_ere_ordinary);
    RUN_TEST(test_ere_bombs);
    RUN_TEST(test_ere_worst_is_fast);
    TEST_EXIT();
}
