/* synth.h - SYNTHETIC dump generator (not written by Windows or by a real kernel).
 *
 * Builds, in memory, small dumps of every layout the readers handle, so that every code path
 * has a test even where no real sample exists here: Windows 32/64-bit full, bitmap and triage
 * dumps; a Linux x86-64 "kernel" image (page tables, a printk ring buffer, a kallsyms table,
 * VMCOREINFO) wrapped as an ELF vmcore or as kdump-compressed (raw, zlib, lzo, snappy,
 * plain or flattened). Every value is chosen here; the layouts follow the formats' headers.
 * Header-only so that unit tests and fuzz-seed writers include it directly. */
#ifndef CL_TESTS_DUMP_SYNTH_H
#define CL_TESTS_DUMP_SYNTH_H

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct {
    unsigned char *p;
    size_t len;
} synth_buf;

static inline void sy_put16(unsigned char *b, size_t off, uint16_t v)
{
    b[off] = (unsigned char)v;
    b[off + 1] = (unsigned char)(v >> 8);
}
static inline void sy_put32(unsigned char *b, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[off + i] = (unsigned char)(v >> (8 * i));
}
static inline void sy_put64(unsigned char *b, size_t off, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[off + i] = (unsigned char)(v >> (8 * i));
}
static inline void sy_putbe64(unsigned char *b, size_t off, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[off + i] = (unsigned char)(v >> (56 - 8 * i));
}
static inline void sy_wstr(unsigned char *b, size_t off, const char *s)
{
    size_t n = strlen(s);
    sy_put32(b, off, (uint32_t)n);
    for (size_t i = 0; i <= n; i++)
        sy_put16(b, off + 4 + 2 * i, (uint16_t)(unsigned char)s[i]);
}

/* ---------------------------------------------------------------- Windows */

#define SY_FILETIME_2024 133730000000000000ull /* 2024-10-05T... UTC, any fixed value */

static inline void sy_win64_header(unsigned char *b, uint32_t type, uint32_t code, const uint64_t p[4])
{
    memset(b, 0, 0x2000);
    for (size_t i = 0; i < 0x2000; i += 4)
        memcpy(b + i, "PAGE", 4); /* Windows fills unused header space with "PAGE" */
    memcpy(b + 4, "DU64", 4);
    sy_put32(b, 0x08, 15);
    sy_put32(b, 0x0c, 19041);
    sy_put64(b, 0x10, 0x1ad000);
    sy_put64(b, 0x18, 0xffffec0000000000ull);
    sy_put64(b, 0x20, 0xfffff8071ec422b0ull);
    sy_put64(b, 0x28, 0xfffff8071ec360a0ull);
    sy_put32(b, 0x30, 0x8664);
    sy_put32(b, 0x34, 2);
    sy_put32(b, 0x38, code);
    for (int i = 0; i < 4; i++)
        sy_put64(b, 0x40 + 8 * i, p[i]);
    sy_put64(b, 0x80, 0xfffff8071ea00b20ull);
    sy_put32(b, 0xf98, type);
    sy_put64(b, 0xfa0, 0);
    sy_put64(b, 0xfa8, SY_FILETIME_2024);
    sy_put32(b, 0xf00, 0x80000003);
    sy_put64(b, 0xf10, 0xfffff8071e9f5a80ull);
}

/* Full dump (type 1): runs {1,2} and {0x10,1}; page pfn is filled with byte (pfn & 0xff). */
static inline synth_buf synth_win64_full(void)
{
    synth_buf o = { calloc(1, 0x2000 + 3 * 4096), 0x2000 + 3 * 4096 };
    const uint64_t p[4] = { 0, 0x501, 0x500, 0 };
    sy_win64_header(o.p, 1, 0x133, p);
    sy_put32(o.p, 0x88, 2);
    sy_put64(o.p, 0x90, 3);
    sy_put64(o.p, 0x98, 1);
    sy_put64(o.p, 0xa0, 2);
    sy_put64(o.p, 0xa8, 0x10);
    sy_put64(o.p, 0xb0, 1);
    sy_put64(o.p, 0xfa0, o.len);
    const uint64_t pfns[3] = { 1, 2, 0x10 };
    for (int i = 0; i < 3; i++)
        memset(o.p + 0x2000 + 4096 * i, (int)(pfns[i] & 0xff), 4096);
    return o;
}

