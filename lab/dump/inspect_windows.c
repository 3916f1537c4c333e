/* inspect_windows.c - the inspect object for Windows crash dumps. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dump/dump.h"
#include "dump/inspect_priv.h"
#include "dump/le.h"
#include "dump/windows/bugcheck.h"
#include "dump/windows/gtblock.h"
#include "dump/windows/kimage.h"
#include "dump/windows/windump.h"
#include "dump/windows/wintitle.h"

/* FILETIME counts 100 ns since 1601-01-01; Unix time starts 11644473600 s later. */
static int64_t filetime_to_unix(uint64_t ft)
{
    return (int64_t)(ft / 10000000u) - INT64_C(11644473600);
}

static bool is_kernel_module(const cl_win_module *m, size_t index)
{
    if (index < 2) /* the loader lists the kernel and the HAL first */
        return true;
    return !strncasecmp(m->name, "ntos", 4) || !strncasecmp(m->name, "ntkr", 4) || !strncasecmp(m->name, "hal", 3);
}

/* Codes raised by a person or a tool, where no driver is to blame. */
static bool is_manual(uint32_t code)
{
    return code == 0xE2 || code == 0x1C8 || code == 0xDEADDEAD || code == 0x161;
}

/* The innermost return address on the triage stack that lies in a module other than the
 * kernel and the HAL: what a debugger's "probably caused by" names for watchdog and pool
 * bug checks, whose parameters carry no code address. */
static const cl_win_module *stack_module(cl_windump *d, uint64_t *addr)
{
    if (!d->have_triage || !d->triage_stack_size)
        return NULL;
    size_t len = d->triage_stack_size > 0x10000 ? 0x10000 : d->triage_stack_size;
    unsigned char *stack = malloc(len);
    if (!stack)
        return NULL;
    cl_error *err = NULL;
    const cl_win_module *found = NULL;
    if (!cl_reader_read(d->r, d->triage_stack_offset, len, stack, &err)) {
        cl_dump_note_error(&d->notes, &err, "windows: triage call stack");
        free(stack);
        return NULL;
    }
    size_t step = d->is64 ? 8 : 4;
    for (size_t i = 0; i + step <= len && !found; i += step) {
        uint64_t v = d->is64 ? cl_le64(stack + i) : cl_le32(stack + i);
        const cl_win_module *m = cl_windump_module_at(d, v);
        if (m && !is_kernel_module(m, (size_t)(m - d->modules))) {
            found = m;
            *addr = v;
        }
    }
    free(stack);
    return found;
}

static json_object *module_json(const cl_win_module *m)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(m->name));
    json_object_object_add(o, "base", cl_json_hex(m->base));
    json_object_object_add(o, "size", cl_json_hex(m->size));
    return o;
}

static json_object *bugcheck_json(const cl_dump_crash *c, const cl_bugcheck_info *info)
{
    json_object *b = json_object_new_object();
    char code[16], name[96];
    snprintf(code, sizeof(code), "0x%" PRIx32, c->bugcheck);
    json_object_object_add(b, "code", json_object_new_string(code));
    json_object_object_add(b, "name", cl_bugcheck_name(c->bugcheck, name, sizeof(name)) ? json_object_new_string(name) : NULL);
    json_object *params = json_object_new_array();
    json_object *meaning = json_object_new_array();
    for (int i = 0; i < 4; i++) {
        json_object_array_add(params, cl_json_hex(c->params[i]));
        json_object_array_add(meaning, info->param[i][0] ? json_object_new_string(info->param[i]) : NULL);
    }
    json_object_object_add(b, "params", params);
    json_object_object_add(b, "meaning", meaning);
    json_object_object_add(b, "subkind", info->subkind ? json_object_new_string(info->subkind) : NULL);
    return b;
}

static json_object *memory_json(const cl_windump *d)
{
    json_object *m = json_object_new_object();
    if (d->have_bitmap) {
        json_object_object_add(m, "layout", json_object_new_string("bitmap"));
        json_object_object_add(m, "signature", json_object_new_string(d->bitmap_signature == 0x504d4446u ? "FDMP" : "SDMP"));
        json_object_object_add(m, "first_page_offset", cl_json_hex(d->bmp_first_page));
        json_object_object_add(m, "present_pages", json_object_new_int64((int64_t)d->bmp_present_pages));
        json_object_object_add(m, "bitmap_pages", json_object_new_int64((int64_t)d->bmp_pages));
    } else {
        json_object_object_add(m, "layout", json_object_new_string("runs"));
        json_object_object_add(m, "pages", json_object_new_int64((int64_t)d->number_of_pages));
        json_object *runs = json_object_new_array();
        for (size_t i = 0; i < d->nruns; i++) {
            json_object *r = json_object_new_object();
            json_object_object_add(r, "base_page", cl_json_hex(d->runs[i].base_page));
            json_object_object_add(r, "page_count", cl_json_hex(d->runs[i].page_count));
            json_object_array_add(runs, r);
        }
        json_object_object_add(m, "runs", runs);
    }
    return m;
}

