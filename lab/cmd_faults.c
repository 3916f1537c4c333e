/* cmd_faults.c - `crashlab faults [--json] [ID...]`: the fault catalogue, for people and
 * for scripts. Everything comes from drivers/catalogue/catalogue.c; nothing is restated. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "catalogue.h"
#include "cmd.h"
#include "util/autoptr.h"

CL_DEFINE_AUTOPTR_FUNC(json_object, json_object_put)

static const char *type_name(cl_fparam_type t)
{
    switch (t) {
    case CL_FPARAM_UINT: return "uint";
    case CL_FPARAM_BOOL: return "bool";
    case CL_FPARAM_TAG: return "tag";
    case CL_FPARAM_STRING: return "string";
    }
    return "unknown";
}

static void usage(FILE *f)
{
    fprintf(f, "usage: crashlab faults [--json] [FAULT-ID...]\n"
               "Prints the fault catalogue: every fault's id, number, parameters (type, range,\n"
               "default) and what it is expected to produce on Windows and on Linux.\n");
}

static void print_param(const cl_fparam *p)
{
    char range[64], def[160];
    switch (p->type) {
    case CL_FPARAM_UINT:
        snprintf(range, sizeof(range), "%" PRIu64 "..%" PRIu64, p->min, p->max);
        snprintf(def, sizeof(def), "%" PRIu64, p->def);
        break;
    case CL_FPARAM_BOOL:
        snprintf(range, sizeof(range), "true|false");
        snprintf(def, sizeof(def), "%s", p->def ? "true" : "false");
        break;
    case CL_FPARAM_TAG:
        snprintf(range, sizeof(range), "1-4 chars");
        snprintf(def, sizeof(def), "\"%s\"", p->def_str ? p->def_str : "");
        break;
    case CL_FPARAM_STRING:
        snprintf(range, sizeof(range), "<= 127 chars");
        snprintf(def, sizeof(def), "\"%s\"", p->def_str ? p->def_str : "");
        break;
    }
    printf("    %-12s %-6s %-22s default %-26s %s\n", p->name, type_name(p->type), range, def, p->help);
}

static void print_text(const cl_fault *f)
{
    printf("%2u  %s\n    %s\n", (unsigned)f->number, f->id, f->description);
    if (!f->params[0].name)
        printf("  params: none\n");
    else
        printf("  params:\n");
    for (const cl_fparam *p = f->params; p->name; p++)
        print_param(p);
    printf("  windows: %s", cl_outcome_to_string(f->windows.outcome));
    for (size_t i = 0; i < 3 && f->windows.bugcheck[i]; i++)
        printf("%s0x%" PRIX32, i ? ", " : ", bug check ", f->windows.bugcheck[i]);
    for (unsigned bit = 1; bit && bit <= CL_WINNEED_WATCHDOG; bit <<= 1)
        if (f->windows.needs & bit)
            printf(", needs %s", cl_winneed_to_string(bit));
    for (size_t i = 0; i < 3 && f->windows.without[i]; i++)
        printf("%s0x%" PRIX32, i ? ", " : " (without: ", f->windows.without[i]);
    printf("%s\n    %s\n", f->windows.without[0] ? ")" : "", f->windows.detail);
    printf("  linux: %s, kind %s", cl_outcome_to_string(f->linux_.outcome), f->linux_.kind);
    if (f->linux_.min_vcpus > 1)
        printf(", needs %u vcpus", f->linux_.min_vcpus);
    printf("\n");
    if (f->linux_.cmdline && *f->linux_.cmdline)
        printf("    cmdline: %s\n", f->linux_.cmdline);
    if (f->linux_.pattern && *f->linux_.pattern)
        printf("    pattern: %s\n", f->linux_.pattern);
    printf("    %s\n\n", f->linux_.detail);
}

static json_object *param_json(const cl_fparam *p)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(p->name));
    json_object_object_add(o, "type", json_object_new_string(type_name(p->type)));
    switch (p->type) {
    case CL_FPARAM_UINT:
        json_object_object_add(o, "min", json_object_new_uint64(p->min));
        json_object_object_add(o, "max", json_object_new_uint64(p->max));
        json_object_object_add(o, "default", json_object_new_uint64(p->def));
        break;
    case CL_FPARAM_BOOL:
        json_object_object_add(o, "default", json_object_new_boolean(p->def != 0));
        break;
    case CL_FPARAM_TAG:
    case CL_FPARAM_STRING:
        json_object_object_add(o, "max_length", json_object_new_int(p->type == CL_FPARAM_TAG ? 4 : 127));
        json_object_object_add(o, "default", p->def_str ? json_object_new_string(p->def_str) : NULL);
        break;
    }
    json_object_object_add(o, "help", json_object_new_string(p->help));
    return o;
}

static json_object *fault_json(const cl_fault *f)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(f->id));
    json_object_object_add(o, "number", json_object_new_int((int)f->number));
    json_object_object_add(o, "description", json_object_new_string(f->description));
    json_object *params = json_object_new_array();
    for (const cl_fparam *p = f->params; p->name; p++)
        json_object_array_add(params, param_json(p));
    json_object_object_add(o, "params", params);

    json_object *w = json_object_new_object();
    json_object_object_add(w, "outcome", json_object_new_string(cl_outcome_to_string(f->windows.outcome)));
    json_object *codes = json_object_new_array();
    for (size_t i = 0; i < 3 && f->windows.bugcheck[i]; i++)
        json_object_array_add(codes, json_object_new_int64(f->windows.bugcheck[i]));
    json_object_object_add(w, "bugchecks", codes);
    json_object *without = json_object_new_array();
    for (size_t i = 0; i < 3 && f->windows.without[i]; i++)
        json_object_array_add(without, json_object_new_int64(f->windows.without[i]));
    json_object_object_add(w, "bugchecks_without_needs", without);
    json_object *needs = json_object_new_array();
    for (unsigned bit = 1; bit && bit <= CL_WINNEED_WATCHDOG; bit <<= 1)
        if (f->windows.needs & bit)
            json_object_array_add(needs, json_object_new_string(cl_winneed_to_string(bit)));
    json_object_object_add(w, "needs", needs);
    json_object_object_add(w, "detail", json_object_new_string(f->windows.detail));
    json_object_object_add(o, "windows", w);

    json_object *l = json_object_new_object();
    json_object_object_add(l, "outcome", json_object_new_string(cl_outcome_to_string(f->linux_.outcome)));
    json_object_object_add(l, "kind", json_object_new_string(f->linux_.kind ? f->linux_.kind : ""));
    json_object_object_add(l, "pattern", json_object_new_string(f->linux_.pattern ? f->linux_.pattern : ""));
    json_object_object_add(l, "cmdline", json_object_new_string(f->linux_.cmdline ? f->linux_.cmdline : ""));
    json_object_object_add(l, "min_vcpus", json_object_new_int((int)(f->linux_.min_vcpus ? f->linux_.min_vcpus : 1)));
    json_object_object_add(l, "detail", json_object_new_string(f->linux_.detail));
    json_object_object_add(o, "linux", l);
    return o;
}

int cl_cmd_faults(int argc, char **argv)
{
    bool json = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "crashlab faults: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    size_t n;
    const cl_fault *all = cl_fault_all(&n);
    const cl_fault *pick[LABFAULT_LAST];
    size_t npick = 0;
    if (i == argc) {
        for (size_t k = 0; k < n && npick < LABFAULT_LAST; k++)
            pick[npick++] = &all[k];
    }
    for (; i < argc; i++) {
        const cl_fault *f = cl_fault_lookup(argv[i]);
        if (!f) {
            fprintf(stderr, "crashlab faults: unknown fault '%s' (see 'crashlab faults')\n", argv[i]);
            return 2;
        }
        if (npick < LABFAULT_LAST)
            pick[npick++] = f;
    }
    if (!json) {
        for (size_t k = 0; k < npick; k++)
            print_text(pick[k]);
        return 0;
    }
    CL_AUTOPTR(json_object) root = json_object_new_object();
    json_object *arr = json_object_new_array();
    for (size_t k = 0; k < npick; k++)
        json_object_array_add(arr, fault_json(pick[k]));
    json_object_object_add(root, "abi_version", json_object_new_int(LABFAULT_ABI_VERSION));
    json_object_object_add(root, "faults", arr);
    const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!text) {
        fprintf(stderr, "crashlab faults: out of memory\n");
        return 1;
    }
    printf("%s\n", text);
    return fflush(stdout) == 0 ? 0 : 1;
}