/* Bitmap dump (type 5 "FDMP" or 6 "SDMP"): pages 1, 2 and 0x10 of 0x20 present. */
static inline synth_buf synth_win64_bitmap(uint32_t type)
{
    size_t first = 0x3000;
    synth_buf o = { calloc(1, first + 3 * 4096), first + 3 * 4096 };
    const uint64_t p[4] = { 0xffffa00000001000ull, 2, 1, 0xfffff80000401234ull };
    sy_win64_header(o.p, type, 0xD1, p);
    memcpy(o.p + 0x2000, type == 5 ? "FDMP" : "SDMP", 4);
    memcpy(o.p + 0x2004, "DUMP", 4);
    sy_put64(o.p, 0x2020, first);
    sy_put64(o.p, 0x2028, 3);
    sy_put64(o.p, 0x2030, 0x20);
    o.p[0x2038] = 0x06;        /* pages 1, 2 */
    o.p[0x2038 + 2] = 0x01;    /* page 0x10 */
    sy_put64(o.p, 0xfa0, o.len);
    const uint64_t pfns[3] = { 1, 2, 0x10 };
    for (int i = 0; i < 3; i++)
        memset(o.p + first + 4096 * i, (int)(pfns[i] & 0xff), 4096);
    return o;
}

/* 32-bit PAGEDUMP full dump, machine x86: runs {0,1} and {5,1}. */
static inline synth_buf synth_win32_full(void)
{
    synth_buf o = { calloc(1, 0x1000 + 2 * 4096), 0x1000 + 2 * 4096 };
    unsigned char *b = o.p;
    for (size_t i = 0; i < 0x1000; i += 4)
        memcpy(b + i, "PAGE", 4);
    memcpy(b + 4, "DUMP", 4);
    sy_put32(b, 0x08, 15);
    sy_put32(b, 0x0c, 2600);
    sy_put32(b, 0x10, 0x39000);
    sy_put32(b, 0x18, 0x8055a420);
    sy_put32(b, 0x20, 0x14c);
    sy_put32(b, 0x24, 1);
    sy_put32(b, 0x28, 0x1E);
    sy_put32(b, 0x2c, 0xC0000005);
    sy_put32(b, 0x30, 0xf7a1b2c3);
    sy_put32(b, 0x34, 1);
    sy_put32(b, 0x38, 0x00000010);
    sy_put32(b, 0x60, 0x80544ce0);
    sy_put32(b, 0x64, 2);
    sy_put32(b, 0x68, 2);
    sy_put32(b, 0x6c, 0);
    sy_put32(b, 0x70, 1);
    sy_put32(b, 0x74, 5);
    sy_put32(b, 0x78, 1);
    sy_put32(b, 0xf88, 1);
    sy_put64(b, 0xfa0, o.len);
    sy_put64(b, 0xfc0, SY_FILETIME_2024);
    memset(b + 0x1000, 0xaa, 4096);
    memset(b + 0x2000, 0x55, 4096);
    return o;
}

/* Triage dump (type 4), bug check 0x133 single DPC: modules ntoskrnl.exe, hal.dll,
 * labfault.sys; the call stack holds a return address into labfault.sys. */
static inline synth_buf synth_win64_triage(uint32_t code, const uint64_t p[4])
{
    size_t size = 0x6000;
    synth_buf o = { calloc(1, size), size };
    unsigned char *b = o.p;
    sy_win64_header(b, 4, code, p);
    sy_put64(b, 0xfa0, 0x200000); /* more than the file: normal for triage dumps */
    size_t t = 0x2000, drivers = 0x2100, pool = 0x2400, stack = 0x3000, valid = 0x5ff0;
    sy_put32(b, t + 0x08, (uint32_t)valid);
    sy_put32(b, t + 0x0c, 0x348);
    sy_put32(b, t + 0x10, 0xf00);
    sy_put32(b, t + 0x28, (uint32_t)stack);
    sy_put32(b, t + 0x2c, 0x100);
    sy_put32(b, t + 0x30, (uint32_t)drivers);
    sy_put32(b, t + 0x34, 3);
    sy_put32(b, t + 0x38, (uint32_t)pool);
    sy_put32(b, t + 0x3c, 0x200);
    sy_put64(b, t + 0x48, 0xffff850429891000ull);
    memcpy(b + valid, "TRGD", 4);
    const char *names[3] = { "\\SystemRoot\\system32\\ntoskrnl.exe", "\\SystemRoot\\system32\\hal.dll",
                             "\\SystemRoot\\system32\\drivers\\labfault.sys" };
    const uint64_t bases[3] = { 0xfffff80002000000ull, 0xfffff80001000000ull, 0xfffff80000400000ull };
    const uint32_t sizes[3] = { 0x1000000, 0x100000, 0x8000 };
    size_t at = pool;
    for (int i = 0; i < 3; i++) {
        size_t e = drivers + 0x90 * (size_t)i;
        sy_put32(b, e, (uint32_t)at);
        sy_put64(b, e + 0x38, bases[i]);
        sy_put32(b, e + 0x48, sizes[i]);
        sy_put32(b, e + 0x88, 0x5f000000 + (uint32_t)i);
        sy_wstr(b, at, names[i]);
        at += 4 + 2 * (strlen(names[i]) + 1);
    }
    /* stack: nt frames, then labfault's DPC routine, then nt again */
    sy_put64(b, stack + 0x00, 0xfffff80002123456ull);
    sy_put64(b, stack + 0x08, 0x0000000000000001ull);
    sy_put64(b, stack + 0x10, 0xfffff80001000040ull);
    sy_put64(b, stack + 0x18, 0xfffff80000401010ull);
    sy_put64(b, stack + 0x20, 0xfffff80002234567ull);
    return o;
}

