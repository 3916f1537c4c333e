/* memdump_notes.c - the ELF notes of the lab's dump, built as QEMU's own writer builds
 * them (target/i386/arch_dump.c): per vCPU an NT_PRSTATUS "CORE" note, then per vCPU a
 * "QEMU" note (QEMUCPUState), then the guest's VMCOREINFO note as the guest wrote it.
 * The registers come from HMP `info registers -a` (pure text in, parsed here); the
 * VMCOREINFO note from guest memory (memdump.c finds it). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memdump.h"

#define PRSTATUS_SIZE 336   /* x86_64 struct elf_prstatus */
#define PRSTATUS_PID 32     /* offsetof(pr_pid) */
#define PRSTATUS_REG 112    /* offsetof(pr_reg) */
#define QEMU_STATE_SIZE 432 /* QEMUCPUState version 1 up to cr[4]; kernel_gs_base is not in HMP's output */

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI }; /* QEMU's regs[] order, then R8..R15 */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDT, SEG_TR, SEG_GDT, SEG_IDT, SEG_N };

static const char *const reg_names[16] = { "RAX=", "RCX=", "RDX=", "RBX=", "RSP=", "RBP=", "RSI=", "RDI=",
                                           "R8 =", "R9 =", "R10=", "R11=", "R12=", "R13=", "R14=", "R15=" };
static const char *const seg_names[SEG_N] = { "ES =", "CS =", "SS =", "DS =", "FS =", "GS =", "LDT=", "TR =", "GDT=", "IDT=" };

static bool hex_after(const char *blk, const char *key, uint64_t *v)
{
    const char *p = strstr(blk, key);
    if (!p)
        return false;
    p += strlen(key);
    char *end = NULL;
    unsigned long long x = strtoull(p, &end, 16);
    if (end == p)
        return false;
    *v = x;
    return true;
}

static bool parse_seg(const char *blk, int i, cl_memdump_cpu *c)
{
    const char *p = strstr(blk, seg_names[i]);
    if (!p)
        return false;
    p += 4;
    unsigned sel = 0, limit = 0, flags = 0;
    unsigned long long base = 0;
    if (i == SEG_GDT || i == SEG_IDT) {
        if (sscanf(p, " %llx %x", &base, &limit) != 2)
            return false;
    } else if (sscanf(p, "%x %llx %x %x", &sel, &base, &limit, &flags) != 4) {
        return false;
    }
    /* HMP prints flags & 0x00ffff00; QEMU keeps the descriptor's high dword, whose low
     * byte is base[23:16]. TR and LDT are loaded from the GDT, so it can be put back. */
    if (i == SEG_TR || i == SEG_LDT)
        flags |= (unsigned)(base >> 16) & 0xffu;
    c->seg[i].selector = sel;
    c->seg[i].base = base;
    c->seg[i].limit = limit;
    c->seg[i].flags = flags;
    return true;
}

bool cl_memdump_parse_registers(const char *text, cl_memdump_cpu *cpus, size_t max, size_t *n, cl_error **errp)
{
    *n = 0;
    for (const char *p = strstr(text, "CPU#"); p; p = strstr(p + 4, "CPU#")) {
        if (*n == max)
            return cl_error_set(errp, CL_ERR_VIRT, "memdump: more than %zu vCPUs", max);
        const char *next = strstr(p + 4, "CPU#");
        size_t len = next ? (size_t)(next - p) : strlen(p);
        char *blk = strndup(p, len);
        if (!blk)
            return cl_error_set(errp, CL_ERR_NOMEM, "memdump: cannot allocate");
        cl_memdump_cpu *c = &cpus[*n];
        memset(c, 0, sizeof(*c));
        bool ok = sscanf(blk, "CPU#%u", &c->index) == 1;
        if (ok && !strstr(blk, "RAX=")) {
            free(blk);
            return cl_error_set(errp, CL_ERR_VIRT, "memdump: vCPU %u is not in 64-bit mode (no RAX in `info registers`)",
                                c->index);
        }
        for (int i = 0; ok && i < 16; i++)
            ok = hex_after(blk, reg_names[i], &c->regs[i]);
        ok = ok && hex_after(blk, "RIP=", &c->rip) && hex_after(blk, "RFL=", &c->rflags);
        for (int i = 0; ok && i < SEG_N; i++)
            ok = parse_seg(blk, i, c);
        static const char *const crs[5] = { "CR0=", NULL, "CR2=", "CR3=", "CR4=" };
        for (int i = 0; ok && i < 5; i++)
            ok = !crs[i] || hex_after(blk, crs[i], &c->cr[i]);
        free(blk);
        if (!ok)
            return cl_error_set(errp, CL_ERR_VIRT, "memdump: cannot parse `info registers` of vCPU %zu", *n);
        (*n)++;
    }
    if (!*n)
        return cl_error_set(errp, CL_ERR_VIRT, "memdump: `info registers -a` names no vCPU");
    return true;
}

