#include "dump/physmem.h"

#include <string.h>

static const unsigned char *page_get(cl_physmem *m, uint64_t pfn, cl_error **errp)
{
    size_t slot = (size_t)(pfn % CL_PHYSMEM_CACHE);
    if (m->cache[slot].valid && m->cache[slot].pfn == pfn)
        return m->cache[slot].data;
    m->cache[slot].valid = false;
    if (!m->read_page(m->ctx, pfn, m->cache[slot].data, errp))
        return NULL;
    m->cache[slot].pfn = pfn;
    m->cache[slot].valid = true;
    return m->cache[slot].data;
}

bool cl_physmem_read(cl_physmem *m, uint64_t pa, void *buf, size_t len, cl_error **errp)
{
    unsigned char *out = buf;
    while (len) {
        uint64_t pfn = pa / CL_PAGE_SIZE;
        size_t in = (size_t)(pa % CL_PAGE_SIZE);
        size_t n = CL_PAGE_SIZE - in < len ? CL_PAGE_SIZE - in : len;
        const unsigned char *p = page_get(m, pfn, errp);
        if (!p)
            return false;
        memcpy(out, p + in, n);
        out += n;
        len -= n;
        if (pa > UINT64_MAX - n)
            return len == 0 ? true : cl_error_set(errp, CL_ERR_INVAL, "physmem: read wraps the address space");
        pa += n;
    }
    return true;
}
