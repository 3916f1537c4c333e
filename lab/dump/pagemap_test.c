/* pagemap_test.c - the page map against a plain bit-by-bit reference: rank, next, next_held
 * and runs agree with it for every pfn of an irregular map across several rank blocks; and
 * the hostile cases: a bitmap shorter than its claim, a pfn past the end, all ones with stray
 * bits past the end, all zero, a claim of 2^40 pages. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dump/pagemap.h"

static bool ref_test(const unsigned char *b, uint64_t pfn)
{
    return b[pfn / 8] >> (pfn % 8) & 1;
}

/* Three rank blocks and a tail that ends inside a word and a byte. */
#define N (3 * CL_PAGEMAP_BLOCK + 133)

static void test_against_reference(void)
{
    static unsigned char buf[N / 8 + 1];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    memset(buf + 100, 0, 700);  /* a long gap, past a block edge */
    memset(buf + 900, 0xff, 20); /* a long run */
    cl_pagemap m;
    CHECK(cl_pagemap_load(&m, buf, sizeof(buf), N, NULL));
    uint64_t set = 0, bad_rank = 0, bad_test = 0, bad_next = 0;
    for (uint64_t p = 0; p < N; p++) {
        bad_rank += cl_pagemap_rank(&m, p) != set;
        bad_test += cl_pagemap_test(&m, p) != ref_test(buf, p);
        uint64_t q = p, got = 0;
        while (q < N && !ref_test(buf, q))
            q++;
        bool found = cl_pagemap_next(&m, p, &got);
        bad_next += q < N ? !found || got != q : found;
        set += ref_test(buf, p);
    }
    CHECK(bad_rank == 0 && bad_test == 0 && bad_next == 0);
    CHECK(m.set == set && cl_pagemap_rank(&m, N) == set);
    /* The runs rebuild the map exactly. */
    static unsigned char rebuilt[sizeof(buf)];
    uint64_t p = 0, s = 0, c = 0, runs = 0;
    while (cl_pagemap_next_run(&m, p, &s, &c)) {
        CHECK(c > 0 && s >= p && s + c <= N);
        for (uint64_t i = s; i < s + c; i++)
            rebuilt[i / 8] |= (unsigned char)(1u << (i % 8));
        p = s + c;
        runs++;
    }
    buf[N / 8] &= (unsigned char)((1u << (N % 8)) - 1); /* bits past N are not pages */
    CHECK(runs > 100 && !memcmp(rebuilt, buf, sizeof(buf)));
    /* next_held: the page whose rank is held - 1 is the last one. */
    uint64_t last = 0, beyond = 0;
    CHECK(cl_pagemap_next(&m, 0, &last));
    while (cl_pagemap_rank(&m, last) < 999)
        CHECK(cl_pagemap_next(&m, last + 1, &last));
    CHECK(cl_pagemap_next_held(&m, last, 1000, &beyond) && beyond == last);
    CHECK(!cl_pagemap_next_held(&m, last + 1, 1000, &beyond));
    CHECK(!cl_pagemap_next_held(&m, 0, 0, &beyond));
    cl_pagemap_free(&m);
}

static void test_set_and_past_end(void)
{
    cl_pagemap m;
    CHECK(cl_pagemap_init(&m, 70, 9, NULL));
    CHECK(cl_pagemap_set(&m, 0) && cl_pagemap_set(&m, 64) && cl_pagemap_set(&m, 69));
    CHECK(!cl_pagemap_set(&m, 70) && !cl_pagemap_set(&m, UINT64_MAX));
    CHECK(cl_pagemap_seal(&m) == 3);
    CHECK(cl_pagemap_test(&m, 69) && !cl_pagemap_test(&m, 70) && !cl_pagemap_test(&m, UINT64_MAX));
    CHECK(cl_pagemap_rank(&m, 69) == 2 && cl_pagemap_rank(&m, 70) == 3 && cl_pagemap_rank(&m, UINT64_MAX) == 3);
    uint64_t p = 0, c = 0;
    CHECK(cl_pagemap_next(&m, 1, &p) && p == 64);
    CHECK(!cl_pagemap_next(&m, 70, &p) && !cl_pagemap_next(&m, UINT64_MAX, &p));
    CHECK(cl_pagemap_next_run(&m, 65, &p, &c) && p == 69 && c == 1);
    CHECK(!cl_pagemap_next_run(&m, 70, &p, &c));
    cl_pagemap_free(&m);
    CHECK(m.npages == 0 && !cl_pagemap_test(&m, 0));
    /* Bits past the end written by a caller before seal are not pages either. */
    CHECK(cl_pagemap_init(&m, 13, 2, NULL));
    m.bits[1] = 0xe0; /* pages 13, 14, 15 */
    CHECK(!cl_pagemap_next(&m, 0, &p) && !cl_pagemap_test(&m, 13));
    CHECK(cl_pagemap_seal(&m) == 0);
    cl_pagemap_free(&m);
}

