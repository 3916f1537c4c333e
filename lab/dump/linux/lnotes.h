/* lnotes.h - what the ELF notes of a Linux dump tell (both ELF vmcores and the kdump note
 * area): VMCOREINFO text and the registers of each CPU. */
#ifndef CL_DUMP_LNOTES_H
#define CL_DUMP_LNOTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dump/notes.h"

#define CL_LINUX_MAX_CPUS 256
#define CL_VMCOREINFO_MAX (64u << 10)

typedef struct {
    uint32_t pid;      /* from NT_PRSTATUS */
    uint64_t rip, rsp;
    uint64_t cr3;      /* from QEMU's note, 0 when absent */
    bool have_prstatus, have_qemu;
} cl_linux_cpu;

typedef struct {
    char *vmcoreinfo;  /* NUL-terminated, or NULL */
    size_t vmcoreinfo_len;
    cl_linux_cpu cpus[CL_LINUX_MAX_CPUS];
    size_t ncpus;      /* max of the NT_PRSTATUS and QEMU note counts */
    size_t n_prstatus, n_qemu;
} cl_linux_notes;

/* Walks an ELF note area (4-byte aligned name and desc) and collects what it knows;
 * a malformed note stops the walk with a warning. */
void cl_linux_notes_collect(const unsigned char *buf, size_t len, cl_linux_notes *out, cl_dump_notes *warn);
void cl_linux_notes_clear(cl_linux_notes *n);
/* Takes a copy of text as VMCOREINFO unless one is already set. */
void cl_linux_notes_set_vmcoreinfo(cl_linux_notes *n, const char *text, size_t len);

#endif