/* ------------------------------------------------------------------ Linux */

#define SY_BASE_PA 0x1000000ull          /* the synthetic kernel's RAM: 2 MiB from 16 MiB */
#define SY_MEM_SIZE 0x200000ull
#define SY_KTEXT(x) (0xffffffff81000000ull + (x))
#define SY_DM(x) (0xffff888000000000ull + SY_BASE_PA + (x))
#define SY_VM(x) (0xffffc90000000000ull + (x))
#define SY_RING_BITS 12

enum {
    SY_PML4 = 0x0000, SY_PDPT_DM = 0x1000, SY_PD_DM = 0x2000, SY_PDPT_VM = 0x3000, SY_PD_VM = 0x4000,
    SY_PT_VM = 0x5000, SY_TEXTRING = 0x6000, SY_PRBVAR = 0x7000, SY_PRB = 0x8000, SY_KNUM = 0x9000,
    SY_KBASE = 0x9008, SY_KOFFS = 0xa000, SY_KTIDX = 0xb000, SY_KTTAB = 0xc000, SY_KNAMES = 0xd000,
    SY_VMCI_PAGE = 0xe000, SY_SMBIOS = 0xf000, SY_DESCS = 0x100000, SY_INFOS = 0x110000,
};

/* the kernel objects synth_linux_build_objects adds: BTF, per-CPU areas, tasks, a module */
enum {
    SY_BTF = 0x20000, SY_BTF_LEN = 0x1000, SY_PCPU_OFF = 0x30000, SY_PCPU0 = 0x31000, SY_PCPU_CURRENT = 0x40,
    SY_TASK0 = 0x34000, SY_MODULES = 0x36000, SY_MOD = 0x37000, SY_MODKS = 0x38000, SY_MODSYMTAB = 0x39000,
    SY_MODSTRTAB = 0x3a000,
};
#define SY_MOD_BASE 0xffffffffc0000000ull

typedef struct {
    unsigned char *mem;  /* SY_MEM_SIZE bytes of physical memory from SY_BASE_PA */
    char vmci[4096];
    uint64_t cpu_rip[2];
} synth_linux;

static const char *const synth_soft_lockup_log[] = {
    "Linux version 6.1.0-synthetic (SYNTHETIC test data)",
    "labfault: armed dpc-watchdog-single",
    "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [kworker/0:1:42]",
    "Modules linked in: labfault(OE)",
    "RIP: 0010:delay_tsc+0x33/0xa0",
    "Call Trace:\n <IRQ>\n lf_timer_fn+0x22/0x40 [labfault]\n call_timer_fn+0x27/0x130",
    "Kernel panic - not syncing: softlockup: hung tasks",
    NULL,
};

/* Fills memory with page tables, a printk ring holding log (NULL-terminated list of
 * records), a kallsyms table and VMCOREINFO. abs_percpu selects the kallsyms offset encoding. */
