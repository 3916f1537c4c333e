/* btf_test.c - the BTF offset parser on a blob built here the way the kernel lays it out
 * (task_struct with pid after an anonymous union, comm through a typedef; module with a nested
 * core_layout; mod_kallsyms), then the same blob damaged: cut at every length, every word
 * overwritten with extremes, a typedef loop, member types and strings out of range. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dump/linux/btf.h"

typedef struct {
    unsigned char b[4096];
    size_t n;
    char s[1024];
    size_t sn;
} builder;

static void put32(builder *bd, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        bd->b[bd->n++] = (unsigned char)(v >> (8 * i));
}

static uint32_t str(builder *bd, const char *s)
{
    if (!*s)
        return 0;
    uint32_t off = (uint32_t)bd->sn;
    memcpy(bd->s + bd->sn, s, strlen(s) + 1);
    bd->sn += strlen(s) + 1;
    return off;
}

static void type(builder *bd, const char *name, unsigned kind, unsigned vlen, bool kflag, uint32_t size_or_type)
{
    put32(bd, str(bd, name));
    put32(bd, (uint32_t)kind << 24 | vlen | (kflag ? 1u << 31 : 0));
    put32(bd, size_or_type);
}

static void member(builder *bd, const char *name, uint32_t t, uint32_t bits)
{
    put32(bd, str(bd, name));
    put32(bd, t);
    put32(bd, bits);
}

/* Returns the whole blob (header, types, strings) in a malloc'd buffer. */
static unsigned char *build(size_t *len)
{
    builder bd = { .n = 0, .sn = 1 }; /* string 0 is "" */
    bd.s[0] = '\0';
    type(&bd, "int", 1, 0, false, 4);                    /* 1 */
    put32(&bd, 32);
    type(&bd, "char", 1, 0, false, 1);                   /* 2 */
    put32(&bd, 8);
    type(&bd, "", 3, 0, false, 0);                       /* 3: char[16] */
    put32(&bd, 2), put32(&bd, 1), put32(&bd, 16);
    type(&bd, "comm_t", 8, 0, false, 3);                 /* 4: typedef */
    type(&bd, "", 5, 2, false, 8);                       /* 5: anonymous union */
    member(&bd, "flags", 1, 0);
    member(&bd, "state", 1, 0);
    type(&bd, "task_struct", 4, 4, true, 64);            /* 6: kind_flag: bitfield encoding */
    member(&bd, "", 5, 0);
    member(&bd, "bits", 1, 3u << 24 | 64);               /* a 3-bit field at bit 64 */
    member(&bd, "pid", 1, 8 * 0x28);
    member(&bd, "comm", 4, 8 * 0x30);
    type(&bd, "", 2, 0, false, 0);                       /* 7: void * */
    type(&bd, "module_layout", 4, 2, false, 16);         /* 8 */
    member(&bd, "base", 7, 0);
    member(&bd, "size", 1, 64);
    type(&bd, "const_layout", 10, 0, false, 8);          /* 9: const struct module_layout */
    type(&bd, "module", 4, 3, false, 128);               /* 10 */
    member(&bd, "list", 7, 8 * 8);
    member(&bd, "name", 3, 8 * 0x18);
    member(&bd, "core_layout", 9, 8 * 0x40);
    type(&bd, "loop", 8, 0, false, 11);                  /* 11: typedef to itself */
    type(&bd, "module", 7, 0, false, 0);                 /* 12: a forward declaration, skipped */
    type(&bd, "looped", 4, 1, false, 8);                 /* 13 */
    member(&bd, "x", 11, 0);
    type(&bd, "badref", 4, 1, false, 8);                 /* 14: member of a type that does not exist */
    member(&bd, "x", 9999, 0);
    size_t total = 24 + bd.n + bd.sn;
    unsigned char *b = malloc(total);
    b[0] = 0x9f, b[1] = 0xeb, b[2] = 1, b[3] = 0;
    uint32_t h[5] = { 24, 0, (uint32_t)bd.n, (uint32_t)bd.n, (uint32_t)bd.sn };
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            b[4 + 4 * i + j] = (unsigned char)(h[i] >> (8 * j));
    memcpy(b + 24, bd.b, bd.n);
    memcpy(b + 24 + bd.n, bd.s, bd.sn);
    *len = total;
    return b;
}

