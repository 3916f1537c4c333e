/* kw_notes.c - the ELF notes the kdump writer copies: found in the small ELF core QEMU
 * writes for it (notes plus one page), and walked for the PRSTATUS count and VMCOREINFO.
 * The ELF comes from QEMU, so it is bounded like any other dump. */
#include <string.h>

#include "dump/le.h"
#include "dump/writer/kdump_write.h"

#define PT_NOTE_TYPE 4u
#define NT_PRSTATUS_TYPE 1u

bool cl_kw_elf_notes(const unsigned char *buf, size_t len, size_t *off, size_t *nlen, cl_error **errp)
{
    if (len < 64 || memcmp(buf, "\177ELF", 4) || buf[4] != 2 || buf[5] != 1)
        return cl_error_set(errp, CL_ERR_FORMAT, "kdump-write: QEMU's note dump is not a little-endian ELF64 file");
    uint64_t phoff = cl_le64(buf + 0x20);
    uint16_t phentsize = cl_le16(buf + 0x36), phnum = cl_le16(buf + 0x38);
    if (phentsize != 56 || phnum == 0 || phnum == 0xffff || phoff > len || (uint64_t)phnum * 56 > len - phoff)
        return cl_error_set(errp, CL_ERR_CORRUPT, "kdump-write: ELF program headers (%u at 0x%llx) do not fit in %zu bytes",
                            phnum, (unsigned long long)phoff, len);
    for (uint16_t i = 0; i < phnum; i++) {
        const unsigned char *ph = buf + phoff + (size_t)i * 56;
        if (cl_le32(ph) != PT_NOTE_TYPE)
            continue;
        uint64_t o = cl_le64(ph + 8), n = cl_le64(ph + 0x20);
        if (o > len || n > len - o)
            return cl_error_set(errp, CL_ERR_TRUNCATED, "kdump-write: ELF note segment (0x%llx+0x%llx) past %zu bytes",
                                (unsigned long long)o, (unsigned long long)n, len);
        *off = (size_t)o;
        *nlen = (size_t)n;
        return true;
    }
    return cl_error_set(errp, CL_ERR_FORMAT, "kdump-write: QEMU's note dump has no PT_NOTE segment");
}

bool cl_kw_notes_scan(const unsigned char *notes, size_t len, uint32_t *nr_prstatus, size_t *vmci_off,
                      size_t *vmci_len, cl_error **errp)
{
    *nr_prstatus = 0;
    *vmci_off = *vmci_len = 0;
    size_t pos = 0;
    while (pos + 12 <= len) {
        uint64_t namesz = cl_le32(notes + pos), descsz = cl_le32(notes + pos + 4);
        uint32_t type = cl_le32(notes + pos + 8);
        uint64_t name_off = pos + 12, desc_off = name_off + ((namesz + 3) & ~3ull);
        uint64_t end = desc_off + ((descsz + 3) & ~3ull);
        if (end > len)
            return cl_error_set(errp, CL_ERR_CORRUPT, "kdump-write: note at 0x%zx (name %llu, desc %llu bytes) runs past "
                                "the %zu-byte note area", pos, (unsigned long long)namesz, (unsigned long long)descsz, len);
        const char *name = (const char *)notes + name_off;
        if (namesz == 5 && !memcmp(name, "CORE", 5) && type == NT_PRSTATUS_TYPE)
            (*nr_prstatus)++;
        if (namesz == 11 && !memcmp(name, "VMCOREINFO", 11)) {
            *vmci_off = (size_t)desc_off;
            *vmci_len = (size_t)descsz;
        }
        pos = (size_t)end;
    }
    return true;
}
