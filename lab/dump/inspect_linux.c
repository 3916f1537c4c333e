/* inspect_linux.c - the inspect object for Linux dumps (ELF vmcore, kdump-compressed). */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump.h"
#include "dump/inspect_priv.h"
#include "dump/linux/kallsyms.h"
#include "dump/linux/kwalk.h"
#include "dump/linux/ldump.h"
#include "dump/linux/printk.h"
#include "dump/linux/report.h"
#include "dump/linux/vmcoreinfo.h"

#define LOG_TAIL_LINES 60

static const char *elf_machine_name(unsigned m)
{
    switch (m) {
    case EM_X86_64: return "x86_64";
    case EM_386: return "i386";
    case EM_AARCH64: return "aarch64";
    case EM_S390: return "s390x";
    case EM_PPC64: return "ppc64";
    case EM_RISCV: return "riscv64";
    default: return NULL;
    }
}

static json_object *log_tail(const char *log, size_t len)
{
    const char *p = log + len;
    int lines = 0;
    while (p > log && lines <= LOG_TAIL_LINES) {
        p--;
        if (*p == '\n' && p != log + len - 1)
            lines++;
    }
    if (lines > LOG_TAIL_LINES)
        p++;
    return json_object_new_string(p);
}

/* Per CPU: the Linux task current on it (from BTF offsets, never guessed) and its rip,
 * symbolized by the kernel's kallsyms or, inside a module, the module's own symbol table. */
static json_object *cpus_json(cl_ldump *d, cl_kallsyms *ks, cl_kwalk *kw, const char *kw_why)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < d->lnotes->ncpus; i++) {
        const cl_linux_cpu *c = &d->lnotes->cpus[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "cpu", json_object_new_int64((int64_t)i));
        int64_t pid;
        char comm[17];
        cl_error *err = NULL;
        if (kw && cl_kwalk_current(kw, (unsigned)i, &pid, comm, &err)) {
            json_object_object_add(o, "pid", json_object_new_int64(pid));
            json_object_object_add(o, "comm", json_object_new_string(comm));
        } else {
            json_object_object_add(o, "task_unknown", json_object_new_string(kw ? (err ? err->msg : "unknown") : kw_why));
        }
        cl_error_free(err);
        err = NULL;
        if (c->have_prstatus)
            json_object_object_add(o, "prstatus_pid", json_object_new_int64(c->pid));
        json_object_object_add(o, "rip", cl_json_hex(c->rip));
        char name[128];
        uint64_t off;
        char sym[200];
        sym[0] = '\0';
        /* modules live above the kernel image (x86-64 MODULES_VADDR); kallsyms holds no module symbols */
        bool in_module = c->rip >= CL_X86_START_KERNEL_MAP && kw && cl_kwalk_module_symbol(kw, c->rip, sym, sizeof(sym), &err);
        cl_error_free(err);
        err = NULL;
        if (!in_module && ks && cl_kallsyms_lookup(ks, c->rip, name, sizeof(name), &off, &err))
            snprintf(sym, sizeof(sym), "%s+0x%" PRIx64, name, off);
        if (sym[0])
            json_object_object_add(o, "symbol", json_object_new_string(sym));
        cl_error_free(err);
        json_object_array_add(a, o);
    }
    return a;
}

