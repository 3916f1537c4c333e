/* memdump.c - see memdump.h. Steps, each failing with a "memdump:" message the caller
 * records when it falls back to QEMU's own writer:
 *   pause (if running) -> memory map -> host addresses -> QEMU pid -> notes -> utsname
 *   -> cl_kdump_write -> resume (if it was running). */
#include "memdump.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "dump/linux/vmcoreinfo.h"
#include "util/autoptr.h"

#define KERNEL_MAP 0xffffffff80000000ull /* x86-64 __START_KERNEL_map: __pa_symbol(x) = x - it + phys_base */

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_BATCH 512u

typedef struct {
    long pid;
    int pagemap;                 /* /proc/PID/pagemap, -1 when it cannot be opened */
    const cl_memdump_section *sec;
    const uint64_t *hva;
    size_t n;
} qemu_mem;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool cl_memdump_parse_mtree(const char *text, cl_memdump_section *out, size_t max, size_t *n, cl_error **errp)
{
    /* The flat view that serves AS "memory": its header lists the address spaces, then
     * "Root memory region:", then one line per section, ended by a blank line. */
    const char *as = strstr(text, " AS \"memory\",");
    if (!as)
        return cl_error_set(errp, CL_ERR_VIRT, "memdump: `info mtree -f` has no flat view of address space \"memory\"");
    const char *p = strstr(as, "Root memory region:");
    if (!p)
        return cl_error_set(errp, CL_ERR_VIRT, "memdump: `info mtree -f` view \"memory\" has no root region");
    p = strchr(p, '\n');
    *n = 0;
    while (p && *++p && *p != '\n' && *p != '\r') { /* a blank line ends the view */
        const char *eol = strchr(p, '\n');
        unsigned long long a = 0, b = 0;
        int prio = 0, used = 0;
        /* The region name is only shown in messages: a longer one is kept cut. */
        char type[16] = "", name[sizeof(out->name)] = "";
        if (sscanf(p, " %llx-%llx (prio %d, %15[^)]): %31s%n", &a, &b, &prio, type, name, &used) == 5 &&
            (!strcmp(type, "ram") || !strcmp(type, "rom")) && b >= a) {
            uint64_t lo = (a + CL_KW_PAGE - 1) / CL_KW_PAGE * CL_KW_PAGE, hi = (b + 1) / CL_KW_PAGE * CL_KW_PAGE;
            if (hi > lo) {
                if (*n == max)
                    return cl_error_set(errp, CL_ERR_VIRT, "memdump: more than %zu RAM sections", max);
                if (*n && lo < out[*n - 1].gpa + out[*n - 1].len)
                    return cl_error_set(errp, CL_ERR_VIRT, "memdump: RAM section at 0x%llx out of order", a);
                snprintf(out[*n].name, sizeof(out[*n].name), "%s", name);
                out[*n].gpa = lo;
                out[*n].len = hi - lo;
                (*n)++;
            }
        }
        p = eol;
    }
    if (!*n)
        return cl_error_set(errp, CL_ERR_VIRT, "memdump: address space \"memory\" has no RAM");
    return true;
}

bool cl_memdump_parse_gpa2hva(const char *text, uint64_t *hva, cl_error **errp)
{
    const char *p = strstr(text, " is 0x");
    unsigned long long v = 0;
    if (!strstr(text, "Host virtual address") || !p || sscanf(p, " is 0x%llx", &v) != 1 || !v)
        return cl_error_set(errp, CL_ERR_VIRT, "memdump: unexpected gpa2hva answer '%.80s'", text);
    *hva = v;
    return true;
}

static bool hmp(virDomainPtr dom, const char *cmd, char **out, cl_error **errp)
{
    if (virDomainQemuMonitorCommand(dom, cmd, out, VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP) < 0)
        return cl_virt_error(errp, "memdump: monitor command '%s' failed", cmd);
    return true;
}

