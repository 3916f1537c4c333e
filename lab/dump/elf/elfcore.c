#include "dump/elf/elfcore.h"

#include <stdlib.h>
#include <string.h>

#include "dump/elf/format.h"
#include "dump/le.h"

bool cl_elfcore_probe(const unsigned char *head, size_t len)
{
    return len >= 4 && !memcmp(head, ELFMAG, SELFMAG);
}

void cl_elfcore_free(cl_elfcore *c)
{
    if (!c)
        return;
    free(c->loads);
    cl_linux_notes_clear(&c->lnotes);
    cl_dump_notes_clear(&c->notes);
    free(c);
}

static int load_cmp(const void *a, const void *b)
{
    const cl_elf_load *x = a, *y = b;
    return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

static const cl_elf_load *load_find(const cl_elfcore *c, uint64_t pa)
{
    size_t lo = 0, hi = c->nloads;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->loads[mid].paddr <= pa)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const cl_elf_load *l = &c->loads[lo - 1];
    return pa - l->paddr < l->memsz ? l : NULL;
}

static bool elf_read_page(void *ctx, uint64_t pfn, void *page, cl_error **errp)
{
    cl_elfcore *c = ctx;
    if (pfn > UINT64_MAX / CL_PAGE_SIZE)
        return cl_error_set(errp, CL_ERR_INVAL, "elf: page 0x%llx out of range", (unsigned long long)pfn);
    uint64_t pa = pfn * CL_PAGE_SIZE;
    unsigned char *out = page;
    memset(out, 0, CL_PAGE_SIZE);
    bool any = false;
    /* A page may straddle two PT_LOADs; bytes past p_filesz (up to p_memsz) are zero. */
    for (size_t done = 0; done < CL_PAGE_SIZE;) {
        const cl_elf_load *l = load_find(c, pa + done);
        if (!l) {
            done++;
            continue;
        }
        uint64_t in = pa + done - l->paddr;
        uint64_t n = l->memsz - in < CL_PAGE_SIZE - done ? l->memsz - in : CL_PAGE_SIZE - done;
        if (in < l->filesz) {
            uint64_t m = l->filesz - in < n ? l->filesz - in : n;
            if (!cl_reader_read(c->r, l->offset + in, (size_t)m, out + done, errp))
                return false;
        }
        any = true;
        done += (size_t)n;
    }
    if (!any)
        return cl_error_set(errp, CL_ERR_INVAL, "elf: physical address 0x%llx is not in the dump",
                            (unsigned long long)pa);
    return true;
}

/* Only pages with bytes in the file count as held: the zero tail of a PT_LOAD (p_memsz past
 * p_filesz) has nothing to find, and a hostile p_memsz could otherwise make scans endless. */
static bool elf_next_page(void *ctx, uint64_t pfn, uint64_t *next)
{
    cl_elfcore *c = ctx;
    for (size_t i = 0; i < c->nloads; i++) {
        const cl_elf_load *l = &c->loads[i];
        if (!l->filesz)
            continue;
        uint64_t first = l->paddr / CL_PAGE_SIZE;
        uint64_t last = (l->paddr + l->filesz - 1) / CL_PAGE_SIZE;
        if (last < pfn)
            continue;
        *next = first > pfn ? first : pfn;
        return true;
    }
    return false;
}

static void read_notes(cl_elfcore *c, uint64_t off, uint64_t size)
{
    cl_error *err = NULL;
    if (size > CL_ELF_MAX_NOTES_BYTES) {
        cl_dump_warn(&c->notes, "elf: PT_NOTE of %llu bytes exceeds the %u-byte cap", (unsigned long long)size,
                     CL_ELF_MAX_NOTES_BYTES);
        return;
    }
    if (!cl_reader_has(c->r, off, size)) {
        cl_dump_truncated(&c->notes, "elf: PT_NOTE at 0x%llx (%llu bytes) runs past the end of the file",
                          (unsigned long long)off, (unsigned long long)size);
        if (off >= cl_reader_size(c->r))
            return;
        size = cl_reader_size(c->r) - off; /* walk what is there */
    }
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) {
        cl_dump_warn(&c->notes, "elf: cannot allocate %llu bytes of notes", (unsigned long long)size);
        return;
    }
    if (cl_reader_read(c->r, off, (size_t)size, buf, &err))
        cl_linux_notes_collect(buf, (size_t)size, &c->lnotes, &c->notes);
    else
        cl_dump_note_error(&c->notes, &err, "elf: notes");
    free(buf);
}

