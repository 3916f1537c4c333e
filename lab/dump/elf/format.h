/* format.h - the ELF core layout QEMU's dump-guest-memory and the kernel's /proc/vmcore use.
 *
 *   0x00  Elf64_Ehdr   e_type ET_CORE, e_phoff -> program headers
 *         Elf64_Phdr[] PT_NOTE (one, holding every note), PT_LOAD per guest RAM block
 *         notes        "CORE" NT_PRSTATUS per CPU, "QEMU" CPU state per CPU, "VMCOREINFO"
 *         data         each PT_LOAD's p_filesz bytes at p_offset; p_paddr is guest-physical
 *
 * Field offsets come from <elf.h>'s structs and are pinned below; values are decoded with
 * cl_le*, never read through the structs. */
#ifndef CL_DUMP_ELF_FORMAT_H
#define CL_DUMP_ELF_FORMAT_H

#include <elf.h>
#include <stddef.h>

_Static_assert(offsetof(Elf64_Ehdr, e_phoff) == 0x20, "Elf64_Ehdr layout");
_Static_assert(offsetof(Elf64_Ehdr, e_phentsize) == 0x36, "Elf64_Ehdr layout");
_Static_assert(offsetof(Elf64_Ehdr, e_phnum) == 0x38, "Elf64_Ehdr layout");
_Static_assert(sizeof(Elf64_Ehdr) == 64 && sizeof(Elf64_Phdr) == 56, "ELF64 sizes");
_Static_assert(offsetof(Elf64_Phdr, p_offset) == 0x08 && offsetof(Elf64_Phdr, p_paddr) == 0x18 &&
               offsetof(Elf64_Phdr, p_filesz) == 0x20 && offsetof(Elf64_Phdr, p_memsz) == 0x28,
               "Elf64_Phdr layout");
_Static_assert(offsetof(Elf32_Ehdr, e_phoff) == 0x1c && offsetof(Elf32_Ehdr, e_phnum) == 0x2c, "Elf32_Ehdr layout");
_Static_assert(sizeof(Elf32_Ehdr) == 52 && sizeof(Elf32_Phdr) == 32, "ELF32 sizes");
_Static_assert(offsetof(Elf32_Phdr, p_offset) == 0x04 && offsetof(Elf32_Phdr, p_paddr) == 0x0c &&
               offsetof(Elf32_Phdr, p_filesz) == 0x10 && offsetof(Elf32_Phdr, p_memsz) == 0x14,
               "Elf32_Phdr layout");

/* x86-64 struct elf_prstatus: pr_pid at 0x20, pr_reg (27 longs) at 0x70. */
#define PRSTATUS64_PID 0x20
#define PRSTATUS64_REGS 0x70
#define PRSTATUS64_SIZE 0x150
#define X86_64_REG_RIP 16
#define X86_64_REG_RSP 19

/* QEMU's "QEMU" note (QEMUCPUState, version 1): rip at 0x88, cr[0..4] at 0x188. */
#define QEMU_CPUSTATE_RIP 0x88
#define QEMU_CPUSTATE_RSP 0x38
#define QEMU_CPUSTATE_CR3 0x1a0
#define QEMU_CPUSTATE_MIN 0x1b0

/* Caps on counts a hostile header could inflate. */
#define CL_ELF_MAX_PHDRS 65536u
#define CL_ELF_MAX_NOTES_BYTES (16u << 20)

#endif