static inline void sy_linux_objects(unsigned char *m);
static inline void sy_linux_build(synth_linux *s, const char *const *log, bool abs_percpu, bool objects)
{
    s->mem = calloc(1, SY_MEM_SIZE);
    unsigned char *m = s->mem;
    /* page tables: the direct map by one 2 MiB page, the text ring through a 4 KiB PTE */
    sy_put64(m, SY_PML4 + 8 * 273, (SY_BASE_PA + SY_PDPT_DM) | 0x63);
    sy_put64(m, SY_PDPT_DM + 0, (SY_BASE_PA + SY_PD_DM) | 0x63);
    sy_put64(m, SY_PD_DM + 8 * 8, SY_BASE_PA | 0xe3);
    sy_put64(m, SY_PML4 + 8 * 402, (SY_BASE_PA + SY_PDPT_VM) | 0x63);
    sy_put64(m, SY_PDPT_VM, (SY_BASE_PA + SY_PD_VM) | 0x63);
    sy_put64(m, SY_PD_VM, (SY_BASE_PA + SY_PT_VM) | 0x63);
    sy_put64(m, SY_PT_VM, (SY_BASE_PA + SY_TEXTRING) | 0x63);

    /* printk ring: 16 descriptors, 4 KiB of text; the first record wraps the ring */
    const uint64_t id0 = 100, dsize = 1u << SY_RING_BITS;
    sy_put64(m, SY_PRBVAR, SY_KTEXT(SY_PRB));
    sy_put32(m, SY_PRB + 0, 4);
    sy_put64(m, SY_PRB + 8, SY_DM(SY_DESCS));
    sy_put64(m, SY_PRB + 16, SY_DM(SY_INFOS));
    sy_put32(m, SY_PRB + 64, SY_RING_BITS);
    sy_put64(m, SY_PRB + 72, SY_VM(0));
    uint64_t lpos = 5 * dsize + dsize - 40, id = id0;
    size_t n = 0;
    for (; log[n] && n < 14; n++, id++) {
        size_t len = strlen(log[n]);
        uint64_t size = (8 + len + 7) & ~7ull, begin = lpos, next, at;
        if (lpos % dsize + size > dsize) {
            if (lpos % dsize + 8 <= dsize)
                sy_put64(m, SY_TEXTRING + lpos % dsize, id);
            next = (lpos / dsize + 1) * dsize + size;
            at = 0;
        } else {
            next = lpos + size;
            at = lpos % dsize;
        }
        sy_put64(m, SY_TEXTRING + at, id);
        memcpy(m + SY_TEXTRING + at + 8, log[n], len);
        size_t d = SY_DESCS + 24 * (id & 15), in = SY_INFOS + 88 * (id & 15);
        sy_put64(m, d, id | 2ull << 62);
        sy_put64(m, d + 8, begin);
        sy_put64(m, d + 16, next);
        sy_put64(m, in, n);
        sy_put64(m, in + 8, (n + 1) * 1000000123ull);
        sy_put16(m, in + 16, (uint16_t)len);
        lpos = next;
    }
    /* one record still being written (reserved): the reader must skip it */
    sy_put64(m, SY_DESCS + 24 * (id & 15), id);
    sy_put64(m, SY_PRB + 24, id);
    sy_put64(m, SY_PRB + 32, id0);

    /* kallsyms: tokens are single characters except token 1 = "native_" */
    const struct { const char *name; uint64_t addr; } syms[] = {
        { "Dfixed_percpu_data", 0 },
        { "Tstartup_64", SY_KTEXT(0x100) },
        { "tnative_safe_halt", SY_KTEXT(0x200) },
        { "Tpanic", SY_KTEXT(0x300) },
        /* objects only (with abs_percpu): the current task per CPU and the modules list */
        { "Dcurrent_task", SY_PCPU_CURRENT }, /* per-CPU: an offset in the per-CPU area */
        { "R__start_BTF", SY_KTEXT(SY_BTF) },
        { "R__stop_BTF", SY_KTEXT(SY_BTF) + SY_BTF_LEN },
        { "D__per_cpu_offset", SY_KTEXT(SY_PCPU_OFF) },
        { "Dmodules", SY_KTEXT(SY_MODULES) },
    };
    size_t first = abs_percpu ? 0 : 1, nsym = (objects ? sizeof(syms) / sizeof(syms[0]) : 4) - first;
    uint64_t base = SY_KTEXT(0);
    sy_put32(m, SY_KNUM, (uint32_t)nsym);
    sy_put64(m, SY_KBASE, base);
    size_t tt = SY_KTTAB;
    for (int i = 0; i < 256; i++) {
        sy_put16(m, SY_KTIDX + 2 * (size_t)i, (uint16_t)(tt - SY_KTTAB));
        if (i == 1) {
            memcpy(m + tt, "native_", 8);
            tt += 8;
        } else {
            m[tt] = (unsigned char)i;
            tt += 2;
        }
    }
    size_t nm = SY_KNAMES;
    for (size_t i = 0; i < nsym; i++) {
        const char *name = syms[first + i].name;
        uint64_t a = syms[first + i].addr;
        int32_t off = abs_percpu ? (a < base ? (int32_t)a : (int32_t)(-(int64_t)(a - base) - 1)) : (int32_t)(a - base);
        sy_put32(m, SY_KOFFS + 4 * i, (uint32_t)off);
        unsigned char enc[64];
        size_t k = 0;
        for (const char *c = name; *c; c++) {
            if (!strncmp(c, "native_", 7)) {
                enc[k++] = 1;
                c += 6;
            } else {
                enc[k++] = (unsigned char)*c;
            }
        }
        m[nm++] = (unsigned char)k;
        memcpy(m + nm, enc, k);
        nm += k;
    }
    s->cpu_rip[0] = SY_KTEXT(0x204);
    s->cpu_rip[1] = 0xffffffffc0001000ull;
    if (objects)
        sy_linux_objects(m);

    snprintf(s->vmci, sizeof(s->vmci),
             "OSRELEASE=6.1.0-synthetic\nPAGESIZE=4096\nSYMBOL(init_top_pgt)=%llx\nNUMBER(phys_base)=0\n"
             "NUMBER(pgtable_l5_enabled)=0\nKERNELOFFSET=0\nSYMBOL(prb)=%llx\n"
             "OFFSET(printk_ringbuffer.desc_ring)=0\nOFFSET(printk_ringbuffer.text_data_ring)=64\n"
             "OFFSET(prb_desc_ring.count_bits)=0\nOFFSET(prb_desc_ring.descs)=8\nOFFSET(prb_desc_ring.infos)=16\n"
             "OFFSET(prb_desc_ring.head_id)=24\nOFFSET(prb_desc_ring.tail_id)=32\nSIZE(prb_desc)=24\n"
             "OFFSET(prb_desc.state_var)=0\nOFFSET(prb_desc.text_blk_lpos)=8\nOFFSET(prb_data_blk_lpos.begin)=0\n"
             "OFFSET(prb_data_blk_lpos.next)=8\nSIZE(printk_info)=88\nOFFSET(printk_info.seq)=0\n"
             "OFFSET(printk_info.ts_nsec)=8\nOFFSET(printk_info.text_len)=16\nOFFSET(prb_data_ring.size_bits)=0\n"
             "OFFSET(prb_data_ring.data)=8\nOFFSET(atomic_long_t.counter)=0\n"
             "SYMBOL(kallsyms_names)=%llx\nSYMBOL(kallsyms_num_syms)=%llx\nSYMBOL(kallsyms_token_table)=%llx\n"
             "SYMBOL(kallsyms_token_index)=%llx\nSYMBOL(kallsyms_offsets)=%llx\nSYMBOL(kallsyms_relative_base)=%llx\n",
             (unsigned long long)SY_KTEXT(SY_PML4), (unsigned long long)SY_KTEXT(SY_PRBVAR),
             (unsigned long long)SY_KTEXT(SY_KNAMES), (unsigned long long)SY_KTEXT(SY_KNUM),
             (unsigned long long)SY_KTEXT(SY_KTTAB), (unsigned long long)SY_KTEXT(SY_KTIDX),
             (unsigned long long)SY_KTEXT(SY_KOFFS), (unsigned long long)SY_KTEXT(SY_KBASE));
    /* the kernel's own copy, page-aligned, for dumps taken without a VMCOREINFO note */
    memcpy(m + SY_VMCI_PAGE, s->vmci, strlen(s->vmci));

    /* SMBIOS 3.0 as UEFI firmware leaves it: anywhere in RAM, here not in the F-segment */
    static const unsigned char table[] = {
        0, 0x18, 0, 0, 1, 2, 0, 0xf0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        'S', 'y', 'n', 't', 'h', 'B', 'I', 'O', 'S', 0, '1', '.', '2', 0, '0', '1', '/', '0', '2', '/', '2', '0', '2', '6', 0, 0,
        1, 0x1b, 1, 0, 1, 2, 3, 4, 0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
        0xde, 0xf0, 6, 0, 0,
        'C', 'r', 'a', 's', 'h', 'l', 'a', 'b', 0, 'S', 'y', 'n', 't', 'h', 'P', 'C', 0, 'v', '2', 0,
        'S', 'Y', 'N', '-', '0', '0', '1', 0, 0,
        127, 4, 2, 0, 0, 0,
    };
    unsigned char *ep = m + SY_SMBIOS;
    memcpy(ep, "_SM3_", 5);
    ep[6] = 0x18;
    ep[7] = 3;
    ep[8] = 0;
    ep[10] = 1;
    sy_put32(ep, 0x0c, sizeof(table));
    sy_put64(ep, 0x10, SY_BASE_PA + SY_SMBIOS + 0x100);
    unsigned char sum = 0;
    for (int i = 0; i < 0x18; i++)
        sum = (unsigned char)(sum + ep[i]);
    ep[5] = (unsigned char)(0x100 - sum);
    memcpy(m + SY_SMBIOS + 0x100, table, sizeof(table));
}

