#include "dump/linux/kwalk.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/le.h"
#include "dump/linux/btf.h"

#define MODULE_NAME_LEN 56 /* include/linux/module.h, 64-bit */
#define SYM_NAME_MAX 128

struct cl_kwalk {
    cl_kmem *k;
    unsigned char *blob;
    cl_btf *btf;
    uint64_t per_cpu_offset, current_task, modules; /* addresses from kallsyms */
    uint64_t off_current;                           /* offset of current_task in its per-CPU object */
    uint64_t t_pid, t_comm;                         /* task_struct */
    bool have_mod;
    uint64_t m_list, m_name, m_base, m_size, m_kallsyms, k_symtab, k_num, k_strtab;
};

void cl_kwalk_free(cl_kwalk *w)
{
    if (!w)
        return;
    cl_btf_free(w->btf);
    free(w->blob);
    free(w);
}

cl_kwalk *cl_kwalk_load(cl_kmem *k, cl_kallsyms *ks, cl_error **errp)
{
    enum { START, STOP, PCO, CUR, HOT, MODS, N };
    static const char *const names[N] = { "__start_BTF", "__stop_BTF", "__per_cpu_offset", "current_task", "pcpu_hot",
                                          "modules" };
    uint64_t a[N];
    if (!cl_kallsyms_find(ks, names, N, a, errp))
        return cl_error_prefix(errp, "kwalk: kallsyms"), NULL;
    if (!a[START] || !a[STOP])
        return cl_error_set(errp, CL_ERR_FORMAT, "no BTF in kallsyms (__start_BTF/__stop_BTF)"), NULL;
    if (a[STOP] <= a[START] || a[STOP] - a[START] > CL_BTF_MAX_BYTES)
        return cl_error_set(errp, CL_ERR_CORRUPT, "BTF bounds 0x%" PRIx64 "..0x%" PRIx64 " implausible", a[START], a[STOP]), NULL;
    if (!a[PCO] || (!a[CUR] && !a[HOT]))
        return cl_error_set(errp, CL_ERR_FORMAT, "no __per_cpu_offset or current_task/pcpu_hot in kallsyms"), NULL;
    CL_AUTOPTR(cl_kwalk) w = calloc(1, sizeof(*w));
    size_t len = (size_t)(a[STOP] - a[START]);
    if (!w || !(w->blob = malloc(len)))
        return cl_error_set(errp, CL_ERR_NOMEM, "kwalk: cannot allocate %zu bytes of BTF", len), NULL;
    w->k = k;
    if (!cl_kmem_read(k, a[START], w->blob, len, errp))
        return cl_error_prefix(errp, "BTF"), NULL;
    if (!(w->btf = cl_btf_parse(w->blob, len, errp)))
        return NULL;
    w->per_cpu_offset = a[PCO];
    w->modules = a[MODS];
    if (a[CUR]) {
        w->current_task = a[CUR];
    } else {
        w->current_task = a[HOT];
        if (!cl_btf_offset(w->btf, "pcpu_hot", "current_task", &w->off_current, errp))
            return NULL;
    }
    if (!cl_btf_offset(w->btf, "task_struct", "pid", &w->t_pid, errp) ||
        !cl_btf_offset(w->btf, "task_struct", "comm", &w->t_comm, errp))
        return NULL;
    /* module symbols are extra: a kernel without core_layout (6.4+ has mem[]) still gives tasks */
    cl_error *merr = NULL;
    w->have_mod = w->modules && cl_btf_offset(w->btf, "module", "list", &w->m_list, &merr) &&
                  cl_btf_offset(w->btf, "module", "name", &w->m_name, &merr) &&
                  cl_btf_offset(w->btf, "module", "core_layout.base", &w->m_base, &merr) &&
                  cl_btf_offset(w->btf, "module", "core_layout.size", &w->m_size, &merr) &&
                  cl_btf_offset(w->btf, "module", "kallsyms", &w->m_kallsyms, &merr) &&
                  cl_btf_offset(w->btf, "mod_kallsyms", "symtab", &w->k_symtab, &merr) &&
                  cl_btf_offset(w->btf, "mod_kallsyms", "num_symtab", &w->k_num, &merr) &&
                  cl_btf_offset(w->btf, "mod_kallsyms", "strtab", &w->k_strtab, &merr);
    cl_error_free(merr);
    return cl_steal_pointer(&w);
}

/* A NUL-terminated string of at most len-1 bytes, read so that it never needs the page after its end. */
static bool read_cstr(cl_kmem *k, uint64_t va, char *out, size_t len, cl_error **errp)
{
    size_t got = 0;
    while (got + 1 < len) {
        size_t chunk = 4096 - (size_t)((va + got) & 4095);
        if (chunk > len - 1 - got)
            chunk = len - 1 - got;
        if (!cl_kmem_read(k, va + got, out + got, chunk, errp))
            return false;
        void *nul = memchr(out + got, 0, chunk);
        got += chunk;
        if (nul)
            break;
    }
    out[got] = '\0';
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
    return true;
}

