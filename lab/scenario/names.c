/* names.c - enum names of a scenario and the kernel command line its faults need. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"
#include "scenario/scenario_priv.h"
#include "util/buf.h"

const char *const cl_verdict_names[CL_VERDICT_LAST] = {
    "pass", "expected-crash", "unexpected-crash", "hang", "fail", "infra-error",
};
const char *const cl_profile_names[CL_PROFILE_LAST] = { "linux", "windows" };
const char *const cl_dump_format_names[CL_DUMPFMT_LAST] = { "kdump-zlib", "elf", "win-dmp", "kdump-zstd", "none", "kdump-lzo" };
const char *const cl_firmware_names[CL_FIRMWARE_LAST] = { "bios", "uefi" };
const char *const cl_step_kind_names[CL_STEP_LAST] = { "install", "remove", "trigger", "wait", "exec", "nmi" };

static const char *const hv_names[CL_HV_LAST] = {
    "relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic",
    "stimer", "reset", "frequencies", "tlbflush", "ipi", "vendor_id",
};

const char *cl_hv_feature_to_string(cl_hv_feature f)
{
    return (unsigned)f < CL_HV_LAST ? hv_names[f] : "unknown";
}

unsigned cl_scenario_hv_mask(const cl_scenario *s, unsigned mask)
{
    return (mask & ~s->hv_set) | (s->hv_on & s->hv_set);
}

const char *cl_verdict_to_string(cl_verdict v)
{
    return (unsigned)v < CL_VERDICT_LAST ? cl_verdict_names[v] : "unknown";
}

bool cl_verdict_from_string(const char *s, cl_verdict *v)
{
    for (int i = 0; s && i < CL_VERDICT_LAST; i++) {
        if (!strcmp(s, cl_verdict_names[i])) {
            *v = (cl_verdict)i;
            return true;
        }
    }
    return false;
}

const char *cl_profile_to_string(cl_profile p)
{
    return (unsigned)p < CL_PROFILE_LAST ? cl_profile_names[p] : "unknown";
}

const char *cl_dump_format_to_string(cl_dump_format f)
{
    return (unsigned)f < CL_DUMPFMT_LAST ? cl_dump_format_names[f] : "unknown";
}

const char *cl_dump_format_list(char *buf, size_t len)
{
    size_t at = 0;
    if (!len)
        return buf;
    buf[0] = 0;
    for (int i = 0; i < CL_DUMPFMT_LAST && at < len; i++) {
        int n = snprintf(buf + at, len - at, "%s%s", i ? ", " : "", cl_dump_format_names[i]);
        if (n < 0)
            break;
        at += (size_t)n;
    }
    return buf;
}

bool cl_dump_format_is_lab(cl_dump_format f)
{
    return f == CL_DUMPFMT_KDUMP_LZO || f == CL_DUMPFMT_KDUMP_ZSTD;
}

const char *cl_firmware_to_string(cl_firmware f)
{
    return (unsigned)f < CL_FIRMWARE_LAST ? cl_firmware_names[f] : "unknown";
}

const char *cl_step_kind_to_string(cl_step_kind k)
{
    return (unsigned)k < CL_STEP_LAST ? cl_step_kind_names[k] : "unknown";
}

/* Appends the space-separated words of text that are not in b yet, compared as whole
 * words: two faults needing "panic_on_oops=1" give it once. kernel_args are appended
 * verbatim after them, so "hung_task_panic=0" there follows the catalogue's
 * "hung_task_panic=1" and, coming later, wins in the kernel. */
static void add_words(cl_buf *b, const char *text)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        size_t n = (size_t)(p - w);
        if (!n)
            continue;
        bool seen = false;
        if (b->data) {
            const char *q = b->data;
            while (*q && !seen) {
                const char *e = strchr(q, ' ');
                size_t m = e ? (size_t)(e - q) : strlen(q);
                seen = m == n && !memcmp(q, w, n);
                q += m;
                while (*q == ' ')
                    q++;
            }
        }
        if (seen)
            continue;
        if (b->len)
            cl_buf_add(b, " ", 1);
        cl_buf_add(b, w, n);
    }
}

char *cl_scenario_fault_cmdline(const cl_scenario *s)
{
    cl_buf b = { 0 };
    if (s->profile == CL_PROFILE_LINUX) {
        for (size_t i = 0; i < s->nsteps; i++)
            if (s->steps[i].kind == CL_STEP_TRIGGER && s->steps[i].fault && s->steps[i].fault->linux_.cmdline)
                add_words(&b, s->steps[i].fault->linux_.cmdline);
    }
    if (s->kernel_args && *s->kernel_args) {
        if (b.len)
            cl_buf_add(&b, " ", 1);
        cl_buf_adds(&b, s->kernel_args);
    }
    if (!b.len) {   /* cl_buf_finish of an untouched buffer is not NUL-terminated (util/buf.c) */
        cl_buf_reset(&b);
        return strdup("");
    }
    return cl_buf_finish(&b, NULL);
}
