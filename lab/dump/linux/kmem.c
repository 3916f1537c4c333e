#include "dump/linux/kmem.h"

#include "dump/le.h"
#include "dump/linux/vmcoreinfo.h"

#define PTE_PRESENT 0x1ull
#define PTE_PSE 0x80ull
#define PTE_ADDR 0x000ffffffffff000ull

void cl_kmem_init(cl_kmem *k, cl_physmem *mem, const char *vmci, uint64_t cr3)
{
    k->mem = mem;
    k->phys_base = 0;
    k->pgd = 0;
    k->l5 = false;
    k->sme_mask = 0;
    int64_t v;
    if (cl_vmci_number(vmci, "phys_base", &v))
        k->phys_base = (uint64_t)v;
    if (cl_vmci_number(vmci, "pgtable_l5_enabled", &v))
        k->l5 = v != 0;
    if (cl_vmci_number(vmci, "sme_mask", &v))
        k->sme_mask = (uint64_t)v;
    uint64_t sym;
    if (cl_vmci_symbol(vmci, "init_top_pgt", &sym) && sym >= CL_X86_START_KERNEL_MAP)
        k->pgd = sym - CL_X86_START_KERNEL_MAP + k->phys_base;
    else if (cr3)
        k->pgd = cr3 & PTE_ADDR;
}

bool cl_kmem_vtop(cl_kmem *k, uint64_t va, uint64_t *pa, cl_error **errp)
{
    if (k->pgd) {
        int levels = k->l5 ? 5 : 4;
        uint64_t table = k->pgd & PTE_ADDR & ~k->sme_mask;
        for (int level = levels; level >= 1; level--) {
            unsigned shift = 12 + 9 * (unsigned)(level - 1);
            uint64_t idx = (va >> shift) & 511;
            unsigned char e8[8];
            cl_error *err = NULL;
            if (!cl_physmem_read(k->mem, table + idx * 8, e8, 8, &err)) {
                cl_error_free(err);
                break;
            }
            uint64_t e = cl_le64(e8);
            if (!(e & PTE_PRESENT))
                break;
            uint64_t addr = e & PTE_ADDR & ~k->sme_mask;
            if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PSE))) {
                uint64_t mask = (1ull << shift) - 1;
                *pa = (addr & ~mask) | (va & mask);
                return true;
            }
            table = addr;
        }
    }
    /* Without page tables the kernel image is still at a fixed offset from its load address. */
    if (va >= CL_X86_START_KERNEL_MAP && va < 0xffffffffc0000000ull) {
        *pa = va - CL_X86_START_KERNEL_MAP + k->phys_base;
        return true;
    }
    return cl_error_set(errp, CL_ERR_INVAL, "kmem: virtual address 0x%llx is not mapped", (unsigned long long)va);
}

bool cl_kmem_read(cl_kmem *k, uint64_t va, void *buf, size_t len, cl_error **errp)
{
    unsigned char *out = buf;
    while (len) {
        size_t in = (size_t)(va & (CL_PAGE_SIZE - 1));
        size_t n = CL_PAGE_SIZE - in < len ? CL_PAGE_SIZE - in : len;
        uint64_t pa;
        if (!cl_kmem_vtop(k, va, &pa, errp) || !cl_physmem_read(k->mem, pa, out, n, errp))
            return false;
        out += n;
        len -= n;
        va += n;
    }
    return true;
}

bool cl_kmem_read_u64(cl_kmem *k, uint64_t va, uint64_t *out, cl_error **errp)
{
    unsigned char b[8];
    if (!cl_kmem_read(k, va, b, 8, errp))
        return false;
    *out = cl_le64(b);
    return true;
}

bool cl_kmem_read_u32(cl_kmem *k, uint64_t va, uint32_t *out, cl_error **errp)
{
    unsigned char b[4];
    if (!cl_kmem_read(k, va, b, 4, errp))
        return false;
    *out = cl_le32(b);
    return true;
}