static inline bool sy_page_used(const synth_linux *s, uint64_t i)
{
    for (size_t k = 0; k < 4096; k++)
        if (s->mem[i * 4096 + k])
            return true;
    return false;
}

static inline void synth_linux_build(synth_linux *s, const char *const *log, bool abs_percpu)
{
    sy_linux_build(s, log, abs_percpu, false);
}

/* As synth_linux_build (abs_percpu), plus what per-CPU data needs: BTF, current_task on each
 * CPU (pid 42 "kworker/0:1", pid 0 "swapper/1") and the module labfault at SY_MOD_BASE whose
 * symbols name CPU 1's rip lf_timer_fn+0x100. */
static inline void synth_linux_build_objects(synth_linux *s, const char *const *log)
{
    sy_linux_build(s, log, true, true);
}

/* A BTF blob as the kernel's: header, types, strings (kinds 1 int, 2 ptr, 3 array, 4 struct). */
typedef struct {
    unsigned char *t;
    size_t tn;
    char str[512];
    size_t sn;
} sy_btf;

static inline void sy_btf_type(sy_btf *b, const char *name, unsigned kind, unsigned vlen, uint32_t size_or_type)
{
    uint32_t off = 0;
    if (*name) {
        off = (uint32_t)b->sn;
        memcpy(b->str + b->sn, name, strlen(name) + 1);
        b->sn += strlen(name) + 1;
    }
    sy_put32(b->t, b->tn, off);
    sy_put32(b->t, b->tn + 4, (uint32_t)kind << 24 | vlen);
    sy_put32(b->t, b->tn + 8, size_or_type);
    b->tn += 12;
}