bool cl_kwalk_current(cl_kwalk *w, unsigned cpu, int64_t *pid, char comm[17], cl_error **errp)
{
    uint64_t base, task;
    uint32_t p;
    if (cpu >= CL_KWALK_MAX_CPUS)
        return cl_error_set(errp, CL_ERR_INVAL, "cpu %u out of range", cpu);
    if (!cl_kmem_read_u64(w->k, w->per_cpu_offset + 8ull * cpu, &base, errp) ||
        !cl_kmem_read_u64(w->k, base + w->current_task + w->off_current, &task, errp)) {
        cl_error_prefix(errp, "cpu %u: current_task", cpu);
        return false;
    }
    if (!task)
        return cl_error_set(errp, CL_ERR_CORRUPT, "cpu %u: current_task is NULL", cpu);
    if (!cl_kmem_read_u32(w->k, task + w->t_pid, &p, errp) || !read_cstr(w->k, task + w->t_comm, comm, 17, errp)) {
        cl_error_prefix(errp, "cpu %u: task 0x%" PRIx64, cpu, task);
        return false;
    }
    *pid = (int32_t)p;
    return true;
}

/* The nearest symbol at or below addr in one module's symbol table. */
static bool module_lookup(cl_kwalk *w, uint64_t mod, uint64_t addr, char *out, size_t len, cl_error **errp)
{
    uint64_t mk, symtab, strtab;
    uint32_t num;
    char mname[MODULE_NAME_LEN + 1];
    if (!read_cstr(w->k, mod + w->m_name, mname, sizeof(mname), errp) ||
        !cl_kmem_read_u64(w->k, mod + w->m_kallsyms, &mk, errp) ||
        !cl_kmem_read_u64(w->k, mk + w->k_symtab, &symtab, errp) ||
        !cl_kmem_read_u32(w->k, mk + w->k_num, &num, errp) ||
        !cl_kmem_read_u64(w->k, mk + w->k_strtab, &strtab, errp))
        return false;
    if (num > CL_KWALK_MAX_MODSYMS)
        return cl_error_set(errp, CL_ERR_CORRUPT, "module %s: %u symbols is implausible", mname, num);
    unsigned char *syms = malloc((size_t)num * 24 + 1);
    if (!syms)
        return cl_error_set(errp, CL_ERR_NOMEM, "module %s: cannot allocate symbols", mname);
    if (!cl_kmem_read(w->k, symtab, syms, (size_t)num * 24, errp)) {
        free(syms);
        return false;
    }
    uint32_t best = UINT32_MAX;
    uint64_t best_val = 0;
    for (uint32_t i = 0; i < num; i++) { /* Elf64_Sym: name u32, info u8, other u8, shndx u16, value, size */
        const unsigned char *s = syms + 24ull * i;
        unsigned type = s[4] & 0xf;
        uint64_t v = cl_le64(s + 8);
        if (type == 3 /* STT_SECTION */ || type == 4 /* STT_FILE */ || !cl_le32(s) || v > addr)
            continue;
        if (best == UINT32_MAX || v > best_val) {
            best = i;
            best_val = v;
        }
    }
    uint32_t name_off = best == UINT32_MAX ? 0 : cl_le32(syms + 24ull * best);
    free(syms);
    if (best == UINT32_MAX)
        return cl_error_set(errp, CL_ERR_FORMAT, "module %s: no symbol below 0x%" PRIx64, mname, addr);
    char fn[SYM_NAME_MAX];
    if (!read_cstr(w->k, strtab + name_off, fn, sizeof(fn), errp))
        return false;
    snprintf(out, len, "%s+0x%" PRIx64 " [%s]", fn, addr - best_val, mname);
    return true;
}

bool cl_kwalk_module_symbol(cl_kwalk *w, uint64_t addr, char *out, size_t len, cl_error **errp)
{
    if (!w->have_mod)
        return cl_error_set(errp, CL_ERR_FORMAT, "no module layout in BTF");
    uint64_t next;
    if (!cl_kmem_read_u64(w->k, w->modules, &next, errp)) {
        cl_error_prefix(errp, "modules list");
        return false;
    }
    for (unsigned n = 0; next != w->modules; n++) {
        if (n >= CL_KWALK_MAX_MODULES)
            return cl_error_set(errp, CL_ERR_CORRUPT, "modules list longer than %d (a loop?)", CL_KWALK_MAX_MODULES);
        uint64_t mod = next - w->m_list, base;
        uint32_t size;
        if (!cl_kmem_read_u64(w->k, mod + w->m_base, &base, errp) || !cl_kmem_read_u32(w->k, mod + w->m_size, &size, errp)) {
            cl_error_prefix(errp, "module 0x%" PRIx64, mod);
            return false;
        }
        if (addr >= base && addr - base < size)
            return module_lookup(w, mod, addr, out, len, errp);
        if (!cl_kmem_read_u64(w->k, next, &next, errp)) {
            cl_error_prefix(errp, "modules list");
            return false;
        }
    }
    return cl_error_set(errp, CL_ERR_FORMAT, "0x%" PRIx64 " is in no module", addr);
}