static size_t put_note(unsigned char *b, const char *name, uint32_t type, uint32_t dlen)
{
    uint32_t nl = (uint32_t)strlen(name) + 1;
    memcpy(b, &nl, 4);
    memcpy(b + 4, &dlen, 4);
    memcpy(b + 8, &type, 4);
    memset(b + 12, 0, (nl + 3) / 4 * 4 + (dlen + 3) / 4 * 4);
    memcpy(b + 12, name, nl);
    return 12 + (nl + 3) / 4 * 4; /* where the desc starts */
}

static void put64(unsigned char *b, uint64_t v) { memcpy(b, &v, 8); }
static void put32(unsigned char *b, uint32_t v) { memcpy(b, &v, 4); }

bool cl_memdump_build_notes(const cl_memdump_cpu *cpus, size_t n, const unsigned char *vmci_note, size_t vmci_len,
                            unsigned char **out, size_t *outlen, cl_error **errp)
{
    size_t cap = n * (12 + 8 + PRSTATUS_SIZE) + n * (12 + 8 + QEMU_STATE_SIZE) + vmci_len;
    unsigned char *b = calloc(1, cap ? cap : 1);
    if (!b)
        return cl_error_set(errp, CL_ERR_NOMEM, "memdump: cannot allocate %zu bytes of notes", cap);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const cl_memdump_cpu *c = &cpus[i];
        unsigned char *d = b + pos + put_note(b + pos, "CORE", 1, PRSTATUS_SIZE);
        put32(d + PRSTATUS_PID, c->index + 1);
        /* user_regs_struct: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi
         * orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs; orig_rax is 0, as QEMU
         * writes it (it has no such register) */
        const uint64_t r[27] = {
            c->regs[15], c->regs[14], c->regs[13], c->regs[12], c->regs[RBP], c->regs[RBX], c->regs[11], c->regs[10],
            c->regs[9], c->regs[8], c->regs[RAX], c->regs[RCX], c->regs[RDX], c->regs[RSI], c->regs[RDI], 0,
            c->rip, c->seg[SEG_CS].selector, c->rflags, c->regs[RSP], c->seg[SEG_SS].selector, c->seg[SEG_FS].base,
            c->seg[SEG_GS].base, c->seg[SEG_DS].selector, c->seg[SEG_ES].selector, c->seg[SEG_FS].selector,
            c->seg[SEG_GS].selector,
        };
        for (int k = 0; k < 27; k++)
            put64(d + PRSTATUS_REG + 8 * k, r[k]);
        pos += 12 + 8 + PRSTATUS_SIZE;
    }
    for (size_t i = 0; i < n; i++) {
        const cl_memdump_cpu *c = &cpus[i];
        unsigned char *d = b + pos + put_note(b + pos, "QEMU", 0, QEMU_STATE_SIZE);
        put32(d, 1);
        put32(d + 4, QEMU_STATE_SIZE);
        static const int order[16] = { RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP, 8, 9, 10, 11, 12, 13, 14, 15 };
        size_t o = 8;
        for (int k = 0; k < 16; k++, o += 8)
            put64(d + o, c->regs[order[k]]);
        put64(d + o, c->rip);
        put64(d + o + 8, c->rflags);
        o += 16;
        static const int segs[10] = { SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, SEG_LDT, SEG_TR, SEG_GDT, SEG_IDT };
        for (int k = 0; k < 10; k++, o += 24) {
            put32(d + o, c->seg[segs[k]].selector);
            put32(d + o + 4, c->seg[segs[k]].limit);
            put32(d + o + 8, c->seg[segs[k]].flags);
            put64(d + o + 16, c->seg[segs[k]].base);
        }
        for (int k = 0; k < 5; k++, o += 8)
            put64(d + o, c->cr[k]);
        pos += 12 + 8 + QEMU_STATE_SIZE;
    }
    memcpy(b + pos, vmci_note, vmci_len);
    *out = b;
    *outlen = pos + vmci_len;
    return true;
}