static inline void sy_btf_word(sy_btf *b, uint32_t v)
{
    sy_put32(b->t, b->tn, v);
    b->tn += 4;
}

static inline void sy_linux_objects(unsigned char *m)
{
    /* BTF: 1 int, 2 char, 3 char[16], 4 char[56], 5 void *, 6 module_layout, 7 task_struct,
     * 8 module, 9 mod_kallsyms; a member is (name, type, bit offset) like a type record */
    unsigned char types[1024];
    sy_btf b = { .t = types, .tn = 0, .sn = 1 };
    b.str[0] = '\0';
    sy_btf_type(&b, "int", 1, 0, 4), sy_btf_word(&b, 32);
    sy_btf_type(&b, "char", 1, 0, 1), sy_btf_word(&b, 8);
    sy_btf_type(&b, "", 3, 0, 0), sy_btf_word(&b, 2), sy_btf_word(&b, 1), sy_btf_word(&b, 16);
    sy_btf_type(&b, "", 3, 0, 0), sy_btf_word(&b, 2), sy_btf_word(&b, 1), sy_btf_word(&b, 56);
    sy_btf_type(&b, "", 2, 0, 0);
    sy_btf_type(&b, "module_layout", 4, 2, 16);
    struct { const char *name; uint32_t type, byte; } lm[] = { { "base", 5, 0 }, { "size", 1, 8 } };
    struct { const char *name; uint32_t type, byte; } tm[] = { { "pid", 1, 0x10 }, { "comm", 3, 0x20 } };
    struct { const char *name; uint32_t type, byte; } mm[] = {
        { "list", 5, 0x08 }, { "name", 4, 0x18 }, { "core_layout", 6, 0x50 }, { "kallsyms", 5, 0x90 } };
    struct { const char *name; uint32_t type, byte; } km[] = { { "symtab", 5, 0 }, { "num_symtab", 1, 8 }, { "strtab", 5, 16 } };
    /* a member record is (name, type, bit offset): a type record's name, then two words */
#define SY_MEMBERS(arr)                                                                  \
    for (size_t i = 0; i < sizeof(arr) / sizeof(arr[0]); i++) {                           \
        sy_btf_type(&b, arr[i].name, 0, 0, 0);                                           \
        b.tn -= 8;                                                                       \
        sy_btf_word(&b, arr[i].type);                                                    \
        sy_btf_word(&b, 8 * arr[i].byte);                                                \
    }
    SY_MEMBERS(lm);
    sy_btf_type(&b, "task_struct", 4, 2, 0x40);
    SY_MEMBERS(tm);
    sy_btf_type(&b, "module", 4, 4, 0x100);
    SY_MEMBERS(mm);
    sy_btf_type(&b, "mod_kallsyms", 4, 3, 24);
    SY_MEMBERS(km);
#undef SY_MEMBERS
    unsigned char *h = m + SY_BTF;
    sy_put16(h, 0, 0xeb9f);
    h[2] = 1;
    sy_put32(h, 4, 24);
    sy_put32(h, 8, 0);
    sy_put32(h, 12, (uint32_t)b.tn);
    sy_put32(h, 16, (uint32_t)b.tn);
    sy_put32(h, 20, (uint32_t)b.sn);
    memcpy(h + 24, types, b.tn);
    memcpy(h + 24 + b.tn, b.str, b.sn);

    /* per-CPU: __per_cpu_offset[cpu] + current_task holds the task */
    const struct { uint32_t pid; const char *comm; } tasks[2] = { { 42, "kworker/0:1" }, { 0, "swapper/1" } };
    for (size_t c = 0; c < 2; c++) {
        sy_put64(m, SY_PCPU_OFF + 8 * c, SY_DM(SY_PCPU0 + 0x1000 * c));
        sy_put64(m, SY_PCPU0 + 0x1000 * c + SY_PCPU_CURRENT, SY_DM(SY_TASK0 + 0x1000 * c));
        sy_put32(m, SY_TASK0 + 0x1000 * c + 0x10, tasks[c].pid);
        memcpy(m + SY_TASK0 + 0x1000 * c + 0x20, tasks[c].comm, strlen(tasks[c].comm));
    }
    /* modules list: one module, labfault, 8 KiB at SY_MOD_BASE */
    sy_put64(m, SY_MODULES, SY_DM(SY_MOD) + 8);
    sy_put64(m, SY_MODULES + 8, SY_DM(SY_MOD) + 8);
    sy_put64(m, SY_MOD + 8, SY_KTEXT(SY_MODULES));
    sy_put64(m, SY_MOD + 16, SY_KTEXT(SY_MODULES));
    memcpy(m + SY_MOD + 0x18, "labfault", 8);
    sy_put64(m, SY_MOD + 0x50, SY_MOD_BASE);
    sy_put32(m, SY_MOD + 0x58, 0x2000);
    sy_put64(m, SY_MOD + 0x90, SY_DM(SY_MODKS));
    sy_put64(m, SY_MODKS, SY_DM(SY_MODSYMTAB));
    sy_put32(m, SY_MODKS + 8, 4);
    sy_put64(m, SY_MODKS + 16, SY_DM(SY_MODSTRTAB));
    /* Elf64_Sym: the null symbol, two functions, a section symbol nearer than either (skipped) */
    memcpy(m + SY_MODSTRTAB, "\0lf_timer_fn\0lf_spin\0.text\0", 27);
    const struct { uint32_t name; unsigned char info; uint64_t value; } es[4] = {
        { 0, 0, 0 }, { 1, 0x12, SY_MOD_BASE + 0xf00 }, { 13, 0x12, SY_MOD_BASE + 0x1100 }, { 21, 0x03, SY_MOD_BASE + 0x1000 } };
    for (size_t i = 0; i < 4; i++) {
        sy_put32(m, SY_MODSYMTAB + 24 * i, es[i].name);
        m[SY_MODSYMTAB + 24 * i + 4] = es[i].info;
        sy_put64(m, SY_MODSYMTAB + 24 * i + 8, es[i].value);
    }
}

