#include "dump/linux/kallsyms.h"

#include <stdlib.h>
#include <string.h>

#include "dump/le.h"
#include "dump/linux/vmcoreinfo.h"

struct cl_kallsyms {
    cl_kmem *k;
    uint32_t num;
    uint64_t *addr;        /* decoded address of each symbol */
    uint64_t names, token_table;
    uint16_t token_index[256];
};

void cl_kallsyms_free(cl_kallsyms *ks)
{
    if (!ks)
        return;
    free(ks->addr);
    free(ks);
}

cl_kallsyms *cl_kallsyms_load(cl_kmem *k, const char *vmci, cl_error **errp)
{
    uint64_t num_sym, offsets, base_sym, index_sym;
    CL_AUTOPTR(cl_kallsyms) ks = calloc(1, sizeof(*ks));
    if (!ks) {
        cl_error_set(errp, CL_ERR_NOMEM, "kallsyms: cannot allocate");
        return NULL;
    }
    ks->k = k;
    if (!cl_vmci_symbol(vmci, "kallsyms_names", &ks->names) || !cl_vmci_symbol(vmci, "kallsyms_num_syms", &num_sym) ||
        !cl_vmci_symbol(vmci, "kallsyms_token_table", &ks->token_table) ||
        !cl_vmci_symbol(vmci, "kallsyms_token_index", &index_sym) ||
        !cl_vmci_symbol(vmci, "kallsyms_offsets", &offsets) ||
        !cl_vmci_symbol(vmci, "kallsyms_relative_base", &base_sym)) {
        cl_error_set(errp, CL_ERR_FORMAT, "kallsyms: VMCOREINFO does not describe the kernel's symbol table");
        return NULL;
    }
    uint64_t base;
    unsigned char idx[512];
    if (!cl_kmem_read_u32(k, num_sym, &ks->num, errp) || !cl_kmem_read_u64(k, base_sym, &base, errp) ||
        !cl_kmem_read(k, index_sym, idx, sizeof(idx), errp)) {
        cl_error_prefix(errp, "kallsyms");
        return NULL;
    }
    for (int i = 0; i < 256; i++)
        ks->token_index[i] = cl_le16(idx + 2 * i);
    if (ks->num == 0 || ks->num > CL_KALLSYMS_MAX_SYMS) {
        cl_error_set(errp, CL_ERR_CORRUPT, "kallsyms: %u symbols is implausible", ks->num);
        return NULL;
    }
    unsigned char *raw = malloc((size_t)ks->num * 4);
    ks->addr = malloc((size_t)ks->num * sizeof(uint64_t));
    if (!raw || !ks->addr) {
        free(raw);
        cl_error_set(errp, CL_ERR_NOMEM, "kallsyms: cannot allocate %u offsets", ks->num);
        return NULL;
    }
    if (!cl_kmem_read(k, offsets, raw, (size_t)ks->num * 4, errp)) {
        free(raw);
        cl_error_prefix(errp, "kallsyms: offsets");
        return NULL;
    }
    /* With CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86-64 SMP) negative offsets are relative to
     * the base and non-negative ones are absolute per-CPU addresses. */
    bool abs_percpu = false;
    for (uint32_t i = 0; i < ks->num && !abs_percpu; i++)
        abs_percpu = (int32_t)cl_le32(raw + 4 * i) < 0;
    for (uint32_t i = 0; i < ks->num; i++) {
        int32_t o = (int32_t)cl_le32(raw + 4 * i);
        if (!abs_percpu)
            ks->addr[i] = base + (uint32_t)o;
        else
            ks->addr[i] = o >= 0 ? (uint64_t)o : base - 1 - (uint64_t)(int64_t)o;
    }
    free(raw);
    return cl_steal_pointer(&ks);
}

/* Sequential reads of the names stream, a page at a time. */
typedef struct {
    cl_kmem *k;
    uint64_t at;
    unsigned char buf[4096];
    uint64_t buf_at;
    size_t buf_len;
} stream;