int cl_inspect_linux(cl_reader *r, json_object **out, cl_dump_crash *crash, cl_error **errp)
{
    CL_AUTOPTR(cl_ldump) d = cl_ldump_open(r, errp);
    if (!d)
        return CL_DUMP_NOT_A_DUMP;
    json_object *o = json_object_new_object();
    json_object *lx = json_object_new_object();
    const char *format = d->elf ? "elf-vmcore" : d->kdump->flattened ? "kdump-flattened" : "kdump-compressed";
    json_object_object_add(o, "format", json_object_new_string(format));
    json_object *t = json_object_new_object();
    json_object_object_add(t, "number", NULL);
    json_object_object_add(t, "name", json_object_new_string(d->elf ? "elf" : "kdump"));
    json_object_object_add(o, "dump_type", t);

    json_object *m = json_object_new_object();
    unsigned em = d->elf ? d->elf->machine : (!strcmp(d->kdump->machine, "x86_64") ? EM_X86_64 : 0);
    const char *mn = d->elf ? elf_machine_name(em) : d->kdump->machine[0] ? d->kdump->machine : NULL;
    json_object_object_add(m, "number", em ? json_object_new_int64(em) : NULL);
    json_object_object_add(m, "name", json_object_new_string(mn ? mn : "unknown"));
    json_object_object_add(o, "machine", m);
    size_t cpus = d->lnotes->ncpus;
    if (d->kdump && d->kdump->nr_cpus && d->kdump->nr_cpus <= CL_LINUX_MAX_CPUS)
        cpus = d->kdump->nr_cpus;
    json_object_object_add(o, "processors", json_object_new_int64((int64_t)cpus));

    char release[128] = "";
    if (!cl_vmci_get(d->vmci, "OSRELEASE", release, sizeof(release)) && d->kdump)
        snprintf(release, sizeof(release), "%s", d->kdump->release);
    json_object *os = json_object_new_object();
    json_object_object_add(os, "name", json_object_new_string("linux"));
    json_object_object_add(os, "release", release[0] ? json_object_new_string(release) : NULL);
    json_object_object_add(o, "os", os);

    int64_t crashtime = 0;
    if (!cl_vmci_dec(d->vmci, "CRASHTIME", &crashtime) && d->kdump)
        crashtime = d->kdump->timestamp;
    json_object_object_add(o, "system_time", crashtime > 0 ? cl_json_time(crashtime) : NULL);
    json_object_object_add(o, "bugcheck", NULL);

    int64_t pagesize = 4096;
    cl_vmci_dec(d->vmci, "PAGESIZE", &pagesize);
    json_object_object_add(lx, "page_size", json_object_new_int64(pagesize));
    json_object_object_add(lx, "vmcoreinfo", json_object_new_string(!d->vmci ? "absent" : d->vmci_from_memory ? "memory" : "note"));
    /* What a debugger matches its vmlinux against (VMCOREINFO BUILD-ID, 5.13+). */
    char build_id[128] = "";
    bool hex_id = cl_vmci_get(d->vmci, "BUILD-ID", build_id, sizeof(build_id)) && build_id[0];
    for (size_t i = 0; hex_id && build_id[i]; i++)
        hex_id = strchr("0123456789abcdef", build_id[i]) != NULL;
    json_object_object_add(lx, "build_id", hex_id ? json_object_new_string(build_id) : NULL);
    uint64_t koff;
    if (cl_vmci_hex(d->vmci, "KERNELOFFSET", &koff))
        json_object_object_add(lx, "kernel_offset", cl_json_hex(koff));
    if (d->kdump) {
        json_object_object_add(lx, "dumped_pages", json_object_new_int64((int64_t)d->kdump->dumped_pages));
        json_object_object_add(lx, "kdump_header_version", json_object_new_int64(d->kdump->header_version));
    }

    char *log = NULL;
    size_t loglen = 0;
    cl_linux_report rep;
    bool have_rep = false, have_log = false;
    if (d->vmci) {
        cl_error *err = NULL;
        if (cl_printk_read(&d->kmem, d->vmci, &log, &loglen, d->notes, &err)) {
            have_log = true;
            have_rep = cl_linux_report_parse(log, &rep);
        }
        else
            cl_dump_note_error(d->notes, &err, "linux: kernel log");
    } else {
        cl_dump_warn(d->notes, "linux: no VMCOREINFO (note or in memory): no kernel log, release or symbols");
    }
    /* Fixed titles when the dump tells no crash: a hang caught alive, or no log at all. */
    snprintf(crash->title, sizeof(crash->title), "%s",
             have_rep ? rep.title : have_log ? "no crash report in kernel log" : "no kernel log in dump");
    if (have_rep) {
        snprintf(crash->panic_message, sizeof(crash->panic_message), "%s", rep.panic_message);
        json_object_object_add(lx, "panic_message", crash->panic_message[0] ? json_object_new_string(crash->panic_message) : NULL);
        json_object_object_add(lx, "report_line", json_object_new_string(rep.report_line));
        json_object_object_add(lx, "report_type", json_object_new_string(rep.type));
        json_object_object_add(lx, "crash_function", rep.function[0] ? json_object_new_string(rep.function) : NULL);
    } else {
        json_object_object_add(lx, "panic_message", NULL);
    }
    if (log) {
        json_object_object_add(lx, "log_bytes", json_object_new_int64((int64_t)loglen));
        json_object_object_add(lx, "log_tail", log_tail(log, loglen));
    }
    free(log);

    cl_kallsyms *ks = NULL;
    if (d->vmci && d->lnotes->ncpus) {
        cl_error *err = NULL;
        if (!(ks = cl_kallsyms_load(&d->kmem, d->vmci, &err)))
            cl_dump_note_error(d->notes, &err, "linux: symbols");
    }
    cl_kwalk *kw = NULL;
    char kw_why[256] = "no kernel symbols";
    if (ks) {
        cl_error *err = NULL;
        if (!(kw = cl_kwalk_load(&d->kmem, ks, &err)))
            snprintf(kw_why, sizeof(kw_why), "%.*s", (int)sizeof(kw_why) - 1, err ? err->msg : "unknown");
        cl_error_free(err);
    }
    json_object_object_add(lx, "cpus", cpus_json(d, ks, kw, kw_why));
    cl_kwalk_free(kw);
    cl_kallsyms_free(ks);
    json_object_object_add(o, "linux", lx);
    if (have_rep && rep.module[0]) {
        json_object *fm = json_object_new_object();
        json_object_object_add(fm, "name", json_object_new_string(rep.module));
        json_object_object_add(fm, "function", rep.function[0] ? json_object_new_string(rep.function) : NULL);
        json_object_object_add(fm, "source", json_object_new_string("kernel log"));
        json_object_object_add(o, "faulting_module", fm);
    } else {
        json_object_object_add(o, "faulting_module", NULL);
    }
    json_object_object_add(o, "title", json_object_new_string(crash->title));
    cl_json_add_notes(o, d->notes);
    *out = o;
    return d->notes->truncated ? CL_DUMP_TRUNCATED : CL_DUMP_OK;
}