cl_elfcore *cl_elfcore_open(cl_reader *r, cl_error **errp)
{
    unsigned char eh[sizeof(Elf64_Ehdr)] = { 0 };
    uint64_t fsize = cl_reader_size(r);
    if (fsize < EI_NIDENT || !cl_reader_read(r, 0, EI_NIDENT, eh, errp)) {
        cl_error_set(errp, CL_ERR_FORMAT, "elf: file too short for an ELF header");
        return NULL;
    }
    if (memcmp(eh, ELFMAG, SELFMAG)) {
        cl_error_set(errp, CL_ERR_FORMAT, "elf: no \\x7fELF signature");
        return NULL;
    }
    if (eh[EI_CLASS] != ELFCLASS64 && eh[EI_CLASS] != ELFCLASS32) {
        cl_error_set(errp, CL_ERR_FORMAT, "elf: unknown class %u", eh[EI_CLASS]);
        return NULL;
    }
    if (eh[EI_DATA] != ELFDATA2LSB) {
        cl_error_set(errp, CL_ERR_FORMAT, "elf: only little-endian cores are supported");
        return NULL;
    }
    CL_AUTOPTR(cl_elfcore) c = calloc(1, sizeof(*c));
    if (!c) {
        cl_error_set(errp, CL_ERR_NOMEM, "elf: cannot allocate");
        return NULL;
    }
    c->r = r;
    c->is64 = eh[EI_CLASS] == ELFCLASS64;
    size_t ehsize = c->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    size_t phsize = c->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    c->mem.ctx = c;
    c->mem.read_page = elf_read_page;
    c->mem.next_page = elf_next_page;
    cl_error *err = NULL;
    if (!cl_reader_read(r, 0, ehsize, eh, &err)) {
        cl_dump_note_error(&c->notes, &err, "elf: header");
        return cl_steal_pointer(&c);
    }
    uint16_t type = cl_le16(eh + offsetof(Elf64_Ehdr, e_type));
    c->machine = cl_le16(eh + offsetof(Elf64_Ehdr, e_machine));
    uint64_t phoff = c->is64 ? cl_le64(eh + offsetof(Elf64_Ehdr, e_phoff)) : cl_le32(eh + offsetof(Elf32_Ehdr, e_phoff));
    uint16_t ehs = cl_le16(eh + (c->is64 ? offsetof(Elf64_Ehdr, e_ehsize) : offsetof(Elf32_Ehdr, e_ehsize)));
    uint16_t phes = cl_le16(eh + (c->is64 ? offsetof(Elf64_Ehdr, e_phentsize) : offsetof(Elf32_Ehdr, e_phentsize)));
    uint64_t phnum = cl_le16(eh + (c->is64 ? offsetof(Elf64_Ehdr, e_phnum) : offsetof(Elf32_Ehdr, e_phnum)));
    if (type != ET_CORE)
        cl_dump_warn(&c->notes, "elf: e_type %u is not ET_CORE", type);
    /* QEMU 7.2 writes sizeof(pointer) into e_ehsize; nothing is sized by it, so only note it.
     * e_phentsize sizes every program header read: that one must match. */
    if (ehs != ehsize && !(ehs == 8 && c->is64))
        cl_dump_warn(&c->notes, "elf: e_ehsize %u does not match ELF%s (%zu)", ehs, c->is64 ? "64" : "32", ehsize);
    if (phes != phsize) {
        cl_dump_warn(&c->notes, "elf: e_phentsize %u does not match ELF%s (%zu)", phes, c->is64 ? "64" : "32", phsize);
        return cl_steal_pointer(&c);
    }
    if (phnum == PN_XNUM) {
        /* QEMU writes more than 65534 headers this way: the real count is in section 0's sh_info. */
        uint64_t shoff = c->is64 ? cl_le64(eh + offsetof(Elf64_Ehdr, e_shoff)) : cl_le32(eh + offsetof(Elf32_Ehdr, e_shoff));
        unsigned char sh[sizeof(Elf64_Shdr)];
        size_t info_off = c->is64 ? offsetof(Elf64_Shdr, sh_info) : offsetof(Elf32_Shdr, sh_info);
        if (!cl_reader_read(r, shoff, info_off + 4, sh, &err)) {
            cl_dump_note_error(&c->notes, &err, "elf: section 0 (PN_XNUM)");
            return cl_steal_pointer(&c);
        }
        phnum = cl_le32(sh + info_off);
    }
    if (phnum == 0 || phnum > CL_ELF_MAX_PHDRS) {
        cl_dump_warn(&c->notes, "elf: %llu program headers (expected 1..%u)", (unsigned long long)phnum,
                     CL_ELF_MAX_PHDRS);
        return cl_steal_pointer(&c);
    }
    if (!cl_reader_has(r, phoff, phnum * phsize)) {
        cl_dump_truncated(&c->notes, "elf: %llu program headers at 0x%llx run past the end of the file",
                          (unsigned long long)phnum, (unsigned long long)phoff);
        if (phoff >= fsize)
            return cl_steal_pointer(&c);
        phnum = (fsize - phoff) / phsize;
    }
    c->loads = calloc(phnum ? phnum : 1, sizeof(*c->loads));
    if (!c->loads) {
        cl_error_set(errp, CL_ERR_NOMEM, "elf: cannot allocate %llu loads", (unsigned long long)phnum);
        return NULL;
    }
    for (uint64_t i = 0; i < phnum; i++) {
        unsigned char ph[sizeof(Elf64_Phdr)];
        if (!cl_reader_read(r, phoff + i * phsize, phsize, ph, &err)) {
            cl_dump_note_error(&c->notes, &err, "elf: program header");
            break;
        }
        uint32_t ptype = cl_le32(ph);
        cl_elf_load l;
        if (c->is64) {
            l.offset = cl_le64(ph + offsetof(Elf64_Phdr, p_offset));
            l.vaddr = cl_le64(ph + offsetof(Elf64_Phdr, p_vaddr));
            l.paddr = cl_le64(ph + offsetof(Elf64_Phdr, p_paddr));
            l.filesz = cl_le64(ph + offsetof(Elf64_Phdr, p_filesz));
            l.memsz = cl_le64(ph + offsetof(Elf64_Phdr, p_memsz));
        } else {
            l.offset = cl_le32(ph + offsetof(Elf32_Phdr, p_offset));
            l.vaddr = cl_le32(ph + offsetof(Elf32_Phdr, p_vaddr));
            l.paddr = cl_le32(ph + offsetof(Elf32_Phdr, p_paddr));
            l.filesz = cl_le32(ph + offsetof(Elf32_Phdr, p_filesz));
            l.memsz = cl_le32(ph + offsetof(Elf32_Phdr, p_memsz));
        }
        if (ptype == PT_NOTE) {
            read_notes(c, l.offset, l.filesz);
        } else if (ptype == PT_LOAD) {
            if (l.memsz < l.filesz)
                l.memsz = l.filesz;
            if (l.memsz == 0)
                continue;
            if (l.paddr > UINT64_MAX - l.memsz) {
                cl_dump_warn(&c->notes, "elf: PT_LOAD %llu wraps the physical address space", (unsigned long long)i);
                continue;
            }
            if (!cl_reader_has(r, l.offset, l.filesz)) {
                cl_dump_truncated(&c->notes, "elf: PT_LOAD at paddr 0x%llx (%llu bytes at file offset 0x%llx) runs past the end of the file",
                                  (unsigned long long)l.paddr, (unsigned long long)l.filesz, (unsigned long long)l.offset);
                /* keep the part that is in the file */
                l.filesz = l.offset < fsize ? fsize - l.offset : 0;
                l.memsz = l.filesz;
                if (!l.memsz)
                    continue;
            }
            c->loads[c->nloads++] = l;
        }
    }
    if (c->nloads)
        qsort(c->loads, c->nloads, sizeof(*c->loads), load_cmp);
    for (size_t i = 1; i < c->nloads; i++) {
        if (c->loads[i].paddr - c->loads[i - 1].paddr < c->loads[i - 1].memsz) {
            cl_dump_warn(&c->notes, "elf: PT_LOADs overlap at paddr 0x%llx", (unsigned long long)c->loads[i].paddr);
            c->loads[i - 1].memsz = c->loads[i].paddr - c->loads[i - 1].paddr;
            if (c->loads[i - 1].filesz > c->loads[i - 1].memsz)
                c->loads[i - 1].filesz = c->loads[i - 1].memsz;
        }
    }
    return cl_steal_pointer(&c);
}
