/* memdump.h - the lab's own hypervisor-side dump of a Linux guest: guest RAM read straight
 * from the QEMU process, written as kdump-compressed (zstd or lzo pages) by lab/dump/writer on every core.
 *
 * What comes from QEMU, through libvirt's monitor passthrough:
 *   - the guest-physical memory map: HMP `info mtree -f`, the RAM and ROM sections of
 *     address space "memory" (what QEMU's own dump-guest-memory dumps);
 *   - where each section lives in QEMU's address space: HMP `gpa2hva`;
 *   - every vCPU's registers: HMP `info registers -a`, turned into the NT_PRSTATUS and
 *     "QEMU" notes QEMU's own writer would write (memdump_notes.c).
 * The guest's VMCOREINFO note is found in guest memory: the kernel keeps it at the start of
 * a page of its own (the page QEMU's vmcoreinfo device is told about), so only the first
 * 32 bytes of each page are looked at. (QEMU's own dump-guest-memory cannot be asked for
 * just the notes here: libvirt 9.0 crashes on the DUMP_COMPLETED event of a dump it did
 * not start.)
 * The pages themselves are read with process_vm_readv from the QEMU process (found by its
 * `-name guest=NAME` argument), so it needs a local QEMU and ptrace rights over it (root,
 * or the same user). A running guest is paused for the dump and resumed after.
 */
#ifndef CL_VIRT_MEMDUMP_H
#define CL_VIRT_MEMDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dump/writer/kdump_write.h"
#include "virt.h"

typedef struct {
    char name[32];     /* QEMU's memory region, e.g. "pc.ram" */
    uint64_t gpa, len;
} cl_memdump_section;

typedef struct {
    cl_kw_stats w;
    long qemu_pid;
    size_t sections;
    double prepare_s;  /* map, notes, utsname */
    double write_s;    /* read, compress, write */
} cl_memdump_stats;

typedef struct {
    uint32_t selector, limit, flags;
    uint64_t base;
} cl_memdump_seg;

/* One vCPU as HMP prints it: regs[] in QEMU's order (RAX RCX RDX RBX RSP RBP RSI RDI R8..R15);
 * seg[] is ES CS SS DS FS GS LDT TR GDT IDT; cr[1] is always 0. */
typedef struct {
    uint32_t index;
    uint64_t regs[16], rip, rflags, cr[5];
    cl_memdump_seg seg[10];
} cl_memdump_cpu;

/* Dumps dom to path (kdump-compressed, pages in codec). threads 0: every online CPU. */
bool cl_memdump_kdump(cl_domain *dom, const char *path, int threads, cl_kw_codec codec, cl_memdump_stats *st,
                      cl_error **errp);

/* Pure parsers of QEMU's monitor text (unit-tested).
 * The RAM/ROM sections of the flat view of address space "memory", page-aligned, in order. */
bool cl_memdump_parse_mtree(const char *text, cl_memdump_section *out, size_t max, size_t *n, cl_error **errp);
/* "Host virtual address for 0x... (pc.ram) is 0x7f..." */
bool cl_memdump_parse_gpa2hva(const char *text, uint64_t *hva, cl_error **errp);
/* `info registers -a` of 64-bit vCPUs (a vCPU in another mode is an error). */
bool cl_memdump_parse_registers(const char *text, cl_memdump_cpu *cpus, size_t max, size_t *n, cl_error **errp);
/* PRSTATUS notes, QEMU notes, then vmci_note (a whole ELF note) copied; *out is malloc'd. */
bool cl_memdump_build_notes(const cl_memdump_cpu *cpus, size_t n, const unsigned char *vmci_note, size_t vmci_len,
                            unsigned char **out, size_t *outlen, cl_error **errp);

#endif