/* The QEMU process of the domain: the one whose "-name" argument is "guest=NAME[,...]". */
static bool find_qemu_pid(const char *name, long *pid, cl_error **errp)
{
    DIR *d = opendir("/proc");
    if (!d)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "memdump: cannot list /proc");
    char want[300];
    int wl = snprintf(want, sizeof(want), "guest=%s", name);
    static char buf[65536];
    long found = 0;
    struct dirent *e;
    while (!found && wl > 0 && wl < (int)sizeof(want) && (e = readdir(d))) {
        char *end = NULL;
        long p = strtol(e->d_name, &end, 10);
        if (p <= 0 || *end)
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%ld/cmdline", p);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        if (!strstr(buf, "qemu"))
            continue;
        for (ssize_t i = 0; i < n;) {
            const char *arg = buf + i;
            size_t al = strlen(arg);
            if (!strncmp(arg, want, (size_t)wl) && (arg[wl] == '\0' || arg[wl] == ','))
                found = p;
            i += (ssize_t)al + 1;
        }
    }
    closedir(d);
    if (!found)
        return cl_error_set(errp, CL_ERR_VIRT, "memdump: no local QEMU process runs domain '%s'", name);
    *pid = found;
    return true;
}

static bool read_remote(const qemu_mem *m, uint64_t remote, unsigned char *b, size_t len, uint64_t gpa, cl_error **errp)
{
    while (len) {
        struct iovec l = { b, len }, r = { (void *)(uintptr_t)remote, len };
        ssize_t n = process_vm_readv((pid_t)m->pid, &l, 1, &r, 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return cl_error_set_errno(errp, CL_ERR_VIRT, n < 0 ? errno : EIO,
                                      "memdump: cannot read guest memory at 0x%llx from QEMU process %ld",
                                      (unsigned long long)gpa, m->pid);
        b += n;
        len -= (size_t)n;
        remote += (uint64_t)n;
        gpa += (uint64_t)n;
    }
    return true;
}

/* Which of npages pages from remote are in QEMU's memory (present or swapped). A page QEMU
 * never touched reads as zeros, and reading it through process_vm_readv would make the
 * kernel allocate it (a pinned read of the zero page is unshared): 8.6 s and 1 GiB of RSS
 * for an untouched 1 GiB guest, measured here. False when pagemap cannot be read. */
static bool present_map(const qemu_mem *m, uint64_t remote, size_t npages, uint64_t *pm)
{
    if (m->pagemap < 0)
        return false;
    ssize_t n = pread(m->pagemap, pm, npages * 8, (off_t)(remote / CL_KW_PAGE * 8));
    if (n != (ssize_t)(npages * 8))
        return false;
    for (size_t j = 0; j < npages; j++)
        pm[j] = pm[j] & (PM_PRESENT | PM_SWAPPED) ? 1 : 0;
    return true;
}

static bool qemu_read(void *ctx, uint64_t gpa, void *buf, size_t len, cl_error **errp)
{
    const qemu_mem *m = ctx;
    for (size_t i = 0; i < m->n; i++) {
        const cl_memdump_section *s = &m->sec[i];
        if (gpa < s->gpa || gpa - s->gpa > s->len || len > s->len - (gpa - s->gpa))
            continue;
        unsigned char *b = buf;
        uint64_t remote = m->hva[i] + (gpa - s->gpa);
        uint64_t pm[PM_BATCH];
        while (len) {
            size_t n = len < PM_BATCH * CL_KW_PAGE ? len : PM_BATCH * CL_KW_PAGE;
            size_t np = n / CL_KW_PAGE;
            if (n % CL_KW_PAGE || remote % CL_KW_PAGE || !present_map(m, remote, np, pm)) {
                if (!read_remote(m, remote, b, n, gpa, errp))
                    return false;
            } else {
                for (size_t j = 0; j < np;) {
                    size_t k = j;
                    while (k < np && pm[k] == pm[j])
                        k++;
                    size_t off = j * CL_KW_PAGE, run = (k - j) * CL_KW_PAGE;
                    if (!pm[j])
                        memset(b + off, 0, run);
                    else if (!read_remote(m, remote + off, b + off, run, gpa + off, errp))
                        return false;
                    j = k;
                }
            }
            b += n;
            remote += n;
            gpa += n;
            len -= n;
        }
        return true;
    }
    return cl_error_set(errp, CL_ERR_INVAL, "memdump: 0x%llx+0x%zx is in no RAM section", (unsigned long long)gpa, len);
}

static bool qemu_present(void *ctx, uint64_t gpa, size_t npages, unsigned char *map)
{
    const qemu_mem *m = ctx;
    uint64_t pm[PM_BATCH];
    if (npages > PM_BATCH)
        return false;
    for (size_t i = 0; i < m->n; i++) {
        const cl_memdump_section *s = &m->sec[i];
        if (gpa < s->gpa || gpa - s->gpa > s->len || npages * CL_KW_PAGE > s->len - (gpa - s->gpa))
            continue;
        if (!present_map(m, m->hva[i] + (gpa - s->gpa), npages, pm))
            return false;
        for (size_t j = 0; j < npages; j++)
            map[j] = (unsigned char)pm[j];
        return true;
    }
    return false;
}

/* The guest's VMCOREINFO ELF note: the kernel allocates it page-aligned (crash_core.c,
 * vmcoreinfo_note), so the note header "\x0b\0\0\0 descsz \0\0\0\0 VMCOREINFO\0\0" and
 * "OSRELEASE=" open its page. Reads 32 bytes of each page, 512 pages per system call. */
static bool find_vmcoreinfo(const qemu_mem *m, unsigned char **note, size_t *len, cl_error **errp)
{
    enum { BATCH = 512, HEAD = 40 };
    static const unsigned char hdr[] = { 11, 0, 0, 0 };
    unsigned char (*heads)[HEAD] = malloc(BATCH * HEAD);
    struct iovec *l = malloc(BATCH * sizeof(*l)), *r = malloc(BATCH * sizeof(*r));
    bool ok = heads && l && r;
    for (size_t i = 0; ok && i < m->n; i++) {
        for (uint64_t off = 0; off < m->sec[i].len; off += (uint64_t)BATCH * CL_KW_PAGE) {
            size_t k = (size_t)((m->sec[i].len - off) / CL_KW_PAGE < BATCH ? (m->sec[i].len - off) / CL_KW_PAGE : BATCH);
            uint64_t pm[BATCH];
            uint64_t base = m->hva[i] + off;
            if (!present_map(m, base, k, pm))
                for (size_t j = 0; j < k; j++)
                    pm[j] = 1;
            size_t nio = 0;
            for (size_t j = 0; j < k; j++) {
                memset(heads[j], 0, HEAD);
                if (!pm[j])
                    continue; /* never touched: zeros, no note */
                l[nio] = (struct iovec){ heads[j], HEAD };
                r[nio++] = (struct iovec){ (void *)(uintptr_t)(base + j * CL_KW_PAGE), HEAD };
            }
            ssize_t got = nio ? process_vm_readv((pid_t)m->pid, l, nio, r, nio, 0) : 0;
            if (got != (ssize_t)(nio * HEAD)) {
                free(heads), free(l), free(r);
                return cl_error_set_errno(errp, CL_ERR_VIRT, got < 0 ? errno : EIO,
                                          "memdump: cannot read guest memory from QEMU process %ld", m->pid);
            }
            for (size_t j = 0; j < k; j++) {
                const unsigned char *h = heads[j];
                uint32_t descsz;
                memcpy(&descsz, h + 4, 4);
                if (memcmp(h, hdr, 4) || h[8] | h[9] | h[10] | h[11] || memcmp(h + 12, "VMCOREINFO\0\0", 12) ||
                    memcmp(h + 24, "OSRELEASE=", 10) || descsz > CL_KW_PAGE - 24)
                    continue;
                size_t n = 24 + (descsz + 3) / 4 * 4;
                unsigned char *b = calloc(1, CL_KW_PAGE);
                cl_error *e = NULL;
                if (!b || !qemu_read((void *)m, m->sec[i].gpa + off + j * CL_KW_PAGE, b, CL_KW_PAGE, &e)) {
                    free(b), free(heads), free(l), free(r);
                    if (e)
                        *errp = e;
                    return e ? false : cl_error_set(errp, CL_ERR_NOMEM, "memdump: cannot allocate");
                }
                memset(b + 24 + descsz, 0, n - 24 - descsz);
                *note = b;
                *len = n;
                free(heads), free(l), free(r);
                return true;
            }
        }
    }
    free(heads), free(l), free(r);
    if (!ok)
        return cl_error_set(errp, CL_ERR_NOMEM, "memdump: cannot allocate");
    return cl_error_set(errp, CL_ERR_VIRT, "memdump: no VMCOREINFO note in guest memory (the kernel has not "
                        "published it yet?)");
}

static bool build_notes(virDomainPtr dom, const qemu_mem *m, unsigned char **notes, size_t *len, cl_error **errp)
{
    CL_AUTOFREE char *regs = NULL;
    if (!hmp(dom, "info registers -a", &regs, errp))
        return false;
    CL_AUTOFREE cl_memdump_cpu *cpus = calloc(256, sizeof(*cpus));
    size_t n = 0;
    if (!cpus)
        return cl_error_set(errp, CL_ERR_NOMEM, "memdump: cannot allocate");
    if (!cl_memdump_parse_registers(regs, cpus, 256, &n, errp))
        return false;
    CL_AUTOFREE unsigned char *vnote = NULL;
    size_t vlen = 0;
    return find_vmcoreinfo(m, &vnote, &vlen, errp) && cl_memdump_build_notes(cpus, n, vnote, vlen, notes, len, errp);
}

static bool printable(const char *s, size_t cap)
{
    size_t l = strnlen(s, cap);
    if (l == cap)
        return false;
    for (size_t i = 0; i < l; i++)
        if (!isprint((unsigned char)s[i]))
            return false;
    return true;
}

/* The header's utsname: the kernel's own init_uts_ns when VMCOREINFO says where it is and
 * it reads back sane, else "Linux", OSRELEASE and "x86_64". */
static void fill_utsname(cl_kw_params *p, const char *vmci, const cl_kw_source *src)
{
    char rel[65] = "";
    cl_vmci_get(vmci, "OSRELEASE", rel, sizeof(rel));
    memset(p->utsname, 0, sizeof(p->utsname));
    snprintf(p->utsname[0], 65, "Linux");
    snprintf(p->utsname[2], 65, "%s", rel);
    snprintf(p->utsname[4], 65, "x86_64");
    uint64_t sym = 0, off = 0;
    if (!cl_vmci_symbol(vmci, "init_uts_ns", &sym) || !cl_vmci_offset(vmci, "uts_namespace.name", &off) ||
        sym < KERNEL_MAP || off > 4096)
        return;
    uint64_t pa = sym - KERNEL_MAP + p->phys_base + off;
    unsigned char page[2 * CL_KW_PAGE];
    uint64_t base = pa / CL_KW_PAGE * CL_KW_PAGE;
    cl_error *err = NULL;
    bool two = pa - base + sizeof(p->utsname) > CL_KW_PAGE;
    if (!src->read(src->ctx, base, page, two ? 2 * CL_KW_PAGE : CL_KW_PAGE, &err)) {
        cl_error_free(err);
        return;
    }
    char u[6][65];
    memcpy(u, page + (pa - base), sizeof(u));
    for (int i = 0; i < 6; i++)
        if (!printable(u[i], 65))
            return;
    if (strcmp(u[0], "Linux") || strcmp(u[2], rel))
        return;
    memcpy(p->utsname, u, sizeof(u));
}

static bool prepare(virDomainPtr dom, cl_memdump_section *sec, size_t *nsec, uint64_t *hva, long *pid,
                    cl_error **errp)
{
    CL_AUTOFREE char *mtree = NULL;
    if (!hmp(dom, "info mtree -f", &mtree, errp) ||
        !cl_memdump_parse_mtree(mtree, sec, CL_KW_MAX_RANGES, nsec, errp))
        return false;
    for (size_t i = 0; i < *nsec; i++) {
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "gpa2hva 0x%" PRIx64, sec[i].gpa);
        CL_AUTOFREE char *out = NULL;
        if (!hmp(dom, cmd, &out, errp) || !cl_memdump_parse_gpa2hva(out, &hva[i], errp))
            return false;
    }
    const char *name = virDomainGetName(dom);
    return name ? find_qemu_pid(name, pid, errp) : cl_virt_error(errp, "memdump: the domain has no name");
}

