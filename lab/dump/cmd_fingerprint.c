/* cmd_fingerprint.c - `crashlab fingerprint DUMP [--json]`: what the guest saw of its
 * hypervisor, read from its dump alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "util/json.h"
#include "dump/cmd_args.h"
#include "dump/fingerprint.h"

static void line(FILE *m, const char *label, const char *v)
{
    if (v)
        fprintf(m, "%-22s %s\n", label, v);
}

static void print_human(FILE *m, json_object *o)
{
    line(m, "format:", cl_json_str(o, "format", NULL));
    json_object *s = cl_json_get(o, "smbios");
    if (s) {
        fprintf(m, "%-22s %s %s at %s\n", "smbios:", cl_json_str(s, "entry_point", NULL), cl_json_str(s, "version", NULL), cl_json_str(s, "entry_address", NULL));
        json_object *b = cl_json_get(s, "bios"), *y = cl_json_get(s, "system");
        line(m, "  bios vendor:", cl_json_str(b, "vendor", NULL));
        line(m, "  bios version:", cl_json_str(b, "version", NULL));
        line(m, "  manufacturer:", cl_json_str(y, "manufacturer", NULL));
        line(m, "  product:", cl_json_str(y, "product", NULL));
        line(m, "  version:", cl_json_str(y, "version", NULL));
        line(m, "  serial:", cl_json_str(y, "serial", NULL));
        line(m, "  uuid:", cl_json_str(y, "uuid", NULL));
    } else {
        line(m, "smbios:", "(not in the dump)");
    }
    json_object *h = cl_json_get(o, "hypervisor");
    line(m, "hypervisor:", cl_json_str(h, "name", NULL) ? cl_json_str(h, "name", NULL) : "(none detected)");
    line(m, "dmi:", cl_json_str(h, "dmi", NULL));
    json_object *d = cl_json_get(o, "virtualization_drivers");
    for (size_t i = 0; d && i < json_object_array_length(d); i++) {
        json_object *e = json_object_array_get_idx(d, i);
        fprintf(m, "%-22s %s (%s)\n", i ? "" : "virtualization drivers:", cl_json_str(e, "name", NULL), cl_json_str(e, "platform", NULL));
    }
    json_object *w = cl_json_get(o, "warnings");
    for (size_t i = 0; w && i < json_object_array_length(w); i++)
        line(m, "warning:", json_object_get_string(json_object_array_get_idx(w, i)));
}

static void usage(FILE *f)
{
    fprintf(f, "usage: crashlab fingerprint DUMP [--json]\n"
               "Prints what the guest saw of its platform: SMBIOS strings, the hypervisor its kernel\n"
               "detected, its virtualization drivers. Exit 0: read; 2: not a dump; 3: truncated.\n");
}

int cl_cmd_fingerprint(int argc, char **argv)
{
    const char *path;
    bool json;
    int rc = cl_dump_cmd_args(argc, argv, usage, &path, &json);
    if (rc >= 0)
        return rc;
    json_object *o = NULL;
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_dump_fingerprint(path, &o, &err)) {
        fprintf(stderr, "crashlab fingerprint: %s\n", err ? err->msg : "not a dump");
        return 2;
    }
    if (json)
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    else
        cl_dump_print_terminal(print_human, o);
    json_object *t = cl_json_get(o, "truncated");
    rc = t && json_object_get_boolean(t) ? 3 : 0;
    json_object_put(o);
    return rc;
}