int cl_inspect_windows(cl_reader *r, json_object **out, cl_dump_crash *crash, cl_error **errp)
{
    CL_AUTOPTR(cl_windump) d = cl_windump_open(r, errp);
    if (!d)
        return CL_DUMP_NOT_A_DUMP;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "format", json_object_new_string(d->is64 ? "windows-pagedu64" : "windows-pagedump"));

    json_object *t = json_object_new_object();
    const char *tn = cl_windump_type_name(d->dump_type);
    json_object_object_add(t, "number", json_object_new_int64(d->dump_type));
    json_object_object_add(t, "name", json_object_new_string(tn ? tn : "unknown"));
    json_object_object_add(o, "dump_type", t);

    json_object *m = json_object_new_object();
    const char *mn = cl_windump_machine_name(d->machine);
    json_object_object_add(m, "number", json_object_new_int64(d->machine));
    json_object_object_add(m, "name", json_object_new_string(mn ? mn : "unknown"));
    json_object_object_add(o, "machine", m);
    json_object_object_add(o, "processors", json_object_new_int64(d->processors));

    json_object *os = json_object_new_object();
    json_object_object_add(os, "name", json_object_new_string("windows"));
    json_object_object_add(os, "build", json_object_new_int64(d->minor));
    json_object_object_add(os, "major", json_object_new_int64(d->major));
    json_object_object_add(o, "os", os);
    json_object_object_add(o, "system_time", d->system_time ? cl_json_time(filetime_to_unix(d->system_time)) : NULL);

    cl_bugcheck_info info;
    cl_bugcheck_describe(d->bugcheck, d->params, &info);
    crash->bugcheck_known = true;
    crash->bugcheck = d->bugcheck;
    memcpy(crash->params, d->params, sizeof(crash->params));
    json_object_object_add(o, "bugcheck", bugcheck_json(crash, &info));

    json_object *w = json_object_new_object();
    json_object_object_add(w, "directory_table_base", cl_json_hex(d->directory_table_base));
    json_object_object_add(w, "pfn_database", cl_json_hex(d->pfn_database));
    json_object_object_add(w, "ps_loaded_module_list", cl_json_hex(d->ps_loaded_module_list));
    json_object_object_add(w, "ps_active_process_head", cl_json_hex(d->ps_active_process_head));
    json_object_object_add(w, "kd_debugger_data_block", cl_json_hex(d->kd_debugger_data_block));
    json_object_object_add(w, "required_dump_space", json_object_new_int64((int64_t)d->required_dump_space));
    json_object_object_add(w, "system_up_time_seconds", json_object_new_int64((int64_t)(d->system_up_time / 10000000u)));
    json_object_object_add(w, "product_type", json_object_new_int64(d->product_type));
    json_object_object_add(w, "suite_mask", cl_json_hex(d->suite_mask));
    if (d->have_exception) {
        json_object *e = json_object_new_object();
        const char *st = cl_ntstatus_name(d->exception_code);
        json_object_object_add(e, "code", cl_json_hex(d->exception_code));
        json_object_object_add(e, "name", st ? json_object_new_string(st) : NULL);
        json_object_object_add(e, "address", cl_json_hex(d->exception_address));
        json_object_object_add(w, "exception", e);
    }
    if (d->dump_type != 4 && (d->have_bitmap || d->nruns))
        json_object_object_add(w, "physical_memory", memory_json(d));
    /* labfault.sys's own record of what it did, if the dump holds its block (issue 18). */
    cl_gtblock gt;
    if (d->dump_type != 4 && (d->have_bitmap || d->nruns) && cl_gtblock_find(d, &gt))
        json_object_object_add(w, "labfault_ground_truth", cl_gtblock_json(&gt));
    /* What a debugger fetches symbols by: ntoskrnl's image key and PDB identity. */
    cl_win_kimage ki;
    cl_win_kimage_read(d, &ki);
    json_object_object_add(w, "kernel_image", cl_win_kimage_json(&ki));
    json_object_object_add(o, "windows", w);

    const cl_win_module *fm = NULL;
    uint64_t faddr = 0;
    const char *source = NULL;
    char srcbuf[32];
    if (d->have_triage) {
        json_object *mods = json_object_new_array();
        for (size_t i = 0; i < d->nmodules; i++)
            json_object_array_add(mods, module_json(&d->modules[i]));
        json_object_object_add(o, "modules", mods);
        json_object_object_add(o, "module_count", json_object_new_int64((int64_t)d->nmodules));
        if (info.have_fault_address && (fm = cl_windump_module_at(d, info.fault_address))) {
            faddr = info.fault_address;
            snprintf(srcbuf, sizeof(srcbuf), "bugcheck parameter %d", info.fault_param + 1);
            source = srcbuf;
        } else if (!is_manual(d->bugcheck) && (fm = stack_module(d, &faddr))) {
            source = "stack";
        }
    }
    if (fm) {
        json_object *f = module_json(fm);
        json_object_object_add(f, "address", cl_json_hex(faddr));
        json_object_object_add(f, "offset", cl_json_hex(faddr - fm->base));
        json_object_object_add(f, "source", json_object_new_string(source));
        json_object_object_add(o, "faulting_module", f);
    } else {
        json_object_object_add(o, "faulting_module", NULL);
    }
    cl_win_title(d->bugcheck, &info, fm ? fm->name : NULL, crash->title, sizeof(crash->title));
    json_object_object_add(o, "title", json_object_new_string(crash->title));
    cl_json_add_notes(o, &d->notes);
    *out = o;
    return d->notes.truncated ? CL_DUMP_TRUNCATED : CL_DUMP_OK;
}