static bool stream_byte(stream *s, unsigned char *c, cl_error **errp)
{
    if (s->at < s->buf_at || s->at >= s->buf_at + s->buf_len) {
        s->buf_at = s->at;
        s->buf_len = sizeof(s->buf) - (size_t)(s->at & (sizeof(s->buf) - 1));
        if (!cl_kmem_read(s->k, s->buf_at, s->buf, s->buf_len, errp))
            return false;
    }
    *c = s->buf[s->at - s->buf_at];
    s->at++;
    return true;
}

static bool entry_len(stream *s, size_t *len, cl_error **errp)
{
    unsigned char a, b;
    if (!stream_byte(s, &a, errp))
        return false;
    *len = a;
    if (a & 0x80) { /* 6.1+: names longer than 127 tokens take two bytes */
        if (!stream_byte(s, &b, errp))
            return false;
        *len = (size_t)(a & 0x7f) | (size_t)b << 7;
    }
    return true;
}

/* The 256 tokens a name is made of, each read from the dump once per call. */
typedef struct {
    char tok[256][64];
    bool have[256];
} tokcache;

/* Expands the n tokens at s into name (without the leading type character; unprintable
 * bytes as '?'), reading each token from the dump once. */
static bool decode_name(cl_kallsyms *ks, stream *s, size_t n, tokcache *tc, char *name, size_t len, cl_error **errp)
{
    size_t k = 0;
    bool first = true;
    for (size_t t = 0; t < n; t++) {
        unsigned char tok;
        if (!stream_byte(s, &tok, errp))
            return false;
        if (!tc->have[tok]) {
            if (!cl_kmem_read(ks->k, ks->token_table + ks->token_index[tok], tc->tok[tok], sizeof(tc->tok[tok]), errp))
                return false;
            tc->tok[tok][sizeof(tc->tok[tok]) - 1] = '\0';
            tc->have[tok] = true;
        }
        for (const char *c = tc->tok[tok]; *c; c++) {
            if (first) { /* the first character is the symbol type */
                first = false;
                continue;
            }
            if (k + 1 < len)
                name[k++] = (*c >= 0x20 && *c < 0x7f) ? *c : '?';
        }
    }
    if (len)
        name[k] = '\0';
    return true;
}

bool cl_kallsyms_lookup(cl_kallsyms *ks, uint64_t addr, char *name, size_t len, uint64_t *offset, cl_error **errp)
{
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < ks->num; i++)
        if (ks->addr[i] <= addr && (best == UINT32_MAX || ks->addr[i] >= ks->addr[best]))
            best = i;
    if (best == UINT32_MAX || addr - ks->addr[best] > (1u << 20))
        return cl_error_set(errp, CL_ERR_INVAL, "kallsyms: no symbol near 0x%llx", (unsigned long long)addr);
    /* symbols sharing an address: take the first, as the kernel does */
    while (best > 0 && ks->addr[best - 1] == ks->addr[best])
        best--;
    stream s = { .k = ks->k, .at = ks->names, .buf_at = 1, .buf_len = 0 };
    size_t n = 0;
    for (uint32_t i = 0; i < best; i++) {
        if (!entry_len(&s, &n, errp))
            return false;
        s.at += n;
    }
    tokcache tc; /* tokens are filled on first use: only have[] needs clearing */
    memset(tc.have, 0, sizeof(tc.have));
    if (!entry_len(&s, &n, errp) || !decode_name(ks, &s, n, &tc, name, len, errp))
        return false;
    *offset = addr - ks->addr[best];
    return true;
}

bool cl_kallsyms_find(cl_kallsyms *ks, const char *const *names, size_t n, uint64_t *addrs, cl_error **errp)
{
    tokcache tc; /* tokens are filled on first use: only have[] needs clearing */
    memset(tc.have, 0, sizeof(tc.have));
    for (size_t j = 0; j < n; j++)
        addrs[j] = 0;
    size_t left = n;
    stream s = { .k = ks->k, .at = ks->names, .buf_at = 1, .buf_len = 0 };
    for (uint32_t i = 0; i < ks->num && left; i++) {
        size_t len;
        char name[256];
        if (!entry_len(&s, &len, errp) || !decode_name(ks, &s, len, &tc, name, sizeof(name), errp))
            return false;
        for (size_t j = 0; j < n; j++)
            if (!addrs[j] && !strcmp(name, names[j])) {
                addrs[j] = ks->addr[i];
                left--;
            }
    }
    return true;
}
