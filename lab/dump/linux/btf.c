#include "dump/linux/btf.h"

#include <stdlib.h>
#include <string.h>

#include "dump/le.h"

#define BTF_MAGIC 0xeb9f
enum { K_INT = 1, K_PTR, K_ARRAY, K_STRUCT, K_UNION, K_ENUM, K_FWD, K_TYPEDEF, K_VOLATILE, K_CONST,
       K_RESTRICT, K_FUNC, K_FUNC_PROTO, K_VAR, K_DATASEC, K_FLOAT, K_DECL_TAG, K_TYPE_TAG, K_ENUM64 };

struct cl_btf {
    const unsigned char *types, *strs;
    uint32_t types_len, strs_len;
    uint32_t n;       /* type ids 1..n */
    uint32_t *at;     /* at[id] = offset of the type record in types */
};

void cl_btf_free(cl_btf *b)
{
    if (!b)
        return;
    free(b->at);
    free(b);
}

/* Bytes of kind-specific data after the 12-byte record; -1 for a kind this parser does not know. */
static long extra_len(unsigned kind, uint32_t vlen)
{
    switch (kind) {
    case K_INT: case K_VAR: case K_DECL_TAG: return 4;
    case K_PTR: case K_FWD: case K_TYPEDEF: case K_VOLATILE: case K_CONST: case K_RESTRICT:
    case K_FUNC: case K_FLOAT: case K_TYPE_TAG: return 0;
    case K_ARRAY: return 12;
    case K_STRUCT: case K_UNION: case K_DATASEC: case K_ENUM64: return 12L * vlen;
    case K_ENUM: case K_FUNC_PROTO: return 8L * vlen;
    default: return -1;
    }
}

cl_btf *cl_btf_parse(const unsigned char *buf, size_t len, cl_error **errp)
{
    if (len < 24 || len > CL_BTF_MAX_BYTES || cl_le16(buf) != BTF_MAGIC) {
        cl_error_set(errp, CL_ERR_FORMAT, "btf: no BTF header");
        return NULL;
    }
    uint64_t hdr = cl_le32(buf + 4), toff = cl_le32(buf + 8), tlen = cl_le32(buf + 12);
    uint64_t soff = cl_le32(buf + 16), slen = cl_le32(buf + 20);
    if (hdr < 24 || hdr + toff + tlen > len || hdr + soff + slen > len || slen == 0) {
        cl_error_set(errp, CL_ERR_CORRUPT, "btf: sections outside the %zu-byte blob", len);
        return NULL;
    }
    CL_AUTOPTR(cl_btf) b = calloc(1, sizeof(*b));
    if (!b) {
        cl_error_set(errp, CL_ERR_NOMEM, "btf: cannot allocate");
        return NULL;
    }
    b->types = buf + hdr + toff;
    b->types_len = (uint32_t)tlen;
    b->strs = buf + hdr + soff;
    b->strs_len = (uint32_t)slen;
    size_t cap = 0;
    for (uint64_t p = 0; p < tlen;) {
        if (p + 12 > tlen)
            return cl_error_set(errp, CL_ERR_CORRUPT, "btf: type record cut at %llu", (unsigned long long)p), NULL;
        uint32_t info = cl_le32(b->types + p + 4);
        long extra = extra_len((info >> 24) & 0x1f, info & 0xffff);
        if (extra < 0)
            return cl_error_set(errp, CL_ERR_FORMAT, "btf: unknown kind %u", (info >> 24) & 0x1f), NULL;
        if (b->n + 1 >= CL_BTF_MAX_TYPES)
            return cl_error_set(errp, CL_ERR_CORRUPT, "btf: more than %u types", CL_BTF_MAX_TYPES), NULL;
        if (b->n + 2 > cap) {
            cap = cap ? cap * 2 : 4096;
            uint32_t *at = realloc(b->at, cap * sizeof(*at));
            if (!at)
                return cl_error_set(errp, CL_ERR_NOMEM, "btf: cannot allocate"), NULL;
            b->at = at;
        }
        b->at[++b->n] = (uint32_t)p;
        p += 12 + (uint64_t)extra;
        if (p > tlen)
            return cl_error_set(errp, CL_ERR_CORRUPT, "btf: type %u runs past the section", b->n), NULL;
    }
    return cl_steal_pointer(&b);
}

