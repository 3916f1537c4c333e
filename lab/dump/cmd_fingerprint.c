/* cmd_fingerprint.c - `crashlab fingerprint DUMP [--json]`: what the guest saw of its
 * hypervisor, read from its dump alone. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "dump/fingerprint.h"

static const char *str(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v) : NULL;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void line(const char *label, const char *v)
{
    if (v)
        printf("%-22s %s\n", label, v);
}

static void print_human(json_object *o)
{
    line("format:", str(o, "format"));
    json_object *s = get(o, "smbios");
    if (s) {
        printf("%-22s %s %s at %s\n", "smbios:", str(s, "entry_point"), str(s, "version"), str(s, "entry_address"));
        json_object *b = get(s, "bios"), *y = get(s, "system");
        line("  bios vendor:", str(b, "vendor"));
        line("  bios version:", str(b, "version"));
        line("  manufacturer:", str(y, "manufacturer"));
        line("  product:", str(y, "product"));
        line("  version:", str(y, "version"));
        line("  serial:", str(y, "serial"));
        line("  uuid:", str(y, "uuid"));
    } else {
        line("smbios:", "(not in the dump)");
    }
    json_object *h = get(o, "hypervisor");
    line("hypervisor:", str(h, "name") ? str(h, "name") : "(none detected)");
    line("dmi:", str(h, "dmi"));
    json_object *d = get(o, "virtualization_drivers");
    for (size_t i = 0; d && i < json_object_array_length(d); i++) {
        json_object *e = json_object_array_get_idx(d, i);
        printf("%-22s %s (%s)\n", i ? "" : "virtualization drivers:", str(e, "name"), str(e, "platform"));
    }
    json_object *w = get(o, "warnings");
    for (size_t i = 0; w && i < json_object_array_length(w); i++)
        line("warning:", json_object_get_string(json_object_array_get_idx(w, i)));
}

int cl_cmd_fingerprint(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: crashlab fingerprint DUMP [--json]\n"
                   "Prints what the guest saw of its platform: SMBIOS strings, the hypervisor its kernel\n"
                   "detected, its virtualization drivers. Exit 0: read; 2: not a dump; 3: truncated.\n");
            return 0;
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "usage: crashlab fingerprint DUMP [--json]\n");
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "usage: crashlab fingerprint DUMP [--json]\n");
        return 2;
    }
    json_object *o = NULL;
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_dump_fingerprint(path, &o, &err)) {
        fprintf(stderr, "crashlab fingerprint: %s\n", err ? err->msg : "not a dump");
        return 2;
    }
    if (json)
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    else
        print_human(o);
    json_object *t = get(o, "truncated");
    int rc = t && json_object_get_boolean(t) ? 3 : 0;
    json_object_put(o);
    return rc;
}