static bool dump_paused(virDomainPtr dom, const char *path, int threads, cl_kw_codec codec, cl_memdump_stats *st,
                        cl_error **errp)
{
    double t0 = now_s();
    cl_memdump_section sec[CL_KW_MAX_RANGES];
    uint64_t hva[CL_KW_MAX_RANGES];
    size_t nsec = 0;
    long pid = 0;
    if (!prepare(dom, sec, &nsec, hva, &pid, errp))
        return false;
    char pmpath[64];
    snprintf(pmpath, sizeof(pmpath), "/proc/%ld/pagemap", pid);
    CL_AUTOCLOSE pmfd = open(pmpath, O_RDONLY | O_CLOEXEC);
    qemu_mem m = { pid, pmfd, sec, hva, nsec };
    cl_kw_source src = { &m, qemu_read, qemu_present };
    CL_AUTOFREE unsigned char *notes = NULL;
    size_t nlen = 0;
    if (!build_notes(dom, &m, &notes, &nlen, errp))
        return false;
    cl_kw_range ranges[CL_KW_MAX_RANGES];
    for (size_t i = 0; i < nsec; i++)
        ranges[i] = (cl_kw_range){ sec[i].gpa, sec[i].len };
    cl_kw_params p = { .ranges = ranges, .nranges = nsec, .notes = notes, .notes_len = nlen, .threads = threads,
                       .timestamp = (int64_t)time(NULL), .codec = codec };
    size_t vo = 0, vl = 0;
    if (!cl_kw_notes_scan(notes, nlen, &p.nr_cpus, &vo, &vl, errp))
        return false;
    if (!vl)
        return cl_error_set(errp, CL_ERR_VIRT, "memdump: the notes carry no VMCOREINFO");
    CL_AUTOFREE char *vmci = strndup((const char *)notes + vo, vl);
    int64_t pb = 0;
    if (vmci && cl_vmci_number(vmci, "phys_base", &pb))
        p.phys_base = (uint64_t)pb;
    if (vmci)
        fill_utsname(&p, vmci, &src);
    double t1 = now_s();
    cl_memdump_stats s = { .qemu_pid = pid, .sections = nsec, .prepare_s = t1 - t0 };
    if (!cl_kdump_write(path, &p, &src, &s.w, errp))
        return false;
    s.write_s = now_s() - t1;
    if (st)
        *st = s;
    return true;
}

bool cl_memdump_kdump(virDomainPtr dom, const char *path, int threads, cl_kw_codec codec, cl_memdump_stats *st,
                      cl_error **errp)
{
    int state = 0, reason = 0;
    if (virDomainGetState(dom, &state, &reason, 0) < 0)
        return cl_virt_error(errp, "memdump: cannot read the domain's state");
    bool resume = state == VIR_DOMAIN_RUNNING;
    if (resume && virDomainSuspend(dom) < 0)
        return cl_virt_error(errp, "memdump: cannot pause the domain");
    bool ok = dump_paused(dom, path, threads, codec, st, errp);
    if (resume && virDomainResume(dom) < 0 && ok)
        ok = cl_virt_error(errp, "memdump: cannot resume the domain after the dump");
    return ok;
}
