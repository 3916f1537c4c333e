/* check.h - the unit-test harness: TAP-like lines, counted by tests/run.sh.
 * Each test binary prints "ok - name" or "not ok - name # file:line: expr" per check
 * group and exits non-zero when anything failed. */
#ifndef CL_TESTS_CHECK_H
#define CL_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int cl_t_failed_total;
static int cl_t_failed_here;
static const char *cl_t_name;

#define CHECK(expr)                                                                   \
    do {                                                                              \
        if (!(expr)) {                                                                \
            if (!cl_t_failed_here)                                                    \
                printf("not ok - %s # %s:%d: %s\n", cl_t_name, __FILE__, __LINE__, #expr); \
            cl_t_failed_here++;                                                       \
        }                                                                             \
    } while (0)

#define CHECK_STR(a, b)                                                               \
    do {                                                                              \
        const char *cl_a_ = (a), *cl_b_ = (b);                                        \
        if (!cl_a_ || !cl_b_ || strcmp(cl_a_, cl_b_)) {                               \
            if (!cl_t_failed_here)                                                    \
                printf("not ok - %s # %s:%d: \"%s\" != \"%s\"\n", cl_t_name, __FILE__, \
                       __LINE__, cl_a_ ? cl_a_ : "(null)", cl_b_ ? cl_b_ : "(null)"); \
            cl_t_failed_here++;                                                       \
        }                                                                             \
    } while (0)

#define RUN_TEST(fn)                                                                  \
    do {                                                                              \
        cl_t_name = #fn;                                                              \
        cl_t_failed_here = 0;                                                         \
        fn();                                                                         \
        if (!cl_t_failed_here)                                                        \
            printf("ok - %s\n", #fn);                                                 \
        else                                                                          \
            cl_t_failed_total++;                                                      \
        fflush(stdout);                                                               \
    } while (0)

#define TEST_EXIT() return cl_t_failed_total ? 1 : 0

#endif