static void test_shorter_than_claimed(void)
{
    unsigned char buf[16];
    memset(buf, 0xff, sizeof(buf));
    cl_pagemap m;
    cl_error *err = NULL;
    CHECK(!cl_pagemap_load(&m, buf, sizeof(buf), 8 * sizeof(buf) + 1, &err));
    CHECK(err && err->code == CL_ERR_CORRUPT);
    cl_error_free(err);
    /* A refused map is empty, not half made. */
    uint64_t p = 0;
    CHECK(m.npages == 0 && !m.bits && !cl_pagemap_test(&m, 0) && !cl_pagemap_next(&m, 0, &p));
    CHECK(cl_pagemap_rank(&m, 0) == 0);
    cl_pagemap_free(&m);
    CHECK(cl_pagemap_load(&m, buf, sizeof(buf), 8 * sizeof(buf), NULL) && m.set == 8 * sizeof(buf));
    cl_pagemap_free(&m);
}

static void test_all_ones(void)
{
    /* 8195 pages: the last byte's five stray bits past the end must not count. */
    unsigned char buf[1025];
    memset(buf, 0xff, sizeof(buf));
    cl_pagemap m;
    CHECK(cl_pagemap_load(&m, buf, sizeof(buf), 8195, NULL));
    CHECK(m.set == 8195 && cl_pagemap_rank(&m, 8194) == 8194 && cl_pagemap_rank(&m, 5000) == 5000);
    uint64_t s = 1, c = 0;
    CHECK(cl_pagemap_next_run(&m, 0, &s, &c) && s == 0 && c == 8195);
    CHECK(cl_pagemap_next_run(&m, 8000, &s, &c) && s == 8000 && c == 195);
    CHECK(!cl_pagemap_next_run(&m, 8195, &s, &c));
    CHECK(cl_pagemap_next_held(&m, 99, 100, &s) && s == 99 && !cl_pagemap_next_held(&m, 100, 100, &s));
    cl_pagemap_free(&m);
}

static void test_all_zero(void)
{
    static unsigned char buf[3 * CL_PAGEMAP_BLOCK / 8];
    cl_pagemap m;
    CHECK(cl_pagemap_load(&m, buf, sizeof(buf), 8 * sizeof(buf), NULL));
    uint64_t p = 0, c = 0;
    CHECK(m.set == 0 && cl_pagemap_rank(&m, 8 * sizeof(buf) - 1) == 0);
    CHECK(!cl_pagemap_next(&m, 0, &p) && !cl_pagemap_next_run(&m, 0, &p, &c));
    cl_pagemap_free(&m);
    /* Zero pages: a valid, empty map. */
    CHECK(cl_pagemap_load(&m, buf, 0, 0, NULL) && m.set == 0 && !cl_pagemap_next(&m, 0, &p));
    cl_pagemap_free(&m);
}

static void test_huge_claim(void)
{
    /* 2^40 pages need 128 GiB of bitmap: refused by what backs it, before any allocation. */
    unsigned char buf[4096] = { 0 };
    cl_pagemap m;
    cl_error *err = NULL;
    CHECK(!cl_pagemap_init(&m, 1ull << 40, 1ull << 30, &err) && err && err->code == CL_ERR_CORRUPT);
    cl_error_free(err);
    CHECK(!cl_pagemap_load(&m, buf, sizeof(buf), 1ull << 40, NULL) && m.npages == 0);
    CHECK(!cl_pagemap_init(&m, UINT64_MAX, UINT64_MAX / 16, NULL));
}

int main(void)
{
    RUN_TEST(test_against_reference);
    RUN_TEST(test_set_and_past_end);
    RUN_TEST(test_shorter_than_claimed);
    RUN_TEST(test_all_ones);
    RUN_TEST(test_all_zero);
    RUN_TEST(test_huge_claim);
    TEST_EXIT();
}