static uint64_t off_of(const cl_btf *b, const char *t, const char *path)
{
    uint64_t o = UINT64_MAX;
    cl_error *err = NULL;
    if (!cl_btf_offset(b, t, path, &o, &err))
        o = UINT64_MAX;
    cl_error_free(err);
    return o;
}

static void test_offsets(void)
{
    size_t len;
    unsigned char *blob = build(&len);
    cl_error *err = NULL;
    cl_btf *b = cl_btf_parse(blob, len, &err);
    CHECK(b != NULL);
    CHECK(off_of(b, "task_struct", "pid") == 0x28);
    CHECK(off_of(b, "task_struct", "comm") == 0x30);
    CHECK(off_of(b, "task_struct", "state") == 0);   /* through the anonymous union */
    CHECK(off_of(b, "task_struct", "bits") == 8);    /* bitfield encoding: low 24 bits */
    CHECK(off_of(b, "module", "core_layout.size") == 0x48); /* through const */
    CHECK(off_of(b, "module", "core_layout.base") == 0x40);
    CHECK(off_of(b, "module", "name") == 0x18);
    CHECK(off_of(b, "task_struct", "tgid") == UINT64_MAX);
    CHECK(off_of(b, "task_struct", "pid.x") == UINT64_MAX);  /* int has no members */
    CHECK(off_of(b, "looped", "x.y") == UINT64_MAX);         /* typedef loop ends */
    CHECK(off_of(b, "badref", "x.y") == UINT64_MAX);
    CHECK(off_of(b, "nosuch", "pid") == UINT64_MAX);
    cl_btf_free(b);
    /* a wrong magic */
    blob[0] ^= 1;
    CHECK(cl_btf_parse(blob, len, &err) == NULL && err);
    cl_error_free(err), err = NULL;
    blob[0] ^= 1;
    free(blob);
}

/* Every cut and every word set to extremes: parse fails or lookups stay inside the blob (ASan/valgrind judge). */
static void test_hostile(void)
{
    size_t len;
    unsigned char *blob = build(&len);
    size_t parsed_cuts = 0;
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *c = malloc(cut ? cut : 1);
        memcpy(c, blob, cut);
        cl_error *err = NULL;
        cl_btf *b = cl_btf_parse(c, cut, &err);
        if (b) {
            parsed_cuts++;
            off_of(b, "module", "core_layout.base");
            off_of(b, "task_struct", "comm");
        } else {
            CHECK(err != NULL);
        }
        cl_btf_free(b);
        cl_error_free(err);
        free(c);
    }
    CHECK(parsed_cuts == 0); /* the header's lengths cover the whole blob */
    static const uint32_t extremes[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x0400ffff, 0x04000000 | 0xffff };
    size_t survived = 0;
    for (size_t at = 4; at + 4 <= len; at += 4)
        for (size_t e = 0; e < sizeof(extremes) / sizeof(extremes[0]); e++) {
            unsigned char *c = malloc(len);
            memcpy(c, blob, len);
            for (int j = 0; j < 4; j++)
                c[at + j] = (unsigned char)(extremes[e] >> (8 * j));
            cl_error *err = NULL;
            cl_btf *b = cl_btf_parse(c, len, &err);
            if (b) {
                survived++;
                off_of(b, "module", "core_layout.base");
                off_of(b, "task_struct", "comm");
                off_of(b, "looped", "x.y");
            }
            cl_btf_free(b);
            cl_error_free(err);
            free(c);
        }
    CHECK(survived > 0); /* damaged strings or member fields parse; lookups must still stay in bounds */
    free(blob);
}

/* BTF_SEED_OUT=FILE writes the blob: the fuzzing seed tests/data/dumps/regress/btf-synthetic */
static void write_seed(const char *path)
{
    size_t len;
    unsigned char *blob = build(&len);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(blob, 1, len, f) == len);
    if (f)
        fclose(f);
    free(blob);
}

int main(void)
{
    if (getenv("BTF_SEED_OUT"))
        write_seed(getenv("BTF_SEED_OUT"));
    RUN_TEST(test_offsets);
    RUN_TEST(test_hostile);
    TEST_EXIT();
}
