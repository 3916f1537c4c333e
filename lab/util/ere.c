/* ere.c - the size a POSIX ERE grows to when its counted repeats are expanded (ere.h). */
#include "ere.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Each open group keeps the size of what it holds so far; the last atom's size is what a
 * following repeat multiplies. Sizes saturate at a value far above the bound. */
typedef struct {
    uint64_t total; /* atoms in the group so far, alternatives summed */
    uint64_t last;  /* size of the last atom, 0 when there is none to repeat */
} frame;

#define SAT(x) ((x) > (1ull << 40) ? (1ull << 40) : (x))

/* Length of the bracket expression starting at p ('['), or 0 when it never closes. */
static size_t bracket_len(const char *p)
{
    size_t i = 1;
    if (p[i] == '^')
        i++;
    if (p[i] == ']')
        i++;
    while (p[i] && p[i] != ']') {
        if (p[i] == '[' && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
            char end = p[i + 1];
            const char *q = p + i + 2;
            while (*q && !(q[0] == end && q[1] == ']'))
                q++;
            if (!*q)
                return 0;
            i = (size_t)(q - p) + 2;
            continue;
        }
        i++;
    }
    return p[i] == ']' ? i + 1 : 0;
}

/* Parses "{m}", "{m,}" or "{m,n}" at p; *len gets its length, *count the expansion factor.
 * False when it is not a well-formed bound (regcomp will say so) or too large. */
static bool parse_bound(const char *p, size_t *len, unsigned long *count, bool *too_big)
{
    const char *q = p + 1;
    unsigned long m = 0, n = 0;
    bool have_n = false, comma = false;
    if (*q < '0' || *q > '9')
        return false;
    while (*q >= '0' && *q <= '9') {
        m = m * 10 + (unsigned long)(*q++ - '0');
        if (m > 100000)
            m = 100000;
    }
    if (*q == ',') {
        comma = true;
        q++;
        while (*q >= '0' && *q <= '9') {
            have_n = true;
            n = n * 10 + (unsigned long)(*q++ - '0');
            if (n > 100000)
                n = 100000;
        }
    }
    if (*q != '}')
        return false;
    *len = (size_t)(q - p) + 1;
    *too_big = m > CL_ERE_MAX_REPEAT || n > CL_ERE_MAX_REPEAT;
    /* {m,} keeps m copies and a starred one. */
    *count = have_n ? n : comma ? m + 1 : m;
    if (*count == 0)
        *count = 1;
    return true;
}

bool cl_ere_check(const char *pattern, char *why, size_t whylen)
{
    size_t plen = strlen(pattern);
    if (plen > CL_ERE_MAX_LEN) {
        snprintf(why, whylen, "longer than %d bytes", CL_ERE_MAX_LEN);
        return false;
    }
    frame st[CL_ERE_MAX_DEPTH + 1];
    int depth = 0;
    memset(&st[0], 0, sizeof(st[0]));
    for (size_t i = 0; i < plen;) {
        char ch = pattern[i];
        frame *f = &st[depth];
        uint64_t atom = 0;
        size_t adv = 1;
        if (ch == '\\') {
            if (pattern[i + 1] >= '1' && pattern[i + 1] <= '9') {
                snprintf(why, whylen, "back-reference '\\%c' at offset %zu is not allowed (matching with one can take exponential time)",
                         pattern[i + 1], i);
                return false;
            }
            atom = 1;
            adv = pattern[i + 1] ? 2 : 1;
        } else if (ch == '[') {
            size_t bl = bracket_len(pattern + i);
            atom = 1;
            adv = bl ? bl : 1;
        } else if (ch == '(') {
            if (depth == CL_ERE_MAX_DEPTH) {
                snprintf(why, whylen, "groups nested deeper than %d at offset %zu", CL_ERE_MAX_DEPTH, i);
                return false;
            }
            memset(&st[++depth], 0, sizeof(st[0]));
            i++;
            continue;
        } else if (ch == ')' && depth > 0) {
            atom = st[depth].total ? st[depth].total : 1;
            depth--;
            f = &st[depth];
        } else if (ch == '|') {
            f->last = 0;
            i++;
            continue;
        } else if (ch == '*' || ch == '+' || ch == '?') {
            i++;
            continue; /* a starred atom is one loop, not copies */
        } else if (ch == '{' && f->last) {
            size_t bl;
            unsigned long count;
            bool too_big;
            if (parse_bound(pattern + i, &bl, &count, &too_big)) {
                if (too_big) {
                    snprintf(why, whylen, "repeat count at offset %zu is larger than %d", i, CL_ERE_MAX_REPEAT);
                    return false;
                }
                /* The last atom is now count copies of itself. */
                f->total = SAT(f->total - f->last + f->last * count);
                f->last = SAT(f->last * count);
                i += bl;
                goto check;
            }
            atom = 1;
        } else {
            atom = 1;
        }
        f->total = SAT(f->total + atom);
        f->last = atom;
        i += adv;
    check:
        /* The expansion so far, counting what every open group already holds. */
        {
            uint64_t sum = 0;
            for (int d = 0; d <= depth; d++)
                sum = SAT(sum + st[d].total);
            if (sum > CL_ERE_MAX_NODES) {
                snprintf(why, whylen, "counted repeats expand it past %d atoms (at offset %zu)", CL_ERE_MAX_NODES, i);
                return false;
            }
        }
    }
    return true;
}
