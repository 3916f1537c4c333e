#include "dump/linux/ldump.h"

#include <stdlib.h>
#include <string.h>

#define VMCI_SCAN_MAX_PAGES (1u << 20)

void cl_ldump_free(cl_ldump *d)
{
    if (!d)
        return;
    cl_elfcore_free(d->elf);
    cl_kdump_free(d->kdump);
    free(d->vmci_owned);
    free(d);
}

/* Without a VMCOREINFO note (no vmcoreinfo device in the guest), the kernel's own copy is
 * still in RAM: vmcoreinfo_data is a page of its own that starts with "OSRELEASE=". */
static void scan_vmcoreinfo(cl_ldump *d)
{
    uint64_t pfn = 0, next;
    unsigned char page[CL_PAGE_SIZE];
    for (unsigned n = 0; n < VMCI_SCAN_MAX_PAGES && d->mem->next_page(d->mem->ctx, pfn, &next); n++) {
        cl_error *err = NULL;
        if (d->mem->read_page(d->mem->ctx, next, page, &err) && !memcmp(page, "OSRELEASE=", 10) &&
            memmem(page, sizeof(page), "\nPAGESIZE=", 10)) {
            size_t len = strnlen((const char *)page, sizeof(page));
            d->vmci_owned = malloc(len + 1);
            if (d->vmci_owned) {
                memcpy(d->vmci_owned, page, len);
                d->vmci_owned[len] = '\0';
                d->vmci = d->vmci_owned;
                d->vmci_from_memory = true;
            }
            return;
        }
        cl_error_free(err);
        pfn = next + 1;
    }
}

cl_ldump *cl_ldump_open(cl_reader *r, cl_error **errp)
{
    CL_AUTOPTR(cl_ldump) d = calloc(1, sizeof(*d));
    if (!d) {
        cl_error_set(errp, CL_ERR_NOMEM, "linux dump: cannot allocate");
        return NULL;
    }
    unsigned char head[16] = { 0 };
    size_t n = cl_reader_size(r) < sizeof(head) ? (size_t)cl_reader_size(r) : sizeof(head);
    if (!cl_reader_read(r, 0, n, head, errp))
        return NULL;
    if (cl_elfcore_probe(head, n)) {
        if (!(d->elf = cl_elfcore_open(r, errp)))
            return NULL;
        d->mem = &d->elf->mem;
        d->lnotes = &d->elf->lnotes;
        d->notes = &d->elf->notes;
    } else {
        if (!(d->kdump = cl_kdump_open(r, errp)))
            return NULL;
        d->mem = &d->kdump->mem;
        d->lnotes = &d->kdump->lnotes;
        d->notes = &d->kdump->notes;
    }
    d->vmci = d->lnotes->vmcoreinfo;
    if (!d->vmci)
        scan_vmcoreinfo(d);
    uint64_t cr3 = 0;
    for (size_t i = 0; i < d->lnotes->ncpus && !cr3; i++)
        cr3 = d->lnotes->cpus[i].cr3;
    cl_kmem_init(&d->kmem, d->mem, d->vmci, cr3);
    if (d->kdump && !d->kmem.phys_base)
        d->kmem.phys_base = d->kdump->phys_base;
    return cl_steal_pointer(&d);
}
