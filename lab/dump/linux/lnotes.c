#include "dump/linux/lnotes.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "dump/elf/format.h"
#include "dump/le.h"

void cl_linux_notes_clear(cl_linux_notes *n)
{
    free(n->vmcoreinfo);
    memset(n, 0, sizeof(*n));
}

void cl_linux_notes_set_vmcoreinfo(cl_linux_notes *n, const char *text, size_t len)
{
    if (n->vmcoreinfo)
        return;
    if (len > CL_VMCOREINFO_MAX)
        len = CL_VMCOREINFO_MAX;
    size_t real = strnlen(text, len);
    n->vmcoreinfo = malloc(real + 1);
    if (!n->vmcoreinfo)
        return;
    memcpy(n->vmcoreinfo, text, real);
    n->vmcoreinfo[real] = '\0';
    n->vmcoreinfo_len = real;
}

static bool name_is(const unsigned char *name, uint32_t namesz, const char *want)
{
    size_t wl = strlen(want);
    /* namesz counts the NUL; tolerate writers that leave it out */
    return (namesz == wl + 1 || namesz == wl) && !memcmp(name, want, wl);
}

void cl_linux_notes_collect(const unsigned char *buf, size_t len, cl_linux_notes *out, cl_dump_notes *warn)
{
    size_t off = 0;
    while (len - off >= 12) {
        uint64_t namesz = cl_le32(buf + off), descsz = cl_le32(buf + off + 4);
        uint32_t type = cl_le32(buf + off + 8);
        if (namesz == 0 && descsz == 0 && type == 0)
            break; /* zero padding after the last note */
        /* widen before rounding, as fs/proc/vmcore.c does */
        uint64_t name_pad = (namesz + 3) & ~(uint64_t)3, desc_pad = (descsz + 3) & ~(uint64_t)3;
        if (name_pad > len - off - 12 || desc_pad > len - off - 12 - name_pad) {
            cl_dump_warn(warn, "notes: note at 0x%zx (name %llu, desc %llu bytes) runs past the note area", off,
                         (unsigned long long)namesz, (unsigned long long)descsz);
            return;
        }
        const unsigned char *name = buf + off + 12;
        const unsigned char *desc = name + name_pad;
        if (name_is(name, (uint32_t)namesz, "CORE") && type == NT_PRSTATUS) {
            if (descsz < PRSTATUS64_SIZE) {
                cl_dump_warn(warn, "notes: NT_PRSTATUS of %llu bytes is too short", (unsigned long long)descsz);
            } else if (out->n_prstatus < CL_LINUX_MAX_CPUS) {
                cl_linux_cpu *c = &out->cpus[out->n_prstatus++];
                c->pid = cl_le32(desc + PRSTATUS64_PID);
                c->rip = cl_le64(desc + PRSTATUS64_REGS + 8 * X86_64_REG_RIP);
                c->rsp = cl_le64(desc + PRSTATUS64_REGS + 8 * X86_64_REG_RSP);
                c->have_prstatus = true;
            }
        } else if (name_is(name, (uint32_t)namesz, "QEMU")) {
            if (descsz >= QEMU_CPUSTATE_MIN && out->n_qemu < CL_LINUX_MAX_CPUS) {
                cl_linux_cpu *c = &out->cpus[out->n_qemu++];
                if (!c->have_prstatus) {
                    c->rip = cl_le64(desc + QEMU_CPUSTATE_RIP);
                    c->rsp = cl_le64(desc + QEMU_CPUSTATE_RSP);
                }
                c->cr3 = cl_le64(desc + QEMU_CPUSTATE_CR3);
                c->have_qemu = true;
            }
        } else if (name_is(name, (uint32_t)namesz, "VMCOREINFO")) {
            cl_linux_notes_set_vmcoreinfo(out, (const char *)desc, (size_t)descsz);
        }
        off += 12 + (size_t)name_pad + (size_t)desc_pad;
    }
    out->ncpus = out->n_prstatus > out->n_qemu ? out->n_prstatus : out->n_qemu;
}