/* The ELF notes: NT_PRSTATUS for two CPUs and, unless without_vmci, VMCOREINFO. */
static inline size_t synth_linux_notes(const synth_linux *s, unsigned char *b, bool without_vmci)
{
    size_t at = 0;
    for (int c = 0; c < 2; c++) {
        sy_put32(b, at, 5);
        sy_put32(b, at + 4, 336);
        sy_put32(b, at + 8, 1);
        memcpy(b + at + 12, "CORE", 5);
        sy_put32(b, at + 20 + 0x20, 100 + (uint32_t)c);
        sy_put64(b, at + 20 + 0x70 + 8 * 16, s->cpu_rip[c]);
        at += 20 + 336;
    }
    if (!without_vmci) {
        size_t len = strlen(s->vmci);
        sy_put32(b, at, 11);
        sy_put32(b, at + 4, (uint32_t)len);
        sy_put32(b, at + 8, 0);
        memcpy(b + at + 12, "VMCOREINFO", 11);
        memcpy(b + at + 24, s->vmci, len);
        at += 24 + ((len + 3) & ~(size_t)3);
    }
    return at;
}

/* ELF vmcore: PT_NOTE, then one PT_LOAD per run of non-zero pages (a sparse, small file). */
static inline synth_buf synth_linux_elf(const synth_linux *s, bool without_vmci)
{
    size_t pages = SY_MEM_SIZE / 4096, nload = 0;
    uint64_t run_start[512], run_len[512];
    for (uint64_t i = 0; i < pages; i++) {
        if (!sy_page_used(s, i))
            continue;
        if (nload && run_start[nload - 1] + run_len[nload - 1] == i) {
            run_len[nload - 1]++;
        } else {
            run_start[nload] = i;
            run_len[nload++] = 1;
        }
    }
    unsigned char notes[8192];
    size_t nsize = synth_linux_notes(s, notes, without_vmci);
    size_t phoff = 64, data = (phoff + 56 * (1 + nload) + nsize + 4095) & ~(size_t)4095, size = data;
    for (size_t i = 0; i < nload; i++)
        size += run_len[i] * 4096;
    synth_buf o = { calloc(1, size), size };
    unsigned char *b = o.p;
    memcpy(b, "\x7f" "ELF\x02\x01\x01", 7);
    sy_put16(b, 16, 4);
    sy_put16(b, 18, 62);
    sy_put32(b, 20, 1);
    sy_put64(b, 32, phoff);
    sy_put16(b, 52, 64);
    sy_put16(b, 54, 56);
    sy_put16(b, 56, (uint16_t)(1 + nload));
    size_t noff = phoff + 56 * (1 + nload);
    sy_put32(b, phoff, 4);
    sy_put64(b, phoff + 8, noff);
    sy_put64(b, phoff + 32, nsize);
    sy_put64(b, phoff + 40, nsize);
    memcpy(b + noff, notes, nsize);
    size_t at = data;
    for (size_t i = 0; i < nload; i++) {
        size_t ph = phoff + 56 * (1 + i);
        sy_put32(b, ph, 1);
        sy_put64(b, ph + 8, at);
        sy_put64(b, ph + 24, SY_BASE_PA + run_start[i] * 4096);
        sy_put64(b, ph + 32, run_len[i] * 4096);
        sy_put64(b, ph + 40, run_len[i] * 4096);
        memcpy(b + at, s->mem + run_start[i] * 4096, run_len[i] * 4096);
        at += run_len[i] * 4096;
    }
    return o;
}

