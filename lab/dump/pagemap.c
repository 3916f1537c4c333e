#include "dump/pagemap.h"

#include <stdlib.h>
#include <string.h>

#include "dump/le.h"

#define WORDS_PER_BLOCK (CL_PAGEMAP_BLOCK / 64)

/* The bitmap is allocated to a whole number of words (the padding stays zero), so that a
 * word holding the last page can be read whole. */
static uint64_t word(const cl_pagemap *m, uint64_t w)
{
    return cl_le64(m->bits + w * 8);
}

static uint64_t nwords(const cl_pagemap *m)
{
    return m->npages / 64 + (m->npages % 64 != 0);
}

bool cl_pagemap_init(cl_pagemap *m, uint64_t npages, uint64_t max_bytes, cl_error **errp)
{
    memset(m, 0, sizeof(*m));
    uint64_t bytes = npages / 8 + (npages % 8 != 0);
    if (bytes > max_bytes)
        return cl_error_set(errp, CL_ERR_CORRUPT, "page map: %llu pages need %llu bytes of bitmap, %llu are there",
                            (unsigned long long)npages, (unsigned long long)bytes, (unsigned long long)max_bytes);
    uint64_t padded = (bytes / 8 + 1) * 8;
    if (padded > SIZE_MAX / 2)
        return cl_error_set(errp, CL_ERR_NOMEM, "page map: a %llu-byte bitmap is too large", (unsigned long long)bytes);
    m->bits = calloc(1, (size_t)padded);
    m->rank = calloc((size_t)(npages / CL_PAGEMAP_BLOCK + 1), sizeof(uint64_t));
    if (!m->bits || !m->rank) {
        cl_pagemap_free(m);
        return cl_error_set(errp, CL_ERR_NOMEM, "page map: cannot allocate a %llu-byte bitmap",
                            (unsigned long long)bytes);
    }
    m->npages = npages;
    return true;
}

bool cl_pagemap_load(cl_pagemap *m, const void *buf, uint64_t len, uint64_t npages, cl_error **errp)
{
    if (!cl_pagemap_init(m, npages, len, errp))
        return false;
    memcpy(m->bits, buf, (size_t)cl_pagemap_bytes(m));
    cl_pagemap_seal(m);
    return true;
}

void cl_pagemap_free(cl_pagemap *m)
{
    free(m->bits);
    free(m->rank);
    memset(m, 0, sizeof(*m));
}

bool cl_pagemap_set(cl_pagemap *m, uint64_t pfn)
{
    if (pfn >= m->npages)
        return false;
    m->bits[pfn / 8] |= (unsigned char)(1u << (pfn % 8));
    return true;
}

bool cl_pagemap_test(const cl_pagemap *m, uint64_t pfn)
{
    return pfn < m->npages && (m->bits[pfn / 8] >> (pfn % 8) & 1);
}

uint64_t cl_pagemap_seal(cl_pagemap *m)
{
    uint64_t bytes = cl_pagemap_bytes(m);
    if (!m->bits)
        return m->set = 0;
    /* A Windows bitmap's last byte may carry bits past Pages: they are not pages. */
    if (m->npages % 8)
        m->bits[bytes - 1] &= (unsigned char)((1u << (m->npages % 8)) - 1);
    memset(m->bits + bytes, 0, (size_t)((bytes / 8 + 1) * 8 - bytes));
    uint64_t set = 0, n = nwords(m);
    for (uint64_t w = 0; w < n; w++) {
        if (w % WORDS_PER_BLOCK == 0)
            m->rank[w / WORDS_PER_BLOCK] = set;
        set += (uint64_t)__builtin_popcountll(word(m, w));
    }
    return m->set = set;
}

uint64_t cl_pagemap_rank(const cl_pagemap *m, uint64_t pfn)
{
    if (pfn >= m->npages)
        return m->set;
    uint64_t w = pfn / 64;
    uint64_t r = m->rank[pfn / CL_PAGEMAP_BLOCK];
    for (uint64_t i = w / WORDS_PER_BLOCK * WORDS_PER_BLOCK; i < w; i++)
        r += (uint64_t)__builtin_popcountll(word(m, i));
    return r + (uint64_t)__builtin_popcountll(word(m, w) & ((1ull << (pfn % 64)) - 1));
}

bool cl_pagemap_next(const cl_pagemap *m, uint64_t pfn, uint64_t *next)
{
    if (pfn >= m->npages)
        return false;
    uint64_t w = pfn / 64, n = nwords(m);
    uint64_t v = word(m, w) & (~0ull << (pfn % 64));
    while (!v) {
        if (++w >= n)
            return false;
        v = word(m, w);
    }
    uint64_t p = w * 64 + (uint64_t)__builtin_ctzll(v);
    if (p >= m->npages) /* bits past the end, before seal */
        return false;
    *next = p;
    return true;
}

bool cl_pagemap_next_held(const cl_pagemap *m, uint64_t pfn, uint64_t held, uint64_t *next)
{
    uint64_t p;
    if (!cl_pagemap_next(m, pfn, &p) || cl_pagemap_rank(m, p) >= held)
        return false;
    *next = p;
    return true;
}

bool cl_pagemap_next_run(const cl_pagemap *m, uint64_t pfn, uint64_t *start, uint64_t *count)
{
    uint64_t s;
    if (!cl_pagemap_next(m, pfn, &s))
        return false;
    uint64_t w = s / 64, n = nwords(m), end = m->npages;
    uint64_t v = ~word(m, w) & (~0ull << (s % 64));
    while (!v && ++w < n)
        v = ~word(m, w);
    if (v && w < n && w * 64 + (uint64_t)__builtin_ctzll(v) < end)
        end = w * 64 + (uint64_t)__builtin_ctzll(v);
    *start = s;
    *count = end - s;
    return true;
}
