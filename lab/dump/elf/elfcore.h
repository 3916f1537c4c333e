/* elfcore.h - the ELF vmcore reader (QEMU dump-guest-memory, /proc/vmcore copies). */
#ifndef CL_DUMP_ELFCORE_H
#define CL_DUMP_ELFCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dump/linux/lnotes.h"
#include "dump/notes.h"
#include "dump/physmem.h"
#include "dump/reader.h"

typedef struct {
    uint64_t paddr, vaddr, offset, filesz, memsz;
} cl_elf_load;

typedef struct {
    cl_reader *r;          /* borrowed */
    bool is64;
    uint16_t machine;      /* EM_X86_64, ... */
    cl_elf_load *loads;    /* sorted by paddr */
    size_t nloads;
    cl_linux_notes lnotes;
    cl_dump_notes notes;
    cl_physmem mem;
} cl_elfcore;

bool cl_elfcore_probe(const unsigned char *head, size_t len);

/* NULL only when r is not an ELF core at all or its ELF header is unreadable. */
cl_elfcore *cl_elfcore_open(cl_reader *r, cl_error **errp);
void cl_elfcore_free(cl_elfcore *c);
CL_DEFINE_AUTOPTR_FUNC(cl_elfcore, cl_elfcore_free)

#endif