/* The string at off, or "" when it is outside the section or not terminated inside it. */
static const char *str_at(const cl_btf *b, uint32_t off)
{
    if (off >= b->strs_len || !memchr(b->strs + off, 0, b->strs_len - off))
        return "";
    return (const char *)b->strs + off;
}

static const unsigned char *rec(const cl_btf *b, uint32_t id)
{
    return id >= 1 && id <= b->n ? b->types + b->at[id] : NULL;
}

static unsigned kind_of(const unsigned char *t) { return (cl_le32(t + 4) >> 24) & 0x1f; }

/* Follows typedef/const/volatile/restrict/type_tag to a struct or union; 0 when none. */
static uint32_t resolve_aggregate(const cl_btf *b, uint32_t id)
{
    for (int depth = 0; depth < 32; depth++) {
        const unsigned char *t = rec(b, id);
        if (!t)
            return 0;
        unsigned k = kind_of(t);
        if (k == K_STRUCT || k == K_UNION)
            return id;
        if (k != K_TYPEDEF && k != K_CONST && k != K_VOLATILE && k != K_RESTRICT && k != K_TYPE_TAG)
            return 0;
        id = cl_le32(t + 8);
    }
    return 0;
}

/* Finds member `name` (length nlen) in aggregate id, looking into anonymous members. */
static bool find_member(const cl_btf *b, uint32_t id, const char *name, size_t nlen, int depth,
                        uint64_t *off, uint32_t *type)
{
    const unsigned char *t = rec(b, id);
    if (!t || depth > 8)
        return false;
    uint32_t info = cl_le32(t + 4), vlen = info & 0xffff;
    bool bitfield_enc = info >> 31;
    for (uint32_t i = 0; i < vlen; i++) {
        const unsigned char *m = t + 12 + 12 * i;
        uint32_t moff = cl_le32(m + 8), bits = bitfield_enc ? (moff & 0xffffff) : moff;
        const char *mn = str_at(b, cl_le32(m));
        if (!mn[0]) {
            uint32_t inner = resolve_aggregate(b, cl_le32(m + 4));
            uint64_t o;
            if (inner && find_member(b, inner, name, nlen, depth + 1, &o, type)) {
                *off = bits / 8 + o;
                return true;
            }
        } else if (strlen(mn) == nlen && !memcmp(mn, name, nlen)) {
            *off = bits / 8;
            *type = cl_le32(m + 4);
            return true;
        }
    }
    return false;
}

bool cl_btf_offset(const cl_btf *b, const char *type, const char *path, uint64_t *off, cl_error **errp)
{
    uint32_t id = 0;
    for (uint32_t i = 1; i <= b->n && !id; i++) {
        const unsigned char *t = rec(b, i);
        if (kind_of(t) == K_STRUCT && !strcmp(str_at(b, cl_le32(t)), type) && (cl_le32(t + 4) & 0xffff))
            id = i;
    }
    if (!id)
        return cl_error_set(errp, CL_ERR_FORMAT, "btf: no struct %s", type);
    uint64_t total = 0;
    for (const char *p = path; *p;) {
        const char *dot = strchr(p, '.');
        size_t nlen = dot ? (size_t)(dot - p) : strlen(p);
        uint64_t o;
        uint32_t mtype = 0;
        if (!id || !find_member(b, id, p, nlen, 0, &o, &mtype))
            return cl_error_set(errp, CL_ERR_FORMAT, "btf: no member %s.%s", type, path);
        total += o;
        if (!dot)
            break;
        id = resolve_aggregate(b, mtype);
        p = dot + 1;
    }
    *off = total;
    return true;
}