/* kdump-compressed: compression 0 (raw), 1 zlib, 2 lzo, 4 snappy; flattened wraps the
 * result in makedumpfile's flattened format, records out of order. */
static inline synth_buf synth_linux_kdump(const synth_linux *s, uint32_t compression, bool flattened)
{
    uint64_t pages = SY_MEM_SIZE / 4096, max_mapnr = (SY_BASE_PA + SY_MEM_SIZE) / 4096, used = 0;
    for (uint64_t i = 0; i < pages; i++)
        used += sy_page_used(s, i);
    size_t desc_off = 4 * 4096, data_off = desc_off + 24 * used;
    size_t cap = data_off + used * 8192 + 4096;
    unsigned char *b = calloc(1, cap);
    memcpy(b, "KDUMP   ", 8);
    sy_put32(b, 8, 6);
    memcpy(b + 0x0c + 65 * 2, "6.1.0-synthetic", 16);
    memcpy(b + 0x0c + 65 * 4, "x86_64", 7);
    sy_put64(b, 0x198, 1728000000);
    sy_put32(b, 0x1ac, 4096);
    sy_put32(b, 0x1b0, 2);
    sy_put32(b, 0x1b4, 1);
    sy_put32(b, 0x1b8, (uint32_t)max_mapnr);
    sy_put32(b, 0x1cc, 2);
    size_t sub = 4096, notes = sub + 512;
    size_t nsize = synth_linux_notes(s, b + notes, true);
    size_t vmci = notes + nsize, vlen = strlen(s->vmci);
    memcpy(b + vmci, s->vmci, vlen);
    sy_put32(b, sub + 8, 1);
    sy_put64(b, sub + 0x20, vmci);
    sy_put64(b, sub + 0x28, vlen);
    sy_put64(b, sub + 0x30, notes);
    sy_put64(b, sub + 0x38, nsize);
    sy_put64(b, sub + 0x60, max_mapnr);
    size_t bm = 3 * 4096, at = data_off, k = 0;
    static bool lzo_ok;
    if (!lzo_ok)
        lzo_ok = lzo_init() == LZO_E_OK;
    static unsigned char wrk[LZO1X_1_MEM_COMPRESS];
    for (uint64_t i = 0; i < pages; i++) {
        if (!sy_page_used(s, i))
            continue;
        uint64_t pfn = SY_BASE_PA / 4096 + i;
        b[bm + pfn / 8] |= (unsigned char)(1u << (pfn % 8));
        b[bm + 2048 + pfn / 8] |= (unsigned char)(1u << (pfn % 8));
        const unsigned char *page = s->mem + i * 4096;
        size_t clen = 0;
        uint32_t flags = compression;
        if (compression == 1) {
            uLongf l = 8192;
            compress2(b + at, &l, page, 4096, 6);
            clen = l;
        } else if (compression == 2) {
            lzo_uint l = 8192;
            lzo1x_1_compress(page, 4096, b + at, &l, wrk);
            clen = l;
        } else if (compression == 4) {
            size_t l = 8192;
            snappy_compress((const char *)page, 4096, (char *)b + at, &l);
            clen = l;
        }
        if (!compression || clen >= 4096) { /* as makedumpfile: incompressible pages stay raw */
            memcpy(b + at, page, 4096);
            clen = 4096;
            flags = 0;
        }
        size_t d = desc_off + 24 * k++;
        sy_put64(b, d, at);
        sy_put32(b, d + 8, (uint32_t)clen);
        sy_put32(b, d + 12, flags);
        at += clen;
    }
    synth_buf o = { b, at };
    if (!flattened)
        return o;
    size_t chunk = 3000, nrec = (at + chunk - 1) / chunk;
    synth_buf f = { calloc(1, 4096 + nrec * (16 + chunk) + 16), 0 };
    memcpy(f.p, "makedumpfile", 12);
    sy_putbe64(f.p, 16, 1);
    sy_putbe64(f.p, 24, 1);
    f.len = 4096;
    for (size_t r = 0; r < nrec; r++) {
        size_t idx = r == 0 ? 1 : r == 1 ? 0 : r; /* the first two records swapped */
        size_t off = idx * chunk, len = at - off < chunk ? at - off : chunk;
        sy_putbe64(f.p, f.len, off);
        sy_putbe64(f.p, f.len + 8, len);
        memcpy(f.p + f.len + 16, b + off, len);
        f.len += 16 + len;
    }
    sy_putbe64(f.p, f.len, UINT64_MAX);
    sy_putbe64(f.p, f.len + 8, UINT64_MAX);
    f.len += 16;
    free(b);
    return f;
}

#endif
